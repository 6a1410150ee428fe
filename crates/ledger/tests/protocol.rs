//! The witnessing protocol end to end with in-process logs and witnesses: the log's
//! checkpoint chain, the witness's refusals (tlog-witness cases), persist-before-release,
//! finality, epochs, equivocation evidence and slashing on replicas of the registrar log.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ed25519_dalek::SigningKey;
use hearth_ledger::*;

const T0: u64 = 1_767_225_600;

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn device_log(seed: u8) -> Log {
    let origin = format!("clinic.example/device-{seed}");
    Log::new(
        origin.clone(),
        LogRole::Device,
        NoteSigner::new(origin, key(seed)).unwrap(),
    )
    .unwrap()
}

fn access(i: u64) -> Entry {
    Entry::Access(Access {
        record: RecordId::new(format!("rec-{i}")).unwrap(),
        action: AccessAction::View,
        purpose: Token::new("treatment").unwrap(),
        actor: DeviceId([1; 32]),
        time: T0 + i,
    })
}

fn witness_for(seed: u8, logs: &[&Log]) -> Witness {
    let mut s = WitnessState::new();
    for l in logs {
        s.add_log(l.origin(), l.verifier());
    }
    Witness::new(
        WitnessSigner::new(format!("clinic.example/witness-{seed}"), key(seed)).unwrap(),
        s,
    )
}

/// add_checkpoint → persist → release, as an adapter would do it.
fn cosign(
    w: &mut Witness,
    old: u64,
    proof: &[Hash],
    cp: &SignedCheckpoint,
    now: u64,
) -> Result<Cosignature, WitnessError> {
    let pending = w.add_checkpoint(old, proof, &cp.to_bytes(), now)?;
    let stored = WitnessState::decode(&pending.state_to_persist().encode()).unwrap();
    w.release(pending, &stored)
}

#[test]
fn checkpoints_chain_previous_checkpoint_and_stake_table() {
    let mut log = device_log(1);
    for i in 0..5 {
        log.append(&access(i)).unwrap();
    }
    let table = StakeTable::genesis([]);
    let c1 = log.checkpoint(table.hash()).unwrap();
    assert_eq!(c1.signed.checkpoint().size(), 7);
    assert_eq!(
        Entry::decode(&c1.chain[0].bytes).unwrap(),
        Entry::PreviousCheckpoint(Hash::default())
    );
    assert_eq!(
        Entry::decode(&c1.chain[1].bytes).unwrap(),
        Entry::StakeTableHash(table.hash())
    );
    log.append(&access(9)).unwrap();
    let c2 = log.checkpoint(table.hash()).unwrap();
    assert_eq!(
        Entry::decode(&c2.chain[0].bytes).unwrap(),
        Entry::PreviousCheckpoint(c1.signed.checkpoint().hash())
    );
    // The chain entries are inside the tree the new checkpoint commits to.
    let cp = c2.signed.checkpoint();
    for a in &c2.chain {
        let p = log.inclusion_proof(a.index, cp.size()).unwrap();
        verify_inclusion(a.index, cp.size(), &a.leaf, &p, cp.root()).unwrap();
    }
    c2.signed.verify(&log.verifier()).unwrap();
}

#[test]
fn log_refuses_registrar_and_chain_entries_on_a_device() {
    let mut log = device_log(1);
    let w = WitnessSigner::new("w", key(9)).unwrap();
    let stake = Entry::Stake(StakeChange {
        witness: w.witness_key().clone(),
        stake: 1,
    });
    assert_eq!(log.append(&stake), Err(LogError::RegistrarOnly));
    assert_eq!(
        log.append(&Entry::PreviousCheckpoint(Hash::default())),
        Err(LogError::ChainEntry)
    );
}

