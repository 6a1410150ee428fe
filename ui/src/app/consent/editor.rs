//! The consent editor: rules as rows a patient can follow (allow or forbid, who, which
//! records, which actions, for which purposes, between which dates, with exceptions), the
//! contract it makes in plain words as they edit, and recording it as signed on paper.
//!
//! Element ids number rules from 1 as the core's messages do: `rule-1-permit`, `rule-1-who`,
//! `rule-1-who-id`, `rule-1-category-progress-notes`, `rule-1-action-read`,
//! `rule-1-purpose-treatment`, `rule-1-from`, `rule-1-until`, `rule-1-add-exception`,
//! `rule-1-remove`; exception 1 of rule 1 is `rule-1-1-…`. The preview is `#consent-preview`,
//! its error `#consent-preview-error`, the record button `#record-draft`.

use std::rc::Rc;

use hearth_api::{
    ConsentDraft, ConsentInfo, ConsentPreview, ConsentRule, CONSENT_ACTIONS, CONSENT_CATEGORIES,
    CONSENT_PURPOSES, CONSENT_WHO,
};
use web_sys::HtmlInputElement;
use yew::prelude::*;

use super::super::ctx::{on_input, on_value, use_ctx};
use crate::api;

/// A rule (`None`) or one of its exceptions.
type Path = (usize, Option<usize>);

/// "Someone specific", typed in: the `who` select's extra choices, as (code, label).
const WHO_TYPED: [(&str, &str); 2] = [
    ("member", "A specific person (member id)…"),
    ("organization", "A specific organisation (id)…"),
];

/// One rule as the form holds it.
#[derive(Debug, Clone, PartialEq)]
struct RuleForm {
    permit: bool,
    /// A [`CONSENT_WHO`] code, `member` / `organization` (with `who_id`), or empty in an
    /// exception: the same people as its rule.
    who: String,
    who_id: String,
    actions: Vec<String>,
    categories: Vec<String>,
    purposes: Vec<String>,
    from: String,
    until: String,
    except: Vec<RuleForm>,
}

impl RuleForm {
    /// What a new consent starts with: clinicians may read and write the chart for treatment.
    fn starter() -> Self {
        Self {
            permit: true,
            who: "role:clinician".into(),
            who_id: String::new(),
            actions: vec!["read".into(), "write".into()],
            categories: Vec::new(),
            purposes: vec!["treatment".into()],
            from: String::new(),
            until: String::new(),
            except: Vec::new(),
        }
    }

    /// An exception to `outer`: the opposite kind, the same people, nothing chosen yet.
    fn exception_of(outer: &RuleForm) -> Self {
        Self {
            permit: !outer.permit,
            who: String::new(),
            actions: Vec::new(),
            purposes: Vec::new(),
            ..Self::starter()
        }
    }

    fn to_rule(&self) -> ConsentRule {
        let who = match self.who.as_str() {
            "" => Vec::new(),
            "member" | "organization" => vec![format!("{}:{}", self.who, self.who_id.trim())],
            code => vec![code.to_string()],
        };
        let date = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
        ConsentRule {
            permit: self.permit,
            who,
            actions: self.actions.clone(),
            categories: self.categories.clone(),
            purposes: self.purposes.clone(),
            from: date(&self.from),
            until: date(&self.until),
            except: self.except.iter().map(RuleForm::to_rule).collect(),
        }
    }
}

/// Which list a checkbox belongs to.
#[derive(Debug, Clone, Copy, PartialEq)]
enum List {
    Actions,
    Categories,
    Purposes,
}

