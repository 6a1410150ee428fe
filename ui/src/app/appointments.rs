//! A patient's Appointments tab: upcoming and past, booking, and the appointment panel.

use hearth_api::{Appointment, Stored};
use yew::prelude::*;

use super::appointment::{
    recurrence_label, status_class, status_label, AppointmentPanel, BookingForm,
};
use super::ctx::{use_ctx, Focus};
use super::dates::{now_local, today, when};
use super::emergency::ErrorNote;
use crate::api;

/// Inputs of [`AppointmentsTab`].
#[derive(Properties, PartialEq)]
pub struct Props {
    /// The patient's record id.
    pub patient: String,
    /// What to open.
    pub focus: Focus,
    /// Changes with every navigation.
    pub focus_nonce: u32,
}

fn row(a: &Stored<Appointment>, open: &Option<String>, on_open: &Callback<String>) -> Html {
    let r = &a.record;
    let onclick = {
        let (cb, id) = (on_open.clone(), a.info.id.clone());
        Callback::from(move |_: MouseEvent| cb.emit(id.clone()))
    };
    let selected = open.as_deref() == Some(a.info.id.as_str());
    let repeat =
        (r.recurrence != hearth_api::Recurrence::None).then(|| recurrence_label(r.recurrence));
    html! {
        <li key={a.info.id.clone()}>
            <button type="button" class={classes!("record-row", "appointment-row", selected.then_some("selected"))}
                data-id={a.info.id.clone()} {onclick}>
                <span class="row-main">{ when(&r.start) }</span>
                <span class="row-meta">
                    { format!("{} min", r.duration_min) }
                    if !r.service_code.is_empty() { { format!(" · {}", r.service_code) } }
                    if let Some(rep) = repeat { { format!(" · {rep}") } }
                </span>
                <span class={classes!("status-badge", status_class(r.status))}>{ status_label(r.status) }</span>
            </button>
        </li>
    }
}

/// The tab.
#[component]
pub fn AppointmentsTab(props: &Props) -> Html {
    let ctx = use_ctx();
    let list = use_state(|| None::<Vec<Stored<Appointment>>>);
    let version = use_state(|| 0u32);
    let open = use_state(|| match &props.focus {
        Focus::Appointment(id) => Some(id.clone()),
        _ => None,
    });
    let booking = use_state(|| false);
    let error = use_state(|| None::<String>);

    {
        let (ctx, list, error) = (ctx.clone(), list.clone(), error.clone());
        use_effect_with((props.patient.clone(), *version), move |(patient, _)| {
            let patient = patient.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let r = api::list_appointments(&patient).await;
                if let Some(v) = ctx.take(r, &error) {
                    list.set(Some(v));
                }
            });
        });
    }
    {
        let open = open.clone();
        use_effect_with(
            (props.focus.clone(), props.focus_nonce),
            move |(focus, _)| {
                if let Focus::Appointment(id) = focus {
                    open.set(Some(id.clone()));
                }
            },
        );
    }

    let on_open = {
        let (open, booking) = (open.clone(), booking.clone());
        Callback::from(move |id: String| {
            booking.set(false);
            open.set(Some(id));
        })
    };
    let on_close = {
        let open = open.clone();
        Callback::from(move |()| open.set(None))
    };
    let on_changed = {
        let version = version.clone();
        Callback::from(move |()| version.set(*version + 1))
    };
    let on_book = {
        let (open, booking) = (open.clone(), booking.clone());
        Callback::from(move |_: MouseEvent| {
            open.set(None);
            booking.set(true);
        })
    };
    let on_booked = {
        let (version, booking, open) = (version.clone(), booking.clone(), open.clone());
        Callback::from(move |a: Stored<Appointment>| {
            booking.set(false);
            open.set(Some(a.info.id));
            version.set(*version + 1);
        })
    };
    let on_cancel_booking = {
        let booking = booking.clone();
        Callback::from(move |()| booking.set(false))
    };

    let now = now_local();
    let body = match &*list {
        None => html! { <p class="muted">{ "Loading appointments…" }</p> },
        Some(v) if v.is_empty() => html! {
            <p class="muted" id="no-appointments">{ "No appointments yet." }</p>
        },
        Some(v) => {
            let (past, upcoming): (Vec<_>, Vec<_>) = v.iter().partition(|a| {
                a.record.start < now && a.record.recurrence == hearth_api::Recurrence::None
            });
            html! {
                <>
                    <h3>{ "Upcoming and series" }</h3>
                    if upcoming.is_empty() { <p class="muted small">{ "Nothing upcoming." }</p> }
                    <ul class="record-list" id="upcoming-appointments">
                        { for upcoming.iter().map(|a| row(a, &open, &on_open)) }
                    </ul>
                    if !past.is_empty() {
                        <h3>{ "Past" }</h3>
                        <ul class="record-list" id="past-appointments">
                            { for past.iter().rev().map(|a| row(a, &open, &on_open)) }
                        </ul>
                    }
                </>
            }
        }
    };
    html! {
        <div class={classes!("tab-split", (*booking || open.is_some()).then_some("with-side"))}>
            <section class="tab-main">
                <div class="tab-toolbar">
                    <p class="muted small">{ "Appointments for this patient. The calendar shows everyone's week." }</p>
                    <button id="patient-book" type="button" class="primary" onclick={on_book}>{ "Book appointment" }</button>
                </div>
                if let Some(e) = &*error { <ErrorNote id="appointments-error" message={e.clone()} /> }
                { body }
            </section>
            <aside class="tab-side">
                if *booking {
                    <BookingForm patient={Some(props.patient.clone())} start={format!("{}T09:00", today().iso())}
                        {on_booked} on_cancel={on_cancel_booking} />
                }
                if let Some(id) = &*open {
                    <AppointmentPanel key={id.clone()} id={id.clone()} {on_changed} {on_close} />
                }
            </aside>
        </div>
    }
}
