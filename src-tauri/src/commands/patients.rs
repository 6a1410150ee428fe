//! Patients: list, show, add, edit, history, restore.

use hearth_api::{HistoryEntry, NewPatient, Patient, PatientPatch, PatientRow};

use super::{with_hearth, Reply, Shared};

/// Every patient, by name.
#[tauri::command]
pub async fn list_patients(session: Shared<'_>) -> Reply<Vec<PatientRow>> {
    with_hearth(&session, |h| h.patients()).await
}

/// One patient.
#[tauri::command]
pub async fn get_patient(session: Shared<'_>, id: String) -> Reply<Patient> {
    with_hearth(&session, move |h| h.patient(&id)).await
}

/// Add a patient.
#[tauri::command]
pub async fn add_patient(session: Shared<'_>, patient: NewPatient) -> Reply<Patient> {
    with_hearth(&session, move |h| h.add_patient(patient)).await
}

/// Change some of a patient's fields.
#[tauri::command]
pub async fn edit_patient(session: Shared<'_>, id: String, patch: PatientPatch) -> Reply<Patient> {
    with_hearth(&session, move |h| h.edit_patient(&id, patch)).await
}

/// A patient's change history, oldest first.
#[tauri::command]
pub async fn patient_history(session: Shared<'_>, id: String) -> Reply<Vec<HistoryEntry>> {
    with_hearth(&session, move |h| h.patient_history(&id)).await
}

/// Make a patient what it was at `version`, as a new change.
#[tauri::command]
pub async fn restore_patient(session: Shared<'_>, id: String, version: String) -> Reply<Patient> {
    with_hearth(&session, move |h| h.restore_patient(&id, &version)).await
}
