//! Ledger over the wire: after the record rounds, each side offers its newest signed
//! checkpoint (with a consistency proof from the last one this peer cosigned) and the peer,
//! if it holds stake in the clinic, witnesses it with hearth-ledger's [`Witness`] and answers
//! with a cosignature, a refusal, or evidence that the log equivocated.
//!
//! Everything here is IO-less: the store (hearth-core) loads and persists the witness state
//! and the cosignatures; this module decides.
//!
//! Conventions every member derives the same way from the registrar log:
//! - the log origin of a device is `hearth.local/device/<hex of its vault device id>`;
//! - its checkpoint key is its log key, under that origin;
//! - its witness key is its log key too, named `<first 8 bytes of the log key, hex>.witness.hearth`
//!   (cosignature/v1 messages start with `cosignature/v1\n`, so they never collide with notes);
//! - the stake table is every active member with a nonzero stake (stakes are set at invite).

use std::collections::BTreeMap;

use ed25519_dalek::{SigningKey, VerifyingKey};
use hearth_ledger::{
    Cosignature, Hash, NoteVerifier, SignedCheckpoint, StakeTable, Witness, WitnessError,
    WitnessKey, WitnessSigner, WitnessState,
};

use crate::clinic::{Clinic, Member};
use crate::wire::{Reader, WireError, Writer};

/// Most consistency-proof hashes in a [`CheckpointOffer`] (a tree of 2^63 leaves needs fewer).
pub const MAX_PROOF: usize = hearth_ledger::witness::MAX_PROOF_LINES;
/// Largest signed checkpoint note carried (C2SP signed-note limit).
pub const MAX_NOTE: usize = hearth_ledger::note::MAX_NOTE_BYTES;
/// Longest refusal reason.
const MAX_REASON: usize = 1024;

/// Why witnessing could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WitnessSetupError {
    /// A member's log key or name is not usable as a note key.
    #[error("member key: {0}")]
    Key(String),
}

/// A checkpoint offered for witnessing (message type 9).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CheckpointOffer {
    /// Size of the last checkpoint of this log the receiver cosigned (0: none known).
    pub old_size: u64,
    /// Consistency proof from `old_size` to the checkpoint.
    pub proof: Vec<[u8; 32]>,
    /// The signed checkpoint note; empty when the sender has no checkpoint.
    pub note: Vec<u8>,
}

/// The answer to a [`CheckpointOffer`] (message type 10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WitnessReply {
    /// Nothing to witness, or the receiver holds no stake (status 0, reason).
    Skipped(String),
    /// A cosignature/v1 line (`— <name> <base64>`) of the offered checkpoint (status 1).
    Cosigned(String),
    /// Refused, in plain words (status 2): bad signature, conflict, bad proof, …
    Refused(String),
    /// The offered checkpoint conflicts with one the witness cosigned before (status 3):
    /// encoded [`LogEquivocation`].
    Evidence(Vec<u8>),
    /// The witness last cosigned this size of the log, not the offer's old size (status 4,
    /// u64): offer again with a consistency proof from there (once per session).
    Retry(u64),
}

impl CheckpointOffer {
    pub(crate) fn write(&self, w: &mut Writer) {
        w.u64(self.old_size);
        w.len(self.proof.len());
        for h in &self.proof {
            w.raw(h);
        }
        w.bytes(&self.note);
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let old_size = r.u64()?;
        let n = r.count(32)?;
        if n > MAX_PROOF {
            return Err(r.bad(format!(
                "a consistency proof of {n} hashes (limit {MAX_PROOF})"
            )));
        }
        let mut proof = Vec::with_capacity(n);
        for _ in 0..n {
            proof.push(r.array()?);
        }
        let note = r.bytes()?;
        if note.len() > MAX_NOTE {
            return Err(r.bad(format!("a checkpoint of {} bytes", note.len())));
        }
        Ok(Self {
            old_size,
            proof,
            note,
        })
    }
}

