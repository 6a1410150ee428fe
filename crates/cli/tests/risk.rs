//! `hearth note risk ID`: refused without consent for ai-analysis (exit 8, the reason given);
//! without the model, says risk flags are off and what to do (exit 1); with both, prints the
//! flags, the evidence, the decision-aid label and the PHQ-9 item-9 status.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "common/model_env.rs"]
mod model_env;

use hearth_consent::{
    Action, Actor, Category, Contract, ContractId, PatientId, Provision, Purpose, Role,
};

use model_env::{with_note, Env};

fn setup() -> (Env, String, String) {
    with_note("Client denies SI at intake. Today she reports thoughts of killing herself.")
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
