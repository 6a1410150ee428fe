//! The only module that talks to the desktop shell: one typed async function per Tauri command.
//!
//! Every call goes through `window.__TAURI_INTERNALS__.invoke`; a failure arrives as the
//! shell's [`ApiError`], and anything else (no bridge, a reply of the wrong shape) is turned
//! into an [`ApiError`] of kind [`ErrorKind::Internal`] with a message saying what happened.

use hearth_api::{
    AccessOverview, ApiError, Appointment, Assessment, Attachment, AuditReport, BreakGlassInfo,
    CheckpointInfo, ConsentDraft, ConsentInfo, ConsentPreview, ErrorKind, HistoryEntry, Instrument,
    InstrumentForm, LogStatus, NewPatient, Note, Occurrence, Patient, PatientPatch, PatientRow,
    Scored, SearchHit, Stored, TimelineEvent, TreatmentPlan, VaultStatus,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen]
extern "C" {
    /// Tauri's IPC entry point. Sync and `catch`: it throws at once when the bridge is missing
    /// (an `async` import would hang instead).
    #[wasm_bindgen(catch, js_namespace = ["window", "__TAURI_INTERNALS__"], js_name = invoke)]
    fn tauri_invoke(cmd: &str, args: JsValue) -> Result<js_sys::Promise, JsValue>;
}

/// What every call returns.
pub type Reply<T> = Result<T, ApiError>;

fn internal(message: String) -> ApiError {
    ApiError::new(ErrorKind::Internal, message)
}

/// A JS value in words, for error messages.
fn describe(v: &JsValue) -> String {
    if let Some(s) = v.as_string() {
        return s;
    }
    if let Some(e) = v.dyn_ref::<js_sys::Error>() {
        return String::from(e.message());
    }
    js_sys::JSON::stringify(v)
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_else(|| format!("{v:?}"))
}

async fn invoke<A: Serialize, T: DeserializeOwned>(cmd: &str, args: &A) -> Reply<T> {
    let args = args
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| internal(format!("could not send {cmd} to the app: {e}")))?;
    let promise = tauri_invoke(cmd, args).map_err(|e| {
        internal(format!(
            "the Hearth app's bridge is missing, so nothing can be read or saved: open Hearth \
             from the desktop app, not a browser ({})",
            describe(&e)
        ))
    })?;
    match JsFuture::from(promise).await {
        Ok(v) => serde_wasm_bindgen::from_value(v)
            .map_err(|e| internal(format!("the app's reply to {cmd} was not understood: {e}"))),
        Err(e) => Err(serde_wasm_bindgen::from_value::<ApiError>(e.clone())
            .unwrap_or_else(|_| internal(format!("{cmd} failed: {}", describe(&e))))),
    }
}

#[derive(Serialize)]
struct NoArgs {}

#[derive(Serialize)]
struct Passphrase<'a> {
    passphrase: &'a str,
}

#[derive(Serialize)]
struct Id<'a> {
    id: &'a str,
}

#[derive(Serialize)]
struct Add<'a> {
    patient: &'a NewPatient,
}

#[derive(Serialize)]
struct Edit<'a> {
    id: &'a str,
    patch: &'a PatientPatch,
}

/// Where the vault is, whether it exists and whether it is locked. Does not count as use.
pub async fn vault_status() -> Reply<VaultStatus> {
    invoke("vault_status", &NoArgs {}).await
}

/// Create the vault with this passphrase and keep it unlocked.
pub async fn create_vault(passphrase: &str) -> Reply<VaultStatus> {
    invoke("create_vault", &Passphrase { passphrase }).await
}

/// Unlock the vault.
pub async fn unlock(passphrase: &str) -> Reply<VaultStatus> {
    invoke("unlock", &Passphrase { passphrase }).await
}

/// Lock the vault now.
pub async fn lock() -> Reply<VaultStatus> {
    invoke("lock", &NoArgs {}).await
}

/// Every patient, by name.
pub async fn list_patients() -> Reply<Vec<PatientRow>> {
    invoke("list_patients", &NoArgs {}).await
}

/// One patient.
pub async fn get_patient(id: &str) -> Reply<Patient> {
    invoke("get_patient", &Id { id }).await
}

