//! Ledger over the wire, with real `hearth` processes over iroh on loopback: a checkpoint of
//! the registrar's log is cosigned by the members it syncs with and becomes final only once
//! cosigners hold more than two thirds of the clinic's stake; a log that signs two different
//! checkpoints of one size is caught by the witness that cosigned the first.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "common/sync_env.rs"]
mod sync_env;

use sync_env::*;

/// A registrar (stake 1) with its node running and `witnesses` members of stake 3 each.
fn clinic(witnesses: usize) -> (Device, std::process::Child, String, Vec<Device>) {
    let a = Device::new();
    create_clinic(&a);
    let (node, spec) = a.node();
    let mut members = Vec::new();
    for i in 0..witnesses {
        let ticket = a.ok(&["clinic", "invite", "--role", "clinician", "--stake", "3"]);
        let d = Device::new();
        d.json(&["clinic", "join", ticket.trim(), "--name", &format!("w{i}")]);
        members.push(d);
    }
    (a, node, spec, members)
}

fn status(d: &Device) -> serde_json::Value {
    d.json(&["audit", "status"])
}

#[test]
fn a_checkpoint_is_final_only_once_more_than_two_thirds_of_the_stake_cosigned() {
    let (a, node, spec, w) = clinic(2);
    a.json(&["patient", "add", "--name", "Ada Witnessed"]);
    let cp = a.json(&["audit", "checkpoint"]);
    let size = cp["size"].as_u64().unwrap();

    let st = status(&a);
    assert_eq!(st["cosignatures"], 0, "{st}");
    assert_eq!(
        st["final"].as_bool().or(st["final_"].as_bool()),
        Some(false)
    );

    // One of two equal-stake witnesses: 3 of 7 — not final.
    w[0].json(&["sync", "--peer", &spec]);
    let st = status(&a);
    assert_eq!(st["last_checkpoint_size"], size, "{st}");
    assert_eq!(st["cosignatures"], 1, "{st}");
    let frac = st["stake_fraction"].as_f64().unwrap();
    assert!((frac - 3.0 / 7.0).abs() < 1e-9, "{st}");
    assert_eq!(
        st["final"].as_bool().or(st["final_"].as_bool()),
        Some(false),
        "{st}"
    );

    // Syncing again with the same witness adds nothing.
    w[0].json(&["sync", "--peer", &spec]);
    assert_eq!(status(&a)["cosignatures"], 1);

    // The second witness: 6 of 7 — final.
    w[1].json(&["sync", "--peer", &spec]);
    let st = status(&a);
    assert_eq!(st["cosignatures"], 2, "{st}");
    let frac = st["stake_fraction"].as_f64().unwrap();
    assert!((frac - 6.0 / 7.0).abs() < 1e-9, "{st}");
    assert_eq!(
        st["final"].as_bool().or(st["final_"].as_bool()),
        Some(true),
        "{st}"
    );

    // A later checkpoint starts again from zero and is witnessed from the one cosigned
    // (a consistency proof from the old size).
    let bo = a.json(&["patient", "add", "--name", "Bo Later"])["id"]
        .as_str()
        .unwrap()
        .to_string();
    let consent = a.dir.path().join("bo-consent.json");
    std::fs::write(&consent, a.ok(&["consent", "template", "--patient", &bo])).unwrap();
    a.json(&[
        "consent",
        "add",
        "--patient",
        &bo,
        consent.to_str().unwrap(),
    ]);
    let cp2 = a.json(&["audit", "checkpoint"]);
    assert!(cp2["size"].as_u64().unwrap() > size);
    assert_eq!(status(&a)["cosignatures"], 0);
    w[0].json(&["sync", "--peer", &spec]);
    w[1].json(&["sync", "--peer", &spec]);
    let st = status(&a);
    assert_eq!(st["cosignatures"], 2, "{st}");
    assert_eq!(
        st["final"].as_bool().or(st["final_"].as_bool()),
        Some(true),
        "{st}"
    );
    // A witness's own checkpoint, cosigned by the registrar (1) only: 1 of 7.
    w[0].json(&["audit", "checkpoint"]);
    w[0].json(&["sync", "--peer", &spec]);
    let st = status(&w[0]);
    assert_eq!(st["cosignatures"], 1, "{st}");
    assert_eq!(
        st["final"].as_bool().or(st["final_"].as_bool()),
        Some(false),
        "{st}"
    );

    stop(node);
    a.ok(&["audit", "verify"]);
    for d in &w {
        assert_eq!(status(d)["evidence"].as_array().unwrap().len(), 0);
    }

    // Bo's archive is proven against the checkpoint the witnesses made final, and carries
    // their cosignatures and the clinic's stake table: it verifies as witnessed, offline.
    let out = a.dir.path().join("bo.hearth");
    a.ok(&["export", "--patient", &bo, "--out", out.to_str().unwrap()]);
    let report = a.ok(&["verify", out.to_str().unwrap()]);
    assert!(
        report.contains("2 valid cosignature(s) holding 6 of 7 stake"),
        "{report}"
    );
    assert!(!report.contains("not final"), "{report}");
    let strict = a.run(&["verify", "--require-final", out.to_str().unwrap()]);
    assert!(
        strict.status.success(),
        "--require-final refused a witnessed archive: {}",
        String::from_utf8_lossy(&strict.stderr)
    );
}

