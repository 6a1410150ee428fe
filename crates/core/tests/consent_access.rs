//! Consent beyond single reads: break-glass (typed reason, time-limited, logged, listed),
//! consents signed on the patient's device (forged, broken chains and replays refused or
//! ignored), search results and the calendar filtered by consent, the editor's draft and the
//! patient's "who can see my records, and who looked" overview.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use ed25519_dalek::SigningKey;
use hearth_api::{
    Appointment, ConsentDraft, ConsentRule, ErrorKind, NewPatient, Note, NoteTemplate, Section,
};
use hearth_consent::{
    Action, Actor, Category, Contract, ContractId, PatientId, Provision, Purpose, Role,
    SignedContract,
};
use hearth_core::{Hearth, HearthOptions};
use hearth_vault::ManualClock;
use time::macros::date;

/// 2026-03-02 09:00 UTC.
const T0_MS: i64 = 1_772_442_000_000;

fn vault(dir: &tempfile::TempDir, clock: &std::sync::Arc<ManualClock>) -> Hearth {
    Hearth::create(
        &dir.path().join("v.hearth"),
        "correct horse battery staple",
        HearthOptions::default()
            .insecure_fast_kdf_for_tests()
            .idle_lock(None)
            .clock(clock.clone()),
    )
    .unwrap()
}

fn patient(h: &Hearth, name: &str) -> String {
    h.add_patient(NewPatient {
        name: name.into(),
        ..Default::default()
    })
    .unwrap()
    .id
}

fn note(h: &Hearth, p: &str, text: &str) -> String {
    h.add_note(
        Note {
            patient_id: p.into(),
            template: NoteTemplate::Free,
            sections: vec![Section {
                key: "note".into(),
                text: text.into(),
            }],
            ..Default::default()
        },
        false,
    )
    .unwrap()
    .info
    .id
}

/// A paper consent that denies reading session notes (and everything else but demographics).
fn deny_notes(h: &Hearth, p: &str) {
    let c = Contract::new(
        ContractId::new("c-deny").unwrap(),
        PatientId::new(p).unwrap(),
        date!(2026 - 03 - 01),
    )
    .provision(
        Provision::deny()
            .actions([Action::Read])
            .categories([Category::ProgressNotes, Category::Appointments]),
    );
    h.record_paper_consent(p, &hearth_consent::to_fhir_json(&c).unwrap())
        .unwrap();
}

#[test]
fn break_glass_opens_a_refused_chart_for_a_time_and_is_logged_and_listed() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::starting_at(T0_MS);
    let h = vault(&dir, &clock);
    let p = patient(&h, "Ada");
    let n = note(&h, &p, "Discussed safety plan.");
    deny_notes(&h, &p);
    assert_eq!(h.note(&n).unwrap_err().kind(), ErrorKind::Denied);

    // A reason must be typed, and the access is time-limited.
    for (reason, minutes) in [
        ("", 30),
        ("because", 30),
        ("patient in crisis at ER", 0),
        ("patient in crisis at ER", 241),
    ] {
        assert_eq!(
            h.break_glass(&p, reason, minutes).unwrap_err().kind(),
            ErrorKind::InvalidInput,
            "{reason:?} {minutes}"
        );
    }
    assert!(
        h.break_glass_list(&p).unwrap().is_empty(),
        "refusals store nothing"
    );

    let g = h
        .break_glass(&p, "ER called: patient in crisis, need safety plan", 30)
        .unwrap();
    assert!(g.active);
    assert_eq!(
        h.note(&n).unwrap().0.info.id,
        n,
        "readable during the grant"
    );
    assert_eq!(h.notes(&p).unwrap().len(), 1);

    // Logged: the grant as break-glass, the reads under purpose emergency.
    let tl = h.patient_timeline(&p).unwrap();
    assert!(tl
        .iter()
        .any(|e| e.action == "break-glass" && e.record_id == g.id));
    assert!(tl
        .iter()
        .any(|e| e.action == "viewed" && e.record_id == n && e.purpose == "emergency"));

    // Export and writes stay refused: break-glass opens reads only.
    assert_eq!(
        h.export_patient(&p, Purpose::Treatment.code(), false)
            .unwrap_err()
            .kind(),
        ErrorKind::Denied
    );

    // It ends on time, and is still listed for the patient.
    clock.advance(Duration::from_secs(31 * 60));
    assert_eq!(h.note(&n).unwrap_err().kind(), ErrorKind::Denied);
    let list = h.break_glass_list(&p).unwrap();
    assert_eq!(list.len(), 1);
    assert!(!list[0].active);
    assert!(list[0].reason.contains("ER called"));
    let overview = h.access_overview(&p).unwrap();
    assert_eq!(overview.break_glass.len(), 1);
    assert_eq!(overview.break_glass[0].reason, list[0].reason);
    assert_eq!(overview.break_glass[0].device, "this device");
    assert!(h.audit().unwrap().ok());
}

