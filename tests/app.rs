//! The real desktop app, driven through WebDriver: create, add, quit, reopen; idle lock; Lock
//! button; edit and history; a therapist's day (calendar, signed note, measures and their
//! chart); consent (export gated, the editor, refusals, emergency access, who looked, the
//! restricted calendar slot, the patient's device). Build the app first (`make app`); run under `xvfb-run -a`.
//!
//! With `HEARTH_SCREENSHOT=<file.png>`, `a_day_in_the_app` saves the README's picture there.

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
        app.open_tab("history").await?;
        app.wait_for_text("#history .history-entry", "created")
            .await?;

        app.click("#edit-patient").await?;
        app.wait_for("#patient-form").await?;
        app.fill("#field-pronouns", "they/them").await?;
        app.click("#save-patient").await?;

        // Saving shows the Overview; the change is in the History tab.
        app.wait_for_text("#detail-pronouns", "they/them").await?;
        app.open_tab("history").await?;
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

/// Discharging a patient (with an emergency contact and a diagnosis, through the form) moves
/// them from the Active list to the Discharged one, with a badge on the record.
#[test]
fn discharge_and_filter() -> Result<()> {
    run(async {
        let vault = TempVault::new()?;
        let app = App::start(vault.path(), &[]).await?;
        app.create_vault(PASSPHRASE).await?;
        app.add_patient(&GRACE).await?;
        app.add_patient(&ADA).await?;
        app.select_patient("Ada Lovelace").await?;

        app.click("#edit-patient").await?;
        app.fill("#field-emergency-name", "William King").await?;
        app.fill("#field-emergency-relationship", "spouse").await?;
        app.click("#form-add-diagnosis").await?;
        app.fill("[aria-label='Diagnosis 1 code']", "f33.1").await?;
        app.fill(
            "[aria-label='Diagnosis 1 description']",
            "Recurrent depression, moderate",
        )
        .await?;
        app.select_option("#field-status", "discharged").await?;
        app.click("#save-patient").await?;

        app.wait_for("#discharged-badge").await?;
        app.wait_for_text("#detail-emergency-name", "William King")
            .await?;
        // The core stores ICD-10 codes in capitals.
        app.wait_for_text("#diagnoses", "F33.1").await?;
        app.wait_for_patients(&["Grace Hopper"]).await?;
        app.click("#filter-discharged").await?;
        app.wait_for_patients(&["Ada Lovelace"]).await?;
        app.click("#filter-all").await?;
        app.wait_for_patients(&["Ada Lovelace", "Grace Hopper"])
            .await?;

        // A diagnosis added on the Overview, a bad code refused in the core's words.
        app.fill("#diagnosis-code", "not a code").await?;
        app.click("#add-diagnosis").await?;
        app.wait_for_text("#diagnosis-error", "ICD-10").await?;
        app.fill("#diagnosis-code", "F41.1").await?;
        app.fill("#diagnosis-text", "Generalised anxiety disorder")
            .await?;
        app.click("#add-diagnosis").await?;
        app.wait_count("#diagnoses .diagnosis", 2).await?;
        app.quit().await
    })
}

