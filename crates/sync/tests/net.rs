//! Sessions over real iroh endpoints on loopback (no mocks): join, first sync, edits both
//! ways, reconnects, the membership gate, removal, and hostile peers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use automerge::transaction::Transactable;
use automerge::{Automerge, ReadDoc, ROOT};
use ed25519_dalek::SigningKey;
use hearth_sync::memory::MemoryStore;
use hearth_sync::net::{NetConfig, NetError, Node, ALPN};
use hearth_sync::wire::{BatchItem, DocPayload};
use hearth_sync::{
    endpoint_id, endpoint_secret, Clinic, CloseCode, DocMeta, FrameDecoder, JoinRequest, Member,
    Message, Role, Ticket,
};
use iroh::endpoint::{presets, RecvStream, SendStream};
use iroh::{Endpoint, EndpointAddr, PublicKey, RelayMode, SecretKey};

/// A zero-bit bloom filter sync message (automerge 0.12 panics generating a reply to it).
const ZERO_BIT_BLOOM: [u8; 10] = [0x42, 0, 0, 1, 0, 3, 1, 0, 7, 0];
/// Text that appears in every record: it must never reach a refused device.
const MARKER: &str = "PHI-MARKER-7731";

struct Peer {
    store: Arc<MemoryStore>,
    node: Node,
    key: SigningKey,
}

fn config() -> NetConfig {
    NetConfig::default().read_timeout(Duration::from_secs(2))
}

fn random_key() -> SigningKey {
    let mut b = [0u8; 32];
    getrandom::getrandom(&mut b).unwrap();
    SigningKey::from_bytes(&b)
}

async fn peer() -> Peer {
    let key = random_key();
    let store = Arc::new(MemoryStore::default());
    let node = Node::bind(endpoint_secret(&key), store.clone(), config())
        .await
        .unwrap();
    node.serve();
    Peer { store, node, key }
}

fn member_of(p: &Peer, role: Role) -> Member {
    Member {
        endpoint: p.node.id(),
        log_key: p.key.verifying_key().to_bytes(),
        device: p.node.id()[..16].to_vec(),
        name: "device".into(),
        role,
        stake: 1,
        patient: None,
    }
}

async fn registrar() -> Peer {
    let a = peer().await;
    let clinic = Clinic::create("Elm Street", &a.key, member_of(&a, Role::Admin), 1).unwrap();
    a.store.set_clinic(clinic, Some(a.key.clone()));
    a
}

/// `b` joins `a`'s clinic with a ticket, over the network.
async fn join(a: &Peer, b: &Peer) {
    let mut secret = [0u8; 32];
    getrandom::getrandom(&mut secret).unwrap();
    a.store.invite(secret, Role::Clinician);
    let ticket = Ticket {
        clinic: a.store.clinic_now().unwrap().id(),
        endpoint: a.node.id(),
        addrs: a.node.addrs(),
        secret,
    };
    let ticket = Ticket::from_text(&ticket.to_text()).unwrap();
    let req = JoinRequest::signed(
        &ticket,
        &b.key,
        b.node.id(),
        b.node.id()[..16].to_vec(),
        "b",
    );
    let clinic = b.node.join(ticket, req).await.unwrap();
    b.store.set_clinic(clinic, None);
}

fn note(text: &str) -> Automerge {
    let mut d = Automerge::new();
    let mut tx = d.transaction();
    tx.put(ROOT, "text", text).unwrap();
    tx.commit();
    d
}

fn edit(store: &MemoryStore, id: &str, key: &str, value: &str) {
    let mut d = store.get(id).unwrap();
    let mut tx = d.transaction();
    tx.put(ROOT, key, value).unwrap();
    tx.commit();
    store.put(id, "session-note", &d);
}

fn read(store: &MemoryStore, id: &str, key: &str) -> Option<String> {
    let d = store.get(id)?;
    d.get(ROOT, key)
        .unwrap()
        .and_then(|(v, _)| v.into_string().ok())
}

