//! What every screen of the open vault shares, through a yew context: how to report a locked
//! vault, how to open a record elsewhere in the app, and the signer's name last used.

use std::rc::Rc;

use hearth_api::{ErrorKind, Instrument, NoteTemplate};
use yew::prelude::*;

use crate::api::Reply;

/// The tabs of a patient's record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tab {
    /// Details, emergency contact, diagnoses, status.
    #[default]
    Overview,
    /// The patient's appointments.
    Appointments,
    /// Session notes.
    Notes,
    /// Psychotherapy notes (kept apart).
    Psychotherapy,
    /// PHQ-9 / GAD-7 and their charts.
    Measures,
    /// The treatment plan.
    Plan,
    /// Attached files.
    Files,
    /// The patient record's change history.
    History,
    /// Consent contracts and the "can this be done?" checker.
    Consent,
    /// Export to a signed archive and FHIR.
    Export,
    /// Who changed and who looked at the patient's records (the audit log).
    AccessLog,
}

impl Tab {
    /// Every tab, in order.
    pub const ALL: [Tab; 11] = [
        Tab::Overview,
        Tab::Appointments,
        Tab::Notes,
        Tab::Psychotherapy,
        Tab::Measures,
        Tab::Plan,
        Tab::Files,
        Tab::History,
        Tab::Consent,
        Tab::Export,
        Tab::AccessLog,
    ];

    /// Its label.
    pub fn label(self) -> &'static str {
        match self {
            Tab::Overview => "Overview",
            Tab::Appointments => "Appointments",
            Tab::Notes => "Notes",
            Tab::Psychotherapy => "Psychotherapy notes",
            Tab::Measures => "Measures",
            Tab::Plan => "Treatment plan",
            Tab::Files => "Files",
            Tab::History => "History",
            Tab::Consent => "Consent",
            Tab::Export => "Export",
            Tab::AccessLog => "Access log",
        }
    }

    /// Its element id (`tab-measures`).
    pub fn dom_id(self) -> &'static str {
        match self {
            Tab::Overview => "tab-overview",
            Tab::Appointments => "tab-appointments",
            Tab::Notes => "tab-notes",
            Tab::Psychotherapy => "tab-psychotherapy",
            Tab::Measures => "tab-measures",
            Tab::Plan => "tab-plan",
            Tab::Files => "tab-files",
            Tab::History => "tab-history",
            Tab::Consent => "tab-consent",
            Tab::Export => "tab-export",
            Tab::AccessLog => "tab-access",
        }
    }
}

/// What to open inside a tab when navigating there.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Focus {
    /// Nothing in particular.
    #[default]
    None,
    /// This note.
    Note(String),
    /// A new note for this appointment.
    NewNote {
        /// The appointment's record id.
        appointment: String,
    },
    /// This appointment.
    Appointment(String),
    /// This attachment.
    File(String),
}

/// A place in the app: a patient, a tab, something in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nav {
    /// The patient's record id.
    pub patient: String,
    /// The tab.
    pub tab: Tab,
    /// What to open there.
    pub focus: Focus,
}

/// The shared context.
#[derive(Clone, PartialEq, Default)]
pub struct Ctx {
    /// The vault turned out to be locked: show the unlock screen.
    pub on_locked: Callback<()>,
    /// Open a place in the app.
    pub navigate: Callback<Nav>,
    /// The name last signed with in this session (empty at first).
    pub signer: Rc<String>,
    /// Remember a signer's name for the session.
    pub set_signer: Callback<String>,
    /// A patient record changed elsewhere (refresh the list and the open record).
    pub patients_changed: Callback<()>,
}

impl Ctx {
    /// The value of a reply, or `None` after reporting the error: a locked vault goes back to
    /// the unlock screen, anything else is put in `error` (the core's own words; a consent
    /// refusal says so, with the deciding reason).
    pub fn take<T>(&self, reply: Reply<T>, error: &UseStateHandle<Option<String>>) -> Option<T> {
        match reply {
            Ok(v) => Some(v),
            Err(e) if e.kind == ErrorKind::Locked => {
                self.on_locked.emit(());
                None
            }
            Err(e) => {
                error.set(Some(error_text(&e)));
                None
            }
        }
    }
}

/// An error for people: the core's words, and for a consent refusal a clear lead-in before
/// the deciding reason.
pub fn error_text(e: &hearth_api::ApiError) -> String {
    if e.kind == ErrorKind::Denied {
        let reason = e.message.trim_start_matches("not allowed: ");
        format!("{DENIED_LEAD}{reason}")
    } else {
        e.message.clone()
    }
}

/// How [`error_text`] starts a consent refusal.
const DENIED_LEAD: &str = "Not permitted by the patient's consent — ";

/// Whether an error text from [`error_text`] is a consent refusal (emergency access may help).
pub fn is_refusal(text: &str) -> bool {
    text.starts_with(DENIED_LEAD)
}

/// The context (a do-nothing one outside the provider).
#[hook]
pub fn use_ctx() -> Ctx {
    use_context::<Ctx>().unwrap_or_default()
}

/// The value of a text input, textarea or select that fired `e`.
pub fn value_of(e: &Event) -> String {
    use wasm_bindgen::JsCast;
    let Some(target) = e.target() else {
        return String::new();
    };
    if let Some(i) = target.dyn_ref::<web_sys::HtmlInputElement>() {
        i.value()
    } else if let Some(t) = target.dyn_ref::<web_sys::HtmlTextAreaElement>() {
        t.value()
    } else if let Some(s) = target.dyn_ref::<web_sys::HtmlSelectElement>() {
        s.value()
    } else {
        String::new()
    }
}

/// A callback for `oninput` / `onchange` that passes the control's value on.
pub fn on_value(cb: Callback<String>) -> Callback<Event> {
    Callback::from(move |e: Event| cb.emit(value_of(&e)))
}

/// A callback for `oninput` that passes the control's value on.
pub fn on_input(cb: Callback<String>) -> Callback<InputEvent> {
    Callback::from(move |e: InputEvent| cb.emit(value_of(&e)))
}

/// A state setter for a text field.
pub fn setter(state: &UseStateHandle<String>) -> Callback<InputEvent> {
    let state = state.clone();
    on_input(Callback::from(move |v: String| state.set(v)))
}

/// A note template's label.
pub fn template_label(t: NoteTemplate) -> &'static str {
    match t {
        NoteTemplate::Soap => "SOAP",
        NoteTemplate::Dap => "DAP",
        NoteTemplate::Birp => "BIRP",
        NoteTemplate::Free => "Free form",
    }
}

/// `phq9` / `gad7`, for element ids.
pub fn instrument_key(i: Instrument) -> &'static str {
    match i {
        Instrument::Phq9 => "phq9",
        Instrument::Gad7 => "gad7",
    }
}

/// A size in bytes for people: "820 B", "14.2 kB", "3.1 MB".
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    // Display only: precision loss past 2^53 bytes is irrelevant.
    #[allow(clippy::cast_precision_loss)]
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1000.0 && unit + 1 < UNITS.len() {
        v /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else if v < 10.0 {
        format!("{v:.1} {}", UNITS[unit])
    } else {
        format!("{v:.0} {}", UNITS[unit])
    }
}
