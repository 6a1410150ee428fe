//! The audit log: every change and view is logged with it; checkpoints sign the log; `audit`
//! finds records changed outside Hearth and logs rewritten after a checkpoint.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use hearth_api::{NewPatient, PatientPatch};
use hearth_core::{Hearth, HearthOptions};
use hearth_records::{Doc, Patient};
use hearth_vault::{KdfParams, Passphrase, RecordId, Vault, VaultOptions};

const PASS: &str = "correct horse battery staple";

fn setup() -> (tempfile::TempDir, std::path::PathBuf, Hearth, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.hearth");
    let h = Hearth::create(
        &path,
        PASS,
        HearthOptions::default().insecure_fast_kdf_for_tests(),
    )
    .unwrap();
    let id = h
        .add_patient(NewPatient {
            name: "Ada".into(),
            ..Default::default()
        })
        .unwrap()
        .id;
    (dir, path, h, id)
}

#[test]
fn changes_and_views_are_logged_and_a_clean_vault_audits_clean() {
    let (_dir, _path, h, id) = setup();
    h.edit_patient(
        &id,
        PatientPatch {
            pronouns: Some("she/her".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let before = h.audit().unwrap().entries;
    assert_eq!(before, 2, "create + edit");
    h.patient(&id).unwrap();
    assert_eq!(h.audit().unwrap().entries, 3, "a view is logged too");
    // An edit that changes nothing writes nothing and logs nothing.
    h.edit_patient(
        &id,
        PatientPatch {
            pronouns: Some("she/her".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(h.audit().unwrap().entries, 3);

    let cp = h.checkpoint().unwrap();
    assert_eq!(cp.size, 5, "the checkpoint first appends the chain entries");
    assert!(cp.note.starts_with("hearth.local/device/"), "{}", cp.note);
    h.checkpoint().unwrap();
    let report = h.audit().unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    assert_eq!((report.records, report.checkpoints), (1, 2));
}

#[test]
fn a_record_changed_outside_hearth_is_named() {
    let (_dir, path, h, id) = setup();
    h.close().unwrap();
    // A modified app: it has the passphrase and edits the document properly, but logs nothing.
    let mut v = Vault::open(
        &path,
        VaultOptions::default().with_kdf(KdfParams::INSECURE_FOR_TESTS),
    )
    .unwrap();
    v.unlock(&Passphrase::new(PASS)).unwrap();
    let rid = RecordId::new(id.clone()).unwrap();
    let rec = v.get(&rid).unwrap();
    let mut doc: Doc<Patient> = Doc::from_envelope(&rec.plaintext, v.device_id()).unwrap();
    let mut p = doc.value().clone();
    p.name = "Mallory".into();
    doc.update(p, 1_800_000_000).unwrap();
    v.put(&rid, "patient", &rec.key_id, &doc.to_envelope().unwrap())
        .unwrap();
    drop(v);

    let h = Hearth::open_unlocked(&path, PASS, HearthOptions::default()).unwrap();
    let report = h.audit().unwrap();
    assert!(!report.ok());
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.contains(&id) && p.contains("without being logged")),
        "{:?}",
        report.problems
    );
}

#[test]
fn a_log_rewritten_after_a_checkpoint_is_caught() {
    let (_dir, path, h, id) = setup();
    h.patient(&id).unwrap();
    h.checkpoint().unwrap();
    h.close().unwrap();
    let c = rusqlite::Connection::open(&path).unwrap();
    // Rewrite the view entry (index 1) with the create entry's bytes.
    c.execute("UPDATE log_entries SET entry = (SELECT entry FROM log_entries WHERE idx = 0) WHERE idx = 1", []).unwrap();
    drop(c);
    let h = Hearth::open_unlocked(&path, PASS, HearthOptions::default()).unwrap();
    let report = h.audit().unwrap();
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.contains("does not match the log")),
        "{:?}",
        report.problems
    );
}

#[test]
fn a_record_with_no_log_entry_and_a_log_entry_with_no_record_are_reported() {
    let (_dir, path, h, id) = setup();
    h.close().unwrap();
    let c = rusqlite::Connection::open(&path).unwrap();
    // Move the patient under a new id: the old id has log entries but no record, the new one
    // has a record but no log entry (its ciphertext no longer opens under the new id either).
    c.execute(
        "UPDATE records SET id = ?1 WHERE id = ?2",
        ["f".repeat(32), id.clone()],
    )
    .unwrap();
    drop(c);
    let h = Hearth::open_unlocked(&path, PASS, HearthOptions::default()).unwrap();
    let report = h.audit().unwrap();
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.contains(&id) && p.contains("no longer in the vault")),
        "{:?}",
        report.problems
    );
    assert!(
        report.problems.iter().any(|p| p.contains(&"f".repeat(32))),
        "{:?}",
        report.problems
    );
}

