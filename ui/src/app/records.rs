//! The main screen while the vault is open: header with Lock, the patient list with search,
//! and the selected patient's details, history or the add / edit form.
//!
//! All patient data lives in this component's state, so it is dropped when the vault locks
//! and the root swaps this screen for the unlock screen.

use std::rc::Rc;

use hearth_api::{ApiError, ErrorKind, HistoryEntry, Patient, PatientRow, VaultStatus};
use web_sys::HtmlInputElement;
use yew::prelude::*;

use super::detail::PatientDetail;
use super::form::PatientForm;
use super::list::PatientList;
use crate::api;

/// Inputs of [`Records`].
#[derive(Properties, PartialEq)]
pub struct Props {
    /// The vault (unlocked).
    pub status: VaultStatus,
    /// Called with the status after Lock.
    pub on_status: Callback<VaultStatus>,
    /// Called when a command found the vault locked.
    pub on_locked: Callback<()>,
}

/// What the right-hand pane shows.
#[derive(Clone, Copy, PartialEq, Default)]
enum Mode {
    #[default]
    View,
    Adding,
    Editing,
}

#[derive(Clone, PartialEq, Default)]
struct State {
    rows: Option<Vec<PatientRow>>,
    list_version: u32,
    selected: Option<String>,
    patient: Option<Patient>,
    history: Option<Vec<HistoryEntry>>,
    detail_version: u32,
    mode: Mode,
    error: Option<String>,
    filter: String,
}

enum Action {
    Rows(Vec<PatientRow>),
    Select(String),
    Loaded(Patient, Vec<HistoryEntry>),
    Add,
    Edit,
    Cancel,
    Saved(Patient),
    Error(String),
    DismissError,
    Filter(String),
}

impl Reducible for State {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut s = (*self).clone();
        match action {
            Action::Rows(rows) => s.rows = Some(rows),
            Action::Select(id) => {
                if s.selected.as_ref() != Some(&id) {
                    s.patient = None;
                    s.history = None;
                }
                s.selected = Some(id);
                s.mode = Mode::View;
                s.error = None;
            }
            Action::Loaded(p, h) => {
                if s.selected.as_ref() == Some(&p.id) {
                    s.patient = Some(p);
                    s.history = Some(h);
                }
            }
            Action::Add => {
                s.mode = Mode::Adding;
                s.error = None;
            }
            Action::Edit => {
                s.mode = if s.patient.is_some() {
                    Mode::Editing
                } else {
                    Mode::View
                }
            }
            Action::Cancel => s.mode = Mode::View,
            Action::Saved(p) => {
                s.mode = Mode::View;
                s.selected = Some(p.id.clone());
                s.patient = Some(p);
                s.list_version += 1;
                s.detail_version += 1;
            }
            Action::Error(e) => s.error = Some(e),
            Action::DismissError => s.error = None,
            Action::Filter(f) => s.filter = f,
        }
        Rc::new(s)
    }
}

/// Report a failed command: back to the unlock screen when locked, else a banner.
fn report(e: ApiError, state: &UseReducerDispatcher<State>, on_locked: &Callback<()>) {
    if e.kind == ErrorKind::Locked {
        on_locked.emit(());
    } else {
        state.dispatch(Action::Error(e.message));
    }
}

