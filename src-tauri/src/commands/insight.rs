//! On-device analysis: semantic search over session notes and its background indexing.
//!
//! The embedding model is loaded once, lazily, on a blocking thread, and kept for the life of
//! the process (it holds no patient data, so locking the vault does not drop it). Indexing
//! ([`hearth_core::Hearth::index_notes`]) runs on one blocking worker at a time: after unlock,
//! after a note is written and when the search screen asks for it; a request made while a run
//! is going marks it dirty and the worker runs once more. The core takes the vault lock only
//! to read and to write a batch, never while the model runs, so other commands go on.
//! Without the model every command still answers: status says it is missing and what to do,
//! and a search returns the full-text matches.

use std::sync::{Arc, LazyLock, Mutex, MutexGuard};

use hearth_api::{IndexStatus, ModelState, NotAnalysed, SemanticHit, SemanticReply};
use hearth_core::{default_models_dir, Embedder, Hearth, Session};

use super::{blocking, Reply, Shared};

/// Most results a search returns.
const MAX_LIMIT: usize = 100;

/// The model and the indexing state: one per process, like the window.
#[derive(Default)]
struct Insight {
    /// Held while the model loads, so two callers never load it twice.
    loading: Mutex<()>,
    model: Mutex<Option<Arc<Embedder>>>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    status: IndexStatus,
    /// A run was asked for while one was going.
    dirty: bool,
}

static INSIGHT: LazyLock<Insight> = LazyLock::new(Insight::default);

/// A poisoned lock only means a worker panicked mid-update; the data is still usable.
fn guard<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn set_status(f: impl FnOnce(&mut IndexStatus)) {
    f(&mut guard(&INSIGHT.state).status);
}

fn off_message(why: &str) -> String {
    format!(
        "Semantic search is off: the on-device model is not installed or damaged — run make \
         setup ({why}). Full-text search still works."
    )
}

/// The model, loading it the first time (on the calling blocking thread).
fn model() -> Result<Arc<Embedder>, String> {
    if let Some(m) = guard(&INSIGHT.model).clone() {
        return Ok(m);
    }
    let _one_loader = guard(&INSIGHT.loading);
    if let Some(m) = guard(&INSIGHT.model).clone() {
        return Ok(m);
    }
    set_status(|s| {
        s.model = ModelState::Loading;
        s.model_message = None;
    });
    let dir = default_models_dir();
    match Embedder::load(&dir) {
        Ok(m) => {
            tracing::info!(millis = m.load_millis(), "on-device embedding model loaded");
            let m = Arc::new(m);
            *guard(&INSIGHT.model) = Some(Arc::clone(&m));
            set_status(|s| s.model = ModelState::Ready);
            Ok(m)
        }
        Err(e) => {
            tracing::warn!("semantic search is off: {e}");
            let msg = off_message(&e.to_string());
            set_status(|s| {
                s.model = ModelState::Missing;
                s.model_message = Some(msg.clone());
            });
            Err(msg)
        }
    }
}

