//! Sealed blobs: files streamed through the vault in 1 MiB chunks, never whole in memory.
//!
//! Each chunk is sealed with XChaCha20-Poly1305 under the owner's data key; its associated data
//! binds vault id, blob id, key id, chunk index and a "last chunk" flag (the STREAM
//! construction), so chunks cannot be reordered, moved between blobs, dropped from the end or
//! appended to. A blob is `writing` until its last chunk is stored, then `complete`; only
//! complete blobs can be read. A blob left `writing` by a crash is removed on the next unlock
//! (once no writer has touched it for a minute).

use std::io::{Read, Write};

use rusqlite::{params, OptionalExtension};

use crate::crypto::{self, aad};
use crate::{data_cipher, KeyId, Result, Vault, VaultError};

/// Plaintext bytes per chunk.
pub const BLOB_CHUNK: usize = 1 << 20;

/// Chunks committed per transaction while writing.
const CHUNKS_PER_TX: u64 = 8;

/// A blob's id (random, 128-bit hex).
pub type BlobId = crate::RecordId;

/// What was stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobInfo {
    /// The blob's id.
    pub id: BlobId,
    /// Plaintext size in bytes.
    pub size: u64,
}

fn chunk_aad(vault_id: &[u8], blob: &str, key: &str, idx: u64, last: bool) -> Vec<u8> {
    aad(
        "hearth-vault/blob-chunk/v1",
        &[
            vault_id,
            blob.as_bytes(),
            key.as_bytes(),
            &idx.to_be_bytes(),
            &[u8::from(last)],
        ],
    )
}

