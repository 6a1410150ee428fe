//! Attachments between two and three `hearth` processes over real iroh on loopback: the record
//! syncs and the content follows (iroh-blobs, sealed), only where consent lets the attachment
//! be read; no plaintext of it on any disk; a transfer killed with -9 resumes where it stopped.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "common/sync_env.rs"]
mod sync_env;

use std::path::Path;
use std::time::{Duration, Instant};

use hearth_api::{ConsentDraft, ConsentRule};
use sync_env::*;

/// Inside the shared file: must never be on disk in clear, anywhere.
const MARKER: &str = "ATTACHMENT-PHI-MARKER-50321";
/// Inside the file of the patient whose contract does not share attachments.
const HIDDEN: &str = "HIDDEN-ATTACHMENT-MARKER-77104";

fn file_with(dir: &Path, name: &str, marker: &str, len: usize) -> std::path::PathBuf {
    let mut data = Vec::with_capacity(len);
    let mut i: u32 = 0;
    while data.len() < len {
        data.extend_from_slice(marker.as_bytes());
        data.extend_from_slice(&i.wrapping_mul(2_654_435_761).to_le_bytes());
        i += 1;
    }
    data.truncate(len);
    let p = dir.join(name);
    std::fs::write(&p, &data).unwrap();
    p
}

fn dir_bytes(dir: &Path) -> u64 {
    if !dir.exists() {
        return 0;
    }
    files_under(dir)
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum()
}

/// A `hearth node` killed when the test ends, whether it passes or not.
struct NodeGuard(std::process::Child);