/// Add a patient.
pub async fn add_patient(patient: &NewPatient) -> Reply<Patient> {
    invoke("add_patient", &Add { patient }).await
}

/// Change a patient's fields.
pub async fn edit_patient(id: &str, patch: &PatientPatch) -> Reply<Patient> {
    invoke("edit_patient", &Edit { id, patch }).await
}

/// A patient's change history, oldest first.
pub async fn patient_history(id: &str) -> Reply<Vec<HistoryEntry>> {
    invoke("patient_history", &Id { id }).await
}

#[derive(Serialize)]
struct Version<'a> {
    id: &'a str,
    version: &'a str,
}

#[derive(Serialize)]
struct ForPatient<'a> {
    patient: &'a str,
}

/// Make a patient what it was after `version` (a history entry's hash), as a new change.
pub async fn restore_patient(id: &str, version: &str) -> Reply<Patient> {
    invoke("restore_patient", &Version { id, version }).await
}

// ---- appointments and the calendar ----

#[derive(Serialize)]
struct NewAppointment<'a> {
    appointment: &'a Appointment,
}

#[derive(Serialize)]
struct EditAppointment<'a> {
    id: &'a str,
    appointment: &'a Appointment,
}

#[derive(Serialize)]
struct Appointments<'a> {
    patient: Option<&'a str>,
}

#[derive(Serialize)]
struct Range<'a> {
    from: &'a str,
    to: &'a str,
}

/// Book an appointment (or a series).
pub async fn add_appointment(appointment: &Appointment) -> Reply<Stored<Appointment>> {
    invoke("add_appointment", &NewAppointment { appointment }).await
}

/// Change an appointment.
pub async fn edit_appointment(id: &str, appointment: &Appointment) -> Reply<Stored<Appointment>> {
    invoke("edit_appointment", &EditAppointment { id, appointment }).await
}

/// One appointment.
pub async fn get_appointment(id: &str) -> Reply<Stored<Appointment>> {
    invoke("get_appointment", &Id { id }).await
}

/// One patient's appointments, by start.
pub async fn list_appointments(patient: &str) -> Reply<Vec<Stored<Appointment>>> {
    invoke(
        "list_appointments",
        &Appointments {
            patient: Some(patient),
        },
    )
    .await
}

/// Occurrences starting in `[from, to)` (local `YYYY-MM-DDTHH:MM`), series expanded.
pub async fn calendar(from: &str, to: &str) -> Reply<Vec<Occurrence>> {
    invoke("calendar", &Range { from, to }).await
}

/// An appointment's change history, oldest first.
pub async fn appointment_history(id: &str) -> Reply<Vec<HistoryEntry>> {
    invoke("appointment_history", &Id { id }).await
}

// ---- notes ----

#[derive(Serialize)]
struct NewNote<'a> {
    note: &'a Note,
    psychotherapy: bool,
}

#[derive(Serialize)]
struct EditNote<'a> {
    id: &'a str,
    note: &'a Note,
}

#[derive(Serialize)]
struct Sign<'a> {
    id: &'a str,
    signer: &'a str,
}

#[derive(Serialize)]
struct NewAddendum<'a> {
    id: &'a str,
    text: &'a str,
    signer: &'a str,
}

/// Start a draft note; `psychotherapy` makes it a psychotherapy note.
pub async fn add_note(note: &Note, psychotherapy: bool) -> Reply<Stored<Note>> {
    invoke(
        "add_note",
        &NewNote {
            note,
            psychotherapy,
        },
    )
    .await
}

/// Change a draft note (refused for signed notes).
pub async fn edit_note(id: &str, note: &Note) -> Reply<Stored<Note>> {
    invoke("edit_note", &EditNote { id, note }).await
}

/// Sign and lock a draft.
pub async fn sign_note(id: &str, signer: &str) -> Reply<Stored<Note>> {
    invoke("sign_note", &Sign { id, signer }).await
}

/// Add a signed addendum to a signed note.
pub async fn add_addendum(id: &str, text: &str, signer: &str) -> Reply<Stored<Note>> {
    invoke("add_addendum", &NewAddendum { id, text, signer }).await
}

