//! `hearth clinic …`, `hearth sync` and `hearth node`: clinic membership and peer-to-peer sync
//! over iroh (glue over hearth-core and hearth-sync).

use std::io::Write;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context};
use clap::{Args, Subcommand};
use hearth_core::{join_clinic, ClinicInfo, ClinicNode, Hearth, NodeOptions, DEFAULT_SYNC_PORT};
use hearth_sync::net::{NetConfig, Node};
use hearth_sync::Ticket;

/// Sync commands (flattened into the top-level command list).
#[derive(Subcommand)]
pub(crate) enum SyncCmd {
    /// The clinic: create, invite, join, members, remove.
    #[command(subcommand)]
    Clinic(ClinicCmd),
    /// Sync once with a clinic member, then exit.
    Sync {
        /// The peer: an invite ticket, or ENDPOINT_ID@IP:PORT (from `hearth clinic members`
        /// and the node's start-up line).
        #[arg(long)]
        peer: String,
    },
    /// Run an always-on peer for the clinic (no UI) until SIGTERM or Ctrl-C.
    Node(NodeArgs),
}

/// Clinic membership.
#[derive(Subcommand)]
pub(crate) enum ClinicCmd {
    /// Create a clinic: this device becomes its registrar.
    Create {
        /// The clinic's name.
        #[arg(long)]
        name: String,
        /// This device's name in member lists.
        #[arg(long, default_value = "registrar")]
        device_name: String,
        /// This device's role: clinician, admin or patient.
        #[arg(long, default_value = "clinician")]
        role: String,
        /// Where `hearth node` listens (tickets carry it).
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Find clinic devices on the local network (mDNS).
        #[arg(long)]
        mdns: bool,
    },
    /// Registrar: print an invite ticket for one device.
    Invite {
        /// The new member's role: clinician, admin or patient.
        #[arg(long, default_value = "clinician")]
        role: String,
        /// Witness stake.
        #[arg(long, default_value_t = 1)]
        stake: u64,
        /// With `--role patient`: the patient whose own device joins (it receives only what
        /// their contracts share with their devices).
        #[arg(long)]
        patient: Option<String>,
        /// Address(es) the new device reaches this one at [default: the listen address].
        #[arg(long)]
        addr: Vec<SocketAddr>,
    },
    /// Join a clinic with a ticket (the registrar's node must be running).
    Join {
        /// The ticket.
        ticket: String,
        /// This device's name in member lists.
        #[arg(long, default_value = "device")]
        name: String,
        /// Where this device's `hearth node` will listen.
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Find clinic devices on the local network (mDNS).
        #[arg(long)]
        mdns: bool,
    },
    /// The members.
    Members,
    /// Show or set the clinic's self-hosted relay (an `iroh-relay` server that devices at
    /// several sites reach each other through); every device of the clinic sets the same one.
    Relay {
        /// The relay, e.g. https://relay.example.org
        url: Option<String>,
        /// Use no relay (the default: devices reach each other directly).
        #[arg(long, conflicts_with = "url")]
        off: bool,
    },
    /// Registrar: remove a member (by endpoint id).
    Remove {
        /// The member's endpoint id (hex, from `hearth clinic members`).
        endpoint: String,
    },
}

/// `hearth node`.
#[derive(Args)]
pub(crate) struct NodeArgs {
    /// Listen here instead of the clinic's setting.
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Also sync with these peers (ENDPOINT_ID@IP:PORT or tickets): at once whenever this
    /// vault changes (an edit from any process is pushed), and every --interval seconds.
    #[arg(long)]
    peer: Vec<String>,
    /// Seconds between syncs with --peer.
    #[arg(long, default_value_t = 5)]
    interval: u64,
}

/// How often `hearth node` looks for local edits to push to its peers.
const PUSH_POLL: Duration = Duration::from_millis(100);

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], DEFAULT_SYNC_PORT))
}

/// Where to bind a dialling-only endpoint: loopback when every peer address is loopback,
/// otherwise all interfaces (any free port either way).
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("could not start the network runtime")
}

async fn start(h: &Hearth, listen: SocketAddr, mdns: bool) -> anyhow::Result<Node> {
    let relay = match h.sync_relay().ok().flatten() {
        Some(u) => Some(NetConfig::parse_relay(&u)?),
        None => None,
    };
    let config = NetConfig::default()
        .bind(listen)
        .mdns(mdns)
        .relay(relay)
        .content_cache(Some(h.content_cache_dir()));
    Ok(Node::bind(h.sync_secret()?, h.sync_store(), config).await?)
}