#[test]
fn log_restores_from_stored_entries_and_detects_tampering() {
    let mut log = device_log(1);
    let mut stored = Vec::new();
    for i in 0..10 {
        stored.push(log.append(&access(i)).unwrap().bytes);
    }
    let commit = log.checkpoint(Hash::default()).unwrap();
    stored.extend(commit.chain.iter().map(|a| a.bytes.clone()));
    let signer = || NoteSigner::new(log.origin(), key(1)).unwrap();
    let restored = Log::restore(
        log.origin(),
        LogRole::Device,
        signer(),
        stored.iter().map(|b| b.as_slice()),
        Some(commit.signed.clone()),
    )
    .unwrap();
    assert_eq!(restored.tree().root(), log.tree().root());
    stored[3] = access(99).encode().unwrap();
    let err = Log::restore(
        log.origin(),
        LogRole::Device,
        signer(),
        stored.iter().map(|b| b.as_slice()),
        Some(commit.signed.clone()),
    )
    .unwrap_err();
    assert_eq!(err, LogError::RestoreMismatch { size: 12 });
}

#[test]
fn witness_cosigns_a_growing_log() {
    let mut log = device_log(1);
    let mut w = witness_for(7, &[&log]);
    let mut old = 0;
    for round in 0..4u64 {
        for i in 0..=round * 3 {
            log.append(&access(i)).unwrap();
        }
        let c = log.checkpoint(Hash::default()).unwrap();
        let size = c.signed.checkpoint().size();
        let proof = log.consistency_proof(old, size).unwrap();
        let cosig = cosign(&mut w, old, &proof, &c.signed, T0 + round).unwrap();
        assert!(w.key().verify(&c.signed.checkpoint().to_text(), &cosig));
        assert_eq!(cosig.timestamp, T0 + round);
        assert_eq!(w.state().log(log.origin()).unwrap().size, size);
        old = size;
    }
    // Cosigning the same checkpoint again is allowed (same size, same root, empty proof).
    let last = log.last_checkpoint().unwrap().clone();
    cosign(&mut w, old, &[], &last, T0 + 9).unwrap();
}

