//! A rich patient, a device log with a witnessed checkpoint, and a sealed archive.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use ed25519_dalek::SigningKey;
use hearth_consent::{
    Action, Actor, Contract, ContractId, MemberId, PatientId, Provision, Purpose, SignedContract,
};
use hearth_export::*;
use hearth_ledger::*;
use hearth_records::envelope::Peek;
use hearth_records::*;
use time::macros::date;

pub const T0: i64 = 1_780_000_000;
pub const ORIGIN: &str = "hearth.example/log/dev-a";

pub fn peek<T>(kind: &str, id: &str, t: i64, value: T) -> Peek<T> {
    Peek {
        v: 1,
        kind: kind.into(),
        id: id.into(),
        created_at: t,
        updated_at: t,
        value,
    }
}

pub fn device_key() -> SigningKey {
    SigningKey::from_bytes(&[7; 32])
}

fn signed_note(id: &str, appt: &str, text: &str, sign: bool) -> SessionNote {
    let mut n = SessionNote::draft("pat-1", appt, NoteTemplate::Soap);
    n.set_section("subjective", text).unwrap();
    n.set_section("plan", "Continue weekly CBT.").unwrap();
    if sign {
        n.sign("Dr. Roe", T0 + 100).unwrap();
        if id == "note-1" {
            n.add_addendum("Called patient next day.", "Dr. Roe", T0 + 200)
                .unwrap();
        }
    }
    n
}

pub fn patient_export() -> PatientExport {
    let mut p = Patient {
        name: "Jane Q. Example".into(),
        date_of_birth: "1984-03-07".into(),
        pronouns: "she/her".into(),
        ..Default::default()
    };
    p.contact.phone = "+1 555 0100".into();
    p.contact.email = "jane@example.org".into();
    p.contact.address = "1 Main St, Springfield".into();
    p.emergency_contact.name = "John Example".into();
    p.emergency_contact.relationship = "spouse".into();
    p.emergency_contact.phone = "+1 555 0101".into();
    p.diagnoses.push(Diagnosis {
        code: "F33.1".into(),
        text: "Major depressive disorder, recurrent, moderate".into(),
    });
    let appt = |status, start: &str| Appointment {
        patient_id: "pat-1".into(),
        start: start.into(),
        duration_min: 50,
        status,
        service_code: "90834".into(),
        location: "Room 2".into(),
        ..Default::default()
    };
    let assess = |instrument, on: &str, answers: Vec<u32>| Assessment {
        patient_id: "pat-1".into(),
        instrument,
        administered_on: on.into(),
        answers,
    };
    let plan = TreatmentPlan {
        patient_id: "pat-1".into(),
        problems: vec![Problem {
            text: "Low mood".into(),
            goals: vec![Goal {
                text: "Return to work".into(),
                objectives: vec![Objective {
                    text: "PHQ-9 below 10".into(),
                    measure: "PHQ-9".into(),
                }],
                interventions: vec!["CBT".into(), "Behavioural activation".into()],
                target_date: "2026-12-01".into(),
                review_date: "2026-09-01".into(),
                status: GoalStatus::InProgress,
            }],
        }],
    };
    let consent = Contract::new(
        ContractId::new("consent-1").unwrap(),
        PatientId::new("pat-1").unwrap(),
        date!(2026 - 01 - 01),
    )
    .provision(
        Provision::permit()
            .actor(Actor::Member(MemberId::new("dr-roe").unwrap()))
            .actions([Action::Read, Action::Write])
            .purposes([Purpose::Treatment]),
    );
    let consent = SignedContract::sign(consent, &SigningKey::from_bytes(&[9; 32])).unwrap();
    PatientExport {
        patient: peek("patient", "pat-1", T0, p),
        appointments: vec![
            peek(
                "appointment",
                "appt-1",
                T0,
                appt(AppointmentStatus::Attended, "2026-05-04T10:00"),
            ),
            peek(
                "appointment",
                "appt-2",
                T0,
                appt(AppointmentStatus::Attended, "2026-05-11T10:00"),
            ),
            peek(
                "appointment",
                "appt-3",
                T0,
                appt(AppointmentStatus::Cancelled, "2026-05-18T10:00"),
            ),
        ],
        notes: vec![
            peek(
                "session-note",
                "note-1",
                T0,
                signed_note("note-1", "appt-1", "Feeling low. PLANTED-SIGNED", true),
            ),
            peek(
                "session-note",
                "note-2",
                T0,
                signed_note("note-2", "appt-2", "PLANTED-DRAFT", false),
            ),
        ],
        psychotherapy_notes: vec![peek(
            "psychotherapy-note",
            "pnote-1",
            T0,
            PsychotherapyNote(signed_note(
                "pnote-1",
                "appt-1",
                "PLANTED-PSYCHOTHERAPY",
                true,
            )),
        )],
        assessments: vec![
            peek(
                "assessment",
                "phq-1",
                T0,
                assess(
                    Instrument::Phq9,
                    "2026-05-04",
                    vec![2, 2, 1, 2, 1, 1, 2, 1, 1],
                ),
            ),
            peek(
                "assessment",
                "gad-1",
                T0,
                assess(Instrument::Gad7, "2026-05-04", vec![1, 2, 1, 0, 1, 2, 1]),
            ),
        ],
        plan: Some(peek("treatment-plan", "plan-1", T0, plan)),
        attachments: vec![peek(
            "attachment",
            "att-1",
            T0,
            Attachment {
                patient_id: "pat-1".into(),
                filename: "intake.pdf".into(),
                media_type: "application/pdf".into(),
                size: 12345,
                sha256: "ab".repeat(32),
                blob_id: "blob-1".into(),
                description: "Signed intake form".into(),
                ..Attachment::default()
            },
        )],
        consents: vec![consent],
        audit: vec![],
    }
}

