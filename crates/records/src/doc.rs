//! [`Doc<T>`]: one record as an Automerge document.

use std::panic::{catch_unwind, AssertUnwindSafe};

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ActorId, AutoCommit, ChangeHash, PatchAction, Prop, ReadDoc, ROOT};

use crate::{date_of, RecordError, RecordKind, Result};

/// One change in a record's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryItem {
    /// Change hash, hex (names this version for [`Doc::value_at`] and [`Doc::restore`]).
    pub hash: String,
    /// Actor (device) id, hex.
    pub actor: String,
    /// Unix seconds as recorded by the author (advisory).
    pub time: i64,
    /// What changed, as labels for people, derived from the document (not from a message).
    pub changed: Vec<String>,
    /// True for the change that created the record.
    pub created: bool,
}

/// A record of kind `T` as an Automerge document, with its current value hydrated.
#[derive(Debug)]
pub struct Doc<T: RecordKind> {
    doc: AutoCommit,
    value: T,
    id: String,
    created_at: i64,
}

fn guard<R>(what: &str, f: impl FnOnce() -> R) -> Result<R> {
    catch_unwind(AssertUnwindSafe(f))
        .map_err(|_| RecordError::Malformed(format!("the document is corrupt ({what})")))
}

fn hydrate<T: RecordKind>(doc: &AutoCommit) -> Result<T> {
    guard("hydrate", || autosurgeon::hydrate_prop(doc, ROOT, "data"))?
        .map_err(|e| RecordError::Malformed(format!("{} data: {e}", T::KIND)))
}

fn reconcile<T: RecordKind>(doc: &mut AutoCommit, value: &T) -> Result<()> {
    autosurgeon::reconcile_prop(doc, ROOT, "data", value)
        .map_err(|e| RecordError::Malformed(format!("could not store the {}: {e}", T::KIND)))
}

pub(crate) fn same<T: RecordKind>(a: &T, b: &T) -> bool {
    // Text's PartialEq compares content; JSON equality is the same test for every field type.
    serde_json::to_value(a).ok() == serde_json::to_value(b).ok()
}

impl<T: RecordKind> Doc<T> {
    /// A new record with id `id`, authored by `actor` (the device id), at `now` (Unix seconds).
    pub fn create(id: &str, actor: &[u8], mut value: T, now: i64) -> Result<Self> {
        value.normalise();
        value.validate(date_of(now))?;
        let mut doc = AutoCommit::new().with_actor(ActorId::from(actor));
        doc.put(ROOT, "schema", T::SCHEMA)?;
        doc.put(ROOT, "id", id)?;
        doc.put(ROOT, "created_at", now)?;
        reconcile(&mut doc, &value)?;
        doc.commit_with(CommitOptions::default().with_time(now));
        let value = hydrate(&doc)?;
        Ok(Self {
            doc,
            value,
            id: id.to_string(),
            created_at: now,
        })
    }

    /// Load saved Automerge bytes; `actor` is this device. Automerge can panic on hostile input:
    /// the panic is caught and reported as a malformed record.
    pub fn load(bytes: &[u8], actor: &[u8]) -> Result<Self> {
        let doc = guard("load", || AutoCommit::load(bytes))?
            .map_err(|e| RecordError::Malformed(e.to_string()))?
            .with_actor(ActorId::from(actor));
        let get_str = |key: &str| -> Result<Option<String>> {
            Ok(doc
                .get(ROOT, key)?
                .and_then(|(v, _)| v.as_str().map(str::to_string)))
        };
        let schema = get_str("schema")?;
        if schema.as_deref() != Some(T::SCHEMA) {
            return Err(RecordError::Malformed(format!(
                "expected a {} record, found schema {schema:?}",
                T::KIND
            )));
        }
        let id = get_str("id")?.ok_or_else(|| RecordError::Malformed("no id".into()))?;
        let created_at = doc
            .get(ROOT, "created_at")?
            .and_then(|(v, _)| v.as_i64())
            .ok_or_else(|| RecordError::Malformed("no creation time".into()))?;
        let value = hydrate(&doc)?;
        Ok(Self {
            doc,
            value,
            id,
            created_at,
        })
    }

    /// The current value.
    pub fn value(&self) -> &T {
        &self.value
    }

    /// The record id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Creation time, Unix seconds.
    pub fn created_at(&self) -> i64 {
        self.created_at
    }

    /// The newest change's time, Unix seconds.
    pub fn updated_at(&mut self) -> i64 {
        let heads = self.doc.get_heads();
        heads
            .iter()
            .filter_map(|h| self.doc.get_change_by_hash(h).map(|c| c.timestamp()))
            .fold(self.created_at, i64::max)
    }

    /// The document's heads (hex), naming its current version.
    pub fn heads(&mut self) -> Vec<String> {
        self.doc.get_heads().iter().map(|h| h.to_string()).collect()
    }

    /// The document's heads as raw 32-byte change hashes (for the audit log).
    pub fn head_bytes(&mut self) -> Vec<[u8; 32]> {
        self.doc.get_heads().into_iter().map(|h| h.0).collect()
    }

    /// The Automerge bytes.
    pub fn save(&mut self) -> Vec<u8> {
        self.doc.save()
    }

