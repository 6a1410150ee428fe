//! Exports from the desktop app: one patient's archive (optionally sealed to a recipient) and
//! the clinic's de-identified research export.

use serde::{Deserialize, Serialize};

/// What the export wizard asks for: one patient's records, for a purpose, written to a path.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportRequest {
    /// The patient's record id.
    pub patient: String,
    /// Purpose of use (a code of [`crate::CONSENT_PURPOSES`]).
    pub purpose: String,
    /// Include psychotherapy notes (only when explicitly chosen and permitted).
    pub psychotherapy: bool,
    /// Where to write the `.hearth` archive (sealed when `recipients` is not empty).
    pub path: String,
    /// Where to write the FHIR R4 Bundle JSON as well (plaintext; refused with recipients).
    pub fhir: Option<String>,
    /// Seal the archive to these age public keys (`age1…`); empty for a plain signed archive.
    pub recipients: Vec<String>,
}

/// How far the running export is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportProgressView {
    /// `consent`, `records`, `log`, `fhir`, `documents` or `signing`.
    pub phase: String,
    /// Steps done in this phase.
    pub done: u64,
    /// Steps in this phase.
    pub total: u64,
}

impl ExportProgressView {
    /// The phase in words, with the count where it helps.
    pub fn text(&self) -> String {
        match self.phase.as_str() {
            "consent" => "Asking the patient's consent…".into(),
            "records" => "Reading the records…".into(),
            "log" => "Logging the export in the audit trail…".into(),
            "fhir" => "Building the FHIR R4 bundle…".into(),
            "documents" => format!(
                "Adding the records' full history: {} of {}…",
                self.done, self.total
            ),
            "signing" => "Proving each record against the audit log and signing…".into(),
            _ => "Exporting…".into(),
        }
    }
}

/// A finished patient export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveWritten {
    /// Where the archive was written.
    pub archive_path: String,
    /// Its size in bytes.
    pub archive_bytes: u64,
    /// How many recipients it is sealed to (0: a plain signed archive).
    pub sealed_to: usize,
    /// Where the FHIR R4 Bundle JSON was written, if asked for.
    pub fhir_path: Option<String>,
    /// Its size in bytes.
    pub fhir_bytes: Option<u64>,
    /// Resources in the FHIR bundle.
    pub resources: usize,
}

/// A patient left out of a research export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResearchSkipped {
    /// The patient's record id (the files name them only by pseudonym).
    pub patient: String,
    /// Why: the consent evaluator's reason.
    pub reason: String,
}

/// A finished research export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResearchWritten {
    /// Where the de-identified NDJSON was written.
    pub data_path: String,
    /// Its size in bytes.
    pub data_bytes: u64,
    /// Where the manifest was written.
    pub manifest_path: String,
    /// Record ids of the patients included.
    pub included: Vec<String>,
    /// Identifiers removed (or, for dates, shifted), by kind, non-zero only.
    pub removed: Vec<(String, u64)>,
    /// Resources written, by FHIR type.
    pub resources: Vec<(String, usize)>,
    /// Patients left out, with the reason.
    pub skipped: Vec<ResearchSkipped>,
}