/// One note, and whether it is a psychotherapy note.
pub async fn get_note(id: &str) -> Reply<(Stored<Note>, bool)> {
    invoke("get_note", &Id { id }).await
}

/// A patient's session notes, or psychotherapy notes.
pub async fn list_notes(patient: &str, psychotherapy: bool) -> Reply<Vec<Stored<Note>>> {
    let cmd = if psychotherapy {
        "list_psychotherapy_notes"
    } else {
        "list_notes"
    };
    invoke(cmd, &ForPatient { patient }).await
}

/// A note's change history, oldest first.
pub async fn note_history(id: &str) -> Reply<Vec<HistoryEntry>> {
    invoke("note_history", &Id { id }).await
}

/// Restore a draft's earlier version.
pub async fn restore_note(id: &str, version: &str) -> Reply<Stored<Note>> {
    invoke("restore_note", &Version { id, version }).await
}

// ---- measures ----

#[derive(Serialize)]
struct Form {
    instrument: Instrument,
}

#[derive(Serialize)]
struct NewAssessment<'a> {
    assessment: &'a Assessment,
}

/// A measure's items, scale and bands.
pub async fn instrument_form(instrument: Instrument) -> Reply<InstrumentForm> {
    invoke("instrument_form", &Form { instrument }).await
}

/// Record an administration; returns it scored.
pub async fn add_assessment(assessment: &Assessment) -> Reply<(Stored<Assessment>, Scored)> {
    invoke("add_assessment", &NewAssessment { assessment }).await
}

/// A patient's administrations, oldest first, scored.
pub async fn list_assessments(patient: &str) -> Reply<Vec<(Stored<Assessment>, Scored)>> {
    invoke("list_assessments", &ForPatient { patient }).await
}

// ---- treatment plan ----

#[derive(Serialize)]
struct Plan<'a> {
    plan: &'a TreatmentPlan,
}

/// Create or replace the patient's treatment plan.
pub async fn save_plan(plan: &TreatmentPlan) -> Reply<Stored<TreatmentPlan>> {
    invoke("save_plan", &Plan { plan }).await
}

/// The patient's treatment plan, if any.
pub async fn get_plan(patient: &str) -> Reply<Option<Stored<TreatmentPlan>>> {
    invoke("get_plan", &ForPatient { patient }).await
}

/// The plan's change history, oldest first.
pub async fn plan_history(id: &str) -> Reply<Vec<HistoryEntry>> {
    invoke("plan_history", &Id { id }).await
}

// ---- attachments and search ----

#[derive(Serialize)]
struct Attach<'a> {
    patient: &'a str,
    path: &'a str,
    description: &'a str,
}

#[derive(Serialize)]
struct Export<'a> {
    id: &'a str,
    path: &'a str,
}

#[derive(Serialize)]
struct Query<'a> {
    query: &'a str,
    limit: usize,
}

/// Attach the file at `path` (on this computer) to the patient's chart.
pub async fn attach_file(
    patient: &str,
    path: &str,
    description: &str,
) -> Reply<Stored<Attachment>> {
    invoke(
        "attach_file",
        &Attach {
            patient,
            path,
            description,
        },
    )
    .await
}

/// The patient's attachments.
pub async fn list_attachments(patient: &str) -> Reply<Vec<Stored<Attachment>>> {
    invoke("list_attachments", &ForPatient { patient }).await
}

/// Save an attachment to `path`; returns the bytes written.
pub async fn export_attachment(id: &str, path: &str) -> Reply<u64> {
    invoke("export_attachment", &Export { id, path }).await
}

/// Full-text search across the vault.
pub async fn search(query: &str, limit: usize) -> Reply<Vec<SearchHit>> {
    invoke("search", &Query { query, limit }).await
}

// ---- audit log ----

/// Who changed and who looked at a patient's records, oldest first.
pub async fn patient_timeline(patient: &str) -> Reply<Vec<TimelineEvent>> {
    invoke("patient_timeline", &ForPatient { patient }).await
}

/// The audit log's size, newest checkpoint and verifier key.
pub async fn log_status() -> Reply<LogStatus> {
    invoke("log_status", &NoArgs {}).await
}