/// Copy every file of the device (vault and journals; not the transfer cache, a folder) to
/// `to`, or back.
fn copy_files(from: &std::path::Path, to: &std::path::Path) {
    for f in std::fs::read_dir(to).unwrap() {
        let p = f.unwrap().path();
        if p.is_file()
            && p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("v.hearth")
        {
            std::fs::remove_file(p).unwrap();
        }
    }
    for f in std::fs::read_dir(from).unwrap() {
        let p = f.unwrap().path();
        let name = p.file_name().unwrap().to_owned();
        if p.is_file() && name.to_string_lossy().starts_with("v.hearth") {
            std::fs::copy(&p, to.join(name)).unwrap();
        }
    }
}

#[test]
fn a_log_that_signs_two_checkpoints_of_one_size_is_caught_and_not_cosigned() {
    let (a, node, _spec, w) = clinic(1);
    stop(node);
    let backup = tempfile::tempdir().unwrap();
    copy_files(a.dir.path(), backup.path());

    // Branch 1: a patient and a checkpoint, cosigned by the witness.
    a.json(&["patient", "add", "--name", "First Branch"]);
    let first = a.json(&["audit", "checkpoint"]);
    let (node, spec) = a.node();
    w[0].json(&["sync", "--peer", &spec]);
    assert_eq!(status(&a)["cosignatures"], 1);
    stop(node);

    // The vault goes back to the copy and the same steps make a different log of one size.
    copy_files(backup.path(), a.dir.path());
    a.json(&["patient", "add", "--name", "Second Branch"]);
    let second = a.json(&["audit", "checkpoint"]);
    assert_eq!(first["size"], second["size"]);
    assert_ne!(first["root"], second["root"]);
    let (node, spec) = a.node();
    w[0].json(&["sync", "--peer", &spec]);
    stop(node);

    // Not cosigned; the witness kept the evidence (both signed checkpoints).
    let st = status(&a);
    assert_eq!(st["cosignatures"], 0, "{st}");
    let ws = status(&w[0]);
    let ev = ws["evidence"].as_array().unwrap();
    assert_eq!(ev.len(), 1, "{ws}");
    assert_eq!(ev[0]["size"], first["size"]);
    let text = w[0].ok(&["audit", "status"]);
    assert!(text.contains("EQUIVOCATION"), "{text}");
}

/// A patient whose consent lets clinicians read, write and export the chart.
fn shared_patient(d: &Device, name: &str) -> String {
    let id = d.json(&["patient", "add", "--name", name])["id"]
        .as_str()
        .unwrap()
        .to_string();
    let consent = d.dir.path().join(format!("{id}-consent.json"));
    std::fs::write(&consent, d.ok(&["consent", "template", "--patient", &id])).unwrap();
    d.json(&[
        "consent",
        "add",
        "--patient",
        &id,
        consent.to_str().unwrap(),
    ]);
    id
}

fn note(d: &Device, patient: &str, text: &str) {
    d.json(&[
        "note",
        "add",
        "--patient",
        patient,
        "--template",
        "soap",
        "--section",
        &format!("subjective={text}"),
    ]);
}

fn is_final(d: &Device) -> bool {
    let st = status(d);
    st["final"].as_bool().or(st["final_"].as_bool()).unwrap()
}

