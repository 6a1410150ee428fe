//! Hearth's clinical records as Automerge documents, so offline edits on several devices merge.
//!
//! Every record kind is a plain Rust struct mapped onto an Automerge document with
//! `autosurgeon`; [`Doc<T>`] wraps the document and gives create, edit (only changed values are
//! written), history derived from the document itself, restore of an earlier version as a new
//! change, and merge. Long free text is Automerge text ([`autosurgeon::Text`]), so concurrent
//! edits to different parts of a note both survive.
//!
//! What is stored (and sealed by the vault) is an *envelope*: a JSON snapshot of the current
//! value for fast listing and search, followed by the Automerge bytes that are the truth. See
//! [`envelope`].
//!
//! ```
//! use hearth_records::{Doc, Patient};
//! # fn main() -> Result<(), hearth_records::RecordError> {
//! let ada = Patient { name: "Ada Lovelace".into(), ..Default::default() };
//! let mut doc = Doc::create("p1", &[1; 16], ada, 1_700_000_000)?;
//! let mut edited = doc.value().clone();
//! edited.pronouns = "she/her".into();
//! assert_eq!(doc.update(edited, 1_700_000_060)?, vec!["pronouns".to_string()]);
//! let bytes = doc.to_envelope()?;
//! let peeked = hearth_records::envelope::peek::<Patient>(&bytes)?;
//! assert_eq!(peeked.value.pronouns, "she/her");
//! assert_eq!(doc.history()?.len(), 2);
//! # Ok(()) }
//! ```

mod appointment;
mod assessment;
mod attachment;
mod doc;
pub mod envelope;
mod note;
mod patient;
mod plan;
pub(crate) mod textfield;

use serde::{de::DeserializeOwned, Deserialize, Serialize};

pub use appointment::{Appointment, AppointmentStatus, Recurrence};
pub use assessment::{
    reliable_change, Assessment, Band, Change, Instrument, Score, GAD7_ITEMS, PHQ9_ITEMS, SCALE,
};
pub use attachment::{media_type_for, Attachment};
pub use doc::{Doc, HistoryItem};
pub use note::{Addendum, NoteTemplate, PsychotherapyNote, Section, SessionNote, Signature};
pub use patient::{Contact, Diagnosis, EmergencyContact, Patient, PatientStatus};
pub use plan::{Goal, GoalStatus, Objective, Problem, TreatmentPlan};
pub use textfield::text_serde;

/// Errors from the record layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// A field's value is not acceptable.
    #[error("{field}: {reason}")]
    Invalid {
        /// The field's label ("name", "date of birth", "item 9").
        field: String,
        /// What is wrong and what is expected.
        reason: String,
    },
    /// The edit is not allowed in the record's current state.
    #[error("{0}")]
    Refused(String),
    /// The stored bytes are not a valid record of this kind.
    #[error("the record could not be read ({0}); restore it from a backup or another device")]
    Malformed(String),
    /// No change with that hash in this record.
    #[error("no version {0} in this record's history")]
    NoSuchVersion(String),
    /// Automerge refused an operation.
    #[error("record operation failed: {0}")]
    Automerge(Box<automerge::AutomergeError>),
}

impl From<automerge::AutomergeError> for RecordError {
    fn from(e: automerge::AutomergeError) -> Self {
        Self::Automerge(Box::new(e))
    }
}

impl RecordError {
    /// An invalid-field error.
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// Shorthand.
pub type Result<T, E = RecordError> = std::result::Result<T, E>;

/// The consent category of a record (used by consent, sync and export).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// Patient demographics and contacts.
    Demographics,
    /// Appointments.
    Appointments,
    /// Session (progress) notes.
    ProgressNotes,
    /// Psychotherapy notes: kept apart, by default never leave the author's device.
    PsychotherapyNotes,
    /// Assessments (PHQ-9, GAD-7).
    Assessments,
    /// Treatment plan.
    TreatmentPlan,
    /// Attachments.
    Attachments,
}

impl Category {
    /// The category's name as used in consent contracts.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Demographics => "demographics",
            Category::Appointments => "appointments",
            Category::ProgressNotes => "progress-notes",
            Category::PsychotherapyNotes => "psychotherapy-notes",
            Category::Assessments => "assessments",
            Category::TreatmentPlan => "treatment-plan",
            Category::Attachments => "attachments",
        }
    }
}

