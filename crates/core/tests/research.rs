//! The research export: only patients whose consent permits export for research, de-identified
//! (none of the planted identifiers survive), pseudonymous, logged; skipped patients named with
//! the consent reason.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use hearth_api::{Assessment, Instrument, NewPatient, Note, NoteTemplate, Section};
use hearth_consent::{
    Action, Actor, Category, Contract, ContractId, PatientId, Provision, Purpose, Role,
};
use hearth_core::{Hearth, HearthOptions};
use time::macros::date;

/// Everything planted in the records and notes that must not come out.
const PLANTED: &[&str] = &[
    "Zywicki",
    "Hope Z",
    "1979-04-23",
    "04/23/1979",
    "April 23, 1979",
    "(555) 201-3344",
    "555-201-3344",
    "5552013344",
    "hope.z@example.com",
    "17 Quarry Hill Road",
    "Quarry",
    "Smalltown",
    "62704",
    "Delphine",
    "Okafor",
    "555-777-1212",
    "Jane Roe",
    "Marcus",
    "Teodora",
    "Dr. Alvarez",
    "Alvarez",
    "MRN 00482913",
    "00482913",
    "hopewrites.net",
    "03/14/2026",
    "2026-01-05",
    "Quist",
];

fn vault() -> (tempfile::TempDir, Hearth) {
    let dir = tempfile::tempdir().unwrap();
    let h = Hearth::create(
        &dir.path().join("v.hearth"),
        "correct horse battery staple",
        HearthOptions::default().insecure_fast_kdf_for_tests(),
    )
    .unwrap();
    (dir, h)
}

fn patient_with_notes(h: &Hearth, name: &str) -> String {
    let p = h
        .add_patient(NewPatient {
            name: name.into(),
            date_of_birth: "1979-04-23".into(),
            phone: "(555) 201-3344".into(),
            email: "hope.z@example.com".into(),
            address: "17 Quarry Hill Road, Smalltown, IL 62704".into(),
            emergency_name: "Delphine Okafor".into(),
            emergency_relationship: "sister".into(),
            emergency_phone: "555-777-1212".into(),
            ..Default::default()
        })
        .unwrap()
        .id;
    let note = |subjective: &str, plan: &str| Note {
        patient_id: p.clone(),
        appointment_id: String::new(),
        template: NoteTemplate::Soap,
        sections: vec![
            Section {
                key: "subjective".into(),
                text: subjective.into(),
            },
            Section {
                key: "plan".into(),
                text: plan.into(),
            },
        ],
        ..Default::default()
    };
    let first = name.split(' ').next().unwrap_or(name);
    let signed = h
        .add_note(
            note(
                &format!(
                    "{first} (DOB 04/23/1979, MRN 00482913) reports her husband Marcus moved out \
                     on 03/14/2026. Her sister Delphine calls daily from 555-777-1212. {first} \
                     can be reached at 5552013344 or hope.z@example.com; she lives at 17 Quarry \
                     Hill Road, Smalltown, IL 62704. Shared her blog www.hopewrites.net. \
                     Daughter Teodora, 9, is doing well. Denies SI/HI. PHQ-9 score 14."
                ),
                "Will continue CBT weekly; coordinate with Dr. Alvarez. Hope box reviewed.",
            ),
            false,
        )
        .unwrap();
    h.sign_note(&signed.info.id, "Jane Roe, LCSW").unwrap();
    h.add_note(note(&format!("Draft about {first}."), ""), false)
        .unwrap();
    h.add_note(note(&format!("Process note about {first}."), ""), true)
        .unwrap();
    h.add_assessment(Assessment {
        patient_id: p.clone(),
        instrument: Instrument::Phq9,
        administered_on: "2026-01-05".into(),
        answers: vec![2, 2, 1, 1, 2, 1, 2, 2, 1],
    })
    .unwrap();
    p
}

fn consent(h: &Hearth, p: &str, id: &str, purposes: &[Purpose]) {
    let c = Contract::new(
        ContractId::new(id).unwrap(),
        PatientId::new(p).unwrap(),
        date!(2026 - 01 - 01),
    )
    .provision(
        Provision::permit()
            .actor(Actor::Role(Role::Clinician))
            .actions([Action::Read, Action::Write, Action::Export])
            .purposes(purposes.iter().copied())
            .categories([
                Category::Demographics,
                Category::ProgressNotes,
                Category::Assessments,
            ]),
    );
    h.record_paper_consent(p, &hearth_consent::to_fhir_json(&c).unwrap())
        .unwrap();
}

