//! Semantic search over session notes: each note is cut into passages, embedded on this
//! device by `hearth-insight`, and the vectors are stored sealed in the vault; a query is
//! embedded and ranked against them, then fused with the full-text index.
//!
//! - Consent: embedding a patient's notes and searching them is analysis. It runs only if the
//!   patient's contracts permit action `analyse` of `progress-notes` for purpose
//!   `ai-analysis` (the defaults do not); otherwise the patient is reported with the deciding
//!   reason, and embeddings made earlier (before a revocation) are overwritten with empty ones.
//!   Psychotherapy notes are never embedded.
//! - Storage: one record of kind `embedding` per note (id `emb-` + a hash of the note id),
//!   sealed under the patient's data key like the note itself (embeddings are derived PHI; the
//!   passages are kept with the vectors so results show them without reopening notes); never
//!   synced or exported (recomputable on each device). Format `HEM1`: magic,
//!   u32 LE header length, JSON header (note, patient, model fingerprint, SHA-256 of the
//!   embedded text, dimension, passages), then the vectors as f32 LE.
//! - Audit: every note embedded is logged as an access (action analyse, purpose
//!   `ai-analysis`) in the transaction that stores its embeddings.
//! - Freshness: [`Hearth::index_notes`] re-embeds only notes whose text or model changed, so a
//!   front end calls it after unlocking and after edits (on a background thread: it takes the
//!   vault lock only to read and to write, never while the model runs).
//! - No model: the front end's [`Embedder::load`] fails with a message that says to run
//!   `make setup`; nothing else in Hearth needs it.

use std::collections::{BTreeMap, HashMap};

use hearth_consent::{Action, Purpose};
use hearth_insight::{dot, passages};
use hearth_ledger::{Access, AccessAction, Entry, Token};
use hearth_records::{Patient, RecordKind, SessionNote};
use hearth_vault::{NewRecord, RecordId, VaultError};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use hearth_insight::{
    default_models_dir, Embedder, EmbedderOptions, InsightError, MODELS_DIR_ENV,
};

use crate::records::patient_key;
use crate::{audit, CoreError, Hearth, Result};

/// Vault kind of a note's embeddings.
pub(crate) const EMBEDDING_KIND: &str = "embedding";

/// Longest passage, in words (≈ 65 word pieces; the encoder takes 256).
const PASSAGE_WORDS: usize = 48;

/// Below this cosine a passage is not offered as a semantic match.
pub const MIN_SIMILARITY: f32 = 0.25;

/// Reciprocal-rank-fusion constant (the usual 60).
const RRF_K: f32 = 60.0;

/// Notes embedded between two writes (and progress reports).
const NOTES_PER_WRITE: usize = 16;

const MAGIC: &[u8; 4] = b"HEM1";

/// The JSON header of a stored embedding record.
#[derive(Debug, Serialize, Deserialize)]
struct Header {
    note_id: String,
    patient_id: String,
    /// [`Embedder::fingerprint`]; empty when withdrawn.
    model: String,
    /// SHA-256 (hex) of the note text that was embedded; empty when withdrawn.
    text_sha256: String,
    dim: usize,
    passages: Vec<String>,
}

struct NoteVectors {
    header: Header,
    vectors: Vec<f32>,
}

fn bad(id: &str, what: &str) -> CoreError {
    CoreError::Internal(format!("embedding record {id}: {what}"))
}

fn encode(h: &Header, vectors: &[f32]) -> Result<Vec<u8>> {
    let json = serde_json::to_vec(h)
        .map_err(|e| CoreError::Internal(format!("encoding embeddings: {e}")))?;
    let len = u32::try_from(json.len())
        .map_err(|_| CoreError::Internal("embedding header too large".into()))?;
    let mut out = Vec::with_capacity(8 + json.len() + vectors.len() * 4);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&json);
    for v in vectors {
        out.extend_from_slice(&v.to_le_bytes());
    }
    Ok(out)
}

