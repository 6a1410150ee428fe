//! Attachments: files streamed into the vault as sealed blobs, described by a record.

use std::io::{Read, Write};
use std::path::Path;

use hearth_api::Stored;
use hearth_records::envelope::Peek;
use hearth_records::RecordKind;
use hearth_records::{media_type_for, Attachment};
use hearth_sync::Member;
use hearth_vault::transfer::{Opener, Sealer, TransferKey};
use hearth_vault::BlobId;
use sha2::{Digest, Sha256};

use crate::records::{parse_id, patient_key, stored};
use crate::{CoreError, Hearth, Result};

/// Hashes what passes through, and the transfer form it seals to.
struct Hashing<R> {
    inner: R,
    hash: Sha256,
    sealed: Sealer<blake3::Hasher>,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        self.sealed.write_all(&buf[..n])?;
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
        let transfer = TransferKey::random().map_err(io("make a key for", path))?;
        let mut reader = Hashing {
            inner: std::io::BufReader::with_capacity(1 << 16, file),
            hash: Sha256::new(),
            sealed: Sealer::new(&transfer, blake3::Hasher::new()),
        };
        let info = {
            let mut vault = self.vault();
            let key = patient_key(&mut vault, patient_id)?;
            vault.write_blob(&key, &mut reader, limit)?
        };
        let (sealed, _) = reader.sealed.finish().map_err(io("read", path))?;
        let record = Attachment {
            sealed_hash: sealed.finalize().to_hex().to_string(),
            transfer_key: transfer.to_hex().to_string(),
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
                Ok(p) => {
                    let mut a: Stored<hearth_api::Attachment> = stored(&p)?;
                    a.record.on_device = self.content_on_device(&p.value.blob_id)?;
                    out.push(a);
                }
                Err(e) => {
                    tracing::warn!(record = %id, "skipping unreadable attachment: {}", e.message())
                }
            }
        }
        Ok(out)
    }

    /// Whether an attachment's content (its vault blob) is complete on this device.
    pub(crate) fn content_on_device(&self, blob_id: &str) -> Result<bool> {
        let Ok(blob) = BlobId::new(blob_id.to_string()) else {
            return Ok(false);
        };
        Ok(self.vault().blob_size(&blob)?.is_some())
    }

    /// Stream an attachment's content into `out`, checking its SHA-256.
    pub fn read_attachment(&self, id: &str, out: &mut impl Write) -> Result<u64> {
        let rec = self.read_record::<Attachment>(id)?;
        let blob = BlobId::new(rec.value.blob_id.clone())
            .map_err(|_| CoreError::Invalid(format!("record {id} names no valid file")))?;
        if !self.content_on_device(&rec.value.blob_id)? {
            return Err(CoreError::Invalid(format!(
                "the content of {:?} is not on this device yet: it arrives from the device that \
                 attached it at the next sync with it",
                rec.value.filename
            )));
        }
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

/// Content travelling between devices (the sync store's side; see `hearth_sync::Store`).
impl Hearth {
    /// The attachment whose transfer form has BLAKE3 `hash`, if this device has its record.
    fn attachment_by_sealed_hash(&self, hash: &[u8; 32]) -> Result<Option<Peek<Attachment>>> {
        let want = hex::encode(hash);
        for (_, p) in self.list_records::<Attachment>(None)? {
            if let Ok(p) = p {
                if p.value.sealed_hash == want {
                    return Ok(Some(p));
                }
            }
        }
        Ok(None)
    }

    /// Write the transfer form of the attachment addressed by `hash` into `out`, if `peer` may
    /// read it (the same consent decision that offers the attachment's record); returns the
    /// record's id, or `None` when there is no such attachment here, its content is not here,
    /// or consent does not let `peer` read it.
    pub(crate) fn sealed_content_for(
        &self,
        peer: &Member,
        hash: &[u8; 32],
        out: &mut dyn Write,
    ) -> Result<Option<String>> {
        let Some(rec) = self.attachment_by_sealed_hash(hash)? else {
            return Ok(None);
        };
        let a = &rec.value;
        if !self.content_on_device(&a.blob_id)? {
            return Ok(None);
        }
        let (contracts, today) = {
            let mut vault = self.vault();
            let today = crate::consent::today(&vault);
            let contracts: Vec<_> = self
                .contract_versions(&mut vault, &a.patient_id)?
                .into_iter()
                .map(|s| s.contract().clone())
                .collect();
            (contracts, today)
        };
        let decision = Hearth::decide_for(
            peer,
            &contracts,
            &a.patient_id,
            hearth_consent::Action::Read,
            crate::consent::category(Attachment::CATEGORY),
            false,
            today,
        )?;
        if !decision.permit {
            tracing::info!(record = %rec.id, reason = %decision.reason, "attachment content not sent: consent");
            return Ok(None);
        }
        let (key, blob) = transfer_of(&rec)?;
        let mut sealer = Sealer::new(&key, out);
        self.vault().read_blob(&blob, &mut sealer)?;
        sealer
            .finish()
            .map_err(|e| CoreError::Internal(format!("sealing an attachment to send: {e}")))?;
        Ok(Some(rec.id.clone()))
    }

    /// Attachments stored before content travelled have no transfer form: give each one whose
    /// content is on this device a key and the BLAKE3 of its sealed form (a change to its
    /// record, logged), so its content can reach the clinic's other devices. Returns how many.
    /// Nodes run it when they start.
    pub fn upgrade_attachments(&self) -> Result<usize> {
        let mut n = 0;
        for (id, p) in self.list_records::<Attachment>(None)? {
            let Ok(p) = p else { continue };
            let legacy = p.value.sealed_hash.is_empty() && p.value.transfer_key.is_empty();
            if !legacy || !self.content_on_device(&p.value.blob_id)? {
                continue;
            }
            let key = TransferKey::random()
                .map_err(|e| CoreError::Internal(format!("a transfer key: {e}")))?;
            let blob = BlobId::new(p.value.blob_id.clone())
                .map_err(|_| CoreError::Invalid(format!("record {id} names no valid file")))?;
            let mut sealer = Sealer::new(&key, blake3::Hasher::new());
            self.vault().read_blob(&blob, &mut sealer)?;
            let (hasher, _) = sealer
                .finish()
                .map_err(|e| CoreError::Internal(format!("sealing an attachment: {e}")))?;
            let (hash, key) = (hasher.finalize().to_hex().to_string(), key.to_hex());
            self.edit_record::<Attachment>(&id, |a| {
                a.sealed_hash = hash;
                a.transfer_key = key.to_string();
                Ok(())
            })?;
            n += 1;
        }
        if n > 0 {
            tracing::info!(n, "attachments given a transfer form");
        }
        Ok(n)
    }

    /// The transfer forms (BLAKE3) of attachments whose record is here but content is not.
    pub(crate) fn wanted_content(&self) -> Result<Vec<[u8; 32]>> {
        let mut out = Vec::new();
        for (_, p) in self.list_records::<Attachment>(None)? {
            let Ok(p) = p else { continue };
            let mut hash = [0u8; 32];
            if hex::decode_to_slice(&p.value.sealed_hash, &mut hash).is_err() {
                continue;
            }
            if !self.content_on_device(&p.value.blob_id)? {
                out.push(hash);
            }
        }
        Ok(out)
    }

    /// Keep the content of the attachment whose transfer form (BLAKE3 `hash`) `sealed` yields:
    /// opened with the record's key, sealed into this vault under the patient's key with the
    /// blob id the record names, and checked against the record's size and SHA-256 (a mismatch
    /// keeps nothing). Returns the content's size.
    pub(crate) fn import_content(&self, hash: &[u8; 32], sealed: &mut dyn Read) -> Result<u64> {
        let rec = self.attachment_by_sealed_hash(hash)?.ok_or_else(|| {
            CoreError::Invalid("received content that no attachment here names".into())
        })?;
        let a = &rec.value;
        let (key, blob) = transfer_of(&rec)?;
        let mut reader = ContentCheck {
            inner: Opener::new(&key, sealed),
            hash: Sha256::new(),
        };
        let mut vault = self.vault();
        if vault.blob_size(&blob)?.is_some() {
            return Ok(a.size);
        }
        let data_key = patient_key(&mut vault, &a.patient_id)?;
        let limit = a.size.min(self.attachment_limit);
        let info = vault.write_blob_as(&data_key, blob.clone(), &mut reader, limit)?;
        if info.size != a.size || hex::encode(reader.hash.finalize()) != a.sha256 {
            let _ = vault.delete_blob(&blob);
            return Err(hearth_vault::VaultError::Integrity {
                id: rec.id.clone(),
                what: "the content received does not match its size and SHA-256",
            }
            .into());
        }
        Ok(info.size)
    }
}

/// An attachment's transfer key and the vault blob its content lives in.
fn transfer_of(rec: &Peek<Attachment>) -> Result<(TransferKey, BlobId)> {
    let key = TransferKey::from_hex(&rec.value.transfer_key).ok_or_else(|| {
        CoreError::Invalid(format!(
            "attachment {}: its transfer key is malformed",
            rec.id
        ))
    })?;
    let blob = BlobId::new(rec.value.blob_id.clone())
        .map_err(|_| CoreError::Invalid(format!("record {} names no valid file", rec.id)))?;
    Ok((key, blob))
}

/// SHA-256 of what passes through.
struct ContentCheck<R> {
    inner: R,
    hash: Sha256,
}

impl<R: Read> Read for ContentCheck<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::HearthOptions;

    #[test]
    fn an_attachment_from_before_content_travelled_is_given_a_transfer_form_once() {
        let dir = tempfile::tempdir().unwrap();
        let h = Hearth::create(
            &dir.path().join("v.hearth"),
            "correct horse battery staple",
            HearthOptions::default()
                .insecure_fast_kdf_for_tests()
                .idle_lock(None),
        )
        .unwrap();
        let pid = h
            .add_patient(hearth_api::NewPatient {
                name: "Ada Legacy".into(),
                ..Default::default()
            })
            .unwrap()
            .id;
        // As the previous version stored it: content in the vault, no transfer form.
        let content = b"an old referral letter".repeat(1000);
        let info = {
            let mut vault = h.vault();
            let key = patient_key(&mut vault, &pid).unwrap();
            vault.write_blob(&key, &mut &content[..], u64::MAX).unwrap()
        };
        let old = h
            .create_record(Attachment {
                patient_id: pid.clone(),
                filename: "letter.pdf".into(),
                media_type: "application/pdf".into(),
                size: info.size,
                sha256: hex::encode(Sha256::digest(&content)),
                blob_id: info.id.to_string(),
                description: String::new(),
                sealed_hash: String::new(),
                transfer_key: String::new(),
            })
            .unwrap();
        assert!(h.wanted_content().unwrap().is_empty());

        assert_eq!(h.upgrade_attachments().unwrap(), 1);
        let now = h.read_record::<Attachment>(&old.id).unwrap().value;
        let key = TransferKey::from_hex(&now.transfer_key).unwrap();
        // The recorded hash is the BLAKE3 of what this device serves.
        let mut sealed = Vec::new();
        let member = hearth_sync::Member {
            endpoint: [1; 32],
            log_key: [2; 32],
            device: vec![3; 16],
            name: "peer".into(),
            role: hearth_sync::Role::Clinician,
            stake: 1,
            patient: None,
        };
        let mut hash = [0u8; 32];
        hex::decode_to_slice(&now.sealed_hash, &mut hash).unwrap();
        // No contract names the peer: nothing is served.
        assert!(h
            .sealed_content_for(&member, &hash, &mut sealed)
            .unwrap()
            .is_none());
        let mut sealer = Sealer::new(&key, Vec::new());
        sealer.write_all(&content).unwrap();
        let (sealed, _) = sealer.finish().unwrap();
        assert_eq!(blake3::hash(&sealed).to_hex().to_string(), now.sealed_hash);
        // Done once: a second pass changes nothing.
        assert_eq!(h.upgrade_attachments().unwrap(), 0);
        let again = h.read_record::<Attachment>(&old.id).unwrap().value;
        assert_eq!(again.transfer_key, now.transfer_key);
    }
}
