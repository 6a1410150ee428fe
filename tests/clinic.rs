//! Clinic sync in the real desktop app: create a clinic (this device is the registrar and is
//! listed as such), make an invite (the ticket text and its QR code as an SVG), and on a
//! second app joining with a garbage ticket is refused in plain words. Two devices: a second
//! device (the `hearth` command-line tool) joins with the app's ticket against the app's node,
//! shows up in the members list, and "Sync now" with it reports the result.
//! Build the app first (`make app`); run under `xvfb-run -a`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{anyhow, bail, ensure, Context, Result};
use hearth_e2e::{app_binary, run, App, PatientInput, TempVault};

const PASSPHRASE: &str = "correct horse battery staple";

/// A free UDP port on loopback for the app's sync node.
fn free_udp_port() -> Result<u16> {
    let s = std::net::UdpSocket::bind("127.0.0.1:0").context("no free UDP port")?;
    Ok(s.local_addr()?.port())
}

#[test]
fn create_clinic_invite_shows_ticket_and_qr() -> Result<()> {
    run(async {
        let vault = TempVault::new()?;
        let listen = format!("127.0.0.1:{}", free_udp_port()?);
        let app = App::start(vault.path(), &[("HEARTH_SYNC_LISTEN", &listen)]).await?;
        app.create_vault(PASSPHRASE).await?;
        app.click("#nav-clinic").await?;
        app.wait_for("#clinic-create-form").await?;
        app.fill("#clinic-device", "Front desk").await?;
        app.fill("#clinic-name-input", "Riverside Therapy").await?;
        app.click("#clinic-create").await?;

        app.wait_for_text("#clinic-name", "Riverside Therapy")
            .await?;
        app.wait_for_text("#clinic-role", "registrar").await?;
        app.wait_for_text("#node-state", &listen).await?;
        let row = app
            .wait_for_text("#members tr.member", "Front desk")
            .await?
            .text()
            .await?;
        ensure!(
            row.contains("registrar") && row.contains("this device") && row.contains("clinician"),
            "the member row should show this device as registrar: {row:?}"
        );

        app.select_option("#invite-role", "admin").await?;
        app.fill("#invite-stake", "2").await?;
        app.click("#invite-make").await?;
        let ticket = app
            .wait_until("the invite ticket", Duration::from_secs(20), || async {
                let el = app
                    .client()
                    .find(fantoccini::Locator::Css("#invite-ticket"))
                    .await
                    .ok()?;
                let v = el.prop("value").await.ok()??;
                (!v.is_empty()).then_some(v)
            })
            .await?;
        ensure!(
            ticket.starts_with("hearth-invite1-"),
            "the ticket should start hearth-invite1-: {ticket:?}"
        );
        let svgs = app.count("#invite-qr svg").await?;
        ensure!(svgs == 1, "one QR code <svg> should be shown, found {svgs}");
        let rects = app
            .count("#invite-qr svg path, #invite-qr svg rect")
            .await?;
        ensure!(rects > 0, "the QR code <svg> is empty");

        // Network settings: a relay address that is not one is refused with the reason; a
        // good one is kept (sealed with the clinic) and shown again later.
        app.fill("#network-relay", "relay.example.org").await?;
        app.click("#network-save").await?;
        app.wait_for_text("#network-error", "https://HOST").await?;
        app.fill("#network-relay", "https://relay.example.org:8443")
            .await?;
        app.click("#network-save").await?;
        app.wait_for("#network-saved").await?;
        app.click("#nav-patients").await?;
        app.click("#nav-clinic").await?;
        app.wait_for_value("#network-relay", "https://relay.example.org:8443")
            .await?;
        app.quit().await
    })
}

