//! The Files tab: the patient's attachments (name, type, size, date), attaching a file by its
//! path on this computer (streamed into the vault, sealed), and exporting a copy to a path.

use gloo_timers::callback::Timeout;
use hearth_api::{Attachment, Stored};
use yew::prelude::*;

use super::ctx::{human_size, setter, use_ctx, Focus};
use super::dates::local_time;
use super::emergency::ErrorNote;
use crate::api;

/// How often the list looks again while a file's content is still arriving.
const ARRIVING_POLL_MS: u32 = 3_000;

/// Inputs of [`FilesTab`].
#[derive(Properties, PartialEq)]
pub struct Props {
    /// The patient's record id.
    pub patient: String,
    /// What to open.
    pub focus: Focus,
    /// Changes with every navigation.
    pub focus_nonce: u32,
}

/// "PDF", "PNG image", … from a media type.
fn kind_label(media_type: &str) -> String {
    match media_type {
        "application/pdf" => "PDF".into(),
        "application/dicom" => "DICOM".into(),
        "application/edf" => "EDF recording".into(),
        "text/csv" => "CSV".into(),
        "text/plain" => "Text".into(),
        "application/json" => "JSON".into(),
        "application/xml" => "XML".into(),
        "application/octet-stream" => "File".into(),
        t if t.starts_with("image/") => {
            format!("{} image", t.trim_start_matches("image/").to_uppercase())
        }
        t => t.to_string(),
    }
}

/// Where an export goes: a path ending in `/` is a folder, the file keeps its name there.
fn export_target(path: &str, filename: &str) -> String {
    let p = path.trim();
    if p.ends_with('/') || p.ends_with('\\') {
        format!("{p}{filename}")
    } else {
        p.to_string()
    }
}

