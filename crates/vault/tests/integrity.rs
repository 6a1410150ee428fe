//! Tampering, swapping and bad files: each damaged record is reported by id, every other record
//! still opens, and refused files are left byte-for-byte unchanged.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use hearth_vault::{
    KdfParams, KeyId, Passphrase, RecordId, Vault, VaultError, VaultOptions, SCHEMA_VERSION,
};
use rusqlite::Connection;

fn opts() -> VaultOptions {
    VaultOptions::default().with_kdf(KdfParams::INSECURE_FOR_TESTS)
}

fn pass() -> Passphrase {
    Passphrase::new("correct horse battery staple")
}

struct Fixture {
    _dir: tempfile::TempDir,
    path: PathBuf,
    ids: Vec<RecordId>,
}

/// A closed vault with five records over two data keys.
fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.hearth");
    let mut v = Vault::create(&path, &pass(), opts()).unwrap();
    let keys: Vec<KeyId> = (0..2).map(|_| v.create_key().unwrap()).collect();
    let ids: Vec<RecordId> = (0..5).map(|_| RecordId::random().unwrap()).collect();
    for (i, id) in ids.iter().enumerate() {
        v.put(
            id,
            "patient",
            &keys[i % 2],
            format!("record number {i}").as_bytes(),
        )
        .unwrap();
    }
    v.close().unwrap();
    Fixture {
        _dir: dir,
        path,
        ids,
    }
}

fn reopen(path: &Path) -> Vault {
    let mut v = Vault::open(path, opts()).unwrap();
    v.unlock(&pass()).unwrap();
    v
}

/// Flip one byte of column `col` of record `id` with raw SQL, as an attacker with the file would.
fn flip(path: &Path, id: &RecordId, col: &str) {
    let c = Connection::open(path).unwrap();
    let is_text = matches!(col, "kind" | "key_id");
    if is_text {
        let v: String = c
            .query_row(
                &format!("SELECT {col} FROM records WHERE id = ?1"),
                [id.as_str()],
                |r| r.get(0),
            )
            .unwrap();
        let mut b = v.into_bytes();
        b[0] = if b[0] == b'a' { b'b' } else { b'a' };
        let v = String::from_utf8(b).unwrap();
        c.execute(
            &format!("UPDATE records SET {col} = ?1 WHERE id = ?2"),
            [v.as_str(), id.as_str()],
        )
        .unwrap();
    } else if col == "format" {
        c.execute(
            "UPDATE records SET format = format + 1 WHERE id = ?1",
            [id.as_str()],
        )
        .unwrap();
    } else {
        let mut b: Vec<u8> = c
            .query_row(
                &format!("SELECT {col} FROM records WHERE id = ?1"),
                [id.as_str()],
                |r| r.get(0),
            )
            .unwrap();
        let at = b.len() / 2;
        b[at] ^= 0x01;
        c.execute(
            &format!("UPDATE records SET {col} = ?1 WHERE id = ?2"),
            rusqlite::params![b, id.as_str()],
        )
        .unwrap();
    }
}

fn assert_only_damaged(v: &mut Vault, all: &[RecordId], damaged: &[&RecordId]) {
    for id in all {
        match v.get(id) {
            Ok(r) if !damaged.contains(&id) => assert_eq!(r.id, *id),
            Ok(_) => panic!("tampered record {id} opened"),
            Err(VaultError::Integrity { id: got, .. }) if damaged.contains(&id) => {
                assert_eq!(got, id.as_str(), "the error names the damaged record")
            }
            Err(e) => panic!("record {id}: unexpected {e}"),
        }
    }
    // open_all reports the same, one result per record.
    let all_results = v.open_all("patient").unwrap();
    assert_eq!(all_results.len(), all.len());
    for (id, r) in all_results {
        assert_eq!(r.is_err(), damaged.contains(&&id), "record {id}");
    }
}

