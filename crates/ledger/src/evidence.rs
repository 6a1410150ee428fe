//! Evidence that a witness cosigned two views of one log that cannot both be true.
//!
//! Two kinds, each checkable offline with only the witness's public key:
//! - **equivocation**: two cosignatures for the same origin and size with different roots;
//! - **inconsistency**: cosignatures for sizes `m < n`, plus a consistency proof that *does*
//!   verify from some root `r*` at size `m` to the size-`n` root, with `r* ≠` the size-`m` root
//!   the witness cosigned. The size-`n` tree's prefix of size `m` is `r*`, so the witness
//!   vouched for two trees that do not extend each other. (A proof that merely fails to
//!   verify proves nothing: anyone can forge a bad proof.)
//!
//! Cosignatures that differ only in their timestamps (same origin, size and root) are not
//! evidence.

use crate::checkpoint::{Checkpoint, MAX_CHECKPOINT_TEXT};
use crate::cosignature::{Cosignature, WitnessKey};
use crate::merkle::{verify_consistency, Hash};
use crate::wire::{Reader, WireError, Writer};

/// Format version of encoded evidence.
pub const EVIDENCE_FORMAT: u8 = 1;
/// Most hashes in the consistency proof of inconsistency evidence.
pub const MAX_PROOF_HASHES: usize = 128;

/// Why evidence was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EvidenceError {
    /// The bytes are not encoded evidence.
    #[error("cannot decode evidence: {0}")]
    Decode(String),
    /// One of the two cosignatures is not the witness's valid cosignature of its checkpoint.
    #[error("the {which} cosignature is not a valid cosignature by {witness}")]
    BadCosignature {
        /// `first` or `second`.
        which: &'static str,
        /// The witness's key name.
        witness: String,
    },
    /// The two checkpoints are for different logs.
    #[error("the two checkpoints are for different logs ({0} and {1})")]
    DifferentOrigins(String, String),
    /// Same size and same root: the cosignatures agree (perhaps with different timestamps).
    #[error("the two cosignatures agree (same size and root): not evidence")]
    NotConflicting,
    /// Different sizes but no consistency proof to show the conflict.
    #[error("checkpoints of different sizes need a consistency proof to show a conflict")]
    MissingProof,
    /// The inconsistency proof's sizes are not ordered smaller then larger.
    #[error("inconsistency evidence must list the smaller tree first")]
    WrongOrder,
    /// The supplied consistency proof does not verify from its prefix root to the larger
    /// checkpoint's root, so it shows nothing.
    #[error("the consistency proof does not verify against the larger checkpoint")]
    ProofDoesNotVerify,
    /// The proof verifies from the very root the witness cosigned: the trees are consistent.
    #[error("the checkpoints are consistent: not evidence")]
    Consistent,
}

impl From<WireError> for EvidenceError {
    fn from(e: WireError) -> Self {
        EvidenceError::Decode(e.to_string())
    }
}

/// A checkpoint with one cosignature on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CosignedCheckpoint {
    /// The checkpoint.
    pub checkpoint: Checkpoint,
    /// The witness's cosignature of its text.
    pub cosignature: Cosignature,
}

/// The consistency proof carried by inconsistency evidence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InconsistencyProof {
    /// The root the larger tree had at the smaller size.
    pub prefix_root: Hash,
    /// A consistency proof from (smaller size, `prefix_root`) to the larger checkpoint.
    pub proof: Vec<Hash>,
}

/// Evidence against one witness.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evidence {
    /// The accused witness.
    pub witness: WitnessKey,
    /// The first cosigned checkpoint (the smaller one for inconsistency).
    pub first: CosignedCheckpoint,
    /// The second cosigned checkpoint.
    pub second: CosignedCheckpoint,
    /// `None` for equivocation at one size; the proof for inconsistency across sizes.
    pub inconsistency: Option<InconsistencyProof>,
}

/// What the evidence proves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Offence {
    /// Two roots for one size.
    Equivocation,
    /// Two trees that do not extend each other.
    Inconsistency,
}

/// Checks evidence offline, with nothing but what it carries: both cosignatures verify under
/// the accused witness's key, both checkpoints are for one origin, and they conflict.
pub fn verify_evidence(e: &Evidence) -> Result<Offence, EvidenceError> {
    for (which, c) in [("first", &e.first), ("second", &e.second)] {
        if !e.witness.verify(&c.checkpoint.to_text(), &c.cosignature) {
            return Err(EvidenceError::BadCosignature {
                which,
                witness: e.witness.name().to_string(),
            });
        }
    }
    let (a, b) = (&e.first.checkpoint, &e.second.checkpoint);
    if a.origin() != b.origin() {
        return Err(EvidenceError::DifferentOrigins(
            a.origin().to_string(),
            b.origin().to_string(),
        ));
    }
    match &e.inconsistency {
        None if a.size() != b.size() => Err(EvidenceError::MissingProof),
        None if a.root() == b.root() => Err(EvidenceError::NotConflicting),
        None => Ok(Offence::Equivocation),
        Some(p) => {
            if a.size() >= b.size() {
                return Err(EvidenceError::WrongOrder);
            }
            verify_consistency(a.size(), b.size(), &p.prefix_root, b.root(), &p.proof)
                .map_err(|_| EvidenceError::ProofDoesNotVerify)?;
            if p.prefix_root == *a.root() {
                return Err(EvidenceError::Consistent);
            }
            Ok(Offence::Inconsistency)
        }
    }
}

