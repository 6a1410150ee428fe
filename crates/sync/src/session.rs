//! The per-peer session: a state machine that takes received messages and returns effects
//! (messages to send, close, finished). It does no network IO; it reads and writes records
//! through the [`Store`] the caller gives it (hearth-core's vault, or a map in tests).
//!
//! ```text
//! dialer                                   acceptor
//!   Hello ───────────────────────────────▶  gate: clinic id, remote endpoint an active member
//!                                           (else Close NotMember, logged; nothing else sent)
//!         ◀──────────────────────── Hello
//!         ◀──────────── Log (entries the dialer lacks)
//!   gate: remote an active member
//!   Log (entries the acceptor lacks) ────▶
//!   Manifest (contracts, docs) ──────────▶
//!         ◀───────── Manifest (contracts, docs)
//!   Batch (whole docs, sync messages) ───▶
//!         ◀──────────────────────── Batch
//!   …rounds until one quiet round each way…
//!   Checkpoint (the dialer's newest) ────▶  witness: cosign, refuse, or evidence
//!         ◀──────────────────── Witnessed
//!         ◀─── Checkpoint (the acceptor's)
//!   Witnessed ───────────────────────────▶
//!   Done ────────────────────────────────▶
//! ```
//! A joiner sends `Join` instead of `Hello`; the registrar answers `Welcome` (its log, the
//! new member last) or `Close InviteRefused`.

use std::collections::{BTreeMap, BTreeSet};

use automerge::sync;
use automerge::Automerge;
use ed25519_dalek::{Signature, Verifier, VerifyingKey};

use crate::clinic::{Clinic, Member, SignedEntry, Ticket};
use crate::guard;
use crate::wire::{BatchItem, CloseCode, DocMeta, DocPayload, JoinRequest, Message};

/// Most rounds a session may take before it is judged not to settle.
pub const MAX_ROUNDS: u32 = 64;

/// The most bytes of whole documents one batch carries (well under the frame limit).
pub const MAX_BATCH_BYTES: usize = 4 << 20;

/// What a store can answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Consent (or a rule) refuses: the change is dropped, the session goes on.
    #[error("not allowed: {0}")]
    Denied(String),
    /// The peer's data is malformed: the peer is dropped.
    #[error("invalid data from the peer: {0}")]
    Invalid(String),
    /// Something failed on this device.
    #[error("{0}")]
    Failed(String),
}

/// What this device offers one peer.
#[derive(Debug, Clone, Default)]
pub struct Offer {
    /// Signed consent contracts of the patients whose documents are offered.
    pub contracts: Vec<Vec<u8>>,
    /// The documents the peer may read, with their heads.
    pub docs: Vec<DocMeta>,
    /// Evidence of members' misbehaviour this device holds (encoded
    /// [`crate::witness::MemberEvidence`]).
    pub evidence: Vec<Vec<u8>>,
    /// Cosigned checkpoints to gossip: the newest this device holds of each member's log.
    pub cosigned: Vec<Vec<u8>>,
}

