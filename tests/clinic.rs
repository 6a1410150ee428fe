//! Clinic sync in the real desktop app: create a clinic (this device is the registrar and is
//! listed as such), make an invite (the ticket text and its QR code as an SVG), and on a
//! second app joining with a garbage ticket is refused in plain words.
//! Build the app first (`make app`); run under `xvfb-run -a`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use hearth_e2e::{run, App, TempVault};

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
