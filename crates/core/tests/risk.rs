//! Risk flags on a session note through hearth-core: consent (`analyse` for `ai-analysis`)
//! gates the analysis, a refusal names the reason, the analysis is logged as an `Analyse`
//! access, flags carry the decision-aid label and the latest PHQ-9 item-9 answer, and
//! psychotherapy notes are never analysed. Needs the encoder (`make setup`).
#![cfg(feature = "semantic")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use hearth_api::{Assessment, Instrument, NewPatient, Note, NoteTemplate, Section};
use hearth_consent::{
    Action, Actor, Category, Contract, ContractId, PatientId, Provision, Purpose, Role,
};
use hearth_core::{
    default_models_dir, CoreError, Hearth, HearthOptions, Item9Link, RiskLabel, RiskModel,
    DECISION_AID,
};
use time::macros::date;

const NOTE: &str = "Client denies SI at intake. Her brother said he wanted to die last year.\n\
                    Today she reports thoughts of killing herself and says nobody would miss her.\n\
                    GAD-7 decreased to 6.";

fn setup() -> (tempfile::TempDir, Hearth, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let h = Hearth::create(
        &dir.path().join("clinic.hearth"),
        "correct horse battery staple",
        HearthOptions::default().insecure_fast_kdf_for_tests(),
    )
    .unwrap();
    let p = h
        .add_patient(NewPatient {
            name: "Risk Test".into(),
            ..Default::default()
        })
        .unwrap()
        .id;
    let n = h
        .add_note(
            Note {
                patient_id: p.clone(),
                template: NoteTemplate::Free,
                sections: vec![Section {
                    key: "note".into(),
                    text: NOTE.into(),
                }],
                ..Default::default()
            },
            false,
        )
        .unwrap()
        .info
        .id;
    (dir, h, p, n)
}

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

fn model() -> RiskModel {
    RiskModel::load(&default_models_dir()).unwrap_or_else(|e| panic!("{e}"))
}

fn analysed(h: &Hearth, patient: &str, note: &str) -> usize {
    h.patient_timeline(patient)
        .unwrap()
        .iter()
        .filter(|e| e.action == "analysed" && e.record_id == note)
        .count()
}

#[test]
fn without_consent_for_ai_analysis_the_note_is_not_analysed() {
    let (_d, h, p, n) = setup();
    let m = model();
    let err = h.note_risk(&n, &m).unwrap_err();
    assert!(matches!(err, CoreError::Denied(_)), "{err}");
    assert!(!err.to_string().is_empty());
    assert_eq!(analysed(&h, &p, &n), 0);
}

#[test]
fn with_consent_flags_carry_evidence_the_label_and_item9_and_are_logged() {
    let (_d, h, p, n) = setup();
    allow_analysis(&h, &p);
    let m = model();
    // No PHQ-9 yet.
    let r = h.note_risk(&n, &m).unwrap();
    assert_eq!(r.phq9_item9, Item9Link::NoPhq9);
    assert_eq!(analysed(&h, &p, &n), 1);
    h.add_assessment(Assessment {
        patient_id: p.clone(),
        instrument: Instrument::Phq9,
        administered_on: "2026-03-01".into(),
        answers: vec![1, 1, 1, 1, 1, 1, 1, 1, 0],
    })
    .unwrap();
    let latest = h
        .add_assessment(Assessment {
            patient_id: p.clone(),
            instrument: Instrument::Phq9,
            administered_on: "2026-03-15".into(),
            answers: vec![2, 2, 2, 2, 2, 2, 2, 2, 2],
        })
        .unwrap()
        .0
        .info
        .id;
    let r = h.note_risk(&n, &m).unwrap();
    assert_eq!(analysed(&h, &p, &n), 2);
    let Item9Link::Answered {
        score,
        assessment_id,
        ..
    } = &r.phq9_item9
    else {
        panic!("{:?}", r.phq9_item9)
    };
    assert_eq!((*score, assessment_id.as_str()), (2, latest.as_str()));
    let si = r
        .report
        .flags
        .iter()
        .find(|f| f.label == RiskLabel::SuicidalIdeation)
        .expect("the note's suicidal ideation is flagged");
    assert_eq!(si.notice.to_string(), DECISION_AID);
    assert_eq!(si.phq9_item9, r.phq9_item9);
    assert!(r
        .at(&si.evidence[0].sentence)
        .starts_with("Today she reports"));
    // Neither the denial nor the brother's words drive a flag.
    for f in &r.report.flags {
        for e in &f.evidence {
            let s = r.at(&e.sentence);
            assert!(!s.contains("denies") && !s.contains("brother"), "{s}");
        }
    }
}

#[test]
fn psychotherapy_notes_are_never_analysed() {
    let (_d, h, p, _n) = setup();
    allow_analysis(&h, &p);
    let pn = h
        .add_note(
            Note {
                patient_id: p.clone(),
                template: NoteTemplate::Free,
                sections: vec![Section {
                    key: "note".into(),
                    text: NOTE.into(),
                }],
                ..Default::default()
            },
            true,
        )
        .unwrap()
        .info
        .id;
    let err = h.note_risk(&pn, &model()).unwrap_err();
    assert!(matches!(err, CoreError::WrongKind { .. }), "{err}");
    assert_eq!(analysed(&h, &p, &pn), 0);
}
