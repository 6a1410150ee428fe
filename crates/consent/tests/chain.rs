#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Canonical form, signatures, attestation and version chains.

#[path = "support/fixtures.rs"]
mod fixtures;

use ed25519_dalek::SigningKey;
use fixtures::*;
use hearth_consent::*;
use time::macros::date;

fn key() -> SigningKey {
    SigningKey::from_bytes(&[7; 32])
}

fn other_key() -> SigningKey {
    SigningKey::from_bytes(&[8; 32])
}

fn v1() -> Contract {
    contract(
        "c-1",
        vec![Provision::permit()
            .actor(Actor::Member(roe()))
            .purposes([Purpose::Treatment])
            .categories([Category::ProgressNotes])],
    )
}

/// v1 signed, v2 adds assessments, v3 revokes.
fn three_versions() -> Vec<SignedContract> {
    let k = key();
    let a = v1();
    let mut b = a.next_version(date!(2026 - 02 - 01)).unwrap();
    b.provisions[0].categories.push(Category::Assessments);
    let c = b.revocation(date!(2026 - 03 - 01)).unwrap();
    vec![
        SignedContract::sign(a, &k).unwrap(),
        SignedContract::sign(b, &k).unwrap(),
        SignedContract::sign(c, &k).unwrap(),
    ]
}

