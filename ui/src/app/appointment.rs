//! Booking an appointment and opening one: shared by the calendar and the patient's
//! Appointments tab.

use hearth_api::{Appointment, AppointmentStatus, HistoryEntry, PatientRow, Recurrence, Stored};
use yew::prelude::*;

use super::ctx::{on_input, on_value, setter, use_ctx, Focus, Nav, Tab};
use super::dates::{local_time, when};
use crate::api;

/// A status in words.
pub fn status_label(s: AppointmentStatus) -> &'static str {
    match s {
        AppointmentStatus::Scheduled => "Scheduled",
        AppointmentStatus::Attended => "Attended",
        AppointmentStatus::NoShow => "No-show",
        AppointmentStatus::Cancelled => "Cancelled",
    }
}

/// A status as a CSS class / id part.
pub fn status_class(s: AppointmentStatus) -> &'static str {
    match s {
        AppointmentStatus::Scheduled => "scheduled",
        AppointmentStatus::Attended => "attended",
        AppointmentStatus::NoShow => "no-show",
        AppointmentStatus::Cancelled => "cancelled",
    }
}

/// A repetition in words.
pub fn recurrence_label(r: Recurrence) -> &'static str {
    match r {
        Recurrence::None => "Once",
        Recurrence::Weekly => "Every week",
        Recurrence::Biweekly => "Every other week",
    }
}

fn recurrence_of(v: &str) -> Recurrence {
    match v {
        "weekly" => Recurrence::Weekly,
        "biweekly" => Recurrence::Biweekly,
        _ => Recurrence::None,
    }
}

/// The field an `invalid_input` message names, for highlighting.
fn field_of(message: &str) -> &'static str {
    [
        ("start:", "start"),
        ("duration:", "duration"),
        ("service code:", "code"),
        ("recurrence until:", "until"),
        ("location:", "location"),
        ("patient:", "patient"),
    ]
    .into_iter()
    .find(|(p, _)| message.starts_with(p))
    .map_or("", |(_, f)| f)
}

/// Inputs of [`BookingForm`].
#[derive(Properties, PartialEq)]
pub struct BookingProps {
    /// The patient, or `None` to choose one in the form.
    #[prop_or_default]
    pub patient: Option<String>,
    /// The start offered, local `YYYY-MM-DDTHH:MM`.
    pub start: String,
    /// Called with the booked appointment.
    pub on_booked: Callback<Stored<Appointment>>,
    /// Called on Cancel.
    pub on_cancel: Callback<()>,
}

