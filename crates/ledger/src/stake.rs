//! Stake, finality and the registrar log's replay.
//!
//! - A [`StakeTable`] maps witness keys to stakes (`u64`) for one epoch.
//! - A checkpoint is **final** under a table when
//!   `3 × Σ stake(distinct valid cosigners) > 2 × total stake` (in `u128`); cosignatures by
//!   unknown keys, invalid ones and repeats of a key count zero.
//! - The [`Registry`] replays the registrar log. Membership, stake and slash entries queue up
//!   and take effect together, as a new epoch, when a registrar checkpoint covering them is
//!   shown final under the table in force. Replicas replaying the same log and checkpoints
//!   reach the same tables.

use std::collections::{BTreeMap, BTreeSet};

use crate::checkpoint::{Checkpoint, CheckpointError, SignedCheckpoint};
use crate::cosignature::{Cosignature, WitnessKey};
use crate::entry::{DeviceId, Entry, MembershipChange, Token};
use crate::evidence::{verify_evidence, Evidence};
use crate::merkle::{leaf_hash, Hash, Tree};
use crate::note::NoteVerifier;
use crate::wire::Writer;

/// Why the registry refused a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StakeError {
    /// The checkpoint is for another log.
    #[error("checkpoint origin {got:?} is not the registrar log {want:?}")]
    WrongOrigin {
        /// The checkpoint's origin.
        got: String,
        /// The registrar log's origin.
        want: String,
    },
    /// The checkpoint is not validly signed by the registrar.
    #[error("the checkpoint is not validly signed by the registrar: {0}")]
    BadSignature(CheckpointError),
    /// The checkpoint covers entries this replica has not replayed yet.
    #[error("the checkpoint covers {size} entries but only {replayed} have been replayed; sync the registrar log first")]
    NotReplayed {
        /// The checkpoint size.
        size: u64,
        /// Entries replayed.
        replayed: u64,
    },
    /// The checkpoint's root does not match the replayed entries: the registrar log forked or
    /// this replica holds different entries.
    #[error("the checkpoint root for size {size} does not match the replayed registrar entries: the registrar log forked or was altered")]
    RootMismatch {
        /// The checkpoint size.
        size: u64,
    },
    /// Older than the last finalized checkpoint.
    #[error("checkpoint size {size} is older than the finalized size {finalized}")]
    Rollback {
        /// The checkpoint size.
        size: u64,
        /// The last finalized size.
        finalized: u64,
    },
    /// Not enough stake cosigned it.
    #[error(
        "not final: cosigners hold {cosigned} of {total} stake; more than two thirds is needed"
    )]
    NotFinal {
        /// Stake of distinct valid cosigners.
        cosigned: u128,
        /// Total stake in force.
        total: u128,
    },
}

/// The stake of each witness key, for one epoch.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StakeTable {
    epoch: u64,
    stakes: BTreeMap<[u8; 32], (WitnessKey, u64)>,
}

impl StakeTable {
    /// An empty table at epoch 0.
    pub fn new() -> StakeTable {
        StakeTable::default()
    }

    /// A table at epoch 0 with the given stakes (a clinic's founding configuration, or tests).
    /// A key listed twice keeps its last stake.
    pub fn genesis(stakes: impl IntoIterator<Item = (WitnessKey, u64)>) -> StakeTable {
        let mut t = StakeTable::new();
        for (k, s) in stakes {
            t.set(k, s);
        }
        t
    }

    fn set(&mut self, key: WitnessKey, stake: u64) {
        self.stakes.insert(*key.public_key(), (key, stake));
    }

    /// The epoch: how many times a finalized registrar checkpoint changed the table.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// The stake of a witness key (0 if unknown, or if known under another name).
    pub fn stake(&self, key: &WitnessKey) -> u64 {
        match self.stakes.get(key.public_key()) {
            Some((k, s)) if k == key => *s,
            _ => 0,
        }
    }

    /// The witnesses and their stakes, by public key.
    pub fn witnesses(&self) -> impl Iterator<Item = (&WitnessKey, u64)> {
        self.stakes.values().map(|(k, s)| (k, *s))
    }

    /// Total stake.
    pub fn total(&self) -> u128 {
        self.stakes.values().map(|(_, s)| u128::from(*s)).sum()
    }

