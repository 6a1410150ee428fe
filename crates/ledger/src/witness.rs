//! The witness state machine (C2SP `tlog-witness` semantics, without the HTTP).
//!
//! A witness holds, per origin, the log's verifier key and the size and root of the last
//! checkpoint it cosigned. [`Witness::add_checkpoint`] checks a new checkpoint against that
//! state and returns a [`PendingCosignature`]; no signature exists yet. The caller persists
//! [`PendingCosignature::state_to_persist`] atomically, then calls [`Witness::release`] with
//! the state it persisted, which signs and returns the cosignature. A witness that crashes
//! between the two steps has either not moved (no cosignature went out) or moved (and the
//! cosignature can be requested again): it never cosigns below what it persisted.

use std::collections::BTreeMap;

use crate::checkpoint::SignedCheckpoint;
use crate::cosignature::{Cosignature, WitnessKey, WitnessSigner};
use crate::merkle::{empty_root, verify_consistency, Hash, ProofError};
use crate::note::{NoteError, NoteVerifier, MAX_NOTE_BYTES};
use crate::wire::{Reader, Writer};

/// Format version of an encoded [`WitnessState`].
pub const WITNESS_STATE_FORMAT: u8 = 1;
/// Most consistency proof lines in an add-checkpoint request.
pub const MAX_PROOF_LINES: usize = 63;
const MAX_LOGS: usize = 4096;

/// Why a witness refused (mirrors the C2SP tlog-witness responses; see
/// [`WitnessError::http_status`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WitnessError {
    /// The request or checkpoint is malformed (400).
    #[error("malformed add-checkpoint request: {0}")]
    Malformed(String),
    /// The witness does not track this origin (404).
    #[error("this witness does not witness the log {0:?}")]
    UnknownOrigin(String),
    /// The checkpoint is not validly signed by the log's key (403).
    #[error("the checkpoint is not validly signed by the log's key: {0}")]
    BadLogSignature(NoteError),
    /// The old size is larger than the checkpoint's size (400).
    #[error("old size {old} is larger than the checkpoint size {new}: a log cannot shrink")]
    OldSizeTooLarge {
        /// The old size given.
        old: u64,
        /// The checkpoint's size.
        new: u64,
    },
    /// The old size is not the size this witness last cosigned (409): retry from
    /// `current_size`.
    #[error(
        "conflict: this witness last cosigned size {current_size} for this log; retry from there"
    )]
    Conflict {
        /// The size of the last checkpoint this witness cosigned for the origin.
        current_size: u64,
    },
    /// Same size as the last cosigned checkpoint but a different root: the log forked (409).
    #[error("the log presents a different root for size {size} than the one this witness cosigned: the log forked")]
    RootConflict {
        /// The size.
        size: u64,
    },
    /// The consistency proof does not verify (422).
    #[error("the consistency proof does not verify: {0}")]
    BadProof(ProofError),
    /// `release` was given a state that is not the one the pending cosignature asked to
    /// persist.
    #[error("the persisted witness state is not the one this cosignature needs; persist state_to_persist() first")]
    NotPersisted,
    /// The witness moved on between `add_checkpoint` and `release`; ask again.
    #[error("the witness state changed since this request was checked; send the request again")]
    Stale,
    /// A stored witness state could not be decoded.
    #[error("cannot decode the stored witness state: {0}")]
    State(String),
}

impl WitnessError {
    /// The tlog-witness HTTP status this error corresponds to.
    pub fn http_status(&self) -> u16 {
        match self {
            WitnessError::Malformed(_) | WitnessError::OldSizeTooLarge { .. } => 400,
            WitnessError::BadLogSignature(_) => 403,
            WitnessError::UnknownOrigin(_) => 404,
            WitnessError::Conflict { .. } | WitnessError::RootConflict { .. } => 409,
            WitnessError::BadProof(_) => 422,
            WitnessError::Stale => 409,
            WitnessError::NotPersisted | WitnessError::State(_) => 500,
        }
    }
}

/// What a witness knows about one log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrackedLog {
    /// The log's checkpoint-signing key.
    pub verifier: NoteVerifier,
    /// Size of the last checkpoint cosigned (0 before the first).
    pub size: u64,
    /// Root of the last checkpoint cosigned (the empty root before the first).
    pub root: Hash,
}

/// A witness's persistent state: per origin, the log's key and the last cosigned tree.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WitnessState {
    logs: BTreeMap<String, TrackedLog>,
}

impl WitnessState {
    /// No logs.
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts witnessing `origin` signed by `verifier`, from size 0. Re-adding a known origin
    /// replaces its key and keeps its size and root (key rotation).
    pub fn add_log(&mut self, origin: impl Into<String>, verifier: NoteVerifier) {
        let origin = origin.into();
        match self.logs.get_mut(&origin) {
            Some(t) => t.verifier = verifier,
            None => {
                self.logs.insert(
                    origin,
                    TrackedLog {
                        verifier,
                        size: 0,
                        root: empty_root(),
                    },
                );
            }
        }
    }

