//! `hearth note risk ID`: risk flags for one session note, worked out on this device — a
//! decision aid, not a diagnosis (research preview).
//!
//! The model is the encoder from the models folder (`make setup`) plus the committed risk head
//! (`models/risk/`). Without them the command says why risk flags are off and what to do, and
//! fails (exit 1) without touching the vault. Consent must permit on-device analysis
//! (`analyse` for `ai-analysis`); otherwise the refusal and its reason are printed (exit 8).

use std::io::Write;

use clap::Args;
use hearth_core::{
    default_models_dir, Basis, Hearth, Item9Link, NoteRisk, RiskModel, DECISION_AID,
};

/// Arguments of `hearth note risk`.
#[derive(Args)]
pub(crate) struct RiskArgs {
    /// The session note's id.
    id: String,
}

fn item9_line(i: &Item9Link) -> String {
    match i {
        Item9Link::Answered {
            score,
            assessment_id,
            taken,
        } => format!("PHQ-9 item 9: {score} on {taken} (assessment {assessment_id})"),
        Item9Link::NoPhq9 => "PHQ-9 item 9: no PHQ-9 on record".to_string(),
        Item9Link::Unknown => "PHQ-9 item 9: not available to this device".to_string(),
    }
}

fn to_json(r: &NoteRisk) -> serde_json::Value {
    let flags: Vec<serde_json::Value> = r
        .report
        .flags
        .iter()
        .map(|f| {
            let evidence: Vec<serde_json::Value> = f
                .evidence
                .iter()
                .map(|e| {
                    let phrases: Vec<serde_json::Value> = e
                        .phrases
                        .iter()
                        .map(|p| serde_json::json!({"text": r.at(&p.span), "weight": p.weight}))
                        .collect();
                    serde_json::json!({
                        "basis": e.basis,
                        "sentence": r.at(&e.sentence),
                        "probability": e.probability,
                        "phrases": phrases,
                    })
                })
                .collect();
            serde_json::json!({
                "label": f.label,
                "probability": f.probability,
                "threshold": f.threshold,
                "band": f.band,
                "notice": f.notice,
                "phq9_item9": f.phq9_item9,
                "evidence": evidence,
            })
        })
        .collect();
    let suppressed: Vec<serde_json::Value> = r
        .report
        .suppressed
        .iter()
        .map(|s| {
            serde_json::json!({
                "label": s.label,
                "sentence": r.at(&s.sentence),
                "probability": s.probability,
                "context": s.context,
                "cue": s.cue.as_ref().map(|c| r.at(c)),
            })
        })
        .collect();
    serde_json::json!({
        "note_id": r.note_id,
        "patient_id": r.patient_id,
        "notice": DECISION_AID,
        "research_preview": r.report.research_preview,
        "model": r.report.model,
        "phq9_item9": r.phq9_item9,
        "flags": flags,
        "suppressed": suppressed,
    })
}

pub(crate) fn run(
    h: &Hearth,
    args: RiskArgs,
    as_json: bool,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let model = RiskModel::load(&default_models_dir())
        .map_err(|e| anyhow::anyhow!("risk flags are off: {e}"))?;
    let r = h.note_risk(&args.id, &model)?;
    if as_json {
        writeln!(out, "{}", to_json(&r))?;
        return Ok(());
    }
    writeln!(
        out,
        "Risk flags for note {} — {DECISION_AID}{}",
        r.note_id,
        if r.report.research_preview {
            " (research preview)"
        } else {
            ""
        }
    )?;
    writeln!(out, "{}", item9_line(&r.phq9_item9))?;
    if r.report.flags.is_empty() {
        writeln!(out, "no flags")?;
    }
    for f in &r.report.flags {
        writeln!(
            out,
            "[{}] {}: p={:.2} (threshold {:.2})",
            f.band.as_str(),
            f.label.as_str(),
            f.probability,
            f.threshold
        )?;
        for e in &f.evidence {
            let basis = match e.basis {
                Basis::Model => String::new(),
                Basis::ExplicitMention => " (explicit mention)".to_string(),
            };
            writeln!(
                out,
                "  \"{}\" p={:.2}{basis}",
                r.at(&e.sentence),
                e.probability
            )?;
            let phrases: Vec<String> = e
                .phrases
                .iter()
                .map(|p| format!("\"{}\" (-{:.2})", r.at(&p.span), p.weight))
                .collect();
            if !phrases.is_empty() {
                writeln!(out, "    why: {}", phrases.join(", "))?;
            }
        }
    }
    for s in &r.report.suppressed {
        writeln!(
            out,
            "not counted ({}): \"{}\"{}",
            s.context,
            r.at(&s.sentence),
            s.cue
                .as_ref()
                .map(|c| format!(" — cue \"{}\"", r.at(c)))
                .unwrap_or_default()
        )?;
    }
    Ok(())
}
