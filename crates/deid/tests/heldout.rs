#![allow(clippy::unwrap_used, clippy::expect_used)]
//! 30 hand-written sentences with identifiers marked `[[kind|text]]`, written after the rules
//! and never tuned against: recall and precision outside the generator's templates (figures in
//! EVALUATION.md). Run with `--nocapture` to see misses and false positives.

use hearth_deid::{Deidentifier, ExportSecret, KnownIdentifiers};

/// Floors under what was measured on the first and only run (recall 38/39, precision 37/38).
const RECALL_FLOOR: f64 = 0.90;
const PRECISION_FLOOR: f64 = 0.90;

/// The plain text and the marked spans.
fn parse(line: &str) -> (String, Vec<(usize, usize, String)>) {
    let mut text = String::new();
    let mut gold = Vec::new();
    let mut rest = line;
    while let Some(i) = rest.find("[[") {
        text.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let close = after.find("]]").unwrap();
        let (kind, value) = after[..close].split_once('|').unwrap();
        let start = text.len();
        text.push_str(value);
        gold.push((start, text.len(), kind.to_string()));
        rest = &after[close + 2..];
    }
    text.push_str(rest);
    (text, gold)
}

#[test]
fn held_out_sentences_recall_and_precision() {
    let d = Deidentifier::new(ExportSecret::from_bytes([9; 32])).unwrap();
    let p = d.patient("x", &KnownIdentifiers::default()).unwrap();
    // The folder at run time: a test binary built in another checkout of the shared target
    // dir is reused by cargo, with that checkout's compile-time path.
    let dir = std::env::var("CARGO_MANIFEST_DIR")
        .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_string());
    let data = std::fs::read_to_string(format!("{dir}/tests/data/positives_heldout.txt")).unwrap();
    let (mut gold_n, mut caught, mut found_n, mut true_found) = (0, 0, 0, 0);
    for line in data.lines().filter(|l| !l.trim().is_empty()) {
        let (text, gold) = parse(line);
        let found = p.find(&text);
        for (s, e, kind) in &gold {
            gold_n += 1;
            // Names keep their title ("Mr. [NAME]"): the title itself need not be covered.
            let s = if kind == "name" {
                ["Dr. ", "Mr. ", "Ms. ", "Mrs. "]
                    .iter()
                    .find(|t| text[*s..].starts_with(**t))
                    .map_or(*s, |t| s + t.len())
            } else {
                *s
            };
            if found.iter().any(|f| f.start <= s && f.end >= *e) {
                caught += 1;
            } else {
                println!("miss {kind}: {:?} in {text:?}", &text[s..*e]);
            }
        }
        for f in &found {
            found_n += 1;
            if gold.iter().any(|(s, e, _)| f.start < *e && f.end > *s) {
                true_found += 1;
            } else {
                println!(
                    "false positive {}: {:?} in {text:?}",
                    f.kind,
                    &text[f.start..f.end]
                );
            }
        }
    }
    let recall = caught as f64 / gold_n as f64;
    let precision = true_found as f64 / found_n as f64;
    println!("held out: {caught}/{gold_n} caught (recall {recall:.3}), {true_found}/{found_n} findings true (precision {precision:.3})");
    assert!(recall >= RECALL_FLOOR, "recall {recall:.3}");
    assert!(precision >= PRECISION_FLOOR, "precision {precision:.3}");
}