    /// SHA-256 over `hearth-stake-table/v1`, the epoch and every (key, name, stake) in key
    /// order: the value logs record before each checkpoint.
    pub fn hash(&self) -> Hash {
        let mut w = Writer::new();
        w.fixed(b"hearth-stake-table/v1\n");
        w.u64(self.epoch);
        w.count(self.stakes.len());
        for (pk, (k, s)) in &self.stakes {
            w.fixed(pk);
            w.str(k.name());
            w.u64(*s);
        }
        Hash::digest(&w.finish())
    }
}

/// The count behind a finality verdict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tally {
    /// Stake of the distinct witnesses whose cosignatures verified.
    pub cosigned: u128,
    /// Total stake in the table.
    pub total: u128,
    /// The witnesses counted, once each.
    pub cosigners: Vec<WitnessKey>,
}

impl Tally {
    /// `3 × cosigned > 2 × total` (false when the table holds no stake).
    pub fn is_final(&self) -> bool {
        match (self.cosigned.checked_mul(3), self.total.checked_mul(2)) {
            (Some(c), Some(t)) => self.total > 0 && c > t,
            // Unreachable with u64 stakes and fewer than 2^62 witnesses.
            _ => false,
        }
    }
}

/// Counts the stake behind `cosignatures` of `checkpoint` under `table`.
pub fn tally(checkpoint: &Checkpoint, cosignatures: &[Cosignature], table: &StakeTable) -> Tally {
    let text = checkpoint.to_text();
    let mut seen = BTreeSet::new();
    let mut cosigned: u128 = 0;
    let mut cosigners = Vec::new();
    for c in cosignatures {
        for (key, stake) in table.witnesses() {
            if key.name() == c.name
                && key.key_id() == c.key_id
                && !seen.contains(key.public_key())
                && key.verify(&text, c)
            {
                seen.insert(*key.public_key());
                cosigned += u128::from(stake);
                cosigners.push(key.clone());
                break;
            }
        }
    }
    Tally {
        cosigned,
        total: table.total(),
        cosigners,
    }
}

/// Whether `checkpoint` is final: `3 × Σ stake(distinct valid cosigners) > 2 × total stake`.
pub fn is_final(checkpoint: &Checkpoint, cosignatures: &[Cosignature], table: &StakeTable) -> bool {
    tally(checkpoint, cosignatures, table).is_final()
}

/// What replaying one registrar entry did.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Applied {
    /// A membership, stake or slash change, queued for the next finalized checkpoint.
    Queued,
    /// An entry with no effect on stake or membership (e.g. a chain entry).
    Recorded,
    /// An entry that changes nothing, with the reason (bad evidence, a repeated slash, an
    /// undecodable entry). It still counts in the tree.
    Ignored(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Change {
    Stake(WitnessKey, u64),
    Member(DeviceId, Token, MembershipChange),
    Slash(WitnessKey),
}

/// The result of a finalized registrar checkpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finalized {
    /// The epoch now in force.
    pub epoch: u64,
    /// How many queued changes took effect.
    pub changes: usize,
}

/// A replica of the clinic's registrar state, built by replaying the registrar log.
#[derive(Clone, Debug)]
pub struct Registry {
    origin: String,
    registrar: NoteVerifier,
    tree: Tree,
    table: StakeTable,
    members: BTreeMap<DeviceId, Token>,
    slashed: BTreeSet<[u8; 32]>,
    pending: Vec<(u64, Change)>,
    finalized: u64,
    bootstrapped: bool,
}

impl Registry {
    /// A replica for the registrar log `origin` signed by `registrar`, starting from `genesis`.
    /// With an empty genesis table the first registrar-signed checkpoint is final (trust on
    /// first use); every later one needs the stake quorum. If the stake in force ever drops
    /// to zero nothing is final any more: the clinic must keep stake in force.
    pub fn new(
        origin: impl Into<String>,
        registrar: NoteVerifier,
        genesis: StakeTable,
    ) -> Registry {
        Registry {
            origin: origin.into(),
            registrar,
            tree: Tree::new(),
            table: genesis,
            members: BTreeMap::new(),
            slashed: BTreeSet::new(),
            pending: Vec::new(),
            finalized: 0,
            bootstrapped: false,
        }
    }

    /// The stake table in force.
    pub fn table(&self) -> &StakeTable {
        &self.table
    }

    /// Members in force, with their roles.
    pub fn members(&self) -> &BTreeMap<DeviceId, Token> {
        &self.members
    }

