//! End-to-end harness: the real Hearth desktop app, started by `tauri-driver` (WebKitWebDriver
//! underneath) and driven through WebDriver with fantoccini, so tests read like the scenario
//! they check.
//!
//! - [`run`] runs one async scenario on its own runtime, one scenario at a time (each app
//!   gets its own driver ports and vault, but two WebKit apps at once only slow a 2-core
//!   machine down);
//! - [`TempVault`] is a vault path in a fresh temporary folder;
//! - [`App::start`] starts `tauri-driver` with `HEARTH_VAULT` (and any other variables) in its
//!   environment, which the app inherits, and opens a WebDriver session; dropping the [`App`]
//!   stops `tauri-driver` with SIGTERM (the only signal on which it stops WebKitWebDriver);
//! - waits poll with a timeout ([`WAIT`]) and say what they waited for and what the page showed.
//!
//! The app binary must be built first (`make app`); the tests need a display (`xvfb-run -a`).
//!
//! ```no_run
//! use hearth_e2e::{run, App, TempVault};
//! run(async {
//!     let vault = TempVault::new()?;
//!     let app = App::start(vault.path(), &[]).await?;
//!     app.create_vault("correct horse battery").await?;
//!     app.quit().await
//! })
//! .unwrap();
//! ```

use std::future::Future;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

/// How long a wait for the UI gives up after: generous, the machine may be busy building.
pub const WAIT: Duration = Duration::from_secs(20);

/// How long the app may take to start (WebKit cold start under Xvfb).
const START: Duration = Duration::from_secs(60);

/// How often waits look again.
const POLL: Duration = Duration::from_millis(100);

/// Run one scenario on a fresh single-threaded runtime, never two at once.
pub fn run<F: Future<Output = Result<()>>>(scenario: F) -> Result<()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    // A scenario that panicked poisons the lock; the next one may still run.
    let _one_at_a_time = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    let started = Instant::now();
    let result = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("could not start a tokio runtime")?
        .block_on(scenario);
    eprintln!("scenario took {:.1?}", started.elapsed());
    result
}

/// The debug build of the desktop app, next to this test binary's `deps` folder.
pub fn app_binary() -> Result<PathBuf> {
    let exe = std::env::current_exe().context("could not find the test binary's path")?;
    // …/debug/deps/app-1234abcd → …/debug/hearth-desktop
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .ok_or_else(|| anyhow!("unexpected test binary path {}", exe.display()))?;
    let app = dir.join("hearth-desktop");
    if !app.is_file() {
        bail!(
            "the desktop app is not at {}: build it first: make app",
            app.display()
        );
    }
    Ok(app)
}

/// A vault path in a new temporary folder, removed on drop.
pub struct TempVault {
    dir: tempfile::TempDir,
    path: PathBuf,
}

impl TempVault {
    /// A fresh folder; the vault file does not exist yet.
    pub fn new() -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("hearth-e2e-")
            .tempdir()
            .context("could not make a temporary folder")?;
        let path = dir.path().join("clinic.hearth");
        Ok(Self { dir, path })
    }

    /// The vault file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The folder holding it (also holds the driver's log).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

/// A patient as typed into the form (empty fields are left alone).
#[derive(Debug, Clone, Default)]
pub struct PatientInput<'a> {
    /// Full name.
    pub name: &'a str,
    /// `YYYY-MM-DD`.
    pub dob: &'a str,
    /// Pronouns.
    pub pronouns: &'a str,
    /// Phone.
    pub phone: &'a str,
    /// Email.
    pub email: &'a str,
    /// Notes.
    pub notes: &'a str,
}

/// A free loopback port (the listener is closed right away; a race is possible but rare).
fn free_port() -> Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0").context("could not find a free port")?;
    Ok(l.local_addr()?.port())
}

/// `tauri-driver`, stopped with SIGTERM on drop.
struct Driver {
    child: Child,
    log: PathBuf,
}

