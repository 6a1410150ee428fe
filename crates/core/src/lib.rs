//! The composition root: a [`Hearth`] handle opens a vault and serves every use case; the CLI
//! and the desktop shell are thin layers over it.
//!
//! [`Session`] is what a long-running front end holds: the vault path and, once created or
//! unlocked, the [`Hearth`] handle; it reports status and hands out the handle or a clear
//! "locked" error.
//!
//! ```
//! use hearth_api::NewPatient;
//! use hearth_core::{Hearth, HearthOptions};
//! # fn main() -> Result<(), hearth_core::CoreError> {
//! # let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("clinic.hearth");
//! let opts = HearthOptions::default().insecure_fast_kdf_for_tests();
//! let hearth = Hearth::create(&path, "correct horse battery", opts)?;
//! let ada = hearth.add_patient(NewPatient { name: "Ada Lovelace".into(), ..Default::default() })?;
//! assert_eq!(hearth.patient(&ada.id)?.fields.name, "Ada Lovelace");
//! # Ok(()) }
//! ```

mod attachments;
mod audit;
mod breakglass;
mod clinical;
mod consent;
mod error;
mod export;
#[cfg(feature = "semantic")]
mod insight;
#[cfg(feature = "net")]
mod node;
mod patients;
mod records;
mod replica;
mod research;
#[cfg(feature = "semantic")]
mod risk;
mod search;
#[cfg(feature = "semantic")]
mod semantic;
mod session;
mod sync;
mod witness;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use hearth_vault::{Clock, KdfParams, Passphrase, Vault, VaultOptions};

pub use audit::{AuditReport, CheckpointInfo};
pub use breakglass::MAX_BREAK_GLASS_MINUTES;
pub use clinical::instrument_form;
pub use clinical::RESTRICTED;
pub use consent::fingerprint;
pub use error::CoreError;
pub use export::{ExportProgress, PatientArchive};
pub use hearth_vault::{in_background, VaultError};
#[cfg(feature = "semantic")]
pub use insight::{Insight, InsightBuilder, ModelUnavailable, MAX_SEARCH_RESULTS, RISK_NOTICE};
#[cfg(feature = "net")]
pub use node::{join_clinic, ClinicNode, NodeOptions};
pub use research::ResearchExport;
#[cfg(feature = "semantic")]
pub use risk::{
    Band, Basis, DecisionAid, Evidence, Item9Link, NoteRisk, Phrase, RiskError, RiskFlag,
    RiskLabel, RiskModel, RiskReport, Suppressed, DECISION_AID,
};
#[cfg(feature = "semantic")]
pub use semantic::{
    default_models_dir, Embedder, EmbedderOptions, IndexReport, InsightError, SemanticHit,
    SemanticResults, MIN_SIMILARITY, MODELS_DIR_ENV,
};
pub use session::Session;
pub use sync::{ClinicInfo, MemberInfo, DEFAULT_SYNC_PORT};
pub use witness::EvidenceItem;

/// Shorthand.
pub type Result<T, E = CoreError> = std::result::Result<T, E>;

/// The shortest passphrase accepted for a new vault or a passphrase change.
pub const MIN_PASSPHRASE_CHARS: usize = 8;

/// Default largest attachment: 2 GiB.
pub const DEFAULT_ATTACHMENT_LIMIT: u64 = 2 << 30;

/// How Hearth opens its vault.
#[derive(Debug, Clone)]
pub struct HearthOptions {
    vault: VaultOptions,
    attachment_limit: u64,
}

impl Default for HearthOptions {
    fn default() -> Self {
        Self {
            vault: VaultOptions::default(),
            attachment_limit: DEFAULT_ATTACHMENT_LIMIT,
        }
    }
}

impl HearthOptions {
    /// Largest attachment accepted, in bytes.
    pub fn attachment_limit(mut self, bytes: u64) -> Self {
        self.attachment_limit = bytes;
        self
    }

    /// Lock after this long without use (`None`: only when asked).
    pub fn idle_lock(mut self, idle: Option<Duration>) -> Self {
        self.vault = self.vault.with_idle_lock(idle);
        self
    }

    /// Use this clock (tests use a manual one).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.vault = self.vault.with_clock(clock);
        self
    }

    /// Cheap key derivation: for tests only, a vault made so falls to guessing.
    pub fn insecure_fast_kdf_for_tests(mut self) -> Self {
        self.vault = self.vault.with_kdf(KdfParams::INSECURE_FOR_TESTS);
        self
    }

    /// The idle period in force.
    pub fn idle_lock_period(&self) -> Option<Duration> {
        self.vault.idle_lock()
    }
}

