//! The classifier heads: L2-regularised logistic regression on sentence embeddings (fitted by
//! Newton's method), Platt calibration, and the evaluation arithmetic (AUROC, F1, ECE,
//! bootstrap intervals) the training script and the tests share.

use serde::{Deserialize, Serialize};

/// A logistic head: `p = σ(a · (w·x + b) + c)` where `(a, c)` is the Platt calibration.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LogisticHead {
    /// Weights, one per embedding dimension.
    pub weights: Vec<f32>,
    /// Intercept.
    pub bias: f32,
    /// Platt scale (fitted on dev).
    pub platt_a: f32,
    /// Platt offset (fitted on dev).
    pub platt_b: f32,
}

/// The logistic function.
pub fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

impl LogisticHead {
    /// The uncalibrated score `w·x + b`.
    pub fn logit(&self, x: &[f32]) -> f64 {
        let z: f64 = self
            .weights
            .iter()
            .zip(x)
            .map(|(w, v)| f64::from(*w) * f64::from(*v))
            .sum();
        z + f64::from(self.bias)
    }

    /// The calibrated probability.
    pub fn probability(&self, x: &[f32]) -> f64 {
        sigmoid(f64::from(self.platt_a) * self.logit(x) + f64::from(self.platt_b))
    }
}

/// Fit an L2-regularised logistic regression by Newton's method (IRLS). `weights_pos` is the
/// weight of a positive example relative to a negative one (class balance). The penalty
/// `lambda` applies to the weights, not the intercept. Returns `(w, b)`.
pub fn fit_logistic(xs: &[&[f32]], ys: &[bool], lambda: f64, weight_pos: f64) -> (Vec<f64>, f64) {
    let d = xs.first().map_or(0, |x| x.len());
    let p = d + 1; // last coordinate: intercept
    let mut beta = vec![0.0f64; p];
    for _ in 0..30 {
        let mut grad = vec![0.0f64; p];
        let mut hess = vec![0.0f64; p * p];
        for (x, &y) in xs.iter().zip(ys) {
            let z: f64 = x
                .iter()
                .zip(&beta)
                .map(|(a, b)| f64::from(*a) * b)
                .sum::<f64>()
                + beta[d];
            let mu = sigmoid(z);
            let w = if y { weight_pos } else { 1.0 };
            let r = w * (mu - f64::from(u8::from(y)));
            let s = w * mu * (1.0 - mu);
            let xi = |i: usize| if i < d { f64::from(x[i]) } else { 1.0 };
            for i in 0..p {
                let xi_v = xi(i);
                grad[i] += r * xi_v;
                let sx = s * xi_v;
                if sx == 0.0 {
                    continue;
                }
                let row = &mut hess[i * p..i * p + p];
                for (j, h) in row.iter_mut().enumerate().take(i + 1) {
                    *h += sx * xi(j);
                }
            }
        }
        for i in 0..d {
            grad[i] += lambda * beta[i];
            hess[i * p + i] += lambda;
        }
        hess[d * p + d] += 1e-9;
        for i in 0..p {
            for j in 0..i {
                hess[j * p + i] = hess[i * p + j];
            }
        }
        let Some(step) = solve_spd(&mut hess, &grad, p) else {
            break;
        };
        let mut change = 0.0f64;
        for (b, s) in beta.iter_mut().zip(&step) {
            *b -= s;
            change = change.max(s.abs());
        }
        if change < 1e-7 {
            break;
        }
    }
    let b = beta[d];
    beta.truncate(d);
    (beta, b)
}

/// Solve `A x = g` for symmetric positive definite `A` (p × p, row-major) by Cholesky.
fn solve_spd(a: &mut [f64], g: &[f64], p: usize) -> Option<Vec<f64>> {
    for j in 0..p {
        let mut s = a[j * p + j];
        for k in 0..j {
            s -= a[j * p + k] * a[j * p + k];
        }
        if s <= 0.0 || !s.is_finite() {
            return None;
        }
        let l = s.sqrt();
        a[j * p + j] = l;
        for i in j + 1..p {
            let mut s = a[i * p + j];
            for k in 0..j {
                s -= a[i * p + k] * a[j * p + k];
            }
            a[i * p + j] = s / l;
        }
    }
    let mut y = vec![0.0; p];
    for i in 0..p {
        let mut s = g[i];
        for k in 0..i {
            s -= a[i * p + k] * y[k];
        }
        y[i] = s / a[i * p + i];
    }
    let mut x = vec![0.0; p];
    for i in (0..p).rev() {
        let mut s = y[i];
        for k in i + 1..p {
            s -= a[k * p + i] * x[k];
        }
        x[i] = s / a[i * p + i];
    }
    Some(x)
}

