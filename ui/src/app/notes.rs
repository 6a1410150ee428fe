//! Session notes and psychotherapy notes (the same screen, the latter visibly apart and
//! marked private). A note is written from a template (SOAP, DAP, BIRP, free), saved as a
//! draft, then signed: it is then shown locked, read-only, with its signature, and only signed
//! addenda can be added. Drafts keep a history whose versions can be restored.

use std::rc::Rc;

use hearth_api::{Appointment, HistoryEntry, Note, NoteTemplate, Section, Stored};
use yew::prelude::*;

use super::ctx::{on_value, setter, template_label, use_ctx, Focus};
use super::dates::{local_time, local_unix, when};
use super::emergency::ErrorNote;
use crate::api;

/// Inputs of [`NotesTab`].
#[derive(Properties, PartialEq)]
pub struct Props {
    /// The patient's record id.
    pub patient: String,
    /// Psychotherapy notes rather than session notes.
    pub psychotherapy: bool,
    /// What to open.
    pub focus: Focus,
    /// Changes with every navigation.
    pub focus_nonce: u32,
}

/// The note open in the tab.
#[derive(Debug, Clone, PartialEq)]
enum Open {
    /// A new note, possibly for an appointment.
    New { appointment: String },
    /// A stored note.
    Existing(String),
}

fn open_for(focus: &Focus, psychotherapy: bool) -> Option<Open> {
    match focus {
        Focus::Note(id) => Some(Open::Existing(id.clone())),
        Focus::NewNote { appointment } if !psychotherapy => Some(Open::New {
            appointment: appointment.clone(),
        }),
        _ => None,
    }
}

/// A section key's title ("subjective" → "Subjective").
fn title_of(template: NoteTemplate, key: &str) -> String {
    template
        .sections()
        .iter()
        .find(|(k, _)| *k == key)
        .map_or_else(
            || {
                let mut c = key.chars();
                c.next()
                    .map(|f| f.to_uppercase().chain(c).collect())
                    .unwrap_or_default()
            },
            |(_, t)| (*t).to_string(),
        )
}

/// The first words of a note, for the list.
fn preview(note: &Note) -> String {
    let text = note
        .sections
        .iter()
        .map(|s| s.text.trim())
        .find(|t| !t.is_empty())
        .unwrap_or("");
    let short: String = text.chars().take(140).collect();
    if short.len() < text.len() {
        format!("{short}…")
    } else if short.is_empty() {
        "(empty)".to_string()
    } else {
        short
    }
}

/// "Tue 10 Mar 2026, 10:00 · 90834" for an appointment id, if known.
fn appointment_label(appointments: &[Stored<Appointment>], id: &str) -> Option<String> {
    appointments.iter().find(|a| a.info.id == id).map(|a| {
        if a.record.service_code.is_empty() {
            when(&a.record.start)
        } else {
            format!("{} · {}", when(&a.record.start), a.record.service_code)
        }
    })
}

