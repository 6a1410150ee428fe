//! Hearth's encrypted record store: one SQLite file in which every record is sealed.
//!
//! - SQLite (bundled) in WAL mode with `synchronous=FULL`: a write that returned is on disk.
//! - passphrase → Argon2id (≥ 64 MiB, 3 passes; parameters in the header) → key-encryption key,
//!   which wraps a random 256-bit master key; data keys (one per patient, chosen by the caller)
//!   are wrapped by the master key. Changing the passphrase rewraps one key.
//! - Every record is sealed with XChaCha20-Poly1305 under its data key, with a random 192-bit
//!   nonce and associated data binding vault id, format version, record id, kind and key id.
//!   A damaged, moved or swapped ciphertext fails to open and is reported by its id; the
//!   others still open.
//! - Plaintext columns hold random ids, kinds and timestamps only.
//! - [`Vault::lock`] wipes the keys; after an idle period (default 15 minutes) the vault locks
//!   itself on its next use.
//!
//! ```
//! use hearth_vault::{KdfParams, Passphrase, RecordId, Vault, VaultOptions};
//! # fn main() -> Result<(), hearth_vault::VaultError> {
//! let dir = tempfile::tempdir().map_err(|e| hearth_vault::VaultError::Random(e.to_string()))?;
//! let path = dir.path().join("clinic.hearth");
//! // Tests use cheap KDF parameters; real vaults use the default (64 MiB, t = 3).
//! let opts = VaultOptions::default().with_kdf(KdfParams::INSECURE_FOR_TESTS);
//! let mut vault = Vault::create(&path, &Passphrase::new("correct horse battery"), opts.clone())?;
//! let key = vault.create_key()?;
//! let id = RecordId::random()?;
//! vault.put(&id, "patient", &key, b"Ada Lovelace")?;
//! vault.lock();
//! assert!(vault.get(&id).is_err());
//! vault.unlock(&Passphrase::new("correct horse battery"))?;
//! assert_eq!(&vault.get(&id)?.plaintext[..], b"Ada Lovelace");
//! # Ok(()) }
//! ```

mod blob;
mod clock;
mod crypto;
mod error;
mod log;
mod schema;
pub mod soak;
pub mod transfer;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chacha20poly1305::XChaCha20Poly1305;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, TransactionBehavior};
use zeroize::Zeroizing;

pub use blob::{BlobId, BlobInfo, BLOB_CHUNK};
pub use clock::{Clock, ManualClock, SystemClock};
pub use crypto::{KdfParams, Passphrase};
pub use error::{Result, VaultError};
pub use schema::SCHEMA_VERSION;

use crypto::{aad, SecretKey, SALT_LEN};

/// Format version of a sealed record; part of its associated data.
pub const RECORD_FORMAT: u32 = 1;

/// Default idle period after which the vault locks itself (HIPAA automatic logoff).
pub const DEFAULT_IDLE_LOCK: Duration = Duration::from_secs(15 * 60);

