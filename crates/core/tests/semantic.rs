//! Semantic search over session notes with the real on-device model (installed by
//! `make setup`): consent for `ai-analysis` gates embedding and search, embeddings are sealed
//! in the vault, only changed notes are re-embedded, revoking consent withdraws them, and a
//! missing model is a clear error that leaves everything else working.
#![cfg(feature = "semantic")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use hearth_api::{NewPatient, Note, NoteTemplate, Section};
use hearth_consent::{
    Action, Actor, Category, Contract, ContractId, PatientId, Provision, Purpose, Role,
};
use hearth_core::{default_models_dir, Embedder, Hearth, HearthOptions};
use time::macros::date;

const INSOMNIA: &str = "Reports insomnia-marker-5521, waking at 3am worrying about deadlines and her manager since the merger.";
const GRIEF: &str = "Discussed grief after her father's death last spring; tearful at times.";
const BO: &str = "Sleep poor because of stress at work; pressure from a new boss.";
const QUERY: &str = "sessions where she talked about sleep and work stress";

fn vault(dir: &tempfile::TempDir) -> Hearth {
    Hearth::create(
        &dir.path().join("clinic.hearth"),
        "correct horse battery staple",
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
            .categories([Category::Demographics, Category::ProgressNotes]),
    );
    h.record_paper_consent(patient, &hearth_consent::to_fhir_json(&c).unwrap())
        .unwrap();
}

fn model() -> Embedder {
    Embedder::load(&default_models_dir()).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn notes_are_found_by_meaning_only_with_consent_and_stored_sealed() {
    let dir = tempfile::tempdir().unwrap();
    let h = vault(&dir);
    let ada = patient(&h, "Ada Lovelace");
    let bo = patient(&h, "Bo Second");
    allow_analysis(&h, &ada);
    let insomnia = note(&h, &ada, INSOMNIA);
    let grief = note(&h, &ada, GRIEF);
    let bo_note = note(&h, &bo, BO);
    let m = model();

    let mut calls = Vec::new();
    let r = h.index_notes(&m, &mut |d, t| calls.push((d, t))).unwrap();
    assert_eq!((r.notes, r.embedded, r.unchanged), (3, 2, 0));
    assert_eq!(calls.last(), Some(&(2, 2)));
    assert_eq!(r.refused.len(), 1, "Bo has no consent for analysis");
    assert_eq!(r.refused[0].0, bo);
    assert!(r.refused[0].1.contains("ai-analysis"), "{}", r.refused[0].1);

    // The patient's timeline shows what the model read, and why.
    let analysed: Vec<_> = h
        .patient_timeline(&ada)
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "analysed")
        .collect();
    assert_eq!(analysed.len(), 2, "{analysed:?}");
    assert!(analysed.iter().all(|e| e.purpose == "ai-analysis"));
    assert!(h
        .patient_timeline(&bo)
        .unwrap()
        .iter()
        .all(|e| e.action != "analysed"));

    h.checkpoint().unwrap();
    let audit = h.audit().unwrap();
    assert!(audit.problems.is_empty(), "{:?}", audit.problems);

    let found = h.semantic_search(&m, QUERY, 5).unwrap();
    let first = &found.hits[0];
    assert_eq!(first.record_id, insomnia, "{:?}", found.hits);
    assert_eq!(first.patient_name, "Ada Lovelace");
    assert!(first.passage.contains("insomnia-marker-5521"));
    assert!(first.similarity.unwrap() > 0.3);
    // Bo's note is not analysed, but its words (sleep, stress, work) match the query's: it is
    // listed by the full-text index alone, below the match by meaning.
    let b = found.hits.iter().find(|x| x.record_id == bo_note).unwrap();
    assert_eq!((b.similarity, b.text_match), (None, true));
    assert!(b.score < first.score);
    if let Some(g) = found.hits.iter().find(|x| x.record_id == grief) {
        assert!(g.score < first.score);
    }

    // Full-text matches are fused in (the words match, so the note gains).
    let both = h.semantic_search(&m, "insomnia-marker-5521", 5).unwrap();
    assert_eq!(both.hits[0].record_id, insomnia);
    assert!(both.hits[0].text_match);

    // Nothing changed: nothing re-embedded. An edit re-embeds that note only.
    let r = h.index_notes(&m, &mut |_, _| {}).unwrap();
    assert_eq!((r.embedded, r.unchanged), (0, 2));
    let mut edited = h.note(&grief).unwrap().0.record;
    edited.sections[0].text = "Talked about her new job and long commute.".into();
    h.edit_note(&grief, edited).unwrap();
    let r = h.index_notes(&m, &mut |_, _| {}).unwrap();
    assert_eq!((r.embedded, r.unchanged), (1, 1));

    // Sealed: the passages are in the vault, never in plaintext on disk.
    h.lock();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        assert!(
            !bytes.windows(21).any(|w| w == b"insomnia-marker-5521"),
            "plaintext passage on disk"
        );
    }
    assert!(h.semantic_search(&m, QUERY, 5).is_err(), "locked");
    h.unlock("correct horse battery staple").unwrap();

    // Revoking consent withdraws Ada's embeddings and turns semantic matches off.
    h.revoke_consent(&ada, "c-ai").unwrap();
    let r = h.index_notes(&m, &mut |_, _| {}).unwrap();
    assert_eq!((r.embedded, r.withdrawn), (0, 2));
    assert_eq!(r.refused.len(), 2);
    let after = h.semantic_search(&m, QUERY, 5).unwrap();
    assert!(
        after.hits.iter().all(|x| x.similarity.is_none()),
        "{after:?}"
    );
}