impl WitnessReply {
    pub(crate) fn write(&self, w: &mut Writer) {
        match self {
            WitnessReply::Skipped(s) => {
                w.u8(0);
                w.str(clip(s));
            }
            WitnessReply::Cosigned(s) => {
                w.u8(1);
                w.str(clip(s));
            }
            WitnessReply::Refused(s) => {
                w.u8(2);
                w.str(clip(s));
            }
            WitnessReply::Evidence(b) => {
                w.u8(3);
                w.bytes(b);
            }
            WitnessReply::Retry(n) => {
                w.u8(4);
                w.u64(*n);
            }
        }
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(match r.u8()? {
            0 => WitnessReply::Skipped(r.string(MAX_REASON)?),
            1 => WitnessReply::Cosigned(r.string(MAX_REASON)?),
            2 => WitnessReply::Refused(r.string(MAX_REASON)?),
            3 => {
                let b = r.bytes()?;
                if b.len() > 2 * MAX_NOTE + 16 {
                    return Err(r.bad("evidence too large"));
                }
                WitnessReply::Evidence(b)
            }
            4 => WitnessReply::Retry(r.u64()?),
            other => return Err(r.bad(format!("witness status {other}"))),
        })
    }
}

fn clip(s: &str) -> &str {
    let mut cut = s.len().min(MAX_REASON);
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    &s[..cut]
}

/// The log origin of a member's device.
pub fn origin(member: &Member) -> String {
    format!("hearth.local/device/{}", hex::encode(&member.device))
}

/// The checkpoint verifier of a member's log.
pub fn log_verifier(member: &Member) -> Result<NoteVerifier, WitnessSetupError> {
    let key = VerifyingKey::from_bytes(&member.log_key)
        .map_err(|e| WitnessSetupError::Key(e.to_string()))?;
    NoteVerifier::new(origin(member), key).map_err(|e| WitnessSetupError::Key(e.to_string()))
}

/// The witness key name of a log key.
pub fn witness_name(log_key: &[u8; 32]) -> String {
    format!("{}.witness.hearth", hex::encode(&log_key[..8]))
}

/// A member's witness key.
pub fn witness_key(member: &Member) -> Result<WitnessKey, WitnessSetupError> {
    WitnessKey::from_parts(&witness_name(&member.log_key), member.log_key)
        .map_err(|e| WitnessSetupError::Key(e.to_string()))
}

/// This device's witness signer (its log key).
pub fn witness_signer(log_key: &SigningKey) -> Result<WitnessSigner, WitnessSetupError> {
    let name = witness_name(&log_key.verifying_key().to_bytes());
    WitnessSigner::new(name, log_key.clone()).map_err(|e| WitnessSetupError::Key(e.to_string()))
}

/// The stake table in force: active members with a nonzero stake.
pub fn stake_table(clinic: &Clinic) -> StakeTable {
    StakeTable::genesis(
        clinic
            .members()
            .filter(|m| m.active && m.member.stake > 0)
            .filter_map(|m| Some((witness_key(&m.member).ok()?, m.member.stake))),
    )
}

/// Two checkpoints of one log, both signed by its key, for the same size with different
/// roots: the log equivocated. Checkable offline with the log's verifier key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEquivocation {
    /// The checkpoint witnessed first (signed note).
    pub first: Vec<u8>,
    /// The conflicting checkpoint (signed note).
    pub second: Vec<u8>,
}

/// Why log-equivocation evidence does not hold.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum EquivocationError {
    /// Not encoded evidence.
    #[error("cannot decode log-equivocation evidence: {0}")]
    Decode(String),
    /// A checkpoint does not parse or is not signed by the log key.
    #[error("the {0} checkpoint is not a valid checkpoint signed by the log")]
    BadCheckpoint(&'static str),
    /// Different logs, different sizes, or equal roots.
    #[error("the two checkpoints do not conflict")]
    NotConflicting,
}

