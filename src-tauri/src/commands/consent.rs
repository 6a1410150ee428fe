//! Consent contracts (list, record from paper or from the editor, accept a consent signed on the
//! patient's device, revoke, check), emergency access and the patient's access overview.

use hearth_api::{AccessOverview, BreakGlassInfo, ConsentDraft, ConsentInfo, ConsentPreview};

use super::{with_hearth, Reply, Shared};

/// A patient's contracts, every version, oldest first.
#[tauri::command]
pub async fn consents(session: Shared<'_>, patient: String) -> Reply<Vec<ConsentInfo>> {
    with_hearth(&session, move |h| h.consents(&patient)).await
}

/// A starting point for a paper consent (FHIR R4 Consent JSON).
#[tauri::command]
pub async fn consent_template(session: Shared<'_>, patient: String) -> Reply<String> {
    with_hearth(&session, move |h| h.consent_template(&patient)).await
}

/// Record a consent signed on paper, given as FHIR R4 Consent JSON.
#[tauri::command]
pub async fn record_paper_consent(
    session: Shared<'_>,
    patient: String,
    fhir: String,
) -> Reply<ConsentInfo> {
    with_hearth(&session, move |h| h.record_paper_consent(&patient, &fhir)).await
}

/// Revoke a contract (a new, inactive version).
#[tauri::command]
pub async fn revoke_consent(
    session: Shared<'_>,
    patient: String,
    contract: String,
) -> Reply<ConsentInfo> {
    with_hearth(&session, move |h| h.revoke_consent(&patient, &contract)).await
}

/// Whether `action` on `category` records for `purpose` is permitted, and why.
#[tauri::command]
pub async fn consent_check(
    session: Shared<'_>,
    patient: String,
    action: String,
    category: String,
    purpose: String,
) -> Reply<(bool, String)> {
    with_hearth(&session, move |h| {
        h.consent_check(&patient, &action, &category, &purpose)
    })
    .await
}

/// The editor's draft as the contract the patient reads (summary) and its FHIR JSON.
#[tauri::command]
pub async fn consent_preview(
    session: Shared<'_>,
    patient: String,
    draft: ConsentDraft,
) -> Reply<ConsentPreview> {
    with_hearth(&session, move |h| h.consent_from_draft(&patient, &draft)).await
}

/// Register the public key of the patient's own device; returns its fingerprint.
#[tauri::command]
pub async fn register_patient_device(
    session: Shared<'_>,
    patient: String,
    key: String,
) -> Reply<String> {
    with_hearth(&session, move |h| h.register_patient_device(&patient, &key)).await
}

/// Accept a consent signed on the patient's registered device; `false` when already known.
#[tauri::command]
pub async fn record_signed_consent(
    session: Shared<'_>,
    patient: String,
    signed: String,
) -> Reply<(ConsentInfo, bool)> {
    with_hearth(&session, move |h| {
        h.record_signed_consent(&patient, &signed)
    })
    .await
}

/// Open a patient's chart in an emergency (reads only, time-limited, logged and shown).
#[tauri::command]
pub async fn break_glass(
    session: Shared<'_>,
    patient: String,
    reason: String,
    minutes: u32,
) -> Reply<BreakGlassInfo> {
    with_hearth(&session, move |h| h.break_glass(&patient, &reason, minutes)).await
}

/// Who can see a patient's records, emergency accesses, and who looked.
#[tauri::command]
pub async fn access_overview(session: Shared<'_>, patient: String) -> Reply<AccessOverview> {
    with_hearth(&session, move |h| h.access_overview(&patient)).await
}
