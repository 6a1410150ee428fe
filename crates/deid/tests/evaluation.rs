#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Recall and precision of the de-identifier on 600 synthetic notes (seed fixed), by kind,
//! against the floors stated in `EVALUATION.md`. Run with `--nocapture` to see the table.

use std::collections::BTreeMap;

use hearth_deid::synth::{notes, SyntheticNote};
use hearth_deid::{Deidentifier, ExportSecret, Finding, PhiKind};

const SEED: u64 = 0x4845_4152_5448;
const NOTES: usize = 600;

/// Floors (measured figures are in EVALUATION.md; these sit a little under them).
const DIRECT_RECALL_FLOOR: f64 = 0.99;
const DATE_RECALL_FLOOR: f64 = 0.98;
const AGE_RECALL_FLOOR: f64 = 0.98;
const PRECISION_FLOOR: f64 = 0.98;
const FILLER_INTACT_FLOOR: f64 = 0.98;

#[derive(Default, Debug, Clone, Copy)]
struct Tally {
    gold: u32,
    caught: u32,
    typed: u32,
    found: u32,
    true_found: u32,
}

fn covered(gold_start: usize, gold_end: usize, found: &[Finding]) -> bool {
    // Every byte of the gold span is inside some finding.
    let mut at = gold_start;
    let mut spans: Vec<&Finding> = found
        .iter()
        .filter(|f| f.end > gold_start && f.start < gold_end)
        .collect();
    spans.sort_by_key(|f| f.start);
    for f in spans {
        if f.start > at {
            return false;
        }
        at = at.max(f.end);
    }
    at >= gold_end
}

fn same_family(a: PhiKind, b: PhiKind) -> bool {
    a == b
        || matches!(
            (a, b),
            (PhiKind::Phone, PhiKind::Fax)
                | (PhiKind::Fax, PhiKind::Phone)
                | (PhiKind::Date, PhiKind::Dob)
                | (PhiKind::Dob, PhiKind::Date)
                | (PhiKind::Id, PhiKind::Ssn)
                | (PhiKind::Ssn, PhiKind::Id)
        )
}

struct Results {
    by_kind: BTreeMap<PhiKind, Tally>,
    misses: Vec<String>,
    false_positives: Vec<String>,
}

fn evaluate(set: &[SyntheticNote]) -> Results {
    let deid = Deidentifier::new(ExportSecret::from_bytes([42; 32])).unwrap();
    let mut by_kind: BTreeMap<PhiKind, Tally> = BTreeMap::new();
    let mut misses = Vec::new();
    let mut false_positives = Vec::new();
    for n in set {
        let found = deid.patient(&n.patient_id, &n.known).unwrap().find(&n.text);
        for g in &n.gold {
            let t = by_kind.entry(g.kind).or_default();
            t.gold += 1;
            if covered(g.start, g.end, &found) {
                t.caught += 1;
                if found
                    .iter()
                    .any(|f| f.start < g.end && f.end > g.start && same_family(f.kind, g.kind))
                {
                    t.typed += 1;
                }
            } else {
                let from = n.text[..g.start]
                    .char_indices()
                    .rev()
                    .nth(30)
                    .map_or(0, |(i, _)| i);
                misses.push(format!(
                    "{:?} {:?} in …{}",
                    g.kind,
                    &n.text[g.start..g.end],
                    &n.text[from..g.end]
                ));
            }
        }
        for f in &found {
            let t = by_kind.entry(f.kind).or_default();
            t.found += 1;
            if n.gold.iter().any(|g| f.start < g.end && f.end > g.start) {
                t.true_found += 1;
            } else {
                let from = n.text[..f.start]
                    .char_indices()
                    .rev()
                    .nth(25)
                    .map_or(0, |(i, _)| i);
                false_positives.push(format!(
                    "{:?} {:?} in …{}",
                    f.kind,
                    &n.text[f.start..f.end],
                    &n.text[from..f.end]
                ));
            }
        }
    }
    Results {
        by_kind,
        misses,
        false_positives,
    }
}

fn ratio(a: u32, b: u32) -> f64 {
    if b == 0 {
        1.0
    } else {
        f64::from(a) / f64::from(b)
    }
}

#[test]
fn recall_and_precision_on_synthetic_notes_stay_above_the_floors() {
    let set = notes(SEED, NOTES);
    assert_eq!(set.len(), NOTES);
    let r = evaluate(&set);
    println!("kind      gold  recall  typed   found  precision");
    let (mut dg, mut dc, mut all_found, mut all_true) = (0, 0, 0, 0);
    for (k, t) in &r.by_kind {
        println!(
            "{:<8} {:>5}  {:.4}  {:.4}  {:>5}  {:.4}",
            k.code(),
            t.gold,
            ratio(t.caught, t.gold),
            ratio(t.typed, t.gold),
            t.found,
            ratio(t.true_found, t.found)
        );
        if k.is_direct() {
            dg += t.gold;
            dc += t.caught;
        }
        all_found += t.found;
        all_true += t.true_found;
    }
    let direct = ratio(dc, dg);
    let precision = ratio(all_true, all_found);
    println!("direct identifiers: {dg} gold, recall {direct:.4}");
    println!("all findings: {all_found}, precision {precision:.4}");
    for m in r.misses.iter().take(40) {
        println!("miss: {m}");
    }
    for f in r.false_positives.iter().take(40) {
        println!("false positive: {f}");
    }
    assert!(direct >= DIRECT_RECALL_FLOOR, "direct recall {direct:.4}");
    let date = r.by_kind.get(&PhiKind::Date).copied().unwrap_or_default();
    assert!(ratio(date.caught, date.gold) >= DATE_RECALL_FLOOR);
    let age = r.by_kind.get(&PhiKind::Age).copied().unwrap_or_default();
    assert!(ratio(age.caught, age.gold) >= AGE_RECALL_FLOOR);
    assert!(precision >= PRECISION_FLOOR, "precision {precision:.4}");
}

#[test]
fn clinical_filler_comes_out_unchanged() {
    // Each filler sentence planted in the notes must survive verbatim in the output.
    let deid = Deidentifier::new(ExportSecret::from_bytes([42; 32])).unwrap();
    let set = notes(SEED, NOTES);
    let (mut seen, mut intact) = (0u32, 0u32);
    let mut broken = Vec::new();
    for n in &set {
        let out = deid
            .patient(&n.patient_id, &n.known)
            .unwrap()
            .deidentify(&n.text);
        for s in hearth_deid::synth::FILLER {
            let planted = n.text.matches(s).count() as u32;
            if planted == 0 {
                continue;
            }
            seen += planted;
            let kept = out.text.matches(s).count() as u32;
            intact += kept.min(planted);
            if kept < planted {
                broken.push(*s);
            }
        }
    }
    broken.sort();
    broken.dedup();
    let share = ratio(intact, seen);
    println!("filler sentences intact: {intact}/{seen} = {share:.4}; broken: {broken:?}");
    assert!(share >= FILLER_INTACT_FLOOR, "{broken:?}");
}
