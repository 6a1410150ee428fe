//! The vault's errors: each says what happened and what the user can do.

use std::path::PathBuf;

/// Everything that can go wrong with a vault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VaultError {
    /// No file at the path.
    #[error("no vault at {}: create one first (`hearth init`)", path.display())]
    NoVault {
        /// Where we looked.
        path: PathBuf,
    },
    /// Refusing to overwrite.
    #[error("a file already exists at {}: choose another path or open that vault", path.display())]
    AlreadyExists {
        /// The existing file.
        path: PathBuf,
    },
    /// The file is not a Hearth vault (another SQLite file, or not SQLite at all).
    #[error("{} is not a Hearth vault; check the path (nothing was changed)", path.display())]
    NotAVault {
        /// The file.
        path: PathBuf,
    },
    /// The vault was written by a newer version of Hearth.
    #[error(
        "{} was written by a newer Hearth (vault schema {found}, this version reads up to {supported}); \
         update Hearth to open it (nothing was changed)",
        path.display()
    )]
    NewerSchema {
        /// The file.
        path: PathBuf,
        /// Its schema version.
        found: u32,
        /// The newest this build reads.
        supported: u32,
    },
    /// The passphrase did not unwrap the master key.
    #[error("wrong passphrase: the vault did not unlock (nothing was changed); try again")]
    WrongPassphrase,
    /// Keys are not in memory.
    #[error("the vault is locked: unlock it with your passphrase")]
    Locked,
    /// No record with that id.
    #[error("no record with id {id}")]
    NotFound {
        /// The id asked for.
        id: String,
    },
    /// A sealed item failed authentication.
    #[error(
        "record {id} failed its integrity check ({what}): it was altered or damaged on disk. \
         Other records are unaffected; restore this one from a backup or another device"
    )]
    Integrity {
        /// The record (or key) id.
        id: String,
        /// Which part failed.
        what: &'static str,
    },
    /// The vault header is damaged.
    #[error("the vault header is damaged ({0}); restore the vault file from a backup")]
    DamagedHeader(&'static str),
    /// An id or kind that the vault does not accept.
    #[error("invalid {what} {value:?}: {why}")]
    Invalid {
        /// "record id", "kind", "key id".
        what: &'static str,
        /// The value given.
        value: String,
        /// The rule it broke.
        why: &'static str,
    },
    /// A file over the size limit.
    #[error("the file is larger than the limit of {limit} bytes; nothing was stored")]
    TooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// Another process holds the vault.
    #[error("the vault is busy in another Hearth window or process; close it or try again")]
    Busy,
    /// The KDF refused its parameters.
    #[error("key derivation failed: {0}")]
    Kdf(String),
    /// The operating system's random generator failed.
    #[error("the system random generator failed: {0}")]
    Random(String),
    /// A filesystem error.
    #[error("could not {action} {}: {source}", path.display())]
    Io {
        /// What we were doing.
        action: &'static str,
        /// On which path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// SQLite failed.
    #[error("the vault database failed while {context}: {source}")]
    Sqlite {
        /// What we were doing.
        context: &'static str,
        /// The cause.
        source: rusqlite::Error,
    },
}

impl VaultError {
    /// A SQLite error with context, mapping "busy" and "not a database" to their own kinds.
    pub(crate) fn sqlite(context: &'static str) -> impl FnOnce(rusqlite::Error) -> Self {
        move |source| match source.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
                Self::Busy
            }
            _ => Self::Sqlite { context, source },
        }
    }
}

impl From<getrandom::Error> for VaultError {
    fn from(e: getrandom::Error) -> Self {
        Self::Random(e.to_string())
    }
}

/// Shorthand.
pub type Result<T, E = VaultError> = std::result::Result<T, E>;
