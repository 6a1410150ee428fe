//! The therapist's day: appointments and the calendar, notes, measures, the treatment plan.

use hearth_api::{
    Appointment, Assessment, HistoryEntry, Instrument, InstrumentForm, Note, Occurrence, Scored,
    Stored, TreatmentPlan,
};

use super::{with_hearth, Analysis, Reply, Shared};

/// Book an appointment (or a series).
#[tauri::command]
pub async fn add_appointment(
    session: Shared<'_>,
    appointment: Appointment,
) -> Reply<Stored<Appointment>> {
    with_hearth(&session, move |h| h.add_appointment(appointment)).await
}

/// Change an appointment (status, time, duration, code, …).
#[tauri::command]
pub async fn edit_appointment(
    session: Shared<'_>,
    id: String,
    appointment: Appointment,
) -> Reply<Stored<Appointment>> {
    with_hearth(&session, move |h| h.edit_appointment(&id, appointment)).await
}

/// One appointment.
#[tauri::command]
pub async fn get_appointment(session: Shared<'_>, id: String) -> Reply<Stored<Appointment>> {
    with_hearth(&session, move |h| h.appointment(&id)).await
}

/// One patient's appointments (everyone's without `patient`), by start.
#[tauri::command]
pub async fn list_appointments(
    session: Shared<'_>,
    patient: Option<String>,
) -> Reply<Vec<Stored<Appointment>>> {
    with_hearth(&session, move |h| h.appointments(patient.as_deref())).await
}

/// Occurrences starting in `[from, to)`, local `YYYY-MM-DDTHH:MM`, series expanded.
#[tauri::command]
pub async fn calendar(session: Shared<'_>, from: String, to: String) -> Reply<Vec<Occurrence>> {
    with_hearth(&session, move |h| h.calendar(&from, &to)).await
}

/// An appointment's change history.
#[tauri::command]
pub async fn appointment_history(session: Shared<'_>, id: String) -> Reply<Vec<HistoryEntry>> {
    with_hearth(&session, move |h| h.appointment_history(&id)).await
}

/// Start a note (a draft); `psychotherapy` makes it a psychotherapy note.
#[tauri::command]
pub async fn add_note(
    session: Shared<'_>,
    insight: Analysis<'_>,
    note: Note,
    psychotherapy: bool,
) -> Reply<Stored<Note>> {
    let r = with_hearth(&session, move |h| h.add_note(note, psychotherapy)).await;
    super::insight::after_write(&session, &insight, r)
}

/// Change a draft (the core refuses signed notes: "signed notes take addenda").
#[tauri::command]
pub async fn edit_note(
    session: Shared<'_>,
    insight: Analysis<'_>,
    id: String,
    note: Note,
) -> Reply<Stored<Note>> {
    let r = with_hearth(&session, move |h| h.edit_note(&id, note)).await;
    super::insight::after_write(&session, &insight, r)
}

/// Sign and lock a draft.
#[tauri::command]
pub async fn sign_note(session: Shared<'_>, id: String, signer: String) -> Reply<Stored<Note>> {
    with_hearth(&session, move |h| h.sign_note(&id, &signer)).await
}

/// Add a signed addendum to a signed note.
#[tauri::command]
pub async fn add_addendum(
    session: Shared<'_>,
    insight: Analysis<'_>,
    id: String,
    text: String,
    signer: String,
) -> Reply<Stored<Note>> {
    let r = with_hearth(&session, move |h| h.add_addendum(&id, &text, &signer)).await;
    super::insight::after_write(&session, &insight, r)
}

/// One note and whether it is a psychotherapy note.
#[tauri::command]
pub async fn get_note(session: Shared<'_>, id: String) -> Reply<(Stored<Note>, bool)> {
    with_hearth(&session, move |h| h.note(&id)).await
}

/// A patient's session notes.
#[tauri::command]
pub async fn list_notes(session: Shared<'_>, patient: String) -> Reply<Vec<Stored<Note>>> {
    with_hearth(&session, move |h| h.notes(&patient)).await
}

/// A patient's psychotherapy notes.
#[tauri::command]
pub async fn list_psychotherapy_notes(
    session: Shared<'_>,
    patient: String,
) -> Reply<Vec<Stored<Note>>> {
    with_hearth(&session, move |h| h.psychotherapy_notes(&patient)).await
}

/// A note's change history.
#[tauri::command]
pub async fn note_history(session: Shared<'_>, id: String) -> Reply<Vec<HistoryEntry>> {
    with_hearth(&session, move |h| h.note_history(&id)).await
}

/// Restore a draft's earlier version, as a new change.
#[tauri::command]
pub async fn restore_note(
    session: Shared<'_>,
    insight: Analysis<'_>,
    id: String,
    version: String,
) -> Reply<Stored<Note>> {
    let r = with_hearth(&session, move |h| h.restore_note(&id, &version)).await;
    super::insight::after_write(&session, &insight, r)
}

/// A measure's items, answer scale and bands (no vault needed).
#[tauri::command]
pub fn instrument_form(instrument: Instrument) -> InstrumentForm {
    hearth_core::instrument_form(instrument)
}

/// Record a PHQ-9 or GAD-7; returns it scored.
#[tauri::command]
pub async fn add_assessment(
    session: Shared<'_>,
    assessment: Assessment,
) -> Reply<(Stored<Assessment>, Scored)> {
    with_hearth(&session, move |h| h.add_assessment(assessment)).await
}

/// A patient's assessments, oldest first, scored with reliable change.
#[tauri::command]
pub async fn list_assessments(
    session: Shared<'_>,
    patient: String,
) -> Reply<Vec<(Stored<Assessment>, Scored)>> {
    with_hearth(&session, move |h| h.assessments(&patient)).await
}

/// Create or replace a patient's treatment plan.
#[tauri::command]
pub async fn save_plan(session: Shared<'_>, plan: TreatmentPlan) -> Reply<Stored<TreatmentPlan>> {
    with_hearth(&session, move |h| h.save_plan(plan)).await
}

/// A patient's treatment plan, if any.
#[tauri::command]
pub async fn get_plan(
    session: Shared<'_>,
    patient: String,
) -> Reply<Option<Stored<TreatmentPlan>>> {
    with_hearth(&session, move |h| h.plan(&patient)).await
}

/// The plan's change history.
#[tauri::command]
pub async fn plan_history(session: Shared<'_>, id: String) -> Reply<Vec<HistoryEntry>> {
    with_hearth(&session, move |h| h.plan_history(&id)).await
}
