//! The checkpoint exchange at the end of a session, IO-less: two sessions pumped in memory
//! with a store that scripts the witness answers (the ledger logic itself is tested in
//! `witness::tests` and, over iroh with real vaults, in the CLI's `sync_witness`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use ed25519_dalek::SigningKey;
use hearth_sync::memory::MemoryStore;
use hearth_sync::session::{Effect, Offer, Session, Store, StoreError};
use hearth_sync::{CheckpointOffer, Clinic, JoinRequest, Member, Message, Role, SignedEntry};
use hearth_sync::{CloseCode, WitnessReply};

#[derive(Default)]
struct Script {
    /// Answers this device's witness gives, in order (then `Skipped`).
    replies: VecDeque<WitnessReply>,
    /// `from` of each `checkpoint_for` call.
    offers_from: Vec<Option<u64>>,
    /// Offers this device witnessed.
    witnessed: Vec<CheckpointOffer>,
    /// Answers this device got for its own checkpoint.
    answers: Vec<WitnessReply>,
}

struct ScriptStore {
    inner: MemoryStore,
    script: Mutex<Script>,
}

impl ScriptStore {
    fn new(clinic: Clinic, replies: Vec<WitnessReply>) -> Arc<Self> {
        let inner = MemoryStore::default();
        inner.set_clinic(clinic, None);
        Arc::new(Self {
            inner,
            script: Mutex::new(Script {
                replies: replies.into(),
                ..Script::default()
            }),
        })
    }
    fn script(&self) -> std::sync::MutexGuard<'_, Script> {
        self.script.lock().unwrap()
    }
}

impl Store for ScriptStore {
    fn clinic(&self) -> Result<Option<Clinic>, StoreError> {
        self.inner.clinic()
    }
    fn save_clinic(&self, clinic: &Clinic) -> Result<(), StoreError> {
        self.inner.save_clinic(clinic)
    }
    fn offer(&self, peer: &Member) -> Result<Offer, StoreError> {
        self.inner.offer(peer)
    }
    fn document(&self, id: &str) -> Result<Vec<u8>, StoreError> {
        self.inner.document(id)
    }
    fn apply(&self, peer: &Member, kind: &str, id: &str, doc: &[u8]) -> Result<bool, StoreError> {
        self.inner.apply(peer, kind, id, doc)
    }
    fn accept_contracts(&self, peer: &Member, contracts: &[Vec<u8>]) -> Result<usize, StoreError> {
        self.inner.accept_contracts(peer, contracts)
    }
    fn redeem(&self, endpoint: [u8; 32], r: &JoinRequest) -> Result<Vec<SignedEntry>, StoreError> {
        self.inner.redeem(endpoint, r)
    }
    fn refused(&self, endpoint: [u8; 32], reason: &str) {
        self.inner.refused(endpoint, reason)
    }
    fn checkpoint_for(&self, _peer: &Member, from: Option<u64>) -> Option<CheckpointOffer> {
        self.script().offers_from.push(from);
        Some(CheckpointOffer {
            old_size: from.unwrap_or(1),
            proof: Vec::new(),
            note: b"checkpoint".to_vec(),
        })
    }
    fn witness(&self, _peer: &Member, offer: &CheckpointOffer) -> WitnessReply {
        let mut s = self.script();
        s.witnessed.push(offer.clone());
        s.replies
            .pop_front()
            .unwrap_or_else(|| WitnessReply::Skipped("no stake".into()))
    }
    fn witnessed(&self, _peer: &Member, _offered: &CheckpointOffer, reply: &WitnessReply) {
        self.script().answers.push(reply.clone());
    }
}

fn member(k: &SigningKey, n: u8) -> Member {
    Member {
        endpoint: [n; 32],
        log_key: k.verifying_key().to_bytes(),
        device: vec![n; 16],
        name: format!("d{n}"),
        role: Role::Clinician,
        stake: 1,
        patient: None,
    }
}