/// The scenario: book a session and find it in its week, write a SOAP note for it and
/// sign it (then it is locked), record two PHQ-9s (the first with item 9 above zero raises the
/// safety alert; the second is a reliable improvement), and the chart shows both points and
/// one change marker.
#[test]
fn a_day_in_the_app() -> Result<()> {
    run(async {
        let vault = TempVault::new()?;
        let app = App::start(vault.path(), &[]).await?;
        app.create_vault(PASSPHRASE).await?;
        app.add_patient(&ADA).await?;

        // Book a session on a fixed date: the calendar moves to its week.
        app.book_appointment("2025-03-11T10:00", 50, "90834")
            .await?;
        app.wait_for("#week-view[data-week='2025-03-10']").await?;
        app.wait_for_text(
            ".cal-day[data-date='2025-03-11'] .cal-event",
            "Ada Lovelace",
        )
        .await?;

        // Away to this week, and back by the date field: the block is still in its day.
        app.click("#this-week").await?;
        app.wait_gone("#week-view[data-week='2025-03-10']").await?;
        app.set_value("#calendar-date", "2025-03-13").await?;
        let block = app
            .wait_for_text(
                "#week-view[data-week='2025-03-10'] .cal-day[data-date='2025-03-11'] .cal-event",
                "Ada Lovelace",
            )
            .await?;
        let text = block.text().await?;
        ensure!(
            text.contains("10:00") && text.contains("90834"),
            "the block shows {text:?}"
        );
        block.click().await?;
        app.wait_for("#appointment-panel").await?;
        app.click("#status-attended").await?;
        app.wait_for(".cal-day[data-date='2025-03-11'] .cal-event.attended")
            .await?;

        // Write a SOAP note for it, save the draft, sign it.
        app.click("#write-note").await?;
        app.wait_for_text("#note-for", "11 Mar 2025").await?;
        app.click("#template-soap").await?;
        let sections = [
            (
                "subjective",
                "Sleeping badly; stress at work since January.",
            ),
            ("objective", "Tired, tearful at times, engaged."),
            ("assessment", "Depressive symptoms, moderate."),
            ("plan", "Weekly CBT; sleep diary; PHQ-9 each month."),
        ];
        for (key, text) in sections {
            app.fill(&format!("#section-{key}"), text).await?;
        }
        app.click("#save-note").await?;
        app.wait_for_text("#note-saved", "Draft saved").await?;
        app.click("#sign-note").await?;
        app.fill("#signer", "Dr. Jane Doe").await?;
        app.click("#confirm-sign").await?;
        app.wait_for_text("#note-signature", "Signed by Dr. Jane Doe")
            .await?;

        // Signed means locked: the text is shown, nothing can edit it.
        app.wait_for("#note-view[data-state='signed']").await?;
        app.wait_for_text("#text-subjective", "Sleeping badly")
            .await?;
        for css in [
            "#note-view textarea",
            "#note-view input",
            "#save-note",
            "#sign-note",
        ] {
            ensure!(app.count(css).await? == 0, "`{css}` on a signed note");
        }
        app.click("#back-to-notes").await?;
        app.wait_for_text(".note-row", "Sleeping badly").await?;
        app.wait_for(".note-row .badge.signed").await?;

        // Two PHQ-9s. A missing item is refused by name.
        app.open_tab("measures").await?;
        app.click("#record-phq9").await?;
        app.set_value("#measure-date", "2025-03-11").await?;
        for (item, answer) in [2, 2, 2, 1, 1, 1, 1, 1].into_iter().enumerate() {
            app.click(&format!("#phq9-item-{}-{answer}", item + 1))
                .await?;
        }
        app.click("#save-assessment").await?;
        app.wait_for_text("#measure-error", "PHQ-9 item 9").await?;
        app.click("#phq9-item-9-1").await?;
        app.click("#save-assessment").await?;
        app.wait_for_text(
            "#safety-alert",
            "Item 9 answered above zero — assess risk now",
        )
        .await?;
        app.wait_for_text("#result-total", "12").await?;

        app.click("#record-phq9").await?;
        app.set_value("#measure-date", "2025-04-08").await?;
        for (item, answer) in [1, 1, 1, 0, 1, 0, 0, 0, 0].into_iter().enumerate() {
            app.click(&format!("#phq9-item-{}-{answer}", item + 1))
                .await?;
        }
        app.click("#save-assessment").await?;
        app.wait_for_text("#measure-change", "Reliable improvement")
            .await?;
        app.wait_for_text("#result-total", "4").await?;
        ensure!(
            app.count("#safety-alert").await? == 0,
            "safety alert shown for item 9 = 0"
        );

        // The chart: two points, one change marker (on the second).
        let chart = "svg.measure-chart[data-instrument='phq9']";
        app.wait_count(&format!("{chart} circle.measure-point"), 2)
            .await?;
        app.wait_count(&format!("{chart} .change-marker"), 1)
            .await?;
        app.wait_count(
            &format!("{chart} .change-marker[data-change='reliable_improvement']"),
            1,
        )
        .await?;
        let totals: Vec<String> = {
            let mut v = Vec::new();
            for el in app
                .client()
                .find_all(fantoccini::Locator::Css(&format!(
                    "{chart} circle.measure-point"
                )))
                .await?
            {
                v.push(el.attr("data-total").await?.unwrap_or_default());
            }
            v
        };
        ensure!(totals == ["12", "4"], "points in date order: {totals:?}");

        if let Some(path) = std::env::var_os("HEARTH_SCREENSHOT") {
            // The README's picture: the Measures tab from the top.
            app.client()
                .execute("document.querySelector('.content').scrollTop = 0;", vec![])
                .await?;
            app.screenshot(Path::new(&path)).await?;
        }

        // The header's search finds the note and opens it.
        app.fill("#global-search", "tearful").await?;
        app.wait_for_text(".search-hit", "Ada Lovelace")
            .await?
            .click()
            .await?;
        app.wait_for_text("#note-signature", "Signed by Dr. Jane Doe")
            .await?;
        app.quit().await
    })
}

