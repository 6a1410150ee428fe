//! Sealed blobs: round trips at chunk boundaries, limits, tampering, truncation, crash clean-up.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use hearth_vault::{
    BlobId, KdfParams, ManualClock, Passphrase, Vault, VaultError, VaultOptions, BLOB_CHUNK,
};
use rusqlite::Connection;

fn data(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i.wrapping_mul(7919) >> 3) as u8).collect()
}

fn vault(dir: &tempfile::TempDir) -> Vault {
    let opts = VaultOptions::default().with_kdf(KdfParams::INSECURE_FOR_TESTS);
    Vault::create(&dir.path().join("v"), &Passphrase::new("passphrase!"), opts).unwrap()
}

#[test]
fn round_trips_at_every_chunk_boundary() {
    let dir = tempfile::tempdir().unwrap();
    let mut v = vault(&dir);
    let key = v.create_key().unwrap();
    for n in [
        0,
        1,
        BLOB_CHUNK - 1,
        BLOB_CHUNK,
        BLOB_CHUNK + 1,
        3 * BLOB_CHUNK + 5,
    ] {
        let input = data(n);
        let info = v.write_blob(&key, &mut &input[..], u64::MAX).unwrap();
        assert_eq!(info.size, n as u64);
        let mut out = Vec::new();
        assert_eq!(v.read_blob(&info.id, &mut out).unwrap(), n as u64);
        assert!(out == input, "size {n}");
        assert_eq!(v.blob_size(&info.id).unwrap(), Some(n as u64));
    }
}

#[test]
fn over_the_limit_is_refused_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut v = vault(&dir);
    let key = v.create_key().unwrap();
    let input = data(2 * BLOB_CHUNK + 10);
    let e = v
        .write_blob(&key, &mut &input[..], 2 * BLOB_CHUNK as u64)
        .unwrap_err();
    assert!(matches!(e, VaultError::TooLarge { .. }), "{e}");
    drop(v);
    let c = Connection::open(dir.path().join("v")).unwrap();
    let n: i64 = c
        .query_row("SELECT count(*) FROM blob_chunks", [], |r| r.get(0))
        .unwrap();
    let b: i64 = c
        .query_row("SELECT count(*) FROM blobs", [], |r| r.get(0))
        .unwrap();
    assert_eq!((n, b), (0, 0));
}

fn stored(dir: &tempfile::TempDir, n: usize) -> (BlobId, Vec<u8>) {
    let mut v = vault(dir);
    let key = v.create_key().unwrap();
    let input = data(n);
    let info = v.write_blob(&key, &mut &input[..], u64::MAX).unwrap();
    v.close().unwrap();
    (info.id, input)
}

fn reopen(dir: &tempfile::TempDir) -> Vault {
    let mut v = Vault::open(&dir.path().join("v"), VaultOptions::default()).unwrap();
    v.unlock(&Passphrase::new("passphrase!")).unwrap();
    v
}

#[test]
fn a_flipped_byte_reordered_or_dropped_chunk_is_caught() {
    for attack in ["flip", "swap", "truncate"] {
        let dir = tempfile::tempdir().unwrap();
        let (id, _) = stored(&dir, 3 * BLOB_CHUNK);
        let c = Connection::open(dir.path().join("v")).unwrap();
        match attack {
            "flip" => {
                c.execute("UPDATE blob_chunks SET ciphertext = zeroblob(length(ciphertext)) WHERE idx = 1", []).unwrap();
            }
            "swap" => {
                c.execute("UPDATE blob_chunks SET idx = 9 WHERE idx = 0", [])
                    .unwrap();
                c.execute("UPDATE blob_chunks SET idx = 0 WHERE idx = 1", [])
                    .unwrap();
                c.execute("UPDATE blob_chunks SET idx = 1 WHERE idx = 9", [])
                    .unwrap();
            }
            _ => {
                // Drop the last chunk and pretend the blob was shorter.
                c.execute("DELETE FROM blob_chunks WHERE idx = 2", [])
                    .unwrap();
                c.execute(
                    "UPDATE blobs SET chunks = 2, size = ?1",
                    [2 * BLOB_CHUNK as i64],
                )
                .unwrap();
            }
        }
        drop(c);
        let mut v = reopen(&dir);
        let e = v.read_blob(&id, &mut std::io::sink()).unwrap_err();
        assert!(
            matches!(&e, VaultError::Integrity { id: got, .. } if got == id.as_str()),
            "{attack}: {e}"
        );
    }
}

#[test]
fn a_half_written_blob_is_never_complete_and_is_swept_on_unlock() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::starting_at(1_750_000_000_000);
    let opts = VaultOptions::default()
        .with_kdf(KdfParams::INSECURE_FOR_TESTS)
        .with_clock(clock.clone());
    let path = dir.path().join("v");
    let mut v = Vault::create(&path, &Passphrase::new("passphrase!"), opts.clone()).unwrap();
    let key = v.create_key().unwrap();
    let (id, _) = (
        v.write_blob(&key, &mut &data(10)[..], u64::MAX).unwrap().id,
        (),
    );
    v.close().unwrap();
    // Simulate a crash mid-write: the blob is back to 'writing' with a chunk missing.
    let c = Connection::open(&path).unwrap();
    c.execute("UPDATE blobs SET state = 'writing'", []).unwrap();
    drop(c);
    let mut v = Vault::open(&path, opts.clone()).unwrap();
    v.unlock(&Passphrase::new("passphrase!")).unwrap();
    assert!(
        v.read_blob(&id, &mut std::io::sink()).is_err(),
        "never shown as complete"
    );
    assert_eq!(v.blob_size(&id).unwrap(), None);
    drop(v);
    // A minute later, the next unlock removes it.
    clock.advance(Duration::from_secs(61));
    let mut v = Vault::open(&path, opts).unwrap();
    v.unlock(&Passphrase::new("passphrase!")).unwrap();
    assert!(matches!(
        v.read_blob(&id, &mut std::io::sink()),
        Err(VaultError::NotFound { .. })
    ));
}
