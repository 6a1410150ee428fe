//! Patient use cases through the `Hearth` handle: damage, idle lock, history, plaintext canary.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use hearth_api::{ErrorKind, NewPatient, PatientPatch, PatientRow};
use hearth_core::{Hearth, HearthOptions, Session};
use hearth_vault::ManualClock;

const PASS: &str = "correct horse battery staple";

fn patient(name: &str) -> NewPatient {
    NewPatient {
        name: name.into(),
        date_of_birth: "1990-01-31".into(),
        pronouns: "she/her".into(),
        ..Default::default()
    }
}

#[test]
fn a_damaged_patient_is_listed_as_unreadable_and_the_rest_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.hearth");
    let h = Hearth::create(
        &path,
        PASS,
        HearthOptions::default().insecure_fast_kdf_for_tests(),
    )
    .unwrap();
    let a = h.add_patient(patient("Alice")).unwrap();
    let b = h.add_patient(patient("Bob")).unwrap();
    let c = h.add_patient(patient("Carol")).unwrap();
    h.close().unwrap();

    let db = rusqlite::Connection::open(&path).unwrap();
    db.execute(
        "UPDATE records SET ciphertext = CAST(zeroblob(length(ciphertext)) AS BLOB) WHERE id = ?1",
        [b.id.as_str()],
    )
    .unwrap();
    drop(db);

    let h = Hearth::open_unlocked(&path, PASS, HearthOptions::default()).unwrap();
    let rows = h.patients().unwrap();
    assert_eq!(rows.len(), 3);
    let names: Vec<String> = rows
        .iter()
        .filter_map(|r| match r {
            PatientRow::Ok { name, .. } => Some(name.clone()),
            PatientRow::Unreadable { .. } => None,
        })
        .collect();
    assert_eq!(names, vec!["Alice", "Carol"]);
    match &rows[2] {
        PatientRow::Unreadable { id, message } => {
            assert_eq!(id, &b.id);
            assert!(
                message.contains(&b.id) && message.contains("integrity"),
                "{message}"
            );
        }
        other => panic!("expected the damaged record last, got {other:?}"),
    }
    let e = h.patient(&b.id).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Integrity);
    assert!(e.message().contains(&b.id));
    // Editing the damaged record is refused; the others still edit.
    assert!(h
        .edit_patient(
            &b.id,
            PatientPatch {
                pronouns: Some("he/him".into()),
                ..Default::default()
            }
        )
        .is_err());
    h.edit_patient(
        &a.id,
        PatientPatch {
            pronouns: Some("they/them".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(h.patient(&c.id).unwrap().fields.name, "Carol");
}

#[test]
fn the_idle_lock_locks_after_fifteen_minutes_without_use() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::starting_at(1_750_000_000_000);
    let s = Session::new(
        dir.path().join("v.hearth"),
        HearthOptions::default()
            .insecure_fast_kdf_for_tests()
            .clock(clock.clone()),
    );
    s.create(PASS).unwrap();
    let h = s.hearth().unwrap();
    h.add_patient(patient("Alice")).unwrap();
    clock.advance(Duration::from_secs(14 * 60));
    assert!(
        !s.status().locked,
        "polling the status is not use, and 14 min is under the limit"
    );
    h.patients().unwrap();
    clock.advance(Duration::from_secs(14 * 60));
    assert!(!s.status().locked, "use reset the timer");
    clock.advance(Duration::from_secs(60));
    assert!(s.status().locked);
    assert_eq!(h.patients().unwrap_err().kind(), ErrorKind::Locked);
    s.unlock(PASS).unwrap();
    assert_eq!(h.patients().unwrap().len(), 1);
}

#[test]
fn edits_are_timestamped_and_history_names_the_fields() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::starting_at(1_750_000_000_000);
    let h = Hearth::create(
        &dir.path().join("v.hearth"),
        PASS,
        HearthOptions::default()
            .insecure_fast_kdf_for_tests()
            .clock(clock.clone()),
    )
    .unwrap();
    let p = h.add_patient(patient("Alice")).unwrap();
    assert_eq!(p.created_at, "2025-06-15T15:06:40Z");
    clock.advance(Duration::from_secs(600));
    let e = h
        .edit_patient(
            &p.id,
            PatientPatch::from_full(NewPatient {
                phone: "+1 555 0100".into(),
                email: "alice@example.org".into(),
                ..patient("Alice")
            }),
        )
        .unwrap();
    assert_eq!(e.updated_at, "2025-06-15T15:16:40Z");
    // Saving the form unchanged writes nothing new.
    clock.advance(Duration::from_secs(60));
    h.edit_patient(&p.id, PatientPatch::from_full(e.fields.clone()))
        .unwrap();
    let hist = h.patient_history(&p.id).unwrap();
    let summaries: Vec<&str> = hist.iter().map(|h| h.summary.as_str()).collect();
    assert_eq!(summaries, vec!["created", "edited email, phone"]);
    assert_eq!(hist[1].time, "2025-06-15T15:16:40Z");
    let invalid = h
        .edit_patient(
            &p.id,
            PatientPatch {
                email: Some("not an email".into()),
                ..Default::default()
            },
        )
        .unwrap_err();
    assert_eq!(invalid.kind(), ErrorKind::InvalidInput);
    assert!(
        invalid.message().starts_with("email:"),
        "{}",
        invalid.message()
    );
}

#[test]
fn no_marker_reaches_any_file_the_vault_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.hearth");
    let markers = [
        "Quill-Marker-Name-33817",
        "1971-02-03",
        "marker-pronoun-xe-xem",
        "+44 7700 900123",
        "quill.marker.mail@example.net",
        "77 Marker Lane, Canarytown",
        "Marker note: dreams about the sea 5512",
        "Canary Emergency Contact 8812",
    ];
    let h = Hearth::create(
        &path,
        PASS,
        HearthOptions::default().insecure_fast_kdf_for_tests(),
    )
    .unwrap();
    let p = h
        .add_patient(NewPatient {
            name: markers[0].into(),
            date_of_birth: markers[1].into(),
            pronouns: markers[2].into(),
            phone: markers[3].into(),
            email: markers[4].into(),
            address: markers[5].into(),
            notes: markers[6].into(),
            emergency_name: "Canary Emergency Contact 8812".into(),
            ..Default::default()
        })
        .unwrap();
    // Edits and reads too (history, list) must leave nothing behind.
    h.edit_patient(
        &p.id,
        PatientPatch {
            notes: Some(format!("{} and more", markers[6])),
            ..Default::default()
        },
    )
    .unwrap();
    h.patients().unwrap();
    h.patient_history(&p.id).unwrap();
    h.close().unwrap();
    let mut files = 0;
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let data = std::fs::read(entry.unwrap().path()).unwrap();
        files += 1;
        for m in markers {
            assert!(
                !data.windows(m.len()).any(|w| w == m.as_bytes()),
                "{m:?} found in plaintext"
            );
        }
    }
    assert!(files >= 1);
}