/// The tab.
#[component]
pub fn FilesTab(props: &Props) -> Html {
    let ctx = use_ctx();
    let list = use_state(|| None::<Vec<Stored<Attachment>>>);
    let version = use_state(|| 0u32);
    let path = use_state(String::new);
    let description = use_state(String::new);
    let error = use_state(|| None::<String>);
    let notice = use_state(|| None::<String>);
    let busy = use_state(|| false);
    let exporting = use_state(|| None::<String>);
    let export_path = use_state(String::new);
    let highlight = use_state(|| match &props.focus {
        Focus::File(id) => Some(id.clone()),
        _ => None,
    });

    {
        let (ctx, list, error) = (ctx.clone(), list.clone(), error.clone());
        use_effect_with((props.patient.clone(), *version), move |(patient, _)| {
            let patient = patient.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let r = api::list_attachments(&patient).await;
                if let Some(mut v) = ctx.take(r, &error) {
                    v.sort_by(|a, b| b.info.created_at.cmp(&a.info.created_at));
                    list.set(Some(v));
                }
            });
        });
    }
    {
        // Content still arriving from another device: look again every few seconds until it
        // is here (a background sync brings it; the list refreshes without a click).
        let version = version.clone();
        let arriving = list
            .as_ref()
            .is_some_and(|v| v.iter().any(|a| !a.record.on_device));
        use_effect_with((arriving, *version), move |(arriving, _)| {
            let timer = arriving.then(|| {
                let version = version.clone();
                Timeout::new(ARRIVING_POLL_MS, move || version.set(*version + 1))
            });
            move || drop(timer)
        });
    }
    {
        let highlight = highlight.clone();
        use_effect_with(
            (props.focus.clone(), props.focus_nonce),
            move |(focus, _)| {
                if let Focus::File(id) = focus {
                    highlight.set(Some(id.clone()));
                }
            },
        );
    }

    let on_attach = {
        let (ctx, error, notice, busy, version) = (
            ctx.clone(),
            error.clone(),
            notice.clone(),
            busy.clone(),
            version.clone(),
        );
        let (path, description, patient) =
            (path.clone(), description.clone(), props.patient.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *busy {
                return;
            }
            if path.trim().is_empty() {
                error.set(Some(
                    "file: type the full path of the file to attach, e.g. /home/you/Documents/referral.pdf".into(),
                ));
                return;
            }
            let (ctx, error, notice, busy, version) = (
                ctx.clone(),
                error.clone(),
                notice.clone(),
                busy.clone(),
                version.clone(),
            );
            let (p, d, patient) = ((*path).clone(), (*description).clone(), patient.clone());
            let (path, description) = (path.clone(), description.clone());
            busy.set(true);
            notice.set(None);
            wasm_bindgen_futures::spawn_local(async move {
                let r = api::attach_file(&patient, &p, &d).await;
                busy.set(false);
                if let Some(a) = ctx.take(r, &error) {
                    error.set(None);
                    notice.set(Some(format!(
                        "Attached {} ({}), sealed in the vault.",
                        a.record.filename,
                        human_size(a.record.size)
                    )));
                    path.set(String::new());
                    description.set(String::new());
                    version.set(*version + 1);
                }
            });
        })
    };

    let rows = match &*list {
        None => html! { <p class="muted">{ "Loading files…" }</p> },
        Some(v) if v.is_empty() => {
            html! { <p class="muted" id="no-files">{ "No files attached yet." }</p> }
        }
        Some(v) => html! {
            <table class="files-table" id="files">
                <thead><tr><th>{ "Name" }</th><th>{ "Type" }</th><th class="num">{ "Size" }</th><th>{ "Added" }</th><th></th></tr></thead>
                <tbody>
                    { for v.iter().map(|a| {
                        let r = &a.record;
                        let id = a.info.id.clone();
                        let open_export = {
                            let (exporting, export_path, id) = (exporting.clone(), export_path.clone(), id.clone());
                            Callback::from(move |_: MouseEvent| {
                                export_path.set(String::new());
                                exporting.set(Some(id.clone()));
                            })
                        };
                        let on_export = {
                            let (ctx, error, notice, exporting, export_path) = (ctx.clone(), error.clone(),
                                notice.clone(), exporting.clone(), export_path.clone());
                            let (id, filename) = (id.clone(), r.filename.clone());
                            Callback::from(move |e: SubmitEvent| {
                                e.prevent_default();
                                let target = export_target(&export_path, &filename);
                                if target.is_empty() {
                                    error.set(Some("export: type where to save the copy, e.g. /home/you/Desktop/".into()));
                                    return;
                                }
                                let (ctx, error, notice, exporting, id) = (ctx.clone(), error.clone(),
                                    notice.clone(), exporting.clone(), id.clone());
                                wasm_bindgen_futures::spawn_local(async move {
                                    let r = api::export_attachment(&id, &target).await;
                                    if let Some(n) = ctx.take(r, &error) {
                                        error.set(None);
                                        notice.set(Some(format!("Saved a copy ({}) to {target}.", human_size(n))));
                                        exporting.set(None);
                                    }
                                });
                            })
                        };
                        let cancel_export = {
                            let exporting = exporting.clone();
                            Callback::from(move |_: MouseEvent| exporting.set(None))
                        };
                        let focused = highlight.as_deref() == Some(id.as_str());
                        html! {
                            <>
                                <tr class={classes!("file-row", focused.then_some("focused"))} data-id={id.clone()}>
                                    <td>
                                        <span class="file-name">{ &r.filename }</span>
                                        if !r.description.is_empty() { <span class="row-meta">{ &r.description }</span> }
                                    </td>
                                    <td title={r.media_type.clone()}>{ kind_label(&r.media_type) }</td>
                                    <td class="num" title={format!("{} bytes", r.size)}>{ human_size(r.size) }</td>
                                    <td>{ local_time(&a.info.created_at) }</td>
                                    <td class="actions">
                                        if r.on_device {
                                            <button type="button" class="link small export-button" onclick={open_export}>{ "Export…" }</button>
                                        } else {
                                            <span class="row-meta arriving" title="Synced from another device of the clinic; the file itself follows at the next sync with it.">{ "Arriving with the next sync" }</span>
                                        }
                                    </td>
                                </tr>
                                if exporting.as_deref() == Some(id.as_str()) {
                                    <tr class="export-row">
                                        <td colspan="5">
                                            <form class="inline-form" id="export-form" onsubmit={on_export} novalidate=true>
                                                <input id="export-path" type="text" placeholder="/home/you/Desktop/  (a folder ending in /, or a full file name)"
                                                    aria-label="Save a copy to" value={(*export_path).clone()} oninput={setter(&export_path)} />
                                                <button id="export-save" type="submit" class="primary">{ "Save copy" }</button>
                                                <button type="button" class="secondary" onclick={cancel_export}>{ "Cancel" }</button>
                                            </form>
                                        </td>
                                    </tr>
                                }
                            </>
                        }
                    }) }
                </tbody>
            </table>
        },
    };

    html! {
        <div class="files" id="files-tab">
            <form class="attach-form panel" id="attach-form" onsubmit={on_attach} novalidate=true>
                <h3>{ "Attach a file" }</h3>
                <p class="muted small">{ "PDFs, images, ECG exports, DICOM… up to 2 GB. The file is copied into the encrypted vault; the original stays where it is." }</p>
                <div class="inline-form">
                    <input id="attach-path" type="text" placeholder="/home/you/Documents/referral.pdf" aria-label="Path of the file"
                        value={(*path).clone()} oninput={setter(&path)} disabled={*busy} />
                </div>
                <div class="inline-form">
                    <input id="attach-description" type="text" placeholder="Description (optional)" aria-label="Description"
                        value={(*description).clone()} oninput={setter(&description)} disabled={*busy} />
                    <button id="attach-button" type="submit" class="primary" disabled={*busy}>
                        { if *busy { "Attaching…" } else { "Attach" } }
                    </button>
                </div>
            </form>
            if let Some(e) = &*error { <ErrorNote id="files-error" message={e.clone()} /> }
            if let Some(n) = &*notice { <p class="saved-note small" id="files-notice" role="status">{ n }</p> }
            { rows }
        </div>
    }
}