/// Platt scaling: fit `(a, b)` so that `σ(a·s + b)` matches the labels (with Platt's target
/// smoothing), by Newton's method on the two parameters.
pub fn fit_platt(scores: &[f64], ys: &[bool]) -> (f64, f64) {
    let n_pos = ys.iter().filter(|&&y| y).count() as f64;
    let n_neg = ys.len() as f64 - n_pos;
    let t_pos = (n_pos + 1.0) / (n_pos + 2.0);
    let t_neg = 1.0 / (n_neg + 2.0);
    let (mut a, mut b) = (1.0f64, 0.0f64);
    for _ in 0..100 {
        let (mut ga, mut gb, mut haa, mut hab, mut hbb) = (0.0, 0.0, 1e-12, 0.0, 1e-12);
        for (&s, &y) in scores.iter().zip(ys) {
            let t = if y { t_pos } else { t_neg };
            let p = sigmoid(a * s + b);
            let r = p - t;
            let w = p * (1.0 - p);
            ga += r * s;
            gb += r;
            haa += w * s * s;
            hab += w * s;
            hbb += w;
        }
        let det = haa * hbb - hab * hab;
        if det.abs() < 1e-18 {
            break;
        }
        let da = (hbb * ga - hab * gb) / det;
        let db = (haa * gb - hab * ga) / det;
        a -= da;
        b -= db;
        if da.abs().max(db.abs()) < 1e-10 {
            break;
        }
    }
    (a, b)
}

/// Area under the ROC curve (ties count half); `None` when one class is absent.
pub fn auroc(scores: &[f64], ys: &[bool]) -> Option<f64> {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let n_pos = ys.iter().filter(|&&y| y).count() as f64;
    let n_neg = ys.len() as f64 - n_pos;
    if n_pos == 0.0 || n_neg == 0.0 {
        return None;
    }
    // Rank sum of the positives, average ranks for ties.
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && scores[idx[j + 1]] == scores[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            if ys[k] {
                rank_sum += avg;
            }
        }
        i = j + 1;
    }
    Some((rank_sum - n_pos * (n_pos + 1.0) / 2.0) / (n_pos * n_neg))
}

/// F1 of class `c` for predicted and true class indices.
pub fn f1_of(pred: &[u8], truth: &[u8], c: u8) -> f64 {
    let tp = pred
        .iter()
        .zip(truth)
        .filter(|(p, t)| **p == c && **t == c)
        .count() as f64;
    let fp = pred
        .iter()
        .zip(truth)
        .filter(|(p, t)| **p == c && **t != c)
        .count() as f64;
    let fn_ = pred
        .iter()
        .zip(truth)
        .filter(|(p, t)| **p != c && **t == c)
        .count() as f64;
    if tp == 0.0 {
        return 0.0;
    }
    2.0 * tp / (2.0 * tp + fp + fn_)
}

/// Macro-F1 over classes `0..classes`.
pub fn macro_f1(pred: &[u8], truth: &[u8], classes: u8) -> f64 {
    (0..classes).map(|c| f1_of(pred, truth, c)).sum::<f64>() / f64::from(classes)
}

/// Expected calibration error with `bins` equal-width bins.
pub fn ece(probs: &[f64], ys: &[bool], bins: usize) -> f64 {
    let bins = bins.max(1);
    let mut count = vec![0.0f64; bins];
    let mut conf = vec![0.0f64; bins];
    let mut acc = vec![0.0f64; bins];
    for (&p, &y) in probs.iter().zip(ys) {
        let b = ((p * bins as f64) as usize).min(bins - 1);
        count[b] += 1.0;
        conf[b] += p;
        acc[b] += f64::from(u8::from(y));
    }
    let n = probs.len().max(1) as f64;
    (0..bins)
        .filter(|&b| count[b] > 0.0)
        .map(|b| (count[b] / n) * ((acc[b] - conf[b]) / count[b]).abs())
        .sum()
}

/// A small deterministic generator (SplitMix64) for bootstrap resampling.
#[derive(Debug, Clone)]
pub struct SplitMix(pub u64);