/// Where a vault lives by default: the platform's data folder (e.g.
/// `~/.local/share/hearth/vault.hearth` on Linux).
pub fn default_vault_path() -> Result<PathBuf> {
    directories::ProjectDirs::from("app", "hearth", "hearth")
        .map(|d| d.data_dir().join("vault.hearth"))
        .ok_or(CoreError::NoHome)
}

fn check_new_passphrase(p: &str) -> Result<()> {
    if p.chars().count() < MIN_PASSPHRASE_CHARS {
        return Err(CoreError::WeakPassphrase);
    }
    Ok(())
}

/// An open vault and the use cases over it. Cheap to clone; safe to share between threads.
#[derive(Clone, Debug)]
pub struct Hearth {
    inner: Arc<Mutex<Vault>>,
    /// The search index: plaintext in memory while unlocked, dropped on lock.
    index: Arc<Mutex<Option<search::SearchIndex>>>,
    /// This device's audit-log signing key while unlocked (wiped on drop).
    log_key: Arc<Mutex<Option<ed25519_dalek::SigningKey>>>,
    /// Whose own device this is (`Some(None)`: a clinic device; `None`: not looked up yet).
    own_patient: Arc<Mutex<Option<Option<String>>>>,
    attachment_limit: u64,
}

impl Hearth {
    /// Create a new vault at `path` and return it unlocked.
    pub fn create(path: &Path, passphrase: &str, opts: HearthOptions) -> Result<Self> {
        check_new_passphrase(passphrase)?;
        let limit = opts.attachment_limit;
        let vault = Vault::create(path, &Passphrase::new(passphrase), opts.vault)?;
        Ok(Self::wrap(vault, limit))
    }

    /// Open an existing vault, locked.
    pub fn open(path: &Path, opts: HearthOptions) -> Result<Self> {
        let limit = opts.attachment_limit;
        Ok(Self::wrap(Vault::open(path, opts.vault)?, limit))
    }

    /// Open and unlock in one step (the CLI's way).
    pub fn open_unlocked(path: &Path, passphrase: &str, opts: HearthOptions) -> Result<Self> {
        let h = Self::open(path, opts)?;
        h.unlock(passphrase)?;
        Ok(h)
    }

    fn wrap(vault: Vault, attachment_limit: u64) -> Self {
        Self {
            inner: Arc::new(Mutex::new(vault)),
            index: Arc::new(Mutex::new(None)),
            log_key: Arc::new(Mutex::new(None)),
            own_patient: Arc::new(Mutex::new(None)),
            attachment_limit,
        }
    }

    fn own_patient_slot(&self) -> MutexGuard<'_, Option<Option<String>>> {
        self.own_patient.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn index_slot(&self) -> MutexGuard<'_, Option<search::SearchIndex>> {
        self.index.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The vault, even if a thread panicked while holding it (the vault's state stays
    /// consistent: every write is one SQLite transaction).
    fn vault(&self) -> MutexGuard<'_, Vault> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Unlock with the passphrase; a wrong one changes nothing.
    pub fn unlock(&self, passphrase: &str) -> Result<()> {
        Ok(self.vault().unlock(&Passphrase::new(passphrase))?)
    }

    /// Wipe the keys and the search index from memory.
    pub fn lock(&self) {
        self.vault().lock();
        self.forget_secrets();
    }

    /// Drop what is plaintext or secret outside the vault: the search index, the log key.
    fn forget_secrets(&self) {
        *self.index_slot() = None;
        *self.log_key.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// Locked, by request or by the idle timer. Checking does not count as use; a vault found
    /// locked also loses its search index.
    pub fn is_locked(&self) -> bool {
        let locked = self.vault().is_locked();
        if locked {
            self.forget_secrets();
        }
        locked
    }

    /// The vault file.
    pub fn path(&self) -> PathBuf {
        self.vault().path().to_path_buf()
    }

    /// Change the passphrase (the records are not rewritten).
    pub fn change_passphrase(&self, old: &str, new: &str) -> Result<()> {
        check_new_passphrase(new)?;
        Ok(self
            .vault()
            .change_passphrase(&Passphrase::new(old), &Passphrase::new(new))?)
    }

    /// Close the vault file, reporting errors. Fails if other clones of this handle are alive.
    pub fn close(self) -> Result<()> {
        match Arc::try_unwrap(self.inner) {
            Ok(m) => Ok(m.into_inner().unwrap_or_else(|p| p.into_inner()).close()?),
            Err(_) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_passphrases_are_refused_before_touching_disk() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v");
        let e = Hearth::create(&path, "short", HearthOptions::default()).unwrap_err();
        assert!(matches!(e, CoreError::WeakPassphrase));
        assert!(!path.exists());
    }

    #[test]
    fn default_path_is_in_a_data_folder() {
        let p = default_vault_path().unwrap();
        assert!(p.ends_with("vault.hearth"));
    }
}
