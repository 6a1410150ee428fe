//! The on-device analysis service ([`Insight`]) as a front end uses it: indexing runs in the
//! background and reports progress to completion, a request during a run makes it run again,
//! locking hides the patients left out while the models stay, the risk heads share semantic
//! search's encoder, and a missing model gives the "run make setup" status while everything
//! else answers. Needs the encoder (`make setup`).
#![cfg(feature = "semantic")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use hearth_api::{ModelState, NewPatient, Note, NoteTemplate, Section};
use hearth_consent::{
    Action, Actor, Category, Contract, ContractId, PatientId, Provision, Purpose, Role,
};
use hearth_core::{Hearth, HearthOptions, Insight, RISK_NOTICE};
use time::macros::date;

const PASS: &str = "correct horse battery staple";
const INSOMNIA: &str = "Reports insomnia-marker-5521, waking at 3am worrying about deadlines and her manager since the merger.";
const RISKY: &str = "Client denies SI at intake. Today she reports thoughts of killing herself.";
/// Long enough for any model load and indexing run on a busy two-core machine.
const PATIENCE: Duration = Duration::from_secs(300);

fn vault(dir: &tempfile::TempDir) -> Hearth {
    Hearth::create(
        &dir.path().join("clinic.hearth"),
        PASS,
        HearthOptions::default().insecure_fast_kdf_for_tests(),
    )
    .unwrap()
}

fn patient(h: &Hearth, name: &str) -> String {
    h.add_patient(NewPatient {
        name: name.into(),
        ..Default::default()
    })
    .unwrap()
    .id
}

fn note(h: &Hearth, patient: &str, text: &str) -> String {
    h.add_note(
        Note {
            patient_id: patient.into(),
            template: NoteTemplate::Free,
            sections: vec![Section {
                key: "note".into(),
                text: text.into(),
            }],
            ..Default::default()
        },
        false,
    )
    .unwrap()
    .info
    .id
}

