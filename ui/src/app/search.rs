//! The search box in the header: full-text search across the open vault (patients, notes,
//! plans, file names), results with the patient's name, the kind and a snippet; a result opens
//! its record.

use std::cell::RefCell;
use std::rc::Rc;

use gloo_timers::callback::Timeout;
use hearth_api::SearchHit;
use yew::prelude::*;

use super::ctx::{on_input, use_ctx, Focus, Nav, Tab};
use super::semantic::SemanticResults;
use crate::api;

/// Wait this long after the last key before searching.
const DEBOUNCE_MS: u32 = 180;

fn kind_label(kind: &str) -> &str {
    match kind {
        "patient" => "Patient",
        "session-note" => "Session note",
        "psychotherapy-note" => "Psychotherapy note",
        "treatment-plan" => "Treatment plan",
        "attachment" => "File",
        other => other,
    }
}

/// Where a hit opens.
fn nav_for(hit: &SearchHit) -> Nav {
    let (tab, focus) = match hit.kind.as_str() {
        "session-note" => (Tab::Notes, Focus::Note(hit.record_id.clone())),
        "psychotherapy-note" => (Tab::Psychotherapy, Focus::Note(hit.record_id.clone())),
        "treatment-plan" => (Tab::Plan, Focus::None),
        "attachment" => (Tab::Files, Focus::File(hit.record_id.clone())),
        _ => (Tab::Overview, Focus::None),
    };
    Nav {
        patient: hit.patient_id.clone(),
        tab,
        focus,
    }
}

/// The search box and its results.
#[component]
pub fn GlobalSearch() -> Html {
    let ctx = use_ctx();
    let query = use_state(String::new);
    let hits = use_state(|| None::<Vec<SearchHit>>);
    let error = use_state(|| None::<String>);
    // Search by meaning (on-device model) instead of by words.
    let meaning = use_state(|| false);
    let timer = use_mut_ref(|| None::<Timeout>);
    // Only the newest query's answer is shown.
    let seq: Rc<RefCell<u32>> = use_mut_ref(|| 0);

    let oninput = {
        let (ctx, query, hits, error, timer, seq) = (
            ctx.clone(),
            query.clone(),
            hits.clone(),
            error.clone(),
            Rc::clone(&timer),
            Rc::clone(&seq),
        );
        on_input(Callback::from(move |q: String| {
            query.set(q.clone());
            *seq.borrow_mut() += 1;
            let mine = *seq.borrow();
            timer.borrow_mut().take();
            if q.trim().is_empty() {
                hits.set(None);
                error.set(None);
                return;
            }
            let (ctx, hits, error, seq) =
                (ctx.clone(), hits.clone(), error.clone(), Rc::clone(&seq));
            *timer.borrow_mut() = Some(Timeout::new(DEBOUNCE_MS, move || {
                wasm_bindgen_futures::spawn_local(async move {
                    let r = api::search(&q, 20).await;
                    if *seq.borrow() != mine {
                        return;
                    }
                    if let Some(v) = ctx.take(r, &error) {
                        error.set(None);
                        hits.set(Some(v));
                    }
                });
            }));
        }))
    };
    let close = {
        let (query, hits, error) = (query.clone(), hits.clone(), error.clone());
        let seq = Rc::clone(&seq);
        Callback::from(move |()| {
            *seq.borrow_mut() += 1;
            query.set(String::new());
            hits.set(None);
            error.set(None);
        })
    };
    let onkeydown = {
        let close = close.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Escape" {
                close.emit(());
            }
        })
    };

    let results = match (&*hits, &*error) {
        (_, Some(e)) => {
            html! { <div class="search-results" id="search-results"><p class="error small">{ e }</p></div> }
        }
        (None, None) => html! {},
        (Some(v), None) if v.is_empty() => html! {
            <div class="search-results" id="search-results">
                <p class="muted small search-empty">{ format!("Nothing matches “{}”.", query.trim()) }</p>
            </div>
        },
        (Some(v), None) => html! {
            <div class="search-results" id="search-results" role="listbox">
                { for v.iter().map(|h| {
                    let onclick = {
                        let (navigate, close, nav) = (ctx.navigate.clone(), close.clone(), nav_for(h));
                        Callback::from(move |_: MouseEvent| {
                            navigate.emit(nav.clone());
                            close.emit(());
                        })
                    };
                    html! {
                        <button type="button" class="search-hit" role="option" data-kind={h.kind.clone()}
                            data-id={h.record_id.clone()} {onclick}>
                            <span class="hit-head">
                                <span class="hit-name">{ if h.patient_name.is_empty() { "(unnamed)" } else { h.patient_name.as_str() } }</span>
                                <span class="hit-kind">{ kind_label(&h.kind) }</span>
                            </span>
                            <span class="hit-snippet">{ &h.snippet }</span>
                        </button>
                    }
                }) }
            </div>
        },
    };
    let results = if *meaning && !query.trim().is_empty() {
        html! { <SemanticResults query={(*query).clone()} on_open={close.clone()} /> }
    } else {
        results
    };
    let toggle = {
        let meaning = meaning.clone();
        Callback::from(move |_: MouseEvent| meaning.set(!*meaning))
    };
    html! {
        <div class="global-search">
            <input id="global-search" type="search" placeholder="Search notes, patients, plans, files…"
                aria-label="Search the records" autocomplete="off" value={(*query).clone()} {oninput} {onkeydown} />
            <button type="button" id="search-by-meaning" class={classes!("search-mode", meaning.then_some("on"))}
                aria-pressed={meaning.to_string()} title="Search session notes by meaning with the on-device model"
                onclick={toggle}>{ "By meaning" }</button>
            { results }
        </div>
    }
}
