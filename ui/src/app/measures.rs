//! The Measures tab: record a PHQ-9 or GAD-7 (published items, 0–3 per item, every item
//! required), see the total, band, safety alert and reliable change, and each measure's
//! scores over time as a chart with its severity bands.

use std::rc::Rc;

use hearth_api::{Assessment, ErrorKind, Instrument, InstrumentForm, Scored, Stored};
use yew::prelude::*;

use super::chart::measure_chart;
use super::ctx::{instrument_key, setter, use_ctx};
use super::dates::{today, Day};
use super::emergency::ErrorNote;
use crate::api;

/// The safety alert's words.
const SAFETY: &str = "Item 9 answered above zero — assess risk now";

/// Inputs of [`MeasuresTab`].
#[derive(Properties, PartialEq)]
pub struct Props {
    /// The patient's record id.
    pub patient: String,
}

/// The change marker in words, for the measure named `name`.
fn change_words(change: Option<&str>, form: &InstrumentForm) -> String {
    let name = &form.name;
    match change {
        Some("reliable_improvement") => format!("▼ Reliable improvement since the previous {name}"),
        Some("reliable_deterioration") => {
            format!("▲ Reliable deterioration since the previous {name}")
        }
        Some(_) => format!(
            "No reliable change since the previous {name} (it takes {} points or more)",
            form.reliable_change_points
        ),
        None => format!("The first {name}: later ones will be compared with it"),
    }
}

