//! Exporting a patient: consent first, logged, a signed archive that verifies offline, FHIR
//! that an independent R4 validator accepts, psychotherapy notes only when asked.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::process::{Command, Stdio};

use hearth_api::{
    Appointment, AppointmentStatus, Assessment, ErrorKind, Instrument, NewPatient, Note,
    NoteTemplate, Section,
};
use hearth_consent::{
    Action, Actor, Category, Contract, ContractId, PatientId, Provision, Purpose, Role,
};
use hearth_core::{Hearth, HearthOptions};
use time::macros::date;

fn day() -> (tempfile::TempDir, Hearth, String) {
    let dir = tempfile::tempdir().unwrap();
    let h = Hearth::create(
        &dir.path().join("v.hearth"),
        "correct horse battery staple",
        HearthOptions::default().insecure_fast_kdf_for_tests(),
    )
    .unwrap();
    let p = h
        .add_patient(NewPatient {
            name: "Ada Lovelace".into(),
            date_of_birth: "1985-12-10".into(),
            diagnoses: vec![hearth_api::Diagnosis {
                code: "F33.1".into(),
                text: "Major depressive disorder, recurrent, moderate".into(),
            }],
            ..Default::default()
        })
        .unwrap()
        .id;
    let a = h
        .add_appointment(Appointment {
            patient_id: p.clone(),
            start: "2026-03-02T10:00".into(),
            duration_min: 50,
            service_code: "90834".into(),
            ..Default::default()
        })
        .unwrap();
    let mut attended = a.record.clone();
    attended.status = AppointmentStatus::Attended;
    h.edit_appointment(&a.info.id, attended).unwrap();
    let note = |text: &str| Note {
        patient_id: p.clone(),
        appointment_id: a.info.id.clone(),
        template: NoteTemplate::Soap,
        sections: vec![Section {
            key: "subjective".into(),
            text: text.into(),
        }],
        ..Default::default()
    };
    let signed = h.add_note(note("Reports poor sleep."), false).unwrap();
    h.sign_note(&signed.info.id, "Dr. Jane Roe").unwrap();
    h.add_note(note("A draft not yet signed."), false).unwrap();
    h.add_note(note("Private process notes."), true).unwrap();
    for (d, answers) in [("2026-01-05", vec![2u32; 9]), ("2026-02-02", vec![1; 9])] {
        h.add_assessment(Assessment {
            patient_id: p.clone(),
            instrument: Instrument::Phq9,
            administered_on: d.into(),
            answers,
        })
        .unwrap();
    }
    (dir, h, p)
}

fn permit_export(h: &Hearth, p: &str) {
    let c = Contract::new(
        ContractId::new("share-1").unwrap(),
        PatientId::new(p).unwrap(),
        date!(2026 - 01 - 01),
    )
    .provision(
        Provision::permit()
            .actor(Actor::Role(Role::Clinician))
            .actions([Action::Read, Action::Write, Action::Export])
            .purposes([Purpose::Treatment])
            .categories([
                Category::Demographics,
                Category::Appointments,
                Category::ProgressNotes,
                Category::Assessments,
                Category::TreatmentPlan,
                Category::Attachments,
            ]),
    );
    h.record_paper_consent(p, &hearth_consent::to_fhir_json(&c).unwrap())
        .unwrap();
}

#[test]
fn export_is_refused_without_consent_and_the_refusal_is_logged() {
    let (_dir, h, p) = day();
    let before = h.log_status().unwrap().size;
    let e = h.export_patient(&p, "treatment", false).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Denied);
    assert!(e.message().contains("export"), "{}", e.message());
    assert_eq!(
        h.log_status().unwrap().size,
        before + 1,
        "the refusal is in the log"
    );
}

