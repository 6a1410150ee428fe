//! The stored form of a record (what the vault seals):
//!
//! ```text
//! "HRE1" | u32 big-endian length n | n bytes of JSON snapshot | Automerge document bytes
//! ```
//!
//! The JSON snapshot `{"v":1,"kind","id","created_at","updated_at","value"}` lets listing,
//! search and display read a record without loading its Automerge document (loading costs
//! about a millisecond a document; parsing the snapshot, microseconds). It is written together
//! with the document in one sealed value, so the two cannot drift apart.

use serde::{Deserialize, Serialize};

use crate::{RecordError, RecordKind, Result};

const MAGIC: &[u8; 4] = b"HRE1";

/// A record read from its snapshot only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Peek<T> {
    /// Snapshot format version.
    pub v: u32,
    /// Record kind.
    pub kind: String,
    /// Record id.
    pub id: String,
    /// Creation time, Unix seconds.
    pub created_at: i64,
    /// Last change time, Unix seconds.
    pub updated_at: i64,
    /// The value.
    pub value: T,
}

pub(crate) fn write<T: RecordKind>(
    id: &str,
    created_at: i64,
    updated_at: i64,
    value: &T,
    doc: &[u8],
) -> Result<Vec<u8>> {
    let snapshot = serde_json::to_vec(&Peek {
        v: 1,
        kind: T::KIND.to_string(),
        id: id.to_string(),
        created_at,
        updated_at,
        value,
    })
    .map_err(|e| RecordError::Malformed(format!("snapshot: {e}")))?;
    let len = u32::try_from(snapshot.len())
        .map_err(|_| RecordError::Malformed("snapshot too large".into()))?;
    let mut out = Vec::with_capacity(8 + snapshot.len() + doc.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&snapshot);
    out.extend_from_slice(doc);
    Ok(out)
}

/// Split into (snapshot JSON, Automerge bytes).
pub fn split(bytes: &[u8]) -> Result<(&[u8], &[u8])> {
    let bad = || RecordError::Malformed("not a record envelope".into());
    let rest = bytes.strip_prefix(MAGIC.as_slice()).ok_or_else(bad)?;
    let (len, rest) = rest.split_first_chunk::<4>().ok_or_else(bad)?;
    let n = usize::try_from(u32::from_be_bytes(*len)).map_err(|_| bad())?;
    if rest.len() < n {
        return Err(bad());
    }
    Ok(rest.split_at(n))
}

/// Read the snapshot of a record of kind `T` without loading its document.
pub fn peek<T: RecordKind>(bytes: &[u8]) -> Result<Peek<T>> {
    let (json, _) = split(bytes)?;
    let p: Peek<T> = serde_json::from_slice(json)
        .map_err(|e| RecordError::Malformed(format!("snapshot: {e}")))?;
    if p.kind != T::KIND {
        return Err(RecordError::Malformed(format!(
            "expected a {} record, found {}",
            T::KIND,
            p.kind
        )));
    }
    Ok(p)
}

/// The Automerge heads (change hashes) of a stored record, loading its document.
pub fn heads(bytes: &[u8]) -> Result<Vec<[u8; 32]>> {
    let (_, doc) = split(bytes)?;
    let mut doc = std::panic::catch_unwind(|| automerge::AutoCommit::load(doc))
        .map_err(|_| RecordError::Malformed("the document is corrupt".into()))?
        .map_err(|e| RecordError::Malformed(e.to_string()))?;
    Ok(doc.get_heads().into_iter().map(|h| h.0).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncated_or_foreign_bytes_are_malformed() {
        for bad in [&b""[..], b"HRE1", b"HRE1\0\0\0\x09{}", b"XXXX\0\0\0\0"] {
            assert!(split(bad).is_err(), "{bad:?}");
        }
        assert!(split(b"HRE1\0\0\0\x02{}tail").is_ok());
    }
}
