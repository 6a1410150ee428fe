//! One patient's record: the header, the tabs, and the Overview and History tabs (the other
//! tabs have their own modules).

use gloo_timers::callback::Timeout;
use hearth_api::{BreakGlassInfo, Diagnosis, HistoryEntry, Patient, PatientPatch, PatientStatus};
use yew::prelude::*;

use super::appointments::AppointmentsTab;
use super::audit::AccessLogTab;
use super::consent::ConsentTab;
use super::ctx::{setter, use_ctx, Focus, Tab};
use super::dates::{local_time, millis_until};
use super::emergency::{banner, ChartAccess};
use super::export::ExportWizard;
use super::files::FilesTab;
use super::measures::MeasuresTab;
use super::notes::NotesTab;
use super::plan::PlanTab;
use crate::api;

/// Inputs of [`PatientDetail`].
#[derive(Properties, PartialEq)]
pub struct Props {
    /// The patient.
    pub patient: Patient,
    /// Its history, oldest first, or `None` while loading.
    pub history: Option<Vec<HistoryEntry>>,
    /// The open tab.
    pub tab: Tab,
    /// What to open in it.
    pub focus: Focus,
    /// Changes with every navigation.
    pub focus_nonce: u32,
    /// Called when Edit is pressed.
    pub on_edit: Callback<()>,
    /// Called with the tab clicked.
    pub on_tab: Callback<Tab>,
    /// Called with the patient after a change made here (diagnoses, restore).
    pub on_changed: Callback<Patient>,
}

/// Age in whole years today for a `YYYY-MM-DD` date of birth.
fn age(dob: &str) -> Option<u32> {
    let mut parts = dob.splitn(3, '-').map(str::parse::<u32>);
    let (y, m, d) = (
        parts.next()?.ok()?,
        parts.next()?.ok()?,
        parts.next()?.ok()?,
    );
    let now = js_sys::Date::new_0();
    let (ny, nm, nd) = (now.get_full_year(), now.get_month() + 1, now.get_date());
    let had_birthday = (nm, nd) >= (m, d);
    ny.checked_sub(y)?.checked_sub(u32::from(!had_birthday))
}

fn field(id: &'static str, label: &'static str, value: &str, wide: bool) -> Html {
    let empty = value.trim().is_empty();
    html! {
        <div class={classes!("field-view", wide.then_some("wide"))}>
            <dt>{ label }</dt>
            <dd id={id} class={classes!(empty.then_some("empty"))}>
                { if empty { "—".to_string() } else { value.to_string() } }
            </dd>
        </div>
    }
}

/// Short form of a device id for people.
fn short_device(device: &str) -> String {
    device.chars().take(8).collect()
}

/// The chart's emergency state: the grant in force (read from the access overview), read again
/// whenever `changed` is called and when the grant ends.
#[hook]
fn use_chart_access_state(patient: &str) -> ChartAccess {
    let ctx = use_ctx();
    let version = use_state(|| 0u32);
    let grant = use_state(|| None::<BreakGlassInfo>);
    // The banner is secondary: a failure other than "locked" leaves it as it was.
    let ignored = use_state(|| None::<String>);
    {
        let (ctx, grant, ignored) = (ctx.clone(), grant.clone(), ignored.clone());
        use_effect_with((patient.to_string(), *version), move |(patient, _)| {
            let patient = patient.clone();
            wasm_bindgen_futures::spawn_local(async move {
                if let Some(o) = ctx.take(api::access_overview(&patient).await, &ignored) {
                    grant.set(o.break_glass.into_iter().find(|g| g.active));
                }
            });
        });
    }
    // Read again when the grant ends, so the banner goes and refused tabs are refused again.
    {
        let version = version.clone();
        use_effect_with((*grant).clone(), move |g| {
            let timer = g.as_ref().and_then(|g| millis_until(&g.ends)).map(|ms| {
                // Clamped to what a timer takes; a grant lasts at most 4 hours.
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let ms = (ms.max(0.0) + 1_000.0).min(f64::from(u32::MAX)) as u32;
                Timeout::new(ms, move || version.set(*version + 1))
            });
            move || drop(timer)
        });
    }
    let changed = {
        let version = version.clone();
        Callback::from(move |()| version.set(*version + 1))
    };
    ChartAccess {
        patient: patient.to_string(),
        grant: (*grant).clone(),
        version: *version,
        changed,
    }
}

