//! The `hearth` binary end to end: init, patients, passphrase change, and refusals.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

struct Env {
    dir: tempfile::TempDir,
    vault: PathBuf,
    pass: PathBuf,
}

impl Env {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let vault = dir.path().join("vault").join("clinic.hearth");
        let pass = dir.path().join("pass.txt");
        std::fs::write(&pass, "correct horse battery staple\n").unwrap();
        Self { dir, vault, pass }
    }

    fn hearth(&self, args: &[&str]) -> Output {
        self.hearth_with(args, &self.pass)
    }

    fn hearth_with(&self, args: &[&str], pass: &Path) -> Output {
        Command::new(env!("CARGO_BIN_EXE_hearth"))
            .arg("--vault")
            .arg(&self.vault)
            .arg("--passphrase-file")
            .arg(pass)
            .args(args)
            .env_remove("HEARTH_PASSPHRASE")
            .env_remove("HEARTH_VAULT")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let o = self.hearth(args);
        assert!(
            o.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).unwrap()
    }

    fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut a = vec!["--json"];
        a.extend_from_slice(args);
        serde_json::from_str(&self.ok(&a)).unwrap()
    }
}

fn fails(o: &Output, code: i32, needle: &str) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(code), "stderr: {err}");
    assert!(err.contains(needle), "expected {needle:?} in: {err}");
}

const MARKERS: [&str; 4] = [
    "Zelda-Q-Marker-91824",
    "Marker-Pronoun-ze-zir-5531",
    "marker.email.7734@example.org",
    "Notes-Marker-sleep-and-work-stress-4410",
];

#[test]
fn a_day_with_the_cli() {
    let env = Env::new();
    assert!(env.ok(&["init"]).contains("created vault"));
    let a = env.json(&[
        "patient",
        "add",
        "--name",
        MARKERS[0],
        "--dob",
        "1984-03-07",
        "--pronouns",
        MARKERS[1],
        "--email",
        MARKERS[2],
        "--notes",
        MARKERS[3],
    ]);
    let b = env.json(&[
        "patient",
        "add",
        "--name",
        "Bea Second",
        "--phone",
        "+1 555 0100",
    ]);
    let list = env.json(&["patient", "list"]);
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["Bea Second", MARKERS[0]]);
    assert!(list.as_array().unwrap().iter().all(|r| r["status"] == "ok"));

    let id = a["id"].as_str().unwrap();
    let shown = env.json(&["patient", "show", id]);
    assert_eq!(shown["date_of_birth"], "1984-03-07");
    assert_eq!(shown["notes"], MARKERS[3]);
    let human = env.ok(&["patient", "show", id]);
    assert!(human.contains("date of birth  1984-03-07"), "{human}");

    let edited = env.json(&["patient", "edit", id, "--pronouns", "they/them"]);
    assert_eq!(edited["pronouns"], "they/them");
    assert_eq!(
        edited["email"], MARKERS[2],
        "fields not given stay as they were"
    );
    let hist = env.json(&["patient", "history", id]);
    let summaries: Vec<&str> = hist
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["summary"].as_str().unwrap())
        .collect();
    assert_eq!(summaries, vec!["created", "edited pronouns"]);
    // Any record kind shows as JSON through one command.
    let any = env.json(&["show", id]);
    assert_eq!(
        (any["kind"].as_str(), any["value"]["pronouns"].as_str()),
        (Some("patient"), Some("they/them"))
    );
    let appt = env.json(&[
        "appointment",
        "add",
        "--patient",
        id,
        "--start",
        "2026-03-02T10:00",
        "--code",
        "90834",
    ]);
    let aid = appt["info"]["id"].as_str().unwrap();
    assert_eq!(env.json(&["show", aid])["value"]["service_code"], "90834");
    env.ok(&["appointment", "edit", aid, "--duration", "90"]);
    let hist = env.json(&["history", aid]);
    let first = hist[0]["hash"].as_str().unwrap();
    assert!(env.ok(&["restore", aid, first]).contains("restored"));
    assert_eq!(env.json(&["show", aid])["value"]["duration_min"], 50);
    assert_ne!(b["id"], a["id"]);

    // Plaintext canary: nothing the vault wrote holds a marker.
    for marker in MARKERS {
        for entry in std::fs::read_dir(env.vault.parent().unwrap()).unwrap() {
            let data = std::fs::read(entry.unwrap().path()).unwrap();
            assert!(
                !data.windows(marker.len()).any(|w| w == marker.as_bytes()),
                "{marker} found on disk"
            );
        }
    }

    // Passphrase change: the old one stops working, the new one opens the same records.
    let new_pass = env.dir.path().join("new.txt");
    std::fs::write(&new_pass, "a whole new passphrase").unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_hearth"))
        .args(["--vault"])
        .arg(&env.vault)
        .args(["--passphrase-file"])
        .arg(&env.pass)
        .args(["passwd", "--new-passphrase-file"])
        .arg(&new_pass)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    fails(&env.hearth(&["patient", "list"]), 3, "wrong passphrase");
    let o = env.hearth_with(&["--json", "patient", "list"], &new_pass);
    assert!(o.status.success());
    let list: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2);
}

