//! Moving records between vaults as Automerge documents: what sync will carry. A record from
//! another device is merged (or created) here, sealed under this vault's keys and logged.

use hearth_ledger::ChangeKind;
use hearth_records::{
    Appointment, Assessment, Attachment, Doc, Patient, PsychotherapyNote, RecordKind, SessionNote,
    TreatmentPlan,
};
use hearth_vault::NewRecord;

use crate::records::{parse_id, patient_key};
use crate::{audit, CoreError, Hearth, Result};

/// Run `$body` with `$t` bound to the record type of vault kind `$kind`.
macro_rules! with_kind {
    ($kind:expr, $t:ident => $body:expr) => {
        match $kind {
            "patient" => {
                type $t = Patient;
                $body
            }
            "appointment" => {
                type $t = Appointment;
                $body
            }
            "session-note" => {
                type $t = SessionNote;
                $body
            }
            "psychotherapy-note" => {
                type $t = PsychotherapyNote;
                $body
            }
            "assessment" => {
                type $t = Assessment;
                $body
            }
            "treatment-plan" => {
                type $t = TreatmentPlan;
                $body
            }
            "attachment" => {
                type $t = Attachment;
                $body
            }
            other => Err(CoreError::Invalid(format!(
                "kind: {other:?} is not a record kind"
            ))),
        }
    };
}

impl Hearth {
    /// A record's kind and its Automerge document (for another device of the clinic).
    pub fn record_document(&self, id: &str) -> Result<(String, Vec<u8>)> {
        let rid = parse_id(id)?;
        let mut vault = self.vault();
        let rec = vault.get(&rid)?;
        let device = vault.device_id().to_vec();
        let kind = rec.kind.clone();
        with_kind!(kind.as_str(), T => {
            let mut doc: Doc<T> = Doc::from_envelope(&rec.plaintext, &device).map_err(CoreError::record(id))?;
            Ok((kind.clone(), doc.save()))
        })
    }

    /// Merge a record's Automerge document received from another device: created here if new
    /// (a patient's other records need the patient first), merged if known. Returns what the
    /// merge changed (empty: nothing new).
    pub fn merge_document(&self, kind: &str, id: &str, document: &[u8]) -> Result<Vec<String>> {
        with_kind!(kind, T => self.merge_typed::<T>(id, document))
    }

    fn merge_typed<T: RecordKind>(&self, id: &str, document: &[u8]) -> Result<Vec<String>> {
        let rid = parse_id(id)?;
        let mut vault = self.vault();
        let device = vault.device_id().to_vec();
        let log_key = self.log_key(&mut vault)?;
        let now = audit::now_secs(&vault);
        let mut incoming: Doc<T> = Doc::load(document, &device).map_err(CoreError::record(id))?;
        if incoming.id() != id {
            return Err(CoreError::Invalid(format!(
                "document: it belongs to record {}, not {id}",
                incoming.id()
            )));
        }
        let exists = match vault.key_of(&rid) {
            Ok(_) => true,
            Err(hearth_vault::VaultError::NotFound { .. }) => false,
            Err(e) => return Err(e.into()),
        };
        let (peek, changed) = if exists {
            vault.update_logged(&rid, |rec| {
                if rec.kind != T::KIND {
                    return Err(CoreError::WrongKind {
                        id: id.to_string(),
                        expected: T::KIND,
                    });
                }
                let mut doc: Doc<T> =
                    Doc::from_envelope(&rec.plaintext, &device).map_err(CoreError::record(id))?;
                let before = doc.heads();
                doc.merge(&mut incoming).map_err(CoreError::record(id))?;
                if doc.heads() == before {
                    let peek = hearth_records::envelope::peek::<T>(&doc.to_envelope()?)?;
                    return Ok((None, Vec::new(), (peek, Vec::new())));
                }
                let bytes = doc.to_envelope()?;
                let peek = hearth_records::envelope::peek::<T>(&bytes)?;
                let entry = audit::change_entry(
                    now,
                    &log_key,
                    id,
                    doc.head_bytes(),
                    ChangeKind::Edit,
                    T::CATEGORY,
                )?;
                Ok((Some(bytes), vec![entry], (peek, vec!["merged".to_string()])))
            })?
        } else {
            let key = match incoming.value().patient_id() {
                None => vault.create_key()?,
                Some(pid) => patient_key(&mut vault, pid)?,
            };
            let bytes = incoming.to_envelope()?;
            let entry = audit::change_entry(
                now,
                &log_key,
                id,
                incoming.head_bytes(),
                ChangeKind::Create,
                T::CATEGORY,
            )?;
            vault.put_batch_logged(
                &[NewRecord {
                    id: &rid,
                    kind: T::KIND,
                    key: &key,
                    plaintext: &bytes,
                }],
                &[entry],
            )?;
            let peek = hearth_records::envelope::peek::<T>(&bytes)?;
            (peek, vec!["created".to_string()])
        };
        drop(vault);
        if !changed.is_empty() {
            self.reindex(&peek.id, &peek.value);
        }
        Ok(changed)
    }

    /// The kind of a record.
    pub(crate) fn kind_of(&self, id: &str) -> Result<String> {
        Ok(self.vault().meta(&parse_id(id)?)?.kind)
    }

    /// Any record as JSON (its kind, id, times and value), e.g. for `hearth show`. Reading it is
    /// asked of consent and logged like any view.
    pub fn record_json(&self, id: &str) -> Result<serde_json::Value> {
        let kind = self.kind_of(id)?;
        let (value, purpose) = with_kind!(kind.as_str(), T => {
            let p = self.read_record::<T>(id)?;
            let patient = p.value.patient_id().unwrap_or(id).to_string();
            let author = kind == "psychotherapy-note" && self.is_author::<T>(id)?;
            let purpose = self.enforce_read::<T>(&patient, id, author)?;
            serde_json::to_value(&p)
                .map(|v| (v, purpose))
                .map_err(|e| CoreError::Internal(e.to_string()))
        })?;
        self.log_access(id, hearth_ledger::AccessAction::View, purpose)?;
        Ok(value)
    }

    /// Any record's change history, oldest first.
    pub fn history(&self, id: &str) -> Result<Vec<hearth_api::HistoryEntry>> {
        let kind = self.kind_of(id)?;
        with_kind!(kind.as_str(), T => self.record_history::<T>(id))
    }

    /// Make any record what it was after change `version`, as a new change; returns what
    /// changed (a signed note refuses: signed notes take addenda).
    pub fn restore(&self, id: &str, version: &str) -> Result<Vec<String>> {
        let kind = self.kind_of(id)?;
        with_kind!(kind.as_str(), T => self.restore_record::<T>(id, version).map(|(_, changed)| changed))
    }
}
