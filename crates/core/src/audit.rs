//! The device's audit log: every record change and every view is appended (in the same
//! transaction as the change); checkpoints sign the log; `audit` checks that every record's
//! current state is covered by the log and that the checkpoints match it.

use std::collections::HashMap;

use ed25519_dalek::SigningKey;
use hearth_ledger::{
    leaf_hash, Access, AccessAction, ChangeHash, ChangeKind, DeviceId, Entry, Log, LogRole,
    NoteSigner, RecordChange, SignedCheckpoint, StakeTable, Token, Tree,
};
use hearth_records::{envelope, Category};
use hearth_vault::{RecordId, Vault};
use serde::Serialize;
use zeroize::Zeroizing;

use crate::{CoreError, Hearth, Result};

/// Vault kind of the record holding this device's Ed25519 log key.
const DEVICE_KEY_KIND: &str = "device-key";

/// Record kinds the audit covers.
const AUDITED: [&str; 7] = [
    "patient",
    "appointment",
    "session-note",
    "psychotherapy-note",
    "assessment",
    "treatment-plan",
    "attachment",
];

/// What `audit` found.
#[derive(Debug, Clone, Serialize)]
pub struct AuditReport {
    /// Log entries checked.
    pub entries: u64,
    /// Records checked.
    pub records: u64,
    /// Checkpoints checked.
    pub checkpoints: u64,
    /// Problems, in plain words (empty: the log covers every record and the checkpoints hold).
    pub problems: Vec<String>,
    /// Facts worth knowing that are not problems.
    pub notes: Vec<String>,
}

impl AuditReport {
    /// True when nothing is wrong.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// A checkpoint just made.
#[derive(Debug, Clone, Serialize)]
pub struct CheckpointInfo {
    /// Log size it covers.
    pub size: u64,
    /// Merkle root (hex).
    pub root: String,
    /// The signed note (C2SP tlog-checkpoint in a signed-note).
    pub note: String,
}

pub(crate) fn ledger_err(e: impl std::fmt::Display) -> CoreError {
    CoreError::Internal(format!("audit log: {e}"))
}

/// The 32-byte id this device uses in log entries: its log public key.
pub(crate) fn device_id(key: &SigningKey) -> DeviceId {
    DeviceId(key.verifying_key().to_bytes())
}

pub(crate) fn category_token(c: Category) -> Result<Token> {
    Token::new(c.as_str()).map_err(ledger_err)
}

pub(crate) fn now_secs(vault: &Vault) -> u64 {
    u64::try_from(vault.options().clock().unix_millis().div_euclid(1000)).unwrap_or(0)
}

/// A record-change entry, encoded.
pub(crate) fn change_entry(
    now: u64,
    key: &SigningKey,
    id: &str,
    heads: Vec<[u8; 32]>,
    kind: ChangeKind,
    category: Category,
) -> Result<Vec<u8>> {
    Entry::RecordChange(RecordChange {
        record: hearth_ledger::RecordId::new(id).map_err(ledger_err)?,
        heads: heads.into_iter().map(ChangeHash).collect(),
        kind,
        category: category_token(category)?,
        actor: device_id(key),
        time: now,
    })
    .encode()
    .map_err(ledger_err)
}

impl Hearth {
    /// This device's log key, created (and sealed in the vault) on first use.
    pub(crate) fn log_key(&self, vault: &mut Vault) -> Result<SigningKey> {
        if let Some(k) = self
            .log_key
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
        {
            return Ok(k.clone());
        }
        let existing = vault.open_all(DEVICE_KEY_KIND)?.into_iter().next();
        let key = match existing {
            Some((_, rec)) => {
                let rec = rec?;
                let bytes: [u8; 32] = rec.plaintext[..]
                    .try_into()
                    .map_err(|_| CoreError::Internal("the device log key is damaged".into()))?;
                SigningKey::from_bytes(&bytes)
            }
            None => {
                let mut secret = Zeroizing::new([0u8; 32]);
                getrandom::getrandom(secret.as_mut())
                    .map_err(|e| CoreError::Internal(e.to_string()))?;
                let key = SigningKey::from_bytes(&secret);
                let data_key = vault.create_key()?;
                vault.put(
                    &RecordId::random()?,
                    DEVICE_KEY_KIND,
                    &data_key,
                    secret.as_ref(),
                )?;
                key
            }
        };
        *self.log_key.lock().unwrap_or_else(|p| p.into_inner()) = Some(key.clone());
        Ok(key)
    }

    /// This device's log origin.
    fn origin(&self, vault: &Vault) -> String {
        format!("hearth.local/device/{}", hex::encode(vault.device_id()))
    }

