//! The audit log: a patient's access timeline, the log's status, signing a checkpoint and
//! verifying the log.

use hearth_api::{AuditReport, CheckpointInfo, LogStatus, TimelineEvent};

use super::{with_hearth, Reply, Shared};

/// Who changed and who looked at a patient's records, oldest first.
#[tauri::command]
pub async fn patient_timeline(session: Shared<'_>, patient: String) -> Reply<Vec<TimelineEvent>> {
    with_hearth(&session, move |h| h.patient_timeline(&patient)).await
}

/// The log's size, newest checkpoint and verifier key.
#[tauri::command]
pub async fn log_status(session: Shared<'_>) -> Reply<LogStatus> {
    with_hearth(&session, |h| h.log_status()).await
}

/// Sign a checkpoint over the whole log.
#[tauri::command]
pub async fn checkpoint(session: Shared<'_>) -> Reply<CheckpointInfo> {
    let c = with_hearth(&session, |h| h.checkpoint()).await?;
    Ok(CheckpointInfo {
        size: c.size,
        root: c.root,
        note: c.note,
    })
}

/// Check the log against the vault and its checkpoints.
#[tauri::command]
pub async fn verify_log(session: Shared<'_>) -> Reply<AuditReport> {
    let r = with_hearth(&session, |h| h.audit()).await?;
    Ok(AuditReport {
        entries: r.entries,
        records: r.records,
        checkpoints: r.checkpoints,
        problems: r.problems,
        notes: r.notes,
    })
}