#[test]
fn a_missing_or_damaged_model_is_a_clear_error_and_the_rest_works() {
    let empty = tempfile::tempdir().unwrap();
    let e = Embedder::load(empty.path()).unwrap_err();
    assert!(e.needs_setup());
    assert!(e.to_string().contains("run `make setup`"), "{e}");

    // A truncated weights file is refused by size before anything is built.
    let broken = tempfile::tempdir().unwrap();
    let src = default_models_dir().join("all-minilm-l6-v2");
    let dst = broken.path().join("all-minilm-l6-v2");
    std::fs::create_dir_all(&dst).unwrap();
    for f in ["config.json", "tokenizer.json"] {
        std::fs::copy(src.join(f), dst.join(f)).unwrap();
    }
    std::fs::write(dst.join("model.safetensors"), b"not weights").unwrap();
    let e = Embedder::load(broken.path()).unwrap_err();
    assert!(e.to_string().contains("model.safetensors"), "{e}");
    assert!(e.to_string().contains("damaged"), "{e}");

    let dir = tempfile::tempdir().unwrap();
    let h = vault(&dir);
    let ada = patient(&h, "Ada");
    note(&h, &ada, INSOMNIA);
    assert_eq!(h.search("insomnia", 5).unwrap().len(), 1);
    assert_eq!(h.notes(&ada).unwrap().len(), 1);
}

#[test]
fn indexing_on_a_background_thread_leaves_the_vault_usable() {
    let dir = tempfile::tempdir().unwrap();
    let h = vault(&dir);
    let ada = patient(&h, "Ada");
    allow_analysis(&h, &ada);
    for i in 0..24 {
        note(&h, &ada, &format!("{GRIEF} Session {i}. {INSOMNIA}"));
    }
    let m = model();
    let (report, added) = std::thread::scope(|s| {
        let bg = h.clone();
        let m = &m;
        let indexing = s.spawn(move || bg.index_notes(m, &mut |_, _| {}).unwrap());
        // Meanwhile the clinician keeps writing.
        let added: Vec<String> = (0..3).map(|_| note(&h, &ada, BO)).collect();
        (indexing.join().unwrap(), added)
    });
    assert!(report.embedded >= 24, "{report:?}");
    // Notes written during the run are picked up by the next one.
    let r = h.index_notes(&m, &mut |_, _| {}).unwrap();
    assert_eq!(r.embedded + r.unchanged, 27);
    assert_eq!(r.embedded, 27 - report.embedded);
    let found = h
        .semantic_search(&m, "stress at work from a new boss", 3)
        .unwrap();
    assert!(added.contains(&found.hits[0].record_id), "{:?}", found.hits);
}
