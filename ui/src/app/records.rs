//! The main screen while the vault is open: the header (Patients / Calendar / Clinic / Audit & exports,
//! search, Lock), and either the patient list with the selected patient's record, the
//! calendar, or the audit view.
//!
//! All patient data lives in this component's state and its children's, so it is dropped when
//! the vault locks and the root swaps this screen for the unlock screen.

use std::rc::Rc;

use hearth_api::{ApiError, ErrorKind, HistoryEntry, Patient, PatientRow, VaultStatus};
use web_sys::HtmlInputElement;
use yew::prelude::*;

use super::audit::AuditView;
use super::calendar::Calendar;
use super::clinic::Clinic;
use super::ctx::{Ctx, Focus, Nav, Tab};
use super::detail::PatientDetail;
use super::form::PatientForm;
use super::list::{PatientList, StatusFilter};
use super::search::GlobalSearch;
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

/// The top-level screens.
#[derive(Clone, Copy, PartialEq, Default)]
enum View {
    #[default]
    Patients,
    Calendar,
    Clinic,
    Audit,
}

#[derive(Clone, PartialEq, Default)]
struct State {
    view: View,
    rows: Option<Vec<PatientRow>>,
    list_version: u32,
    selected: Option<String>,
    patient: Option<Patient>,
    history: Option<Vec<HistoryEntry>>,
    detail_version: u32,
    mode: Mode,
    tab: Tab,
    focus: Focus,
    /// Bumped on every navigation, so the same focus twice opens it again.
    focus_nonce: u32,
    error: Option<String>,
    filter: String,
    status_filter: StatusFilter,
    signer: Rc<String>,
}

enum Action {
    Rows(Vec<PatientRow>),
    Select(String),
    Loaded(Patient, Vec<HistoryEntry>),
    Add,
    Edit,
    Cancel,
    /// Saved from the form: back to the Overview.
    Saved(Patient),
    /// Changed in a tab (diagnoses, restore): stay there.
    Changed(Patient),
    Error(String),
    DismissError,
    Filter(String),
    StatusFilter(StatusFilter),
    View(View),
    Tab(Tab),
    Navigate(Nav),
    Signer(String),
    PatientsChanged,
    /// Clinic sync brought records in the background: refresh the list only, never the open
    /// chart (that would reset a form or a wizard the user is in).
    SyncedIn,
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
                    s.tab = Tab::Overview;
                }
                s.selected = Some(id);
                s.view = View::Patients;
                s.mode = Mode::View;
                s.focus = Focus::None;
                s.error = None;
            }
            Action::Loaded(p, h) => {
                if s.selected.as_ref() == Some(&p.id) {
                    s.patient = Some(p);
                    s.history = Some(h);
                }
            }
            Action::Add => {
                s.view = View::Patients;
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
                s.tab = Tab::Overview;
                s.selected = Some(p.id.clone());
                s.patient = Some(p);
                s.list_version += 1;
                s.detail_version += 1;
            }
            Action::Changed(p) => {
                if s.selected.as_ref() != Some(&p.id) {
                    return self;
                }
                s.patient = Some(p);
                s.list_version += 1;
                s.detail_version += 1;
            }
            Action::Error(e) => s.error = Some(e),
            Action::DismissError => s.error = None,
            Action::Filter(f) => s.filter = f,
            Action::StatusFilter(f) => s.status_filter = f,
            Action::View(v) => {
                s.view = v;
                s.error = None;
            }
            Action::Tab(t) => {
                s.tab = t;
                s.focus = Focus::None;
                s.mode = Mode::View;
            }
            Action::Navigate(nav) => {
                if s.selected.as_ref() != Some(&nav.patient) {
                    s.patient = None;
                    s.history = None;
                }
                s.view = View::Patients;
                s.selected = Some(nav.patient);
                s.tab = nav.tab;
                s.focus = nav.focus;
                s.focus_nonce += 1;
                s.mode = Mode::View;
                s.error = None;
            }
            Action::Signer(name) => s.signer = Rc::new(name),
            Action::PatientsChanged => {
                s.list_version += 1;
                s.detail_version += 1;
            }
            Action::SyncedIn => s.list_version += 1,
        }
        Rc::new(s)
    }
}