/// Dialer (1) and acceptor (2) with scripted witness answers; pumps until both are over.
fn run(
    dialer: Vec<WitnessReply>,
    acceptor: Vec<WitnessReply>,
) -> (Arc<ScriptStore>, Arc<ScriptStore>) {
    let (ka, kb) = (
        SigningKey::from_bytes(&[1; 32]),
        SigningKey::from_bytes(&[2; 32]),
    );
    let mut clinic = Clinic::create("Elm", &ka, member(&ka, 1), 1).unwrap();
    clinic.add(&ka, member(&kb, 2), 2).unwrap();
    let (sa, sb) = (
        ScriptStore::new(clinic.clone(), dialer),
        ScriptStore::new(clinic, acceptor),
    );
    let (mut d, first) = Session::dial(sa.clone(), [1; 32], [2; 32]);
    let mut acc = Session::accept(sb.clone(), [2; 32], [1; 32]);
    let mut to_acc: VecDeque<Message> = VecDeque::new();
    let mut to_dial: VecDeque<Message> = VecDeque::new();
    let mut finished = (false, false);
    let collect = |effects: Vec<Effect>, out: &mut VecDeque<Message>, done: &mut bool| {
        for e in effects {
            match e {
                Effect::Send(m) => {
                    // Every message goes through its frame encoding.
                    let frame = m.to_frame();
                    out.push_back(Message::decode(&frame[4..]).unwrap());
                }
                Effect::Finished(_) => *done = true,
                Effect::Close { code, reason } => {
                    assert_eq!(code, CloseCode::Done, "closed: {reason}")
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    };
    collect(first, &mut to_acc, &mut finished.0);
    for _ in 0..200 {
        if let Some(m) = to_acc.pop_front() {
            let e = acc.handle(m);
            collect(e, &mut to_dial, &mut finished.1);
        } else if let Some(m) = to_dial.pop_front() {
            let e = d.handle(m);
            collect(e, &mut to_acc, &mut finished.0);
        } else {
            break;
        }
    }
    assert!(finished.0 && finished.1, "both sides finish: {finished:?}");
    assert!(d.is_over() && acc.is_over());
    (sa, sb)
}

#[test]
fn both_checkpoints_are_witnessed_after_the_rounds() {
    let (a, b) = run(
        vec![WitnessReply::Cosigned("by a".into())],
        vec![WitnessReply::Cosigned("by b".into())],
    );
    assert_eq!(
        a.script().answers,
        vec![WitnessReply::Cosigned("by b".into())]
    );
    assert_eq!(
        b.script().answers,
        vec![WitnessReply::Cosigned("by a".into())]
    );
    assert_eq!(a.script().offers_from, vec![None]);
    assert_eq!(b.script().witnessed.len(), 1);
}

#[test]
fn a_witness_at_another_size_gets_the_offer_again_from_there_once() {
    // The acceptor (witness of the dialer's log) holds size 4: the dialer offers again from 4.
    let (a, b) = run(
        vec![
            WitnessReply::Retry(2),
            WitnessReply::Cosigned("by a".into()),
        ],
        vec![
            WitnessReply::Retry(4),
            WitnessReply::Cosigned("by b".into()),
        ],
    );
    assert_eq!(a.script().offers_from, vec![None, Some(4)]);
    assert_eq!(b.script().offers_from, vec![None, Some(2)]);
    assert_eq!(b.script().witnessed[1].old_size, 4);
    assert_eq!(
        a.script().answers,
        vec![WitnessReply::Cosigned("by b".into())]
    );
    assert_eq!(
        b.script().answers,
        vec![WitnessReply::Cosigned("by a".into())]
    );

    // A witness that keeps asking: the second ask becomes a refusal, and the session ends.
    let (a, _) = run(
        Vec::new(),
        vec![WitnessReply::Retry(4), WitnessReply::Retry(5)],
    );
    assert_eq!(a.script().offers_from, vec![None, Some(4)]);
    let answers = a.script().answers.clone();
    assert!(
        matches!(answers.as_slice(), [WitnessReply::Refused(_)]),
        "{answers:?}"
    );
}
