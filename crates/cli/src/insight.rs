//! `hearth semantic-search`: session notes found by meaning, fused with full-text matches.
//!
//! The model comes from the models folder (`HEARTH_MODELS_DIR`, default the repository's
//! `models/`, filled by `make setup`). Without it the command says why semantic search is off
//! and what to do, and still prints the full-text matches (exit 0).

use std::io::Write;

use clap::Args;
use hearth_core::{default_models_dir, Embedder, Hearth};

/// Arguments of `hearth semantic-search`.
#[derive(Args)]
pub(crate) struct SemanticArgs {
    /// What to look for, in plain words ("sessions where she talked about sleep and work stress").
    query: Vec<String>,
    /// At most this many results.
    #[arg(long, default_value_t = 10)]
    limit: usize,
}

pub(crate) fn run(
    h: &Hearth,
    args: SemanticArgs,
    as_json: bool,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let query = args.query.join(" ");
    let model = match Embedder::load(&default_models_dir()) {
        Ok(m) => m,
        Err(e) => return full_text_only(h, &query, args.limit, &e.to_string(), as_json, out),
    };
    let report = h.index_notes(&model, &mut |done, total| {
        if total > 0 {
            eprintln!("hearth: embedding notes on this device: {done}/{total}");
        }
    })?;
    let results = h.semantic_search(&model, &query, args.limit)?;
    // Patients left out, from indexing (never analysed) and searching (revoked since).
    let mut refused = report.refused.clone();
    refused.extend(results.refused.iter().cloned());
    refused.sort();
    refused.dedup_by(|a, b| a.0 == b.0);
    if as_json {
        let hits: Vec<serde_json::Value> = results
            .hits
            .iter()
            .map(|hit| {
                serde_json::json!({
                    "record_id": hit.record_id,
                    "patient_id": hit.patient_id,
                    "patient_name": hit.patient_name,
                    "passage": hit.passage,
                    "similarity": hit.similarity,
                    "text_match": hit.text_match,
                    "score": hit.score,
                })
            })
            .collect();
        let refused: Vec<serde_json::Value> = refused
            .iter()
            .map(|(p, why)| serde_json::json!({"patient_id": p, "reason": why}))
            .collect();
        let doc = serde_json::json!({
            "semantic": true,
            "embedded_now": report.embedded,
            "refused": refused,
            "hits": hits,
        });
        writeln!(out, "{doc}")?;
        return Ok(());
    }
    for (p, why) in &refused {
        eprintln!("hearth: not searched by meaning for patient {p}: {why}");
    }
    if results.hits.is_empty() {
        writeln!(out, "no matches")?;
    }
    for hit in &results.hits {
        let how = match (hit.similarity, hit.text_match) {
            (Some(s), true) => format!("meaning {s:.2} + words"),
            (Some(s), false) => format!("meaning {s:.2}"),
            (None, _) => "words".to_string(),
        };
        writeln!(
            out,
            "{}  {:<20} {:<16} {}",
            hit.record_id, hit.patient_name, how, hit.passage
        )?;
    }
    Ok(())
}

/// No model: say why and what to do, then give the full-text index's note matches.
fn full_text_only(
    h: &Hearth,
    query: &str,
    limit: usize,
    why: &str,
    as_json: bool,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    eprintln!("hearth: semantic search is off: {why}");
    eprintln!("hearth: showing full-text matches only");
    let hits = h.search(query, limit)?;
    if as_json {
        let doc = serde_json::json!({"semantic": false, "reason": why, "hits": hits});
        writeln!(out, "{doc}")?;
    } else if hits.is_empty() {
        writeln!(out, "no matches")?;
    } else {
        for hit in hits {
            writeln!(
                out,
                "{}  {:<20} {:<16} {}",
                hit.record_id, hit.patient_name, "words", hit.snippet
            )?;
        }
    }
    Ok(())
}
