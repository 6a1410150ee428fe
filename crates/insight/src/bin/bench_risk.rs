//! Scoring a 500-word note with explanations (release:
//! `cargo run --release -p hearth-insight --bin bench_risk`). Target ≤ 150 ms.
//!
//! Cold: nothing cached (every sentence embedded, occlusion for the flagged ones). Warm: the
//! same note with one sentence edited (the editor's case: only that sentence and, if it flags,
//! its occlusion variants are embedded).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use hearth_insight::default_models_dir;
use hearth_insight::risk::RiskModel;

const SENTENCES: &[&str] = &[
    "Client arrived on time and was appropriately dressed.",
    "She reports sleeping four to five hours a night since the restructuring at work.",
    "Mood low most days this week; she enjoyed a walk with her sister on Sunday.",
    "PHQ-9 total 16, moderately severe; item 9 scored 1.",
    "She reports passive thoughts that she would be better off dead, without plan or intent.",
    "Denies any history of suicide attempts.",
    "Her brother said he wanted to die after his divorce last year.",
    "GAD-7 decreased from 12 to 9 since the last session.",
    "We reviewed the thought records; catastrophising about deadlines was the main theme.",
    "Practised paced breathing in session and planned two pleasant activities.",
    "Discussed the anniversary of her father's death and how grief shows up at work.",
    "Conflict with her partner about childcare has eased after they agreed a rota.",
    "She feels hopeless about finding a new job.",
    "Safety plan reviewed and updated with the crisis line number.",
    "Appetite reduced; she skips lunch on busy days and drinks more coffee.",
    "Plan: continue behavioural activation, sleep diary, review in two weeks.",
];

fn note() -> String {
    let mut words = 0;
    let mut out = Vec::new();
    let mut i = 0;
    while words < 500 {
        let s = SENTENCES[i % SENTENCES.len()];
        words += s.split_whitespace().count();
        out.push(s.to_string());
        i += 1;
    }
    out.join(" ")
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let m = RiskModel::load(&default_models_dir()).unwrap_or_else(|e| panic!("{e}"));
    let note = note();
    let words = note.split_whitespace().count();
    let r = m.assess(&note).unwrap();
    let evidence: usize = r.flags.iter().map(|f| f.evidence.len()).sum();
    let explained: usize = r
        .flags
        .iter()
        .flat_map(|f| &f.evidence)
        .filter(|e| !e.phrases.is_empty())
        .count();
    let mut cold = Vec::new();
    for _ in 0..5 {
        m.clear_cache();
        let t = Instant::now();
        m.assess(&note).unwrap();
        cold.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let mut warm = Vec::new();
    for k in 0..5 {
        m.clear_cache();
        m.assess(&note).unwrap();
        let edited = note.replacen("Appetite reduced;", &format!("Appetite reduced ({k});"), 1);
        let t = Instant::now();
        m.assess(&edited).unwrap();
        warm.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    println!(
        "risk flags on a {words}-word note ({} sentences, {} flags, {evidence} evidence sentences, {explained} explained by occlusion)",
        r.sentences.len(),
        r.flags.len()
    );
    println!(
        "  cold (nothing cached): median {:.0} ms over 5 (target <= 150 ms)",
        median(cold)
    );
    println!(
        "  warm (one sentence edited): median {:.0} ms over 5",
        median(warm)
    );
    if let Ok(l) = std::fs::read_to_string("/proc/loadavg") {
        println!("  load average at the end: {}", l.trim());
    }
}