#[test]
fn a_flipped_byte_in_any_sealed_column_is_caught_by_id() {
    for col in ["ciphertext", "nonce", "kind", "key_id", "format"] {
        let f = fixture();
        flip(&f.path, &f.ids[2], col);
        let mut v = reopen(&f.path);
        if col == "kind" {
            // The record moved out of its kind: it must not open as any kind.
            assert!(
                matches!(v.get(&f.ids[2]), Err(VaultError::Integrity { .. })),
                "{col}"
            );
            for id in f.ids.iter().filter(|i| **i != f.ids[2]) {
                v.get(id).unwrap();
            }
            continue;
        }
        assert_only_damaged(&mut v, &f.ids, &[&f.ids[2]]);
    }
}

#[test]
fn a_changed_record_id_fails_under_its_new_id() {
    let f = fixture();
    let c = Connection::open(&f.path).unwrap();
    let moved = RecordId::new("0".repeat(32)).unwrap();
    c.execute(
        "UPDATE records SET id = ?1 WHERE id = ?2",
        [moved.as_str(), f.ids[1].as_str()],
    )
    .unwrap();
    drop(c);
    let mut v = reopen(&f.path);
    assert!(matches!(v.get(&moved), Err(VaultError::Integrity { id, .. }) if id == moved.as_str()));
    assert!(matches!(v.get(&f.ids[1]), Err(VaultError::NotFound { .. })));
}