/// Treatment access plus on-device analysis of progress notes.
fn allow_analysis(h: &Hearth, patient: &str) {
    let c = Contract::new(
        ContractId::new("c-ai").unwrap(),
        PatientId::new(patient).unwrap(),
        date!(2026 - 01 - 01),
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
    h.record_paper_consent(patient, &hearth_consent::to_fhir_json(&c).unwrap())
        .unwrap();
}

#[test]
fn indexing_runs_in_the_background_and_reports_progress_to_completion() {
    let dir = tempfile::tempdir().unwrap();
    let h = vault(&dir);
    let ada = patient(&h, "Ada Lovelace");
    allow_analysis(&h, &ada);
    note(&h, &ada, INSOMNIA);
    // More notes than one write batch (16), so progress is reported in steps.
    for i in 0..19 {
        note(
            &h,
            &ada,
            &format!("Session {i}: discussed her week and the garden."),
        );
    }
    let insight = Insight::new();
    assert_eq!(insight.status().model, ModelState::Unloaded);

    // The request returns at once: the model has not loaded yet, the run is on.
    let now = insight.request_index(&h);
    assert!(now.indexing);
    assert_ne!(
        now.model,
        ModelState::Ready,
        "loaded on the caller's thread"
    );

    // Meanwhile the vault answers, and progress only grows.
    assert_eq!(h.notes(&ada).unwrap().len(), 20);
    let mut seen = Vec::new();
    let started = Instant::now();
    loop {
        let s = insight.status();
        seen.push((s.done, s.total));
        if !s.indexing {
            break;
        }
        assert!(started.elapsed() < PATIENCE, "indexing never finished");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(insight.wait_idle(Duration::ZERO));
    assert!(
        seen.windows(2).all(|w| w[0].0 <= w[1].0),
        "progress went back: {seen:?}"
    );
    let end = insight.status();
    assert_eq!(end.model, ModelState::Ready);
    assert_eq!((end.done, end.total, end.notes), (20, 20, 20), "{seen:?}");
    assert_eq!(end.error, None);
    assert!(end.skipped.is_empty());

    let found = insight
        .semantic_search(&h, "trouble sleeping because of work stress", 5)
        .unwrap();
    assert_eq!(found.off, None);
    assert_eq!(found.stale, 0);
    assert!(found.hits[0].passage.contains("insomnia-marker-5521"));
    assert!(found.hits[0].similarity.is_some());
}

#[test]
fn a_note_written_during_a_run_is_indexed_by_a_second_run() {
    let dir = tempfile::tempdir().unwrap();
    let h = vault(&dir);
    let ada = patient(&h, "Ada");
    allow_analysis(&h, &ada);
    for i in 0..40 {
        note(
            &h,
            &ada,
            &format!("Session {i}: talked about her family and her work."),
        );
    }
    let insight = Insight::new();
    insight.encoder().unwrap();
    assert!(insight.request_index(&h).indexing);
    // Once the run has listed the notes, a note written now is not in it.
    let started = Instant::now();
    while insight.status().total == 0 {
        assert!(started.elapsed() < PATIENCE, "the run never started");
        std::thread::sleep(Duration::from_millis(2));
    }
    note(&h, &ada, INSOMNIA);
    let during = insight.request_index(&h);
    assert!(during.indexing);
    assert!(insight.wait_idle(PATIENCE));
    let s = insight.status();
    if during.total == 40 {
        // The request came during the run: it ran once more, for the new note alone.
        assert_eq!((s.notes, s.done, s.total), (41, 1, 1), "{s:?}");
    }
    let found = insight.semantic_search(&h, "insomnia", 3).unwrap();
    assert_eq!(
        found.stale, 0,
        "the note written during the run was left out"
    );
}

#[test]
fn locking_hides_the_patients_left_out_and_keeps_the_models() {
    let dir = tempfile::tempdir().unwrap();
    let h = vault(&dir);
    let bo = patient(&h, "Bo Second");
    note(&h, &bo, INSOMNIA);
    let insight = Insight::new();
    insight.request_index(&h);
    assert!(insight.wait_idle(PATIENCE));
    let s = insight.status();
    assert_eq!(s.skipped.len(), 1, "{s:?}");
    assert_eq!(s.skipped[0].patient_name, "Bo Second");
    assert!(s.skipped[0].reason.contains("ai-analysis"), "{s:?}");
    // Searching lists Bo as left out too, with the reason.
    let r = insight.semantic_search(&h, "sleep", 5).unwrap();
    assert_eq!(r.skipped.len(), 1);
    assert_eq!(r.skipped[0].patient_name, "Bo Second");

    // Locked (by request or the idle timer): no names in the status; the model stays.
    h.lock();
    let s = insight.status();
    assert!(s.skipped.is_empty(), "{s:?}");
    assert_eq!(s.model, ModelState::Ready);
    insight.forget();
    // A request while locked indexes nothing and fails nothing.
    insight.request_index(&h);
    assert!(insight.wait_idle(PATIENCE));
    assert_eq!(insight.status().error, None);

    h.unlock(PASS).unwrap();
    assert!(insight.status().skipped.is_empty(), "forgotten on lock");
    insight.request_index(&h);
    assert!(insight.wait_idle(PATIENCE));
    assert_eq!(insight.status().skipped.len(), 1);
}

#[test]
fn risk_flags_run_on_the_semantic_encoder() {
    let dir = tempfile::tempdir().unwrap();
    let h = vault(&dir);
    let ada = patient(&h, "Ada");
    let n = note(&h, &ada, RISKY);
    let insight = Insight::new();

    // No consent: an answer saying why, and no model is loaded for it.
    let v = insight.note_risk(&h, &ada, &n).unwrap();
    assert!(
        v.refused.as_deref().unwrap().contains("ai-analysis"),
        "{v:?}"
    );
    assert_eq!(v.notice, RISK_NOTICE);
    assert_eq!(insight.status().model, ModelState::Unloaded);

    allow_analysis(&h, &ada);
    let v = insight.note_risk(&h, &ada, &n).unwrap();
    assert_eq!((v.refused.as_ref(), v.model_missing.as_ref()), (None, None));
    assert!(
        v.flags
            .iter()
            .any(|f| f.label == "suicidal ideation / self-harm"),
        "{v:?}"
    );
    assert!(v
        .suppressed
        .iter()
        .any(|s| s.sentence.contains("denies SI")));
    assert_eq!(v.phq9_item9, "PHQ-9 item 9: no PHQ-9 on record");
    // One copy of the encoder's weights serves both uses.
    let risk = insight.risk_model().unwrap();
    assert!(Arc::ptr_eq(risk.encoder(), &insight.encoder().unwrap()));
    assert_eq!(insight.status().model, ModelState::Ready);
}

#[test]
fn a_missing_model_says_run_make_setup_and_nothing_else_breaks() {
    let empty = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let h = vault(&dir);
    let ada = patient(&h, "Ada");
    allow_analysis(&h, &ada);
    let n = note(&h, &ada, INSOMNIA);
    let insight = Insight::builder().models_dir(empty.path()).build();

    insight.request_index(&h);
    assert!(insight.wait_idle(PATIENCE));
    let s = insight.status();
    assert_eq!(s.model, ModelState::Missing);
    let msg = s.model_message.unwrap();
    assert!(msg.starts_with("Semantic search is off"), "{msg}");
    assert!(msg.contains("run make setup"), "{msg}");
    assert!(!s.indexing);
    assert_eq!(s.error, None, "a missing model is not an indexing failure");

    // Search by meaning falls back to the full-text note matches, saying why.
    let r = insight
        .semantic_search(&h, "insomnia-marker-5521", 5)
        .unwrap();
    assert!(r.off.as_deref().unwrap().contains("make setup"));
    assert_eq!(r.hits.len(), 1);
    assert_eq!(r.hits[0].record_id, n);
    assert!(r.hits[0].text_match && r.hits[0].similarity.is_none());

    // The risk panel says it is off and what to do.
    let v = insight.note_risk(&h, &ada, &n).unwrap();
    let why = v.model_missing.unwrap();
    assert!(why.starts_with("Risk flags are off"), "{why}");
    assert!(why.contains("make setup"), "{why}");
    assert!(v.flags.is_empty());

    // The rest of Hearth is untouched.
    note(&h, &ada, "Another session.");
    assert_eq!(h.notes(&ada).unwrap().len(), 2);
    assert_eq!(h.search("insomnia", 5).unwrap().len(), 1);
}
