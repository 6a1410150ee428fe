//! Attachments: the record describing a file whose bytes live in the vault as a sealed blob.

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

use crate::{check, Category, RecordError, RecordKind, Result};

/// A file attached to a patient's chart.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct Attachment {
    /// The patient's record id.
    pub patient_id: String,
    /// File name as given.
    pub filename: String,
    /// Media type (`application/pdf`, `image/png`, `application/dicom`, …).
    pub media_type: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the content, hex.
    pub sha256: String,
    /// The vault blob holding the content.
    pub blob_id: String,
    /// What it is.
    pub description: String,
}

/// A media type from a file name's extension (the common clinical ones).
pub fn media_type_for(filename: &str) -> &'static str {
    let ext = filename
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "pdf" => "application/pdf",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "tif" | "tiff" => "image/tiff",
        "dcm" | "dicom" => "application/dicom",
        "xml" => "application/xml",
        "csv" => "text/csv",
        "txt" => "text/plain",
        "edf" => "application/edf",
        "json" => "application/json",
        _ => "application/octet-stream",
    }
}

impl RecordKind for Attachment {
    const KIND: &'static str = "attachment";
    const SCHEMA: &'static str = "hearth/attachment@1";
    const CATEGORY: Category = Category::Attachments;

    fn patient_id(&self) -> Option<&str> {
        Some(&self.patient_id)
    }

    fn validate(&self, _today: time::Date) -> Result<()> {
        check::id("patient", &self.patient_id)?;
        check::required("file name", &self.filename, 255)?;
        if self.filename.contains(['/', '\\']) {
            return Err(RecordError::invalid(
                "file name",
                "must not contain a folder",
            ));
        }
        check::required("media type", &self.media_type, 100)?;
        check::id("blob", &self.blob_id)?;
        if self.sha256.len() != 64 || !self.sha256.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(RecordError::invalid(
                "sha256",
                "is not a SHA-256 hex digest",
            ));
        }
        check::line("description", &self.description, 500)
    }

    fn check_edit(current: &Self, edited: &Self) -> Result<()> {
        if current.blob_id != edited.blob_id
            || current.sha256 != edited.sha256
            || current.size != edited.size
        {
            return Err(RecordError::Refused(
                "an attachment's content cannot change: attach the new file instead".into(),
            ));
        }
        Ok(())
    }

    fn search_text(&self) -> String {
        format!("{} {}", self.filename, self.description)
    }
}
