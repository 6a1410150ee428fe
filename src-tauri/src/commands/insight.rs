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

use hearth_api::{
    IndexStatus, ModelState, NotAnalysed, NoteRiskView, RiskEvidence, RiskFlagView, RiskSuppressed,
    SemanticHit, SemanticReply, TextRun,
};
use hearth_core::{
    default_models_dir, Basis, CoreError, Embedder, Hearth, Item9Link, NoteRisk, RiskModel, Session,
};

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
    /// The risk model (its own encoder settings), loaded on first use like the embedder.
    risk: Mutex<Option<Arc<RiskModel>>>,
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

/// The model and indexing state, for the progress indicator. Does not load anything. The
/// patients left out (names, reasons) are given only while the vault is unlocked.
#[tauri::command]
pub async fn semantic_status(session: Shared<'_>) -> Reply<IndexStatus> {
    let mut status = guard(&INSIGHT.state).status.clone();
    if session.hearth().map_or(true, |h| h.is_locked()) {
        status.skipped.clear();
    }
    Ok(status)
}

/// The vault locked: forget what was derived from it (the patients left out, the risk
/// model's cached sentence embeddings). The models themselves stay loaded.
pub(crate) fn forget() {
    set_status(|s| s.skipped.clear());
    if let Some(m) = guard(&INSIGHT.risk).as_ref() {
        m.clear_cache();
    }
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

/// Shown with every risk flag.
const RISK_NOTICE: &str = "Decision aid, not a diagnosis — research preview";

/// The risk model, loading it the first time (one loader at a time).
fn risk_model() -> Result<Arc<RiskModel>, String> {
    let _one_loader = guard(&INSIGHT.loading);
    if let Some(m) = guard(&INSIGHT.risk).clone() {
        return Ok(m);
    }
    match RiskModel::load(&default_models_dir()) {
        Ok(m) => {
            let m = Arc::new(m);
            *guard(&INSIGHT.risk) = Some(Arc::clone(&m));
            Ok(m)
        }
        Err(e) => {
            tracing::warn!("risk flags are off: {e}");
            Err(format!(
                "Risk flags are off: the on-device risk model is not installed or damaged — run \
                 make setup ({e})."
            ))
        }
    }
}

fn item9_words(i: &Item9Link) -> (String, bool) {
    match i {
        Item9Link::Answered { score, taken, .. } => {
            let words = match score {
                0 => "not at all",
                1 => "several days",
                2 => "more than half the days",
                _ => "nearly every day",
            };
            (
                format!("PHQ-9 item 9 on {taken}: {score} ({words})"),
                *score > 0,
            )
        }
        Item9Link::NoPhq9 => ("PHQ-9 item 9: no PHQ-9 on record".into(), false),
        Item9Link::Unknown => (
            "PHQ-9 item 9: not available to this device (assessments not readable)".into(),
            false,
        ),
    }
}

/// A sentence cut into runs at its phrases (phrases overlapping an earlier one are dropped).
fn runs(
    r: &NoteRisk,
    sentence: &std::ops::Range<usize>,
    phrases: &[hearth_core::Phrase],
) -> Vec<TextRun> {
    let mut ps: Vec<&hearth_core::Phrase> = phrases
        .iter()
        .filter(|p| p.span.start >= sentence.start && p.span.end <= sentence.end)
        .collect();
    ps.sort_by_key(|p| p.span.start);
    let mut out = Vec::new();
    let mut at = sentence.start;
    for p in ps {
        if p.span.start < at {
            continue;
        }
        if p.span.start > at {
            out.push(TextRun {
                text: r.at(&(at..p.span.start)).to_string(),
                weight: None,
            });
        }
        out.push(TextRun {
            text: r.at(&p.span).to_string(),
            weight: Some(p.weight),
        });
        at = p.span.end;
    }
    if at < sentence.end {
        out.push(TextRun {
            text: r.at(&(at..sentence.end)).to_string(),
            weight: None,
        });
    }
    out
}

fn risk_view(r: &NoteRisk) -> NoteRiskView {
    let (phq9_item9, item9_positive) = item9_words(&r.phq9_item9);
    let flags = r
        .report
        .flags
        .iter()
        .map(|f| RiskFlagView {
            label: f.label.as_str().to_string(),
            band: f.band.as_str().to_string(),
            probability: f.probability,
            threshold: f.threshold,
            evidence: f
                .evidence
                .iter()
                .map(|e| RiskEvidence {
                    sentence: runs(r, &e.sentence, &e.phrases),
                    probability: e.probability,
                    why: match e.basis {
                        Basis::ExplicitMention => {
                            "an explicit, affirmed mention of suicidal thoughts or self-harm"
                                .to_string()
                        }
                        Basis::Model => format!(
                            "the model's probability {:.2} passed the threshold {:.2}",
                            e.probability, f.threshold
                        ),
                    },
                })
                .collect(),
        })
        .collect();
    let suppressed = r
        .report
        .suppressed
        .iter()
        .map(|s| RiskSuppressed {
            label: s.label.as_str().to_string(),
            sentence: r.at(&s.sentence).to_string(),
            context: s.context.to_string(),
        })
        .collect();
    NoteRiskView {
        flags,
        suppressed,
        phq9_item9,
        item9_positive,
        notice: RISK_NOTICE.to_string(),
        model: r.report.model.clone(),
        ..NoteRiskView::default()
    }
}

/// Risk flags for one session note of `patient`, on this device. Consent refusing analysis, or
/// a missing model, is an answer (the panel says why), not an error. The patient's consent is
/// asked first without logging (the panel opens with every note: a refusal each time would
/// flood the access log); the core then enforces it again, logged, for the note's own patient.
#[tauri::command]
pub async fn note_risk(session: Shared<'_>, patient: String, id: String) -> Reply<NoteRiskView> {
    blocking(&session, move |s| {
        let h = s.hearth()?;
        let (permit, why) = h.analysis_permitted(&patient)?;
        if !permit {
            return Ok(NoteRiskView {
                refused: Some(why),
                notice: RISK_NOTICE.to_string(),
                ..NoteRiskView::default()
            });
        }
        let m = match risk_model() {
            Ok(m) => m,
            Err(why) => {
                return Ok(NoteRiskView {
                    model_missing: Some(why),
                    notice: RISK_NOTICE.to_string(),
                    ..NoteRiskView::default()
                })
            }
        };
        match h.note_risk(&id, &m) {
            Ok(r) => Ok(risk_view(&r)),
            Err(CoreError::Denied(why)) => Ok(NoteRiskView {
                refused: Some(why),
                notice: RISK_NOTICE.to_string(),
                ..NoteRiskView::default()
            }),
            Err(e) => Err(e),
        }
    })
    .await
}
