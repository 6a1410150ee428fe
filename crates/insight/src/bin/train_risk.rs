//! Train the risk heads (see `models/risk/MODEL_CARD.md`). Run in release:
//! `cargo run --release -p hearth-insight --bin train_risk -- [--data DIR] [--embed-only]`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use hearth_insight::risk::data::{self, Example, Source, Split};
use hearth_insight::risk::eval::{depsign_class, heldout, Scored, Thresholds};
use hearth_insight::risk::head::{
    auroc, bootstrap, ece, f1_of, fit_logistic, fit_platt, macro_f1, LogisticHead,
};
use hearth_insight::risk::negex::{Concept, Context};
use hearth_insight::risk::{
    HeadFile, HeadSpec, RiskLabel, RiskModel, DECISION_AID, DEPRESSION_HEAD, HEAD_FILE,
    SEVERE_HEAD, SI_HEAD,
};
use hearth_insight::{default_models_dir, Embedder, EmbedderOptions};
use sha2::{Digest, Sha256};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// Word pieces per training text: posts are cut here (sentences in notes are far shorter).
const TRAIN_TOKENS: usize = 128;

struct Cache {
    path: PathBuf,
    dim: usize,
    map: HashMap<[u8; 32], Vec<f32>>,
}

impl Cache {
    fn open(fingerprint: &str, dim: usize) -> Res<Self> {
        let home = std::env::var_os("HOME").ok_or_else(|| "no HOME".to_string())?;
        let dir = PathBuf::from(home).join(".cache/hearth/risk-embeddings");
        std::fs::create_dir_all(&dir)?;
        let name = fingerprint.replace(['@', '/'], "-");
        let path = dir.join(format!("{name}-t{TRAIN_TOKENS}.bin"));
        let mut map = HashMap::new();
        if let Ok(mut f) = std::fs::File::open(&path) {
            let mut buf = Vec::new();
            f.read_to_end(&mut buf)?;
            let rec = 32 + 4 * dim;
            for r in buf.chunks_exact(rec) {
                let mut k = [0u8; 32];
                k.copy_from_slice(&r[..32]);
                let v = r[32..]
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect();
                map.insert(k, v);
            }
        }
        Ok(Self { path, dim, map })
    }

    fn key(text: &str) -> [u8; 32] {
        Sha256::digest(text.as_bytes()).into()
    }

    fn get(&self, text: &str) -> Option<&Vec<f32>> {
        self.map.get(&Self::key(text))
    }

    fn append(&mut self, items: &[(&str, Vec<f32>)]) -> Res<()> {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        let mut buf = Vec::with_capacity(items.len() * (32 + 4 * self.dim));
        for (t, v) in items {
            let k = Self::key(t);
            buf.extend_from_slice(&k);
            for x in v {
                buf.extend_from_slice(&x.to_le_bytes());
            }
            self.map.insert(k, v.clone());
        }
        f.write_all(&buf)?;
        Ok(())
    }
}

fn priority(e: &Example) -> u8 {
    match (e.source, e.split) {
        (Source::Sdcnl, _) => 0,
        (Source::DepSign, Split::Train | Split::Dev) => 1,
        (Source::DepSign, Split::Test) => 2,
        (Source::Sad, _) => 3,
        (Source::Cssrs, _) => 4,
    }
}

fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().collect();
    let data_dir = args
        .iter()
        .position(|a| a == "--data")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from)
        .unwrap_or_else(data::default_data_dir);
    let embed_only = args.iter().any(|a| a == "--embed-only");
    let examples = data::load(&data_dir)?;
    let mut counts: std::collections::BTreeMap<(String, String, u8), usize> = Default::default();
    for e in &examples {
        *counts
            .entry((format!("{:?}", e.source), format!("{:?}", e.split), e.label))
            .or_default() += 1;
    }
    for ((s, sp, l), n) in &counts {
        println!("{s:8} {sp:5} label {l}: {n}");
    }
    let model = Embedder::load_with(
        &default_models_dir(),
        EmbedderOptions::default().max_tokens(TRAIN_TOKENS),
    )?;
    let mut cache = Cache::open(model.fingerprint(), model.dimension())?;
    let mut todo: Vec<&Example> = examples
        .iter()
        .filter(|e| cache.get(&e.text).is_none())
        .collect();
    todo.sort_by_key(|e| priority(e));
    println!(
        "{} texts, {} cached, {} to embed",
        examples.len(),
        examples.len() - todo.len(),
        todo.len()
    );
    let started = Instant::now();
    let mut done = 0;
    for chunk in todo.chunks(64) {
        let texts: Vec<&str> = chunk.iter().map(|e| e.text.as_str()).collect();
        let vecs = model.embed(&texts)?;
        let items: Vec<(&str, Vec<f32>)> = texts.into_iter().zip(vecs).collect();
        cache.append(&items)?;
        done += chunk.len();
        let s = started.elapsed().as_secs_f64();
        println!(
            "embedded {done}/{} ({:.1} texts/s)",
            todo.len(),
            done as f64 / s
        );
    }
    if embed_only {
        return Ok(());
    }
    let model = Arc::new(model);
    train(&examples, &cache, &model)
}

/// The synthetic clinical dev set: (label, sentence).
fn synthetic_dev() -> Res<Vec<(bool, String)>> {
    let path = PathBuf::from(
        std::env::var("CARGO_MANIFEST_DIR")
            .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_string()),
    )
    .join("../../models/risk/synthetic_dev.tsv");
    Ok(std::fs::read_to_string(path)?
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("label\t") && !l.trim().is_empty())
        .filter_map(|l| {
            let mut f = l.splitn(3, '\t');
            let y = f.next()? == "1";
            let _category = f.next()?;
            Some((y, f.next()?.to_string()))
        })
        .collect())
}

/// Sentence thresholds (suicidal ideation, depression) that maximise macro-F1 of "flagged"
/// on the synthetic clinical dev set, with the rules applied; the centre of the best plateau.
fn sentence_thresholds(model: &RiskModel) -> Res<(f64, f64, f64)> {
    let rows = synthetic_dev()?;
    let mut scored = Vec::new();
    for (y, s) in &rows {
        let rep = model.assess_at(s, [0.0, 0.0])?;
        let mut best = [0.0f64; 2];
        for sc in &rep.sentences {
            for (k, label) in [RiskLabel::SuicidalIdeation, RiskLabel::Depression]
                .iter()
                .enumerate()
            {
                let counts = sc.counts.iter().any(|(l, ok)| l == label && *ok);
                let p = sc
                    .probability
                    .iter()
                    .find(|(l, _)| l == label)
                    .map_or(0.0, |x| x.1);
                if counts {
                    best[k] = best[k].max(p);
                }
            }
        }
        let explicit = hearth_insight::risk::negex::analyse(s)
            .iter()
            .any(|m| m.concept == Concept::SuicidalIdeation && m.context == Context::Affirmed);
        scored.push((*y, best, explicit));
    }
    let truth: Vec<u8> = scored.iter().map(|(y, ..)| u8::from(*y)).collect();
    let f1 = |ts: f64, td: f64| {
        let pred: Vec<u8> = scored
            .iter()
            .map(|(_, p, x)| u8::from(*x || p[0] >= ts || p[1] >= td))
            .collect();
        macro_f1(&pred, &truth, 2)
    };
    let mut all = Vec::new();
    for ts in grid() {
        for td in grid() {
            all.push((f1(ts, td), ts, td));
        }
    }
    let top = all.iter().map(|a| a.0).fold(0.0, f64::max);
    let plateau: Vec<&(f64, f64, f64)> = all.iter().filter(|a| a.0 >= top - 1e-9).collect();
    let cs = plateau.iter().map(|a| a.1).sum::<f64>() / plateau.len() as f64;
    let cd = plateau.iter().map(|a| a.2).sum::<f64>() / plateau.len() as f64;
    let centre = plateau
        .iter()
        .min_by(|a, b| {
            let d = |x: &&(f64, f64, f64)| (x.1 - cs).powi(2) + (x.2 - cd).powi(2);
            d(a).total_cmp(&d(b))
        })
        .map(|a| (a.0, a.1, a.2))
        .unwrap_or((top, 0.5, 0.5));
    println!(
        "sentence thresholds on the synthetic dev set ({} sentences): si {:.2}, depression {:.2} (dev macro-F1 {:.4}; plateau of {})",
        rows.len(), centre.1, centre.2, centre.0, plateau.len()
    );
    Ok(centre)
}

