//! Risk flags: the committed synthetic clinical set against the floors in
//! `models/risk/MODEL_CARD.md`, the held-out research figures recomputed (when the data is on
//! this machine), the decision-aid API, and graceful failure without a model.
//! Needs the encoder installed (`make setup`), like the equivalence test. Never prints dataset
//! text (only the synthetic sentences written for this test).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use hearth_insight::risk::data::{self, Source};
use hearth_insight::risk::eval::{heldout, Scored, Thresholds};
use hearth_insight::risk::head::{auroc, bootstrap, ece, macro_f1};
use hearth_insight::risk::{
    head_path, Basis, HeadFile, Item9Link, RiskError, RiskLabel, RiskModel, DECISION_AID,
    DEPRESSION_HEAD, SEVERE_HEAD, SI_HEAD,
};
use hearth_insight::{default_models_dir, Embedder, EmbedderOptions};

/// Floors stated in the model card ("Synthetic clinical set").
const SYNTH_MACRO_F1_FLOOR: f64 = 0.80;
const SYNTH_AUROC_FLOOR: f64 = 0.88;
/// Largest share of negated / other-person / historical / hypothetical sentences flagged.
const SYNTH_CONTEXT_FALSE_FLAG_CEILING: f64 = 0.10;

/// Floors stated in the model card ("Held-out test, fixed subsample").
const SAMPLE_DEPSIGN_MACRO_F1_FLOOR: f64 = 0.50;
const SAMPLE_DEPSIGN_AUROC_SEVERE_FLOOR: f64 = 0.75;
const SAMPLE_SDCNL_AUROC_FLOOR: f64 = 0.65;

fn model() -> RiskModel {
    RiskModel::load(&default_models_dir()).unwrap_or_else(|e| panic!("{e}"))
}

struct Row {
    label: bool,
    category: String,
    sentence: String,
}

fn synthetic() -> Vec<Row> {
    include_str!("fixtures/risk_synthetic.tsv")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("label\t") && !l.trim().is_empty())
        .map(|l| {
            let mut f = l.splitn(3, '\t');
            let label = f.next().unwrap() == "1";
            let category = f.next().unwrap().to_string();
            let sentence = f.next().unwrap().to_string();
            Row {
                label,
                category,
                sentence,
            }
        })
        .collect()
}