/// The tab.
#[component]
pub fn MeasuresTab(props: &Props) -> Html {
    let ctx = use_ctx();
    let forms = use_state(|| None::<Rc<[InstrumentForm; 2]>>);
    let list = use_state(|| None::<Vec<(Stored<Assessment>, Scored)>>);
    let version = use_state(|| 0u32);
    let recording = use_state(|| None::<Instrument>);
    let result = use_state(|| None::<(Instrument, Scored)>);
    let error = use_state(|| None::<String>);

    {
        let (ctx, forms, error) = (ctx.clone(), forms.clone(), error.clone());
        use_effect_with((), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                let phq = api::instrument_form(Instrument::Phq9).await;
                let gad = api::instrument_form(Instrument::Gad7).await;
                if let (Some(p), Some(g)) = (ctx.take(phq, &error), ctx.take(gad, &error)) {
                    forms.set(Some(Rc::new([p, g])));
                }
            });
        });
    }
    {
        let (ctx, list, error) = (ctx.clone(), list.clone(), error.clone());
        use_effect_with((props.patient.clone(), *version), move |(patient, _)| {
            let patient = patient.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let r = api::list_assessments(&patient).await;
                if let Some(v) = ctx.take(r, &error) {
                    list.set(Some(v));
                }
            });
        });
    }

    let Some(all_forms) = (*forms).clone() else {
        return html! {
            <div class="measures">
                if let Some(e) = &*error { <ErrorNote id="measures-error" message={e.clone()} /> } else { <p class="muted">{ "Loading…" }</p> }
            </div>
        };
    };
    let form_of = |i: Instrument| match i {
        Instrument::Phq9 => &all_forms[0],
        Instrument::Gad7 => &all_forms[1],
    };
    let start = |i: Instrument| {
        let (recording, result) = (recording.clone(), result.clone());
        Callback::from(move |_: MouseEvent| {
            result.set(None);
            recording.set(Some(i));
        })
    };
    let on_cancel = {
        let recording = recording.clone();
        Callback::from(move |()| recording.set(None))
    };

    let result_card = (*result).clone().map(|(i, s)| {
        let form = form_of(i);
        html! {
            <section class="measure-result" id="measure-result" data-instrument={instrument_key(i)}>
                <p class="result-total">
                    <span class="big" id="result-total">{ s.total }</span>
                    <span class="muted">{ format!(" of {}", form.max_total) }</span>
                    <span class="result-band" id="result-band">{ format!("{} · {}", form.name, s.band) }</span>
                </p>
                if s.safety_alert {
                    <div class="safety-alert" id="safety-alert" role="alert">
                        <strong>{ SAFETY }</strong>
                        <span>{ " Ask about thoughts of death or self-harm today, and record your risk assessment and safety plan." }</span>
                    </div>
                }
                <p class={classes!("change", s.change.clone())} id="measure-change">{ change_words(s.change.as_deref(), form) }</p>
            </section>
        }
    });

    let recorder = (*recording).map(|i| {
        let (version, recording, result) = (version.clone(), recording.clone(), result.clone());
        let on_saved = Callback::from(move |s: Scored| {
            result.set(Some((i, s)));
            recording.set(None);
            version.set(*version + 1);
        });
        html! {
            <MeasureForm key={instrument_key(i)} form={form_of(i).clone()} patient={props.patient.clone()}
                {on_saved} on_cancel={on_cancel.clone()} />
        }
    });

    let items = (*list).clone().unwrap_or_default();
    let latest_alert = items
        .iter()
        .rev()
        .find(|(a, _)| a.record.instrument == Instrument::Phq9)
        .filter(|(_, s)| s.safety_alert)
        .map(|(a, _)| a.record.administered_on.clone());
    let sections = [Instrument::Phq9, Instrument::Gad7].into_iter().map(|i| {
        let form = form_of(i);
        let points: Vec<&(Stored<Assessment>, Scored)> =
            items.iter().filter(|(a, _)| a.record.instrument == i).collect();
        if points.is_empty() {
            return html! {};
        }
        let key = instrument_key(i);
        html! {
            <section class="measure-section" id={format!("measure-{key}")}>
                <h3>{ format!("{} over time", form.name) }</h3>
                <figure class="chart-figure">
                    { measure_chart(form, &points) }
                    <figcaption class="chart-legend muted small">
                        <span class="legend-point"></span>{ " total " }
                        <span class="legend-ring improvement">{ "▼" }</span>{ " reliable improvement " }
                        <span class="legend-ring deterioration">{ "▲" }</span>
                        { format!(" reliable deterioration (a change of {} points or more) · shaded: severity bands", form.reliable_change_points) }
                        if i == Instrument::Phq9 { <span class="legend-point alert"></span>{ " item 9 above zero" } }
                    </figcaption>
                </figure>
                <table class="measure-table" id={format!("table-{key}")}>
                    <thead><tr><th>{ "Date" }</th><th>{ "Total" }</th><th>{ "Severity" }</th><th>{ "Change" }</th></tr></thead>
                    <tbody>
                        { for points.iter().rev().map(|(a, s)| html! {
                            <tr key={a.info.id.clone()}>
                                <td>{ Day::parse(&a.record.administered_on).map_or(a.record.administered_on.clone(), Day::long) }</td>
                                <td class="num">{ s.total }</td>
                                <td>
                                    { &s.band }
                                    if s.safety_alert { <span class="badge alert-badge" title={SAFETY}>{ "item 9 > 0" }</span> }
                                </td>
                                <td>{ match s.change.as_deref() {
                                    Some("reliable_improvement") => "▼ reliable improvement",
                                    Some("reliable_deterioration") => "▲ reliable deterioration",
                                    Some(_) => "no reliable change",
                                    None => "—",
                                } }</td>
                            </tr>
                        }) }
                    </tbody>
                </table>
            </section>
        }
    });

    html! {
        <div class="measures" id="measures">
            <div class="tab-toolbar">
                <p class="muted small">{ "Standardised measures, scored as published. A change counts as reliable at 5 points (PHQ-9) or 4 points (GAD-7)." }</p>
                <div class="toolbar-buttons">
                    <button id="record-phq9" type="button" class="primary" onclick={start(Instrument::Phq9)}>{ "Record PHQ-9" }</button>
                    <button id="record-gad7" type="button" class="secondary" onclick={start(Instrument::Gad7)}>{ "Record GAD-7" }</button>
                </div>
            </div>
            if let Some(e) = &*error { <ErrorNote id="measures-error" message={e.clone()} /> }
            if let Some(date) = latest_alert {
                if result.is_none() {
                    <div class="safety-banner" id="latest-safety" role="status">
                        { format!("The latest PHQ-9 ({date}) has item 9 above zero: check that risk was assessed.") }
                    </div>
                }
            }
            { for result_card }
            { for recorder }
            if list.is_some() && items.is_empty() && recording.is_none() {
                <p class="muted" id="no-measures">{ "No measures recorded yet." }</p>
            }
            { for sections }
        </div>
    }
}

/// Answers so far, by item.
#[derive(Clone, PartialEq)]
struct Answers(Vec<Option<u32>>);

impl Reducible for Answers {
    type Action = (usize, u32);

    fn reduce(self: Rc<Self>, (item, value): (usize, u32)) -> Rc<Self> {
        let mut s = (*self).clone();
        if let Some(slot) = s.0.get_mut(item) {
            *slot = Some(value);
        }
        Rc::new(s)
    }
}

#[derive(Properties, PartialEq)]
struct FormProps {
    form: InstrumentForm,
    patient: String,
    on_saved: Callback<Scored>,
    on_cancel: Callback<()>,
}

/// The item (0-based) an `invalid_input` message names: "PHQ-9 item 4: …" → 3.
fn item_of(message: &str, name: &str) -> Option<usize> {
    let rest = message.strip_prefix(name)?.strip_prefix(" item ")?;
    let n: usize = rest.split(':').next()?.trim().parse().ok()?;
    n.checked_sub(1)
}