/// Fit one head: λ chosen on dev by AUROC, Platt on dev. Returns the head and dev scores.
fn fit_head(
    name: &str,
    train: &[(&[f32], bool)],
    dev: &[(&[f32], bool)],
) -> (LogisticHead, f64, Vec<f64>) {
    let xs: Vec<&[f32]> = train.iter().map(|(x, _)| *x).collect();
    let ys: Vec<bool> = train.iter().map(|(_, y)| *y).collect();
    let dx: Vec<&[f32]> = dev.iter().map(|(x, _)| *x).collect();
    let dy: Vec<bool> = dev.iter().map(|(_, y)| *y).collect();
    let pos = ys.iter().filter(|&&y| y).count().max(1) as f64;
    let weight_pos = (ys.len() as f64 - pos) / pos;
    let mut best: Option<(f64, f64, Vec<f64>, f64)> = None;
    for lambda in [0.1, 0.3, 1.0, 3.0, 10.0] {
        let t = Instant::now();
        let (w, b) = fit_logistic(&xs, &ys, lambda, weight_pos);
        let logits: Vec<f64> = dx
            .iter()
            .map(|x| {
                x.iter()
                    .zip(&w)
                    .map(|(a, c)| f64::from(*a) * c)
                    .sum::<f64>()
                    + b
            })
            .collect();
        let auc = auroc(&logits, &dy).unwrap_or(0.0);
        println!(
            "  {name}: lambda {lambda}: dev AUROC {auc:.4} ({:.1}s)",
            t.elapsed().as_secs_f64()
        );
        if best.as_ref().is_none_or(|(a, ..)| auc > *a) {
            best = Some((auc, lambda, w, b));
        }
    }
    let (auc, lambda, w, b) = best.unwrap();
    let logits: Vec<f64> = dx
        .iter()
        .map(|x| {
            x.iter()
                .zip(&w)
                .map(|(a, c)| f64::from(*a) * c)
                .sum::<f64>()
                + b
        })
        .collect();
    let (pa, pb) = fit_platt(&logits, &dy);
    let head = LogisticHead {
        weights: w.iter().map(|v| *v as f32).collect(),
        bias: b as f32,
        platt_a: pa as f32,
        platt_b: pb as f32,
    };
    let dev_p: Vec<f64> = dx.iter().map(|x| head.probability(x)).collect();
    println!(
        "  {name}: chose lambda {lambda} (dev AUROC {auc:.4}); Platt a={pa:.3} b={pb:.3}; dev ECE {:.4}",
        ece(&dev_p, &dy, 10)
    );
    (head, lambda, dev_p)
}

fn grid() -> Vec<f64> {
    (2..=95).map(|i| f64::from(i) / 100.0).collect()
}