#[test]
fn a_partitioned_minority_never_finalizes_and_all_converge_after_the_heal() {
    // A (registrar, stake 1), B and C (stake 3 each): 7 in all; final needs more than 14/3.
    let (a, node_a, spec_a, w) = clinic(2);
    let (b, c) = (&w[0], &w[1]);
    let pid = shared_patient(&a, "Ada Partitioned");
    b.json(&["sync", "--peer", &spec_a]);
    c.json(&["sync", "--peer", &spec_a]);
    stop(node_a);

    // The partition: A alone | B and C. Each side edits and checkpoints; only B and C reach
    // each other (the dials that would cross the partition are not made).
    note(&a, &pid, "Written on A during the partition");
    let a_cp = a.json(&["audit", "checkpoint"])["size"].as_u64().unwrap();
    let (node_b, spec_b) = b.node();
    note(b, &pid, "Written on B during the partition");
    b.json(&["audit", "checkpoint"]);
    note(c, &pid, "Written on C during the partition");
    c.json(&["audit", "checkpoint"]);
    c.json(&["sync", "--peer", &spec_b]);
    c.json(&["sync", "--peer", &spec_b]);
    stop(node_b);
    // A has nobody to cosign it; B's checkpoint has C's 3 of 7; C's has B's 3 of 7.
    assert!(!is_final(&a), "{}", status(&a));
    assert_eq!(status(&a)["cosignatures"], 0);
    for d in [b, c] {
        let st = status(d);
        assert_eq!(st["cosignatures"], 1, "{st}");
        assert!(!is_final(d), "a minority finalized: {st}");
    }
    assert_ne!(snapshot_of(&a), snapshot_of(b), "A is cut off");
    assert_eq!(snapshot_of(b), snapshot_of(c), "B and C are in step");

    // The heal: B and C reach A again.
    let (node_a, spec_a) = a.node();
    b.json(&["sync", "--peer", &spec_a]);
    c.json(&["sync", "--peer", &spec_a]);
    b.json(&["sync", "--peer", &spec_a]);
    stop(node_a);
    let st = status(&a);
    assert_eq!(st["last_checkpoint_size"], a_cp, "{st}");
    assert!(
        is_final(&a),
        "B and C (6 of 7) cosigned A's checkpoint: {st}"
    );
    let snap = snapshot_of(&a);
    assert_eq!(snap.notes.len(), 3, "every side's note: {snap:?}");
    assert_eq!(snapshot_of(b), snap);
    assert_eq!(snapshot_of(c), snap);
    for d in [&a, b, c] {
        d.ok(&["audit", "verify"]);
    }
}

fn member<'a>(
    d: &Device,
    name: &str,
    clinic: &'a mut Option<serde_json::Value>,
) -> &'a serde_json::Value {
    *clinic = Some(d.json(&["clinic", "members"]));
    clinic.as_ref().unwrap()["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == name)
        .unwrap()
}

#[test]
fn equivocation_evidence_spreads_and_the_member_is_slashed_on_every_device() {
    // A registrar (1), w0 and w1 (3 each). w1's log will sign two views of one size.
    let (a, node_a, _, w) = clinic(2);
    let (w0, w1) = (&w[0], &w[1]);
    // w0 joined before w1 and has not heard of it: w1's longer registrar log introduces it.
    stop(node_a);
    let backup = tempfile::tempdir().unwrap();
    copy_files(w1.dir.path(), backup.path());
    let (node_w0, spec_w0) = w0.node();
    w1.json(&["patient", "add", "--name", "First Branch"]);
    let first = w1.json(&["audit", "checkpoint"]);
    w1.json(&["sync", "--peer", &spec_w0]);
    assert_eq!(status(w1)["cosignatures"], 1);
    copy_files(backup.path(), w1.dir.path());
    w1.json(&["patient", "add", "--name", "Second Branch"]);
    let second = w1.json(&["audit", "checkpoint"]);
    assert_eq!(first["size"], second["size"]);
    w1.json(&["sync", "--peer", &spec_w0]);
    stop(node_w0);
    assert_eq!(status(w0)["evidence"].as_array().unwrap().len(), 1);

    // The witness that caught it tells the registrar, which checks the proof and slashes w1
    // in the registrar log; everyone who syncs with it learns both.
    let mut seen = None;
    assert_eq!(member(&a, "w1", &mut seen)["stake"], 3);
    let (node_a, spec_a2) = a.node();
    w0.json(&["sync", "--peer", &spec_a2]);
    stop(node_a);
    let m = member(&a, "w1", &mut seen).clone();
    assert_eq!(m["stake"], 0, "{m}");
    assert_eq!(m["slashed"], true, "{m}");
    assert_eq!(status(&a)["evidence"].as_array().unwrap().len(), 1);
    let text = a.ok(&["clinic", "members"]);
    assert!(text.contains("slashed"), "{text}");

    // The slashed member itself, and w0, hear of it from the registrar.
    let (node_a, spec_a3) = a.node();
    w1.json(&["sync", "--peer", &spec_a3]);
    w0.json(&["sync", "--peer", &spec_a3]);
    for d in [w0, w1] {
        let m = member(d, "w1", &mut seen).clone();
        assert_eq!(m["stake"], 0, "{m}");
        assert_eq!(m["slashed"], true);
        assert_eq!(status(d)["evidence"].as_array().unwrap().len(), 1);
    }

    // The stake table is now 1 + 3: w0's cosignature alone (3 of 4) makes A's checkpoint
    // final, where before the slash it needed w1 as well (6 of 7).
    stop(node_a);
    a.json(&["patient", "add", "--name", "After The Slash"]);
    a.json(&["audit", "checkpoint"]);
    let (node_a, spec_a4) = a.node();
    w0.json(&["sync", "--peer", &spec_a4]);
    stop(node_a);
    let st = status(&a);
    assert_eq!(st["cosignatures"], 1, "{st}");
    assert!(is_final(&a), "{st}");
}

