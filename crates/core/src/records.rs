//! Generic record use cases: create, read, edit, history, restore, list — for every kind.

use hearth_api::{HistoryEntry, RecordInfo, Stored};
use hearth_records::envelope::{self, Peek};
use hearth_records::{Doc, Patient, RecordKind};
use hearth_vault::{KeyId, RecordId, Vault, VaultError};
use serde::{de::DeserializeOwned, Serialize};

use hearth_ledger::ChangeKind;

use crate::{audit, CoreError, Hearth, Result};

/// RFC 3339 for Unix seconds (UTC).
pub(crate) fn rfc3339(secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

pub(crate) fn now_secs(vault: &Vault) -> i64 {
    vault.options().clock().unix_millis().div_euclid(1000)
}

pub(crate) fn parse_id(id: &str) -> Result<RecordId> {
    RecordId::new(id).map_err(|_| CoreError::Vault(VaultError::NotFound { id: id.to_string() }))
}

/// Convert between a record type and its IPC twin (same JSON shape; tested per kind).
pub(crate) fn convert<A: Serialize, B: DeserializeOwned>(a: &A) -> Result<B> {
    serde_json::to_value(a)
        .and_then(serde_json::from_value)
        .map_err(|e| CoreError::Internal(format!("converting a record: {e}")))
}

/// A peeked record as IPC `Stored<B>`.
pub(crate) fn stored<T: RecordKind, B: DeserializeOwned>(p: &Peek<T>) -> Result<Stored<B>> {
    Ok(Stored {
        info: RecordInfo {
            id: p.id.clone(),
            created_at: rfc3339(p.created_at),
            updated_at: rfc3339(p.updated_at),
        },
        record: convert(&p.value)?,
    })
}

/// The data key of a patient (all of a patient's records are sealed under it), checking that
/// `patient_id` names a patient.
pub(crate) fn patient_key(vault: &mut Vault, patient_id: &str) -> Result<KeyId> {
    let rid = RecordId::new(patient_id)
        .map_err(|_| CoreError::Invalid(format!("patient: {patient_id:?} is not a patient id")))?;
    // Plaintext columns only: no need to decrypt the patient to find its key.
    let rec = vault.meta(&rid).map_err(|e| match e {
        VaultError::NotFound { .. } => {
            CoreError::Invalid(format!("patient: no patient with id {patient_id}"))
        }
        other => other.into(),
    })?;
    if rec.kind != Patient::KIND {
        return Err(CoreError::Invalid(format!(
            "patient: record {patient_id} is not a patient"
        )));
    }
    Ok(rec.key_id)
}

fn history_entries(items: Vec<hearth_records::HistoryItem>) -> Vec<HistoryEntry> {
    items
        .into_iter()
        .map(|h| HistoryEntry {
            hash: h.hash,
            device: h.actor,
            time: rfc3339(h.time),
            summary: if h.created {
                "created".to_string()
            } else if h.changed.is_empty() {
                "merged".to_string()
            } else {
                format!("edited {}", h.changed.join(", "))
            },
        })
        .collect()
}

impl Hearth {
    /// Store a new record of kind `T` (a patient gets a new data key; any other record is
    /// sealed under its patient's key).
    pub(crate) fn create_record<T: RecordKind>(&self, value: T) -> Result<Peek<T>> {
        self.check_device_write::<T>(value.patient_id().is_none())?;
        let mut vault = self.vault();
        let id = RecordId::random()?;
        // Validate (inside Doc::create) before anything is written.
        let mut doc = Doc::create(id.as_str(), vault.device_id(), value, now_secs(&vault))?;
        let key = match doc.value().patient_id() {
            None => vault.create_key()?,
            Some(pid) => patient_key(&mut vault, pid)?,
        };
        let bytes = doc.to_envelope()?;
        let log_key = self.log_key(&mut vault)?;
        let entry = audit::change_entry(
            audit::now_secs(&vault),
            &log_key,
            id.as_str(),
            doc.head_bytes(),
            ChangeKind::Create,
            T::CATEGORY,
        )?;
        vault.put_batch_logged(
            &[hearth_vault::NewRecord {
                id: &id,
                kind: T::KIND,
                key: &key,
                plaintext: &bytes,
            }],
            &[entry],
        )?;
        let peek = envelope::peek::<T>(&bytes)?;
        self.reindex(&peek.id, &peek.value);
        Ok(peek)
    }

    /// On a patient's own device (which holds only that patient's records) a write needs the
    /// patient's contracts to let their devices write `T`'s category; a new patient, never.
    fn check_device_write<T: RecordKind>(&self, new_patient: bool) -> Result<()> {
        let Some(own) = self.own_patient()? else {
            return Ok(());
        };
        if new_patient {
            return Err(CoreError::Denied(
                "this is a patient's own device: it holds only that patient's records".into(),
            ));
        }
        let d = self.decide(
            &own,
            hearth_consent::Action::Write,
            crate::consent::category(T::CATEGORY),
            hearth_consent::Purpose::Treatment,
            false,
        )?;
        if d.permit {
            Ok(())
        } else {
            Err(CoreError::Denied(format!(
                "this is a patient's own device: {}",
                d.reason
            )))
        }
    }

    /// Read a record of kind `T` from its snapshot.
    pub(crate) fn read_record<T: RecordKind>(&self, id: &str) -> Result<Peek<T>> {
        let rid = parse_id(id)?;
        let rec = self.vault().get(&rid)?;
        if rec.kind != T::KIND {
            return Err(CoreError::WrongKind {
                id: id.to_string(),
                expected: T::KIND,
            });
        }
        envelope::peek(&rec.plaintext).map_err(CoreError::record(id))
    }

    /// Edit a record: `f` changes a copy of the current value; only differences are written,
    /// atomically with respect to other processes. Returns the new state and what changed.
    pub(crate) fn edit_record<T: RecordKind>(
        &self,
        id: &str,
        f: impl FnOnce(&mut T) -> Result<()>,
    ) -> Result<(Peek<T>, Vec<String>)> {
        self.with_doc::<T, _>(id, |doc, now| {
            let before = doc.value().clone();
            let mut v = before.clone();
            f(&mut v)?;
            if v.patient_id() != before.patient_id() {
                return Err(CoreError::Invalid(
                    "patient: a record cannot move to another patient".into(),
                ));
            }
            Ok(doc.update(v, now)?)
        })
    }

    /// Restore the value a record had after change `version`, as a new change.
    pub(crate) fn restore_record<T: RecordKind>(
        &self,
        id: &str,
        version: &str,
    ) -> Result<(Peek<T>, Vec<String>)> {
        self.with_doc::<T, _>(id, |doc, now| Ok(doc.restore(version, now)?))
    }

    fn with_doc<T: RecordKind, F>(&self, id: &str, f: F) -> Result<(Peek<T>, Vec<String>)>
    where
        F: FnOnce(&mut Doc<T>, i64) -> Result<Vec<String>>,
    {
        self.check_device_write::<T>(false)?;
        let rid = parse_id(id)?;
        let mut vault = self.vault();
        let now = now_secs(&vault);
        let log_now = audit::now_secs(&vault);
        let device = vault.device_id().to_vec();
        let log_key = self.log_key(&mut vault)?;
        vault
            .update_logged(&rid, |rec| {
                if rec.kind != T::KIND {
                    return Err(CoreError::WrongKind {
                        id: id.to_string(),
                        expected: T::KIND,
                    });
                }
                let mut doc: Doc<T> =
                    Doc::from_envelope(&rec.plaintext, &device).map_err(CoreError::record(id))?;
                let changed = f(&mut doc, now).map_err(|e| e.for_record(id))?;
                let bytes = doc.to_envelope()?;
                let peek = envelope::peek(&bytes)?;
                if changed.is_empty() {
                    return Ok((None, Vec::new(), (peek, changed)));
                }
                let entry = audit::change_entry(
                    log_now,
                    &log_key,
                    id,
                    doc.head_bytes(),
                    ChangeKind::Edit,
                    T::CATEGORY,
                )?;
                Ok((Some(bytes), vec![entry], (peek, changed)))
            })
            .inspect(|(p, changed)| {
                if !changed.is_empty() {
                    self.reindex(&p.id, &p.value);
                }
            })
    }

    /// A record's change history, oldest first.
    pub(crate) fn record_history<T: RecordKind>(&self, id: &str) -> Result<Vec<HistoryEntry>> {
        let rid = parse_id(id)?;
        let mut vault = self.vault();
        let rec = vault.get(&rid)?;
        if rec.kind != T::KIND {
            return Err(CoreError::WrongKind {
                id: id.to_string(),
                expected: T::KIND,
            });
        }
        let mut doc: Doc<T> =
            Doc::from_envelope(&rec.plaintext, vault.device_id()).map_err(CoreError::record(id))?;
        Ok(history_entries(
            doc.history().map_err(CoreError::record(id))?,
        ))
    }

    /// Every record of kind `T` (of one patient, when given): each either opened or the
    /// reason it could not be.
    pub(crate) fn list_records<T: RecordKind>(
        &self,
        patient_id: Option<&str>,
    ) -> Result<Vec<(String, Result<Peek<T>>)>> {
        let mut vault = self.vault();
        let all = match patient_id {
            Some(pid) => {
                let key = patient_key(&mut vault, pid)?;
                vault.open_under_key(T::KIND, &key)?
            }
            None => vault.open_all(T::KIND)?,
        };
        Ok(all
            .into_iter()
            .map(|(id, rec)| {
                let id = id.to_string();
                let peek = rec.map_err(CoreError::from).and_then(|r| {
                    envelope::peek::<T>(&r.plaintext).map_err(CoreError::record(&id))
                });
                (id, peek)
            })
            .collect())
    }
}
