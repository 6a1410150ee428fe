//! Patient use cases: add, edit, show, list, history, restore.

use hearth_api::{
    Diagnosis, HistoryEntry, NewPatient, Patient as PatientView, PatientPatch, PatientRow,
    PatientStatus,
};
use hearth_records::envelope::Peek;
use hearth_records::{Contact, EmergencyContact, Patient, PatientStatus as Status};

use crate::records::rfc3339;
use crate::{Hearth, Result};

fn to_record(p: NewPatient) -> Patient {
    Patient {
        name: p.name,
        date_of_birth: p.date_of_birth,
        pronouns: p.pronouns,
        contact: Contact {
            phone: p.phone,
            email: p.email,
            address: p.address,
        },
        emergency_contact: EmergencyContact {
            name: p.emergency_name,
            relationship: p.emergency_relationship,
            phone: p.emergency_phone,
        },
        diagnoses: p
            .diagnoses
            .into_iter()
            .map(|d| hearth_records::Diagnosis {
                code: d.code,
                text: d.text,
            })
            .collect(),
        status: match p.status {
            PatientStatus::Active => Status::Active,
            PatientStatus::Discharged => Status::Discharged,
        },
        notes: autosurgeon::Text::with_value(p.notes),
    }
}

fn from_record(p: &Patient) -> NewPatient {
    NewPatient {
        name: p.name.clone(),
        date_of_birth: p.date_of_birth.clone(),
        pronouns: p.pronouns.clone(),
        phone: p.contact.phone.clone(),
        email: p.contact.email.clone(),
        address: p.contact.address.clone(),
        notes: p.notes.as_str().to_string(),
        emergency_name: p.emergency_contact.name.clone(),
        emergency_relationship: p.emergency_contact.relationship.clone(),
        emergency_phone: p.emergency_contact.phone.clone(),
        diagnoses: p
            .diagnoses
            .iter()
            .map(|d| Diagnosis {
                code: d.code.clone(),
                text: d.text.clone(),
            })
            .collect(),
        status: match p.status {
            Status::Active => PatientStatus::Active,
            Status::Discharged => PatientStatus::Discharged,
        },
    }
}

fn apply(patch: PatientPatch, current: &NewPatient) -> NewPatient {
    let c = current.clone();
    NewPatient {
        name: patch.name.unwrap_or(c.name),
        date_of_birth: patch.date_of_birth.unwrap_or(c.date_of_birth),
        pronouns: patch.pronouns.unwrap_or(c.pronouns),
        phone: patch.phone.unwrap_or(c.phone),
        email: patch.email.unwrap_or(c.email),
        address: patch.address.unwrap_or(c.address),
        notes: patch.notes.unwrap_or(c.notes),
        emergency_name: patch.emergency_name.unwrap_or(c.emergency_name),
        emergency_relationship: patch
            .emergency_relationship
            .unwrap_or(c.emergency_relationship),
        emergency_phone: patch.emergency_phone.unwrap_or(c.emergency_phone),
        diagnoses: patch.diagnoses.unwrap_or(c.diagnoses),
        status: patch.status.unwrap_or(c.status),
    }
}

pub(crate) fn view(p: &Peek<Patient>) -> PatientView {
    PatientView {
        id: p.id.clone(),
        fields: from_record(&p.value),
        created_at: rfc3339(p.created_at),
        updated_at: rfc3339(p.updated_at),
    }
}

impl Hearth {
    /// Add a patient: a new data key, a new Automerge document, sealed.
    pub fn add_patient(&self, p: NewPatient) -> Result<PatientView> {
        Ok(view(&self.create_record(to_record(p))?))
    }

    /// Change some fields of a patient; unchanged values are not written.
    pub fn edit_patient(&self, id: &str, patch: PatientPatch) -> Result<PatientView> {
        let (p, _) = self.edit_record::<Patient>(id, |v| {
            let edited = apply(patch, &from_record(v));
            *v = to_record(edited);
            Ok(())
        })?;
        Ok(view(&p))
    }

    /// One patient.
    pub fn patient(&self, id: &str) -> Result<PatientView> {
        let p = view(&self.read_record::<Patient>(id)?);
        let purpose = self.enforce_read::<Patient>(id, id, false)?;
        self.log_access(id, hearth_ledger::AccessAction::View, purpose)?;
        Ok(p)
    }

    /// Every patient, by name; records that fail to open are listed as unreadable, by id.
    pub fn patients(&self) -> Result<Vec<PatientRow>> {
        let mut rows: Vec<PatientRow> = self
            .list_records::<Patient>(None)?
            .into_iter()
            .map(|(id, p)| match p {
                Ok(p) => PatientRow::Ok {
                    id,
                    name: p.value.name,
                    date_of_birth: p.value.date_of_birth,
                    pronouns: p.value.pronouns,
                    discharged: p.value.status == Status::Discharged,
                },
                Err(e) => PatientRow::Unreadable {
                    id,
                    message: e.message(),
                },
            })
            .collect();
        // The list shows names: it is a view of every patient's demographics.
        self.log_access(
            "list:patient",
            hearth_ledger::AccessAction::View,
            "treatment",
        )?;
        rows.sort_by_cached_key(|r| match r {
            PatientRow::Ok { name, id, .. } => (0, name.to_lowercase(), id.clone()),
            PatientRow::Unreadable { id, .. } => (1, String::new(), id.clone()),
        });
        Ok(rows)
    }

    /// A patient's change history, oldest first.
    pub fn patient_history(&self, id: &str) -> Result<Vec<HistoryEntry>> {
        self.record_history::<Patient>(id)
    }

    /// Make a patient what it was after change `version` (from the history), as a new change.
    pub fn restore_patient(&self, id: &str, version: &str) -> Result<PatientView> {
        Ok(view(&self.restore_record::<Patient>(id, version)?.0))
    }
}