/// Consent gates export: refused with the deciding reason until a paper consent is recorded,
/// then the archive is written; the Access log shows the creation, the view and the export;
/// the Audit view signs a checkpoint and verifies the log.
#[test]
fn consent_export_and_access_log() -> Result<()> {
    run(async {
        let vault = TempVault::new()?;
        let app = App::start(vault.path(), &[]).await?;
        app.create_vault(PASSPHRASE).await?;
        app.add_patient(&ADA).await?;
        // Opening the record logs a view.
        app.select_patient("Ada Lovelace").await?;

        // No consent yet: the export is refused, with the reason.
        let archive = vault.dir().join("ada.hearth");
        let fhir = vault.dir().join("ada.json");
        app.open_tab("export").await?;
        app.click("#export-step-destination").await?;
        app.fill("#export-archive-path", &archive.display().to_string())
            .await?;
        app.fill("#export-fhir-path", &fhir.display().to_string())
            .await?;
        app.click("#export-button").await?;
        app.wait_for_text("#export-error", "no provision permits export")
            .await?;
        ensure!(!archive.exists(), "an archive was written without consent");

        // Record the pre-filled paper consent (the advanced, FHIR JSON way): it is listed with
        // its summary.
        app.open_tab("consent").await?;
        app.wait_for("#no-consents").await?;
        app.record_template_consent().await?;
        let summary = app
            .wait_for(".consent-row .consent-summary")
            .await?
            .text()
            .await?;
        ensure!(!summary.trim().is_empty(), "no summary shown");
        // The checker agrees: export of session notes for treatment is now permitted.
        app.select_option("#check-action", "export").await?;
        app.wait_for_text("#check-result[data-permit='true']", "Permitted")
            .await?;

        // Now the export goes through and the files are on disk.
        app.open_tab("export").await?;
        app.click("#export-step-destination").await?;
        app.fill("#export-archive-path", &archive.display().to_string())
            .await?;
        app.fill("#export-fhir-path", &fhir.display().to_string())
            .await?;
        app.click("#export-button").await?;
        app.wait_for_text("#export-result", "hearth verify").await?;
        ensure!(
            std::fs::metadata(&archive)?.len() > 0,
            "the archive is empty"
        );
        ensure!(fhir.is_file(), "the FHIR JSON was not written");

        // The access log: created, viewed, exported.
        app.open_tab("access").await?;
        for action in ["created", "viewed", "exported"] {
            app.wait_for(&format!(".timeline-event[data-action='{action}']"))
                .await?;
        }
        app.wait_for_text(".timeline-event", "this device").await?;

        // The audit view: sign a checkpoint, verify.
        app.click("#nav-audit").await?;
        app.wait_for("#log-status").await?;
        app.click("#sign-checkpoint").await?;
        app.wait_for_text("#checkpoint-notice", "Signed a checkpoint")
            .await?;
        app.click("#verify-log").await?;
        app.wait_for_text("#audit-ok", "Everything checks out")
            .await?;
        app.quit().await
    })
}

