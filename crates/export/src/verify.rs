//! Offline verification of a `.hearth` archive, with a plain-words report.

use std::fmt;

use ed25519_dalek::{Signature, VerifyingKey};
use hearth_ledger::{
    leaf_hash, tally, verify_inclusion, Entry, NoteVerifier, SignedCheckpoint, StakeTable,
};

use crate::archive::{parse_entries, parse_stake, sha256_hex, Archive, SIGNING_CONTEXT};

/// What the verifier trusts beyond the archive itself.
#[derive(Clone, Debug, Default)]
pub struct VerifyOptions {
    /// The exporting device's public key, if known from elsewhere: any other signer fails.
    pub trusted_device: Option<[u8; 32]>,
    /// The clinic's stake table, if known from elsewhere: used instead of the archive's.
    pub trusted_stake_table: Option<StakeTable>,
    /// Fail (rather than warn) when a checkpoint is not final.
    pub require_final: bool,
}

/// How one check came out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It holds.
    Passed,
    /// It holds, with something the reader should know.
    Warning(String),
    /// It does not hold: why.
    Failed(String),
}

/// One check, on one part of the archive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    /// The part checked: `header`, `manifest`, `signature`, or a part name.
    pub part: String,
    /// What was checked, in plain words.
    pub what: String,
    /// The result.
    pub outcome: Outcome,
}

/// The verifier's findings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Every check, in order.
    pub checks: Vec<Check>,
}

impl Report {
    fn add(&mut self, part: &str, what: impl Into<String>, outcome: Outcome) {
        self.checks.push(Check {
            part: part.into(),
            what: what.into(),
            outcome,
        });
    }

    /// True when no check failed.
    pub fn passed(&self) -> bool {
        self.failures().next().is_none()
    }

    /// The checks that failed.
    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.checks
            .iter()
            .filter(|c| matches!(c.outcome, Outcome::Failed(_)))
    }

    /// The names of the parts that failed, once each, in order.
    pub fn failed_parts(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for c in self.failures() {
            if !out.contains(&c.part.as_str()) {
                out.push(&c.part);
            }
        }
        out
    }

    /// The warnings (e.g. a checkpoint that is not final).
    pub fn warnings(&self) -> impl Iterator<Item = &Check> {
        self.checks
            .iter()
            .filter(|c| matches!(c.outcome, Outcome::Warning(_)))
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in &self.checks {
            match &c.outcome {
                Outcome::Passed => writeln!(f, "ok       {}: {}", c.part, c.what)?,
                Outcome::Warning(w) => writeln!(f, "warning  {}: {} — {w}", c.part, c.what)?,
                Outcome::Failed(e) => writeln!(f, "FAILED   {}: {} — {e}", c.part, c.what)?,
            }
        }
        let failed = self.failures().count();
        if failed == 0 {
            write!(
                f,
                "The archive is intact: every signature, hash and proof checked out ({} checks, {} warnings).",
                self.checks.len(),
                self.warnings().count()
            )
        } else {
            write!(
                f,
                "The archive does NOT verify: {failed} check(s) failed, in {}. Do not rely on it; ask the sender for a fresh copy.",
                self.failed_parts().join(", ")
            )
        }
    }
}

fn fingerprint(key: &[u8]) -> String {
    let h = sha256_hex(key);
    h.get(..16).unwrap_or(&h).to_string()
}

