//! Clinic sync: status, create, invite (ticket + QR code), join, remove, "Sync now", and the
//! background node other clinic devices connect to.
//!
//! The node runs on Tauri's async runtime while the vault is unlocked and this device is in a
//! clinic: started after unlock, create and join (and by the status poll when it is not yet
//! running), stopped on lock — and by a watcher when the vault locks itself when idle.
//! Member addresses learnt this session (the registrar's from the ticket, the ones typed into
//! "Sync now") and the last result per member are kept in memory only.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hearth_api::{
    ApiError, ClinicStatus, ClinicView, ErrorKind, InviteView, MemberView, NodeState, PeerSync,
    SyncProgressView,
};
use hearth_core::{ClinicInfo, Session, DEFAULT_SYNC_PORT};
use hearth_sync::net::{NetConfig, NetError, Node};

use super::{blocking, with_hearth, Reply, Shared};

/// A member counts as online this long after a successful sync.
const ONLINE_MS: u64 = 3 * 60 * 1000;
/// How often the background node looks for local edits to push.
const PUSH_POLL: Duration = Duration::from_millis(250);

/// Seconds between background syncs with members whose address is known:
/// `HEARTH_SYNC_EVERY_SECS`, else 60 (edits are pushed at once either way).
fn sync_every() -> Duration {
    Duration::from_secs(
        std::env::var("HEARTH_SYNC_EVERY_SECS")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(60)
            .max(1),
    )
}

#[derive(Default)]
struct Net {
    node: Option<Node>,
    /// Why the node is not running.
    node_error: Option<String>,
    /// Addresses learnt this session, by endpoint id.
    addrs: HashMap<[u8; 32], Vec<SocketAddr>>,
    /// The last sync result per endpoint id (hex).
    last: HashMap<String, PeerSync>,
    last_sync_ms: Option<u64>,
    watcher: bool,
    keeper: bool,
    /// Records sync brought in during this run.
    synced_in: u64,
    /// The sync running now, for "Sync now"'s progress.
    progress: Option<SyncProgressView>,
}

static NET: LazyLock<Mutex<Net>> = LazyLock::new(Mutex::default);

fn net() -> MutexGuard<'static, Net> {
    NET.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn net_error(e: &NetError) -> ApiError {
    ApiError::new(ErrorKind::Io, e.to_string())
}

fn invalid(msg: impl Into<String>) -> ApiError {
    ApiError::new(ErrorKind::InvalidInput, msg)
}

/// Where this device's node listens when it creates or joins a clinic: `HEARTH_SYNC_LISTEN`,
/// else loopback on the default port.
fn default_listen() -> SocketAddr {
    std::env::var("HEARTH_SYNC_LISTEN")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], DEFAULT_SYNC_PORT)))
}

fn parse_id(hex_id: &str) -> Option<[u8; 32]> {
    hex::decode(hex_id.trim()).ok()?.try_into().ok()
}

/// A peer typed as ENDPOINT_ID@IP:PORT[,IP:PORT…].
fn parse_peer(s: &str) -> Result<([u8; 32], Vec<SocketAddr>), ApiError> {
    let (id, addrs) = s.trim().split_once('@').ok_or_else(|| {
        invalid("give the device as ENDPOINT_ID@IP:PORT (its endpoint id, then where it listens)")
    })?;
    let id = parse_id(id).ok_or_else(|| invalid("the endpoint id should be 64 hex digits"))?;
    let addrs = addrs
        .split(',')
        .map(|a| {
            a.trim()
                .parse()
                .map_err(|_| invalid(format!("{a:?} is not an address like 192.168.1.20:4242")))
        })
        .collect::<Result<Vec<SocketAddr>, ApiError>>()?;
    Ok((id, addrs))
}