#[test]
fn swapped_ciphertexts_are_both_detected() {
    let f = fixture();
    let c = Connection::open(&f.path).unwrap();
    let (a, b) = (&f.ids[0], &f.ids[2]); // same data key: only the associated data tells them apart
    let get = |id: &RecordId| -> (Vec<u8>, Vec<u8>) {
        c.query_row(
            "SELECT nonce, ciphertext FROM records WHERE id = ?1",
            [id.as_str()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
    };
    let (na, ca) = get(a);
    let (nb, cb) = get(b);
    let set = |id: &RecordId, n: &[u8], ct: &[u8]| {
        c.execute(
            "UPDATE records SET nonce = ?1, ciphertext = ?2 WHERE id = ?3",
            rusqlite::params![n, ct, id.as_str()],
        )
        .unwrap();
    };
    set(a, &nb, &cb);
    set(b, &na, &ca);
    drop(c);
    let mut v = reopen(&f.path);
    assert_only_damaged(&mut v, &f.ids, &[a, b]);
}

#[test]
fn a_damaged_data_key_reports_its_records_and_spares_the_others() {
    let f = fixture();
    let c = Connection::open(&f.path).unwrap();
    let key: String = c
        .query_row(
            "SELECT key_id FROM records WHERE id = ?1",
            [f.ids[1].as_str()],
            |r| r.get(0),
        )
        .unwrap();
    c.execute(
        "UPDATE data_keys SET sealed = zeroblob(48) WHERE key_id = ?1",
        [key.as_str()],
    )
    .unwrap();
    drop(c);
    let mut v = reopen(&f.path);
    // ids 1 and 3 use the second key.
    assert_only_damaged(&mut v, &f.ids, &[&f.ids[1], &f.ids[3]]);
}

fn bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

#[test]
fn wrong_passphrase_is_refused_and_changes_nothing() {
    let f = fixture();
    let before = bytes(&f.path);
    let mut v = Vault::open(&f.path, opts()).unwrap();
    let e = v
        .unlock(&Passphrase::new("not the passphrase"))
        .unwrap_err();
    assert!(matches!(e, VaultError::WrongPassphrase));
    assert!(e.to_string().starts_with("wrong passphrase"), "{e}");
    assert!(matches!(
        v.change_passphrase(
            &Passphrase::new("not the passphrase"),
            &Passphrase::new("whatever123")
        ),
        Err(VaultError::WrongPassphrase)
    ));
    drop(v);
    assert!(bytes(&f.path) == before);
    reopen(&f.path).get(&f.ids[0]).unwrap();
}

#[test]
fn a_vault_from_a_newer_hearth_is_refused_untouched() {
    let f = fixture();
    let c = Connection::open(&f.path).unwrap();
    c.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    drop(c);
    let before = bytes(&f.path);
    let e = Vault::open(&f.path, opts()).unwrap_err();
    assert!(
        matches!(e, VaultError::NewerSchema { found, supported, .. } if found == SCHEMA_VERSION + 1 && supported == SCHEMA_VERSION)
    );
    assert!(e.to_string().contains("newer Hearth"), "{e}");
    assert!(bytes(&f.path) == before);
}

#[test]
fn files_that_are_not_vaults_are_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let random = dir.path().join("random.bin");
    std::fs::write(
        &random,
        (0..8192u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect::<Vec<u8>>(),
    )
    .unwrap();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "Dear diary, this is not a database. ".repeat(200)).unwrap();
    let empty = dir.path().join("empty");
    std::fs::write(&empty, b"").unwrap();
    let other_db = dir.path().join("other.sqlite");
    {
        let c = Connection::open(&other_db).unwrap();
        c.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
            .unwrap();
    }
    for path in [&random, &text, &empty, &other_db] {
        let before = bytes(path);
        let e = Vault::open(path, opts()).unwrap_err();
        assert!(
            matches!(e, VaultError::NotAVault { .. }),
            "{}: {e}",
            path.display()
        );
        assert!(e.to_string().contains("is not a Hearth vault"));
        assert!(bytes(path) == before, "{} changed", path.display());
        // Nor will create overwrite it.
        assert!(matches!(
            Vault::create(path, &pass(), opts()),
            Err(VaultError::AlreadyExists { .. })
        ));
        assert!(bytes(path) == before);
    }
    assert!(matches!(
        Vault::open(dir.path(), opts()),
        Err(VaultError::NotAVault { .. })
    ));
    assert!(matches!(
        Vault::open(&dir.path().join("missing"), opts()),
        Err(VaultError::NoVault { .. })
    ));
}

#[test]
fn a_locked_vault_refuses_every_use_and_changes_nothing() {
    let f = fixture();
    let before = bytes(&f.path);
    let mut v = Vault::open(&f.path, opts()).unwrap();
    let key = KeyId::new("k").unwrap();
    assert!(matches!(v.get(&f.ids[0]), Err(VaultError::Locked)));
    assert!(matches!(
        v.put(&f.ids[0], "patient", &key, b"x"),
        Err(VaultError::Locked)
    ));
    assert!(matches!(v.create_key(), Err(VaultError::Locked)));
    assert!(matches!(v.open_all("patient"), Err(VaultError::Locked)));
    assert!(matches!(v.list("patient"), Err(VaultError::Locked)));
    let r: Result<(), VaultError> = v.update(&f.ids[0], |_| Ok((Some(vec![]), ())));
    assert!(matches!(r, Err(VaultError::Locked)));
    drop(v);
    assert!(bytes(&f.path) == before);
}

#[test]
fn the_database_holds_no_plaintext_and_the_header_is_bound() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.hearth");
    let mut v = Vault::create(&path, &pass(), opts()).unwrap();
    let k = v.create_key().unwrap();
    let marker = "CANARY-7f3a9c-Ada-Lovelace";
    for _ in 0..20 {
        v.put(
            &RecordId::random().unwrap(),
            "patient",
            &k,
            marker.as_bytes(),
        )
        .unwrap();
    }
    v.close().unwrap();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let data = std::fs::read(entry.unwrap().path()).unwrap();
        assert!(!data.windows(marker.len()).any(|w| w == marker.as_bytes()));
    }
    // Weakening the KDF parameters in the header (a downgrade attack) stops the unlock.
    let c = Connection::open(&path).unwrap();
    c.execute("UPDATE header SET kdf_t = 1, kdf_m_kib = 8", [])
        .unwrap();
    drop(c);
    let mut v = Vault::open(&path, opts()).unwrap();
    assert!(v.unlock(&pass()).is_err());
}
