//! The unlock screen: "Create your vault" when there is none yet, else "Unlock your vault".

use hearth_api::VaultStatus;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::api;

/// Inputs of [`Unlock`].
#[derive(Properties, PartialEq)]
pub struct Props {
    /// The vault as last seen.
    pub status: VaultStatus,
    /// Called with the new status once the vault is created or unlocked.
    pub on_unlocked: Callback<VaultStatus>,
}

/// "Locks after 15 minutes without use", or nothing when the idle lock is off.
fn idle_note(secs: u64) -> Option<String> {
    let period = match secs {
        0 => return None,
        s if s % 3600 == 0 => plural(s / 3600, "hour"),
        s if s % 60 == 0 => plural(s / 60, "minute"),
        s => plural(s, "second"),
    };
    Some(format!("Hearth locks itself after {period} without use."))
}

fn plural(n: u64, unit: &str) -> String {
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

fn input_value(e: &InputEvent) -> String {
    e.target_unchecked_into::<HtmlInputElement>().value()
}

/// The unlock (or create) screen.
#[component]
pub fn Unlock(props: &Props) -> Html {
    let creating = !props.status.exists;
    let pass = use_state(String::new);
    let confirm = use_state(String::new);
    let error = use_state(|| None::<String>);
    let busy = use_state(|| false);
    let pass_ref = use_node_ref();

    let focus_pass = {
        let pass_ref = pass_ref.clone();
        move || {
            if let Some(input) = pass_ref.cast::<HtmlInputElement>() {
                // Focus is a convenience: nothing to do if the browser refuses it.
                let _ = input.focus();
            }
        }
    };
    {
        let focus_pass = focus_pass.clone();
        use_effect_with((), move |_| focus_pass());
    }

    let mismatch = creating && !confirm.is_empty() && *pass != *confirm;

    let onsubmit = {
        let (pass, confirm, error, busy) =
            (pass.clone(), confirm.clone(), error.clone(), busy.clone());
        let on_unlocked = props.on_unlocked.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *busy {
                return;
            }
            if pass.is_empty() {
                error.set(Some("Enter your passphrase.".into()));
                return;
            }
            if creating && *pass != *confirm {
                // A non-empty confirmation that differs is already flagged under its field.
                error.set(confirm.is_empty().then(|| {
                    "Type the same passphrase again under \u{201c}Confirm passphrase\u{201d}."
                        .into()
                }));
                return;
            }
            busy.set(true);
            error.set(None);
            let (passphrase, pass, error, busy) =
                ((*pass).clone(), pass.clone(), error.clone(), busy.clone());
            let on_unlocked = on_unlocked.clone();
            let focus_pass = focus_pass.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let result = if creating {
                    api::create_vault(&passphrase).await
                } else {
                    api::unlock(&passphrase).await
                };
                busy.set(false);
                match result {
                    Ok(status) => on_unlocked.emit(status),
                    Err(e) => {
                        error.set(Some(e.message));
                        if !creating {
                            pass.set(String::new());
                        }
                        focus_pass();
                    }
                }
            });
        })
    };

    let on_pass = {
        let pass = pass.clone();
        Callback::from(move |e: InputEvent| pass.set(input_value(&e)))
    };
    let on_confirm = {
        let confirm = confirm.clone();
        Callback::from(move |e: InputEvent| confirm.set(input_value(&e)))
    };

    let (title, intro, action, busy_label) = if creating {
        (
            "Create your vault",
            "Hearth keeps your patient records encrypted on this computer. Choose a passphrase: \
             it is the only way in, and nobody can recover it for you. A few unrelated words \
             work well.",
            "Create vault",
            "Creating vault…",
        )
    } else {
        (
            "Unlock your vault",
            "Enter your passphrase to open your patient records.",
            "Unlock",
            "Unlocking…",
        )
    };
    let form_id = if creating {
        "create-form"
    } else {
        "unlock-form"
    };

    html! {
        <main class="centered">
            <form id={form_id} class="card unlock" {onsubmit} novalidate=true>
                <div class="brand-mark" aria-hidden="true">{ "H" }</div>
                <h1>{ title }</h1>
                <p class="muted">{ intro }</p>
                <label for="passphrase">{ "Passphrase" }</label>
                <input id="passphrase" type="password" autocomplete={if creating { "new-password" } else { "current-password" }}
                    ref={pass_ref} value={(*pass).clone()} oninput={on_pass} disabled={*busy} />
                if creating {
                    <label for="passphrase-confirm">{ "Confirm passphrase" }</label>
                    <input id="passphrase-confirm" type="password" autocomplete="new-password"
                        class={classes!(mismatch.then_some("invalid"))}
                        value={(*confirm).clone()} oninput={on_confirm} disabled={*busy} />
                    if mismatch {
                        <p id="mismatch" class="field-note warn">{ "The passphrases don't match yet." }</p>
                    }
                }
                if let Some(msg) = (*error).clone() {
                    <p id="error" class="error" role="alert">{ msg }</p>
                }
                <button id={if creating { "create-button" } else { "unlock-button" }} type="submit"
                    class="primary wide" disabled={*busy}>
                    if *busy { <span class="spinner" aria-hidden="true"></span>{ busy_label } } else { { action } }
                </button>
                <p class="vault-location muted">
                    { "Vault: " }<code id="vault-path">{ props.status.path.clone() }</code>
                </p>
                if let Some(note) = idle_note(props.status.idle_lock_secs) {
                    <p class="muted small">{ note }</p>
                }
            </form>
        </main>
    }
}
