//! Ledger over the wire, the core side: what hearth-sync's witnessing needs from the vault.
//!
//! - `witness-book` (sealed): this device's witness state (hearth-ledger `WitnessState`, per
//!   origin the last cosigned size and root) and the last checkpoint note it cosigned per
//!   origin. It is written (one transaction, under the vault lock) before a cosignature leaves.
//! - `cosigned-checkpoints` (sealed): this device's own checkpoints with the cosignatures
//!   other members returned (signed notes with cosignature lines), newest kept.
//! - `log-evidence` (sealed): evidence against members: a log that signed two checkpoints for
//!   one size with different roots, or a witness that cosigned two such checkpoints.
//! - `checkpoint-gossip` (sealed): the cosigned checkpoints other members' devices gossiped,
//!   per log the newest few sizes, to compare with what arrives next (a split view is caught
//!   by whoever sees both views of one size).
//!
//! Finality uses the stake table of the registrar log (active members' stakes).

use hearth_ledger::{Cosignature, SignedCheckpoint, StakeTable};
use hearth_sync::witness::{
    self as w, CheckpointOffer, LogEquivocation, MemberEvidence, Proof, Verdict, WitnessBook,
    WitnessReply,
};
use hearth_sync::Member;
use hearth_vault::{RecordId, Vault};
use serde::{Deserialize, Serialize};

use crate::{audit, CoreError, Hearth, Result};

const BOOK_KIND: &str = "witness-book";
const COSIGNED_KIND: &str = "cosigned-checkpoints";
const EVIDENCE_KIND: &str = "log-evidence";
const GOSSIP_KIND: &str = "checkpoint-gossip";
/// Gossiped checkpoints kept per log (the newest sizes).
const KEEP_GOSSIP: usize = 16;
/// Gossiped checkpoints read from one peer at most.
const MAX_GOSSIP_IN: usize = 256;
/// Own checkpoints kept with their cosignatures.
const KEEP_COSIGNED: usize = 64;
/// Evidence items kept.
const KEEP_EVIDENCE: usize = 256;

#[derive(Serialize, Deserialize, Default)]
struct Cosigned {
    v: u32,
    /// Signed notes (UTF-8) with cosignature lines, oldest first.
    notes: Vec<String>,
}

#[derive(Serialize, Deserialize, Default)]
struct Gossip {
    v: u32,
    /// Per log origin: signed notes with cosignature lines, smallest size first.
    logs: std::collections::BTreeMap<String, Vec<String>>,
}

#[derive(Serialize, Deserialize, Default)]
struct EvidenceFile {
    v: u32,
    items: Vec<EvidenceItem>,
}

/// Evidence that a member's log equivocated, as this device found it while witnessing.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct EvidenceItem {
    /// The member's endpoint id (hex).
    pub endpoint: String,
    /// The member's name.
    pub name: String,
    /// The log's origin.
    pub origin: String,
    /// The size both checkpoints claim.
    pub size: u64,
    /// What it proves: `log-fork` (its log signed both checkpoints; `evidence` is an encoded
    /// `LogEquivocation`) or `cosigned` (it cosigned both, as a witness; `evidence` is encoded
    /// hearth-ledger `Evidence`).
    #[serde(default = "log_fork")]
    pub kind: String,
    /// The proof (hex).
    pub evidence: String,
    /// When it was found (seconds since the Unix epoch).
    pub found: u64,
}

fn log_fork() -> String {
    "log-fork".into()
}

fn internal(e: impl std::fmt::Display) -> CoreError {
    CoreError::Internal(format!("witnessing: {e}"))
}

/// The sealed record of `kind`, created empty if missing.
fn record_id(vault: &mut Vault, kind: &str, empty: &[u8]) -> Result<RecordId> {
    if let Some(meta) = vault.list(kind)?.into_iter().next() {
        return Ok(meta.id);
    }
    let id = RecordId::random()?;
    let key = vault.create_key()?;
    vault.put(&id, kind, &key, empty)?;
    Ok(id)
}

fn read_kind(vault: &mut Vault, kind: &str) -> Result<Option<zeroize::Zeroizing<Vec<u8>>>> {
    match vault.open_all(kind)?.into_iter().next() {
        Some((_, rec)) => Ok(Some(rec?.plaintext.clone())),
        None => Ok(None),
    }
}