async fn sync(from: &Peer, to: &Peer) -> Result<hearth_sync::Report, NetError> {
    from.node.sync_with(to.node.id(), &to.node.addrs()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_sync_edits_both_ways_and_offline_edits_merge_after_reconnect() {
    let a = registrar().await;
    for i in 0..20 {
        a.store.put(
            &format!("n{i}"),
            "session-note",
            &note(&format!("{MARKER} {i}")),
        );
    }
    let b = peer().await;
    join(&a, &b).await;

    // First sync: B receives every document whole.
    let r = sync(&b, &a).await.unwrap();
    assert_eq!(r.applied, 20, "{r:?}");
    assert_eq!(b.store.ids().len(), 20);
    assert_eq!(read(&b.store, "n3", "text").unwrap(), format!("{MARKER} 3"));

    // Edits both ways, then B syncs again: only the changed documents move, by Automerge sync.
    edit(&a.store, "n1", "text", "edited on A");
    edit(&b.store, "n2", "text", "edited on B");
    b.store.put("b-new", "session-note", &note("made on B"));
    let r = sync(&b, &a).await.unwrap();
    assert_eq!(
        r.whole_sent, 1,
        "only the new document travels whole: {r:?}"
    );
    assert!(r.sync_sent >= 2 && r.applied == 1, "{r:?}");
    assert_eq!(read(&b.store, "n1", "text").unwrap(), "edited on A");
    assert_eq!(read(&a.store, "n2", "text").unwrap(), "edited on B");
    assert_eq!(read(&a.store, "b-new", "text").unwrap(), "made on B");

    // Offline: both edit the same note (different fields) while apart; A dials this time.
    edit(&a.store, "n5", "a-field", "from A");
    edit(&b.store, "n5", "b-field", "from B");
    let r = sync(&a, &b).await.unwrap();
    assert!(r.applied == 1, "{r:?}");
    for s in [&a.store, &b.store] {
        assert_eq!(read(s, "n5", "a-field").unwrap(), "from A");
        assert_eq!(read(s, "n5", "b-field").unwrap(), "from B");
    }
    assert_eq!(
        a.store.get("n5").unwrap().get_heads(),
        b.store.get("n5").unwrap().get_heads()
    );

    // A reconnect with nothing new moves no document.
    let r = sync(&b, &a).await.unwrap();
    assert_eq!((r.whole_sent, r.sync_sent, r.applied), (0, 0, 0), "{r:?}");
    assert!(a.store.refusals().is_empty(), "{:?}", a.store.refusals());
}

/// Regression: a first sync whose whole documents add up to more than one frame (16 MiB) used
/// to go out as one oversized batch that the receiver must refuse, so it never completed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_sync_larger_than_a_frame_goes_in_several_batches() {
    let a = registrar().await;
    // 24 documents of ~1 MiB of incompressible text: ~24 MiB in all.
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    for i in 0..24 {
        let mut text = String::with_capacity(1 << 20);
        while text.len() < 1 << 20 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            text.push_str(&format!("{x:016x}"));
        }
        a.store
            .put(&format!("big{i}"), "session-note", &note(&text));
    }
    let b = peer().await;
    join(&a, &b).await;
    let r = sync(&b, &a).await.unwrap();
    assert_eq!(r.applied, 24, "{r:?}");
    for i in [0, 11, 23] {
        let id = format!("big{i}");
        assert_eq!(
            a.store.get(&id).unwrap().get_heads(),
            b.store.get(&id).unwrap().get_heads()
        );
    }
    let r = sync(&b, &a).await.unwrap();
    assert_eq!((r.whole_sent, r.applied), (0, 0), "{r:?}");
}

/// A raw iroh endpoint, to speak the protocol by hand.
async fn raw_endpoint(key: &SigningKey) -> Endpoint {
    Endpoint::builder(presets::Minimal)
        .relay_mode(RelayMode::Disabled)
        .clear_ip_transports()
        .bind_addr("127.0.0.1:0")
        .unwrap()
        .secret_key(SecretKey::from_bytes(&endpoint_secret(key)))
        .bind()
        .await
        .unwrap()
}