macro_rules! id_type {
    ($name:ident, $what:literal) => {
        #[doc = concat!("A ", $what, ": 1–64 characters of `A–Z a–z 0–9 - _`.")]
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            #[doc = concat!("Check and wrap a ", $what, ".")]
            pub fn new(s: impl Into<String>) -> Result<Self> {
                let s = s.into();
                validate_token($what, &s, 64, |c| {
                    c.is_ascii_alphanumeric() || c == '-' || c == '_'
                })?;
                Ok(Self(s))
            }

            #[doc = concat!("A fresh random ", $what, " (128 bits, hex).")]
            pub fn random() -> Result<Self> {
                let mut b = [0u8; 16];
                getrandom::getrandom(&mut b)?;
                Ok(Self(hex::encode(b)))
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(RecordId, "record id");
id_type!(KeyId, "key id");

fn validate_token(
    what: &'static str,
    s: &str,
    max: usize,
    ok: impl Fn(char) -> bool,
) -> Result<()> {
    let why = if s.is_empty() {
        "it is empty"
    } else if s.len() > max {
        "it is too long"
    } else if !s.chars().all(ok) {
        "it has characters outside the allowed set"
    } else {
        return Ok(());
    };
    Err(VaultError::Invalid {
        what,
        value: s.chars().take(80).collect(),
        why,
    })
}

fn validate_kind(kind: &str) -> Result<()> {
    validate_token("kind", kind, 32, |c| {
        c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'
    })
}

/// How a vault is opened or created.
#[derive(Clone)]
pub struct VaultOptions {
    kdf: KdfParams,
    idle_lock: Option<Duration>,
    clock: Arc<dyn Clock>,
}

impl Default for VaultOptions {
    fn default() -> Self {
        Self {
            kdf: KdfParams::default(),
            idle_lock: Some(DEFAULT_IDLE_LOCK),
            clock: SystemClock::shared(),
        }
    }
}

impl std::fmt::Debug for VaultOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VaultOptions")
            .field("kdf", &self.kdf)
            .field("idle_lock", &self.idle_lock)
            .finish_non_exhaustive()
    }
}

impl VaultOptions {
    /// Argon2id parameters for new vaults and passphrase changes (opening uses the header's).
    pub fn with_kdf(mut self, kdf: KdfParams) -> Self {
        self.kdf = kdf;
        self
    }

    /// Lock after this long without use; `None` never locks by itself.
    pub fn with_idle_lock(mut self, idle: Option<Duration>) -> Self {
        self.idle_lock = idle;
        self
    }

    /// The clock for timestamps and the idle lock.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The idle period.
    pub fn idle_lock(&self) -> Option<Duration> {
        self.idle_lock
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }
}

/// The vault header as stored (no secrets in the clear).
#[derive(Debug, Clone)]
struct Header {
    vault_id: Vec<u8>,
    device_id: Vec<u8>,
    kdf: KdfParams,
    salt: Vec<u8>,
    mk_nonce: Vec<u8>,
    mk_sealed: Vec<u8>,
}

impl Header {
    fn master_aad(vault_id: &[u8], kdf: &KdfParams, salt: &[u8]) -> Vec<u8> {
        aad(
            "hearth-vault/master-key/v1",
            &[
                vault_id,
                &kdf.m_cost_kib.to_be_bytes(),
                &kdf.t_cost.to_be_bytes(),
                &kdf.p_cost.to_be_bytes(),
                salt,
            ],
        )
    }

    fn data_key_aad(&self, key_id: &KeyId) -> Vec<u8> {
        aad(
            "hearth-vault/data-key/v1",
            &[&self.vault_id, key_id.as_str().as_bytes()],
        )
    }

    fn record_aad(&self, format: u32, id: &str, kind: &str, key_id: &str) -> Vec<u8> {
        aad(
            "hearth-vault/record/v1",
            &[
                &self.vault_id,
                &format.to_be_bytes(),
                id.as_bytes(),
                kind.as_bytes(),
                key_id.as_bytes(),
            ],
        )
    }

    fn unwrap_master(&self, passphrase: &Passphrase) -> Result<SecretKey> {
        let kek = SecretKey::derive(passphrase, &self.salt, self.kdf)
            .map_err(|e| VaultError::Kdf(e.to_string()))?;
        crypto::unwrap_key(
            &kek,
            &self.mk_nonce,
            &Self::master_aad(&self.vault_id, &self.kdf, &self.salt),
            &self.mk_sealed,
        )
        .map_err(|_| VaultError::WrongPassphrase)
    }

    /// Seal `master` under a fresh salt and a KEK from `passphrase`.
    fn seal_master(
        vault_id: &[u8],
        kdf: KdfParams,
        passphrase: &Passphrase,
        master: &SecretKey,
    ) -> Result<(Vec<u8>, Vec<u8>, Vec<u8>)> {
        let mut salt = vec![0u8; SALT_LEN];
        getrandom::getrandom(&mut salt)?;
        let kek = SecretKey::derive(passphrase, &salt, kdf)
            .map_err(|e| VaultError::Kdf(e.to_string()))?;
        let nonce = crypto::random_nonce()?;
        let sealed = crypto::wrap_key(
            &kek,
            &nonce,
            &Self::master_aad(vault_id, &kdf, &salt),
            master,
        )
        .map_err(|_| VaultError::Kdf("sealing the master key failed".into()))?;
        Ok((salt, nonce.to_vec(), sealed))
    }
}

/// Keys in memory while unlocked; dropping this wipes them.
struct Unlocked {
    master: SecretKey,
    data: HashMap<KeyId, XChaCha20Poly1305>,
}

/// A record, opened. The plaintext is wiped when this is dropped.
pub struct Record {
    /// Record id.
    pub id: RecordId,
    /// Record kind (e.g. `patient`).
    pub kind: String,
    /// The data key it is sealed under.
    pub key_id: KeyId,
    /// The opened bytes.
    pub plaintext: Zeroizing<Vec<u8>>,
    /// Creation time, Unix milliseconds.
    pub created_at: i64,
    /// Last write time, Unix milliseconds.
    pub updated_at: i64,
}

impl std::fmt::Debug for Record {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Record")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("key_id", &self.key_id)
            .field("len", &self.plaintext.len())
            .finish_non_exhaustive()
    }
}

/// A record's plaintext columns (no decryption needed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordMeta {
    /// Record id.
    pub id: RecordId,
    /// Kind.
    pub kind: String,
    /// Data key.
    pub key_id: KeyId,
    /// Creation time, Unix milliseconds.
    pub created_at: i64,
    /// Last write time, Unix milliseconds.
    pub updated_at: i64,
}

