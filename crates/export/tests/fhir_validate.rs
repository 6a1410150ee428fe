#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The bundle of a rich patient, checked by an independent FHIR R4 validator: the Python
//! `fhir.resources` 6.4.0 models (generated from the HL7 R4 4.0.1 specification).
//!
//! Needs `pip install "fhir.resources==6.4.0" "pydantic>=1.10,<2"`. The interpreter is
//! `$HEARTH_FHIR_PYTHON` if set, else `python3`. A missing validator FAILS the test.

#[path = "support/fixtures.rs"]
mod fixtures;

use std::io::Write;
use std::process::{Command, Stdio};

const PIP: &str = r#"pip install "fhir.resources==6.4.0" "pydantic>=1.10,<2""#;

fn validate(bundle: &serde_json::Value) -> String {
    let python = std::env::var("HEARTH_FHIR_PYTHON").unwrap_or_else(|_| "python3".into());
    // At run time: a test binary built in another checkout of the shared target dir is reused.
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
        .unwrap_or_else(|e| panic!("cannot run {python} ({e}); install Python 3 and {PIP}"));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&serde_json::to_vec(bundle).unwrap())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    match out.status.code() {
        Some(0) => String::from_utf8_lossy(&out.stdout).into_owned(),
        Some(2) => panic!(
            "the FHIR validator is missing: {stderr}\nInstall it for {python}: {PIP} \
             (or set HEARTH_FHIR_PYTHON to a Python that has it)"
        ),
        _ => panic!("fhir.resources (R4) rejects the bundle:\n{stderr}"),
    }
}

#[test]
fn a_rich_patient_bundle_is_valid_fhir_r4() {
    let kinds = validate(&fixtures::rich_bundle(true));
    for kind in [
        "Patient",
        "Encounter",
        "Observation",
        "QuestionnaireResponse",
        "DocumentReference",
        "CarePlan",
        "Goal",
        "Condition",
        "Consent",
        "Provenance",
        "AuditEvent",
        "Device",
    ] {
        assert!(
            kinds.contains(&format!("\"{kind}\"")),
            "{kind} missing from {kinds}"
        );
    }
}

#[test]
fn the_validator_catches_a_broken_resource() {
    // A test that cannot fail is a defect: prove the validator rejects what it should.
    let mut b = fixtures::rich_bundle(false);
    b["entry"][1]["resource"]["birthDate"] = serde_json::json!("1984-13-45");
    let r = std::panic::catch_unwind(|| validate(&b));
    let msg = r.unwrap_err();
    let msg = msg.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(msg.contains("rejects the bundle"), "{msg}");
}
