//! The Tauri commands, one module per area. Each is a few lines: arguments in, one call on
//! [`Hearth`] (obtained from the session, so a locked vault answers "locked") on a blocking
//! thread, the result or an [`ApiError`] out. Arguments are single words, so their names are
//! the same on both sides of the bridge.

mod audit;
mod clinical;
mod consent;
mod export;
mod files;
mod insight;
mod patients;
mod sync;
mod vault;

use std::sync::Arc;

use hearth_api::{ApiError, ErrorKind};
use hearth_core::{Hearth, Insight, Session};
use tauri::State;

/// What every command returns to the UI.
pub(crate) type Reply<T> = Result<T, ApiError>;

/// The managed state: one session with one vault file.
pub(crate) type Shared<'a> = State<'a, Arc<Session>>;

/// The managed on-device analysis service (models, background indexing), one per process.
pub(crate) type Analysis<'a> = State<'a, Insight>;

/// Every command, for [`tauri::Builder::invoke_handler`].
pub fn handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        vault::vault_status,
        vault::create_vault,
        vault::unlock,
        vault::lock,
        patients::list_patients,
        patients::get_patient,
        patients::add_patient,
        patients::edit_patient,
        patients::patient_history,
        patients::restore_patient,
        clinical::add_appointment,
        clinical::edit_appointment,
        clinical::get_appointment,
        clinical::list_appointments,
        clinical::calendar,
        clinical::appointment_history,
        clinical::add_note,
        clinical::edit_note,
        clinical::sign_note,
        clinical::add_addendum,
        clinical::get_note,
        clinical::list_notes,
        clinical::list_psychotherapy_notes,
        clinical::note_history,
        clinical::restore_note,
        clinical::instrument_form,
        clinical::add_assessment,
        clinical::list_assessments,
        clinical::save_plan,
        clinical::get_plan,
        clinical::plan_history,
        files::attach_file,
        files::list_attachments,
        files::export_attachment,
        files::search,
        audit::patient_timeline,
        audit::log_status,
        audit::checkpoint,
        audit::verify_log,
        consent::consents,
        consent::consent_template,
        consent::record_paper_consent,
        consent::revoke_consent,
        consent::consent_check,
        consent::consent_preview,
        consent::register_patient_device,
        consent::record_signed_consent,
        consent::break_glass,
        consent::access_overview,
        export::export_patient_to,
        export::export_progress,
        export::research_export,
        insight::semantic_status,
        insight::start_indexing,
        insight::semantic_search,
        insight::note_risk,
        sync::clinic_status,
        sync::clinic_create,
        sync::clinic_invite,
        sync::sync_progress,
        sync::clinic_join,
        sync::clinic_remove,
        sync::clinic_network,
        sync::sync_now,
    ]
}

/// Run `f` on a blocking thread and map its error for the UI.
pub(crate) async fn blocking<T, F>(session: &Shared<'_>, f: F) -> Reply<T>
where
    T: Send + 'static,
    F: FnOnce(&Session) -> hearth_core::Result<T> + Send + 'static,
{
    let session = Arc::clone(session);
    tauri::async_runtime::spawn_blocking(move || f(&session))
        .await
        .map_err(|e| {
            tracing::error!("a command's worker thread failed: {e}");
            ApiError::new(
                ErrorKind::Internal,
                format!("the operation stopped unexpectedly ({e}); try again"),
            )
        })?
        .map_err(ApiError::from)
}

/// Run `f` over the open vault on a blocking thread ("locked" when it is not open).
pub(crate) async fn with_hearth<T, F>(session: &Shared<'_>, f: F) -> Reply<T>
where
    T: Send + 'static,
    F: FnOnce(&Hearth) -> hearth_core::Result<T> + Send + 'static,
{
    blocking(session, move |s| f(&s.hearth()?)).await
}