/// The records and clinic state of this device, as sync needs them. Implemented by
/// hearth-core over the vault (and by a map in tests). Calls may block on disk.
pub trait Store: Send + Sync {
    /// The clinic this device belongs to, if any.
    fn clinic(&self) -> Result<Option<Clinic>, StoreError>;
    /// Persist a clinic whose log grew (entries from a peer, already verified).
    fn save_clinic(&self, clinic: &Clinic) -> Result<(), StoreError>;
    /// What `peer` may receive: only documents consent lets it read; never a psychotherapy
    /// note unless a contract says so.
    fn offer(&self, peer: &Member) -> Result<Offer, StoreError>;
    /// A document's saved Automerge bytes (only ids this store offered are asked for).
    fn document(&self, id: &str) -> Result<Vec<u8>, StoreError>;
    /// Merge a document received from `peer`, if the peer may write its category; `true` if
    /// anything changed.
    fn apply(
        &self,
        peer: &Member,
        kind: &str,
        id: &str,
        document: &[u8],
    ) -> Result<bool, StoreError>;
    /// [`Store::apply`] for several whole documents (kind, id, bytes) of one batch, in order;
    /// a store may write them in one transaction. One result per document.
    fn apply_many(
        &self,
        peer: &Member,
        docs: &[(String, String, Vec<u8>)],
    ) -> Vec<Result<bool, StoreError>> {
        docs.iter()
            .map(|(kind, id, bytes)| self.apply(peer, kind, id, bytes))
            .collect()
    }
    /// Evidence of members' misbehaviour received from `peer` (encoded
    /// [`crate::witness::MemberEvidence`]): keep what verifies (a registrar also slashes the
    /// member's stake); returns how many items were new. Items that do not verify are ignored.
    fn accept_evidence(&self, peer: &Member, items: &[Vec<u8>]) -> Result<usize, StoreError> {
        let _ = (peer, items);
        Ok(0)
    }
    /// Cosigned checkpoints gossiped by `peer`: keep what verifies, compare with those held
    /// for the same log and size, and keep (and spread) evidence against a log or witness that
    /// signed two views; returns how many new items of evidence that made.
    fn accept_cosigned(&self, peer: &Member, notes: &[Vec<u8>]) -> Result<usize, StoreError> {
        let _ = (peer, notes);
        Ok(0)
    }
    /// Consent contracts received from `peer`; returns how many were new.
    fn accept_contracts(&self, peer: &Member, contracts: &[Vec<u8>]) -> Result<usize, StoreError>;
    /// Registrar only: redeem an invite for the device at `endpoint` (its request's signature
    /// is already checked); returns the whole registrar log, the new member's entry last.
    fn redeem(
        &self,
        endpoint: [u8; 32],
        request: &JoinRequest,
    ) -> Result<Vec<SignedEntry>, StoreError>;
    /// Record content is about to be sent to `peer` (documents sent whole, or sync messages
    /// that carry changes): log it in the audit log. Called once per batch.
    fn shared(&self, peer: &Member, ids: &[String]) {
        let _ = (peer, ids);
    }
    /// A device was refused (not a member, bad invite, misbehaviour): log it in the audit log.
    fn refused(&self, endpoint: [u8; 32], reason: &str);
    /// This device's newest signed checkpoint for `peer` to witness, with a consistency proof
    /// from `from` (the size the witness says it last cosigned) or, when `None`, from the last
    /// checkpoint `peer` is known to have cosigned (`None`: nothing to offer).
    fn checkpoint_for(
        &self,
        peer: &Member,
        from: Option<u64>,
    ) -> Option<crate::witness::CheckpointOffer> {
        let _ = (peer, from);
        None
    }
    /// Witness `peer`'s checkpoint (persisting the witness state before cosigning).
    fn witness(
        &self,
        peer: &Member,
        offer: &crate::witness::CheckpointOffer,
    ) -> crate::witness::WitnessReply {
        let _ = (peer, offer);
        crate::witness::WitnessReply::Skipped("this device does not witness".into())
    }
    /// Attachments' content, which travels apart from the records (iroh-blobs, addressed by
    /// the BLAKE3 of its transfer form, sealed under a key the attachment's record carries).
    /// Write the transfer form addressed by `hash` into `out` if `peer` may read its
    /// attachment; returns the attachment's record id, `None` when there is none here, its
    /// content is not here, or consent does not let `peer` read it.
    fn sealed_content(
        &self,
        peer: &Member,
        hash: &[u8; 32],
        out: &mut dyn std::io::Write,
    ) -> Result<Option<String>, StoreError> {
        let _ = (peer, hash, out);
        Ok(None)
    }
    /// The transfer forms of attachments whose record is here but whose content is not.
    fn wanted_content(&self) -> Result<Vec<[u8; 32]>, StoreError> {
        Ok(Vec::new())
    }
    /// Keep the content whose transfer form (`hash`) `sealed` yields, checked against its
    /// record; returns its size.
    fn import_content(
        &self,
        hash: &[u8; 32],
        sealed: &mut dyn std::io::Read,
    ) -> Result<u64, StoreError> {
        let _ = (hash, sealed);
        Err(StoreError::Invalid(
            "this store keeps no attachments".into(),
        ))
    }
    /// Run `f` (session work that calls this store) as background work: a store over a vault
    /// with an idle lock makes sure sync never counts as the user's activity.
    fn in_background(&self, f: &mut dyn FnMut()) {
        f();
    }
    /// `peer` answered this device's checkpoint `offered`: keep a cosignature, log a refusal.
    fn witnessed(
        &self,
        peer: &Member,
        offered: &crate::witness::CheckpointOffer,
        reply: &crate::witness::WitnessReply,
    ) {
        let _ = (peer, offered, reply);
    }
}

/// Which end of the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Opened the connection (drives the rounds).
    Dialer,
    /// Accepted it.
    Acceptor,
}

/// What the caller must do.
#[derive(Debug)]
pub enum Effect {
    /// Send this message.
    Send(Message),
    /// Send `Close` with this reason, then drop the connection; the session is over.
    Close {
        /// Why.
        code: CloseCode,
        /// In plain words.
        reason: String,
    },
    /// The session is over (sync finished, or a join was answered); close gracefully.
    Finished(Report),
    /// A join succeeded: the clinic as the registrar sent it (the caller persists it).
    Joined(Clinic),
    /// The peer closed the session with this reason; drop the connection.
    PeerClosed {
        /// Its code.
        code: CloseCode,
        /// Its reason.
        reason: String,
    },
}

