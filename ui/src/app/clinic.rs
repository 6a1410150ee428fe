//! The Clinic screen: create a clinic or join one with a ticket; for the registrar, invites
//! (the ticket as text and as a QR code) and removing members; the members with their role,
//! stake and when they last synced; "Sync now" with one result per member, in plain words.

use gloo_timers::callback::Interval;
use hearth_api::{
    ClinicStatus, ClinicView, InviteView, MemberView, PatientRow, PeerSync, SyncProgressView,
};
use wasm_bindgen::JsValue;
use yew::prelude::*;

use super::ctx::{error_text, human_size, on_input, on_value, use_ctx, Focus, Nav, Tab};
use super::dates::local_time;
use crate::api;

/// How often a running sync is asked how far it is.
const PROGRESS_POLL_MS: u32 = 250;

const ROLES: [(&str, &str); 3] = [
    ("clinician", "Clinician"),
    ("admin", "Admin"),
    ("patient", "Patient"),
];

/// Unix milliseconds as local date and time.
fn when(ms: u64) -> String {
    // Milliseconds since 1970 fit a JS number exactly for the next 280,000 years.
    #[allow(clippy::cast_precision_loss)]
    let d = js_sys::Date::new(&JsValue::from_f64(ms as f64));
    local_time(&String::from(d.to_iso_string()))
}

fn role_select(id: &'static str, current: &str, on: Callback<String>) -> Html {
    html! {
        <select id={id} aria-label="Role" onchange={on_value(on)}>
            { for ROLES.iter().map(|(code, text)| html! {
                <option value={*code} selected={*code == current}>{ *text }</option>
            }) }
        </select>
    }
}

/// A callback that sets `state`.
fn setter<T: 'static>(state: UseStateHandle<T>) -> Callback<T> {
    Callback::from(move |v| state.set(v))
}