/// One record to write.
#[derive(Debug, Clone, Copy)]
pub struct NewRecord<'a> {
    /// Its id (an existing id is overwritten).
    pub id: &'a RecordId,
    /// Its kind.
    pub kind: &'a str,
    /// The data key to seal it under (from [`Vault::create_key`]).
    pub key: &'a KeyId,
    /// The bytes to seal.
    pub plaintext: &'a [u8],
}

/// A raw row as stored.
struct Row {
    id: String,
    kind: String,
    key_id: String,
    format: u32,
    nonce: Vec<u8>,
    ciphertext: Vec<u8>,
    created_at: i64,
    updated_at: i64,
}

macro_rules! select_row {
    ($where:literal) => {
        concat!(
            "SELECT id, kind, key_id, format, nonce, ciphertext, created_at, updated_at FROM records ",
            $where
        )
    };
}

impl Row {
    fn from_sql(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: r.get(0)?,
            kind: r.get(1)?,
            key_id: r.get(2)?,
            format: r.get(3)?,
            nonce: r.get(4)?,
            ciphertext: r.get(5)?,
            created_at: r.get(6)?,
            updated_at: r.get(7)?,
        })
    }
}

thread_local! {
    static BACKGROUND: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Run `f` as background work (clinic sync, indexing): vault calls made by this thread inside
/// it do not count as use, so they never keep an idle vault from locking itself. The idle
/// check itself still runs: a vault idle for too long locks even mid-sync.
pub fn in_background<T>(f: impl FnOnce() -> T) -> T {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            BACKGROUND.with(|b| b.set(self.0));
        }
    }
    let _restore = Restore(BACKGROUND.with(|b| b.replace(true)));
    f()
}

/// An open vault file: locked until [`Vault::unlock`] (or just created).
pub struct Vault {
    conn: Connection,
    path: PathBuf,
    header: Header,
    opts: VaultOptions,
    unlocked: Option<Unlocked>,
    last_use: Duration,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("path", &self.path)
            .field("unlocked", &self.unlocked.is_some())
            .finish_non_exhaustive()
    }
}