/// A peer as ENDPOINT_ID@IP:PORT[,IP:PORT…] or a ticket.
fn parse_peer(s: &str) -> anyhow::Result<([u8; 32], Vec<SocketAddr>)> {
    let s = s.trim();
    if s.starts_with(hearth_sync::clinic::TICKET_PREFIX) {
        let t = Ticket::from_text(s)?;
        return Ok((t.endpoint, t.addrs.clone()));
    }
    let (id, addrs) = s
        .split_once('@')
        .ok_or_else(|| anyhow!("give the peer as ENDPOINT_ID@IP:PORT or an invite ticket"))?;
    let id: [u8; 32] = hex::decode(id)
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or_else(|| anyhow!("the endpoint id should be 64 hex digits"))?;
    let addrs = addrs
        .split(',')
        .map(|a| {
            a.parse()
                .with_context(|| format!("{a:?} is not an IP:PORT address"))
        })
        .collect::<anyhow::Result<Vec<SocketAddr>>>()?;
    Ok((id, addrs))
}

fn print_clinic(out: &mut impl Write, c: &ClinicInfo, json: bool) -> anyhow::Result<()> {
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(c)?)?;
        return Ok(());
    }
    writeln!(
        out,
        "clinic {} ({}), registrar log: {} entries",
        c.name, c.id, c.log_len
    )?;
    writeln!(
        out,
        "this device: {}{}",
        c.endpoint,
        if c.registrar { " (registrar)" } else { "" }
    )?;
    if let Some(p) = &c.own_patient {
        writeln!(
            out,
            "this is the patient {p}'s own device: it receives what their contracts share with them"
        )?;
    }
    for m in &c.members {
        writeln!(
            out,
            "{}  {:<10} stake {:<3} {:<8} {}{}{}",
            m.endpoint,
            m.role,
            m.stake,
            match (m.active, m.slashed) {
                (true, false) => "active",
                (true, true) => "slashed",
                (false, _) => "removed",
            },
            m.name,
            m.patient
                .as_deref()
                .map(|p| format!(" (patient {p})"))
                .unwrap_or_default(),
            if m.this_device { "  (this device)" } else { "" }
        )?;
    }
    Ok(())
}

/// Run a sync command.
pub(crate) fn run(
    h: &Hearth,
    cmd: SyncCmd,
    json: bool,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    match cmd {
        SyncCmd::Clinic(c) => clinic(h, c, json, out),
        SyncCmd::Sync { peer } => {
            let (id, addrs) = parse_peer(&peer)?;
            // Attachments from before content travelled get a transfer form first.
            h.upgrade_attachments()?;
            let rt = runtime()?;
            let started = Instant::now();
            let report = rt.block_on(async {
                // A one-shot sync dials out: any free local port will do.
                let (_, mdns) = h.sync_settings()?;
                let node = start(h, NetConfig::dial_from(&addrs), mdns).await?;
                // Served while it runs: the peer fetches the content of attachments it brought.
                let serving = node.serve();
                let r = node.sync_with(id, &addrs).await;
                if r.as_ref().is_ok_and(|r| r.attachment_records_sent > 0) {
                    node.settle(Duration::from_secs(1), Duration::from_secs(600))
                        .await;
                }
                serving.abort();
                node.shutdown().await;
                Ok::<_, anyhow::Error>(r?)
            })?;
            let ms = started.elapsed().as_millis();
            if json {
                writeln!(
                    out,
                    "{}",
                    serde_json::json!({
                        "offered": report.offered, "whole_sent": report.whole_sent,
                        "sync_sent": report.sync_sent, "applied": report.applied,
                        "refused": report.refused, "rounds": report.rounds,
                        "log_entries": report.log_entries, "contracts": report.contracts,
                        "evidence": report.evidence, "incoming": report.incoming,
                        "bytes_in": report.bytes_in, "bytes_out": report.bytes_out,
                        "attachments": report.attachments,
                        "attachment_bytes": report.attachment_bytes,
                        "attachments_missing": report.attachments_missing,
                        "ms": ms,
                    })
                )?;
            } else {
                writeln!(
                    out,
                    "synced in {ms} ms: offered {} documents, received {} changed, {} refused, {} rounds, {} bytes in, {} out",
                    report.offered, report.applied, report.refused, report.rounds, report.bytes_in, report.bytes_out
                )?;
                if report.attachments + report.attachments_missing > 0 {
                    writeln!(
                        out,
                        "attachments: {} received ({} bytes), {} still to come",
                        report.attachments, report.attachment_bytes, report.attachments_missing
                    )?;
                }
            }
            Ok(())
        }
        SyncCmd::Node(args) => node(h, args, out),
    }
}