/// A kind of clinical record.
pub trait RecordKind:
    autosurgeon::Reconcile
    + autosurgeon::Hydrate
    + Serialize
    + DeserializeOwned
    + Clone
    + PartialEq
    + std::fmt::Debug
    + Send
    + 'static
{
    /// The vault kind (`patient`, `appointment`, …).
    const KIND: &'static str;
    /// The schema tag stored in the document.
    const SCHEMA: &'static str;
    /// The consent category.
    const CATEGORY: Category;

    /// The patient this record belongs to (a patient record returns `None`: it is its own).
    fn patient_id(&self) -> Option<&str>;

    /// Check every field; the error names the field. `today` bounds dates.
    fn validate(&self, today: time::Date) -> Result<()>;

    /// Normalise before validating and storing (e.g. trim single-line fields).
    fn normalise(&mut self) {}

    /// Check that `edited` may replace `current` (e.g. a signed note refuses content changes).
    fn check_edit(_current: &Self, _edited: &Self) -> Result<()> {
        Ok(())
    }

    /// Fold an edited value into the current (hydrated) one. Kinds with text fields override
    /// this to diff the text, so concurrent edits merge character by character.
    fn absorb(current: &mut Self, edited: Self) {
        *current = edited;
    }

    /// A label for people for a changed path below the record's root (first key by default).
    fn describe(path: &[String]) -> String {
        path.first()
            .map(|k| k.replace('_', " "))
            .unwrap_or_default()
    }

    /// Text for the full-text search index.
    fn search_text(&self) -> String {
        String::new()
    }
}

/// Field checks shared by kinds.
pub(crate) mod check {
    use super::{RecordError, Result};

    /// At most `max` characters, single line.
    pub fn line(field: &str, v: &str, max: usize) -> Result<()> {
        if v.chars().count() > max {
            return Err(RecordError::invalid(
                field,
                format!("at most {max} characters"),
            ));
        }
        if v.chars().any(char::is_control) {
            return Err(RecordError::invalid(field, "must be a single line"));
        }
        Ok(())
    }

    /// At most `max` characters, several lines allowed.
    pub fn text(field: &str, v: &str, max: usize) -> Result<()> {
        if v.chars().count() > max {
            return Err(RecordError::invalid(
                field,
                format!("at most {max} characters"),
            ));
        }
        Ok(())
    }

    /// Required, single line.
    pub fn required(field: &str, v: &str, max: usize) -> Result<()> {
        if v.trim().is_empty() {
            return Err(RecordError::invalid(field, "is required"));
        }
        line(field, v, max)
    }

    /// A `YYYY-MM-DD` date (or empty when `optional`).
    pub fn date(field: &str, v: &str, optional: bool) -> Result<Option<time::Date>> {
        if v.is_empty() && optional {
            return Ok(None);
        }
        let fmt = time::macros::format_description!("[year]-[month]-[day]");
        time::Date::parse(v, &fmt).map(Some).map_err(|_| {
            RecordError::invalid(
                field,
                format!("{v:?} is not a date; write it as YYYY-MM-DD, e.g. 1984-03-07"),
            )
        })
    }

    /// A local date-time `YYYY-MM-DDTHH:MM`.
    pub fn datetime(field: &str, v: &str) -> Result<time::PrimitiveDateTime> {
        let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
        time::PrimitiveDateTime::parse(v, &fmt).map_err(|_| {
            RecordError::invalid(field, format!("{v:?} is not a date and time; write it as YYYY-MM-DDTHH:MM, e.g. 2026-03-07T14:30"))
        })
    }

    /// A record id reference.
    pub fn id(field: &str, v: &str) -> Result<()> {
        if v.is_empty()
            || v.len() > 64
            || !v
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(RecordError::invalid(
                field,
                format!("{v:?} is not a record id"),
            ));
        }
        Ok(())
    }
}

/// Unix seconds to a date (UTC).
pub fn date_of(now_secs: i64) -> time::Date {
    time::OffsetDateTime::from_unix_timestamp(now_secs)
        .map(|t| t.date())
        .unwrap_or(time::Date::MAX)
}