#[test]
fn a_witness_that_cosigns_two_views_is_caught_by_gossip_and_slashed() {
    // A registrar (1), w0, w1, w2 (3 each). w1's log forks; w0, its witness, is rolled back with
    // it and cosigns both views; w2 sees both views through gossip.
    let (a, node_a, _, w) = clinic(3);
    let (w0, w1, w2) = (&w[0], &w[1], &w[2]);
    stop(node_a);
    let (b0, b1) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    copy_files(w0.dir.path(), b0.path());
    copy_files(w1.dir.path(), b1.path());

    // View one: w0 cosigns it; w1 then shows it (with w0's cosignature) to w2.
    w1.json(&["patient", "add", "--name", "First Branch"]);
    let first = w1.json(&["audit", "checkpoint"]);
    let (node_w0, spec_w0) = w0.node();
    w1.json(&["sync", "--peer", &spec_w0]);
    stop(node_w0);
    assert_eq!(status(w1)["cosignatures"], 1);
    let (node_w2, spec_w2) = w2.node();
    w1.json(&["sync", "--peer", &spec_w2]);
    stop(node_w2);
    assert_eq!(status(w2)["evidence"].as_array().unwrap().len(), 0);

    // Both roll back: w0 forgets what it cosigned, w1 writes another history of the same size.
    copy_files(b0.path(), w0.dir.path());
    copy_files(b1.path(), w1.dir.path());
    w1.json(&["patient", "add", "--name", "Second Branch"]);
    let second = w1.json(&["audit", "checkpoint"]);
    assert_eq!(first["size"], second["size"]);
    assert_ne!(first["root"], second["root"]);
    let (node_w0, spec_w0) = w0.node();
    w1.json(&["sync", "--peer", &spec_w0]);
    stop(node_w0);
    assert_eq!(
        status(w1)["cosignatures"],
        1,
        "w0 cosigned the second view too"
    );

    // w2 receives the second view, cosigned by w0: proof against both.
    let (node_w2, spec_w2) = w2.node();
    w1.json(&["sync", "--peer", &spec_w2]);
    stop(node_w2);
    let ev = status(w2)["evidence"].as_array().unwrap().clone();
    let kinds: Vec<(String, String)> = ev
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap().to_string(),
                e["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        kinds.contains(&("w0".into(), "cosigned".into())),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&("w1".into(), "log-fork".into())),
        "{kinds:?}"
    );

    // The registrar checks both proofs and slashes both members.
    let (node_a, spec_a) = a.node();
    w2.json(&["sync", "--peer", &spec_a]);
    stop(node_a);
    let mut seen = None;
    for name in ["w0", "w1"] {
        let m = member(&a, name, &mut seen).clone();
        assert_eq!(m["stake"], 0, "{m}");
        assert_eq!(m["slashed"], true, "{m}");
    }
    assert_eq!(member(&a, "w2", &mut seen)["stake"], 3);
    let text = a.ok(&["audit", "status"]);
    assert!(text.contains("cosigned, as a witness,"), "{text}");
}