    /// Record that a record (or a list, as `list:<kind>`) was accessed.
    pub(crate) fn log_access(
        &self,
        record: &str,
        action: AccessAction,
        purpose: &str,
    ) -> Result<()> {
        let mut vault = self.vault();
        let key = self.log_key(&mut vault)?;
        let entry = Entry::Access(Access {
            record: hearth_ledger::RecordId::new(record).map_err(ledger_err)?,
            action,
            purpose: Token::new(purpose).map_err(ledger_err)?,
            actor: device_id(&key),
            time: now_secs(&vault),
        })
        .encode()
        .map_err(ledger_err)?;
        vault.append_log(&[entry])?;
        Ok(())
    }

    /// Sign a checkpoint over the whole log (first appending the previous checkpoint's hash and
    /// the stake table's hash, so the root covers the chain).
    pub fn checkpoint(&self) -> Result<CheckpointInfo> {
        let mut vault = self.vault();
        let key = self.log_key(&mut vault)?;
        for _attempt in 0..3 {
            let entries = vault.log_entries()?;
            let last = match vault.last_checkpoint()? {
                Some((_, note)) => Some(SignedCheckpoint::parse(&note).map_err(ledger_err)?),
                None => None,
            };
            let signer = NoteSigner::new(self.origin(&vault), key.clone()).map_err(ledger_err)?;
            let mut log = Log::restore(
                self.origin(&vault),
                LogRole::Device,
                signer,
                entries.iter().map(Vec::as_slice),
                last,
            )
            .map_err(ledger_err)?;
            // Witness stake arrives with clinic membership; until then the table is empty.
            let commit = log
                .checkpoint(StakeTable::new().hash())
                .map_err(ledger_err)?;
            let chain: Vec<Vec<u8>> = commit.chain.iter().map(|a| a.bytes.clone()).collect();
            match vault.add_checkpoint(entries.len() as u64, &chain, &commit.signed.to_bytes()) {
                Ok(size) => {
                    let cp = commit.signed.checkpoint();
                    return Ok(CheckpointInfo {
                        size,
                        root: cp.root().to_hex(),
                        note: String::from_utf8_lossy(&commit.signed.to_bytes()).into_owned(),
                    });
                }
                Err(hearth_vault::VaultError::Busy) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(hearth_vault::VaultError::Busy.into())
    }

    /// This device's log, rebuilt from the vault (tree, last checkpoint, signer).
    fn stored_log(&self, vault: &mut Vault) -> Result<Log> {
        let key = self.log_key(vault)?;
        let entries = vault.log_entries()?;
        let last = match vault.last_checkpoint()? {
            Some((_, note)) => Some(SignedCheckpoint::parse(&note).map_err(ledger_err)?),
            None => None,
        };
        let signer = NoteSigner::new(self.origin(vault), key).map_err(ledger_err)?;
        Log::restore(
            self.origin(vault),
            LogRole::Device,
            signer,
            entries.iter().map(Vec::as_slice),
            last,
        )
        .map_err(ledger_err)
    }

    /// The verifier key of this device's log (`<origin>+<key id>+<key>`), for witnesses.
    pub fn log_verifier(&self) -> Result<String> {
        let mut vault = self.vault();
        Ok(self.stored_log(&mut vault)?.verifier().to_string())
    }

    /// What a witness needs to cosign the latest checkpoint: a consistency proof from the size
    /// it last cosigned (`old_size`) and the signed checkpoint.
    pub fn witness_request(&self, old_size: u64) -> Result<(Vec<hearth_ledger::Hash>, Vec<u8>)> {
        let mut vault = self.vault();
        let log = self.stored_log(&mut vault)?;
        let last = log
            .last_checkpoint()
            .cloned()
            .ok_or_else(|| CoreError::Invalid("no checkpoint yet: make one first".into()))?;
        let size = last.checkpoint().size();
        let proof = if old_size == 0 || old_size == size {
            Vec::new()
        } else {
            log.consistency_proof(old_size, size).map_err(ledger_err)?
        };
        Ok((proof, last.to_bytes()))
    }

    /// [`Hearth::audit`], then compare with checkpoints other devices witnessed (signed notes
    /// with their cosignatures): a witnessed checkpoint beyond this log means the vault was
    /// rolled back to an older copy; a different root at its size means the log forked. Each is
    /// also reported final or short of quorum under `stake`.
    pub fn audit_against(&self, witnessed: &[Vec<u8>], stake: &StakeTable) -> Result<AuditReport> {
        let mut report = self.audit()?;
        let mut vault = self.vault();
        let log = self.stored_log(&mut vault)?;
        let verifier = log.verifier();
        for note in witnessed {
            let cp = match SignedCheckpoint::parse(note) {
                Ok(cp) => cp,
                Err(e) => {
                    report
                        .problems
                        .push(format!("a witnessed checkpoint is unreadable ({e})"));
                    continue;
                }
            };
            if cp.verify(&verifier).is_err() {
                report
                    .problems
                    .push("a witnessed checkpoint is not signed by this device's log key".into());
                continue;
            }
            let c = cp.checkpoint();
            let t = hearth_ledger::tally(c, &cp.cosignatures(), stake);
            if t.is_final() {
                report.notes.push(format!(
                    "checkpoint at size {} is final ({} of {} stake cosigned)",
                    c.size(),
                    t.cosigned,
                    t.total
                ));
            } else {
                report.notes.push(format!(
                    "checkpoint at size {} is short of quorum: {} of {} stake cosigned, more than two thirds needed",
                    c.size(),
                    t.cosigned,
                    t.total
                ));
            }
            if c.size() > log.size() {
                report.problems.push(format!(
                    "rollback: witnesses hold a checkpoint of this device's log at size {}, but the vault's log has only {} entries: the vault file was replaced by an older copy",
                    c.size(),
                    log.size()
                ));
                continue;
            }
            match log.tree().root_at(c.size()) {
                Ok(root) if root == *c.root() => {}
                _ => report.problems.push(format!(
                    "fork: the log at size {} differs from the checkpoint the witnesses cosigned",
                    c.size()
                )),
            }
        }
        Ok(report)
    }

    /// Who changed and who looked at a patient's records, oldest first (from the audit log).
    pub fn patient_timeline(&self, patient_id: &str) -> Result<Vec<hearth_api::TimelineEvent>> {
        let mut vault = self.vault();
        let key = crate::records::patient_key(&mut vault, patient_id)?;
        let mut kinds: HashMap<String, &'static str> = HashMap::new();
        for kind in AUDITED {
            for meta in vault.list(kind)? {
                if meta.key_id == key {
                    kinds.insert(meta.id.to_string(), kind);
                }
            }
        }
        // Emergency accesses are listed under the patient too.
        for meta in vault.list(crate::breakglass::BREAK_GLASS_KIND)? {
            if meta.key_id == key {
                kinds.insert(meta.id.to_string(), crate::breakglass::BREAK_GLASS_KIND);
            }
        }
        let mut out = Vec::new();
        for bytes in vault.log_entries()? {
            let Ok(entry) = Entry::decode(&bytes) else {
                continue;
            };
            let (record, action, purpose, actor, time) = match &entry {
                Entry::RecordChange(c) => (
                    &c.record,
                    match c.kind {
                        ChangeKind::Create => "created",
                        ChangeKind::Edit => "edited",
                        _ => "deleted",
                    },
                    String::new(),
                    c.actor,
                    c.time,
                ),
                Entry::Access(a) => (
                    &a.record,
                    match a.action {
                        AccessAction::View => "viewed",
                        AccessAction::Export => "exported",
                        AccessAction::Analyse => "analysed",
                        _ => "break-glass",
                    },
                    a.purpose.as_str().to_string(),
                    a.actor,
                    a.time,
                ),
                _ => continue,
            };
            // A listing of this patient's records counts as viewing them.
            let listed = record
                .as_str()
                .strip_prefix("list:")
                .and_then(|rest| rest.split_once(':'))
                .filter(|(_, pid)| *pid == patient_id)
                .and_then(|(kind, _)| AUDITED.iter().find(|k| **k == kind).copied());
            let Some(kind) = kinds.get(record.as_str()).copied().or(listed) else {
                continue;
            };
            out.push(hearth_api::TimelineEvent {
                time: crate::records::rfc3339(i64::try_from(time).unwrap_or(i64::MAX)),
                action: action.to_string(),
                record_id: record.as_str().to_string(),
                kind: kind.to_string(),
                purpose,
                device: hex::encode(&actor.0[..8]),
            });
        }
        Ok(out)
    }

    /// The log's size, newest checkpoint and verifier key.
    pub fn log_status(&self) -> Result<hearth_api::LogStatus> {
        let mut vault = self.vault();
        let log = self.stored_log(&mut vault)?;
        let checkpoints = vault.checkpoints()?.len() as u64;
        let last = log.last_checkpoint().map(|c| c.checkpoint().clone());
        let last_signed = log.last_checkpoint().cloned();
        drop(vault);
        // Witness stake comes from the clinic's registrar log (stakes set at invite); outside
        // a clinic the table is empty and nothing is final. Cosignatures come back over sync.
        let stake = self.stake_table()?;
        let (cosignatures, tally) = match &last_signed {
            Some(cp) => {
                let cos = self.cosignatures_of(cp)?;
                let t = hearth_ledger::tally(cp.checkpoint(), &cos, &stake);
                (t.cosigners.len() as u64, Some(t))
            }
            None => (0, None),
        };
        let stake_fraction = tally
            .as_ref()
            .filter(|t| t.total > 0)
            .map_or(0.0, |t| t.cosigned as f64 / t.total as f64);
        Ok(hearth_api::LogStatus {
            size: log.size(),
            checkpoints,
            last_checkpoint_size: last.as_ref().map(|c| c.size()),
            last_checkpoint_root: last.as_ref().map(|c| c.root().to_hex()),
            verifier: log.verifier().to_string(),
            cosignatures,
            stake_fraction,
            final_: tally.is_some_and(|t| t.is_final()),
        })
    }

    /// Check the log against the vault: every record's current version must be the last one
    /// logged for it; every logged record must exist; every checkpoint must be signed by this
    /// device and match the log.
    pub fn audit(&self) -> Result<AuditReport> {
        let mut vault = self.vault();
        let key = self.log_key(&mut vault)?;
        let entries = vault.log_entries()?;
        let mut problems = Vec::new();
        let mut notes = Vec::new();
        let mut last_heads: HashMap<String, Vec<[u8; 32]>> = HashMap::new();
        let mut tree = Tree::new();
        for (i, bytes) in entries.iter().enumerate() {
            tree.append_leaf_hash(leaf_hash(bytes));
            match Entry::decode(bytes) {
                Ok(Entry::RecordChange(c)) => {
                    last_heads.insert(
                        c.record.as_str().to_string(),
                        c.heads.iter().map(|h| h.0).collect(),
                    );
                }
                Ok(_) => {}
                Err(e) => problems.push(format!("log entry {i} is unreadable ({e})")),
            }
        }
        let mut records = 0u64;
        let mut seen = std::collections::HashSet::new();
        for kind in AUDITED {
            for (id, rec) in vault.open_all(kind)? {
                records += 1;
                let id = id.to_string();
                seen.insert(id.clone());
                let rec = match rec {
                    Ok(r) => r,
                    Err(e) => {
                        problems.push(format!("{kind} {id} cannot be opened: {e}"));
                        continue;
                    }
                };
                let mut heads = match envelope::heads(&rec.plaintext) {
                    Ok(h) => h,
                    Err(e) => {
                        problems.push(format!("{kind} {id} cannot be read: {e}"));
                        continue;
                    }
                };
                heads.sort_unstable();
                match last_heads.get(&id) {
                    None => problems.push(format!(
                        "{kind} {id} is not in the audit log: it was created outside Hearth or its log entries were removed"
                    )),
                    Some(logged) => {
                        let mut logged = logged.clone();
                        logged.sort_unstable();
                        if logged != heads {
                            problems.push(format!(
                                "{kind} {id} was changed without being logged (its current version is not the last one recorded): it was edited outside Hearth"
                            ));
                        }
                    }
                }
            }
        }
        let mut missing: Vec<&String> =
            last_heads.keys().filter(|id| !seen.contains(*id)).collect();
        missing.sort();
        for id in missing {
            problems.push(format!(
                "the audit log records changes to {id}, which is no longer in the vault"
            ));
        }
        let checkpoints = vault.checkpoints()?;
        let verifier = NoteSigner::new(self.origin(&vault), key)
            .map_err(ledger_err)?
            .verifier();
        for (size, note) in &checkpoints {
            match SignedCheckpoint::parse(note) {
                Err(e) => problems.push(format!("checkpoint at size {size} is unreadable ({e})")),
                Ok(cp) => {
                    if cp.verify(&verifier).is_err() {
                        problems.push(format!(
                            "checkpoint at size {size} is not signed by this device"
                        ));
                    }
                    let c = cp.checkpoint();
                    match tree.root_at(c.size()) {
                        Ok(root) if root == *c.root() && c.size() == *size => {}
                        _ => problems.push(format!(
                            "checkpoint at size {size} does not match the log: entries were changed or removed after it was signed"
                        )),
                    }
                }
            }
        }
        if checkpoints.is_empty() {
            notes.push("no checkpoint yet: run a checkpoint to sign the log".into());
        } else {
            notes.push("checkpoints are signed by this device; witnessing by other clinic devices comes with clinic sync".into());
        }
        Ok(AuditReport {
            entries: entries.len() as u64,
            records,
            checkpoints: checkpoints.len() as u64,
            problems,
            notes,
        })
    }
}
