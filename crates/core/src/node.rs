//! A device's clinic node as a service both front ends run: the iroh endpoint over this vault
//! (records, witnessing and attachments' content), where members were reached, syncing with
//! them, pushing local edits as soon as they are made, and what the last syncs did.
//!
//! The desktop app starts one while the vault is unlocked; `hearth node` runs one until
//! SIGTERM. Every vault call runs as background work (never the user's activity for the idle
//! lock) on a blocking thread.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hearth_api::{PeerSync, SyncProgressView};
use hearth_sync::net::{NetConfig, Node};
use hearth_sync::Report;
use tokio::task::JoinHandle;

use crate::sync::ClinicInfo;
use crate::{in_background, CoreError, Hearth, Result};

/// How a node starts.
#[derive(Debug, Clone)]
pub struct NodeOptions {
    /// Where to listen.
    pub listen: SocketAddr,
    /// Use the addresses where members were reached before (kept sealed with the clinic), and
    /// keep new ones. `hearth node` dials only the peers it is given.
    pub remember_peers: bool,
}

#[derive(Default)]
struct State {
    /// Where each member can be reached (learnt, remembered, or given).
    addrs: HashMap<[u8; 32], Vec<SocketAddr>>,
    /// The last result per member (endpoint hex).
    last: HashMap<String, PeerSync>,
    /// When a round last synced with anyone (Unix ms).
    last_sync_ms: Option<u64>,
    /// Records and attachments that arrived while this node ran (screens refresh on change).
    synced_in: u64,
    /// The sync running now.
    progress: Option<SyncProgressView>,
}

struct Inner {
    hearth: Hearth,
    node: Node,
    remember: bool,
    state: Mutex<State>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

/// A running clinic node. Cheap to clone; [`ClinicNode::shutdown`] stops it.
#[derive(Clone)]
pub struct ClinicNode {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for ClinicNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClinicNode")
            .field("node", &self.inner.node)
            .finish()
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Run `f` on a blocking thread as background work.
async fn quietly<T: Send + 'static>(
    h: &Hearth,
    f: impl FnOnce(&Hearth) -> Result<T> + Send + 'static,
) -> Result<T> {
    let h = h.clone();
    tokio::task::spawn_blocking(move || in_background(|| f(&h)))
        .await
        .map_err(|e| CoreError::Internal(format!("a background task stopped: {e}")))?
}

impl ClinicNode {
    /// Start the node for `h` (which must be in a clinic): bound with the clinic's settings
    /// (LAN discovery, relay) and a transfer cache beside the vault, serving at once.
    pub async fn start(h: &Hearth, opts: NodeOptions) -> Result<Self> {
        let (secret, store, (_, mdns), relay, cache, known) = quietly(h, move |h| {
            Ok((
                h.sync_secret()?,
                h.sync_store(),
                h.sync_settings()?,
                h.sync_relay()?,
                h.content_cache_dir(),
                if opts.remember_peers {
                    h.known_peers()?
                } else {
                    Vec::new()
                },
            ))
        })
        .await?;
        let relay = match relay {
            Some(u) => {
                Some(NetConfig::parse_relay(&u).map_err(|e| CoreError::Invalid(e.to_string()))?)
            }
            None => None,
        };
        let config = NetConfig::default()
            .bind(opts.listen)
            .mdns(mdns)
            .relay(relay)
            .content_cache(Some(cache));
        let node = Node::bind(secret, store, config)
            .await
            .map_err(|e| CoreError::Network(e.to_string()))?;
        let inner = Arc::new(Inner {
            hearth: h.clone(),
            node,
            remember: opts.remember_peers,
            state: Mutex::new(State {
                addrs: known.into_iter().collect(),
                ..State::default()
            }),
            tasks: Mutex::new(Vec::new()),
        });
        // What a peer brings when it dials this device counts as arrived too.
        let weak = Arc::downgrade(&inner);
        inner.node.on_served(Arc::new(move |_, r: &Report| {
            if let Some(inner) = weak.upgrade() {
                lock(&inner.state).synced_in += (r.applied + r.attachments) as u64;
            }
        }));
        let server = inner.node.serve();
        lock(&inner.tasks).push(server);
        // Attachments from before content travelled get a transfer form, in the background.
        let upgrade = h.clone();
        lock(&inner.tasks).push(tokio::spawn(async move {
            if let Err(e) = quietly(&upgrade, |h| h.upgrade_attachments()).await {
                tracing::warn!(error = %e.message(), "attachments could not be given a transfer form");
            }
        }));
        tracing::info!(addrs = ?inner.node.addrs(), "clinic node listening");
        Ok(Self { inner })
    }

