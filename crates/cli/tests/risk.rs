//! `hearth note risk ID`: refused without consent for ai-analysis (exit 8, the reason given);
//! without the model, says risk flags are off and what to do (exit 1); with both, prints the
//! flags, the evidence, the decision-aid label and the PHQ-9 item-9 status.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use hearth_consent::{
    Action, Actor, Category, Contract, ContractId, PatientId, Provision, Purpose, Role,
};

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

    fn ok(&self, args: &[&str]) -> String {
        let o = self.run(None, args);
        assert!(
            o.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).unwrap()
    }
}

fn setup() -> (Env, String, String) {
    let env = Env::new();
    env.ok(&["init"]);
    let p: serde_json::Value =
        serde_json::from_str(&env.ok(&["--json", "patient", "add", "--name", "Ada"])).unwrap();
    let pid = p["id"].as_str().unwrap().to_string();
    let n: serde_json::Value = serde_json::from_str(&env.ok(&[
        "--json",
        "note",
        "add",
        "--patient",
        &pid,
        "--section",
        "note=Client denies SI at intake. Today she reports thoughts of killing herself.",
    ]))
    .unwrap();
    let nid = n["info"]["id"].as_str().unwrap().to_string();
    (env, pid, nid)
}

#[test]
fn note_risk_needs_consent_and_a_model_and_then_shows_flags_as_a_decision_aid() {
    let (env, pid, nid) = setup();
    // No consent for ai-analysis: refused with the reason.
    let o = env.run(None, &["note", "risk", &nid]);
    assert_eq!(o.status.code(), Some(8), "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("not allowed"), "{err}");

    let c = Contract::new(
        ContractId::new("c-ai").unwrap(),
        PatientId::new(&pid).unwrap(),
        time::macros::date!(2026 - 01 - 01),
    )
    .provision(
        Provision::permit()
            .actor(Actor::Role(Role::Clinician))
            .actions([Action::Read, Action::Write, Action::Analyse])
            .purposes([Purpose::Treatment, Purpose::AiAnalysis])
            .categories([
                Category::Demographics,
                Category::ProgressNotes,
                Category::Assessments,
            ]),
    );
    let file = env.dir.path().join("consent.json");
    std::fs::write(&file, hearth_consent::to_fhir_json(&c).unwrap()).unwrap();
    env.ok(&["consent", "add", "--patient", &pid, file.to_str().unwrap()]);

    // No model: off, with what to do; nothing analysed.
    let empty = env.dir.path().join("no-models");
    std::fs::create_dir_all(&empty).unwrap();
    let o = env.run(Some(&empty), &["note", "risk", &nid]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("risk flags are off"), "{err}");
    assert!(err.contains("models/risk"), "{err}");

    // With both: the flag, its sentence, the label, item 9.
    let out = env.ok(&["note", "risk", &nid]);
    assert!(out.contains("decision aid, not a diagnosis"), "{out}");
    assert!(out.contains("PHQ-9 item 9: no PHQ-9 on record"), "{out}");
    assert!(out.contains("suicidal ideation"), "{out}");
    assert!(out.contains("thoughts of killing herself"), "{out}");
    assert!(out.contains("not counted (negated)"), "{out}");
    let j: serde_json::Value =
        serde_json::from_str(&env.ok(&["--json", "note", "risk", &nid])).unwrap();
    assert_eq!(j["notice"], "decision aid, not a diagnosis");
    assert_eq!(j["flags"][0]["label"], "suicidal-ideation");
    assert_eq!(j["phq9_item9"]["status"], "no-phq9");
}