/// Patients' names by id, for the reasons shown (empty when unreadable).
fn names(h: &Hearth) -> std::collections::HashMap<String, String> {
    h.patients()
        .map(|rows| {
            rows.into_iter()
                .filter_map(|r| match r {
                    hearth_api::PatientRow::Ok { id, name, .. } => Some((id, name)),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

fn skipped(h: &Hearth, refused: &[(String, String)]) -> Vec<NotAnalysed> {
    if refused.is_empty() {
        return Vec::new();
    }
    let names = names(h);
    refused
        .iter()
        .map(|(id, why)| NotAnalysed {
            patient_id: id.clone(),
            patient_name: names.get(id).cloned().unwrap_or_default(),
            reason: why.clone(),
        })
        .collect()
}

/// Ask for an indexing run in the background; returns at once. Safe to call often: one worker
/// runs at a time and a request during a run makes it run once more.
pub(crate) fn request_index(session: &Arc<Session>) {
    {
        let mut st = guard(&INSIGHT.state);
        if st.status.indexing {
            st.dirty = true;
            return;
        }
        st.status.indexing = true;
        st.status.done = 0;
        st.status.total = 0;
        st.dirty = false;
    }
    let session = Arc::clone(session);
    drop(tauri::async_runtime::spawn_blocking(move || loop {
        run_index(&session);
        let mut st = guard(&INSIGHT.state);
        if !st.dirty {
            st.status.indexing = false;
            break;
        }
        st.dirty = false;
        st.status.done = 0;
        st.status.total = 0;
    }));
}

/// One indexing run; the outcome goes to the status.
fn run_index(session: &Session) {
    let Ok(m) = model() else {
        return;
    };
    let h = match session.hearth() {
        Ok(h) if !h.is_locked() => h,
        _ => return, // nothing to index until unlock (which asks again)
    };
    let r = h.index_notes(&m, &mut |done, total| {
        set_status(|s| {
            s.done = done;
            s.total = total;
        });
    });
    match r {
        Ok(report) => {
            tracing::info!(
                notes = report.notes,
                embedded = report.embedded,
                refused = report.refused.len(),
                "notes indexed for semantic search"
            );
            let skipped = skipped(&h, &report.refused);
            set_status(|s| {
                s.notes = report.notes;
                s.skipped = skipped;
                s.error = None;
            });
        }
        Err(e) => {
            tracing::warn!("indexing notes failed: {}", e.message());
            let msg = format!("Indexing notes stopped: {}", e.message());
            set_status(|s| s.error = Some(msg));
        }
    }
}

/// The model and indexing state, for the progress indicator. Does not load anything.
#[tauri::command]
pub async fn semantic_status() -> Reply<IndexStatus> {
    Ok(guard(&INSIGHT.state).status.clone())
}

/// Start indexing in the background (loading the model first if needed); the state now.
#[tauri::command]
pub async fn start_indexing(session: Shared<'_>) -> Reply<IndexStatus> {
    request_index(&session);
    Ok(guard(&INSIGHT.state).status.clone())
}

/// Session notes ranked by meaning, fused with full-text matches. Without the model: the
/// full-text note matches and why semantic search is off. Uses the embeddings stored so far
/// (notes being indexed are counted in `stale`).
#[tauri::command]
pub async fn semantic_search(
    session: Shared<'_>,
    query: String,
    limit: usize,
) -> Reply<SemanticReply> {
    let limit = limit.clamp(1, MAX_LIMIT);
    blocking(&session, move |s| {
        let h = s.hearth()?;
        let m = match model() {
            Ok(m) => m,
            Err(off) => {
                let hits = h
                    .search(&query, limit)?
                    .into_iter()
                    .filter(|t| t.kind == "session-note")
                    .map(|t| SemanticHit {
                        record_id: t.record_id,
                        patient_id: t.patient_id,
                        patient_name: t.patient_name,
                        passage: t.snippet,
                        similarity: None,
                        text_match: true,
                    })
                    .collect();
                return Ok(SemanticReply {
                    hits,
                    off: Some(off),
                    ..SemanticReply::default()
                });
            }
        };
        let r = h.semantic_search(&m, &query, limit)?;
        // Patients left out: from the last indexing run (never analysed) and from this
        // search (consent withdrawn since).
        let mut refused = r.refused.clone();
        for p in &guard(&INSIGHT.state).status.skipped {
            refused.push((p.patient_id.clone(), p.reason.clone()));
        }
        refused.sort();
        refused.dedup_by(|a, b| a.0 == b.0);
        let hits = r
            .hits
            .into_iter()
            .map(|x| SemanticHit {
                record_id: x.record_id,
                patient_id: x.patient_id,
                patient_name: x.patient_name,
                passage: x.passage,
                similarity: x.similarity,
                text_match: x.text_match,
            })
            .collect();
        Ok(SemanticReply {
            hits,
            off: None,
            skipped: skipped(&h, &refused),
            stale: r.stale,
        })
    })
    .await
}

/// After a note was written: index it in the background; the reply unchanged.
pub(crate) fn after_write<T>(session: &Arc<Session>, reply: Reply<T>) -> Reply<T> {
    if reply.is_ok() {
        request_index(session);
    }
    reply
}