impl Driver {
    fn start(port: u16, native_port: u16, log: PathBuf, env: &[(&str, &str)]) -> Result<Self> {
        let out = std::fs::File::create(&log)
            .with_context(|| format!("could not create {}", log.display()))?;
        let err = out.try_clone()?;
        let mut cmd = Command::new("tauri-driver");
        cmd.args([
            "--port",
            &port.to_string(),
            "--native-port",
            &native_port.to_string(),
        ])
        .env_remove("HEARTH_IDLE_LOCK_SECS")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err);
        let child = cmd
            .spawn()
            .context("could not start tauri-driver: install it with `make setup`")?;
        Ok(Self { child, log })
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let start = text.len().saturating_sub(3000);
        let start = (start..text.len())
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(0);
        text[start..].to_string()
    }

    /// Wait until tauri-driver accepts connections.
    fn wait_for_port(&mut self, port: u16) -> Result<()> {
        let deadline = Instant::now() + START;
        loop {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(());
            }
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "tauri-driver exited ({status}) before listening; its log:\n{}",
                    self.log_tail()
                );
            }
            if Instant::now() > deadline {
                bail!(
                    "tauri-driver did not listen on port {port} within {START:?}; its log:\n{}",
                    self.log_tail()
                );
            }
            std::thread::sleep(POLL);
        }
    }

    /// SIGTERM, then wait for it to exit (it stops WebKitWebDriver first).
    fn stop(&mut self) {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return;
        }
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(POLL);
        }
        eprintln!("tauri-driver ignored SIGTERM for 10 s; killing it");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The running app and the WebDriver session driving it.
pub struct App {
    client: Client,
    driver: Driver,
}