#[test]
fn joining_with_a_garbage_ticket_says_why() -> Result<()> {
    run(async {
        let vault = TempVault::new()?;
        let listen = format!("127.0.0.1:{}", free_udp_port()?);
        let app = App::start(vault.path(), &[("HEARTH_SYNC_LISTEN", &listen)]).await?;
        app.create_vault(PASSPHRASE).await?;
        app.click("#nav-clinic").await?;
        app.wait_for("#clinic-join-form").await?;
        app.fill("#clinic-ticket", "hearth-invite1-notaticket")
            .await?;
        app.click("#clinic-join").await?;
        let err = app
            .wait_for_text("#clinic-setup-error", "not a valid invite ticket")
            .await?
            .text()
            .await?;
        ensure!(
            err.contains("hearth-invite1-"),
            "the error should say what a ticket looks like: {err:?}"
        );
        // Still in no clinic: both forms are there.
        app.wait_for("#clinic-create-form").await?;
        app.quit().await
    })
}

/// A second device: the `hearth` command-line tool on its own vault.
struct CliDevice {
    bin: PathBuf,
    vault: PathBuf,
    pass: PathBuf,
}

impl CliDevice {
    fn new(dir: &Path) -> Result<Self> {
        let bin = app_binary()?.with_file_name("hearth");
        ensure!(
            bin.is_file(),
            "the hearth tool is not at {}: build it first: make app",
            bin.display()
        );
        let pass = dir.join("cli-pass.txt");
        std::fs::write(&pass, format!("{PASSPHRASE}\n"))?;
        let d = Self {
            bin,
            vault: dir.join("cli.hearth"),
            pass,
        };
        d.ok(&["init"])?;
        Ok(d)
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.bin);
        c.arg("--vault")
            .arg(&self.vault)
            .arg("--passphrase-file")
            .arg(&self.pass)
            .args(args)
            .env_remove("HEARTH_PASSPHRASE")
            .env_remove("HEARTH_VAULT")
            .stdin(Stdio::null());
        c
    }

    fn ok(&self, args: &[&str]) -> Result<String> {
        let o = self
            .cmd(args)
            .output()
            .with_context(|| format!("running hearth {args:?}"))?;
        if !o.status.success() {
            bail!(
                "hearth {args:?} failed: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&o.stdout).into_owned())
    }

    /// `hearth node`: the child and the ENDPOINT_ID@IP:PORT it prints.
    fn node(&self) -> Result<(Child, String)> {
        let mut child = self
            .cmd(&["node"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let mut reader = BufReader::new(child.stdout.take().ok_or_else(|| anyhow!("no stdout"))?);
        let mut line = String::new();
        reader.read_line(&mut line)?;
        std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
        let spec = line
            .trim()
            .strip_prefix("node ")
            .ok_or_else(|| anyhow!("unexpected start-up line {line:?}"))?
            .to_string();
        Ok((child, spec))
    }
}

/// SIGTERM the node this test started (by its id), then reap it.
fn stop(mut child: Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    for _ in 0..100 {
        if matches!(child.try_wait(), Ok(Some(_))) {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn a_cli_device_joins_and_sync_now_reaches_it() -> Result<()> {
    run(async {
        let vault = TempVault::new()?;
        let listen = format!("127.0.0.1:{}", free_udp_port()?);
        let app = App::start(vault.path(), &[("HEARTH_SYNC_LISTEN", &listen)]).await?;
        app.create_vault(PASSPHRASE).await?;
        app.click("#nav-clinic").await?;
        app.fill("#clinic-device", "Front desk").await?;
        app.fill("#clinic-name-input", "Riverside Therapy").await?;
        app.click("#clinic-create").await?;
        app.wait_for_text("#node-state", &listen).await?;
        app.click("#invite-make").await?;
        let ticket = app
            .wait_until("the invite ticket", Duration::from_secs(20), || async {
                let el = app
                    .client()
                    .find(fantoccini::Locator::Css("#invite-ticket"))
                    .await
                    .ok()?;
                let v = el.prop("value").await.ok()??;
                (!v.is_empty()).then_some(v)
            })
            .await?;

        // The second device joins against the app's node.
        let cli = CliDevice::new(vault.dir())?;
        let cli_listen = format!("127.0.0.1:{}", free_udp_port()?);
        cli.ok(&[
            "clinic",
            "join",
            &ticket,
            "--name",
            "Laptop",
            "--listen",
            &cli_listen,
        ])?;

        // The members list shows it once the screen reloads.
        app.click("#nav-patients").await?;
        app.click("#nav-clinic").await?;
        app.wait_for_text("#members tr.member", "Laptop").await?;

        // Sync now with it (its address typed in), while its node runs.
        let (node, spec) = cli.node()?;
        let result = async {
            app.fill("#sync-peer", &spec).await?;
            app.click("#sync-now").await?;
            let line = app
                .wait_for_text("#sync-results li", "Laptop")
                .await?
                .text()
                .await?;
            ensure!(
                line.contains("synced in") && line.contains(" in, "),
                "Sync now with the laptop failed, or its bytes are missing: {line:?}"
            );
            app.wait_for_text("#members tr.member", "synced").await?;
            app.wait_for_text("#last-sync", "Last sync").await?;

            // From now on the app pushes its edits to the laptop by itself: a new patient
            // with a consent that lets clinicians read reaches it without "Sync now".
            app.click("#nav-patients").await?;
            app.add_patient(&PatientInput {
                name: "Pushed Patient",
                dob: "1990-01-02",
                pronouns: "",
                phone: "",
                email: "",
                notes: "",
            })
            .await?;
            app.select_patient("Pushed Patient").await?;
            app.open_tab("consent").await?;
            app.record_template_consent().await?;
            app.wait_until(
                "the laptop to receive the pushed patient",
                Duration::from_secs(60),
                || async {
                    let list = cli.ok(&["patient", "list"]).ok()?;
                    list.contains("Pushed Patient").then_some(())
                },
            )
            .await?;
            Ok(())
        }
        .await;
        stop(node);
        result?;
        app.quit().await
    })
}

/// The patient's consent: clinicians keep the chart (the template), and the patient's own
/// devices may read the demographics and progress notes.
fn consent_sharing_with_patient_devices(template: &str, patient: &str) -> Result<String> {
    let mut c: serde_json::Value = serde_json::from_str(template)?;
    let provisions = c["provision"]["provision"]
        .as_array_mut()
        .context("the template has no nested provisions")?;
    let mut device = provisions.first().context("no provision")?.clone();
    device["actor"] = serde_json::json!([{
        "role": { "coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
            "code": "IRCP"
        }] },
        "reference": { "reference": format!("Patient/{patient}") }
    }]);
    device["action"] = serde_json::json!([{ "coding": [{
        "system": "urn:hearth:fhir:consent-action",
        "code": "read"
    }] }]);
    device
        .as_object_mut()
        .context("a provision is an object")?
        .remove("purpose");
    provisions.push(device);
    Ok(serde_json::to_string(&c)?)
}

#[test]
fn a_patients_own_device_receives_its_records_and_exports_them() -> Result<()> {
    let vault = TempVault::new()?;
    let archive = vault.dir().join("my-records.hearth");
    let verifier = app_binary()?.with_file_name("hearth");
    run(async {
        // The clinic's registrar is the command-line tool, with one patient.
        let clinic = CliDevice::new(vault.dir())?;
        let clinic_listen = format!("127.0.0.1:{}", free_udp_port()?);
        clinic.ok(&[
            "clinic",
            "create",
            "--name",
            "Riverside Therapy",
            "--listen",
            &clinic_listen,
        ])?;
        let p: serde_json::Value = serde_json::from_str(&clinic.ok(&[
            "--json",
            "patient",
            "add",
            "--name",
            "Ada Hopewell",
        ])?)?;
        let pid = p["id"].as_str().context("no patient id")?.to_string();
        let template = clinic.ok(&["consent", "template", "--patient", &pid])?;
        let consent = vault.dir().join("consent.json");
        std::fs::write(
            &consent,
            consent_sharing_with_patient_devices(&template, &pid)?,
        )?;
        clinic.ok(&[
            "consent",
            "add",
            "--patient",
            &pid,
            consent.to_str().context("path not UTF-8")?,
        ])?;
        clinic.ok(&[
            "note",
            "add",
            "--patient",
            &pid,
            "--template",
            "soap",
            "--section",
            "subjective=Sleeping better since the last session",
        ])?;
        // A scanned letter in Ada's chart: its content follows the record to her device.
        let letter = vault.dir().join("letter.pdf");
        let letter_bytes: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
        std::fs::write(&letter, &letter_bytes)?;
        clinic.ok(&[
            "attachment",
            "add",
            "--patient",
            &pid,
            letter.to_str().context("path not UTF-8")?,
        ])?;
        std::fs::remove_file(&letter)?;
        // Another patient: nothing of theirs reaches Ada's device.
        clinic.ok(&["patient", "add", "--name", "Bruno Elsewhere"])?;
        let ticket = clinic.ok(&[
            "clinic",
            "invite",
            "--role",
            "patient",
            "--patient",
            &pid,
            "--stake",
            "0",
        ])?;
        let (node, spec) = clinic.node()?;

        let listen = format!("127.0.0.1:{}", free_udp_port()?);
        let app = App::start(vault.path(), &[("HEARTH_SYNC_LISTEN", &listen)]).await?;
        let result = async {
            app.create_vault(PASSPHRASE).await?;
            app.click("#nav-clinic").await?;
            app.wait_for("#clinic-join-form").await?;
            app.fill("#clinic-ticket", ticket.trim()).await?;
            app.click("#clinic-join").await?;
            app.wait_for_text("#clinic-name", "Riverside Therapy")
                .await?;
            app.wait_for_text("#own-records", "patient's own device")
                .await?;
            app.fill("#sync-peer", &spec).await?;
            app.click("#sync-now").await?;
            let line = app
                .wait_for_text("#sync-results li", "synced in")
                .await?
                .text()
                .await?;
            ensure!(
                line.contains("registrar") || line.contains("synced"),
                "{line}"
            );
            // Only Ada: nothing of another patient reached her device.
            app.click("#nav-patients").await?;
            app.wait_for_patients(&["Ada Hopewell"]).await?;
            // The letter is on the device, whole: Ada saves a copy of it.
            app.select_patient("Ada Hopewell").await?;
            app.open_tab("files").await?;
            app.wait_for_text(".file-row .file-name", "letter.pdf")
                .await?;
            app.click(".file-row .export-button").await?;
            app.fill("#export-path", &letter.display().to_string())
                .await?;
            app.click("#export-save").await?;
            app.wait_for_text("#files-notice", "Saved a copy").await?;
            ensure!(
                std::fs::read(&letter)? == letter_bytes,
                "the saved letter differs from the one attached"
            );

            // "Export my records": the wizard, for Ada, permitted as her own records.
            app.click("#nav-clinic").await?;
            app.click("#export-my-records").await?;
            app.wait_for("#export-page-scope").await?;
            app.click_expecting("#export-next", "#export-page-purpose")
                .await?;
            app.wait_for("#export-consent[data-permit='true']").await?;
            app.wait_for_text(
                "#export-page-purpose",
                "your own records, on your own device",
            )
            .await?;
            app.click("#export-next").await?;
            app.click("#export-next").await?;
            app.fill("#export-archive-path", &archive.display().to_string())
                .await?;
            app.click("#export-button").await?;
            app.wait_for_text("#export-result", "hearth verify").await?;
            Ok(())
        }
        .await;
        stop(node);
        result?;
        app.quit().await
    })?;
    let report = Command::new(&verifier)
        .arg("verify")
        .arg(&archive)
        .env_remove("HEARTH_PASSPHRASE")
        .env_remove("HEARTH_VAULT")
        .stdin(Stdio::null())
        .output()?;
    ensure!(
        report.status.success(),
        "hearth verify failed: {}{}",
        String::from_utf8_lossy(&report.stdout),
        String::from_utf8_lossy(&report.stderr)
    );
    Ok(())
}