/// What a session did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Documents offered to the peer.
    pub offered: usize,
    /// Whole documents sent.
    pub whole_sent: usize,
    /// Sync messages sent.
    pub sync_sent: usize,
    /// Documents received that changed something here.
    pub applied: usize,
    /// Documents received and refused (consent).
    pub refused: usize,
    /// Rounds.
    pub rounds: u32,
    /// Registrar-log entries learnt from the peer.
    pub log_entries: usize,
    /// New consent contracts learnt.
    pub contracts: usize,
    /// New evidence of members' misbehaviour learnt.
    pub evidence: usize,
    /// Documents the peer offered that this device lacks or holds in another state: what a
    /// first sync will bring (progress is `applied` of this).
    pub incoming: usize,
    /// Bytes received (frames), counted by the transport.
    pub bytes_in: u64,
    /// Bytes sent (frames), counted by the transport.
    pub bytes_out: u64,
    /// Attachment records sent whole (new to the peer): it will ask this device for their
    /// content.
    pub attachment_records_sent: usize,
    /// Attachments whose content arrived after the records (and is now in the vault).
    pub attachments: usize,
    /// Bytes of attachment content received (a resumed transfer counts only the rest).
    pub attachment_bytes: u64,
    /// Attachments whose content this device still lacks after the session (the peer lacks
    /// it too, may not share it, or it did not check out); the next sync asks again.
    pub attachments_missing: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    AwaitHello,
    AwaitLog,
    AwaitManifest,
    Rounds,
    /// Checkpoints offered and witnessed both ways (see [`Witnessing`]).
    Witnessing,
    AwaitWelcome,
    Over,
}

struct DocSync {
    kind: String,
    doc: Automerge,
    state: sync::State,
}

/// One session with one peer.
pub struct Session {
    store: std::sync::Arc<dyn Store>,
    side: Side,
    local: [u8; 32],
    remote: [u8; 32],
    phase: Phase,
    clinic: Option<Clinic>,
    peer: Option<Member>,
    peer_log: (u64, [u8; 32]),
    mine: BTreeMap<String, DocMeta>,
    mine_order: Vec<String>,
    theirs: BTreeMap<String, DocMeta>,
    syncing: BTreeMap<String, DocSync>,
    whole_pending: Vec<String>,
    touched: BTreeSet<String>,
    dropped: BTreeSet<String>,
    first_batch: bool,
    join: Option<Ticket>,
    witnessing: Witnessing,
    report: Report,
}

/// Progress of the checkpoint exchange after the rounds. Each side offers its checkpoint; a
/// witness that last cosigned another size than the offer assumed answers `Retry(size)`, and
/// the offer is made once more from that size.
#[derive(Debug, Default)]
struct Witnessing {
    /// What this device offered last.
    offered: crate::witness::CheckpointOffer,
    /// This device already offered again after a `Retry`.
    retried: bool,
    /// The peer answered this device's offer (finally).
    answered: bool,
    /// Checkpoints the peer offered (at most 2: one retry).
    peer_offers: u8,
    /// This device answered the peer's offer with something else than `Retry`.
    peer_done: bool,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("side", &self.side)
            .field("remote", &hex::encode(self.remote))
            .field("phase", &self.phase)
            .finish()
    }
}

fn close(code: CloseCode, reason: impl Into<String>) -> Vec<Effect> {
    vec![Effect::Close {
        code,
        reason: reason.into(),
    }]
}

fn short(id: &[u8; 32]) -> String {
    hex::encode(&id[..5])
}

impl Session {
    fn new(
        store: std::sync::Arc<dyn Store>,
        side: Side,
        local: [u8; 32],
        remote: [u8; 32],
    ) -> Self {
        Self {
            store,
            side,
            local,
            remote,
            phase: Phase::AwaitHello,
            clinic: None,
            peer: None,
            peer_log: (0, [0; 32]),
            mine: BTreeMap::new(),
            mine_order: Vec::new(),
            theirs: BTreeMap::new(),
            syncing: BTreeMap::new(),
            whole_pending: Vec::new(),
            touched: BTreeSet::new(),
            dropped: BTreeSet::new(),
            first_batch: true,
            join: None,
            witnessing: Witnessing::default(),
            report: Report::default(),
        }
    }

    /// A session opened by this device (`local`) to `remote`; returns the first messages.
    pub fn dial(
        store: std::sync::Arc<dyn Store>,
        local: [u8; 32],
        remote: [u8; 32],
    ) -> (Self, Vec<Effect>) {
        let mut s = Self::new(store, Side::Dialer, local, remote);
        let effects = match s.store.clinic() {
            Ok(Some(c)) => {
                let hello = Message::Hello {
                    clinic: c.id(),
                    log_len: c.len(),
                    log_head: c.head(),
                };
                s.clinic = Some(c);
                vec![Effect::Send(hello)]
            }
            Ok(None) => close(
                CloseCode::Internal,
                "this device is in no clinic: create one or join with a ticket first",
            ),
            Err(e) => close(CloseCode::Internal, e.to_string()),
        };
        let effects = s.after(effects);
        (s, effects)
    }