    /// Whether a witness public key has been slashed (in force).
    pub fn is_slashed(&self, public_key: &[u8; 32]) -> bool {
        self.slashed.contains(public_key)
    }

    /// Entries replayed.
    pub fn size(&self) -> u64 {
        self.tree.size()
    }

    /// Size of the last finalized registrar checkpoint.
    pub fn finalized_size(&self) -> u64 {
        self.finalized
    }

    /// Replays the next registrar-log entry (its encoded bytes, as stored).
    pub fn apply(&mut self, entry: &[u8]) -> Applied {
        let index = self.tree.append_leaf_hash(leaf_hash(entry));
        let entry = match Entry::decode(entry) {
            Ok(e) => e,
            Err(e) => return Applied::Ignored(e.to_string()),
        };
        let change = match entry {
            Entry::Stake(s) => Change::Stake(s.witness, s.stake),
            Entry::Membership(m) => Change::Member(m.member, m.role, m.change),
            Entry::Slash(ev) => match self.check_slash(&ev) {
                Ok(key) => Change::Slash(key),
                Err(reason) => return Applied::Ignored(reason),
            },
            _ => return Applied::Recorded,
        };
        self.pending.push((index, change));
        Applied::Queued
    }

    fn check_slash(&self, ev: &Evidence) -> Result<WitnessKey, String> {
        verify_evidence(ev).map_err(|e| format!("slash evidence refused: {e}"))?;
        let pk = ev.witness.public_key();
        let queued = self
            .pending
            .iter()
            .any(|(_, c)| matches!(c, Change::Slash(k) if k.public_key() == pk));
        if self.slashed.contains(pk) || queued {
            return Err("this witness is already slashed".to_string());
        }
        Ok(ev.witness.clone())
    }

    /// Takes a registrar checkpoint and its cosignatures. If it is signed by the registrar,
    /// matches the replayed entries and is final under the table in force, every change
    /// queued before its size takes effect as one new epoch.
    pub fn finalize(
        &mut self,
        checkpoint: &SignedCheckpoint,
        cosignatures: &[Cosignature],
    ) -> Result<Finalized, StakeError> {
        let cp = checkpoint.checkpoint();
        if cp.origin() != self.origin {
            return Err(StakeError::WrongOrigin {
                got: cp.origin().to_string(),
                want: self.origin.clone(),
            });
        }
        checkpoint
            .verify(&self.registrar)
            .map_err(StakeError::BadSignature)?;
        if cp.size() > self.tree.size() {
            return Err(StakeError::NotReplayed {
                size: cp.size(),
                replayed: self.tree.size(),
            });
        }
        if self.tree.root_at(cp.size()).ok().as_ref() != Some(cp.root()) {
            return Err(StakeError::RootMismatch { size: cp.size() });
        }
        if cp.size() < self.finalized {
            return Err(StakeError::Rollback {
                size: cp.size(),
                finalized: self.finalized,
            });
        }
        let t = tally(cp, cosignatures, &self.table);
        // Trust on first use only while nothing was ever finalized and no stake exists.
        let genesis = !self.bootstrapped && self.table.total() == 0;
        if !genesis && !t.is_final() {
            return Err(StakeError::NotFinal {
                cosigned: t.cosigned,
                total: t.total,
            });
        }
        self.finalized = cp.size();
        self.bootstrapped = true;
        let (due, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.pending)
            .into_iter()
            .partition(|(i, _)| *i < cp.size());
        self.pending = later;
        let changes = due.len();
        if changes > 0 {
            for (_, c) in due {
                self.promote(c);
            }
            self.table.epoch += 1;
        }
        Ok(Finalized {
            epoch: self.table.epoch,
            changes,
        })
    }

    fn promote(&mut self, c: Change) {
        match c {
            Change::Stake(k, s) => {
                if !self.slashed.contains(k.public_key()) {
                    self.table.set(k, s);
                }
            }
            Change::Member(d, role, MembershipChange::Added) => {
                self.members.insert(d, role);
            }
            Change::Member(d, _, _) => {
                self.members.remove(&d);
            }
            Change::Slash(k) => {
                if self.slashed.insert(*k.public_key()) {
                    if let Some(entry) = self.table.stakes.get_mut(k.public_key()) {
                        entry.1 = 0;
                    }
                }
            }
        }
    }
}
