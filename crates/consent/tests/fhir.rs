#![allow(clippy::unwrap_used, clippy::expect_used)]
//! FHIR R4 Consent JSON: round trips and refusals that name the path.

#[path = "support/fixtures.rs"]
mod fixtures;

use fixtures::*;
use hearth_consent::*;
use serde_json::{json, Value};
use time::macros::date;

#[test]
fn round_trip_keeps_every_field_including_nested_exceptions() {
    let c = rich();
    let json = to_fhir_json(&c).unwrap();
    let back = from_fhir_json(&json).unwrap();
    assert_eq!(back, c);
    // And the exported JSON is stable.
    assert_eq!(to_fhir_json(&back).unwrap(), json);
}

#[test]
fn round_trip_of_a_later_version_keeps_the_previous_hash() {
    let v1 = rich();
    let v2 = v1.revocation(date!(2026 - 03 - 01)).unwrap();
    let back = from_fhir_json(&to_fhir_json(&v2).unwrap()).unwrap();
    assert_eq!(back, v2);
    assert_eq!(back.previous, Some(v1.hash().unwrap()));
    assert_eq!(back.version, 2);
    assert_eq!(back.status, Status::Inactive);
}

#[test]
fn export_has_the_fhir_shape() {
    let v = to_fhir_value(&rich()).unwrap();
    assert_eq!(v["resourceType"], "Consent");
    assert_eq!(v["status"], "active");
    assert_eq!(v["scope"]["coding"][0]["code"], "patient-privacy");
    assert_eq!(v["category"][0]["coding"][0]["code"], "59284-0");
    assert_eq!(v["patient"]["reference"], "Patient/pat-1");
    assert_eq!(v["dateTime"], "2026-01-01");
    assert_eq!(v["provision"]["type"], "deny");
    let p0 = &v["provision"]["provision"][0];
    assert_eq!(p0["type"], "permit");
    assert_eq!(
        p0["period"],
        json!({"start": "2026-01-01", "end": "2027-01-01"})
    );
    assert_eq!(
        p0["actor"][0]["reference"]["reference"],
        "Organization/roe-clinic"
    );
    assert_eq!(
        p0["actor"][1]["reference"]["reference"],
        "Practitioner/dr-roe"
    );
    assert_eq!(p0["action"][0]["coding"][0]["code"], "read");
    assert_eq!(
        p0["purpose"][0],
        json!({"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "TREAT"})
    );
    assert_eq!(p0["class"][1]["code"], "assessments");
    assert_eq!(p0["provision"][0]["type"], "deny");
    assert_eq!(
        p0["provision"][0]["dataPeriod"],
        json!({"end": "2020-12-31"})
    );
    assert_eq!(p0["provision"][0]["provision"][0]["type"], "permit");
    assert_eq!(
        v["verification"][0]["verifiedWith"]["reference"],
        "Practitioner/dr-roe"
    );
    assert_eq!(
        v["sourceReference"]["reference"],
        "DocumentReference/scan-9"
    );
}

#[test]
fn imports_a_hand_written_consent_with_a_permit_root() {
    // A foreign opt-out style consent: the root is a permit with a nested deny.
    let json = json!({
        "resourceType": "Consent",
        "id": "ext-1",
        "text": {"status": "generated", "div": "<div>ignored</div>"},
        "status": "active",
        "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]},
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0", "display": "Patient Consent"}]}],
        "patient": {"reference": "Patient/pat-1"},
        "dateTime": "2026-01-01",
        "provision": {
            "type": "permit",
            "purpose": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "TREAT"}],
            "provision": [{"type": "deny", "class": [{"system": "urn:hearth:fhir:record-category", "code": "psychotherapy-notes"}]}]
        }
    });
    let c = from_fhir_json(&json.to_string()).unwrap();
    assert_eq!(
        c.provisions,
        vec![Provision::permit()
            .purposes([Purpose::Treatment])
            .except(Provision::deny().categories([Category::PsychotherapyNotes]))]
    );
    assert_eq!(c.version, 1);
}

fn refused(mutate: impl FnOnce(&mut Value)) -> FhirError {
    let mut v = to_fhir_value(&rich()).unwrap();
    mutate(&mut v);
    from_fhir_json(&v.to_string()).expect_err("must be refused")
}

fn at<'a>(v: &'a mut Value, pointer: &str) -> &'a mut Value {
    v.pointer_mut(pointer).unwrap()
}