    /// A session for a connection `remote` opened to this device (`local`). Nothing is sent
    /// before the peer's first message passes the membership gate.
    pub fn accept(store: std::sync::Arc<dyn Store>, local: [u8; 32], remote: [u8; 32]) -> Self {
        Self::new(store, Side::Acceptor, local, remote)
    }

    /// A joiner's session: sends `request` (signed by the caller) to the registrar named in
    /// `ticket`.
    pub fn join(
        store: std::sync::Arc<dyn Store>,
        local: [u8; 32],
        ticket: Ticket,
        request: JoinRequest,
    ) -> (Self, Vec<Effect>) {
        let mut s = Self::new(store, Side::Dialer, local, ticket.endpoint);
        s.join = Some(ticket);
        s.phase = Phase::AwaitWelcome;
        (s, vec![Effect::Send(Message::Join(request))])
    }

    /// The session is over.
    pub fn is_over(&self) -> bool {
        self.phase == Phase::Over
    }

    /// What the session did so far.
    pub fn report(&self) -> &Report {
        &self.report
    }

    /// The peer, once past the gate.
    pub fn peer(&self) -> Option<&Member> {
        self.peer.as_ref()
    }

    fn after(&mut self, effects: Vec<Effect>) -> Vec<Effect> {
        if effects.iter().any(|e| !matches!(e, Effect::Send(_))) {
            self.phase = Phase::Over;
        }
        effects
    }

    /// The peer broke the protocol, sent garbage, or timed out: the caller reports it here so
    /// it is logged; returns the close to send.
    pub fn fault(&mut self, code: CloseCode, reason: &str) -> Vec<Effect> {
        self.store.refused(self.remote, reason);
        self.phase = Phase::Over;
        close(code, reason)
    }

    /// Handle a received message.
    pub fn handle(&mut self, msg: Message) -> Vec<Effect> {
        let effects = match self.step(msg) {
            Ok(e) => e,
            Err((code, reason)) => {
                if code != CloseCode::Internal {
                    self.store.refused(self.remote, &reason);
                }
                close(code, reason)
            }
        };
        self.after(effects)
    }

    fn step(&mut self, msg: Message) -> Result<Vec<Effect>, (CloseCode, String)> {
        let proto = |what: &str| (CloseCode::Protocol, what.to_string());
        if let Message::Close { code, reason } = msg {
            self.phase = Phase::Over;
            tracing::info!(peer = %short(&self.remote), ?code, %reason, "peer closed the session");
            return Ok(vec![Effect::PeerClosed { code, reason }]);
        }
        match (self.phase, self.side, msg) {
            (Phase::AwaitHello, Side::Acceptor, Message::Join(req)) => self.on_join(req),
            (
                Phase::AwaitHello,
                _,
                Message::Hello {
                    clinic,
                    log_len,
                    log_head,
                },
            ) => self.on_hello(clinic, log_len, log_head),
            (Phase::AwaitLog, _, Message::Log { from, entries }) => self.on_log(from, entries),
            (
                Phase::AwaitManifest,
                _,
                Message::Manifest {
                    contracts,
                    docs,
                    evidence,
                    cosigned,
                },
            ) => self.on_manifest(contracts, docs, &evidence, &cosigned),
            (Phase::Rounds, _, Message::Batch { items }) => self.on_batch(items),
            (Phase::Rounds | Phase::Witnessing, Side::Acceptor, Message::Done) => {
                Ok(vec![Effect::Finished(self.report.clone())])
            }
            (Phase::Rounds, Side::Acceptor, Message::Checkpoint(offer)) => {
                self.phase = Phase::Witnessing;
                let mut out = self.on_checkpoint(&offer)?;
                let mine = self.offer_checkpoint(None)?;
                out.push(Effect::Send(Message::Checkpoint(mine)));
                Ok(out)
            }
            (Phase::Witnessing, _, Message::Checkpoint(offer))
                if self.witnessing.peer_offers < 2 && !self.witnessing.peer_done =>
            {
                let mut out = self.on_checkpoint(&offer)?;
                out.extend(self.witnessing_over());
                Ok(out)
            }
            (Phase::Witnessing, _, Message::Witnessed(reply)) if !self.witnessing.answered => {
                let peer = self.peer.clone().ok_or_else(|| Self::internal("no peer"))?;
                match reply {
                    crate::witness::WitnessReply::Retry(size)
                        if !self.witnessing.retried && size != self.witnessing.offered.old_size =>
                    {
                        self.witnessing.retried = true;
                        let again = self.offer_checkpoint(Some(size))?;
                        Ok(vec![Effect::Send(Message::Checkpoint(again))])
                    }
                    reply => {
                        self.store
                            .witnessed(&peer, &self.witnessing.offered, &reply);
                        self.witnessing.answered = true;
                        Ok(self.witnessing_over())
                    }
                }
            }
            (Phase::AwaitWelcome, Side::Dialer, Message::Welcome { entries }) => {
                self.on_welcome(entries)
            }
            (phase, _, m) => Err(proto(&format!(
                "the peer sent {} while this device expected {}",
                m.name(),
                match phase {
                    Phase::AwaitHello => "hello",
                    Phase::AwaitLog => "log",
                    Phase::AwaitManifest => "manifest",
                    Phase::Rounds => "batch",
                    Phase::Witnessing => "checkpoint, witnessed or done",
                    Phase::AwaitWelcome => "welcome",
                    Phase::Over => "nothing (the session is over)",
                }
            ))),
        }
    }

