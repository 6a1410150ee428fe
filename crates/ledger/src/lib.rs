//! Hearth's ledger core: per-device Merkle logs, C2SP checkpoints and cosignatures,
//! stake-weighted witnesses, finality and equivocation evidence. No IO, no clock: time is
//! passed in, and every state change the caller must persist is returned to it.
//!
//! - [`Entry`]: what a log records (record changes, accesses, consent; registrar events;
//!   chain entries), in a canonical versioned binary encoding. No PHI.
//! - [`Tree`], [`verify_inclusion`], [`verify_consistency`]: RFC 6962 / 9162 Merkle tree.
//! - [`Checkpoint`], [`SignedCheckpoint`], [`Note`]: C2SP `tlog-checkpoint` in a C2SP
//!   `signed-note`, signed by the device's Ed25519 key.
//! - [`Log`]: a device's log; each checkpoint first appends the previous checkpoint's hash and
//!   the stake table's hash, so the root covers the chain.
//! - [`Witness`]: the C2SP `tlog-witness` state machine, issuing cosignature/v1
//!   ([`Cosignature`]) only after the caller persisted its new state.
//! - [`StakeTable`], [`is_final`], [`Registry`]: stake, the 2/3 finality rule and the
//!   registrar log's replay in epochs.
//! - [`Evidence`], [`verify_evidence`]: offline-checkable proof that a witness equivocated;
//!   a `Slash` entry zeroes its stake once.
//!
//! See `DESIGN.md` in this crate for the formats and the protocol.
//!
//! ```
//! use ed25519_dalek::SigningKey;
//! use hearth_ledger::*;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // A device log, and one witness with all the stake.
//! let device = NoteSigner::new("clinic.example/device-a", SigningKey::from_bytes(&[1; 32]))?;
//! let mut log = Log::new("clinic.example/device-a", LogRole::Device, device)?;
//! let signer = WitnessSigner::new("clinic.example/witness-b", SigningKey::from_bytes(&[2; 32]))?;
//! let table = StakeTable::genesis([(signer.witness_key().clone(), 10)]);
//! let mut state = WitnessState::new();
//! state.add_log(log.origin(), log.verifier());
//! let mut witness = Witness::new(signer, state);
//!
//! // Record a view of a record, then checkpoint.
//! let view = Entry::Access(Access {
//!     record: RecordId::new("rec-7f3a")?,
//!     action: AccessAction::View,
//!     purpose: Token::new("treatment")?,
//!     actor: DeviceId([1; 32]),
//!     time: 1_767_225_600,
//! });
//! let appended = log.append(&view)?; // persist appended.bytes with the change
//! let commit = log.checkpoint(table.hash())?; // persist commit.chain and commit.signed
//!
//! // The witness checks it, the caller persists the witness state, then gets the cosignature.
//! let pending = witness.add_checkpoint(0, &[], &commit.signed.to_bytes(), 1_767_225_601)?;
//! let persisted = pending.state_to_persist().clone(); // (written to storage here)
//! let cosig = witness.release(pending, &persisted)?;
//!
//! let cp = commit.signed.checkpoint();
//! assert!(is_final(cp, &[cosig], &table));
//! let proof = log.inclusion_proof(appended.index, cp.size())?;
//! verify_inclusion(appended.index, cp.size(), &appended.leaf, &proof, cp.root())?;
//! # Ok(()) }
//! ```

pub mod checkpoint;
pub mod cosignature;
pub mod entry;
pub mod evidence;
pub mod log;
pub mod merkle;
pub mod note;
pub mod stake;
mod wire;
pub mod witness;

pub use checkpoint::{Checkpoint, CheckpointError, SignedCheckpoint};
pub use cosignature::{cosignature_message, Cosignature, WitnessKey, WitnessSigner};
pub use entry::{
    Access, AccessAction, ChangeHash, ChangeKind, Consent, ConsentAction, DeviceId, Entry,
    EntryError, Membership, MembershipChange, RecordChange, RecordId, StakeChange, Token,
};
pub use evidence::{
    verify_evidence, CosignedCheckpoint, Evidence, EvidenceError, InconsistencyProof, Offence,
};
pub use log::{Appended, CheckpointCommit, Log, LogError, LogRole};
pub use merkle::{
    empty_root, leaf_hash, node_hash, verify_consistency, verify_inclusion, Hash, ProofError, Tree,
};
pub use note::{Note, NoteError, NoteSignature, NoteSigner, NoteVerifier};
pub use stake::{is_final, tally, Applied, Finalized, Registry, StakeError, StakeTable, Tally};
pub use witness::{
    AddCheckpointRequest, PendingCosignature, TrackedLog, Witness, WitnessError, WitnessState,
};