/// Bind a node for this vault: `listen`, or a dialling-only one on any free port.
async fn bind(session: &Shared<'_>, listen: Option<SocketAddr>) -> Reply<Node> {
    let (secret, store, (settings, mdns), relay, cache) = with_hearth(session, |h| {
        Ok((
            h.sync_secret()?,
            h.sync_store(),
            h.sync_settings()?,
            h.sync_relay()?,
            h.content_cache_dir(),
        ))
    })
    .await?;
    let relay = match relay {
        Some(u) => Some(NetConfig::parse_relay(&u).map_err(|e| net_error(&e))?),
        None => None,
    };
    let at = listen.unwrap_or_else(|| {
        if settings.ip().is_loopback() {
            SocketAddr::from(([127, 0, 0, 1], 0))
        } else {
            SocketAddr::from(([0, 0, 0, 0], 0))
        }
    });
    Node::bind(
        secret,
        store,
        NetConfig::default()
            .bind(at)
            .mdns(mdns)
            .relay(relay)
            .content_cache(Some(cache)),
    )
    .await
    .map_err(|e| net_error(&e))
}

/// Start the background node if the vault is open, this device is in a clinic and it is not
/// running yet. Failures are kept for the status.
pub(crate) async fn ensure_node(session: &Shared<'_>) {
    if net().node.is_some() {
        return;
    }
    let listen = match with_hearth(session, |h| {
        Ok(match h.clinic_info()? {
            Some(_) => Some(h.sync_settings()?.0),
            None => None,
        })
    })
    .await
    {
        Ok(Some(l)) => l,
        Ok(None) | Err(_) => return,
    };
    match bind(session, Some(listen)).await {
        Ok(node) => {
            // Records a peer brings when it dials this device refresh the screens too.
            node.on_served(Arc::new(|_, r: &hearth_sync::Report| {
                net().synced_in += (r.applied + r.attachments) as u64;
            }));
            drop(node.serve());
            tracing::info!(addrs = ?node.addrs(), "clinic sync node listening");
            let raced = {
                let mut n = net();
                if let Some(old) = n.node.replace(node.clone()) {
                    // Two starts raced: keep one.
                    n.node = Some(old);
                    true
                } else {
                    n.node_error = None;
                    if !n.watcher {
                        n.watcher = true;
                        watch_lock(Arc::clone(session));
                    }
                    if !n.keeper {
                        n.keeper = true;
                        keep_in_sync(Arc::clone(session));
                    }
                    false
                }
            };
            if raced {
                tauri::async_runtime::spawn(async move { node.shutdown().await });
                return;
            }
            // Members reached before (kept sealed with the clinic) are reachable again.
            if let Ok(known) = with_hearth(session, |h| h.known_peers()).await {
                let mut n = net();
                for (id, addrs) in known {
                    n.addrs.entry(id).or_insert(addrs);
                }
            }
        }
        Err(e) => {
            tracing::warn!("the clinic sync node did not start: {}", e.message);
            net().node_error = Some(format!(
                "Other devices cannot reach this one: {}",
                e.message
            ));
        }
    }
}

/// Stop the background node (lock). Results and addresses stay for the next unlock.
pub(crate) fn stop_node() {
    let node = {
        let mut n = net();
        n.node_error = None;
        n.node.take()
    };
    if let Some(node) = node {
        tracing::info!("clinic sync node stopping");
        tauri::async_runtime::spawn(async move { node.shutdown().await });
    }
}