#[test]
fn witness_refuses_the_tlog_witness_error_cases() {
    let mut log = device_log(1);
    let mut w = witness_for(7, &[&log]);
    for i in 0..6 {
        log.append(&access(i)).unwrap();
    }
    let c1 = log.checkpoint(Hash::default()).unwrap().signed;
    cosign(&mut w, 0, &[], &c1, T0).unwrap();
    let s1 = c1.checkpoint().size();
    for i in 0..5 {
        log.append(&access(100 + i)).unwrap();
    }
    let c2 = log.checkpoint(Hash::default()).unwrap().signed;
    let s2 = c2.checkpoint().size();
    let proof = log.consistency_proof(s1, s2).unwrap();

    // Unknown origin (404).
    let mut other = device_log(2);
    other.append(&access(1)).unwrap();
    let oc = other.checkpoint(Hash::default()).unwrap().signed;
    let e = w.add_checkpoint(0, &[], &oc.to_bytes(), T0).unwrap_err();
    assert!(matches!(e, WitnessError::UnknownOrigin(_)));
    assert_eq!(e.http_status(), 404);

    // Bad log signature (403): a checkpoint for our origin signed by another key.
    let forger = NoteSigner::new(log.origin(), key(66)).unwrap();
    let mut forged = SignedCheckpoint::unsigned(c2.checkpoint().clone()).unwrap();
    forger.sign(forged.note_mut());
    let e = w
        .add_checkpoint(s1, &proof, &forged.to_bytes(), T0)
        .unwrap_err();
    assert_eq!(e.http_status(), 403);
    // …and an altered checkpoint under the genuine signature.
    let tampered = String::from_utf8(c2.to_bytes()).unwrap().replacen(
        &s2.to_string(),
        &(s2 + 1).to_string(),
        1,
    );
    let e = w
        .add_checkpoint(s1, &proof, tampered.as_bytes(), T0)
        .unwrap_err();
    assert!(
        matches!(
            e,
            WitnessError::BadLogSignature(NoteError::BadSignature { .. })
        ),
        "{e}"
    );

    // Malformed (400).
    assert_eq!(
        w.add_checkpoint(s1, &proof, b"garbage", T0)
            .unwrap_err()
            .http_status(),
        400
    );

    // Old size larger than the checkpoint (400).
    let e = w
        .add_checkpoint(s2 + 1, &proof, &c2.to_bytes(), T0)
        .unwrap_err();
    assert_eq!(
        e,
        WitnessError::OldSizeTooLarge {
            old: s2 + 1,
            new: s2
        }
    );
    assert_eq!(e.http_status(), 400);

    // Old size not what the witness holds (409, with its size).
    let e = w
        .add_checkpoint(s1 - 1, &proof, &c2.to_bytes(), T0)
        .unwrap_err();
    assert_eq!(e, WitnessError::Conflict { current_size: s1 });
    assert_eq!(e.http_status(), 409);

    // Bad proof (422): flipped bit, truncated, and a proof for other sizes.
    let mut bad = proof.clone();
    bad[0].0[0] ^= 1;
    let e = w.add_checkpoint(s1, &bad, &c2.to_bytes(), T0).unwrap_err();
    assert!(matches!(e, WitnessError::BadProof(_)));
    assert_eq!(e.http_status(), 422);
    assert!(matches!(
        w.add_checkpoint(s1, &proof[1..], &c2.to_bytes(), T0),
        Err(WitnessError::BadProof(_))
    ));
    let wrong = log.consistency_proof(s1 - 1, s2).unwrap();
    assert!(matches!(
        w.add_checkpoint(s1, &wrong, &c2.to_bytes(), T0),
        Err(WitnessError::BadProof(_))
    ));

    // The honest request still works afterwards: the refusals changed nothing.
    assert_eq!(w.state().log(log.origin()).unwrap().size, s1);
    cosign(&mut w, s1, &proof, &c2, T0).unwrap();

    // Rollback: an older checkpoint of the same log is refused.
    let e = w.add_checkpoint(s2, &[], &c1.to_bytes(), T0).unwrap_err();
    assert_eq!(e, WitnessError::OldSizeTooLarge { old: s2, new: s1 });
    let e = w.add_checkpoint(0, &[], &c1.to_bytes(), T0).unwrap_err();
    assert_eq!(e, WitnessError::Conflict { current_size: s2 });
}

#[test]
fn witness_refuses_a_conflicting_history() {
    // The device signs two different logs under one origin (a fork).
    let mut honest = device_log(1);
    let mut fork = device_log(1);
    let mut w = witness_for(7, &[&honest]);
    for i in 0..4 {
        honest.append(&access(i)).unwrap();
        fork.append(&access(i)).unwrap();
    }
    let c1 = honest.checkpoint(Hash::default()).unwrap().signed;
    let _ = fork.checkpoint(Hash::default()).unwrap();
    cosign(&mut w, 0, &[], &c1, T0).unwrap();
    let s1 = c1.checkpoint().size();

    // Same size, different root.
    let mut f2 = device_log(1);
    for i in 0..4 {
        f2.append(&access(50 + i)).unwrap();
    }
    let fc = f2.checkpoint(Hash::default()).unwrap().signed;
    assert_eq!(fc.checkpoint().size(), s1);
    assert_eq!(
        w.add_checkpoint(s1, &[], &fc.to_bytes(), T0).unwrap_err(),
        WitnessError::RootConflict { size: s1 }
    );

    // A longer fork whose history diverged: its own valid proof does not connect to what the
    // witness cosigned.
    for i in 0..3 {
        f2.append(&access(70 + i)).unwrap();
    }
    let fc2 = f2.checkpoint(Hash::default()).unwrap().signed;
    let p = f2.consistency_proof(s1, fc2.checkpoint().size()).unwrap();
    assert!(matches!(
        w.add_checkpoint(s1, &p, &fc2.to_bytes(), T0),
        Err(WitnessError::BadProof(_))
    ));
}