/// The Clinic screen.
#[component]
pub fn Clinic() -> Html {
    let ctx = use_ctx();
    let status = use_state(|| None::<ClinicStatus>);
    let error = use_state(|| None::<String>);
    let version = use_state(|| 0u32);
    {
        let (ctx, status, error) = (ctx.clone(), status.clone(), error.clone());
        use_effect_with(*version, move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                if let Some(s) = ctx.take(api::clinic_status().await, &error) {
                    status.set(Some(s));
                }
            });
        });
    }
    let on_status = {
        let (status, error) = (status.clone(), error.clone());
        Callback::from(move |s: ClinicStatus| {
            error.set(None);
            status.set(Some(s));
        })
    };
    let refresh = {
        let version = version.clone();
        Callback::from(move |()| version.set(*version + 1))
    };
    let body = match &*status {
        None => html! { <p class="muted">{ "Loading…" }</p> },
        Some(s) => match &s.clinic {
            None => html! { <NoClinic on_status={on_status.clone()} /> },
            Some(c) => html! {
                <>
                    <ClinicHeader status={s.clone()} />
                    if c.registrar { <Invite /> }
                    <Members clinic={c.clone()} on_status={on_status.clone()} />
                    <SyncNow last={s.last_sync_ms} on_done={refresh.clone()} />
                    <Network clinic={c.clone()} on_status={on_status.clone()} />
                </>
            },
        },
    };
    html! {
        <section class="clinic" id="clinic">
            <h2>{ "Clinic" }</h2>
            <p class="muted small">{ "Devices in one clinic keep the records they are allowed to see in step, directly over the local network — no server. Each device only receives what the patients' consents allow." }</p>
            if let Some(e) = &*error { <p class="error" role="alert" id="clinic-error">{ e }</p> }
            { body }
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct StatusProps {
    status: ClinicStatus,
}

#[component]
fn ClinicHeader(props: &StatusProps) -> Html {
    let s = &props.status;
    let Some(c) = &s.clinic else { return html! {} };
    let node = if s.node.running {
        html! { <p class="small" id="node-state">{ format!("Listening for clinic devices at {}.", s.node.addrs.join(", ")) }</p> }
    } else {
        html! { <p class="small error" id="node-state">{ s.node.error.clone().unwrap_or_else(|| "Not listening for other devices right now.".into()) }</p> }
    };
    html! {
        <div class="card clinic-head">
            <p class="clinic-title" id="clinic-name"><strong>{ c.name.clone() }</strong></p>
            <p id="clinic-role">
                { format!("This device: {}{}", c.role, if c.registrar { ", registrar (invites and removes members)" } else { "" }) }
            </p>
            <p class="small muted">{ "Endpoint id: " }<code id="clinic-endpoint">{ c.endpoint.clone() }</code></p>
            { node }
            if let Some(p) = &c.own_patient { <OwnRecords patient={p.clone()} /> }
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct OwnProps {
    patient: String,
}

/// On a patient's own device: what it holds, and "Export my records".
#[component]
fn OwnRecords(props: &OwnProps) -> Html {
    let ctx = use_ctx();
    let open = |tab: Tab| {
        let (navigate, patient) = (ctx.navigate.clone(), props.patient.clone());
        Callback::from(move |_: MouseEvent| {
            navigate.emit(Nav {
                patient: patient.clone(),
                tab,
                focus: Focus::None,
            });
        })
    };
    html! {
        <div class="own-records" id="own-records">
            <p>{ "This is a patient's own device. It receives the records the patient's consent shares with their devices, and nothing of anyone else." }</p>
            <button type="button" id="open-my-records" onclick={open(Tab::Notes)}>{ "My records" }</button>
            { " " }
            <button type="button" class="primary" id="export-my-records" onclick={open(Tab::Export)}>{ "Export my records" }</button>
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct OnStatus {
    on_status: Callback<ClinicStatus>,
}

/// Create a clinic, or join one with a ticket.
#[component]
fn NoClinic(props: &OnStatus) -> Html {
    let ctx = use_ctx();
    let name = use_state(String::new);
    let device = use_state(String::new);
    let role = use_state(|| "clinician".to_string());
    let ticket = use_state(String::new);
    let busy = use_state(|| false);
    let error = use_state(|| None::<String>);
    let on_create = {
        let (ctx, name, device, role, busy, error, done) = (
            ctx.clone(),
            name.clone(),
            device.clone(),
            role.clone(),
            busy.clone(),
            error.clone(),
            props.on_status.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let (ctx, busy, error, done) = (ctx.clone(), busy.clone(), error.clone(), done.clone());
            let (n, d, r) = ((*name).clone(), (*device).clone(), (*role).clone());
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                let r = api::clinic_create(&n, &d, &r).await;
                busy.set(false);
                if let Some(s) = ctx.take(r, &error) {
                    done.emit(s);
                }
            });
        })
    };
    let on_join = {
        let (ctx, ticket, device, busy, error, done) = (
            ctx.clone(),
            ticket.clone(),
            device.clone(),
            busy.clone(),
            error.clone(),
            props.on_status.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let (ctx, busy, error, done) = (ctx.clone(), busy.clone(), error.clone(), done.clone());
            let (t, d) = ((*ticket).clone(), (*device).clone());
            busy.set(true);
            error.set(None);
            wasm_bindgen_futures::spawn_local(async move {
                let r = api::clinic_join(&t, &d).await;
                busy.set(false);
                if let Some(s) = ctx.take(r, &error) {
                    done.emit(s);
                }
            });
        })
    };
    html! {
        <div class="clinic-setup">
            <p>{ "This device is in no clinic yet." }</p>
            <label class="field">
                <span>{ "This device's name" }</span>
                <input id="clinic-device" type="text" placeholder="e.g. Front desk laptop"
                    value={(*device).clone()} oninput={on_input(setter(device.clone()))} />
            </label>
            <form class="card" id="clinic-create-form" onsubmit={on_create}>
                <h3>{ "Create a clinic" }</h3>
                <p class="small muted">{ "This device becomes the registrar: it invites the other devices." }</p>
                <label class="field">
                    <span>{ "Clinic name" }</span>
                    <input id="clinic-name-input" type="text" value={(*name).clone()}
                        oninput={on_input(setter(name.clone()))} />
                </label>
                <label class="field">
                    <span>{ "Your role" }</span>
                    { role_select("clinic-role-input", &role, setter(role.clone())) }
                </label>
                <button id="clinic-create" type="submit" class="primary" disabled={*busy}>{ "Create clinic" }</button>
            </form>
            <form class="card" id="clinic-join-form" onsubmit={on_join}>
                <h3>{ "Join a clinic" }</h3>
                <p class="small muted">{ "Paste the invite ticket from the registrar's Clinic screen. The registrar's Hearth must be open and unlocked." }</p>
                <textarea id="clinic-ticket" rows="3" placeholder="hearth-invite1-…" aria-label="Invite ticket"
                    value={(*ticket).clone()} oninput={on_input(setter(ticket.clone()))} />
                <button id="clinic-join" type="submit" class="primary" disabled={*busy || ticket.trim().is_empty()}>
                    { if *busy { "Joining…" } else { "Join" } }
                </button>
            </form>
            if let Some(e) = &*error { <p class="error" role="alert" id="clinic-setup-error">{ e }</p> }
        </div>
    }
}

/// Registrar: make an invite (role, stake) and show the ticket and its QR code.
#[component]
fn Invite() -> Html {
    let ctx = use_ctx();
    let role = use_state(|| "clinician".to_string());
    let stake = use_state(|| "1".to_string());
    let patient = use_state(String::new);
    let patients = use_state(Vec::<(String, String)>::new);
    let invite = use_state(|| None::<InviteView>);
    let error = use_state(|| None::<String>);
    {
        // The patients a patient's device can be tied to.
        let (ctx, patients, error) = (ctx.clone(), patients.clone(), error.clone());
        use_effect_with((*role).clone(), move |role| {
            if role == "patient" {
                wasm_bindgen_futures::spawn_local(async move {
                    if let Some(rows) = ctx.take(api::list_patients().await, &error) {
                        patients.set(
                            rows.into_iter()
                                .filter_map(|r| match r {
                                    PatientRow::Ok { id, name, .. } => Some((id, name)),
                                    PatientRow::Unreadable { .. } => None,
                                })
                                .collect(),
                        );
                    }
                });
            }
        });
    }
    let on_invite = {
        let (ctx, role, stake, patient, invite, error) = (
            ctx.clone(),
            role.clone(),
            stake.clone(),
            patient.clone(),
            invite.clone(),
            error.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Ok(n) = stake.trim().parse::<u64>() else {
                error.set(Some(
                    "The stake is a whole number, 0 or more (1 for most devices).".into(),
                ));
                return;
            };
            let for_patient = (*role == "patient").then(|| (*patient).clone());
            if for_patient.as_deref() == Some("") {
                error.set(Some(
                    "Choose the patient whose own device this invite is for.".into(),
                ));
                return;
            }
            let (ctx, invite, error, r) =
                (ctx.clone(), invite.clone(), error.clone(), (*role).clone());
            error.set(None);
            wasm_bindgen_futures::spawn_local(async move {
                let reply = api::clinic_invite(&r, n, for_patient.as_deref()).await;
                if let Some(v) = ctx.take(reply, &error) {
                    invite.set(Some(v));
                }
            });
        })
    };
    let shown = (*invite).as_ref().map(|v| {
        let svg = v.qr_svg.find("<svg").map_or("", |i| &v.qr_svg[i..]);
        html! {
            <div class="invite" id="invite">
                <div class="qr" id="invite-qr" aria-label="The invite as a QR code">
                    { Html::from_html_unchecked(AttrValue::from(svg.to_string())) }
                </div>
                <label class="field">
                    <span>{ "Ticket (copy it to the new device; one use, valid for 7 days)" }</span>
                    <textarea id="invite-ticket" readonly=true rows="4" value={v.ticket.clone()}
                        onfocus={Callback::from(|e: FocusEvent| {
                            if let Some(t) = e.target_dyn_into::<web_sys::HtmlTextAreaElement>() { t.select(); }
                        })} />
                </label>
            </div>
        }
    });
    html! {
        <form class="card" id="invite-form" onsubmit={on_invite}>
            <h3>{ "Invite a device" }</h3>
            <label class="field">
                <span>{ "Role" }</span>
                { role_select("invite-role", &role, setter(role.clone())) }
            </label>
            if *role == "patient" {
                <label class="field">
                    <span>{ "Patient (the device receives only what their consent shares with their devices)" }</span>
                    <select id="invite-patient" aria-label="Patient" onchange={on_value(setter(patient.clone()))}>
                        <option value="" selected={patient.is_empty()}>{ "Choose…" }</option>
                        { for patients.iter().map(|(id, name)| html! {
                            <option value={id.clone()} selected={*id == *patient}>{ name.clone() }</option>
                        }) }
                    </select>
                </label>
            }
            <label class="field">
                <span>{ "Witness stake" }</span>
                <input id="invite-stake" type="number" min="0" value={(*stake).clone()}
                    oninput={on_input(setter(stake.clone()))} />
            </label>
            <button id="invite-make" type="submit" class="primary">{ "Make invite" }</button>
            if let Some(e) = &*error { <p class="error" role="alert" id="invite-error">{ e }</p> }
            { for shown }
        </form>
    }
}

