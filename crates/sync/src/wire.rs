//! Frames and messages of `hearth/sync/1`.
//!
//! A frame is a 4-byte big-endian length, then that many bytes: a version byte (1), a message
//! type byte, and the body. Frames above [`MAX_FRAME`] are refused from the length alone,
//! before any allocation. Bodies use a small explicit encoding (big-endian integers,
//! `u32`-length-prefixed byte strings and lists); every count is checked against the bytes
//! actually left, so a hostile length can never make the reader allocate more than the frame.

use crate::clinic::{ClinicId, SignedEntry};

/// The protocol version carried in every frame.
pub const VERSION: u8 = 1;

/// The largest frame accepted or sent: 16 MiB.
pub const MAX_FRAME: usize = 16 << 20;

/// What can be wrong with bytes received from a peer.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum WireError {
    /// The length prefix announces more than [`MAX_FRAME`].
    #[error("the peer announced a {0}-byte frame, above the 16 MiB limit; the peer is dropped")]
    TooLarge(usize),
    /// The frame is empty or shorter than its header.
    #[error("the peer sent a frame without a header; the peer is dropped")]
    Empty,
    /// A frame of another protocol version.
    #[error("the peer speaks sync protocol version {0}, this device version 1: update both devices to the same Hearth version")]
    Version(u8),
    /// An unknown message type.
    #[error("the peer sent an unknown message type {0}; the peer is dropped")]
    UnknownType(u8),
    /// The body ends early, has bytes left over, or a field is malformed.
    #[error("the peer sent a malformed {what} message ({why}); the peer is dropped")]
    Malformed {
        /// The message.
        what: &'static str,
        /// The fault.
        why: String,
    },
}

/// Why a session was closed: sent to the peer in [`Message::Close`] and logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseCode {
    /// Sync finished normally.
    Done = 0,
    /// The remote device is not an active member of this clinic.
    NotMember = 1,
    /// The peer belongs to another clinic.
    WrongClinic = 2,
    /// The peer broke the protocol (malformed frame, unexpected message, bad document).
    Protocol = 3,
    /// The peer took too long.
    Timeout = 4,
    /// Something failed on this device.
    Internal = 5,
    /// An invite ticket was refused.
    InviteRefused = 6,
}

impl CloseCode {
    fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            0 => Self::Done,
            1 => Self::NotMember,
            2 => Self::WrongClinic,
            3 => Self::Protocol,
            4 => Self::Timeout,
            5 => Self::Internal,
            6 => Self::InviteRefused,
            _ => return None,
        })
    }
}

/// A document in a manifest: its id, record kind and Automerge heads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocMeta {
    /// Record id.
    pub id: String,
    /// Record kind (`session-note`, …).
    pub kind: String,
    /// Automerge heads, sorted.
    pub heads: Vec<[u8; 32]>,
}

/// One document's part of a [`Message::Batch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocPayload {
    /// An Automerge sync message for a document both sides offered.
    Sync(Vec<u8>),
    /// A whole saved document the receiver does not have.
    Whole(Vec<u8>),
}

/// A batch item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchItem {
    /// Record id.
    pub id: String,
    /// Record kind.
    pub kind: String,
    /// The payload.
    pub payload: DocPayload,
}

/// A request to join a clinic with an invite ticket.
#[derive(Clone, PartialEq, Eq)]
pub struct JoinRequest {
    /// The clinic in the ticket.
    pub clinic: ClinicId,
    /// The ticket's one-time secret.
    pub secret: [u8; 32],
    /// The joiner's audit-log (Ed25519) public key.
    pub log_key: [u8; 32],
    /// The joiner's vault device id (its Automerge actor, its consent member id).
    pub device: Vec<u8>,
    /// A short name for the device, shown in member lists.
    pub name: String,
    /// Ed25519 signature by `log_key` over the request (see [`JoinRequest::signed_bytes`]),
    /// binding the log key to the endpoint that dials.
    pub signature: [u8; 64],
}