#[test]
fn cosignature_is_released_only_for_the_persisted_state() {
    let mut log = device_log(1);
    let mut w = witness_for(7, &[&log]);
    log.append(&access(1)).unwrap();
    let c1 = log.checkpoint(Hash::default()).unwrap().signed;
    let before = w.state().clone();

    // Persisting the old state (the write was lost) releases nothing and moves nothing.
    let pending = w.add_checkpoint(0, &[], &c1.to_bytes(), T0).unwrap();
    assert_eq!(
        w.release(pending, &before).unwrap_err(),
        WitnessError::NotPersisted
    );
    assert_eq!(w.state(), &before);

    // Two requests checked against the same state: the first to be persisted wins, the
    // other is stale even if the caller persisted its state.
    log.append(&access(2)).unwrap();
    let c2 = log.checkpoint(Hash::default()).unwrap().signed;
    let p1 = w.add_checkpoint(0, &[], &c1.to_bytes(), T0).unwrap();
    let p2 = w.add_checkpoint(0, &[], &c2.to_bytes(), T0).unwrap();
    let s1 = p1.state_to_persist().clone();
    let s2 = p2.state_to_persist().clone();
    w.release(p1, &s1).unwrap();
    assert_eq!(w.release(p2, &s2).unwrap_err(), WitnessError::Stale);
    assert_eq!(w.state(), &s1);

    // A witness restarted from storage continues from what it persisted.
    let reloaded = WitnessState::decode(&s1.encode()).unwrap();
    let mut w2 = Witness::new(
        WitnessSigner::new("clinic.example/witness-7", key(7)).unwrap(),
        reloaded,
    );
    let size1 = c1.checkpoint().size();
    let e = w2.add_checkpoint(0, &[], &c2.to_bytes(), T0).unwrap_err();
    assert_eq!(
        e,
        WitnessError::Conflict {
            current_size: size1
        }
    );
    let p = log
        .consistency_proof(size1, c2.checkpoint().size())
        .unwrap();
    cosign(&mut w2, size1, &p, &c2, T0).unwrap();
}

#[test]
fn checkpoint_plus_three_witnesses_reaches_finality() {
    let mut log = device_log(1);
    let mut ws: Vec<Witness> = (10..13).map(|s| witness_for(s, &[&log])).collect();
    let table = StakeTable::genesis(ws.iter().map(|w| (w.key().clone(), 10)));
    for i in 0..100 {
        log.append(&access(i)).unwrap();
    }
    let c = log.checkpoint(table.hash()).unwrap().signed;
    let mut cosigs = Vec::new();
    for w in &mut ws {
        cosigs.push(cosign(w, 0, &[], &c, T0).unwrap());
    }
    let cp = c.checkpoint();
    assert!(
        !is_final(cp, &cosigs[..2], &table),
        "20 of 30 is exactly 2/3: not more"
    );
    assert!(is_final(cp, &cosigs, &table));
    // Collected as a note: the cosignature lines travel with the checkpoint.
    let mut signed = c.clone();
    for s in &cosigs {
        signed.add_cosignature(s);
    }
    let reparsed = SignedCheckpoint::parse(&signed.to_bytes()).unwrap();
    reparsed.verify(&log.verifier()).unwrap();
    assert!(is_final(
        reparsed.checkpoint(),
        &reparsed.cosignatures(),
        &table
    ));
}

// ---- registrar log, epochs, evidence and slashing ----

struct Clinic {
    registrar: Log,
    witnesses: Vec<Witness>,
    stored: Vec<Vec<u8>>,
}

impl Clinic {
    fn new(n: u8) -> Clinic {
        let origin = "clinic.example/registrar";
        let registrar = Log::new(
            origin,
            LogRole::Registrar,
            NoteSigner::new(origin, key(200)).unwrap(),
        )
        .unwrap();
        let witnesses = (0..n).map(|i| witness_for(20 + i, &[&registrar])).collect();
        Clinic {
            registrar,
            witnesses,
            stored: Vec::new(),
        }
    }