pub fn witnesses(n: u8) -> Vec<WitnessSigner> {
    (0..n)
        .map(|i| {
            WitnessSigner::new(
                format!("witness-{i}"),
                SigningKey::from_bytes(&[40 + i; 32]),
            )
            .unwrap()
        })
        .collect()
}

pub fn stake_table() -> StakeTable {
    StakeTable::genesis(witnesses(3).iter().map(|w| (w.witness_key().clone(), 10)))
}

/// A device log with a record change and accesses for the patient's records, a checkpoint
/// cosigned by `cosigners` of the three witnesses, the log export and the audit records.
pub fn ledger(cosigners: usize) -> (LogExport, Vec<AuditRecord>) {
    let key = SigningKey::from_bytes(&[11; 32]);
    let signer = NoteSigner::new("dev-a", key).unwrap();
    let verifier = signer.verifier();
    let mut log = Log::new(ORIGIN, LogRole::Device, signer).unwrap();
    let actor = DeviceId([5; 32]);
    let mut entries = vec![
        Entry::RecordChange(RecordChange {
            record: RecordId::new("pat-1").unwrap(),
            heads: vec![ChangeHash([1; 32])],
            kind: ChangeKind::Create,
            category: Token::new("demographics").unwrap(),
            actor,
            time: T0 as u64,
        }),
        Entry::RecordChange(RecordChange {
            record: RecordId::new("note-1").unwrap(),
            heads: vec![ChangeHash([2; 32])],
            kind: ChangeKind::Edit,
            category: Token::new("progress-notes").unwrap(),
            actor,
            time: T0 as u64 + 50,
        }),
        Entry::Access(Access {
            record: RecordId::new("phq-1").unwrap(),
            action: AccessAction::View,
            purpose: Token::new("treatment").unwrap(),
            actor,
            time: T0 as u64 + 60,
        }),
        Entry::Access(Access {
            record: RecordId::new("pat-1").unwrap(),
            action: AccessAction::Export,
            purpose: Token::new("patient-request").unwrap(),
            actor,
            time: T0 as u64 + 70,
        }),
    ];
    let mut appended = Vec::new();
    for e in &entries {
        let a = log.append(e).unwrap();
        appended.push((a.index, a.bytes));
    }
    let table = stake_table();
    let mut commit = log.checkpoint(table.hash()).unwrap();
    let text = commit.signed.checkpoint().to_text();
    for w in witnesses(3).iter().take(cosigners) {
        commit
            .signed
            .add_cosignature(&w.cosign(&text, T0 as u64 + 1000));
    }
    let export =
        LogExport::from_tree(verifier, commit.signed, log.tree(), appended.clone()).unwrap();
    let audit = appended
        .iter()
        .zip(entries.drain(..))
        .map(|((index, _), entry)| AuditRecord {
            origin: ORIGIN.into(),
            index: *index,
            entry,
        })
        .collect();
    (export, audit)
}

pub fn options(include_psychotherapy: bool) -> ExportOptions {
    ExportOptions {
        include_psychotherapy,
        exported_at: T0 + 5000,
        device_name: "dr-roe-laptop".into(),
        device_key: device_key().verifying_key().to_bytes(),
        utc_offset: time::UtcOffset::from_hms(-5, 0, 0).unwrap(),
    }
}

/// A rich patient's bundle, with audit events.
pub fn rich_bundle(include_psychotherapy: bool) -> serde_json::Value {
    let (_, audit) = ledger(3);
    let mut x = patient_export();
    x.audit = audit;
    bundle(&x, &options(include_psychotherapy)).unwrap()
}

pub fn archive_input(cosigners: usize) -> ArchiveInput {
    let (log, audit) = ledger(cosigners);
    let mut x = patient_export();
    x.audit = audit;
    ArchiveInput {
        device_name: "dr-roe-laptop".into(),
        created_at: T0 + 5000,
        bundle: bundle(&x, &options(false)).unwrap(),
        documents: vec![
            Document {
                record_id: "pat-1".into(),
                kind: "patient".into(),
                bytes: b"automerge patient document bytes".to_vec(),
            },
            Document {
                record_id: "note-1".into(),
                kind: "session-note".into(),
                bytes: b"automerge note document bytes".to_vec(),
            },
        ],
        logs: vec![log],
        stake_table: stake_table(),
    }
}

pub fn sealed(cosigners: usize) -> Vec<u8> {
    seal(&archive_input(cosigners), &device_key()).unwrap()
}