    /// This node's endpoint id.
    pub fn id(&self) -> [u8; 32] {
        self.inner.node.id()
    }

    /// Addresses peers can dial.
    pub fn addrs(&self) -> Vec<SocketAddr> {
        self.inner.node.addrs()
    }

    /// Reach member `id` at `addrs` from now on.
    pub fn learn(&self, id: [u8; 32], addrs: Vec<SocketAddr>) {
        lock(&self.inner.state).addrs.insert(id, addrs);
    }

    /// The last result per member (endpoint hex).
    pub fn last_results(&self) -> HashMap<String, PeerSync> {
        lock(&self.inner.state).last.clone()
    }

    /// When a sync last finished (Unix ms).
    pub fn last_sync_ms(&self) -> Option<u64> {
        lock(&self.inner.state).last_sync_ms
    }

    /// Records and attachments that arrived while this node ran (grows; screens refresh when
    /// it moves).
    pub fn synced_in(&self) -> u64 {
        lock(&self.inner.state).synced_in
    }

    /// The sync running now, if any.
    pub fn progress(&self) -> Option<SyncProgressView> {
        lock(&self.inner.state).progress.clone()
    }

    /// Sync with every other active member of `info` (only those whose address is known when
    /// `known_only`; by LAN discovery otherwise when it is on), one after the other; one
    /// result per member tried.
    pub async fn sync_members(&self, info: &ClinicInfo, known_only: bool) -> Vec<PeerSync> {
        let mut results = Vec::new();
        for m in info.members.iter().filter(|m| m.active && !m.this_device) {
            let Some(id) = hex::decode(&m.endpoint)
                .ok()
                .and_then(|v| <[u8; 32]>::try_from(v).ok())
            else {
                continue;
            };
            let addrs = lock(&self.inner.state).addrs.get(&id).cloned();
            if known_only && addrs.is_none() {
                continue;
            }
            let r = match (&addrs, info.mdns) {
                (Some(a), _) => self.sync_one(id, &m.name, a).await,
                (None, true) => self.sync_one(id, &m.name, &[]).await,
                (None, false) => PeerSync {
                    endpoint: m.endpoint.clone(),
                    name: m.name.clone(),
                    at_ms: now_ms(),
                    error: Some(
                        "no address is known for this device yet: give it as \
                         ENDPOINT_ID@IP:PORT (its Clinic screen shows both)"
                            .into(),
                    ),
                    ..PeerSync::default()
                },
            };
            lock(&self.inner.state)
                .last
                .insert(r.endpoint.clone(), r.clone());
            results.push(r);
        }
        if results.iter().any(|r| r.ok) {
            lock(&self.inner.state).last_sync_ms = Some(now_ms());
        }
        results
    }