#[test]
fn consents_signed_on_the_patients_device_verify_link_and_ignore_replays() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::starting_at(T0_MS);
    let h = vault(&dir, &clock);
    let p = patient(&h, "Ada");
    let device = SigningKey::from_bytes(&[9; 32]);
    let v1 = Contract::new(
        ContractId::new("c-signed").unwrap(),
        PatientId::new(p.clone()).unwrap(),
        date!(2026 - 03 - 01),
    )
    .provision(
        Provision::permit()
            .actor(Actor::Role(Role::Clinician))
            .actions([Action::Read, Action::Write, Action::Export])
            .purposes([Purpose::Treatment]),
    );
    let s1 = SignedContract::sign(v1.clone(), &device).unwrap();
    let s1_json = s1.to_json().unwrap();

    // No registered device: refused.
    let e = h.record_signed_consent(&p, &s1_json).unwrap_err();
    assert!(e.message().contains("register"), "{}", e.message());

    let fp = h
        .register_patient_device(&p, &hex::encode(device.verifying_key().as_bytes()))
        .unwrap();
    assert_eq!(
        fp,
        hearth_core::fingerprint(device.verifying_key().as_bytes())
    );
    assert_eq!(h.patient_devices(&p).unwrap(), vec![fp]);
    assert!(h.register_patient_device(&p, "not hex").is_err());

    let (info, new) = h.record_signed_consent(&p, &s1_json).unwrap();
    assert!(new && !info.attested && info.version == 1);

    // Forged: signed, then altered (export to research added).
    let mut forged: serde_json::Value = serde_json::from_str(&s1_json).unwrap();
    forged["consent"]["provision"]["provision"][0]["purpose"][0]["code"] =
        serde_json::json!("HRESCH");
    let e = h
        .record_signed_consent(&p, &forged.to_string())
        .unwrap_err();
    assert!(e.message().contains("signature"), "{}", e.message());

    // Signed by another key: refused.
    let other = SigningKey::from_bytes(&[4; 32]);
    let e = h
        .record_signed_consent(
            &p,
            &SignedContract::sign(v1.clone(), &other)
                .unwrap()
                .to_json()
                .unwrap(),
        )
        .unwrap_err();
    assert!(e.message().contains("signature"), "{}", e.message());

    // v2 (revocation) links; then v1 replayed is ignored; a v3 that does not link is refused.
    let v2 = v1.revocation(date!(2026 - 03 - 02)).unwrap();
    let s2 = SignedContract::sign(v2.clone(), &device).unwrap();
    let (info2, new) = h.record_signed_consent(&p, &s2.to_json().unwrap()).unwrap();
    assert!(new && info2.status == "inactive");
    let (_, new) = h.record_signed_consent(&p, &s1_json).unwrap();
    assert!(!new, "an old version replayed changes nothing");
    let mut v3 = v1.next_version(date!(2026 - 03 - 03)).unwrap(); // names v1, not v2
    v3.version = 3;
    let e = h
        .record_signed_consent(
            &p,
            &SignedContract::sign(v3, &device)
                .unwrap()
                .to_json()
                .unwrap(),
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{}", e.message());
    assert_eq!(
        h.consents(&p).unwrap().len(),
        2,
        "nothing stored by refusals"
    );

    // Unsigned JSON is refused here (paper consents go through record_paper_consent).
    let attested = SignedContract::from_parts(v1, None).to_json().unwrap();
    assert!(h.record_signed_consent(&p, &attested).is_err());
    assert!(h.audit().unwrap().ok());
}

