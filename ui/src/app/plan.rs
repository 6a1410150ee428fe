//! The Treatment plan tab: problems → goals → measurable objectives and interventions, with
//! target and review dates and a status per goal. One plan per patient, edited as a whole.

use std::rc::Rc;

use hearth_api::{Goal, GoalStatus, HistoryEntry, Objective, Problem, Stored, TreatmentPlan};
use yew::prelude::*;

use super::ctx::{on_input, on_value, use_ctx};
use super::dates::{local_time, Day};
use super::emergency::ErrorNote;
use crate::api;

/// Inputs of [`PlanTab`].
#[derive(Properties, PartialEq)]
pub struct Props {
    /// The patient's record id.
    pub patient: String,
}

const STATUSES: [GoalStatus; 4] = [
    GoalStatus::NotStarted,
    GoalStatus::InProgress,
    GoalStatus::Met,
    GoalStatus::Discontinued,
];

fn status_label(s: GoalStatus) -> &'static str {
    match s {
        GoalStatus::NotStarted => "Not started",
        GoalStatus::InProgress => "In progress",
        GoalStatus::Met => "Met",
        GoalStatus::Discontinued => "Discontinued",
    }
}

fn status_key(s: GoalStatus) -> &'static str {
    match s {
        GoalStatus::NotStarted => "not_started",
        GoalStatus::InProgress => "in_progress",
        GoalStatus::Met => "met",
        GoalStatus::Discontinued => "discontinued",
    }
}

fn nice_date(d: &str) -> String {
    Day::parse(d).map_or_else(|| d.to_string(), Day::long)
}

/// The plan being edited.
#[derive(Clone, PartialEq, Default)]
struct Editing(TreatmentPlan);

/// One change to it.
type Change = Rc<dyn Fn(&mut TreatmentPlan)>;

impl Reducible for Editing {
    type Action = Change;

    fn reduce(self: Rc<Self>, f: Change) -> Rc<Self> {
        let mut s = (*self).clone();
        f(&mut s.0);
        Rc::new(s)
    }
}

/// A callback for `oninput` that changes the draft with the control's value.
fn text_cb(
    d: &UseReducerDispatcher<Editing>,
    f: impl Fn(&mut TreatmentPlan, String) + 'static,
) -> Callback<InputEvent> {
    let (d, f) = (d.clone(), Rc::new(f));
    on_input(Callback::from(move |v: String| {
        let f = Rc::clone(&f);
        d.dispatch(Rc::new(move |p: &mut TreatmentPlan| f(p, v.clone())));
    }))
}

/// A callback for `onclick` that changes the draft.
fn click_cb(
    d: &UseReducerDispatcher<Editing>,
    f: impl Fn(&mut TreatmentPlan) + 'static,
) -> Callback<MouseEvent> {
    let (d, f): (_, Change) = (d.clone(), Rc::new(f));
    Callback::from(move |_: MouseEvent| d.dispatch(Rc::clone(&f)))
}

fn goal_mut(p: &mut TreatmentPlan, pi: usize, gi: usize) -> Option<&mut Goal> {
    p.problems.get_mut(pi)?.goals.get_mut(gi)
}

