//! Patient use cases: add, edit, show, list, history.

use hearth_api::{HistoryEntry, NewPatient, Patient, PatientPatch, PatientRow};
use hearth_records::{Field, PatientDoc, PatientFields, PATIENT_KIND};
use hearth_vault::{RecordId, Vault};

use crate::{CoreError, Hearth, Result};

fn to_fields(p: NewPatient) -> PatientFields {
    PatientFields {
        name: p.name,
        date_of_birth: p.date_of_birth,
        pronouns: p.pronouns,
        phone: p.phone,
        email: p.email,
        address: p.address,
        notes: p.notes,
    }
}

fn from_fields(f: PatientFields) -> NewPatient {
    NewPatient {
        name: f.name,
        date_of_birth: f.date_of_birth,
        pronouns: f.pronouns,
        phone: f.phone,
        email: f.email,
        address: f.address,
        notes: f.notes,
    }
}

fn patch_changes(p: PatientPatch) -> Vec<(Field, String)> {
    [
        (Field::Name, p.name),
        (Field::DateOfBirth, p.date_of_birth),
        (Field::Pronouns, p.pronouns),
        (Field::Phone, p.phone),
        (Field::Email, p.email),
        (Field::Address, p.address),
        (Field::Notes, p.notes),
    ]
    .into_iter()
    .filter_map(|(f, v)| v.map(|v| (f, v)))
    .collect()
}

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

fn now_secs(vault: &Vault) -> i64 {
    vault.options().clock().unix_millis().div_euclid(1000)
}

fn parse_id(id: &str) -> Result<RecordId> {
    RecordId::new(id)
        .map_err(|_| CoreError::Vault(hearth_vault::VaultError::NotFound { id: id.to_string() }))
}

fn load(vault: &Vault, id: &str, kind: &str, bytes: &[u8]) -> Result<PatientDoc> {
    if kind != PATIENT_KIND {
        return Err(CoreError::WrongKind { id: id.to_string() });
    }
    PatientDoc::load(bytes, vault.device_id()).map_err(CoreError::record(id))
}

fn view(id: &str, doc: &mut PatientDoc) -> Result<Patient> {
    let fields = doc.fields().map_err(CoreError::record(id))?;
    Ok(Patient {
        id: id.to_string(),
        fields: from_fields(fields),
        created_at: rfc3339(doc.created_at().map_err(CoreError::record(id))?),
        updated_at: rfc3339(doc.updated_at().map_err(CoreError::record(id))?),
    })
}

impl Hearth {
    /// Add a patient: a new data key, a new Automerge document, sealed.
    pub fn add_patient(&self, p: NewPatient) -> Result<Patient> {
        let mut vault = self.vault();
        let id = RecordId::random()?;
        let mut doc = PatientDoc::create(
            id.as_str(),
            vault.device_id(),
            &to_fields(p),
            now_secs(&vault),
        )?;
        let key = vault.create_key()?;
        vault.put(&id, PATIENT_KIND, &key, &doc.save())?;
        view(id.as_str(), &mut doc)
    }

    /// Change some fields of a patient; unchanged values are not written.
    pub fn edit_patient(&self, id: &str, patch: PatientPatch) -> Result<Patient> {
        let rid = parse_id(id)?;
        let changes = patch_changes(patch);
        let mut vault = self.vault();
        let now = now_secs(&vault);
        let device = vault.device_id().to_vec();
        vault.update(&rid, |rec| {
            if rec.kind != PATIENT_KIND {
                return Err(CoreError::WrongKind { id: id.to_string() });
            }
            let mut doc =
                PatientDoc::load(&rec.plaintext, &device).map_err(CoreError::record(id))?;
            let changed = doc.edit(&changes, now)?;
            let bytes = (!changed.is_empty()).then(|| doc.save());
            Ok((bytes, view(id, &mut doc)?))
        })
    }

    /// One patient.
    pub fn patient(&self, id: &str) -> Result<Patient> {
        let rid = parse_id(id)?;
        let mut vault = self.vault();
        let rec = vault.get(&rid)?;
        let mut doc = load(&vault, id, &rec.kind, &rec.plaintext)?;
        view(id, &mut doc)
    }

    /// Every patient, by name; records that fail to open are listed as unreadable, by id.
    pub fn patients(&self) -> Result<Vec<PatientRow>> {
        let mut vault = self.vault();
        let all = vault.open_all(PATIENT_KIND)?;
        let mut rows: Vec<PatientRow> = all
            .into_iter()
            .map(|(id, rec)| {
                let id = id.to_string();
                let fields = rec
                    .map_err(CoreError::from)
                    .and_then(|r| load(&vault, &id, &r.kind, &r.plaintext))
                    .and_then(|d| d.fields().map_err(CoreError::record(&id)));
                match fields {
                    Ok(f) => PatientRow::Ok {
                        id,
                        name: f.name,
                        date_of_birth: f.date_of_birth,
                        pronouns: f.pronouns,
                    },
                    Err(e) => PatientRow::Unreadable {
                        id,
                        message: e.message(),
                    },
                }
            })
            .collect();
        rows.sort_by_cached_key(|r| match r {
            PatientRow::Ok { name, id, .. } => (0, name.to_lowercase(), id.clone()),
            PatientRow::Unreadable { id, .. } => (1, String::new(), id.clone()),
        });
        Ok(rows)
    }

    /// A patient's change history, oldest first.
    pub fn patient_history(&self, id: &str) -> Result<Vec<HistoryEntry>> {
        let rid = parse_id(id)?;
        let mut vault = self.vault();
        let rec = vault.get(&rid)?;
        let mut doc = load(&vault, id, &rec.kind, &rec.plaintext)?;
        let items = doc.history().map_err(CoreError::record(id))?;
        Ok(items
            .into_iter()
            .map(|h| HistoryEntry {
                hash: h.hash,
                device: h.actor,
                time: rfc3339(h.time),
                summary: if h.created {
                    "created".to_string()
                } else {
                    let labels: Vec<&str> = h.fields.iter().map(|f| f.label()).collect();
                    format!("edited {}", labels.join(", "))
                },
            })
            .collect())
    }
}