/// While the node runs: push local edits to the members whose address is known as soon as the
/// vault's audit log moves (any change, from this app or another process), and sync with them
/// every [`sync_every`] anyway.
fn keep_in_sync(session: Arc<Session>) {
    tauri::async_runtime::spawn(async move {
        let every = sync_every();
        let mut seen: Option<u64> = None;
        let mut last_round = Instant::now();
        loop {
            tokio::time::sleep(PUSH_POLL).await;
            let Some(node) = net().node.clone() else {
                seen = None;
                continue;
            };
            let Ok(h) = session.hearth() else { continue };
            // Polling is one cheap query, and neither it nor a round is the user's activity
            // (idle lock); the clinic (its registrar log verified) is read only for a round.
            let poll = h.clone();
            let mark = tauri::async_runtime::spawn_blocking(move || {
                hearth_core::in_background(|| poll.change_mark().ok())
            })
            .await
            .ok()
            .flatten();
            let Some(mark) = mark else { continue };
            let changed = seen.is_some_and(|m| m != mark);
            if seen.is_some() && !changed && last_round.elapsed() < every {
                continue;
            }
            seen = Some(mark);
            last_round = Instant::now();
            let read = h.clone();
            let info = tauri::async_runtime::spawn_blocking(move || {
                hearth_core::in_background(|| read.clinic_info().ok().flatten())
            })
            .await
            .ok()
            .flatten();
            let Some(info) = info else { continue };
            let results = sync_members(&node, &info, &h, true).await;
            if !results.is_empty() {
                net().last_sync_ms = Some(now_ms());
            }
        }
    });
}

/// Sync with every other active member (only those whose address is known when `known_only`),
/// remembering where each was reached; one result per member tried.
async fn sync_members(
    node: &Node,
    info: &ClinicInfo,
    h: &hearth_core::Hearth,
    known_only: bool,
) -> Vec<PeerSync> {
    let mut results = Vec::new();
    for m in info.members.iter().filter(|m| m.active && !m.this_device) {
        let Some(id) = parse_id(&m.endpoint) else {
            continue;
        };
        let addrs = net().addrs.get(&id).cloned();
        if known_only && addrs.is_none() {
            continue;
        }
        let started = Instant::now();
        let name = m.name.clone();
        let progress = move |r: &hearth_sync::Report| {
            net().progress = Some(SyncProgressView {
                name: name.clone(),
                received: r.applied as u64,
                incoming: r.incoming as u64,
                bytes_in: r.bytes_in,
                bytes_out: r.bytes_out,
            });
        };
        let outcome = match &addrs {
            Some(a) => node
                .sync_with_progress(id, a, &progress)
                .await
                .map_err(|e| e.to_string()),
            None if info.mdns => node
                .sync_with_progress(id, &[], &progress)
                .await
                .map_err(|e| e.to_string()),
            None => Err("no address is known for this device yet: give it below as \
                         ENDPOINT_ID@IP:PORT (its Clinic screen shows both)"
                .to_string()),
        };
        let mut r = PeerSync {
            endpoint: m.endpoint.clone(),
            name: m.name.clone(),
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
                net().synced_in += r.received + r.files_in;
                if let Some(a) = &addrs {
                    let (h, a) = (h.clone(), a.clone());
                    let _ = tauri::async_runtime::spawn_blocking(move || {
                        hearth_core::in_background(|| h.remember_peer(id, &a))
                    })
                    .await;
                }
            }
            Err(e) => r.error = Some(e),
        }
        {
            let mut n = net();
            n.progress = None;
            n.last.insert(r.endpoint.clone(), r.clone());
        }
        results.push(r);
    }
    results
}

/// The sync running now (none between syncs); "Sync now" polls it.
#[tauri::command]
pub fn sync_progress() -> Option<SyncProgressView> {
    net().progress.clone()
}

/// Records sync brought in during this run (the UI reloads its lists when it grows).
pub(crate) fn synced_in() -> u64 {
    net().synced_in
}

/// Stop the node when the vault locks itself when idle.
fn watch_lock(session: Arc<Session>) {
    tauri::async_runtime::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(2)).await;
            let s = Arc::clone(&session);
            let locked = tauri::async_runtime::spawn_blocking(move || s.status().locked)
                .await
                .unwrap_or(true);
            if locked && net().node.is_some() {
                stop_node();
            }
        }
    });
}