/// The questionnaire.
#[component]
fn MeasureForm(props: &FormProps) -> Html {
    let ctx = use_ctx();
    let form = &props.form;
    let answers = {
        let n = form.items.len();
        use_reducer(move || Answers(vec![None; n]))
    };
    let date = use_state(|| today().iso());
    let error = use_state(|| None::<(Option<usize>, String)>);
    let busy = use_state(|| false);
    let key = instrument_key(form.instrument);

    let onsubmit = {
        let (ctx, answers, date, error, busy) = (
            ctx.clone(),
            answers.clone(),
            date.clone(),
            error.clone(),
            busy.clone(),
        );
        let (patient, instrument, name) =
            (props.patient.clone(), form.instrument, form.name.clone());
        let on_saved = props.on_saved.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *busy {
                return;
            }
            // Answers up to the first unanswered item: the core then names that item.
            let given: Vec<u32> = answers.0.iter().map_while(|a| *a).collect();
            let a = Assessment {
                patient_id: patient.clone(),
                instrument,
                administered_on: date.trim().to_string(),
                answers: given,
            };
            busy.set(true);
            let (ctx, error, busy, on_saved, name) = (
                ctx.clone(),
                error.clone(),
                busy.clone(),
                on_saved.clone(),
                name.clone(),
            );
            wasm_bindgen_futures::spawn_local(async move {
                let r = api::add_assessment(&a).await;
                busy.set(false);
                match r {
                    Ok((_, scored)) => on_saved.emit(scored),
                    Err(e) if e.kind == ErrorKind::Locked => ctx.on_locked.emit(()),
                    Err(e) => error.set(Some((item_of(&e.message, &name), e.message))),
                }
            });
        })
    };
    let on_cancel = {
        let cb = props.on_cancel.clone();
        Callback::from(move |_: MouseEvent| cb.emit(()))
    };
    let bad_item = error.as_ref().and_then(|(i, _)| *i);
    let rows = form.items.iter().enumerate().map(|(i, text)| {
        let n = i + 1;
        let chosen = answers.0.get(i).copied().flatten();
        let cells = (0..form.scale.len()).map(|v| {
            let value = u32::try_from(v).unwrap_or(0);
            let id = format!("{key}-item-{n}-{v}");
            let onchange = {
                let answers = answers.dispatcher();
                Callback::from(move |_: Event| answers.dispatch((i, value)))
            };
            html! {
                <td class="answer">
                    <input type="radio" id={id.clone()} name={format!("{key}-item-{n}")} value={v.to_string()}
                        checked={chosen == Some(value)} {onchange} disabled={*busy}
                        aria-label={format!("Item {n}: {}", form.scale.get(v).cloned().unwrap_or_default())} />
                    <label for={id} class="answer-label">{ v }</label>
                </td>
            }
        });
        let invalid = bad_item == Some(i);
        html! {
            <tr class={classes!("item-row", invalid.then_some("invalid"), chosen.is_none().then_some("unanswered"))}
                id={format!("{key}-item-{n}")} key={n}>
                <th scope="row" class="item-text"><span class="item-num">{ format!("{n}.") }</span>{ text }</th>
                { for cells }
            </tr>
        }
    });
    let answered = answers.0.iter().filter(|a| a.is_some()).count();
    let running: u32 = answers.0.iter().flatten().sum();

    html! {
        <form class="measure-form" id="measure-form" data-instrument={key} {onsubmit} novalidate=true>
            <div class="measure-form-head">
                <h3>{ format!("Record {}", form.name) }</h3>
                <div class="form-field inline">
                    <label for="measure-date">{ "Date" }</label>
                    <input id="measure-date" type="date" value={(*date).clone()} oninput={setter(&date)} disabled={*busy} />
                </div>
            </div>
            <p class="stem">{ &form.stem }</p>
            <table class="items">
                <thead>
                    <tr>
                        <th></th>
                        { for form.scale.iter().enumerate().map(|(v, s)| html! { <th class="scale-head">{ format!("{v} · {s}") }</th> }) }
                    </tr>
                </thead>
                <tbody>{ for rows }</tbody>
            </table>
            if let Some((_, msg)) = &*error { <p class="error" role="alert" id="measure-error">{ msg }</p> }
            <div class="form-actions">
                <span class="muted small running">{ format!("{answered} of {} answered · total so far {running}", form.items.len()) }</span>
                <button type="button" class="secondary" onclick={on_cancel} disabled={*busy}>{ "Cancel" }</button>
                <button id="save-assessment" type="submit" class="primary" disabled={*busy}>
                    { if *busy { "Saving…" } else { "Save" } }
                </button>
            </div>
        </form>
    }
}
