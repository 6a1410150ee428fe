//! A [`NoteRisk`] in the words and shapes the risk panel shows (`hearth-api` types).

use std::ops::Range;

use hearth_api::{NoteRiskView, RiskEvidence, RiskFlagView, RiskSuppressed, TextRun};

use super::RISK_NOTICE;
use crate::risk::{Basis, Item9Link, NoteRisk, Phrase};

/// PHQ-9 item 9 in words, and whether it is positive.
fn item9_words(i: &Item9Link) -> (String, bool) {
    match i {
        Item9Link::Answered { score, taken, .. } => {
            let words = match score {
                0 => "not at all",
                1 => "several days",
                2 => "more than half the days",
                _ => "nearly every day",
            };
            (
                format!("PHQ-9 item 9 on {taken}: {score} ({words})"),
                *score > 0,
            )
        }
        Item9Link::NoPhq9 => ("PHQ-9 item 9: no PHQ-9 on record".into(), false),
        Item9Link::Unknown => (
            "PHQ-9 item 9: not available to this device (assessments not readable)".into(),
            false,
        ),
    }
}

/// A sentence cut into runs at its phrases (phrases overlapping an earlier one are dropped).
fn runs(r: &NoteRisk, sentence: &Range<usize>, phrases: &[Phrase]) -> Vec<TextRun> {
    let mut ps: Vec<&Phrase> = phrases
        .iter()
        .filter(|p| p.span.start >= sentence.start && p.span.end <= sentence.end)
        .collect();
    ps.sort_by_key(|p| p.span.start);
    let mut out = Vec::new();
    let mut at = sentence.start;
    for p in ps {
        if p.span.start < at {
            continue;
        }
        if p.span.start > at {
            out.push(TextRun {
                text: r.at(&(at..p.span.start)).to_string(),
                weight: None,
            });
        }
        out.push(TextRun {
            text: r.at(&p.span).to_string(),
            weight: Some(p.weight),
        });
        at = p.span.end;
    }
    if at < sentence.end {
        out.push(TextRun {
            text: r.at(&(at..sentence.end)).to_string(),
            weight: None,
        });
    }
    out
}

/// The panel's view of an analysis.
pub(super) fn risk_view(r: &NoteRisk) -> NoteRiskView {
    let (phq9_item9, item9_positive) = item9_words(&r.phq9_item9);
    let flags = r
        .report
        .flags
        .iter()
        .map(|f| RiskFlagView {
            label: f.label.as_str().to_string(),
            band: f.band.as_str().to_string(),
            probability: f.probability,
            threshold: f.threshold,
            evidence: f
                .evidence
                .iter()
                .map(|e| RiskEvidence {
                    sentence: runs(r, &e.sentence, &e.phrases),
                    probability: e.probability,
                    why: match e.basis {
                        Basis::ExplicitMention => {
                            "an explicit, affirmed mention of suicidal thoughts or self-harm"
                                .to_string()
                        }
                        Basis::Model => format!(
                            "the model's probability {:.2} passed the threshold {:.2}",
                            e.probability, f.threshold
                        ),
                    },
                })
                .collect(),
        })
        .collect();
    let suppressed = r
        .report
        .suppressed
        .iter()
        .map(|s| RiskSuppressed {
            label: s.label.as_str().to_string(),
            sentence: r.at(&s.sentence).to_string(),
            context: s.context.to_string(),
        })
        .collect();
    NoteRiskView {
        flags,
        suppressed,
        phq9_item9,
        item9_positive,
        notice: RISK_NOTICE.to_string(),
        model: r.report.model.clone(),
        ..NoteRiskView::default()
    }
}
