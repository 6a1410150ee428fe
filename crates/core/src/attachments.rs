//! Attachments: files streamed into the vault as sealed blobs, described by a record.

use std::io::{Read, Write};
use std::path::Path;

use hearth_api::Stored;
use hearth_records::{media_type_for, Attachment};
use hearth_vault::BlobId;
use sha2::{Digest, Sha256};

use crate::records::{parse_id, patient_key, stored};
use crate::{CoreError, Hearth, Result};

/// Hashes what passes through.
struct Hashing<R> {
    inner: R,
    hash: Sha256,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
}

fn io<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> CoreError + 'a {
    move |source| {
        CoreError::Vault(hearth_vault::VaultError::Io {
            action,
            path: path.into(),
            source,
        })
    }
}

impl Hearth {
    /// Attach a file to a patient's chart, streamed in chunks (memory stays small whatever the
    /// size). Files over the limit (default 2 GiB) are refused before anything is written.
    pub fn attach_file(
        &self,
        patient_id: &str,
        path: &Path,
        description: &str,
    ) -> Result<Stored<hearth_api::Attachment>> {
        let limit = self.attachment_limit;
        let meta = std::fs::metadata(path).map_err(io("read", path))?;
        if !meta.is_file() {
            return Err(CoreError::Invalid(format!(
                "file: {} is not a file",
                path.display()
            )));
        }
        if meta.len() > limit {
            return Err(CoreError::Invalid(format!(
                "file: {} is {} bytes, over the attachment limit of {limit} bytes; nothing was stored",
                path.display(),
                meta.len()
            )));
        }
        let filename = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| CoreError::Invalid("file: the path has no file name".into()))?;
        let file = std::fs::File::open(path).map_err(io("open", path))?;
        let mut reader = Hashing {
            inner: std::io::BufReader::with_capacity(1 << 16, file),
            hash: Sha256::new(),
        };
        let info = {
            let mut vault = self.vault();
            let key = patient_key(&mut vault, patient_id)?;
            vault.write_blob(&key, &mut reader, limit)?
        };
        let record = Attachment {
            patient_id: patient_id.to_string(),
            media_type: media_type_for(&filename).to_string(),
            filename,
            size: info.size,
            sha256: hex::encode(reader.hash.finalize()),
            blob_id: info.id.to_string(),
            description: description.to_string(),
        };
        match self.create_record(record) {
            Ok(p) => stored(&p),
            Err(e) => {
                // No record, no blob: never leave content nobody can see.
                let _ = self.vault().delete_blob(&info.id);
                Err(e)
            }
        }
    }

    /// A patient's attachments.
    pub fn attachments(&self, patient_id: &str) -> Result<Vec<Stored<hearth_api::Attachment>>> {
        self.enforce_list::<Attachment>(patient_id)?;
        let mut out = Vec::new();
        for (id, p) in self.list_records::<Attachment>(Some(patient_id))? {
            match p {
                Ok(p) => out.push(stored(&p)?),
                Err(e) => {
                    tracing::warn!(record = %id, "skipping unreadable attachment: {}", e.message())
                }
            }
        }
        Ok(out)
    }

    /// Stream an attachment's content into `out`, checking its SHA-256.
    pub fn read_attachment(&self, id: &str, out: &mut impl Write) -> Result<u64> {
        let rec = self.read_record::<Attachment>(id)?;
        let blob = BlobId::new(rec.value.blob_id.clone())
            .map_err(|_| CoreError::Invalid(format!("record {id} names no valid file")))?;
        let mut hashing = HashingWriter {
            inner: out,
            hash: Sha256::new(),
        };
        let n = self.vault().read_blob(&blob, &mut hashing)?;
        if hex::encode(hashing.hash.finalize()) != rec.value.sha256 {
            return Err(hearth_vault::VaultError::Integrity {
                id: id.to_string(),
                what: "its content does not match its SHA-256",
            }
            .into());
        }
        Ok(n)
    }

    /// Save an attachment to a file (written under a temporary name, then renamed).
    pub fn export_attachment(&self, id: &str, to: &Path) -> Result<u64> {
        parse_id(id)?;
        let rec = self.read_record::<Attachment>(id)?;
        // Saving a chart file to open it (print an ECG, view a scan) is the clinician reading
        // it; handing records to someone else is an export, decided by the export use case.
        let purpose = self.enforce_read::<Attachment>(&rec.value.patient_id, id, false)?;
        self.log_access(id, hearth_ledger::AccessAction::Export, purpose)?;
        let tmp = to.with_extension("hearth-partial");
        let mut f =
            std::io::BufWriter::new(std::fs::File::create(&tmp).map_err(io("create", &tmp))?);
        let n = self.read_attachment(id, &mut f);
        let flushed = f.flush().map_err(io("write", &tmp));
        match (n, flushed) {
            (Ok(n), Ok(())) => {
                std::fs::rename(&tmp, to).map_err(io("rename", to))?;
                Ok(n)
            }
            (Err(e), _) | (_, Err(e)) => {
                let _ = std::fs::remove_file(&tmp);
                Err(e)
            }
        }
    }
}

struct HashingWriter<'a, W> {
    inner: &'a mut W,
    hash: Sha256,
}

impl<W: Write> Write for HashingWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}
