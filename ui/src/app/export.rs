//! The Export tab: a wizard that exports one patient — (1) scope: the records, psychotherapy
//! notes only when chosen; (2) purpose, with the patient's consent decision per category shown
//! before anything is exported; (3) format: a signed `.hearth` archive, optionally sealed to a
//! recipient's age key; (4) destination — then the result with sizes and the command that
//! verifies it. [`research`] is the clinic's de-identified research export.

pub mod research;

use gloo_timers::callback::Interval;
use hearth_api::{
    ArchiveWritten, ExportProgressView, ExportRequest, CONSENT_CATEGORIES, CONSENT_PURPOSES,
};
use web_sys::HtmlInputElement;
use yew::prelude::*;

use super::ctx::{human_size, on_value, setter, use_ctx};
use crate::api;

/// How often a running export is asked where it is.
const PROGRESS_POLL_MS: u32 = 200;

/// Inputs of [`ExportWizard`].
#[derive(Properties, PartialEq)]
pub struct Props {
    /// The patient's record id.
    pub patient: String,
}

/// The wizard's steps, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Scope,
    Purpose,
    Format,
    Destination,
}

impl Step {
    const ALL: [Step; 4] = [Step::Scope, Step::Purpose, Step::Format, Step::Destination];

    fn index(self) -> usize {
        match self {
            Step::Scope => 0,
            Step::Purpose => 1,
            Step::Format => 2,
            Step::Destination => 3,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Step::Scope => "Records",
            Step::Purpose => "Purpose and consent",
            Step::Format => "Format",
            Step::Destination => "Destination",
        }
    }

    fn dom_id(self) -> &'static str {
        match self {
            Step::Scope => "export-step-scope",
            Step::Purpose => "export-step-purpose",
            Step::Format => "export-step-format",
            Step::Destination => "export-step-destination",
        }
    }
}

/// The consent categories an export covers (psychotherapy notes only when chosen).
fn categories(psychotherapy: bool) -> Vec<&'static str> {
    let mut v = vec![
        "demographics",
        "appointments",
        "progress-notes",
        "assessments",
        "treatment-plan",
        "attachments",
    ];
    if psychotherapy {
        v.push("psychotherapy-notes");
    }
    v
}

fn category_label(code: &str) -> &'static str {
    CONSENT_CATEGORIES
        .iter()
        .find(|(c, _)| *c == code)
        .map_or("Records", |(_, l)| *l)
}

/// How many records of each kind the patient has (what the export will hold); `None` where
/// the list could not be read.
#[derive(Debug, Clone, Default, PartialEq)]
struct Counts {
    appointments: Option<usize>,
    notes: Option<usize>,
    psychotherapy: Option<usize>,
    assessments: Option<usize>,
    attachments: Option<usize>,
    plan: Option<usize>,
}

impl Counts {
    /// The records exported: the patient, the rest, psychotherapy notes when chosen.
    fn total(&self, psychotherapy: bool) -> usize {
        let mut n = 1
            + self.appointments.unwrap_or(0)
            + self.notes.unwrap_or(0)
            + self.assessments.unwrap_or(0)
            + self.attachments.unwrap_or(0)
            + self.plan.unwrap_or(0);
        if psychotherapy {
            n += self.psychotherapy.unwrap_or(0);
        }
        n
    }
}

async fn load_counts(patient: &str) -> Counts {
    let signed = |v: Vec<hearth_api::Stored<hearth_api::Note>>| {
        v.iter().filter(|n| n.record.signature.is_some()).count()
    };
    Counts {
        appointments: api::list_appointments(patient).await.ok().map(|v| v.len()),
        notes: api::list_notes(patient, false).await.ok().map(signed),
        // Listed (and that listing logged) only once the user asks for psychotherapy notes.
        psychotherapy: None,
        assessments: api::list_assessments(patient).await.ok().map(|v| v.len()),
        attachments: api::list_attachments(patient).await.ok().map(|v| v.len()),
        plan: api::get_plan(patient)
            .await
            .ok()
            .map(|p| usize::from(p.is_some())),
    }
}