    /// What the witness knows about `origin`.
    pub fn log(&self, origin: &str) -> Option<&TrackedLog> {
        self.logs.get(origin)
    }

    /// All tracked logs, by origin.
    pub fn logs(&self) -> impl Iterator<Item = (&str, &TrackedLog)> {
        self.logs.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The versioned binary encoding, for storage.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.u8(WITNESS_STATE_FORMAT);
        w.count(self.logs.len());
        for (origin, t) in &self.logs {
            w.str(origin);
            w.str(&t.verifier.to_string());
            w.u64(t.size);
            w.fixed(&t.root.0);
        }
        w.finish()
    }

    /// Decodes a stored state (never panics).
    pub fn decode(bytes: &[u8]) -> Result<WitnessState, WitnessError> {
        let err = |e: String| WitnessError::State(e);
        let mut r = Reader::new(bytes);
        let v = r.u8("format").map_err(|e| err(e.to_string()))?;
        if v != WITNESS_STATE_FORMAT {
            return Err(err(format!("unknown format {v}")));
        }
        let n = r
            .count("logs", MAX_LOGS, 48)
            .map_err(|e| err(e.to_string()))?;
        let mut logs = BTreeMap::new();
        for _ in 0..n {
            let origin = r.str("origin", 4096).map_err(|e| err(e.to_string()))?;
            let vkey = r.str("verifier", 1024).map_err(|e| err(e.to_string()))?;
            let verifier = NoteVerifier::parse(vkey).map_err(|e| err(e.to_string()))?;
            let size = r.u64("size").map_err(|e| err(e.to_string()))?;
            let root = Hash(r.array("root").map_err(|e| err(e.to_string()))?);
            if logs
                .insert(
                    origin.to_string(),
                    TrackedLog {
                        verifier,
                        size,
                        root,
                    },
                )
                .is_some()
            {
                return Err(err(format!("origin {origin:?} listed twice")));
            }
        }
        r.finish("witness state").map_err(|e| err(e.to_string()))?;
        Ok(WitnessState { logs })
    }
}

/// A tlog-witness add-checkpoint request: `old <size>\n`, one base64 consistency-proof hash
/// per line, a blank line, then the signed checkpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddCheckpointRequest {
    /// The size of the last checkpoint the witness is believed to have cosigned.
    pub old_size: u64,
    /// Consistency proof from `old_size` to the checkpoint.
    pub proof: Vec<Hash>,
    /// The signed checkpoint note.
    pub checkpoint: Vec<u8>,
}

impl AddCheckpointRequest {
    /// The request body.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = format!("old {}\n", self.old_size).into_bytes();
        for h in &self.proof {
            out.extend_from_slice(h.to_base64().as_bytes());
            out.push(b'\n');
        }
        out.push(b'\n');
        out.extend_from_slice(&self.checkpoint);
        out
    }

    /// Parses a request body from arbitrary bytes (never panics).
    pub fn parse(body: &[u8]) -> Result<AddCheckpointRequest, WitnessError> {
        let bad = |m: &str| WitnessError::Malformed(m.to_string());
        if body.len() > MAX_NOTE_BYTES + 8 * 1024 {
            return Err(bad("request too large"));
        }
        let mut rest = body;
        let mut next_line = || -> Option<&[u8]> {
            let i = rest.iter().position(|&b| b == b'\n')?;
            let (line, tail) = rest.split_at(i);
            rest = &tail[1..];
            Some(line)
        };
        let first = next_line().ok_or_else(|| bad("missing 'old <size>' line"))?;
        let first = std::str::from_utf8(first).map_err(|_| bad("old line is not UTF-8"))?;
        let n = first
            .strip_prefix("old ")
            .ok_or_else(|| bad("the first line must be 'old <size>'"))?;
        if n.is_empty()
            || !n.bytes().all(|b| b.is_ascii_digit())
            || (n.len() > 1 && n.starts_with('0'))
        {
            return Err(bad("old size must be a decimal number"));
        }
        let old_size: u64 = n
            .parse()
            .map_err(|_| bad("old size does not fit in 64 bits"))?;
        let mut proof = Vec::new();
        loop {
            let line =
                next_line().ok_or_else(|| bad("missing blank line before the checkpoint"))?;
            if line.is_empty() {
                break;
            }
            if proof.len() == MAX_PROOF_LINES {
                return Err(bad("too many proof lines"));
            }
            let s = std::str::from_utf8(line).map_err(|_| bad("proof line is not UTF-8"))?;
            proof.push(
                Hash::from_base64(s).ok_or_else(|| bad("a proof line is not a base64 hash"))?,
            );
        }
        Ok(AddCheckpointRequest {
            old_size,
            proof,
            checkpoint: rest.to_vec(),
        })
    }
}

