//! Clinic sync benchmark: two vaults (durable writes, as in the app), two iroh endpoints on
//! loopback in one process. First sync of 1,000 session notes of ~2 KB (plus their patient),
//! then single-edit propagation (edit on A → B dials and syncs → B has it) p50/p95.
//!
//! In the same run, the Syncthing baseline: `bench/syncthing.sh` (two Syncthing instances on
//! loopback, as many files of the same sizes, fsync on; it installs Debian's `syncthing` when
//! missing) and the ratio of the first-sync times. `HEARTH_SYNCTHING=none` skips it.
//!
//! `cargo bench -p hearth --bench sync` (add `-- --notes N --edits M` to change the sizes).
//! Without `--bench` (as `cargo test --benches` runs it) it does a small smoke run: 20 notes,
//! 3 edits, and never Syncthing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use hearth_api::{NewPatient, Note, NoteTemplate, Section};
use hearth_core::{Hearth, HearthOptions};
use hearth_sync::net::{NetConfig, Node};

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn text(i: usize) -> String {
    let mut s = format!("Session {i}. ");
    while s.len() < 2000 {
        s.push_str("Reports sleeping better; practised the breathing exercise twice a day. ");
    }
    s
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Syncthing's first sync of `files` files in seconds, from `bench/syncthing.sh`, or why not.
fn syncthing_first_sync(files: usize) -> Result<f64, String> {
    if std::env::var("HEARTH_SYNCTHING").is_ok_and(|v| v == "none") {
        return Err("HEARTH_SYNCTHING=none".into());
    }
    let script = Path::new(
        &std::env::var("CARGO_MANIFEST_DIR")
            .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_string()),
    )
    .join("../../bench/syncthing.sh");
    let out = Command::new("bash")
        .arg(&script)
        .arg(files.to_string())
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find(|l| l.starts_with("syncthing "))
        .ok_or_else(|| format!("{} printed no result ({})", script.display(), out.status))?;
    let field = |key: &str| {
        line.split(' ')
            .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
    };
    if let Some(reason) = line.strip_prefix("syncthing unavailable reason=") {
        return Err(reason.to_string());
    }
    let secs = field("first_sync_s")
        .and_then(|v| v.parse::<f64>().ok())
        .ok_or_else(|| format!("unexpected line from the script: {line}"))?;
    eprintln!("{line}");
    Ok(secs)
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing: run a tiny smoke.
    let smoke = !std::env::args().any(|a| a == "--bench");
    let notes = arg("--notes", if smoke { 20 } else { 1000 });
    let edits = arg("--edits", if smoke { 3 } else { 50 });
    let dir = tempfile::tempdir().unwrap();
    let opts = || {
        HearthOptions::default()
            .insecure_fast_kdf_for_tests()
            .idle_lock(None)
    };
    let a = Hearth::create(
        &dir.path().join("a.hearth"),
        "correct horse battery",
        opts(),
    )
    .unwrap();
    let b = Hearth::create(
        &dir.path().join("b.hearth"),
        "correct horse battery",
        opts(),
    )
    .unwrap();
    let any: std::net::SocketAddr = "127.0.0.1:0".parse().unwrap();
    a.clinic_create("Bench", "a", "clinician", any, false)
        .unwrap();

    let pid = a
        .add_patient(NewPatient {
            name: "Ada Bench".into(),
            ..Default::default()
        })
        .unwrap()
        .id;
    a.record_paper_consent(&pid, &a.consent_template(&pid).unwrap())
        .unwrap();
    let t = Instant::now();
    let mut ids = Vec::with_capacity(notes);
    for i in 0..notes {
        let n = a
            .add_note(
                Note {
                    patient_id: pid.clone(),
                    appointment_id: String::new(),
                    template: NoteTemplate::Free,
                    sections: vec![Section {
                        key: "note".into(),
                        text: text(i),
                    }],
                    signature: None,
                    addenda: Vec::new(),
                },
                false,
            )
            .unwrap();
        ids.push(n.info.id);
    }
    eprintln!("made {notes} notes in {:.2} s", t.elapsed().as_secs_f64());

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let first = rt.block_on(async {
        let na = Node::bind(
            a.sync_secret().unwrap(),
            a.sync_store(),
            NetConfig::default(),
        )
        .await
        .unwrap();
        na.serve();
        let nb = Node::bind(
            b.sync_secret().unwrap(),
            b.sync_store(),
            NetConfig::default(),
        )
        .await
        .unwrap();
        let ticket = a.clinic_invite("clinician", 1, na.addrs()).unwrap();
        let (ticket, req) = b.join_request(&ticket, "b").unwrap();
        let clinic = nb.join(ticket, req).await.unwrap();
        b.clinic_joined(&clinic, any, false).unwrap();

        let t = Instant::now();
        let r = nb.sync_with(na.id(), &na.addrs()).await.unwrap();
        let first = t.elapsed();
        assert_eq!(r.applied, notes + 1, "{r:?}");

        let mut times = Vec::with_capacity(edits);
        for i in 0..edits {
            let id = &ids[(i * 37) % ids.len()];
            let (mut n, _) = a.note(id).unwrap();
            let marker = format!("edit {i} ");
            n.record.sections[0].text.insert_str(0, &marker);
            a.edit_note(id, n.record).unwrap();
            let t = Instant::now();
            let r = nb.sync_with(na.id(), &na.addrs()).await.unwrap();
            times.push(t.elapsed());
            assert_eq!(r.applied, 1, "{r:?}");
            assert!(b.note(id).unwrap().0.record.sections[0]
                .text
                .starts_with(&marker));
        }
        times.sort();
        println!(
            "first sync of {notes} notes (+1 patient, durable writes): {:.0} ms",
            first.as_secs_f64() * 1e3
        );
        println!(
            "edit propagation over a new connection ({edits} edits): p50 {:.1} ms, p95 {:.1} ms",
            pct(&times, 0.5).as_secs_f64() * 1e3,
            pct(&times, 0.95).as_secs_f64() * 1e3
        );
        nb.shutdown().await;
        na.shutdown().await;
        first
    });
    // Nothing of Hearth's left running while Syncthing is timed.
    drop(rt);
    drop((a, b));

    let syncthing = if smoke {
        Err("smoke run (cargo bench passes --bench for the full run)".to_string())
    } else {
        syncthing_first_sync(notes)
    };
    let hearth_s = first.as_secs_f64();
    match syncthing {
        Ok(st) => println!(
            "first sync, same run: Hearth {hearth_s:.3} s, Syncthing {st:.3} s ({notes} files of \
             the same sizes, fsync on); Syncthing ÷ Hearth = {:.2} (> 1: Hearth is faster)",
            st / hearth_s
        ),
        Err(reason) => println!(
            "first sync: Hearth {hearth_s:.3} s; Syncthing baseline: not available ({reason})"
        ),
    }
    println!(
        "Syncthing, one edit via an API-triggered scan: 11–12 ms (not measured here: \
         /work/shared/notes/syncthing-baseline.md)"
    );
}