/// The recipients typed, one a line (or separated by spaces or commas).
fn recipients_of(raw: &str) -> Vec<String> {
    raw.split(|c: char| c.is_whitespace() || c == ',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// A plain-words problem with the recipients, if any.
fn recipients_problem(raw: &str) -> Option<String> {
    let list = recipients_of(raw);
    if list.is_empty() {
        return Some("Recipient: paste the recipient's public key (it starts with age1…). They make one with `hearth recipient-key FILE` or `age-keygen`.".into());
    }
    list.iter()
        .find(|r| !r.starts_with("age1"))
        .map(|r| format!("Recipient: {r:?} is not an age public key; those start with age1… (never send or paste the secret key, AGE-SECRET-KEY-…)."))
}

/// The export wizard of one patient.
#[component]
pub fn ExportWizard(props: &Props) -> Html {
    let ctx = use_ctx();
    let step = use_state(|| Step::Scope);
    let psychotherapy = use_state(|| false);
    let purpose = use_state(|| "treatment".to_string());
    let sealed = use_state(|| false);
    let recipients = use_state(String::new);
    let path = use_state(String::new);
    let fhir = use_state(String::new);
    let counts = use_state(|| None::<Counts>);
    let decisions = use_state(|| None::<Vec<(&'static str, bool, String)>>);
    let error = use_state(|| None::<String>);
    let busy = use_state(|| false);
    let done = use_state(|| None::<ArchiveWritten>);
    let progress = use_state(|| None::<ExportProgressView>);
    {
        // While exporting, ask where it is a few times a second.
        let progress = progress.clone();
        use_effect_with(*busy, move |busy| {
            let interval = busy.then(|| {
                let progress = progress.clone();
                Interval::new(PROGRESS_POLL_MS, move || {
                    let progress = progress.clone();
                    wasm_bindgen_futures::spawn_local(async move {
                        if let Ok(Some(p)) = api::export_progress().await {
                            progress.set(Some(p));
                        }
                    });
                })
            });
            if !*busy {
                progress.set(None);
            }
            move || drop(interval)
        });
    }

    {
        let counts = counts.clone();
        use_effect_with(props.patient.clone(), move |patient| {
            let patient = patient.clone();
            wasm_bindgen_futures::spawn_local(async move {
                counts.set(Some(load_counts(&patient).await));
            });
        });
    }
    {
        // Listing psychotherapy notes is logged as a view: only when they are chosen.
        let counts = counts.clone();
        let deps = (props.patient.clone(), *psychotherapy, counts.is_some());
        use_effect_with(deps, move |(patient, chosen, loaded)| {
            let already = counts.as_ref().is_some_and(|c| c.psychotherapy.is_some());
            if *chosen && *loaded && !already {
                let patient = patient.clone();
                wasm_bindgen_futures::spawn_local(async move {
                    let n = api::list_notes(&patient, true)
                        .await
                        .ok()
                        .map(|v| v.iter().filter(|n| n.record.signature.is_some()).count());
                    let mut c = (*counts).clone().unwrap_or_default();
                    c.psychotherapy = n;
                    counts.set(Some(c));
                });
            }
        });
    }
    {
        let (ctx, decisions, error) = (ctx.clone(), decisions.clone(), error.clone());
        let deps = (props.patient.clone(), (*purpose).clone(), *psychotherapy);
        use_effect_with(deps, move |(patient, purpose, psychotherapy)| {
            let (patient, purpose, psychotherapy) =
                (patient.clone(), purpose.clone(), *psychotherapy);
            decisions.set(None);
            wasm_bindgen_futures::spawn_local(async move {
                let mut out = Vec::new();
                for c in categories(psychotherapy) {
                    let r = api::consent_check(&patient, "export", c, &purpose).await;
                    let Some((permit, why)) = ctx.take(r, &error) else {
                        return;
                    };
                    out.push((c, permit, why));
                }
                decisions.set(Some(out));
            });
        });
    }

    let go = |to: Step| {
        let (step, error) = (step.clone(), error.clone());
        Callback::from(move |_: MouseEvent| {
            error.set(None);
            step.set(to);
        })
    };
    let on_next = {
        let (step, error, sealed, recipients) = (
            step.clone(),
            error.clone(),
            sealed.clone(),
            recipients.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            if *step == Step::Format && *sealed {
                if let Some(p) = recipients_problem(&recipients) {
                    error.set(Some(p));
                    return;
                }
            }
            error.set(None);
            if let Some(next) = Step::ALL.get(step.index() + 1) {
                step.set(*next);
            }
        })
    };
    let on_back = {
        let (step, error) = (step.clone(), error.clone());
        Callback::from(move |_: MouseEvent| {
            error.set(None);
            if let Some(prev) = step.index().checked_sub(1).and_then(|i| Step::ALL.get(i)) {
                step.set(*prev);
            }
        })
    };
    let on_psychotherapy = {
        let psychotherapy = psychotherapy.clone();
        Callback::from(move |e: Event| {
            psychotherapy.set(e.target_unchecked_into::<HtmlInputElement>().checked());
        })
    };
    let on_purpose = {
        let purpose = purpose.clone();
        on_value(Callback::from(move |v: String| purpose.set(v)))
    };
    let on_format = |seal: bool| {
        let sealed = sealed.clone();
        Callback::from(move |_: Event| sealed.set(seal))
    };
    let on_export = {
        let (ctx, error, done, busy, step) = (
            ctx.clone(),
            error.clone(),
            done.clone(),
            busy.clone(),
            step.clone(),
        );
        let (psychotherapy, purpose, sealed, recipients, path, fhir) = (
            psychotherapy.clone(),
            purpose.clone(),
            sealed.clone(),
            recipients.clone(),
            path.clone(),
            fhir.clone(),
        );
        let patient = props.patient.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *busy {
                return;
            }
            if path.trim().is_empty() {
                error.set(Some(
                    "Destination: type where to save the archive, e.g. /home/you/Desktop/patient.hearth".into(),
                ));
                return;
            }
            if *sealed {
                if let Some(p) = recipients_problem(&recipients) {
                    error.set(Some(p));
                    step.set(Step::Format);
                    return;
                }
            }
            let request = ExportRequest {
                patient: patient.clone(),
                purpose: (*purpose).clone(),
                psychotherapy: *psychotherapy,
                path: path.trim().to_string(),
                fhir: (!*sealed && !fhir.trim().is_empty()).then(|| fhir.trim().to_string()),
                recipients: if *sealed {
                    recipients_of(&recipients)
                } else {
                    Vec::new()
                },
            };
            let (ctx, error, done, busy) = (ctx.clone(), error.clone(), done.clone(), busy.clone());
            busy.set(true);
            error.set(None);
            wasm_bindgen_futures::spawn_local(async move {
                let r = api::export_patient_to(&request).await;
                busy.set(false);
                if let Some(x) = ctx.take(r, &error) {
                    error.set(None);
                    done.set(Some(x));
                }
            });
        })
    };
    let on_again = {
        let (done, step) = (done.clone(), step.clone());
        Callback::from(move |_: MouseEvent| {
            done.set(None);
            step.set(Step::Scope);
        })
    };

    if let Some(x) = &*done {
        let verify = if x.sealed_to > 0 {
            format!("hearth verify --identity KEYFILE {}", x.archive_path)
        } else {
            format!("hearth verify {}", x.archive_path)
        };
        return html! {
            <div class="export" id="export-tab">
                <section class="panel" id="export-result" role="status" data-sealed={(x.sealed_to > 0).to_string()}>
                    <h3>{ "Exported" }</h3>
                    <ul class="export-files">
                        <li>
                            { if x.sealed_to > 0 {
                                format!("Archive sealed to {} recipient(s): ", x.sealed_to)
                            } else {
                                "Signed archive: ".to_string()
                            } }
                            <code id="export-archive-written">{ &x.archive_path }</code>
                            { format!(" ({}, {} FHIR resources)", human_size(x.archive_bytes), x.resources) }
                        </li>
                        if let (Some(p), Some(n)) = (&x.fhir_path, x.fhir_bytes) {
                            <li>{ "FHIR R4 JSON (not encrypted): " }<code>{ p }</code>{ format!(" ({})", human_size(n)) }</li>
                        }
                    </ul>
                    <p>{ if x.sealed_to > 0 {
                        "The recipient opens and checks it offline, with no vault, using"
                    } else {
                        "Anyone can check it offline, with no vault, using"
                    } }</p>
                    <pre class="verify-command" id="export-verify-command">{ verify }</pre>
                    if x.sealed_to > 0 {
                        <p class="muted small">{ "Only a recipient's secret key opens it: KEYFILE is the recipient's identity file. The export is in the patient's access log." }</p>
                    } else {
                        <p class="muted small">{ "The archive is signed, not encrypted: send it only over a channel you trust, or seal it to the recipient. The export is in the patient's access log." }</p>
                    }
                    <div class="panel-actions">
                        <button id="export-again" type="button" class="secondary" onclick={on_again}>{ "Export again" }</button>
                    </div>
                </section>
            </div>
        };
    }

    let total = counts.as_ref().map(|c| c.total(*psychotherapy));
    let refused: Vec<_> = decisions
        .as_ref()
        .map(|d| d.iter().filter(|(_, ok, _)| !ok).cloned().collect())
        .unwrap_or_default();
    let stepper = html! {
        <ol class="wizard-steps" aria-label="Export steps">
            { for Step::ALL.into_iter().map(|s| {
                let on = s == *step;
                html! {
                    <li class={classes!("wizard-step", on.then_some("on"))}>
                        <button id={s.dom_id()} type="button" class="link" aria-current={on.then_some("step")}
                            onclick={go(s)} disabled={*busy}>
                            { format!("{}. {}", s.index() + 1, s.label()) }
                        </button>
                    </li>
                }
            }) }
        </ol>
    };
    let count_line = |label: &str, n: Option<usize>| match n {
        Some(n) => html! { <li>{ format!("{label}: {n}") }</li> },
        None => html! { <li>{ format!("{label}: not readable here") }</li> },
    };
    let decision_list = match &*decisions {
        None => {
            html! { <p class="muted" id="export-consent-loading">{ "Asking the patient's consent…" }</p> }
        }
        Some(d) => html! {
            <>
                if refused.is_empty() {
                    <p class="check-result permitted" id="export-consent" data-permit="true">
                        <strong>{ "Permitted" }</strong>{ " — the patient's consent permits exporting these records for this purpose." }
                    </p>
                } else {
                    <p class="check-result denied" id="export-consent" data-permit="false">
                        <strong>{ "Will be refused" }</strong>
                        { format!(" — the patient's consent does not permit exporting {} for this purpose. Record a consent that does (Consent tab), or choose another purpose.",
                            refused.iter().map(|(c, _, _)| category_label(c)).collect::<Vec<_>>().join(", ")) }
                    </p>
                }
                <details class="small" open={!refused.is_empty()}>
                <summary>{ "The decision for each kind of record" }</summary>
                <ul class="export-decisions small">
                    { for d.iter().map(|(c, ok, why)| html! {
                        <li class={classes!("export-decision", if *ok { "permitted" } else { "denied" })}
                            data-category={*c} data-permit={ok.to_string()}>
                            <strong>{ category_label(c) }</strong>{ if *ok { " — permitted: " } else { " — refused: " } }{ why }
                        </li>
                    }) }
                </ul>
                </details>
            </>
        },
    };
    let body = match *step {
        Step::Scope => html! {
            <fieldset class="wizard-page" id="export-page-scope">
                <legend>{ "Which records" }</legend>
                <p class="muted small">{ "Everything the patient's consent permits: details and diagnoses, appointments, signed session notes (drafts never), assessments, the treatment plan and attached files, with the consents and the audit trail of each." }</p>
                if let Some(c) = &*counts {
                    <ul class="export-counts small" id="export-counts">
                        { count_line("Appointments", c.appointments) }
                        { count_line("Signed session notes", c.notes) }
                        { count_line("Assessments", c.assessments) }
                        { count_line("Treatment plan", c.plan) }
                        { count_line("Files", c.attachments) }
                    </ul>
                }
                <label class="check">
                    <input id="export-psychotherapy" type="checkbox" checked={*psychotherapy} onchange={on_psychotherapy} />
                    { " Also include psychotherapy notes" }
                    if let Some(n) = counts.as_ref().and_then(|c| c.psychotherapy) { { format!(" ({n})") } }
                </label>
                if *psychotherapy {
                    <p class="warning small" id="export-psychotherapy-warning" role="note">
                        { "Psychotherapy notes are kept apart from the chart and have extra protection: include them only when the patient has specifically authorised it. They are exported only if the patient's consent names them; otherwise the whole export is refused." }
                    </p>
                }
            </fieldset>
        },
        Step::Purpose => html! {
            <fieldset class="wizard-page" id="export-page-purpose">
                <legend>{ "Why are these records leaving?" }</legend>
                <label class="check-field">
                    <span class="small muted">{ "Purpose" }</span>
                    <select id="export-purpose" aria-label="Purpose" onchange={on_purpose}>
                        { for CONSENT_PURPOSES.iter().map(|(code, text)| html! {
                            <option value={code.to_string()} selected={*code == purpose.as_str()}>{ *text }</option>
                        }) }
                    </select>
                </label>
                { decision_list }
            </fieldset>
        },
        Step::Format => html! {
            <fieldset class="wizard-page" id="export-page-format">
                <legend>{ "Format" }</legend>
                <label class="check">
                    <input id="export-format-signed" type="radio" name="export-format" checked={!*sealed} onchange={on_format(false)} />
                    <span>
                        <strong>{ " Signed .hearth archive" }</strong>
                        <span class="muted small">{ " — the records, the FHIR R4 bundle and proofs from the audit log, signed by this device. Anyone can verify it offline; it is not encrypted. You can also save the FHIR JSON alone." }</span>
                    </span>
                </label>
                <label class="check">
                    <input id="export-format-sealed" type="radio" name="export-format" checked={*sealed} onchange={on_format(true)} />
                    <span>
                        <strong>{ " Sealed to a recipient" }</strong>
                        <span class="muted small">{ " — the signed archive encrypted to the recipient's public key (age, X25519), for sending to another clinic or to the patient." }</span>
                    </span>
                </label>
                if *sealed {
                    <label class="field">
                        <span class="small muted">{ "Recipient's public key (age1…; one a line for several)" }</span>
                        <textarea id="export-recipients" class="code-area" rows="2" aria-label="Recipient public keys"
                            placeholder="age1…" value={(*recipients).clone()} oninput={setter(&recipients)} />
                    </label>
                    <p class="muted small">{ "Only the recipient's secret key opens it — not even this device can read it afterwards. The recipient makes a key pair with " }
                        <code>{ "hearth recipient-key FILE" }</code>{ " and sends you the public key it prints; they open and check the archive with " }
                        <code>{ "hearth verify --identity FILE ARCHIVE" }</code>{ "." }</p>
                }
            </fieldset>
        },
        Step::Destination => html! {
            <fieldset class="wizard-page" id="export-page-destination">
                <legend>{ "Where to save it" }</legend>
                <label class="field">
                    <span class="small muted">{ if *sealed { "Sealed archive" } else { "Signed archive" } }</span>
                    <input id="export-archive-path" type="text" placeholder="/home/you/Desktop/patient.hearth" aria-label="Save the archive to"
                        value={(*path).clone()} oninput={setter(&path)} disabled={*busy} />
                </label>
                if *sealed {
                    <p class="muted small">{ "No plain FHIR JSON with a sealed archive: it would leave the records unencrypted next to it (the FHIR bundle is inside the archive)." }</p>
                } else {
                    <label class="field">
                        <span class="small muted">{ "FHIR R4 JSON too, not encrypted (optional)" }</span>
                        <input id="export-fhir-path" type="text" placeholder="/home/you/Desktop/patient.json" aria-label="Save the FHIR JSON to"
                            value={(*fhir).clone()} oninput={setter(&fhir)} disabled={*busy} />
                    </label>
                }
                <div class="export-review small muted" id="export-review">
                    { format!("{} · purpose {} · {}",
                        total.map_or_else(|| "the patient's records".to_string(), |n| format!("{n} record(s)")),
                        CONSENT_PURPOSES.iter().find(|(c, _)| *c == purpose.as_str()).map_or(purpose.as_str(), |(_, l)| *l),
                        if *sealed { format!("sealed to {} recipient(s)", recipients_of(&recipients).len()) } else { "signed archive".to_string() }) }
                    if !refused.is_empty() {
                        <p class="warning" id="export-review-refused">{ "The patient's consent does not permit this export (see step 2): it will be refused and the refusal logged." }</p>
                    }
                </div>
            </fieldset>
        },
    };

    html! {
        <div class="export" id="export-tab">
            <form class="panel export-wizard" id="patient-export-form" onsubmit={on_export} novalidate=true>
                <h3>{ "Export this patient" }</h3>
                <p class="muted small">{ "The patient's consent must permit the export for the purpose you choose; every export is logged." }</p>
                { stepper }
                { body }
                if *busy {
                    <p class="busy" id="export-progress" role="status" aria-live="polite">
                        { match (&*progress, total) {
                            (Some(p), _) => p.text(),
                            (None, Some(n)) => format!("Exporting {n} records…"),
                            (None, None) => "Exporting…".to_string(),
                        } }
                        if let Some(p) = (*progress).as_ref().filter(|p| p.total > 0) {
                            <progress id="export-progress-bar" max={p.total.to_string()} value={p.done.to_string()} />
                        }
                    </p>
                }
                <div class="panel-actions wizard-actions">
                    if *step != Step::Scope {
                        <button id="export-back" type="button" class="secondary" onclick={on_back} disabled={*busy}>{ "Back" }</button>
                    }
                    if *step == Step::Destination {
                        <button id="export-button" type="submit" class="primary" disabled={*busy}>
                            { if *busy { "Exporting…" } else { "Export" } }
                        </button>
                    } else {
                        <button id="export-next" type="button" class="primary" onclick={on_next}>{ "Next" }</button>
                    }
                </div>
            </form>
            if let Some(e) = &*error { <p class="error" role="alert" id="export-error">{ e }</p> }
        </div>
    }
}