#[test]
fn refusals_name_the_path() {
    type Mutation = Box<dyn FnOnce(&mut Value)>;
    let cases: Vec<(&str, Mutation, &str)> = vec![
        (
            "unknown action",
            Box::new(|v| *at(v, "/provision/provision/0/action/0/coding/0/code") = json!("delete")),
            "provision.provision[0].action[0].coding[0].code",
        ),
        (
            "unknown purpose",
            Box::new(|v| *at(v, "/provision/provision/0/purpose/1/code") = json!("HMARKT")),
            "provision.provision[0].purpose[1]",
        ),
        (
            "unknown category",
            Box::new(|v| *at(v, "/provision/provision/0/class/0/code") = json!("genome")),
            "provision.provision[0].class[0].code",
        ),
        (
            "unknown category system",
            Box::new(|v| *at(v, "/provision/provision/0/class/0/system") = json!("http://x")),
            "provision.provision[0].class[0].system",
        ),
        (
            "unknown nested type",
            Box::new(|v| *at(v, "/provision/provision/0/provision/0/type") = json!("maybe")),
            "provision.provision[0].provision[0].type",
        ),
        (
            "missing nested type",
            Box::new(|v| {
                at(v, "/provision/provision/0/provision/0/provision/0")
                    .as_object_mut()
                    .unwrap()
                    .remove("type");
            }),
            "provision.provision[0].provision[0].provision[0].type",
        ),
        (
            "unknown role",
            Box::new(|v| {
                *at(v, "/provision/provision/1/actor/0/role/coding/0/code") = json!("janitor")
            }),
            "provision.provision[1].actor[0].role.coding[0].code",
        ),
        (
            "bad actor reference",
            Box::new(|v| {
                *at(v, "/provision/provision/0/actor/1/reference/reference") =
                    json!("RelatedPerson/x")
            }),
            "provision.provision[0].actor[1].reference.reference",
        ),
        (
            "another patient as actor",
            Box::new(|v| {
                *at(v, "/provision/provision/2/actor/0/reference/reference") =
                    json!("Patient/pat-2")
            }),
            "provision.provision[2].actor[0].reference.reference",
        ),
        (
            "unknown status",
            Box::new(|v| *at(v, "/status") = json!("proposed")),
            "status",
        ),
        (
            "bad date",
            Box::new(|v| *at(v, "/dateTime") = json!("2026-13-01")),
            "dateTime",
        ),
        (
            "date time instead of date",
            Box::new(|v| {
                *at(v, "/provision/provision/0/period/end") = json!("2027-01-01T00:00:00Z")
            }),
            "provision.provision[0].period.end",
        ),
        (
            "period ending before it starts",
            Box::new(|v| *at(v, "/provision/provision/0/period/end") = json!("2025-01-01")),
            "provision.provision[0].period",
        ),
        (
            "bad data period",
            Box::new(|v| {
                *at(v, "/provision/provision/0/provision/0/dataPeriod/end") = json!(20201231)
            }),
            "provision.provision[0].provision[0].dataPeriod.end",
        ),
        (
            "wrong resource",
            Box::new(|v| *at(v, "/resourceType") = json!("Patient")),
            "resourceType",
        ),
        (
            "action not a list",
            Box::new(|v| *at(v, "/provision/provision/0/action") = json!("read")),
            "provision.provision[0].action",
        ),
        (
            "unsupported constraint in a provision",
            Box::new(|v| {
                at(v, "/provision/provision/3")
                    .as_object_mut()
                    .unwrap()
                    .insert("securityLabel".into(), json!([]));
            }),
            "provision.provision[3].securityLabel",
        ),
        (
            "unknown top-level field",
            Box::new(|v| {
                v.as_object_mut()
                    .unwrap()
                    .insert("policyRule".into(), json!({}));
            }),
            "policyRule",
        ),
        (
            "bad patient reference",
            Box::new(|v| *at(v, "/patient/reference") = json!("Group/1")),
            "patient.reference",
        ),
        (
            "bad contract id",
            Box::new(|v| *at(v, "/id") = json!("has space")),
            "id",
        ),
        (
            "bad version",
            Box::new(|v| *at(v, "/meta/versionId") = json!("0")),
            "meta.versionId",
        ),
        (
            "version 2 without previous hash",
            Box::new(|v| *at(v, "/meta/versionId") = json!("2")),
            "extension",
        ),
        (
            "unverified attestation",
            Box::new(|v| *at(v, "/verification/0/verified") = json!(false)),
            "verification[0].verified",
        ),
        (
            "wrong scope",
            Box::new(|v| *at(v, "/scope/coding/0/code") = json!("research")),
            "scope",
        ),
    ];
    for (name, mutate, path) in cases {
        let err = refused(mutate);
        assert_eq!(err.path(), Some(path), "{name}: {err}");
        assert!(err.to_string().contains(path), "{name}: {err}");
    }
}

#[test]
fn not_json_is_malformed() {
    for input in [
        "",
        "{",
        "[]",
        "null",
        "{\"resourceType\": \"Consent\"}",
        "{} {}",
    ] {
        let err = from_fhir_json(input).expect_err(input);
        assert!(matches!(err, FhirError::Malformed { .. }), "{input}: {err}");
    }
}

#[test]
fn deep_nesting_is_refused_without_overflow() {
    let head = to_fhir_json(&contract("deep", vec![])).unwrap();
    let open = r#"{"type": "permit", "provision": ["#.repeat(5000);
    let close = "]}".repeat(5000);
    let deep = format!(r#"{open}{{"type": "deny"}}{close}"#);
    let json = head.replacen(
        r#""provision": {"#,
        &format!(r#""provision": {deep}, "x": {{"#),
        1,
    );
    let err = from_fhir_json(&json).expect_err("too deep");
    assert!(err.to_string().contains("recursion limit"), "{err}");
}