    fn replica(&self) -> Registry {
        Registry::new(
            self.registrar.origin(),
            self.registrar.verifier(),
            StakeTable::new(),
        )
    }

    fn append(&mut self, e: &Entry) {
        self.stored.push(self.registrar.append(e).unwrap().bytes);
    }

    /// Checkpoints the registrar log and collects cosignatures from the given witnesses.
    fn checkpoint(
        &mut self,
        table: &StakeTable,
        cosigners: &[usize],
    ) -> (SignedCheckpoint, Vec<Cosignature>) {
        let c = self.registrar.checkpoint(table.hash()).unwrap();
        self.stored.extend(c.chain.iter().map(|a| a.bytes.clone()));
        let size = c.signed.checkpoint().size();
        let mut cosigs = Vec::new();
        for &i in cosigners {
            let w = &mut self.witnesses[i];
            let old = w.state().log(self.registrar.origin()).unwrap().size;
            let proof = self.registrar.consistency_proof(old, size).unwrap();
            cosigs.push(cosign(w, old, &proof, &c.signed, T0).unwrap());
        }
        (c.signed, cosigs)
    }

    fn stake(&mut self, i: usize, stake: u64) {
        let witness = self.witnesses[i].key().clone();
        self.append(&Entry::Stake(StakeChange { witness, stake }));
    }
}

fn replay(reg: &mut Registry, stored: &[Vec<u8>]) {
    for b in &stored[reg.size() as usize..] {
        reg.apply(b);
    }
}

#[test]
fn stake_changes_take_effect_at_the_next_finalized_registrar_checkpoint() {
    let mut clinic = Clinic::new(4);
    let mut reg = clinic.replica();
    for i in 0..3 {
        clinic.stake(i, 10);
    }
    // Genesis: the first registrar-signed checkpoint is trusted.
    let (c0, _) = clinic.checkpoint(reg.table(), &[]);
    replay(&mut reg, &clinic.stored);
    assert_eq!(
        reg.finalize(&c0, &[]).unwrap(),
        Finalized {
            epoch: 1,
            changes: 3
        }
    );
    assert_eq!(reg.table().total(), 30);
    let epoch1 = reg.table().clone();

    // Witness 3 gets stake 1000 in the log, but it is not in force until finalized.
    clinic.stake(3, 1000);
    let (c1, cos1) = clinic.checkpoint(reg.table(), &[3]);
    replay(&mut reg, &clinic.stored);
    assert_eq!(reg.table(), &epoch1);
    // Witness 3 alone cannot finalize the checkpoint that gives it its stake.
    assert!(matches!(
        reg.finalize(&c1, &cos1),
        Err(StakeError::NotFinal {
            cosigned: 0,
            total: 30
        })
    ));
    // Two of three old witnesses (20 of 30) is not more than 2/3; three is.
    let (c1, cos) = clinic.checkpoint(reg.table(), &[0, 1]);
    replay(&mut reg, &clinic.stored);
    assert!(matches!(
        reg.finalize(&c1, &cos),
        Err(StakeError::NotFinal {
            cosigned: 20,
            total: 30
        })
    ));
    let (c2, cos) = clinic.checkpoint(reg.table(), &[0, 1, 2]);
    replay(&mut reg, &clinic.stored);
    assert_eq!(
        reg.finalize(&c2, &cos).unwrap(),
        Finalized {
            epoch: 2,
            changes: 1
        }
    );
    assert_eq!(reg.table().total(), 1030);
    // Now witness 3 alone holds more than 2/3.
    let (c3, cos) = clinic.checkpoint(reg.table(), &[3]);
    replay(&mut reg, &clinic.stored);
    assert_eq!(
        reg.finalize(&c3, &cos).unwrap(),
        Finalized {
            epoch: 2,
            changes: 0
        }
    );

    // Not yet replayed, wrong root, rollback.
    let mut behind = clinic.replica();
    assert!(matches!(
        behind.finalize(&c0, &[]),
        Err(StakeError::NotReplayed { .. })
    ));
    replay(&mut behind, &clinic.stored[..3]);
    behind.apply(&Entry::PreviousCheckpoint(Hash([7; 32])).encode().unwrap());
    behind.apply(&Entry::StakeTableHash(Hash::default()).encode().unwrap());
    assert!(matches!(
        behind.finalize(&c0, &[]),
        Err(StakeError::RootMismatch { .. })
    ));
    assert!(matches!(
        reg.finalize(&c0, &[]),
        Err(StakeError::Rollback { .. })
    ));
}