/// Verifies an archive offline, with nothing but its bytes (and what `options` pins). Never
/// panics on any input; every failed check names the part it concerns.
pub fn verify(bytes: &[u8], options: &VerifyOptions) -> Report {
    let mut r = Report::default();
    let a = match Archive::parse(bytes) {
        Ok(a) => a,
        Err(crate::ArchiveError::Malformed { part, reason }) => {
            r.add(&part, "archive structure", Outcome::Failed(reason));
            return r;
        }
        Err(e) => {
            r.add(
                "archive",
                "archive structure",
                Outcome::Failed(e.to_string()),
            );
            return r;
        }
    };
    r.add("header", "archive format hearth-archive/1", Outcome::Passed);
    let m = &a.manifest;

    // The manifest signature.
    let key = hex::decode(&m.device_key)
        .ok()
        .and_then(|k| <[u8; 32]>::try_from(k.as_slice()).ok())
        .and_then(|k| VerifyingKey::from_bytes(&k).ok());
    match key {
        None => r.add(
            "manifest",
            "the exporting device's key",
            Outcome::Failed("the device key in the manifest is not an Ed25519 public key".into()),
        ),
        Some(key) => {
            let mut signed = SIGNING_CONTEXT.to_vec();
            signed.extend_from_slice(a.manifest_bytes);
            let what = format!(
                "manifest signed by device {:?} (key fingerprint {})",
                m.device_name,
                fingerprint(key.as_bytes())
            );
            if key
                .verify_strict(&signed, &Signature::from_bytes(&a.signature))
                .is_err()
            {
                // A damaged manifest and a damaged signature look the same to Ed25519; the
                // manifest bytes parsed, so name both.
                r.add(
                    "manifest",
                    what,
                    Outcome::Failed(
                        "the signature does not match: the manifest or its signature was altered"
                            .into(),
                    ),
                );
                r.add(
                    "signature",
                    "manifest signature",
                    Outcome::Failed("does not verify".into()),
                );
            } else {
                match options.trusted_device {
                    Some(t) if t != *key.as_bytes() => r.add(
                        "signature",
                        what,
                        Outcome::Failed(format!(
                            "signed by a different device than the one you trust (fingerprint {})",
                            fingerprint(&t)
                        )),
                    ),
                    Some(_) => r.add("signature", what, Outcome::Passed),
                    None => r.add(
                        "signature",
                        what,
                        Outcome::Warning(
                            "the key comes from the archive itself; compare its fingerprint with the sender's".into(),
                        ),
                    ),
                }
            }
        }
    }

    // Every part's hash.
    for (p, b) in m.parts.iter().zip(&a.parts) {
        let got = sha256_hex(b);
        if got == p.sha256 {
            r.add(
                &p.name,
                format!("SHA-256 of {} bytes", b.len()),
                Outcome::Passed,
            );
        } else {
            r.add(
                &p.name,
                "SHA-256",
                Outcome::Failed(
                    "the content does not match the manifest: this part was altered".into(),
                ),
            );
        }
    }

    // The FHIR bundle parses.
    for p in m.parts.iter().filter(|p| p.kind == "fhir-bundle") {
        if let Some(b) = a.part(&p.name) {
            match serde_json::from_slice::<serde_json::Value>(b) {
                Ok(v) if v["resourceType"] == "Bundle" => r.add(
                    &p.name,
                    format!(
                        "FHIR Bundle with {} entries",
                        v["entry"].as_array().map_or(0, Vec::len)
                    ),
                    Outcome::Passed,
                ),
                _ => r.add(
                    &p.name,
                    "FHIR Bundle",
                    Outcome::Failed("not a FHIR Bundle".into()),
                ),
            }
        }
    }

    // The stake table.
    let table = match a.part(&m.stake_table).map(parse_stake) {
        None => {
            r.add(
                "manifest",
                "stake table",
                Outcome::Failed(format!("no part named {}", m.stake_table)),
            );
            None
        }
        Some(Err(e)) => {
            r.add(&m.stake_table, "stake table", Outcome::Failed(e));
            None
        }
        Some(Ok((t, epoch, hash))) => {
            let what = format!(
                "stake table (epoch {epoch}, {} witnesses, total stake {})",
                t.witnesses().count(),
                t.total()
            );
            if epoch == 0 && t.hash().to_hex() != hash {
                r.add(
                    &m.stake_table,
                    what,
                    Outcome::Failed("its hash does not match its contents".into()),
                );
            } else if options.trusted_stake_table.is_some() {
                r.add(
                    &m.stake_table,
                    what,
                    Outcome::Warning("not used: you supplied the stake table to trust".into()),
                );
            } else {
                r.add(
                    &m.stake_table,
                    what,
                    Outcome::Warning(
                        "the witnesses' keys come from the archive itself; compare them with the clinic's".into(),
                    ),
                );
            }
            Some(t)
        }
    };
    let table = options.trusted_stake_table.clone().or(table);

    // Every log: checkpoint signature, finality, inclusion proofs.
    for l in &m.logs {
        let cp = match a.part(&l.checkpoint).map(SignedCheckpoint::parse) {
            Some(Ok(cp)) => cp,
            Some(Err(e)) => {
                r.add(&l.checkpoint, "checkpoint", Outcome::Failed(e.to_string()));
                continue;
            }
            None => {
                r.add(
                    "manifest",
                    format!("log {}", l.origin),
                    Outcome::Failed(format!("no part named {}", l.checkpoint)),
                );
                continue;
            }
        };
        let c = cp.checkpoint();
        let what = format!(
            "checkpoint of log {} at size {} signed by its log key",
            c.origin(),
            c.size()
        );
        match NoteVerifier::parse(&l.log_key) {
            Err(e) => r.add(
                "manifest",
                format!("log key of {}", l.origin),
                Outcome::Failed(e.to_string()),
            ),
            Ok(v) => match cp.verify(&v) {
                Ok(()) if c.origin() == l.origin => r.add(&l.checkpoint, what, Outcome::Passed),
                Ok(()) => r.add(
                    &l.checkpoint,
                    what,
                    Outcome::Failed(format!("its origin is not {}", l.origin)),
                ),
                Err(e) => r.add(&l.checkpoint, what, Outcome::Failed(e.to_string())),
            },
        }
        if let Some(t) = &table {
            let cosigs = cp.cosignatures();
            let tl = tally(c, &cosigs, t);
            let what = format!(
                "witnessing: {} valid cosignature(s) holding {} of {} stake",
                tl.cosigners.len(),
                tl.cosigned,
                tl.total
            );
            if tl.is_final() {
                r.add(&l.checkpoint, what, Outcome::Passed);
            } else {
                let why = "not final: more than two thirds of the stake must cosign".to_string();
                r.add(
                    &l.checkpoint,
                    what,
                    if options.require_final {
                        Outcome::Failed(why)
                    } else {
                        Outcome::Warning(why)
                    },
                );
            }
        }
        match a.part(&l.entries).map(parse_entries) {
            None => r.add(
                "manifest",
                format!("entries of log {}", l.origin),
                Outcome::Failed(format!("no part named {}", l.entries)),
            ),
            Some(Err(e)) => r.add(&l.entries, "ledger entries", Outcome::Failed(e)),
            Some(Ok((origin, size, entries))) => {
                if origin != c.origin() || size != c.size() {
                    r.add(
                        &l.entries,
                        "ledger entries",
                        Outcome::Failed(
                            "they name another log or tree size than their checkpoint".into(),
                        ),
                    );
                    continue;
                }
                let mut bad = Vec::new();
                for e in &entries {
                    if let Err(err) = verify_inclusion(
                        e.index,
                        c.size(),
                        &leaf_hash(&e.bytes),
                        &e.proof,
                        c.root(),
                    ) {
                        bad.push(format!("entry {}: {err}", e.index));
                    } else if let Err(err) = Entry::decode(&e.bytes) {
                        bad.push(format!("entry {}: {err}", e.index));
                    }
                }
                let what = format!(
                    "{} ledger entries proved included in checkpoint {} of log {}",
                    entries.len(),
                    c.size(),
                    c.origin()
                );
                if bad.is_empty() {
                    r.add(&l.entries, what, Outcome::Passed);
                } else {
                    r.add(&l.entries, what, Outcome::Failed(bad.join("; ")));
                }
            }
        }
    }
    r
}