impl std::fmt::Debug for JoinRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JoinRequest")
            .field("clinic", &self.clinic.to_hex())
            .field("secret", &"<hidden>")
            .field("log_key", &hex::encode(self.log_key))
            .field("name", &self.name)
            .finish()
    }
}

impl Drop for JoinRequest {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.secret);
    }
}

impl JoinRequest {
    /// A request for `ticket` from the device with this log key, endpoint and vault device id.
    pub fn signed(
        ticket: &crate::clinic::Ticket,
        log_key: &ed25519_dalek::SigningKey,
        endpoint: [u8; 32],
        device: Vec<u8>,
        name: &str,
    ) -> Self {
        use ed25519_dalek::Signer;
        let mut r = Self {
            clinic: ticket.clinic,
            secret: ticket.secret,
            log_key: log_key.verifying_key().to_bytes(),
            device,
            name: name.to_string(),
            signature: [0; 64],
        };
        r.signature = log_key.sign(&r.signed_bytes(&endpoint)).to_bytes();
        r
    }

    /// What the joiner signs: domain, clinic, secret, endpoint id, log key, device, name.
    pub fn signed_bytes(&self, endpoint: &[u8; 32]) -> Vec<u8> {
        let mut w = Writer::default();
        w.bytes(b"hearth-join/v1");
        w.raw(&self.clinic.0);
        w.raw(&self.secret);
        w.raw(endpoint);
        w.raw(&self.log_key);
        w.bytes(&self.device);
        w.bytes(self.name.as_bytes());
        w.0
    }
}

/// A message of `hearth/sync/1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// First message each way: which clinic, and how far this side's registrar log reaches.
    Hello {
        /// The clinic.
        clinic: ClinicId,
        /// Entries in the sender's registrar log.
        log_len: u64,
        /// Hash of the sender's last registrar-log entry.
        log_head: [u8; 32],
    },
    /// Registrar-log entries the receiver lacks, starting at index `from`.
    Log {
        /// Index of the first entry.
        from: u64,
        /// The signed entries.
        entries: Vec<SignedEntry>,
    },
    /// What the sender offers this peer: consent contracts of the patients concerned, then
    /// the documents (id, kind, heads).
    Manifest {
        /// Signed consent contracts (`hearth-signed-consent/1` JSON).
        contracts: Vec<Vec<u8>>,
        /// The documents.
        docs: Vec<DocMeta>,
        /// Evidence of members' misbehaviour the sender holds
        /// ([`crate::witness::MemberEvidence`], encoded), so it spreads to every device.
        evidence: Vec<Vec<u8>>,
        /// Cosigned checkpoints the sender holds, the newest of each member's log (signed
        /// notes with cosignature lines): gossip, so a log or witness that shows two views of
        /// one size is caught by whoever sees both. Optional on the wire (absent: none).
        cosigned: Vec<Vec<u8>>,
    },
    /// One round of per-document sync.
    Batch {
        /// Items, at most one per document.
        items: Vec<BatchItem>,
    },
    /// The dialer saw a quiet round both ways: the session is over.
    Done,
    /// Closing, with a reason for people.
    Close {
        /// Why.
        code: CloseCode,
        /// In plain words.
        reason: String,
    },
    /// Join with an invite (instead of `Hello`).
    Join(JoinRequest),
    /// The registrar accepted a join: its whole log, the new member's entry last.
    Welcome {
        /// The registrar log.
        entries: Vec<SignedEntry>,
    },
    /// After the rounds: the sender's newest signed checkpoint, for the receiver to witness.
    Checkpoint(crate::witness::CheckpointOffer),
    /// The answer to a [`Message::Checkpoint`]: a cosignature, a refusal or evidence.
    Witnessed(crate::witness::WitnessReply),
}

