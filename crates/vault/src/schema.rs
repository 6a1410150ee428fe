//! The file format: identification, connection settings and migrations.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags};

use crate::error::{Result, VaultError};

/// SQLite `application_id` of a Hearth vault: "HRTH".
pub(crate) const APPLICATION_ID: i32 = 0x4852_5448;

/// Schema version this build writes and the newest it reads (`PRAGMA user_version`).
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// Migration `i` takes the schema from version `i` to `i + 1`. Append only; never edit one
/// that has shipped.
const MIGRATIONS: &[&str] = &[
    // 1: header, data keys, sealed records.
    "CREATE TABLE header (
        id         INTEGER PRIMARY KEY CHECK (id = 1),
        vault_id   BLOB    NOT NULL,
        device_id  BLOB    NOT NULL,
        kdf        TEXT    NOT NULL,
        kdf_m_kib  INTEGER NOT NULL,
        kdf_t      INTEGER NOT NULL,
        kdf_p      INTEGER NOT NULL,
        salt       BLOB    NOT NULL,
        mk_nonce   BLOB    NOT NULL,
        mk_sealed  BLOB    NOT NULL,
        created_at INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE data_keys (
        key_id     TEXT    PRIMARY KEY,
        nonce      BLOB    NOT NULL,
        sealed     BLOB    NOT NULL,
        created_at INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE records (
        id         TEXT    PRIMARY KEY,
        kind       TEXT    NOT NULL,
        key_id     TEXT    NOT NULL,
        format     INTEGER NOT NULL,
        nonce      BLOB    NOT NULL,
        ciphertext BLOB    NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX records_by_kind ON records (kind, created_at);",
    // 2: one patient's records by key; sealed blobs streamed in chunks.
    "CREATE INDEX records_by_key ON records (key_id, kind, created_at);
    CREATE TABLE blobs (
        blob_id    TEXT    PRIMARY KEY,
        key_id     TEXT    NOT NULL,
        state      TEXT    NOT NULL CHECK (state IN ('writing', 'complete')),
        chunks     INTEGER NOT NULL DEFAULT 0,
        size       INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        touched_at INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE blob_chunks (
        blob_id    TEXT    NOT NULL REFERENCES blobs (blob_id) ON DELETE CASCADE,
        idx        INTEGER NOT NULL,
        nonce      BLOB    NOT NULL,
        ciphertext BLOB    NOT NULL,
        PRIMARY KEY (blob_id, idx)
    ) STRICT;",
    // 3: this device's append-only audit log (entries carry no PHI) and its checkpoints.
    "CREATE TABLE log_entries (
        idx   INTEGER PRIMARY KEY,
        entry BLOB    NOT NULL
    ) STRICT;
    CREATE TABLE checkpoints (
        size INTEGER PRIMARY KEY,
        note BLOB    NOT NULL
    ) STRICT;",
];

fn not_a_vault(path: &Path) -> impl Fn(rusqlite::Error) -> VaultError + '_ {
    move |e| match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => VaultError::NotAVault { path: path.into() },
        _ => VaultError::sqlite("checking the file")(e),
    }
}

/// Check, read-only, that `path` is a vault this build can read. Changes nothing.
pub(crate) fn check_file(path: &Path) -> Result<()> {
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(VaultError::NoVault { path: path.into() })
        }
        Err(source) => {
            return Err(VaultError::Io {
                action: "read",
                path: path.into(),
                source,
            })
        }
        Ok(m) if !m.is_file() => return Err(VaultError::NotAVault { path: path.into() }),
        Ok(_) => {}
    }
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(not_a_vault(path))?;
    conn.busy_timeout(Duration::from_secs(5))
        .map_err(VaultError::sqlite("checking the file"))?;
    let app_id: i32 = conn
        .pragma_query_value(None, "application_id", |r| r.get(0))
        .map_err(not_a_vault(path))?;
    if app_id != APPLICATION_ID {
        return Err(VaultError::NotAVault { path: path.into() });
    }
    let version: u32 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(not_a_vault(path))?;
    if version > SCHEMA_VERSION {
        return Err(VaultError::NewerSchema {
            path: path.into(),
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    Ok(())
}

/// Connection settings for every read-write connection.
pub(crate) fn configure(conn: &Connection) -> Result<()> {
    let ctx = VaultError::sqlite("configuring the connection");
    conn.busy_timeout(Duration::from_secs(5))
        .and_then(|()| {
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get::<_, String>(0))
        })
        .and_then(|_| conn.pragma_update(None, "synchronous", "FULL"))
        .and_then(|()| conn.pragma_update(None, "foreign_keys", "ON"))
        // Sorts and temporary tables stay in memory: nothing spills to /tmp in the clear.
        .and_then(|()| conn.pragma_update(None, "temp_store", "MEMORY"))
        .map_err(ctx)
}

/// Bring the schema up to [`SCHEMA_VERSION`] in one transaction.
pub(crate) fn migrate(conn: &mut Connection) -> Result<()> {
    let current: u32 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(VaultError::sqlite("reading the schema version"))?;
    if current == SCHEMA_VERSION {
        // The common case takes no write lock and writes nothing.
        return Ok(());
    }
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(VaultError::sqlite("starting a migration"))?;
    let version: u32 = tx
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(VaultError::sqlite("reading the schema version"))?;
    if version == SCHEMA_VERSION {
        return Ok(());
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        tracing::info!(from = i, to = i + 1, "migrating vault schema");
        tx.execute_batch(sql)
            .map_err(VaultError::sqlite("migrating the schema"))?;
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)
        .map_err(VaultError::sqlite("migrating the schema"))?;
    tx.commit()
        .map_err(VaultError::sqlite("committing a migration"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_1_file_migrates_to_the_latest() {
        let mut c = Connection::open_in_memory().unwrap();
        c.execute_batch(MIGRATIONS[0]).unwrap();
        c.pragma_update(None, "user_version", 1).unwrap();
        c.execute(
            "INSERT INTO records VALUES ('r', 'patient', 'k', 1, x'00', x'00', 1, 1)",
            [],
        )
        .unwrap();
        migrate(&mut c).unwrap();
        let v: u32 = c
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v, SCHEMA_VERSION);
        let n: i64 = c
            .query_row("SELECT count(*) FROM records", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1, "migration keeps existing records");
        c.execute("INSERT INTO blobs (blob_id, key_id, state, created_at, touched_at) VALUES ('b', 'k', 'writing', 1, 1)", []).unwrap();
    }

    #[test]
    fn migrations_are_idempotent() {
        let mut c = Connection::open_in_memory().unwrap();
        migrate(&mut c).unwrap();
        migrate(&mut c).unwrap();
        let v: u32 = c
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v, SCHEMA_VERSION);
    }
}