impl LogEquivocation {
    /// `u8 1 | u32 len | first | u32 len | second`.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.u8(1);
        w.bytes(&self.first);
        w.bytes(&self.second);
        w.0
    }

    /// Decodes (never panics).
    pub fn decode(bytes: &[u8]) -> Result<Self, EquivocationError> {
        let mut r = Reader::new(bytes, "evidence");
        let f = |e: WireError| EquivocationError::Decode(e.to_string());
        if r.u8().map_err(f)? != 1 {
            return Err(EquivocationError::Decode("unknown format".into()));
        }
        let first = r.bytes().map_err(f)?;
        let second = r.bytes().map_err(f)?;
        r.end().map_err(f)?;
        Ok(Self { first, second })
    }

    /// Checks the evidence against the log's verifier; returns the origin and size.
    pub fn verify(&self, log: &NoteVerifier) -> Result<(String, u64), EquivocationError> {
        let parse = |which: &'static str, b: &[u8]| {
            let cp =
                SignedCheckpoint::parse(b).map_err(|_| EquivocationError::BadCheckpoint(which))?;
            cp.verify(log)
                .map_err(|_| EquivocationError::BadCheckpoint(which))?;
            Ok::<_, EquivocationError>(cp)
        };
        let a = parse("first", &self.first)?;
        let b = parse("second", &self.second)?;
        let (a, b) = (a.checkpoint(), b.checkpoint());
        if a.origin() != b.origin() || a.size() != b.size() || a.root() == b.root() {
            return Err(EquivocationError::NotConflicting);
        }
        Ok((a.origin().to_string(), a.size()))
    }
}

/// What evidence against a member proves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proof {
    /// The member's log signed two checkpoints of one size with different roots.
    LogFork(LogEquivocation),
    /// The member, as a witness, cosigned two checkpoints of one log and size with different
    /// roots (hearth-ledger evidence, checkable with its witness key alone).
    Cosigned(Box<hearth_ledger::Evidence>),
}

/// Evidence against one clinic member, as it travels between devices: the member's endpoint
/// and the proof. Anyone can check it against the member's keys from the registrar log; the
/// registrar then slashes the member's stake to zero, and the registrar log carries that to
/// every device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberEvidence {
    /// The member's endpoint id.
    pub endpoint: [u8; 32],
    /// The proof.
    pub proof: Proof,
}

impl MemberEvidence {
    /// `u8 1 | endpoint | bytes LogEquivocation` or `u8 2 | endpoint | bytes ledger Evidence`.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        match &self.proof {
            Proof::LogFork(e) => {
                w.u8(1);
                w.raw(&self.endpoint);
                w.bytes(&e.encode());
            }
            Proof::Cosigned(e) => {
                w.u8(2);
                w.raw(&self.endpoint);
                w.bytes(&e.encode());
            }
        }
        w.0
    }

    /// Decodes (never panics).
    pub fn decode(bytes: &[u8]) -> Result<Self, EquivocationError> {
        let mut r = Reader::new(bytes, "member evidence");
        let f = |e: WireError| EquivocationError::Decode(e.to_string());
        let kind = r.u8().map_err(f)?;
        let endpoint = r.array().map_err(f)?;
        let body = r.bytes().map_err(f)?;
        r.end().map_err(f)?;
        let proof = match kind {
            1 => Proof::LogFork(LogEquivocation::decode(&body)?),
            2 => Proof::Cosigned(Box::new(
                hearth_ledger::Evidence::decode(&body)
                    .map_err(|e| EquivocationError::Decode(e.to_string()))?,
            )),
            _ => return Err(EquivocationError::Decode("unknown kind".into())),
        };
        Ok(Self { endpoint, proof })
    }

    /// Checks it against `member` (whose endpoint it must name): the log's origin and the size
    /// of the conflicting views.
    pub fn verify(&self, member: &Member) -> Result<(String, u64), EquivocationError> {
        if member.endpoint != self.endpoint {
            return Err(EquivocationError::NotConflicting);
        }
        match &self.proof {
            Proof::LogFork(e) => {
                let verifier =
                    log_verifier(member).map_err(|_| EquivocationError::BadCheckpoint("first"))?;
                let (origin, size) = e.verify(&verifier)?;
                if origin != self::origin(member) {
                    return Err(EquivocationError::NotConflicting);
                }
                Ok((origin, size))
            }
            Proof::Cosigned(e) => {
                let key =
                    witness_key(member).map_err(|_| EquivocationError::BadCheckpoint("first"))?;
                if e.witness != key {
                    return Err(EquivocationError::BadCheckpoint("first"));
                }
                match hearth_ledger::verify_evidence(e) {
                    Ok(
                        hearth_ledger::Offence::Equivocation
                        | hearth_ledger::Offence::Inconsistency,
                    ) => {
                        let cp = &e.first.checkpoint;
                        Ok((cp.origin().to_string(), cp.size()))
                    }
                    Ok(_) | Err(_) => Err(EquivocationError::NotConflicting),
                }
            }
        }
    }

    /// What it proves, in words.
    pub fn offence(&self) -> &'static str {
        match self.proof {
            Proof::LogFork(_) => "its log signed two views",
            Proof::Cosigned(_) => "it cosigned two views of a log",
        }
    }
}

