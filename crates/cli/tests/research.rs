//! `hearth research-export` end to end: only consented patients, skipped ones named with the
//! reason, files written once and never overwritten, no identifier in them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

struct Env {
    dir: tempfile::TempDir,
    vault: PathBuf,
    pass: PathBuf,
}

impl Env {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let vault = dir.path().join("clinic.hearth");
        let pass = dir.path().join("pass.txt");
        std::fs::write(&pass, "correct horse battery staple\n").unwrap();
        Self { dir, vault, pass }
    }

    fn hearth(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_hearth"))
            .arg("--vault")
            .arg(&self.vault)
            .arg("--passphrase-file")
            .arg(&self.pass)
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
}

#[test]
fn research_export_takes_only_consented_patients_and_names_the_skipped() {
    let env = Env::new();
    env.ok(&["init"]);
    let add = |name: &str| -> String {
        let out = env.ok(&[
            "--json",
            "patient",
            "add",
            "--name",
            name,
            "--dob",
            "1984-03-07",
            "--phone",
            "555-201-3344",
        ]);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        v["id"].as_str().unwrap().to_string()
    };
    let yes = add("Zelda Quarrington");
    let no = add("Ottoline Brackwater");
    // A research consent: the template with its purpose changed from treatment to research.
    let template = env.ok(&["consent", "template", "--patient", &yes]);
    assert!(template.contains("\"TREAT\""));
    let consent = env.dir.path().join("consent.json");
    std::fs::write(&consent, template.replace("\"TREAT\"", "\"HRESCH\"")).unwrap();
    env.ok(&[
        "consent",
        "add",
        "--patient",
        &yes,
        consent.to_str().unwrap(),
    ]);

    let dir = env.dir.path().join("research");
    let d = dir.to_str().unwrap();
    let out = env.ok(&["research-export", "--out", d]);
    assert!(out.contains("1 patient(s)"), "{out}");
    assert!(
        out.contains(&format!("skipped {no}: no provision permits export")),
        "{out}"
    );
    let data = std::fs::read_to_string(dir.join("research.ndjson")).unwrap();
    let manifest = std::fs::read_to_string(dir.join("manifest.json")).unwrap();
    for text in [&data, &manifest] {
        for gone in [
            "Quarrington",
            "Zelda",
            "Brackwater",
            "1984-03-07",
            "555-201-3344",
            &yes,
            &no,
        ] {
            assert!(!text.contains(gone), "{gone} in {text}");
        }
    }
    assert!(data.contains("\"resourceType\":\"Patient\""));
    assert!(manifest.contains("\"skipped\""));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("research.ndjson"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "owner-only: {mode:o}");
    }
    // Never overwritten.
    let again = env.hearth(&["research-export", "--out", d]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
}
