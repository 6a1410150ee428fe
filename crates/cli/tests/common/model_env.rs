//! Helpers for the CLI tests of the on-device models: a vault in a temporary folder driven by
//! the real `hearth` binary, with the models folder chosen per call (`None`: the default).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub struct Env {
    pub dir: tempfile::TempDir,
    pub vault: PathBuf,
    pub pass: PathBuf,
}

impl Env {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let vault = dir.path().join("clinic.hearth");
        let pass = dir.path().join("pass.txt");
        std::fs::write(&pass, "correct horse battery staple\n").unwrap();
        Self { dir, vault, pass }
    }

    /// Run `hearth` with `HEARTH_MODELS_DIR` set to `models` (or unset).
    pub fn run(&self, models: Option<&Path>, args: &[&str]) -> Output {
        let mut c = Command::new(env!("CARGO_BIN_EXE_hearth"));
        c.arg("--vault")
            .arg(&self.vault)
            .arg("--passphrase-file")
            .arg(&self.pass)
            .args(args)
            .env_remove("HEARTH_PASSPHRASE")
            .env_remove("HEARTH_VAULT")
            .stdin(Stdio::null());
        match models {
            Some(m) => c.env("HEARTH_MODELS_DIR", m),
            None => c.env_remove("HEARTH_MODELS_DIR"),
        };
        c.output().unwrap()
    }

    /// Run and require success: (stdout, stderr).
    pub fn ok_with(&self, models: Option<&Path>, args: &[&str]) -> (String, String) {
        let o = self.run(models, args);
        let err = String::from_utf8_lossy(&o.stderr).to_string();
        assert!(o.status.success(), "{args:?} failed: {err}");
        (String::from_utf8(o.stdout).unwrap(), err)
    }

    /// Run with the default models and require success: stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        self.ok_with(None, args).0
    }
}

/// A new vault with patient Ada and one free-text session note: (env, patient id, note id).
pub fn with_note(text: &str) -> (Env, String, String) {
    let env = Env::new();
    env.ok(&["init"]);
    let p: serde_json::Value =
        serde_json::from_str(&env.ok(&["--json", "patient", "add", "--name", "Ada"])).unwrap();
    let pid = p["id"].as_str().unwrap().to_string();
    let section = format!("note={text}");
    let n: serde_json::Value = serde_json::from_str(&env.ok(&[
        "--json",
        "note",
        "add",
        "--patient",
        &pid,
        "--section",
        &section,
    ]))
    .unwrap();
    let nid = n["info"]["id"].as_str().unwrap().to_string();
    (env, pid, nid)
}
