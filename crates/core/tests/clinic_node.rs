//! The clinic node both front ends run (`ClinicNode`), over real iroh on loopback in one
//! process: joining remembers the registrar, a started node syncs with the members it knows,
//! and a local edit is pushed to them without anyone pressing "Sync now".
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use hearth_api::{NewPatient, Note, NoteTemplate, PatientRow, Section};
use hearth_core::{join_clinic, ClinicNode, Hearth, HearthOptions, NodeOptions};

fn vault(dir: &std::path::Path, name: &str) -> Hearth {
    Hearth::create(
        &dir.join(name),
        "correct horse battery staple",
        HearthOptions::default()
            .insecure_fast_kdf_for_tests()
            .idle_lock(None),
    )
    .unwrap()
}

fn any_port() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

async fn until(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if f() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    f()
}

fn patient_names(h: &Hearth) -> Vec<String> {
    h.patients()
        .unwrap()
        .into_iter()
        .filter_map(|r| match r {
            PatientRow::Ok { name, .. } => Some(name),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_syncs_with_the_members_it_knows_and_pushes_local_edits() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (vault(dir.path(), "a.hearth"), vault(dir.path(), "b.hearth"));
    a.clinic_create("Elm Street", "front desk", "clinician", any_port(), false)
        .unwrap();
    let opts = || NodeOptions {
        listen: any_port(),
        remember_peers: true,
    };
    let node_a = ClinicNode::start(&a, opts()).await.unwrap();

    // A bad ticket is refused with the reason; a good one joins and remembers the registrar.
    let e = join_clinic(&b, "hearth-invite1-garbage", "laptop", any_port(), false)
        .await
        .unwrap_err();
    assert!(e.message().contains("ticket"), "{}", e.message());
    let ticket = a.clinic_invite("clinician", 1, node_a.addrs()).unwrap();
    let info = join_clinic(&b, &ticket, "laptop", any_port(), false)
        .await
        .unwrap();
    assert_eq!(info.members.len(), 2);
    assert_eq!(b.known_peers().unwrap().len(), 1, "the registrar's address");

    let pid = a
        .add_patient(NewPatient {
            name: "Ada Pushed".into(),
            ..Default::default()
        })
        .unwrap()
        .id;
    a.record_paper_consent(&pid, &a.consent_template(&pid).unwrap())
        .unwrap();

    // B's node starts knowing where A is, syncs at once, then pushes its own edit.
    let node_b = ClinicNode::start(&b, opts()).await.unwrap();
    node_b.keep_in_sync(Duration::from_secs(3600), Duration::from_millis(50));
    assert!(
        until(Duration::from_secs(20), || patient_names(&b)
            == ["Ada Pushed"])
        .await,
        "B never received A's patient"
    );
    let before = node_a.synced_in();
    let note = b
        .add_note(
            Note {
                patient_id: pid.clone(),
                appointment_id: String::new(),
                template: NoteTemplate::Free,
                sections: vec![Section {
                    key: "note".into(),
                    text: "Written on the laptop".into(),
                }],
                signature: None,
                addenda: Vec::new(),
            },
            false,
        )
        .unwrap();
    assert!(
        until(Duration::from_secs(20), || a.note(&note.info.id).is_ok()).await,
        "B's edit was not pushed to A"
    );
    assert!(
        until(Duration::from_secs(5), || node_a.synced_in() > before).await,
        "A's node counts what was brought to it"
    );
    let a_hex = hex::encode(node_a.id());
    let last = node_b.last_results();
    assert!(last.get(&a_hex).is_some_and(|r| r.ok), "{last:?}");
    assert!(node_b.last_sync_ms().is_some());
    assert!(node_b.progress().is_none(), "no sync is running now");
    node_b.shutdown().await;
    node_a.shutdown().await;
}
