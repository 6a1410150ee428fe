//! A device's (or the registrar's) append-only log: entries into a Merkle tree, and signed
//! checkpoints whose root covers the previous checkpoint and the stake table in force.
//!
//! The log keeps leaf hashes in memory, not entries: [`Log::append`] returns the encoded entry
//! so the caller stores it in the same transaction as the change it records.

use crate::checkpoint::{Checkpoint, CheckpointError, SignedCheckpoint};
use crate::entry::{Entry, EntryError};
use crate::merkle::{leaf_hash, Hash, ProofError, Tree};
use crate::note::NoteSigner;

/// Which kind of log this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogRole {
    /// A device's own log: record changes, accesses, consent events.
    Device,
    /// The clinic's registrar log: may also carry membership, stake and slash entries.
    Registrar,
}

/// Why the log refused an operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LogError {
    /// The entry could not be encoded or decoded.
    #[error(transparent)]
    Entry(#[from] EntryError),
    /// A membership, stake or slash entry offered to a device log.
    #[error("membership, stake and slash entries belong in the registrar log, not a device log")]
    RegistrarOnly,
    /// A chain entry offered to `append`; only `checkpoint` writes them.
    #[error(
        "previous-checkpoint and stake-table entries are written by checkpoint(), not append()"
    )]
    ChainEntry,
    /// The checkpoint could not be built.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// A proof request outside the log.
    #[error(transparent)]
    Proof(#[from] ProofError),
    /// Restoring: the stored entries do not produce the stored checkpoint.
    #[error("the stored entries do not match the last checkpoint (size {size}): the log was altered or truncated")]
    RestoreMismatch {
        /// The stored checkpoint's size.
        size: u64,
    },
}

/// An entry the log has accepted: persist `bytes` at `index`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Appended {
    /// The entry's index in the log.
    pub index: u64,
    /// Its canonical encoding.
    pub bytes: Vec<u8>,
    /// Its leaf hash.
    pub leaf: Hash,
}

/// The outcome of [`Log::checkpoint`]: the two chain entries to persist with the checkpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckpointCommit {
    /// The previous-checkpoint and stake-table entries, in log order.
    pub chain: [Appended; 2],
    /// The new checkpoint, signed by the device key.
    pub signed: SignedCheckpoint,
}

/// A log and its signing key.
#[derive(Debug)]
pub struct Log {
    origin: String,
    role: LogRole,
    signer: NoteSigner,
    tree: Tree,
    last: Option<SignedCheckpoint>,
}

impl Log {
    /// An empty log named `origin`, signing with `signer`.
    pub fn new(
        origin: impl Into<String>,
        role: LogRole,
        signer: NoteSigner,
    ) -> Result<Log, LogError> {
        let origin = origin.into();
        // Validate the origin as a checkpoint origin line.
        Checkpoint::new(origin.clone(), 0, Hash::default())?;
        Ok(Log {
            origin,
            role,
            signer,
            tree: Tree::new(),
            last: None,
        })
    }

    /// Rebuilds a log from its stored entries and last checkpoint, checking that they agree
    /// (the checkpoint's signature, and its root against the entries at its size).
    pub fn restore<'a>(
        origin: impl Into<String>,
        role: LogRole,
        signer: NoteSigner,
        entries: impl IntoIterator<Item = &'a [u8]>,
        last: Option<SignedCheckpoint>,
    ) -> Result<Log, LogError> {
        let mut log = Log::new(origin, role, signer)?;
        for e in entries {
            log.tree.append_leaf_hash(leaf_hash(e));
        }
        if let Some(cp) = &last {
            cp.verify(&log.signer.verifier())?;
            let c = cp.checkpoint();
            let ok = c.origin() == log.origin
                && log
                    .tree
                    .root_at(c.size())
                    .map(|r| r == *c.root())
                    .unwrap_or(false);
            if !ok {
                return Err(LogError::RestoreMismatch { size: c.size() });
            }
        }
        log.last = last;
        Ok(log)
    }

    /// The origin.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Device or registrar log.
    pub fn role(&self) -> LogRole {
        self.role
    }

    /// Number of entries.
    pub fn size(&self) -> u64 {
        self.tree.size()
    }

    /// The Merkle tree over the entries.
    pub fn tree(&self) -> &Tree {
        &self.tree
    }

    /// The last checkpoint this log signed, if any.
    pub fn last_checkpoint(&self) -> Option<&SignedCheckpoint> {
        self.last.as_ref()
    }

    /// The verifier witnesses need for this log.
    pub fn verifier(&self) -> crate::NoteVerifier {
        self.signer.verifier()
    }

    /// Appends an entry; returns its index and encoding for the caller to persist.
    pub fn append(&mut self, entry: &Entry) -> Result<Appended, LogError> {
        if entry.is_chain() {
            return Err(LogError::ChainEntry);
        }
        if entry.is_registrar_only() && self.role != LogRole::Registrar {
            return Err(LogError::RegistrarOnly);
        }
        self.push(entry)
    }

    fn push(&mut self, entry: &Entry) -> Result<Appended, LogError> {
        let bytes = entry.encode()?;
        let leaf = leaf_hash(&bytes);
        let index = self.tree.append_leaf_hash(leaf);
        Ok(Appended { index, bytes, leaf })
    }

    /// Appends the previous checkpoint's hash and `stake_table` (the hash of the stake table
    /// in force), then signs a checkpoint of the whole log. Persist both chain entries and
    /// the checkpoint together.
    pub fn checkpoint(&mut self, stake_table: Hash) -> Result<CheckpointCommit, LogError> {
        let prev = self
            .last
            .as_ref()
            .map_or(Hash::default(), |c| c.checkpoint().hash());
        let a = self.push(&Entry::PreviousCheckpoint(prev))?;
        let b = self.push(&Entry::StakeTableHash(stake_table))?;
        let cp = Checkpoint::new(self.origin.clone(), self.tree.size(), self.tree.root())?;
        let mut signed = SignedCheckpoint::unsigned(cp)?;
        self.signer.sign(signed.note_mut());
        self.last = Some(signed.clone());
        Ok(CheckpointCommit {
            chain: [a, b],
            signed,
        })
    }

    /// Inclusion proof for entry `index` in the tree of `size` entries.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, LogError> {
        Ok(self.tree.inclusion_proof(index, size)?)
    }

    /// Consistency proof from size `old` to size `new`.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>, LogError> {
        Ok(self.tree.consistency_proof(old, new)?)
    }
}