fn cosigned_notes(vault: &mut Vault) -> Result<Vec<SignedCheckpoint>> {
    let Some(bytes) = read_kind(vault, COSIGNED_KIND)? else {
        return Ok(Vec::new());
    };
    let f: Cosigned = serde_json::from_slice(&bytes).map_err(internal)?;
    Ok(f.notes
        .iter()
        .filter_map(|n| SignedCheckpoint::parse(n.as_bytes()).ok())
        .collect())
}

impl Hearth {
    /// The clinic's stake table (empty outside a clinic).
    pub(crate) fn stake_table(&self) -> Result<StakeTable> {
        let clinic = self.sync_store().clinic().map_err(internal)?;
        Ok(clinic.as_ref().map_or_else(StakeTable::new, w::stake_table))
    }

    /// Cosignatures other members returned for the checkpoint `cp` of this device's log.
    pub(crate) fn cosignatures_of(&self, cp: &SignedCheckpoint) -> Result<Vec<Cosignature>> {
        let mut vault = self.vault();
        let text = cp.checkpoint().to_text();
        let mut out = cp.cosignatures();
        for stored in cosigned_notes(&mut vault)? {
            if stored.checkpoint().to_text() == text {
                out.extend(stored.cosignatures());
            }
        }
        Ok(out)
    }

    /// This device's own checkpoints as other members cosigned them (signed notes with their
    /// cosignature lines), oldest first.
    pub(crate) fn cosigned_checkpoints(&self) -> Result<Vec<SignedCheckpoint>> {
        cosigned_notes(&mut self.vault())
    }

    /// Evidence of equivocating logs this device found while witnessing.
    pub fn witness_evidence(&self) -> Result<Vec<EvidenceItem>> {
        let mut vault = self.vault();
        let Some(bytes) = read_kind(&mut vault, EVIDENCE_KIND)? else {
            return Ok(Vec::new());
        };
        let f: EvidenceFile = serde_json::from_slice(&bytes).map_err(internal)?;
        Ok(f.items)
    }

    /// The newest checkpoint for `peer` to witness, with a proof from `from` (the size the
    /// witness says it last cosigned) or else from the last one it is known to have cosigned.
    pub(crate) fn checkpoint_offer(
        &self,
        peer: &Member,
        from: Option<u64>,
    ) -> Result<Option<CheckpointOffer>> {
        let key = w::witness_key(peer).map_err(internal)?;
        let last = {
            let mut vault = self.vault();
            let Some((size, _)) = vault.last_checkpoint()? else {
                return Ok(None);
            };
            if let Some(from) = from {
                if from > size {
                    // The witness cosigned more of this log than the vault holds: rolled back.
                    tracing::error!(
                        peer = %peer.name,
                        witnessed = from,
                        size,
                        "a witness cosigned a larger checkpoint of this device's log than the vault holds: the vault was rolled back"
                    );
                    return Ok(None);
                }
            }
            if let Some(from) = from {
                from
            } else {
                cosigned_notes(&mut vault)?
                    .iter()
                    .filter(|cp| {
                        let text = cp.checkpoint().to_text();
                        cp.cosignatures().iter().any(|c| key.verify(&text, c))
                    })
                    .map(|cp| cp.checkpoint().size())
                    .max()
                    .unwrap_or(0)
            }
        };
        let (proof, note) = self.witness_request(last)?;
        Ok(Some(CheckpointOffer {
            old_size: last,
            proof: proof.iter().map(|h| h.0).collect(),
            note,
        }))
    }