/// Standard base64 (the attachments'), decoded here to keep the test's dependencies as they are.
fn b64_decode(s: &str) -> Vec<u8> {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes().filter(|c| *c != b'=') {
        let v = A.iter().position(|a| *a == c).unwrap() as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

/// The NDJSON with every base64 attachment decoded beside it, and the manifest.
fn everything(out: &hearth_core::ResearchExport) -> String {
    let mut all = out.ndjson.clone();
    for line in out.ndjson.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        if let Some(data) = v["content"][0]["attachment"]["data"].as_str() {
            let text = b64_decode(data);
            all.push('\n');
            all.push_str(&String::from_utf8(text).unwrap());
        }
    }
    all.push('\n');
    all.push_str(&out.manifest_json);
    all
}

#[test]
fn a_research_export_contains_none_of_the_planted_identifiers() {
    let (_dir, h) = vault();
    let hope = patient_with_notes(&h, "Hope Zywicki");
    consent(
        &h,
        &hope,
        "research-1",
        &[Purpose::Treatment, Purpose::Research],
    );
    let out = h.research_export(None, Some([5; 32])).unwrap();
    assert_eq!(out.included, vec![hope.clone()]);
    let all = everything(&out);
    let lower = all.to_lowercase();
    for planted in PLANTED {
        assert!(
            !lower.contains(&planted.to_lowercase()),
            "{planted:?} survived in:\n{all}"
        );
    }
    assert!(!all.contains(&hope), "the vault id is not exported");
    // The note is there, de-identified, with clinical content intact.
    assert!(
        all.contains("reports her husband [NAME] moved out on "),
        "{all}"
    );
    assert!(all.contains("Denies SI/HI. PHQ-9 score 14."), "{all}");
    assert!(all.contains("Will continue CBT weekly"), "{all}");
    // The patient is called Hope: her name is removed wherever it is capitalised, even where
    // it is the word ("Hope box"); that is the price of never leaving her name in.
    assert!(all.contains("[NAME] box reviewed"), "{all}");
    assert!(all.contains("coordinate with Dr. [NAME]."), "{all}");
    assert!(!all.contains("Draft about") && !all.contains("Process note"));
    // One patient, one signed note, one measure; birth year kept (under 90).
    assert_eq!(out.manifest.resources.get("Patient"), Some(&1));
    assert_eq!(out.manifest.resources.get("DocumentReference"), Some(&1));
    assert_eq!(out.manifest.resources.get("Observation"), Some(&1));
    assert!(out.ndjson.contains(r#""birthDate":"1979""#));
    // The manifest counts what was removed, by kind.
    let m: serde_json::Value = serde_json::from_str(&out.manifest_json).unwrap();
    assert!(m["removed"]["name"].as_u64().unwrap() >= 5, "{m}");
    for kind in ["dob", "phone", "email", "address", "id", "url", "date"] {
        assert!(m["removed"][kind].as_u64().unwrap_or(0) >= 1, "{kind}: {m}");
    }
    // Pseudonyms are keyed: the same secret gives the same ids, another secret others.
    let again = h.research_export(None, Some([5; 32])).unwrap();
    assert_eq!(again.manifest.patients[0].id, out.manifest.patients[0].id);
    let other = h.research_export(None, Some([6; 32])).unwrap();
    assert_ne!(other.manifest.patients[0].id, out.manifest.patients[0].id);
}

#[test]
fn a_patient_without_research_consent_is_skipped_with_the_reason_and_the_export_is_logged() {
    let (_dir, h) = vault();
    let hope = patient_with_notes(&h, "Hope Zywicki");
    let quist = patient_with_notes(&h, "Bartholomew Quist");
    consent(&h, &hope, "research-1", &[Purpose::Research]);
    consent(&h, &quist, "treatment-1", &[Purpose::Treatment]);
    let before = h.log_status().unwrap().size;
    let out = h
        .research_export(Some(&[hope.clone(), quist.clone()]), None)
        .unwrap();
    assert_eq!(out.included, vec![hope.clone()]);
    assert_eq!(out.skipped.len(), 1);
    let (skipped, reason) = &out.skipped[0];
    assert_eq!(skipped, &quist);
    assert!(!reason.is_empty());
    println!("skipped: {reason}");
    // The manifest names the skipped patient by pseudonym only, with the reason.
    let m: serde_json::Value = serde_json::from_str(&out.manifest_json).unwrap();
    assert_eq!(m["skipped"][0]["reason"].as_str(), Some(reason.as_str()));
    assert!(m["skipped"][0]["id"].as_str().unwrap().starts_with("p-"));
    assert!(!out.manifest_json.contains(&quist) && !out.ndjson.contains("Quist"));
    // Logged: the export of the included patient, the refusals for the skipped one.
    assert!(h.log_status().unwrap().size > before);
    let hope_log = h.patient_timeline(&hope).unwrap();
    assert!(
        hope_log
            .iter()
            .any(|e| e.action == "exported" && e.purpose == "research"),
        "{hope_log:?}"
    );
    let quist_log = h.patient_timeline(&quist).unwrap();
    assert!(
        quist_log.iter().any(|e| e.purpose == "denied"),
        "{quist_log:?}"
    );
    assert!(!quist_log.iter().any(|e| e.action == "exported"));
}
