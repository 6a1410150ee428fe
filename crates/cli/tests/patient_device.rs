//! A patient's own device joins the clinic with a patient invite, receives exactly what the
//! patient's contracts share with their devices (real iroh on loopback, two `hearth`
//! processes), and exports its records into an archive that verifies offline.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "common/sync_env.rs"]
mod sync_env;

use hearth_api::{Assessment, ConsentDraft, ConsentRule, Instrument, Problem, TreatmentPlan};
use hearth_core::Hearth;
use sync_env::*;

/// In another patient's chart: must never reach this patient's device.
const OTHER_PATIENT: &str = "Otherpatient-Marker-31337";
const PSY_MARKER: &str = "Psychotherapy-Marker-41877";
const PLAN_MARKER: &str = "Plan-Marker-62210";

fn rule(who: &str, actions: &[&str], categories: &[&str]) -> ConsentRule {
    ConsentRule {
        permit: true,
        who: vec![who.into()],
        actions: actions.iter().map(|s| s.to_string()).collect(),
        categories: categories.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

/// Clinicians keep the whole chart; the patient's devices may read the listed categories.
fn share_with_device(h: &Hearth, pid: &str, device_categories: &[&str]) {
    let draft = ConsentDraft {
        rules: vec![
            rule(
                "role:clinician",
                &["read", "write", "export"],
                &[
                    "demographics",
                    "appointments",
                    "progress-notes",
                    "assessments",
                    "treatment-plan",
                    "attachments",
                ],
            ),
            rule("patient-device", &["read"], device_categories),
        ],
    };
    let preview = h.consent_from_draft(pid, &draft).unwrap();
    h.record_paper_consent(pid, &preview.fhir).unwrap();
}

#[test]
fn a_patient_device_receives_only_what_is_shared_with_it_and_exports_it() {
    let a = Device::new();
    create_clinic(&a);

    let (pid, note_id, qid) = {
        let h = a.open();
        let pid = add_patient(&h, "Ada Patient");
        share_with_device(&h, &pid, &["demographics", "progress-notes", "assessments"]);
        let note_id = add_note(&h, &pid, 1);
        h.add_assessment(Assessment {
            patient_id: pid.clone(),
            instrument: Instrument::Phq9,
            administered_on: "2026-11-20".into(),
            answers: vec![1, 1, 2, 1, 0, 1, 1, 0, 0],
        })
        .unwrap();
        // Not shared with the device: the plan, and psychotherapy notes (never by default).
        h.save_plan(TreatmentPlan {
            patient_id: pid.clone(),
            problems: vec![Problem {
                text: PLAN_MARKER.into(),
                goals: Vec::new(),
            }],
        })
        .unwrap();
        // Another patient whose contract shares everything with *their* devices.
        let qid = add_patient(&h, OTHER_PATIENT);
        share_with_device(
            &h,
            &qid,
            &[
                "demographics",
                "progress-notes",
                "assessments",
                "treatment-plan",
            ],
        );
        add_note(&h, &qid, 2);
        (pid, note_id, qid)
    };
    a.ok(&["note", "sign", &note_id, "--signer", "Dr. Rivera"]);
    a.ok(&[
        "note",
        "add",
        "--patient",
        &pid,
        "--psychotherapy",
        "--section",
        &format!("note={PSY_MARKER}"),
    ]);

    // A patient invite must name the patient, and only a patient invite may.
    let o = a.run(&["clinic", "invite", "--role", "patient"]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("--patient"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = a.run(&["clinic", "invite", "--role", "clinician", "--patient", &pid]);
    assert!(!o.status.success());

    let (node, spec) = a.node();
    let ticket = a.ok(&[
        "clinic",
        "invite",
        "--role",
        "patient",
        "--patient",
        &pid,
        "--stake",
        "0",
    ]);
    let b = Device::new();
    let joined = b.json(&["clinic", "join", ticket.trim(), "--name", "Ada's phone"]);
    assert_eq!(joined["own_patient"], pid.as_str(), "{joined}");
    let me = joined["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["this_device"] == true)
        .unwrap()
        .clone();
    assert_eq!(me["role"], "patient");
    assert_eq!(me["patient"], pid.as_str());

    let r = b.json(&["sync", "--peer", &spec]);
    assert_eq!(
        r["applied"], 3,
        "the patient, the progress note and the PHQ-9: {r}"
    );

    // Exactly what is shared: the chart's shared parts; no plan, no psychotherapy note,
    // nothing of the other patient (their contract shares with their devices, not this one).
    {
        let h = b.open();
        let snap = snapshot(&h);
        assert_eq!(snap.patients.keys().collect::<Vec<_>>(), vec![&pid]);
        assert_eq!(snap.notes.keys().collect::<Vec<_>>(), vec![&note_id]);
        assert_eq!(h.assessments(&pid).unwrap().len(), 1);
        assert!(h.plan(&pid).unwrap().is_none());
        // A read of another patient is refused with the reason, not "not found" by accident.
        let e = h
            .consent_check(&qid, "read", "demographics", "treatment")
            .unwrap();
        assert!(!e.0 && e.1.contains("no one else's"), "{e:?}");
    }
    for marker in [OTHER_PATIENT, PSY_MARKER, PLAN_MARKER] {
        assert!(!b.files_contain(marker), "{marker} reached the device");
    }

    // The patient cannot add to the chart on their device (no write grant), nor add patients.
    let o = b.run(&[
        "note",
        "add",
        "--patient",
        &pid,
        "--section",
        "subjective=written on the patient's phone",
    ]);
    assert!(!o.status.success(), "a patient device wrote a note");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("patient's own device"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!b
        .run(&["patient", "add", "--name", "Someone Else"])
        .status
        .success());

    // "Export my records": the device signs an archive that verifies offline.
    let out = b.dir.path().join("mine.hearth");
    let fhir = b.dir.path().join("mine.fhir.json");
    b.ok(&[
        "export",
        "--patient",
        &pid,
        "--out",
        out.to_str().unwrap(),
        "--fhir",
        fhir.to_str().unwrap(),
    ]);
    let report = b.ok(&["verify", out.to_str().unwrap()]);
    assert!(report.contains("OK") || report.contains("ok"), "{report}");
    let bundle = std::fs::read_to_string(&fhir).unwrap();
    assert!(
        bundle.contains("\"DocumentReference\""),
        "the note is in it"
    );
    assert!(bundle.contains("44261-6"), "the PHQ-9 total is in it");
    assert!(!bundle.contains(PLAN_MARKER) && !bundle.contains(PSY_MARKER));
    // Another patient's export is refused on this device.
    let other = b.dir.path().join("other.hearth");
    let o = b.run(&[
        "export",
        "--patient",
        &qid,
        "--out",
        other.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(!other.exists());

    stop(node);
}