#[test]
fn refusals_are_clear_and_change_nothing() {
    let env = Env::new();
    fails(&env.hearth(&["patient", "list"]), 4, "no vault at");
    env.ok(&["init"]);
    fails(&env.hearth(&["init"]), 1, "already exists");
    let before = std::fs::read(&env.vault).unwrap();

    let wrong = env.dir.path().join("wrong.txt");
    std::fs::write(&wrong, "not the passphrase").unwrap();
    fails(
        &env.hearth_with(&["patient", "list"], &wrong),
        3,
        "wrong passphrase",
    );
    assert_eq!(
        std::fs::read(&env.vault).unwrap(),
        before,
        "a wrong passphrase changed the file"
    );

    fails(
        &env.hearth(&["patient", "add", "--name", "X", "--dob", "07/03/1984"]),
        6,
        "date of birth",
    );
    fails(
        &env.hearth(&["patient", "add", "--dob", "1984-03-07"]),
        6,
        "name: is required",
    );
    fails(
        &env.hearth(&["patient", "show", "0123456789abcdef0123456789abcdef"]),
        7,
        "no record",
    );
    fails(
        &env.hearth(&["patient", "show", "../../etc/passwd"]),
        7,
        "no record",
    );
    fails(
        &env.hearth(&["patient", "edit", "abc"]),
        1,
        "nothing to change",
    );
    // Compared whole, reported short (the file is megabytes).
    assert!(
        std::fs::read(&env.vault).unwrap() == before,
        "refused input changed the file"
    );

    // Not a vault.
    let text = env.dir.path().join("notes.txt");
    std::fs::write(&text, "just some text, not a vault").unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_hearth"))
        .arg("--vault")
        .arg(&text)
        .arg("--passphrase-file")
        .arg(&env.pass)
        .args(["patient", "list"])
        .output()
        .unwrap();
    fails(&o, 4, "is not a Hearth vault");
    assert_eq!(
        std::fs::read_to_string(&text).unwrap(),
        "just some text, not a vault"
    );

    // No terminal and no passphrase source: say how to give one.
    let o = Command::new(env!("CARGO_BIN_EXE_hearth"))
        .arg("--vault")
        .arg(&env.vault)
        .args(["patient", "list"])
        .env_remove("HEARTH_PASSPHRASE")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    fails(&o, 1, "--passphrase-file");

    // The environment variable works for scripts.
    let o = Command::new(env!("CARGO_BIN_EXE_hearth"))
        .arg("--vault")
        .arg(&env.vault)
        .args(["patient", "list"])
        .env("HEARTH_PASSPHRASE", "correct horse battery staple")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("no patients yet"));

    // A short passphrase is refused before anything is created.
    let short = env.dir.path().join("short.txt");
    std::fs::write(&short, "short").unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_hearth"))
        .arg("--vault")
        .arg(env.dir.path().join("other.hearth"))
        .arg("--passphrase-file")
        .arg(&short)
        .arg("init")
        .output()
        .unwrap();
    fails(&o, 6, "too short");
    assert!(!env.dir.path().join("other.hearth").exists());
}

