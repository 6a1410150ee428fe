//! The iroh endpoint: a thin adapter that moves frames between a QUIC stream and a
//! [`Session`]. One bi-directional stream per connection; every read has a timeout; frames
//! are bounded; a peer that breaks the protocol is closed and logged, the others go on.
//!
//! iroh 1.4 with `presets::Minimal` (ring TLS, no n0 services), relays disabled, bound to the
//! address in [`NetConfig`] (loopback by default); mDNS discovery on the LAN only when
//! [`NetConfig::mdns`] is set.

use std::net::SocketAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use iroh::endpoint::{presets, Connection, QuicTransportConfig, RecvStream, SendStream, VarInt};
use iroh::{Endpoint, EndpointAddr, PublicKey, RelayMode, SecretKey};
use tokio::task::JoinHandle;
use zeroize::Zeroizing;

use crate::clinic::{Clinic, Ticket};
use crate::content::{Content, CONTENT_ALPN};
use crate::session::{Effect, Report, Session, Store};
use crate::wire::{frame_len, CloseCode, JoinRequest, Message};

/// The ALPN of this protocol.
pub const ALPN: &[u8] = b"hearth/sync/1";

/// What can go wrong on the network.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetError {
    /// The endpoint could not start.
    #[error("the sync endpoint could not start on {addr}: {why}; is another Hearth node using that port?")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        why: String,
    },
    /// The peer could not be reached.
    #[error("could not reach the peer ({0}); check that it is running and on the same network")]
    Connect(String),
    /// The connection broke or timed out.
    #[error("the connection to the peer broke: {0}")]
    Io(String),
    /// The peer (or this device) closed the session with a reason.
    #[error("sync refused ({code:?}): {reason}")]
    Refused {
        /// The code.
        code: CloseCode,
        /// The reason.
        reason: String,
    },
    /// A relay URL that cannot be used.
    #[error("relay: {0}")]
    Relay(String),
    /// A join ended without the registrar's answer.
    #[error("the registrar did not answer the join; try the ticket again")]
    NoWelcome,
}

/// Endpoint settings (a builder).
#[derive(Debug, Clone)]
pub struct NetConfig {
    bind: SocketAddr,
    mdns: bool,
    read_timeout: Duration,
    idle_timeout: Duration,
    keep_alive: Duration,
    relay: Option<iroh::RelayUrl>,
    max_sessions: usize,
    content: Option<PathBuf>,
}

impl Default for NetConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            mdns: false,
            read_timeout: Duration::from_secs(20),
            idle_timeout: Duration::from_secs(10),
            keep_alive: Duration::from_secs(3),
            relay: None,
            max_sessions: 32,
            content: None,
        }
    }
}

impl NetConfig {
    /// Where to listen (default `127.0.0.1:0`; `0.0.0.0:PORT` for the LAN).
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.bind = addr;
        self
    }
    /// Find clinic devices on the LAN by mDNS.
    pub fn mdns(mut self, on: bool) -> Self {
        self.mdns = on;
        self
    }
    /// Also reach members through this self-hosted relay (an `iroh-relay` server the clinic
    /// runs, for devices at several sites); every device of the clinic uses the same one.
    /// Without it (the default) no relay is used at all.
    pub fn relay(mut self, url: Option<iroh::RelayUrl>) -> Self {
        self.relay = url;
        self
    }

    /// Where a node that only dials should bind to reach `peers`: loopback when they are all on
    /// loopback, else every interface (any free port either way).
    pub fn dial_from(peers: &[SocketAddr]) -> SocketAddr {
        if peers.iter().all(|a| a.ip().is_loopback()) {
            SocketAddr::from(([127, 0, 0, 1], 0))
        } else {
            SocketAddr::from(([0, 0, 0, 0], 0))
        }
    }

    /// Parse a relay URL (`https://relay.example.org`), with a message that says what is wrong.
    pub fn parse_relay(url: &str) -> Result<iroh::RelayUrl, NetError> {
        let bad =
            |why: &str| NetError::Relay(format!("{url:?} {why}; give it as https://HOST[:PORT]"));
        let u: iroh::RelayUrl = url.trim().parse().map_err(|_| bad("is not a URL"))?;
        if !matches!(u.scheme(), "https" | "http") || u.host_str().is_none() {
            return Err(bad("is not an http(s) address of a host"));
        }
        Ok(u)
    }

    /// Carry attachments' content too, with a transfer cache (ciphertext only) in `dir`, e.g.
    /// beside the vault. Without it only records travel.
    pub fn content_cache(mut self, dir: Option<PathBuf>) -> Self {
        self.content = dir;
        self
    }

    /// At most this many incoming sessions at once (default 32); more are refused at once,
    /// so a flood of connections cannot exhaust the device. Dialled syncs do not count.
    pub fn max_sessions(mut self, n: usize) -> Self {
        self.max_sessions = n.max(1);
        self
    }

    /// Longest wait for any one frame from a peer.
    pub fn read_timeout(mut self, t: Duration) -> Self {
        self.read_timeout = t;
        self
    }
    /// QUIC idle timeout (a silent peer is dropped after it).
    pub fn idle_timeout(mut self, t: Duration) -> Self {
        self.idle_timeout = t;
        self
    }
}

