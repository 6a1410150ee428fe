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
    /// BLAKE3 of the content's transfer form (sealed under `transfer_key`), hex: how devices
    /// ask each other for it. Empty on attachments made before content travelled.
    #[serde(default)]
    #[autosurgeon(missing = "Default::default")]
    pub sealed_hash: String,
    /// The key of the transfer form (hex), known only to devices that receive this record.
    #[serde(default)]
    #[autosurgeon(missing = "Default::default")]
    pub transfer_key: String,
}

fn hex64(s: &str) -> bool {
    s.len() == 64 && s.chars().all(|c| c.is_ascii_hexdigit())
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
        let legacy = self.sealed_hash.is_empty() && self.transfer_key.is_empty();
        let travels = hex64(&self.sealed_hash) && hex64(&self.transfer_key);
        if !(legacy || travels) {
            return Err(RecordError::invalid(
                "transfer",
                "needs both a BLAKE3 hash and a key, each 64 hex digits",
            ));
        }
        if !hex64(&self.sha256) {
            return Err(RecordError::invalid(
                "sha256",
                "is not a SHA-256 hex digest",
            ));
        }
        check::line("description", &self.description, 500)
    }

    fn check_edit(current: &Self, edited: &Self) -> Result<()> {
        // The transfer form may be given once, to an attachment made before content travelled.
        let transfer_changed = current.sealed_hash != edited.sealed_hash
            || current.transfer_key != edited.transfer_key;
        let first_transfer_form = current.sealed_hash.is_empty() && current.transfer_key.is_empty();
        if current.blob_id != edited.blob_id
            || current.sha256 != edited.sha256
            || current.size != edited.size
            || (transfer_changed && !first_transfer_form)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn attachment() -> Attachment {
        Attachment {
            patient_id: "0123456789abcdef0123456789abcdef".into(),
            filename: "ecg.pdf".into(),
            media_type: "application/pdf".into(),
            size: 10,
            sha256: "a".repeat(64),
            blob_id: "fedcba9876543210fedcba9876543210".into(),
            description: String::new(),
            sealed_hash: "b".repeat(64),
            transfer_key: "c".repeat(64),
        }
    }

    #[test]
    fn transfer_fields_come_as_a_pair_of_hex_digests_and_never_change() {
        let today = crate::date_of(1_750_000_000);
        let a = attachment();
        a.validate(today).unwrap();
        for bad in [
            Attachment {
                transfer_key: String::new(),
                ..attachment()
            },
            Attachment {
                sealed_hash: "xyz".into(),
                ..attachment()
            },
        ] {
            let e = bad.validate(today).unwrap_err().to_string();
            assert!(e.contains("transfer"), "{e}");
        }
        let legacy = Attachment {
            sealed_hash: String::new(),
            transfer_key: String::new(),
            ..attachment()
        };
        legacy.validate(today).unwrap();
        let rekeyed = Attachment {
            transfer_key: "d".repeat(64),
            ..attachment()
        };
        assert!(Attachment::check_edit(&a, &rekeyed).is_err());
        // Given once to an attachment from before content travelled; never taken away.
        let legacy_before = Attachment {
            sealed_hash: String::new(),
            transfer_key: String::new(),
            ..attachment()
        };
        Attachment::check_edit(&legacy_before, &a).unwrap();
        assert!(Attachment::check_edit(&a, &legacy_before).is_err());
        let described = Attachment {
            description: "12-lead".into(),
            ..attachment()
        };
        Attachment::check_edit(&a, &described).unwrap();
    }

    #[test]
    fn an_attachment_written_before_the_transfer_fields_still_reads() {
        // A document made by the previous schema: the same map without the two fields.
        let mut doc = automerge::AutoCommit::new();
        let old = Attachment {
            sealed_hash: String::new(),
            transfer_key: String::new(),
            ..attachment()
        };
        autosurgeon::reconcile_prop(&mut doc, automerge::ROOT, "data", &old).unwrap();
        let data = match automerge::ReadDoc::get(&doc, automerge::ROOT, "data").unwrap() {
            Some((_, id)) => id,
            None => panic!("no data"),
        };
        automerge::transaction::Transactable::delete(&mut doc, &data, "sealed_hash").unwrap();
        automerge::transaction::Transactable::delete(&mut doc, &data, "transfer_key").unwrap();
        let back: Attachment = autosurgeon::hydrate_prop(&doc, automerge::ROOT, "data").unwrap();
        assert_eq!(back, old);
    }
}