#[test]
fn synthetic_clinical_set_meets_the_model_card_floors() {
    let m = model();
    let rows = synthetic();
    assert!(rows.len() >= 150, "{} rows", rows.len());
    let mut scores = Vec::new();
    let mut preds = Vec::new();
    let mut wrong = Vec::new();
    for r in &rows {
        let rep = m.assess(&r.sentence).unwrap();
        let score = rep.sentences.iter().map(|s| s.risk()).fold(0.0, f64::max);
        let flagged = !rep.flags.is_empty();
        if flagged != r.label {
            wrong.push(format!(
                "  {} [{}] {score:.2} {}",
                u8::from(r.label),
                r.category,
                r.sentence
            ));
        }
        scores.push(score);
        preds.push(u8::from(flagged));
    }
    let truth: Vec<u8> = rows.iter().map(|r| u8::from(r.label)).collect();
    let ys: Vec<bool> = rows.iter().map(|r| r.label).collect();
    let f1 = macro_f1(&preds, &truth, 2);
    let auc = auroc(&scores, &ys).unwrap();
    let cal = ece(&scores, &ys, 10);
    let context: Vec<usize> = (0..rows.len())
        .filter(|&i| {
            matches!(
                rows[i].category.as_str(),
                "negated" | "other" | "historical" | "hypothetical"
            )
        })
        .collect();
    let context_flagged =
        context.iter().filter(|&&i| preds[i] == 1).count() as f64 / context.len() as f64;
    let neutral: Vec<usize> = (0..rows.len())
        .filter(|&i| rows[i].category == "neutral")
        .collect();
    let neutral_flagged =
        neutral.iter().filter(|&&i| preds[i] == 1).count() as f64 / neutral.len() as f64;
    let ci = |stat: &dyn Fn(&[usize]) -> Option<f64>| {
        bootstrap(rows.len(), 1000, 7, stat)
            .map(|e| format!("[{:.3}-{:.3}]", e.lo, e.hi))
            .unwrap_or_default()
    };
    let f1_ci = ci(&|idx| {
        let p: Vec<u8> = idx.iter().map(|&i| preds[i]).collect();
        let t: Vec<u8> = idx.iter().map(|&i| truth[i]).collect();
        Some(macro_f1(&p, &t, 2))
    });
    let auc_ci = ci(&|idx| {
        let p: Vec<f64> = idx.iter().map(|&i| scores[i]).collect();
        let t: Vec<bool> = idx.iter().map(|&i| ys[i]).collect();
        auroc(&p, &t)
    });
    let ece_ci = ci(&|idx| {
        let p: Vec<f64> = idx.iter().map(|&i| scores[i]).collect();
        let t: Vec<bool> = idx.iter().map(|&i| ys[i]).collect();
        Some(ece(&p, &t, 10))
    });
    eprintln!(
        "synthetic set: n={} macro-F1 {f1:.3} {f1_ci} AUROC {auc:.3} {auc_ci} ECE {cal:.3} {ece_ci}; flagged: context {context_flagged:.3}, neutral {neutral_flagged:.3}\nmisclassified (synthetic sentences):\n{}",
        rows.len(),
        wrong.join("\n")
    );
    assert!(
        f1 >= SYNTH_MACRO_F1_FLOOR,
        "macro-F1 {f1:.3} below {SYNTH_MACRO_F1_FLOOR}"
    );
    assert!(
        auc >= SYNTH_AUROC_FLOOR,
        "AUROC {auc:.3} below {SYNTH_AUROC_FLOOR}"
    );
    assert!(
        context_flagged <= SYNTH_CONTEXT_FALSE_FLAG_CEILING,
        "{context_flagged:.3} of negated/other/historical/hypothetical sentences flagged"
    );
}

#[test]
fn heldout_figures_are_recomputed_on_the_research_test_split() {
    let dir = data::default_data_dir();
    if !data::data_present(&dir) {
        let msg = format!(
            "research data not found at {} (set {} to the folder holding risk/): the held-out figures were NOT recomputed",
            dir.display(),
            data::DATA_ENV
        );
        if std::env::var("HEARTH_REQUIRE_RISK_DATA").as_deref() == Ok("1") {
            panic!("{msg}; HEARTH_REQUIRE_RISK_DATA=1 makes this a failure");
        }
        eprintln!("SKIPPED: {msg}; set HEARTH_REQUIRE_RISK_DATA=1 to make this a failure");
        return;
    }
    let examples = data::load(&dir).unwrap_or_else(|e| panic!("{e}"));
    let sample = data::heldout_sample(&examples);
    assert_eq!(sample.len(), 5 * data::SAMPLE_PER_CLASS);
    let heads = HeadFile::read(&head_path(&default_models_dir())).unwrap();
    let enc = Embedder::load_with(
        &default_models_dir(),
        EmbedderOptions::default().max_tokens(heads.train_tokens),
    )
    .unwrap();
    let t = Thresholds {
        si: threshold(&heads, SI_HEAD),
        any: threshold(&heads, DEPRESSION_HEAD),
        severe: threshold(&heads, SEVERE_HEAD),
    };
    let m = RiskModel::new(std::sync::Arc::new(enc), heads).unwrap();
    let texts: Vec<&str> = sample.iter().map(|e| e.text.as_str()).collect();
    let probs = m.probabilities(&texts).unwrap();
    let scored: Vec<Scored> = sample
        .iter()
        .zip(probs)
        .map(|(e, p)| Scored {
            source: e.source,
            label: e.label,
            p,
        })
        .collect();
    let h = heldout(&scored, &t, 100, 7);
    let f1 = h.depsign_macro_f1.unwrap().value;
    let sev = h.depsign_auroc_severe.unwrap().value;
    let sd = h.sdcnl_auroc.unwrap().value;
    eprintln!(
        "held-out subsample: DepSign macro-F1 {f1:.3}, AUROC severe {sev:.3}; SDCNL AUROC {sd:.3}"
    );
    // The committed evaluation must be what this model gives (same split, same numbers).
    let eval: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(default_models_dir().join("risk/evaluation.json")).unwrap(),
    )
    .unwrap();
    let recorded = |k: &str| eval["heldout_sample"][k]["value"].as_f64().unwrap();
    for (k, v) in [
        ("depsign_macro_f1", f1),
        ("depsign_auroc_severe", sev),
        ("sdcnl_auroc", sd),
    ] {
        assert!(
            (recorded(k) - v).abs() < 0.01,
            "{k}: recomputed {v:.4}, evaluation.json says {:.4}",
            recorded(k)
        );
    }
    assert!(
        f1 >= SAMPLE_DEPSIGN_MACRO_F1_FLOOR,
        "DepSign macro-F1 {f1:.3}"
    );
    assert!(
        sev >= SAMPLE_DEPSIGN_AUROC_SEVERE_FLOOR,
        "DepSign AUROC severe {sev:.3}"
    );
    assert!(sd >= SAMPLE_SDCNL_AUROC_FLOOR, "SDCNL AUROC {sd:.3}");
    assert!(scored.iter().any(|s| s.source == Source::Sdcnl));
}