impl App {
    /// Start the app on the vault at `vault`, with these extra environment variables.
    pub async fn start(vault: &Path, env: &[(&str, &str)]) -> Result<Self> {
        let binary = app_binary()?;
        let (port, native_port) = (free_port()?, free_port()?);
        let log = vault.with_extension(format!("driver-{port}.log"));
        let vault_str = vault
            .to_str()
            .ok_or_else(|| anyhow!("vault path is not UTF-8"))?;
        let mut all_env = vec![("HEARTH_VAULT", vault_str)];
        all_env.extend_from_slice(env);
        let mut driver = Driver::start(port, native_port, log, &all_env)?;
        // tauri-driver listens first, then WebKitWebDriver behind it: wait for both.
        driver.wait_for_port(port)?;
        driver.wait_for_port(native_port)?;

        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("wry"));
        caps.insert("tauri:options".into(), json!({ "application": binary }));
        let mut builder = ClientBuilder::new(HttpConnector::new());
        builder.capabilities(caps);
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + START;
        let client = loop {
            let error = match tokio::time::timeout(START, builder.connect(&url)).await {
                Ok(Ok(c)) => break c,
                Ok(Err(e)) => e.to_string(),
                Err(_) => format!("no answer within {START:?}"),
            };
            // A driver that has only just started sometimes drops the first request.
            if Instant::now() > deadline || error.contains("no answer") {
                bail!(
                    "the app did not start under WebDriver: {error}; driver log:\n{}",
                    driver.log_tail()
                );
            }
            eprintln!("starting a WebDriver session failed ({error}); trying again");
            tokio::time::sleep(Duration::from_millis(500)).await;
        };
        let app = Self { client, driver };
        app.wait_for("#create-form, #unlock-form").await?;
        Ok(app)
    }

    /// The WebDriver client, for anything the helpers do not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// End the session (the app quits) and stop tauri-driver.
    pub async fn quit(mut self) -> Result<()> {
        let closed = self.client.clone().close().await;
        self.driver.stop();
        closed.context("closing the WebDriver session failed")
    }

    /// The text of the page, for error messages.
    async fn page_text(&self) -> String {
        match self.client.find(Locator::Css("body")).await {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(e) => format!("(page unreadable: {e})"),
        }
    }

    /// Poll `check` until it returns `Some` or `timeout` passes.
    pub async fn wait_until<T, F, Fut>(
        &self,
        what: &str,
        timeout: Duration,
        mut check: F,
    ) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Option<T>>,
    {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(v) = check().await {
                return Ok(v);
            }
            if Instant::now() > deadline {
                bail!(
                    "timed out after {timeout:?} waiting for {what}; the page shows:\n{}\n--- driver log:\n{}",
                    self.page_text().await,
                    self.driver.log_tail()
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The first element matching `css`, waiting up to [`WAIT`].
    pub async fn wait_for(&self, css: &str) -> Result<Element> {
        self.wait_for_within(css, WAIT).await
    }

    /// The first element matching `css`, waiting up to `timeout`.
    pub async fn wait_for_within(&self, css: &str, timeout: Duration) -> Result<Element> {
        let what = format!("an element matching `{css}`");
        self.wait_until(&what, timeout, || async move {
            self.client.find(Locator::Css(css)).await.ok()
        })
        .await
    }

    /// The first element matching `css` whose text contains `needle`.
    pub async fn wait_for_text(&self, css: &str, needle: &str) -> Result<Element> {
        let what = format!("`{css}` to contain {needle:?}");
        self.wait_until(&what, WAIT, || async move {
            for el in self.client.find_all(Locator::Css(css)).await.ok()? {
                if el.text().await.ok()?.contains(needle) {
                    return Some(el);
                }
            }
            None
        })
        .await
    }

    /// Wait until nothing matches `css`.
    pub async fn wait_gone(&self, css: &str) -> Result<()> {
        let what = format!("`{css}` to disappear");
        self.wait_until(&what, WAIT, || async move {
            self.client
                .find_all(Locator::Css(css))
                .await
                .ok()
                .filter(Vec::is_empty)
                .map(|_| ())
        })
        .await
    }

    /// Texts of every element matching `css` (no waiting).
    pub async fn texts(&self, css: &str) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for el in self.client.find_all(Locator::Css(css)).await? {
            out.push(el.text().await?);
        }
        Ok(out)
    }

    /// Click the element matching `css` once it appears.
    pub async fn click(&self, css: &str) -> Result<()> {
        let el = self.wait_for(css).await?;
        // WebKitWebDriver does not always scroll nested scroll areas: bring it into view first.
        let scroll = "arguments[0].scrollIntoView({ block: 'center', inline: 'nearest' });";
        self.client
            .execute(scroll, vec![serde_json::to_value(&el)?])
            .await
            .with_context(|| format!("scrolling to `{css}`"))?;
        match el.click().await {
            Ok(()) => Ok(()),
            Err(e) => {
                let shot = std::env::temp_dir()
                    .join(format!("hearth-e2e-click-{}.png", std::process::id()));
                let saved = self.screenshot(&shot).await.is_ok();
                bail!(
                    "clicking `{css}` failed: {e:?}{}",
                    if saved {
                        format!(" (screenshot: {})", shot.display())
                    } else {
                        String::new()
                    }
                )
            }
        }
    }

    /// Click `css` and wait for `then` to appear; if it has not within 5 s, click once more
    /// (said on stderr, so a run shows it) before waiting the usual time. For a step whose
    /// click a busy machine has been seen to lose (the export wizard's first "Next" right after
    /// the wizard opened from another screen, once, under a full `make test`).
    pub async fn click_expecting(&self, css: &str, then: &str) -> Result<Element> {
        self.click(css).await?;
        if let Ok(el) = self.wait_for_within(then, Duration::from_secs(5)).await {
            return Ok(el);
        }
        eprintln!("`{then}` did not follow a click on `{css}` within 5 s: clicking again");
        self.click(css).await?;
        self.wait_for(then).await
    }

    /// Replace the text of the input matching `css` by typing `text` (keys such as
    /// [`fantoccini::key::Key::Enter`] may be appended).
    pub async fn fill(&self, css: &str, text: &str) -> Result<()> {
        match self.fill_once(css, text).await {
            Ok(()) => Ok(()),
            Err(first) => {
                // WebKitWebDriver now and then fails a keystroke with an empty error (seen once
                // in a cold CI run, on a form that had just rendered): find the field again and
                // type once more, saying so on stderr.
                eprintln!("filling `{css}` failed ({first:#}): once more");
                self.fill_once(css, text).await
            }
        }
    }

    async fn fill_once(&self, css: &str, text: &str) -> Result<()> {
        let el = self.wait_for(css).await?;
        el.clear()
            .await
            .with_context(|| format!("clearing `{css}`"))?;
        // WebDriver's clear fires `change`, not `input`, which is what the UI listens to.
        let fire = "arguments[0].dispatchEvent(new Event('input', { bubbles: true }));";
        self.client
            .execute(fire, vec![serde_json::to_value(&el)?])
            .await
            .with_context(|| format!("signalling the clearing of `{css}`"))?;
        if text.is_empty() {
            return Ok(());
        }
        el.send_keys(text)
            .await
            .with_context(|| format!("typing into `{css}`"))
    }

    /// Set an input's value from script and fire `input` (for `<input type=date>`, whose
    /// typing rules depend on the locale).
    pub async fn set_value(&self, css: &str, value: &str) -> Result<()> {
        self.wait_for(css).await?;
        let script = "const el = document.querySelector(arguments[0]); el.value = arguments[1];
                      el.dispatchEvent(new Event('input', { bubbles: true }));";
        self.client
            .execute(script, vec![json!(css), json!(value)])
            .await
            .with_context(|| format!("setting `{css}`"))?;
        Ok(())
    }

    /// Choose `value` in the `<select>` matching `css` and fire `change` (what the UI listens
    /// to).
    pub async fn select_option(&self, css: &str, value: &str) -> Result<()> {
        self.wait_for(css).await?;
        let script = "const el = document.querySelector(arguments[0]); el.value = arguments[1];
                      el.dispatchEvent(new Event('change', { bubbles: true }));";
        self.client
            .execute(script, vec![json!(css), json!(value)])
            .await
            .with_context(|| format!("choosing {value:?} in `{css}`"))?;
        Ok(())
    }

    /// How many elements match `css` now (no waiting).
    pub async fn count(&self, css: &str) -> Result<usize> {
        Ok(self.client.find_all(Locator::Css(css)).await?.len())
    }

    /// Wait until exactly `n` elements match `css`.
    pub async fn wait_count(&self, css: &str, n: usize) -> Result<()> {
        let what = format!("exactly {n} elements matching `{css}`");
        self.wait_until(&what, WAIT, || async move {
            (self.count(css).await.ok()? == n).then_some(())
        })
        .await
    }

    /// Save a PNG of the window.
    pub async fn screenshot(&self, path: &Path) -> Result<()> {
        let png = self
            .client
            .screenshot()
            .await
            .context("taking a screenshot")?;
        std::fs::write(path, png).with_context(|| format!("writing {}", path.display()))
    }

    // Scenario steps.

    /// On the create screen: type the passphrase twice, press Enter, wait for the main screen.
    pub async fn create_vault(&self, passphrase: &str) -> Result<()> {
        self.wait_for_text("#create-form h1", "Create your vault")
            .await?;
        self.fill("#passphrase", passphrase).await?;
        self.fill("#passphrase-confirm", &format!("{passphrase}{}", enter()))
            .await?;
        self.wait_for("#lock-button").await.map(drop)
    }

    /// On the unlock screen: type the passphrase and press Enter (no waiting for the result).
    pub async fn submit_passphrase(&self, passphrase: &str) -> Result<()> {
        self.wait_for_text("#unlock-form h1", "Unlock your vault")
            .await?;
        self.fill("#passphrase", &format!("{passphrase}{}", enter()))
            .await
    }

    /// Unlock and wait for the main screen.
    pub async fn unlock(&self, passphrase: &str) -> Result<()> {
        self.submit_passphrase(passphrase).await?;
        self.wait_for("#lock-button").await.map(drop)
    }

    /// Fill the open patient form and save; waits for the saved patient's details.
    pub async fn save_form(&self, p: &PatientInput<'_>) -> Result<()> {
        self.fill("#field-name", p.name).await?;
        self.set_value("#field-dob", p.dob).await?;
        for (css, value) in [
            ("#field-pronouns", p.pronouns),
            ("#field-phone", p.phone),
            ("#field-email", p.email),
            ("#field-notes", p.notes),
        ] {
            self.fill(css, value).await?;
        }
        self.click("#save-patient").await?;
        self.wait_for_text("#patient-detail #detail-name", p.name)
            .await
            .map(drop)
    }

    /// Add a patient through the form.
    pub async fn add_patient(&self, p: &PatientInput<'_>) -> Result<()> {
        self.click("#add-patient").await?;
        self.wait_for("#patient-form").await?;
        self.save_form(p).await
    }

    /// Names in the patient list, in order (no waiting).
    pub async fn patient_names(&self) -> Result<Vec<String>> {
        self.texts(".patient-row .row-name").await
    }

    /// Wait until the patient list shows exactly `names`, in this order.
    pub async fn wait_for_patients(&self, names: &[&str]) -> Result<()> {
        let what = format!("the patient list to be {names:?}");
        self.wait_until(&what, WAIT, || async move {
            let got = self.patient_names().await.ok()?;
            (got == names).then_some(())
        })
        .await
    }

    /// On the open chart's Consent tab: record the pre-filled template (clinicians may read,
    /// write and export for treatment) as a paper consent, and wait until it is listed.
    pub async fn record_template_consent(&self) -> Result<()> {
        self.click("#record-consent").await?;
        let template = self.wait_for("#consent-fhir").await?;
        self.wait_until("the consent template", Duration::from_secs(30), || {
            let template = template.clone();
            async move {
                let v = template.prop("value").await.ok()??;
                v.contains("Consent").then_some(())
            }
        })
        .await?;
        self.click("#save-consent").await?;
        self.wait_for(".consent-row[data-status='active']")
            .await
            .map(drop)
    }

    /// Click the patient named `name` and wait for its record's Overview.
    pub async fn select_patient(&self, name: &str) -> Result<()> {
        self.wait_for_text(".patient-row", name)
            .await?
            .click()
            .await?;
        self.wait_for_text("#patient-detail #detail-name", name)
            .await?;
        self.wait_for("#patient-detail #overview").await.map(drop)
    }

    /// Open a tab of the patient's record (`measures`, `notes`, `history`, …).
    pub async fn open_tab(&self, tab: &str) -> Result<()> {
        self.click(&format!("#tab-{tab}")).await?;
        self.wait_for(&format!("#tab-{tab}[aria-selected='true']"))
            .await
            .map(drop)
    }
}

impl App {
    /// Tick the checkbox matching `css` (left alone when already ticked).
    pub async fn tick(&self, css: &str) -> Result<()> {
        let el = self.wait_for(css).await?;
        if !el.is_selected().await? {
            self.click(css).await?;
        }
        let what = format!("`{css}` to be ticked");
        self.wait_until(&what, WAIT, || async move {
            let el = self.client.find(Locator::Css(css)).await.ok()?;
            el.is_selected().await.ok()?.then_some(())
        })
        .await
    }

    /// Wait until the value of the input or textarea matching `css` contains `needle`.
    pub async fn wait_for_value(&self, css: &str, needle: &str) -> Result<()> {
        let what = format!("the value of `{css}` to contain {needle:?}");
        self.wait_until(&what, WAIT, || async move {
            let el = self.client.find(Locator::Css(css)).await.ok()?;
            let v = el.prop("value").await.ok()??;
            v.contains(needle).then_some(())
        })
        .await
    }

    /// Whether the button or input matching `css` is enabled now.
    pub async fn is_enabled(&self, css: &str) -> Result<bool> {
        Ok(self.wait_for(css).await?.is_enabled().await?)
    }

    /// In the open patient's Notes tab: write a free-form note, save it as a draft and go back
    /// to the list, where it shows.
    pub async fn write_free_note(&self, text: &str) -> Result<()> {
        self.open_tab("notes").await?;
        self.click("#new-note").await?;
        self.click("#template-free").await?;
        self.fill("#section-note", text).await?;
        self.click("#save-note").await?;
        self.wait_for_text("#note-saved", "Draft saved").await?;
        self.click("#back-to-notes").await?;
        self.wait_for_text(".note-row", text).await.map(drop)
    }

    /// On the calendar: book the (only or first) patient at `start` (`YYYY-MM-DDTHH:MM`) for
    /// `minutes` with CPT `code`; waits until the calendar shows the week of the booking.
    pub async fn book_appointment(&self, start: &str, minutes: u32, code: &str) -> Result<()> {
        self.click("#nav-calendar").await?;
        self.wait_for("#week-view").await?;
        self.click("#book-appointment").await?;
        self.wait_for("#book-patient option:checked").await?;
        self.set_value("#book-start", start).await?;
        self.fill("#book-duration", &minutes.to_string()).await?;
        self.fill("#book-code", code).await?;
        self.click("#book-save").await?;
        self.wait_gone("#book-save").await
    }

    /// Open emergency access to the open chart (from a refusal or the Consent tab): type the
    /// reason, choose the minutes, confirm, and wait for the chart's banner.
    pub async fn open_emergency_access(&self, reason: &str, minutes: u32) -> Result<()> {
        if self.count("#emergency-form").await? == 0 {
            self.click("#emergency-open").await?;
        }
        self.fill("#emergency-reason", reason).await?;
        self.select_option("#emergency-minutes", &minutes.to_string())
            .await?;
        self.click("#emergency-submit").await?;
        self.wait_for_text("#emergency-banner", reason)
            .await
            .map(drop)
    }
}

/// The Enter key, for appending to typed text.
pub fn enter() -> char {
    char::from(fantoccini::key::Key::Enter)
}