/// The tab: the list of notes, or the open note.
#[component]
pub fn NotesTab(props: &Props) -> Html {
    let ctx = use_ctx();
    let list = use_state(|| None::<Vec<Stored<Note>>>);
    let appointments = use_state(Vec::<Stored<Appointment>>::new);
    let version = use_state(|| 0u32);
    let open = use_state(|| open_for(&props.focus, props.psychotherapy));
    let error = use_state(|| None::<String>);
    let psychotherapy = props.psychotherapy;

    {
        let (ctx, list, error) = (ctx.clone(), list.clone(), error.clone());
        use_effect_with((props.patient.clone(), *version), move |(patient, _)| {
            let patient = patient.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let r = api::list_notes(&patient, psychotherapy).await;
                if let Some(mut v) = ctx.take(r, &error) {
                    v.sort_by(|a, b| b.info.created_at.cmp(&a.info.created_at));
                    list.set(Some(v));
                }
            });
        });
    }
    {
        let (ctx, appointments, error) = (ctx.clone(), appointments.clone(), error.clone());
        use_effect_with(props.patient.clone(), move |patient| {
            let patient = patient.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let r = api::list_appointments(&patient).await;
                if let Some(v) = ctx.take(r, &error) {
                    appointments.set(v);
                }
            });
        });
    }
    {
        let open = open.clone();
        use_effect_with(
            (props.focus.clone(), props.focus_nonce),
            move |(focus, _)| {
                if let Some(o) = open_for(focus, psychotherapy) {
                    open.set(Some(o));
                }
            },
        );
    }

    let on_new = {
        let open = open.clone();
        Callback::from(move |_: MouseEvent| {
            open.set(Some(Open::New {
                appointment: String::new(),
            }))
        })
    };
    // The open note keeps its view (and key) once saved: only the list is refreshed. A new
    // note's id, once it has one, brings the risk panel beside it.
    let saved_new = use_state(|| None::<String>);
    {
        let saved_new = saved_new.clone();
        use_effect_with((*open).clone(), move |_| saved_new.set(None));
    }
    let on_saved = {
        let (version, saved_new) = (version.clone(), saved_new.clone());
        Callback::from(move |id: String| {
            saved_new.set(Some(id));
            version.set(*version + 1);
        })
    };
    let on_close = {
        let (open, version) = (open.clone(), version.clone());
        Callback::from(move |()| {
            open.set(None);
            version.set(*version + 1);
        })
    };

    let banner = psychotherapy.then(|| {
        html! {
            <div class="private-banner" id="private-banner">
                <strong>{ "Private — stays on this device." }</strong>
                { " Psychotherapy notes are kept apart from the clinical record: they are not part of the chart and are not shared with it." }
            </div>
        }
    });

    let body = if let Some(o) = &*open {
        let key = match o {
            Open::New { appointment } => format!("new-{appointment}"),
            Open::Existing(id) => id.clone(),
        };
        let view = html! {
            <NoteView {key} patient={props.patient.clone()} {psychotherapy} open={o.clone()}
                appointments={Rc::new((*appointments).clone())} {on_saved} {on_close} />
        };
        // Session notes get the risk panel beside them (psychotherapy notes are never analysed).
        let analysed = match o {
            Open::Existing(id) => Some(id.clone()),
            Open::New { .. } => (*saved_new).clone(),
        };
        let panel = analysed.filter(|_| !psychotherapy);
        // One wrapper either way: the editor is not rebuilt when the panel appears after the
        // first save.
        html! {
            <div class={classes!("note-pane", panel.is_some().then_some("note-with-risk"))}>
                { view }
                if let Some(id) = panel {
                    <super::risk::RiskPanel patient={props.patient.clone()} note={id} version={*version} />
                }
            </div>
        }
    } else {
        let rows = match &*list {
            None if error.is_some() => html! {},
            None => html! { <p class="muted">{ "Loading notes…" }</p> },
            Some(v) if v.is_empty() => html! {
                <p class="muted" id="no-notes">
                    { if psychotherapy { "No psychotherapy notes yet." } else { "No session notes yet." } }
                </p>
            },
            Some(v) => html! {
                <ul class="record-list" id="note-list">
                    { for v.iter().map(|n| {
                        let onclick = {
                            let (open, id) = (open.clone(), n.info.id.clone());
                            Callback::from(move |_: MouseEvent| open.set(Some(Open::Existing(id.clone()))))
                        };
                        let signed = n.record.signature.is_some();
                        let appt = appointment_label(&appointments, &n.record.appointment_id);
                        html! {
                            <li key={n.info.id.clone()}>
                                <button type="button" class="record-row note-row" data-id={n.info.id.clone()} {onclick}>
                                    <span class="row-main">
                                        { format!("{} note", template_label(n.record.template)) }
                                        <span class={classes!("badge", if signed { "signed" } else { "draft" })}>
                                            { if signed { "Signed" } else { "Draft" } }
                                        </span>
                                    </span>
                                    <span class="row-meta">
                                        { match appt { Some(a) => format!("Session {a}"), None => format!("Written {}", local_time(&n.info.created_at)) } }
                                    </span>
                                    <span class="row-preview">{ preview(&n.record) }</span>
                                </button>
                            </li>
                        }
                    }) }
                </ul>
            },
        };
        html! {
            <>
                <div class="tab-toolbar">
                    <p class="muted small">
                        { if psychotherapy { "Process notes for your own use." } else { "Progress notes, one per session." } }
                    </p>
                    <button id="new-note" type="button" class="primary" onclick={on_new}>{ "New note" }</button>
                </div>
                { rows }
            </>
        }
    };
    html! {
        <div class={classes!("notes-tab", psychotherapy.then_some("private"))} id={if psychotherapy { "psychotherapy-notes" } else { "session-notes" }}>
            { for banner }
            if let Some(e) = &*error { <ErrorNote id="notes-error" message={e.clone()} emergency={!psychotherapy} /> }
            { body }
        </div>
    }
}

