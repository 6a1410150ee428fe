//! Search by meaning: the search box's second mode. Session notes ranked by the on-device
//! model (fused with full-text matches), each with its patient and the passage that matched;
//! the patients left out and the consent reason; a progress line while the model loads or
//! notes are indexed; and, without the model, a plain message (full text still answers).

use std::cell::RefCell;
use std::rc::Rc;

use gloo_timers::callback::{Interval, Timeout};
use hearth_api::{IndexStatus, ModelState, NotAnalysed, SemanticHit, SemanticReply};
use yew::prelude::*;

use super::ctx::{use_ctx, Focus, Nav, Tab};
use crate::api;

/// Wait this long after the last key before searching.
const DEBOUNCE_MS: u32 = 250;
/// How often the indexing state is asked for while the panel is open.
const POLL_MS: u32 = 500;
/// Results asked for.
const LIMIT: usize = 20;

/// Properties of [`SemanticResults`].
#[derive(Properties, PartialEq)]
pub struct Props {
    /// The query as typed.
    pub query: AttrValue,
    /// A result was opened (close the search).
    pub on_open: Callback<()>,
}

/// The progress line: the model loading, notes being indexed, or why it is off.
fn progress(s: &IndexStatus) -> Html {
    match s.model {
        ModelState::Missing => html! {
            <p class="semantic-off small" id="semantic-off">
                { s.model_message.clone().unwrap_or_else(|| "Semantic search is off: the on-device model is not installed — run make setup. Full-text search still works.".into()) }
            </p>
        },
        ModelState::Loading => html! {
            <p class="semantic-progress small muted" id="semantic-progress">
                <progress></progress>{ " Loading the on-device model…" }
            </p>
        },
        _ if s.indexing && s.total > 0 => html! {
            <p class="semantic-progress small muted" id="semantic-progress">
                <progress max={s.total.to_string()} value={s.done.to_string()}></progress>
                { format!(" Indexing {}/{} notes…", s.done, s.total) }
            </p>
        },
        _ if s.indexing => html! {
            <p class="semantic-progress small muted" id="semantic-progress">
                <progress></progress>{ " Checking which notes need indexing…" }
            </p>
        },
        _ => match &s.error {
            Some(e) => html! { <p class="error small" id="semantic-error">{ e }</p> },
            None => html! {},
        },
    }
}

fn how(h: &SemanticHit) -> String {
    match (h.similarity, h.text_match) {
        (Some(s), true) => format!("meaning {:.0}% · words", s * 100.0),
        (Some(s), false) => format!("meaning {:.0}%", s * 100.0),
        (None, _) => "words".into(),
    }
}

fn skipped_list(v: &[NotAnalysed]) -> Html {
    if v.is_empty() {
        return html! {};
    }
    html! {
        <div class="semantic-skipped small" id="semantic-skipped">
            <p class="muted">{ "Not searched by meaning (consent):" }</p>
            <ul>
                { for v.iter().map(|p| html! {
                    <li data-id={p.patient_id.clone()}>
                        <strong>{ if p.patient_name.is_empty() { p.patient_id.as_str() } else { p.patient_name.as_str() } }</strong>
                        { " — " }{ &p.reason }
                    </li>
                }) }
            </ul>
        </div>
    }
}

