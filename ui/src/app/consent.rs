//! The Consent tab (the consent editor with its plain-language preview, the patient's
//! contracts, revoking, the raw FHIR editor as an advanced option, "who can see these records,
//! and who looked", the patient's own device, emergency access and a "Can this be done?"
//! checker). The Export tab is the wizard in `super::export`.

mod device;
mod editor;
mod overview;

use hearth_api::{ConsentInfo, CONSENT_ACTIONS, CONSENT_CATEGORIES, CONSENT_PURPOSES};
use yew::prelude::*;

use self::device::PatientDevice;
use self::editor::ConsentEditor;
use self::overview::AccessOverviewPanel;
use super::ctx::{on_value, use_ctx};
use super::emergency::{use_chart_access, EmergencyAccess};
use crate::api;

/// A `<select>` over `(code, label)` options with `current` chosen.
fn select(
    id: &'static str,
    label: &'static str,
    options: &[(&str, &str)],
    current: &str,
    on: Callback<String>,
) -> Html {
    html! {
        <label class="check-field">
            <span class="small muted">{ label }</span>
            <select id={id} aria-label={label} onchange={on_value(on)}>
                { for options.iter().map(|(code, text)| html! {
                    <option value={code.to_string()} selected={*code == current}>{ *text }</option>
                }) }
            </select>
        </label>
    }
}

/// Inputs of [`ConsentTab`].
#[derive(Properties, PartialEq)]
pub struct Props {
    /// The patient's record id.
    pub patient: String,
}

/// The newest version of each contract, in the order the contracts first appear.
fn heads(all: &[ConsentInfo]) -> Vec<(ConsentInfo, usize)> {
    let mut out: Vec<(ConsentInfo, usize)> = Vec::new();
    for c in all {
        match out.iter_mut().find(|(h, _)| h.contract_id == c.contract_id) {
            Some((h, n)) => {
                if c.version >= h.version {
                    *h = c.clone();
                }
                *n += 1;
            }
            None => out.push((c.clone(), 1)),
        }
    }
    out
}