/// The record's header and tabs, and the open tab.
#[component]
pub fn PatientDetail(props: &Props) -> Html {
    let access = use_chart_access_state(&props.patient.id);
    let p = &props.patient;
    let f = &p.fields;
    let subtitle: Vec<String> = [
        (!f.pronouns.is_empty()).then(|| f.pronouns.clone()),
        age(&f.date_of_birth).map(|a| format!("{a} years old")),
    ]
    .into_iter()
    .flatten()
    .collect();
    let on_edit = {
        let cb = props.on_edit.clone();
        Callback::from(move |_: MouseEvent| cb.emit(()))
    };
    let discharged = f.status == PatientStatus::Discharged;
    let tabs = Tab::ALL.into_iter().map(|t| {
        let cb = props.on_tab.clone();
        let onclick = Callback::from(move |_: MouseEvent| cb.emit(t));
        let on = t == props.tab;
        html! {
            <button id={t.dom_id()} type="button" role="tab" aria-selected={if on { "true" } else { "false" }}
                class={classes!("tab", on.then_some("on"), (t == Tab::Psychotherapy).then_some("private-tab"))}
                {onclick}>{ t.label() }</button>
        }
    });
    let id = p.id.clone();
    let body = match props.tab {
        Tab::Overview => {
            html! { <Overview patient={p.clone()} on_changed={props.on_changed.clone()} /> }
        }
        Tab::Appointments => html! {
            <AppointmentsTab patient={id} focus={props.focus.clone()} focus_nonce={props.focus_nonce} />
        },
        Tab::Notes => html! {
            <NotesTab key="notes" patient={id} psychotherapy=false focus={props.focus.clone()} focus_nonce={props.focus_nonce} />
        },
        Tab::Psychotherapy => html! {
            <NotesTab key="private" patient={id} psychotherapy=true focus={props.focus.clone()} focus_nonce={props.focus_nonce} />
        },
        Tab::Measures => html! { <MeasuresTab patient={id} /> },
        Tab::Plan => html! { <PlanTab patient={id} /> },
        Tab::Files => {
            html! { <FilesTab patient={id} focus={props.focus.clone()} focus_nonce={props.focus_nonce} /> }
        }
        Tab::Consent => html! { <ConsentTab patient={id} /> },
        Tab::Export => html! { <ExportWizard patient={id} /> },
        Tab::AccessLog => html! { <AccessLogTab patient={id} /> },
        Tab::History => html! {
            <HistoryTab patient={p.id.clone()} history={props.history.clone()} on_changed={props.on_changed.clone()} />
        },
    };
    let grant_key = access
        .grant
        .as_ref()
        .map_or_else(|| "no-grant".to_string(), |g| g.id.clone());
    html! {
        <ContextProvider<ChartAccess> context={access.clone()}>
        <article class="patient-detail" id="patient-detail" data-id={p.id.clone()}>
            <header class="detail-head">
                <div>
                    <h2 id="detail-name">{ &f.name }
                        if discharged { <span class="badge muted-badge" id="discharged-badge">{ "Discharged" }</span> }
                    </h2>
                    if !subtitle.is_empty() { <p class="muted">{ subtitle.join(" · ") }</p> }
                </div>
                <button id="edit-patient" type="button" class="secondary" onclick={on_edit}>{ "Edit" }</button>
            </header>
            if let Some(g) = &access.grant { { banner(g) } }
            <div class="tabs" role="tablist">{ for tabs }</div>
            // Keyed by the grant: opening or ending an emergency access reloads the open tab.
            <div class="tab-body" id={format!("{}-panel", props.tab.dom_id())}>
                <div class="tab-content" key={grant_key}>{ body }</div>
            </div>
        </article>
        </ContextProvider<ChartAccess>>
    }
}

#[derive(Properties, PartialEq)]
struct OverviewProps {
    patient: Patient,
    on_changed: Callback<Patient>,
}

