//! Consent enforced in the use cases: a patient's contract can refuse what the defaults allow,
//! with the deciding provision as the reason; revoking restores the defaults; psychotherapy
//! notes are readable only by their author.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use hearth_api::{Assessment, ErrorKind, Instrument, NewPatient, Note, NoteTemplate, Section};
use hearth_consent::{
    Action, Actor, Category, Contract, ContractId, PatientId, Provision, Purpose, Role,
};
use hearth_core::{Hearth, HearthOptions};
use time::macros::date;

fn vault(dir: &tempfile::TempDir, name: &str) -> Hearth {
    Hearth::create(
        &dir.path().join(name),
        "correct horse battery staple",
        HearthOptions::default().insecure_fast_kdf_for_tests(),
    )
    .unwrap()
}

fn phq(patient: &str) -> Assessment {
    Assessment {
        patient_id: patient.into(),
        instrument: Instrument::Phq9,
        administered_on: "2026-01-05".into(),
        answers: vec![1; 9],
    }
}

#[test]
fn a_contract_refuses_with_its_reason_and_revoking_restores_the_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let h = vault(&dir, "a.hearth");
    let p = h
        .add_patient(NewPatient {
            name: "Ada".into(),
            ..Default::default()
        })
        .unwrap()
        .id;
    h.add_assessment(phq(&p)).unwrap();
    assert_eq!(
        h.assessments(&p).unwrap().len(),
        1,
        "the defaults let the treating clinician read"
    );

    // The patient allows treatment access to the chart, except assessments.
    let contract = Contract::new(
        ContractId::new("c-1").unwrap(),
        PatientId::new(p.clone()).unwrap(),
        date!(2026 - 01 - 01),
    )
    .provision(
        Provision::permit()
            .actor(Actor::Role(Role::Clinician))
            .actions([Action::Read, Action::Write])
            .purposes([Purpose::Treatment])
            .categories([
                Category::Demographics,
                Category::ProgressNotes,
                Category::Assessments,
            ])
            .except(Provision::deny().categories([Category::Assessments])),
    );
    let json = hearth_consent::to_fhir_json(&contract).unwrap();
    let recorded = h.record_paper_consent(&p, &json).unwrap();
    assert_eq!(
        (
            recorded.version,
            recorded.status.as_str(),
            recorded.attested
        ),
        (1, "active", true)
    );
    assert!(!recorded.summary.is_empty());

    let e = h.assessments(&p).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Denied);
    assert!(
        e.message().contains("1.1"),
        "the reason names the deciding exception: {}",
        e.message()
    );
    let (ok, reason) = h
        .consent_check(&p, "read", "assessments", "treatment")
        .unwrap();
    assert!(!ok, "{reason}");
    let (ok, _) = h
        .consent_check(&p, "read", "demographics", "treatment")
        .unwrap();
    assert!(ok);
    assert!(h
        .consent_check(&p, "read", "diaries", "treatment")
        .unwrap_err()
        .message()
        .contains("unknown category"));

    // Revoked: a new version, inactive; the defaults apply again.
    let revoked = h.revoke_consent(&p, "c-1").unwrap();
    assert_eq!((revoked.version, revoked.status.as_str()), (2, "inactive"));
    assert_eq!(h.assessments(&p).unwrap().len(), 1);
    assert_eq!(h.consents(&p).unwrap().len(), 2);
    assert!(h.revoke_consent(&p, "c-1").is_err(), "already revoked");
    // Consent events are logged with the rest, and the audit still holds.
    assert!(h.audit().unwrap().ok());
}

#[test]
fn a_consent_for_another_patient_or_malformed_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let h = vault(&dir, "a.hearth");
    let p = h
        .add_patient(NewPatient {
            name: "Ada".into(),
            ..Default::default()
        })
        .unwrap()
        .id;
    let other = Contract::new(
        ContractId::new("c-2").unwrap(),
        PatientId::new("someone-else").unwrap(),
        date!(2026 - 01 - 01),
    );
    let e = h
        .record_paper_consent(&p, &hearth_consent::to_fhir_json(&other).unwrap())
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    let e = h
        .record_paper_consent(&p, "{\"resourceType\": \"Patient\"}")
        .unwrap_err();
    assert!(e.message().starts_with("consent:"), "{}", e.message());
    assert!(h.consents(&p).unwrap().is_empty());
}

#[test]
fn psychotherapy_notes_are_readable_only_by_their_author() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (vault(&dir, "a.hearth"), vault(&dir, "b.hearth"));
    let p = a
        .add_patient(NewPatient {
            name: "Ada".into(),
            ..Default::default()
        })
        .unwrap()
        .id;
    let mine = a
        .add_note(
            Note {
                patient_id: p.clone(),
                template: NoteTemplate::Free,
                sections: vec![Section {
                    key: "note".into(),
                    text: "Private process notes.".into(),
                }],
                ..Default::default()
            },
            true,
        )
        .unwrap();
    assert_eq!(a.psychotherapy_notes(&p).unwrap().len(), 1);
    a.note(&mine.info.id).unwrap();

    // The same note on another device (as sync would carry it, if a contract let it).
    for id in [&p, &mine.info.id] {
        let (kind, doc) = a.record_document(id).unwrap();
        b.merge_document(&kind, id, &doc).unwrap();
    }
    assert!(
        b.psychotherapy_notes(&p).unwrap().is_empty(),
        "not listed for a non-author"
    );
    let e = b.note(&mine.info.id).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Denied);
    assert!(e.message().contains("author"), "{}", e.message());
}