    fn internal(e: impl std::fmt::Display) -> (CloseCode, String) {
        (CloseCode::Internal, e.to_string())
    }

    fn on_join(&mut self, req: JoinRequest) -> Result<Vec<Effect>, (CloseCode, String)> {
        let refuse = |why: &str| (CloseCode::InviteRefused, format!("invite refused: {why}"));
        let clinic = self
            .store
            .clinic()
            .map_err(Self::internal)?
            .ok_or_else(|| refuse("this device is in no clinic"))?;
        if clinic.id() != req.clinic {
            return Err(refuse("the ticket is for another clinic"));
        }
        if clinic.registrar().endpoint != self.local {
            return Err(refuse("this device is not the clinic's registrar"));
        }
        let vk = VerifyingKey::from_bytes(&req.log_key).map_err(|_| refuse("a bad log key"))?;
        vk.verify(
            &req.signed_bytes(&self.remote),
            &Signature::from_bytes(&req.signature),
        )
        .map_err(|_| refuse("the request's signature does not verify"))?;
        let entries = self.store.redeem(self.remote, &req).map_err(|e| match e {
            StoreError::Failed(e) => Self::internal(e),
            other => refuse(&other.to_string()),
        })?;
        tracing::info!(peer = %short(&self.remote), "a device joined the clinic");
        Ok(vec![
            Effect::Send(Message::Welcome { entries }),
            Effect::Finished(self.report.clone()),
        ])
    }

    fn on_welcome(
        &mut self,
        entries: Vec<SignedEntry>,
    ) -> Result<Vec<Effect>, (CloseCode, String)> {
        let proto = |why: String| {
            (
                CloseCode::Protocol,
                format!("the registrar's answer: {why}"),
            )
        };
        let ticket = self
            .join
            .as_ref()
            .ok_or_else(|| proto("no ticket".into()))?;
        let clinic = Clinic::from_entries(entries).map_err(|e| proto(e.to_string()))?;
        if clinic.id() != ticket.clinic {
            return Err(proto("a log of another clinic".into()));
        }
        if clinic.registrar().endpoint != ticket.endpoint {
            return Err(proto(
                "the log's registrar is not the device in the ticket".into(),
            ));
        }
        if clinic.active(&self.local).is_none() {
            return Err(proto("the log does not list this device".into()));
        }
        Ok(vec![Effect::Joined(clinic)])
    }

    fn on_hello(
        &mut self,
        clinic_id: crate::clinic::ClinicId,
        log_len: u64,
        log_head: [u8; 32],
    ) -> Result<Vec<Effect>, (CloseCode, String)> {
        let clinic = match self.clinic.take() {
            Some(c) => c,
            None => self
                .store
                .clinic()
                .map_err(Self::internal)?
                .ok_or_else(|| {
                    (
                        CloseCode::NotMember,
                        "this device is in no clinic".to_string(),
                    )
                })?,
        };
        if clinic.id() != clinic_id {
            return Err((
                CloseCode::WrongClinic,
                format!(
                    "the peer belongs to clinic {}, this device to {}",
                    clinic_id.to_hex(),
                    clinic.id().to_hex()
                ),
            ));
        }
        self.peer_log = (log_len, log_head);
        let mut out = Vec::new();
        if self.side == Side::Acceptor {
            // The membership gate: nothing is sent before it passes — except when the peer,
            // unknown here, holds a longer registrar log: it may have joined since this device
            // last synced. Then only this device's hello (and an empty log) goes out, the
            // peer's entries are verified, and the gate runs again on them (`on_log`).
            self.peer = match self.gate(&clinic) {
                Ok(peer) => Some(peer),
                Err(_) if log_len > clinic.len() => None,
                Err(refusal) => return Err(refusal),
            };
            out.push(Effect::Send(Message::Hello {
                clinic: clinic.id(),
                log_len: clinic.len(),
                log_head: clinic.head(),
            }));
            out.push(Effect::Send(self.log_for_peer(&clinic)?));
        }
        self.clinic = Some(clinic);
        self.phase = Phase::AwaitLog;
        Ok(out)
    }

