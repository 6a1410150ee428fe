//! Two devices' vaults edit the same note and the same appointment offline, exchange the
//! Automerge documents, and end with the same content: nothing anyone typed is lost.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use hearth_api::{Appointment, AppointmentStatus, NewPatient, Note, NoteTemplate, Section};
use hearth_core::{Hearth, HearthOptions};

fn vault(dir: &tempfile::TempDir, name: &str) -> Hearth {
    Hearth::create(
        &dir.path().join(name),
        "correct horse battery staple",
        HearthOptions::default().insecure_fast_kdf_for_tests(),
    )
    .unwrap()
}

fn send(from: &Hearth, to: &Hearth, id: &str) -> Vec<String> {
    let (kind, doc) = from.record_document(id).unwrap();
    to.merge_document(&kind, id, &doc).unwrap()
}

#[test]
fn two_replicas_edit_offline_and_converge() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (vault(&dir, "a.hearth"), vault(&dir, "b.hearth"));
    let p = a
        .add_patient(NewPatient {
            name: "Ada Lovelace".into(),
            ..Default::default()
        })
        .unwrap()
        .id;
    let appt = a
        .add_appointment(Appointment {
            patient_id: p.clone(),
            start: "2026-03-02T10:00".into(),
            duration_min: 50,
            service_code: "90834".into(),
            ..Default::default()
        })
        .unwrap();
    let note = a
        .add_note(
            Note {
                patient_id: p.clone(),
                appointment_id: appt.info.id.clone(),
                template: NoteTemplate::Soap,
                sections: vec![Section {
                    key: "subjective".into(),
                    text: "Reports poor sleep.".into(),
                }],
                ..Default::default()
            },
            false,
        )
        .unwrap();
    // B gets everything (the patient first: the others are sealed under its key).
    for id in [&p, &appt.info.id, &note.info.id] {
        assert_eq!(send(&a, &b, id), vec!["created"]);
    }
    assert_eq!(b.note(&note.info.id).unwrap().0.record, note.record);

    // Offline: both edit the same note and the same appointment.
    let mut na = a.note(&note.info.id).unwrap().0.record;
    na.sections[0].text = "Reports poor sleep. Wakes at 4am.".into();
    a.edit_note(&note.info.id, na).unwrap();
    let mut nb = b.note(&note.info.id).unwrap().0.record;
    nb.sections[0].text = "Today: reports poor sleep.".into();
    nb.sections[3].text = "Sleep diary.".into();
    b.edit_note(&note.info.id, nb).unwrap();
    let mut aa = appt.record.clone();
    aa.status = AppointmentStatus::Attended;
    a.edit_appointment(&appt.info.id, aa).unwrap();
    let mut ab = appt.record.clone();
    ab.location = "Room 2".into();
    b.edit_appointment(&appt.info.id, ab).unwrap();

    // Exchange both ways.
    for id in [&appt.info.id, &note.info.id] {
        assert_eq!(send(&a, &b, id), vec!["merged"]);
        assert_eq!(send(&b, &a, id), vec!["merged"]);
        assert!(send(&a, &b, id).is_empty(), "nothing new the second time");
    }
    for h in [&a, &b] {
        let n = h.note(&note.info.id).unwrap().0.record;
        assert_eq!(
            n.sections[0].text,
            "Today: reports poor sleep. Wakes at 4am."
        );
        assert_eq!(n.sections[3].text, "Sleep diary.");
        let ap = h.appointment(&appt.info.id).unwrap().record;
        assert_eq!(
            (ap.status, ap.location.as_str()),
            (AppointmentStatus::Attended, "Room 2")
        );
        let report = h.audit().unwrap();
        assert!(report.ok(), "merges are logged: {:?}", report.problems);
    }
    assert_eq!(
        a.note(&note.info.id).unwrap().0.record,
        b.note(&note.info.id).unwrap().0.record
    );
    // Both devices' edits are in the history.
    let hist = a.history(&note.info.id).unwrap();
    let devices: std::collections::HashSet<&str> = hist.iter().map(|h| h.device.as_str()).collect();
    assert_eq!(devices.len(), 2, "{hist:?}");

    // A hostile or mismatched document is refused, nothing changes.
    assert!(a
        .merge_document("session-note", &note.info.id, b"garbage")
        .is_err());
    let (_, patient_doc) = a.record_document(&p).unwrap();
    assert!(a
        .merge_document("patient", &note.info.id, &patient_doc)
        .is_err());
    assert!(a.merge_document("wizard", &p, &patient_doc).is_err());
}

#[test]
fn any_record_restores_through_one_call() {
    let dir = tempfile::tempdir().unwrap();
    let a = vault(&dir, "a.hearth");
    let p = a
        .add_patient(NewPatient {
            name: "Ada".into(),
            ..Default::default()
        })
        .unwrap()
        .id;
    let appt = a
        .add_appointment(Appointment {
            patient_id: p,
            start: "2026-03-02T10:00".into(),
            duration_min: 50,
            ..Default::default()
        })
        .unwrap();
    let mut e = appt.record.clone();
    e.duration_min = 90;
    a.edit_appointment(&appt.info.id, e).unwrap();
    let first = a.history(&appt.info.id).unwrap()[0].hash.clone();
    assert_eq!(
        a.restore(&appt.info.id, &first).unwrap(),
        vec!["duration_min".replace('_', " ")]
    );
    assert_eq!(
        a.appointment(&appt.info.id).unwrap().record.duration_min,
        50
    );
    assert_eq!(
        a.history(&appt.info.id).unwrap().len(),
        3,
        "the restore is a new change"
    );
    assert!(a.restore(&appt.info.id, "00").is_err());
}
