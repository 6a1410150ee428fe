//! One patient's details and change history.

use hearth_api::{HistoryEntry, Patient};
use wasm_bindgen::JsValue;
use yew::prelude::*;

/// Inputs of [`PatientDetail`].
#[derive(Properties, PartialEq)]
pub struct Props {
    /// The patient.
    pub patient: Patient,
    /// Its history, oldest first, or `None` while loading.
    pub history: Option<Vec<HistoryEntry>>,
    /// Called when Edit is pressed.
    pub on_edit: Callback<()>,
}

/// An RFC 3339 time as local `YYYY-MM-DD HH:MM` (the raw text if it does not parse).
pub fn local_time(rfc3339: &str) -> String {
    let d = js_sys::Date::new(&JsValue::from_str(rfc3339));
    if d.get_time().is_nan() {
        return rfc3339.to_string();
    }
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        d.get_full_year(),
        d.get_month() + 1,
        d.get_date(),
        d.get_hours(),
        d.get_minutes()
    )
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

/// The details pane.
#[component]
pub fn PatientDetail(props: &Props) -> Html {
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
    let history = match &props.history {
        None => html! { <p class="muted">{ "Loading history…" }</p> },
        Some(h) if h.is_empty() => html! { <p class="muted">{ "No changes recorded." }</p> },
        Some(h) => html! {
            <ol class="history" id="history">
                { for h.iter().rev().map(|e| html! {
                    <li class="history-entry" key={e.hash.clone()}>
                        <span class="summary">{ &e.summary }</span>
                        <span class="when">{ local_time(&e.time) }</span>
                        <span class="device" title={e.device.clone()}>{ format!("device {}", short_device(&e.device)) }</span>
                    </li>
                }) }
            </ol>
        },
    };
    html! {
        <article class="patient-detail" id="patient-detail" data-id={p.id.clone()}>
            <header class="detail-head">
                <div>
                    <h2 id="detail-name">{ &f.name }</h2>
                    if !subtitle.is_empty() { <p class="muted">{ subtitle.join(" · ") }</p> }
                </div>
                <button id="edit-patient" type="button" class="secondary" onclick={on_edit}>{ "Edit" }</button>
            </header>
            <dl class="fields">
                { field("detail-dob", "Date of birth", &f.date_of_birth, false) }
                { field("detail-pronouns", "Pronouns", &f.pronouns, false) }
                { field("detail-phone", "Phone", &f.phone, false) }
                { field("detail-email", "Email", &f.email, false) }
                { field("detail-address", "Address", &f.address, true) }
                { field("detail-notes", "Notes", &f.notes, true) }
            </dl>
            <section class="history-section">
                <h3>{ "Change history" }</h3>
                { history }
            </section>
            <p class="record-meta muted small">
                { format!("Created {} · last changed {}", local_time(&p.created_at), local_time(&p.updated_at)) }
            </p>
        </article>
    }
}