/// A checked checkpoint waiting for its new witness state to be persisted.
#[derive(Debug)]
#[must_use = "persist state_to_persist(), then call Witness::release to get the cosignature"]
pub struct PendingCosignature {
    base: WitnessState,
    next: WitnessState,
    origin: String,
    size: u64,
    checkpoint_text: String,
    timestamp: u64,
}

impl PendingCosignature {
    /// The whole witness state to persist (atomically) before the cosignature is released.
    pub fn state_to_persist(&self) -> &WitnessState {
        &self.next
    }

    /// The origin being cosigned.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The checkpoint size being cosigned.
    pub fn size(&self) -> u64 {
        self.size
    }
}

/// A witness: its cosigning key and state.
#[derive(Debug)]
pub struct Witness {
    signer: WitnessSigner,
    state: WitnessState,
}

impl Witness {
    /// A witness with the given key and (loaded) state.
    pub fn new(signer: WitnessSigner, state: WitnessState) -> Witness {
        Witness { signer, state }
    }

    /// The witness's public key.
    pub fn key(&self) -> &WitnessKey {
        self.signer.witness_key()
    }

    /// The current (persisted) state.
    pub fn state(&self) -> &WitnessState {
        &self.state
    }

    /// [`Witness::add_checkpoint`] for a parsed request.
    pub fn handle(
        &self,
        req: &AddCheckpointRequest,
        now: u64,
    ) -> Result<PendingCosignature, WitnessError> {
        self.add_checkpoint(req.old_size, &req.proof, &req.checkpoint, now)
    }

    /// Checks `checkpoint` (a signed note) against the state: known origin, the log's valid
    /// signature, `old_size <= size`, `old_size` equal to the last cosigned size, and the
    /// consistency proof from the last cosigned root (or equal roots at equal sizes).
    /// `now` (seconds since the Unix epoch) becomes the cosignature's timestamp.
    pub fn add_checkpoint(
        &self,
        old_size: u64,
        proof: &[Hash],
        checkpoint: &[u8],
        now: u64,
    ) -> Result<PendingCosignature, WitnessError> {
        let signed = SignedCheckpoint::parse(checkpoint)
            .map_err(|e| WitnessError::Malformed(e.to_string()))?;
        let cp = signed.checkpoint();
        let tracked = self
            .state
            .log(cp.origin())
            .ok_or_else(|| WitnessError::UnknownOrigin(cp.origin().to_string()))?;
        tracked
            .verifier
            .verify_note(signed.note())
            .map_err(WitnessError::BadLogSignature)?;
        if old_size > cp.size() {
            return Err(WitnessError::OldSizeTooLarge {
                old: old_size,
                new: cp.size(),
            });
        }
        if old_size != tracked.size {
            return Err(WitnessError::Conflict {
                current_size: tracked.size,
            });
        }
        if old_size == cp.size() {
            if !proof.is_empty() {
                return Err(WitnessError::BadProof(ProofError::WrongLength));
            }
            if tracked.root != *cp.root() {
                return Err(WitnessError::RootConflict { size: old_size });
            }
        } else if old_size == 0 {
            if !proof.is_empty() {
                return Err(WitnessError::BadProof(ProofError::WrongLength));
            }
        } else {
            verify_consistency(old_size, cp.size(), &tracked.root, cp.root(), proof)
                .map_err(WitnessError::BadProof)?;
        }
        let mut next = self.state.clone();
        if let Some(t) = next.logs.get_mut(cp.origin()) {
            t.size = cp.size();
            t.root = *cp.root();
        }
        Ok(PendingCosignature {
            base: self.state.clone(),
            next,
            origin: cp.origin().to_string(),
            size: cp.size(),
            checkpoint_text: cp.to_text(),
            timestamp: now,
        })
    }

    /// Releases the cosignature once `persisted` — the state the caller wrote to storage —
    /// equals [`PendingCosignature::state_to_persist`], and the witness has not moved since
    /// the request was checked. Adopts `persisted` as the current state.
    pub fn release(
        &mut self,
        pending: PendingCosignature,
        persisted: &WitnessState,
    ) -> Result<Cosignature, WitnessError> {
        if self.state != pending.base {
            return Err(WitnessError::Stale);
        }
        if *persisted != pending.next {
            return Err(WitnessError::NotPersisted);
        }
        self.state = pending.next;
        Ok(self
            .signer
            .cosign(&pending.checkpoint_text, pending.timestamp))
    }

    /// Encodes a cosignature as the tlog-witness response body (one signature line).
    pub fn response_body(cosig: &Cosignature) -> Vec<u8> {
        cosig.to_line().into_bytes()
    }
}