impl Drop for NodeGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn attachments(d: &Device, pid: &str) -> Vec<serde_json::Value> {
    d.json(&["attachment", "list", "--patient", pid])
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn attachments_sync_both_ways_only_with_consent_and_never_in_clear() {
    let a = Device::new();
    create_clinic(&a);
    let (pid, qid) = {
        let h = a.open();
        let pid = add_shared_patient(&h, "Ada Shared");
        // Clinicians may read this patient's chart, but not their attachments.
        let qid = add_patient(&h, "Bo Private");
        let draft = ConsentDraft {
            rules: vec![ConsentRule {
                permit: true,
                who: vec!["role:clinician".into()],
                actions: vec!["read".into(), "write".into()],
                categories: vec!["demographics".into(), "progress-notes".into()],
                ..Default::default()
            }],
        };
        let preview = h.consent_from_draft(&qid, &draft).unwrap();
        h.record_paper_consent(&qid, &preview.fhir).unwrap();
        (pid, qid)
    };
    let shared = file_with(a.dir.path(), "ecg.pdf", MARKER, 3 * 1024 * 1024 + 11);
    let hidden = file_with(a.dir.path(), "letter.pdf", HIDDEN, 300_000);
    a.ok(&[
        "attachment",
        "add",
        "--patient",
        &pid,
        shared.to_str().unwrap(),
    ]);
    a.ok(&[
        "attachment",
        "add",
        "--patient",
        &qid,
        hidden.to_str().unwrap(),
    ]);
    std::fs::remove_file(&shared).unwrap();
    std::fs::remove_file(&hidden).unwrap();

    let b = Device::new();
    let (node, spec) = a.node();
    let node = NodeGuard(node);
    join_as_clinician(&a, &b, "Dr. Rivera's laptop");
    let r = b.json(&["sync", "--peer", &spec]);
    assert_eq!(r["attachments"], 1, "{r}");
    assert_eq!(r["attachments_missing"], 0, "{r}");
    assert!(
        r["attachment_bytes"].as_u64().unwrap() > 3 * 1024 * 1024,
        "{r}"
    );

    // B holds the shared attachment, whole and checked; of the other patient, not even the record.
    let list = attachments(&b, &pid);
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["record"]["on_device"], true);
    let out = b.dir.path().join("ecg-out.pdf");
    let id = list[0]["info"]["id"].as_str().unwrap().to_string();
    b.ok(&["attachment", "export", &id, out.to_str().unwrap()]);
    let got = std::fs::read(&out).unwrap();
    assert_eq!(got.len(), 3 * 1024 * 1024 + 11);
    assert!(got.starts_with(MARKER.as_bytes()));
    std::fs::remove_file(&out).unwrap();
    let o = b.run(&["--json", "attachment", "list", "--patient", &qid]);
    assert!(
        !o.status.success() || String::from_utf8_lossy(&o.stdout).trim() == "[]",
        "{} {}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );

    // B attaches a file; its one-shot sync waits while A's node fetches the content.
    let from_b = file_with(b.dir.path(), "scan.png", MARKER, 500_000);
    b.ok(&[
        "attachment",
        "add",
        "--patient",
        &pid,
        from_b.to_str().unwrap(),
    ]);
    std::fs::remove_file(&from_b).unwrap();
    let r = b.json(&["sync", "--peer", &spec]);
    assert_eq!(r["applied"], 0, "{r}");
    drop(node);
    let list = attachments(&a, &pid);
    assert_eq!(list.len(), 2, "{list:?}");
    assert!(
        list.iter().all(|x| x["record"]["on_device"] == true),
        "A fetched B's content: {list:?}"
    );

    // No plaintext of either file on any disk: vaults, transfer caches, journals.
    for (d, who) in [(&a, "A"), (&b, "B")] {
        assert!(
            files_under(d.dir.path())
                .iter()
                .any(|f| f.to_string_lossy().contains(".transfer")),
            "{who} has a transfer cache (the check below covers it)"
        );
        for m in [MARKER, HIDDEN] {
            assert!(!d.files_contain(m), "{m} in clear on {who}");
        }
    }
}

#[test]
fn a_content_transfer_killed_mid_way_resumes_where_it_stopped() {
    const LEN: usize = 96 * 1024 * 1024;
    let a = Device::new();
    create_clinic(&a);
    let pid = add_shared_patient(&a.open(), "Ada Shared");
    let big = file_with(a.dir.path(), "mri.dcm", MARKER, LEN);
    a.ok(&[
        "attachment",
        "add",
        "--patient",
        &pid,
        big.to_str().unwrap(),
    ]);
    std::fs::remove_file(&big).unwrap();
    let (node, spec) = a.node();
    let _node = NodeGuard(node);
    let c = Device::new();
    join_as_clinician(&a, &c, "front desk");

    // kill -9 once part of the content is in C's transfer cache.
    let cache = c.dir.path().join("v.hearth.transfer");
    let mut child = c.cmd(&["--json", "sync", "--peer", &spec]).spawn().unwrap();
    let start = Instant::now();
    let mut killed_at = 0;
    while start.elapsed() < Duration::from_secs(120) {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the transfer finished ({status}) before it could be interrupted");
        }
        let n = dir_bytes(&cache);
        if n > 24 * 1024 * 1024 {
            child.kill().unwrap();
            killed_at = n;
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    child.wait().unwrap();
    assert!(killed_at > 0, "no transfer started within two minutes");
    assert!(
        attachments(&c, &pid)[0]["record"]["on_device"] == false,
        "the content was cut off"
    );

    // Again: only the rest travels, and what arrives checks out.
    let r = c.json(&["sync", "--peer", &spec]);
    assert_eq!(r["attachments"], 1, "{r}");
    let again = r["attachment_bytes"].as_u64().unwrap();
    assert!(
        again < LEN as u64 && again > 0,
        "resumed: {again} bytes the second time, of {LEN}"
    );
    let out = c.dir.path().join("mri-out.dcm");
    let id = attachments(&c, &pid)[0]["info"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    c.ok(&["attachment", "export", &id, out.to_str().unwrap()]);
    assert_eq!(std::fs::metadata(&out).unwrap().len(), LEN as u64);
}