fn decode(id: &str, bytes: &[u8]) -> Result<NoteVectors> {
    let rest = bytes
        .strip_prefix(MAGIC)
        .ok_or_else(|| bad(id, "not in the HEM1 format"))?;
    let (len, rest) = rest
        .split_first_chunk::<4>()
        .ok_or_else(|| bad(id, "truncated"))?;
    let len = u32::from_le_bytes(*len) as usize;
    let (json, floats) = rest
        .split_at_checked(len)
        .ok_or_else(|| bad(id, "truncated header"))?;
    let header: Header = serde_json::from_slice(json).map_err(|e| bad(id, &e.to_string()))?;
    let want = header
        .dim
        .checked_mul(header.passages.len())
        .and_then(|n| n.checked_mul(4))
        .ok_or_else(|| bad(id, "impossible size"))?;
    if floats.len() != want {
        return Err(bad(id, "vector bytes do not match the header"));
    }
    let vectors = floats
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    Ok(NoteVectors { header, vectors })
}

fn text_hash(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// The embedding record of a note: `emb-` and 40 hex digits of SHA-256 of the note id (so
/// any valid note id, up to 64 characters, gives a valid id of fixed length).
fn embedding_id(note_id: &str) -> Result<RecordId> {
    let h = hex::encode(Sha256::digest(note_id.as_bytes()));
    Ok(RecordId::new(format!("emb-{}", &h[..40]))?)
}

/// What [`Hearth::index_notes`] did.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct IndexReport {
    /// Session notes seen.
    pub notes: usize,
    /// Notes embedded now (new or changed).
    pub embedded: usize,
    /// Notes whose stored embeddings were current.
    pub unchanged: usize,
    /// Passages embedded now.
    pub passages: usize,
    /// Patients whose notes were not analysed, with the deciding reason.
    pub refused: Vec<(String, String)>,
    /// Stored embeddings overwritten because consent no longer permits them.
    pub withdrawn: usize,
    /// Notes that could not be read, with why (the others are indexed).
    pub unreadable: Vec<(String, String)>,
}

/// One result of [`Hearth::semantic_search`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SemanticHit {
    /// The session note.
    pub record_id: String,
    /// Its patient.
    pub patient_id: String,
    /// The patient's name.
    pub patient_name: String,
    /// The passage that matched best (or the full-text snippet).
    pub passage: String,
    /// Cosine similarity of the best passage, if the note matched by meaning.
    pub similarity: Option<f32>,
    /// Whether the full-text index matched the note too.
    pub text_match: bool,
    /// Fused rank score (reciprocal rank fusion of both lists), higher first.
    pub score: f32,
}

/// Results of a semantic search and the patients left out.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct SemanticResults {
    /// Best first.
    pub hits: Vec<SemanticHit>,
    /// Patients whose notes were not searched by meaning, with the deciding reason (their
    /// full-text matches are still listed).
    pub refused: Vec<(String, String)>,
    /// Notes with no current embeddings (run [`Hearth::index_notes`]).
    pub stale: usize,
}

/// A note to embed.
struct Todo {
    note_id: String,
    patient_id: String,
    text: String,
}

impl Hearth {
    /// Whether this device may analyse the patient's session notes on-device, and why.
    pub fn analysis_permitted(&self, patient_id: &str) -> Result<(bool, String)> {
        let d = self.decide(
            patient_id,
            Action::Analyse,
            crate::consent::category(SessionNote::CATEGORY),
            Purpose::AiAnalysis,
            false,
        )?;
        Ok((d.permit, d.reason))
    }

    fn stored_embeddings(&self) -> Result<HashMap<String, NoteVectors>> {
        let mut out = HashMap::new();
        for (id, rec) in self.vault().open_all(EMBEDDING_KIND)? {
            // A damaged embedding record is only derived data: it is rebuilt.
            if let Some(v) = rec
                .ok()
                .and_then(|r| decode(id.as_str(), &r.plaintext).ok())
            {
                out.insert(v.header.note_id.clone(), v);
            }
        }
        Ok(out)
    }

