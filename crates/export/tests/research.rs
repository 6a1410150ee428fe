#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The research export on its own (no vault): deterministic for a secret, identifiers gone from
//! the text, pseudonymous ids, a drafted note and a DOB never exported, an old patient's birth
//! year withheld.

use hearth_export::deid::{Deidentifier, ExportSecret};
use hearth_export::{research_export, ResearchPatient, Skipped};
use hearth_records::envelope::Peek;
use hearth_records::{Assessment, Instrument, NoteTemplate, Patient, SessionNote};

const T0: i64 = 1_780_000_000;

fn peek<T>(kind: &str, id: &str, value: T) -> Peek<T> {
    Peek {
        v: 1,
        kind: kind.into(),
        id: id.into(),
        created_at: T0,
        updated_at: T0,
        value,
    }
}

fn patient(id: &str, name: &str, dob: &str) -> ResearchPatient {
    let mut p = Patient {
        name: name.into(),
        date_of_birth: dob.into(),
        ..Default::default()
    };
    p.contact.phone = "+1 (555) 010-0199".into();
    p.contact.email = "quentin@example.org".into();
    let mut signed = SessionNote::draft(id, "", NoteTemplate::Soap);
    signed
        .set_section(
            "subjective",
            &format!(
                "{name} came with his son Bartholomew on 2026-05-04; phone 555-010-0199. \
                 Lives at 8 Wren Court, Dayton, OH 45402. Denies SI."
            ),
        )
        .unwrap();
    signed.sign("Dr. Ifeoma Roe, PhD", T0).unwrap();
    let mut draft = SessionNote::draft(id, "", NoteTemplate::Free);
    draft.set_section("note", "Draft about Quentin.").unwrap();
    ResearchPatient {
        patient: peek("patient", id, p),
        notes: vec![
            peek("session-note", &format!("{id}-n1"), signed),
            peek("session-note", &format!("{id}-n2"), draft),
        ],
        assessments: vec![peek(
            "assessment",
            &format!("{id}-a1"),
            Assessment {
                patient_id: id.into(),
                instrument: Instrument::Gad7,
                administered_on: "2026-05-04".into(),
                answers: vec![1, 1, 2, 1, 0, 1, 1],
            },
        )],
        omitted: Vec::new(),
        birth_year: true,
    }
}

#[test]
fn research_export_is_deterministic_for_a_secret_and_leaves_no_identifier() {
    let deid = Deidentifier::new(ExportSecret::from_bytes([1; 32])).unwrap();
    let patients = [
        patient("pat-1", "Quentin Marsh-Holloway", "1971-02-03"),
        patient("pat-2", "Edna Vole", "1925-06-07"),
    ];
    let skipped = [Skipped {
        patient_id: "pat-3".into(),
        reason: "no provision permits export of progress-notes for research".into(),
    }];
    let a = research_export(&deid, &patients, &skipped, T0).unwrap();
    let b = research_export(&deid, &patients, &skipped, T0).unwrap();
    assert_eq!(a.ndjson, b.ndjson, "same secret, same bytes");
    let manifest = serde_json::to_string(&a.manifest).unwrap();
    let mut text = a.ndjson.clone();
    for line in a.ndjson.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(v["id"].as_str().unwrap().len() == 34, "{v}");
        if let Some(d) = v["content"][0]["attachment"]["data"].as_str() {
            use base64::Engine as _;
            let raw = base64::engine::general_purpose::STANDARD.decode(d).unwrap();
            text.push_str(&String::from_utf8(raw).unwrap());
        }
    }
    for gone in [
        "Quentin",
        "Marsh",
        "Holloway",
        "Edna",
        "Vole",
        "Bartholomew",
        "2026-05-04",
        "555",
        "quentin@",
        "Wren",
        "Dayton",
        "45402",
        "Ifeoma",
        "Roe",
        "PhD",
        "1971-02-03",
        "pat-1",
        "pat-2",
        "pat-3",
        "Draft about",
    ] {
        assert!(!text.contains(gone), "{gone} in {text}");
        assert!(!manifest.contains(gone), "{gone} in {manifest}");
    }
    assert!(text.contains("Denies SI."));
    // Birth year: kept under 90, withheld at 90 and over.
    assert!(a.ndjson.contains(r#""birthDate":"1971""#));
    assert!(!a.ndjson.contains("1925"));
    assert_eq!(a.manifest.patients.len(), 2);
    assert_eq!(a.manifest.patients[0].notes, 1, "the draft is not exported");
    assert_eq!(a.manifest.skipped.len(), 1);
    assert!(a.manifest.skipped[0].id.starts_with("p-"));
    assert!(a.manifest.removed.total() >= 10);
    // Another secret: other pseudonyms, other shifts.
    let other = Deidentifier::new(ExportSecret::from_bytes([2; 32])).unwrap();
    let c = research_export(&other, &patients, &skipped, T0).unwrap();
    assert_ne!(c.manifest.patients[0].id, a.manifest.patients[0].id);
}

/// Every NDJSON resource, wrapped in a collection Bundle, checked by the same independent R4
/// validator as the patient export (`tests/fhir_validate.py`, PyPI fhir.resources 6.4.0;
/// `$HEARTH_FHIR_PYTHON`, set by the Makefile). A missing validator fails the test.
#[test]
fn research_resources_are_valid_fhir_r4() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let deid = Deidentifier::new(ExportSecret::from_bytes([1; 32])).unwrap();
    let x = research_export(
        &deid,
        &[patient("pat-1", "Quentin Marsh-Holloway", "1971-02-03")],
        &[],
        T0,
    )
    .unwrap();
    let entries: Vec<serde_json::Value> = x
        .ndjson
        .lines()
        .map(|l| serde_json::json!({ "resource": serde_json::from_str::<serde_json::Value>(l).unwrap() }))
        .collect();
    let bundle =
        serde_json::json!({"resourceType": "Bundle", "type": "collection", "entry": entries});
    let python = std::env::var("HEARTH_FHIR_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = format!(
        "{}/tests/fhir_validate.py",
        std::env::var("CARGO_MANIFEST_DIR")
            .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_string())
    );
    let mut child = Command::new(&python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {python} ({e})"));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&serde_json::to_vec(&bundle).unwrap())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