/// Sign a checkpoint over the whole audit log.
pub async fn checkpoint() -> Reply<CheckpointInfo> {
    invoke("checkpoint", &NoArgs {}).await
}

/// Check the audit log against the vault and its checkpoints.
pub async fn verify_log() -> Reply<AuditReport> {
    invoke("verify_log", &NoArgs {}).await
}

// ---- consent and export ----

#[derive(Serialize)]
struct PaperConsent<'a> {
    patient: &'a str,
    fhir: &'a str,
}

#[derive(Serialize)]
struct Revoke<'a> {
    patient: &'a str,
    contract: &'a str,
}

#[derive(Serialize)]
struct Check<'a> {
    patient: &'a str,
    action: &'a str,
    category: &'a str,
    purpose: &'a str,
}

/// A patient's consent contracts, every version, oldest first.
pub async fn consents(patient: &str) -> Reply<Vec<ConsentInfo>> {
    invoke("consents", &ForPatient { patient }).await
}

/// A starting point for a paper consent, as FHIR R4 Consent JSON.
pub async fn consent_template(patient: &str) -> Reply<String> {
    invoke("consent_template", &ForPatient { patient }).await
}

/// Record a consent signed on paper (FHIR R4 Consent JSON).
pub async fn record_paper_consent(patient: &str, fhir: &str) -> Reply<ConsentInfo> {
    invoke("record_paper_consent", &PaperConsent { patient, fhir }).await
}

/// Revoke a contract.
pub async fn revoke_consent(patient: &str, contract: &str) -> Reply<ConsentInfo> {
    invoke("revoke_consent", &Revoke { patient, contract }).await
}

/// Whether `action` on `category` records for `purpose` is permitted, and why.
pub async fn consent_check(
    patient: &str,
    action: &str,
    category: &str,
    purpose: &str,
) -> Reply<(bool, String)> {
    let args = Check {
        patient,
        action,
        category,
        purpose,
    };
    invoke("consent_check", &args).await
}

#[derive(Serialize)]
struct Preview<'a> {
    patient: &'a str,
    draft: &'a ConsentDraft,
}

#[derive(Serialize)]
struct DeviceKey<'a> {
    patient: &'a str,
    key: &'a str,
}

#[derive(Serialize)]
struct Signed<'a> {
    patient: &'a str,
    signed: &'a str,
}

#[derive(Serialize)]
struct BreakGlass<'a> {
    patient: &'a str,
    reason: &'a str,
    minutes: u32,
}

/// The editor's draft as the summary the patient reads and its FHIR JSON.
pub async fn consent_preview(patient: &str, draft: &ConsentDraft) -> Reply<ConsentPreview> {
    invoke("consent_preview", &Preview { patient, draft }).await
}

/// Register the patient's device key; returns its fingerprint.
pub async fn register_patient_device(patient: &str, key: &str) -> Reply<String> {
    invoke("register_patient_device", &DeviceKey { patient, key }).await
}

/// Accept a consent signed on the patient's device; `false` when already known.
pub async fn record_signed_consent(patient: &str, signed: &str) -> Reply<(ConsentInfo, bool)> {
    invoke("record_signed_consent", &Signed { patient, signed }).await
}

/// Emergency access to a patient's chart.
pub async fn break_glass(patient: &str, reason: &str, minutes: u32) -> Reply<BreakGlassInfo> {
    let args = BreakGlass {
        patient,
        reason,
        minutes,
    };
    invoke("break_glass", &args).await
}

/// Who can see a patient's records, emergency accesses, and who looked.
pub async fn access_overview(patient: &str) -> Reply<AccessOverview> {
    invoke("access_overview", &ForPatient { patient }).await
}

#[derive(Serialize)]
struct ExportTo<'a> {
    request: &'a hearth_api::ExportRequest,
}

/// Where the running export is.
pub async fn export_progress() -> Reply<Option<hearth_api::ExportProgressView>> {
    invoke("export_progress", &NoArgs {}).await
}

/// Export a patient as the wizard asked: the archive (sealed to the recipients when any), and
/// the FHIR JSON when a path is given.
pub async fn export_patient_to(
    request: &hearth_api::ExportRequest,
) -> Reply<hearth_api::ArchiveWritten> {
    invoke("export_patient_to", &ExportTo { request }).await
}

