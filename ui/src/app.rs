//! The root component: the unlock screen while the vault is locked, the records screen while
//! it is open, and the 2-second status poll that notices the idle lock.
//!
//! Screens: [`records`] (header, patient list, the patient's record) with one module per tab
//! ([`detail`] for Overview and History, [`appointments`], [`notes`], [`measures`] with
//! [`chart`], [`plan`], [`files`], [`consent`] for Consent and Export, [`emergency`] for
//! emergency access, [`audit`] for the Access
//! log and the Clinic / Audit view), [`calendar`] (the week), [`clinic`] (clinic sync: members,
//! invites, Sync now), [`search`] (the header's search);
//! [`ctx`] is what they share, [`dates`] the date arithmetic.

mod appointment;
mod appointments;
mod audit;
mod calendar;
mod chart;
mod clinic;
mod consent;
mod ctx;
mod dates;
mod detail;
mod emergency;
mod export;
mod files;
mod form;
mod list;
mod measures;
mod notes;
mod plan;
mod records;
mod risk;
mod search;
mod semantic;
mod unlock;

use std::rc::Rc;

use gloo_timers::callback::Interval;
use hearth_api::VaultStatus;
use yew::prelude::*;

use crate::api;

/// How often the UI asks whether the vault has locked itself (this does not count as use).
const POLL_MS: u32 = 2_000;

/// The app.
#[component]
pub fn App() -> Html {
    let status = use_state_eq(|| None::<VaultStatus>);
    let load_error = use_state_eq(|| None::<String>);
    // Bumped on every transition this UI makes itself, so that a poll sent before an unlock
    // cannot answer "locked" after it.
    let epoch = use_mut_ref(|| 0u64);

    let set_status = {
        let status = status.clone();
        let epoch = Rc::clone(&epoch);
        Callback::from(move |s: VaultStatus| {
            *epoch.borrow_mut() += 1;
            status.set(Some(s));
        })
    };

    {
        let status = status.clone();
        let load_error = load_error.clone();
        let epoch = Rc::clone(&epoch);
        use_effect_with((), move |_| {
            let poll = move || {
                let status = status.clone();
                let load_error = load_error.clone();
                let epoch = Rc::clone(&epoch);
                let sent_at = *epoch.borrow();
                wasm_bindgen_futures::spawn_local(async move {
                    match api::vault_status().await {
                        Ok(s) if *epoch.borrow() == sent_at => {
                            load_error.set(None);
                            status.set(Some(s));
                        }
                        Ok(_) => {}
                        Err(e) => load_error.set(Some(e.message)),
                    }
                });
            };
            poll();
            let interval = Interval::new(POLL_MS, poll);
            move || drop(interval)
        });
    }

    // A command failed with "locked": show the unlock screen at once.
    let on_locked = {
        let status = status.clone();
        let set_status = set_status.clone();
        Callback::from(move |()| {
            if let Some(s) = (*status).clone() {
                set_status.emit(VaultStatus { locked: true, ..s });
            }
        })
    };

    let body = match (*status).clone() {
        None => match (*load_error).clone() {
            Some(msg) => html! {
                <main class="centered">
                    <div class="card">
                        <h1>{ "Hearth could not start" }</h1>
                        <p id="error" class="error" role="alert">{ msg }</p>
                    </div>
                </main>
            },
            None => html! { <main class="centered"><p class="muted">{ "Opening…" }</p></main> },
        },
        Some(s) if s.locked => html! {
            <unlock::Unlock status={s} on_unlocked={set_status} />
        },
        Some(s) => html! {
            <records::Records status={s} on_status={set_status} {on_locked} />
        },
    };
    html! { <div class="app">{ body }</div> }
}
