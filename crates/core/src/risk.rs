//! Risk flags on a session note — a decision aid, not a diagnosis (research preview).
//!
//! [`Hearth::note_risk`] reads one session note, asks consent whether this device may
//! `analyse` the patient's `progress-notes` for purpose `ai-analysis` (the same question as
//! semantic search; the defaults say no), runs the on-device risk model of `hearth-insight`
//! (loaded by the front end: [`RiskModel::load`]) without holding the vault, links every flag to
//! the patient's latest PHQ-9 item-9 answer, and logs the analysis as an `Analyse` access of
//! the note. A refusal is [`CoreError::Denied`] with the deciding reason (and is logged as a
//! refused access). Psychotherapy notes are never analysed.

use hearth_consent::{Action, Purpose};
use hearth_records::{Assessment, Instrument, RecordKind, SessionNote};

pub use hearth_insight::risk::{
    Band, Basis, DecisionAid, Evidence, Item9Link, Phrase, RiskError, RiskFlag, RiskLabel,
    RiskModel, RiskReport, Suppressed, DECISION_AID,
};

use crate::{CoreError, Hearth, Result};

/// The analysis of one session note.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct NoteRisk {
    /// The note.
    pub note_id: String,
    /// Its patient.
    pub patient_id: String,
    /// The text analysed (the note's sections and addenda, one per line); the report's byte
    /// ranges point into it.
    pub text: String,
    /// Flags (each a decision aid, linked to item 9), suppressed mentions, sentence scores.
    pub report: RiskReport,
    /// The patient's latest PHQ-9 item-9 answer (also on every flag).
    pub phq9_item9: Item9Link,
}

impl NoteRisk {
    /// The text at a byte range of the report (empty if the range is not in the text).
    pub fn at(&self, r: &std::ops::Range<usize>) -> &str {
        self.text.get(r.clone()).unwrap_or_default()
    }
}

impl Hearth {
    /// Risk flags for one session note, analysed on this device with `model`. Refused unless
    /// the patient's consent permits on-device analysis (`analyse`, `ai-analysis`).
    pub fn note_risk(&self, note_id: &str, model: &RiskModel) -> Result<NoteRisk> {
        let note = self.read_record::<SessionNote>(note_id)?;
        let patient_id = note.value.patient_id.clone();
        let purpose = self.enforce(
            &patient_id,
            note_id,
            Action::Analyse,
            crate::consent::category(SessionNote::CATEGORY),
            Purpose::AiAnalysis,
            false,
        )?;
        let phq9_item9 = self.latest_item9(&patient_id)?;
        let text = note.value.search_text();
        // The model runs without the vault lock (read_record released it).
        let report = model
            .assess(&text)
            .map_err(|e| CoreError::Internal(format!("the risk model failed: {e}")))?
            .with_item9(phq9_item9.clone());
        self.log_access(note_id, hearth_ledger::AccessAction::Analyse, purpose)?;
        Ok(NoteRisk {
            note_id: note_id.to_string(),
            patient_id,
            text,
            report,
            phq9_item9,
        })
    }

    /// The patient's latest PHQ-9 item 9, if this device may read their assessments
    /// (treatment); `Unknown` if it may not (the refusal is logged by the check).
    fn latest_item9(&self, patient_id: &str) -> Result<Item9Link> {
        let list = format!("item9:{}:{patient_id}", Assessment::KIND);
        let purpose = match self.enforce_read::<Assessment>(patient_id, &list, false) {
            Ok(p) => p,
            Err(CoreError::Denied(_)) => return Ok(Item9Link::Unknown),
            Err(e) => return Err(e),
        };
        let latest = self
            .list_records::<Assessment>(Some(patient_id))?
            .into_iter()
            .filter_map(|(id, r)| r.ok().map(|p| (id, p)))
            .filter(|(_, p)| p.value.instrument == Instrument::Phq9)
            .max_by(|(_, a), (_, b)| {
                (&a.value.administered_on, a.created_at)
                    .cmp(&(&b.value.administered_on, b.created_at))
            });
        self.log_access(&list, hearth_ledger::AccessAction::View, purpose)?;
        Ok(match latest {
            None => Item9Link::NoPhq9,
            Some((id, p)) => Item9Link::Answered {
                score: p.value.answers.get(8).map_or(0, |a| (*a).min(3) as u8),
                assessment_id: id,
                taken: p.value.administered_on.clone(),
            },
        })
    }
}