    fn gate(&self, clinic: &Clinic) -> Result<Member, (CloseCode, String)> {
        clinic.active(&self.remote).cloned().ok_or_else(|| {
            let was = clinic.members().any(|m| m.member.endpoint == self.remote);
            (
                CloseCode::NotMember,
                format!(
                    "device {} is {} of clinic {} (its registrar log has {} entries); ask the registrar for an invite",
                    short(&self.remote),
                    if was { "a removed member" } else { "not a member" },
                    clinic.name(),
                    clinic.len()
                ),
            )
        })
    }

    /// Entries the peer lacks, if its log is a prefix of ours.
    fn log_for_peer(&self, clinic: &Clinic) -> Result<Message, (CloseCode, String)> {
        let (len, head) = self.peer_log;
        if len >= clinic.len() {
            return Ok(Message::Log {
                from: clinic.len(),
                entries: Vec::new(),
            });
        }
        if len == 0 || clinic.hash_at(len - 1) != Some(head) {
            return Err((
                CloseCode::Protocol,
                "the peer's registrar log is not a prefix of this device's".into(),
            ));
        }
        Ok(Message::Log {
            from: len,
            entries: clinic.entries_from(len).to_vec(),
        })
    }

    fn on_log(
        &mut self,
        from: u64,
        entries: Vec<SignedEntry>,
    ) -> Result<Vec<Effect>, (CloseCode, String)> {
        let mut clinic = self
            .clinic
            .take()
            .ok_or_else(|| Self::internal("no clinic"))?;
        if !entries.is_empty() {
            let added = clinic
                .extend(from, &entries)
                .map_err(|e| (CloseCode::Protocol, e.to_string()))?;
            if added > 0 {
                self.store.save_clinic(&clinic).map_err(Self::internal)?;
                self.report.log_entries += added;
            }
        }
        // Gate (again, for the acceptor: the new entries may have removed the peer).
        let peer = self.gate(&clinic)?;
        self.peer = Some(peer.clone());
        let mut out = Vec::new();
        if self.side == Side::Dialer {
            out.push(Effect::Send(self.log_for_peer(&clinic)?));
            out.push(Effect::Send(self.make_offer(&peer)?));
        }
        self.clinic = Some(clinic);
        self.phase = Phase::AwaitManifest;
        Ok(out)
    }

    fn make_offer(&mut self, peer: &Member) -> Result<Message, (CloseCode, String)> {
        let offer = self.store.offer(peer).map_err(Self::internal)?;
        self.report.offered = offer.docs.len();
        self.mine = offer
            .docs
            .iter()
            .map(|d| (d.id.clone(), d.clone()))
            .collect();
        self.mine_order = offer.docs.iter().map(|d| d.id.clone()).collect();
        Ok(Message::Manifest {
            contracts: offer.contracts,
            docs: offer.docs,
            evidence: offer.evidence,
            cosigned: offer.cosigned,
        })
    }

    fn on_manifest(
        &mut self,
        contracts: Vec<Vec<u8>>,
        docs: Vec<DocMeta>,
        evidence: &[Vec<u8>],
        cosigned: &[Vec<u8>],
    ) -> Result<Vec<Effect>, (CloseCode, String)> {
        let peer = self.peer.clone().ok_or_else(|| Self::internal("no peer"))?;
        if !evidence.is_empty() {
            // Evidence that does not verify is ignored; a store failure is not the peer's.
            self.report.evidence += self
                .store
                .accept_evidence(&peer, evidence)
                .map_err(Self::internal)?;
        }
        if !cosigned.is_empty() {
            self.report.evidence += self
                .store
                .accept_cosigned(&peer, cosigned)
                .map_err(Self::internal)?;
        }
        if !contracts.is_empty() {
            self.report.contracts += match self.store.accept_contracts(&peer, &contracts) {
                Ok(n) => n,
                Err(StoreError::Invalid(e)) => return Err((CloseCode::Protocol, e)),
                Err(e) => {
                    tracing::warn!(peer = %short(&self.remote), error = %e, "contracts from the peer were not stored");
                    0
                }
            };
        }
        let mut theirs = BTreeMap::new();
        for d in docs {
            if theirs.insert(d.id.clone(), d).is_some() {
                return Err((
                    CloseCode::Protocol,
                    "a manifest names a document twice".into(),
                ));
            }
        }
        self.theirs = theirs;
        let mut out = Vec::new();
        if self.side == Side::Acceptor {
            out.push(Effect::Send(self.make_offer(&peer)?));
        }
        self.report.incoming = self
            .theirs
            .values()
            .filter(|t| {
                self.mine.get(&t.id).is_none_or(|m| {
                    let (mut a, mut b) = (m.heads.clone(), t.heads.clone());
                    a.sort_unstable();
                    b.sort_unstable();
                    a != b
                })
            })
            .count();
        // Plan: whole documents the peer lacks; Automerge sync where both offer and heads differ.
        let heads_sorted = |h: &[[u8; 32]]| {
            let mut v = h.to_vec();
            v.sort_unstable();
            v
        };
        for id in &self.mine_order {
            let Some(mine) = self.mine.get(id) else {
                continue;
            };
            match self.theirs.get(id) {
                // In the store's order (patients before their records).
                None => self.whole_pending.push(id.clone()),
                Some(t) if heads_sorted(&t.heads) != heads_sorted(&mine.heads) => {
                    if t.kind != mine.kind {
                        return Err((
                            CloseCode::Protocol,
                            format!(
                                "document {id} has kind {} here, {} at the peer",
                                mine.kind, t.kind
                            ),
                        ));
                    }
                    let bytes = self.store.document(id).map_err(Self::internal)?;
                    let doc = guard::load(&bytes)
                        .map_err(|e| Self::internal(format!("document {id} here: {e}")))?;
                    self.syncing.insert(
                        id.clone(),
                        DocSync {
                            kind: mine.kind.clone(),
                            doc,
                            state: sync::State::new(),
                        },
                    );
                }
                Some(_) => {}
            }
        }
        self.phase = Phase::Rounds;
        if self.side == Side::Dialer {
            let batch = self.next_batch()?;
            out.push(Effect::Send(Message::Batch { items: batch }));
        }
        Ok(out)
    }

