//! Errors of the use cases, and their mapping to what the UI receives.

use hearth_api::{ApiError, ErrorKind};
use hearth_records::RecordError;
use hearth_vault::VaultError;

/// Everything a use case can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CoreError {
    /// From the vault.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// A record's content was refused or could not be read.
    #[error("{source}")]
    Record {
        /// The record, when known.
        id: Option<String>,
        /// The cause.
        source: RecordError,
    },
    /// A record of another kind was asked for.
    #[error("record {id} is not a {expected} record")]
    WrongKind {
        /// The record.
        id: String,
        /// The kind asked for.
        expected: &'static str,
    },
    /// Input refused by a use case (the message names the field).
    #[error("{0}")]
    Invalid(String),
    /// A bug or unexpected state.
    #[error("internal error: {0}")]
    Internal(String),
    /// The patient's consent (or the default rules) refuse this.
    #[error("not allowed: {0}")]
    Denied(String),
    /// Too short a passphrase for a new vault.
    #[error(
        "the passphrase is too short: use at least {} characters (a few unrelated words work well)",
        crate::MIN_PASSPHRASE_CHARS
    )]
    WeakPassphrase,
    /// The platform has no home folder to keep a vault in.
    #[error("no home folder was found for the default vault; give a path with --vault")]
    NoHome,
    /// The network: a peer could not be reached, or the endpoint could not start.
    #[error("{0}")]
    Network(String),
    /// No vault is open in this session.
    #[error("no vault is open: create one or unlock it first")]
    NotOpen,
}

impl CoreError {
    pub(crate) fn record(id: &str) -> impl FnOnce(RecordError) -> Self + '_ {
        move |source| Self::Record {
            id: Some(id.to_string()),
            source,
        }
    }
}

impl CoreError {
    /// Attach a record id to a record error that lacks one.
    pub(crate) fn for_record(self, id: &str) -> Self {
        match self {
            Self::Record { id: None, source } => Self::Record {
                id: Some(id.to_string()),
                source,
            },
            other => other,
        }
    }
}

impl From<RecordError> for CoreError {
    fn from(source: RecordError) -> Self {
        Self::Record { id: None, source }
    }
}

impl CoreError {
    /// The category the UI reacts to.
    pub fn kind(&self) -> ErrorKind {
        match self {
            CoreError::Vault(v) => match v {
                VaultError::NoVault { .. } => ErrorKind::NoVault,
                VaultError::AlreadyExists { .. } => ErrorKind::AlreadyExists,
                VaultError::NotAVault { .. } => ErrorKind::NotAVault,
                VaultError::NewerSchema { .. } => ErrorKind::NewerSchema,
                VaultError::WrongPassphrase => ErrorKind::WrongPassphrase,
                VaultError::Locked => ErrorKind::Locked,
                VaultError::NotFound { .. } => ErrorKind::NotFound,
                VaultError::Integrity { .. } | VaultError::DamagedHeader(_) => ErrorKind::Integrity,
                VaultError::Invalid { .. } | VaultError::TooLarge { .. } => ErrorKind::InvalidInput,
                VaultError::Busy | VaultError::Io { .. } | VaultError::Sqlite { .. } => {
                    ErrorKind::Io
                }
                _ => ErrorKind::Internal,
            },
            CoreError::Record { source, .. } => match source {
                RecordError::Invalid { .. } | RecordError::Refused(_) => ErrorKind::InvalidInput,
                RecordError::Malformed(_) => ErrorKind::Integrity,
                RecordError::NoSuchVersion(_) => ErrorKind::NotFound,
                _ => ErrorKind::Internal,
            },
            CoreError::WrongKind { .. } => ErrorKind::NotFound,
            CoreError::Invalid(_) => ErrorKind::InvalidInput,
            CoreError::Internal(_) => ErrorKind::Internal,
            CoreError::Denied(_) => ErrorKind::Denied,
            CoreError::WeakPassphrase => ErrorKind::InvalidInput,
            CoreError::NoHome => ErrorKind::Io,
            CoreError::NotOpen => ErrorKind::Locked,
            CoreError::Network(_) => ErrorKind::Io,
        }
    }

    /// The message for people, naming the record when one is involved.
    pub fn message(&self) -> String {
        match self {
            CoreError::Record {
                id: Some(id),
                source: RecordError::Malformed(why),
            } => format!(
                "record {id} could not be read ({why}); other records are unaffected. Restore it from a backup or another device"
            ),
            other => other.to_string(),
        }
    }
}

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> Self {
        ApiError::new(e.kind(), e.message())
    }
}
