//! Crash-safety soak: a writer process is killed with SIGKILL at random moments; every record
//! it acknowledged must be present and open afterwards, and the vault must open every time.
//!
//! Used by the `crash` integration test (50 rounds) and by the `hearth-vault-soak` binary
//! (as many rounds as you like).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::{KdfParams, Passphrase, RecordId, Vault, VaultError, VaultOptions};

/// The passphrase of soak vaults (they hold no real data).
pub const SOAK_PASSPHRASE: &str = "soak test passphrase";

/// Record kind written by the soak writer.
pub const SOAK_KIND: &str = "soak";

/// The 2 KB payload for a record id: derived from the id, so a reader can check it.
pub fn payload(id: &RecordId) -> Vec<u8> {
    id.as_str()
        .as_bytes()
        .iter()
        .copied()
        .cycle()
        .take(2048)
        .collect()
}

fn opts() -> VaultOptions {
    VaultOptions::default()
        .with_kdf(KdfParams::INSECURE_FOR_TESTS)
        .with_idle_lock(None)
}

/// The writer: open the vault, then write records forever, printing each id after its
/// transaction committed.
pub fn run_writer(path: &Path) -> Result<(), VaultError> {
    let mut vault = Vault::open(path, opts())?;
    vault.unlock(&Passphrase::new(SOAK_PASSPHRASE))?;
    let key = vault.create_key()?;
    let stdout = std::io::stdout();
    loop {
        let id = RecordId::random()?;
        vault.put(&id, SOAK_KIND, &key, &payload(&id))?;
        let mut out = stdout.lock();
        // The parent reads only complete lines; a failed write means the parent is gone.
        if writeln!(out, "{id}").and_then(|()| out.flush()).is_err() {
            return Ok(());
        }
    }
}

/// What a soak run saw.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SoakReport {
    /// Rounds run.
    pub rounds: u32,
    /// Records acknowledged by writers, all verified present and intact.
    pub acknowledged: usize,
    /// Rounds where the kill landed before the first acknowledgement (during open/unlock).
    pub killed_during_startup: u32,
}

fn random_u64() -> u64 {
    let mut b = [0u8; 8];
    // A failing OS generator only makes the delays less random.
    let _ = getrandom::getrandom(&mut b);
    u64::from_le_bytes(b)
}

/// Run `rounds` rounds against a fresh vault in `dir`, spawning `writer_exe writer <path>`.
///
/// Each round waits a random 0–40 ms (odd rounds: after the first acknowledgement, so the
/// kill lands among writes; even rounds: from spawn, so it may land during open), kills the
/// writer with SIGKILL, then reopens the vault and checks every acknowledged record.
pub fn run_rounds(writer_exe: &Path, dir: &Path, rounds: u32) -> Result<SoakReport, String> {
    let path: PathBuf = dir.join("soak.hearth");
    Vault::create(&path, &Passphrase::new(SOAK_PASSPHRASE), opts())
        .map_err(|e| format!("creating the soak vault: {e}"))?;
    let mut acked: Vec<RecordId> = Vec::new();
    let mut report = SoakReport::default();
    for round in 0..rounds {
        let mut child = Command::new(writer_exe)
            .arg("writer")
            .arg(&path)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("starting the writer {}: {e}", writer_exe.display()))?;
        let stdout = child.stdout.take().ok_or("writer has no stdout")?;
        let lines: Arc<Mutex<Vec<String>>> = Arc::default();
        let reader = {
            let lines = Arc::clone(&lines);
            std::thread::spawn(move || {
                let mut r = BufReader::new(stdout);
                let mut line = String::new();
                while r.read_line(&mut line).unwrap_or(0) > 0 {
                    if line.ends_with('\n') {
                        if let Ok(mut l) = lines.lock() {
                            l.push(line.trim_end().to_string());
                        }
                    }
                    line.clear();
                }
            })
        };
        if round % 2 == 1 {
            // Wait for the first acknowledgement (or the writer's death).
            for _ in 0..2000 {
                let n = lines.lock().map(|l| l.len()).unwrap_or(0);
                if n > 0 || child.try_wait().ok().flatten().is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        std::thread::sleep(Duration::from_micros(random_u64() % 40_000));
        let exited = child.try_wait().ok().flatten();
        if let Some(status) = exited {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut e, &mut err);
            }
            return Err(format!(
                "round {round}: the writer exited by itself ({status}): {err}"
            ));
        }
        child
            .kill()
            .map_err(|e| format!("killing the writer: {e}"))?;
        let _ = child.wait();
        let _ = reader.join();
        let got = lines.lock().map(|l| l.clone()).unwrap_or_default();
        if got.is_empty() {
            report.killed_during_startup += 1;
        }
        for line in got {
            acked.push(
                RecordId::new(line.clone())
                    .map_err(|e| format!("round {round}: writer printed {line:?}: {e}"))?,
            );
        }
        verify(&path, &acked).map_err(|e| format!("round {round}: {e}"))?;
        report.rounds += 1;
    }
    report.acknowledged = acked.len();
    Ok(report)
}

/// Open the vault and check that every acknowledged record is there with its payload.
fn verify(path: &Path, acked: &[RecordId]) -> Result<(), String> {
    let mut v = Vault::open(path, opts()).map_err(|e| format!("the vault did not open: {e}"))?;
    v.unlock(&Passphrase::new(SOAK_PASSPHRASE))
        .map_err(|e| format!("the vault did not unlock: {e}"))?;
    for id in acked {
        let r = v
            .get(id)
            .map_err(|e| format!("acknowledged record {id} is lost or damaged: {e}"))?;
        if r.plaintext[..] != payload(id)[..] {
            return Err(format!("acknowledged record {id} has the wrong content"));
        }
    }
    for (id, r) in v.open_all(SOAK_KIND).map_err(|e| e.to_string())? {
        r.map_err(|e| format!("record {id} does not open: {e}"))?;
    }
    Ok(())
}
