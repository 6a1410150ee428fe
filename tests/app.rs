//! The real desktop app, driven through WebDriver: create, add, quit, reopen; idle lock; Lock
//! button; edit and history. Build the app first (`make app`); run under `xvfb-run -a`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::time::Duration;

use anyhow::{ensure, Result};
use hearth_e2e::{run, App, PatientInput, TempVault};

const PASSPHRASE: &str = "correct horse battery staple";

const ADA: PatientInput<'static> = PatientInput {
    name: "Ada Lovelace",
    dob: "1985-12-10",
    pronouns: "she/her",
    phone: "+44 20 7946 0018",
    email: "ada@example.org",
    notes: "Prefers morning sessions.",
};

const GRACE: PatientInput<'static> = PatientInput {
    name: "Grace Hopper",
    dob: "1976-12-09",
    pronouns: "she/her",
    phone: "",
    email: "grace@example.org",
    notes: "",
};

#[test]
fn create_add_quit_reopen() -> Result<()> {
    run(async {
        let vault = TempVault::new()?;
        let app = App::start(vault.path(), &[]).await?;
        // The create screen says where the vault will be.
        let shown = app.wait_for("#vault-path").await?.text().await?;
        ensure!(
            shown.contains("clinic.hearth"),
            "vault path not shown: {shown:?}"
        );

        app.create_vault(PASSPHRASE).await?;
        app.add_patient(&GRACE).await?;
        app.add_patient(&ADA).await?;
        app.wait_for_patients(&["Ada Lovelace", "Grace Hopper"])
            .await?;

        if let Some(path) = std::env::var_os("HEARTH_SCREENSHOT") {
            // The README's picture: one record selected, with a little history.
            app.select_patient("Ada Lovelace").await?;
            app.click("#edit-patient").await?;
            app.fill(
                "#field-notes",
                "Prefers morning sessions. Referred by her GP in March.",
            )
            .await?;
            app.click("#save-patient").await?;
            app.wait_for_text("#history .history-entry", "edited notes")
                .await?;
            app.screenshot(Path::new(&path)).await?;
        }
        app.quit().await?;
        ensure!(vault.path().is_file(), "no vault file after quitting");

        let app = App::start(vault.path(), &[]).await?;
        app.submit_passphrase("not the passphrase").await?;
        app.wait_for_text("#error", "wrong passphrase").await?;
        ensure!(
            app.patient_names().await?.is_empty(),
            "patients shown while locked"
        );

        app.unlock(PASSPHRASE).await?;
        app.wait_for_patients(&["Ada Lovelace", "Grace Hopper"])
            .await?;
        // The search box filters by name, ignoring case.
        app.fill("#search", "HOP").await?;
        app.wait_for_patients(&["Grace Hopper"]).await?;
        app.fill("#search", "").await?;
        app.wait_for_patients(&["Ada Lovelace", "Grace Hopper"])
            .await?;
        app.select_patient("Grace Hopper").await?;
        app.wait_for_text("#detail-email", "grace@example.org")
            .await?;
        app.quit().await
    })
}

#[test]
fn idle_lock_returns_to_unlock_screen() -> Result<()> {
    run(async {
        let vault = TempVault::new()?;
        let app = App::start(vault.path(), &[("HEARTH_IDLE_LOCK_SECS", "2")]).await?;
        app.create_vault(PASSPHRASE).await?;
        app.add_patient(&ADA).await?;
        app.wait_for_patients(&["Ada Lovelace"]).await?;

        // No interaction: the vault locks after 2 s, the UI notices within one 2 s poll.
        app.wait_for_within("#unlock-form", Duration::from_secs(15))
            .await?;
        ensure!(
            app.patient_names().await?.is_empty(),
            "patients still shown after the idle lock"
        );
        ensure!(
            app.texts("#patient-detail").await?.is_empty(),
            "details still shown after the idle lock"
        );

        app.unlock(PASSPHRASE).await?;
        app.wait_for_patients(&["Ada Lovelace"]).await?;
        app.quit().await
    })
}