#[test]
fn search_results_and_the_calendar_hide_what_consent_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::starting_at(T0_MS);
    let h = vault(&dir, &clock);
    let (a, b) = (patient(&h, "Ada"), patient(&h, "Bea"));
    note(&h, &a, "Insomnia and work stress this week.");
    note(&h, &b, "Insomnia improved with sleep hygiene.");
    for (p, start) in [(&a, "2026-03-03T10:00"), (&b, "2026-03-03T11:00")] {
        h.add_appointment(Appointment {
            patient_id: p.to_string(),
            start: start.into(),
            duration_min: 50,
            service_code: "90834".into(),
            ..Default::default()
        })
        .unwrap();
    }
    assert_eq!(h.search("insomnia", 10).unwrap().len(), 2);

    deny_notes(&h, &b);
    let hits = h.search("insomnia", 10).unwrap();
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].patient_id, a);

    let cal = h.calendar("2026-03-03T00:00", "2026-03-04T00:00").unwrap();
    assert_eq!(cal.len(), 2, "a hidden slot still shows as busy");
    let hidden = cal.iter().find(|o| o.start == "2026-03-03T11:00").unwrap();
    assert_eq!(
        (
            hidden.patient_id.as_str(),
            hidden.patient_name.as_str(),
            hidden.service_code.as_str()
        ),
        ("", hearth_core::RESTRICTED, "")
    );
    let shown = cal.iter().find(|o| o.start == "2026-03-03T10:00").unwrap();
    assert_eq!(shown.patient_name, "Ada");

    // A break-glass grant on Bea's chart shows her notes in search again.
    h.break_glass(&b, "covering clinician, urgent call from patient", 60)
        .unwrap();
    assert_eq!(h.search("insomnia", 10).unwrap().len(), 2);
}

#[test]
fn the_editors_draft_becomes_the_contract_the_patient_reads_and_the_overview_tells_who_looked() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::starting_at(T0_MS);
    let h = vault(&dir, &clock);
    let p = patient(&h, "Ada");
    let n = note(&h, &p, "First session.");
    let draft = ConsentDraft {
        rules: vec![ConsentRule {
            permit: true,
            who: vec!["role:clinician".into()],
            actions: vec!["read".into(), "write".into()],
            categories: vec![],
            purposes: vec!["treatment".into()],
            from: None,
            until: Some("2026-12-31".into()),
            except: vec![ConsentRule {
                permit: false,
                categories: vec!["progress-notes".into()],
                ..Default::default()
            }],
        }],
    };
    let preview = h.consent_from_draft(&p, &draft).unwrap();
    assert!(preview.summary.contains("clinician"), "{}", preview.summary);
    assert!(
        preview.summary.contains("31 December 2026"),
        "{}",
        preview.summary
    );
    h.record_paper_consent(&p, &preview.fhir).unwrap();
    let e = h.note(&n).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Denied);
    assert!(e.message().contains("1.1"), "{}", e.message());
    h.patient(&p).unwrap();

    let bad = ConsentDraft {
        rules: vec![ConsentRule {
            who: vec!["role:wizard".into()],
            ..Default::default()
        }],
    };
    assert!(h
        .consent_from_draft(&p, &bad)
        .unwrap_err()
        .message()
        .contains("rule 1"));
    assert!(h.consent_from_draft(&p, &ConsentDraft::default()).is_err());

    let o = h.access_overview(&p).unwrap();
    assert_eq!(o.contracts, vec![preview.summary]);
    assert_eq!(o.defaults.len(), 4);
    let me = o
        .accessors
        .iter()
        .find(|a| a.device == "this device")
        .unwrap();
    assert!(me.actions.contains("viewed"), "{}", me.actions);
    assert!(me.count >= 1);
}
