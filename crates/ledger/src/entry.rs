//! Log entries and their canonical, versioned binary encoding (see `DESIGN.md`).
//!
//! Entries carry no PHI: only random record ids, change hashes, fixed vocabularies
//! ([`Token`]s of `[a-z0-9._-]`), device keys and times. Free text cannot be expressed.
//!
//! Encoding (version 1): `0x01` (format version) ‖ entry tag (1 byte) ‖ the fields in a fixed
//! order, integers big-endian, strings and byte strings `u32`-length-prefixed, lists
//! `u32`-count-prefixed. [`Entry::decode`] accepts exactly what [`Entry::encode`] produces
//! (`encode(decode(b)) == b`) and never panics.

use std::fmt;

use crate::evidence::Evidence;
use crate::merkle::Hash;
use crate::wire::{Reader, WireError, Writer};

/// Format version written as the first byte of every entry.
pub const ENTRY_FORMAT: u8 = 1;
/// Largest encoded entry accepted by [`Entry::decode`].
pub const MAX_ENTRY_BYTES: usize = 64 * 1024;
/// Most change hashes (Automerge heads) in one record change.
pub const MAX_HEADS: usize = 1024;
/// Longest record id.
pub const MAX_RECORD_ID: usize = 128;
/// Longest token.
pub const MAX_TOKEN: usize = 64;

/// Why an entry could not be built or decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EntryError {
    /// The bytes are not a version-1 entry.
    #[error("cannot decode ledger entry: {0}")]
    Decode(String),
    /// The entry was written by a newer format version.
    #[error("ledger entry format {0} is newer than this build understands (1); update Hearth")]
    UnknownVersion(u8),
    /// An unknown entry tag.
    #[error("unknown ledger entry type {0}")]
    UnknownType(u8),
    /// A record id with characters outside `[A-Za-z0-9._:-]` or of a bad length.
    #[error("invalid record id {0:?}: 1-128 characters of A-Z a-z 0-9 . _ : -")]
    InvalidRecordId(String),
    /// A token with characters outside `[a-z0-9._-]` or of a bad length.
    #[error("invalid token {0:?}: 1-64 characters of a-z 0-9 . _ -")]
    InvalidToken(String),
    /// Too many change hashes.
    #[error("a record change lists {0} heads; at most 1024 are allowed")]
    TooManyHeads(usize),
    /// The encoded entry is larger than [`MAX_ENTRY_BYTES`].
    #[error("ledger entry is larger than 64 KiB")]
    TooLarge,
}

impl From<WireError> for EntryError {
    fn from(e: WireError) -> Self {
        EntryError::Decode(e.to_string())
    }
}

/// A record's id, as the vault knows it (random; never a name).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RecordId(String);

impl RecordId {
    /// Checks and wraps an id: 1-128 characters of `[A-Za-z0-9._:-]`.
    pub fn new(id: impl Into<String>) -> Result<RecordId, EntryError> {
        let id = id.into();
        let ok = !id.is_empty()
            && id.len() <= MAX_RECORD_ID
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'));
        if ok {
            Ok(RecordId(id))
        } else {
            Err(EntryError::InvalidRecordId(id))
        }
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RecordId({})", self.0)
    }
}

/// A word from a fixed vocabulary (record category, purpose of use, role): 1-64 characters
/// of `[a-z0-9._-]`, so it cannot carry free text.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Token(String);

impl Token {
    /// Checks and wraps a token.
    pub fn new(t: impl Into<String>) -> Result<Token, EntryError> {
        let t = t.into();
        let ok = !t.is_empty()
            && t.len() <= MAX_TOKEN
            && t.bytes().all(|b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
            });
        if ok {
            Ok(Token(t))
        } else {
            Err(EntryError::InvalidToken(t))
        }
    }

    /// The token.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Token({})", self.0)
    }
}

/// A device, by its Ed25519 public key.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DeviceId(pub [u8; 32]);

impl fmt::Debug for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeviceId({})", Hash(self.0))
    }
}

/// An Automerge change hash (SHA-256 of the change).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ChangeHash(pub [u8; 32]);

impl fmt::Debug for ChangeHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChangeHash({})", Hash(self.0))
    }
}

/// What a record change did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum ChangeKind {
    /// The record was created.
    Create,
    /// The record was edited.
    Edit,
    /// The record was deleted (tombstoned).
    Delete,
}

