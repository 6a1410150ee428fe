//! Quorum arithmetic against a plain model: random stakes (up to `u64::MAX`), duplicate
//! cosignatures, unknown keys, invalid signatures, and stake changes across epochs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ed25519_dalek::SigningKey;
use hearth_ledger::*;
use proptest::prelude::*;

fn signer(i: u8) -> WitnessSigner {
    WitnessSigner::new(format!("w{i}.example"), SigningKey::from_bytes(&[i; 32])).unwrap()
}

#[derive(Debug, Clone)]
enum Extra {
    Duplicate(usize),
    Unknown(u8),
    Tampered(usize),
    OtherCheckpoint(usize),
    Renamed(usize),
}

fn extra() -> impl Strategy<Value = Extra> {
    prop_oneof![
        any::<usize>().prop_map(Extra::Duplicate),
        (100u8..120).prop_map(Extra::Unknown),
        any::<usize>().prop_map(Extra::Tampered),
        any::<usize>().prop_map(Extra::OtherCheckpoint),
        any::<usize>().prop_map(Extra::Renamed),
    ]
}

fn stake() -> impl Strategy<Value = u64> {
    prop_oneof![0u64..100, any::<u64>(), Just(u64::MAX)]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn finality_matches_the_model(
        stakes in prop::collection::vec(stake(), 1..8),
        signs in prop::collection::vec(any::<bool>(), 8),
        extras in prop::collection::vec(extra(), 0..6),
        shuffle in any::<u64>(),
    ) {
        let signers: Vec<WitnessSigner> = (0..stakes.len() as u8).map(signer).collect();
        let table = StakeTable::genesis(signers.iter().zip(&stakes).map(|(s, &st)| (s.witness_key().clone(), st)));
        let cp = Checkpoint::new("log.example", 42, Hash([4; 32])).unwrap();
        let other = Checkpoint::new("log.example", 42, Hash([5; 32])).unwrap();
        let text = cp.to_text();
        let mut cosigs = Vec::new();
        let mut model: u128 = 0;
        for (i, s) in signers.iter().enumerate() {
            if signs[i] {
                cosigs.push(s.cosign(&text, 1000 + i as u64));
                model += u128::from(stakes[i]);
            }
        }
        let n = signers.len();
        for e in &extras {
            match e {
                // A second cosignature by the same key (even with another timestamp) adds nothing.
                Extra::Duplicate(i) => {
                    let i = i % n;
                    if signs[i] {
                        cosigs.push(signers[i].cosign(&text, 5000));
                    }
                }
                Extra::Unknown(seed) => cosigs.push(signer(*seed).cosign(&text, 1)),
                Extra::Tampered(i) => {
                    let mut c = signers[i % n].cosign(&text, 7);
                    c.signature[3] ^= 0x40;
                    cosigs.push(c);
                }
                Extra::OtherCheckpoint(i) => cosigs.push(signers[i % n].cosign(&other.to_text(), 7)),
                Extra::Renamed(i) => {
                    let mut c = signers[i % n].cosign(&text, 7);
                    c.name = "someone-else".into();
                    cosigs.push(c);
                }
            }
        }
        // Order does not matter.
        let k = cosigs.len().max(1);
        cosigs.rotate_left((shuffle as usize) % k);
        let total: u128 = stakes.iter().map(|&s| u128::from(s)).sum();
        let t = tally(&cp, &cosigs, &table);
        prop_assert_eq!(t.cosigned, model);
        prop_assert_eq!(t.total, total);
        prop_assert_eq!(is_final(&cp, &cosigs, &table), total > 0 && 3 * model > 2 * total);
    }
}

#[test]
fn exactly_two_thirds_is_not_final_and_one_more_is() {
    let s: Vec<WitnessSigner> = (0..3).map(signer).collect();
    let cp = Checkpoint::new("o", 1, Hash([1; 32])).unwrap();
    let c: Vec<Cosignature> = s.iter().map(|w| w.cosign(&cp.to_text(), 1)).collect();
    let t = StakeTable::genesis([
        (s[0].witness_key().clone(), 2),
        (s[1].witness_key().clone(), 2),
        (s[2].witness_key().clone(), 2),
    ]);
    assert!(!is_final(&cp, &c[..2], &t));
    let t = StakeTable::genesis([
        (s[0].witness_key().clone(), 2),
        (s[1].witness_key().clone(), 3),
        (s[2].witness_key().clone(), 2),
    ]);
    assert!(is_final(&cp, &c[..2], &t));
    assert!(
        !is_final(&cp, &c, &StakeTable::new()),
        "no stake, no finality"
    );
    let huge = StakeTable::genesis(s.iter().map(|w| (w.witness_key().clone(), u64::MAX)));
    assert!(!is_final(&cp, &c[..2], &huge));
    assert!(is_final(&cp, &c, &huge));
}

#[derive(Debug, Clone)]
enum Op {
    SetStake(usize, u64),
    Checkpoint,
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Stake entries change nothing until a registrar checkpoint covering them is final; then
    /// exactly the entries below its size take effect, as one epoch.
    #[test]
    fn stake_changes_apply_at_epoch_boundaries(
        ops in prop::collection::vec(prop_oneof![
            3 => (0usize..4, 0u64..50).prop_map(|(i, s)| Op::SetStake(i, s)),
            1 => Just(Op::Checkpoint),
        ], 1..25),
    ) {
        let signers: Vec<WitnessSigner> = (0..4).map(signer).collect();
        let genesis = StakeTable::genesis(signers.iter().map(|s| (s.witness_key().clone(), 10)));
        let origin = "clinic.example/registrar";
        let mut log = Log::new(origin, LogRole::Registrar, NoteSigner::new(origin, SigningKey::from_bytes(&[99; 32])).unwrap()).unwrap();
        let mut reg = Registry::new(origin, log.verifier(), genesis.clone());
        let mut model_in_force: Vec<u64> = vec![10; 4];
        let mut model_logged = model_in_force.clone();
        let mut epoch = 0;
        let mut dirty = false;
        for op in ops {
            match op {
                Op::SetStake(i, s) => {
                    let a = log.append(&Entry::Stake(StakeChange { witness: signers[i].witness_key().clone(), stake: s })).unwrap();
                    prop_assert_eq!(reg.apply(&a.bytes), Applied::Queued);
                    model_logged[i] = s;
                    dirty = true;
                }
                Op::Checkpoint => {
                    let c = log.checkpoint(reg.table().hash()).unwrap();
                    for a in &c.chain {
                        prop_assert_eq!(reg.apply(&a.bytes), Applied::Recorded);
                    }
                    let text = c.signed.checkpoint().to_text();
                    let cosigs: Vec<Cosignature> = signers.iter().map(|s| s.cosign(&text, 1)).collect();
                    let res = reg.finalize(&c.signed, &cosigs);
                    if model_in_force.iter().all(|&s| s == 0) {
                        // No stake in force: nothing can be final any more.
                        let is_not_final = matches!(res, Err(StakeError::NotFinal { .. }));
                        prop_assert!(is_not_final);
                        continue;
                    }
                    let f = res.unwrap();
                    if dirty {
                        epoch += 1;
                    }
                    dirty = false;
                    model_in_force = model_logged.clone();
                    prop_assert_eq!(f.epoch, epoch);
                }
            }
            for (i, s) in signers.iter().enumerate() {
                prop_assert_eq!(reg.table().stake(s.witness_key()), model_in_force[i]);
            }
            prop_assert_eq!(reg.table().epoch(), epoch);
        }
    }
}
