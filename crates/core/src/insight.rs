//! On-device analysis as a long-lived service for a front end: [`Insight`] owns the loaded
//! models (semantic search's encoder and the risk model over that same encoder), the
//! background indexing worker and its status, and answers the desktop's analysis use cases in
//! `hearth-api` types.
//!
//! - Models load once, lazily, on the calling thread (never two loads at a time), and stay
//!   for the life of the handle: they hold no patient data, so locking the vault does not
//!   drop them. The risk heads run on the semantic encoder (one ~90 MB copy of the weights),
//!   each sentence cut at the heads' training length per call.
//! - Indexing ([`Hearth::index_notes`]) runs on one background thread at a time:
//!   [`Insight::request_index`] returns at once; a request made during a run marks it dirty
//!   and the worker runs once more. The core takes the vault lock only to read and to write a
//!   batch, never while the model runs, so other use cases go on.
//! - Without the model every call still answers: the status says it is missing and to run
//!   `make setup`, a search returns the full-text note matches, the risk panel says why it is
//!   off.
//!
//! ```no_run
//! use std::time::Duration;
//! use hearth_core::{Hearth, HearthOptions, Insight};
//! # fn main() -> Result<(), hearth_core::CoreError> {
//! let path = std::path::Path::new("clinic.hearth");
//! let hearth = Hearth::open_unlocked(path, "passphrase", HearthOptions::default())?;
//! let insight = Insight::new();
//! insight.request_index(&hearth); // returns at once
//! insight.wait_idle(Duration::from_secs(60));
//! let status = insight.status();
//! println!("{}/{} notes, model {:?}", status.done, status.total, status.model);
//! let reply = insight.semantic_search(&hearth, "trouble sleeping", 10)?;
//! # let _ = reply; Ok(()) }
//! ```

mod view;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use hearth_api::{
    IndexStatus, ModelState, NotAnalysed, NoteRiskView, PatientRow, SemanticHit, SemanticReply,
};

use hearth_insight::risk::{head_path, HeadFile};

use crate::risk::{RiskError, RiskModel};
use crate::semantic::{default_models_dir, Embedder, InsightError};
use crate::{CoreError, Hearth, Result};

/// Most results [`Insight::semantic_search`] returns.
pub const MAX_SEARCH_RESULTS: usize = 100;

/// Shown with every risk answer.
pub const RISK_NOTICE: &str = "Decision aid, not a diagnosis — research preview";

/// A model that could not be loaded, in words for the person at the screen (what is off,
/// what still works, what to do), with the cause.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelUnavailable {
    /// The sentence encoder (semantic search and risk flags).
    #[error(
        "Semantic search is off: the on-device model is not installed or damaged — run make \
         setup ({0}). Full-text search still works."
    )]
    Encoder(#[source] InsightError),
    /// The risk model (its head, or the encoder under it).
    #[error(
        "Risk flags are off: the on-device risk model is not installed or damaged — run make \
         setup ({0})."
    )]
    Risk(#[source] RiskError),
}

/// Configuration of an [`Insight`].
#[derive(Debug, Clone, Default)]
pub struct InsightBuilder {
    models_dir: Option<PathBuf>,
}

impl InsightBuilder {
    /// Where the models are (default: [`default_models_dir`], i.e. `HEARTH_MODELS_DIR` or the
    /// repository's `models/`).
    pub fn models_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.models_dir = Some(dir.into());
        self
    }

    /// The service; nothing is loaded yet.
    pub fn build(self) -> Insight {
        Insight {
            inner: Arc::new(Inner {
                models_dir: self.models_dir.unwrap_or_else(default_models_dir),
                loading: Mutex::new(()),
                encoder: Mutex::new(None),
                risk: Mutex::new(None),
                state: Mutex::new(State::default()),
                idle: Condvar::new(),
            }),
        }
    }
}

/// The on-device models, the background indexing and its status. Cheap to clone (a handle);
/// safe to share between threads. One per process is enough: it is not tied to a vault.
#[derive(Debug, Clone)]
pub struct Insight {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    models_dir: PathBuf,
    /// Held while a model loads, so two callers never load one twice.
    loading: Mutex<()>,
    encoder: Mutex<Option<Arc<Embedder>>>,
    /// The risk heads over `encoder`.
    risk: Mutex<Option<Arc<RiskModel>>>,
    state: Mutex<State>,
    /// Signalled when a worker finishes.
    idle: Condvar,
}

#[derive(Debug, Default)]
struct State {
    status: IndexStatus,
    /// A run was asked for while one was going.
    dirty: bool,
    /// The vault the last request was for (the worker indexes it; the status hides the
    /// patients left out while it is locked).
    hearth: Option<Hearth>,
}

/// A poisoned lock only means a worker panicked mid-update; the data is still usable.
fn guard<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Default for Insight {
    fn default() -> Self {
        Self::builder().build()
    }
}