const T_HELLO: u8 = 1;
const T_LOG: u8 = 2;
const T_MANIFEST: u8 = 3;
const T_BATCH: u8 = 4;
const T_DONE: u8 = 5;
const T_CLOSE: u8 = 6;
const T_JOIN: u8 = 7;
const T_WELCOME: u8 = 8;
const T_CHECKPOINT: u8 = 9;
const T_WITNESSED: u8 = 10;

/// Encoder of bodies.
#[derive(Default)]
pub(crate) struct Writer(pub(crate) Vec<u8>);

impl Writer {
    pub(crate) fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    pub(crate) fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    pub(crate) fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    pub(crate) fn raw(&mut self, v: &[u8]) {
        self.0.extend_from_slice(v);
    }
    pub(crate) fn len(&mut self, n: usize) {
        // Every length is bounded by a frame (16 MiB), far below u32::MAX.
        self.u32(u32::try_from(n).unwrap_or(u32::MAX));
    }
    pub(crate) fn bytes(&mut self, v: &[u8]) {
        self.len(v.len());
        self.raw(v);
    }
    pub(crate) fn str(&mut self, v: &str) {
        self.bytes(v.as_bytes());
    }
}

/// Decoder of bodies: every read checks what is left.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    what: &'static str,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8], what: &'static str) -> Self {
        Self { buf, what }
    }
    pub(crate) fn bad(&self, why: impl Into<String>) -> WireError {
        WireError::Malformed {
            what: self.what,
            why: why.into(),
        }
    }
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        if self.buf.len() < n {
            return Err(self.bad(format!("needs {n} more bytes, {} left", self.buf.len())));
        }
        let (a, b) = self.buf.split_at(n);
        self.buf = b;
        Ok(a)
    }
    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], WireError> {
        let s = self.take(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }
    pub(crate) fn u8(&mut self) -> Result<u8, WireError> {
        Ok(self.array::<1>()?[0])
    }
    pub(crate) fn u32(&mut self) -> Result<u32, WireError> {
        Ok(u32::from_be_bytes(self.array()?))
    }
    pub(crate) fn u64(&mut self) -> Result<u64, WireError> {
        Ok(u64::from_be_bytes(self.array()?))
    }
    /// A count of items each at least `min_item` bytes long, checked against what is left.
    pub(crate) fn count(&mut self, min_item: usize) -> Result<usize, WireError> {
        let n = usize::try_from(self.u32()?).map_err(|_| self.bad("count"))?;
        if n.saturating_mul(min_item.max(1)) > self.buf.len() {
            return Err(self.bad(format!("a list of {n} items cannot fit in what is left")));
        }
        Ok(n)
    }
    pub(crate) fn bytes(&mut self) -> Result<Vec<u8>, WireError> {
        let n = usize::try_from(self.u32()?).map_err(|_| self.bad("length"))?;
        Ok(self.take(n)?.to_vec())
    }
    pub(crate) fn string(&mut self, max: usize) -> Result<String, WireError> {
        let b = self.bytes()?;
        if b.len() > max {
            return Err(self.bad(format!("a text field of {} bytes (limit {max})", b.len())));
        }
        String::from_utf8(b).map_err(|_| self.bad("text that is not UTF-8"))
    }
    pub(crate) fn end(&self) -> Result<(), WireError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(self.bad(format!("{} bytes left over", self.buf.len())))
        }
    }
}

/// Longest record id or kind accepted.
const MAX_ID: usize = 128;
/// Longest reason or name accepted.
const MAX_TEXT: usize = 1024;