/// Two checkpoints of `log`'s log (signed notes with cosignature lines) that claim the same
/// size with different roots: evidence against the log (it signed both), and against every
/// one of `witnesses` whose valid cosignature is on both. Empty when they do not conflict or
/// the log did not sign both.
pub fn split_view(log: &Member, witnesses: &[Member], a: &[u8], b: &[u8]) -> Vec<MemberEvidence> {
    let Ok(verifier) = log_verifier(log) else {
        return Vec::new();
    };
    let parse = |bytes: &[u8]| {
        let cp = SignedCheckpoint::parse(bytes).ok()?;
        cp.verify(&verifier).ok()?;
        Some(cp)
    };
    let (Some(ca), Some(cb)) = (parse(a), parse(b)) else {
        return Vec::new();
    };
    let (pa, pb) = (ca.checkpoint(), cb.checkpoint());
    if pa.origin() != origin(log)
        || pa.origin() != pb.origin()
        || pa.size() != pb.size()
        || pa.root() == pb.root()
    {
        return Vec::new();
    }
    let mut out = vec![MemberEvidence {
        endpoint: log.endpoint,
        proof: Proof::LogFork(LogEquivocation {
            first: a.to_vec(),
            second: b.to_vec(),
        }),
    }];
    let (ta, tb) = (pa.to_text(), pb.to_text());
    for w in witnesses {
        let Ok(key) = witness_key(w) else { continue };
        let on = |cp: &SignedCheckpoint, text: &str| {
            cp.cosignatures().into_iter().find(|c| key.verify(text, c))
        };
        let (Some(x), Some(y)) = (on(&ca, &ta), on(&cb, &tb)) else {
            continue;
        };
        let first = hearth_ledger::CosignedCheckpoint {
            checkpoint: pa.clone(),
            cosignature: x,
        };
        let second = hearth_ledger::CosignedCheckpoint {
            checkpoint: pb.clone(),
            cosignature: y,
        };
        if let Some(e) = hearth_ledger::Evidence::equivocation(&key, first, second) {
            out.push(MemberEvidence {
                endpoint: w.endpoint,
                proof: Proof::Cosigned(Box::new(e)),
            });
        }
    }
    out
}

/// What a witness keeps between sessions: the ledger witness state and, per origin, the last
/// checkpoint note it cosigned (to show equivocation).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WitnessBook {
    /// The ledger witness state (per origin: verifier, size, root).
    pub state: WitnessState,
    /// Per origin: the last cosigned checkpoint note.
    pub notes: BTreeMap<String, Vec<u8>>,
}

impl WitnessBook {
    /// `u8 1 | bytes state | u32 n | (origin, note)*`.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.u8(1);
        w.bytes(&self.state.encode());
        w.len(self.notes.len());
        for (o, n) in &self.notes {
            w.str(o);
            w.bytes(n);
        }
        w.0
    }

    /// Decodes a stored book.
    pub fn decode(bytes: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(bytes, "witness book");
        if r.u8()? != 1 {
            return Err(r.bad("unknown format"));
        }
        let state = WitnessState::decode(&r.bytes()?).map_err(|e| r.bad(e.to_string()))?;
        let n = r.count(8)?;
        let mut notes = BTreeMap::new();
        for _ in 0..n {
            let o = r.string(4096)?;
            notes.insert(o, r.bytes()?);
        }
        r.end()?;
        Ok(Self { state, notes })
    }
}

