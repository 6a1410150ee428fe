//! A therapist's day through `Hearth`: appointments and calendar, notes with signing and
//! addenda, PHQ-9/GAD-7 with alerts and reliable change, treatment plan, attachments, search.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use hearth_api::{
    Appointment, AppointmentStatus, Assessment, ErrorKind, Goal, GoalStatus, Instrument,
    NewPatient, Note, NoteTemplate, Objective, Problem, Recurrence, Section, TreatmentPlan,
};
use hearth_core::{Hearth, HearthOptions};
use hearth_vault::ManualClock;

const PASS: &str = "correct horse battery staple";

struct Day {
    _dir: tempfile::TempDir,
    h: Hearth,
    clock: std::sync::Arc<ManualClock>,
    patient: String,
}

fn day() -> Day {
    let dir = tempfile::tempdir().unwrap();
    // 2026-03-02 09:00 UTC, a Monday.
    let clock = ManualClock::starting_at(1_772_442_000_000);
    let h = Hearth::create(
        &dir.path().join("v.hearth"),
        PASS,
        HearthOptions::default()
            .insecure_fast_kdf_for_tests()
            .clock(clock.clone())
            .attachment_limit(1 << 20),
    )
    .unwrap();
    let patient = h
        .add_patient(NewPatient {
            name: "Ada Lovelace".into(),
            ..Default::default()
        })
        .unwrap()
        .id;
    Day {
        _dir: dir,
        h,
        clock,
        patient,
    }
}

fn soap(patient: &str, appointment: &str) -> Note {
    Note {
        patient_id: patient.into(),
        appointment_id: appointment.into(),
        template: NoteTemplate::Soap,
        sections: vec![
            Section {
                key: "subjective".into(),
                text: "Talked about sleep and work stress.".into(),
            },
            Section {
                key: "plan".into(),
                text: "Sleep diary.".into(),
            },
        ],
        signature: None,
        addenda: vec![],
    }
}

