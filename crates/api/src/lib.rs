//! IPC types shared by the Hearth UI (compiled to wasm32) and the desktop shell.
//!
//! Everything here is a plain serde type: no IO, no platform code, so the same definitions
//! compile for the browser side and the native side and the two can never drift apart.
//! Field names are `snake_case` on the wire; Tauri passes command arguments by name.
//!
//! ```
//! use hearth_api::{ApiError, ErrorKind};
//! let e = ApiError::new(ErrorKind::WrongPassphrase, "wrong passphrase");
//! let json = serde_json::to_string(&e).unwrap();
//! assert!(json.contains("wrong_passphrase"));
//! ```

mod clinical;
mod consent;
mod export;
mod insight;
mod sync;

use serde::{Deserialize, Serialize};

pub use clinical::*;
pub use consent::*;
pub use export::*;
pub use insight::*;
pub use sync::*;

/// Version of these IPC types; bumped when a type changes shape.
pub const API_VERSION: u32 = 2;

/// Whether a patient is in care.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PatientStatus {
    /// In care.
    #[default]
    Active,
    /// Discharged.
    Discharged,
}

/// A diagnosis: ICD-10 code and text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnosis {
    /// ICD-10 code, e.g. F33.1.
    pub code: String,
    /// Its text.
    pub text: String,
}

/// What the app knows about its vault before and after unlocking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VaultStatus {
    /// Where the vault file is (or would be created).
    pub path: String,
    /// A vault file exists at `path`.
    pub exists: bool,
    /// The vault is locked (or not open): its keys are not in memory.
    pub locked: bool,
    /// Idle period after which the vault locks itself, in seconds.
    pub idle_lock_secs: u64,
    /// Records clinic sync has brought in during this run of the app (the screens reload
    /// when it grows).
    #[serde(default)]
    pub synced_in: u64,
}

/// A patient as the user enters it (create).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewPatient {
    /// Full name as the patient wants it recorded. Required.
    pub name: String,
    /// Date of birth, `YYYY-MM-DD`, or empty when unknown.
    pub date_of_birth: String,
    /// Pronouns, free text (e.g. "she/her").
    pub pronouns: String,
    /// Phone number, free text.
    pub phone: String,
    /// E-mail address.
    pub email: String,
    /// Postal address, free text.
    pub address: String,
    /// Free-text notes about the patient (not session notes).
    pub notes: String,
    /// Emergency contact's name.
    #[serde(default)]
    pub emergency_name: String,
    /// Emergency contact's relationship to the patient.
    #[serde(default)]
    pub emergency_relationship: String,
    /// Emergency contact's phone.
    #[serde(default)]
    pub emergency_phone: String,
    /// Diagnoses (ICD-10).
    #[serde(default)]
    pub diagnoses: Vec<Diagnosis>,
    /// Active or discharged.
    #[serde(default)]
    pub status: PatientStatus,
}

/// A change to a patient: each `Some` field is set, each `None` left as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientPatch {
    /// New name.
    pub name: Option<String>,
    /// New date of birth (`YYYY-MM-DD`, or empty to clear).
    pub date_of_birth: Option<String>,
    /// New pronouns.
    pub pronouns: Option<String>,
    /// New phone number.
    pub phone: Option<String>,
    /// New e-mail address.
    pub email: Option<String>,
    /// New postal address.
    pub address: Option<String>,
    /// New notes.
    pub notes: Option<String>,
    /// New emergency contact name.
    #[serde(default)]
    pub emergency_name: Option<String>,
    /// New emergency contact relationship.
    #[serde(default)]
    pub emergency_relationship: Option<String>,
    /// New emergency contact phone.
    #[serde(default)]
    pub emergency_phone: Option<String>,
    /// New list of diagnoses.
    #[serde(default)]
    pub diagnoses: Option<Vec<Diagnosis>>,
    /// New status.
    #[serde(default)]
    pub status: Option<PatientStatus>,
}

