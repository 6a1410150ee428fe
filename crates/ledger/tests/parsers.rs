//! Parsers take arbitrary bytes without panicking, and every encoding round-trips.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ed25519_dalek::SigningKey;
use hearth_ledger::*;
use proptest::prelude::*;

fn record_id() -> impl Strategy<Value = RecordId> {
    "[A-Za-z0-9._:-]{1,128}".prop_map(|s| RecordId::new(s).unwrap())
}

fn token() -> impl Strategy<Value = Token> {
    "[a-z0-9._-]{1,64}".prop_map(|s| Token::new(s).unwrap())
}

fn hash() -> impl Strategy<Value = Hash> {
    any::<[u8; 32]>().prop_map(Hash)
}

fn witness_key() -> impl Strategy<Value = WitnessKey> {
    ("[a-z0-9./-]{1,40}", any::<[u8; 32]>()).prop_map(|(name, seed)| {
        WitnessSigner::new(name, SigningKey::from_bytes(&seed))
            .unwrap()
            .witness_key()
            .clone()
    })
}

/// Evidence built from a real equivocation, so it also decodes to something that verifies.
fn evidence() -> impl Strategy<Value = Evidence> {
    (
        any::<[u8; 32]>(),
        1u64..1_000_000,
        hash(),
        hash(),
        any::<u64>(),
        prop::option::of(prop::collection::vec(hash(), 0..8)),
    )
        .prop_filter("roots must differ", |(_, _, a, b, _, _)| a != b)
        .prop_map(|(seed, size, r1, r2, ts, proof)| {
            let w = WitnessSigner::new("witness.example", SigningKey::from_bytes(&seed)).unwrap();
            let c1 = Checkpoint::new("log.example", size, r1).unwrap();
            let c2 = Checkpoint::new("log.example", size, r2).unwrap();
            let a = CosignedCheckpoint {
                cosignature: w.cosign(&c1.to_text(), ts),
                checkpoint: c1,
            };
            let b = CosignedCheckpoint {
                cosignature: w.cosign(&c2.to_text(), ts),
                checkpoint: c2,
            };
            let mut e = Evidence::equivocation(w.witness_key(), a, b).unwrap();
            if let Some(p) = proof {
                e.inconsistency = Some(InconsistencyProof {
                    prefix_root: r1,
                    proof: p,
                });
            }
            e
        })
}