#[test]
fn an_exported_archive_verifies_offline_and_its_fhir_is_valid_r4() {
    let (_dir, h, p) = day();
    permit_export(&h, &p);
    let out = h.export_patient(&p, "treatment", false).unwrap();
    let report = hearth_export::verify(&out.archive, &hearth_export::VerifyOptions::default());
    assert!(report.passed(), "{report}");

    let entries = out.bundle["entry"].as_array().unwrap();
    let count = |t: &str| {
        entries
            .iter()
            .filter(|e| e["resource"]["resourceType"] == t)
            .count()
    };
    assert_eq!(count("Patient"), 1);
    assert_eq!(count("Encounter"), 1, "the attended appointment");
    assert_eq!(count("Observation"), 2);
    assert_eq!(count("QuestionnaireResponse"), 2);
    assert_eq!(count("Consent"), 1);
    assert!(count("AuditEvent") > 5);
    let text = serde_json::to_string(&out.bundle).unwrap();
    assert!(text.contains("44261-6"));
    let docs: Vec<&serde_json::Value> = entries
        .iter()
        .filter(|e| e["resource"]["resourceType"] == "DocumentReference")
        .collect();
    assert_eq!(
        docs.len(),
        1,
        "only the signed session note: no draft, no psychotherapy note"
    );

    // Psychotherapy notes need an explicit choice and a permit: refused here.
    assert_eq!(
        h.export_patient(&p, "treatment", true).unwrap_err().kind(),
        ErrorKind::Denied
    );

    // A flipped byte fails verification.
    let mut bad = out.archive.clone();
    let at = bad.len() - 10;
    bad[at] ^= 1;
    assert!(!hearth_export::verify(&bad, &hearth_export::VerifyOptions::default()).passed());

    // An independent R4 validator (PyPI fhir.resources 6.4.0, set up by scripts/setup.sh).
    let python = std::env::var("HEARTH_FHIR_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = format!(
        "{}/../export/tests/fhir_validate.py",
        std::env::var("CARGO_MANIFEST_DIR")
            .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_string())
    );
    let mut child = Command::new(&python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {python}: {e}; run scripts/setup.sh"));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let res = child.wait_with_output().unwrap();
    assert!(
        res.status.success(),
        "fhir.resources (R4) rejects the export (exit {:?}): {}",
        res.status.code(),
        String::from_utf8_lossy(&res.stderr)
    );
    // The audit still holds after an export.
    assert!(h.audit().unwrap().ok());
}

#[test]
fn a_large_export_reports_its_progress_in_order() {
    let (_dir, h, p) = day();
    permit_export(&h, &p);
    for i in 0..40 {
        h.add_assessment(hearth_api::Assessment {
            patient_id: p.clone(),
            instrument: hearth_api::Instrument::Gad7,
            administered_on: format!("2025-{:02}-{:02}", 1 + i % 12, 1 + i % 28),
            answers: vec![1; 7],
        })
        .unwrap();
    }
    let seen = std::sync::Mutex::new(Vec::new());
    let out = h
        .export_patient_with(&p, "treatment", false, &|s| seen.lock().unwrap().push(s))
        .unwrap();
    let seen = seen.into_inner().unwrap();
    let phases: Vec<&str> = seen.iter().map(|s| s.phase).collect();
    let mut order = phases.clone();
    order.dedup();
    assert_eq!(
        order,
        ["consent", "records", "log", "fhir", "documents", "signing"],
        "phases in order, each once"
    );
    // Within a phase, steps only go forward, and the record phases finish at their total.
    for w in seen.windows(2) {
        if w[0].phase == w[1].phase {
            assert!(w[0].done <= w[1].done, "{w:?}");
        }
    }
    let docs: Vec<_> = seen.iter().filter(|s| s.phase == "documents").collect();
    assert!(docs.len() > 2, "several steps for 40+ records: {docs:?}");
    let last = docs.last().unwrap();
    assert_eq!(last.done, last.total);
    assert!(last.total >= 41, "the patient and 40 assessments at least");
    assert_eq!(seen.last().unwrap().phase, "signing");
    assert!(out.resources() > 40);
}