/// A running endpoint serving `hearth/sync/1`. Cheap to clone.
#[derive(Clone)]
pub struct Node {
    endpoint: Endpoint,
    store: Arc<dyn Store>,
    config: NetConfig,
    /// Permits for incoming sessions ([`NetConfig::max_sessions`]).
    sessions: Arc<tokio::sync::Semaphore>,
    /// Told about every session served to a peer ([`Node::on_served`]).
    served: Arc<std::sync::Mutex<Option<ServedHook>>>,
    /// Attachments' content ([`NetConfig::content_cache`]).
    content: Option<Content>,
    /// Content connections being served now, and when one last ended ([`Node::settle`]).
    content_busy: Arc<std::sync::atomic::AtomicUsize>,
    content_seen: Arc<std::sync::Mutex<tokio::time::Instant>>,
}

/// What [`Node::on_served`] calls: the peer's endpoint id and the session's report.
pub type ServedHook = Arc<dyn Fn(&[u8; 32], &Report) + Send + Sync>;

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("id", &self.endpoint.id().fmt_short().to_string())
            .field("config", &self.config)
            .finish()
    }
}

impl Node {
    /// Start an endpoint with this device's endpoint secret (derived from its sealed device
    /// key by the caller). It accepts connections once [`Node::serve`] runs.
    pub async fn bind(
        secret: Zeroizing<[u8; 32]>,
        store: Arc<dyn Store>,
        config: NetConfig,
    ) -> Result<Self, NetError> {
        let transport = QuicTransportConfig::builder()
            .max_idle_timeout(config.idle_timeout.try_into().ok())
            .keep_alive_interval(config.keep_alive)
            .max_concurrent_bidi_streams(VarInt::from_u32(4))
            .max_concurrent_uni_streams(VarInt::from_u32(0))
            .build();
        let bind_err = |why: String| NetError::Bind {
            addr: config.bind,
            why,
        };
        let relay_mode = match &config.relay {
            Some(url) => RelayMode::Custom(iroh::RelayMap::from(url.clone())),
            None => RelayMode::Disabled,
        };
        // Another process on this vault (a `hearth node` beside the app) may hold the cache:
        // then this one carries records only, and that one the content.
        let content = match &config.content {
            Some(dir) => match Content::open(dir).await {
                Ok(c) => Some(c),
                Err(why) => {
                    tracing::warn!(%why, "attachments' content will not travel from this process");
                    None
                }
            },
            None => None,
        };
        let mut alpns = vec![ALPN.to_vec()];
        if content.is_some() {
            alpns.push(CONTENT_ALPN.to_vec());
        }
        let mut builder = Endpoint::builder(presets::Minimal)
            .relay_mode(relay_mode)
            .clear_ip_transports()
            .bind_addr(config.bind)
            .map_err(|e| bind_err(e.to_string()))?
            .secret_key(SecretKey::from_bytes(&secret))
            .alpns(alpns)
            .transport_config(transport);
        if config.mdns {
            builder =
                builder.address_lookup(iroh_mdns_address_lookup::MdnsAddressLookup::builder());
        }
        let endpoint = builder.bind().await.map_err(|e| bind_err(e.to_string()))?;
        Ok(Self {
            endpoint,
            store,
            sessions: Arc::new(tokio::sync::Semaphore::new(config.max_sessions)),
            served: Arc::default(),
            content,
            content_busy: Arc::default(),
            content_seen: Arc::new(std::sync::Mutex::new(tokio::time::Instant::now())),
            config,
        })
    }

