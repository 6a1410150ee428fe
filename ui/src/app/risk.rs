//! The risk panel beside a session note: flags worked out on this device over the note's
//! sentences — band, the sentences and the phrases that drove each flag, why — always labelled
//! a decision aid, not a diagnosis (research preview), with the patient's PHQ-9 item-9 status.
//! When the patient's consent does not permit on-device analysis, it says so and why; nothing
//! is analysed then.

use hearth_api::{NoteRiskView, RiskEvidence, RiskFlagView};
use yew::prelude::*;

use super::ctx::use_ctx;
use crate::api;

/// Properties of [`RiskPanel`].
#[derive(Properties, PartialEq)]
pub struct Props {
    /// The patient's record id.
    pub patient: AttrValue,
    /// The session note's record id.
    pub note: AttrValue,
    /// Changes when the note was saved (the panel analyses it again).
    pub version: u32,
}

fn evidence(e: &RiskEvidence) -> Html {
    html! {
        <li class="risk-evidence">
            <p class="risk-sentence">
                { for e.sentence.iter().map(|r| match r.weight {
                    Some(w) => html! { <mark class="risk-phrase" title={format!("removing it lowers the probability by {w:.2}")}>{ &r.text }</mark> },
                    None => html! { { &r.text } },
                }) }
            </p>
            <p class="muted small risk-why">{ format!("Why: {}.", e.why) }</p>
        </li>
    }
}

fn flag(f: &RiskFlagView) -> Html {
    html! {
        <div class="risk-flag" data-band={f.band.clone()}>
            <p class="risk-flag-head">
                <span class={classes!("badge", "risk-band", f.band.clone())}>{ &f.band }</span>
                <strong>{ &f.label }</strong>
                <span class="muted small">{ if f.probability >= f.threshold {
                    format!(" · probability {:.2} (threshold {:.2})", f.probability, f.threshold)
                } else {
                    format!(" · an explicit mention (model probability {:.2}, threshold {:.2})", f.probability, f.threshold)
                } }</span>
            </p>
            <ul class="risk-evidence-list">{ for f.evidence.iter().map(evidence) }</ul>
        </div>
    }
}

fn body(v: &NoteRiskView) -> Html {
    if let Some(why) = &v.refused {
        return html! {
            <p class="risk-off" id="risk-off">{ format!("Analysis is off: {why}") }</p>
        };
    }
    if let Some(why) = &v.model_missing {
        return html! { <p class="risk-off" id="risk-off">{ why }</p> };
    }
    html! {
        <>
            if v.flags.is_empty() {
                <p class="muted small" id="risk-none">{ "No risk language over the thresholds in this note." }</p>
            }
            { for v.flags.iter().map(flag) }
            if !v.suppressed.is_empty() {
                <details class="risk-suppressed small" id="risk-suppressed">
                    <summary>{ format!("Not counted for the patient ({})", v.suppressed.len()) }</summary>
                    <ul>
                        { for v.suppressed.iter().map(|s| html! {
                            <li>{ format!("“{}” — {} ({})", s.sentence, s.context, s.label) }</li>
                        }) }
                    </ul>
                </details>
            }
            <p class={classes!("risk-item9", "small", v.item9_positive.then_some("alert"))} id="risk-item9">{ &v.phq9_item9 }</p>
            <p class="muted small risk-model">{ format!("Model: {}", v.model) }</p>
        </>
    }
}

/// Risk flags for the open session note.
#[component]
pub fn RiskPanel(props: &Props) -> Html {
    let ctx = use_ctx();
    let view = use_state(|| None::<NoteRiskView>);
    let error = use_state(|| None::<String>);
    {
        let (ctx, view, error) = (ctx.clone(), view.clone(), error.clone());
        use_effect_with(
            (props.patient.clone(), props.note.clone(), props.version),
            move |(patient, note, _)| {
                let (patient, note) = (patient.clone(), note.clone());
                view.set(None);
                wasm_bindgen_futures::spawn_local(async move {
                    let r = api::note_risk(&patient, &note).await;
                    if let Some(v) = ctx.take(r, &error) {
                        error.set(None);
                        view.set(Some(v));
                    }
                });
            },
        );
    }
    html! {
        <aside class="risk-panel panel" id="risk-panel" aria-label="Risk flags">
            <h4>{ "Risk flags" }</h4>
            <p class="risk-notice small" id="risk-notice">{ "Decision aid, not a diagnosis — research preview" }</p>
            { match (&*view, &*error) {
                (_, Some(e)) => html! { <p class="error small" id="risk-error">{ e }</p> },
                (None, None) => html! { <p class="muted small" id="risk-loading"><progress></progress>{ " Analysing on this device…" }</p> },
                (Some(v), None) => body(v),
            } }
        </aside>
    }
}