/// Results by meaning for the query, with the indexing state.
#[component]
pub fn SemanticResults(props: &Props) -> Html {
    let ctx = use_ctx();
    let status = use_state(IndexStatus::default);
    let reply = use_state(|| None::<SemanticReply>);
    let error = use_state(|| None::<String>);
    // Bumped when an indexing run finishes, so the results include what it embedded.
    let generation = use_state(|| 0u32);
    let seq: Rc<RefCell<u32>> = use_mut_ref(|| 0);

    {
        // On open: ask for indexing, then follow the state until the panel closes.
        let (status, generation) = (status.clone(), generation.clone());
        use_effect_with((), move |_| {
            let was_busy = Rc::new(RefCell::new(true));
            let apply = {
                let was_busy = Rc::clone(&was_busy);
                move |s: IndexStatus,
                      status: &UseStateHandle<IndexStatus>,
                      generation: &UseStateHandle<u32>| {
                    let busy = s.indexing || s.model == ModelState::Loading;
                    if *was_busy.borrow() && !busy {
                        generation.set(**generation + 1);
                    }
                    *was_busy.borrow_mut() = busy;
                    status.set(s);
                }
            };
            {
                let (status, generation, apply) =
                    (status.clone(), generation.clone(), apply.clone());
                wasm_bindgen_futures::spawn_local(async move {
                    if let Ok(s) = api::start_indexing().await {
                        apply(s, &status, &generation);
                    }
                });
            }
            let interval = Interval::new(POLL_MS, move || {
                let (status, generation, apply) =
                    (status.clone(), generation.clone(), apply.clone());
                wasm_bindgen_futures::spawn_local(async move {
                    if let Ok(s) = api::semantic_status().await {
                        if s != *status {
                            apply(s, &status, &generation);
                        }
                    }
                });
            });
            move || drop(interval)
        });
    }
    {
        let (ctx, reply, error, seq) = (ctx.clone(), reply.clone(), error.clone(), Rc::clone(&seq));
        use_effect_with((props.query.clone(), *generation), move |(q, _)| {
            *seq.borrow_mut() += 1;
            let mine = *seq.borrow();
            let q = q.trim().to_string();
            let timer = (!q.is_empty()).then(|| {
                Timeout::new(DEBOUNCE_MS, move || {
                    wasm_bindgen_futures::spawn_local(async move {
                        let r = api::semantic_search(&q, LIMIT).await;
                        if *seq.borrow() != mine {
                            return;
                        }
                        if let Some(v) = ctx.take(r, &error) {
                            error.set(None);
                            reply.set(Some(v));
                        }
                    });
                })
            });
            move || drop(timer)
        });
    }

    let body = match (&*reply, &*error) {
        (_, Some(e)) => html! { <p class="error small">{ e }</p> },
        (None, None) => html! { <p class="muted small">{ "Searching by meaning…" }</p> },
        (Some(r), None) => {
            let off = r
                .off
                .as_ref()
                .filter(|_| status.model != ModelState::Missing)
                .map(|o| html! { <p class="semantic-off small" id="semantic-off">{ o }</p> });
            let hits = if r.hits.is_empty() {
                html! { <p class="muted small search-empty">{ format!("No note matches “{}” by meaning.", props.query.trim()) }</p> }
            } else {
                html! {
                    { for r.hits.iter().map(|h| {
                        let onclick = {
                            let (navigate, on_open) = (ctx.navigate.clone(), props.on_open.clone());
                            let nav = Nav {
                                patient: h.patient_id.clone(),
                                tab: Tab::Notes,
                                focus: Focus::Note(h.record_id.clone()),
                            };
                            Callback::from(move |_: MouseEvent| {
                                navigate.emit(nav.clone());
                                on_open.emit(());
                            })
                        };
                        html! {
                            <button type="button" class="search-hit semantic-hit" role="option"
                                data-id={h.record_id.clone()} {onclick}>
                                <span class="hit-head">
                                    <span class="hit-name">{ if h.patient_name.is_empty() { "(unnamed)" } else { h.patient_name.as_str() } }</span>
                                    <span class="hit-kind">{ how(h) }</span>
                                </span>
                                <mark class="hit-passage">{ &h.passage }</mark>
                            </button>
                        }
                    }) }
                }
            };
            html! { <>{ for off }{ hits }{ skipped_list(&r.skipped) }</> }
        }
    };
    html! {
        <div class="search-results semantic-results" id="semantic-results" role="listbox">
            { progress(&status) }
            { body }
        </div>
    }
}
