//! The export wizard and the research export, end to end: a vault set up with the `hearth`
//! CLI (two patients, one with consents for treatment and research), then the real app
//! exports a patient sealed to a recipient (the file is an age file that `hearth verify
//! --identity` opens and verifies) and runs the research export (the unconsented patient is
//! shown as skipped, with the consent reason).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, ensure, Context, Result};
use hearth_e2e::{app_binary, run, App, TempVault};

const PASSPHRASE: &str = "correct horse battery staple";
const CONSENTED: &str = "Zelda Quarrington";
const UNCONSENTED: &str = "Ottoline Brackwater";

/// The `hearth` CLI over one vault, built next to the app (`make app`).
struct Cli {
    bin: PathBuf,
    vault: PathBuf,
    pass: PathBuf,
}

impl Cli {
    fn new(vault: &TempVault) -> Result<Self> {
        let bin = app_binary()?.with_file_name("hearth");
        ensure!(
            bin.is_file(),
            "the hearth CLI is not at {}: build it first: make app",
            bin.display()
        );
        let pass = vault.dir().join("pass.txt");
        std::fs::write(&pass, format!("{PASSPHRASE}\n"))?;
        Ok(Self {
            bin,
            vault: vault.path().to_path_buf(),
            pass,
        })
    }

    /// Run `hearth` over the vault; its stdout, or an error with its stderr.
    fn ok(&self, args: &[&str]) -> Result<String> {
        let o = Command::new(&self.bin)
            .arg("--vault")
            .arg(&self.vault)
            .arg("--passphrase-file")
            .arg(&self.pass)
            .args(args)
            .env_remove("HEARTH_PASSPHRASE")
            .env_remove("HEARTH_VAULT")
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("running hearth {args:?}"))?;
        if !o.status.success() {
            bail!(
                "hearth {args:?} failed: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
        Ok(String::from_utf8(o.stdout)?)
    }

    /// Add a patient; its record id.
    fn add_patient(&self, name: &str) -> Result<String> {
        let out = self.ok(&[
            "--json",
            "patient",
            "add",
            "--name",
            name,
            "--dob",
            "1984-03-07",
        ])?;
        let v: serde_json::Value = serde_json::from_str(&out)?;
        Ok(v["id"].as_str().context("no id in the reply")?.to_string())
    }

    /// Record the paper-consent template (treatment), with its purpose changed to `purpose`
    /// (a FHIR purpose-of-use code such as HRESCH) when given.
    fn consent(&self, dir: &Path, patient: &str, purpose: Option<&str>) -> Result<()> {
        let template = self.ok(&["consent", "template", "--patient", patient])?;
        ensure!(template.contains("\"TREAT\""), "unexpected template");
        let text = match purpose {
            Some(p) => template.replace("\"TREAT\"", &format!("\"{p}\"")),
            None => template,
        };
        let file = dir.join(format!("consent-{}.json", purpose.unwrap_or("TREAT")));
        std::fs::write(&file, text)?;
        let path = file.to_str().context("temporary path not UTF-8")?;
        self.ok(&["consent", "add", "--patient", patient, path])
            .map(drop)
    }
}

/// With `HEARTH_E2E_SHOTS=DIR`, save a screenshot of the window as `DIR/NAME.png`.
async fn shot(app: &App, name: &str) -> Result<()> {
    match std::env::var_os("HEARTH_E2E_SHOTS") {
        Some(dir) => {
            app.screenshot(&Path::new(&dir).join(format!("{name}.png")))
                .await
        }
        None => Ok(()),
    }
}

/// The wizard seals the archive to a recipient; the research export skips the patient
/// without a research consent and says why.
#[test]
fn sealed_export_verifies_and_research_export_names_the_skipped() -> Result<()> {
    let vault = TempVault::new()?;
    let cli = Cli::new(&vault)?;
    cli.ok(&["init"])?;
    let yes = cli.add_patient(CONSENTED)?;
    cli.add_patient(UNCONSENTED)?;
    cli.consent(vault.dir(), &yes, None)?;
    cli.consent(vault.dir(), &yes, Some("HRESCH"))?;
    // The recipient's key pair, made the way a recipient would.
    let key = vault.dir().join("recipient.key");
    let out = cli.ok(&["recipient-key", key.to_str().context("path not UTF-8")?])?;
    let recipient = out
        .split_whitespace()
        .find(|w| w.starts_with("age1"))
        .context("no age1 recipient printed")?
        .trim_end_matches(['.', ',', '`', ')'])
        .to_string();
    let archive = vault.dir().join("zelda.hearth");
    let research = vault.dir().join("research");

    run(async {
        let app = App::start(vault.path(), &[]).await?;
        app.unlock(PASSPHRASE).await?;
        app.select_patient(CONSENTED).await?;
        app.open_tab("export").await?;

        // 1. Scope: psychotherapy notes only when chosen, with a warning; the consent (which
        // does not name them) would refuse, and step 2 says so before anything is exported.
        app.wait_for("#export-page-scope").await?;
        app.tick("#export-psychotherapy").await?;
        app.wait_for("#export-psychotherapy-warning").await?;
        app.click("#export-next").await?;
        app.wait_for_text(
            "#export-consent[data-permit='false']",
            "Psychotherapy notes",
        )
        .await?;
        app.click("#export-back").await?;
        app.click("#export-psychotherapy").await?;
        app.wait_gone("#export-psychotherapy-warning").await?;
        app.click("#export-next").await?;
        // 2. Purpose: treatment, permitted by the consent, shown before exporting.
        app.select_option("#export-purpose", "treatment").await?;
        app.wait_for_text("#export-consent[data-permit='true']", "Permitted")
            .await?;
        shot(&app, "export-2-purpose").await?;
        app.click("#export-next").await?;
        // 3. Format: sealed to the recipient.
        app.click("#export-format-sealed").await?;
        app.fill("#export-recipients", &recipient).await?;
        shot(&app, "export-3-format").await?;
        app.click("#export-next").await?;
        // 4. Destination; no plaintext FHIR field beside a sealed archive.
        app.fill("#export-archive-path", &archive.display().to_string())
            .await?;
        ensure!(
            app.count("#export-fhir-path").await? == 0,
            "a plaintext FHIR path is offered next to a sealed archive"
        );
        app.click("#export-button").await?;
        app.wait_for_text("#export-result", "hearth verify --identity")
            .await?;
        app.wait_for("#export-result[data-sealed='true']").await?;
        shot(&app, "export-5-result").await?;

        // The research export, from the Clinic / Audit screen.
        app.click("#nav-audit").await?;
        app.fill("#research-out", &research.display().to_string())
            .await?;
        app.click("#research-run").await?;
        app.wait_for_text("#research-included", "1 patient(s) included")
            .await?;
        let skip = app
            .wait_for_text(".research-skip", UNCONSENTED)
            .await?
            .text()
            .await?;
        ensure!(
            skip.contains("no provision permits export"),
            "the skipped patient's reason is missing: {skip}"
        );
        ensure!(
            app.count(".research-skip").await? == 1,
            "only the unconsented patient is skipped"
        );
        shot(&app, "research-export").await?;
        app.quit().await
    })?;

    // The archive is an age file that only the recipient's key opens, and it verifies.
    let bytes = std::fs::read(&archive)?;
    ensure!(
        bytes.starts_with(b"age-encryption.org/v1"),
        "the archive is not sealed"
    );
    let archive_s = archive.to_str().context("path not UTF-8")?;
    let key_s = key.to_str().context("path not UTF-8")?;
    let report = Command::new(&cli.bin)
        .args(["verify", "--identity", key_s, archive_s])
        .env_remove("HEARTH_PASSPHRASE")
        .env_remove("HEARTH_VAULT")
        .stdin(Stdio::null())
        .output()?;
    ensure!(
        report.status.success(),
        "hearth verify --identity failed: {}{}",
        String::from_utf8_lossy(&report.stdout),
        String::from_utf8_lossy(&report.stderr)
    );
    // Without the key it cannot be checked (nor read).
    let blind = Command::new(&cli.bin)
        .args(["verify", archive_s])
        .stdin(Stdio::null())
        .output()?;
    ensure!(
        !blind.status.success(),
        "a sealed archive verified without its key"
    );

    // The research files are there, owner-only, and name no one.
    for f in ["research.ndjson", "manifest.json"] {
        let p = research.join(f);
        let text = std::fs::read_to_string(&p).with_context(|| format!("reading {f}"))?;
        for gone in [
            CONSENTED,
            UNCONSENTED,
            "Quarrington",
            "Brackwater",
            "1984-03-07",
        ] {
            ensure!(!text.contains(gone), "{gone} in {f}");
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p)?.permissions().mode();
            ensure!(mode & 0o077 == 0, "{f} is readable by others: {mode:o}");
        }
    }
    Ok(())
}
