//! Helpers for the multi-process sync tests: a device is a vault in a temporary folder driven
//! by real `hearth` processes; a few helpers open the vault in-process (hearth-core) to seed
//! many records quickly or to read every note for comparisons, always while no process of
//! that device is writing.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use hearth_api::{NewPatient, Note, NoteTemplate, PatientRow, Section};
use hearth_core::{Hearth, HearthOptions};

pub const PASSPHRASE: &str = "correct horse battery staple";

pub struct Device {
    pub dir: tempfile::TempDir,
    pub vault: PathBuf,
    pub pass: PathBuf,
}

impl Device {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let vault = dir.path().join("v.hearth");
        let pass = dir.path().join("pass.txt");
        std::fs::write(&pass, format!("{PASSPHRASE}\n")).unwrap();
        let d = Self { dir, vault, pass };
        d.ok(&["init"]);
        d
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_hearth"));
        c.arg("--vault")
            .arg(&self.vault)
            .arg("--passphrase-file")
            .arg(&self.pass)
            .args(args)
            .env_remove("HEARTH_PASSPHRASE")
            .env_remove("HEARTH_VAULT")
            .env("HEARTH_LOG", "info")
            .stdin(Stdio::null());
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert!(
            o.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).unwrap()
    }

    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut a = vec!["--json"];
        a.extend_from_slice(args);
        serde_json::from_str(&self.ok(&a)).unwrap()
    }

    /// Start `hearth node`; returns the child and the peer spec it printed.
    pub fn node(&self) -> (Child, String) {
        self.node_with(&[])
    }

    pub fn node_with(&self, extra: &[&str]) -> (Child, String) {
        let mut args = vec!["node"];
        args.extend_from_slice(extra);
        let mut child = self
            .cmd(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        reader.read_line(&mut line).unwrap();
        // Keep reading (the node prints "node stopped" at the end).
        std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
        let spec = line
            .trim()
            .strip_prefix("node ")
            .unwrap_or_else(|| panic!("unexpected start-up line {line:?}"))
            .to_string();
        (child, spec)
    }

    /// The vault opened in this process (no `hearth` process of this device may be writing).
    pub fn open(&self) -> Hearth {
        Hearth::open_unlocked(
            &self.vault,
            PASSPHRASE,
            HearthOptions::default().idle_lock(None),
        )
        .unwrap()
    }

    /// Bytes on disk for this device (the vault, any journal next to it, its transfer cache).
    pub fn disk_bytes(&self) -> u64 {
        files_under(self.dir.path())
            .iter()
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum()
    }

    /// Whether any file of this device (its transfer cache too) contains `needle` in clear.
    pub fn files_contain(&self, needle: &str) -> bool {
        files_under(self.dir.path()).iter().any(|f| {
            std::fs::read(f)
                .is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle.as_bytes()))
        })
    }
}

/// Every file under `dir`, recursively.
pub fn files_under(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// Every patient (id → name) and every session note (id → its record as JSON) on a device.
#[derive(Debug, PartialEq)]
pub struct Snapshot {
    pub patients: BTreeMap<String, String>,
    pub notes: BTreeMap<String, serde_json::Value>,
}

pub fn snapshot(h: &Hearth) -> Snapshot {
    let mut patients = BTreeMap::new();
    let mut notes = BTreeMap::new();
    for row in h.patients().unwrap() {
        match row {
            PatientRow::Ok { id, name, .. } => {
                for n in h.notes(&id).unwrap() {
                    notes.insert(n.info.id, serde_json::to_value(&n.record).unwrap());
                }
                patients.insert(id, name);
            }
            other => panic!("unreadable patient: {other:?}"),
        }
    }
    Snapshot { patients, notes }
}

/// The device's snapshot, opening its vault in this process.
pub fn snapshot_of(d: &Device) -> Snapshot {
    snapshot(&d.open())
}

/// A patient with the default consent template (clinicians may read and write the chart).
pub fn add_shared_patient(h: &Hearth, name: &str) -> String {
    let pid = h
        .add_patient(NewPatient {
            name: name.into(),
            ..Default::default()
        })
        .unwrap()
        .id;
    h.record_paper_consent(&pid, &h.consent_template(&pid).unwrap())
        .unwrap();
    pid
}

pub fn add_patient(h: &Hearth, name: &str) -> String {
    h.add_patient(NewPatient {
        name: name.into(),
        ..Default::default()
    })
    .unwrap()
    .id
}

/// A SOAP note of about 2 KB.
pub fn add_note(h: &Hearth, pid: &str, i: usize) -> String {
    let mut text = format!("Session {i}. ");
    while text.len() < 2000 {
        text.push_str("Reports sleeping better; practised the breathing exercise twice a day. ");
    }
    h.add_note(
        Note {
            patient_id: pid.into(),
            appointment_id: String::new(),
            template: NoteTemplate::Soap,
            sections: vec![Section {
                key: "subjective".into(),
                text,
            }],
            signature: None,
            addenda: Vec::new(),
        },
        false,
    )
    .unwrap()
    .info
    .id
}

pub fn free_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// SIGTERM, then the node must exit cleanly within 10 s.
pub fn stop(mut child: Child) {
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "node exited with {status}");
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "node did not stop"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// SIGKILL (kill -9) and reap; fine if the process had already exited.
pub fn kill9(mut child: Child) {
    let _ = child.kill();
    child.wait().unwrap();
}

pub fn note_text(d: &Device, id: &str) -> String {
    d.ok(&["show", id])
}

/// Make `d` the registrar of a new clinic listening on a free loopback port; returns where.
pub fn create_clinic(d: &Device) -> String {
    let listen = format!("127.0.0.1:{}", free_port());
    d.ok(&[
        "clinic",
        "create",
        "--name",
        "Elm Street",
        "--listen",
        &listen,
    ]);
    listen
}

/// `d` joins `registrar`'s clinic as a clinician named `name`.
pub fn join_as_clinician(registrar: &Device, d: &Device, name: &str) {
    let ticket = registrar.ok(&["clinic", "invite", "--role", "clinician"]);
    d.ok(&["clinic", "join", ticket.trim(), "--name", name]);
}
