//! The only module that talks to the desktop shell: one typed async function per Tauri command.
//!
//! Every call goes through `window.__TAURI_INTERNALS__.invoke`; a failure arrives as the
//! shell's [`ApiError`], and anything else (no bridge, a reply of the wrong shape) is turned
//! into an [`ApiError`] of kind [`ErrorKind::Internal`] with a message saying what happened.

use hearth_api::{
    ApiError, ErrorKind, HistoryEntry, NewPatient, Patient, PatientPatch, PatientRow, VaultStatus,
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