#[derive(Properties, PartialEq)]
struct NetworkProps {
    clinic: ClinicView,
    on_status: Callback<ClinicStatus>,
}

/// This device's network settings: LAN discovery and the clinic's self-hosted relay.
#[component]
fn Network(props: &NetworkProps) -> Html {
    let ctx = use_ctx();
    let mdns = use_state(|| props.clinic.mdns);
    let relay = use_state(|| props.clinic.relay.clone().unwrap_or_default());
    let error = use_state(|| None::<String>);
    let saved = use_state(|| false);
    let on_save = {
        let (ctx, mdns, relay, error, saved, on_status) = (
            ctx.clone(),
            mdns.clone(),
            relay.clone(),
            error.clone(),
            saved.clone(),
            props.on_status.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let (ctx, error, saved, on_status) =
                (ctx.clone(), error.clone(), saved.clone(), on_status.clone());
            let (m, r) = (*mdns, (*relay).clone());
            error.set(None);
            saved.set(false);
            wasm_bindgen_futures::spawn_local(async move {
                let reply = api::clinic_network(m, Some(r.as_str())).await;
                if let Some(s) = ctx.take(reply, &error) {
                    saved.set(true);
                    on_status.emit(s);
                }
            });
        })
    };
    let on_mdns = {
        let mdns = mdns.clone();
        Callback::from(move |e: Event| {
            if let Some(i) = e.target_dyn_into::<web_sys::HtmlInputElement>() {
                mdns.set(i.checked());
            }
        })
    };
    html! {
        <form class="card" id="network-form" onsubmit={on_save}>
            <h3>{ "Network" }</h3>
            <label class="check">
                <input id="network-mdns" type="checkbox" checked={*mdns} onchange={on_mdns} />
                { " Find clinic devices on this local network (mDNS)" }
            </label>
            <label class="field">
                <span>{ "Relay for devices at other sites (optional; the clinic's own iroh-relay server, e.g. https://relay.example.org)" }</span>
                <input id="network-relay" type="text" value={(*relay).clone()} oninput={on_input(setter(relay.clone()))} />
            </label>
            <button id="network-save" type="submit">{ "Save network settings" }</button>
            if *saved { <p class="small" id="network-saved" role="status">{ "Saved; this device listens again with them." }</p> }
            if let Some(e) = &*error { <p class="error" role="alert" id="network-error">{ e }</p> }
        </form>
    }
}