impl Insight {
    /// With the default models folder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Configure one.
    pub fn builder() -> InsightBuilder {
        InsightBuilder::default()
    }

    /// The models folder in use.
    pub fn models_dir(&self) -> &Path {
        &self.inner.models_dir
    }

    fn set_status(&self, f: impl FnOnce(&mut IndexStatus)) {
        f(&mut guard(&self.inner.state).status);
    }

    /// The sentence encoder, loading it the first time (on the calling thread; the status
    /// shows `Loading`, then `Ready` or `Missing` with what to do). A failed load is tried
    /// again next time, so installing the model needs no restart.
    pub fn encoder(&self) -> Result<Arc<Embedder>, ModelUnavailable> {
        if let Some(m) = guard(&self.inner.encoder).clone() {
            return Ok(m);
        }
        let _one_loader = guard(&self.inner.loading);
        self.encoder_loading()
    }

    /// [`Insight::encoder`] with the loading lock held.
    fn encoder_loading(&self) -> Result<Arc<Embedder>, ModelUnavailable> {
        if let Some(m) = guard(&self.inner.encoder).clone() {
            return Ok(m);
        }
        self.set_status(|s| {
            s.model = ModelState::Loading;
            s.model_message = None;
        });
        match Embedder::load(&self.inner.models_dir) {
            Ok(m) => {
                tracing::info!(millis = m.load_millis(), "on-device embedding model loaded");
                let m = Arc::new(m);
                *guard(&self.inner.encoder) = Some(Arc::clone(&m));
                self.set_status(|s| s.model = ModelState::Ready);
                Ok(m)
            }
            Err(e) => {
                tracing::warn!("semantic search is off: {e}");
                let off = ModelUnavailable::Encoder(e);
                let msg = off.to_string();
                self.set_status(|s| {
                    s.model = ModelState::Missing;
                    s.model_message = Some(msg);
                });
                Err(off)
            }
        }
    }

    /// The risk model over the shared encoder, loading what is missing the first time (the
    /// small head first, so a missing head is reported before the encoder loads).
    pub fn risk_model(&self) -> Result<Arc<RiskModel>, ModelUnavailable> {
        if let Some(m) = guard(&self.inner.risk).clone() {
            return Ok(m);
        }
        let _one_loader = guard(&self.inner.loading);
        if let Some(m) = guard(&self.inner.risk).clone() {
            return Ok(m);
        }
        let off = |e: RiskError| {
            tracing::warn!("risk flags are off: {e}");
            ModelUnavailable::Risk(e)
        };
        let head = HeadFile::read(&head_path(&self.inner.models_dir)).map_err(off)?;
        let encoder = self.encoder_loading().map_err(|e| match e {
            ModelUnavailable::Encoder(e) => off(RiskError::Encoder(e)),
            other => other,
        })?;
        let m = Arc::new(RiskModel::new(encoder, head).map_err(off)?);
        *guard(&self.inner.risk) = Some(Arc::clone(&m));
        Ok(m)
    }

    /// The model and indexing state, for a progress indicator. Loads nothing. The patients
    /// left out (names, reasons) are given only while the vault last indexed is unlocked.
    pub fn status(&self) -> IndexStatus {
        let (mut status, hearth) = {
            let st = guard(&self.inner.state);
            (st.status.clone(), st.hearth.clone())
        };
        if hearth.is_none_or(|h| h.is_locked()) {
            status.skipped.clear();
        }
        status
    }

    /// The vault locked: forget what was derived from it (the patients left out, the risk
    /// model's cached sentence embeddings). The models themselves stay loaded.
    pub fn forget(&self) {
        self.set_status(|s| s.skipped.clear());
        if let Some(m) = guard(&self.inner.risk).as_ref() {
            m.clear_cache();
        }
    }

    /// Ask for an indexing run of `hearth` in the background (loading the model first if
    /// needed); returns at once with the state now. Safe to call often: one worker runs at a
    /// time and a request during a run makes it run once more (over the latest vault asked
    /// for). A locked vault is not indexed (unlocking asks again).
    pub fn request_index(&self, hearth: &Hearth) -> IndexStatus {
        {
            let mut st = guard(&self.inner.state);
            st.hearth = Some(hearth.clone());
            if st.status.indexing {
                st.dirty = true;
                return st.status.clone();
            }
            st.status.indexing = true;
            st.status.done = 0;
            st.status.total = 0;
            st.dirty = false;
        }
        let me = self.clone();
        let spawned = std::thread::Builder::new()
            .name("hearth-index".into())
            // Indexing is background work: it never keeps an idle vault from locking.
            .spawn(move || hearth_vault::in_background(|| me.work()));
        if let Err(e) = spawned {
            tracing::warn!("the indexing thread did not start: {e}");
            let mut st = guard(&self.inner.state);
            st.status.indexing = false;
            st.status.error = Some(format!(
                "Indexing notes could not start ({e}); the next edit or search tries again"
            ));
            self.inner.idle.notify_all();
        }
        self.status()
    }