fn cosigned(cp: &Checkpoint, w: &WitnessSigner, ts: u64) -> CosignedCheckpoint {
    CosignedCheckpoint {
        checkpoint: cp.clone(),
        cosignature: w.cosign(&cp.to_text(), ts),
    }
}

#[test]
fn equivocating_witness_is_caught_and_slashed_once_on_every_replica() {
    let mut clinic = Clinic::new(4);
    for i in 0..4 {
        clinic.stake(i, 10);
    }
    let (c0, _) = clinic.checkpoint(&StakeTable::new(), &[]);
    let mut a = clinic.replica();
    replay(&mut a, &clinic.stored);
    a.finalize(&c0, &[]).unwrap();

    // Witness 3 is dishonest: it cosigns two device checkpoints of one size with different
    // roots (its raw key signs outside the state machine, as a modified app would).
    let liar = WitnessSigner::new(clinic.witnesses[3].key().name(), key(23)).unwrap();
    let c1 = Checkpoint::new("clinic.example/device-1", 5, Hash([1; 32])).unwrap();
    let c2 = Checkpoint::new("clinic.example/device-1", 5, Hash([2; 32])).unwrap();
    let ev = Evidence::equivocation(
        liar.witness_key(),
        cosigned(&c1, &liar, T0),
        cosigned(&c2, &liar, T0 + 5),
    )
    .unwrap();
    assert_eq!(verify_evidence(&ev), Ok(Offence::Equivocation));
    // Checkable offline from the gossiped bytes alone.
    assert_eq!(
        verify_evidence(&Evidence::decode(&ev.encode()).unwrap()),
        Ok(Offence::Equivocation)
    );

    // Timestamp-only differences are not evidence.
    assert!(Evidence::equivocation(
        liar.witness_key(),
        cosigned(&c1, &liar, T0),
        cosigned(&c1, &liar, T0 + 60)
    )
    .is_none());
    // Another witness's key does not verify the liar's cosignatures.
    let honest = clinic.witnesses[0].key().clone();
    assert!(
        Evidence::equivocation(&honest, cosigned(&c1, &liar, T0), cosigned(&c2, &liar, T0))
            .is_none()
    );

    // Forged evidence (a cosignature that does not verify) is recorded but changes nothing.
    let mut forged = ev.clone();
    forged.second.cosignature.signature[0] ^= 1;
    clinic.append(&Entry::Slash(Box::new(forged)));
    // The evidence goes into the registrar log twice (gossiped by two devices).
    clinic.append(&Entry::Slash(Box::new(ev.clone())));
    let ev2 = Evidence::equivocation(
        liar.witness_key(),
        cosigned(&c2, &liar, T0 + 7),
        cosigned(&c1, &liar, T0 + 9),
    )
    .unwrap();
    clinic.append(&Entry::Slash(Box::new(ev2)));
    let before = a.table().clone();
    let (c1r, cos) = clinic.checkpoint(a.table(), &[0, 1, 2]);

    // Two replicas replay the same registrar log.
    let mut b = clinic.replica();
    replay(&mut b, &clinic.stored[..a.size() as usize]);
    b.finalize(&c0, &[]).unwrap();
    let applied: Vec<Applied> = clinic.stored[a.size() as usize..]
        .iter()
        .map(|e| a.apply(e))
        .collect();
    assert!(matches!(&applied[0], Applied::Ignored(r) if r.contains("evidence refused")));
    assert_eq!(applied[1], Applied::Queued);
    assert!(matches!(&applied[2], Applied::Ignored(r) if r.contains("already slashed")));
    replay(&mut b, &clinic.stored);
    assert_eq!(
        a.table(),
        &before,
        "slashing waits for the next finalized checkpoint"
    );
    let fa = a.finalize(&c1r, &cos).unwrap();
    let fb = b.finalize(&c1r, &cos).unwrap();
    assert_eq!(fa, fb);
    for reg in [&a, &b] {
        assert_eq!(reg.table().stake(liar.witness_key()), 0);
        assert_eq!(reg.table().total(), 30);
        assert!(reg.is_slashed(liar.witness_key().public_key()));
    }
    assert_eq!(a.table().hash(), b.table().hash());

    // The same evidence again, and an attempt to re-stake the slashed key, change nothing.
    clinic.append(&Entry::Slash(Box::new(ev)));
    clinic.stake(3, 50);
    let (c2r, cos) = clinic.checkpoint(a.table(), &[0, 1, 2]);
    replay(&mut a, &clinic.stored);
    a.finalize(&c2r, &cos).unwrap();
    assert_eq!(a.table().stake(liar.witness_key()), 0);
    assert_eq!(a.table().total(), 30);
}