/// Details, emergency contact, diagnoses (added and removed here) and status.
#[component]
fn Overview(props: &OverviewProps) -> Html {
    let ctx = use_ctx();
    let code = use_state(String::new);
    let text = use_state(String::new);
    let error = use_state(|| None::<String>);
    let busy = use_state(|| false);
    let p = &props.patient;
    let f = &p.fields;

    let save_diagnoses = {
        let (ctx, error, busy) = (ctx.clone(), error.clone(), busy.clone());
        let (id, on_changed) = (p.id.clone(), props.on_changed.clone());
        let (code, text) = (code.clone(), text.clone());
        Callback::from(move |list: Vec<Diagnosis>| {
            let (ctx, error, busy, id, on_changed) = (
                ctx.clone(),
                error.clone(),
                busy.clone(),
                id.clone(),
                on_changed.clone(),
            );
            let (code, text) = (code.clone(), text.clone());
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                let patch = PatientPatch {
                    diagnoses: Some(list),
                    ..Default::default()
                };
                let r = api::edit_patient(&id, &patch).await;
                busy.set(false);
                if let Some(p) = ctx.take(r, &error) {
                    error.set(None);
                    code.set(String::new());
                    text.set(String::new());
                    on_changed.emit(p);
                }
            });
        })
    };
    let on_add = {
        let (save, list) = (save_diagnoses.clone(), f.diagnoses.clone());
        let (code, text, error) = (code.clone(), text.clone(), error.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if code.trim().is_empty() {
                error.set(Some(
                    "diagnosis: enter an ICD-10 code, e.g. F33.1".to_string(),
                ));
                return;
            }
            let mut next = list.clone();
            next.push(Diagnosis {
                code: code.trim().to_string(),
                text: text.trim().to_string(),
            });
            save.emit(next);
        })
    };
    let diagnoses = f.diagnoses.iter().enumerate().map(|(i, d)| {
        let (save, list) = (save_diagnoses.clone(), f.diagnoses.clone());
        let onclick = Callback::from(move |_: MouseEvent| {
            let mut next = list.clone();
            next.remove(i);
            save.emit(next);
        });
        html! {
            <li class="diagnosis" key={format!("{i}-{}", d.code)}>
                <code class="icd">{ &d.code }</code>
                <span>{ &d.text }</span>
                <button type="button" class="link small remove-diagnosis" aria-label={format!("Remove {}", d.code)}
                    disabled={*busy} {onclick}>{ "Remove" }</button>
            </li>
        }
    });
    let status = match f.status {
        PatientStatus::Active => "Active — in care",
        PatientStatus::Discharged => "Discharged",
    };
    html! {
        <div class="overview" id="overview">
            <dl class="fields">
                { field("detail-dob", "Date of birth", &f.date_of_birth, false) }
                { field("detail-pronouns", "Pronouns", &f.pronouns, false) }
                { field("detail-phone", "Phone", &f.phone, false) }
                { field("detail-email", "Email", &f.email, false) }
                { field("detail-address", "Address", &f.address, true) }
                { field("detail-status", "Status", status, false) }
                { field("detail-notes", "Notes", &f.notes, true) }
            </dl>
            <section class="panel">
                <h3>{ "Emergency contact" }</h3>
                <dl class="fields plain">
                    { field("detail-emergency-name", "Name", &f.emergency_name, false) }
                    { field("detail-emergency-relationship", "Relationship", &f.emergency_relationship, false) }
                    { field("detail-emergency-phone", "Phone", &f.emergency_phone, false) }
                </dl>
            </section>
            <section class="panel">
                <h3>{ "Diagnoses" }</h3>
                if f.diagnoses.is_empty() {
                    <p class="muted small" id="no-diagnoses">{ "No diagnoses recorded." }</p>
                } else {
                    <ul class="diagnoses" id="diagnoses">{ for diagnoses }</ul>
                }
                <form class="inline-form" id="diagnosis-form" onsubmit={on_add} novalidate=true>
                    <input id="diagnosis-code" class="code-input" type="text" placeholder="ICD-10, e.g. F33.1"
                        aria-label="ICD-10 code" value={(*code).clone()} oninput={setter(&code)} disabled={*busy} />
                    <input id="diagnosis-text" type="text" placeholder="Description" aria-label="Diagnosis"
                        value={(*text).clone()} oninput={setter(&text)} disabled={*busy} />
                    <button id="add-diagnosis" type="submit" class="secondary" disabled={*busy}>{ "Add" }</button>
                </form>
                if let Some(e) = &*error { <p class="error" role="alert" id="diagnosis-error">{ e }</p> }
            </section>
            <p class="record-meta muted small">
                { format!("Created {} · last changed {}", local_time(&p.created_at), local_time(&p.updated_at)) }
            </p>
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct HistoryProps {
    patient: String,
    history: Option<Vec<HistoryEntry>>,
    on_changed: Callback<Patient>,
}

/// The patient record's changes, newest first, each but the newest restorable.
#[component]
fn HistoryTab(props: &HistoryProps) -> Html {
    let ctx = use_ctx();
    let error = use_state(|| None::<String>);
    let history = match &props.history {
        None => html! { <p class="muted">{ "Loading history…" }</p> },
        Some(h) if h.is_empty() => html! { <p class="muted">{ "No changes recorded." }</p> },
        Some(h) => html! {
            <ol class="history" id="history">
                { for h.iter().rev().enumerate().map(|(i, e)| {
                    let onclick = {
                        let (ctx, error, id, version, on_changed) = (ctx.clone(), error.clone(),
                            props.patient.clone(), e.hash.clone(), props.on_changed.clone());
                        Callback::from(move |_: MouseEvent| {
                            let (ctx, error, id, version, on_changed) = (ctx.clone(), error.clone(),
                                id.clone(), version.clone(), on_changed.clone());
                            wasm_bindgen_futures::spawn_local(async move {
                                let r = api::restore_patient(&id, &version).await;
                                if let Some(p) = ctx.take(r, &error) {
                                    on_changed.emit(p);
                                }
                            });
                        })
                    };
                    html! {
                        <li class="history-entry" key={e.hash.clone()}>
                            <span class="summary">{ &e.summary }</span>
                            <span class="when">{ local_time(&e.time) }</span>
                            <span class="device" title={e.device.clone()}>{ format!("device {}", short_device(&e.device)) }</span>
                            if i > 0 {
                                <button type="button" class="link small restore-version" {onclick}>{ "Restore this version" }</button>
                            }
                        </li>
                    }
                }) }
            </ol>
        },
    };
    html! {
        <section class="history-section">
            <h3>{ "Change history" }</h3>
            <p class="muted small">{ "Every change to this patient's details, newest first. Restoring a version records it as a new change; nothing is erased." }</p>
            if let Some(e) = &*error { <p class="error" role="alert">{ e }</p> }
            { history }
        </section>
    }
}
