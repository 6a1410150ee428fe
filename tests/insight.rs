//! Search by meaning in the real desktop app, with the on-device model (`make setup` installs
//! it in `models/`): a paper consent permitting on-device analysis of progress notes for one
//! patient, notes written in the editor (indexed in the background), then a paraphrase that
//! shares no word with the note finds it first, with its passage; the patient without that
//! consent is listed as not searched, with the reason. Without the model the search box says
//! semantic search is off and full text still answers. Beside a session note, the risk panel
//! shows the flag, the sentence and phrases that drove it, the decision-aid label and the PHQ-9
//! item-9 status, or that analysis is off and why.
//! Build the app first (`make app`); run under `xvfb-run -a`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use fantoccini::Locator;
use hearth_e2e::{run, App, PatientInput, TempVault};

const PASSPHRASE: &str = "correct horse battery staple";

/// The note to find; the query below shares none of its words.
const SLEEP_NOTE: &str =
    "Wakes at 3am most nights and cannot fall back asleep, ruminating over deadlines at the office.";
const GRIEF_NOTE: &str = "Discussed grief after her father's death last spring; tearful at times.";
const QUERY: &str = "insomnia from job stress";

/// Indexing runs in the background after each note (the model loads first): allow for it.
const INDEXED: Duration = Duration::from_secs(90);

const ADA: PatientInput<'static> = PatientInput {
    name: "Ada Lovelace",
    dob: "1985-12-10",
    pronouns: "she/her",
    phone: "",
    email: "",
    notes: "",
};

const GRACE: PatientInput<'static> = PatientInput {
    name: "Grace Hopper",
    dob: "1976-12-09",
    pronouns: "she/her",
    phone: "",
    email: "",
    notes: "",
};

/// Record, for the open patient, the template consent (clinicians: read, write, export for
/// treatment) widened to on-device analysis: action `analyse`, purpose `ai-analysis`.
async fn consent_to_analysis(app: &App) -> Result<()> {
    app.open_tab("consent").await?;
    app.click("#record-consent").await?;
    let template = app.wait_for("#consent-fhir").await?;
    let text = app
        .wait_until("the consent template", Duration::from_secs(30), || {
            let template = template.clone();
            async move {
                let v = template.prop("value").await.ok()??;
                v.contains("Consent").then_some(v)
            }
        })
        .await?;
    let mut fhir: serde_json::Value = serde_json::from_str(&text).context("the template")?;
    let rule = &mut fhir["provision"]["provision"][0];
    rule["action"]
        .as_array_mut()
        .context("template actions")?
        .push(serde_json::json!({"coding": [{"system": "urn:hearth:fhir:consent-action", "code": "analyse"}]}));
    rule["purpose"]
        .as_array_mut()
        .context("template purposes")?
        .push(serde_json::json!({"system": "urn:hearth:fhir:purpose", "code": "ai-analysis"}));
    app.set_value("#consent-fhir", &fhir.to_string()).await?;
    app.click("#save-consent").await?;
    app.wait_for(".consent-row[data-status='active']").await?;
    Ok(())
}

/// With `HEARTH_INSIGHT_SCREENSHOTS=<dir>`, save a picture of the window there as `name.png`.
async fn picture(app: &App, name: &str) -> Result<()> {
    match std::env::var_os("HEARTH_INSIGHT_SCREENSHOTS") {
        Some(dir) => {
            app.screenshot(&std::path::Path::new(&dir).join(format!("{name}.png")))
                .await
        }
        None => Ok(()),
    }
}

/// The texts of the elements matching `css`, in order.
async fn texts(app: &App, css: &str) -> Vec<String> {
    let mut out = Vec::new();
    for el in app
        .client()
        .find_all(Locator::Css(css))
        .await
        .unwrap_or_default()
    {
        out.push(el.text().await.unwrap_or_default());
    }
    out
}