#[test]
fn inconsistency_evidence_across_sizes() {
    let liar = WitnessSigner::new("w.example", key(31)).unwrap();
    // The real log, and a fork that rewrote entry 2.
    let (mut real, mut fork) = (Tree::new(), Tree::new());
    for i in 0..20u64 {
        real.append(&i.to_be_bytes());
        fork.append(&(if i == 2 { 999 } else { i }).to_be_bytes());
    }
    let small = Checkpoint::new("o", 8, fork.root_at(8).unwrap()).unwrap();
    let large = Checkpoint::new("o", 20, real.root()).unwrap();
    let (a, b) = (cosigned(&small, &liar, T0), cosigned(&large, &liar, T0 + 1));
    let proof = real.consistency_proof(8, 20).unwrap();
    let prefix = real.root_at(8).unwrap();
    let ev = Evidence::inconsistency(
        liar.witness_key(),
        a.clone(),
        b.clone(),
        prefix,
        proof.clone(),
    )
    .unwrap();
    assert_eq!(verify_evidence(&ev), Ok(Offence::Inconsistency));
    assert_eq!(
        verify_evidence(&Evidence::decode(&ev.encode()).unwrap()),
        Ok(Offence::Inconsistency)
    );

    // A proof that merely fails is not evidence (anyone could forge one).
    let mut junk = proof.clone();
    junk[0].0[0] ^= 1;
    assert_eq!(
        Evidence::inconsistency(liar.witness_key(), a.clone(), b.clone(), prefix, junk)
            .unwrap_err(),
        EvidenceError::ProofDoesNotVerify
    );
    // Consistent checkpoints are not evidence.
    let honest_small = cosigned(&Checkpoint::new("o", 8, prefix).unwrap(), &liar, T0);
    assert_eq!(
        Evidence::inconsistency(
            liar.witness_key(),
            honest_small,
            b.clone(),
            prefix,
            proof.clone()
        )
        .unwrap_err(),
        EvidenceError::Consistent
    );
    // Order matters, origins must match, and sizes that differ need the proof.
    assert_eq!(
        Evidence::inconsistency(liar.witness_key(), b.clone(), a.clone(), prefix, proof)
            .unwrap_err(),
        EvidenceError::WrongOrder
    );
    assert!(Evidence::equivocation(liar.witness_key(), a, b).is_none());
}
