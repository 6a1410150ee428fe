//! Embedding throughput on 115-token notes at batch 1 and 8 (release: `cargo bench -p
//! hearth-insight`), with PyPI sentence-transformers on the same texts in the same run when its
//! venv exists (`bench/venv.sh`; set HEARTH_ST_PYTHON to another interpreter, or to `none`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use hearth_insight::{default_models_dir, Embedder, EmbedderOptions};

const TOKENS: usize = 115;
const NOTES: usize = 48;

const SENTENCES: &[&str] = &[
    "Client reports sleeping four to five hours a night since the restructuring at work.",
    "She describes waking at three and rehearsing conversations with her manager.",
    "Mood low most days this week; enjoyed a walk with her sister on Sunday.",
    "PHQ-9 total 14, moderate; item 9 scored 0 and she denies thoughts of self-harm.",
    "GAD-7 decreased from 12 to 9 since the last session.",
    "We reviewed the thought records; catastrophising about deadlines was the main theme.",
    "Practised paced breathing in session and planned two pleasant activities.",
    "Discussed the anniversary of her father's death and how grief shows up at work.",
    "Conflict with her partner about childcare has eased after they agreed a rota.",
    "Plan: continue behavioural activation, sleep diary, review in two weeks.",
    "She was tearful when talking about her son's school difficulties.",
    "Appetite reduced; she skips lunch on busy days and drinks more coffee.",
];

fn notes() -> Vec<String> {
    // Each note: sentences from a different starting point, longer than 115 word pieces; the
    // encoder cuts every note at exactly 115 (so both engines see the same lengths).
    (0..NOTES)
        .map(|i| {
            (0..12)
                .map(|k| SENTENCES[(i * 5 + k * 7) % SENTENCES.len()])
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

fn rate(m: &Embedder, texts: &[String], rounds: usize) -> f64 {
    m.embed(&texts[..texts.len().min(8)]).unwrap(); // warm up
    let t = Instant::now();
    for _ in 0..rounds {
        m.embed(texts).unwrap();
    }
    (rounds * texts.len()) as f64 / t.elapsed().as_secs_f64()
}

fn python() -> Option<PathBuf> {
    match std::env::var("HEARTH_ST_PYTHON") {
        Ok(p) if p == "none" => None,
        Ok(p) => Some(PathBuf::from(p)),
        Err(_) => {
            let p =
                PathBuf::from(std::env::var("HOME").ok()?).join(".cache/hearth/st-venv/bin/python");
            p.exists().then_some(p)
        }
    }
}

fn main() {
    let dir = default_models_dir();
    let texts = notes();
    let load = Instant::now();
    let m1 = Embedder::load_with(&dir, EmbedderOptions::default().batch(1).max_tokens(TOKENS))
        .unwrap_or_else(|e| panic!("{e}"));
    let load_ms = load.elapsed().as_secs_f64() * 1e3;
    let m8 = Embedder::load_with(&dir, EmbedderOptions::default().batch(8).max_tokens(TOKENS))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(texts.iter().all(|t| m1.token_count(t).unwrap() == TOKENS));
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("embedding bench: {NOTES} notes of {TOKENS} word pieces, all-MiniLM-L6-v2, {threads} CPU threads");
    println!("  candle model load (read + SHA-256 + build): {load_ms:.0} ms");
    let b1 = rate(&m1, &texts[..16], 2);
    let b8 = rate(&m8, &texts, 2);
    println!("  candle  batch 1: {b1:6.1} notes/s");
    println!("  candle  batch 8: {b8:6.1} notes/s");

    let Some(py) = python() else {
        println!("  (PyTorch baseline skipped: run bench/venv.sh to make its venv)");
        return;
    };
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bench/torch_baseline.py");
    let mut input = tempfile::NamedTempFile::new().unwrap();
    input
        .write_all(serde_json::to_string(&texts).unwrap().as_bytes())
        .unwrap();
    let out = std::process::Command::new(&py)
        .arg(&script)
        .arg(input.path())
        .arg(TOKENS.to_string())
        .output();
    match out {
        Ok(o) if o.status.success() => {
            let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
            let (t1, t8) = (v["b1"].as_f64().unwrap(), v["b8"].as_f64().unwrap());
            println!(
                "  PyTorch batch 1: {t1:6.1} notes/s ({}, torch {}, {} threads)",
                v["st"], v["torch"], v["threads"]
            );
            println!("  PyTorch batch 8: {t8:6.1} notes/s");
            println!(
                "  candle ÷ PyTorch: batch 1 {:.2}×, batch 8 {:.2}×",
                b1 / t1,
                b8 / t8
            );
        }
        Ok(o) => println!(
            "  PyTorch baseline failed: {}",
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => println!("  PyTorch baseline could not start ({}): {e}", py.display()),
    }
}
