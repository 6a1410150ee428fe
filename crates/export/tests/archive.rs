#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The signed archive: round trip, tampering named by part, finality, pinned keys.

#[path = "support/fixtures.rs"]
mod fixtures;

use fixtures::*;
use hearth_export::*;
use proptest::prelude::*;

#[test]
fn round_trip_verifies() {
    let bytes = sealed(3);
    let report = verify(&bytes, &VerifyOptions::default());
    assert!(report.passed(), "{report}");
    let text = report.to_string();
    assert!(text.contains("The archive is intact"), "{text}");
    assert!(text.contains("4 ledger entries proved included"), "{text}");
    assert!(
        text.contains("3 valid cosignature(s) holding 30 of 30 stake"),
        "{text}"
    );
}

#[test]
fn sealing_is_deterministic() {
    assert_eq!(sealed(3), sealed(3));
}

#[test]
fn archive_holds_documents_bundle_and_ledger() {
    let bytes = sealed(3);
    let a = Archive::parse(&bytes).unwrap();
    let kinds: Vec<&str> = a.manifest.parts.iter().map(|p| p.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "fhir-bundle",
            "document",
            "document",
            "stake-table",
            "checkpoint",
            "ledger-entries"
        ]
    );
    assert_eq!(
        a.part("records/1-session-note-note-1.automerge").unwrap(),
        b"automerge note document bytes"
    );
    let b: serde_json::Value = serde_json::from_slice(a.part("fhir/bundle.json").unwrap()).unwrap();
    assert_eq!(b["resourceType"], "Bundle");
}

fn flipped(bytes: &[u8], pos: usize, mask: u8) -> Vec<u8> {
    let mut b = bytes.to_vec();
    b[pos] ^= mask;
    b
}

#[test]
fn a_flipped_byte_in_every_region_names_that_region() {
    let bytes = sealed(3);
    let a = Archive::parse(&bytes).unwrap();
    assert_eq!(a.layout.last().unwrap().2, bytes.len());
    for (name, start, end) in &a.layout {
        for pos in [*start, (start + end) / 2, end - 1] {
            let report = verify(&flipped(&bytes, pos, 0x01), &VerifyOptions::default());
            assert!(!report.passed(), "flip at {pos} in {name} passed");
            let failed = report.failed_parts();
            assert!(
                failed.contains(&name.as_str()),
                "flip at {pos} in {name}: failed parts {failed:?}\n{report}"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn any_flipped_byte_fails_and_names_its_part(seed in any::<usize>(), mask in 1u8..=255) {
        let bytes = sealed(3);
        let a = Archive::parse(&bytes).unwrap();
        let pos = seed % bytes.len();
        let region = a.region_of(pos).unwrap().to_string();
        let report = verify(&flipped(&bytes, pos, mask), &VerifyOptions::default());
        prop_assert!(!report.passed());
        prop_assert!(report.failed_parts().contains(&region.as_str()),
            "flip at {} in {}: {:?}", pos, region, report.failed_parts());
    }

    #[test]
    fn truncated_or_extended_archives_fail(cut in any::<usize>(), extra in any::<u8>()) {
        let bytes = sealed(3);
        let n = cut % bytes.len();
        prop_assert!(!verify(&bytes[..n], &VerifyOptions::default()).passed());
        let mut longer = bytes.clone();
        longer.push(extra);
        prop_assert!(!verify(&longer, &VerifyOptions::default()).passed());
    }
}

#[test]
fn a_checkpoint_without_enough_stake_is_reported_not_final() {
    let bytes = sealed(2);
    let report = verify(&bytes, &VerifyOptions::default());
    assert!(report.passed(), "{report}");
    let text = report.to_string();
    assert!(text.contains("not final"), "{text}");
    assert!(text.contains("20 of 30 stake"), "{text}");
    let strict = verify(
        &bytes,
        &VerifyOptions {
            require_final: true,
            ..Default::default()
        },
    );
    assert!(!strict.passed());
    assert_eq!(
        strict.failed_parts(),
        ["ledger/0-hearth.example_log_dev-a.checkpoint"]
    );
}

#[test]
fn a_pinned_device_key_must_match() {
    let bytes = sealed(3);
    let ok = verify(
        &bytes,
        &VerifyOptions {
            trusted_device: Some(device_key().verifying_key().to_bytes()),
            ..Default::default()
        },
    );
    assert!(ok.passed(), "{ok}");
    assert_eq!(ok.warnings().filter(|c| c.part == "signature").count(), 0);
    let other = verify(
        &bytes,
        &VerifyOptions {
            trusted_device: Some([1; 32]),
            ..Default::default()
        },
    );
    assert_eq!(other.failed_parts(), ["signature"]);
}

#[test]
fn a_pinned_stake_table_judges_finality() {
    let bytes = sealed(3);
    let report = verify(
        &bytes,
        &VerifyOptions {
            trusted_stake_table: Some(hearth_ledger::StakeTable::new()),
            require_final: true,
            ..Default::default()
        },
    );
    assert!(
        !report.passed(),
        "an empty trusted table cannot make anything final"
    );
}

#[test]
fn a_resealed_archive_by_another_device_is_refused_when_the_device_is_pinned() {
    let other = ed25519_dalek::SigningKey::from_bytes(&[8; 32]);
    let bytes = seal(&archive_input(3), &other).unwrap();
    assert!(verify(&bytes, &VerifyOptions::default()).passed());
    let pinned = VerifyOptions {
        trusted_device: Some(device_key().verifying_key().to_bytes()),
        ..Default::default()
    };
    assert!(!verify(&bytes, &pinned).passed());
}

#[test]
fn sealing_refuses_a_wrong_proof() {
    let mut input = archive_input(3);
    input.logs[0].entries[1].proof.pop();
    let err = seal(&input, &device_key()).unwrap_err();
    assert!(
        matches!(err, ArchiveError::BadProof { index: 1, .. }),
        "{err}"
    );
}

#[test]
fn garbage_is_not_an_archive() {
    let report = verify(b"hello", &VerifyOptions::default());
    assert_eq!(report.failed_parts(), ["header"]);
    assert!(report.to_string().contains("not a Hearth archive"));
}