    async fn sync_one(&self, id: [u8; 32], name: &str, addrs: &[SocketAddr]) -> PeerSync {
        let started = Instant::now();
        let weak = Arc::downgrade(&self.inner);
        let who = name.to_string();
        let progress = move |r: &Report| {
            if let Some(inner) = weak.upgrade() {
                lock(&inner.state).progress = Some(SyncProgressView {
                    name: who.clone(),
                    received: r.applied as u64,
                    incoming: r.incoming as u64,
                    // Attachments' content counts too: a large file keeps the bar moving.
                    bytes_in: r.bytes_in + r.attachment_bytes,
                    bytes_out: r.bytes_out,
                });
            }
        };
        let outcome = self
            .inner
            .node
            .sync_with_progress(id, addrs, &progress)
            .await;
        lock(&self.inner.state).progress = None;
        let mut r = PeerSync {
            endpoint: hex::encode(id),
            name: name.to_string(),
            at_ms: now_ms(),
            millis: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            ..PeerSync::default()
        };
        match outcome {
            Ok(rep) => {
                r.ok = true;
                r.offered = rep.offered as u64;
                r.sent = (rep.whole_sent + rep.sync_sent) as u64;
                r.received = rep.applied as u64;
                r.refused = rep.refused as u64;
                r.bytes_in = rep.bytes_in;
                r.bytes_out = rep.bytes_out;
                r.files_in = rep.attachments as u64;
                r.file_bytes_in = rep.attachment_bytes;
                r.files_missing = rep.attachments_missing as u64;
                lock(&self.inner.state).synced_in += r.received + r.files_in;
                tracing::info!(peer = %name, ?rep, "synced");
                if self.inner.remember && !addrs.is_empty() {
                    let a = addrs.to_vec();
                    let _ = quietly(&self.inner.hearth, move |h| h.remember_peer(id, &a)).await;
                }
            }
            Err(e) => {
                tracing::warn!(peer = %name, error = %e, "sync failed");
                r.error = Some(e.to_string());
            }
        }
        r
    }

    /// Keep the members whose address is known in step: sync as soon as the vault's audit log
    /// moves (any change, from this process or another; checked every `poll`, one cheap
    /// query) — a push of local edits — and at least every `every`. Runs until shutdown.
    pub fn keep_in_sync(&self, every: Duration, poll: Duration) {
        let me = self.clone();
        let task = tokio::spawn(async move {
            let mut seen: Option<u64> = None;
            let mut last_round: Option<Instant> = None;
            loop {
                let mark = quietly(&me.inner.hearth, |h| h.change_mark()).await.ok();
                let due = last_round.is_none_or(|t| t.elapsed() >= every);
                if due || (mark.is_some() && mark != seen) {
                    // Sampled before syncing: an edit made during a round is pushed by the
                    // next one. The clinic (its registrar log verified) is read only now.
                    seen = mark;
                    last_round = Some(Instant::now());
                    if let Ok(Some(info)) = quietly(&me.inner.hearth, |h| h.clinic_info()).await {
                        me.sync_members(&info, true).await;
                    }
                }
                tokio::time::sleep(poll).await;
            }
        });
        lock(&self.inner.tasks).push(task);
    }

    /// Stop: background work ends, open sessions close.
    pub async fn shutdown(&self) {
        for t in lock(&self.inner.tasks).drain(..) {
            t.abort();
        }
        self.inner.node.shutdown().await;
    }
}

/// Join the clinic of invite `ticket` as `device`: a one-off endpoint dials the registrar (which
/// must be running and reachable), and the clinic is kept with `listen` and `mdns`; the
/// registrar's address is remembered.
pub async fn join_clinic(
    h: &Hearth,
    ticket: &str,
    device: &str,
    listen: SocketAddr,
    mdns: bool,
) -> Result<ClinicInfo> {
    let (ticket, device) = (ticket.trim().to_string(), device.trim().to_string());
    let (ticket, request, secret, store) = quietly(h, move |h| {
        let (t, r) = h.join_request(&ticket, &device)?;
        Ok((t, r, h.sync_secret()?, h.sync_store()))
    })
    .await?;
    let (registrar, registrar_addrs) = (ticket.endpoint, ticket.addrs.clone());
    let at = NetConfig::dial_from(&registrar_addrs);
    let node = Node::bind(secret, store, NetConfig::default().bind(at).mdns(mdns))
        .await
        .map_err(|e| CoreError::Network(e.to_string()))?;
    let joined = node.join(ticket, request).await;
    node.shutdown().await;
    let clinic = joined.map_err(|e| {
        CoreError::Network(format!(
            "could not join the clinic: {e}. The registrar's Hearth must be open and unlocked, \
             and the ticket unused and less than a day old"
        ))
    })?;
    quietly(h, move |h| {
        let info = h.clinic_joined(&clinic, listen, mdns)?;
        h.remember_peer(registrar, &registrar_addrs)?;
        Ok(info)
    })
    .await
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
