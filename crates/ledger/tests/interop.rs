//! Our signed notes and checkpoints checked by code this crate did not write: the
//! `signed_note` and `tlog_tiles` crates (Cloudflare's ports of Go's `x/mod/sumdb/note` and
//! `tlog`, which give the same verdicts as Go). The Go reference itself is exercised by
//! `interop/check.sh`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ed25519_dalek::SigningKey;
use hearth_ledger::*;
use signed_note::{Note as SnNote, StandardVerifier, VerifierList};

fn signed_log() -> (Log, SignedCheckpoint) {
    let origin = "clinic.example/device-a";
    let mut log = Log::new(
        origin,
        LogRole::Device,
        NoteSigner::new(origin, SigningKey::from_bytes(&[5; 32])).unwrap(),
    )
    .unwrap();
    for i in 0..10u64 {
        log.append(&Entry::Access(Access {
            record: RecordId::new(format!("r{i}")).unwrap(),
            action: AccessAction::Export,
            purpose: Token::new("billing").unwrap(),
            actor: DeviceId([9; 32]),
            time: 1_767_225_600 + i,
        }))
        .unwrap();
    }
    let c = log.checkpoint(Hash([3; 32])).unwrap();
    (log, c.signed)
}

#[test]
fn signed_note_crate_verifies_our_checkpoint() {
    let (log, signed) = signed_log();
    let vkey = log.verifier().to_string();
    let verifier = StandardVerifier::new(&vkey).unwrap();
    let note = SnNote::from_bytes(&signed.to_bytes()).unwrap();
    let (ok, unknown) = note
        .verify(&VerifierList::new(vec![Box::new(verifier)]))
        .unwrap();
    assert_eq!(ok.len(), 1);
    assert!(unknown.is_empty());
    assert_eq!(note.text(), signed.checkpoint().to_text().as_bytes());

    // A tampered checkpoint is refused by it too.
    let tampered = String::from_utf8(signed.to_bytes())
        .unwrap()
        .replacen("\n12\n", "\n13\n", 1);
    assert_ne!(tampered.as_bytes(), signed.to_bytes());
    let note = SnNote::from_bytes(tampered.as_bytes()).unwrap();
    let verifier = StandardVerifier::new(&vkey).unwrap();
    assert!(note
        .verify(&VerifierList::new(vec![Box::new(verifier)]))
        .is_err());
}

#[test]
fn cosignature_lines_are_well_formed_note_signatures_for_signed_note() {
    let (log, mut signed) = signed_log();
    let w =
        WitnessSigner::new("clinic.example/witness-b", SigningKey::from_bytes(&[6; 32])).unwrap();
    signed.add_cosignature(&w.cosign(&signed.checkpoint().to_text(), 1_767_225_600));
    // signed_note ignores the cosignature (unknown key) and still verifies the log's.
    let note = SnNote::from_bytes(&signed.to_bytes()).unwrap();
    let verifier = StandardVerifier::new(&log.verifier().to_string()).unwrap();
    let (ok, unknown) = note
        .verify(&VerifierList::new(vec![Box::new(verifier)]))
        .unwrap();
    assert_eq!((ok.len(), unknown.len()), (1, 1));
    assert_eq!(
        unknown[0].id(),
        u32::from_be_bytes(w.witness_key().key_id())
    );
    assert_eq!(unknown[0].signature().len(), 72);
}

#[test]
fn we_verify_notes_signed_by_signed_note() {
    let name = "example.com/log";
    let sk = SigningKey::from_bytes(&[8; 32]);
    let public = [&[1u8][..], sk.verifying_key().as_bytes()].concat();
    let private = [&[1u8][..], &sk.to_bytes()[..]].concat();
    let skey = format!(
        "PRIVATE+KEY+{name}+{:08x}+{}",
        signed_note::key_id(name, &public),
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, private)
    );
    let vkey = signed_note::new_ed25519_verifier_key(name, &sk.verifying_key());
    assert_eq!(
        vkey,
        NoteVerifier::new(name, sk.verifying_key())
            .unwrap()
            .to_string()
    );
    let signer = signed_note::StandardSigner::new(&skey).unwrap();
    let text = "example.com/log\n3\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
    let mut n = SnNote::new(text.as_bytes(), &[]).unwrap();
    n.add_sigs(&[&signer]).unwrap();
    let ours = SignedCheckpoint::parse(&n.to_bytes()).unwrap();
    ours.verify(&NoteVerifier::parse(&vkey).unwrap()).unwrap();
    assert_eq!(ours.checkpoint().size(), 3);
    assert_eq!(NoteVerifier::parse(&vkey).unwrap().to_string(), vkey);
}

#[test]
fn tlog_tiles_parses_our_checkpoint_text() {
    let (_, signed) = signed_log();
    let text = signed.checkpoint().to_text();
    let theirs = tlog_tiles::Checkpoint::from_bytes(text.as_bytes()).unwrap();
    assert_eq!(theirs.origin(), signed.checkpoint().origin());
    assert_eq!(theirs.size(), signed.checkpoint().size());
    assert_eq!(theirs.hash().0, signed.checkpoint().root().0);
    assert_eq!(theirs.to_bytes(), text.as_bytes());
}
