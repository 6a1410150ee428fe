//! A 200 MB attachment goes in and out of the vault through the CLI with bounded memory.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::process::{Command, Stdio};

use nix::sys::resource::{getrusage, UsageWho};
use sha2::{Digest, Sha256};

const SIZE: usize = 200 << 20;

fn hearth(vault: &std::path::Path, args: &[&str]) -> std::process::Output {
    let out = Command::new(env!("CARGO_BIN_EXE_hearth"))
        .arg("--vault")
        .arg(vault)
        .args(args)
        .env("HEARTH_PASSPHRASE", "correct horse battery staple")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn a_200_mb_file_streams_in_and_out_with_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("v.hearth");
    let file = dir.path().join("scan.dcm");
    // Write the file in 1 MiB pieces (the test itself must not hold 200 MB either).
    let mut hash = Sha256::new();
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&file).unwrap());
        let mut piece = vec![0u8; 1 << 20];
        for i in 0..(SIZE >> 20) {
            for (j, b) in piece.iter_mut().enumerate() {
                *b = (i * 31 + j * 7) as u8;
            }
            hash.update(&piece);
            f.write_all(&piece).unwrap();
        }
    }
    let expected = hex_string(&hash.finalize());

    hearth(&vault, &["init"]);
    let out = hearth(&vault, &["--json", "patient", "add", "--name", "Ada"]);
    let patient: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let pid = patient["id"].as_str().unwrap();
    let out = hearth(
        &vault,
        &[
            "--json",
            "attachment",
            "add",
            "--patient",
            pid,
            file.to_str().unwrap(),
        ],
    );
    let att: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(att["record"]["size"], SIZE as u64);
    assert_eq!(att["record"]["sha256"], expected.as_str());
    assert_eq!(att["record"]["media_type"], "application/dicom");

    let back = dir.path().join("back.dcm");
    hearth(
        &vault,
        &[
            "attachment",
            "export",
            att["info"]["id"].as_str().unwrap(),
            back.to_str().unwrap(),
        ],
    );
    let mut h = Sha256::new();
    std::io::copy(&mut std::fs::File::open(&back).unwrap(), &mut h).unwrap();
    assert_eq!(hex_string(&h.finalize()), expected);

    // Peak resident memory of the largest child (the hearth processes), in KiB on Linux.
    let peak_kib = getrusage(UsageWho::RUSAGE_CHILDREN).unwrap().max_rss();
    eprintln!(
        "peak RSS of a hearth process: {} MiB for a {} MiB file",
        peak_kib / 1024,
        SIZE >> 20
    );
    assert!(
        peak_kib < 100 * 1024,
        "a hearth process peaked at {peak_kib} KiB: the file was not streamed"
    );
}

fn hex_string(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