/// A witness's verdict on an offer, before anything is persisted.
#[derive(Debug)]
pub enum Verdict {
    /// Persist `book`, then release `pending` with `witness` (see [`release`]).
    Cosign {
        /// The book to persist first.
        book: WitnessBook,
        /// The witness holding the state before.
        witness: Box<Witness>,
        /// The checked checkpoint.
        pending: Box<hearth_ledger::PendingCosignature>,
    },
    /// Answer this without persisting anything (refusals, skips).
    Answer(WitnessReply),
    /// The log equivocated: keep the evidence (encoded) and answer with it.
    Evidence(LogEquivocation),
}

/// Witness `offer` from `peer` with `signer` and the stored `book`, at time `now`.
/// `stake` is this device's stake (no stake: skipped).
pub fn judge(
    signer: WitnessSigner,
    mut book: WitnessBook,
    stake: u64,
    peer: &Member,
    offer: &CheckpointOffer,
    now: u64,
) -> Verdict {
    if offer.note.is_empty() {
        return Verdict::Answer(WitnessReply::Skipped("no checkpoint offered".into()));
    }
    if stake == 0 {
        return Verdict::Answer(WitnessReply::Skipped(
            "this device holds no witness stake".into(),
        ));
    }
    let verifier = match log_verifier(peer) {
        Ok(v) => v,
        Err(e) => return Verdict::Answer(WitnessReply::Refused(e.to_string())),
    };
    let origin = origin(peer);
    book.state.add_log(origin.clone(), verifier.clone());
    let proof: Vec<Hash> = offer.proof.iter().map(|h| Hash(*h)).collect();
    let witness = Witness::new(signer, book.state.clone());
    match witness.add_checkpoint(offer.old_size, &proof, &offer.note, now) {
        Ok(pending) => {
            let mut next = book.clone();
            next.state = pending.state_to_persist().clone();
            next.notes.insert(origin, offer.note.clone());
            Verdict::Cosign {
                book: next,
                witness: Box::new(witness),
                pending: Box::new(pending),
            }
        }
        Err(e) => {
            // Same size, different root: show it with both signed notes.
            if let Ok(cp) = SignedCheckpoint::parse(&offer.note) {
                if let Some(prev) = book.notes.get(&origin) {
                    let ev = LogEquivocation {
                        first: prev.clone(),
                        second: offer.note.clone(),
                    };
                    if cp.checkpoint().origin() == origin && ev.verify(&verifier).is_ok() {
                        return Verdict::Evidence(ev);
                    }
                }
            }
            match e {
                WitnessError::Conflict { current_size } => {
                    Verdict::Answer(WitnessReply::Retry(current_size))
                }
                e => Verdict::Answer(WitnessReply::Refused(refusal(&e))),
            }
        }
    }
}

fn refusal(e: &WitnessError) -> String {
    format!("not cosigned: {e}")
}

/// Second step of a [`Verdict::Cosign`]: once `book` is persisted, release the cosignature.
pub fn release(
    mut witness: Witness,
    pending: hearth_ledger::PendingCosignature,
    persisted: &WitnessBook,
) -> WitnessReply {
    match witness.release(pending, &persisted.state) {
        Ok(c) => WitnessReply::Cosigned(c.to_line()),
        Err(e) => WitnessReply::Refused(refusal(&e)),
    }
}