/// How a record was accessed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum AccessAction {
    /// Opened for reading.
    View,
    /// Exported out of Hearth.
    Export,
    /// Processed by an analysis.
    Analyse,
    /// Emergency access outside the normal permissions.
    BreakGlass,
}

/// A consent event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum ConsentAction {
    /// Consent was granted under the contract.
    Granted,
    /// Consent was withdrawn.
    Withdrawn,
    /// Consent expired.
    Expired,
    /// A patient's device key was registered to sign their contracts (the hash is of the key).
    KeyRegistered,
}

/// A membership change in the clinic (registrar log only).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum MembershipChange {
    /// The member was added.
    Added,
    /// The member was removed.
    Removed,
}

/// A change to a record's document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordChange {
    /// The record.
    pub record: RecordId,
    /// The document's Automerge heads after the change.
    pub heads: Vec<ChangeHash>,
    /// What the change did.
    pub kind: ChangeKind,
    /// The record's category (e.g. `patient`, `session-note`).
    pub category: Token,
    /// The device that made the change.
    pub actor: DeviceId,
    /// Seconds since the Unix epoch.
    pub time: u64,
}

/// An access to a record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Access {
    /// The record.
    pub record: RecordId,
    /// How it was accessed.
    pub action: AccessAction,
    /// Why (from a fixed vocabulary, e.g. `treatment`, `billing`, `emergency`).
    pub purpose: Token,
    /// The device that accessed it.
    pub actor: DeviceId,
    /// Seconds since the Unix epoch.
    pub time: u64,
}

/// A consent event for a patient.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Consent {
    /// The patient's record.
    pub patient: RecordId,
    /// SHA-256 of the consent contract version.
    pub contract: Hash,
    /// What happened.
    pub action: ConsentAction,
    /// Seconds since the Unix epoch.
    pub time: u64,
}

/// A membership event (registrar log only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Membership {
    /// The member's device key.
    pub member: DeviceId,
    /// The member's role (e.g. `clinician`, `registrar`).
    pub role: Token,
    /// Added or removed.
    pub change: MembershipChange,
}

/// A witness's stake being set (registrar log only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StakeChange {
    /// The witness's cosigning key.
    pub witness: crate::WitnessKey,
    /// Its new stake.
    pub stake: u64,
}

/// One entry of a log.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Entry {
    /// A record's document changed.
    RecordChange(RecordChange),
    /// A record was accessed.
    Access(Access),
    /// A consent event.
    Consent(Consent),
    /// Registrar log: a member added or removed.
    Membership(Membership),
    /// Registrar log: a witness's stake set.
    Stake(StakeChange),
    /// Registrar log: evidence of a witness's equivocation, slashing its stake to zero.
    Slash(Box<Evidence>),
    /// Chain: SHA-256 of the previous checkpoint's text (all zeros before the first).
    PreviousCheckpoint(Hash),
    /// Chain: hash of the stake table in force when the checkpoint was made.
    StakeTableHash(Hash),
}

mod tag {
    pub const RECORD_CHANGE: u8 = 1;
    pub const ACCESS: u8 = 2;
    pub const CONSENT: u8 = 3;
    pub const MEMBERSHIP: u8 = 16;
    pub const STAKE: u8 = 17;
    pub const SLASH: u8 = 18;
    pub const PREVIOUS_CHECKPOINT: u8 = 32;
    pub const STAKE_TABLE_HASH: u8 = 33;
}

fn enum_byte<T: Copy>(
    r: &mut Reader<'_>,
    field: &'static str,
    table: &[T],
) -> Result<T, EntryError> {
    let b = r.u8(field)?;
    table
        .get(usize::from(b).wrapping_sub(1))
        .copied()
        .ok_or_else(|| EntryError::Decode(format!("{field}: unknown value {b}")))
}

const CHANGE_KINDS: [ChangeKind; 3] = [ChangeKind::Create, ChangeKind::Edit, ChangeKind::Delete];
const ACCESS_ACTIONS: [AccessAction; 4] = [
    AccessAction::View,
    AccessAction::Export,
    AccessAction::Analyse,
    AccessAction::BreakGlass,
];
const CONSENT_ACTIONS: [ConsentAction; 4] = [
    ConsentAction::Granted,
    ConsentAction::Withdrawn,
    ConsentAction::Expired,
    ConsentAction::KeyRegistered,
];
const MEMBERSHIP_CHANGES: [MembershipChange; 2] =
    [MembershipChange::Added, MembershipChange::Removed];