impl Message {
    /// A short name for logs.
    pub fn name(&self) -> &'static str {
        match self {
            Message::Hello { .. } => "hello",
            Message::Log { .. } => "log",
            Message::Manifest { .. } => "manifest",
            Message::Batch { .. } => "batch",
            Message::Done => "done",
            Message::Close { .. } => "close",
            Message::Join(_) => "join",
            Message::Welcome { .. } => "welcome",
            Message::Checkpoint(_) => "checkpoint",
            Message::Witnessed(_) => "witnessed",
        }
    }

    /// The frame: length, version, type, body.
    pub fn to_frame(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.u32(0);
        w.u8(VERSION);
        match self {
            Message::Hello {
                clinic,
                log_len,
                log_head,
            } => {
                w.u8(T_HELLO);
                w.raw(&clinic.0);
                w.u64(*log_len);
                w.raw(log_head);
            }
            Message::Log { from, entries } => {
                w.u8(T_LOG);
                w.u64(*from);
                w.len(entries.len());
                for e in entries {
                    w.bytes(&e.to_bytes());
                }
            }
            Message::Manifest {
                contracts,
                docs,
                evidence,
                cosigned,
            } => {
                w.u8(T_MANIFEST);
                w.len(contracts.len());
                for c in contracts {
                    w.bytes(c);
                }
                w.len(docs.len());
                for d in docs {
                    w.str(&d.id);
                    w.str(&d.kind);
                    w.len(d.heads.len());
                    for h in &d.heads {
                        w.raw(h);
                    }
                }
                w.len(evidence.len());
                for e in evidence {
                    w.bytes(e);
                }
                w.len(cosigned.len());
                for c in cosigned {
                    w.bytes(c);
                }
            }
            Message::Batch { items } => {
                w.u8(T_BATCH);
                w.len(items.len());
                for i in items {
                    w.str(&i.id);
                    w.str(&i.kind);
                    match &i.payload {
                        DocPayload::Sync(b) => {
                            w.u8(1);
                            w.bytes(b);
                        }
                        DocPayload::Whole(b) => {
                            w.u8(2);
                            w.bytes(b);
                        }
                    }
                }
            }
            Message::Done => w.u8(T_DONE),
            Message::Close { code, reason } => {
                w.u8(T_CLOSE);
                w.u8(*code as u8);
                let mut r = reason.as_str();
                while r.len() > MAX_TEXT {
                    let mut cut = MAX_TEXT;
                    while !r.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    r = &r[..cut];
                }
                w.str(r);
            }
            Message::Join(j) => {
                w.u8(T_JOIN);
                w.raw(&j.clinic.0);
                w.raw(&j.secret);
                w.raw(&j.log_key);
                w.bytes(&j.device);
                w.str(&j.name);
                w.raw(&j.signature);
            }
            Message::Welcome { entries } => {
                w.u8(T_WELCOME);
                w.len(entries.len());
                for e in entries {
                    w.bytes(&e.to_bytes());
                }
            }
            Message::Checkpoint(o) => {
                w.u8(T_CHECKPOINT);
                o.write(&mut w);
            }
            Message::Witnessed(r) => {
                w.u8(T_WITNESSED);
                r.write(&mut w);
            }
        }
        let mut out = w.0;
        let body = u32::try_from(out.len() - 4).unwrap_or(u32::MAX);
        out[..4].copy_from_slice(&body.to_be_bytes());
        out
    }

    /// Decode a frame's payload (what follows the length prefix).
    pub fn decode(payload: &[u8]) -> Result<Message, WireError> {
        let (&version, rest) = payload.split_first().ok_or(WireError::Empty)?;
        if version != VERSION {
            return Err(WireError::Version(version));
        }
        let (&ty, body) = rest.split_first().ok_or(WireError::Empty)?;
        let name = match ty {
            T_HELLO => "hello",
            T_LOG => "log",
            T_MANIFEST => "manifest",
            T_BATCH => "batch",
            T_DONE => "done",
            T_CLOSE => "close",
            T_JOIN => "join",
            T_WELCOME => "welcome",
            T_CHECKPOINT => "checkpoint",
            T_WITNESSED => "witnessed",
            other => return Err(WireError::UnknownType(other)),
        };
        let mut r = Reader::new(body, name);
        let msg = match ty {
            T_HELLO => Message::Hello {
                clinic: ClinicId(r.array()?),
                log_len: r.u64()?,
                log_head: r.array()?,
            },
            T_LOG => {
                let from = r.u64()?;
                let entries = entries(&mut r)?;
                Message::Log { from, entries }
            }
            T_MANIFEST => {
                let n = r.count(4)?;
                let mut contracts = Vec::with_capacity(n);
                for _ in 0..n {
                    contracts.push(r.bytes()?);
                }
                let n = r.count(12)?;
                let mut docs = Vec::with_capacity(n);
                for _ in 0..n {
                    let id = r.string(MAX_ID)?;
                    let kind = r.string(MAX_ID)?;
                    let h = r.count(32)?;
                    let mut heads = Vec::with_capacity(h);
                    for _ in 0..h {
                        heads.push(r.array()?);
                    }
                    docs.push(DocMeta { id, kind, heads });
                }
                let n = r.count(4)?;
                let mut evidence = Vec::with_capacity(n);
                for _ in 0..n {
                    evidence.push(r.bytes()?);
                }
                // Devices from before checkpoint gossip end the manifest here.
                let mut cosigned = Vec::new();
                if r.end().is_err() {
                    let n = r.count(4)?;
                    cosigned.reserve(n);
                    for _ in 0..n {
                        cosigned.push(r.bytes()?);
                    }
                }
                Message::Manifest {
                    contracts,
                    docs,
                    evidence,
                    cosigned,
                }
            }
            T_BATCH => {
                let n = r.count(13)?;
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    let id = r.string(MAX_ID)?;
                    let kind = r.string(MAX_ID)?;
                    let payload = match r.u8()? {
                        1 => DocPayload::Sync(r.bytes()?),
                        2 => DocPayload::Whole(r.bytes()?),
                        other => return Err(r.bad(format!("payload type {other}"))),
                    };
                    items.push(BatchItem { id, kind, payload });
                }
                Message::Batch { items }
            }
            T_DONE => Message::Done,
            T_CLOSE => {
                let code = r.u8()?;
                let code = CloseCode::from_u8(code).unwrap_or(CloseCode::Protocol);
                Message::Close {
                    code,
                    reason: r.string(MAX_TEXT)?,
                }
            }
            T_JOIN => Message::Join(JoinRequest {
                clinic: ClinicId(r.array()?),
                secret: r.array()?,
                log_key: r.array()?,
                device: {
                    let d = r.bytes()?;
                    if d.len() > 64 {
                        return Err(r.bad("a device id above 64 bytes"));
                    }
                    d
                },
                name: r.string(MAX_TEXT)?,
                signature: r.array()?,
            }),
            T_CHECKPOINT => Message::Checkpoint(crate::witness::CheckpointOffer::read(&mut r)?),
            T_WITNESSED => Message::Witnessed(crate::witness::WitnessReply::read(&mut r)?),
            _ => Message::Welcome {
                entries: entries(&mut r)?,
            },
        };
        r.end()?;
        Ok(msg)
    }
}

