//! The add / edit patient form. Validation is the core's: its message names the field, which
//! is then highlighted.

use hearth_api::{Diagnosis, ErrorKind, NewPatient, Patient, PatientPatch, PatientStatus};
use web_sys::{HtmlInputElement, HtmlTextAreaElement};
use yew::prelude::*;

use crate::api;

/// Inputs of [`PatientForm`].
#[derive(Properties, PartialEq)]
pub struct Props {
    /// The patient being edited, or `None` to add one.
    pub editing: Option<Patient>,
    /// Called with the saved patient.
    pub on_saved: Callback<Patient>,
    /// Called when Cancel is pressed.
    pub on_cancel: Callback<()>,
    /// Called when the vault turned out to be locked.
    pub on_locked: Callback<()>,
}

/// Which field a form control edits.
#[derive(Clone, Copy, PartialEq)]
enum F {
    Name,
    Dob,
    Pronouns,
    Phone,
    Email,
    Address,
    Notes,
    EmergencyName,
    EmergencyRelationship,
    EmergencyPhone,
}

impl F {
    /// The core's label for the field, which starts its validation messages.
    fn core_label(self) -> &'static str {
        match self {
            F::Name => "name",
            F::Dob => "date of birth",
            F::Pronouns => "pronouns",
            F::Phone => "phone",
            F::Email => "email",
            F::Address => "address",
            F::Notes => "notes",
            F::EmergencyName => "emergency contact name",
            F::EmergencyRelationship => "emergency contact relationship",
            F::EmergencyPhone => "emergency contact phone",
        }
    }

    fn slot(self, p: &mut NewPatient) -> &mut String {
        match self {
            F::Name => &mut p.name,
            F::Dob => &mut p.date_of_birth,
            F::Pronouns => &mut p.pronouns,
            F::Phone => &mut p.phone,
            F::Email => &mut p.email,
            F::Address => &mut p.address,
            F::Notes => &mut p.notes,
            F::EmergencyName => &mut p.emergency_name,
            F::EmergencyRelationship => &mut p.emergency_relationship,
            F::EmergencyPhone => &mut p.emergency_phone,
        }
    }
}

/// The field an `invalid_input` message is about ("date of birth: … is in the future").
fn field_of(message: &str) -> Option<F> {
    [
        F::Name,
        F::Dob,
        F::Pronouns,
        F::Phone,
        F::Email,
        F::Address,
        F::Notes,
        F::EmergencyName,
        F::EmergencyRelationship,
        F::EmergencyPhone,
    ]
    .into_iter()
    .find(|f| message.starts_with(&format!("{}:", f.core_label())))
}