fn order_key(c: &CosignedCheckpoint) -> (Vec<u8>, u64, [u8; 64]) {
    (
        c.checkpoint.to_text().into_bytes(),
        c.cosignature.timestamp,
        c.cosignature.signature,
    )
}

impl Evidence {
    /// Equivocation evidence from two cosignatures by `witness` for the same origin and size
    /// with different roots; `None` if they do not form evidence (including when they differ
    /// only in timestamp). The pair is put in a canonical order.
    pub fn equivocation(
        witness: &WitnessKey,
        a: CosignedCheckpoint,
        b: CosignedCheckpoint,
    ) -> Option<Evidence> {
        let (first, second) = if order_key(&a) <= order_key(&b) {
            (a, b)
        } else {
            (b, a)
        };
        let e = Evidence {
            witness: witness.clone(),
            first,
            second,
            inconsistency: None,
        };
        verify_evidence(&e).ok().map(|_| e)
    }

    /// Inconsistency evidence: `smaller` and `larger` cosigned by `witness`, and a consistency
    /// proof from `prefix_root` (the larger tree's root at the smaller size) to `larger`.
    pub fn inconsistency(
        witness: &WitnessKey,
        smaller: CosignedCheckpoint,
        larger: CosignedCheckpoint,
        prefix_root: Hash,
        proof: Vec<Hash>,
    ) -> Result<Evidence, EvidenceError> {
        let e = Evidence {
            witness: witness.clone(),
            first: smaller,
            second: larger,
            inconsistency: Some(InconsistencyProof { prefix_root, proof }),
        };
        verify_evidence(&e)?;
        Ok(e)
    }

    /// The canonical encoding (the gossip message and the body of a `Slash` entry).
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.u8(EVIDENCE_FORMAT);
        w.u8(if self.inconsistency.is_some() { 2 } else { 1 });
        w.str(self.witness.name());
        w.fixed(self.witness.public_key());
        for c in [&self.first, &self.second] {
            w.str(&c.checkpoint.to_text());
            w.u64(c.cosignature.timestamp);
            w.fixed(&c.cosignature.signature);
        }
        if let Some(p) = &self.inconsistency {
            w.fixed(&p.prefix_root.0);
            w.count(p.proof.len());
            for h in &p.proof {
                w.fixed(&h.0);
            }
        }
        w.finish()
    }

    /// Decodes evidence from arbitrary bytes (never panics). Decoding does not verify it:
    /// call [`verify_evidence`].
    pub fn decode(bytes: &[u8]) -> Result<Evidence, EvidenceError> {
        let mut r = Reader::new(bytes);
        let v = r.u8("evidence format")?;
        if v != EVIDENCE_FORMAT {
            return Err(EvidenceError::Decode(format!(
                "unknown evidence format {v}"
            )));
        }
        let kind = r.u8("evidence kind")?;
        if kind != 1 && kind != 2 {
            return Err(EvidenceError::Decode(format!(
                "unknown evidence kind {kind}"
            )));
        }
        let name = r.str("witness name", crate::note::MAX_KEY_NAME)?;
        let key = r.array("witness key")?;
        let witness = WitnessKey::from_parts(name, key)
            .map_err(|e| EvidenceError::Decode(format!("witness key: {e}")))?;
        let read_cosigned = |r: &mut Reader<'_>| -> Result<CosignedCheckpoint, EvidenceError> {
            let text = r.str("checkpoint", MAX_CHECKPOINT_TEXT)?;
            let checkpoint = Checkpoint::parse(text)
                .map_err(|e| EvidenceError::Decode(format!("checkpoint: {e}")))?;
            let timestamp = r.u64("timestamp")?;
            let signature = r.array("signature")?;
            Ok(CosignedCheckpoint {
                checkpoint,
                cosignature: Cosignature {
                    name: witness.name().to_string(),
                    key_id: witness.key_id(),
                    timestamp,
                    signature,
                },
            })
        };
        let first = read_cosigned(&mut r)?;
        let second = read_cosigned(&mut r)?;
        let inconsistency = if kind == 2 {
            let prefix_root = Hash(r.array("prefix root")?);
            let n = r.count("proof", MAX_PROOF_HASHES, 32)?;
            let mut proof = Vec::with_capacity(n);
            for _ in 0..n {
                proof.push(Hash(r.array("proof hash")?));
            }
            Some(InconsistencyProof { prefix_root, proof })
        } else {
            None
        };
        r.finish("evidence")?;
        Ok(Evidence {
            witness,
            first,
            second,
            inconsistency,
        })
    }

    /// SHA-256 of the encoding: an id for gossip de-duplication.
    pub fn id(&self) -> Hash {
        Hash::digest(&self.encode())
    }
}
