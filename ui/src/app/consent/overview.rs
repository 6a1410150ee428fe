//! "Who can see these records, and who looked", written for the patient: what their consents
//! allow, the clinic's defaults, emergency accesses with their reasons, who opened the records
//! (from the audit log) and the patient's registered devices.
//!
//! Stable hooks: `#access-overview`, `#ov-contracts`, `#ov-defaults`, `#ov-emergency`
//! (`li.emergency-entry[data-active]`), `#ov-accessors` (`li.accessor[data-device]`),
//! `#ov-devices`.

use hearth_api::AccessOverview;
use yew::prelude::*;

use super::super::ctx::use_ctx;
use super::super::dates::local_time;
use super::super::emergency::use_chart_access;
use crate::api;

/// Inputs of [`AccessOverviewPanel`].
#[derive(Properties, PartialEq)]
pub struct Props {
    /// The patient's record id.
    pub patient: String,
    /// Changes when something it shows may have changed.
    pub version: u32,
}

/// "viewed 3, break-glass 1" in the patient's words.
fn actions_words(actions: &str) -> String {
    actions
        .split(", ")
        .map(|part| match part.rsplit_once(' ') {
            Some((what, n)) => {
                let what = match what {
                    "viewed" => "opened",
                    "break-glass" => "emergency access",
                    other => other,
                };
                let times = if n == "1" {
                    "once".to_string()
                } else {
                    format!("{n} times")
                };
                format!("{what} {times}")
            }
            None => part.to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The panel.
#[component]
pub fn AccessOverviewPanel(props: &Props) -> Html {
    let ctx = use_ctx();
    let access = use_chart_access();
    let overview = use_state(|| None::<AccessOverview>);
    let error = use_state(|| None::<String>);
    {
        let (ctx, overview, error) = (ctx.clone(), overview.clone(), error.clone());
        let deps = (props.patient.clone(), props.version, access.version);
        use_effect_with(deps, move |(patient, _, _)| {
            let patient = patient.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let r = api::access_overview(&patient).await;
                if let Some(o) = ctx.take(r, &error) {
                    error.set(None);
                    overview.set(Some(o));
                }
            });
        });
    }

    let body = match &*overview {
        None => html! { <p class="muted">{ "Loading…" }</p> },
        Some(o) => html! {
            <>
                <h5>{ "What you have agreed to" }</h5>
                if o.contracts.is_empty() {
                    <p class="muted small" id="ov-no-contracts">{ "No consent recorded: only the rules below apply." }</p>
                } else {
                    <ul class="overview-list" id="ov-contracts">
                        { for o.contracts.iter().map(|c| html! { <li>{ c }</li> }) }
                    </ul>
                }
                <h5>{ "Always, unless your consent says otherwise" }</h5>
                <ul class="overview-list" id="ov-defaults">
                    { for o.defaults.iter().map(|d| html! { <li>{ d }</li> }) }
                </ul>
                <h5>{ "Emergency access" }</h5>
                if o.break_glass.is_empty() {
                    <p class="muted small" id="ov-no-emergency">{ "Nobody has used emergency access to your records." }</p>
                } else {
                    <ul class="overview-list" id="ov-emergency">
                        { for o.break_glass.iter().map(|g| html! {
                            <li class={classes!("emergency-entry", g.active.then_some("active"))}
                                data-active={g.active.to_string()} key={g.id.clone()}>
                                if g.active { <span class="status-badge emergency">{ "In force now" }</span>{ " " } }
                                <strong>{ format!("{} to {}", local_time(&g.started), local_time(&g.ends)) }</strong>
                                { format!(" — device {}: ", g.device) }
                                <q class="emergency-reason">{ &g.reason }</q>
                            </li>
                        }) }
                    </ul>
                }
                <h5>{ "Who looked" }</h5>
                if o.accessors.is_empty() {
                    <p class="muted small" id="ov-no-accessors">{ "Nobody has opened your records yet." }</p>
                } else {
                    <ul class="overview-list" id="ov-accessors">
                        { for o.accessors.iter().map(|a| html! {
                            <li class="accessor" data-device={a.device.clone()} key={a.device.clone()}>
                                <strong>{ if a.device == "this device" { "This device".to_string() } else { format!("Device {}", a.device) } }</strong>
                                { format!(": {} (last {})", actions_words(&a.actions), local_time(&a.last)) }
                            </li>
                        }) }
                    </ul>
                }
                <h5>{ "Your own devices" }</h5>
                if o.patient_devices.is_empty() {
                    <p class="muted small" id="ov-no-devices">{ "None registered: consents are recorded from paper." }</p>
                } else {
                    <ul class="overview-list" id="ov-devices">
                        { for o.patient_devices.iter().map(|f| html! { <li><code>{ f }</code></li> }) }
                    </ul>
                }
            </>
        },
    };
    html! {
        <section class="panel access-overview" id="access-overview">
            <h4>{ "Who can see these records, and who looked" }</h4>
            <p class="muted small">{ "Written for the patient: show it to them." }</p>
            if let Some(e) = &*error { <p class="error" role="alert" id="access-overview-error">{ e }</p> }
            { body }
        </section>
    }
}