fn threshold(h: &HeadFile, name: &str) -> f64 {
    h.heads.iter().find(|s| s.name == name).unwrap().threshold
}

#[test]
fn flags_carry_evidence_phrases_the_decision_aid_label_and_item9() {
    let m = model();
    let note =
        "Session 6. Client denies SI at intake. Her brother said he wanted to die last year. \
                Today she reports thoughts of killing herself and says nobody would miss her. \
                GAD-7 decreased to 6.";
    let rep = m.assess(note).unwrap().with_item9(Item9Link::Answered {
        score: 2,
        assessment_id: "a-1".into(),
        taken: "2026-11-20".into(),
    });
    let si = rep
        .flags
        .iter()
        .find(|f| f.label == RiskLabel::SuicidalIdeation)
        .expect("the suicidal-ideation sentence flags");
    assert_eq!(si.notice.to_string(), DECISION_AID);
    assert!(matches!(
        si.phq9_item9,
        Item9Link::Answered { score: 2, .. }
    ));
    let ev = &si.evidence[0];
    assert!(note[ev.sentence.clone()].starts_with("Today she reports"));
    // The head scores this clinical sentence low; the explicit, affirmed phrase flags it.
    assert!(ev.probability >= si.threshold || ev.basis == Basis::ExplicitMention);
    assert!(!ev.phrases.is_empty());
    for p in &ev.phrases {
        assert!(ev.sentence.start <= p.span.start && p.span.end <= ev.sentence.end);
        assert!(p.weight > 0.0);
    }
    // The negated and the brother's sentences never drive a flag.
    for f in &rep.flags {
        for e in &f.evidence {
            let s = &note[e.sentence.clone()];
            assert!(!s.contains("denies") && !s.contains("brother"), "{s}");
        }
    }
    let json = serde_json::to_value(&rep).unwrap();
    assert_eq!(json["flags"][0]["notice"], DECISION_AID);
    assert_eq!(json["flags"][0]["phq9_item9"]["status"], "answered");
    assert_eq!(json["research_preview"], true);
}