/// Report a failed command: back to the unlock screen when locked, else a banner.
fn report(e: ApiError, state: &UseReducerDispatcher<State>, on_locked: &Callback<()>) {
    if e.kind == ErrorKind::Locked {
        on_locked.emit(());
    } else {
        state.dispatch(Action::Error(super::ctx::error_text(&e)));
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

    // A new place starts at its top (the content area keeps its scroll otherwise).
    use_effect_with(
        (
            state.selected.clone(),
            state.mode,
            state.tab,
            state.view,
            state.focus_nonce,
        ),
        |_| {
            let content = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.query_selector(".workspace .content").ok().flatten());
            if let Some(el) = content {
                el.set_scroll_top(0);
            }
        },
    );

    {
        // Records that clinic sync brought in (in the background too) show up in the list.
        let d = dispatch.clone();
        use_effect_with(props.status.synced_in, move |n| {
            if *n > 0 {
                d.dispatch(Action::SyncedIn);
            }
        });
    }

    let ctx = {
        let d = dispatch.clone();
        let navigate = Callback::from(move |nav: Nav| d.dispatch(Action::Navigate(nav)));
        let d = dispatch.clone();
        let set_signer = Callback::from(move |name: String| d.dispatch(Action::Signer(name)));
        let d = dispatch.clone();
        let patients_changed = Callback::from(move |()| d.dispatch(Action::PatientsChanged));
        let deps = (Rc::clone(&state.signer), props.on_locked.clone());
        use_memo(deps, move |(signer, on_locked)| Ctx {
            on_locked: on_locked.clone(),
            navigate,
            signer: Rc::clone(signer),
            set_signer,
            patients_changed,
        })
    };

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
    let on_status_filter = {
        let dispatch = dispatch.clone();
        Callback::from(move |f: StatusFilter| dispatch.dispatch(Action::StatusFilter(f)))
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
    let on_changed = {
        let dispatch = dispatch.clone();
        Callback::from(move |p: Patient| dispatch.dispatch(Action::Changed(p)))
    };
    let on_tab = {
        let dispatch = dispatch.clone();
        Callback::from(move |t: Tab| dispatch.dispatch(Action::Tab(t)))
    };
    let on_dismiss = {
        let dispatch = dispatch.clone();
        Callback::from(move |_: MouseEvent| dispatch.dispatch(Action::DismissError))
    };
    let nav = |v: View| {
        let dispatch = dispatch.clone();
        Callback::from(move |_: MouseEvent| dispatch.dispatch(Action::View(v)))
    };

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
            <PatientDetail key={p.id.clone()} patient={p.clone()} history={state.history.clone()}
                tab={state.tab} focus={state.focus.clone()} focus_nonce={state.focus_nonce}
                {on_edit} {on_tab} {on_changed} />
        },
        (_, None) if state.selected.is_some() => html! {
            <p class="placeholder muted">{ "Opening record…" }</p>
        },
        (_, None) => html! {
            <div class="placeholder">
                <h2>{ "Your patients" }</h2>
                <p class="muted">{ "Select a patient on the left to see their record, or add a new one." }</p>
            </div>
        },
    };
    let error_banner = state.error.as_ref().map(|e| {
        html! {
            <div class="banner error" id="error" role="alert">
                <span>{ e }</span>
                <button type="button" class="link" onclick={on_dismiss.clone()}>{ "Dismiss" }</button>
            </div>
        }
    });
    let body = match state.view {
        View::Calendar => html! {
            <section class="content calendar-content">
                { for error_banner }
                <Calendar />
            </section>
        },
        View::Clinic => html! {
            <section class="content clinic-content">
                { for error_banner }
                <Clinic />
            </section>
        },
        View::Audit => html! {
            <section class="content audit-content">
                { for error_banner }
                <AuditView />
            </section>
        },
        View::Patients => html! {
            <>
                <aside class="sidebar">
                    <div class="sidebar-head">
                        <input id="search" type="search" placeholder="Filter by name" aria-label="Filter patients by name"
                            value={state.filter.clone()} oninput={on_search} />
                        <button id="add-patient" type="button" class="primary" onclick={on_add}>{ "Add patient" }</button>
                    </div>
                    <div class="list-area">
                        <PatientList rows={state.rows.clone()} filter={state.filter.clone()}
                            status={state.status_filter} on_status={on_status_filter}
                            selected={state.selected.clone()} {on_select} />
                    </div>
                </aside>
                <section class="content">
                    { for error_banner }
                    { pane }
                </section>
            </>
        },
    };
    let current = |v: View| (state.view == v).then_some("true");

    html! {
        <ContextProvider<Ctx> context={(*ctx).clone()}>
            <div class="shell">
                <header class="topbar">
                    <div class="brand"><span class="brand-mark small" aria-hidden="true">{ "H" }</span>{ "Hearth" }</div>
                    <nav class="main-nav" aria-label="Main">
                        <button id="nav-patients" type="button" class="nav-link" aria-current={current(View::Patients)}
                            onclick={nav(View::Patients)}>{ "Patients" }</button>
                        <button id="nav-calendar" type="button" class="nav-link" aria-current={current(View::Calendar)}
                            onclick={nav(View::Calendar)}>{ "Calendar" }</button>
                        <button id="nav-clinic" type="button" class="nav-link" aria-current={current(View::Clinic)}
                            onclick={nav(View::Clinic)}>{ "Clinic" }</button>
                        <button id="nav-audit" type="button" class="nav-link" aria-current={current(View::Audit)}
                            onclick={nav(View::Audit)}>{ "Audit & exports" }</button>
                    </nav>
                    <GlobalSearch />
                    <div class="vault-path" id="vault-path" title={props.status.path.clone()}>
                        <span class="lock-state">{ "Unlocked" }</span>
                        <code>{ props.status.path.clone() }</code>
                    </div>
                    <button id="lock-button" type="button" class="secondary" onclick={on_lock}>{ "Lock" }</button>
                </header>
                <div class="workspace">{ body }</div>
            </div>
        </ContextProvider<Ctx>>
    }
}