#[test]
fn a_paraphrase_finds_the_note_by_meaning() -> Result<()> {
    run(async {
        let vault = TempVault::new()?;
        let app = App::start(vault.path(), &[]).await?;
        app.create_vault(PASSPHRASE).await?;
        app.add_patient(&GRACE).await?;
        app.write_free_note("Worried about sleep and work, no consent for analysis.")
            .await?;
        app.add_patient(&ADA).await?;
        consent_to_analysis(&app).await?;
        app.write_free_note(GRIEF_NOTE).await?;
        app.write_free_note(SLEEP_NOTE).await?;

        app.click("#search-by-meaning").await?;
        app.wait_for("#search-by-meaning[aria-pressed='true']")
            .await?;
        app.fill("#global-search", QUERY).await?;
        // Ranked first once both of Ada's notes are indexed: her sleep note, its passage shown.
        let first = app
            .wait_until(
                "the sleep note ranked first by meaning",
                INDEXED,
                || async {
                    let hits = texts(&app, "#semantic-results .semantic-hit").await;
                    let first = hits.first()?;
                    (first.contains("Ada Lovelace") && first.contains("3am")).then(|| first.clone())
                },
            )
            .await?;
        ensure!(
            first.to_lowercase().contains("meaning"),
            "not a match by meaning: {first}"
        );
        let passage = texts(&app, "#semantic-results .semantic-hit .hit-passage").await;
        ensure!(
            passage
                .first()
                .is_some_and(|p| p.contains("ruminating over deadlines")),
            "the passage is not shown: {passage:?}"
        );
        // Grace's notes were not analysed; the reason says so.
        let skipped = app
            .wait_for_text("#semantic-skipped", "Grace Hopper")
            .await?
            .text()
            .await?;
        ensure!(
            skipped.contains("ai-analysis"),
            "no reason given: {skipped}"
        );
        ensure!(
            !texts(&app, "#semantic-results .semantic-hit")
                .await
                .iter()
                .any(|h| h.contains("Grace Hopper")),
            "Grace's note was searched by meaning without consent"
        );

        picture(&app, "semantic-search").await?;
        // A hit opens the note.
        app.click("#semantic-results .semantic-hit").await?;
        app.wait_for_text("#patient-detail #detail-name", "Ada Lovelace")
            .await?;
        app.quit().await
    })
}

#[test]
fn without_the_model_full_text_still_answers() -> Result<()> {
    run(async {
        let vault = TempVault::new()?;
        let empty = vault.dir().join("no-models");
        std::fs::create_dir_all(&empty)?;
        let models = empty.display().to_string();
        let app = App::start(vault.path(), &[("HEARTH_MODELS_DIR", &models)]).await?;
        app.create_vault(PASSPHRASE).await?;
        app.add_patient(&ADA).await?;
        app.write_free_note(SLEEP_NOTE).await?;

        app.click("#search-by-meaning").await?;
        app.fill("#global-search", "ruminating").await?;
        app.wait_for_text("#semantic-off", "Semantic search is off")
            .await?;
        app.wait_for_text("#semantic-off", "make setup").await?;
        app.wait_for_text("#semantic-results .semantic-hit", "Ada Lovelace")
            .await?;
        app.quit().await
    })
}

#[test]
fn risk_panel_beside_the_note() -> Result<()> {
    run(async {
        let vault = TempVault::new()?;
        let app = App::start(vault.path(), &[]).await?;
        app.create_vault(PASSPHRASE).await?;

        // No consent for analysis: the panel says it is off, and why.
        app.add_patient(&GRACE).await?;
        app.write_free_note("Low mood this week; sleeping badly.")
            .await?;
        app.click(".note-row").await?;
        app.wait_for_text("#risk-off", "Analysis is off").await?;
        let why = app.wait_for("#risk-off").await?.text().await?;
        ensure!(why.contains("ai-analysis"), "no consent reason: {why}");
        ensure!(
            app.count("#risk-panel .risk-flag").await? == 0,
            "flags shown without consent"
        );

        // With consent: the flag, its sentence with the phrases marked, why, the label and
        // item 9; the brother's words are not counted for the patient.
        app.add_patient(&ADA).await?;
        consent_to_analysis(&app).await?;
        // The panel appears beside a new note as soon as it is saved, without reopening it.
        app.open_tab("notes").await?;
        app.click("#new-note").await?;
        app.click("#template-free").await?;
        app.fill(
            "#section-note",
            "She reports thoughts of killing herself most days this week. \
             Her brother said he wanted to die after the divorce.",
        )
        .await?;
        app.click("#save-note").await?;
        app.wait_for_text("#note-saved", "Draft saved").await?;
        let flag = app
            .wait_for_text("#risk-panel .risk-flag", "suicidal")
            .await?
            .text()
            .await?;
        ensure!(
            flag.contains("killing herself"),
            "sentence not shown: {flag}"
        );
        ensure!(flag.contains("Why:"), "no why: {flag}");
        ensure!(
            !flag.contains("brother"),
            "the brother's words flagged the patient: {flag}"
        );
        ensure!(
            app.count("#risk-panel .risk-phrase").await? > 0,
            "no phrase highlighted"
        );
        app.wait_for_text(
            "#risk-notice",
            "Decision aid, not a diagnosis — research preview",
        )
        .await?;
        app.wait_for_text("#risk-item9", "no PHQ-9 on record")
            .await?;
        picture(&app, "risk-panel").await?;
        app.quit().await
    })
}