/// The form.
#[component]
pub fn PatientForm(props: &Props) -> Html {
    let fields = {
        let initial = props
            .editing
            .as_ref()
            .map(|p| p.fields.clone())
            .unwrap_or_default();
        use_state(move || initial)
    };
    let error = use_state(|| None::<(Option<F>, String)>);
    let busy = use_state(|| false);
    let name_ref = use_node_ref();
    {
        let name_ref = name_ref.clone();
        use_effect_with((), move |_| {
            if let Some(input) = name_ref.cast::<HtmlInputElement>() {
                // A convenience only.
                let _ = input.focus();
            }
        });
    }

    let setter = |f: F| {
        let fields = fields.clone();
        Callback::from(move |value: String| {
            let mut next = (*fields).clone();
            *f.slot(&mut next) = value;
            fields.set(next);
        })
    };

    let on_status = {
        let fields = fields.clone();
        Callback::from(move |e: Event| {
            let mut next = (*fields).clone();
            next.status = if super::ctx::value_of(&e) == "discharged" {
                PatientStatus::Discharged
            } else {
                PatientStatus::Active
            };
            fields.set(next);
        })
    };
    // Diagnoses: `Some(i)` edits row i, `None` adds an empty row; removing is separate.
    let set_diagnosis = |i: usize, code: bool| {
        let fields = fields.clone();
        Callback::from(move |e: InputEvent| {
            let mut next = (*fields).clone();
            if let Some(d) = next.diagnoses.get_mut(i) {
                let v = super::ctx::value_of(&e);
                if code {
                    d.code = v;
                } else {
                    d.text = v;
                }
            }
            fields.set(next);
        })
    };
    let add_diagnosis = {
        let fields = fields.clone();
        Callback::from(move |_: MouseEvent| {
            let mut next = (*fields).clone();
            next.diagnoses.push(Diagnosis::default());
            fields.set(next);
        })
    };
    let remove_diagnosis = |i: usize| {
        let fields = fields.clone();
        Callback::from(move |_: MouseEvent| {
            let mut next = (*fields).clone();
            if i < next.diagnoses.len() {
                next.diagnoses.remove(i);
            }
            fields.set(next);
        })
    };

    let onsubmit = {
        let (fields, error, busy) = (fields.clone(), error.clone(), busy.clone());
        let editing = props.editing.as_ref().map(|p| p.id.clone());
        let (on_saved, on_locked) = (props.on_saved.clone(), props.on_locked.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *busy {
                return;
            }
            busy.set(true);
            let (values, editing, error, busy) = (
                (*fields).clone(),
                editing.clone(),
                error.clone(),
                busy.clone(),
            );
            let (on_saved, on_locked) = (on_saved.clone(), on_locked.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let result = match &editing {
                    Some(id) => api::edit_patient(id, &PatientPatch::from_full(values)).await,
                    None => api::add_patient(&values).await,
                };
                busy.set(false);
                match result {
                    Ok(p) => on_saved.emit(p),
                    Err(e) if e.kind == ErrorKind::Locked => on_locked.emit(()),
                    Err(e) => {
                        let field = (e.kind == ErrorKind::InvalidInput)
                            .then(|| field_of(&e.message))
                            .flatten();
                        error.set(Some((field, e.message)));
                    }
                }
            });
        })
    };
    let on_cancel = {
        let cb = props.on_cancel.clone();
        Callback::from(move |_: MouseEvent| cb.emit(()))
    };

    let bad = |f: F| matches!(&*error, Some((Some(g), _)) if *g == f);
    // The core's message goes under the field it names, else above the buttons.
    let note = |f: F| match &*error {
        Some((Some(g), msg)) if *g == f => {
            html! { <p id="form-error" class="field-note error-text" role="alert">{ msg }</p> }
        }
        _ => html! {},
    };
    let input = |f: F, id: &'static str, label: &'static str, kind: &'static str, value: &str| {
        let set = setter(f);
        let oninput = Callback::from(move |e: InputEvent| {
            set.emit(e.target_unchecked_into::<HtmlInputElement>().value())
        });
        let node_ref = if f == F::Name {
            name_ref.clone()
        } else {
            NodeRef::default()
        };
        html! {
            <div class={classes!("form-field", (f == F::Name).then_some("wide"), bad(f).then_some("invalid"))}>
                <label for={id}>{ label }</label>
                <input {id} type={kind} value={value.to_string()} {oninput} ref={node_ref}
                    aria-invalid={bad(f).then_some("true")} disabled={*busy} />
                { note(f) }
            </div>
        }
    };
    let area = |f: F, id: &'static str, label: &'static str, rows: &'static str, value: &str| {
        let set = setter(f);
        let oninput = Callback::from(move |e: InputEvent| {
            set.emit(e.target_unchecked_into::<HtmlTextAreaElement>().value())
        });
        html! {
            <div class={classes!("form-field", "wide", bad(f).then_some("invalid"))}>
                <label for={id}>{ label }</label>
                <textarea {id} {rows} value={value.to_string()} {oninput}
                    aria-invalid={bad(f).then_some("true")} disabled={*busy} />
                { note(f) }
            </div>
        }
    };

    let v = &*fields;
    let title = match &props.editing {
        Some(p) => format!("Edit {}", p.fields.name),
        None => "New patient".to_string(),
    };
    html! {
        <form id="patient-form" class="patient-form" {onsubmit} novalidate=true>
            <h2>{ title }</h2>
            <div class="form-grid">
                { input(F::Name, "field-name", "Full name", "text", &v.name) }
                { input(F::Dob, "field-dob", "Date of birth", "date", &v.date_of_birth) }
                { input(F::Pronouns, "field-pronouns", "Pronouns", "text", &v.pronouns) }
                { input(F::Phone, "field-phone", "Phone", "tel", &v.phone) }
                { input(F::Email, "field-email", "Email", "email", &v.email) }
                { area(F::Address, "field-address", "Address", "2", &v.address) }
                { area(F::Notes, "field-notes", "Notes", "6", &v.notes) }
                <div class="form-field">
                    <label for="field-status">{ "Status" }</label>
                    <select id="field-status" onchange={on_status} disabled={*busy}>
                        <option value="active" selected={v.status == PatientStatus::Active}>{ "Active — in care" }</option>
                        <option value="discharged" selected={v.status == PatientStatus::Discharged}>{ "Discharged" }</option>
                    </select>
                </div>
            </div>
            <fieldset class="form-group">
                <legend>{ "Emergency contact" }</legend>
                <div class="form-grid">
                    { input(F::EmergencyName, "field-emergency-name", "Name", "text", &v.emergency_name) }
                    { input(F::EmergencyRelationship, "field-emergency-relationship", "Relationship", "text", &v.emergency_relationship) }
                    { input(F::EmergencyPhone, "field-emergency-phone", "Phone", "tel", &v.emergency_phone) }
                </div>
            </fieldset>
            <fieldset class="form-group">
                <legend>{ "Diagnoses (ICD-10)" }</legend>
                if v.diagnoses.is_empty() { <p class="muted small">{ "None recorded." }</p> }
                { for v.diagnoses.iter().enumerate().map(|(i, d)| html! {
                    <div class="diagnosis-row" key={i}>
                        <input class="code-input" type="text" placeholder="F33.1" aria-label={format!("Diagnosis {} code", i + 1)}
                            value={d.code.clone()} oninput={set_diagnosis(i, true)} disabled={*busy} />
                        <input type="text" placeholder="Description" aria-label={format!("Diagnosis {} description", i + 1)}
                            value={d.text.clone()} oninput={set_diagnosis(i, false)} disabled={*busy} />
                        <button type="button" class="link small" onclick={remove_diagnosis(i)} disabled={*busy}>{ "Remove" }</button>
                    </div>
                }) }
                <button id="form-add-diagnosis" type="button" class="secondary small-button" onclick={add_diagnosis} disabled={*busy}>{ "Add diagnosis" }</button>
            </fieldset>
            if let Some((None, msg)) = &*error {
                <p id="form-error" class="error" role="alert">{ msg }</p>
            }
            <div class="form-actions">
                <button id="cancel-edit" type="button" class="secondary" onclick={on_cancel} disabled={*busy}>{ "Cancel" }</button>
                <button id="save-patient" type="submit" class="primary" disabled={*busy}>
                    { if *busy { "Saving…" } else { "Save" } }
                </button>
            </div>
        </form>
    }
}