/// The tab.
#[component]
pub fn PlanTab(props: &Props) -> Html {
    let ctx = use_ctx();
    let plan = use_state(|| None::<Option<Stored<TreatmentPlan>>>);
    let version = use_state(|| 0u32);
    let editing = use_state(|| false);
    let draft = use_reducer(Editing::default);
    let error = use_state(|| None::<String>);
    let busy = use_state(|| false);
    let saved = use_state(|| false);
    let history = use_state(|| None::<Vec<HistoryEntry>>);

    {
        let (ctx, plan, error) = (ctx.clone(), plan.clone(), error.clone());
        use_effect_with((props.patient.clone(), *version), move |(patient, _)| {
            let patient = patient.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let r = api::get_plan(&patient).await;
                if let Some(p) = ctx.take(r, &error) {
                    plan.set(Some(p));
                }
            });
        });
    }

    let Some(current) = (*plan).clone() else {
        return html! {
            <div class="plan">
                if let Some(e) = &*error { <ErrorNote id="plan-load-error" message={e.clone()} /> } else { <p class="muted">{ "Loading…" }</p> }
            </div>
        };
    };

    let dispatch = draft.dispatcher();

    let start_edit = {
        let (editing, dispatch, saved) = (editing.clone(), dispatch.clone(), saved.clone());
        let (patient, existing) = (
            props.patient.clone(),
            current.as_ref().map(|s| s.record.clone()),
        );
        Callback::from(move |_: MouseEvent| {
            let mut p = existing.clone().unwrap_or_else(|| TreatmentPlan {
                patient_id: patient.clone(),
                problems: Vec::new(),
            });
            if p.problems.is_empty() {
                p.problems.push(Problem {
                    text: String::new(),
                    goals: vec![Goal::default()],
                });
            }
            dispatch.dispatch(Rc::new(move |d: &mut TreatmentPlan| *d = p.clone()));
            saved.set(false);
            editing.set(true);
        })
    };
    let cancel = {
        let (editing, error) = (editing.clone(), error.clone());
        Callback::from(move |_: MouseEvent| {
            error.set(None);
            editing.set(false);
        })
    };
    let onsubmit = {
        let (ctx, error, busy, editing, version, saved, draft) = (
            ctx.clone(),
            error.clone(),
            busy.clone(),
            editing.clone(),
            version.clone(),
            saved.clone(),
            draft.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let p = draft.0.clone();
            let (ctx, error, busy, editing, version, saved) = (
                ctx.clone(),
                error.clone(),
                busy.clone(),
                editing.clone(),
                version.clone(),
                saved.clone(),
            );
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                let r = api::save_plan(&p).await;
                busy.set(false);
                if ctx.take(r, &error).is_some() {
                    error.set(None);
                    editing.set(false);
                    saved.set(true);
                    version.set(*version + 1);
                }
            });
        })
    };
    let toggle_history = {
        let (ctx, history, error) = (ctx.clone(), history.clone(), error.clone());
        let id = current.as_ref().map(|s| s.info.id.clone());
        Callback::from(move |_: MouseEvent| {
            if history.is_some() {
                history.set(None);
                return;
            }
            let Some(id) = id.clone() else { return };
            let (ctx, history, error) = (ctx.clone(), history.clone(), error.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let r = api::plan_history(&id).await;
                if let Some(h) = ctx.take(r, &error) {
                    history.set(Some(h));
                }
            });
        })
    };

    if *editing {
        let p = &draft.0;
        let problems = p.problems.iter().enumerate().map(|(pi, problem)| {
            let goals = problem.goals.iter().enumerate().map(|(gi, g)| {
                let objectives = g.objectives.iter().enumerate().map(|(oi, o)| html! {
                    <div class="plan-row" key={oi}>
                        <input type="text" placeholder="Objective (what will change)" aria-label={format!("Objective {}", oi + 1)}
                            value={o.text.clone()} oninput={text_cb(&dispatch, move |p, v| {
                                if let Some(o) = goal_mut(p, pi, gi).and_then(|g| g.objectives.get_mut(oi)) { o.text = v; }
                            })} />
                        <input type="text" placeholder="Measured by (e.g. PHQ-9 below 10)" aria-label={format!("Objective {} measure", oi + 1)}
                            value={o.measure.clone()} oninput={text_cb(&dispatch, move |p, v| {
                                if let Some(o) = goal_mut(p, pi, gi).and_then(|g| g.objectives.get_mut(oi)) { o.measure = v; }
                            })} />
                        <button type="button" class="link small" onclick={click_cb(&dispatch, move |p| {
                            if let Some(g) = goal_mut(p, pi, gi) { if oi < g.objectives.len() { g.objectives.remove(oi); } }
                        })}>{ "Remove" }</button>
                    </div>
                });
                let interventions = g.interventions.iter().enumerate().map(|(ii, text)| html! {
                    <div class="plan-row" key={ii}>
                        <input type="text" placeholder="Intervention (e.g. CBT, weekly)" aria-label={format!("Intervention {}", ii + 1)}
                            value={text.clone()} oninput={text_cb(&dispatch, move |p, v| {
                                if let Some(i) = goal_mut(p, pi, gi).and_then(|g| g.interventions.get_mut(ii)) { *i = v; }
                            })} />
                        <button type="button" class="link small" onclick={click_cb(&dispatch, move |p| {
                            if let Some(g) = goal_mut(p, pi, gi) { if ii < g.interventions.len() { g.interventions.remove(ii); } }
                        })}>{ "Remove" }</button>
                    </div>
                });
                let on_status = {
                    let d = dispatch.clone();
                    on_value(Callback::from(move |v: String| {
                        let s = STATUSES.into_iter().find(|s| status_key(*s) == v).unwrap_or_default();
                        d.dispatch(Rc::new(move |p: &mut TreatmentPlan| {
                            if let Some(g) = goal_mut(p, pi, gi) { g.status = s; }
                        }));
                    }))
                };
                html! {
                    <div class="plan-goal-edit" key={gi}>
                        <div class="form-field">
                            <label for={format!("goal-{pi}-{gi}")}>{ format!("Goal {}", gi + 1) }</label>
                            <input id={format!("goal-{pi}-{gi}")} type="text" value={g.text.clone()}
                                oninput={text_cb(&dispatch, move |p, v| { if let Some(g) = goal_mut(p, pi, gi) { g.text = v; } })} />
                        </div>
                        <div class="form-row three">
                            <div class="form-field">
                                <label for={format!("goal-{pi}-{gi}-status")}>{ "Status" }</label>
                                <select id={format!("goal-{pi}-{gi}-status")} onchange={on_status}>
                                    { for STATUSES.into_iter().map(|s| html! {
                                        <option value={status_key(s)} selected={s == g.status}>{ status_label(s) }</option>
                                    }) }
                                </select>
                            </div>
                            <div class="form-field">
                                <label for={format!("goal-{pi}-{gi}-target")}>{ "Target date" }</label>
                                <input id={format!("goal-{pi}-{gi}-target")} type="date" value={g.target_date.clone()}
                                    oninput={text_cb(&dispatch, move |p, v| { if let Some(g) = goal_mut(p, pi, gi) { g.target_date = v; } })} />
                            </div>
                            <div class="form-field">
                                <label for={format!("goal-{pi}-{gi}-review")}>{ "Review date" }</label>
                                <input id={format!("goal-{pi}-{gi}-review")} type="date" value={g.review_date.clone()}
                                    oninput={text_cb(&dispatch, move |p, v| { if let Some(g) = goal_mut(p, pi, gi) { g.review_date = v; } })} />
                            </div>
                        </div>
                        <p class="sub-label">{ "Measurable objectives" }</p>
                        { for objectives }
                        <button type="button" class="link small" onclick={click_cb(&dispatch, move |p| {
                            if let Some(g) = goal_mut(p, pi, gi) { g.objectives.push(Objective::default()); }
                        })}>{ "+ Add objective" }</button>
                        <p class="sub-label">{ "Interventions" }</p>
                        { for interventions }
                        <button type="button" class="link small" onclick={click_cb(&dispatch, move |p| {
                            if let Some(g) = goal_mut(p, pi, gi) { g.interventions.push(String::new()); }
                        })}>{ "+ Add intervention" }</button>
                        <div class="remove-goal">
                            <button type="button" class="link small danger-link" onclick={click_cb(&dispatch, move |p| {
                                if let Some(pr) = p.problems.get_mut(pi) { if gi < pr.goals.len() { pr.goals.remove(gi); } }
                            })}>{ "Remove goal" }</button>
                        </div>
                    </div>
                }
            });
            html! {
                <fieldset class="plan-problem-edit" key={pi}>
                    <legend>{ format!("Problem {}", pi + 1) }</legend>
                    <div class="form-field">
                        <label for={format!("problem-{pi}")}>{ "Problem" }</label>
                        <input id={format!("problem-{pi}")} type="text" value={problem.text.clone()}
                            placeholder="e.g. Depressed mood affecting work"
                            oninput={text_cb(&dispatch, move |p, v| { if let Some(pr) = p.problems.get_mut(pi) { pr.text = v; } })} />
                    </div>
                    { for goals }
                    <div class="plan-edit-actions">
                        <button type="button" class="secondary small-button" onclick={click_cb(&dispatch, move |p| {
                            if let Some(pr) = p.problems.get_mut(pi) { pr.goals.push(Goal::default()); }
                        })}>{ "Add goal" }</button>
                        <button type="button" class="link small danger-link" onclick={click_cb(&dispatch, move |p| {
                            if pi < p.problems.len() { p.problems.remove(pi); }
                        })}>{ "Remove problem" }</button>
                    </div>
                </fieldset>
            }
        });
        return html! {
            <form class="plan plan-edit" id="plan-form" {onsubmit} novalidate=true>
                { for problems }
                <button id="add-problem" type="button" class="secondary" onclick={click_cb(&dispatch, |p| {
                    p.problems.push(Problem { text: String::new(), goals: vec![Goal::default()] });
                })}>{ "Add problem" }</button>
                if let Some(e) = &*error { <p class="error" role="alert" id="plan-error">{ e }</p> }
                <div class="form-actions">
                    <button type="button" class="secondary" onclick={cancel} disabled={*busy}>{ "Cancel" }</button>
                    <button id="save-plan" type="submit" class="primary" disabled={*busy}>
                        { if *busy { "Saving…" } else { "Save plan" } }
                    </button>
                </div>
            </form>
        };
    }

    let Some(stored) = current else {
        return html! {
            <div class="plan" id="plan">
                <div class="placeholder">
                    <p class="muted" id="no-plan">{ "No treatment plan yet. A plan lists the problems being worked on, the goals for each, how progress is measured and what is being done." }</p>
                    <button id="create-plan" type="button" class="primary" onclick={start_edit}>{ "Create treatment plan" }</button>
                </div>
                if let Some(e) = &*error { <p class="error" role="alert">{ e }</p> }
            </div>
        };
    };
    let problems = stored.record.problems.iter().enumerate().map(|(pi, pr)| html! {
        <section class="plan-problem" key={pi}>
            <h4>{ format!("Problem {} · ", pi + 1) }<span class="problem-text">{ &pr.text }</span></h4>
            { for pr.goals.iter().enumerate().map(|(gi, g)| html! {
                <div class="plan-goal" key={gi}>
                    <div class="goal-head">
                        <span class="goal-text">{ &g.text }</span>
                        <span class={classes!("status-badge", status_key(g.status).replace('_', "-"))}>{ status_label(g.status) }</span>
                    </div>
                    if !g.target_date.is_empty() || !g.review_date.is_empty() {
                        <p class="muted small">
                            if !g.target_date.is_empty() { { format!("Target {}", nice_date(&g.target_date)) } }
                            if !g.target_date.is_empty() && !g.review_date.is_empty() { { " · " } }
                            if !g.review_date.is_empty() { { format!("Review {}", nice_date(&g.review_date)) } }
                        </p>
                    }
                    if !g.objectives.is_empty() {
                        <ul class="objectives">
                            { for g.objectives.iter().map(|o| html! {
                                <li>{ &o.text }<span class="muted">{ format!(" — measured by {}", o.measure) }</span></li>
                            }) }
                        </ul>
                    }
                    if !g.interventions.is_empty() {
                        <p class="small"><span class="muted">{ "Interventions: " }</span>{ g.interventions.join("; ") }</p>
                    }
                </div>
            }) }
        </section>
    });
    html! {
        <div class="plan" id="plan">
            <div class="tab-toolbar">
                <p class="muted small">{ format!("Last changed {}", local_time(&stored.info.updated_at)) }</p>
                <div class="toolbar-buttons">
                    <button type="button" class="link small" id="plan-history-toggle" onclick={toggle_history}>
                        { if history.is_some() { "Hide history" } else { "History" } }
                    </button>
                    <button id="edit-plan" type="button" class="primary" onclick={start_edit}>{ "Edit plan" }</button>
                </div>
            </div>
            if *saved { <p class="saved-note small" id="plan-saved" role="status">{ "Plan saved." }</p> }
            if let Some(e) = &*error { <p class="error" role="alert">{ e }</p> }
            if stored.record.problems.is_empty() { <p class="muted">{ "The plan is empty." }</p> }
            { for problems }
            if let Some(h) = &*history {
                <ol class="history" id="plan-history">
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