/// Read until `buf` is full or the reader ends; returns the bytes read.
fn fill(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

impl Vault {
    /// Stream `reader` into a new sealed blob under data key `key`. More than `limit` bytes is
    /// refused (what was written so far is removed). Memory use is two chunks.
    pub fn write_blob(
        &mut self,
        key: &KeyId,
        reader: &mut impl Read,
        limit: u64,
    ) -> Result<BlobInfo> {
        let id = BlobId::random()?;
        self.write_blob_as(key, id, reader, limit)
    }

    /// [`Vault::write_blob`] under a given id (content that arrives from another device keeps
    /// the id its record names). A half-written blob of that id is replaced; a complete one is
    /// an error.
    pub fn write_blob_as(
        &mut self,
        key: &KeyId,
        id: BlobId,
        reader: &mut impl Read,
        limit: u64,
    ) -> Result<BlobInfo> {
        self.touch()?;
        self.conn
            .execute(
                "DELETE FROM blobs WHERE blob_id = ?1 AND state = 'writing'",
                [id.as_str()],
            )
            .map_err(VaultError::sqlite("starting a blob"))?;
        let now = self.opts.clock.unix_millis();
        self.conn
            .execute(
                "INSERT INTO blobs (blob_id, key_id, state, created_at, touched_at) VALUES (?1, ?2, 'writing', ?3, ?3)",
                params![id.as_str(), key.as_str(), now],
            )
            .map_err(VaultError::sqlite("starting a blob"))?;
        match self.write_chunks(&id, key, reader, limit) {
            Ok(size) => Ok(BlobInfo { id, size }),
            Err(e) => {
                if !self.conn.is_autocommit() {
                    let _ = self.conn.execute_batch("ROLLBACK");
                }
                let _ = self.delete_blob(&id);
                Err(e)
            }
        }
    }

    fn write_chunks(
        &mut self,
        id: &BlobId,
        key: &KeyId,
        reader: &mut impl Read,
        limit: u64,
    ) -> Result<u64> {
        let io = |source| VaultError::Io {
            action: "read the file being attached",
            path: "(input)".into(),
            source,
        };
        let mut cur = vec![0u8; BLOB_CHUNK];
        let mut next = vec![0u8; BLOB_CHUNK];
        let mut cur_len = fill(reader, &mut cur).map_err(io)?;
        let mut idx: u64 = 0;
        let mut size: u64 = 0;
        loop {
            let next_len = if cur_len == BLOB_CHUNK {
                fill(reader, &mut next).map_err(io)?
            } else {
                0
            };
            let last = next_len == 0;
            size += cur_len as u64;
            if size > limit {
                return Err(VaultError::TooLarge { limit });
            }
            self.touch()?;
            let Self {
                conn,
                header,
                unlocked,
                opts,
                ..
            } = self;
            let u = unlocked.as_mut().ok_or(VaultError::Locked)?;
            let cipher =
                data_cipher(conn, header, u, key).map_err(|what| VaultError::Integrity {
                    id: key.to_string(),
                    what,
                })?;
            let nonce = crypto::random_nonce()?;
            let ct = crypto::seal(
                cipher,
                &nonce,
                &chunk_aad(&header.vault_id, id.as_str(), key.as_str(), idx, last),
                &cur[..cur_len],
            )
            .map_err(|_| VaultError::TooLarge { limit })?;
            if idx.is_multiple_of(CHUNKS_PER_TX) && idx > 0 {
                conn.execute_batch("COMMIT")
                    .map_err(VaultError::sqlite("writing a blob"))?;
            }
            if idx.is_multiple_of(CHUNKS_PER_TX) {
                conn.execute_batch("BEGIN IMMEDIATE")
                    .map_err(VaultError::sqlite("writing a blob"))?;
            }
            let written = conn
                .prepare_cached("INSERT INTO blob_chunks (blob_id, idx, nonce, ciphertext) VALUES (?1, ?2, ?3, ?4)")
                .and_then(|mut s| s.execute(params![id.as_str(), idx as i64, &nonce[..], ct]))
                .and_then(|_| conn.execute("UPDATE blobs SET touched_at = ?2 WHERE blob_id = ?1", params![id.as_str(), opts.clock.unix_millis()]));
            if let Err(e) = written {
                let _ = conn.execute_batch("ROLLBACK");
                return Err(VaultError::sqlite("writing a blob")(e));
            }
            idx += 1;
            if last {
                let done = conn
                    .execute(
                        "UPDATE blobs SET state = 'complete', chunks = ?2, size = ?3 WHERE blob_id = ?1",
                        params![id.as_str(), idx as i64, size as i64],
                    )
                    .and_then(|_| conn.execute_batch("COMMIT"));
                if let Err(e) = done {
                    let _ = conn.execute_batch("ROLLBACK");
                    return Err(VaultError::sqlite("finishing a blob")(e));
                }
                return Ok(size);
            }
            std::mem::swap(&mut cur, &mut next);
            cur_len = next_len;
        }
    }

    /// Stream a complete blob's plaintext into `out`, chunk by chunk, checking every chunk.
    pub fn read_blob(&mut self, id: &BlobId, out: &mut impl Write) -> Result<u64> {
        self.touch()?;
        let Self {
            conn,
            header,
            unlocked,
            ..
        } = self;
        let u = unlocked.as_mut().ok_or(VaultError::Locked)?;
        let meta: Option<(String, String, i64, i64)> = conn
            .query_row(
                "SELECT key_id, state, chunks, size FROM blobs WHERE blob_id = ?1",
                [id.as_str()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()
            .map_err(VaultError::sqlite("reading a blob"))?;
        let (key, state, chunks, size) =
            meta.ok_or_else(|| VaultError::NotFound { id: id.to_string() })?;
        let integrity = |what| VaultError::Integrity {
            id: id.to_string(),
            what,
        };
        if state != "complete" {
            return Err(integrity("the file was never completely stored"));
        }
        let key = KeyId::new(key).map_err(|_| integrity("its key id is malformed"))?;
        let chunks = u64::try_from(chunks).map_err(|_| integrity("bad chunk count"))?;
        let mut total: u64 = 0;
        for idx in 0..chunks {
            let row: Option<(Vec<u8>, Vec<u8>)> = conn
                .prepare_cached(
                    "SELECT nonce, ciphertext FROM blob_chunks WHERE blob_id = ?1 AND idx = ?2",
                )
                .and_then(|mut s| {
                    s.query_row(params![id.as_str(), idx as i64], |r| {
                        Ok((r.get(0)?, r.get(1)?))
                    })
                    .optional()
                })
                .map_err(VaultError::sqlite("reading a blob"))?;
            let (nonce, ct) = row.ok_or_else(|| integrity("a chunk is missing"))?;
            let cipher = data_cipher(conn, header, u, &key).map_err(integrity)?;
            let last = idx + 1 == chunks;
            let pt = crypto::open(
                cipher,
                &nonce,
                &chunk_aad(&header.vault_id, id.as_str(), key.as_str(), idx, last),
                &ct,
            )
            .map_err(|_| integrity("a chunk does not authenticate"))?;
            total += pt.len() as u64;
            out.write_all(&pt).map_err(|source| VaultError::Io {
                action: "write out",
                path: "(output)".into(),
                source,
            })?;
        }
        if i64::try_from(total).ok() != Some(size) {
            return Err(integrity("its size does not match"));
        }
        Ok(total)
    }

    /// Remove a blob and its chunks.
    pub fn delete_blob(&mut self, id: &BlobId) -> Result<()> {
        self.conn
            .execute("DELETE FROM blobs WHERE blob_id = ?1", [id.as_str()])
            .map_err(VaultError::sqlite("deleting a blob"))?;
        Ok(())
    }

    /// Remove blobs left half-written (no writer has touched them for `idle_ms`); returns how
    /// many. Called on unlock.
    pub fn sweep_incomplete_blobs(&mut self, idle_ms: i64) -> Result<usize> {
        let cutoff = self.opts.clock.unix_millis() - idle_ms;
        self.conn
            .execute(
                "DELETE FROM blobs WHERE state = 'writing' AND touched_at < ?1",
                [cutoff],
            )
            .map_err(VaultError::sqlite("removing half-written files"))
    }

    /// Size of a complete blob, or `None` if it is missing or incomplete.
    pub fn blob_size(&mut self, id: &BlobId) -> Result<Option<u64>> {
        self.touch()?;
        let size: Option<i64> = self
            .conn
            .query_row(
                "SELECT size FROM blobs WHERE blob_id = ?1 AND state = 'complete'",
                [id.as_str()],
                |r| r.get(0),
            )
            .optional()
            .map_err(VaultError::sqlite("reading a blob"))?;
        Ok(size.and_then(|s| u64::try_from(s).ok()))
    }
}
