//! `cargo bench -p hearth-ledger`: the ledger's hot paths against their targets.
//!
//! - append 100,000 entries (encode + leaf hash + tree update), against raw SHA-256 of the
//!   same encoded entries in the same run (target ≥ 50,000 entries/s);
//! - checkpoint + cosignature by 3 in-process witnesses, each checking the log signature
//!   and a consistency proof and persisting its state (encode + decode) before releasing
//!   (target ≤ 20 ms);
//! - verify an inclusion proof in a tree of 1,000,000 entries (target ≤ 50 µs).
//!
//! Without `--bench` (as `cargo test --benches` runs it) it does a tiny smoke run instead.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use hearth_ledger::*;
use sha2::{Digest, Sha256};

struct Sizes {
    append: u64,
    rounds: usize,
    big: u64,
    verifies: usize,
    runs: usize,
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn entry(i: u64) -> Entry {
    if matches!(i % 3, 0) {
        Entry::RecordChange(RecordChange {
            record: RecordId::new(format!("rec-{:016x}", i / 7)).unwrap(),
            heads: vec![ChangeHash([(i % 251) as u8; 32])],
            kind: ChangeKind::Edit,
            category: Token::new("session-note").unwrap(),
            actor: DeviceId([7; 32]),
            time: 1_767_225_600 + i,
        })
    } else {
        Entry::Access(Access {
            record: RecordId::new(format!("rec-{:016x}", i / 7)).unwrap(),
            action: AccessAction::View,
            purpose: Token::new("treatment").unwrap(),
            actor: DeviceId([7; 32]),
            time: 1_767_225_600 + i,
        })
    }
}

fn device_log() -> Log {
    let origin = "clinic.example/device-a";
    Log::new(
        origin,
        LogRole::Device,
        NoteSigner::new(origin, SigningKey::from_bytes(&[1; 32])).unwrap(),
    )
    .unwrap()
}

fn bench_append(z: &Sizes) {
    let entries: Vec<Entry> = (0..z.append).map(entry).collect();
    let encoded: Vec<Vec<u8>> = entries.iter().map(|e| e.encode().unwrap()).collect();
    let avg = encoded.iter().map(Vec::len).sum::<usize>() / encoded.len();
    let (mut ours, mut raw) = (Vec::new(), Vec::new());
    for _ in 0..z.runs {
        let t = Instant::now();
        let mut log = device_log();
        for e in &entries {
            std::hint::black_box(log.append(e).unwrap());
        }
        ours.push(t.elapsed());
        let t = Instant::now();
        for e in &encoded {
            std::hint::black_box(Sha256::digest(e));
        }
        raw.push(t.elapsed());
    }
    let (ours, raw) = (median(ours), median(raw));
    let per_s = |d: Duration| z.append as f64 / d.as_secs_f64();
    println!(
        "append {} entries ({avg} B avg): {:.1} ms, {:.0} entries/s (target >= 50,000); raw SHA-256 of the same bytes: {:.1} ms, {:.0}/s; ledger/raw time = {:.2}x",
        z.append,
        ours.as_secs_f64() * 1e3,
        per_s(ours),
        raw.as_secs_f64() * 1e3,
        per_s(raw),
        ours.as_secs_f64() / raw.as_secs_f64()
    );
}

fn bench_checkpoint(z: &Sizes) {
    let mut log = device_log();
    for i in 0..z.append {
        log.append(&entry(i)).unwrap();
    }
    let mut witnesses: Vec<Witness> = (0..3u8)
        .map(|i| {
            let mut s = WitnessState::new();
            s.add_log(log.origin(), log.verifier());
            Witness::new(
                WitnessSigner::new(
                    format!("clinic.example/witness-{i}"),
                    SigningKey::from_bytes(&[10 + i; 32]),
                )
                .unwrap(),
                s,
            )
        })
        .collect();
    let table = StakeTable::genesis(witnesses.iter().map(|w| (w.key().clone(), 10)));
    let mut times = Vec::new();
    for round in 0..z.rounds as u64 {
        for i in 0..10 {
            log.append(&entry(1_000_000 + round * 10 + i)).unwrap();
        }
        let t = Instant::now();
        let commit = log.checkpoint(table.hash()).unwrap();
        let bytes = commit.signed.to_bytes();
        let size = commit.signed.checkpoint().size();
        let mut cosigs = Vec::new();
        for w in &mut witnesses {
            let old = w.state().log(log.origin()).unwrap().size;
            let proof = log.consistency_proof(old, size).unwrap();
            let pending = w
                .add_checkpoint(old, &proof, &bytes, 1_767_225_600 + round)
                .unwrap();
            let stored = WitnessState::decode(&pending.state_to_persist().encode()).unwrap();
            cosigs.push(w.release(pending, &stored).unwrap());
        }
        assert!(is_final(commit.signed.checkpoint(), &cosigs, &table));
        times.push(t.elapsed());
    }
    let m = median(times.clone());
    let max = times.iter().max().copied().unwrap_or_default();
    println!(
        "checkpoint + 3 cosignatures + finality at {} entries: median {:.3} ms, max {:.3} ms over {} rounds (target <= 20 ms)",
        log.size(),
        m.as_secs_f64() * 1e3,
        max.as_secs_f64() * 1e3,
        z.rounds
    );
}

fn bench_inclusion(z: &Sizes) {
    let t = Instant::now();
    let mut tree = Tree::new();
    for i in 0..z.big {
        tree.append(&entry(i).encode().unwrap());
    }
    let build = t.elapsed();
    let root = tree.root();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let cases: Vec<(u64, Hash, Vec<Hash>)> = (0..z.verifies)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let i = x % z.big;
            (
                i,
                tree.leaf_hash(i).unwrap(),
                tree.inclusion_proof(i, z.big).unwrap(),
            )
        })
        .collect();
    let mut runs = Vec::new();
    for _ in 0..z.runs {
        let t = Instant::now();
        for (i, leaf, p) in &cases {
            verify_inclusion(*i, z.big, leaf, p, &root).unwrap();
        }
        runs.push(t.elapsed() / z.verifies as u32);
    }
    let t = Instant::now();
    for (i, _, _) in cases.iter().take(1000) {
        std::hint::black_box(tree.inclusion_proof(*i, z.big).unwrap());
    }
    let prove = t.elapsed() / cases.len().min(1000) as u32;
    println!(
        "inclusion proof at {} entries: verify {:.2} µs (target <= 50 µs), prove {:.2} µs, proof length {}; building the tree took {:.2} s",
        z.big,
        median(runs).as_secs_f64() * 1e6,
        prove.as_secs_f64() * 1e6,
        cases.first().map_or(0, |c| c.2.len()),
        build.as_secs_f64()
    );
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let z = if full {
        Sizes {
            append: 100_000,
            rounds: 50,
            big: 1_000_000,
            verifies: 10_000,
            runs: 5,
        }
    } else {
        Sizes {
            append: 300,
            rounds: 2,
            big: 1_000,
            verifies: 10,
            runs: 1,
        }
    };
    if !full {
        println!("smoke run (use `cargo bench -p hearth-ledger` for the figures)");
    }
    bench_append(&z);
    bench_checkpoint(&z);
    bench_inclusion(&z);
}
