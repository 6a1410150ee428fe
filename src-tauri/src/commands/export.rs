//! The export wizard's commands: one patient's archive, optionally sealed to a recipient, and
//! the clinic's de-identified research export. Consent, logging and sealing are the core's.

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

use hearth_api::{
    ApiError, ArchiveWritten, ErrorKind, ExportProgressView, ExportRequest, ResearchSkipped,
    ResearchWritten,
};
use hearth_core::PatientArchive;

use super::{with_hearth, Reply, Shared};

/// A path typed by the user, `None` when empty.
fn path_of(raw: &str) -> Option<PathBuf> {
    let p = raw.trim();
    (!p.is_empty()).then(|| PathBuf::from(p))
}

fn invalid(message: &str) -> ApiError {
    ApiError::new(ErrorKind::InvalidInput, message)
}

/// Write `bytes` to a new file at `path` (replacing nothing half-written), saying where it
/// failed.
fn write(path: &PathBuf, bytes: &[u8]) -> hearth_core::Result<u64> {
    std::fs::write(path, bytes).map_err(|e| {
        hearth_core::CoreError::Invalid(format!(
            "the export could not be written to {} ({e}); choose a folder you can write to",
            path.display()
        ))
    })?;
    Ok(bytes.len() as u64)
}

/// Export a patient: the signed `.hearth` archive (sealed to the recipients when any are
/// given) to `request.path`, and the FHIR R4 Bundle JSON to `request.fhir` when asked (never
/// next to a sealed archive: it would leave the records unencrypted beside it).
#[tauri::command]
pub async fn export_patient_to(
    session: Shared<'_>,
    request: ExportRequest,
) -> Reply<ArchiveWritten> {
    let Some(archive_path) = path_of(&request.path) else {
        return Err(invalid(
            "destination: enter where to save the .hearth file, e.g. /home/you/Desktop/patient.hearth",
        ));
    };
    let fhir_path = request.fhir.as_deref().and_then(path_of);
    let recipients: Vec<String> = request
        .recipients
        .iter()
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty())
        .collect();
    if !recipients.is_empty() && fhir_path.is_some() {
        return Err(invalid(
            "a sealed archive cannot go with a plain FHIR JSON file: that file would hold the records unencrypted next to it. Leave the FHIR path empty (the FHIR bundle is inside the sealed archive)",
        ));
    }
    *progress() = Some(ExportProgressView::default());
    let result = with_hearth(&session, move |h| {
        if !recipients.is_empty() {
            PatientArchive::check_recipients(&recipients)?;
        }
        let x = h.export_patient_with(
            &request.patient,
            &request.purpose,
            request.psychotherapy,
            &|p| {
                *progress() = Some(ExportProgressView {
                    phase: p.phase.to_string(),
                    done: p.done as u64,
                    total: p.total as u64,
                });
            },
        )?;
        let bytes = if recipients.is_empty() {
            x.archive.clone()
        } else {
            x.sealed_to(&recipients)?
        };
        let archive_bytes = write(&archive_path, &bytes)?;
        let fhir_bytes = match &fhir_path {
            Some(p) => Some(write(p, format!("{:#}", x.bundle).as_bytes())?),
            None => None,
        };
        Ok(ArchiveWritten {
            archive_path: archive_path.display().to_string(),
            archive_bytes,
            sealed_to: recipients.len(),
            fhir_path: fhir_path.map(|p| p.display().to_string()),
            fhir_bytes,
            resources: x.resources(),
        })
    })
    .await;
    *progress() = None;
    result
}

/// Where the running export is (none when no export runs); the wizard polls it.
#[tauri::command]
pub fn export_progress() -> Option<ExportProgressView> {
    progress().clone()
}

fn progress() -> MutexGuard<'static, Option<ExportProgressView>> {
    static PROGRESS: Mutex<Option<ExportProgressView>> = Mutex::new(None);
    PROGRESS.lock().unwrap_or_else(|p| p.into_inner())
}

/// The research export into the folder `out` (`research.ndjson`, `manifest.json`; never
/// overwritten), of the given patients or every patient: what was included, removed by kind,
/// and who was skipped with the consent reason.
#[tauri::command]
pub async fn research_export(
    session: Shared<'_>,
    out: String,
    patients: Option<Vec<String>>,
) -> Reply<ResearchWritten> {
    let Some(dir) = path_of(&out) else {
        return Err(invalid(
            "output folder: enter a folder to write the research files into, e.g. /home/you/research-2026",
        ));
    };
    with_hearth(&session, move |h| {
        let ids = patients.filter(|p| !p.is_empty());
        let (x, data, manifest) = h.research_export_to(&dir, ids.as_deref())?;
        Ok(ResearchWritten {
            data_path: data.display().to_string(),
            data_bytes: x.ndjson.len() as u64,
            manifest_path: manifest.display().to_string(),
            included: x.included,
            removed: x
                .manifest
                .removed
                .iter()
                .map(|(k, n)| (k.to_string(), n))
                .collect(),
            resources: x.manifest.resources.into_iter().collect(),
            skipped: x
                .skipped
                .into_iter()
                .map(|(patient, reason)| ResearchSkipped { patient, reason })
                .collect(),
        })
    })
    .await
}
