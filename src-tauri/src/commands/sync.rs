//! Clinic sync: status, create, invite (ticket + QR code), join, remove, "Sync now", and the
//! background node other clinic devices connect to.
//!
//! The node is hearth-core's [`ClinicNode`], run on Tauri's async runtime while the vault is
//! unlocked and this device is in a clinic: started after unlock, create and join (and by the
//! status poll when it is not yet running), stopped on lock — and by a watcher when the vault
//! locks itself when idle. It remembers where members were reached (sealed with the clinic),
//! pushes edits to them and syncs every [`sync_every`]. This module only maps it to the screen.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hearth_api::{
    ApiError, ClinicStatus, ClinicView, ErrorKind, InviteView, MemberView, NodeState, PeerSync,
    SyncProgressView,
};
use hearth_core::{ClinicInfo, ClinicNode, NodeOptions, Session, DEFAULT_SYNC_PORT};
use hearth_sync::net::NetConfig;

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
    node: Option<ClinicNode>,
    /// Why the node is not running.
    node_error: Option<String>,
    watcher: bool,
    /// What earlier nodes of this run saw (results per member, records in, last sync), so a
    /// lock and unlock does not forget them.
    last: HashMap<String, PeerSync>,
    synced_in: u64,
    last_sync_ms: Option<u64>,
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

/// A peer typed as ENDPOINT_ID@IP:PORT[,IP:PORT…].
fn parse_peer(s: &str) -> Result<([u8; 32], Vec<SocketAddr>), ApiError> {
    let (id, addrs) = s.trim().split_once('@').ok_or_else(|| {
        invalid("give the device as ENDPOINT_ID@IP:PORT (its endpoint id, then where it listens)")
    })?;
    let id: [u8; 32] = hex::decode(id.trim())
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or_else(|| invalid("the endpoint id should be 64 hex digits"))?;
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

/// Start a node for this vault at `listen` (remembering where members were reached).
async fn start(session: &Shared<'_>, listen: SocketAddr) -> Reply<ClinicNode> {
    let h = blocking(session, |s| s.hearth()).await?;
    Ok(ClinicNode::start(
        &h,
        NodeOptions {
            listen,
            remember_peers: true,
        },
    )
    .await?)
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
    match start(session, listen).await {
        Ok(node) => {
            let raced = {
                let mut n = net();
                if n.node.is_some() {
                    // Two starts raced: keep one.
                    true
                } else {
                    n.node = Some(node.clone());
                    n.node_error = None;
                    if !n.watcher {
                        n.watcher = true;
                        watch_lock(Arc::clone(session));
                    }
                    false
                }
            };
            if raced {
                node.shutdown().await;
            } else {
                node.keep_in_sync(sync_every(), PUSH_POLL);
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

/// Stop the background node (lock). Results stay for the next unlock; addresses are sealed
/// with the clinic.
pub(crate) fn stop_node() {
    let node = {
        let mut n = net();
        n.node_error = None;
        let node = n.node.take();
        if let Some(node) = &node {
            n.last.extend(node.last_results());
            n.synced_in += node.synced_in();
            n.last_sync_ms = n.last_sync_ms.max(node.last_sync_ms());
        }
        node
    };
    if let Some(node) = node {
        tracing::info!("clinic sync node stopping");
        tauri::async_runtime::spawn(async move { node.shutdown().await });
    }
}

/// The sync running now (none between syncs); "Sync now" polls it.
#[tauri::command]
pub fn sync_progress() -> Option<SyncProgressView> {
    net().node.as_ref().and_then(ClinicNode::progress)
}

/// Records (and attachments) sync brought in during this run: the screens refresh when it moves.
pub(crate) fn synced_in() -> u64 {
    let n = net();
    n.synced_in + n.node.as_ref().map_or(0, ClinicNode::synced_in)
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
    let mut last = n.last.clone();
    if let Some(node) = &n.node {
        last.extend(node.last_results());
    }
    let last_sync_ms = n
        .last_sync_ms
        .max(n.node.as_ref().and_then(ClinicNode::last_sync_ms));
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
                    let last = last.get(&m.endpoint);
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
        last_sync_ms,
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
    let h = blocking(&session, |s| s.hearth()).await?;
    hearth_core::join_clinic(&h, &ticket, &device, default_listen(), false)
        .await
        .map_err(|e| {
            let e = ApiError::from(e);
            if e.kind == ErrorKind::InvalidInput && e.message.starts_with("ticket") {
                invalid(format!(
                    "That is not a valid invite ticket: copy the whole text that starts with \
                     hearth-invite1- from the registrar's screen ({})",
                    e.message
                ))
            } else if e.kind == ErrorKind::Io {
                // Sentence case for the screen.
                let mut m = e.message.clone();
                if let Some(c) = m.get_mut(..1) {
                    c.make_ascii_uppercase();
                }
                ApiError::new(ErrorKind::Io, m)
            } else {
                e
            }
        })?;
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
    let typed = match peer.as_deref().filter(|p| !p.trim().is_empty()) {
        Some(p) => Some(parse_peer(p)?),
        None => None,
    };
    ensure_node(&session).await;
    let running = net().node.clone();
    // Without the background node (it could not start), a node on any free port dials out.
    let (node, temporary) = match running {
        Some(n) => (n, false),
        None => {
            let typed_addrs = typed.as_ref().map_or(&[][..], |(_, a)| &a[..]);
            (
                start(&session, NetConfig::dial_from(typed_addrs)).await?,
                true,
            )
        }
    };
    if let Some((id, addrs)) = typed {
        node.learn(id, addrs);
    }
    let results = node.sync_members(&info, false).await;
    if temporary {
        {
            let mut n = net();
            n.last.extend(node.last_results());
            n.synced_in += node.synced_in();
            n.last_sync_ms = n.last_sync_ms.max(node.last_sync_ms());
        }
        node.shutdown().await;
    }
    Ok(results)
}
