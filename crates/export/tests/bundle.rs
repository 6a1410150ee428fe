#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The FHIR bundle's content: what is in, what is left out, determinism.

#[path = "support/fixtures.rs"]
mod fixtures;

use fixtures::*;
use serde_json::Value;

fn resources<'a>(b: &'a Value, kind: &str) -> Vec<&'a Value> {
    b["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .filter(|r| r["resourceType"] == kind)
        .collect()
}

#[test]
fn psychotherapy_notes_are_absent_by_default_and_present_when_asked() {
    let default = rich_bundle(false).to_string();
    assert!(!default.contains("Psychotherapy"));
    let b = rich_bundle(false);
    assert_eq!(resources(&b, "DocumentReference").len(), 2); // one signed note, one attachment
    let asked = rich_bundle(true);
    let docs = resources(&asked, "DocumentReference");
    assert_eq!(docs.len(), 3);
    let p = docs
        .iter()
        .find(|d| d["type"]["text"] == "Psychotherapy note")
        .unwrap();
    assert_eq!(p["securityLabel"][0]["coding"][0]["code"], "PSY");
    let text = base64_text(p);
    assert!(text.contains("PLANTED-PSYCHOTHERAPY"));
}

fn base64_text(d: &Value) -> String {
    use base64::Engine as _;
    let data = d["content"][0]["attachment"]["data"].as_str().unwrap();
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(data)
            .unwrap(),
    )
    .unwrap()
}

#[test]
fn drafts_are_absent_and_signed_notes_carry_signer_time_and_hash() {
    let b = rich_bundle(true);
    let all: String = resources(&b, "DocumentReference")
        .iter()
        .filter(|d| d["content"][0]["attachment"]["data"].is_string())
        .map(|d| base64_text(d))
        .collect();
    assert!(all.contains("PLANTED-SIGNED"));
    assert!(!all.contains("PLANTED-DRAFT"));
    let x = patient_export();
    let note = resources(&b, "DocumentReference")
        .into_iter()
        .find(|d| d["type"]["coding"][0]["code"] == "11506-3")
        .unwrap();
    assert_eq!(note["authenticator"]["display"], "Dr. Roe");
    assert_eq!(note["date"], "2026-05-28T20:28:20Z");
    let hash = x.notes[0]
        .value
        .signature
        .as_ref()
        .unwrap()
        .content_hash
        .clone();
    assert_eq!(note["identifier"][1]["value"], hash.as_str());
    assert!(base64_text(note).contains("Addendum signed by Dr. Roe"));
    assert!(note["context"]["encounter"][0]["reference"]
        .as_str()
        .unwrap()
        .starts_with("urn:uuid:"));
}

#[test]
fn encounters_are_the_attended_appointments() {
    let b = rich_bundle(false);
    let enc = resources(&b, "Encounter");
    assert_eq!(enc.len(), 2);
    assert_eq!(enc[0]["status"], "finished");
    assert_eq!(enc[0]["class"]["code"], "AMB");
    assert_eq!(enc[0]["type"][0]["coding"][0]["code"], "90834");
    assert_eq!(enc[0]["period"]["start"], "2026-05-04T10:00:00-05:00");
    assert_eq!(enc[0]["period"]["end"], "2026-05-04T10:50:00-05:00");
}

#[test]
fn assessments_become_loinc_totals_with_item_answers() {
    let b = rich_bundle(false);
    let obs = resources(&b, "Observation");
    let codes: Vec<&str> = obs
        .iter()
        .map(|o| o["code"]["coding"][0]["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["70274-6", "44261-6"]); // gad-1 sorts before phq-1 on the same day
    let phq = obs[1];
    assert_eq!(phq["valueInteger"], 13);
    assert_eq!(phq["interpretation"][0]["text"], "moderate");
    assert_eq!(phq["effectiveDateTime"], "2026-05-04");
    let qrs = resources(&b, "QuestionnaireResponse");
    let phq_qr = qrs
        .iter()
        .find(|q| q["item"].as_array().unwrap().len() == 9)
        .unwrap();
    assert_eq!(phq_qr["item"][0]["linkId"], "1");
    assert_eq!(
        phq_qr["item"][0]["answer"][0]["valueCoding"]["code"],
        "LA6570-1"
    );
    let url = b["entry"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["resource"]["id"] == phq_qr["id"])
        .unwrap()["fullUrl"]
        .clone();
    assert_eq!(phq["derivedFrom"][0]["reference"], url);
}

#[test]
fn audit_events_and_provenance_come_from_the_ledger() {
    let b = rich_bundle(false);
    let ev = resources(&b, "AuditEvent");
    let actions: Vec<&str> = ev.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["C", "U", "R", "R"]);
    assert_eq!(ev[3]["type"]["code"], "110106");
    assert_eq!(ev[0]["recorded"], "2026-05-28T20:26:40Z");
    let prov = resources(&b, "Provenance");
    assert_eq!(prov.len(), 1);
    let n = b["entry"].as_array().unwrap().len();
    assert_eq!(prov[0]["target"].as_array().unwrap().len(), n - 1);
    assert_eq!(prov[0]["agent"][0]["who"]["display"], "dr-roe-laptop");
}

#[test]
fn consent_points_at_the_patient_in_the_bundle() {
    let b = rich_bundle(false);
    let c = resources(&b, "Consent");
    assert_eq!(c.len(), 1);
    let pat = resources(&b, "Patient")[0];
    assert_eq!(
        c[0]["patient"]["reference"].as_str().unwrap(),
        format!("urn:uuid:{}", pat["id"].as_str().unwrap())
    );
}

#[test]
fn the_bundle_is_deterministic_with_unique_full_urls() {
    let a = serde_json::to_vec(&rich_bundle(true)).unwrap();
    let b = serde_json::to_vec(&rich_bundle(true)).unwrap();
    assert_eq!(a, b);
    let v = rich_bundle(true);
    let urls: std::collections::BTreeSet<&str> = v["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["fullUrl"].as_str().unwrap())
        .collect();
    assert_eq!(urls.len(), v["entry"].as_array().unwrap().len());
}