#[test]
fn appointments_fill_the_week_and_today() {
    let d = day();
    let weekly =
        d.h.add_appointment(Appointment {
            patient_id: d.patient.clone(),
            start: "2026-03-02T10:00".into(),
            duration_min: 50,
            service_code: "90834".into(),
            recurrence: Recurrence::Weekly,
            ..Default::default()
        })
        .unwrap();
    let bob =
        d.h.add_patient(NewPatient {
            name: "Bob".into(),
            ..Default::default()
        })
        .unwrap()
        .id;
    d.h.add_appointment(Appointment {
        patient_id: bob,
        start: "2026-03-04T14:30".into(),
        duration_min: 45,
        service_code: "90832".into(),
        ..Default::default()
    })
    .unwrap();
    let week =
        d.h.calendar("2026-03-02T00:00", "2026-03-09T00:00")
            .unwrap();
    let starts: Vec<(&str, &str)> = week
        .iter()
        .map(|o| (o.start.as_str(), o.patient_name.as_str()))
        .collect();
    assert_eq!(
        starts,
        vec![
            ("2026-03-02T10:00", "Ada Lovelace"),
            ("2026-03-04T14:30", "Bob")
        ]
    );
    let next =
        d.h.calendar("2026-03-09T00:00", "2026-03-16T00:00")
            .unwrap();
    assert_eq!(
        next.len(),
        1,
        "the weekly series repeats, the one-off does not"
    );
    let today =
        d.h.calendar("2026-03-02T00:00", "2026-03-03T00:00")
            .unwrap();
    assert_eq!(today.len(), 1);

    let mut a = weekly.record.clone();
    a.status = AppointmentStatus::Attended;
    let edited = d.h.edit_appointment(&weekly.info.id, a).unwrap();
    assert_eq!(edited.record.status, AppointmentStatus::Attended);
    let hist = d.h.appointment_history(&weekly.info.id).unwrap();
    assert_eq!(hist.last().unwrap().summary, "edited status");

    let bad =
        d.h.add_appointment(Appointment {
            patient_id: d.patient.clone(),
            start: "tomorrow".into(),
            duration_min: 50,
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(bad.kind(), ErrorKind::InvalidInput);
    assert!(bad.message().starts_with("start:"), "{}", bad.message());
    let orphan =
        d.h.add_appointment(Appointment {
            patient_id: "0".repeat(32),
            start: "2026-03-02T10:00".into(),
            duration_min: 50,
            ..Default::default()
        })
        .unwrap_err();
    assert!(
        orphan.message().contains("no patient"),
        "{}",
        orphan.message()
    );
}

#[test]
fn notes_are_drafted_signed_locked_and_take_addenda() {
    let d = day();
    let n = d.h.add_note(soap(&d.patient, ""), false).unwrap();
    assert_eq!(
        n.record.sections.len(),
        4,
        "the template's sections are all there"
    );
    let mut draft = n.record.clone();
    draft.sections[1].text = "Calm.".into();
    d.h.edit_note(&n.info.id, draft).unwrap();
    let v1 = d.h.note_history(&n.info.id).unwrap()[0].hash.clone();
    d.h.restore_note(&n.info.id, &v1).unwrap();
    assert_eq!(
        d.h.note(&n.info.id).unwrap().0.record.sections[1].text,
        "",
        "restored as a new change"
    );

    d.clock.advance(Duration::from_secs(60));
    let signed = d.h.sign_note(&n.info.id, "Dr. Jane Roe").unwrap();
    let sig = signed.record.signature.clone().unwrap();
    assert_eq!(sig.signer, "Dr. Jane Roe");
    assert_eq!(sig.content_hash.len(), 64);

    let mut edit = signed.record.clone();
    edit.sections[0].text = "rewritten".into();
    let e = d.h.edit_note(&n.info.id, edit).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(
        e.message().starts_with("signed notes take addenda"),
        "{}",
        e.message()
    );
    assert!(
        d.h.restore_note(&n.info.id, &v1).is_err(),
        "restoring a draft over a signed note is an edit"
    );

    let with =
        d.h.add_addendum(&n.info.id, "Phoned: sleeping better.", "Dr. Jane Roe")
            .unwrap();
    assert_eq!(with.record.addenda.len(), 1);
    let summaries: Vec<String> =
        d.h.note_history(&n.info.id)
            .unwrap()
            .into_iter()
            .map(|h| h.summary)
            .collect();
    assert_eq!(
        summaries,
        vec![
            "created",
            "edited content",
            "edited content",
            "edited signature",
            "edited addendum"
        ]
    );

    // Psychotherapy notes are their own list.
    d.h.add_note(soap(&d.patient, ""), true).unwrap();
    assert_eq!(d.h.notes(&d.patient).unwrap().len(), 1);
    assert_eq!(d.h.psychotherapy_notes(&d.patient).unwrap().len(), 1);
}

#[test]
fn measures_are_scored_with_alerts_and_reliable_change() {
    let d = day();
    let phq = |date: &str, answers: Vec<u32>| Assessment {
        patient_id: d.patient.clone(),
        instrument: Instrument::Phq9,
        administered_on: date.into(),
        answers,
    };
    let (_, first) =
        d.h.add_assessment(phq("2026-01-05", vec![2, 2, 2, 2, 2, 2, 2, 2, 1]))
            .unwrap();
    assert_eq!(
        (
            first.total,
            first.band.as_str(),
            first.safety_alert,
            first.change.clone()
        ),
        (17, "moderately severe", true, None)
    );
    let (_, second) =
        d.h.add_assessment(phq("2026-02-02", vec![1, 1, 1, 1, 1, 1, 1, 1, 0]))
            .unwrap();
    assert_eq!(
        (second.total, second.band.as_str(), second.safety_alert),
        (8, "mild", false)
    );
    assert_eq!(second.change.as_deref(), Some("reliable_improvement"));
    d.h.add_assessment(Assessment {
        patient_id: d.patient.clone(),
        instrument: Instrument::Gad7,
        administered_on: "2026-02-02".into(),
        answers: vec![3; 7],
    })
    .unwrap();
    let all = d.h.assessments(&d.patient).unwrap();
    assert_eq!(all.len(), 3);
    let gad = all
        .iter()
        .find(|(a, _)| a.record.instrument == Instrument::Gad7)
        .unwrap();
    assert_eq!(
        (gad.1.total, gad.1.change.clone()),
        (21, None),
        "change compares the same measure only"
    );

    let e =
        d.h.add_assessment(phq("2026-02-03", vec![1, 1, 1, 4, 1, 1, 1, 1, 0]))
            .unwrap_err();
    assert!(e.message().starts_with("PHQ-9 item 4:"), "{}", e.message());
    let e =
        d.h.add_assessment(phq("2026-02-03", vec![1, 1]))
            .unwrap_err();
    assert!(
        e.message().starts_with("PHQ-9 item 3: missing"),
        "{}",
        e.message()
    );
}

#[test]
fn one_treatment_plan_per_patient() {
    let d = day();
    let mut plan = TreatmentPlan {
        patient_id: d.patient.clone(),
        problems: vec![Problem {
            text: "Insomnia".into(),
            goals: vec![Goal {
                text: "Sleep 7 hours".into(),
                objectives: vec![Objective {
                    text: "Sleep diary".into(),
                    measure: "5 of 7 nights".into(),
                }],
                interventions: vec!["CBT-I".into()],
                target_date: "2026-06-01".into(),
                review_date: "2026-04-01".into(),
                status: GoalStatus::InProgress,
            }],
        }],
    };
    let first = d.h.save_plan(plan.clone()).unwrap();
    plan.problems[0].goals[0].status = GoalStatus::Met;
    let second = d.h.save_plan(plan).unwrap();
    assert_eq!(first.info.id, second.info.id);
    assert_eq!(
        d.h.plan(&d.patient).unwrap().unwrap().record.problems[0].goals[0].status,
        GoalStatus::Met
    );
    assert_eq!(
        d.h.plan_history(&first.info.id)
            .unwrap()
            .last()
            .unwrap()
            .summary,
        "edited status"
    );
}

#[test]
fn attachments_round_trip_and_the_limit_is_checked_first() {
    let d = day();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ecg.pdf");
    let content: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&file, &content).unwrap();
    let a = d.h.attach_file(&d.patient, &file, "ECG export").unwrap();
    assert_eq!(
        (a.record.size, a.record.media_type.as_str()),
        (300_000, "application/pdf")
    );
    let out = dir.path().join("out.pdf");
    assert_eq!(d.h.export_attachment(&a.info.id, &out).unwrap(), 300_000);
    assert!(std::fs::read(&out).unwrap() == content);
    assert_eq!(d.h.attachments(&d.patient).unwrap().len(), 1);

    let big = dir.path().join("scan.dcm");
    std::fs::write(&big, vec![0u8; (1 << 20) + 1]).unwrap();
    let e = d.h.attach_file(&d.patient, &big, "").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(
        e.message().contains("over the attachment limit"),
        "{}",
        e.message()
    );
    assert_eq!(d.h.attachments(&d.patient).unwrap().len(), 1);
}

#[test]
fn search_finds_notes_and_patients_and_follows_edits() {
    let d = day();
    let n = d.h.add_note(soap(&d.patient, ""), false).unwrap();
    let hits = d.h.search("sleep work", 10).unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(
        (hits[0].record_id.as_str(), hits[0].patient_name.as_str()),
        (n.info.id.as_str(), "Ada Lovelace")
    );
    assert!(hits[0].snippet.contains("sleep and work stress"));
    assert_eq!(d.h.search("lovel", 10).unwrap()[0].kind, "patient");
    // Edits are searchable at once.
    let mut e = n.record.clone();
    e.sections[0].text = "Talked about her brother's visit.".into();
    d.h.edit_note(&n.info.id, e).unwrap();
    assert!(d.h.search("sleep work", 10).unwrap().is_empty());
    assert_eq!(d.h.search("brother", 10).unwrap().len(), 1);
    // Locking drops the index; searching a locked vault is refused.
    d.h.lock();
    assert_eq!(
        d.h.search("brother", 10).unwrap_err().kind(),
        ErrorKind::Locked
    );
    d.h.unlock(PASS).unwrap();
    assert_eq!(d.h.search("brother", 10).unwrap().len(), 1);
}

#[test]
fn instrument_forms_carry_items_scale_and_bands() {
    let phq = hearth_core::instrument_form(Instrument::Phq9);
    assert_eq!(
        (phq.items.len(), phq.scale.len(), phq.max_total),
        (9, 4, 27)
    );
    let ranges: Vec<(u32, u32)> = phq.bands.iter().map(|b| (b.from, b.to)).collect();
    assert_eq!(ranges, vec![(0, 4), (5, 9), (10, 14), (15, 19), (20, 27)]);
    let gad = hearth_core::instrument_form(Instrument::Gad7);
    let ranges: Vec<(u32, u32)> = gad.bands.iter().map(|b| (b.from, b.to)).collect();
    assert_eq!(ranges, vec![(0, 4), (5, 9), (10, 14), (15, 21)]);
    assert_eq!(gad.reliable_change_points, 4);
}

#[test]
fn the_ipc_templates_match_the_records_templates() {
    for t in NoteTemplate::ALL {
        let r: hearth_records::NoteTemplate =
            serde_json::from_value(serde_json::to_value(t).unwrap()).unwrap();
        assert_eq!(t.sections(), r.sections(), "{t:?}");
    }
}