/// Book an appointment or a series.
#[component]
pub fn BookingForm(props: &BookingProps) -> Html {
    let ctx = use_ctx();
    let patients = use_state(|| None::<Vec<(String, String)>>);
    let patient = use_state(|| props.patient.clone().unwrap_or_default());
    let start = use_state(|| props.start.clone());
    let duration = use_state(|| "50".to_string());
    let code = use_state(|| "90834".to_string());
    let recurrence = use_state(|| Recurrence::None);
    let until = use_state(String::new);
    let location = use_state(String::new);
    let error = use_state(|| None::<String>);
    let busy = use_state(|| false);

    {
        let (ctx, patients, patient, error) = (
            ctx.clone(),
            patients.clone(),
            patient.clone(),
            error.clone(),
        );
        let fixed = props.patient.is_some();
        use_effect_with((), move |_| {
            if !fixed {
                wasm_bindgen_futures::spawn_local(async move {
                    let r = api::list_patients().await;
                    if let Some(rows) = ctx.take(r, &error) {
                        let active: Vec<(String, String)> = rows
                            .into_iter()
                            .filter_map(|r| match r {
                                PatientRow::Ok {
                                    id,
                                    name,
                                    discharged: false,
                                    ..
                                } => Some((id, name)),
                                _ => None,
                            })
                            .collect();
                        if patient.is_empty() {
                            if let Some((id, _)) = active.first() {
                                patient.set(id.clone());
                            }
                        }
                        patients.set(Some(active));
                    }
                });
            }
        });
    }

    let onsubmit = {
        let (ctx, error, busy) = (ctx.clone(), error.clone(), busy.clone());
        let (patient, start, duration, code) = (
            patient.clone(),
            start.clone(),
            duration.clone(),
            code.clone(),
        );
        let (recurrence, until, location) = (recurrence.clone(), until.clone(), location.clone());
        let on_booked = props.on_booked.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *busy {
                return;
            }
            let a = Appointment {
                patient_id: (*patient).clone(),
                start: start.trim().to_string(),
                duration_min: duration.trim().parse().unwrap_or(0),
                status: AppointmentStatus::Scheduled,
                service_code: code.trim().to_string(),
                recurrence: *recurrence,
                recurrence_until: if *recurrence == Recurrence::None {
                    String::new()
                } else {
                    until.trim().to_string()
                },
                location: location.trim().to_string(),
            };
            busy.set(true);
            let (ctx, error, busy, on_booked) =
                (ctx.clone(), error.clone(), busy.clone(), on_booked.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let r = api::add_appointment(&a).await;
                busy.set(false);
                if let Some(stored) = ctx.take(r, &error) {
                    on_booked.emit(stored);
                }
            });
        })
    };
    let on_cancel = {
        let cb = props.on_cancel.clone();
        Callback::from(move |_: MouseEvent| cb.emit(()))
    };
    let on_recurrence = {
        let recurrence = recurrence.clone();
        on_value(Callback::from(move |v: String| {
            recurrence.set(recurrence_of(&v))
        }))
    };
    let on_patient = {
        let patient = patient.clone();
        on_value(Callback::from(move |v: String| patient.set(v)))
    };
    let bad_field = error.as_deref().map(field_of).unwrap_or_default();
    let bad = |f: &str| (bad_field == f).then_some("invalid");

    html! {
        <form id="booking-form" class="side-card booking" {onsubmit} novalidate=true>
            <h3>{ "Book an appointment" }</h3>
            if props.patient.is_none() {
                <div class={classes!("form-field", bad("patient"))}>
                    <label for="book-patient">{ "Patient" }</label>
                    { match &*patients {
                        None => html! { <p class="muted small">{ "Loading patients…" }</p> },
                        Some(list) if list.is_empty() => html! {
                            <p class="muted small">{ "No active patients: add one under Patients first." }</p>
                        },
                        Some(list) => html! {
                            <select id="book-patient" onchange={on_patient}>
                                { for list.iter().map(|(id, name)| html! {
                                    <option value={id.clone()} selected={*id == *patient}>{ name }</option>
                                }) }
                            </select>
                        },
                    } }
                </div>
            }
            <div class={classes!("form-field", bad("start"))}>
                <label for="book-start">{ "Start" }</label>
                <input id="book-start" type="datetime-local" value={(*start).clone()} oninput={setter(&start)} />
            </div>
            <div class="form-row">
                <div class={classes!("form-field", bad("duration"))}>
                    <label for="book-duration">{ "Minutes" }</label>
                    <input id="book-duration" type="number" min="5" max="480" step="5" value={(*duration).clone()} oninput={setter(&duration)} />
                </div>
                <div class={classes!("form-field", bad("code"))}>
                    <label for="book-code">{ "Service code (CPT)" }</label>
                    <input id="book-code" type="text" value={(*code).clone()} oninput={setter(&code)} />
                </div>
            </div>
            <div class="form-field">
                <label for="book-recurrence">{ "Repeats" }</label>
                <select id="book-recurrence" onchange={on_recurrence}>
                    { for [Recurrence::None, Recurrence::Weekly, Recurrence::Biweekly].into_iter().map(|r| html! {
                        <option value={match r { Recurrence::None => "none", Recurrence::Weekly => "weekly", Recurrence::Biweekly => "biweekly" }}
                            selected={r == *recurrence}>{ recurrence_label(r) }</option>
                    }) }
                </select>
            </div>
            if *recurrence != Recurrence::None {
                <div class={classes!("form-field", bad("until"))}>
                    <label for="book-until">{ "Until (optional)" }</label>
                    <input id="book-until" type="date" value={(*until).clone()} oninput={setter(&until)} />
                </div>
            }
            <div class={classes!("form-field", bad("location"))}>
                <label for="book-location">{ "Location" }</label>
                <input id="book-location" type="text" placeholder="Room 2, or a video link" value={(*location).clone()} oninput={setter(&location)} />
            </div>
            if let Some(e) = &*error { <p class="error" role="alert" id="book-error">{ e }</p> }
            <div class="form-actions">
                <button type="button" class="secondary" onclick={on_cancel} disabled={*busy}>{ "Cancel" }</button>
                <button id="book-save" type="submit" class="primary" disabled={*busy}>
                    { if *busy { "Booking…" } else { "Book" } }
                </button>
            </div>
        </form>
    }
}

/// Inputs of [`AppointmentPanel`].
#[derive(Properties, PartialEq)]
pub struct PanelProps {
    /// The appointment's record id.
    pub id: String,
    /// The patient's name, when known (the calendar knows it).
    #[prop_or_default]
    pub patient_name: Option<String>,
    /// Called after a change is saved.
    pub on_changed: Callback<()>,
    /// Called on Close.
    pub on_close: Callback<()>,
}