/// The patient's contracts: the editor, recording and revoking them, who can see the records,
/// the patient's device, emergency access, and the checker.
#[component]
pub fn ConsentTab(props: &Props) -> Html {
    let ctx = use_ctx();
    let access = use_chart_access();
    let list = use_state(|| None::<Vec<ConsentInfo>>);
    let version = use_state(|| 0u32);
    let editing = use_state(|| false);
    let draft = use_state(|| None::<String>);
    let error = use_state(|| None::<String>);
    let notice = use_state(|| None::<String>);
    let busy = use_state(|| false);
    let action = use_state(|| "read".to_string());
    let category = use_state(|| "progress-notes".to_string());
    let purpose = use_state(|| "treatment".to_string());
    let verdict = use_state(|| None::<(bool, String)>);
    let check_error = use_state(|| None::<String>);

    {
        let (ctx, list, error) = (ctx.clone(), list.clone(), error.clone());
        use_effect_with((props.patient.clone(), *version), move |(patient, _)| {
            let patient = patient.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let r = api::consents(&patient).await;
                if let Some(v) = ctx.take(r, &error) {
                    list.set(Some(v));
                }
            });
        });
    }
    {
        let (ctx, verdict, check_error) = (ctx.clone(), verdict.clone(), check_error.clone());
        let deps = (
            props.patient.clone(),
            (*action).clone(),
            (*category).clone(),
            (*purpose).clone(),
            *version,
        );
        use_effect_with(deps, move |(patient, action, category, purpose, _)| {
            let (patient, action, category, purpose) = (
                patient.clone(),
                action.clone(),
                category.clone(),
                purpose.clone(),
            );
            wasm_bindgen_futures::spawn_local(async move {
                let r = api::consent_check(&patient, &action, &category, &purpose).await;
                if let Some(v) = ctx.take(r, &check_error) {
                    check_error.set(None);
                    verdict.set(Some(v));
                }
            });
        });
    }

    let on_new = {
        let (ctx, error, draft, notice, editing) = (
            ctx.clone(),
            error.clone(),
            draft.clone(),
            notice.clone(),
            editing.clone(),
        );
        let patient = props.patient.clone();
        Callback::from(move |_: MouseEvent| {
            let (ctx, error, draft, notice, editing, patient) = (
                ctx.clone(),
                error.clone(),
                draft.clone(),
                notice.clone(),
                editing.clone(),
                patient.clone(),
            );
            wasm_bindgen_futures::spawn_local(async move {
                let r = api::consent_template(&patient).await;
                if let Some(t) = ctx.take(r, &error) {
                    error.set(None);
                    notice.set(None);
                    editing.set(false);
                    draft.set(Some(t));
                }
            });
        })
    };
    let on_editor = {
        let (editing, draft, notice, error) = (
            editing.clone(),
            draft.clone(),
            notice.clone(),
            error.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            draft.set(None);
            notice.set(None);
            error.set(None);
            editing.set(true);
        })
    };
    let on_editor_cancel = {
        let editing = editing.clone();
        Callback::from(move |()| editing.set(false))
    };
    let on_recorded = {
        let (editing, notice, version, changed) = (
            editing.clone(),
            notice.clone(),
            version.clone(),
            access.changed.clone(),
        );
        Callback::from(move |c: ConsentInfo| {
            editing.set(false);
            notice.set(Some(format!(
                "Recorded consent {} (version {}) as signed on paper.",
                c.contract_id, c.version
            )));
            version.set(*version + 1);
            changed.emit(());
        })
    };
    let on_device_changed = {
        let version = version.clone();
        Callback::from(move |()| version.set(*version + 1))
    };
    let on_draft = {
        let draft = draft.clone();
        super::ctx::on_input(Callback::from(move |v: String| draft.set(Some(v))))
    };
    let on_cancel = {
        let draft = draft.clone();
        Callback::from(move |_: MouseEvent| draft.set(None))
    };
    let on_record = {
        let (ctx, error, draft, notice, busy, version) = (
            ctx.clone(),
            error.clone(),
            draft.clone(),
            notice.clone(),
            busy.clone(),
            version.clone(),
        );
        let patient = props.patient.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Some(fhir) = (*draft).clone() else {
                return;
            };
            let (ctx, error, draft, notice, busy, version, patient) = (
                ctx.clone(),
                error.clone(),
                draft.clone(),
                notice.clone(),
                busy.clone(),
                version.clone(),
                patient.clone(),
            );
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                let r = api::record_paper_consent(&patient, &fhir).await;
                busy.set(false);
                if let Some(c) = ctx.take(r, &error) {
                    error.set(None);
                    draft.set(None);
                    notice.set(Some(format!(
                        "Recorded consent {} (version {}).",
                        c.contract_id, c.version
                    )));
                    version.set(*version + 1);
                }
            });
        })
    };

    let rows = match &*list {
        None => html! { <p class="muted">{ "Loading consents…" }</p> },
        Some(v) if v.is_empty() => html! {
            <p class="muted" id="no-consents">{ "No consent recorded. Without one, only the treating clinician's own treatment access is allowed: nothing can be exported or shared." }</p>
        },
        Some(v) => html! {
            <ul class="consents" id="consents">
                { for heads(v).into_iter().map(|(c, versions)| {
                    let on_revoke = {
                        let (ctx, error, notice, version) = (ctx.clone(), error.clone(), notice.clone(), version.clone());
                        let (patient, contract) = (props.patient.clone(), c.contract_id.clone());
                        Callback::from(move |_: MouseEvent| {
                            let (ctx, error, notice, version, patient, contract) = (ctx.clone(), error.clone(),
                                notice.clone(), version.clone(), patient.clone(), contract.clone());
                            wasm_bindgen_futures::spawn_local(async move {
                                let r = api::revoke_consent(&patient, &contract).await;
                                if let Some(c) = ctx.take(r, &error) {
                                    error.set(None);
                                    notice.set(Some(format!("Revoked consent {} (now version {}).", c.contract_id, c.version)));
                                    version.set(*version + 1);
                                }
                            });
                        })
                    };
                    let label = match c.status.as_str() {
                        "active" => "Active",
                        "inactive" => "Revoked",
                        "draft" => "Draft",
                        other => other,
                    }.to_string();
                    html! {
                        <li class="consent-row panel" key={c.contract_id.clone()} data-id={c.contract_id.clone()}
                            data-status={c.status.clone()}>
                            <div class="panel-head">
                                <div>
                                    <h4 class="panel-title">{ &c.contract_id }
                                        <span class={classes!("status-badge", "consent-status", c.status.clone())}>{ label }</span>
                                    </h4>
                                    <p class="muted small">
                                        { format!("Version {} · {}{}", c.version, c.date,
                                            if c.attested { " · recorded from paper" } else { "" }) }
                                        if versions > 1 { { format!(" · {versions} versions") } }
                                    </p>
                                </div>
                                if c.status == "active" {
                                    <button type="button" class="secondary small revoke-consent" onclick={on_revoke}>{ "Revoke" }</button>
                                }
                            </div>
                            <p class="consent-summary">{ &c.summary }</p>
                            <details class="small">
                                <summary>{ "FHIR Consent" }</summary>
                                <pre class="fhir">{ &c.fhir }</pre>
                            </details>
                        </li>
                    }
                }) }
            </ul>
        },
    };

    let set = |s: &UseStateHandle<String>| {
        let s = s.clone();
        Callback::from(move |v: String| s.set(v))
    };
    let verdict_view = match (&*verdict, &*check_error) {
        (_, Some(e)) => html! { <p class="error" role="alert">{ e }</p> },
        (Some((true, why)), None) => html! {
            <p id="check-result" class="check-result permitted" data-permit="true">
                <strong>{ "Permitted" }</strong>{ " — " }{ why }
            </p>
        },
        (Some((false, why)), None) => html! {
            <p id="check-result" class="check-result denied" data-permit="false">
                <strong>{ "Denied" }</strong>{ " — " }{ why }
            </p>
        },
        (None, None) => html! {},
    };

    html! {
        <div class="consent" id="consent-tab">
            <div class="panel-head">
                <div>
                    <h3 class="panel-title">{ "Consent" }</h3>
                    <p class="muted small">{ "What the patient allows, in plain words. Every read and export asks these contracts first." }</p>
                </div>
                if !*editing && draft.is_none() {
                    <div class="panel-actions">
                        <button id="new-consent" type="button" class="primary" onclick={on_editor}>{ "New consent" }</button>
                        <button id="record-consent" type="button" class="secondary" onclick={on_new}>{ "Advanced: FHIR JSON" }</button>
                    </div>
                }
            </div>
            if *editing {
                <ConsentEditor patient={props.patient.clone()} {on_recorded} on_cancel={on_editor_cancel} />
            }
            if let Some(d) = &*draft {
                <form class="panel" id="consent-form" onsubmit={on_record} novalidate=true>
                    <h4>{ "Advanced: record a FHIR R4 Consent signed on paper" }</h4>
                    <p class="muted small">{ "This starting point lets clinicians read, write and export the chart (not psychotherapy notes) for treatment. Edit it to match the signed form, then record it; this device attests it." }</p>
                    <textarea id="consent-fhir" class="code-area" rows="16" aria-label="FHIR Consent JSON"
                        value={d.clone()} oninput={on_draft} disabled={*busy} />
                    <div class="panel-actions">
                        <button id="save-consent" type="submit" class="primary" disabled={*busy}>
                            { if *busy { "Recording…" } else { "Record consent" } }
                        </button>
                        <button type="button" class="secondary" onclick={on_cancel}>{ "Cancel" }</button>
                    </div>
                </form>
            }
            if let Some(e) = &*error { <p class="error" role="alert" id="consent-error">{ e }</p> }
            if let Some(n) = &*notice { <p class="saved-note small" id="consent-notice" role="status">{ n }</p> }
            { rows }
            <AccessOverviewPanel patient={props.patient.clone()} version={*version} />
            <section class="panel emergency-section" id="emergency-section">
                <h4>{ "Emergency access" }</h4>
                <p class="muted small">{ "When the patient's safety needs records their consent does not open to you: reads only, for a limited time, logged with your reason and shown to the patient." }</p>
                <EmergencyAccess />
            </section>
            <PatientDevice patient={props.patient.clone()} on_changed={on_device_changed} />
            <section class="panel" id="consent-checker">
                <h4>{ "Can this be done?" }</h4>
                <div class="inline-form check-form">
                    { select("check-action", "Action", &CONSENT_ACTIONS, &action, set(&action)) }
                    { select("check-category", "Records", &CONSENT_CATEGORIES, &category, set(&category)) }
                    { select("check-purpose", "Purpose", &CONSENT_PURPOSES, &purpose, set(&purpose)) }
                </div>
                { verdict_view }
            </section>
        </div>
    }
}
