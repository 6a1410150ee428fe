//! Patients take their records with them: one patient's records as a FHIR R4 Bundle, and a
//! signed `.hearth` archive that anyone can verify offline with nothing but the archive.
//!
//! No IO: callers hand in the records (as [`Peek`](hearth_records::envelope::Peek)s), the
//! original Automerge documents, the ledger entries with their inclusion proofs, the witnessed
//! checkpoints and the stake table, and get bytes back. The format is in `DESIGN.md`.
//!
//! ```
//! use ed25519_dalek::SigningKey;
//! use hearth_export::{seal, verify, ArchiveInput, VerifyOptions};
//! use hearth_ledger::StakeTable;
//!
//! let device = SigningKey::from_bytes(&[7; 32]);
//! let input = ArchiveInput {
//!     device_name: "dr-roe-laptop".into(),
//!     created_at: 1_780_000_000,
//!     bundle: serde_json::json!({"resourceType": "Bundle", "type": "collection"}),
//!     documents: vec![],
//!     logs: vec![],
//!     stake_table: StakeTable::new(),
//! };
//! let bytes = seal(&input, &device).unwrap();
//! let report = verify(&bytes, &VerifyOptions::default());
//! assert!(report.passed(), "{report}");
//! ```

mod archive;
mod fhir;
mod recipient;
mod research;
mod verify;

/// The secret-string type of [`new_identity`].
pub use age::secrecy as age_secret;
pub use archive::{
    seal, Archive, ArchiveError, ArchiveInput, Document, LogExport, LoggedEntry, Manifest,
    ManifestLog, ManifestPart, FORMAT, MAGIC,
};
pub use fhir::{bundle, AuditRecord, ExportOptions, FhirError, PatientExport};
/// The de-identifier the research export uses.
pub use hearth_deid as deid;
pub use recipient::{is_sealed, new_identity, open_with, seal_to, RecipientError};
pub use research::{
    known_identifiers, research_export, ManifestPatient, ManifestSkipped, Omitted, ResearchError,
    ResearchExport, ResearchManifest, ResearchPatient, Skipped, RESEARCH_FORMAT,
};
pub use verify::{verify, Check, Outcome, Report, VerifyOptions};
