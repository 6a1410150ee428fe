//! `hearth semantic-search`: without the model it says why and what to do and still lists
//! full-text matches; with the model but without the patient's consent for ai-analysis it says
//! why that patient was not searched by meaning.
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
        let vault = dir.path().join("clinic.hearth");
        let pass = dir.path().join("pass.txt");
        std::fs::write(&pass, "correct horse battery staple\n").unwrap();
        Self { dir, vault, pass }
    }

    fn run(&self, models: Option<&Path>, args: &[&str]) -> Output {
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

    fn ok(&self, models: Option<&Path>, args: &[&str]) -> (String, String) {
        let o = self.run(models, args);
        let err = String::from_utf8_lossy(&o.stderr).to_string();
        assert!(o.status.success(), "{args:?} failed: {err}");
        (String::from_utf8(o.stdout).unwrap(), err)
    }
}

fn setup() -> (Env, String, String) {
    let env = Env::new();
    env.ok(None, &["init"]);
    let (p, _) = env.ok(None, &["--json", "patient", "add", "--name", "Ada"]);
    let p: serde_json::Value = serde_json::from_str(&p).unwrap();
    let pid = p["id"].as_str().unwrap().to_string();
    let (n, _) = env.ok(
        None,
        &[
            "--json",
            "note",
            "add",
            "--patient",
            &pid,
            "--section",
            "note=Reports insomnia and worry about deadlines at work.",
        ],
    );
    let n: serde_json::Value = serde_json::from_str(&n).unwrap();
    let nid = n["info"]["id"].as_str().unwrap().to_string();
    (env, pid, nid)
}

#[test]
fn without_the_model_semantic_search_says_run_make_setup_and_falls_back_to_words() {
    let (env, _, nid) = setup();
    let empty = env.dir.path().join("no-models");
    std::fs::create_dir_all(&empty).unwrap();
    let (out, err) = env.ok(Some(&empty), &["semantic-search", "insomnia"]);
    assert!(err.contains("semantic search is off"), "{err}");
    assert!(err.contains("run `make setup`"), "{err}");
    assert!(out.contains("insomnia"), "full-text match listed: {out}");
    assert!(out.contains(&nid), "{out}");
    let (json, _) = env.ok(Some(&empty), &["--json", "semantic-search", "insomnia"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["semantic"], false);
    assert_eq!(v["hits"].as_array().unwrap().len(), 1);
    // Everything else still works.
    env.ok(Some(&empty), &["search", "deadlines"]);
    env.ok(Some(&empty), &["patient", "list"]);
}

#[test]
fn with_the_model_but_no_consent_the_patient_is_not_analysed_and_the_reason_is_given() {
    let (env, pid, _) = setup();
    let (out, err) = env.ok(None, &["semantic-search", "trouble", "sleeping"]);
    assert!(
        err.contains(&format!("not searched by meaning for patient {pid}")),
        "{err}"
    );
    assert!(err.contains("ai-analysis"), "{err}");
    assert!(!err.contains("embedding notes"), "nothing embedded: {err}");
    assert!(out.contains("no matches"), "{out}");
}