impl Vault {
    /// Create a new vault at `path` (which must not exist) and return it unlocked.
    ///
    /// The file appears atomically: it is built under a temporary name and linked into place,
    /// so a crash leaves either no vault or a complete one.
    #[tracing::instrument(skip(passphrase, opts))]
    pub fn create(path: &Path, passphrase: &Passphrase, opts: VaultOptions) -> Result<Self> {
        if path.symlink_metadata().is_ok() {
            return Err(VaultError::AlreadyExists { path: path.into() });
        }
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&dir).map_err(|source| VaultError::Io {
            action: "create the folder",
            path: dir.clone(),
            source,
        })?;
        let mut tag = [0u8; 8];
        getrandom::getrandom(&mut tag)?;
        let tmp = dir.join(format!(".hearth-creating-{}", hex::encode(tag)));
        let made = Self::build_new(&tmp, passphrase, &opts);
        let linked = made.and_then(|master| {
            std::fs::hard_link(&tmp, path)
                .map_err(|source| match source.kind() {
                    std::io::ErrorKind::AlreadyExists => {
                        VaultError::AlreadyExists { path: path.into() }
                    }
                    _ => VaultError::Io {
                        action: "create",
                        path: path.into(),
                        source,
                    },
                })
                .map(|()| master)
        });
        let _ = std::fs::remove_file(&tmp);
        let master = linked?;
        if let Ok(d) = std::fs::File::open(&dir) {
            let _ = d.sync_all();
        }
        let mut vault = Self::open(path, opts)?;
        vault.unlocked = Some(Unlocked {
            master,
            data: HashMap::new(),
        });
        vault.last_use = vault.opts.clock.monotonic();
        Ok(vault)
    }

    fn build_new(tmp: &Path, passphrase: &Passphrase, opts: &VaultOptions) -> Result<SecretKey> {
        let mut conn = Connection::open(tmp).map_err(VaultError::sqlite("creating the file"))?;
        conn.pragma_update(None, "application_id", schema::APPLICATION_ID)
            .map_err(VaultError::sqlite("creating the file"))?;
        schema::migrate(&mut conn)?;
        let master = SecretKey::random()?;
        let mut vault_id = vec![0u8; 16];
        getrandom::getrandom(&mut vault_id)?;
        let mut device_id = vec![0u8; 16];
        getrandom::getrandom(&mut device_id)?;
        let (salt, nonce, sealed) = Header::seal_master(&vault_id, opts.kdf, passphrase, &master)?;
        conn.execute(
            "INSERT INTO header (id, vault_id, device_id, kdf, kdf_m_kib, kdf_t, kdf_p, salt, mk_nonce, mk_sealed, created_at)
             VALUES (1, ?1, ?2, 'argon2id-v19', ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                vault_id,
                device_id,
                opts.kdf.m_cost_kib,
                opts.kdf.t_cost,
                opts.kdf.p_cost,
                salt,
                nonce,
                sealed,
                opts.clock.unix_millis()
            ],
        )
        .map_err(VaultError::sqlite("writing the header"))?;
        conn.close()
            .map_err(|(_, e)| VaultError::sqlite("closing the new file")(e))?;
        if let Ok(f) = std::fs::File::open(tmp) {
            let _ = f.sync_all();
        }
        Ok(master)
    }

    /// Open an existing vault, locked. Refuses files that are not vaults or come from a newer
    /// Hearth without changing them.
    #[tracing::instrument(skip(opts))]
    pub fn open(path: &Path, opts: VaultOptions) -> Result<Self> {
        schema::check_file(path)?;
        let mut conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(VaultError::sqlite("opening"))?;
        schema::configure(&conn)?;
        schema::migrate(&mut conn)?;
        let header = read_header(&conn)?;
        let last_use = opts.clock.monotonic();
        Ok(Self {
            conn,
            path: path.to_path_buf(),
            header,
            opts,
            unlocked: None,
            last_use,
        })
    }

    /// Unlock with the passphrase. A wrong passphrase changes nothing.
    #[tracing::instrument(skip(self, passphrase))]
    pub fn unlock(&mut self, passphrase: &Passphrase) -> Result<()> {
        // Re-read: another process may have changed the passphrase since we opened.
        self.header = read_header(&self.conn)?;
        let master = self.header.unwrap_master(passphrase)?;
        self.unlocked = Some(Unlocked {
            master,
            data: HashMap::new(),
        });
        self.last_use = self.opts.clock.monotonic();
        // A file whose writer crashed is removed, never shown as complete.
        if let Err(e) = self.sweep_incomplete_blobs(60_000) {
            tracing::warn!("could not remove half-written files: {e}");
        }
        Ok(())
    }

    /// Wipe every key from memory.
    pub fn lock(&mut self) {
        self.unlocked = None;
    }

    /// True when locked, including by the idle timer (which this checks, without counting as use).
    pub fn is_locked(&mut self) -> bool {
        self.expire_if_idle();
        self.unlocked.is_none()
    }

    fn expire_if_idle(&mut self) {
        if let Some(idle) = self.opts.idle_lock {
            if self.opts.clock.monotonic().saturating_sub(self.last_use) >= idle {
                self.lock();
            }
        }
    }

    /// Count as use: resets the idle timer if unlocked (not inside [`in_background`]).
    fn touch(&mut self) -> Result<()> {
        self.expire_if_idle();
        if self.unlocked.is_none() {
            return Err(VaultError::Locked);
        }
        if !BACKGROUND.with(std::cell::Cell::get) {
            self.last_use = self.opts.clock.monotonic();
        }
        Ok(())
    }

    /// Change the passphrase: the master key is rewrapped; records are untouched.
    #[tracing::instrument(skip(self, old, new))]
    pub fn change_passphrase(&mut self, old: &Passphrase, new: &Passphrase) -> Result<()> {
        let header = read_header(&self.conn)?;
        let master = header.unwrap_master(old)?;
        let kdf = self.opts.kdf;
        let (salt, nonce, sealed) = Header::seal_master(&header.vault_id, kdf, new, &master)?;
        self.conn
            .execute(
                "UPDATE header SET kdf_m_kib = ?1, kdf_t = ?2, kdf_p = ?3, salt = ?4, mk_nonce = ?5, mk_sealed = ?6 WHERE id = 1",
                params![kdf.m_cost_kib, kdf.t_cost, kdf.p_cost, salt, nonce, sealed],
            )
            .map_err(VaultError::sqlite("changing the passphrase"))?;
        self.header = read_header(&self.conn)?;
        Ok(())
    }

    /// The vault file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// This vault's random id (hex).
    pub fn vault_id(&self) -> String {
        hex::encode(&self.header.vault_id)
    }

    /// This device's random 128-bit id, used as its Automerge actor.
    pub fn device_id(&self) -> &[u8] {
        &self.header.device_id
    }

    /// The Argon2id parameters in the header.
    pub fn kdf_params(&self) -> KdfParams {
        self.header.kdf
    }

    /// The options in force.
    pub fn options(&self) -> &VaultOptions {
        &self.opts
    }

    /// Make a new data key (e.g. for a new patient), wrapped by the master key.
    pub fn create_key(&mut self) -> Result<KeyId> {
        self.touch()?;
        let Self {
            conn,
            header,
            unlocked,
            opts,
            ..
        } = self;
        let u = unlocked.as_mut().ok_or(VaultError::Locked)?;
        let id = KeyId::random()?;
        let key = SecretKey::random()?;
        let nonce = crypto::random_nonce()?;
        let wrapped = crypto::wrap_key(&u.master, &nonce, &header.data_key_aad(&id), &key)
            .map_err(|_| VaultError::Kdf("wrapping a data key failed".into()))?;
        conn.execute(
            "INSERT INTO data_keys (key_id, nonce, sealed, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![
                id.as_str(),
                nonce.to_vec(),
                wrapped,
                opts.clock.unix_millis()
            ],
        )
        .map_err(VaultError::sqlite("storing a data key"))?;
        u.data.insert(id.clone(), key.cipher());
        Ok(id)
    }

    /// Seal and write one record (insert, or replace an existing id).
    pub fn put(&mut self, id: &RecordId, kind: &str, key: &KeyId, plaintext: &[u8]) -> Result<()> {
        self.put_batch(&[NewRecord {
            id,
            kind,
            key,
            plaintext,
        }])
    }

    /// Seal and write several records in one transaction: all or none.
    pub fn put_batch(&mut self, records: &[NewRecord<'_>]) -> Result<()> {
        self.put_batch_logged(records, &[])
    }

    /// Seal and write records and append audit-log entries, in one transaction.
    pub fn put_batch_logged(&mut self, records: &[NewRecord<'_>], log: &[Vec<u8>]) -> Result<()> {
        for r in records {
            validate_kind(r.kind)?;
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
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(VaultError::sqlite("starting a write"))?;
        let now = opts.clock.unix_millis();
        for r in records {
            let cipher =
                data_cipher(&tx, header, u, r.key).map_err(|what| VaultError::Integrity {
                    id: r.key.to_string(),
                    what,
                })?;
            write_row(&tx, header, cipher, r, now)?;
        }
        append_log_rows(&tx, log)?;
        tx.commit()
            .map_err(VaultError::sqlite("committing a write"))
    }

    /// Open one record.
    pub fn get(&mut self, id: &RecordId) -> Result<Record> {
        self.touch()?;
        let Self {
            conn,
            header,
            unlocked,
            ..
        } = self;
        let u = unlocked.as_mut().ok_or(VaultError::Locked)?;
        let row = read_row(conn, id)?;
        open_row(conn, header, u, row)
    }

    /// Read-modify-write one record atomically with respect to other processes: `f` sees the
    /// current record and returns the new plaintext (`None`: leave it as it is) and a value to
    /// pass back.
    pub fn update<T, E: From<VaultError>>(
        &mut self,
        id: &RecordId,
        f: impl FnOnce(&Record) -> std::result::Result<(Option<Vec<u8>>, T), E>,
    ) -> std::result::Result<T, E> {
        self.update_logged(id, |r| f(r).map(|(bytes, out)| (bytes, Vec::new(), out)))
    }

    /// [`Vault::update`] that also appends audit-log entries in the same transaction (only
    /// when the record is written).
    #[allow(clippy::type_complexity)]
    pub fn update_logged<T, E: From<VaultError>>(
        &mut self,
        id: &RecordId,
        f: impl FnOnce(&Record) -> std::result::Result<(Option<Vec<u8>>, Vec<Vec<u8>>, T), E>,
    ) -> std::result::Result<T, E> {
        self.touch()?;
        let Self {
            conn,
            header,
            unlocked,
            opts,
            ..
        } = self;
        let u = unlocked.as_mut().ok_or(VaultError::Locked)?;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(VaultError::sqlite("starting a write"))?;
        let row = read_row(&tx, id)?;
        let record = open_row(&tx, header, u, row)?;
        let (new, log, out) = f(&record)?;
        let Some(new) = new else {
            return Ok(out);
        };
        let cipher =
            data_cipher(&tx, header, u, &record.key_id).map_err(|what| VaultError::Integrity {
                id: id.to_string(),
                what,
            })?;
        write_row(
            &tx,
            header,
            cipher,
            &NewRecord {
                id,
                kind: &record.kind,
                key: &record.key_id,
                plaintext: &new,
            },
            opts.clock.unix_millis(),
        )?;
        append_log_rows(&tx, &log)?;
        tx.commit()
            .map_err(VaultError::sqlite("committing a write"))?;
        Ok(out)
    }

    /// The plaintext columns of every record of `kind`, oldest first.
    pub fn list(&mut self, kind: &str) -> Result<Vec<RecordMeta>> {
        validate_kind(kind)?;
        self.touch()?;
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, kind, key_id, created_at, updated_at FROM records WHERE kind = ?1 ORDER BY created_at, id",
            )
            .map_err(VaultError::sqlite("listing records"))?;
        let rows = stmt
            .query_map([kind], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get(3)?,
                    r.get(4)?,
                ))
            })
            .map_err(VaultError::sqlite("listing records"))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, kind, key_id, created_at, updated_at) =
                row.map_err(VaultError::sqlite("listing records"))?;
            // A damaged id column is reported, not hidden; keep the raw text.
            out.push(RecordMeta {
                id: RecordId(id),
                kind,
                key_id: KeyId(key_id),
                created_at,
                updated_at,
            });
        }
        Ok(out)
    }

    /// Open every record of `kind`: one result per record, so one damaged record does not
    /// hide the others.
    pub fn open_all(&mut self, kind: &str) -> Result<Vec<(RecordId, Result<Record>)>> {
        self.open_where(kind, None)
    }

    /// Open every record of `kind` sealed under data key `key` (e.g. one patient's records).
    pub fn open_under_key(
        &mut self,
        kind: &str,
        key: &KeyId,
    ) -> Result<Vec<(RecordId, Result<Record>)>> {
        self.open_where(kind, Some(key))
    }

    fn open_where(
        &mut self,
        kind: &str,
        key: Option<&KeyId>,
    ) -> Result<Vec<(RecordId, Result<Record>)>> {
        validate_kind(kind)?;
        self.touch()?;
        let Self {
            conn,
            header,
            unlocked,
            ..
        } = self;
        let u = unlocked.as_mut().ok_or(VaultError::Locked)?;
        let rows = match key {
            None => conn
                .prepare_cached(select_row!("WHERE kind = ?1 ORDER BY created_at, id"))
                .and_then(|mut s| {
                    s.query_map([kind], Row::from_sql)?
                        .collect::<rusqlite::Result<Vec<Row>>>()
                }),
            Some(k) => conn
                .prepare_cached(select_row!(
                    "WHERE key_id = ?1 AND kind = ?2 ORDER BY created_at, id"
                ))
                .and_then(|mut s| {
                    s.query_map([k.as_str(), kind], Row::from_sql)?
                        .collect::<rusqlite::Result<Vec<Row>>>()
                }),
        }
        .map_err(VaultError::sqlite("reading records"))?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let id = RecordId(row.id.clone());
                (id, open_row(conn, header, u, row))
            })
            .collect())
    }

    /// The data key a record is sealed under.
    pub fn key_of(&mut self, id: &RecordId) -> Result<KeyId> {
        Ok(self.meta(id)?.key_id)
    }

    /// A record's plaintext columns (kind, data key, times), without decrypting it.
    pub fn meta(&mut self, id: &RecordId) -> Result<RecordMeta> {
        self.touch()?;
        self.conn
            .prepare_cached(
                "SELECT kind, key_id, created_at, updated_at FROM records WHERE id = ?1",
            )
            .and_then(|mut s| {
                s.query_row([id.as_str()], |r| {
                    Ok(RecordMeta {
                        id: id.clone(),
                        kind: r.get(0)?,
                        key_id: KeyId(r.get(1)?),
                        created_at: r.get(2)?,
                        updated_at: r.get(3)?,
                    })
                })
                .optional()
            })
            .map_err(VaultError::sqlite("reading a record"))?
            .ok_or_else(|| VaultError::NotFound { id: id.to_string() })
    }

    /// Close the file, reporting any error (dropping the vault closes it too).
    pub fn close(self) -> Result<()> {
        self.conn
            .close()
            .map_err(|(_, e)| VaultError::sqlite("closing")(e))
    }
}

