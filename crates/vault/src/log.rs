//! Storage for this device's audit log: append-only entries (no PHI; the ledger crate defines
//! their encoding) and the signed checkpoints over them.

use rusqlite::{params, OptionalExtension, TransactionBehavior};

use crate::{append_log_rows, Result, Vault, VaultError};

impl Vault {
    /// Append entries on their own (e.g. a record was viewed). Returns the first index.
    pub fn append_log(&mut self, entries: &[Vec<u8>]) -> Result<u64> {
        self.touch()?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(VaultError::sqlite("appending to the audit log"))?;
        let first = append_log_rows(&tx, entries)?;
        tx.commit()
            .map_err(VaultError::sqlite("appending to the audit log"))?;
        Ok(first)
    }

    /// Every log entry, in order.
    pub fn log_entries(&mut self) -> Result<Vec<Vec<u8>>> {
        self.touch()?;
        let mut stmt = self
            .conn
            .prepare_cached("SELECT idx, entry FROM log_entries ORDER BY idx")
            .map_err(VaultError::sqlite("reading the audit log"))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)))
            .map_err(VaultError::sqlite("reading the audit log"))?;
        let mut out = Vec::new();
        for (expected, row) in rows.enumerate() {
            let (idx, entry) = row.map_err(VaultError::sqlite("reading the audit log"))?;
            if idx != expected as i64 {
                return Err(VaultError::Integrity {
                    id: format!("log entry {expected}"),
                    what: "the audit log has a gap",
                });
            }
            out.push(entry);
        }
        Ok(out)
    }

    /// A number that grows whenever the audit log does, from any process (the largest entry
    /// rowid). Every record change is logged, so a sync node watches it for local edits.
    pub fn log_mark(&mut self) -> Result<u64> {
        // Not a use of the vault (a sync node polls it), and no plaintext: no touch.
        let n: i64 = self
            .conn
            .query_row("SELECT COALESCE(MAX(rowid), 0) FROM log_entries", [], |r| {
                r.get(0)
            })
            .map_err(VaultError::sqlite("reading the audit log"))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Number of log entries.
    pub fn log_size(&mut self) -> Result<u64> {
        self.touch()?;
        let n: i64 = self
            .conn
            .query_row("SELECT COUNT(*) FROM log_entries", [], |r| r.get(0))
            .map_err(VaultError::sqlite("reading the audit log"))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Store a checkpoint: first the chain entries it covers (appended at `expected_size`),
    /// then the signed note for the new size, in one transaction. Fails with [`VaultError::Busy`]
    /// if the log grew since `expected_size` (another process wrote): rebuild and retry.
    pub fn add_checkpoint(
        &mut self,
        expected_size: u64,
        chain: &[Vec<u8>],
        note: &[u8],
    ) -> Result<u64> {
        self.touch()?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(VaultError::sqlite("storing a checkpoint"))?;
        let first = append_log_rows(&tx, chain)?;
        if first != expected_size {
            return Err(VaultError::Busy);
        }
        let size = expected_size + chain.len() as u64;
        tx.execute(
            "INSERT INTO checkpoints (size, note) VALUES (?1, ?2)",
            params![i64::try_from(size).map_err(|_| VaultError::Busy)?, note],
        )
        .map_err(VaultError::sqlite("storing a checkpoint"))?;
        tx.commit()
            .map_err(VaultError::sqlite("storing a checkpoint"))?;
        Ok(size)
    }

    /// Every stored checkpoint (size, signed note), oldest first.
    pub fn checkpoints(&mut self) -> Result<Vec<(u64, Vec<u8>)>> {
        self.touch()?;
        let mut stmt = self
            .conn
            .prepare_cached("SELECT size, note FROM checkpoints ORDER BY size")
            .map_err(VaultError::sqlite("reading checkpoints"))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)))
            .map_err(VaultError::sqlite("reading checkpoints"))?;
        let mut out = Vec::new();
        for row in rows {
            let (size, note) = row.map_err(VaultError::sqlite("reading checkpoints"))?;
            out.push((u64::try_from(size).unwrap_or(0), note));
        }
        Ok(out)
    }

    /// The newest checkpoint, if any.
    pub fn last_checkpoint(&mut self) -> Result<Option<(u64, Vec<u8>)>> {
        self.touch()?;
        self.conn
            .query_row(
                "SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1",
                [],
                |r| {
                    Ok((
                        u64::try_from(r.get::<_, i64>(0)?).unwrap_or(0),
                        r.get::<_, Vec<u8>>(1)?,
                    ))
                },
            )
            .optional()
            .map_err(VaultError::sqlite("reading checkpoints"))
    }
}