#[derive(Serialize)]
struct Research<'a> {
    out: &'a str,
    patients: Option<&'a [String]>,
}

/// The de-identified research export into the folder `out`, of `patients` or everyone.
pub async fn research_export(
    out: &str,
    patients: Option<&[String]>,
) -> Reply<hearth_api::ResearchWritten> {
    invoke("research_export", &Research { out, patients }).await
}

// ---- on-device analysis (semantic search) ----

/// The embedding model and the background indexing, for the progress indicator.
pub async fn semantic_status() -> Reply<hearth_api::IndexStatus> {
    invoke("semantic_status", &NoArgs {}).await
}

/// Start indexing notes in the background (the model loads first if needed).
pub async fn start_indexing() -> Reply<hearth_api::IndexStatus> {
    invoke("start_indexing", &NoArgs {}).await
}

/// Session notes by meaning, fused with full-text matches (full text only without the model).
pub async fn semantic_search(query: &str, limit: usize) -> Reply<hearth_api::SemanticReply> {
    invoke("semantic_search", &Query { query, limit }).await
}

/// Risk flags for one session note (a decision aid), or why analysis is off.
pub async fn note_risk(patient: &str, id: &str) -> Reply<hearth_api::NoteRiskView> {
    #[derive(Serialize)]
    struct Args<'a> {
        patient: &'a str,
        id: &'a str,
    }
    invoke("note_risk", &Args { patient, id }).await
}

#[derive(Serialize)]
struct ClinicCreate<'a> {
    name: &'a str,
    device: &'a str,
    role: &'a str,
}

#[derive(Serialize)]
struct ClinicInvite<'a> {
    role: &'a str,
    stake: u64,
    patient: Option<&'a str>,
}

#[derive(Serialize)]
struct ClinicJoin<'a> {
    ticket: &'a str,
    device: &'a str,
}

#[derive(Serialize)]
struct Endpoint<'a> {
    endpoint: &'a str,
}

#[derive(Serialize)]
struct Peer<'a> {
    peer: Option<&'a str>,
}

/// The clinic this device is in (if any), its members and the sync node.
pub async fn clinic_status() -> Reply<hearth_api::ClinicStatus> {
    invoke("clinic_status", &NoArgs {}).await
}

/// Create a clinic with this device as registrar.
pub async fn clinic_create(
    name: &str,
    device: &str,
    role: &str,
) -> Reply<hearth_api::ClinicStatus> {
    invoke("clinic_create", &ClinicCreate { name, device, role }).await
}

/// Registrar: an invite ticket and its QR code.
pub async fn clinic_invite(
    role: &str,
    stake: u64,
    patient: Option<&str>,
) -> Reply<hearth_api::InviteView> {
    invoke(
        "clinic_invite",
        &ClinicInvite {
            role,
            stake,
            patient,
        },
    )
    .await
}

/// The clinic sync running now, if any.
pub async fn sync_progress() -> Reply<Option<hearth_api::SyncProgressView>> {
    invoke("sync_progress", &NoArgs {}).await
}

/// Join a clinic with a ticket.
pub async fn clinic_join(ticket: &str, device: &str) -> Reply<hearth_api::ClinicStatus> {
    invoke("clinic_join", &ClinicJoin { ticket, device }).await
}

/// This device's network settings (LAN discovery, the clinic's relay).
pub async fn clinic_network(mdns: bool, relay: Option<&str>) -> Reply<hearth_api::ClinicStatus> {
    invoke("clinic_network", &ClinicNetwork { mdns, relay }).await
}

#[derive(Serialize)]
struct ClinicNetwork<'a> {
    mdns: bool,
    relay: Option<&'a str>,
}

/// Registrar: remove a member.
pub async fn clinic_remove(endpoint: &str) -> Reply<hearth_api::ClinicStatus> {
    invoke("clinic_remove", &Endpoint { endpoint }).await
}

/// Sync once with the members (and `peer`, ENDPOINT_ID@IP:PORT, when given).
pub async fn sync_now(peer: Option<&str>) -> Reply<Vec<hearth_api::PeerSync>> {
    invoke("sync_now", &Peer { peer }).await
}