fn entries(r: &mut Reader<'_>) -> Result<Vec<SignedEntry>, WireError> {
    let n = r.count(4)?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let b = r.bytes()?;
        out.push(SignedEntry::from_bytes(&b).map_err(|e| r.bad(e.to_string()))?);
    }
    Ok(out)
}

/// Check a frame's 4-byte length prefix: the payload length, or why the peer must be dropped.
pub fn frame_len(prefix: [u8; 4]) -> Result<usize, WireError> {
    let n = usize::try_from(u32::from_be_bytes(prefix)).unwrap_or(usize::MAX);
    if n > MAX_FRAME {
        return Err(WireError::TooLarge(n));
    }
    if n < 2 {
        return Err(WireError::Empty);
    }
    Ok(n)
}

/// An IO-less frame splitter: push received bytes, pop whole messages.
#[derive(Debug, Default)]
pub struct FrameDecoder {
    buf: Vec<u8>,
}

impl FrameDecoder {
    /// Add received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole message, `Ok(None)` if more bytes are needed, or why the peer must be
    /// dropped (an oversized length fails as soon as its 4 bytes are in).
    pub fn next_message(&mut self) -> Result<Option<Message>, WireError> {
        let Some(prefix) = self.buf.first_chunk::<4>() else {
            return Ok(None);
        };
        let n = frame_len(*prefix)?;
        if self.buf.len() < 4 + n {
            return Ok(None);
        }
        let msg = Message::decode(&self.buf[4..4 + n]);
        self.buf.drain(..4 + n);
        msg.map(Some)
    }

