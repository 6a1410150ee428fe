//! `hearth-desktop`: the Hearth desktop app, a Tauri 2 shell over [`hearth_core::Session`].
//!
//! Glue only: each command takes its arguments from the UI, calls the core on a blocking
//! thread (Argon2 and SQLite must not freeze the window) and returns the result or an
//! [`ApiError`]. Configuration comes from the environment:
//!
//! - `HEARTH_VAULT`: the vault file (default: [`hearth_core::default_vault_path`]);
//! - `HEARTH_IDLE_LOCK_SECS`: lock after this many idle seconds, `0` for never (default 15 min);
//! - `RUST_LOG`: log filter (default `info`), logs go to stderr and never contain patient data.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use hearth_api::{
    ApiError, ErrorKind, HistoryEntry, NewPatient, Patient, PatientPatch, PatientRow, VaultStatus,
};
use hearth_core::{HearthOptions, Session};
use tauri::State;

/// What every command returns to the UI.
type Reply<T> = Result<T, ApiError>;

/// The managed state: one session with one vault file.
type Shared<'a> = State<'a, Arc<Session>>;

/// Run `f` on a blocking thread and map its error for the UI.
async fn blocking<T, F>(session: &Shared<'_>, f: F) -> Reply<T>
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

#[tauri::command]
async fn vault_status(session: Shared<'_>) -> Reply<VaultStatus> {
    blocking(&session, |s| Ok(s.status())).await
}

#[tauri::command]
async fn create_vault(session: Shared<'_>, passphrase: String) -> Reply<VaultStatus> {
    tracing::info!("creating the vault");
    blocking(&session, move |s| s.create(&passphrase)).await
}

#[tauri::command]
async fn unlock(session: Shared<'_>, passphrase: String) -> Reply<VaultStatus> {
    let r = blocking(&session, move |s| s.unlock(&passphrase)).await;
    tracing::info!(ok = r.is_ok(), "unlock attempt");
    r
}

#[tauri::command]
async fn lock(session: Shared<'_>) -> Reply<VaultStatus> {
    tracing::info!("locking on request");
    blocking(&session, |s| Ok(s.lock())).await
}

#[tauri::command]
async fn list_patients(session: Shared<'_>) -> Reply<Vec<PatientRow>> {
    blocking(&session, |s| s.hearth()?.patients()).await
}

#[tauri::command]
async fn get_patient(session: Shared<'_>, id: String) -> Reply<Patient> {
    blocking(&session, move |s| s.hearth()?.patient(&id)).await
}

#[tauri::command]
async fn add_patient(session: Shared<'_>, patient: NewPatient) -> Reply<Patient> {
    blocking(&session, move |s| s.hearth()?.add_patient(patient)).await
}

#[tauri::command]
async fn edit_patient(session: Shared<'_>, id: String, patch: PatientPatch) -> Reply<Patient> {
    blocking(&session, move |s| s.hearth()?.edit_patient(&id, patch)).await
}

#[tauri::command]
async fn patient_history(session: Shared<'_>, id: String) -> Reply<Vec<HistoryEntry>> {
    blocking(&session, move |s| s.hearth()?.patient_history(&id)).await
}

/// The vault path: `HEARTH_VAULT`, else the platform default.
fn vault_path() -> Result<PathBuf, String> {
    match std::env::var_os("HEARTH_VAULT") {
        Some(p) if !p.is_empty() => Ok(PathBuf::from(p)),
        _ => hearth_core::default_vault_path().map_err(|e| e.to_string()),
    }
}

/// The options: the idle period from `HEARTH_IDLE_LOCK_SECS` when set.
fn options() -> Result<HearthOptions, String> {
    let opts = HearthOptions::default();
    let Ok(raw) = std::env::var("HEARTH_IDLE_LOCK_SECS") else {
        return Ok(opts);
    };
    let secs: u64 = raw.trim().parse().map_err(|_| {
        format!("HEARTH_IDLE_LOCK_SECS={raw:?} is not a number of seconds; use e.g. 900, or 0 for never")
    })?;
    Ok(opts.idle_lock((secs > 0).then(|| Duration::from_secs(secs))))
}

/// GTK panics without a display; say so plainly instead.
fn check_display() -> Result<(), String> {
    let has = |v: &str| std::env::var_os(v).is_some_and(|s| !s.is_empty());
    if cfg!(target_os = "linux") && !has("DISPLAY") && !has("WAYLAND_DISPLAY") {
        return Err(
            "no display (neither DISPLAY nor WAYLAND_DISPLAY is set): start Hearth \
                    from a desktop session, or use the `hearth` command-line tool"
                .into(),
        );
    }
    Ok(())
}

fn run() -> Result<(), String> {
    check_display()?;
    let path = vault_path()?;
    let opts = options()?;
    tracing::info!(vault = %path.display(), idle_lock = ?opts.idle_lock_period(), "starting");
    tauri::Builder::default()
        .manage(Arc::new(Session::new(path, opts)))
        .invoke_handler(tauri::generate_handler![
            vault_status,
            create_vault,
            unlock,
            lock,
            list_patients,
            get_patient,
            add_patient,
            edit_patient,
            patient_history,
        ])
        .run(tauri::generate_context!())
        .map_err(|e| format!("the window could not be opened: {e}"))
}

fn main() -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hearth: {e}");
            ExitCode::FAILURE
        }
    }
}