#[derive(Properties, PartialEq)]
struct MembersProps {
    clinic: ClinicView,
    on_status: Callback<ClinicStatus>,
}

fn member_row(m: &MemberView, can_remove: bool, on_remove: &Callback<String>) -> Html {
    let mut tags = Vec::new();
    if m.registrar {
        tags.push("registrar");
    }
    if m.this_device {
        tags.push("this device");
    }
    if !m.active {
        tags.push("removed");
    }
    if m.patient.is_some() {
        tags.push("patient's own device");
    }
    if m.slashed {
        tags.push("stake slashed: its audit log showed two different histories");
    }
    let seen = if m.this_device {
        String::new()
    } else {
        match (m.last_synced_ms, &m.last_error) {
            (_, Some(e)) => format!("last sync failed: {e}"),
            (Some(t), None) => format!("synced {}", when(t)),
            (None, None) => "not synced yet this session".into(),
        }
    };
    let endpoint = m.endpoint.clone();
    let remove = on_remove.clone();
    html! {
        <tr class={classes!("member", (!m.active).then_some("removed"))} key={m.endpoint.clone()}
            data-endpoint={m.endpoint.clone()} data-role={m.role.clone()}>
            <td class="member-name">{ m.name.clone() }
                { for (!tags.is_empty()).then(|| html! { <span class="member-tags small muted">{ format!(" ({})", tags.join(", ")) }</span> }) }
            </td>
            <td class="member-role">{ m.role.clone() }</td>
            <td class="member-stake">{ m.stake }</td>
            <td class="member-online">{ if m.online { "online" } else { "offline" } }</td>
            <td class="member-seen small">{ seen }</td>
            <td>
                if can_remove && m.active && !m.this_device {
                    <button type="button" class="link danger member-remove"
                        onclick={Callback::from(move |_: MouseEvent| remove.emit(endpoint.clone()))}>{ "Remove" }</button>
                }
            </td>
        </tr>
    }
}