/// The note being written: `None` until a template is chosen.
#[derive(Clone, PartialEq, Default)]
struct Draft {
    note: Option<Note>,
    dirty: bool,
}

enum Edit {
    /// Loaded or saved: not dirty.
    Replace(Note),
    Section(String, String),
    Appointment(String),
}

impl Reducible for Draft {
    type Action = Edit;

    fn reduce(self: Rc<Self>, action: Edit) -> Rc<Self> {
        let mut s = (*self).clone();
        match action {
            Edit::Replace(n) => {
                s.note = Some(n);
                s.dirty = false;
            }
            Edit::Section(key, text) => {
                if let Some(n) = &mut s.note {
                    match n.sections.iter_mut().find(|x| x.key == key) {
                        Some(sec) => sec.text = text,
                        None => n.sections.push(Section { key, text }),
                    }
                    s.dirty = true;
                }
            }
            Edit::Appointment(id) => {
                if let Some(n) = &mut s.note {
                    n.appointment_id = id;
                    s.dirty = true;
                }
            }
        }
        Rc::new(s)
    }
}

#[derive(Properties, PartialEq)]
struct ViewProps {
    patient: String,
    psychotherapy: bool,
    open: Open,
    appointments: Rc<Vec<Stored<Appointment>>>,
    /// Called with the note's id after each save.
    on_saved: Callback<String>,
    on_close: Callback<()>,
}

/// Save `note`: create it when there is no id yet.
async fn save(id: Option<&str>, note: &Note, psychotherapy: bool) -> api::Reply<Stored<Note>> {
    match id {
        Some(id) => api::edit_note(id, note).await,
        None => api::add_note(note, psychotherapy).await,
    }
}