    /// Embed every session note whose text (or the model) changed since it was last
    /// embedded, for the patients whose consent permits on-device analysis, and store the
    /// vectors sealed. `progress(done, total)` is called as notes are embedded. The vault is
    /// not held while the model runs, so other use cases go on meanwhile.
    pub fn index_notes(
        &self,
        model: &Embedder,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<IndexReport> {
        if self.is_locked() {
            return Err(VaultError::Locked.into());
        }
        let mut report = IndexReport::default();
        let mut by_patient: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
        for (id, note) in self.list_records::<SessionNote>(None)? {
            report.notes += 1;
            match note {
                Ok(p) => by_patient
                    .entry(p.value.patient_id.clone())
                    .or_default()
                    .push((id, p.value.search_text())),
                Err(e) => report.unreadable.push((id, e.to_string())),
            }
        }
        let stored = self.stored_embeddings()?;
        let mut todo = Vec::new();
        for (pid, notes) in by_patient {
            // A note whose patient cannot be checked (e.g. not here yet) is not analysed.
            let (permit, reason) = self
                .analysis_permitted(&pid)
                .unwrap_or_else(|e| (false, e.to_string()));
            if !permit {
                report.withdrawn += self.withdraw(&pid, &notes, &stored)?;
                report.refused.push((pid, reason));
                continue;
            }
            for (note_id, text) in notes {
                let current = stored.get(&note_id).is_some_and(|s| {
                    s.header.model == model.fingerprint()
                        && s.header.text_sha256 == text_hash(&text)
                });
                if current {
                    report.unchanged += 1;
                } else {
                    todo.push(Todo {
                        note_id,
                        patient_id: pid.clone(),
                        text,
                    });
                }
            }
        }
        let total = todo.len();
        progress(0, total);
        for (k, chunk) in todo.chunks(NOTES_PER_WRITE).enumerate() {
            report.passages += self.embed_and_store(model, chunk)?;
            report.embedded += chunk.len();
            progress((k * NOTES_PER_WRITE + chunk.len()).min(total), total);
        }
        Ok(report)
    }

    /// Overwrite a refused patient's stored embeddings with empty ones; how many.
    fn withdraw(
        &self,
        patient_id: &str,
        notes: &[(String, String)],
        stored: &HashMap<String, NoteVectors>,
    ) -> Result<usize> {
        let mut n = 0;
        for (note_id, _) in notes {
            if stored
                .get(note_id)
                .is_some_and(|s| !s.header.passages.is_empty())
            {
                let empty = Header {
                    note_id: note_id.clone(),
                    patient_id: patient_id.to_string(),
                    model: String::new(),
                    text_sha256: String::new(),
                    dim: 0,
                    passages: Vec::new(),
                };
                let bytes = encode(&empty, &[])?;
                let id = embedding_id(note_id)?;
                let mut vault = self.vault();
                let key = patient_key(&mut vault, patient_id)?;
                vault.put(&id, EMBEDDING_KIND, &key, &bytes)?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// Embed some notes' passages (without the vault held) and write them in one transaction.
    fn embed_and_store(&self, model: &Embedder, notes: &[Todo]) -> Result<usize> {
        let mut texts: Vec<&str> = Vec::new();
        let mut spans = Vec::with_capacity(notes.len());
        for n in notes {
            let start = texts.len();
            texts.extend(
                passages(&n.text, PASSAGE_WORDS)
                    .into_iter()
                    .map(|r| &n.text[r]),
            );
            spans.push(start..texts.len());
        }
        let vectors = model
            .embed(&texts)
            .map_err(|e| CoreError::Internal(format!("embedding notes: {e}")))?;
        let mut records = Vec::with_capacity(notes.len());
        for (n, span) in notes.iter().zip(spans) {
            let header = Header {
                note_id: n.note_id.clone(),
                patient_id: n.patient_id.clone(),
                model: model.fingerprint().to_string(),
                text_sha256: text_hash(&n.text),
                dim: model.dimension(),
                passages: texts[span.clone()].iter().map(|s| s.to_string()).collect(),
            };
            let flat: Vec<f32> = vectors[span].iter().flatten().copied().collect();
            records.push((
                embedding_id(&n.note_id)?,
                n.patient_id.as_str(),
                encode(&header, &flat)?,
            ));
        }
        let mut vault = self.vault();
        let mut keys = HashMap::new();
        for (_, pid, _) in &records {
            if !keys.contains_key(*pid) {
                keys.insert(pid.to_string(), patient_key(&mut vault, pid)?);
            }
        }
        let batch: Vec<NewRecord<'_>> = records
            .iter()
            .filter_map(|(id, pid, bytes)| {
                Some(NewRecord {
                    id,
                    kind: EMBEDDING_KIND,
                    key: keys.get(*pid)?,
                    plaintext: bytes,
                })
            })
            .collect();
        // Each analysed note is logged (action analyse, purpose ai-analysis) in the same
        // transaction as its embeddings: the patient's timeline shows what the model read.
        let log_key = self.log_key(&mut vault)?;
        let now = audit::now_secs(&vault);
        let purpose = Token::new(Purpose::AiAnalysis.code()).map_err(audit::ledger_err)?;
        let log = notes
            .iter()
            .map(|n| {
                Entry::Access(Access {
                    record: hearth_ledger::RecordId::new(n.note_id.as_str())
                        .map_err(audit::ledger_err)?,
                    action: AccessAction::Analyse,
                    purpose: purpose.clone(),
                    actor: audit::device_id(&log_key),
                    time: now,
                })
                .encode()
                .map_err(audit::ledger_err)
            })
            .collect::<Result<Vec<Vec<u8>>>>()?;
        vault.put_batch_logged(&batch, &log)?;
        Ok(texts.len())
    }

    /// Session notes ranked by meaning (best passage per note, cosine ≥ [`MIN_SIMILARITY`])
    /// fused with the full-text index's note matches (reciprocal rank fusion), at most
    /// `limit`. Only patients whose consent permits on-device analysis are searched by
    /// meaning; the others are listed in [`SemanticResults::refused`]. Uses the embeddings
    /// stored by [`Hearth::index_notes`] (call it first to include recent edits).
    pub fn semantic_search(
        &self,
        model: &Embedder,
        query: &str,
        limit: usize,
    ) -> Result<SemanticResults> {
        if self.is_locked() {
            return Err(VaultError::Locked.into());
        }
        let mut out = SemanticResults::default();
        let query = query.trim();
        if query.is_empty() || limit == 0 {
            return Ok(out);
        }
        let q = model
            .embed(&[query])
            .map_err(|e| CoreError::Internal(format!("embedding the query: {e}")))?
            .pop()
            .unwrap_or_default();
        let mut permitted: HashMap<String, bool> = HashMap::new();
        let mut semantic: Vec<(f32, String, String, String)> = Vec::new(); // score, note, patient, passage
        for (_, v) in self.stored_embeddings()? {
            let h = &v.header;
            if h.passages.is_empty() && h.model.is_empty() {
                continue; // withdrawn
            }
            let allowed = match permitted.get(&h.patient_id) {
                Some(a) => *a,
                None => {
                    let (a, reason) = self
                        .analysis_permitted(&h.patient_id)
                        .unwrap_or_else(|e| (false, e.to_string()));
                    if !a {
                        out.refused.push((h.patient_id.clone(), reason));
                    }
                    permitted.insert(h.patient_id.clone(), a);
                    a
                }
            };
            if !allowed {
                continue;
            }
            if h.model != model.fingerprint() || h.dim != q.len() {
                out.stale += 1;
                continue;
            }
            let best = v
                .vectors
                .chunks_exact(h.dim.max(1))
                .map(|p| dot(&q, p))
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(&b.1));
            if let Some((i, s)) = best.filter(|(_, s)| *s >= MIN_SIMILARITY) {
                let passage = h.passages.get(i).cloned().unwrap_or_default();
                semantic.push((s, h.note_id.clone(), h.patient_id.clone(), passage));
            }
        }
        semantic.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        let names: HashMap<String, String> = self
            .list_records::<Patient>(None)?
            .into_iter()
            .filter_map(|(id, p)| Some((id, p.ok()?.value.name)))
            .collect();
        let mut hits: HashMap<String, SemanticHit> = HashMap::new();
        let depth = limit.saturating_mul(4).max(20);
        for (rank, (s, note, pid, passage)) in semantic.into_iter().take(depth).enumerate() {
            hits.insert(
                note.clone(),
                SemanticHit {
                    record_id: note,
                    patient_name: names.get(&pid).cloned().unwrap_or_default(),
                    patient_id: pid,
                    passage,
                    similarity: Some(s),
                    text_match: false,
                    score: 1.0 / (RRF_K + rank as f32 + 1.0),
                },
            );
        }
        // Full text: the whole query (every word must match: weight 1), and each content word
        // alone (a natural-language query rarely has all its words in one note), sharing
        // weight 1 between them, so notes holding more of the words rank higher.
        let words = content_words(query);
        let mut lists = vec![(query.to_string(), 1.0f32)];
        if words.len() > 1 {
            let share = 1.0 / words.len() as f32;
            lists.extend(words.into_iter().map(|w| (w, share)));
        }
        for (q, weight) in lists {
            let text_hits = self
                .search(&q, depth)?
                .into_iter()
                .filter(|h| h.kind == SessionNote::KIND);
            for (rank, t) in text_hits.enumerate() {
                let add = weight / (RRF_K + rank as f32 + 1.0);
                hits.entry(t.record_id.clone())
                    .and_modify(|h| {
                        h.text_match = true;
                        h.score += add;
                    })
                    .or_insert(SemanticHit {
                        record_id: t.record_id,
                        patient_id: t.patient_id,
                        patient_name: t.patient_name,
                        passage: t.snippet,
                        similarity: None,
                        text_match: true,
                        score: add,
                    });
            }
        }
        let mut hits: Vec<SemanticHit> = hits.into_values().collect();
        hits.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.record_id.cmp(&b.record_id))
        });
        hits.truncate(limit);
        out.hits = hits;
        out.refused.sort();
        Ok(out)
    }
}