/// Append entries to the audit log at the next indexes, inside the caller's transaction (so
/// several processes sharing the vault never collide). Returns the first index used.
fn append_log_rows(conn: &Connection, entries: &[Vec<u8>]) -> Result<u64> {
    let next: i64 = conn
        .query_row(
            "SELECT COALESCE(MAX(idx) + 1, 0) FROM log_entries",
            [],
            |r| r.get(0),
        )
        .map_err(VaultError::sqlite("appending to the audit log"))?;
    let mut stmt = conn
        .prepare_cached("INSERT INTO log_entries (idx, entry) VALUES (?1, ?2)")
        .map_err(VaultError::sqlite("appending to the audit log"))?;
    for (k, e) in entries.iter().enumerate() {
        stmt.execute(params![next + k as i64, e])
            .map_err(VaultError::sqlite("appending to the audit log"))?;
    }
    u64::try_from(next).map_err(|_| VaultError::DamagedHeader("negative log index"))
}

fn read_header(conn: &Connection) -> Result<Header> {
    let h = conn
        .query_row(
            "SELECT vault_id, device_id, kdf, kdf_m_kib, kdf_t, kdf_p, salt, mk_nonce, mk_sealed FROM header WHERE id = 1",
            [],
            |r| {
                Ok((
                    Header {
                        vault_id: r.get(0)?,
                        device_id: r.get(1)?,
                        kdf: KdfParams {
                            m_cost_kib: r.get(3)?,
                            t_cost: r.get(4)?,
                            p_cost: r.get(5)?,
                        },
                        salt: r.get(6)?,
                        mk_nonce: r.get(7)?,
                        mk_sealed: r.get(8)?,
                    },
                    r.get::<_, String>(2)?,
                ))
            },
        )
        .optional()
        .map_err(VaultError::sqlite("reading the header"))?;
    match h {
        None => Err(VaultError::DamagedHeader("it is missing")),
        Some((_, kdf)) if kdf != "argon2id-v19" => {
            Err(VaultError::DamagedHeader("unknown key derivation"))
        }
        Some((h, _)) if h.device_id.len() != 16 || h.vault_id.len() != 16 => {
            Err(VaultError::DamagedHeader("bad ids"))
        }
        Some((h, _)) => Ok(h),
    }
}

