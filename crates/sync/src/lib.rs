//! Clinic sync: a small clinic's devices (and a patient's own) exchange records peer to peer,
//! with no server.
//!
//! - [`clinic`]: the clinic, its registrar-signed membership log and invite tickets;
//! - [`wire`]: frames (length-prefixed, versioned, at most 16 MiB) and messages;
//! - [`session`]: the per-peer state machine (membership gate, manifests, per-document
//!   Automerge sync), IO-less: it takes messages and returns effects, reading and writing
//!   records through a [`Store`];
//! - [`guard`]: Automerge calls on peer input, checked and panic-guarded;
//! - [`witness`]: checkpoints offered and witnessed after the rounds (ledger over the wire);
//! - `net` (feature `net`, on by default): the iroh endpoint that carries sessions, and
//!   `content`: attachments' content over iroh-blobs (sealed, BLAKE3-verified, resumable).
//!
//! The protocol is described in `crates/sync/DESIGN.md`.
//!
//! ```
//! use hearth_sync::{Message, FrameDecoder};
//! let mut decoder = FrameDecoder::default();
//! decoder.push(&Message::Done.to_frame());
//! assert_eq!(decoder.next_message().unwrap(), Some(Message::Done));
//! // A length above the 16 MiB cap is refused from its 4 bytes alone.
//! decoder.push(&u32::MAX.to_be_bytes());
//! assert!(decoder.next_message().is_err());
//! ```

pub mod clinic;
#[cfg(feature = "net")]
pub mod content;
pub mod guard;
pub mod memory;
#[cfg(feature = "net")]
pub mod net;
pub mod session;
pub mod wire;
pub mod witness;

pub use clinic::{
    endpoint_id, endpoint_secret, Clinic, ClinicError, ClinicId, Member, Role, SignedEntry, Ticket,
};
pub use session::{Effect, Offer, Report, Session, Store, StoreError};
pub use wire::{CloseCode, DocMeta, FrameDecoder, JoinRequest, Message, WireError};
pub use witness::{CheckpointOffer, WitnessReply};