    /// Call `hook` after every session served to a peer that dialled this device (e.g. to
    /// refresh screens when records arrived).
    pub fn on_served(&self, hook: ServedHook) {
        *self.served.lock().unwrap_or_else(|p| p.into_inner()) = Some(hook);
    }

    fn tell_served(&self, remote: &[u8; 32], r: &Report) {
        let hook = self
            .served
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if let Some(hook) = hook {
            hook(remote, r);
        }
    }

    /// This endpoint's id.
    pub fn id(&self) -> [u8; 32] {
        *self.endpoint.id().as_bytes()
    }

    /// Addresses peers can dial (the bound sockets, or the interfaces' addresses when bound to
    /// an unspecified address).
    pub fn addrs(&self) -> Vec<SocketAddr> {
        let bound = self.endpoint.bound_sockets();
        if bound.iter().all(|a| !a.ip().is_unspecified()) {
            return bound;
        }
        let mut out: Vec<SocketAddr> = self.endpoint.addr().ip_addrs().copied().collect();
        out.retain(|a| !a.ip().is_unspecified());
        if out.is_empty() {
            out = bound;
        }
        out
    }

    fn store(&self) -> Arc<dyn Store> {
        self.store.clone()
    }

    /// Accept connections until the endpoint closes: each peer in its own task, so one
    /// misbehaving peer never stops the others.
    pub fn serve(&self) -> JoinHandle<()> {
        let node = self.clone();
        tokio::spawn(async move {
            while let Some(incoming) = node.endpoint.accept().await {
                let Ok(permit) = Arc::clone(&node.sessions).try_acquire_owned() else {
                    tracing::warn!(
                        max = node.config.max_sessions,
                        "too many sync sessions at once: a connection was refused"
                    );
                    incoming.refuse();
                    continue;
                };
                let node = node.clone();
                tokio::spawn(async move {
                    if let Err(e) = node.serve_one(incoming).await {
                        tracing::info!(error = %e, "a sync connection ended with an error");
                    }
                    drop(permit);
                });
            }
        })
    }