#[test]
fn export_needs_consent_and_verifies_offline() {
    let env = Env::new();
    env.ok(&["init"]);
    let p = env.json(&["patient", "add", "--name", "Ada"]);
    let pid = p["id"].as_str().unwrap();
    let archive = env.dir.path().join("ada.hearth");
    let a = archive.to_str().unwrap();
    fails(
        &env.hearth(&["export", "--patient", pid, "--out", a]),
        8,
        "no provision permits export",
    );
    assert!(!archive.exists());

    let template = env.ok(&["consent", "template", "--patient", pid]);
    let consent = env.dir.path().join("consent.json");
    std::fs::write(&consent, template).unwrap();
    assert!(env
        .ok(&[
            "consent",
            "add",
            "--patient",
            pid,
            consent.to_str().unwrap()
        ])
        .contains("recorded consent"));
    env.ok(&["export", "--patient", pid, "--out", a]);

    // Verification needs no vault and no passphrase.
    let o = Command::new(env!("CARGO_BIN_EXE_hearth"))
        .args(["verify", a])
        .env_remove("HEARTH_PASSPHRASE")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    assert!(String::from_utf8_lossy(&o.stdout).contains("The archive is intact"));
    let mut bytes = std::fs::read(&archive).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x20;
    std::fs::write(&archive, bytes).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_hearth"))
        .args(["verify", a])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(5));
    assert!(String::from_utf8_lossy(&o.stdout).contains("does NOT verify"));
}

#[test]
fn the_patients_device_signs_consents_and_break_glass_is_shown_to_the_patient() {
    let env = Env::new();
    env.ok(&["init"]);
    let p = env.json(&["patient", "add", "--name", "Ada Lovelace"]);
    let pid = p["id"].as_str().unwrap();

    // On the patient's device: a key (never overwritten), then a signed consent.
    let key = env.dir.path().join("ada.key");
    let shown = env.ok(&["consent", "keygen", key.to_str().unwrap()]);
    fails(
        &env.hearth(&["consent", "keygen", key.to_str().unwrap()]),
        1,
        "never overwritten",
    );
    let public = shown
        .lines()
        .find_map(|l| l.strip_prefix("public key:"))
        .unwrap()
        .trim()
        .to_string();
    let template = env.dir.path().join("template.json");
    std::fs::write(
        &template,
        env.ok(&["consent", "template", "--patient", pid]),
    )
    .unwrap();
    let signed = env.dir.path().join("signed.json");
    let s = env.ok(&[
        "consent",
        "sign",
        "--key",
        key.to_str().unwrap(),
        template.to_str().unwrap(),
    ]);
    std::fs::write(&signed, &s).unwrap();

    // The clinic: unregistered device refused; registered, accepted; replay ignored.
    fails(
        &env.hearth(&[
            "consent",
            "add-signed",
            "--patient",
            pid,
            signed.to_str().unwrap(),
        ]),
        6,
        "register",
    );
    let reg = env.ok(&["consent", "device", "--patient", pid, &public]);
    let fp = shown
        .lines()
        .find_map(|l| l.strip_prefix("fingerprint:"))
        .unwrap()
        .trim();
    assert!(reg.contains(fp), "{reg} vs {fp}");
    assert!(env
        .ok(&[
            "consent",
            "add-signed",
            "--patient",
            pid,
            signed.to_str().unwrap()
        ])
        .contains("accepted"));
    assert!(env
        .ok(&[
            "consent",
            "add-signed",
            "--patient",
            pid,
            signed.to_str().unwrap()
        ])
        .contains("already known"));
    // One byte of the signed consent changed: refused, nothing stored.
    let tampered = env.dir.path().join("tampered.json");
    std::fs::write(&tampered, s.replacen("TREAT", "HRESCH", 1)).unwrap();
    fails(
        &env.hearth(&[
            "consent",
            "add-signed",
            "--patient",
            pid,
            tampered.to_str().unwrap(),
        ]),
        6,
        "signature",
    );
    let list = env.json(&["consent", "list", "--patient", pid]);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["attested"], false);

    // Break-glass: a reason is required; then it is listed for the patient.
    fails(
        &env.hearth(&["consent", "break-glass", "--patient", pid, "--reason", "x"]),
        6,
        "reason",
    );
    assert!(env
        .ok(&[
            "consent",
            "break-glass",
            "--patient",
            pid,
            "--reason",
            "crisis call, covering for Dr Roe",
            "--minutes",
            "30"
        ])
        .contains("EMERGENCY ACCESS"));
    let who = env.ok(&["consent", "who", "--patient", pid]);
    assert!(who.contains("crisis call, covering for Dr Roe"), "{who}");
    assert!(who.contains("(ACTIVE)"), "{who}");
    assert!(who.contains(fp), "{who}");
    assert!(who.contains("this device: "), "{who}");
}

