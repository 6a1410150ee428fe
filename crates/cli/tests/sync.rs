//! Clinic sync between two `hearth` processes over real iroh on loopback: a registrar running
//! `hearth node`, a clinician device joining with a ticket and syncing with `hearth sync`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "common/sync_env.rs"]
mod sync_env;

use std::time::{Duration, Instant};

use sync_env::*;

/// In every chart: must never reach a device without consent.
const SECRET_PATIENT: &str = "Nocontract-Marker-55120";
const PSY_MARKER: &str = "Psychotherapy-Marker-99817";

#[test]
fn two_processes_join_sync_both_ways_merge_offline_edits_and_refuse_a_removed_member() {
    let a = Device::new();
    create_clinic(&a);

    // Patient with a consent that lets clinicians read and write the chart.
    let p = a.json(&["patient", "add", "--name", "Ada Shared"]);
    let pid = p["id"].as_str().unwrap().to_string();
    let consent = a.dir.path().join("consent.json");
    std::fs::write(&consent, a.ok(&["consent", "template", "--patient", &pid])).unwrap();
    let granted = a.json(&[
        "consent",
        "add",
        "--patient",
        &pid,
        consent.to_str().unwrap(),
    ]);
    let contract = granted["contract_id"].as_str().unwrap().to_string();
    let n = a.json(&[
        "note",
        "add",
        "--patient",
        &pid,
        "--template",
        "soap",
        "--section",
        "subjective=Sleeps poorly",
    ]);
    let nid = n["info"]["id"].as_str().unwrap().to_string();
    let psy = a.json(&[
        "note",
        "add",
        "--patient",
        &pid,
        "--psychotherapy",
        "--section",
        &format!("note={PSY_MARKER}"),
    ]);
    let psy_id = psy["info"]["id"].as_str().unwrap().to_string();
    // A patient without any contract: nothing of theirs may leave.
    let q = a.json(&["patient", "add", "--name", SECRET_PATIENT]);
    let qid = q["id"].as_str().unwrap().to_string();

    let (node, spec) = a.node();
    let ticket = a.ok(&["clinic", "invite", "--role", "clinician"]);

    let b = Device::new();
    let joined = b.json(&["clinic", "join", ticket.trim(), "--name", "laptop"]);
    assert_eq!(joined["members"].as_array().unwrap().len(), 2);
    let b_endpoint = joined["endpoint"].as_str().unwrap().to_string();

    // First sync.
    let t = Instant::now();
    let r = b.json(&["sync", "--peer", &spec]);
    let first_ms = t.elapsed().as_millis();
    assert_eq!(r["applied"], 2, "patient and session note: {r}");
    assert!(r["contracts"].as_u64().unwrap() >= 1, "{r}");
    assert!(note_text(&b, &nid).contains("Sleeps poorly"));
    // The patient without a contract and the psychotherapy note stayed on A.
    assert!(!b.ok(&["patient", "list"]).contains(SECRET_PATIENT));
    assert!(!b.run(&["show", &qid]).status.success());
    assert!(!b.run(&["show", &psy_id]).status.success());
    assert!(!b.files_contain(SECRET_PATIENT) && !b.files_contain(PSY_MARKER));

    // A's audit log says what left for B: the patient and the note, not the others.
    let timeline = a.ok(&["--json", "audit", "timeline", "--patient", &pid]);
    let shared = format!("sync-share.{}", &b_endpoint[..16]);
    assert!(timeline.matches(&shared).count() >= 2, "{timeline}");
    assert!(!a
        .ok(&["--json", "audit", "timeline", "--patient", &qid])
        .contains("sync-share"));

    // Edits both ways: B edits the note, A (while its node runs) adds another.
    b.ok(&["note", "edit", &nid, "--section", "assessment=Improving"]);
    let n2 = a.json(&[
        "note",
        "add",
        "--patient",
        &pid,
        "--template",
        "soap",
        "--section",
        "plan=Review in two weeks",
    ]);
    let n2id = n2["info"]["id"].as_str().unwrap().to_string();
    let t = Instant::now();
    let r = b.json(&["sync", "--peer", &spec]);
    let edit_ms = t.elapsed().as_millis();
    assert_eq!(r["whole_sent"], 0, "{r}");
    assert!(note_text(&a, &nid).contains("Improving"));
    assert!(note_text(&b, &n2id).contains("Review in two weeks"));

    // Offline: the node stops (SIGTERM), both edit the same note, then they reconnect.
    stop(node);
    a.ok(&[
        "note",
        "edit",
        &nid,
        "--section",
        "objective=Calm, good eye contact",
    ]);
    b.ok(&["note", "edit", &nid, "--section", "plan=CBT-I next session"]);
    let (node, spec) = a.node();
    b.json(&["sync", "--peer", &spec]);
    for d in [&a, &b] {
        let t = note_text(d, &nid);
        assert!(
            t.contains("Calm, good eye contact") && t.contains("CBT-I next session"),
            "{t}"
        );
    }

    // Near-live: B runs a node that syncs with A every second; an edit on A reaches B.
    let (b_node, _) = b.node_with(&[
        "--listen",
        "127.0.0.1:0",
        "--peer",
        &spec,
        "--interval",
        "1",
    ]);
    a.ok(&["note", "edit", &n2id, "--section", "objective=Live edit"]);
    let t = Instant::now();
    while !note_text(&b, &n2id).contains("Live edit") {
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "the edit never reached B's node"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let live_ms = t.elapsed().as_millis();
    stop(b_node);

    // After the patient revokes the consent, no further update reaches B.
    a.ok(&["consent", "revoke", "--patient", &pid, &contract]);
    a.ok(&[
        "note",
        "edit",
        &n2id,
        "--section",
        "subjective=After revocation",
    ]);
    let r = b.json(&["sync", "--peer", &spec]);
    assert_eq!(r["applied"], 0, "{r}");
    assert!(!note_text(&b, &n2id).contains("After revocation"));

    // A removed member is refused, and learns nothing new.
    a.ok(&["clinic", "remove", &b_endpoint]);
    let q2 = a.json(&[
        "note",
        "add",
        "--patient",
        &pid,
        "--template",
        "soap",
        "--section",
        "subjective=After removal",
    ]);
    let o = b.run(&["sync", "--peer", &spec]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("removed member"), "{err}");
    assert!(!b
        .run(&["show", q2["info"]["id"].as_str().unwrap()])
        .status
        .success());
    stop(node);
    // Both audit logs still cover every record (merges are logged like local edits).
    a.ok(&["audit", "verify"]);
    b.ok(&["audit", "verify"]);
    eprintln!("two processes: first sync {first_ms} ms, edit sync {edit_ms} ms (each incl. process start and vault unlock); edit seen through B's node within {live_ms} ms");
}

/// Poll `f` every 100 ms until it is true or `limit` passes.
fn within(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

#[test]
fn a_running_node_pushes_an_edit_made_by_another_process_to_its_peer() {
    let a = Device::new();
    create_clinic(&a);
    let pid = add_shared_patient(&a.open(), "Ada Pushed");
    let b = Device::new();
    {
        let (node, _) = a.node();
        let ticket = a.ok(&["clinic", "invite", "--role", "clinician"]);
        b.json(&["clinic", "join", ticket.trim(), "--name", "laptop"]);
        stop(node);
    }
    let b_listen = format!("127.0.0.1:{}", free_port());
    let (node_b, spec_b) = b.node_with(&["--listen", &b_listen]);
    // A's node syncs with B at start, then only when something changes: the periodic round
    // is an hour away, so only a push can bring the edit across within the test.
    let (node_a, _) = a.node_with(&["--peer", &spec_b, "--interval", "3600"]);
    let notes_on_b = || {
        b.json(&["note", "list", "--patient", &pid])
            .as_array()
            .map_or(0, Vec::len)
    };
    let patient_arrived = within(Duration::from_secs(30), || {
        b.run(&["patient", "show", &pid]).status.success()
    });
    assert!(patient_arrived, "the first round never reached B");
    assert_eq!(notes_on_b(), 0);

    // Another process writes on A while A's node runs; A's node pushes it to B.
    a.json(&[
        "note",
        "add",
        "--patient",
        &pid,
        "--template",
        "soap",
        "--section",
        "subjective=Pushed while the node runs",
    ]);
    let pushed = within(Duration::from_secs(30), || notes_on_b() == 1);
    stop(node_a);
    stop(node_b);
    assert!(pushed, "the edit was not pushed to the peer");
    let notes = b.json(&["note", "list", "--patient", &pid]);
    assert!(
        notes.to_string().contains("Pushed while the node runs"),
        "{notes}"
    );
}

#[test]
fn the_clinic_relay_is_a_setting_checked_before_it_is_kept() {
    let a = Device::new();
    a.ok(&["clinic", "create", "--name", "Elm Street"]);
    assert_eq!(
        a.json(&["clinic", "relay"])["relay"],
        serde_json::Value::Null
    );
    let o = a.run(&["clinic", "relay", "relay.example.org"]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("https://HOST"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    a.ok(&["clinic", "relay", "https://relay.example.org:8443"]);
    assert_eq!(
        a.json(&["clinic", "relay"])["relay"],
        "https://relay.example.org:8443"
    );
    a.ok(&["clinic", "relay", "--off"]);
    assert_eq!(
        a.json(&["clinic", "relay"])["relay"],
        serde_json::Value::Null
    );
}
