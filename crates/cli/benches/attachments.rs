//! Attachment content between two devices: two vaults with transfer caches, two iroh endpoints
//! on loopback in one process. A file attached on A reaches B's vault: A seals its transfer
//! form from the vault into its cache, B fetches it (BLAKE3-verified), opens it and seals it
//! into its vault, checking SHA-256.
//!
//! Baseline in the same run: the same bytes as plain iroh-blobs between two in-memory stores
//! (no vault, no sealing, no disk), the transport's floor; the ratio is Hearth's cost over it.
//!
//! `cargo bench -p hearth --bench attachments` (add `-- --mib N` to change the size; default
//! 64). Without `--bench` (as `cargo test --benches` runs it) it moves 1 MiB once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use hearth_api::NewPatient;
use hearth_core::{Hearth, HearthOptions};
use hearth_sync::net::{NetConfig, Node};

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn data(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| ((i as u32).wrapping_mul(2_654_435_761) >> 11) as u8)
        .collect()
}

async fn endpoint(alpns: Vec<Vec<u8>>) -> iroh::Endpoint {
    iroh::Endpoint::builder(iroh::endpoint::presets::Minimal)
        .relay_mode(iroh::RelayMode::Disabled)
        .clear_ip_transports()
        .bind_addr("127.0.0.1:0")
        .unwrap()
        .alpns(alpns)
        .bind()
        .await
        .unwrap()
}

/// Plain iroh-blobs: `bytes` from one in-memory store to another over loopback.
async fn baseline(bytes: &[u8]) -> Duration {
    use iroh_blobs::store::mem::MemStore;
    let served = MemStore::new();
    let tag = served.add_slice(bytes).await.unwrap();
    let server = endpoint(vec![iroh_blobs::ALPN.to_vec()]).await;
    let router = iroh::protocol::Router::builder(server.clone())
        .accept(
            iroh_blobs::ALPN,
            iroh_blobs::BlobsProtocol::new(&served, None),
        )
        .spawn();
    let client = endpoint(Vec::new()).await;
    let mut addr = iroh::EndpointAddr::new(server.id());
    for a in server.bound_sockets() {
        addr = addr.with_ip_addr(a);
    }
    let fetched = MemStore::new();
    let t = Instant::now();
    let conn = client.connect(addr, iroh_blobs::ALPN).await.unwrap();
    fetched
        .remote()
        .fetch(conn, tag.hash)
        .complete()
        .await
        .unwrap();
    let took = t.elapsed();
    assert!(fetched.blobs().has(tag.hash).await.unwrap());
    router.shutdown().await.unwrap();
    client.close().await;
    took
}

fn main() {
    let smoke = !std::env::args().any(|a| a == "--bench");
    let mib = arg("--mib", if smoke { 1 } else { 64 });
    let len = mib * 1024 * 1024;
    let dir = tempfile::tempdir().unwrap();
    let opts = || {
        HearthOptions::default()
            .insecure_fast_kdf_for_tests()
            .idle_lock(None)
    };
    let a = Hearth::create(
        &dir.path().join("a.hearth"),
        "correct horse battery",
        opts(),
    )
    .unwrap();
    let b = Hearth::create(
        &dir.path().join("b.hearth"),
        "correct horse battery",
        opts(),
    )
    .unwrap();
    let any: std::net::SocketAddr = "127.0.0.1:0".parse().unwrap();
    a.clinic_create("Bench", "a", "clinician", any, false)
        .unwrap();
    let pid = a
        .add_patient(NewPatient {
            name: "Ada Bench".into(),
            ..Default::default()
        })
        .unwrap()
        .id;
    a.record_paper_consent(&pid, &a.consent_template(&pid).unwrap())
        .unwrap();
    let bytes = data(len);
    let file = dir.path().join("scan.dcm");
    std::fs::write(&file, &bytes).unwrap();
    let t = Instant::now();
    a.attach_file(&pid, &file, "bench").unwrap();
    let attach = t.elapsed();
    std::fs::remove_file(&file).unwrap();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (hearth, floor) = rt.block_on(async {
        let config = |h: &Hearth| NetConfig::default().content_cache(Some(h.content_cache_dir()));
        let na = Node::bind(a.sync_secret().unwrap(), a.sync_store(), config(&a))
            .await
            .unwrap();
        na.serve();
        let nb = Node::bind(b.sync_secret().unwrap(), b.sync_store(), config(&b))
            .await
            .unwrap();
        let ticket = a.clinic_invite("clinician", 1, na.addrs()).unwrap();
        let (ticket, req) = b.join_request(&ticket, "b").unwrap();
        let clinic = nb.join(ticket, req).await.unwrap();
        b.clinic_joined(&clinic, any, false).unwrap();

        let t = Instant::now();
        let r = nb.sync_with(na.id(), &na.addrs()).await.unwrap();
        let took = t.elapsed();
        assert_eq!(r.attachments, 1, "{r:?}");
        nb.shutdown().await;
        na.shutdown().await;
        (took, baseline(&bytes).await)
    });
    let list = b.attachments(&pid).unwrap();
    let mut back = Vec::new();
    b.read_attachment(&list[0].info.id, &mut back).unwrap();
    assert!(back == bytes, "the content arrived intact");

    let mb = len as f64 / 1e6;
    println!(
        "attach {mib} MiB on A (vault + transfer hash): {:.0} ms",
        attach.as_secs_f64() * 1e3
    );
    println!(
        "A → B, sync + content into B's vault: {:.0} ms ({:.0} MB/s)",
        hearth.as_secs_f64() * 1e3,
        mb / hearth.as_secs_f64()
    );
    println!(
        "baseline, same run: plain iroh-blobs memory → memory: {:.0} ms ({:.0} MB/s); Hearth ÷ \
         baseline = {:.2}",
        floor.as_secs_f64() * 1e3,
        mb / floor.as_secs_f64(),
        hearth.as_secs_f64() / floor.as_secs_f64()
    );
}