    fn next_batch(&mut self) -> Result<Vec<BatchItem>, (CloseCode, String)> {
        let mut items = Vec::new();
        let mut shared = Vec::new();
        // Whole documents go in batches of at most MAX_BATCH_BYTES (at least one document each),
        // so a large first sync never makes a frame the peer must refuse, and each batch is
        // stored on its own: an interrupted first sync keeps what arrived.
        let mut budget = MAX_BATCH_BYTES;
        let pending = std::mem::take(&mut self.whole_pending);
        let mut pending = pending.into_iter();
        for id in pending.by_ref() {
            let kind = self
                .mine
                .get(&id)
                .map(|d| d.kind.clone())
                .unwrap_or_default();
            let bytes = self.store.document(&id).map_err(Self::internal)?;
            if bytes.len() > budget && !items.is_empty() {
                self.whole_pending.push(id);
                break;
            }
            budget = budget.saturating_sub(bytes.len());
            self.report.whole_sent += 1;
            if kind == "attachment" {
                self.report.attachment_records_sent += 1;
            }
            shared.push(id.clone());
            items.push(BatchItem {
                id,
                kind,
                payload: DocPayload::Whole(bytes),
            });
        }
        self.whole_pending.extend(pending);
        let ids: Vec<String> = if self.first_batch {
            self.syncing.keys().cloned().collect()
        } else {
            std::mem::take(&mut self.touched).into_iter().collect()
        };
        self.first_batch = false;
        for id in ids {
            let Some(d) = self.syncing.get_mut(&id) else {
                continue;
            };
            match guard::generate_with_changes(&d.doc, &mut d.state) {
                Ok(Some((msg, content))) => {
                    self.report.sync_sent += 1;
                    if content {
                        shared.push(id.clone());
                    }
                    items.push(BatchItem {
                        id,
                        kind: d.kind.clone(),
                        payload: DocPayload::Sync(msg),
                    })
                }
                Ok(None) => {}
                Err(e) => {
                    return Err((CloseCode::Protocol, format!("document {id}: {e}")));
                }
            }
        }
        if !shared.is_empty() {
            if let Some(peer) = &self.peer {
                self.store.shared(peer, &shared);
            }
        }
        Ok(items)
    }