impl SplitMix {
    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform index below `n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

/// A figure with its bootstrap 95% interval.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Estimate {
    /// On the whole set.
    pub value: f64,
    /// 2.5th percentile of the bootstrap.
    pub lo: f64,
    /// 97.5th percentile of the bootstrap.
    pub hi: f64,
}

/// Percentile bootstrap (`rounds` resamples with replacement of the `n` items, fixed seed)
/// of a statistic over item indices.
pub fn bootstrap(
    n: usize,
    rounds: usize,
    seed: u64,
    stat: impl Fn(&[usize]) -> Option<f64>,
) -> Option<Estimate> {
    let all: Vec<usize> = (0..n).collect();
    let value = stat(&all)?;
    let mut rng = SplitMix(seed);
    let mut vals: Vec<f64> = (0..rounds)
        .filter_map(|_| {
            let idx: Vec<usize> = (0..n).map(|_| rng.below(n)).collect();
            stat(&idx)
        })
        .collect();
    if vals.is_empty() {
        return None;
    }
    vals.sort_by(f64::total_cmp);
    let at = |q: f64| vals[((vals.len() - 1) as f64 * q).round() as usize];
    Some(Estimate {
        value,
        lo: at(0.025),
        hi: at(0.975),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logistic_fit_separates_and_platt_calibrates() {
        // Two clusters on the first axis, noise on the second.
        let mut rng = SplitMix(1);
        let mut xs = Vec::new();
        let mut ys = Vec::new();
        for i in 0..400 {
            let y = i % 2 == 0;
            let n = (rng.below(1000) as f32 / 1000.0) - 0.5;
            let m = (rng.below(1000) as f32 / 1000.0) - 0.5;
            xs.push(vec![if y { 1.0 } else { -1.0 } + n, m]);
            ys.push(y);
        }
        let refs: Vec<&[f32]> = xs.iter().map(|x| x.as_slice()).collect();
        let (w, b) = fit_logistic(&refs, &ys, 1.0, 1.0);
        assert!(w[0] > 2.0, "{w:?}");
        assert!(w[1].abs() < 1.0, "{w:?}");
        assert!(b.abs() < 0.5);
        let scores: Vec<f64> = refs
            .iter()
            .map(|x| f64::from(x[0]) * w[0] + f64::from(x[1]) * w[1] + b)
            .collect();
        assert!(auroc(&scores, &ys).unwrap_or(0.0) > 0.99);
        let (a, c) = fit_platt(&scores, &ys);
        let probs: Vec<f64> = scores.iter().map(|s| sigmoid(a * s + c)).collect();
        assert!(ece(&probs, &ys, 10) < 0.05);
    }

    #[test]
    fn auroc_handles_ties_and_single_class() {
        assert_eq!(auroc(&[0.1, 0.2, 0.3], &[false, false, true]), Some(1.0));
        assert_eq!(auroc(&[0.5, 0.5], &[false, true]), Some(0.5));
        assert_eq!(auroc(&[0.3, 0.2, 0.1], &[false, false, true]), Some(0.0));
        assert_eq!(auroc(&[0.1], &[true]), None);
    }

    #[test]
    fn f1_and_ece_by_hand() {
        let pred = [1, 1, 0, 0];
        let truth = [1, 0, 0, 1];
        assert!((f1_of(&pred, &truth, 1) - 0.5).abs() < 1e-12);
        assert!((macro_f1(&pred, &truth, 2) - 0.5).abs() < 1e-12);
        // Perfectly confident and right: 0; confident and always wrong: 1.
        assert!(ece(&[1.0, 0.0], &[true, false], 10) < 1e-12);
        assert!((ece(&[1.0, 0.0], &[false, true], 10) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn bootstrap_interval_brackets_the_value() {
        let xs: Vec<f64> = (0..200).map(|i| f64::from(i % 10)).collect();
        let e = bootstrap(xs.len(), 200, 3, |idx| {
            Some(idx.iter().map(|&i| xs[i]).sum::<f64>() / idx.len() as f64)
        })
        .unwrap_or(Estimate {
            value: 0.0,
            lo: 1.0,
            hi: -1.0,
        });
        assert!(e.lo <= e.value && e.value <= e.hi, "{e:?}");
        assert!((e.value - 4.5).abs() < 1e-12);
        assert!(e.hi - e.lo < 1.5);
    }
}
