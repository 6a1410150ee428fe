//! Attachments' content over real iroh endpoints on loopback (iroh-blobs): fetched after a
//! sync by either side, only what the store shares, only by members.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use ed25519_dalek::SigningKey;
use hearth_sync::content::CONTENT_ALPN;
use hearth_sync::memory::MemoryStore;
use hearth_sync::net::{NetConfig, Node};
use hearth_sync::{endpoint_secret, Clinic, JoinRequest, Member, Role, Ticket};

struct Peer {
    store: Arc<MemoryStore>,
    node: Node,
    key: SigningKey,
    _cache: tempfile::TempDir,
}

fn random_key() -> SigningKey {
    let mut b = [0u8; 32];
    getrandom::getrandom(&mut b).unwrap();
    SigningKey::from_bytes(&b)
}

async fn peer() -> Peer {
    let key = random_key();
    let store = Arc::new(MemoryStore::default());
    let cache = tempfile::tempdir().unwrap();
    let config = NetConfig::default()
        .read_timeout(Duration::from_secs(5))
        .content_cache(Some(cache.path().join("transfer")));
    let node = Node::bind(endpoint_secret(&key), store.clone(), config)
        .await
        .unwrap();
    node.serve();
    Peer {
        store,
        node,
        key,
        _cache: cache,
    }
}

async fn clinic_of_two() -> (Peer, Peer) {
    let a = peer().await;
    let me = Member {
        endpoint: a.node.id(),
        log_key: a.key.verifying_key().to_bytes(),
        device: a.node.id()[..16].to_vec(),
        name: "a".into(),
        role: Role::Admin,
        stake: 1,
        patient: None,
    };
    let clinic = Clinic::create("Elm Street", &a.key, me, 1).unwrap();
    a.store.set_clinic(clinic, Some(a.key.clone()));
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
    let req = JoinRequest::signed(
        &ticket,
        &b.key,
        b.node.id(),
        b.node.id()[..16].to_vec(),
        "b",
    );
    let clinic = b.node.join(ticket, req).await.unwrap();
    b.store.set_clinic(clinic, None);
    (a, b)
}

/// Bytes that are not all alike (several BLAKE3 chunk groups).
fn bytes(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| ((i as u32).wrapping_mul(2_654_435_761) >> 13) as u8 ^ seed)
        .collect()
}

async fn until(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = std::time::Instant::now();
    while start.elapsed() < limit {
        if f() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    f()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_follows_a_sync_both_ways_and_only_what_is_shared() {
    let (a, b) = clinic_of_two().await;
    let shared = bytes(3 * 1024 * 1024 + 17, 1);
    let hidden = bytes(200_000, 2);
    let (h_shared, h_hidden) = (a.store.add_content(&shared), a.store.add_content(&hidden));
    a.store.hide_content(h_hidden);
    b.store.want_content(h_shared);
    b.store.want_content(h_hidden);
    // Content A wants that B holds: fetched by A after B dials it.
    let from_b = bytes(70_000, 3);
    let h_from_b = b.store.add_content(&from_b);
    a.store.want_content(h_from_b);

    // Progress counts the content as it arrives, not only when a file is done.
    let seen = std::sync::Mutex::new(Vec::new());
    let r = b
        .node
        .sync_with_progress(a.node.id(), &a.node.addrs(), &|r| {
            seen.lock().unwrap().push(r.attachment_bytes);
        })
        .await
        .unwrap();
    let seen = seen.into_inner().unwrap();
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "only grows");
    assert!(
        seen.iter().any(|&n| n > 0 && n < shared.len() as u64),
        "a part of the file was reported: {:?}",
        seen.iter().filter(|&&n| n > 0).take(5).collect::<Vec<_>>()
    );
    assert_eq!(r.attachments, 1, "{r:?}");
    assert_eq!(
        r.attachments_missing, 1,
        "the hidden one stays missing: {r:?}"
    );
    assert!(r.attachment_bytes >= shared.len() as u64, "{r:?}");
    assert!(b.store.content(&h_shared).unwrap() == shared);
    assert!(b.store.content(&h_hidden).is_none());
    // The served side fetched what the dialler brought.
    assert!(
        until(Duration::from_secs(20), || a
            .store
            .content(&h_from_b)
            .is_some())
        .await,
        "A never fetched B's content"
    );
    assert!(a.store.content(&h_from_b).unwrap() == from_b);

    // Nothing left to fetch: a second sync moves no content.
    let r = b
        .node
        .sync_with(a.node.id(), &a.node.addrs())
        .await
        .unwrap();
    assert_eq!((r.attachments, r.attachment_bytes), (0, 0), "{r:?}");
    assert_eq!(r.attachments_missing, 1, "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stranger_gets_no_content_even_with_its_hash() {
    let (a, _b) = clinic_of_two().await;
    let secret = bytes(100_000, 9);
    let hash = a.store.add_content(&secret);

    // A stranger speaking iroh-blobs directly, asking for the exact hash.
    let key = random_key();
    let ep = iroh::Endpoint::builder(iroh::endpoint::presets::Minimal)
        .relay_mode(iroh::RelayMode::Disabled)
        .clear_ip_transports()
        .bind_addr("127.0.0.1:0")
        .unwrap()
        .secret_key(iroh::SecretKey::from_bytes(&key.to_bytes()))
        .bind()
        .await
        .unwrap();
    let mut addr = iroh::EndpointAddr::new(iroh::PublicKey::from_bytes(&a.node.id()).unwrap());
    for s in a.node.addrs() {
        addr = addr.with_ip_addr(s);
    }
    let cache = iroh_blobs::store::mem::MemStore::new();
    let got = match ep.connect(addr, CONTENT_ALPN).await {
        Ok(conn) => cache
            .remote()
            .fetch(conn, iroh_blobs::Hash::from_bytes(hash))
            .complete()
            .await
            .is_ok(),
        Err(_) => false,
    };
    assert!(!got, "a stranger fetched content");
    assert!(!cache
        .blobs()
        .has(iroh_blobs::Hash::from_bytes(hash))
        .await
        .unwrap());
    assert!(
        until(Duration::from_secs(5), || a.store.refusals().iter().any(
            |(e, why)| e == &key.verifying_key().to_bytes() && why.contains("not a member")
        ))
        .await,
        "the refusal is logged: {:?}",
        a.store.refusals()
    );
    ep.close().await;
}
