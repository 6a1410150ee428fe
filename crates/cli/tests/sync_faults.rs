//! Clinic sync under faults, with real `hearth` processes over iroh on loopback: a sync killed
//! with SIGKILL partway and restarted; three devices where two never meet and a middle peer
//! relays.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "common/sync_env.rs"]
mod sync_env;

use std::process::Stdio;
use std::time::{Duration, Instant};

use sync_env::*;

/// Every note of `before` is in `after`, and every non-empty section it had is still there
/// with the same text (the test never edits one section on two devices concurrently).
fn assert_kept(before: &Snapshot, after: &Snapshot, when: &str) {
    for (id, name) in &before.patients {
        assert_eq!(
            after.patients.get(id),
            Some(name),
            "{when}: patient {id} lost"
        );
    }
    for (id, old) in &before.notes {
        let new = after
            .notes
            .get(id)
            .unwrap_or_else(|| panic!("{when}: note {id} was acknowledged and is gone"));
        for s in old["sections"].as_array().unwrap() {
            if s["text"].as_str().unwrap().is_empty() {
                continue;
            }
            assert!(
                new["sections"].as_array().unwrap().contains(s),
                "{when}: note {id} lost section {s}: now {new}"
            );
        }
    }
}

#[test]
fn kill_9_mid_sync_then_restart_converges_and_loses_nothing_acknowledged() {
    let a = Device::new();
    create_clinic(&a);
    let (pid, first) = {
        let h = a.open();
        let pid = add_shared_patient(&h, "Ada Shared");
        let ids: Vec<String> = (0..40).map(|i| add_note(&h, &pid, i)).collect();
        (pid, ids)
    };

    let (node, spec) = a.node();
    let ticket = a.ok(&["clinic", "invite", "--role", "clinician"]);
    let b = Device::new();
    b.json(&["clinic", "join", ticket.trim(), "--name", "laptop"]);
    let r = b.json(&["sync", "--peer", &spec]);
    assert_eq!(r["applied"], 41, "patient and 40 notes: {r}");

    // B edits some notes (acknowledged on B: the command returned); A, offline, edits others
    // (two of them the same notes, another section) and writes many new notes.
    for (i, id) in first.iter().take(5).enumerate() {
        b.ok(&[
            "note",
            "edit",
            id,
            "--section",
            &format!("assessment=B-edit-{i}"),
        ]);
    }
    stop(node);
    for (i, id) in first.iter().skip(3).take(5).enumerate() {
        a.ok(&["note", "edit", id, "--section", &format!("plan=A-edit-{i}")]);
    }
    let many = 600;
    {
        let h = a.open();
        for i in 0..many {
            add_note(&h, &pid, 1000 + i);
        }
    }
    let (node, spec) = a.node();

    // Kill B's sync with SIGKILL: once as soon as its files grow (mid-write), then after
    // longer and longer delays (before, during or after the transfer, whichever it lands on).
    let mut acked = snapshot_of(&b);
    assert_eq!(acked.notes.len(), 40);
    let mut outcomes = Vec::new();
    for (delay_ms, on_growth) in [
        (10_000, true),
        (100, false),
        (400, false),
        (1200, false),
        (60_000, false),
    ] {
        let size0 = b.disk_bytes();
        let mut child = b
            .cmd(&["sync", "--peer", &spec])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let t = Instant::now();
        let mut exited = false;
        let mut grew = false;
        while t.elapsed() < Duration::from_millis(delay_ms) {
            if child.try_wait().unwrap().is_some() {
                exited = true;
                break;
            }
            if on_growth && b.disk_bytes() > size0 + 128 * 1024 {
                grew = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let at = t.elapsed().as_millis();
        kill9(child);
        let now = snapshot_of(&b);
        assert_kept(&acked, &now, &format!("after kill at {delay_ms} ms"));
        outcomes.push((at, grew, exited, now.notes.len()));
        acked = now;
    }
    eprintln!("kills of B (ms, files grew, sync had exited, notes on B): {outcomes:?}");

    // A's node survived the killed connections: a normal sync completes.
    b.json(&["sync", "--peer", &spec]);
    acked = snapshot_of(&b);
    assert_eq!(acked.notes.len(), 40 + many);

    // Now the other side dies: A has more notes, B an edit; A's node is killed with SIGKILL
    // while B syncs (as soon as B's files grow, or after a second).
    stop(node);
    let more = 200;
    {
        let h = a.open();
        for i in 0..more {
            add_note(&h, &pid, 5000 + i);
        }
    }
    b.ok(&["note", "edit", &first[10], "--section", "assessment=B-late"]);
    let a_acked = snapshot_of(&a);
    let b_acked = snapshot_of(&b);
    let (node, spec) = a.node();
    let size0 = b.disk_bytes();
    let mut sync = b
        .cmd(&["sync", "--peer", &spec])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(1)
        && b.disk_bytes() <= size0 + 64 * 1024
        && sync.try_wait().unwrap().is_none()
    {
        std::thread::sleep(Duration::from_millis(5));
    }
    let at = t.elapsed().as_millis();
    kill9(node);
    // B's sync ends on its own (an error, or success if it had finished).
    let t = Instant::now();
    let status = loop {
        if let Some(s) = sync.try_wait().unwrap() {
            break s;
        }
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "B's sync hangs after A died"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    eprintln!("A killed at {at} ms; B's sync exited with {status}");
    assert_kept(&a_acked, &snapshot_of(&a), "A after its kill");
    assert_kept(&b_acked, &snapshot_of(&b), "B after A's kill");
    a.ok(&["audit", "verify"]);
    let (node, spec) = a.node();

    // Restarted: a sync completes, and a second one finds nothing left to send either way.
    b.json(&["sync", "--peer", &spec]);
    let r = b.json(&["sync", "--peer", &spec]);
    assert_eq!(r["applied"], 0, "{r}");
    assert_eq!(r["whole_sent"], 0, "{r}");
    stop(node);

    let sa = snapshot_of(&a);
    let sb = snapshot_of(&b);
    assert_kept(&acked, &sb, "after the restart");
    assert_kept(&a_acked, &sa, "A after the restart");
    assert_kept(&b_acked, &sb, "B after the restart");
    assert_eq!(sa.notes.len(), 40 + many + more);
    assert!(sa.notes[&first[10]].to_string().contains("B-late"));
    assert_eq!(sa.patients, sb.patients);
    assert_eq!(
        sa.notes.keys().collect::<Vec<_>>(),
        sb.notes.keys().collect::<Vec<_>>()
    );
    assert!(sa == sb, "contents differ after convergence");
    // Both sides' edits are on both devices.
    for i in 0..5 {
        let s = sa.notes[&first[i]].to_string();
        assert!(s.contains(&format!("B-edit-{i}")), "{s}");
        let s = sa.notes[&first[3 + i]].to_string();
        assert!(s.contains(&format!("A-edit-{i}")), "{s}");
    }
    a.ok(&["audit", "verify"]);
    b.ok(&["audit", "verify"]);
}

#[test]
fn three_devices_converge_through_a_middle_peer() {
    const SECRET_PATIENT: &str = "Nocontract-Marker-31337";
    let a = Device::new();
    create_clinic(&a);
    let (pid, nid, qid) = {
        let h = a.open();
        let pid = add_shared_patient(&h, "Ada Shared");
        let nid = add_note(&h, &pid, 1);
        let qid = add_patient(&h, SECRET_PATIENT);
        (pid, nid, qid)
    };

    // A (the registrar) admits B and C, then goes offline.
    let (node, _) = a.node();
    let b = Device::new();
    let t = a.ok(&["clinic", "invite", "--role", "clinician"]);
    b.json(&["clinic", "join", t.trim(), "--name", "b"]);
    let c = Device::new();
    let t = a.ok(&["clinic", "invite", "--role", "clinician"]);
    let joined = c.json(&["clinic", "join", t.trim(), "--name", "c"]);
    assert_eq!(joined["members"].as_array().unwrap().len(), 3);
    stop(node);

    // B is the middle: A and C only ever dial B.
    let (b_node, b_spec) = b.node_with(&["--listen", "127.0.0.1:0"]);
    let r = a.json(&["sync", "--peer", &b_spec]);
    assert_eq!(r["whole_sent"], 2, "patient and note to B: {r}");
    let r = c.json(&["sync", "--peer", &b_spec]);
    assert_eq!(r["applied"], 2, "patient and note relayed by B: {r}");
    assert!(note_text(&c, &nid).contains("Session 1."));

    // An edit on A reaches C through B.
    a.ok(&["note", "edit", &nid, "--section", "objective=Edited on A"]);
    a.json(&["sync", "--peer", &b_spec]);
    c.json(&["sync", "--peer", &b_spec]);
    assert!(note_text(&c, &nid).contains("Edited on A"));

    // An edit and a new note on C reach A through B.
    c.ok(&["note", "edit", &nid, "--section", "plan=Edited on C"]);
    let n2 = c.json(&[
        "note",
        "add",
        "--patient",
        &pid,
        "--template",
        "soap",
        "--section",
        "subjective=Written on C",
    ]);
    let n2id = n2["info"]["id"].as_str().unwrap().to_string();
    c.json(&["sync", "--peer", &b_spec]);
    a.json(&["sync", "--peer", &b_spec]);
    let t = note_text(&a, &nid);
    assert!(
        t.contains("Edited on A") && t.contains("Edited on C"),
        "{t}"
    );
    assert!(note_text(&a, &n2id).contains("Written on C"));

    // Quiet: one more round each way moves nothing.
    for d in [&a, &c] {
        let r = d.json(&["sync", "--peer", &b_spec]);
        assert_eq!(r["applied"], 0, "{r}");
        assert_eq!(r["whole_sent"], 0, "{r}");
    }
    stop(b_node);

    let (sa, sb, sc) = (snapshot_of(&a), snapshot_of(&b), snapshot_of(&c));
    assert_eq!(sa.notes.len(), 2);
    assert!(sa.patients.contains_key(&qid));
    // The patient without a contract stayed on A.
    let mut shared = sa.patients.clone();
    shared.remove(&qid);
    for (name, d, s) in [("B", &b, &sb), ("C", &c, &sc)] {
        assert_eq!(s.patients, shared, "{name}");
        assert!(s.notes == sa.notes, "{name}'s notes differ from A's");
        assert!(
            !d.ok(&["patient", "list"]).contains(SECRET_PATIENT),
            "{name}"
        );
        assert!(!d.run(&["show", &qid]).status.success(), "{name}");
        assert!(!d.files_contain(SECRET_PATIENT), "{name}");
    }
    for d in [&a, &b, &c] {
        d.ok(&["audit", "verify"]);
    }
}