    /// Witness `peer`'s checkpoint: check it against what this device cosigned before, persist
    /// the new witness state, then release the cosignature (or keep and return evidence).
    pub(crate) fn witness_offer(&self, peer: &Member, offer: &CheckpointOffer) -> WitnessReply {
        match self.try_witness(peer, offer) {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, "witnessing failed");
                WitnessReply::Refused(format!("the witness failed: {e}"))
            }
        }
    }

    fn try_witness(&self, peer: &Member, offer: &CheckpointOffer) -> Result<WitnessReply> {
        if offer.note.is_empty() {
            return Ok(WitnessReply::Skipped("no checkpoint offered".into()));
        }
        let clinic = self
            .sync_store()
            .clinic()
            .map_err(internal)?
            .ok_or_else(|| internal("this device is in no clinic"))?;
        let me = self.endpoint_id()?;
        let stake = clinic.active(&me).map_or(0, |m| m.stake);
        let mut vault = self.vault();
        let signer = w::witness_signer(&self.log_key(&mut vault)?).map_err(internal)?;
        let now = audit::now_secs(&vault);
        let id = record_id(&mut vault, BOOK_KIND, &WitnessBook::default().encode())?;
        // Judge and persist in one transaction (the vault lock is held throughout).
        let outcome = vault.update(&id, |rec| {
            let book = WitnessBook::decode(&rec.plaintext).map_err(internal)?;
            match w::judge(signer, book, stake, peer, offer, now) {
                Verdict::Cosign {
                    book,
                    witness,
                    pending,
                } => {
                    let bytes = book.encode();
                    Ok::<_, CoreError>((Some(bytes), Ok((book, witness, pending))))
                }
                Verdict::Answer(r) => Ok((None, Err(Ok(r)))),
                Verdict::Evidence(ev) => Ok((None, Err(Err(ev)))),
            }
        })?;
        match outcome {
            Ok((book, witness, pending)) => Ok(w::release(*witness, *pending, &book)),
            Err(Ok(reply)) => Ok(reply),
            Err(Err(ev)) => {
                drop(vault);
                let encoded = ev.encode();
                let found = MemberEvidence {
                    endpoint: peer.endpoint,
                    proof: Proof::LogFork(ev),
                };
                tracing::warn!(peer = %peer.name, "a member's log equivocated: evidence kept, not cosigned");
                self.keep_evidence(peer, &found)?;
                Ok(WitnessReply::Evidence(encoded))
            }
        }
    }

    /// Keep verified evidence against `member` (once per member, offence, log and size); the
    /// registrar then slashes the member's stake in the registrar log, which carries it to
    /// every device. `true` if new.
    fn keep_evidence(&self, member: &Member, ev: &MemberEvidence) -> Result<bool> {
        let (origin, size) = ev.verify(member).map_err(internal)?;
        let (kind, encoded) = match &ev.proof {
            Proof::LogFork(e) => ("log-fork", e.encode()),
            Proof::Cosigned(e) => ("cosigned", e.encode()),
        };
        let mut vault = self.vault();
        let item = EvidenceItem {
            endpoint: hex::encode(member.endpoint),
            name: member.name.clone(),
            origin,
            size,
            kind: kind.to_string(),
            evidence: hex::encode(&encoded),
            found: audit::now_secs(&vault),
        };
        let empty = serde_json::to_vec(&EvidenceFile::default()).map_err(internal)?;
        let id = record_id(&mut vault, EVIDENCE_KIND, &empty)?;
        let new = vault.update(&id, |rec| {
            let mut f: EvidenceFile = serde_json::from_slice(&rec.plaintext).map_err(internal)?;
            f.v = 1;
            let known = f.items.iter().any(|i| {
                i.evidence == item.evidence
                    || (i.endpoint == item.endpoint
                        && i.kind == item.kind
                        && i.origin == item.origin
                        && i.size == item.size)
            });
            if known {
                return Ok::<_, CoreError>((None, false));
            }
            f.items.push(item);
            let excess = f.items.len().saturating_sub(KEEP_EVIDENCE);
            f.items.drain(..excess);
            Ok((Some(serde_json::to_vec(&f).map_err(internal)?), true))
        })?;
        drop(vault);
        self.slash_if_registrar(member, ev)?;
        Ok(new)
    }

    /// Registrar: slash `member`'s stake with `ev`, unless already slashed.
    fn slash_if_registrar(&self, member: &Member, ev: &MemberEvidence) -> Result<()> {
        let key = {
            let mut vault = self.vault();
            self.log_key(&mut vault)?
        };
        let mine = key.verifying_key().to_bytes();
        let registrar = self
            .sync_store()
            .clinic()
            .map_err(internal)?
            .is_some_and(|c| c.registrar().log_key == mine);
        if registrar
            && mine != member.log_key
            && self.clinic_slash(&key, member.endpoint, ev.encode())?
        {
            tracing::warn!(member = %member.name, offence = ev.offence(), "stake slashed in the registrar log");
        }
        Ok(())
    }

    /// Evidence this device holds, as it travels to peers.
    pub(crate) fn evidence_to_share(&self) -> Result<Vec<Vec<u8>>> {
        Ok(self
            .witness_evidence()?
            .iter()
            .filter_map(|i| {
                let endpoint = hex::decode(&i.endpoint).ok()?.try_into().ok()?;
                let bytes = hex::decode(&i.evidence).ok()?;
                let proof = match i.kind.as_str() {
                    "cosigned" => {
                        Proof::Cosigned(Box::new(hearth_ledger::Evidence::decode(&bytes).ok()?))
                    }
                    _ => Proof::LogFork(LogEquivocation::decode(&bytes).ok()?),
                };
                Some(MemberEvidence { endpoint, proof }.encode())
            })
            .collect())
    }

    /// Evidence received from a peer: keep what verifies against a member of this clinic.
    pub(crate) fn accept_evidence(&self, items: &[Vec<u8>]) -> Result<usize> {
        let Some(clinic) = self.sync_store().clinic().map_err(internal)? else {
            return Ok(0);
        };
        let mut new = 0;
        for bytes in items.iter().take(KEEP_EVIDENCE) {
            let Ok(ev) = MemberEvidence::decode(bytes) else {
                continue;
            };
            let Some(m) = clinic
                .members()
                .find(|m| m.member.endpoint == ev.endpoint)
                .map(|m| m.member.clone())
            else {
                continue;
            };
            match self.keep_evidence(&m, &ev) {
                Ok(true) => new += 1,
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e.message(), "evidence from a peer was ignored"),
            }
        }
        Ok(new)
    }

    /// Cosigned checkpoints to gossip: this device's newest cosigned one and the newest held
    /// of every other member's log.
    pub(crate) fn cosigned_to_share(&self) -> Result<Vec<Vec<u8>>> {
        let mut vault = self.vault();
        let mut out: Vec<Vec<u8>> = cosigned_notes(&mut vault)?
            .last()
            .filter(|c| !c.cosignatures().is_empty())
            .map(|c| c.to_bytes())
            .into_iter()
            .collect();
        if let Some(bytes) = read_kind(&mut vault, GOSSIP_KIND)? {
            let g: Gossip = serde_json::from_slice(&bytes).map_err(internal)?;
            out.extend(
                g.logs
                    .values()
                    .filter_map(|notes| notes.last())
                    .map(|n| n.as_bytes().to_vec()),
            );
        }
        Ok(out)
    }

    /// Cosigned checkpoints a peer gossiped: keep those its log signed; a note for a size
    /// already held with another root is a split view, and becomes evidence against the log
    /// and every witness that cosigned both (kept, spread, and slashed by the registrar).
    /// Returns how many items of evidence were new.
    pub(crate) fn accept_cosigned(&self, notes: &[Vec<u8>]) -> Result<usize> {
        let Some(clinic) = self.sync_store().clinic().map_err(internal)? else {
            return Ok(0);
        };
        let me = self.endpoint_id()?;
        let members: Vec<Member> = clinic.members().map(|m| m.member.clone()).collect();
        let mut found: Vec<(Member, MemberEvidence)> = Vec::new();
        {
            let mut vault = self.vault();
            let empty = serde_json::to_vec(&Gossip::default()).map_err(internal)?;
            let id = record_id(&mut vault, GOSSIP_KIND, &empty)?;
            vault.update(&id, |rec| {
                let mut g: Gossip = serde_json::from_slice(&rec.plaintext).map_err(internal)?;
                g.v = 1;
                let mut changed = false;
                for bytes in notes.iter().take(MAX_GOSSIP_IN) {
                    let Ok(cp) = SignedCheckpoint::parse(bytes) else {
                        continue;
                    };
                    let origin = cp.checkpoint().origin().to_string();
                    let Some(log) = members.iter().find(|m| w::origin(m) == origin) else {
                        continue;
                    };
                    // This device's own log is checked by its own history, not by gossip.
                    if log.endpoint == me {
                        continue;
                    }
                    let Ok(verifier) = w::log_verifier(log) else {
                        continue;
                    };
                    if cp.verify(&verifier).is_err() {
                        continue;
                    }
                    let Ok(text) = String::from_utf8(bytes.clone()) else {
                        continue;
                    };
                    let held = g.logs.entry(origin).or_default();
                    let size = cp.checkpoint().size();
                    let same = held.iter().position(|n| {
                        SignedCheckpoint::parse(n.as_bytes())
                            .is_ok_and(|h| h.checkpoint().size() == size)
                    });
                    match same {
                        Some(i) => {
                            let evidence = w::split_view(log, &members, held[i].as_bytes(), bytes);
                            if evidence.is_empty() {
                                // The same view: keep whichever carries more cosignatures.
                                let more =
                                    SignedCheckpoint::parse(held[i].as_bytes()).is_ok_and(|h| {
                                        cp.cosignatures().len() > h.cosignatures().len()
                                    });
                                if more {
                                    held[i] = text;
                                    changed = true;
                                }
                            }
                            for ev in evidence {
                                if let Some(m) = members.iter().find(|m| m.endpoint == ev.endpoint)
                                {
                                    found.push((m.clone(), ev));
                                }
                            }
                        }
                        None => {
                            held.push(text);
                            held.sort_by_key(|n| {
                                SignedCheckpoint::parse(n.as_bytes())
                                    .map_or(0, |c| c.checkpoint().size())
                            });
                            let excess = held.len().saturating_sub(KEEP_GOSSIP);
                            held.drain(..excess);
                            changed = true;
                        }
                    }
                }
                let bytes = if changed {
                    Some(serde_json::to_vec(&g).map_err(internal)?)
                } else {
                    None
                };
                Ok::<_, CoreError>((bytes, ()))
            })?;
        }
        let mut new = 0;
        for (m, ev) in found {
            tracing::warn!(member = %m.name, offence = ev.offence(), "a split view: evidence kept");
            if self.keep_evidence(&m, &ev)? {
                new += 1;
            }
        }
        Ok(new)
    }

    /// `peer` answered the checkpoint this device offered: keep a valid cosignature.
    pub(crate) fn witness_answered(
        &self,
        peer: &Member,
        offered: &CheckpointOffer,
        reply: &WitnessReply,
    ) -> Result<()> {
        match reply {
            WitnessReply::Cosigned(line) => {
                let Some(c) = w::check_cosignature(peer, &offered.note, line) else {
                    tracing::warn!(peer = %peer.name, "a cosignature that does not verify was ignored");
                    return Ok(());
                };
                let cp = SignedCheckpoint::parse(&offered.note).map_err(internal)?;
                let text = cp.checkpoint().to_text();
                let mut vault = self.vault();
                let empty = serde_json::to_vec(&Cosigned::default()).map_err(internal)?;
                let id = record_id(&mut vault, COSIGNED_KIND, &empty)?;
                vault.update(&id, |rec| {
                    let mut f: Cosigned =
                        serde_json::from_slice(&rec.plaintext).map_err(internal)?;
                    f.v = 1;
                    let mut notes: Vec<SignedCheckpoint> = f
                        .notes
                        .iter()
                        .filter_map(|n| SignedCheckpoint::parse(n.as_bytes()).ok())
                        .collect();
                    let pos = match notes.iter().position(|n| n.checkpoint().to_text() == text) {
                        Some(p) => p,
                        None => {
                            notes.push(cp.clone());
                            notes.len() - 1
                        }
                    };
                    let entry = &mut notes[pos];
                    let dup = entry
                        .cosignatures()
                        .iter()
                        .any(|x| x.name == c.name && x.key_id == c.key_id);
                    if dup {
                        return Ok((None, ()));
                    }
                    entry.add_cosignature(&c);
                    notes.sort_by_key(|n| n.checkpoint().size());
                    let excess = notes.len().saturating_sub(KEEP_COSIGNED);
                    notes.drain(..excess);
                    f.notes = notes
                        .iter()
                        .map(|n| String::from_utf8_lossy(&n.to_bytes()).into_owned())
                        .collect();
                    Ok::<_, CoreError>((Some(serde_json::to_vec(&f).map_err(internal)?), ()))
                })?;
                tracing::info!(peer = %peer.name, "checkpoint cosigned");
            }
            WitnessReply::Skipped(why) => {
                tracing::debug!(peer = %peer.name, %why, "checkpoint not witnessed");
            }
            WitnessReply::Refused(why) => {
                tracing::warn!(peer = %peer.name, %why, "the peer refused to cosign this device's checkpoint");
            }
            WitnessReply::Retry(size) => {
                tracing::warn!(peer = %peer.name, size, "the peer's witness state does not match this device's offer");
            }
            WitnessReply::Evidence(_) => {
                tracing::error!(peer = %peer.name, "the peer holds evidence that this device's log forked");
            }
        }
        Ok(())
    }
}