/// One appointment: its status (attended / no-show / cancelled), time, duration and code,
/// and "Write note".
#[component]
pub fn AppointmentPanel(props: &PanelProps) -> Html {
    let ctx = use_ctx();
    let stored = use_state(|| None::<Stored<Appointment>>);
    let draft = use_state(|| None::<Appointment>);
    let duration = use_state(String::new);
    let error = use_state(|| None::<String>);
    let saved = use_state(|| None::<String>);
    let busy = use_state(|| false);
    let history = use_state(|| None::<Vec<HistoryEntry>>);

    {
        let (ctx, stored, draft, duration, error) = (
            ctx.clone(),
            stored.clone(),
            draft.clone(),
            duration.clone(),
            error.clone(),
        );
        use_effect_with(props.id.clone(), move |id| {
            let id = id.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let r = api::get_appointment(&id).await;
                if let Some(a) = ctx.take(r, &error) {
                    duration.set(a.record.duration_min.to_string());
                    draft.set(Some(a.record.clone()));
                    stored.set(Some(a));
                }
            });
        });
    }

    let save = {
        let (ctx, stored, draft, error, saved, busy) = (
            ctx.clone(),
            stored.clone(),
            draft.clone(),
            error.clone(),
            saved.clone(),
            busy.clone(),
        );
        let (id, on_changed) = (props.id.clone(), props.on_changed.clone());
        Callback::from(move |(a, what): (Appointment, String)| {
            let (ctx, stored, draft, error, saved, busy) = (
                ctx.clone(),
                stored.clone(),
                draft.clone(),
                error.clone(),
                saved.clone(),
                busy.clone(),
            );
            let (id, on_changed) = (id.clone(), on_changed.clone());
            busy.set(true);
            saved.set(None);
            wasm_bindgen_futures::spawn_local(async move {
                let r = api::edit_appointment(&id, &a).await;
                busy.set(false);
                if let Some(s) = ctx.take(r, &error) {
                    error.set(None);
                    saved.set(Some(what));
                    draft.set(Some(s.record.clone()));
                    stored.set(Some(s));
                    on_changed.emit(());
                }
            });
        })
    };

    let on_close = {
        let cb = props.on_close.clone();
        Callback::from(move |_: MouseEvent| cb.emit(()))
    };
    let (Some(current), Some(d)) = ((*stored).clone(), (*draft).clone()) else {
        return html! {
            <div class="side-card" id="appointment-panel">
                if let Some(e) = &*error { <p class="error" role="alert">{ e }</p> } else { <p class="muted">{ "Opening appointment…" }</p> }
                <div class="form-actions"><button type="button" class="secondary" onclick={on_close}>{ "Close" }</button></div>
            </div>
        };
    };
    let a = current.record.clone();

    let status_buttons = [
        AppointmentStatus::Scheduled,
        AppointmentStatus::Attended,
        AppointmentStatus::NoShow,
        AppointmentStatus::Cancelled,
    ]
    .into_iter()
    .map(|s| {
        let on = a.status == s;
        let (save, a) = (save.clone(), a.clone());
        let onclick = Callback::from(move |_: MouseEvent| {
            let mut next = a.clone();
            next.status = s;
            save.emit((next, format!("Marked {}.", status_label(s).to_lowercase())));
        });
        html! {
            <button id={format!("status-{}", status_class(s))} type="button"
                class={classes!("segment", status_class(s), on.then_some("on"))}
                aria-pressed={if on { "true" } else { "false" }} disabled={*busy} {onclick}>
                { status_label(s) }
            </button>
        }
    });
    let set = |f: fn(&mut Appointment, String)| {
        let draft = draft.clone();
        on_input(Callback::from(move |v: String| {
            if let Some(mut next) = (*draft).clone() {
                f(&mut next, v);
                draft.set(Some(next));
            }
        }))
    };
    let on_save = {
        let (save, d, duration) = (save.clone(), d.clone(), duration.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let mut next = d.clone();
            next.duration_min = duration.trim().parse().unwrap_or(0);
            save.emit((next, "Changes saved.".to_string()));
        })
    };
    let on_write = {
        let (navigate, id, patient) =
            (ctx.navigate.clone(), props.id.clone(), a.patient_id.clone());
        Callback::from(move |_: MouseEvent| {
            navigate.emit(Nav {
                patient: patient.clone(),
                tab: Tab::Notes,
                focus: Focus::NewNote {
                    appointment: id.clone(),
                },
            })
        })
    };
    let on_open_patient = {
        let (navigate, patient, id) =
            (ctx.navigate.clone(), a.patient_id.clone(), props.id.clone());
        Callback::from(move |_: MouseEvent| {
            navigate.emit(Nav {
                patient: patient.clone(),
                tab: Tab::Appointments,
                focus: Focus::Appointment(id.clone()),
            })
        })
    };
    let toggle_history = {
        let (ctx, history, error, id) = (
            ctx.clone(),
            history.clone(),
            error.clone(),
            props.id.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            if history.is_some() {
                history.set(None);
                return;
            }
            let (ctx, history, error, id) =
                (ctx.clone(), history.clone(), error.clone(), id.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let r = api::appointment_history(&id).await;
                if let Some(h) = ctx.take(r, &error) {
                    history.set(Some(h));
                }
            });
        })
    };
    let bad_field = error.as_deref().map(field_of).unwrap_or_default();
    let bad = |f: &str| (bad_field == f).then_some("invalid");

    html! {
        <div class={classes!("side-card", "appointment-panel", status_class(a.status))} id="appointment-panel"
            data-id={props.id.clone()} data-status={status_class(a.status)}>
            <div class="panel-head">
                <div>
                    if let Some(name) = &props.patient_name {
                        <h3 class="panel-title">{ name }</h3>
                    }
                    <p class="muted small" id="appointment-when">
                        { format!("{} · {} min · {}", when(&a.start), a.duration_min,
                            if a.service_code.is_empty() { "no code" } else { a.service_code.as_str() }) }
                    </p>
                </div>
                <button type="button" class="link small" id="close-appointment" onclick={on_close}>{ "Close" }</button>
            </div>
            if a.recurrence != hearth_api::Recurrence::None {
                <p class="muted small series-note">
                    { format!("{} series{}: changes here apply to every session in it.", recurrence_label(a.recurrence),
                        if a.recurrence_until.is_empty() { String::new() } else { format!(" until {}", a.recurrence_until) }) }
                </p>
            }
            <div class="segmented status-segmented" role="group" aria-label="Status">{ for status_buttons }</div>
            <div class="panel-actions">
                <button id="write-note" type="button" class="primary" onclick={on_write}>{ "Write note" }</button>
                if props.patient_name.is_some() {
                    <button id="open-patient" type="button" class="secondary" onclick={on_open_patient}>{ "Open record" }</button>
                }
            </div>
            <form class="appointment-edit" onsubmit={on_save} novalidate=true>
                <div class={classes!("form-field", bad("start"))}>
                    <label for="appt-start">{ "Start" }</label>
                    <input id="appt-start" type="datetime-local" value={d.start.clone()}
                        oninput={set(|a, v| a.start = v)} disabled={*busy} />
                </div>
                <div class="form-row">
                    <div class={classes!("form-field", bad("duration"))}>
                        <label for="appt-duration">{ "Minutes" }</label>
                        <input id="appt-duration" type="number" min="5" max="480" step="5" value={(*duration).clone()}
                            oninput={setter(&duration)} disabled={*busy} />
                    </div>
                    <div class={classes!("form-field", bad("code"))}>
                        <label for="appt-code">{ "Code (CPT)" }</label>
                        <input id="appt-code" type="text" value={d.service_code.clone()}
                            oninput={set(|a, v| a.service_code = v)} disabled={*busy} />
                    </div>
                </div>
                <div class={classes!("form-field", bad("location"))}>
                    <label for="appt-location">{ "Location" }</label>
                    <input id="appt-location" type="text" value={d.location.clone()}
                        oninput={set(|a, v| a.location = v)} disabled={*busy} />
                </div>
                if let Some(e) = &*error { <p class="error" role="alert" id="appointment-error">{ e }</p> }
                if let Some(m) = &*saved { <p class="saved-note small" id="appointment-saved" role="status">{ m }</p> }
                <div class="form-actions">
                    <button type="button" class="link small" id="appointment-history-toggle" onclick={toggle_history}>
                        { if history.is_some() { "Hide changes" } else { "Changes" } }
                    </button>
                    <button id="appt-save" type="submit" class="secondary" disabled={*busy}>{ "Save changes" }</button>
                </div>
            </form>
            if let Some(h) = &*history {
                <ol class="history compact" id="appointment-history">
                    { for h.iter().rev().map(|e| html! {
                        <li class="history-entry" key={e.hash.clone()}>
                            <span class="summary">{ &e.summary }</span>
                            <span class="when">{ local_time(&e.time) }</span>
                        </li>
                    }) }
                </ol>
            }
        </div>
    }
}