#[test]
fn a_vault_restored_from_an_older_copy_is_caught_by_the_witnessed_checkpoint() {
    use ed25519_dalek::SigningKey;
    use hearth_ledger::{NoteVerifier, StakeTable, Witness, WitnessSigner, WitnessState};

    let (dir, path, h, id) = setup();
    h.checkpoint().unwrap();
    // Another clinic device witnesses this device's log (an in-process witness: the same state
    // machine the network will drive).
    let signer =
        WitnessSigner::new("clinic.example/witness-b", SigningKey::from_bytes(&[7; 32])).unwrap();
    let stake = StakeTable::genesis([(signer.witness_key().clone(), 10)]);
    let mut state = WitnessState::new();
    let verifier = NoteVerifier::parse(&h.log_verifier().unwrap()).unwrap();
    state.add_log(verifier.name().to_string(), verifier);
    let mut witness = Witness::new(signer, state);
    let mut cosign = |h: &Hearth, old: u64| -> Vec<u8> {
        let (proof, note) = h.witness_request(old).unwrap();
        let pending = witness
            .add_checkpoint(old, &proof, &note, 1_800_000_000)
            .unwrap();
        let persisted = pending.state_to_persist().clone();
        let cosig = witness.release(pending, &persisted).unwrap();
        let mut cp = hearth_ledger::SignedCheckpoint::parse(&note).unwrap();
        cp.add_cosignature(&cosig);
        cp.to_bytes()
    };
    let first = cosign(&h, 0);
    let first_size = hearth_ledger::SignedCheckpoint::parse(&first)
        .unwrap()
        .checkpoint()
        .size();

    // Keep an old copy of the vault, then work on.
    h.close().unwrap();
    let old_copy = dir.path().join("old.hearth");
    std::fs::copy(&path, &old_copy).unwrap();
    let h = Hearth::open_unlocked(&path, PASS, HearthOptions::default()).unwrap();
    h.edit_patient(
        &id,
        PatientPatch {
            pronouns: Some("they/them".into()),
            ..Default::default()
        },
    )
    .unwrap();
    h.checkpoint().unwrap();
    let second = cosign(&h, first_size);
    let report = h
        .audit_against(std::slice::from_ref(&second), &stake)
        .unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    assert!(
        report.notes.iter().any(|n| n.contains("is final")),
        "{:?}",
        report.notes
    );

    // Restore the old copy: the witnessed checkpoint is beyond its log.
    h.close().unwrap();
    std::fs::copy(&old_copy, &path).unwrap();
    let h = Hearth::open_unlocked(&path, PASS, HearthOptions::default()).unwrap();
    assert!(
        h.audit().unwrap().ok(),
        "on its own the old copy is consistent"
    );
    let report = h
        .audit_against(&[second], &StakeTable::genesis([]))
        .unwrap();
    assert!(
        report.problems.iter().any(|p| p.starts_with("rollback:")),
        "{:?}",
        report.problems
    );
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("short of quorum") || n.contains("final")),
        "{:?}",
        report.notes
    );
}

#[test]
fn a_patient_timeline_shows_who_changed_and_who_looked() {
    let (_dir, _path, h, id) = setup();
    let other = h
        .add_patient(NewPatient {
            name: "Bob".into(),
            ..Default::default()
        })
        .unwrap()
        .id;
    h.edit_patient(
        &id,
        PatientPatch {
            pronouns: Some("she/her".into()),
            ..Default::default()
        },
    )
    .unwrap();
    h.patient(&id).unwrap();
    h.patient(&other).unwrap();
    let t = h.patient_timeline(&id).unwrap();
    let actions: Vec<(&str, &str)> = t
        .iter()
        .map(|e| (e.action.as_str(), e.kind.as_str()))
        .collect();
    assert_eq!(
        actions,
        vec![
            ("created", "patient"),
            ("edited", "patient"),
            ("viewed", "patient")
        ]
    );
    assert!(
        t.iter().all(|e| e.record_id == id),
        "only this patient's records"
    );
    assert_eq!(t[2].purpose, "treatment");
    let status = h.log_status().unwrap();
    assert_eq!((status.size, status.checkpoints), (5, 0));
    h.checkpoint().unwrap();
    let status = h.log_status().unwrap();
    assert_eq!((status.size, status.last_checkpoint_size), (7, Some(7)));
    assert!(status.verifier.starts_with("hearth.local/device/"));
}