fn view(info: Option<ClinicInfo>, relay: Option<String>) -> ClinicStatus {
    let n = net();
    let now = now_ms();
    let clinic = info.map(|c| {
        let role = c
            .members
            .iter()
            .find(|m| m.this_device)
            .map(|m| m.role.clone())
            .unwrap_or_default();
        ClinicView {
            id: c.id,
            name: c.name,
            registrar: c.registrar,
            role,
            endpoint: c.endpoint,
            own_patient: c.own_patient,
            mdns: c.mdns,
            relay,
            members: c
                .members
                .into_iter()
                .map(|m| {
                    let last = n.last.get(&m.endpoint);
                    let synced = last.filter(|r| r.ok).map(|r| r.at_ms);
                    MemberView {
                        online: m.this_device
                            || synced.is_some_and(|t| now.saturating_sub(t) < ONLINE_MS),
                        last_synced_ms: synced,
                        last_error: last.and_then(|r| r.error.clone()),
                        endpoint: m.endpoint,
                        name: m.name,
                        role: m.role,
                        stake: m.stake,
                        patient: m.patient,
                        active: m.active,
                        slashed: m.slashed,
                        registrar: m.registrar,
                        this_device: m.this_device,
                    }
                })
                .collect(),
        }
    });
    ClinicStatus {
        clinic,
        node: NodeState {
            running: n.node.is_some(),
            addrs: n
                .node
                .as_ref()
                .map(|node| node.addrs().iter().map(ToString::to_string).collect())
                .unwrap_or_default(),
            error: n.node_error.clone(),
        },
        last_sync_ms: n.last_sync_ms,
    }
}

async fn status(session: &Shared<'_>) -> Reply<ClinicStatus> {
    let (info, relay) = with_hearth(session, |h| Ok((h.clinic_info()?, h.sync_relay()?))).await?;
    Ok(view(info, relay))
}

/// The clinic this device is in (if any), its members and the node.
#[tauri::command]
pub async fn clinic_status(session: Shared<'_>) -> Reply<ClinicStatus> {
    ensure_node(&session).await;
    status(&session).await
}

/// Create a clinic; this device (named `device`, with `role`) becomes its registrar.
#[tauri::command]
pub async fn clinic_create(
    session: Shared<'_>,
    name: String,
    device: String,
    role: String,
) -> Reply<ClinicStatus> {
    let device = if device.trim().is_empty() {
        "registrar".to_string()
    } else {
        device
    };
    with_hearth(&session, move |h| {
        h.clinic_create(&name, device.trim(), &role, default_listen(), false)
    })
    .await?;
    ensure_node(&session).await;
    status(&session).await
}

/// Registrar: an invite ticket for one device joining as `role` with witness `stake`, and
/// its QR code.
#[tauri::command]
pub async fn clinic_invite(
    session: Shared<'_>,
    role: String,
    stake: u64,
    patient: Option<String>,
) -> Reply<InviteView> {
    ensure_node(&session).await;
    let addrs: Vec<SocketAddr> = net()
        .node
        .as_ref()
        .map(|n| n.addrs().into_iter().filter(|a| a.port() != 0).collect())
        .unwrap_or_default();
    let ticket = with_hearth(&session, move |h| {
        h.clinic_invite_for(&role, stake, patient.as_deref(), addrs)
    })
    .await?;
    let qr = qrcode::QrCode::new(ticket.as_bytes()).map_err(|e| {
        ApiError::new(
            ErrorKind::Internal,
            format!("the QR code could not be drawn: {e}"),
        )
    })?;
    let qr_svg = qr
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(240, 240)
        .quiet_zone(true)
        .build();
    Ok(InviteView { ticket, qr_svg })
}

