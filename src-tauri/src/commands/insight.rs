//! On-device analysis: semantic search over session notes, its background indexing and risk
//! flags, each command one call on the managed [`hearth_core::Insight`] (which owns the models,
//! the indexing worker and its status).

use hearth_api::{IndexStatus, NoteRiskView, SemanticReply};
use hearth_core::{Insight, Session};

use super::{blocking, Analysis, Reply, Shared};

/// Index the open vault in the background (returns at once; nothing while it is not open).
pub(crate) fn request_index(session: &Session, insight: &Insight) {
    if let Ok(h) = session.hearth() {
        insight.request_index(&h);
    }
}

/// After a note was written: index it in the background; the reply unchanged.
pub(crate) fn after_write<T>(session: &Session, insight: &Insight, reply: Reply<T>) -> Reply<T> {
    if reply.is_ok() {
        request_index(session, insight);
    }
    reply
}

/// The model and indexing state, for the progress indicator. Does not load anything.
#[tauri::command]
pub async fn semantic_status(insight: Analysis<'_>) -> Reply<IndexStatus> {
    Ok(insight.status())
}

/// Start indexing in the background (loading the model first if needed); the state now.
#[tauri::command]
pub async fn start_indexing(session: Shared<'_>, insight: Analysis<'_>) -> Reply<IndexStatus> {
    request_index(&session, &insight);
    Ok(insight.status())
}

/// Session notes ranked by meaning, fused with full-text matches (or, without the model, the
/// full-text note matches and why semantic search is off).
#[tauri::command]
pub async fn semantic_search(
    session: Shared<'_>,
    insight: Analysis<'_>,
    query: String,
    limit: usize,
) -> Reply<SemanticReply> {
    let insight = Insight::clone(&insight);
    blocking(&session, move |s| {
        insight.semantic_search(&s.hearth()?, &query, limit)
    })
    .await
}

/// Risk flags for one session note of `patient`; consent refusing analysis or a missing model
/// is an answer the panel shows, not an error.
#[tauri::command]
pub async fn note_risk(
    session: Shared<'_>,
    insight: Analysis<'_>,
    patient: String,
    id: String,
) -> Reply<NoteRiskView> {
    let insight = Insight::clone(&insight);
    blocking(&session, move |s| {
        insight.note_risk(&s.hearth()?, &patient, &id)
    })
    .await
}