#[test]
fn a_missing_head_or_encoder_is_a_clear_error_not_a_panic() {
    let empty = tempfile::tempdir().unwrap();
    let err = RiskModel::load(empty.path()).unwrap_err();
    assert!(matches!(err, RiskError::HeadMissing { .. }), "{err}");
    assert!(err.to_string().contains("models/risk"), "{err}");
    // Head present, encoder missing: the encoder's own message (run make setup).
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("risk")).unwrap();
    std::fs::copy(head_path(&default_models_dir()), head_path(dir.path())).unwrap();
    let err = RiskModel::load(dir.path()).unwrap_err();
    assert!(err.needs_setup(), "{err}");
    assert!(err.to_string().contains("make setup"), "{err}");
    // A damaged head file.
    std::fs::write(head_path(dir.path()), b"{not json").unwrap();
    let err = RiskModel::load(dir.path()).unwrap_err();
    assert!(matches!(err, RiskError::HeadInvalid { .. }), "{err}");
    let _ = Path::new(".");
}

#[test]
fn the_synthetic_dev_and_evaluation_sets_share_no_sentence() {
    let dev = std::fs::read_to_string(default_models_dir().join("risk/synthetic_dev.tsv")).unwrap();
    let dev: std::collections::HashSet<String> = dev
        .lines()
        .filter_map(|l| l.splitn(3, '\t').nth(2))
        .map(data::normalise)
        .collect();
    assert!(dev.len() > 80);
    for r in synthetic() {
        assert!(
            !dev.contains(&data::normalise(&r.sentence)),
            "{}",
            r.sentence
        );
    }
}

/// The desktop runs the risk heads over semantic search's encoder (loaded for 256 word pieces)
/// instead of a second copy loaded for the heads' 128: cutting per call must give exactly what
/// a dedicated encoder gives, for text both under and over 128 word pieces.
#[test]
fn a_shared_encoder_scores_as_a_dedicated_one() {
    let dir = default_models_dir();
    let shared = std::sync::Arc::new(Embedder::load(&dir).unwrap_or_else(|e| panic!("{e}")));
    let heads = HeadFile::read(&head_path(&dir)).unwrap();
    assert!(heads.train_tokens < shared.max_tokens());
    let short = "Today she reports thoughts of killing herself and says nobody would miss her.";
    // ~40 rare words: well over 128 word pieces, so the cut matters.
    let long = "Pneumonoultramicroscopic hyperparathyroidism, electroencephalographically \
                counterrevolutionaries' antidisestablishmentarianism, floccinaucinihilipilification \
                and psychophysicotherapeutics notwithstanding, she reports thoughts of killing \
                herself; Zygomaticomaxillary otorhinolaryngological immunoelectrophoretically \
                spectrophotofluorometric thyroparathyroidectomized pseudopseudohypoparathyroidism \
                hepaticocholangiogastrostomy radioimmunoelectrophoresis \
                xxxQ9zv-77-kkrt-1183-zzpq-0091-abcd-7781-qqqq-5521 hopeless tired alone.";
    let dedicated = Embedder::load_with(
        &dir,
        EmbedderOptions::default().max_tokens(heads.train_tokens),
    )
    .unwrap();
    assert!(shared.token_count(long).unwrap() > heads.train_tokens);
    assert_eq!(dedicated.token_count(long).unwrap(), heads.train_tokens);
    let cut = shared
        .embed_max(&[short, long], heads.train_tokens)
        .unwrap();
    let want = dedicated.embed(&[short, long]).unwrap();
    for (c, w) in cut.iter().zip(&want) {
        let worst = c
            .iter()
            .zip(w)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(
            worst < 1e-5,
            "per-call cut differs from a load-time cut by {worst}"
        );
    }
    // The uncut 256-piece embedding of the long text is different: the cut is real.
    let full = shared.embed(&[long]).unwrap();
    assert!(hearth_insight::dot(&full[0], &want[1]) < 0.9999);

    let over = RiskModel::load_over(std::sync::Arc::clone(&shared), &dir).unwrap();
    assert!(std::sync::Arc::ptr_eq(over.encoder(), &shared));
    let own = RiskModel::new(std::sync::Arc::new(dedicated), heads).unwrap();
    let note = format!("{short} {long}");
    assert_eq!(
        over.probabilities(&[short, long]).unwrap(),
        own.probabilities(&[short, long]).unwrap()
    );
    assert_eq!(over.assess(&note).unwrap(), own.assess(&note).unwrap());
}