    /// Bytes held waiting for the rest of a frame.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(m: Message) {
        let frame = m.to_frame();
        let mut d = FrameDecoder::default();
        // Byte by byte: a frame split anywhere decodes the same.
        for b in &frame[..frame.len() - 1] {
            d.push(std::slice::from_ref(b));
            assert_eq!(d.next_message().unwrap(), None);
        }
        d.push(&frame[frame.len() - 1..]);
        assert_eq!(d.next_message().unwrap(), Some(m));
        assert_eq!(d.pending(), 0);
    }

    #[test]
    fn every_message_round_trips() {
        round_trip(Message::Hello {
            clinic: ClinicId([7; 16]),
            log_len: 3,
            log_head: [9; 32],
        });
        round_trip(Message::Manifest {
            contracts: vec![b"{}".to_vec()],
            docs: vec![DocMeta {
                id: "r-1".into(),
                kind: "session-note".into(),
                heads: vec![[1; 32], [2; 32]],
            }],
            evidence: vec![vec![1, 2, 3]],
            cosigned: vec![b"log\n3\nroot\n".to_vec()],
        });
        // A manifest from a device before gossip (no trailing list) still reads.
        let old = Message::Manifest {
            contracts: vec![],
            docs: vec![],
            evidence: vec![vec![9]],
            cosigned: vec![],
        };
        let frame = old.to_frame();
        let payload = &frame[4..frame.len() - 4];
        assert_eq!(Message::decode(payload).unwrap(), old);
        round_trip(Message::Batch {
            items: vec![
                BatchItem {
                    id: "a".into(),
                    kind: "patient".into(),
                    payload: DocPayload::Sync(vec![0x42, 0]),
                },
                BatchItem {
                    id: "b".into(),
                    kind: "patient".into(),
                    payload: DocPayload::Whole(vec![1, 2, 3]),
                },
            ],
        });
        round_trip(Message::Done);
        round_trip(Message::Close {
            code: CloseCode::NotMember,
            reason: "not a member".into(),
        });
        round_trip(Message::Join(JoinRequest {
            clinic: ClinicId([1; 16]),
            secret: [2; 32],
            log_key: [3; 32],
            device: vec![4; 16],
            name: "laptop".into(),
            signature: [5; 64],
        }));
        round_trip(Message::Log {
            from: 0,
            entries: vec![],
        });
    }

    #[test]
    fn oversized_length_is_refused_from_the_prefix_alone() {
        let mut d = FrameDecoder::default();
        d.push(&u32::MAX.to_be_bytes());
        assert!(matches!(d.next_message(), Err(WireError::TooLarge(_))));
        let mut d = FrameDecoder::default();
        d.push(&((MAX_FRAME + 1) as u32).to_be_bytes());
        assert!(matches!(d.next_message(), Err(WireError::TooLarge(_))));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for bad in [
            &[0, 0, 0, 0][..],
            &[0, 0, 0, 2, 2, 1],
            &[0, 0, 0, 2, 1, 99],
            &[0, 0, 0, 3, 1, T_HELLO, 0],
            &[0, 0, 0, 7, 1, T_BATCH, 0xff, 0xff, 0xff, 0xff, 0],
            &[0, 0, 0, 3, 1, T_DONE, 0],
        ] {
            let mut d = FrameDecoder::default();
            d.push(bad);
            assert!(d.next_message().is_err(), "{bad:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = Message::decode(&bytes);
            let mut d = FrameDecoder::default();
            d.push(&bytes);
            while let Ok(Some(_)) = d.next_message() {}
        }
    }
}