/// Words of a query worth matching alone: lower-cased, two letters or more, not a common
/// English function word, each once.
fn content_words(query: &str) -> Vec<String> {
    const STOP: &[&str] = &[
        "a", "about", "after", "all", "am", "an", "and", "any", "are", "as", "at", "be", "been",
        "before", "but", "by", "did", "do", "does", "for", "from", "had", "has", "have", "he",
        "her", "him", "his", "how", "i", "if", "in", "into", "is", "it", "its", "me", "my", "no",
        "not", "of", "on", "or", "our", "she", "so", "than", "that", "the", "their", "them",
        "then", "there", "they", "this", "to", "up", "was", "we", "were", "what", "when", "where",
        "which", "who", "why", "with", "you", "your",
    ];
    let mut out: Vec<String> = Vec::new();
    for w in query
        .split(|c: char| !c.is_alphanumeric())
        .map(str::to_lowercase)
    {
        if w.chars().count() >= 2 && !STOP.contains(&w.as_str()) && !out.contains(&w) {
            out.push(w);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(passages: usize, dim: usize) -> Header {
        Header {
            note_id: "n1".into(),
            patient_id: "p1".into(),
            model: "m@1".into(),
            text_sha256: "ab".into(),
            dim,
            passages: (0..passages).map(|i| format!("passage {i}")).collect(),
        }
    }

    #[test]
    fn content_words_drop_function_words_and_repeats() {
        assert_eq!(
            content_words("Sessions where she talked about SLEEP and work stress, sleep!"),
            vec!["sessions", "talked", "sleep", "work", "stress"]
        );
        assert!(content_words("she and I").is_empty());
    }

    #[test]
    fn every_note_id_gives_one_fixed_length_embedding_id() {
        let long = "n".repeat(64);
        let a = embedding_id(&long).unwrap();
        assert_eq!(a.as_str().len(), 44);
        assert_eq!(a, embedding_id(&long).unwrap());
        assert_ne!(a, embedding_id("n1").unwrap());
    }

    #[test]
    fn embedding_records_round_trip() {
        let v: Vec<f32> = (0..6).map(|i| i as f32 * 0.5).collect();
        let bytes = encode(&header(2, 3), &v).unwrap();
        let back = decode("x", &bytes).unwrap();
        assert_eq!(back.vectors, v);
        assert_eq!(back.header.passages.len(), 2);
    }

    #[test]
    fn damaged_embedding_records_are_errors_not_panics() {
        let bytes = encode(&header(2, 3), &[0.0; 6]).unwrap();
        for cut in [0, 3, 5, 8, 20, bytes.len() - 1] {
            assert!(decode("x", &bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut extra = bytes.clone();
        extra.push(0);
        assert!(decode("x", &extra).is_err());
        let mut huge = encode(&header(1, usize::MAX / 2), &[]).unwrap();
        assert!(decode("x", &huge).is_err());
        huge[4] = 0xff;
        assert!(decode("x", &huge).is_err());
    }
}