fn clinic(h: &Hearth, cmd: ClinicCmd, json: bool, out: &mut impl Write) -> anyhow::Result<()> {
    match cmd {
        ClinicCmd::Create {
            name,
            device_name,
            role,
            listen,
            mdns,
        } => {
            let c = h.clinic_create(&name, &device_name, &role, listen.unwrap_or_else(default_listen), mdns)?;
            print_clinic(out, &c, json)
        }
        ClinicCmd::Invite {
            role,
            stake,
            patient,
            addr,
        } => {
            let ticket = h.clinic_invite_for(&role, stake, patient.as_deref(), addr)?;
            if json {
                writeln!(out, "{}", serde_json::json!({ "ticket": ticket }))?;
            } else {
                writeln!(out, "{ticket}")?;
            }
            Ok(())
        }
        ClinicCmd::Join {
            ticket,
            name,
            listen,
            mdns,
        } => {
            let listen = listen.unwrap_or_else(default_listen);
            let c = runtime()?.block_on(join_clinic(h, &ticket, &name, listen, mdns))?;
            print_clinic(out, &c, json)
        }
        ClinicCmd::Members => match h.clinic_info()? {
            Some(c) => print_clinic(out, &c, json),
            None => Err(anyhow!(
                "this device is in no clinic: create one (hearth clinic create) or join with a ticket"
            )),
        },
        ClinicCmd::Relay { url, off } => {
            if let Some(u) = &url {
                // Checked the way the endpoint will use it, before it is kept.
                NetConfig::parse_relay(u)?;
            }
            if url.is_some() || off {
                h.set_sync_relay(url.as_deref())?;
            }
            let now = h.sync_relay()?;
            if json {
                writeln!(out, "{}", serde_json::json!({ "relay": now }))?;
            } else {
                match now {
                    Some(u) => writeln!(out, "relay: {u}")?,
                    None => writeln!(out, "relay: none (devices reach each other directly)")?,
                }
            }
            Ok(())
        }
        ClinicCmd::Remove { endpoint } => {
            let c = h.clinic_remove(&endpoint)?;
            print_clinic(out, &c, json)
        }
    }
}

fn node(h: &Hearth, args: NodeArgs, out: &mut impl Write) -> anyhow::Result<()> {
    let (listen, _) = h.sync_settings()?;
    let listen = args.listen.unwrap_or(listen);
    let peers = args
        .peer
        .iter()
        .map(|p| parse_peer(p))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let rt = runtime()?;
    rt.block_on(async {
        let node = ClinicNode::start(
            h,
            NodeOptions {
                listen,
                remember_peers: false,
            },
        )
        .await?;
        let addrs: Vec<String> = node.addrs().iter().map(ToString::to_string).collect();
        // The start-up line scripts and tests read: the peer spec others sync with.
        writeln!(out, "node {}@{}", hex::encode(node.id()), addrs.join(","))?;
        out.flush()?;
        tracing::info!(id = %hex::encode(node.id()), ?addrs, "hearth node listening");
        // Dials only the peers it is given: pushes local edits to them at once, and syncs with
        // them every --interval.
        if !peers.is_empty() {
            for (id, addrs) in peers {
                node.learn(id, addrs);
            }
            node.keep_in_sync(Duration::from_secs(args.interval.max(1)), PUSH_POLL);
        }
        shutdown_signal().await?;
        tracing::info!("shutting down");
        node.shutdown().await;
        // The reader of stdout may be gone by now: that is no failure.
        let _ = writeln!(out, "node stopped");
        Ok(())
    })
}

async fn shutdown_signal() -> anyhow::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).context("could not watch for SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("could not watch for SIGINT")?;
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    Ok(())
}
