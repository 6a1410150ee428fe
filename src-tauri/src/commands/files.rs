//! Attachments (streamed in and out of the vault) and full-text search.

use std::path::PathBuf;

use hearth_api::{Attachment, SearchHit, Stored};

use super::{with_hearth, Reply, Shared};

/// At most this many search results.
const MAX_HITS: usize = 50;

/// Attach the file at `path` to a patient's chart.
#[tauri::command]
pub async fn attach_file(
    session: Shared<'_>,
    patient: String,
    path: String,
    description: String,
) -> Reply<Stored<Attachment>> {
    let path = PathBuf::from(path.trim());
    with_hearth(&session, move |h| {
        h.attach_file(&patient, &path, &description)
    })
    .await
}

/// A patient's attachments.
#[tauri::command]
pub async fn list_attachments(
    session: Shared<'_>,
    patient: String,
) -> Reply<Vec<Stored<Attachment>>> {
    with_hearth(&session, move |h| h.attachments(&patient)).await
}

/// Save an attachment's content to the file at `path`; returns the bytes written.
#[tauri::command]
pub async fn export_attachment(session: Shared<'_>, id: String, path: String) -> Reply<u64> {
    let path = PathBuf::from(path.trim());
    with_hearth(&session, move |h| h.export_attachment(&id, &path)).await
}

/// Full-text search across the unlocked vault.
#[tauri::command]
pub async fn search(session: Shared<'_>, query: String, limit: usize) -> Reply<Vec<SearchHit>> {
    with_hearth(&session, move |h| h.search(&query, limit.min(MAX_HITS))).await
}