impl PatientPatch {
    /// A patch that sets every field to the values of `p`; unchanged fields are no-ops.
    pub fn from_full(p: NewPatient) -> Self {
        Self {
            name: Some(p.name),
            date_of_birth: Some(p.date_of_birth),
            pronouns: Some(p.pronouns),
            phone: Some(p.phone),
            email: Some(p.email),
            address: Some(p.address),
            notes: Some(p.notes),
            emergency_name: Some(p.emergency_name),
            emergency_relationship: Some(p.emergency_relationship),
            emergency_phone: Some(p.emergency_phone),
            diagnoses: Some(p.diagnoses),
            status: Some(p.status),
        }
    }

    /// True when the patch sets nothing.
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

/// A patient record, opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Patient {
    /// Random record id.
    pub id: String,
    /// The fields.
    #[serde(flatten)]
    pub fields: NewPatient,
    /// When the record was created, RFC 3339 UTC.
    pub created_at: String,
    /// When it last changed, RFC 3339 UTC.
    pub updated_at: String,
}

/// One row of the patient list: a patient, or a record that failed to open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum PatientRow {
    /// The record opened.
    Ok {
        /// Record id.
        id: String,
        /// Name.
        name: String,
        /// Date of birth or empty.
        date_of_birth: String,
        /// Pronouns or empty.
        pronouns: String,
        /// The patient was discharged (not in active care).
        #[serde(default)]
        discharged: bool,
    },
    /// The record is in the vault but could not be opened (damaged or tampered with).
    Unreadable {
        /// Record id.
        id: String,
        /// Why, in words for the user.
        message: String,
    },
}

/// One change in a record's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// Automerge change hash (hex).
    pub hash: String,
    /// The device that made the change (hex id).
    pub device: String,
    /// When, RFC 3339 UTC.
    pub time: String,
    /// What changed, in words ("created", "edited name, pronouns").
    pub summary: String,
}

/// Machine-readable error category, so the UI can react (e.g. show the unlock screen).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// The passphrase did not unlock the vault.
    WrongPassphrase,
    /// The vault is locked (or timed out); unlock it again.
    Locked,
    /// No vault exists at the path.
    NoVault,
    /// A vault already exists at the path.
    AlreadyExists,
    /// The file is not a Hearth vault.
    NotAVault,
    /// The vault was written by a newer Hearth.
    NewerSchema,
    /// A record failed its integrity check.
    Integrity,
    /// No such record.
    NotFound,
    /// The input was refused; the message says which field and why.
    InvalidInput,
    /// The patient's consent does not allow this; the message says which provision decided.
    Denied,
    /// Reading or writing the disk failed.
    Io,
    /// A bug or an unexpected state.
    Internal,
}

/// An error as the UI receives it: a kind and a message for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// Category.
    pub kind: ErrorKind,
    /// What went wrong and what to do, in plain words.
    pub message: String,
}

impl ApiError {
    /// Build an error.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patient_row_is_tagged_for_the_ui() {
        let row = PatientRow::Unreadable {
            id: "r1".into(),
            message: "damaged".into(),
        };
        let v: serde_json::Value = serde_json::to_value(&row).unwrap();
        assert_eq!(v["status"], "unreadable");
        let back: PatientRow = serde_json::from_value(v).unwrap();
        assert_eq!(back, row);
    }

    #[test]
    fn patch_from_full_sets_every_field() {
        let p = PatientPatch::from_full(NewPatient {
            name: "A".into(),
            ..Default::default()
        });
        assert_eq!(p.name.as_deref(), Some("A"));
        assert_eq!(p.notes.as_deref(), Some(""));
        assert!(!p.is_empty());
        assert!(PatientPatch::default().is_empty());
    }

    #[test]
    fn patient_flattens_fields() {
        let p = Patient {
            id: "x".into(),
            fields: NewPatient {
                name: "N".into(),
                ..Default::default()
            },
            created_at: "t".into(),
            updated_at: "t".into(),
        };
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(v["name"], "N");
        assert_eq!(serde_json::from_value::<Patient>(v).unwrap(), p);
    }
}