async fn raw_connect(ep: &Endpoint, to: &Peer) -> (SendStream, RecvStream) {
    let addr = to.node.addrs().into_iter().fold(
        EndpointAddr::new(PublicKey::from_bytes(&to.node.id()).unwrap()),
        |a, s| a.with_ip_addr(s),
    );
    let conn = ep.connect(addr, ALPN).await.unwrap();
    let (send, recv) = conn.open_bi().await.unwrap();
    // Keep the connection alive for the stream's lifetime.
    std::mem::forget(conn);
    (send, recv)
}

/// Everything the peer sends until it ends its stream (or 10 s pass), as messages.
async fn read_all(recv: &mut RecvStream) -> (Vec<u8>, Vec<Message>) {
    let bytes = tokio::time::timeout(Duration::from_secs(10), recv.read_to_end(1 << 20))
        .await
        .expect("the node should end the stream")
        .unwrap_or_default();
    let mut d = FrameDecoder::default();
    d.push(&bytes);
    let mut out = Vec::new();
    while let Ok(Some(m)) = d.next_message() {
        out.push(m);
    }
    (bytes, out)
}

fn close_code(msgs: &[Message]) -> Option<CloseCode> {
    msgs.iter().find_map(|m| match m {
        Message::Close { code, .. } => Some(*code),
        _ => None,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_member_is_refused_before_any_record_byte_is_sent() {
    let a = registrar().await;
    a.store.put("n1", "session-note", &note(MARKER));
    let clinic = a.store.clinic_now().unwrap();

    let stranger = random_key();
    let ep = raw_endpoint(&stranger).await;
    let (mut send, mut recv) = raw_connect(&ep, &a).await;
    let hello = Message::Hello {
        clinic: clinic.id(),
        log_len: 1,
        log_head: clinic.hash_at(0).unwrap(),
    };
    send.write_all(&hello.to_frame()).await.unwrap();
    let (bytes, msgs) = read_all(&mut recv).await;
    assert_eq!(msgs.len(), 1, "only the refusal: {msgs:?}");
    match &msgs[0] {
        Message::Close { code, reason } => {
            assert_eq!(*code, CloseCode::NotMember);
            assert!(reason.contains("not a member"), "{reason}");
        }
        other => panic!("expected a close, got {other:?}"),
    }
    assert!(!String::from_utf8_lossy(&bytes).contains(MARKER));
    let refused = a.store.refusals();
    let stranger_id = endpoint_id(&endpoint_secret(&stranger));
    assert!(
        refused
            .iter()
            .any(|(e, why)| *e == stranger_id && why.contains("not a member")),
        "{refused:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removed_member_is_refused() {
    let a = registrar().await;
    a.store.put("n1", "session-note", &note(MARKER));
    let b = peer().await;
    join(&a, &b).await;
    sync(&b, &a).await.unwrap();
    a.store.remove_member(b.node.id()).unwrap();
    a.store.put("n2", "session-note", &note(MARKER));
    match sync(&b, &a).await {
        Err(NetError::Refused { code, reason }) => {
            assert_eq!(code, CloseCode::NotMember);
            assert!(reason.contains("removed member"), "{reason}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(b.store.get("n2").is_none());
    // A's log of refusals names B.
    assert!(a.store.refusals().iter().any(|(e, _)| *e == b.node.id()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_peer_is_dropped_without_panic_and_others_keep_syncing() {
    let a = registrar().await;
    for i in 0..5 {
        a.store.put(
            &format!("n{i}"),
            "session-note",
            &note(&format!("note {i}")),
        );
    }
    // H is a member (so it gets past the gate) that then misbehaves.
    let h_key = random_key();
    let h_id = endpoint_id(&endpoint_secret(&h_key));
    let mut clinic = a.store.clinic_now().unwrap();
    clinic
        .add(
            &a.key,
            Member {
                endpoint: h_id,
                log_key: h_key.verifying_key().to_bytes(),
                device: vec![9; 16],
                name: "hostile".into(),
                role: Role::Clinician,
                stake: 1,
                patient: None,
            },
            2,
        )
        .unwrap();
    a.store.set_clinic(clinic.clone(), Some(a.key.clone()));
    let b = peer().await;
    join(&a, &b).await;
    let ep = raw_endpoint(&h_key).await;

    let hostile = async {
        let mut codes = Vec::new();
        // Garbage.
        let (mut s, mut r) = raw_connect(&ep, &a).await;
        s.write_all(&[0, 0, 0, 5, 9, 9, 9, 9, 9]).await.unwrap();
        codes.push(close_code(&read_all(&mut r).await.1));
        // An oversized length.
        let (mut s, mut r) = raw_connect(&ep, &a).await;
        s.write_all(&u32::MAX.to_be_bytes()).await.unwrap();
        codes.push(close_code(&read_all(&mut r).await.1));
        // A length with no body: dropped at the read timeout.
        let (mut s, mut r) = raw_connect(&ep, &a).await;
        s.write_all(&100u32.to_be_bytes()).await.unwrap();
        codes.push(close_code(&read_all(&mut r).await.1));
        // A zero-bit bloom filter sync message, after a proper handshake.
        let (mut s, mut r) = raw_connect(&ep, &a).await;
        let c = a.store.clinic_now().unwrap();
        s.write_all(
            &Message::Hello {
                clinic: c.id(),
                log_len: c.len(),
                log_head: c.head(),
            }
            .to_frame(),
        )
        .await
        .unwrap();
        let mut d = FrameDecoder::default();
        let mut got = Vec::new();
        while got.len() < 2 {
            let mut buf = [0u8; 4096];
            let n = r.read(&mut buf).await.unwrap().unwrap();
            d.push(&buf[..n]);
            while let Some(m) = d.next_message().unwrap() {
                got.push(m);
            }
        }
        s.write_all(
            &Message::Log {
                from: c.len(),
                entries: vec![],
            }
            .to_frame(),
        )
        .await
        .unwrap();
        // Offer n0 with other heads, so A syncs it with H.
        let manifest = Message::Manifest {
            contracts: vec![],
            docs: vec![DocMeta {
                id: "n0".into(),
                kind: "session-note".into(),
                heads: vec![[7; 32]],
            }],
            evidence: vec![],
            cosigned: vec![],
        };
        s.write_all(&manifest.to_frame()).await.unwrap();
        let batch = Message::Batch {
            items: vec![BatchItem {
                id: "n0".into(),
                kind: "session-note".into(),
                payload: DocPayload::Sync(ZERO_BIT_BLOOM.to_vec()),
            }],
        };
        s.write_all(&batch.to_frame()).await.unwrap();
        codes.push(close_code(&read_all(&mut r).await.1));
        codes
    };
    let honest = async {
        let mut reports = Vec::new();
        for i in 0..3 {
            edit(&a.store, "n1", "round", &i.to_string());
            reports.push(sync(&b, &a).await);
        }
        reports
    };
    let (codes, reports) = tokio::join!(hostile, honest);
    assert_eq!(
        codes,
        vec![
            Some(CloseCode::Protocol),
            Some(CloseCode::Protocol),
            Some(CloseCode::Timeout),
            Some(CloseCode::Protocol)
        ]
    );
    for r in reports {
        r.unwrap();
    }
    assert_eq!(read(&b.store, "n1", "round").unwrap(), "2");
    // After all that, A still serves: one more sync works, and every drop was logged.
    edit(&a.store, "n4", "text", "after the attack");
    sync(&b, &a).await.unwrap();
    assert_eq!(read(&b.store, "n4", "text").unwrap(), "after the attack");
    let refusals: Vec<_> = a
        .store
        .refusals()
        .into_iter()
        .filter(|(e, _)| *e == h_id)
        .collect();
    assert_eq!(refusals.len(), 4, "{refusals:?}");
    assert!(refusals[3].1.contains("zero bits"), "{refusals:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_used_invite_is_refused() {
    let a = registrar().await;
    let b = peer().await;
    let mut secret = [0u8; 32];
    getrandom::getrandom(&mut secret).unwrap();
    a.store.invite(secret, Role::Clinician);
    let ticket = Ticket {
        clinic: a.store.clinic_now().unwrap().id(),
        endpoint: a.node.id(),
        addrs: a.node.addrs(),
        secret,
    };
    let req = JoinRequest::signed(&ticket, &b.key, b.node.id(), vec![1; 16], "b");
    b.node.join(ticket.clone(), req.clone()).await.unwrap();
    let c = peer().await;
    let req = JoinRequest::signed(&ticket, &c.key, c.node.id(), vec![2; 16], "c");
    match c.node.join(ticket, req).await {
        Err(NetError::Refused { code, .. }) => assert_eq!(code, CloseCode::InviteRefused),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_clinic_relay_set_devices_still_reach_each_other_directly() {
    // The relay named here does not answer (nothing runs there): a device that has one set
    // keeps syncing over the direct path, and a bad relay address is refused with the reason.
    let relay = NetConfig::parse_relay("http://127.0.0.1:9").unwrap();
    let key = random_key();
    let store = Arc::new(MemoryStore::default());
    let node = Node::bind(
        endpoint_secret(&key),
        store.clone(),
        config().relay(Some(relay)),
    )
    .await
    .unwrap();
    node.serve();
    let b = Peer { store, node, key };
    let a = registrar().await;
    join(&a, &b).await;
    a.store
        .put("n1", "session-note", &note("over the direct path"));
    sync(&b, &a).await.unwrap();
    assert_eq!(
        read(&b.store, "n1", "text").as_deref(),
        Some("over the direct path")
    );
    for bad in [
        "relay.example.org",
        "ftp://relay.example.org",
        "https://",
        "",
    ] {
        let e = NetConfig::parse_relay(bad).unwrap_err().to_string();
        assert!(e.contains("https://HOST"), "{bad}: {e}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_sync_reports_its_progress_in_documents_and_bytes() {
    let a = registrar().await;
    // Text that does not compress away: ~2 KB of pseudo-random digits per note.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in 0..30 {
        let text: String = (0..2000)
            .map(|_| {
                x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                char::from(b'0' + u8::try_from((x >> 33) % 10).unwrap())
            })
            .collect();
        a.store.put(&format!("n{i}"), "session-note", &note(&text));
    }
    let b = peer().await;
    join(&a, &b).await;
    let seen = std::sync::Mutex::new(Vec::new());
    let r = b
        .node
        .sync_with_progress(a.node.id(), &a.node.addrs(), &|p| {
            seen.lock()
                .unwrap()
                .push((p.incoming, p.applied, p.bytes_in));
        })
        .await
        .unwrap();
    assert_eq!((r.incoming, r.applied), (30, 30), "{r:?}");
    // 2000 random digits hold 2000·log2(10) bits ≈ 830 bytes however they are compressed.
    assert!(r.bytes_in > 30 * 830, "the documents' bytes: {r:?}");
    assert!(r.bytes_out > 0);
    let seen = seen.into_inner().unwrap();
    assert!(seen.len() >= 3, "progress after each frame: {seen:?}");
    assert!(
        seen.windows(2)
            .all(|w| w[0].1 <= w[1].1 && w[0].2 <= w[1].2),
        "documents and bytes only grow: {seen:?}"
    );
    assert!(
        seen.iter().any(|s| s.0 == 30),
        "the total is known once manifests are in"
    );
    // Nothing new: nothing incoming.
    let again = sync(&b, &a).await.unwrap();
    assert_eq!((again.incoming, again.applied), (0, 0), "{again:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_past_the_cap_are_refused_and_the_device_recovers() {
    let key = random_key();
    let store = Arc::new(MemoryStore::default());
    let node = Node::bind(
        endpoint_secret(&key),
        store.clone(),
        config().max_sessions(1),
    )
    .await
    .unwrap();
    node.serve();
    let a = Peer { store, node, key };
    let clinic = Clinic::create("Elm Street", &a.key, member_of(&a, Role::Admin), 1).unwrap();
    a.store.set_clinic(clinic, Some(a.key.clone()));
    a.store.put("n1", "session-note", &note("after the flood"));
    let b = peer().await;
    join(&a, &b).await;
    // The join's session has ended (at most one read timeout later).
    tokio::time::sleep(Duration::from_millis(2500)).await;

    let target = a.node.addrs().into_iter().fold(
        EndpointAddr::new(PublicKey::from_bytes(&a.node.id()).unwrap()),
        |x, s| x.with_ip_addr(s),
    );
    // A connection that never speaks holds the only slot (until the read timeout)…
    let holder = raw_endpoint(&random_key()).await;
    let held = holder.connect(target.clone(), ALPN).await.unwrap();
    // …so the next one is refused outright.
    let flood = raw_endpoint(&random_key()).await;
    let refused = tokio::time::timeout(Duration::from_secs(5), flood.connect(target, ALPN))
        .await
        .expect("a refusal is immediate");
    assert!(refused.is_err(), "a connection past the cap was accepted");
    // Once the silent one has timed out, a member syncs as usual.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    sync(&b, &a).await.unwrap();
    assert_eq!(
        read(&b.store, "n1", "text").as_deref(),
        Some("after the flood")
    );
    drop(held);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_member_syncs_with_one_that_has_not_heard_of_it_yet() {
    let a = registrar().await;
    let c = peer().await;
    join(&a, &c).await;
    let b = peer().await;
    join(&a, &b).await;
    // C joined before B and has not synced since: its registrar log does not name B.
    assert!(c.store.clinic_now().unwrap().active(&b.node.id()).is_none());
    c.store.put("n1", "session-note", &note("held by C"));
    // B dials C directly: C takes B's longer log, checks it, then admits B.
    let r = sync(&b, &c).await.unwrap();
    assert_eq!(r.applied, 1, "{r:?}");
    assert_eq!(read(&b.store, "n1", "text").as_deref(), Some("held by C"));
    assert!(c.store.clinic_now().unwrap().active(&b.node.id()).is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stranger_claiming_a_longer_log_gets_no_record_and_is_refused() {
    let a = registrar().await;
    a.store.put("n1", "session-note", &note(MARKER));
    let clinic = a.store.clinic_now().unwrap();
    let stranger = random_key();
    let ep = raw_endpoint(&stranger).await;
    let (mut send, mut recv) = raw_connect(&ep, &a).await;
    let hello = Message::Hello {
        clinic: clinic.id(),
        log_len: 50,
        log_head: [7; 32],
    };
    send.write_all(&hello.to_frame()).await.unwrap();
    // Its "longer log" has nothing signed by the registrar naming it.
    let log = Message::Log {
        from: clinic.len(),
        entries: Vec::new(),
    };
    send.write_all(&log.to_frame()).await.unwrap();
    let (bytes, msgs) = read_all(&mut recv).await;
    assert!(!String::from_utf8_lossy(&bytes).contains(MARKER));
    assert!(
        msgs.iter().all(|m| match m {
            Message::Hello { .. } | Message::Close { .. } => true,
            Message::Log { entries, .. } => entries.is_empty(),
            _ => false,
        }),
        "nothing but a hello, an empty log and the refusal: {msgs:?}"
    );
    match msgs.last() {
        Some(Message::Close { code, reason }) => {
            assert_eq!(*code, CloseCode::NotMember);
            assert!(reason.contains("not a member"), "{reason}");
        }
        other => panic!("expected a close, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_served_side_hears_what_a_dialling_peer_brought() {
    let a = registrar().await;
    let heard = Arc::new(std::sync::Mutex::new(Vec::new()));
    let h = Arc::clone(&heard);
    a.node.on_served(Arc::new(move |peer, r| {
        h.lock().unwrap().push((*peer, r.applied));
    }));
    let b = peer().await;
    join(&a, &b).await;
    b.store.put("b1", "session-note", &note("written on B"));
    sync(&b, &a).await.unwrap();
    // The served session ends after the dialler's; give it its moment.
    for _ in 0..50 {
        if heard.lock().unwrap().iter().any(|(_, n)| *n == 1) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let heard = heard.lock().unwrap().clone();
    assert!(
        heard.contains(&(b.node.id(), 1)),
        "A heard of B's note: {heard:?}"
    );
}