#[test]
fn canonical_form_is_rfc8785_sorted_and_compact() {
    let bytes = v1().canonical_bytes().unwrap();
    let text = String::from_utf8(bytes).unwrap();
    assert!(
        text.starts_with(r#"{"category":[{"coding":[{"code":"59284-0","#),
        "{text}"
    );
    assert!(
        !text.contains(' ') || text.contains("any "),
        "compact: {text}"
    );
    // Re-canonicalising the parsed canonical form changes nothing.
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(serde_jcs::to_string(&value).unwrap(), text);
}

#[test]
fn hash_is_sha256_of_the_canonical_form() {
    use sha2::{Digest, Sha256};
    let c = v1();
    let expected: [u8; 32] = Sha256::digest(c.canonical_bytes().unwrap()).into();
    assert_eq!(c.hash().unwrap().0, expected);
    assert_eq!(
        ContractHash::from_hex(&c.hash().unwrap().to_hex()),
        Some(c.hash().unwrap())
    );
}

#[test]
fn sign_and_verify() {
    let s = SignedContract::sign(v1(), &key()).unwrap();
    s.verify(&key().verifying_key()).unwrap();
    let err = s.verify(&other_key().verifying_key()).unwrap_err();
    assert!(matches!(err, SignatureError::BadSignature { .. }), "{err}");
}

#[test]
fn a_tampered_contract_fails_verification() {
    let s = SignedContract::sign(v1(), &key()).unwrap();
    let mut tampered = s.contract().clone();
    tampered.provisions[0]
        .categories
        .push(Category::PsychotherapyNotes);
    let forged = SignedContract::from_parts(tampered, s.signature());
    let err = forged.verify(&key().verifying_key()).unwrap_err();
    assert!(
        err.to_string().contains("signature does not match"),
        "{err}"
    );
}

#[test]
fn stored_form_round_trips_and_keeps_the_signature_valid() {
    let s = SignedContract::sign(rich(), &key()).unwrap();
    let json = s.to_json().unwrap();
    let back = SignedContract::from_json(&json).unwrap();
    assert_eq!(back, s);
    back.verify(&key().verifying_key()).unwrap();
    assert!(SignedContract::from_json("{\"format\":\"x\",\"consent\":{}}").is_err());
}

#[test]
fn unsigned_needs_an_attestation() {
    let err = SignedContract::attested(v1()).unwrap_err();
    assert!(matches!(err, SignatureError::Unsigned { .. }));
    let paper = SignedContract::attested(rich()).unwrap();
    paper.verify(&key().verifying_key()).unwrap();
    let bare = SignedContract::from_parts(v1(), None);
    assert!(bare.verify(&key().verifying_key()).is_err());
}

#[test]
fn a_valid_chain_in_any_order_has_the_newest_head() {
    let mut versions = three_versions();
    versions.reverse();
    let chain = Chain::validate(versions, &key().verifying_key()).unwrap();
    assert_eq!(chain.versions().len(), 3);
    assert_eq!(chain.head().contract().version, 3);
    assert!(chain.is_revoked());
    assert_eq!(chain.head_hash(), chain.head().contract().hash().unwrap());
}

#[test]
fn a_chain_mixing_signed_and_attested_versions_is_valid() {
    let a = SignedContract::sign(v1(), &key()).unwrap();
    let b = v1()
        .next_version(date!(2026 - 02 - 01))
        .unwrap()
        .attested(Attestation {
            by: roe(),
            date: date!(2026 - 02 - 01),
            scan: None,
        });
    let b = SignedContract::attested(b).unwrap();
    Chain::validate([a, b], &key().verifying_key()).unwrap();
}

#[test]
fn broken_prev_hash_is_refused() {
    let mut v = three_versions();
    let mut c = v[1].contract().clone();
    c.previous = Some(ContractHash([0; 32]));
    v[1] = SignedContract::sign(c, &key()).unwrap();
    let err = Chain::validate(v, &key().verifying_key()).unwrap_err();
    assert!(
        matches!(err, ChainError::BrokenLink { version: 2, .. }),
        "{err}"
    );
}

#[test]
fn wrong_signer_is_refused() {
    let mut v = three_versions();
    v[2] = SignedContract::sign(v[2].contract().clone(), &other_key()).unwrap();
    let err = Chain::validate(v, &key().verifying_key()).unwrap_err();
    assert!(
        matches!(
            err,
            ChainError::Signature(SignatureError::BadSignature { version: 3, .. })
        ),
        "{err}"
    );
}

#[test]
fn a_gap_or_a_fork_is_refused() {
    let v = three_versions();
    let err = Chain::validate([v[0].clone(), v[2].clone()], &key().verifying_key()).unwrap_err();
    assert!(matches!(err, ChainError::Gap { version: 2, .. }), "{err}");

    let mut other = v[1].contract().clone();
    other.provisions.push(Provision::permit());
    let fork = SignedContract::sign(other, &key()).unwrap();
    let err =
        Chain::validate([v[0].clone(), v[1].clone(), fork], &key().verifying_key()).unwrap_err();
    assert!(matches!(err, ChainError::Fork { version: 2, .. }), "{err}");
}

#[test]
fn nothing_follows_a_revocation() {
    let v = three_versions();
    let after = v[2]
        .contract()
        .next_version(date!(2026 - 04 - 01))
        .unwrap()
        .with_status(Status::Active);
    let mut all = v.clone();
    all.push(SignedContract::sign(after.clone(), &key()).unwrap());
    let err = Chain::validate(all, &key().verifying_key()).unwrap_err();
    assert!(
        matches!(
            err,
            ChainError::AfterRevocation {
                revoked: 3,
                version: 4,
                ..
            }
        ),
        "{err}"
    );

    let mut chain = Chain::validate(v, &key().verifying_key()).unwrap();
    let err = chain
        .accept(
            SignedContract::sign(after, &key()).unwrap(),
            &key().verifying_key(),
        )
        .unwrap_err();
    assert!(matches!(err, ChainError::AfterRevocation { .. }));
    assert_eq!(chain.head().contract().version, 3);
}

#[test]
fn revocation_makes_every_later_request_deny() {
    let v = three_versions();
    let chain = Chain::validate(v.clone(), &key().verifying_key()).unwrap();
    let req = request(
        clinician(roe()),
        Action::Read,
        Category::ProgressNotes,
        Purpose::Treatment,
        date!(2026 - 03 - 02),
        None,
    );
    // Before revocation, v2 permits.
    assert!(evaluate(&[v[1].contract().clone()], &req).permit);
    // The whole chain given: the head (revoked) counts, older versions are ignored.
    let all: Vec<Contract> = chain
        .versions()
        .iter()
        .map(|s| s.contract().clone())
        .collect();
    let d = evaluate(&all, &req);
    assert!(!d.permit, "{}", d.reason);
    assert_eq!(
        d.deciding,
        Some(Deciding::Default(DefaultRule::NothingShared))
    );
    assert_eq!(ConsentSet::from_chains([&chain]).evaluate(&req), d);
    let before = Chain::validate(v[..2].to_vec(), &key().verifying_key()).unwrap();
    assert!(ConsentSet::from_chains([&before]).evaluate(&req).permit);
}

#[test]
fn accept_appends_ignores_replays_and_refuses_forgeries() {
    let v = three_versions();
    let vk = key().verifying_key();
    let mut chain = Chain::validate([v[0].clone()], &vk).unwrap();
    assert_eq!(chain.accept(v[1].clone(), &vk).unwrap(), Accepted::Appended);
    // An older version replayed after a newer one changes nothing.
    assert_eq!(
        chain.accept(v[0].clone(), &vk).unwrap(),
        Accepted::AlreadyKnown
    );
    assert_eq!(chain.head().contract().version, 2);
    // A forged v3 (signed by someone else) is refused and changes nothing.
    let forged = SignedContract::sign(v[2].contract().clone(), &other_key()).unwrap();
    assert!(chain.accept(forged, &vk).is_err());
    assert_eq!(chain.head().contract().version, 2);
    assert_eq!(chain.accept(v[2].clone(), &vk).unwrap(), Accepted::Appended);
    // Another contract's version is refused.
    let stray = SignedContract::sign(contract("c-2", vec![]), &key()).unwrap();
    assert!(matches!(
        chain.accept(stray, &vk),
        Err(ChainError::Mixed { .. })
    ));
}

/// RFC 8785 §3.2.3's sorting example: keys ordered by UTF-16 code units, not by UTF-8 bytes
/// or code points. Guards the choice of canonicaliser.
#[test]
fn canonicaliser_sorts_keys_by_utf16_as_rfc8785_requires() {
    let input = r#"{"\u20ac":"Euro Sign","\r":"Carriage Return","\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\ud83d\ude00":"Emoji: Grinning Face","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis"}"#;
    let value: serde_json::Value = serde_json::from_str(input).unwrap();
    let out = serde_jcs::to_string(&value).unwrap();
    let order: Vec<&str> = [
        "Carriage Return",
        "One",
        "Control",
        "Latin Small",
        "Euro Sign",
        "Emoji",
        "Hebrew",
    ]
    .to_vec();
    let positions: Vec<usize> = order.iter().map(|k| out.find(k).unwrap()).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{out}");
    // RFC 8785 §3.2.2.3 number serialisation.
    let numbers: serde_json::Value =
        serde_json::from_str("[1E30, 4.50, 2e-3, 0.000001, -0]").unwrap();
    assert_eq!(
        serde_jcs::to_string(&numbers).unwrap(),
        "[1e+30,4.5,0.002,0.000001,0]"
    );
}
