//! The clinic's research export: de-identified notes and measures of the patients whose
//! consent permits export for research, written to a folder; then who was included, what was
//! removed by kind, and who was skipped with the consent reason.

use std::collections::{BTreeSet, HashMap};

use hearth_api::{PatientRow, ResearchWritten};
use web_sys::HtmlInputElement;
use yew::prelude::*;

use super::super::ctx::{human_size, setter, use_ctx};
use crate::api;

/// A readable label for an identifier kind code (`person-name` → "person name").
fn kind_label(code: &str) -> String {
    code.replace(['-', '_'], " ")
}

/// The patients as (id, name), by name.
fn sorted_by_name(names: &HashMap<String, String>) -> Vec<(&String, &String)> {
    let mut v: Vec<_> = names.iter().collect();
    v.sort_by(|a, b| a.1.cmp(b.1).then_with(|| a.0.cmp(b.0)));
    v
}

/// The research export panel (Clinic / Audit screen).
#[component]
pub fn ResearchExportPanel() -> Html {
    let ctx = use_ctx();
    let out = use_state(String::new);
    let rows = use_state(Vec::<PatientRow>::new);
    let only = use_state(BTreeSet::<String>::new);
    let choosing = use_state(|| false);
    let busy = use_state(|| false);
    let error = use_state(|| None::<String>);
    let done = use_state(|| None::<ResearchWritten>);

    {
        let (ctx, rows, error) = (ctx.clone(), rows.clone(), error.clone());
        use_effect_with((), move |()| {
            wasm_bindgen_futures::spawn_local(async move {
                let r = api::list_patients().await;
                if let Some(v) = ctx.take(r, &error) {
                    rows.set(v);
                }
            });
        });
    }

    let names: HashMap<String, String> = rows
        .iter()
        .filter_map(|r| match r {
            PatientRow::Ok { id, name, .. } => Some((id.clone(), name.clone())),
            PatientRow::Unreadable { .. } => None,
        })
        .collect();

    let on_choosing = {
        let (choosing, only) = (choosing.clone(), only.clone());
        Callback::from(move |e: Event| {
            let on = e.target_unchecked_into::<HtmlInputElement>().checked();
            if !on {
                only.set(BTreeSet::new());
            }
            choosing.set(on);
        })
    };
    let on_run = {
        let (ctx, out, only, choosing, busy, error, done) = (
            ctx.clone(),
            out.clone(),
            only.clone(),
            choosing.clone(),
            busy.clone(),
            error.clone(),
            done.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *busy {
                return;
            }
            if out.trim().is_empty() {
                error.set(Some(
                    "Output folder: type a folder to write the research files into, e.g. /home/you/research-2026 (it is made if missing; existing files are never overwritten).".into(),
                ));
                return;
            }
            let patients: Option<Vec<String>> = (*choosing).then(|| only.iter().cloned().collect());
            if patients.as_ref().is_some_and(Vec::is_empty) {
                error.set(Some(
                    "Patients: tick at least one patient, or untick \"Only some patients\" to export everyone whose consent permits it.".into(),
                ));
                return;
            }
            let (ctx, busy, error, done, dir) = (
                ctx.clone(),
                busy.clone(),
                error.clone(),
                done.clone(),
                out.trim().to_string(),
            );
            busy.set(true);
            error.set(None);
            done.set(None);
            wasm_bindgen_futures::spawn_local(async move {
                let r = api::research_export(&dir, patients.as_deref()).await;
                busy.set(false);
                if let Some(x) = ctx.take(r, &error) {
                    done.set(Some(x));
                }
            });
        })
    };

    let name_of = |id: &str| names.get(id).cloned().unwrap_or_else(|| id.to_string());
    let result = done.as_ref().map(|x| {
        let removed_total: u64 = x.removed.iter().map(|(_, n)| n).sum();
        html! {
            <div class="research-result" id="research-result" role="status"
                data-included={x.included.len().to_string()} data-skipped={x.skipped.len().to_string()}>
                <p>
                    <strong id="research-included">{ format!("{} patient(s) included", x.included.len()) }</strong>
                    { format!(", {} skipped. Wrote ", x.skipped.len()) }
                    <code>{ &x.data_path }</code>{ format!(" ({}) and ", human_size(x.data_bytes)) }
                    <code>{ &x.manifest_path }</code>{ "." }
                </p>
                if !x.resources.is_empty() {
                    <p class="small muted">{ format!("Resources: {}",
                        x.resources.iter().map(|(t, n)| format!("{n} {t}")).collect::<Vec<_>>().join(", ")) }</p>
                }
                <h5>{ format!("Removed or shifted: {removed_total} identifier(s)") }</h5>
                if x.removed.is_empty() {
                    <p class="muted small">{ "Nothing needed removing." }</p>
                } else {
                    <ul class="research-removed small" id="research-removed">
                        { for x.removed.iter().map(|(k, n)| html! {
                            <li data-kind={k.clone()} data-count={n.to_string()}>{ format!("{}: {n}", kind_label(k)) }</li>
                        }) }
                    </ul>
                }
                if !x.skipped.is_empty() {
                    <h5>{ "Skipped (the patient's consent does not permit research)" }</h5>
                    <ul class="research-skipped small" id="research-skipped">
                        { for x.skipped.iter().map(|s| html! {
                            <li class="research-skip" data-patient={s.patient.clone()}>
                                <strong>{ name_of(&s.patient) }</strong>{ " — " }{ &s.reason }
                            </li>
                        }) }
                    </ul>
                }
                <p class="muted small">{ "Pseudonyms and date shifts are keyed by a secret drawn for this export and not kept: they cannot be reversed or linked to another export. Each included patient's export is in their access log." }</p>
            </div>
        }
    });

    html! {
        <section class="panel research-export" id="research-export">
            <h4>{ "Research export" }</h4>
            <p class="muted small">{ "De-identified signed session notes and PHQ-9 / GAD-7 results (FHIR R4 NDJSON and a manifest), only of patients whose consent permits export for research. Names, contacts and other identifiers are removed, dates shifted per patient; drafts and psychotherapy notes are never included." }</p>
            <form class="inline-form" id="research-form" onsubmit={on_run} novalidate=true>
                <input id="research-out" type="text" placeholder="/home/you/research-2026" aria-label="Output folder"
                    value={(*out).clone()} oninput={setter(&out)} disabled={*busy} />
                <button id="research-run" type="submit" class="primary" disabled={*busy}>
                    { if *busy { "Exporting…" } else { "Export for research" } }
                </button>
            </form>
            <label class="check small">
                <input id="research-choose" type="checkbox" checked={*choosing} onchange={on_choosing} disabled={*busy} />
                { " Only some patients" }
            </label>
            if *choosing {
                <ul class="research-patients small" id="research-patients">
                    { for sorted_by_name(&names).into_iter().map(|(id, name)| {
                        let on = only.contains(id);
                        let toggle = {
                            let (only, id) = (only.clone(), id.clone());
                            Callback::from(move |_: Event| {
                                let mut s = (*only).clone();
                                if !s.remove(&id) {
                                    s.insert(id.clone());
                                }
                                only.set(s);
                            })
                        };
                        html! {
                            <li key={id.clone()}>
                                <label class="check">
                                    <input type="checkbox" class="research-patient" data-id={id.clone()} checked={on} onchange={toggle} />
                                    { format!(" {name}") }
                                </label>
                            </li>
                        }
                    }) }
                </ul>
            }
            if *busy { <p class="busy" id="research-progress" role="status">{ "Exporting… de-identifying each consented patient's notes and measures." }</p> }
            if let Some(e) = &*error { <p class="error" role="alert" id="research-error">{ e }</p> }
            { for result }
        </section>
    }
}
