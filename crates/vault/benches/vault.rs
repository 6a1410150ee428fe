//! `cargo bench -p hearth-vault`: the sealed vault against plain rusqlite, in the same run.
//!
//! 10,000 records of 2 KB: batched writes (one transaction), per-record writes (one fsynced
//! transaction each, 1,000 records), point reads in random order, and reading all of them;
//! plus unlock (Argon2id at the production parameters) and unlock + open-all.
//! Each figure is the median of several runs; ratios are plain ÷ sealed time (≥ 1 means the
//! vault is as fast as plain SQLite).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::Path;
use std::time::{Duration, Instant};

use hearth_vault::{KdfParams, KeyId, NewRecord, Passphrase, RecordId, Vault, VaultOptions};
use rand::seq::SliceRandom;
use rusqlite::{params, Connection};

const N: usize = 10_000;
const N_FSYNC: usize = 1_000;
const RUNS: usize = 5;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time<F: FnMut()>(mut f: F) -> Duration {
    let t = Instant::now();
    f();
    t.elapsed()
}

fn payload(i: usize) -> Vec<u8> {
    (0..2048).map(|j| ((i * 31 + j * 7) % 251) as u8).collect()
}

fn plain(path: &Path) -> Connection {
    let c = Connection::open(path).unwrap();
    c.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get::<_, String>(0))
        .unwrap();
    c.pragma_update(None, "synchronous", "FULL").unwrap();
    c.execute_batch(
        "CREATE TABLE IF NOT EXISTS records (id TEXT PRIMARY KEY, kind TEXT NOT NULL, data BLOB NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL) STRICT;",
    )
    .unwrap();
    c
}

fn plain_write(c: &mut Connection, ids: &[RecordId], data: &[Vec<u8>]) {
    let tx = c.transaction().unwrap();
    {
        let mut s = tx
            .prepare_cached("INSERT OR REPLACE INTO records (id, kind, data, created_at, updated_at) VALUES (?1, 'patient', ?2, 0, 0)")
            .unwrap();
        for (id, d) in ids.iter().zip(data) {
            s.execute(params![id.as_str(), d]).unwrap();
        }
    }
    tx.commit().unwrap();
}

fn plain_write_each(c: &mut Connection, ids: &[RecordId], data: &[Vec<u8>]) {
    for (id, d) in ids.iter().zip(data) {
        c.prepare_cached("INSERT OR REPLACE INTO records (id, kind, data, created_at, updated_at) VALUES (?1, 'patient', ?2, 0, 0)")
            .unwrap()
            .execute(params![id.as_str(), d])
            .unwrap();
    }
}

fn plain_read(c: &Connection, ids: &[RecordId]) -> usize {
    let mut s = c
        .prepare_cached("SELECT kind, data FROM records WHERE id = ?1")
        .unwrap();
    ids.iter()
        .map(|id| {
            s.query_row([id.as_str()], |r| Ok(r.get::<_, Vec<u8>>(1)?.len()))
                .unwrap()
        })
        .sum()
}

fn plain_read_all(c: &Connection) -> usize {
    let mut s = c
        .prepare_cached("SELECT id, data FROM records WHERE kind = 'patient'")
        .unwrap();
    s.query_map([], |r| Ok(r.get::<_, Vec<u8>>(1)?.len()))
        .unwrap()
        .map(|r| r.unwrap())
        .sum()
}

fn vault_write(v: &mut Vault, key: &KeyId, ids: &[RecordId], data: &[Vec<u8>]) {
    let batch: Vec<NewRecord<'_>> = ids
        .iter()
        .zip(data)
        .map(|(id, d)| NewRecord {
            id,
            kind: "patient",
            key,
            plaintext: d,
        })
        .collect();
    v.put_batch(&batch).unwrap();
}

