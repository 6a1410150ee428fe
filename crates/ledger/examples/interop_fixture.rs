//! Fixtures for `interop/check.sh` (the Go reference verifiers).
//!
//! `interop_fixture write DIR` writes a signed, cosigned checkpoint, the keys, an inclusion
//! proof and a consistency proof; `interop_fixture verify-go DIR` checks a note signed by Go's
//! `note.Signer` (written by the Go side as `go-note.txt` + `go-vkey.txt`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::Path;

use ed25519_dalek::SigningKey;
use hearth_ledger::*;

fn write(dir: &Path) {
    let origin = "clinic.example/device-a";
    let signer = NoteSigner::new(origin, SigningKey::from_bytes(&[0x11; 32])).unwrap();
    let mut log = Log::new(origin, LogRole::Device, signer).unwrap();
    let mut leaves = Vec::new();
    for i in 0..37u64 {
        let e = Entry::Access(Access {
            record: RecordId::new(format!("rec-{i:04}")).unwrap(),
            action: AccessAction::View,
            purpose: Token::new("treatment").unwrap(),
            actor: DeviceId([0x22; 32]),
            time: 1_767_225_600 + i,
        });
        leaves.push(log.append(&e).unwrap().bytes);
    }
    let first = log.checkpoint(Hash([0; 32])).unwrap();
    let old = first.signed.checkpoint().clone();
    for i in 0..20u64 {
        log.append(&Entry::Consent(Consent {
            patient: RecordId::new(format!("rec-{i:04}")).unwrap(),
            contract: Hash([0x33; 32]),
            action: ConsentAction::Granted,
            time: 1_767_300_000 + i,
        }))
        .unwrap();
    }
    let mut signed = log.checkpoint(Hash([0; 32])).unwrap().signed;
    let cp = signed.checkpoint().clone();
    let witness = WitnessSigner::new(
        "clinic.example/witness-b",
        SigningKey::from_bytes(&[0x44; 32]),
    )
    .unwrap();
    let cosig = witness.cosign(&cp.to_text(), 1_767_400_000);
    signed.add_cosignature(&cosig);

    let index = 5u64;
    let b64 = |hs: &[Hash]| hs.iter().map(|h| h.to_base64() + "\n").collect::<String>();
    fs::write(dir.join("note.txt"), signed.to_bytes()).unwrap();
    fs::write(dir.join("vkey.txt"), log.verifier().to_string()).unwrap();
    fs::write(
        dir.join("witness-vkey.txt"),
        witness.witness_key().to_string(),
    )
    .unwrap();
    fs::write(dir.join("leaf.bin"), &leaves[index as usize]).unwrap();
    fs::write(
        dir.join("inclusion.txt"),
        format!(
            "{index}\n{}\n{}",
            cp.size(),
            b64(&log.inclusion_proof(index, cp.size()).unwrap())
        ),
    )
    .unwrap();
    fs::write(
        dir.join("consistency.txt"),
        format!(
            "{}\n{}\n{}",
            old.size(),
            old.root().to_base64(),
            b64(&log.consistency_proof(old.size(), cp.size()).unwrap())
        ),
    )
    .unwrap();
    println!("wrote fixtures to {}", dir.display());
}

fn verify_go(dir: &Path) {
    let note = fs::read(dir.join("go-note.txt")).unwrap();
    let vkey = fs::read_to_string(dir.join("go-vkey.txt")).unwrap();
    let signed = SignedCheckpoint::parse(&note).unwrap();
    signed
        .verify(&NoteVerifier::parse(vkey.trim()).unwrap())
        .unwrap();
    println!(
        "rust: verified Go-signed checkpoint {} size {}",
        signed.checkpoint().origin(),
        signed.checkpoint().size()
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match (args.get(1).map(String::as_str), args.get(2)) {
        (Some("write"), Some(dir)) => write(Path::new(dir)),
        (Some("verify-go"), Some(dir)) => verify_go(Path::new(dir)),
        _ => {
            eprintln!("usage: interop_fixture write|verify-go DIR");
            std::process::exit(2);
        }
    }
}
