//! Held-out figures of the heads, computed the same way by the training script (full test
//! splits) and by the held-out test (the fixed subsample).

use serde::{Deserialize, Serialize};

use super::data::Source;
use super::head::{auroc, bootstrap, ece, macro_f1, Estimate};

/// One scored held-out text: its dataset, label and calibrated probabilities (suicidal
/// ideation, any depression, severe depression).
#[derive(Debug, Clone, Copy)]
pub struct Scored {
    /// Dataset.
    pub source: Source,
    /// Dataset label.
    pub label: u8,
    /// Probabilities.
    pub p: [f64; 3],
}

/// Thresholds in force.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Thresholds {
    /// Suicidal ideation.
    pub si: f64,
    /// Any depression.
    pub any: f64,
    /// Severe depression.
    pub severe: f64,
}

/// DepSign's three classes from the two depression heads.
pub fn depsign_class(p: &[f64; 3], t: &Thresholds) -> u8 {
    if p[2] >= t.severe {
        2
    } else if p[1] >= t.any {
        1
    } else {
        0
    }
}

/// The in-dataset held-out figures (bootstrap 95% intervals, fixed seed).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HeldOut {
    /// DepSign texts.
    pub depsign_n: usize,
    /// DepSign 3-class macro-F1.
    pub depsign_macro_f1: Option<Estimate>,
    /// DepSign AUROC, any depression (moderate or severe) vs not.
    pub depsign_auroc_any: Option<Estimate>,
    /// DepSign AUROC, severe vs the rest.
    pub depsign_auroc_severe: Option<Estimate>,
    /// DepSign ECE (10 bins) of the any-depression head.
    pub depsign_ece_any: Option<Estimate>,
    /// DepSign ECE of the severe head.
    pub depsign_ece_severe: Option<Estimate>,
    /// SDCNL texts.
    pub sdcnl_n: usize,
    /// SDCNL binary macro-F1 at the suicidal-ideation threshold.
    pub sdcnl_macro_f1: Option<Estimate>,
    /// SDCNL AUROC (r/SuicideWatch vs r/depression).
    pub sdcnl_auroc: Option<Estimate>,
    /// SDCNL ECE of the suicidal-ideation head.
    pub sdcnl_ece: Option<Estimate>,
}

/// Compute [`HeldOut`] over `items` (other sources are ignored).
pub fn heldout(items: &[Scored], t: &Thresholds, rounds: usize, seed: u64) -> HeldOut {
    let dep: Vec<&Scored> = items
        .iter()
        .filter(|s| s.source == Source::DepSign)
        .collect();
    let sd: Vec<&Scored> = items.iter().filter(|s| s.source == Source::Sdcnl).collect();
    let (dep, sd) = (&dep, &sd);
    let dep_f1 = |idx: &[usize]| {
        let pred: Vec<u8> = idx.iter().map(|&i| depsign_class(&dep[i].p, t)).collect();
        let truth: Vec<u8> = idx.iter().map(|&i| dep[i].label).collect();
        Some(macro_f1(&pred, &truth, 3))
    };
    let dep_auc = |k: usize, pos: u8| {
        move |idx: &[usize]| {
            let s: Vec<f64> = idx.iter().map(|&i| dep[i].p[k]).collect();
            let y: Vec<bool> = idx.iter().map(|&i| dep[i].label >= pos).collect();
            auroc(&s, &y)
        }
    };
    let dep_ece = |k: usize, pos: u8| {
        move |idx: &[usize]| {
            let s: Vec<f64> = idx.iter().map(|&i| dep[i].p[k]).collect();
            let y: Vec<bool> = idx.iter().map(|&i| dep[i].label >= pos).collect();
            Some(ece(&s, &y, 10))
        }
    };
    let sd_f1 = |idx: &[usize]| {
        let pred: Vec<u8> = idx.iter().map(|&i| u8::from(sd[i].p[0] >= t.si)).collect();
        let truth: Vec<u8> = idx.iter().map(|&i| sd[i].label).collect();
        Some(macro_f1(&pred, &truth, 2))
    };
    let sd_auc = |idx: &[usize]| {
        let s: Vec<f64> = idx.iter().map(|&i| sd[i].p[0]).collect();
        let y: Vec<bool> = idx.iter().map(|&i| sd[i].label == 1).collect();
        auroc(&s, &y)
    };
    let sd_ece = |idx: &[usize]| {
        let s: Vec<f64> = idx.iter().map(|&i| sd[i].p[0]).collect();
        let y: Vec<bool> = idx.iter().map(|&i| sd[i].label == 1).collect();
        Some(ece(&s, &y, 10))
    };
    HeldOut {
        depsign_n: dep.len(),
        depsign_macro_f1: bootstrap(dep.len(), rounds, seed, dep_f1),
        depsign_auroc_any: bootstrap(dep.len(), rounds, seed, dep_auc(1, 1)),
        depsign_auroc_severe: bootstrap(dep.len(), rounds, seed, dep_auc(2, 2)),
        depsign_ece_any: bootstrap(dep.len(), rounds, seed, dep_ece(1, 1)),
        depsign_ece_severe: bootstrap(dep.len(), rounds, seed, dep_ece(2, 2)),
        sdcnl_n: sd.len(),
        sdcnl_macro_f1: bootstrap(sd.len(), rounds, seed, sd_f1),
        sdcnl_auroc: bootstrap(sd.len(), rounds, seed, sd_auc),
        sdcnl_ece: bootstrap(sd.len(), rounds, seed, sd_ece),
    }
}