    /// Replace the value with `edited`: validated, checked against the current state, written
    /// as one change containing only what differs. Returns the labels of what changed (empty:
    /// nothing was written).
    pub fn update(&mut self, mut edited: T, now: i64) -> Result<Vec<String>> {
        edited.normalise();
        edited.validate(date_of(now))?;
        T::check_edit(&self.value, &edited)?;
        if same(&self.value, &edited) {
            return Ok(Vec::new());
        }
        let mut current: T = hydrate(&self.doc)?;
        T::absorb(&mut current, edited);
        let before = self.doc.get_heads();
        reconcile(&mut self.doc, &current)?;
        let Some(hash) = self
            .doc
            .commit_with(CommitOptions::default().with_time(now))
        else {
            return Ok(Vec::new());
        };
        self.value = hydrate(&self.doc)?;
        Ok(self.changed_between(&before, &[hash]))
    }

    fn changed_between(&mut self, before: &[ChangeHash], after: &[ChangeHash]) -> Vec<String> {
        let patches = guard("diff", || self.doc.diff(before, after)).unwrap_or_default();
        let mut out: Vec<String> = Vec::new();
        for p in patches {
            let mut keys: Vec<String> = p
                .path
                .iter()
                .filter_map(|(_, prop)| match prop {
                    Prop::Map(k) => Some(k.clone()),
                    Prop::Seq(_) => None,
                })
                .collect();
            match &p.action {
                PatchAction::PutMap { key, .. } | PatchAction::DeleteMap { key } => {
                    keys.push(key.clone())
                }
                PatchAction::Conflict { prop: Prop::Map(k) } => keys.push(k.clone()),
                _ => {}
            }
            // Paths start at the root: only changes under `data` are the record's fields.
            if keys.first().map(String::as_str) != Some("data") {
                continue;
            }
            let label = T::describe(&keys[1..]);
            if !label.is_empty() && !out.contains(&label) {
                out.push(label);
            }
        }
        out
    }

    /// Every change, oldest first, with what it changed.
    pub fn history(&mut self) -> Result<Vec<HistoryItem>> {
        let changes = self.doc.get_changes(&[]);
        let mut out = Vec::with_capacity(changes.len());
        for c in changes {
            let created = c.deps().is_empty();
            let changed = if created {
                Vec::new()
            } else {
                self.changed_between(c.deps(), &[c.hash()])
            };
            out.push(HistoryItem {
                hash: c.hash().to_string(),
                actor: c.actor_id().to_hex_string(),
                time: c.timestamp(),
                changed,
                created,
            });
        }
        Ok(out)
    }

    fn parse_version(&mut self, hash: &str) -> Result<ChangeHash> {
        let h: ChangeHash = hash
            .parse()
            .map_err(|_| RecordError::NoSuchVersion(hash.to_string()))?;
        if self.doc.get_change_by_hash(&h).is_none() {
            return Err(RecordError::NoSuchVersion(hash.to_string()));
        }
        Ok(h)
    }

    /// The value as it was right after change `hash`.
    pub fn value_at(&mut self, hash: &str) -> Result<T> {
        let h = self.parse_version(hash)?;
        let old = guard("fork", || self.doc.fork_at(&[h]))??;
        hydrate(&old)
    }

    /// Make the value what it was after change `hash`, as a new change (history is kept).
    pub fn restore(&mut self, hash: &str, now: i64) -> Result<Vec<String>> {
        let old = self.value_at(hash)?;
        self.update(old, now)
    }

    /// Merge another copy of this record (e.g. edited on another device).
    pub fn merge(&mut self, other: &mut Doc<T>) -> Result<()> {
        if other.id != self.id {
            return Err(RecordError::Refused(format!(
                "cannot merge record {} into record {}",
                other.id, self.id
            )));
        }
        guard("merge", || self.doc.merge(&mut other.doc))??;
        self.value = hydrate(&self.doc)?;
        Ok(())
    }

    /// Automerge changes this document has that `other` lacks (what sync would send).
    pub fn changes_for(&mut self, other: &mut Doc<T>) -> Vec<Vec<u8>> {
        other
            .doc
            .get_changes_added(&mut self.doc)
            .into_iter()
            .map(|mut c| c.bytes().to_vec())
            .collect()
    }

    /// Apply changes received from another device.
    pub fn apply_changes(&mut self, changes: &[Vec<u8>]) -> Result<()> {
        let mut parsed = Vec::with_capacity(changes.len());
        for raw in changes {
            let c = guard("change", || automerge::Change::from_bytes(raw.clone()))?
                .map_err(|e| RecordError::Malformed(format!("a received change: {e}")))?;
            parsed.push(c);
        }
        guard("apply", || self.doc.apply_changes(parsed))??;
        self.value = hydrate(&self.doc)?;
        Ok(())
    }

    /// The sealed form: a JSON snapshot of the value followed by the Automerge bytes.
    pub fn to_envelope(&mut self) -> Result<Vec<u8>> {
        let updated_at = self.updated_at();
        let bytes = self.doc.save();
        crate::envelope::write(&self.id, self.created_at, updated_at, &self.value, &bytes)
    }

    /// Load from the sealed form (the Automerge bytes are the truth; the snapshot is ignored).
    pub fn from_envelope(bytes: &[u8], actor: &[u8]) -> Result<Self> {
        let (_, doc_bytes) = crate::envelope::split(bytes)?;
        Self::load(doc_bytes, actor)
    }
}