/// The consent scenario: a consent built in the editor (clinicians may read and write
/// for treatment, except session notes) reads back in plain words as it is built, a bad member
/// id is explained next to the form, recording it makes the Notes tab refuse with the deciding
/// provision; emergency access (a typed reason, required) puts a banner on the chart and opens
/// the notes; the patient's "who can see, who looked" panel lists the emergency access with its
/// reason and this device's views.
#[test]
fn consent_editor_refusal_and_emergency_access() -> Result<()> {
    run(async {
        let vault = TempVault::new()?;
        let app = App::start(vault.path(), &[]).await?;
        app.create_vault(PASSPHRASE).await?;
        app.add_patient(&ADA).await?;
        app.select_patient("Ada Lovelace").await?;
        let note = "Slept better this week; fewer panic attacks.";
        app.write_free_note(note).await?;

        // The editor starts with one rule and says what it means.
        app.open_tab("consent").await?;
        app.click("#new-consent").await?;
        app.wait_for_text(
            "#consent-preview",
            "Any clinician may read and write your records (except psychotherapy notes) for your treatment.",
        )
        .await?;
        // An exception forbidding session notes.
        app.click("#rule-1-add-exception").await?;
        app.wait_for("#rule-1-1[data-permit='false']").await?;
        app.tick("#rule-1-1-category-progress-notes").await?;
        app.wait_for_text("#consent-preview", "may not see your session notes")
            .await?;
        // Someone specific with an id that cannot be one: explained, nothing to record.
        app.select_option("#rule-1-who", "member").await?;
        app.fill("#rule-1-who-id", "dr smith").await?;
        app.wait_for_text("#consent-preview-error", "rule 1 who")
            .await?;
        ensure!(
            !app.is_enabled("#record-draft").await?,
            "a consent with a bad member id could be recorded"
        );
        app.select_option("#rule-1-who", "role:clinician").await?;
        app.wait_for_text("#consent-preview", "may not see your session notes")
            .await?;
        app.wait_gone("#consent-preview-error").await?;

        app.click("#record-draft").await?;
        app.wait_for_text("#consent-notice", "Recorded consent")
            .await?;
        app.wait_gone("#consent-editor").await?;
        app.wait_for_text(
            ".consent-row[data-status='active'] .consent-summary",
            "may not see your session notes",
        )
        .await?;

        // The notes are refused, with the deciding provision; the note is not listed.
        app.open_tab("notes").await?;
        let refusal = app
            .wait_for_text("#notes-error", "Not permitted by the patient's consent")
            .await?
            .text()
            .await?;
        ensure!(
            refusal.contains("1.1"),
            "no deciding provision: {refusal:?}"
        );
        ensure!(
            app.count(".note-row").await? == 0,
            "a refused note is listed"
        );
        ensure!(
            app.count("#emergency-banner").await? == 0,
            "an emergency banner before any emergency access"
        );

        // Emergency access: a reason is required; then the banner shows and the notes open.
        app.click("#emergency-open").await?;
        app.wait_for("#emergency-form .emergency-warning").await?;
        app.click("#emergency-submit").await?;
        app.wait_for_text("#emergency-error", "reason").await?;
        let reason = "Patient called in crisis; covering for Dr. Roe";
        app.open_emergency_access(reason, 60).await?;
        app.wait_for_text("#emergency-banner", "Emergency access until")
            .await?;
        app.wait_for_text(".note-row", note).await?.click().await?;
        // Emergency access opens reads only: the draft shows, but cannot be edited.
        app.wait_for_text("#note-read-only", "Read only").await?;
        app.wait_for_text("#text-note", note).await?;
        ensure!(
            app.count("#note-view textarea").await? == 0,
            "a note opened by emergency access can be edited"
        );

        // What the patient sees: the emergency access with its reason, and who looked.
        app.open_tab("consent").await?;
        app.wait_for_text("#ov-emergency .emergency-entry[data-active='true']", reason)
            .await?;
        app.wait_for_text("#ov-contracts", "may not see your session notes")
            .await?;
        let me = app
            .wait_for_text(
                "#ov-accessors .accessor[data-device='this device']",
                "opened",
            )
            .await?
            .text()
            .await?;
        ensure!(
            me.contains("emergency access"),
            "the emergency access is not among this device's accesses: {me:?}"
        );
        // The banner stays on every tab while the access lasts.
        app.wait_for_text("#emergency-banner", reason).await?;
        app.quit().await
    })
}