/// Join a clinic with a ticket (the registrar's device must be running and reachable).
#[tauri::command]
pub async fn clinic_join(
    session: Shared<'_>,
    ticket: String,
    device: String,
) -> Reply<ClinicStatus> {
    let device = if device.trim().is_empty() {
        "device".to_string()
    } else {
        device
    };
    let (ticket, request) = blocking(&session, move |s| {
        s.hearth()?.join_request(ticket.trim(), device.trim())
    })
    .await
    .map_err(|e| {
        if e.kind == ErrorKind::InvalidInput && e.message.starts_with("ticket") {
            invalid(format!(
                "That is not a valid invite ticket: copy the whole text that starts with \
                     hearth-invite1- from the registrar's screen ({})",
                e.message
            ))
        } else {
            e
        }
    })?;
    let (registrar, registrar_addrs) = (ticket.endpoint, ticket.addrs.clone());
    let (secret, store) = with_hearth(&session, |h| Ok((h.sync_secret()?, h.sync_store()))).await?;
    let at = if registrar_addrs.iter().all(|a| a.ip().is_loopback()) {
        SocketAddr::from(([127, 0, 0, 1], 0))
    } else {
        SocketAddr::from(([0, 0, 0, 0], 0))
    };
    let node = Node::bind(secret, store, NetConfig::default().bind(at))
        .await
        .map_err(|e| net_error(&e))?;
    let joined = node.join(ticket, request).await;
    node.shutdown().await;
    let clinic = joined.map_err(|e| {
        ApiError::new(
            ErrorKind::Io,
            format!("Could not join the clinic: {e}. The registrar's Hearth must be open and unlocked, and the ticket unused and less than a day old."),
        )
    })?;
    with_hearth(&session, move |h| {
        h.clinic_joined(&clinic, default_listen(), false)
    })
    .await?;
    net().addrs.insert(registrar, registrar_addrs.clone());
    with_hearth(&session, move |h| {
        h.remember_peer(registrar, &registrar_addrs)
    })
    .await?;
    ensure_node(&session).await;
    status(&session).await
}

/// This device's network settings: look for clinic devices on the local network (mDNS), and
/// the clinic's self-hosted relay (none: devices reach each other directly). The node restarts
/// with them.
#[tauri::command]
pub async fn clinic_network(
    session: Shared<'_>,
    mdns: bool,
    relay: Option<String>,
) -> Reply<ClinicStatus> {
    let relay = relay
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty());
    if let Some(r) = &relay {
        NetConfig::parse_relay(r).map_err(|e| invalid(e.to_string()))?;
    }
    with_hearth(&session, move |h| {
        h.set_sync_settings(None, Some(mdns))?;
        h.set_sync_relay(relay.as_deref())
    })
    .await?;
    stop_node();
    ensure_node(&session).await;
    status(&session).await
}

/// Registrar: remove a member (by endpoint id).
#[tauri::command]
pub async fn clinic_remove(session: Shared<'_>, endpoint: String) -> Reply<ClinicStatus> {
    with_hearth(&session, move |h| h.clinic_remove(&endpoint)).await?;
    status(&session).await
}

/// Sync once with every other active member whose address is known (and with `peer`,
/// ENDPOINT_ID@IP:PORT, when given); one result per member.
#[tauri::command]
pub async fn sync_now(session: Shared<'_>, peer: Option<String>) -> Reply<Vec<PeerSync>> {
    let info = with_hearth(&session, |h| h.clinic_info())
        .await?
        .ok_or_else(|| {
            invalid("This device is in no clinic yet: create one or join with a ticket.")
        })?;
    if let Some(p) = peer.as_deref().filter(|p| !p.trim().is_empty()) {
        let (id, addrs) = parse_peer(p)?;
        net().addrs.insert(id, addrs);
    }
    ensure_node(&session).await;
    let running = net().node.clone();
    let node = match running {
        Some(n) => (n, false),
        None => (bind(&session, None).await?, true),
    };
    let h = blocking(&session, |s| s.hearth()).await?;
    let results = sync_members(&node.0, &info, &h, false).await;
    if node.1 {
        node.0.shutdown().await;
    }
    net().last_sync_ms = Some(now_ms());
    Ok(results)
}
