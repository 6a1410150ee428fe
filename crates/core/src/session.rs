//! What a long-running front end holds: a vault path and, once unlocked, the handle.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use hearth_api::VaultStatus;

use crate::{CoreError, Hearth, HearthOptions, Result};

/// A front end's session with one vault file.
#[derive(Debug)]
pub struct Session {
    path: PathBuf,
    opts: HearthOptions,
    hearth: Mutex<Option<Hearth>>,
}

impl Session {
    /// A session for the vault at `path` (which may not exist yet).
    pub fn new(path: impl Into<PathBuf>, opts: HearthOptions) -> Self {
        Self {
            path: path.into(),
            opts,
            hearth: Mutex::new(None),
        }
    }

    fn slot(&self) -> std::sync::MutexGuard<'_, Option<Hearth>> {
        self.hearth.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The vault path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the vault exists and is unlocked. Does not count as use.
    pub fn status(&self) -> VaultStatus {
        let locked = self.slot().as_ref().is_none_or(Hearth::is_locked);
        VaultStatus {
            path: self.path.display().to_string(),
            exists: self.path.exists(),
            locked,
            idle_lock_secs: self.opts.idle_lock_period().map_or(0, |d| d.as_secs()),
            synced_in: 0,
        }
    }

    /// Create the vault and keep it unlocked.
    pub fn create(&self, passphrase: &str) -> Result<VaultStatus> {
        let h = Hearth::create(&self.path, passphrase, self.opts.clone())?;
        *self.slot() = Some(h);
        Ok(self.status())
    }

    /// Unlock the vault (opening the file first if needed).
    pub fn unlock(&self, passphrase: &str) -> Result<VaultStatus> {
        let existing = self.slot().clone();
        let h = match existing {
            Some(h) => h,
            None => Hearth::open(&self.path, self.opts.clone())?,
        };
        h.unlock(passphrase)?;
        *self.slot() = Some(h);
        Ok(self.status())
    }

    /// Lock: keys wiped, the file stays open.
    pub fn lock(&self) -> VaultStatus {
        if let Some(h) = self.slot().as_ref() {
            h.lock();
        }
        self.status()
    }

    /// The handle for use cases; its calls fail with "locked" while the vault is locked.
    pub fn hearth(&self) -> Result<Hearth> {
        self.slot().clone().ok_or(CoreError::NotOpen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hearth_api::{ErrorKind, NewPatient};

    #[test]
    fn create_lock_unlock_cycle() {
        let dir = tempfile::tempdir().unwrap();
        let s = Session::new(
            dir.path().join("v"),
            HearthOptions::default().insecure_fast_kdf_for_tests(),
        );
        let st = s.status();
        assert!(!st.exists && st.locked);
        assert_eq!(st.idle_lock_secs, 15 * 60);
        assert_eq!(s.hearth().unwrap_err().kind(), ErrorKind::Locked);
        assert!(!s.create("long enough pass").unwrap().locked);
        s.hearth()
            .unwrap()
            .add_patient(NewPatient {
                name: "A".into(),
                ..Default::default()
            })
            .unwrap();
        assert!(s.lock().locked);
        let e = s.hearth().unwrap().patients().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Locked);
        assert_eq!(
            s.unlock("wrong passphrase").unwrap_err().kind(),
            ErrorKind::WrongPassphrase
        );
        assert!(!s.unlock("long enough pass").unwrap().locked);
        assert_eq!(s.hearth().unwrap().patients().unwrap().len(), 1);
    }
}