/// The main screen.
#[component]
pub fn Records(props: &Props) -> Html {
    let state = use_reducer(State::default);
    let dispatch = state.dispatcher();

    {
        let (dispatch, on_locked) = (dispatch.clone(), props.on_locked.clone());
        use_effect_with(state.list_version, move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                match api::list_patients().await {
                    Ok(rows) => dispatch.dispatch(Action::Rows(rows)),
                    Err(e) => report(e, &dispatch, &on_locked),
                }
            });
        });
    }
    {
        let (dispatch, on_locked) = (dispatch.clone(), props.on_locked.clone());
        use_effect_with(
            (state.selected.clone(), state.detail_version),
            move |(id, _)| {
                if let Some(id) = id.clone() {
                    wasm_bindgen_futures::spawn_local(async move {
                        let loaded = match api::get_patient(&id).await {
                            Ok(p) => api::patient_history(&id).await.map(|h| (p, h)),
                            Err(e) => Err(e),
                        };
                        match loaded {
                            Ok((p, h)) => dispatch.dispatch(Action::Loaded(p, h)),
                            Err(e) => report(e, &dispatch, &on_locked),
                        }
                    });
                }
            },
        );
    }

    let on_lock = {
        let (dispatch, on_status) = (dispatch.clone(), props.on_status.clone());
        let on_locked = props.on_locked.clone();
        Callback::from(move |_: MouseEvent| {
            let (dispatch, on_status) = (dispatch.clone(), on_status.clone());
            let on_locked = on_locked.clone();
            wasm_bindgen_futures::spawn_local(async move {
                match api::lock().await {
                    Ok(s) => on_status.emit(s),
                    Err(e) => report(e, &dispatch, &on_locked),
                }
            });
        })
    };
    let on_search = {
        let dispatch = dispatch.clone();
        Callback::from(move |e: InputEvent| {
            dispatch.dispatch(Action::Filter(
                e.target_unchecked_into::<HtmlInputElement>().value(),
            ))
        })
    };
    let on_add = {
        let dispatch = dispatch.clone();
        Callback::from(move |_: MouseEvent| dispatch.dispatch(Action::Add))
    };
    let on_select = {
        let dispatch = dispatch.clone();
        Callback::from(move |id: String| dispatch.dispatch(Action::Select(id)))
    };
    let on_edit = {
        let dispatch = dispatch.clone();
        Callback::from(move |()| dispatch.dispatch(Action::Edit))
    };
    let on_cancel = {
        let dispatch = dispatch.clone();
        Callback::from(move |()| dispatch.dispatch(Action::Cancel))
    };
    let on_saved = {
        let dispatch = dispatch.clone();
        Callback::from(move |p: Patient| dispatch.dispatch(Action::Saved(p)))
    };
    let on_dismiss = {
        let dispatch = dispatch.clone();
        Callback::from(move |_: MouseEvent| dispatch.dispatch(Action::DismissError))
    };

    let count = state.rows.as_ref().and_then(|r| match r.len() {
        0 => None,
        1 => Some("1 patient".to_string()),
        n => Some(format!("{n} patients")),
    });
    let pane = match (state.mode, &state.patient) {
        (Mode::Adding, _) => html! {
            <PatientForm key="add" editing={None::<Patient>} {on_saved} {on_cancel}
                on_locked={props.on_locked.clone()} />
        },
        (Mode::Editing, Some(p)) => html! {
            <PatientForm key={format!("edit-{}", p.id)} editing={Some(p.clone())} {on_saved} {on_cancel}
                on_locked={props.on_locked.clone()} />
        },
        (_, Some(p)) => html! {
            <PatientDetail patient={p.clone()} history={state.history.clone()} {on_edit} />
        },
        (_, None) if state.selected.is_some() => html! {
            <p class="placeholder muted">{ "Opening record…" }</p>
        },
        (_, None) => html! {
            <div class="placeholder">
                <h2>{ "Your patients" }</h2>
                <p class="muted">{ "Select a patient on the left to see their details and history, or add a new one." }</p>
            </div>
        },
    };

    html! {
        <div class="shell">
            <header class="topbar">
                <div class="brand"><span class="brand-mark small" aria-hidden="true">{ "H" }</span>{ "Hearth" }</div>
                <div class="vault-path" id="vault-path" title={props.status.path.clone()}>
                    <span class="lock-state">{ "Unlocked" }</span>
                    <code>{ props.status.path.clone() }</code>
                </div>
                <button id="lock-button" type="button" class="secondary" onclick={on_lock}>{ "Lock" }</button>
            </header>
            <div class="workspace">
                <aside class="sidebar">
                    <div class="sidebar-head">
                        <input id="search" type="search" placeholder="Search by name" aria-label="Search patients by name"
                            value={state.filter.clone()} oninput={on_search} />
                        <button id="add-patient" type="button" class="primary" onclick={on_add}>{ "Add patient" }</button>
                    </div>
                    <div class="list-area">
                        <PatientList rows={state.rows.clone()} filter={state.filter.clone()}
                            selected={state.selected.clone()} {on_select} />
                    </div>
                    if let Some(c) = count { <p class="list-count muted small">{ c }</p> }
                </aside>
                <section class="content">
                    if let Some(e) = &state.error {
                        <div class="banner error" id="error" role="alert">
                            <span>{ e }</span>
                            <button type="button" class="link" onclick={on_dismiss}>{ "Dismiss" }</button>
                        </div>
                    }
                    { pane }
                </section>
            </div>
        </div>
    }
}