/// The cosignature in a [`WitnessReply::Cosigned`], if it is `member`'s valid cosignature of
/// `checkpoint` (a signed note).
pub fn check_cosignature(member: &Member, checkpoint: &[u8], line: &str) -> Option<Cosignature> {
    let key = witness_key(member).ok()?;
    let cp = SignedCheckpoint::parse(checkpoint).ok()?;
    let c = Cosignature::parse_line(line).ok()?;
    key.verify(&cp.checkpoint().to_text(), &c).then_some(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hearth_ledger::{Checkpoint, Note, NoteSigner, Tree};

    fn member(key: &SigningKey, device: u8) -> Member {
        Member {
            endpoint: [device; 32],
            log_key: key.verifying_key().to_bytes(),
            device: vec![device; 16],
            name: format!("d{device}"),
            role: crate::clinic::Role::Clinician,
            stake: 1,
            patient: None,
        }
    }

    /// A checkpoint of `tree` at `size` signed with `key` for `m`'s origin.
    fn signed(key: &SigningKey, m: &Member, tree: &Tree, size: u64) -> Vec<u8> {
        let cp = Checkpoint::new(origin(m), size, tree.root_at(size).unwrap()).unwrap();
        let mut note = Note::new(cp.to_text()).unwrap();
        NoteSigner::new(origin(m), key.clone())
            .unwrap()
            .sign(&mut note);
        note.to_bytes()
    }

    fn tree(tag: u8, n: u64) -> Tree {
        let mut t = Tree::new();
        for i in 0..n {
            t.append(&[tag, i as u8]);
        }
        t
    }

    /// Run a verdict to its answer, persisting the book in memory.
    fn answer(v: Verdict, book: &mut WitnessBook) -> WitnessReply {
        match v {
            Verdict::Cosign {
                book: next,
                witness,
                pending,
            } => {
                *book = next;
                release(*witness, *pending, book)
            }
            Verdict::Answer(r) => r,
            Verdict::Evidence(e) => WitnessReply::Evidence(e.encode()),
        }
    }

    #[test]
    fn cosigns_consistent_growth_and_catches_a_forked_log() {
        let log_key = SigningKey::from_bytes(&[1; 32]);
        let witness_key_secret = SigningKey::from_bytes(&[2; 32]);
        let peer = member(&log_key, 9);
        let me = member(&witness_key_secret, 8);
        let signer = || witness_signer(&witness_key_secret).unwrap();
        let mut book = WitnessBook::default();

        // First checkpoint: no proof needed; a valid cosignature by this witness comes back.
        let t = tree(0, 5);
        let cp5 = signed(&log_key, &peer, &t, 5);
        let offer = CheckpointOffer {
            old_size: 0,
            proof: Vec::new(),
            note: cp5.clone(),
        };
        let r = answer(
            judge(signer(), book.clone(), 1, &peer, &offer, 100),
            &mut book,
        );
        let WitnessReply::Cosigned(line) = r else {
            panic!("{r:?}")
        };
        assert!(check_cosignature(&me, &cp5, &line).is_some());
        assert!(check_cosignature(&peer, &cp5, &line).is_none());
        // The book survives storage.
        assert_eq!(WitnessBook::decode(&book.encode()).unwrap(), book);

        // Growth with a consistency proof.
        let t = tree(0, 9);
        let proof: Vec<[u8; 32]> = t
            .consistency_proof(5, 9)
            .unwrap()
            .iter()
            .map(|h| h.0)
            .collect();
        let offer = CheckpointOffer {
            old_size: 5,
            proof: proof.clone(),
            note: signed(&log_key, &peer, &t, 9),
        };
        let r = answer(
            judge(signer(), book.clone(), 1, &peer, &offer, 101),
            &mut book,
        );
        assert!(matches!(r, WitnessReply::Cosigned(_)), "{r:?}");
        assert_eq!(book.state.logs().next().unwrap().1.size, 9);

        // An offer from another size than the one cosigned: retry from there.
        let offer = CheckpointOffer {
            old_size: 5,
            proof,
            note: signed(&log_key, &peer, &t, 9),
        };
        let r = answer(
            judge(signer(), book.clone(), 1, &peer, &offer, 101),
            &mut book,
        );
        assert_eq!(r, WitnessReply::Retry(9));

        // A bad proof is refused and nothing moves.
        let before = book.clone();
        let offer = CheckpointOffer {
            old_size: 9,
            proof: vec![[0; 32]],
            note: signed(&log_key, &peer, &tree(0, 12), 12),
        };
        let r = answer(
            judge(signer(), book.clone(), 1, &peer, &offer, 102),
            &mut book,
        );
        assert!(matches!(r, WitnessReply::Refused(_)), "{r:?}");
        assert_eq!(book, before);

        // Another tree of the same size signed by the same log: evidence, no cosignature.
        let forked = signed(&log_key, &peer, &tree(7, 9), 9);
        for old_size in [0, 9] {
            let offer = CheckpointOffer {
                old_size,
                proof: Vec::new(),
                note: forked.clone(),
            };
            let r = answer(
                judge(signer(), book.clone(), 1, &peer, &offer, 103),
                &mut book,
            );
            let WitnessReply::Evidence(bytes) = r else {
                panic!("{r:?}")
            };
            let ev = LogEquivocation::decode(&bytes).unwrap();
            let verifier = log_verifier(&peer).unwrap();
            assert_eq!(ev.verify(&verifier).unwrap().1, 9);
            // Not evidence against another log's key, nor with both notes the same.
            let other = log_verifier(&me).unwrap();
            assert!(ev.verify(&other).is_err());
            let same = LogEquivocation {
                first: ev.first.clone(),
                second: ev.first.clone(),
            };
            assert_eq!(
                same.verify(&verifier),
                Err(EquivocationError::NotConflicting)
            );
            assert_eq!(book, before);
        }

        // A checkpoint signed by someone else's key is refused, not evidence.
        let offer = CheckpointOffer {
            old_size: 9,
            proof: Vec::new(),
            note: signed(&witness_key_secret, &peer, &tree(7, 9), 9),
        };
        let r = answer(
            judge(signer(), book.clone(), 1, &peer, &offer, 104),
            &mut book,
        );
        assert!(matches!(r, WitnessReply::Refused(_)), "{r:?}");

        // No stake, or nothing offered: skipped.
        let offer = CheckpointOffer {
            old_size: 9,
            proof: Vec::new(),
            note: signed(&log_key, &peer, &tree(0, 9), 9),
        };
        let r = answer(
            judge(signer(), book.clone(), 0, &peer, &offer, 105),
            &mut book,
        );
        assert!(matches!(r, WitnessReply::Skipped(_)), "{r:?}");
        let r = answer(
            judge(
                signer(),
                book.clone(),
                1,
                &peer,
                &CheckpointOffer::default(),
                105,
            ),
            &mut book,
        );
        assert!(matches!(r, WitnessReply::Skipped(_)), "{r:?}");
        // Garbage as a checkpoint never panics.
        for n in [1usize, 7, 100] {
            let offer = CheckpointOffer {
                old_size: 3,
                proof: vec![[5; 32]; 2],
                note: vec![0xa5; n],
            };
            let r = answer(
                judge(signer(), book.clone(), 1, &peer, &offer, 106),
                &mut book,
            );
            assert!(matches!(r, WitnessReply::Refused(_)), "{r:?}");
        }
    }

    /// `note` with a cosignature by `w` added.
    fn cosigned_by(note: &[u8], w: &SigningKey, at: u64) -> Vec<u8> {
        let mut cp = SignedCheckpoint::parse(note).unwrap();
        let c = witness_signer(w)
            .unwrap()
            .cosign(&cp.checkpoint().to_text(), at);
        cp.add_cosignature(&c);
        cp.to_bytes()
    }

    #[test]
    fn a_split_view_is_evidence_against_the_log_and_every_witness_on_both_sides() {
        let (log_key, w_key, honest_key) = (
            SigningKey::from_bytes(&[1; 32]),
            SigningKey::from_bytes(&[2; 32]),
            SigningKey::from_bytes(&[4; 32]),
        );
        let (log, w, honest) = (
            member(&log_key, 9),
            member(&w_key, 8),
            member(&honest_key, 7),
        );
        let members = [log.clone(), w.clone(), honest.clone()];
        let one = cosigned_by(&signed(&log_key, &log, &tree(0, 6), 6), &w_key, 10);
        let one = cosigned_by(&one, &honest_key, 11);
        let two = cosigned_by(&signed(&log_key, &log, &tree(5, 6), 6), &w_key, 12);

        let found = split_view(&log, &members, &one, &two);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(matches!(found[0].proof, Proof::LogFork(_)));
        assert_eq!(found[0].verify(&log).unwrap().1, 6);
        let against_w = &found[1];
        assert_eq!(against_w.endpoint, w.endpoint);
        assert!(matches!(against_w.proof, Proof::Cosigned(_)));
        // It travels, and checks out against w's keys only.
        let back = MemberEvidence::decode(&against_w.encode()).unwrap();
        assert_eq!(&back, against_w);
        assert_eq!(back.verify(&w).unwrap(), (origin(&log), 6));
        assert!(back.verify(&honest).is_err());
        let mut posing = back.clone();
        posing.endpoint = honest.endpoint;
        assert!(
            posing.verify(&honest).is_err(),
            "w's proof does not convict another"
        );

        // The same view, a smaller or larger one, or a note the log did not sign: nothing.
        assert!(split_view(&log, &members, &one, &one).is_empty());
        let seven = signed(&log_key, &log, &tree(0, 7), 7);
        assert!(split_view(&log, &members, &one, &seven).is_empty());
        let forged = cosigned_by(&signed(&w_key, &log, &tree(5, 6), 6), &w_key, 13);
        assert!(split_view(&log, &members, &one, &forged).is_empty());
        // Garbage never panics.
        for n in [0usize, 1, 40, 300] {
            assert!(split_view(&log, &members, &one, &vec![0x5a; n]).is_empty());
            assert!(MemberEvidence::decode(&vec![2; n]).is_err());
        }
    }

    #[test]
    fn stake_table_counts_active_members_with_stake() {
        let a = SigningKey::from_bytes(&[3; 32]);
        let mut m = member(&a, 1);
        m.stake = 4;
        let clinic = Clinic::create("c", &a, m.clone(), 1).unwrap();
        let t = stake_table(&clinic);
        assert_eq!(t.total(), 4);
        assert_eq!(t.stake(&witness_key(&m).unwrap()), 4);
    }

    #[test]
    fn offer_and_reply_round_trip_and_hostile_bytes_do_not_panic() {
        let o = CheckpointOffer {
            old_size: 3,
            proof: vec![[1; 32], [2; 32]],
            note: b"x".to_vec(),
        };
        let mut w = Writer::default();
        o.write(&mut w);
        let mut r = Reader::new(&w.0, "checkpoint");
        assert_eq!(CheckpointOffer::read(&mut r).ok(), Some(o));
        for reply in [
            WitnessReply::Skipped("s".into()),
            WitnessReply::Cosigned("c".into()),
            WitnessReply::Refused("r".into()),
            WitnessReply::Evidence(vec![1, 2]),
            WitnessReply::Retry(7),
        ] {
            let mut w = Writer::default();
            reply.write(&mut w);
            let mut r = Reader::new(&w.0, "witnessed");
            assert_eq!(WitnessReply::read(&mut r).ok(), Some(reply));
        }
        for n in 0..64u8 {
            let junk: Vec<u8> = (0..n).map(|i| i.wrapping_mul(37) ^ 0xff).collect();
            let _ = CheckpointOffer::read(&mut Reader::new(&junk, "checkpoint"));
            let _ = WitnessReply::read(&mut Reader::new(&junk, "witnessed"));
            let _ = LogEquivocation::decode(&junk);
            let _ = WitnessBook::decode(&junk);
        }
        // A proof count above the limit is refused before reading the hashes.
        let mut w = Writer::default();
        w.u64(0);
        w.len(MAX_PROOF + 1);
        w.raw(&vec![0; 32 * (MAX_PROOF + 1)]);
        w.bytes(b"");
        assert!(CheckpointOffer::read(&mut Reader::new(&w.0, "checkpoint")).is_err());
    }
}