    fn on_batch(&mut self, items: Vec<BatchItem>) -> Result<Vec<Effect>, (CloseCode, String)> {
        let peer = self.peer.clone().ok_or_else(|| Self::internal("no peer"))?;
        self.report.rounds += 1;
        if self.report.rounds > MAX_ROUNDS {
            return Err((
                CloseCode::Protocol,
                format!("sync did not settle after {MAX_ROUNDS} rounds"),
            ));
        }
        let received = items.len();
        let mut seen = BTreeSet::new();
        let mut wholes: Vec<(String, String, Vec<u8>)> = Vec::new();
        for item in items {
            if !seen.insert(item.id.clone()) {
                return Err((
                    CloseCode::Protocol,
                    format!("a batch names document {} twice", item.id),
                ));
            }
            match self.theirs.get(&item.id) {
                Some(t) if t.kind == item.kind => {}
                _ => {
                    return Err((
                        CloseCode::Protocol,
                        format!("the peer sent document {} it did not offer", item.id),
                    ))
                }
            }
            if self.dropped.contains(&item.id) {
                continue;
            }
            match item.payload {
                DocPayload::Whole(bytes) => {
                    if self.syncing.contains_key(&item.id) {
                        return Err((
                            CloseCode::Protocol,
                            format!("the peer sent document {} whole during its sync", item.id),
                        ));
                    }
                    wholes.push((item.kind, item.id, bytes));
                }
                DocPayload::Sync(msg) => {
                    let Some(d) = self.syncing.get_mut(&item.id) else {
                        return Err((
                            CloseCode::Protocol,
                            format!(
                                "a sync message for document {}, which is not being synced",
                                item.id
                            ),
                        ));
                    };
                    let before = d.doc.get_heads();
                    guard::receive(&mut d.doc, &mut d.state, &msg)
                        .map_err(|e| (CloseCode::Protocol, format!("document {}: {e}", item.id)))?;
                    self.touched.insert(item.id.clone());
                    if d.doc.get_heads() != before {
                        let bytes = d.doc.save();
                        let (kind, id) = (d.kind.clone(), item.id.clone());
                        if !self.apply(&peer, &kind, &id, &bytes)? {
                            // Refused: stop syncing it (this side's copy stays as stored).
                            self.syncing.remove(&id);
                            self.touched.remove(&id);
                            self.dropped.insert(id);
                        }
                    }
                }
            }
        }
        if !wholes.is_empty() {
            let results = self.store.apply_many(&peer, &wholes);
            for ((_, id, _), r) in wholes.iter().zip(results) {
                self.settle(id, r)?;
            }
        }
        let batch = self.next_batch()?;
        match self.side {
            Side::Acceptor => Ok(vec![Effect::Send(Message::Batch { items: batch })]),
            Side::Dialer if received == 0 && batch.is_empty() => {
                // Quiet both ways: offer this device's checkpoint for witnessing.
                let mine = self.offer_checkpoint(None)?;
                self.phase = Phase::Witnessing;
                Ok(vec![Effect::Send(Message::Checkpoint(mine))])
            }
            Side::Dialer => Ok(vec![Effect::Send(Message::Batch { items: batch })]),
        }
    }

    /// This device's checkpoint for the peer (remembered to match the peer's answer).
    fn offer_checkpoint(
        &mut self,
        from: Option<u64>,
    ) -> Result<crate::witness::CheckpointOffer, (CloseCode, String)> {
        let peer = self.peer.clone().ok_or_else(|| Self::internal("no peer"))?;
        let offer = self.store.checkpoint_for(&peer, from).unwrap_or_default();
        self.witnessing.offered = offer.clone();
        Ok(offer)
    }

    /// Witness the peer's checkpoint through the store; answer it.
    fn on_checkpoint(
        &mut self,
        offer: &crate::witness::CheckpointOffer,
    ) -> Result<Vec<Effect>, (CloseCode, String)> {
        use crate::witness::WitnessReply;
        let peer = self.peer.clone().ok_or_else(|| Self::internal("no peer"))?;
        self.witnessing.peer_offers += 1;
        let mut reply = self.store.witness(&peer, offer);
        if let WitnessReply::Retry(size) = reply {
            if self.witnessing.peer_offers >= 2 {
                reply = WitnessReply::Refused(format!(
                    "not cosigned: this witness last cosigned size {size} of this log and the offer did not start there"
                ));
            }
        }
        self.witnessing.peer_done = !matches!(reply, WitnessReply::Retry(_));
        Ok(vec![Effect::Send(Message::Witnessed(reply))])
    }

    /// The dialer ends the session once both checkpoints are witnessed.
    fn witnessing_over(&self) -> Vec<Effect> {
        if self.side == Side::Dialer && self.witnessing.answered && self.witnessing.peer_done {
            vec![
                Effect::Send(Message::Done),
                Effect::Finished(self.report.clone()),
            ]
        } else {
            Vec::new()
        }
    }

    /// Store a received document; `false` if consent refused it.
    fn apply(
        &mut self,
        peer: &Member,
        kind: &str,
        id: &str,
        bytes: &[u8],
    ) -> Result<bool, (CloseCode, String)> {
        let r = self.store.apply(peer, kind, id, bytes);
        self.settle(id, r)
    }

    /// Count a store's answer; `false` if consent refused, an error if the peer must go.
    fn settle(
        &mut self,
        id: &str,
        r: Result<bool, StoreError>,
    ) -> Result<bool, (CloseCode, String)> {
        match r {
            Ok(changed) => {
                if changed {
                    self.report.applied += 1;
                }
                Ok(true)
            }
            Err(StoreError::Denied(why)) => {
                tracing::info!(peer = %short(&self.remote), %id, %why, "a change from the peer was refused");
                self.report.refused += 1;
                Ok(false)
            }
            Err(StoreError::Invalid(why)) => {
                Err((CloseCode::Protocol, format!("document {id}: {why}")))
            }
            Err(StoreError::Failed(why)) => {
                Err((CloseCode::Internal, format!("document {id}: {why}")))
            }
        }
    }
}