fn row(name: &str, plain: Duration, sealed: Duration, n: usize) {
    let per = |d: Duration| d.as_secs_f64() * 1e6 / n as f64;
    println!(
        "{name:<34} plain {:>9.1} ms ({:>6.2} µs/rec)   sealed {:>9.1} ms ({:>6.2} µs/rec)   ratio plain/sealed {:>5.2}×",
        plain.as_secs_f64() * 1e3,
        per(plain),
        sealed.as_secs_f64() * 1e3,
        per(sealed),
        plain.as_secs_f64() / sealed.as_secs_f64()
    );
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing: run a tiny smoke.
    let smoke = !std::env::args().any(|a| a == "--bench");
    let n = if smoke { 200 } else { N };
    let n_fsync = if smoke { 20 } else { N_FSYNC };
    let runs = if smoke { 1 } else { RUNS };

    let dir = tempfile::tempdir().unwrap();
    let data: Vec<Vec<u8>> = (0..n).map(payload).collect();
    let ids: Vec<RecordId> = (0..n).map(|_| RecordId::random().unwrap()).collect();
    let mut shuffled = ids.clone();
    shuffled.shuffle(&mut rand::thread_rng());
    let pass = Passphrase::new("benchmark passphrase");

    println!("hearth-vault benchmark: {n} records of 2 KB, median of {runs} runs");
    let (mut pw, mut sw, mut pe, mut se, mut pr, mut sr, mut pa, mut sa) = (
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
    );
    for run in 0..runs {
        let ppath = dir.path().join(format!("plain-{run}.sqlite"));
        let vpath = dir.path().join(format!("vault-{run}.hearth"));
        let mut p = plain(&ppath);
        let opts = VaultOptions::default()
            .with_kdf(KdfParams::INSECURE_FOR_TESTS)
            .with_idle_lock(None);
        let mut v = Vault::create(&vpath, &pass, opts).unwrap();
        let key = v.create_key().unwrap();

        pw.push(time(|| plain_write(&mut p, &ids, &data)));
        sw.push(time(|| vault_write(&mut v, &key, &ids, &data)));
        pe.push(time(|| {
            plain_write_each(&mut p, &ids[..n_fsync], &data[..n_fsync])
        }));
        se.push(time(|| {
            for (id, d) in ids[..n_fsync].iter().zip(&data) {
                v.put(id, "patient", &key, d).unwrap();
            }
        }));
        pr.push(time(|| {
            assert_eq!(plain_read(&p, &shuffled), n * 2048);
        }));
        sr.push(time(|| {
            let total: usize = shuffled
                .iter()
                .map(|id| v.get(id).unwrap().plaintext.len())
                .sum();
            assert_eq!(total, n * 2048);
        }));
        pa.push(time(|| assert_eq!(plain_read_all(&p), n * 2048)));
        sa.push(time(|| {
            let total: usize = v
                .open_all("patient")
                .unwrap()
                .into_iter()
                .map(|(_, r)| r.unwrap().plaintext.len())
                .sum();
            assert_eq!(total, n * 2048);
        }));
    }
    row("write, one transaction", median(pw), median(sw), n);
    row(
        &format!("write, {n_fsync} fsynced transactions"),
        median(pe),
        median(se),
        n_fsync,
    );
    row("read by id, random order", median(pr), median(sr), n);
    row("read all", median(pa), median(sa), n);

    // Unlock at the production Argon2id parameters, then open all records.
    let vpath = dir.path().join("prod.hearth");
    {
        let mut v = Vault::create(&vpath, &pass, VaultOptions::default()).unwrap();
        let key = v.create_key().unwrap();
        vault_write(&mut v, &key, &ids, &data);
    }
    let mut unlock = vec![];
    let mut unlock_all = vec![];
    for _ in 0..runs {
        let mut v = Vault::open(&vpath, VaultOptions::default()).unwrap();
        let t = Instant::now();
        v.unlock(&pass).unwrap();
        unlock.push(t.elapsed());
        let n_open = v
            .open_all("patient")
            .unwrap()
            .into_iter()
            .filter(|(_, r)| r.is_ok())
            .count();
        assert_eq!(n_open, n);
        unlock_all.push(t.elapsed());
    }
    let kdf = KdfParams::default();
    println!(
        "unlock (Argon2id m={} MiB t={} p={})          {:>9.1} ms",
        kdf.m_cost_kib / 1024,
        kdf.t_cost,
        kdf.p_cost,
        median(unlock).as_secs_f64() * 1e3
    );
    println!(
        "unlock + open all {n} records          {:>9.1} ms (target ≤ 1000 ms)",
        median(unlock_all).as_secs_f64() * 1e3
    );
}