#[test]
fn an_archive_sealed_to_a_recipient_opens_only_with_their_key() {
    let env = Env::new();
    env.ok(&["init"]);
    let p = env.json(&["patient", "add", "--name", "Ada Lovelace"]);
    let pid = p["id"].as_str().unwrap();
    let consent = env.dir.path().join("consent.json");
    std::fs::write(&consent, env.ok(&["consent", "template", "--patient", pid])).unwrap();
    env.ok(&[
        "consent",
        "add",
        "--patient",
        pid,
        consent.to_str().unwrap(),
    ]);

    let key = env.dir.path().join("clinic-b.key");
    let shown = env.ok(&["recipient-key", key.to_str().unwrap()]);
    let recipient = shown
        .lines()
        .find_map(|l| l.strip_prefix("recipient:"))
        .unwrap()
        .trim()
        .to_string();
    assert!(recipient.starts_with("age1"));
    let other = env.dir.path().join("other.key");
    env.ok(&["recipient-key", other.to_str().unwrap()]);

    let archive = env.dir.path().join("ada.hearth.age");
    let a = archive.to_str().unwrap();
    // A bad recipient is refused before anything is exported; --fhir would leak plaintext.
    fails(
        &env.hearth(&["export", "--patient", pid, "--out", a, "--recipient", "bob"]),
        6,
        "not an age recipient",
    );
    let fhir = env.dir.path().join("ada.json");
    fails(
        &env.hearth(&[
            "export",
            "--patient",
            pid,
            "--out",
            a,
            "--recipient",
            &recipient,
            "--fhir",
            fhir.to_str().unwrap(),
        ]),
        1,
        "unencrypted",
    );
    assert!(!archive.exists() && !fhir.exists());
    env.ok(&[
        "export",
        "--patient",
        pid,
        "--out",
        a,
        "--recipient",
        &recipient,
    ]);
    let sealed = std::fs::read(&archive).unwrap();
    assert!(sealed.starts_with(b"age-encryption.org/v1\n"));
    assert!(
        !sealed.windows(12).any(|w| w == b"Ada Lovelace"),
        "the name is not readable in the sealed file"
    );

    let verify = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_hearth"))
            .arg("verify")
            .args(extra)
            .arg(a)
            .output()
            .unwrap()
    };
    let o = verify(&[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--identity"));
    let o = verify(&["--identity", other.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot be opened"));
    let o = verify(&["--identity", key.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("The archive is intact"));
}