fn change_kind_byte(k: ChangeKind) -> u8 {
    match k {
        ChangeKind::Create => 1,
        ChangeKind::Edit => 2,
        ChangeKind::Delete => 3,
    }
}
fn access_byte(a: AccessAction) -> u8 {
    match a {
        AccessAction::View => 1,
        AccessAction::Export => 2,
        AccessAction::Analyse => 3,
        AccessAction::BreakGlass => 4,
    }
}
fn consent_byte(a: ConsentAction) -> u8 {
    match a {
        ConsentAction::Granted => 1,
        ConsentAction::Withdrawn => 2,
        ConsentAction::Expired => 3,
        ConsentAction::KeyRegistered => 4,
    }
}
fn membership_byte(c: MembershipChange) -> u8 {
    match c {
        MembershipChange::Added => 1,
        MembershipChange::Removed => 2,
    }
}

fn read_record(r: &mut Reader<'_>, field: &'static str) -> Result<RecordId, EntryError> {
    RecordId::new(r.str(field, MAX_RECORD_ID)?)
}
fn read_token(r: &mut Reader<'_>, field: &'static str) -> Result<Token, EntryError> {
    Token::new(r.str(field, MAX_TOKEN)?)
}

impl Entry {
    /// The canonical encoding. Fails only if the result would exceed [`MAX_ENTRY_BYTES`]
    /// or a record change lists more than [`MAX_HEADS`] heads.
    pub fn encode(&self) -> Result<Vec<u8>, EntryError> {
        let mut w = Writer::new();
        w.u8(ENTRY_FORMAT);
        match self {
            Entry::RecordChange(c) => {
                if c.heads.len() > MAX_HEADS {
                    return Err(EntryError::TooManyHeads(c.heads.len()));
                }
                w.u8(tag::RECORD_CHANGE);
                w.str(c.record.as_str());
                w.count(c.heads.len());
                for h in &c.heads {
                    w.fixed(&h.0);
                }
                w.u8(change_kind_byte(c.kind));
                w.str(c.category.as_str());
                w.fixed(&c.actor.0);
                w.u64(c.time);
            }
            Entry::Access(a) => {
                w.u8(tag::ACCESS);
                w.str(a.record.as_str());
                w.u8(access_byte(a.action));
                w.str(a.purpose.as_str());
                w.fixed(&a.actor.0);
                w.u64(a.time);
            }
            Entry::Consent(c) => {
                w.u8(tag::CONSENT);
                w.str(c.patient.as_str());
                w.fixed(&c.contract.0);
                w.u8(consent_byte(c.action));
                w.u64(c.time);
            }
            Entry::Membership(m) => {
                w.u8(tag::MEMBERSHIP);
                w.fixed(&m.member.0);
                w.str(m.role.as_str());
                w.u8(membership_byte(m.change));
            }
            Entry::Stake(s) => {
                w.u8(tag::STAKE);
                w.str(s.witness.name());
                w.fixed(s.witness.public_key());
                w.u64(s.stake);
            }
            Entry::Slash(e) => {
                w.u8(tag::SLASH);
                w.bytes(&e.encode());
            }
            Entry::PreviousCheckpoint(h) => {
                w.u8(tag::PREVIOUS_CHECKPOINT);
                w.fixed(&h.0);
            }
            Entry::StakeTableHash(h) => {
                w.u8(tag::STAKE_TABLE_HASH);
                w.fixed(&h.0);
            }
        }
        let out = w.finish();
        if out.len() > MAX_ENTRY_BYTES {
            return Err(EntryError::TooLarge);
        }
        Ok(out)
    }

