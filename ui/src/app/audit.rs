//! The audit log on screen: a patient's Access log tab (who changed and who looked at the
//! records, newest first) and the Clinic / Audit view (the log's status, signing a
//! checkpoint, verifying the log).

use hearth_api::{AuditReport, LogStatus, TimelineEvent};
use yew::prelude::*;

use super::ctx::use_ctx;
use super::dates::local_time;
use crate::api;

/// "created" → "Created".
fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// A record kind in words: `session-note` → "session note".
fn kind_words(kind: &str) -> String {
    match kind {
        "patient" => "patient details".into(),
        "treatment-plan" => "treatment plan".into(),
        k => k.replace('-', " "),
    }
}

/// The first 16 hex digits of this device's log key, from the log's verifier
/// (`name+keyhash+base64(alg ‖ key)`), to tell this device's events from others'.
fn device_of(verifier: &str) -> Option<String> {
    // The name may not contain '+', the base64 key may.
    let b64 = verifier.splitn(3, '+').nth(2)?;
    let raw = web_sys::window()?.atob(b64).ok()?;
    let bytes: Vec<u8> = raw.chars().filter_map(|c| u8::try_from(c).ok()).collect();
    let key = bytes.get(1..9)?;
    Some(key.iter().map(|b| format!("{b:02x}")).collect())
}

/// Inputs of [`AccessLogTab`].
#[derive(Properties, PartialEq)]
pub struct AccessLogProps {
    /// The patient's record id.
    pub patient: String,
}

/// The patient's access and change timeline, newest first.
#[component]
pub fn AccessLogTab(props: &AccessLogProps) -> Html {
    let ctx = use_ctx();
    let events = use_state(|| None::<Vec<TimelineEvent>>);
    let this_device = use_state(|| None::<String>);
    let error = use_state(|| None::<String>);
    {
        let (ctx, events, this_device, error) = (
            ctx.clone(),
            events.clone(),
            this_device.clone(),
            error.clone(),
        );
        use_effect_with(props.patient.clone(), move |patient| {
            let patient = patient.clone();
            wasm_bindgen_futures::spawn_local(async move {
                if let Ok(s) = api::log_status().await {
                    this_device.set(device_of(&s.verifier));
                }
                let r = api::patient_timeline(&patient).await;
                if let Some(v) = ctx.take(r, &error) {
                    events.set(Some(v));
                }
            });
        });
    }
    let body = match &*events {
        None => html! { <p class="muted">{ "Loading the access log…" }</p> },
        Some(v) if v.is_empty() => html! { <p class="muted">{ "Nothing logged yet." }</p> },
        Some(v) => html! {
            <ol class="timeline" id="access-log">
                { for v.iter().rev().enumerate().map(|(i, e)| {
                    let device = if this_device.as_deref() == Some(e.device.as_str()) {
                        "this device".to_string()
                    } else {
                        format!("device {}", e.device.chars().take(8).collect::<String>())
                    };
                    // A refusal is logged as a view with purpose "denied".
                    let denied = e.purpose == "denied";
                    let what = if denied { "Refused by consent".to_string() } else { capitalized(&e.action) };
                    let mut parts = vec![what, kind_words(&e.kind), local_time(&e.time), device];
                    if !denied && !e.purpose.is_empty() && e.purpose != "treatment" {
                        parts.push(format!("purpose: {}", e.purpose));
                    }
                    html! {
                        <li class={classes!("timeline-event", e.action.clone(), denied.then_some("denied"))} key={i}
                            data-action={e.action.clone()} data-kind={e.kind.clone()} title={e.record_id.clone()}>
                            { parts.join(" · ") }
                        </li>
                    }
                }) }
            </ol>
        },
    };
    html! {
        <section class="access-log-section">
            <h3>{ "Access log" }</h3>
            <p class="muted small">{ "Every change to this patient's records and every time they were opened or exported, newest first, from this device's tamper-evident audit log." }</p>
            if let Some(e) = &*error { <p class="error" role="alert" id="access-log-error">{ e }</p> }
            { body }
        </section>
    }
}