impl List {
    fn codes(self) -> &'static [(&'static str, &'static str)] {
        match self {
            List::Actions => &CONSENT_ACTIONS,
            List::Categories => &CONSENT_CATEGORIES,
            List::Purposes => &CONSENT_PURPOSES,
        }
    }

    fn key(self) -> &'static str {
        match self {
            List::Actions => "action",
            List::Categories => "category",
            List::Purposes => "purpose",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Draft {
    rules: Vec<RuleForm>,
}

impl Default for Draft {
    fn default() -> Self {
        Self {
            rules: vec![RuleForm::starter()],
        }
    }
}

impl Draft {
    fn rule_mut(&mut self, (r, e): Path) -> Option<&mut RuleForm> {
        let rule = self.rules.get_mut(r)?;
        match e {
            None => Some(rule),
            Some(e) => rule.except.get_mut(e),
        }
    }

    fn to_draft(&self) -> ConsentDraft {
        ConsentDraft {
            rules: self.rules.iter().map(RuleForm::to_rule).collect(),
        }
    }
}

enum Edit {
    AddRule,
    AddException(usize),
    Remove(Path),
    Permit(Path, bool),
    Who(Path, String),
    WhoId(Path, String),
    Toggle(Path, List, &'static str, bool),
    From(Path, String),
    Until(Path, String),
}

impl Reducible for Draft {
    type Action = Edit;

    fn reduce(self: Rc<Self>, action: Edit) -> Rc<Self> {
        let mut d = (*self).clone();
        match action {
            Edit::AddRule => d.rules.push(RuleForm::starter()),
            Edit::AddException(r) => {
                if let Some(rule) = d.rules.get_mut(r) {
                    let e = RuleForm::exception_of(rule);
                    rule.except.push(e);
                }
            }
            Edit::Remove((r, None)) => {
                if r < d.rules.len() {
                    d.rules.remove(r);
                }
            }
            Edit::Remove((r, Some(e))) => {
                if let Some(rule) = d.rules.get_mut(r) {
                    if e < rule.except.len() {
                        rule.except.remove(e);
                    }
                }
            }
            Edit::Permit(p, v) => {
                if let Some(rule) = d.rule_mut(p) {
                    rule.permit = v;
                }
            }
            Edit::Who(p, v) => {
                if let Some(rule) = d.rule_mut(p) {
                    rule.who = v;
                }
            }
            Edit::WhoId(p, v) => {
                if let Some(rule) = d.rule_mut(p) {
                    rule.who_id = v;
                }
            }
            Edit::Toggle(p, list, code, on) => {
                if let Some(rule) = d.rule_mut(p) {
                    let v = match list {
                        List::Actions => &mut rule.actions,
                        List::Categories => &mut rule.categories,
                        List::Purposes => &mut rule.purposes,
                    };
                    // Kept in the order of the code list, so the preview reads the same way.
                    let mut chosen: Vec<String> = list
                        .codes()
                        .iter()
                        .map(|(c, _)| *c)
                        .filter(|c| {
                            if *c == code {
                                on
                            } else {
                                v.iter().any(|x| x == c)
                            }
                        })
                        .map(str::to_string)
                        .collect();
                    std::mem::swap(v, &mut chosen);
                }
            }
            Edit::From(p, v) => {
                if let Some(rule) = d.rule_mut(p) {
                    rule.from = v;
                }
            }
            Edit::Until(p, v) => {
                if let Some(rule) = d.rule_mut(p) {
                    rule.until = v;
                }
            }
        }
        Rc::new(d)
    }
}

/// `rule-1` or `rule-1-2`.
fn dom_prefix((r, e): Path) -> String {
    match e {
        None => format!("rule-{}", r + 1),
        Some(e) => format!("rule-{}-{}", r + 1, e + 1),
    }
}

/// A row of checkboxes over one code list; `none` says what nothing ticked means.
fn checks(
    path: Path,
    list: List,
    title: &'static str,
    none: &'static str,
    chosen: &[String],
    edit: &UseReducerDispatcher<Draft>,
) -> Html {
    let prefix = dom_prefix(path);
    html! {
        <div class="rule-line">
            <span class="rule-label">{ title }</span>
            <div class="check-row">
                { for list.codes().iter().map(|(code, label)| {
                    let id = format!("{prefix}-{}-{code}", list.key());
                    let onchange = {
                        let edit = edit.clone();
                        let code: &'static str = code;
                        Callback::from(move |e: Event| {
                            let on = e.target_unchecked_into::<HtmlInputElement>().checked();
                            edit.dispatch(Edit::Toggle(path, list, code, on));
                        })
                    };
                    html! {
                        <label class="check" for={id.clone()}>
                            <input type="checkbox" id={id} checked={chosen.iter().any(|c| c == code)} {onchange} />
                            { *label }
                        </label>
                    }
                }) }
                if chosen.is_empty() { <span class="muted small none-means">{ none }</span> }
            </div>
        </div>
    }
}

/// One rule (or exception) as a row of controls.
fn rule_row(path: Path, rule: &RuleForm, edit: &UseReducerDispatcher<Draft>) -> Html {
    let prefix = dom_prefix(path);
    let exception = path.1.is_some();
    let send = |f: fn(Path, String) -> Edit| {
        let edit = edit.clone();
        Callback::from(move |v: String| edit.dispatch(f(path, v)))
    };
    let on_permit = {
        let edit = edit.clone();
        on_value(Callback::from(move |v: String| {
            edit.dispatch(Edit::Permit(path, v == "allow"));
        }))
    };
    let on_remove = {
        let edit = edit.clone();
        Callback::from(move |_: MouseEvent| edit.dispatch(Edit::Remove(path)))
    };
    let typed = WHO_TYPED.iter().any(|(c, _)| *c == rule.who);
    let same = exception.then_some(("", "The same people as the rule"));
    let who_options = same
        .into_iter()
        .chain(CONSENT_WHO.iter().copied())
        .chain(WHO_TYPED.iter().copied());
    let title = match path {
        (r, None) => format!("Rule {}", r + 1),
        (r, Some(e)) => format!("Exception {}.{}", r + 1, e + 1),
    };
    let (from_id, until_id) = (format!("{prefix}-from"), format!("{prefix}-until"));
    html! {
        <fieldset class={classes!("consent-rule", exception.then_some("exception"), if rule.permit { "allow" } else { "forbid" })}
            id={prefix.clone()} data-permit={rule.permit.to_string()}>
            <legend>{ title.clone() }</legend>
            <div class="rule-line rule-head">
                <select id={format!("{prefix}-permit")} aria-label={format!("{title}: allow or forbid")} onchange={on_permit}>
                    <option value="allow" selected={rule.permit}>{ "Allow" }</option>
                    <option value="forbid" selected={!rule.permit}>{ "Forbid" }</option>
                </select>
                <select id={format!("{prefix}-who")} aria-label={format!("{title}: who")} onchange={on_value(send(Edit::Who))}>
                    { for who_options.map(|(code, label)| html! {
                        <option value={code} selected={rule.who == code}>{ label }</option>
                    }) }
                </select>
                if typed {
                    <input id={format!("{prefix}-who-id")} type="text" class="who-id"
                        placeholder={if rule.who == "member" { "member id" } else { "organisation id" }}
                        aria-label={format!("{title}: id")} value={rule.who_id.clone()} oninput={on_input(send(Edit::WhoId))} />
                }
                <button id={format!("{prefix}-remove")} type="button" class="link small" onclick={on_remove}>
                    { if exception { "Remove exception" } else { "Remove rule" } }
                </button>
            </div>
            { checks(path, List::Categories, "Records", if exception { "none ticked: the same records as the rule" } else { "none ticked: all records" }, &rule.categories, edit) }
            { checks(path, List::Actions, "May", "none ticked: anything", &rule.actions, edit) }
            { checks(path, List::Purposes, "For", "none ticked: any purpose", &rule.purposes, edit) }
            <div class="rule-line dates">
                <label for={from_id.clone()}>{ "From" }</label>
                <input id={from_id} type="date" value={rule.from.clone()}
                    oninput={on_input(send(Edit::From))} onchange={on_value(send(Edit::From))} />
                <label for={until_id.clone()}>{ "Until" }</label>
                <input id={until_id} type="date" value={rule.until.clone()}
                    oninput={on_input(send(Edit::Until))} onchange={on_value(send(Edit::Until))} />
                <span class="muted small">{ "empty: no limit" }</span>
            </div>
            if !exception {
                { for rule.except.iter().enumerate().map(|(e, x)| rule_row((path.0, Some(e)), x, edit)) }
                <button id={format!("{prefix}-add-exception")} type="button" class="secondary small"
                    onclick={{
                        let edit = edit.clone();
                        let r = path.0;
                        Callback::from(move |_: MouseEvent| edit.dispatch(Edit::AddException(r)))
                    }}>
                    { if rule.permit { "Add an exception (something not allowed)" } else { "Add an exception (something still allowed)" } }
                </button>
            }
        </fieldset>
    }
}

/// Inputs of [`ConsentEditor`].
#[derive(Properties, PartialEq)]
pub struct Props {
    /// The patient's record id.
    pub patient: String,
    /// Called with the recorded contract.
    pub on_recorded: Callback<ConsentInfo>,
    /// Called on Cancel.
    pub on_cancel: Callback<()>,
}

/// The editor, its live preview and "Record as signed on paper".
#[component]
pub fn ConsentEditor(props: &Props) -> Html {
    let ctx = use_ctx();
    let draft = use_reducer(Draft::default);
    let preview = use_state(|| None::<ConsentPreview>);
    let preview_error = use_state(|| None::<String>);
    let error = use_state(|| None::<String>);
    let busy = use_state(|| false);
    // Only the answer to the newest draft is shown.
    let sent = use_mut_ref(|| 0u64);

    {
        let (ctx, preview, preview_error) = (ctx.clone(), preview.clone(), preview_error.clone());
        let sent = Rc::clone(&sent);
        let body = draft.to_draft();
        use_effect_with((props.patient.clone(), body), move |(patient, body)| {
            let (patient, body) = (patient.clone(), body.clone());
            *sent.borrow_mut() += 1;
            let mine = *sent.borrow();
            wasm_bindgen_futures::spawn_local(async move {
                let r = api::consent_preview(&patient, &body).await;
                if *sent.borrow() != mine {
                    return;
                }
                if let Some(p) = ctx.take(r, &preview_error) {
                    preview_error.set(None);
                    preview.set(Some(p));
                } else {
                    preview.set(None);
                }
            });
        });
    }

    let on_add = {
        let edit = draft.dispatcher();
        Callback::from(move |_: MouseEvent| edit.dispatch(Edit::AddRule))
    };
    let on_cancel = {
        let cb = props.on_cancel.clone();
        Callback::from(move |_: MouseEvent| cb.emit(()))
    };
    let on_record = {
        let (ctx, error, busy, preview) =
            (ctx.clone(), error.clone(), busy.clone(), preview.clone());
        let (patient, on_recorded) = (props.patient.clone(), props.on_recorded.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Some(p) = (*preview).clone() else {
                return;
            };
            let (ctx, error, busy, patient, on_recorded) = (
                ctx.clone(),
                error.clone(),
                busy.clone(),
                patient.clone(),
                on_recorded.clone(),
            );
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                let r = api::record_paper_consent(&patient, &p.fhir).await;
                busy.set(false);
                if let Some(c) = ctx.take(r, &error) {
                    error.set(None);
                    on_recorded.emit(c);
                }
            });
        })
    };

    let edit = draft.dispatcher();
    let ready = preview.is_some() && preview_error.is_none();
    html! {
        <form class="panel consent-editor" id="consent-editor" onsubmit={on_record} novalidate=true>
            <h4>{ "New consent" }</h4>
            <p class="muted small">{ "Build it with the patient, rule by rule. Forbidding wins over allowing; an exception changes its rule for the records or people it names. What is not covered falls back to the clinic's defaults." }</p>
            <div class="editor-columns">
                <aside class="preview-box" aria-live="polite">
                    <h4>{ "What the patient agrees to" }</h4>
                    if let Some(e) = &*preview_error {
                        <p class="error" role="alert" id="consent-preview-error">{ e }</p>
                    } else if let Some(p) = &*preview {
                        <p class="consent-preview" id="consent-preview">{ &p.summary }</p>
                        <details class="small">
                            <summary>{ "FHIR Consent (to sign on the patient's device)" }</summary>
                            <pre class="fhir" id="consent-preview-fhir">{ &p.fhir }</pre>
                        </details>
                    } else {
                        <p class="muted">{ "…" }</p>
                    }
                </aside>
                <div class="rules">
                    { for draft.rules.iter().enumerate().map(|(r, rule)| rule_row((r, None), rule, &edit)) }
                    <button id="add-rule" type="button" class="secondary" onclick={on_add}>{ "Add a rule" }</button>
                </div>
            </div>
            if let Some(e) = &*error { <p class="error" role="alert" id="consent-editor-error">{ e }</p> }
            <div class="panel-actions">
                <button id="record-draft" type="submit" class="primary" disabled={*busy || !ready}>
                    { if *busy { "Recording…" } else { "Record as signed on paper" } }
                </button>
                <button id="cancel-draft" type="button" class="secondary" onclick={on_cancel}>{ "Cancel" }</button>
            </div>
            <p class="muted small">{ "Recording attests, from this device, that the patient signed this text on paper. To have the patient sign on their own device instead, give them the contract and paste back what their device signed (below)." }</p>
        </form>
    }
}