#[test]
fn lock_button_locks() -> Result<()> {
    run(async {
        let vault = TempVault::new()?;
        let app = App::start(vault.path(), &[]).await?;
        app.create_vault(PASSPHRASE).await?;
        app.add_patient(&ADA).await?;
        app.select_patient("Ada Lovelace").await?;

        app.click("#lock-button").await?;
        app.wait_for("#unlock-form").await?;
        ensure!(
            app.patient_names().await?.is_empty(),
            "patients still shown after Lock"
        );
        ensure!(
            app.texts("#patient-detail").await?.is_empty(),
            "details still shown after Lock"
        );

        app.unlock(PASSPHRASE).await?;
        app.wait_for_patients(&["Ada Lovelace"]).await?;
        ensure!(
            app.texts("#patient-detail").await?.is_empty(),
            "old selection survived the lock"
        );
        app.quit().await
    })
}

#[test]
fn edit_patient_shows_history() -> Result<()> {
    run(async {
        let vault = TempVault::new()?;
        let app = App::start(vault.path(), &[]).await?;
        app.create_vault(PASSPHRASE).await?;
        app.add_patient(&ADA).await?;
        app.select_patient("Ada Lovelace").await?;
        app.wait_for_text("#history .history-entry", "created")
            .await?;

        app.click("#edit-patient").await?;
        app.wait_for("#patient-form").await?;
        app.fill("#field-pronouns", "they/them").await?;
        app.click("#save-patient").await?;

        app.wait_for_text("#detail-pronouns", "they/them").await?;
        app.wait_for_text("#history .history-entry", "edited pronouns")
            .await?;
        let history = app.texts("#history .history-entry").await?;
        ensure!(
            history.len() == 2,
            "expected created + edited, got {history:?}"
        );
        ensure!(
            history[0].contains("edited pronouns"),
            "newest first: {history:?}"
        );
        ensure!(history[1].contains("created"), "oldest last: {history:?}");
        // The list shows the new pronouns too.
        app.wait_for_text(".patient-row", "they/them").await?;
        app.quit().await
    })
}

#[test]
fn invalid_input_is_shown_in_the_form() -> Result<()> {
    run(async {
        let vault = TempVault::new()?;
        let app = App::start(vault.path(), &[]).await?;
        app.create_vault(PASSPHRASE).await?;
        app.click("#add-patient").await?;
        app.fill("#field-name", "Ada Lovelace").await?;
        app.fill("#field-email", "not an address").await?;
        app.click("#save-patient").await?;
        app.wait_for_text("#form-error", "email").await?;
        app.wait_for(".form-field.invalid #field-email").await?;
        ensure!(
            app.patient_names().await?.is_empty(),
            "an invalid patient was saved"
        );
        app.quit().await
    })
}

#[test]
fn create_checks_the_passphrase() -> Result<()> {
    run(async {
        let vault = TempVault::new()?;
        let app = App::start(vault.path(), &[]).await?;
        app.wait_for_text("#create-form h1", "Create your vault")
            .await?;
        app.fill("#passphrase", "long enough pass").await?;
        app.fill("#passphrase-confirm", "long enough pas").await?;
        app.wait_for_text("#mismatch", "don't match").await?;
        app.click("#create-button").await?;

        // The core's rule, in the core's words.
        app.fill("#passphrase", "short").await?;
        app.fill(
            "#passphrase-confirm",
            &format!("short{}", hearth_e2e::enter()),
        )
        .await?;
        app.wait_for_text("#error", "too short").await?;
        ensure!(
            app.texts("#lock-button").await?.is_empty(),
            "a vault was opened"
        );
        ensure!(
            !vault.path().exists(),
            "a vault was written for a refused passphrase"
        );

        app.create_vault(PASSPHRASE).await?;
        ensure!(vault.path().is_file(), "no vault file after creating");
        app.quit().await
    })
}