fn train(examples: &[Example], cache: &Cache, model: &Arc<Embedder>) -> Res<()> {
    let encoder = model.fingerprint();
    let emb = |e: &Example| -> &[f32] { cache.get(&e.text).expect("embedded").as_slice() };
    let pick = |split: Split, f: &dyn Fn(&Example) -> Option<bool>| -> Vec<(&[f32], bool)> {
        examples
            .iter()
            .filter(|e| e.split == split)
            .filter_map(|e| f(e).map(|y| (emb(e), y)))
            .collect()
    };
    // Suicidal ideation: r/SuicideWatch vs r/depression, everyday stressor sentences (SAD) and
    // posts without signs of depression (DepSign "not depression") as further negatives.
    let si_label = |e: &Example| match e.source {
        Source::Sdcnl => Some(e.label == 1),
        Source::Sad => Some(false),
        Source::DepSign if e.label == 0 => Some(false),
        _ => None,
    };
    let any_label = |e: &Example| (e.source == Source::DepSign).then_some(e.label >= 1);
    let severe_label = |e: &Example| (e.source == Source::DepSign).then_some(e.label == 2);
    println!("fitting heads");
    let si_dev = pick(Split::Dev, &si_label);
    let (si, si_lambda, si_dev_p) = fit_head(SI_HEAD, &pick(Split::Train, &si_label), &si_dev);
    let any_dev = pick(Split::Dev, &any_label);
    // Everyday stressor sentences (SAD train) as further negatives: DepSign's "not depression"
    // posts are still from mental-health forums, and notes are mostly ordinary sentences.
    let any_train_label = |e: &Example| match e.source {
        Source::Sad => Some(false),
        _ => any_label(e),
    };
    let (any, any_lambda, any_dev_p) = fit_head(
        DEPRESSION_HEAD,
        &pick(Split::Train, &any_train_label),
        &any_dev,
    );
    let sad_dev: Vec<&[f32]> = examples
        .iter()
        .filter(|e| e.split == Split::Dev && e.source == Source::Sad)
        .map(emb)
        .collect();
    let sev_dev = pick(Split::Dev, &severe_label);
    let (sev, sev_lambda, sev_dev_p) =
        fit_head(SEVERE_HEAD, &pick(Split::Train, &severe_label), &sev_dev);

    // Thresholds on dev: SI maximises F1 of the positive class; the two depression thresholds
    // jointly maximise DepSign's 3-class macro-F1.
    let si_y: Vec<u8> = si_dev.iter().map(|(_, y)| u8::from(*y)).collect();
    let t_si = grid()
        .into_iter()
        .max_by(|a, b| {
            let f = |t: f64| {
                let pred: Vec<u8> = si_dev_p.iter().map(|p| u8::from(*p >= t)).collect();
                f1_of(&pred, &si_y, 1)
            };
            f(*a).total_cmp(&f(*b))
        })
        .unwrap();
    let dep_dev: Vec<&Example> = examples
        .iter()
        .filter(|e| e.split == Split::Dev && e.source == Source::DepSign)
        .collect();
    let truth: Vec<u8> = dep_dev.iter().map(|e| e.label).collect();
    assert_eq!(truth.len(), any_dev_p.len());
    let mut best = (0.0, 0.5, 0.5);
    for ta in grid() {
        for ts in grid() {
            let t = Thresholds {
                si: t_si,
                any: ta,
                severe: ts,
            };
            let pred: Vec<u8> = any_dev_p
                .iter()
                .zip(&sev_dev_p)
                .map(|(a, s)| depsign_class(&[0.0, *a, *s], &t))
                .collect();
            let f = macro_f1(&pred, &truth, 3);
            if f > best.0 {
                best = (f, ta, ts);
            }
        }
    }
    let t = Thresholds {
        si: t_si,
        any: best.1,
        severe: best.2,
    };
    println!(
        "thresholds on dev: si {:.2}, any {:.2}, severe {:.2} (dev macro-F1 {:.4})",
        t.si, t.any, t.severe, best.0
    );
    println!(
        "SAD dev flag rate at the post thresholds: si {:.3}, any {:.3}",
        sad_dev.iter().filter(|x| si.probability(x) >= t.si).count() as f64 / sad_dev.len() as f64,
        sad_dev
            .iter()
            .filter(|x| any.probability(x) >= t.any)
            .count() as f64
            / sad_dev.len() as f64,
    );

    let mut heads = HeadFile {
        format: 1,
        encoder: encoder.to_string(),
        train_tokens: TRAIN_TOKENS,
        research_preview: true,
        notice: DECISION_AID.to_string(),
        heads: vec![
            HeadSpec {
                name: SI_HEAD.into(),
                head: si.clone(),
                threshold: t.si,
                sentence_threshold: t.si,
                lambda: si_lambda,
                trained_on: "SDCNL train (r/SuicideWatch 1 vs r/depression 0) + SAD train + DepSign dev-pool 'not depression' as negatives; Platt and threshold on the matching dev splits".into(),
            },
            HeadSpec {
                name: DEPRESSION_HEAD.into(),
                head: any.clone(),
                threshold: t.any,
                sentence_threshold: t.any,
                lambda: any_lambda,
                trained_on: "DepSign dev.tsv 80% (moderate or severe vs not depression) + SAD train as negatives; Platt and threshold on the other 20% of DepSign dev.tsv".into(),
            },
            HeadSpec {
                name: SEVERE_HEAD.into(),
                head: sev,
                threshold: t.severe,
                sentence_threshold: t.severe,
                lambda: sev_lambda,
                trained_on: "DepSign dev.tsv 80% (severe vs the rest); Platt and threshold on the other 20%".into(),
            },
        ],
    };

    // Sentence-level operating point (what note flags use), chosen on the synthetic dev set.
    let (synth_dev_f1, ts, td) =
        sentence_thresholds(&RiskModel::new(model.clone(), heads.clone())?)?;
    heads.heads[0].sentence_threshold = ts;
    heads.heads[1].sentence_threshold = td;

    // Held-out figures.
    let score = |e: &Example| -> [f64; 3] {
        let v = emb(e);
        [
            heads.heads[0].head.probability(v),
            heads.heads[1].head.probability(v),
            heads.heads[2].head.probability(v),
        ]
    };
    let test: Vec<Scored> = examples
        .iter()
        .filter(|e| e.split == Split::Test && matches!(e.source, Source::DepSign | Source::Sdcnl))
        .map(|e| Scored {
            source: e.source,
            label: e.label,
            p: score(e),
        })
        .collect();
    let full = heldout(&test, &t, 1000, 7);
    let sample: Vec<Scored> = data::heldout_sample(examples)
        .into_iter()
        .map(|e| Scored {
            source: e.source,
            label: e.label,
            p: score(e),
        })
        .collect();
    let sub = heldout(&sample, &t, 1000, 7);

    // Suicidal ideation against the mixed negatives it was calibrated for (SDCNL + SAD +
    // DepSign "not depression", test splits), and the flag rate on everyday stressor text.
    let mixed: Vec<(f64, bool)> = examples
        .iter()
        .filter(|e| e.split == Split::Test)
        .filter_map(|e| si_label(e).map(|y| (score(e)[0], y)))
        .collect();
    let mixed_auc = bootstrap(mixed.len(), 1000, 7, |idx| {
        let s: Vec<f64> = idx.iter().map(|&i| mixed[i].0).collect();
        let y: Vec<bool> = idx.iter().map(|&i| mixed[i].1).collect();
        auroc(&s, &y)
    });
    let mixed_ece = bootstrap(mixed.len(), 1000, 7, |idx| {
        let s: Vec<f64> = idx.iter().map(|&i| mixed[i].0).collect();
        let y: Vec<bool> = idx.iter().map(|&i| mixed[i].1).collect();
        Some(ece(&s, &y, 10))
    });
    let sad: Vec<[f64; 3]> = examples
        .iter()
        .filter(|e| e.split == Split::Test && e.source == Source::Sad)
        .map(score)
        .collect();
    let sad_si_rate = sad.iter().filter(|p| p[0] >= t.si).count() as f64 / sad.len().max(1) as f64;
    let sad_dep_rate =
        sad.iter().filter(|p| p[1] >= t.any).count() as f64 / sad.len().max(1) as f64;
    let sad_si_rate_s = sad.iter().filter(|p| p[0] >= ts).count() as f64 / sad.len().max(1) as f64;
    let sad_dep_rate_s = sad.iter().filter(|p| p[1] >= td).count() as f64 / sad.len().max(1) as f64;

    // Cross-dataset: C-SSRS users (clinical labels), a user's score the highest over posts.
    let mut users: std::collections::BTreeMap<usize, (u8, [f64; 3])> = Default::default();
    for e in examples.iter().filter(|e| e.source == Source::Cssrs) {
        let p = score(e);
        let u = users.entry(e.group).or_insert((e.label, [0.0; 3]));
        for (m, q) in u.1.iter_mut().zip(p) {
            *m = m.max(q);
        }
    }
    let users: Vec<(u8, [f64; 3])> = users.into_values().collect();
    let cssrs = |k: usize, min_label: u8| {
        bootstrap(users.len(), 1000, 7, |idx| {
            let s: Vec<f64> = idx.iter().map(|&i| users[i].1[k]).collect();
            let y: Vec<bool> = idx.iter().map(|&i| users[i].0 >= min_label).collect();
            auroc(&s, &y)
        })
    };
    let cssrs_si_ideation = cssrs(0, 2);
    let cssrs_si_behavior = cssrs(0, 3);
    let cssrs_severe_ideation = cssrs(2, 2);
    // SI head on DepSign test (severe vs not depression): does SI language track severity?
    let dep_cross: Vec<(f64, bool)> = examples
        .iter()
        .filter(|e| e.split == Split::Test && e.source == Source::DepSign && e.label != 1)
        .map(|e| (score(e)[0], e.label == 2))
        .collect();
    let si_on_depsign = bootstrap(dep_cross.len(), 1000, 7, |idx| {
        let s: Vec<f64> = idx.iter().map(|&i| dep_cross[i].0).collect();
        let y: Vec<bool> = idx.iter().map(|&i| dep_cross[i].1).collect();
        auroc(&s, &y)
    });

    let counts: std::collections::BTreeMap<String, usize> =
        examples.iter().fold(Default::default(), |mut m, e| {
            *m.entry(format!("{:?}/{:?}/{}", e.source, e.split, e.label))
                .or_default() += 1;
            m
        });
    let report = serde_json::json!({
        "format": 1,
        "encoder": encoder,
        "train_tokens": TRAIN_TOKENS,
        "split_seed": data::SPLIT_SEED,
        "bootstrap": "percentile, 1000 resamples, seed 7",
        "counts": counts,
        "thresholds": t,
        "dev_depsign_macro_f1": best.0,
        "heldout_full": full,
        "heldout_sample": sub,
        "sample_per_class": data::SAMPLE_PER_CLASS,
        "si_mixed_test": { "n": mixed.len(), "auroc": mixed_auc, "ece": mixed_ece },
        "sad_test_flag_rate": { "n": sad.len(), "suicidal_ideation": sad_si_rate, "depression": sad_dep_rate },
        "sentence_thresholds": { "suicidal_ideation": ts, "depression": td, "synthetic_dev_macro_f1": synth_dev_f1 },
        "sad_test_flag_rate_at_sentence_thresholds_no_rules": { "suicidal_ideation": sad_si_rate_s, "depression": sad_dep_rate_s },
        "cross_dataset": {
            "cssrs_users": users.len(),
            "cssrs_posts_per_user": data::CSSRS_POSTS_PER_USER,
            "si_head_auroc_ideation_or_worse": cssrs_si_ideation,
            "si_head_auroc_behavior_or_attempt": cssrs_si_behavior,
            "severe_head_auroc_ideation_or_worse": cssrs_severe_ideation,
            "si_head_on_depsign_test_severe_vs_not": si_on_depsign,
        },
    });
    let out = PathBuf::from(
        std::env::var("CARGO_MANIFEST_DIR")
            .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_string()),
    )
    .join("../../models/risk");
    std::fs::create_dir_all(&out)?;
    std::fs::write(out.join(HEAD_FILE), serde_json::to_string(&heads)? + "\n")?;
    std::fs::write(
        out.join("evaluation.json"),
        serde_json::to_string_pretty(&report)? + "\n",
    )?;
    println!("{}", serde_json::to_string_pretty(&report["heldout_full"])?);
    println!(
        "{}",
        serde_json::to_string_pretty(&report["heldout_sample"])?
    );
    println!(
        "{}",
        serde_json::to_string_pretty(&report["si_mixed_test"])?
    );
    println!(
        "{}",
        serde_json::to_string_pretty(&report["sad_test_flag_rate"])?
    );
    println!(
        "{}",
        serde_json::to_string_pretty(
            &report["sad_test_flag_rate_at_sentence_thresholds_no_rules"]
        )?
    );
    println!(
        "{}",
        serde_json::to_string_pretty(&report["cross_dataset"])?
    );
    println!("wrote {}", out.display());
    Ok(())
}
