//! `hearth semantic-search`: without the model it says why and what to do and still lists
//! full-text matches; with the model but without the patient's consent for ai-analysis it says
//! why that patient was not searched by meaning.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "common/model_env.rs"]
mod model_env;

use model_env::{with_note, Env};

fn setup() -> (Env, String, String) {
    with_note("Reports insomnia and worry about deadlines at work.")
}

#[test]
fn without_the_model_semantic_search_says_run_make_setup_and_falls_back_to_words() {
    let (env, _, nid) = setup();
    let empty = env.dir.path().join("no-models");
    std::fs::create_dir_all(&empty).unwrap();
    let (out, err) = env.ok_with(Some(&empty), &["semantic-search", "insomnia"]);
    assert!(err.contains("semantic search is off"), "{err}");
    assert!(err.contains("run `make setup`"), "{err}");
    assert!(out.contains("insomnia"), "full-text match listed: {out}");
    assert!(out.contains(&nid), "{out}");
    let (json, _) = env.ok_with(Some(&empty), &["--json", "semantic-search", "insomnia"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["semantic"], false);
    assert_eq!(v["hits"].as_array().unwrap().len(), 1);
    // Everything else still works.
    env.ok_with(Some(&empty), &["search", "deadlines"]);
    env.ok_with(Some(&empty), &["patient", "list"]);
}

#[test]
fn with_the_model_but_no_consent_the_patient_is_not_analysed_and_the_reason_is_given() {
    let (env, pid, _) = setup();
    let (out, err) = env.ok_with(None, &["semantic-search", "trouble", "sleeping"]);
    assert!(
        err.contains(&format!("not searched by meaning for patient {pid}")),
        "{err}"
    );
    assert!(err.contains("ai-analysis"), "{err}");
    assert!(!err.contains("embedding notes"), "nothing embedded: {err}");
    assert!(out.contains("no matches"), "{out}");
}