fn entry() -> impl Strategy<Value = Entry> {
    prop_oneof![
        (
            record_id(),
            prop::collection::vec(any::<[u8; 32]>(), 0..20),
            0u8..3,
            token(),
            any::<[u8; 32]>(),
            any::<u64>()
        )
            .prop_map(
                |(record, heads, k, category, actor, time)| Entry::RecordChange(RecordChange {
                    record,
                    heads: heads.into_iter().map(ChangeHash).collect(),
                    kind: [ChangeKind::Create, ChangeKind::Edit, ChangeKind::Delete][k as usize],
                    category,
                    actor: DeviceId(actor),
                    time,
                })
            ),
        (
            record_id(),
            0u8..4,
            token(),
            any::<[u8; 32]>(),
            any::<u64>()
        )
            .prop_map(|(record, a, purpose, actor, time)| {
                Entry::Access(Access {
                    record,
                    action: [
                        AccessAction::View,
                        AccessAction::Export,
                        AccessAction::Analyse,
                        AccessAction::BreakGlass,
                    ][a as usize],
                    purpose,
                    actor: DeviceId(actor),
                    time,
                })
            }),
        (record_id(), hash(), 0u8..3, any::<u64>()).prop_map(|(patient, contract, a, time)| {
            Entry::Consent(Consent {
                patient,
                contract,
                action: [
                    ConsentAction::Granted,
                    ConsentAction::Withdrawn,
                    ConsentAction::Expired,
                ][a as usize],
                time,
            })
        }),
        (any::<[u8; 32]>(), token(), any::<bool>()).prop_map(|(m, role, added)| Entry::Membership(
            Membership {
                member: DeviceId(m),
                role,
                change: if added {
                    MembershipChange::Added
                } else {
                    MembershipChange::Removed
                },
            }
        )),
        (witness_key(), any::<u64>())
            .prop_map(|(witness, stake)| Entry::Stake(StakeChange { witness, stake })),
        evidence().prop_map(|e| Entry::Slash(Box::new(e))),
        hash().prop_map(Entry::PreviousCheckpoint),
        hash().prop_map(Entry::StakeTableHash),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn entries_round_trip(e in entry()) {
        let b = e.encode().unwrap();
        let d = Entry::decode(&b).unwrap();
        prop_assert_eq!(&d, &e);
        prop_assert_eq!(d.encode().unwrap(), b);
    }

    #[test]
    fn truncated_or_extended_entries_are_refused(e in entry(), cut in any::<usize>(), extra in any::<u8>()) {
        let b = e.encode().unwrap();
        let cut = cut % b.len();
        prop_assert!(Entry::decode(&b[..cut]).is_err());
        let mut longer = b.clone();
        longer.push(extra);
        prop_assert!(Entry::decode(&longer).is_err());
    }

    #[test]
    fn mutated_entries_never_panic(e in entry(), pos in any::<usize>(), byte in any::<u8>()) {
        let mut b = e.encode().unwrap();
        let i = pos % b.len();
        b[i] = byte;
        if let Ok(d) = Entry::decode(&b) {
            // Whatever decodes is canonical.
            prop_assert_eq!(d.encode().unwrap(), b);
        }
    }

    #[test]
    fn evidence_round_trips(e in evidence()) {
        let b = e.encode();
        prop_assert_eq!(Evidence::decode(&b).unwrap(), e);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let _ = Entry::decode(&bytes);
        let _ = Evidence::decode(&bytes);
        let _ = WitnessState::decode(&bytes);
        let _ = Note::parse(&bytes);
        let _ = SignedCheckpoint::parse(&bytes);
        let _ = AddCheckpointRequest::parse(&bytes);
        if let Ok(s) = std::str::from_utf8(&bytes) {
            let _ = Checkpoint::parse(s);
            let _ = NoteSignature::parse_line(s);
            let _ = Cosignature::parse_line(s);
            let _ = NoteVerifier::parse(s);
            let _ = WitnessKey::parse(s);
        }
    }

    /// Text-shaped garbage reaches deeper into the line parsers than random bytes do.
    #[test]
    fn note_shaped_text_never_panics(
        lines in prop::collection::vec("[a-zA-Z0-9+/=. \u{2014}-]{0,60}", 0..8),
        sigs in prop::collection::vec("\u{2014} [a-z.]{0,10} [A-Za-z0-9+/=]{0,120}", 0..4),
    ) {
        let text = format!("{}\n\n{}\n", lines.join("\n"), sigs.join("\n"));
        if let Ok(cp) = SignedCheckpoint::parse(text.as_bytes()) {
            prop_assert_eq!(SignedCheckpoint::parse(&cp.to_bytes()).unwrap(), cp);
        }
        let req = format!("old 3\n{}\n\n{}", lines.join("\n"), text);
        let _ = AddCheckpointRequest::parse(req.as_bytes());
        let _ = Checkpoint::parse(&format!("{}\n", lines.join("\n")));
    }

    #[test]
    fn checkpoints_round_trip(origin in "[a-z0-9./-]{1,60}", size in any::<u64>(), root in hash(),
                              ext in prop::collection::vec("[ -~]{1,40}", 0..3)) {
        let mut c = Checkpoint::new(origin, size, root).unwrap();
        for e in ext {
            c = c.with_extension(e).unwrap();
        }
        prop_assert_eq!(Checkpoint::parse(&c.to_text()).unwrap(), c);
    }

    #[test]
    fn witness_requests_round_trip(old in any::<u64>(), proof in prop::collection::vec(hash(), 0..30),
                                   body in prop::collection::vec(any::<u8>(), 0..200)) {
        let r = AddCheckpointRequest { old_size: old, proof, checkpoint: body };
        prop_assert_eq!(AddCheckpointRequest::parse(&r.to_bytes()).unwrap(), r);
    }
}

#[test]
fn witness_state_round_trips() {
    let mut s = WitnessState::new();
    for i in 0..3u8 {
        let v = NoteSigner::new(format!("log{i}"), SigningKey::from_bytes(&[i; 32]))
            .unwrap()
            .verifier();
        s.add_log(format!("origin/{i}"), v);
    }
    let b = s.encode();
    assert_eq!(WitnessState::decode(&b).unwrap(), s);
    assert!(WitnessState::decode(&b[..b.len() - 1]).is_err());
}
