//! Emergency ("break-glass") access to a patient's chart: what the open chart shares with its
//! tabs ([`ChartAccess`]), the banner while a grant is in force, the form that opens one (a
//! typed reason, a duration, a clear warning), and [`ErrorNote`], which offers that form when a
//! read was refused by the patient's consent.
//!
//! Stable hooks for tests: `#emergency-banner`, `#emergency-open`, `#emergency-form`,
//! `#emergency-reason`, `#emergency-minutes`, `#emergency-submit`, `#emergency-error`.

use hearth_api::BreakGlassInfo;
use yew::prelude::*;

use super::ctx::{is_refusal, on_value, setter, use_ctx};
use super::dates::local_clock;
use crate::api;

/// Durations offered, in minutes (the core allows 1 to 240).
const DURATIONS: [u32; 5] = [15, 30, 60, 120, 240];

/// What the open chart shares with its tabs.
#[derive(Clone, PartialEq, Default)]
pub struct ChartAccess {
    /// The patient's record id.
    pub patient: String,
    /// The emergency access in force on this chart, if any.
    pub grant: Option<BreakGlassInfo>,
    /// Changes whenever who may see the chart changed (a consent recorded, an emergency
    /// access opened or ended): panels showing access read it again.
    pub version: u32,
    /// Say that access changed: the chart reads its emergency state again.
    pub changed: Callback<()>,
}

/// The chart's access context (an empty one outside a chart).
#[hook]
pub fn use_chart_access() -> ChartAccess {
    use_context::<ChartAccess>().unwrap_or_default()
}

/// "30 minutes", "2 hours".
fn duration_label(minutes: u32) -> String {
    match minutes {
        60 => "1 hour".to_string(),
        m if m % 60 == 0 => format!("{} hours", m / 60),
        m => format!("{m} minutes"),
    }
}

/// The banner at the top of a chart while an emergency access is in force.
pub fn banner(grant: &BreakGlassInfo) -> Html {
    html! {
        <div class="emergency-banner" id="emergency-banner" role="status" data-ends={grant.ends.clone()}>
            <strong>{ format!("Emergency access until {}", local_clock(&grant.ends)) }</strong>
            { " — " }<span id="emergency-banner-reason">{ &grant.reason }</span>
            <p class="small">{ "Reads only. Every record opened now is logged and shown to the patient with this reason." }</p>
        </div>
    }
}

/// Inputs of [`EmergencyAccess`].
#[derive(Properties, PartialEq)]
pub struct EmergencyProps {
    /// Show the form at once instead of the "Emergency access…" button.
    #[prop_or_default]
    pub open: bool,
}

/// "Emergency access…": the form that opens a time-limited, logged emergency access to the
/// chart in [`ChartAccess`].
#[component]
pub fn EmergencyAccess(props: &EmergencyProps) -> Html {
    let ctx = use_ctx();
    let access = use_chart_access();
    let open = use_state(|| props.open);
    let reason = use_state(String::new);
    let minutes = use_state(|| 30u32);
    let error = use_state(|| None::<String>);
    let busy = use_state(|| false);

    if let Some(g) = &access.grant {
        return html! {
            <p class="muted small" id="emergency-active">
                { format!("Emergency access is open until {} ({}).", local_clock(&g.ends), g.reason) }
            </p>
        };
    }
    if !*open {
        let onclick = {
            let open = open.clone();
            Callback::from(move |_: MouseEvent| open.set(true))
        };
        return html! {
            <button id="emergency-open" type="button" class="danger-outline" {onclick}>{ "Emergency access…" }</button>
        };
    }

    let on_minutes = {
        let minutes = minutes.clone();
        on_value(Callback::from(move |v: String| {
            if let Ok(m) = v.parse() {
                minutes.set(m);
            }
        }))
    };
    let on_cancel = {
        let (open, error) = (open.clone(), error.clone());
        Callback::from(move |_: MouseEvent| {
            open.set(false);
            error.set(None);
        })
    };
    let on_submit = {
        let (ctx, error, busy) = (ctx.clone(), error.clone(), busy.clone());
        let (reason, minutes) = (reason.clone(), minutes.clone());
        let (patient, changed) = (access.patient.clone(), access.changed.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if reason.trim().is_empty() {
                error.set(Some(
                    "Type the reason for the emergency access: the patient will read it.".into(),
                ));
                return;
            }
            let (ctx, error, busy, changed, patient) = (
                ctx.clone(),
                error.clone(),
                busy.clone(),
                changed.clone(),
                patient.clone(),
            );
            let (reason, minutes) = ((*reason).clone(), *minutes);
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                let r = api::break_glass(&patient, &reason, minutes).await;
                busy.set(false);
                if ctx.take(r, &error).is_some() {
                    error.set(None);
                    changed.emit(());
                }
            });
        })
    };
    html! {
        <form class="emergency-form" id="emergency-form" onsubmit={on_submit} novalidate=true>
            <h4>{ "Emergency access" }</h4>
            <p class="emergency-warning" role="note">
                <strong>{ "This overrides the patient's consent for reading only, for a limited time." }</strong>
                { " It is logged with your reason and shown to the patient and the clinic. Use it only when the patient's safety needs it." }
            </p>
            <label for="emergency-reason">{ "Why (required)" }</label>
            <textarea id="emergency-reason" rows="2" placeholder="e.g. covering clinician, patient called in crisis"
                value={(*reason).clone()} oninput={setter(&reason)} disabled={*busy} />
            <label for="emergency-minutes">{ "For how long" }</label>
            <select id="emergency-minutes" onchange={on_minutes} disabled={*busy}>
                { for DURATIONS.iter().map(|m| html! {
                    <option value={m.to_string()} selected={*m == *minutes}>{ duration_label(*m) }</option>
                }) }
            </select>
            if let Some(e) = &*error { <p class="error" role="alert" id="emergency-error">{ e }</p> }
            <div class="panel-actions">
                <button id="emergency-submit" type="submit" class="danger" disabled={*busy}>
                    { if *busy { "Opening…" } else { "Open emergency access" } }
                </button>
                <button type="button" class="secondary" onclick={on_cancel} disabled={*busy}>{ "Cancel" }</button>
            </div>
        </form>
    }
}

/// Inputs of [`ErrorNote`].
#[derive(Properties, PartialEq)]
pub struct ErrorNoteProps {
    /// The element id of the message.
    pub id: AttrValue,
    /// The error, as [`super::ctx::error_text`] wrote it.
    pub message: AttrValue,
    /// Whether emergency access could open what was refused (never someone else's
    /// psychotherapy notes).
    #[prop_or(true)]
    pub emergency: bool,
}

/// An error message; for a consent refusal, followed by the emergency access offer.
#[component]
pub fn ErrorNote(props: &ErrorNoteProps) -> Html {
    let access = use_chart_access();
    let offer = props.emergency
        && is_refusal(&props.message)
        && !access.patient.is_empty()
        && access.grant.is_none();
    html! {
        <div class={classes!("error-note", offer.then_some("refused"))}>
            <p class="error" role="alert" id={props.id.clone()}>{ &props.message }</p>
            if offer { <div class="refusal-actions"><EmergencyAccess /></div> }
        </div>
    }
}
