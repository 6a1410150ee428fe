//! The patient's own device: registering its public key (the fingerprint is shown to compare
//! with the device), and accepting a consent the patient signed on it.
//!
//! Stable hooks: `#device-key`, `#register-device`, `#device-fingerprint`, `#device-error`,
//! `#signed-consent`, `#record-signed`, `#signed-notice`, `#signed-error`.

use yew::prelude::*;

use super::super::ctx::{setter, use_ctx};
use crate::api;

/// Inputs of [`PatientDevice`].
#[derive(Properties, PartialEq)]
pub struct Props {
    /// The patient's record id.
    pub patient: String,
    /// Called after a device was registered or a signed consent accepted.
    pub on_changed: Callback<()>,
}

/// Register the patient's device key; paste a consent signed on it.
#[component]
pub fn PatientDevice(props: &Props) -> Html {
    let ctx = use_ctx();
    let key = use_state(String::new);
    let fingerprint = use_state(|| None::<String>);
    let key_error = use_state(|| None::<String>);
    let signed = use_state(String::new);
    let notice = use_state(|| None::<String>);
    let signed_error = use_state(|| None::<String>);
    let busy = use_state(|| false);

    let on_register = {
        let (ctx, key, fingerprint, key_error, busy) = (
            ctx.clone(),
            key.clone(),
            fingerprint.clone(),
            key_error.clone(),
            busy.clone(),
        );
        let (patient, on_changed) = (props.patient.clone(), props.on_changed.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let typed = key.trim().to_string();
            if typed.is_empty() {
                key_error.set(Some(
                    "Paste the public key the patient's device shows (64 letters and digits)."
                        .into(),
                ));
                return;
            }
            let (ctx, fingerprint, key_error, busy, patient, on_changed) = (
                ctx.clone(),
                fingerprint.clone(),
                key_error.clone(),
                busy.clone(),
                patient.clone(),
                on_changed.clone(),
            );
            busy.set(true);
            fingerprint.set(None);
            wasm_bindgen_futures::spawn_local(async move {
                let r = api::register_patient_device(&patient, &typed).await;
                busy.set(false);
                if let Some(f) = ctx.take(r, &key_error) {
                    key_error.set(None);
                    fingerprint.set(Some(f));
                    on_changed.emit(());
                }
            });
        })
    };
    let on_signed = {
        let (ctx, signed, notice, signed_error, busy) = (
            ctx.clone(),
            signed.clone(),
            notice.clone(),
            signed_error.clone(),
            busy.clone(),
        );
        let (patient, on_changed) = (props.patient.clone(), props.on_changed.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let text = signed.trim().to_string();
            if text.is_empty() {
                signed_error.set(Some(
                    "Paste the signed consent the patient's device produced.".into(),
                ));
                return;
            }
            let (ctx, signed, notice, signed_error, busy, patient, on_changed) = (
                ctx.clone(),
                signed.clone(),
                notice.clone(),
                signed_error.clone(),
                busy.clone(),
                patient.clone(),
                on_changed.clone(),
            );
            busy.set(true);
            notice.set(None);
            wasm_bindgen_futures::spawn_local(async move {
                let r = api::record_signed_consent(&patient, &text).await;
                busy.set(false);
                if let Some((c, new)) = ctx.take(r, &signed_error) {
                    signed_error.set(None);
                    notice.set(Some(if new {
                        format!(
                            "Accepted: consent {} version {}, signed on the patient's device.",
                            c.contract_id, c.version
                        )
                    } else {
                        format!(
                            "Already known, nothing changed: consent {} has this version or a newer one.",
                            c.contract_id
                        )
                    }));
                    signed.set(String::new());
                    if new {
                        on_changed.emit(());
                    }
                }
            });
        })
    };

    html! {
        <section class="panel" id="patient-device">
            <h4>{ "The patient's own device" }</h4>
            <p class="muted small">{ "A patient can sign consents on their own phone or computer. Register its key once, together with the patient, and check that both screens show the same fingerprint." }</p>
            <form class="inline-form" id="device-form" onsubmit={on_register} novalidate=true>
                <input id="device-key" type="text" class="code-input-wide" placeholder="Public key shown on the patient's device (64 hex digits)"
                    aria-label="The patient's device public key" value={(*key).clone()} oninput={setter(&key)} disabled={*busy} />
                <button id="register-device" type="submit" class="secondary" disabled={*busy}>{ "Register device" }</button>
            </form>
            if let Some(f) = &*fingerprint {
                <p class="saved-note small" id="device-fingerprint" role="status">
                    { "Registered. The patient's device must show this fingerprint: " }<code>{ f }</code>
                </p>
            }
            if let Some(e) = &*key_error { <p class="error" role="alert" id="device-error">{ e }</p> }
            <form id="signed-form" onsubmit={on_signed} novalidate=true>
                <label for="signed-consent">{ "A consent signed on the patient's device" }</label>
                <textarea id="signed-consent" class="code-area" rows="4" placeholder="Paste what the patient's device signed"
                    value={(*signed).clone()} oninput={setter(&signed)} disabled={*busy} />
                <button id="record-signed" type="submit" class="secondary" disabled={*busy}>{ "Accept signed consent" }</button>
            </form>
            if let Some(n) = &*notice { <p class="saved-note small" id="signed-notice" role="status">{ n }</p> }
            if let Some(e) = &*signed_error { <p class="error" role="alert" id="signed-error">{ e }</p> }
        </section>
    }
}