/// The members; the registrar can remove them.
#[component]
fn Members(props: &MembersProps) -> Html {
    let ctx = use_ctx();
    let error = use_state(|| None::<String>);
    let on_remove = {
        let (ctx, error, done) = (ctx.clone(), error.clone(), props.on_status.clone());
        Callback::from(move |endpoint: String| {
            let confirmed = web_sys::window()
                .and_then(|w| {
                    w.confirm_with_message(
                        "Remove this device from the clinic? It will receive nothing more.",
                    )
                    .ok()
                })
                .unwrap_or(false);
            if !confirmed {
                return;
            }
            let (ctx, error, done) = (ctx.clone(), error.clone(), done.clone());
            wasm_bindgen_futures::spawn_local(async move {
                if let Some(s) = ctx.take(api::clinic_remove(&endpoint).await, &error) {
                    done.emit(s);
                }
            });
        })
    };
    let c = &props.clinic;
    html! {
        <div class="card">
            <h3>{ "Members" }</h3>
            <table class="members" id="members">
                <thead><tr><th>{ "Device" }</th><th>{ "Role" }</th><th>{ "Stake" }</th><th>{ "State" }</th><th>{ "Last sync" }</th><th></th></tr></thead>
                <tbody>
                    { for c.members.iter().map(|m| member_row(m, c.registrar, &on_remove)) }
                </tbody>
            </table>
            if let Some(e) = &*error { <p class="error" role="alert" id="members-error">{ e }</p> }
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct SyncProps {
    last: Option<u64>,
    on_done: Callback<()>,
}

/// What a sync did with attachments' files, if anything.
fn files_line(r: &PeerSync) -> String {
    let mut parts = Vec::new();
    if r.files_in > 0 {
        parts.push(format!(
            "{} file{} received ({})",
            r.files_in,
            if r.files_in == 1 { "" } else { "s" },
            human_size(r.file_bytes_in)
        ));
    }
    if r.files_missing > 0 {
        parts.push(format!(
            "{} file{} still to come",
            r.files_missing,
            if r.files_missing == 1 { "" } else { "s" }
        ));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" Attachments: {}.", parts.join(", "))
    }
}

fn result_line(r: &PeerSync) -> Html {
    let text = if r.ok {
        format!(
            "{}: synced in {} ms — sent {} of {} documents offered, received {} changed ({} in, {} out){}.",
            r.name,
            r.millis,
            r.sent,
            r.offered,
            r.received,
            human_size(r.bytes_in),
            human_size(r.bytes_out),
            if r.refused > 0 {
                format!(", {} refused (no consent)", r.refused)
            } else {
                String::new()
            }
        ) + &files_line(r)
    } else {
        format!(
            "{}: not synced — {}",
            r.name,
            r.error.clone().unwrap_or_default()
        )
    };
    html! {
        <li class={classes!("sync-result", if r.ok { "ok" } else { "failed" })} data-endpoint={r.endpoint.clone()}>
            { text }<span class="small muted">{ format!(" ({})", when(r.at_ms)) }</span>
        </li>
    }
}

/// "Sync now" with the members, and the results.
#[component]
fn SyncNow(props: &SyncProps) -> Html {
    let ctx = use_ctx();
    let peer = use_state(String::new);
    let busy = use_state(|| false);
    let results = use_state(|| None::<Vec<PeerSync>>);
    let progress = use_state(|| None::<SyncProgressView>);
    {
        // While syncing, ask how far it is a few times a second.
        let progress = progress.clone();
        use_effect_with(*busy, move |busy| {
            let interval = busy.then(|| {
                let progress = progress.clone();
                Interval::new(PROGRESS_POLL_MS, move || {
                    let progress = progress.clone();
                    wasm_bindgen_futures::spawn_local(async move {
                        if let Ok(p) = api::sync_progress().await {
                            progress.set(p);
                        }
                    });
                })
            });
            move || drop(interval)
        });
    }
    let error = use_state(|| None::<String>);
    let on_sync = {
        let (ctx, peer, busy, results, error, done) = (
            ctx.clone(),
            peer.clone(),
            busy.clone(),
            results.clone(),
            error.clone(),
            props.on_done.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let (ctx, busy, results, error, done) = (
                ctx.clone(),
                busy.clone(),
                results.clone(),
                error.clone(),
                done.clone(),
            );
            let p = (*peer).clone();
            busy.set(true);
            error.set(None);
            wasm_bindgen_futures::spawn_local(async move {
                let r = api::sync_now((!p.trim().is_empty()).then_some(p.as_str())).await;
                busy.set(false);
                match r {
                    Ok(v) => {
                        // Records that arrived show up in the patient list and open charts.
                        if v.iter().any(|r| r.received > 0) {
                            ctx.patients_changed.emit(());
                        }
                        results.set(Some(v));
                        done.emit(());
                    }
                    Err(e) if e.kind == hearth_api::ErrorKind::Locked => {
                        ctx.take::<()>(Err(e), &error);
                    }
                    Err(e) => error.set(Some(error_text(&e))),
                }
            });
        })
    };
    let list = (*results).as_ref().map(|v| {
        if v.is_empty() {
            html! { <p class="muted" id="sync-results">{ "No other devices in the clinic yet: invite one first." }</p> }
        } else {
            html! { <ul id="sync-results">{ for v.iter().map(result_line) }</ul> }
        }
    });
    html! {
        <form class="card" id="sync-form" onsubmit={on_sync}>
            <h3>{ "Sync" }</h3>
            <p class="small" id="last-sync">
                { match props.last { Some(t) => format!("Last sync: {}", when(t)), None => "Not synced yet this session.".into() } }
            </p>
            <label class="field">
                <span class="small muted">{ "Also reach a device at (optional, ENDPOINT_ID@IP:PORT)" }</span>
                <input id="sync-peer" type="text" value={(*peer).clone()} oninput={on_input(setter(peer.clone()))} />
            </label>
            <button id="sync-now" type="submit" class="primary" disabled={*busy}>
                { if *busy { "Syncing…" } else { "Sync now" } }
            </button>
            if let Some(p) = (*progress).as_ref().filter(|_| *busy) {
                <p class="busy small" id="sync-progress" role="status" aria-live="polite">
                    { if p.incoming > 0 {
                        format!("{}: {} of {} records received, {} in", p.name, p.received, p.incoming, human_size(p.bytes_in))
                    } else {
                        format!("{}: comparing what each device holds… {} in", p.name, human_size(p.bytes_in))
                    } }
                    if p.incoming > 0 {
                        <progress id="sync-progress-bar" max={p.incoming.to_string()} value={p.received.to_string()} />
                    }
                </p>
            }
            if let Some(e) = &*error { <p class="error" role="alert" id="sync-error">{ e }</p> }
            { for list }
        </form>
    }
}