/// The Clinic / Audit view: the log's status, Sign checkpoint and Verify log.
#[component]
pub fn AuditView() -> Html {
    let ctx = use_ctx();
    let status = use_state(|| None::<LogStatus>);
    let version = use_state(|| 0u32);
    let report = use_state(|| None::<AuditReport>);
    let notice = use_state(|| None::<String>);
    let error = use_state(|| None::<String>);
    let busy = use_state(|| false);
    {
        let (ctx, status, error) = (ctx.clone(), status.clone(), error.clone());
        use_effect_with(*version, move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                let r = api::log_status().await;
                if let Some(s) = ctx.take(r, &error) {
                    status.set(Some(s));
                }
            });
        });
    }
    let on_checkpoint = {
        let (ctx, error, notice, busy, version) = (
            ctx.clone(),
            error.clone(),
            notice.clone(),
            busy.clone(),
            version.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            let (ctx, error, notice, busy, version) = (
                ctx.clone(),
                error.clone(),
                notice.clone(),
                busy.clone(),
                version.clone(),
            );
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                let r = api::checkpoint().await;
                busy.set(false);
                if let Some(c) = ctx.take(r, &error) {
                    error.set(None);
                    notice.set(Some(format!(
                        "Signed a checkpoint over {} entries (root {}…).",
                        c.size,
                        c.root.chars().take(16).collect::<String>()
                    )));
                    version.set(*version + 1);
                }
            });
        })
    };
    let on_verify = {
        let (ctx, error, report, busy, version) = (
            ctx.clone(),
            error.clone(),
            report.clone(),
            busy.clone(),
            version.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            let (ctx, error, report, busy, version) = (
                ctx.clone(),
                error.clone(),
                report.clone(),
                busy.clone(),
                version.clone(),
            );
            busy.set(true);
            report.set(None);
            wasm_bindgen_futures::spawn_local(async move {
                let r = api::verify_log().await;
                busy.set(false);
                if let Some(r) = ctx.take(r, &error) {
                    error.set(None);
                    report.set(Some(r));
                    version.set(*version + 1);
                }
            });
        })
    };
    let status_view = match &*status {
        None => html! { <p class="muted">{ "Loading…" }</p> },
        Some(s) => html! {
            <dl class="fields plain" id="log-status">
                <div class="field-view"><dt>{ "Entries" }</dt><dd id="log-size">{ s.size }</dd></div>
                <div class="field-view"><dt>{ "Checkpoints signed" }</dt><dd id="log-checkpoints">{ s.checkpoints }</dd></div>
                <div class="field-view"><dt>{ "Newest checkpoint" }</dt>
                    <dd id="log-last-checkpoint">{ match (&s.last_checkpoint_size, &s.last_checkpoint_root) {
                        (Some(n), Some(root)) => format!("{n} entries · root {}…", root.chars().take(16).collect::<String>()),
                        _ => "none yet".to_string(),
                    } }</dd></div>
                <div class="field-view"><dt>{ "Witnesses" }</dt>
                    <dd id="log-witnesses">{ if s.cosignatures == 0 {
                        "no cosignatures yet".to_string()
                    } else {
                        format!("{} cosignature{} · {:.0}% of stake{}", s.cosignatures,
                            if s.cosignatures == 1 { "" } else { "s" }, s.stake_fraction * 100.0,
                            if s.final_ { " · final" } else { "" })
                    } }</dd></div>
                <div class="field-view wide"><dt>{ "Verifier key (for witnesses)" }</dt>
                    <dd><code class="verifier" id="log-verifier">{ &s.verifier }</code></dd></div>
            </dl>
        },
    };
    let report_view = report.as_ref().map(|r| {
        html! {
            <div id="audit-report" class={classes!("audit-report", if r.ok() { "ok" } else { "bad" })}
                data-ok={r.ok().to_string()}>
                if r.ok() {
                    <p class="audit-ok" id="audit-ok" role="status">{ "Everything checks out" }</p>
                } else {
                    <div class="error" role="alert" id="audit-problems">
                        <strong>{ format!("{} problem{} found", r.problems.len(), if r.problems.len() == 1 { "" } else { "s" }) }</strong>
                        <ul>{ for r.problems.iter().map(|p| html! { <li class="audit-problem">{ p }</li> }) }</ul>
                    </div>
                }
                <p class="muted small">{ format!("Checked {} log entries, {} records, {} checkpoints.", r.entries, r.records, r.checkpoints) }</p>
                if !r.notes.is_empty() {
                    <ul class="audit-notes muted small">{ for r.notes.iter().map(|n| html! { <li>{ n }</li> }) }</ul>
                }
            </div>
        }
    });
    html! {
        <div class="audit-view" id="audit-view">
                <h2>{ "Audit log" }</h2>
                <p class="muted">{ "Every change and every view of a record is appended to this device's audit log. A signed checkpoint fixes its state; verifying checks that every record is covered by the log and that the checkpoints still match it." }</p>
                <section class="panel">
                    <h3>{ "Status" }</h3>
                    { status_view }
                    <div class="panel-actions">
                        <button id="sign-checkpoint" type="button" class="secondary" disabled={*busy} onclick={on_checkpoint}>{ "Sign checkpoint" }</button>
                        <button id="verify-log" type="button" class="primary" disabled={*busy} onclick={on_verify}>
                            { if *busy { "Working…" } else { "Verify log" } }
                        </button>
                    </div>
                    if let Some(n) = &*notice { <p class="saved-note small" id="checkpoint-notice" role="status">{ n }</p> }
                    if let Some(e) = &*error { <p class="error" role="alert" id="audit-error">{ e }</p> }
                </section>
                { for report_view }
                <super::export::research::ResearchExportPanel />
        </div>
    }
}