/// A consent that hides appointments: the calendar shows the slot as busy, "Restricted by
/// consent", with no name and nothing to open. The patient's device: its key registered (the
/// fingerprint to compare is shown and listed for the patient); a pasted consent that is not
/// signed is refused with the reason.
#[test]
fn restricted_calendar_slot_and_patient_device() -> Result<()> {
    run(async {
        let vault = TempVault::new()?;
        let app = App::start(vault.path(), &[]).await?;
        app.create_vault(PASSPHRASE).await?;
        app.add_patient(&ADA).await?;
        app.book_appointment("2025-03-11T10:00", 50, "90834")
            .await?;
        let day = "#week-view[data-week='2025-03-10'] .cal-day[data-date='2025-03-11']";
        app.wait_for_text(&format!("{day} .cal-event"), "Ada Lovelace")
            .await?;

        // Nobody may see Ada's appointments.
        app.click("#nav-patients").await?;
        app.select_patient("Ada Lovelace").await?;
        app.open_tab("consent").await?;
        app.click("#new-consent").await?;
        app.select_option("#rule-1-permit", "forbid").await?;
        app.select_option("#rule-1-who", "anyone").await?;
        app.tick("#rule-1-category-appointments").await?;
        app.wait_for_text(
            "#consent-preview",
            "No one may read or write your appointments for your treatment.",
        )
        .await?;
        app.click("#record-draft").await?;
        app.wait_for(".consent-row[data-status='active']").await?;

        // The slot is busy, without a name, and opens nothing.
        app.click("#nav-calendar").await?;
        app.set_value("#calendar-date", "2025-03-11").await?;
        let slot = app
            .wait_for_text(
                &format!("{day} .cal-event.restricted[data-restricted='true']"),
                "Restricted by consent",
            )
            .await?;
        ensure!(
            slot.text().await?.contains("10:00"),
            "the busy slot does not show its time"
        );
        ensure!(
            app.count(&format!("{day} [data-appointment]")).await? == 0,
            "a restricted slot links to its appointment"
        );
        ensure!(
            !app.texts("#week-view").await?.concat().contains("Ada"),
            "the restricted patient's name is on the calendar"
        );
        slot.click().await?;
        tokio::time::sleep(Duration::from_millis(300)).await;
        ensure!(
            app.count("#appointment-panel").await? == 0,
            "a restricted slot opened an appointment"
        );

        // The patient's device: registered by its public key (RFC 8032's first test key).
        // Back on Patients, Ada's record is still on its Consent tab.
        app.click("#nav-patients").await?;
        app.open_tab("consent").await?;
        app.wait_for("#ov-no-devices").await?;
        app.fill("#device-key", "not a key").await?;
        app.click("#register-device").await?;
        app.wait_for_text("#device-error", "64 hex digits").await?;
        app.fill(
            "#device-key",
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        )
        .await?;
        app.click("#register-device").await?;
        let fingerprint = "21fe 31df a154 a261 626b f854 046f d227";
        app.wait_for_text("#device-fingerprint", fingerprint)
            .await?;
        app.wait_gone("#device-error").await?;
        app.wait_for_text("#ov-devices", fingerprint).await?;

        // A consent that carries no signature is refused, in words.
        app.fill("#signed-consent", "{\"not\": \"signed\"}").await?;
        app.click("#record-signed").await?;
        app.wait_for("#signed-error").await?;
        ensure!(
            app.count("#signed-notice").await? == 0,
            "an unsigned consent was accepted"
        );
        app.quit().await
    })
}