    /// Decodes an entry from arbitrary bytes (never panics).
    pub fn decode(bytes: &[u8]) -> Result<Entry, EntryError> {
        if bytes.len() > MAX_ENTRY_BYTES {
            return Err(EntryError::TooLarge);
        }
        let mut r = Reader::new(bytes);
        let version = r.u8("format version")?;
        if version != ENTRY_FORMAT {
            return Err(EntryError::UnknownVersion(version));
        }
        let t = r.u8("entry type")?;
        let entry = match t {
            tag::RECORD_CHANGE => {
                let record = read_record(&mut r, "record id")?;
                let n = r.count("heads", MAX_HEADS, 32)?;
                let mut heads = Vec::with_capacity(n);
                for _ in 0..n {
                    heads.push(ChangeHash(r.array("change hash")?));
                }
                Entry::RecordChange(RecordChange {
                    record,
                    heads,
                    kind: enum_byte(&mut r, "change kind", &CHANGE_KINDS)?,
                    category: read_token(&mut r, "category")?,
                    actor: DeviceId(r.array("actor")?),
                    time: r.u64("time")?,
                })
            }
            tag::ACCESS => Entry::Access(Access {
                record: read_record(&mut r, "record id")?,
                action: enum_byte(&mut r, "access action", &ACCESS_ACTIONS)?,
                purpose: read_token(&mut r, "purpose")?,
                actor: DeviceId(r.array("actor")?),
                time: r.u64("time")?,
            }),
            tag::CONSENT => Entry::Consent(Consent {
                patient: read_record(&mut r, "patient record id")?,
                contract: Hash(r.array("contract hash")?),
                action: enum_byte(&mut r, "consent action", &CONSENT_ACTIONS)?,
                time: r.u64("time")?,
            }),
            tag::MEMBERSHIP => Entry::Membership(Membership {
                member: DeviceId(r.array("member")?),
                role: read_token(&mut r, "role")?,
                change: enum_byte(&mut r, "membership change", &MEMBERSHIP_CHANGES)?,
            }),
            tag::STAKE => {
                let name = r.str("witness name", crate::note::MAX_KEY_NAME)?;
                let key = r.array("witness key")?;
                let witness = crate::WitnessKey::from_parts(name, key)
                    .map_err(|e| EntryError::Decode(format!("witness key: {e}")))?;
                Entry::Stake(StakeChange {
                    witness,
                    stake: r.u64("stake")?,
                })
            }
            tag::SLASH => {
                let ev = r.bytes("evidence", MAX_ENTRY_BYTES)?;
                let ev = Evidence::decode(ev)
                    .map_err(|e| EntryError::Decode(format!("evidence: {e}")))?;
                Entry::Slash(Box::new(ev))
            }
            tag::PREVIOUS_CHECKPOINT => Entry::PreviousCheckpoint(Hash(r.array("hash")?)),
            tag::STAKE_TABLE_HASH => Entry::StakeTableHash(Hash(r.array("hash")?)),
            other => return Err(EntryError::UnknownType(other)),
        };
        r.finish("entry")?;
        Ok(entry)
    }

    /// Whether only the registrar log may carry this entry.
    pub fn is_registrar_only(&self) -> bool {
        matches!(
            self,
            Entry::Membership(_) | Entry::Stake(_) | Entry::Slash(_)
        )
    }

    /// Whether this is a chain entry (appended by [`crate::Log::checkpoint`] only).
    pub fn is_chain(&self) -> bool {
        matches!(
            self,
            Entry::PreviousCheckpoint(_) | Entry::StakeTableHash(_)
        )
    }

    /// The record this entry is about, if any.
    pub fn record(&self) -> Option<&RecordId> {
        match self {
            Entry::RecordChange(c) => Some(&c.record),
            Entry::Access(a) => Some(&a.record),
            Entry::Consent(c) => Some(&c.patient),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_change_encoding_is_stable() {
        let e = Entry::RecordChange(RecordChange {
            record: RecordId::new("r1").unwrap(),
            heads: vec![ChangeHash([0xab; 32])],
            kind: ChangeKind::Edit,
            category: Token::new("patient").unwrap(),
            actor: DeviceId([1; 32]),
            time: 1_700_000_000,
        });
        let b = e.encode().unwrap();
        assert_eq!(&b[..2], &[1, 1]);
        assert_eq!(&b[2..8], &[0, 0, 0, 2, b'r', b'1']);
        assert_eq!(Entry::decode(&b).unwrap(), e);
        let mut trailing = b.clone();
        trailing.push(0);
        assert!(Entry::decode(&trailing).is_err());
        let mut v2 = b;
        v2[0] = 2;
        assert_eq!(Entry::decode(&v2), Err(EntryError::UnknownVersion(2)));
    }

    #[test]
    fn ids_and_tokens_cannot_carry_free_text() {
        assert!(RecordId::new("Ada Lovelace").is_err());
        assert!(Token::new("Depression").is_err());
        assert!(Token::new("").is_err());
        assert!(Token::new("session-note").is_ok());
    }
}