    async fn serve_one(&self, incoming: iroh::endpoint::Incoming) -> Result<(), NetError> {
        let t = self.config.read_timeout;
        let from = match incoming.remote_addr() {
            iroh::endpoint::IncomingAddr::Ip(a) => vec![a],
            _ => Vec::new(),
        };
        let accepting = incoming.accept().map_err(|e| NetError::Io(e.to_string()))?;
        let conn = timeout(t, accepting)
            .await?
            .map_err(|e| NetError::Io(e.to_string()))?;
        let remote = *conn.remote_id().as_bytes();
        if conn.alpn() == CONTENT_ALPN {
            if let Some(content) = &self.content {
                return self.serve_content(content, conn, remote).await;
            }
        }
        if conn.alpn() != ALPN {
            conn.close(VarInt::from_u32(1), b"unknown protocol");
            return Ok(());
        }
        let (mut send, mut recv) = timeout(t, conn.accept_bi())
            .await?
            .map_err(|e| NetError::Io(e.to_string()))?;
        let session = Session::accept(self.store(), self.id(), remote);
        let out = drive(
            session,
            Vec::new(),
            &mut send,
            &mut recv,
            t,
            &|_| {},
            self.store(),
        )
        .await;
        finish(&mut send, t).await;
        // The dialer closes the connection once it has read everything.
        let _ = tokio::time::timeout(t, conn.closed()).await;
        match out {
            Ok(Outcome::Finished(r)) => {
                tracing::info!(peer = %hex::encode(&remote[..5]), ?r, "sync session served");
                self.tell_served(&remote, &r);
                // The dialler brought attachments whose content is still with it: fetch it.
                if self.content.is_some() {
                    let node = self.clone();
                    tokio::spawn(async move {
                        let mut r = Report::default();
                        node.fetch_content(remote, &from, &mut r, &|_| {}).await;
                        if r.attachments > 0 {
                            tracing::info!(peer = %hex::encode(&remote[..5]), n = r.attachments, "attachments received");
                            node.tell_served(&remote, &r);
                        }
                    });
                }
                Ok(())
            }
            Ok(Outcome::Joined(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn connect(
        &self,
        remote: [u8; 32],
        addrs: &[SocketAddr],
    ) -> Result<Connection, NetError> {
        self.connect_to(remote, addrs, ALPN).await
    }

    async fn connect_to(
        &self,
        remote: [u8; 32],
        addrs: &[SocketAddr],
        alpn: &[u8],
    ) -> Result<Connection, NetError> {
        let id = PublicKey::from_bytes(&remote).map_err(|e| NetError::Connect(e.to_string()))?;
        let mut addr = EndpointAddr::new(id);
        for a in addrs {
            addr = addr.with_ip_addr(*a);
        }
        // The clinic's relay, which every member uses, reaches it where no address does.
        if let Some(url) = &self.config.relay {
            addr = addr.with_relay_url(url.clone());
        }
        timeout(self.config.read_timeout, self.endpoint.connect(addr, alpn))
            .await?
            .map_err(|e| NetError::Connect(e.to_string()))
    }

    /// Sync once with a member at `addrs`.
    pub async fn sync_with(
        &self,
        remote: [u8; 32],
        addrs: &[SocketAddr],
    ) -> Result<Report, NetError> {
        self.sync_with_progress(remote, addrs, &|_| {}).await
    }

    /// [`Node::sync_with`], telling `progress` after every frame how far it is (documents
    /// received of those expected, bytes both ways): for a first sync's progress bar.
    pub async fn sync_with_progress(
        &self,
        remote: [u8; 32],
        addrs: &[SocketAddr],
        progress: &(dyn Fn(&Report) + Send + Sync),
    ) -> Result<Report, NetError> {
        let conn = self.connect(remote, addrs).await?;
        let (mut send, mut recv) = conn
            .open_bi()
            .await
            .map_err(|e| NetError::Io(e.to_string()))?;
        let store = self.store();
        let mut made = None;
        store.in_background(&mut || made = Some(Session::dial(self.store(), self.id(), remote)));
        let (session, first) = made.ok_or_else(|| NetError::Io("no session".into()))?;
        let t = self.config.read_timeout;
        let out = drive(session, first, &mut send, &mut recv, t, progress, store).await;
        finish(&mut send, t).await;
        conn.close(VarInt::from_u32(0), b"done");
        match out? {
            Outcome::Finished(mut r) => {
                self.fetch_content(remote, addrs, &mut r, progress).await;
                Ok(r)
            }
            Outcome::Joined(_) => Err(NetError::NoWelcome),
        }
    }

    /// Serve attachments' content to a member (the same membership gate as sync: anyone
    /// else is refused, and logged).
    async fn serve_content(
        &self,
        content: &Content,
        conn: Connection,
        remote: [u8; 32],
    ) -> Result<(), NetError> {
        let store = self.store();
        let member = {
            let store = store.clone();
            tokio::task::spawn_blocking(move || {
                let mut m = None;
                store.in_background(&mut || {
                    m = Some(
                        store
                            .clinic()
                            .ok()
                            .flatten()
                            .and_then(|c| c.active(&remote).cloned()),
                    );
                });
                m.flatten()
            })
            .await
            .ok()
            .flatten()
        };
        let Some(member) = member else {
            let reason = "this device is not a member of the clinic";
            store.refused(remote, reason);
            conn.close(VarInt::from_u32(2), reason.as_bytes());
            return Ok(());
        };
        use std::sync::atomic::Ordering;
        self.content_busy.fetch_add(1, Ordering::SeqCst);
        content.serve(conn, member, store).await;
        *self.content_seen.lock().unwrap_or_else(|p| p.into_inner()) = tokio::time::Instant::now();
        self.content_busy.fetch_sub(1, Ordering::SeqCst);
        Ok(())
    }

    /// Wait until peers have fetched the content they want from this device: no content
    /// connection open and none for `quiet`, counted from now; at most `max`. A one-shot sync
    /// that brought a peer new attachments calls this before it exits, so the peer (which asks
    /// right after the session) gets their content too.
    pub async fn settle(&self, quiet: Duration, max: Duration) {
        use std::sync::atomic::Ordering;
        let start = tokio::time::Instant::now();
        loop {
            let idle_since =
                (*self.content_seen.lock().unwrap_or_else(|p| p.into_inner())).max(start);
            let busy = self.content_busy.load(Ordering::SeqCst) > 0;
            if (!busy && idle_since.elapsed() >= quiet) || start.elapsed() >= max {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// After a session with `remote`: fetch the content of attachments this device has the
    /// record of but not the content, counting it in `report`.
    async fn fetch_content(
        &self,
        remote: [u8; 32],
        addrs: &[SocketAddr],
        report: &mut Report,
        progress: &(dyn Fn(&Report) + Send + Sync),
    ) {
        let Some(content) = &self.content else {
            return;
        };
        let store = self.store();
        let wanted = Content::wanted(&store).await;
        if wanted.is_empty() {
            return;
        }
        let fetched = match self.connect_to(remote, addrs, CONTENT_ALPN).await {
            Ok(conn) => {
                let base = report.clone();
                let f = content
                    .fetch(&conn, &wanted, &store, &|f| {
                        let mut now = base.clone();
                        now.attachments = f.kept;
                        now.attachment_bytes = f.bytes;
                        progress(&now);
                    })
                    .await;
                conn.close(VarInt::from_u32(0), b"done");
                f
            }
            Err(e) => {
                tracing::info!(error = %e, "could not fetch attachments' content");
                crate::content::Fetched::default()
            }
        };
        report.attachments = fetched.kept;
        report.attachment_bytes = fetched.bytes;
        report.attachments_missing = wanted.len() - fetched.kept;
    }

    /// Join the clinic of `ticket` with a signed request; returns the clinic to persist.
    pub async fn join(&self, ticket: Ticket, request: JoinRequest) -> Result<Clinic, NetError> {
        let conn = self.connect(ticket.endpoint, &ticket.addrs.clone()).await?;
        let (mut send, mut recv) = conn
            .open_bi()
            .await
            .map_err(|e| NetError::Io(e.to_string()))?;
        let (session, first) = Session::join(self.store(), self.id(), ticket, request);
        let t = self.config.read_timeout;
        let out = drive(
            session,
            first,
            &mut send,
            &mut recv,
            t,
            &|_| {},
            self.store(),
        )
        .await;
        finish(&mut send, t).await;
        conn.close(VarInt::from_u32(0), b"done");
        match out? {
            Outcome::Joined(c) => Ok(c),
            Outcome::Finished(_) => Err(NetError::NoWelcome),
        }
    }

    /// Close the endpoint (open sessions end).
    pub async fn shutdown(&self) {
        self.endpoint.close().await;
    }
}

enum Outcome {
    Finished(Report),
    Joined(Clinic),
}

async fn timeout<F: std::future::Future>(t: Duration, f: F) -> Result<F::Output, NetError> {
    tokio::time::timeout(t, f)
        .await
        .map_err(|_| NetError::Io(format!("no answer within {} s", t.as_secs_f32())))
}

/// Read one frame: its length (checked against the cap before anything else), then its body,
/// each under the read timeout.
async fn read_frame(
    recv: &mut RecvStream,
    t: Duration,
) -> Result<Result<(Message, u64), String>, NetError> {
    let mut prefix = [0u8; 4];
    match timeout(t, recv.read_exact(&mut prefix)).await {
        Err(_) => return Ok(Err(format!("no frame within {} s", t.as_secs_f32()))),
        Ok(Err(e)) => return Err(NetError::Io(e.to_string())),
        Ok(Ok(())) => {}
    }
    let n = match frame_len(prefix) {
        Ok(n) => n,
        Err(e) => return Ok(Err(e.to_string())),
    };
    let mut body = vec![0u8; n];
    match timeout(t, recv.read_exact(&mut body)).await {
        Err(_) => {
            return Ok(Err(format!(
                "a {n}-byte frame was announced but its body did not arrive within {} s",
                t.as_secs_f32()
            )))
        }
        Ok(Err(e)) => return Err(NetError::Io(e.to_string())),
        Ok(Ok(())) => {}
    }
    Ok(Message::decode(&body)
        .map(|m| (m, 4 + n as u64))
        .map_err(|e| e.to_string()))
}

/// Run the session until it is over, doing its effects.
async fn drive(
    mut session: Session,
    mut effects: Vec<Effect>,
    send: &mut SendStream,
    recv: &mut RecvStream,
    t: Duration,
    progress: &(dyn Fn(&Report) + Send + Sync),
    store: Arc<dyn Store>,
) -> Result<Outcome, NetError> {
    let (mut bytes_in, mut bytes_out) = (0u64, 0u64);
    loop {
        for e in effects.drain(..) {
            match e {
                Effect::Send(m) => {
                    let frame = m.to_frame();
                    bytes_out += frame.len() as u64;
                    timeout(t, send.write_all(&frame))
                        .await?
                        .map_err(|e| NetError::Io(e.to_string()))?;
                }
                Effect::Close { code, reason } => {
                    let m = Message::Close {
                        code,
                        reason: reason.clone(),
                    };
                    let _ = timeout(t, send.write_all(&m.to_frame())).await;
                    return Err(NetError::Refused { code, reason });
                }
                Effect::PeerClosed { code, reason } => {
                    return Err(NetError::Refused { code, reason });
                }
                Effect::Finished(mut r) => {
                    r.bytes_in = bytes_in;
                    r.bytes_out = bytes_out;
                    return Ok(Outcome::Finished(r));
                }
                Effect::Joined(c) => return Ok(Outcome::Joined(c)),
            }
        }
        if session.is_over() {
            return Err(NetError::Io("the session ended without a result".into()));
        }
        let mut now = session.report().clone();
        now.bytes_in = bytes_in;
        now.bytes_out = bytes_out;
        progress(&now);
        let next = match read_frame(recv, t).await? {
            Ok((msg, len)) => {
                bytes_in += len;
                let s = &mut session;
                // The session calls the store (SQLite): let the runtime move other tasks away.
                // A panic anywhere in it drops this peer only.
                tokio::task::block_in_place(|| {
                    let mut out = None;
                    let mut msg = Some(msg);
                    store.in_background(&mut || {
                        if let Some(m) = msg.take() {
                            out = Some(catch_unwind(AssertUnwindSafe(|| s.handle(m))));
                        }
                    });
                    out.unwrap_or(Err(Box::new("the store did not run the session")))
                })
                .unwrap_or_else(|_| {
                    session.fault(CloseCode::Internal, "handling the peer's message panicked")
                })
            }
            Err(why) => {
                let code = if why.contains("within") {
                    CloseCode::Timeout
                } else {
                    CloseCode::Protocol
                };
                tracing::warn!(%why, "dropping a peer");
                session.fault(code, &why)
            }
        };
        effects = next;
    }
}

/// End this side's stream and wait until the peer has it all (`close()` would drop
/// undelivered data).
async fn finish(send: &mut SendStream, t: Duration) {
    let _ = send.finish();
    let _ = tokio::time::timeout(t, send.stopped()).await;
}