    /// Wait until no indexing run is going or pending, at most `timeout`; whether it is idle.
    pub fn wait_idle(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut st = guard(&self.inner.state);
        while st.status.indexing {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            st = self
                .inner
                .idle
                .wait_timeout(st, left)
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
        }
        true
    }

    /// The worker: runs until no request is pending.
    fn work(&self) {
        /// Marks the run over if it panics, so the next request starts a new worker.
        struct Panicked<'a>(&'a Insight);
        impl Drop for Panicked<'_> {
            fn drop(&mut self) {
                if std::thread::panicking() {
                    let mut st = guard(&self.0.inner.state);
                    st.status.indexing = false;
                    st.status.error =
                        Some("Indexing notes stopped unexpectedly; the next edit retries".into());
                    self.0.inner.idle.notify_all();
                }
            }
        }
        let _panicked = Panicked(self);
        loop {
            let hearth = guard(&self.inner.state).hearth.clone();
            if let Some(h) = hearth {
                self.run_index(&h);
            }
            let mut st = guard(&self.inner.state);
            if !st.dirty {
                // Over, in the same critical section that checked for a pending request.
                st.status.indexing = false;
                self.inner.idle.notify_all();
                return;
            }
            st.dirty = false;
            st.status.done = 0;
            st.status.total = 0;
        }
    }

    /// One indexing run; the outcome goes to the status.
    fn run_index(&self, h: &Hearth) {
        let Ok(m) = self.encoder() else {
            return;
        };
        if h.is_locked() {
            return; // nothing to index until unlock (which asks again)
        }
        let r = h.index_notes(&m, &mut |done, total| {
            self.set_status(|s| {
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
                let skipped = not_analysed(h, &report.refused);
                self.set_status(|s| {
                    s.notes = report.notes;
                    s.skipped = skipped;
                    s.error = None;
                });
            }
            Err(e) => {
                tracing::warn!("indexing notes failed: {}", e.message());
                let msg = format!("Indexing notes stopped: {}", e.message());
                self.set_status(|s| s.error = Some(msg));
            }
        }
    }

    /// Session notes ranked by meaning, fused with full-text matches (at most `limit`, 1 to
    /// [`MAX_SEARCH_RESULTS`]). Without the model: the full-text note matches and why semantic
    /// search is off. Uses the embeddings stored so far (notes not indexed yet are counted in
    /// `stale`); the patients left out come from this search and the last indexing run.
    pub fn semantic_search(&self, h: &Hearth, query: &str, limit: usize) -> Result<SemanticReply> {
        let limit = limit.clamp(1, MAX_SEARCH_RESULTS);
        let m = match self.encoder() {
            Ok(m) => m,
            Err(off) => {
                let hits = h
                    .search(query, limit)?
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
                    off: Some(off.to_string()),
                    ..SemanticReply::default()
                });
            }
        };
        let r = h.semantic_search(&m, query, limit)?;
        // Patients left out: from the last indexing run (never analysed) and from this search
        // (consent withdrawn since).
        let mut refused = r.refused.clone();
        for p in &guard(&self.inner.state).status.skipped {
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
            skipped: not_analysed(h, &refused),
            stale: r.stale,
        })
    }

    /// Risk flags for one session note of `patient`, on this device, for display. Consent
    /// refusing analysis, or a missing model, is an answer (`refused`, `model_missing`), not an
    /// error. The patient's consent is asked first without logging (a panel that opens with
    /// every note would flood the access log with refusals); [`Hearth::note_risk`] then
    /// enforces it again, logged, for the note's own patient.
    pub fn note_risk(&self, h: &Hearth, patient: &str, note_id: &str) -> Result<NoteRiskView> {
        let off = |refused: Option<String>, model_missing: Option<String>| NoteRiskView {
            refused,
            model_missing,
            notice: RISK_NOTICE.to_string(),
            ..NoteRiskView::default()
        };
        let (permit, why) = h.analysis_permitted(patient)?;
        if !permit {
            return Ok(off(Some(why), None));
        }
        let m = match self.risk_model() {
            Ok(m) => m,
            Err(e) => return Ok(off(None, Some(e.to_string()))),
        };
        match h.note_risk(note_id, &m) {
            Ok(r) => Ok(view::risk_view(&r)),
            Err(CoreError::Denied(why)) => Ok(off(Some(why), None)),
            Err(e) => Err(e),
        }
    }
}

/// Patients' names by id, for the reasons shown (empty when unreadable).
fn names(h: &Hearth) -> HashMap<String, String> {
    h.patients()
        .map(|rows| {
            rows.into_iter()
                .filter_map(|r| match r {
                    PatientRow::Ok { id, name, .. } => Some((id, name)),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

fn not_analysed(h: &Hearth, refused: &[(String, String)]) -> Vec<NotAnalysed> {
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