fn read_row(conn: &Connection, id: &RecordId) -> Result<Row> {
    conn.prepare_cached(select_row!("WHERE id = ?1"))
        .and_then(|mut s| s.query_row([id.as_str()], Row::from_sql).optional())
        .map_err(VaultError::sqlite("reading a record"))?
        .ok_or_else(|| VaultError::NotFound { id: id.to_string() })
}

/// The cipher for a data key, unwrapping and caching it on first use.
pub(crate) fn data_cipher<'u>(
    conn: &Connection,
    header: &Header,
    u: &'u mut Unlocked,
    key_id: &KeyId,
) -> std::result::Result<&'u XChaCha20Poly1305, &'static str> {
    if !u.data.contains_key(key_id) {
        let row: Option<(Vec<u8>, Vec<u8>)> = conn
            .prepare_cached("SELECT nonce, sealed FROM data_keys WHERE key_id = ?1")
            .and_then(|mut s| {
                s.query_row([key_id.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()
            })
            .map_err(|_| "its data key could not be read")?;
        let (nonce, sealed) = row.ok_or("its data key is missing")?;
        let key = crypto::unwrap_key(&u.master, &nonce, &header.data_key_aad(key_id), &sealed)
            .map_err(|_| "its data key failed to open")?;
        u.data.insert(key_id.clone(), key.cipher());
    }
    u.data.get(key_id).ok_or("its data key is missing")
}

fn open_row(conn: &Connection, header: &Header, u: &mut Unlocked, row: Row) -> Result<Record> {
    let Row {
        id,
        kind,
        key_id,
        format,
        nonce,
        ciphertext,
        created_at,
        updated_at,
    } = row;
    let integrity = |what| VaultError::Integrity {
        id: id.clone(),
        what,
    };
    if format != RECORD_FORMAT {
        return Err(integrity("unknown record format"));
    }
    let aad = header.record_aad(format, &id, &kind, &key_id);
    let key_id = KeyId::new(key_id).map_err(|_| integrity("its key id is malformed"))?;
    let cipher = data_cipher(conn, header, u, &key_id).map_err(integrity)?;
    let plaintext = crypto::open(cipher, &nonce, &aad, &ciphertext)
        .map_err(|_| integrity("its ciphertext, nonce or place does not authenticate"))?;
    Ok(Record {
        id: RecordId::new(id.clone()).map_err(|_| integrity("its id is malformed"))?,
        kind,
        key_id,
        plaintext,
        created_at,
        updated_at,
    })
}

fn write_row(
    conn: &Connection,
    header: &Header,
    cipher: &XChaCha20Poly1305,
    r: &NewRecord<'_>,
    now: i64,
) -> Result<()> {
    let nonce = crypto::random_nonce()?;
    let aad = header.record_aad(RECORD_FORMAT, r.id.as_str(), r.kind, r.key.as_str());
    let ct = crypto::seal(cipher, &nonce, &aad, r.plaintext).map_err(|_| VaultError::Invalid {
        what: "record",
        value: r.id.to_string(),
        why: "it is too large to seal",
    })?;
    conn.prepare_cached(
        "INSERT INTO records (id, kind, key_id, format, nonce, ciphertext, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)
         ON CONFLICT(id) DO UPDATE SET kind = excluded.kind, key_id = excluded.key_id,
           format = excluded.format, nonce = excluded.nonce, ciphertext = excluded.ciphertext,
           updated_at = excluded.updated_at",
    )
    .and_then(|mut s| {
        s.execute(params![
            r.id.as_str(),
            r.kind,
            r.key.as_str(),
            RECORD_FORMAT,
            &nonce[..],
            ct,
            now
        ])
    })
    .map_err(VaultError::sqlite("writing a record"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn opts() -> VaultOptions {
        VaultOptions::default().with_kdf(KdfParams::INSECURE_FOR_TESTS)
    }

    fn pass() -> Passphrase {
        Passphrase::new("correct horse battery staple")
    }

    #[test]
    fn ids_are_checked() {
        assert!(RecordId::new("").is_err());
        assert!(RecordId::new("a b").is_err());
        assert!(RecordId::new("x".repeat(65)).is_err());
        assert!(RecordId::new("ab-CD_09").is_ok());
        assert_eq!(RecordId::random().unwrap().as_str().len(), 32);
        assert!(validate_kind("Patient").is_err());
        assert!(validate_kind("session-note").is_ok());
    }

    #[test]
    fn idle_lock_wipes_keys_after_the_period_and_use_resets_it() {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::starting_at(1_700_000_000_000);
        let o = opts()
            .with_clock(clock.clone())
            .with_idle_lock(Some(Duration::from_secs(60)));
        let mut v = Vault::create(&dir.path().join("v"), &pass(), o).unwrap();
        let k = v.create_key().unwrap();
        let id = RecordId::random().unwrap();
        v.put(&id, "patient", &k, b"x").unwrap();
        clock.advance(Duration::from_secs(59));
        assert!(!v.is_locked());
        v.get(&id).unwrap(); // use resets the timer
        clock.advance(Duration::from_secs(59));
        assert!(!v.is_locked());
        clock.advance(Duration::from_secs(1));
        assert!(v.is_locked());
        assert!(matches!(v.get(&id), Err(VaultError::Locked)));
        v.unlock(&pass()).unwrap();
        assert_eq!(&v.get(&id).unwrap().plaintext[..], b"x");
    }

    #[test]
    fn background_work_does_not_keep_an_idle_vault_open() {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::starting_at(1_700_000_000_000);
        let o = opts()
            .with_clock(clock.clone())
            .with_idle_lock(Some(Duration::from_secs(60)));
        let mut v = Vault::create(&dir.path().join("v"), &pass(), o).unwrap();
        let k = v.create_key().unwrap();
        let id = RecordId::random().unwrap();
        v.put(&id, "patient", &k, b"x").unwrap();
        clock.advance(Duration::from_secs(59));
        // A sync reads the record in the background: it works, but is not use.
        assert_eq!(&in_background(|| v.get(&id)).unwrap().plaintext[..], b"x");
        clock.advance(Duration::from_secs(1));
        assert!(v.is_locked(), "background work kept the vault open");
        assert!(matches!(
            in_background(|| v.get(&id)),
            Err(VaultError::Locked)
        ));
        // Outside it, use counts again.
        v.unlock(&pass()).unwrap();
        clock.advance(Duration::from_secs(59));
        v.get(&id).unwrap();
        clock.advance(Duration::from_secs(59));
        assert!(!v.is_locked());
    }

    #[test]
    fn timestamps_come_from_the_clock() {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::starting_at(1_000);
        let mut v = Vault::create(
            &dir.path().join("v"),
            &pass(),
            opts().with_clock(clock.clone()),
        )
        .unwrap();
        let k = v.create_key().unwrap();
        let id = RecordId::random().unwrap();
        v.put(&id, "patient", &k, b"1").unwrap();
        clock.advance(Duration::from_secs(5));
        v.put(&id, "patient", &k, b"2").unwrap();
        let r = v.get(&id).unwrap();
        assert_eq!((r.created_at, r.updated_at), (1_000, 6_000));
    }

    #[test]
    fn update_sees_current_value_and_writes_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let mut v = Vault::create(&dir.path().join("v"), &pass(), opts()).unwrap();
        let k = v.create_key().unwrap();
        let id = RecordId::random().unwrap();
        v.put(&id, "patient", &k, b"1").unwrap();
        let seen: Vec<u8> = v
            .update(&id, |r| {
                Ok::<_, VaultError>((Some(b"2".to_vec()), r.plaintext.to_vec()))
            })
            .unwrap();
        assert_eq!(seen, b"1");
        assert_eq!(&v.get(&id).unwrap().plaintext[..], b"2");
        // A failing closure writes nothing.
        let r: Result<()> = v.update(&id, |_| Err(VaultError::Locked));
        assert!(r.is_err());
        assert_eq!(&v.get(&id).unwrap().plaintext[..], b"2");
    }

    #[test]
    fn changing_the_passphrase_keeps_records() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v");
        let mut v = Vault::create(&path, &pass(), opts()).unwrap();
        let k = v.create_key().unwrap();
        let id = RecordId::random().unwrap();
        v.put(&id, "patient", &k, b"kept").unwrap();
        assert!(matches!(
            v.change_passphrase(&Passphrase::new("nope"), &Passphrase::new("new one here")),
            Err(VaultError::WrongPassphrase)
        ));
        v.change_passphrase(&pass(), &Passphrase::new("new one here"))
            .unwrap();
        drop(v);
        let mut v = Vault::open(&path, opts()).unwrap();
        assert!(matches!(
            v.unlock(&pass()),
            Err(VaultError::WrongPassphrase)
        ));
        v.unlock(&Passphrase::new("new one here")).unwrap();
        assert_eq!(&v.get(&id).unwrap().plaintext[..], b"kept");
    }

    #[test]
    fn create_refuses_an_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v");
        std::fs::write(&path, b"mine").unwrap();
        assert!(matches!(
            Vault::create(&path, &pass(), opts()),
            Err(VaultError::AlreadyExists { .. })
        ));
        assert_eq!(std::fs::read(&path).unwrap(), b"mine");
        // No temporary file is left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