/// One note: the template picker, the draft form, or the signed note.
#[component]
fn NoteView(props: &ViewProps) -> Html {
    let ctx = use_ctx();
    let draft = use_reducer(Draft::default);
    let id = use_state(|| match &props.open {
        Open::Existing(id) => Some(id.clone()),
        Open::New { .. } => None,
    });
    let info = use_state(|| None::<hearth_api::RecordInfo>);
    let error = use_state(|| None::<String>);
    let busy = use_state(|| false);
    let status = use_state(|| None::<String>);
    let signing = use_state(|| false);
    let signer = use_state(|| (*ctx.signer).clone());
    let adding = use_state(|| false);
    let addendum = use_state(String::new);
    let history = use_state(|| None::<Vec<HistoryEntry>>);
    let history_version = use_state(|| 0u32);
    // Why this note may be read but not changed (e.g. only emergency access opened it).
    let read_only = use_state(|| None::<String>);

    {
        // Session notes only: authorship (which consent_check does not know) decides for
        // psychotherapy notes.
        let (ctx, read_only, ignored) = (ctx.clone(), read_only.clone(), use_state(|| None));
        let (open, patient, psychotherapy) = (
            props.open.clone(),
            props.patient.clone(),
            props.psychotherapy,
        );
        use_effect_with((), move |_| {
            if let (Open::Existing(_), false) = (open, psychotherapy) {
                wasm_bindgen_futures::spawn_local(async move {
                    let r =
                        api::consent_check(&patient, "write", "progress-notes", "treatment").await;
                    if let Some((false, why)) = ctx.take(r, &ignored) {
                        read_only.set(Some(why));
                    }
                });
            }
        });
    }
    {
        let (ctx, draft, error, info) =
            (ctx.clone(), draft.dispatcher(), error.clone(), info.clone());
        let open = props.open.clone();
        use_effect_with((), move |_| {
            if let Open::Existing(id) = open {
                wasm_bindgen_futures::spawn_local(async move {
                    let r = api::get_note(&id).await;
                    if let Some((n, _)) = ctx.take(r, &error) {
                        info.set(Some(n.info));
                        draft.dispatch(Edit::Replace(n.record));
                    }
                });
            }
        });
    }
    {
        let (ctx, history, error) = (ctx.clone(), history.clone(), error.clone());
        let id = (*id).clone();
        use_effect_with((id, *history_version), move |(id, v)| {
            if let (Some(id), true) = (id.clone(), *v > 0) {
                wasm_bindgen_futures::spawn_local(async move {
                    let r = api::note_history(&id).await;
                    if let Some(h) = ctx.take(r, &error) {
                        history.set(Some(h));
                    }
                });
            }
        });
    }

    let on_close = {
        let cb = props.on_close.clone();
        Callback::from(move |_: MouseEvent| cb.emit(()))
    };
    let back = html! {
        <button type="button" class="link small back-link" id="back-to-notes" onclick={on_close.clone()}>{ "← All notes" }</button>
    };

    let Some(note) = draft.note.clone() else {
        // A stored note loading, or a new one waiting for its template.
        if let Open::Existing(_) = props.open {
            return html! {
                <div class="note-view">
                    { back }
                    if let Some(e) = &*error { <ErrorNote id="note-open-error" message={e.clone()} emergency={!props.psychotherapy} /> } else { <p class="muted">{ "Opening note…" }</p> }
                </div>
            };
        }
        let appointment = match &props.open {
            Open::New { appointment } => appointment.clone(),
            Open::Existing(_) => String::new(),
        };
        let pick = |t: NoteTemplate| {
            let (draft, patient, appointment) = (
                draft.dispatcher(),
                props.patient.clone(),
                appointment.clone(),
            );
            let onclick = Callback::from(move |_: MouseEvent| {
                let n = Note {
                    patient_id: patient.clone(),
                    appointment_id: appointment.clone(),
                    template: t,
                    sections: t
                        .sections()
                        .iter()
                        .map(|(k, _)| Section {
                            key: (*k).to_string(),
                            text: String::new(),
                        })
                        .collect(),
                    signature: None,
                    addenda: Vec::new(),
                };
                draft.dispatch(Edit::Replace(n));
            });
            let key = format!(
                "template-{}",
                template_label(t)
                    .split(' ')
                    .next()
                    .unwrap_or("")
                    .to_lowercase()
            );
            let sections: Vec<&str> = t.sections().iter().map(|(_, title)| *title).collect();
            html! {
                <button id={key} type="button" class="template-choice" {onclick}>
                    <span class="template-name">{ template_label(t) }</span>
                    <span class="template-sections">{ sections.join(" · ") }</span>
                </button>
            }
        };
        let for_session = appointment_label(&props.appointments, &appointment);
        return html! {
            <div class="note-view" id="note-new">
                { back }
                <h3>{ "New note — choose a template" }</h3>
                if let Some(a) = for_session { <p class="muted small" id="note-for">{ format!("For the session on {a}") }</p> }
                <div class="template-picker">
                    { pick(NoteTemplate::Soap) }
                    { pick(NoteTemplate::Dap) }
                    { pick(NoteTemplate::Birp) }
                    { pick(NoteTemplate::Free) }
                </div>
            </div>
        };
    };

    let psychotherapy = props.psychotherapy;
    let title = format!(
        "{} {}",
        template_label(note.template),
        if psychotherapy {
            "psychotherapy note"
        } else {
            "note"
        }
    );
    let appt_label = appointment_label(&props.appointments, &note.appointment_id);
    let toggle_history = {
        let (history, history_version) = (history.clone(), history_version.clone());
        Callback::from(move |_: MouseEvent| {
            if history.is_some() {
                history.set(None);
            } else {
                history_version.set(*history_version + 1);
            }
        })
    };
    let history_view = |restorable: bool| match &*history {
        None => html! {},
        Some(h) => html! {
            <ol class="history" id="note-history">
                { for h.iter().rev().enumerate().map(|(i, e)| {
                    let onclick = {
                        let (ctx, error, draft, id, version) = (ctx.clone(), error.clone(), draft.dispatcher(), (*id).clone(), e.hash.clone());
                        let (history_version, on_saved, status) = (history_version.clone(), props.on_saved.clone(), status.clone());
                        Callback::from(move |_: MouseEvent| {
                            let Some(id) = id.clone() else { return };
                            let (ctx, error, draft, version) = (ctx.clone(), error.clone(), draft.clone(), version.clone());
                            let (history_version, on_saved, status) = (history_version.clone(), on_saved.clone(), status.clone());
                            wasm_bindgen_futures::spawn_local(async move {
                                let r = api::restore_note(&id, &version).await;
                                if let Some(n) = ctx.take(r, &error) {
                                    draft.dispatch(Edit::Replace(n.record));
                                    status.set(Some("Earlier version restored (as a new change).".into()));
                                    history_version.set(*history_version + 1);
                                    on_saved.emit(id);
                                }
                            });
                        })
                    };
                    html! {
                        <li class="history-entry" key={e.hash.clone()}>
                            <span class="summary">{ &e.summary }</span>
                            <span class="when">{ local_time(&e.time) }</span>
                            if restorable && i > 0 {
                                <button type="button" class="link small restore-version" {onclick}>{ "Restore" }</button>
                            }
                        </li>
                    }
                }) }
            </ol>
        },
    };
    let history_button = id.is_some().then(|| {
        html! {
            <button type="button" class="link small" id="note-history-toggle" onclick={toggle_history.clone()}>
                { if history.is_some() { "Hide history" } else { "History" } }
            </button>
        }
    });
    let meta = html! {
        <p class="muted small note-meta">
            { match &appt_label { Some(a) => format!("Session {a}"), None => "Not linked to a session".to_string() } }
            if let Some(i) = &*info { { format!(" · written {}", local_time(&i.created_at)) } }
        </p>
    };

    // ---- signed: locked, read-only ----
    if let Some(sig) = &note.signature {
        let short_hash: String = sig.content_hash.chars().take(12).collect();
        let on_add = {
            let adding = adding.clone();
            Callback::from(move |_: MouseEvent| adding.set(true))
        };
        let on_cancel_add = {
            let adding = adding.clone();
            Callback::from(move |_: MouseEvent| adding.set(false))
        };
        let on_save_addendum = {
            let (ctx, error, busy, draft, adding, addendum, signer) = (
                ctx.clone(),
                error.clone(),
                busy.clone(),
                draft.dispatcher(),
                adding.clone(),
                addendum.clone(),
                signer.clone(),
            );
            let (id, on_saved) = ((*id).clone(), props.on_saved.clone());
            Callback::from(move |e: SubmitEvent| {
                e.prevent_default();
                let Some(id) = id.clone() else { return };
                let (ctx, error, busy, draft, adding, addendum, on_saved) = (
                    ctx.clone(),
                    error.clone(),
                    busy.clone(),
                    draft.clone(),
                    adding.clone(),
                    addendum.clone(),
                    on_saved.clone(),
                );
                let (text, name) = ((*addendum).clone(), signer.trim().to_string());
                busy.set(true);
                wasm_bindgen_futures::spawn_local(async move {
                    let r = api::add_addendum(&id, &text, &name).await;
                    busy.set(false);
                    if let Some(n) = ctx.take(r, &error) {
                        ctx.set_signer.emit(name);
                        error.set(None);
                        addendum.set(String::new());
                        adding.set(false);
                        draft.dispatch(Edit::Replace(n.record));
                        on_saved.emit(id);
                    }
                });
            })
        };
        return html! {
            <div class={classes!("note-view", "locked")} id="note-view" data-id={(*id).clone()} data-state="signed">
                { back }
                <div class="note-head">
                    <h3>{ title }<span class="badge signed">{ "Signed" }</span></h3>
                    { for history_button }
                </div>
                { meta }
                <div class="note-signed" id="note-signature">
                    <span class="lock" aria-hidden="true">{ "✓" }</span>
                    <span>
                        { format!("Signed by {} at {}", sig.signer, local_unix(sig.signed_at)) }
                        <span class="muted small">{ " · content hash " }<code title={sig.content_hash.clone()}>{ short_hash }</code></span>
                    </span>
                </div>
                <p class="muted small">{ "A signed note is locked: its text cannot be changed. Add a signed addendum to correct or extend it." }</p>
                { for note.sections.iter().map(|s| html! {
                    <section class="note-section" key={s.key.clone()}>
                        <h4>{ title_of(note.template, &s.key) }</h4>
                        <p class={classes!("section-text", s.text.trim().is_empty().then_some("empty"))} id={format!("text-{}", s.key)}>
                            { if s.text.trim().is_empty() { "—".to_string() } else { s.text.clone() } }
                        </p>
                    </section>
                }) }
                if !note.addenda.is_empty() {
                    <h4 class="addenda-title">{ "Addenda" }</h4>
                    <ol class="addenda" id="addenda">
                        { for note.addenda.iter().map(|a| html! {
                            <li class="addendum">
                                <p class="section-text">{ &a.text }</p>
                                <p class="muted small">{ format!("Signed by {} at {}", a.signature.signer, local_unix(a.signature.signed_at)) }</p>
                            </li>
                        }) }
                    </ol>
                }
                if *adding {
                    <form class="addendum-form" id="addendum-form" onsubmit={on_save_addendum} novalidate=true>
                        <label for="addendum-text">{ "Addendum" }</label>
                        <textarea id="addendum-text" rows="4" value={(*addendum).clone()} oninput={setter(&addendum)} disabled={*busy} />
                        <label for="addendum-signer">{ "Signed by" }</label>
                        <input id="addendum-signer" type="text" value={(*signer).clone()} oninput={setter(&signer)} disabled={*busy} />
                        if let Some(e) = &*error { <p class="error" role="alert" id="note-error">{ e }</p> }
                        <div class="form-actions">
                            <button type="button" class="secondary" onclick={on_cancel_add} disabled={*busy}>{ "Cancel" }</button>
                            <button id="save-addendum" type="submit" class="primary" disabled={*busy}>{ "Sign addendum" }</button>
                        </div>
                    </form>
                } else {
                    if let Some(e) = &*error { <p class="error" role="alert" id="note-error">{ e }</p> }
                    <div class="form-actions left">
                        <button id="add-addendum" type="button" class="secondary" onclick={on_add}>{ "Add addendum" }</button>
                    </div>
                }
                { history_view(false) }
            </div>
        };
    }

    // ---- a draft this device may read but not change ----
    if let Some(why) = &*read_only {
        return html! {
            <div class={classes!("note-view", "locked")} id="note-view" data-id={(*id).clone()} data-state="read-only">
                { back }
                <div class="note-head">
                    <h3>{ title }<span class="badge draft">{ "Draft" }</span></h3>
                    { for history_button }
                </div>
                { meta }
                <p class="read-only-note" id="note-read-only">
                    <strong>{ "Read only." }</strong>
                    { format!(" The patient's consent does not let this device change session notes ({why}).") }
                </p>
                { for note.sections.iter().map(|s| html! {
                    <section class="note-section" key={s.key.clone()}>
                        <h4>{ title_of(note.template, &s.key) }</h4>
                        <p class={classes!("section-text", s.text.trim().is_empty().then_some("empty"))} id={format!("text-{}", s.key)}>
                            { if s.text.trim().is_empty() { "—".to_string() } else { s.text.clone() } }
                        </p>
                    </section>
                }) }
                if let Some(e) = &*error { <p class="error" role="alert" id="note-error">{ e }</p> }
                { history_view(false) }
            </div>
        };
    }

    // ---- draft: editable ----
    let on_save = {
        let (ctx, error, busy, draft, id, status, info) = (
            ctx.clone(),
            error.clone(),
            busy.clone(),
            draft.clone(),
            id.clone(),
            status.clone(),
            info.clone(),
        );
        let on_saved = props.on_saved.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Some(n) = draft.note.clone() else { return };
            let (ctx, error, busy, dispatch, id, status, info, on_saved) = (
                ctx.clone(),
                error.clone(),
                busy.clone(),
                draft.dispatcher(),
                id.clone(),
                status.clone(),
                info.clone(),
                on_saved.clone(),
            );
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                let r = save(id.as_deref(), &n, psychotherapy).await;
                busy.set(false);
                if let Some(s) = ctx.take(r, &error) {
                    error.set(None);
                    status.set(Some("Draft saved.".into()));
                    id.set(Some(s.info.id.clone()));
                    info.set(Some(s.info.clone()));
                    dispatch.dispatch(Edit::Replace(s.record));
                    on_saved.emit(s.info.id);
                }
            });
        })
    };
    let on_sign_start = {
        let signing = signing.clone();
        Callback::from(move |_: MouseEvent| signing.set(true))
    };
    let on_sign_cancel = {
        let signing = signing.clone();
        Callback::from(move |_: MouseEvent| signing.set(false))
    };
    let on_sign = {
        let (ctx, error, busy, draft, id, signing, signer, status, info) = (
            ctx.clone(),
            error.clone(),
            busy.clone(),
            draft.clone(),
            id.clone(),
            signing.clone(),
            signer.clone(),
            status.clone(),
            info.clone(),
        );
        let on_saved = props.on_saved.clone();
        Callback::from(move |()| {
            let Some(n) = draft.note.clone() else { return };
            let name = signer.trim().to_string();
            if name.is_empty() {
                error.set(Some("signer: type your name as you sign".into()));
                return;
            }
            let dirty = draft.dirty || id.is_none();
            let (ctx, error, busy, dispatch, id, signing, status, info, on_saved) = (
                ctx.clone(),
                error.clone(),
                busy.clone(),
                draft.dispatcher(),
                id.clone(),
                signing.clone(),
                status.clone(),
                info.clone(),
                on_saved.clone(),
            );
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                // Unsaved text is saved first, so what is signed is what is on screen.
                let mut current = (*id).clone();
                if dirty {
                    let r = save(current.as_deref(), &n, psychotherapy).await;
                    match ctx.take(r, &error) {
                        Some(s) => {
                            current = Some(s.info.id.clone());
                            id.set(current.clone());
                            info.set(Some(s.info));
                        }
                        None => {
                            busy.set(false);
                            return;
                        }
                    }
                }
                let Some(note_id) = current else {
                    busy.set(false);
                    return;
                };
                let r = api::sign_note(&note_id, &name).await;
                busy.set(false);
                if let Some(s) = ctx.take(r, &error) {
                    ctx.set_signer.emit(name);
                    error.set(None);
                    status.set(None);
                    signing.set(false);
                    dispatch.dispatch(Edit::Replace(s.record));
                    on_saved.emit(note_id);
                }
            });
        })
    };
    let on_appointment = {
        let draft = draft.dispatcher();
        on_value(Callback::from(move |v: String| {
            draft.dispatch(Edit::Appointment(v))
        }))
    };
    let mut appointment_options: Vec<&Stored<Appointment>> = props.appointments.iter().collect();
    appointment_options.sort_by(|a, b| b.record.start.cmp(&a.record.start));

    html! {
        <form class="note-view draft" id="note-view" data-id={(*id).clone().unwrap_or_default()} data-state="draft"
            onsubmit={on_save} novalidate=true>
            { back }
            <div class="note-head">
                <h3>{ title }<span class="badge draft">{ "Draft" }</span></h3>
                { for history_button }
            </div>
            <div class="form-field note-appointment">
                <label for="note-appointment">{ "Session" }</label>
                <select id="note-appointment" onchange={on_appointment} disabled={*busy}>
                    <option value="" selected={note.appointment_id.is_empty()}>{ "Not linked to a session" }</option>
                    { for appointment_options.iter().map(|a| html! {
                        <option value={a.info.id.clone()} selected={a.info.id == note.appointment_id}>
                            { format!("{}{}", when(&a.record.start), if a.record.service_code.is_empty() { String::new() } else { format!(" · {}", a.record.service_code) }) }
                        </option>
                    }) }
                </select>
            </div>
            { for note.sections.iter().map(|s| {
                let key = s.key.clone();
                let dispatch = draft.dispatcher();
                let oninput = Callback::from(move |e: InputEvent| {
                    dispatch.dispatch(Edit::Section(key.clone(), super::ctx::value_of(&e)))
                });
                let dom = format!("section-{}", s.key);
                html! {
                    <div class="form-field note-section-edit" key={s.key.clone()}>
                        <label for={dom.clone()}>{ title_of(note.template, &s.key) }</label>
                        <textarea id={dom} class="section-input" rows="5" value={s.text.clone()} {oninput} disabled={*busy} />
                    </div>
                }
            }) }
            if let Some(e) = &*error { <p class="error" role="alert" id="note-error">{ e }</p> }
            if let Some(m) = &*status {
                if !draft.dirty { <p class="saved-note small" id="note-saved" role="status">{ m }</p> }
            }
            if *signing {
                <div class="sign-box" id="sign-box">
                    <p class="small">{ "Signing locks the note: after this, changes can only be added as signed addenda." }</p>
                    <label for="signer">{ "Your name, as you sign" }</label>
                    <div class="inline-form">
                        <input id="signer" type="text" value={(*signer).clone()} oninput={setter(&signer)} disabled={*busy}
                            onkeydown={{
                                let on_sign = on_sign.clone();
                                Callback::from(move |e: KeyboardEvent| if e.key() == "Enter" {
                                    e.prevent_default();
                                    on_sign.emit(());
                                })
                            }} />
                        <button id="confirm-sign" type="button" class="primary" disabled={*busy}
                            onclick={on_sign.reform(|_: MouseEvent| ())}>{ "Sign and lock" }</button>
                        <button type="button" class="secondary" onclick={on_sign_cancel} disabled={*busy}>{ "Cancel" }</button>
                    </div>
                </div>
            }
            <div class="form-actions">
                if !*signing {
                    <button id="sign-note" type="button" class="secondary" onclick={on_sign_start} disabled={*busy}>{ "Sign…" }</button>
                }
                <button id="save-note" type="submit" class="primary" disabled={*busy || (!draft.dirty && id.is_some())}>
                    { if *busy { "Saving…" } else if draft.dirty || id.is_none() { "Save draft" } else { "Saved" } }
                </button>
            </div>
            { history_view(true) }
        </form>
    }
}
