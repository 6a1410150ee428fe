//! Clinic sync, the core side: the clinic (registrar log, invites, settings) sealed in the
//! vault, membership use cases, and the [`hearth_sync::Store`] over this vault's records that
//! sessions read and write through.
//!
//! What a peer is offered is decided here, per record, by the consent evaluator with the peer
//! as the actor (`decide_for`): its member id (hex of its vault device id) and clinic role. A
//! peer is never presumed the treating clinician, so without a contract naming it (or its
//! role) it receives nothing of a patient; psychotherapy notes are offered only when a
//! contract names that category. A received record is merged only if the peer may write its
//! category. An attachment's record travels like any other; its content travels apart (iroh-blobs,
//! in `hearth_sync::net`), sealed under a key its record carries, and only to a peer that
//! consent lets read the attachment.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use hearth_consent::{
    Action, Category, ConsentSet, Contract, Decision, MemberId, PatientId, Purpose, Request,
    Requester, SignedContract, Status,
};
use hearth_ledger::{ConsentAction, Entry};
use hearth_records::{
    envelope, Appointment, Assessment, Attachment, Doc, Patient, PsychotherapyNote, RecordKind,
    SessionNote, TreatmentPlan,
};
use hearth_sync::{
    endpoint_id, endpoint_secret, Clinic, JoinRequest, Member, Offer, Role, SignedEntry, Store,
    StoreError, Ticket,
};
use hearth_vault::{NewRecord, RecordId, Vault, VaultError};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::consent::CONSENT_KIND;
use crate::{audit, CoreError, Hearth, Result};

/// Vault kind of the record holding the clinic (registrar log, pending invites, settings).
pub(crate) const CLINIC_KIND: &str = "clinic";

/// Record kinds that sync carries, patients first (a patient's records need the patient).
const SYNCED: [&str; 7] = [
    "patient",
    "attachment",
    "appointment",
    "session-note",
    "psychotherapy-note",
    "assessment",
    "treatment-plan",
];

/// How long an invite stays valid.
const INVITE_SECS: u64 = 7 * 24 * 3600;

/// Default port of `hearth node`.
pub const DEFAULT_SYNC_PORT: u16 = 47_100;

/// The sealed clinic record (`hearth-clinic/1`).
#[derive(Serialize, Deserialize)]
struct ClinicFile {
    v: u32,
    /// `Clinic::to_bytes`, hex.
    clinic: String,
    invites: Vec<InviteFile>,
    listen: String,
    mdns: bool,
    /// The clinic's self-hosted relay (`https://…`), if it uses one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    relay: Option<String>,
    /// Where members were last reached (endpoint hex → addresses), so the app can sync with
    /// them again after a restart.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    peers: std::collections::BTreeMap<String, Vec<String>>,
}

#[derive(Serialize, Deserialize)]
struct InviteFile {
    /// SHA-256 of the one-time secret, hex (the secret itself is only in the ticket).
    hash: String,
    role: String,
    stake: u64,
    /// For a patient's device: its patient.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    patient: Option<String>,
    expires: u64,
}

/// A member as `hearth clinic members` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct MemberInfo {
    /// iroh endpoint id (hex).
    pub endpoint: String,
    /// Name.
    pub name: String,
    /// Role.
    pub role: String,
    /// Witness stake.
    pub stake: u64,
    /// For a patient's device: the patient it belongs to.
    pub patient: Option<String>,
    /// Not removed.
    pub active: bool,
    /// Its stake was slashed for proven misbehaviour.
    pub slashed: bool,
    /// The registrar.
    pub registrar: bool,
    /// This device.
    pub this_device: bool,
}

/// The clinic as this device knows it.
#[derive(Debug, Clone, Serialize)]
pub struct ClinicInfo {
    /// Clinic id (hex).
    pub id: String,
    /// Name.
    pub name: String,
    /// This device is the registrar.
    pub registrar: bool,
    /// This device's endpoint id (hex).
    pub endpoint: String,
    /// Registrar-log entries.
    pub log_len: u64,
    /// Members, in endpoint order.
    pub members: Vec<MemberInfo>,
    /// Where `hearth node` listens.
    pub listen: String,
    /// LAN discovery (mDNS) on.
    pub mdns: bool,
    /// When this is a patient's own device: that patient's id.
    pub own_patient: Option<String>,
}

fn invalid(what: &str, e: impl std::fmt::Display) -> CoreError {
    CoreError::Invalid(format!("{what}: {e}"))
}

fn now_secs(vault: &Vault) -> u64 {
    audit::now_secs(vault)
}

fn today(vault: &Vault) -> time::Date {
    hearth_records::date_of(vault.options().clock().unix_millis().div_euclid(1000))
}

fn parse_file(bytes: &[u8]) -> Result<(ClinicFile, Clinic)> {
    let f: ClinicFile = serde_json::from_slice(bytes)
        .map_err(|e| CoreError::Internal(format!("the clinic record is damaged: {e}")))?;
    if f.v != 1 {
        return Err(CoreError::Internal(format!(
            "the clinic record has version {}; update Hearth",
            f.v
        )));
    }
    let raw = hex::decode(&f.clinic)
        .map_err(|e| CoreError::Internal(format!("the clinic record is damaged: {e}")))?;
    let clinic = Clinic::from_bytes(&raw)
        .map_err(|e| CoreError::Internal(format!("the clinic record is damaged: {e}")))?;
    Ok((f, clinic))
}

fn file_bytes(f: &ClinicFile) -> Result<Vec<u8>> {
    serde_json::to_vec(f).map_err(|e| CoreError::Internal(e.to_string()))
}

/// The patient whose own device `me` is, if it is one (removed or not: what it holds stays
/// that patient's).
fn own_patient_in(c: &Clinic, me: &[u8; 32]) -> Option<String> {
    c.members()
        .find(|m| m.member.endpoint == *me)
        .and_then(|m| m.member.patient.clone())
}

fn role_of(r: Role) -> hearth_consent::Role {
    match r {
        Role::Clinician => hearth_consent::Role::Clinician,
        Role::Admin => hearth_consent::Role::Admin,
        Role::Patient => hearth_consent::Role::Patient,
    }
}

/// The patient a stored record (envelope) belongs to, and its consent category.
fn patient_and_category(kind: &str, bytes: &[u8]) -> Result<(String, Category)> {
    fn typed<T: RecordKind>(bytes: &[u8]) -> Result<(String, Category)> {
        let p = envelope::peek::<T>(bytes)?;
        let patient = p.value.patient_id().unwrap_or(&p.id).to_string();
        Ok((patient, crate::consent::category(T::CATEGORY)))
    }
    match kind {
        "patient" => typed::<Patient>(bytes),
        "appointment" => typed::<Appointment>(bytes),
        "session-note" => typed::<SessionNote>(bytes),
        "psychotherapy-note" => typed::<PsychotherapyNote>(bytes),
        "assessment" => typed::<Assessment>(bytes),
        "treatment-plan" => typed::<TreatmentPlan>(bytes),
        "attachment" => typed::<Attachment>(bytes),
        other => Err(CoreError::Invalid(format!("kind: {other:?} does not sync"))),
    }
}

/// The patient, category and first author (hex actor) of a received Automerge document.
fn received_facts(kind: &str, doc: &[u8], me: &[u8]) -> Result<(String, Category, Option<String>)> {
    fn typed<T: RecordKind>(doc: &[u8], me: &[u8]) -> Result<(String, Category, Option<String>)> {
        let mut d: Doc<T> = Doc::load(doc, me)?;
        let patient = d.value().patient_id().unwrap_or(d.id()).to_string();
        let author = if T::KIND == "psychotherapy-note" {
            d.history()?.first().map(|h| h.actor.clone())
        } else {
            None
        };
        Ok((patient, crate::consent::category(T::CATEGORY), author))
    }
    match kind {
        "patient" => typed::<Patient>(doc, me),
        "appointment" => typed::<Appointment>(doc, me),
        "session-note" => typed::<SessionNote>(doc, me),
        "psychotherapy-note" => typed::<PsychotherapyNote>(doc, me),
        "assessment" => typed::<Assessment>(doc, me),
        "treatment-plan" => typed::<TreatmentPlan>(doc, me),
        "attachment" => typed::<Attachment>(doc, me),
        other => Err(CoreError::Invalid(format!("kind: {other:?} does not sync"))),
    }
}

impl Hearth {
    /// This device's iroh endpoint secret (derived from its sealed log key; never stored).
    pub fn sync_secret(&self) -> Result<Zeroizing<[u8; 32]>> {
        let mut vault = self.vault();
        let key = self.log_key(&mut vault)?;
        Ok(endpoint_secret(&key))
    }

    /// This device's endpoint id.
    pub fn endpoint_id(&self) -> Result<[u8; 32]> {
        Ok(endpoint_id(&*self.sync_secret()?))
    }

    fn clinic_file(&self, vault: &mut Vault) -> Result<Option<(RecordId, ClinicFile, Clinic)>> {
        let Some((id, rec)) = vault.open_all(CLINIC_KIND)?.into_iter().next() else {
            return Ok(None);
        };
        let (f, c) = parse_file(&rec?.plaintext)?;
        Ok(Some((id, f, c)))
    }

    /// Read-modify-write the clinic record in one transaction.
    fn modify_clinic<T>(
        &self,
        f: impl FnOnce(&mut ClinicFile, &mut Clinic, u64) -> Result<T>,
    ) -> Result<T> {
        let mut vault = self.vault();
        let now = now_secs(&vault);
        let Some(meta) = vault.list(CLINIC_KIND)?.into_iter().next() else {
            return Err(CoreError::Invalid(
                "clinic: this device is in no clinic; create one (hearth clinic create) or join with a ticket"
                    .into(),
            ));
        };
        vault.update(&meta.id, |rec| {
            let (mut file, mut clinic) = parse_file(&rec.plaintext)?;
            let out = f(&mut file, &mut clinic, now)?;
            file.clinic = hex::encode(clinic.to_bytes());
            Ok::<_, CoreError>((Some(file_bytes(&file)?), out))
        })
    }

    fn store_new_clinic(&self, clinic: &Clinic, listen: SocketAddr, mdns: bool) -> Result<()> {
        let mut vault = self.vault();
        if !vault.list(CLINIC_KIND)?.is_empty() {
            return Err(CoreError::Invalid(
                "clinic: this device already belongs to a clinic".into(),
            ));
        }
        *self.own_patient_slot() = None;
        let file = ClinicFile {
            v: 1,
            clinic: hex::encode(clinic.to_bytes()),
            invites: Vec::new(),
            listen: listen.to_string(),
            mdns,
            relay: None,
            peers: std::collections::BTreeMap::new(),
        };
        let key = vault.create_key()?;
        vault.put(&RecordId::random()?, CLINIC_KIND, &key, &file_bytes(&file)?)?;
        Ok(())
    }

    fn this_member(&self, name: &str, role: Role, stake: u64) -> Result<Member> {
        let mut vault = self.vault();
        let key = self.log_key(&mut vault)?;
        Ok(Member {
            endpoint: endpoint_id(&endpoint_secret(&key)),
            log_key: key.verifying_key().to_bytes(),
            device: vault.device_id().to_vec(),
            name: name.to_string(),
            role,
            stake,
            patient: None,
        })
    }

    /// Create a clinic; this device becomes its registrar (genesis of the registrar log).
    /// `listen` is where `hearth node` will accept connections (tickets carry it).
    pub fn clinic_create(
        &self,
        name: &str,
        device_name: &str,
        role: &str,
        listen: SocketAddr,
        mdns: bool,
    ) -> Result<ClinicInfo> {
        let role = Role::from_code(role)
            .ok_or_else(|| invalid("role", "use clinician, admin or patient"))?;
        if role == Role::Patient {
            return Err(invalid(
                "role",
                "a clinic is created on a clinician's or an admin's device; a patient's device joins with an invite",
            ));
        }
        if name.trim().is_empty() || name.len() > 200 {
            return Err(invalid(
                "name",
                "give the clinic a name of 1 to 200 characters",
            ));
        }
        let me = self.this_member(device_name, role, 1)?;
        let (key, now) = {
            let mut vault = self.vault();
            (self.log_key(&mut vault)?, now_secs(&vault))
        };
        let clinic =
            Clinic::create(name.trim(), &key, me, now).map_err(|e| invalid("clinic", e))?;
        self.store_new_clinic(&clinic, listen, mdns)?;
        self.clinic_info()?
            .ok_or_else(|| CoreError::Internal("the new clinic was not stored".into()))
    }

    /// When this is a patient's own device (it joined a clinic with a patient invite): that
    /// patient's id. Cached: a device joins one clinic once.
    pub fn own_patient(&self) -> Result<Option<String>> {
        if let Some(known) = self.own_patient_slot().clone() {
            return Ok(known);
        }
        // Read-only: outside a clinic nothing is looked up (nor the log key made).
        let clinic = {
            let mut vault = self.vault();
            self.clinic_file(&mut vault)?.map(|(_, _, c)| c)
        };
        let found = match clinic {
            Some(c) => own_patient_in(&c, &self.endpoint_id()?),
            None => None,
        };
        *self.own_patient_slot() = Some(found.clone());
        Ok(found)
    }

    /// The clinic, if this device belongs to one.
    pub fn clinic_info(&self) -> Result<Option<ClinicInfo>> {
        let me = self.endpoint_id()?;
        let mut vault = self.vault();
        let Some((_, f, c)) = self.clinic_file(&mut vault)? else {
            return Ok(None);
        };
        let members = c
            .members()
            .map(|m| MemberInfo {
                endpoint: hex::encode(m.member.endpoint),
                name: m.member.name.clone(),
                role: m.member.role.code().to_string(),
                stake: m.member.stake,
                patient: m.member.patient.clone(),
                active: m.active,
                slashed: m.slashed,
                registrar: m.member.endpoint == c.registrar().endpoint,
                this_device: m.member.endpoint == me,
            })
            .collect();
        Ok(Some(ClinicInfo {
            id: c.id().to_hex(),
            name: c.name().to_string(),
            registrar: c.registrar().endpoint == me,
            endpoint: hex::encode(me),
            log_len: c.len(),
            members,
            listen: f.listen,
            mdns: f.mdns,
            own_patient: own_patient_in(&c, &me),
        }))
    }

    /// Registrar: slash a member's stake with encoded evidence, unless already slashed;
    /// `true` if this added the entry.
    pub(crate) fn clinic_slash(
        &self,
        key: &ed25519_dalek::SigningKey,
        endpoint: [u8; 32],
        evidence: Vec<u8>,
    ) -> Result<bool> {
        self.modify_clinic(|_, c, now| {
            if c.members()
                .any(|m| m.member.endpoint == endpoint && m.slashed)
            {
                return Ok(false);
            }
            c.slash(key, endpoint, evidence, now)
                .map_err(|e| invalid("slash", e))?;
            Ok(true)
        })
    }

    /// Where `hearth node` listens and whether mDNS is on.
    pub fn sync_settings(&self) -> Result<(SocketAddr, bool)> {
        let mut vault = self.vault();
        match self.clinic_file(&mut vault)? {
            Some((_, f, _)) => Ok((
                f.listen
                    .parse()
                    .map_err(|e| CoreError::Internal(format!("listen address: {e}")))?,
                f.mdns,
            )),
            None => Err(CoreError::Invalid(
                "clinic: this device is in no clinic; create one (hearth clinic create) or join with a ticket"
                    .into(),
            )),
        }
    }

    /// Remember where member `endpoint` was reached (kept sealed with the clinic). Not a
    /// member, or nothing new: nothing is written.
    pub fn remember_peer(&self, endpoint: [u8; 32], addrs: &[SocketAddr]) -> Result<()> {
        if addrs.is_empty() {
            return Ok(());
        }
        let key = hex::encode(endpoint);
        let addrs: Vec<String> = addrs.iter().map(ToString::to_string).collect();
        {
            let mut vault = self.vault();
            match self.clinic_file(&mut vault)? {
                Some((_, f, c)) if c.active(&endpoint).is_some() => {
                    if f.peers.get(&key) == Some(&addrs) {
                        return Ok(());
                    }
                }
                _ => return Ok(()),
            }
        }
        self.modify_clinic(|f, _, _| {
            f.peers.insert(key, addrs);
            Ok(())
        })
    }

    /// Where active members were last reached.
    pub fn known_peers(&self) -> Result<Vec<([u8; 32], Vec<SocketAddr>)>> {
        let mut vault = self.vault();
        let Some((_, f, c)) = self.clinic_file(&mut vault)? else {
            return Ok(Vec::new());
        };
        Ok(f.peers
            .iter()
            .filter_map(|(k, v)| {
                let id: [u8; 32] = hex::decode(k).ok()?.try_into().ok()?;
                c.active(&id)?;
                let addrs: Vec<SocketAddr> = v.iter().filter_map(|a| a.parse().ok()).collect();
                (!addrs.is_empty()).then_some((id, addrs))
            })
            .collect())
    }

    /// The clinic's self-hosted relay URL, if this device uses one.
    pub fn sync_relay(&self) -> Result<Option<String>> {
        let mut vault = self.vault();
        Ok(self.clinic_file(&mut vault)?.and_then(|(_, f, _)| f.relay))
    }

    /// Use the clinic's self-hosted relay at `url` (an `iroh-relay` server, for devices at
    /// several sites), or none (`None`, the default: devices reach each other directly).
    pub fn set_sync_relay(&self, url: Option<&str>) -> Result<()> {
        let url = match url.map(str::trim).filter(|u| !u.is_empty()) {
            None => None,
            Some(u) => {
                let host = u
                    .strip_prefix("https://")
                    .or_else(|| u.strip_prefix("http://"))
                    .unwrap_or_default();
                if host.is_empty() || host.starts_with('/') || u.contains(char::is_whitespace) {
                    return Err(invalid(
                        "relay",
                        format!("{u:?} is not a relay address; give it as https://HOST[:PORT]"),
                    ));
                }
                Some(u.to_string())
            }
        };
        self.modify_clinic(|f, _, _| {
            f.relay = url;
            Ok(())
        })
    }

    /// Change where `hearth node` listens and whether it uses mDNS.
    pub fn set_sync_settings(&self, listen: Option<SocketAddr>, mdns: Option<bool>) -> Result<()> {
        self.modify_clinic(|f, _, _| {
            if let Some(l) = listen {
                f.listen = l.to_string();
            }
            if let Some(m) = mdns {
                f.mdns = m;
            }
            Ok(())
        })
    }

    /// Registrar: an invite ticket (text) for one device joining as `role` with `stake`,
    /// reachable at `addrs` (default: the listen address).
    pub fn clinic_invite(&self, role: &str, stake: u64, addrs: Vec<SocketAddr>) -> Result<String> {
        self.clinic_invite_for(role, stake, None, addrs)
    }

    /// Registrar: an invite ticket; a `patient` role invite names the patient whose own device
    /// joins with it (that device then receives only what the patient's contracts share with
    /// their devices).
    pub fn clinic_invite_for(
        &self,
        role: &str,
        stake: u64,
        patient: Option<&str>,
        addrs: Vec<SocketAddr>,
    ) -> Result<String> {
        let role = Role::from_code(role)
            .ok_or_else(|| invalid("role", "use clinician, admin or patient"))?;
        let patient =
            match (role, patient.map(str::trim).filter(|p| !p.is_empty())) {
                (Role::Patient, Some(p)) => {
                    // The patient must be on this device, so the invite cannot name a mistyped id.
                    crate::records::patient_key(&mut self.vault(), p)?;
                    Some(p.to_string())
                }
                (Role::Patient, None) => return Err(invalid(
                    "invite",
                    "a patient's device belongs to one patient: give the patient (--patient ID)",
                )),
                (_, Some(_)) => {
                    return Err(invalid(
                        "invite",
                        "only a patient's device is tied to a patient; use --role patient",
                    ))
                }
                (_, None) => None,
            };
        let me = self.endpoint_id()?;
        let mut secret = Zeroizing::new([0u8; 32]);
        getrandom::getrandom(secret.as_mut()).map_err(|e| CoreError::Internal(e.to_string()))?;
        let hash = hex::encode(Ticket::secret_hash(&secret));
        let (clinic, listen) = self.modify_clinic(|f, c, now| {
            if c.registrar().endpoint != me {
                return Err(invalid(
                    "invite",
                    "only the clinic's registrar device can invite; run this there",
                ));
            }
            f.invites.retain(|i| i.expires > now);
            f.invites.push(InviteFile {
                hash,
                role: role.code().to_string(),
                stake,
                patient,
                expires: now + INVITE_SECS,
            });
            Ok((c.id(), f.listen.clone()))
        })?;
        let addrs = if addrs.is_empty() {
            let l: SocketAddr = listen
                .parse()
                .map_err(|e| CoreError::Internal(format!("listen address: {e}")))?;
            if l.port() == 0 || l.ip().is_unspecified() {
                return Err(invalid(
                    "invite",
                    "give the address other devices reach this one at (--addr IP:PORT)",
                ));
            }
            vec![l]
        } else {
            addrs
        };
        Ok(Ticket {
            clinic,
            endpoint: me,
            addrs,
            secret: *secret,
        }
        .to_text())
    }

    /// A signed join request for a ticket (the caller sends it with a sync node).
    pub fn join_request(&self, ticket: &str, device_name: &str) -> Result<(Ticket, JoinRequest)> {
        let ticket = Ticket::from_text(ticket).map_err(|e| invalid("ticket", e))?;
        let mut vault = self.vault();
        if !vault.list(CLINIC_KIND)?.is_empty() {
            return Err(invalid("join", "this device already belongs to a clinic"));
        }
        let key = self.log_key(&mut vault)?;
        let me = endpoint_id(&endpoint_secret(&key));
        let req = JoinRequest::signed(&ticket, &key, me, vault.device_id().to_vec(), device_name);
        Ok((ticket, req))
    }

    /// Keep the clinic the registrar sent after a join.
    pub fn clinic_joined(
        &self,
        clinic: &Clinic,
        listen: SocketAddr,
        mdns: bool,
    ) -> Result<ClinicInfo> {
        self.store_new_clinic(clinic, listen, mdns)?;
        self.clinic_info()?
            .ok_or_else(|| CoreError::Internal("the clinic was not stored".into()))
    }

    /// Registrar: remove a member (by endpoint id, hex).
    pub fn clinic_remove(&self, endpoint: &str) -> Result<ClinicInfo> {
        let id: [u8; 32] = hex::decode(endpoint.trim())
            .ok()
            .and_then(|v| v.try_into().ok())
            .ok_or_else(|| {
                invalid(
                    "member",
                    "give the member's endpoint id (64 hex digits, from hearth clinic members)",
                )
            })?;
        let key = {
            let mut vault = self.vault();
            self.log_key(&mut vault)?
        };
        self.modify_clinic(|_, c, now| {
            c.remove(&key, id, now).map_err(|e| invalid("remove", e))?;
            Ok(())
        })?;
        self.clinic_info()?
            .ok_or_else(|| CoreError::Internal("the clinic disappeared".into()))
    }

    /// A number that grows with every change to this vault's audit log, made by any process
    /// (every record change is logged): a sync node pushes to its peers when it moves. Cheap,
    /// and not a use of the vault for the idle lock.
    pub fn change_mark(&self) -> Result<u64> {
        Ok(self.vault().log_mark()?)
    }

    /// Where sync keeps its transfer cache of attachments' content (ciphertext only): a folder
    /// beside the vault file.
    pub fn content_cache_dir(&self) -> std::path::PathBuf {
        let mut p = self.path().into_os_string();
        p.push(".transfer");
        p.into()
    }

    /// The store sync sessions use over this vault.
    pub fn sync_store(&self) -> Arc<dyn Store> {
        Arc::new(VaultStore {
            hearth: self.clone(),
            pending: Mutex::new(Vec::new()),
        })
    }

    /// Ask the consent evaluator whether clinic member `member` may do `action` on `patient`'s
    /// records of `category` (for treatment), given `contracts`. The peer is not presumed the
    /// treating clinician; `author` says it wrote the record.
    pub(crate) fn decide_for(
        member: &Member,
        contracts: &[Contract],
        patient: &str,
        action: Action,
        category: Category,
        author: bool,
        today: time::Date,
    ) -> Result<Decision> {
        let mut actor = Requester::new(
            MemberId::new(member.member_id()).map_err(|e| invalid("member", e))?,
            role_of(member.role),
        );
        if member.role == Role::Patient {
            if member.patient.as_deref() != Some(patient) {
                return Ok(Decision {
                    permit: false,
                    reason: "a patient's device receives only its own patient's records".into(),
                    deciding: None,
                });
            }
            actor = actor.patient_device();
        }
        if author {
            actor = actor.author();
        }
        let req = Request {
            actor,
            action,
            category,
            patient: PatientId::new(patient).map_err(|e| invalid("patient", e))?,
            purpose: Purpose::Treatment,
            time: today,
            record_date: None,
        };
        Ok(ConsentSet::new(contracts.iter().cloned()).evaluate(&req))
    }
}

/// The vault as a sync store.
struct VaultStore {
    hearth: Hearth,
    /// Contracts received before their patient: stored once the patient arrives.
    pending: Mutex<Vec<(String, SignedContract)>>,
}

fn failed(e: impl std::fmt::Display) -> StoreError {
    StoreError::Failed(e.to_string())
}

impl VaultStore {
    fn pending(&self) -> std::sync::MutexGuard<'_, Vec<(String, SignedContract)>> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Stored and pending contracts of a patient.
    fn contracts(&self, vault: &mut Vault, patient: &str, stored: bool) -> Result<Vec<Contract>> {
        let mut out: Vec<Contract> = if stored {
            self.hearth
                .contract_versions(vault, patient)?
                .into_iter()
                .map(|s| s.contract().clone())
                .collect()
        } else {
            Vec::new()
        };
        out.extend(
            self.pending()
                .iter()
                .filter(|(p, _)| p == patient)
                .map(|(_, s)| s.contract().clone()),
        );
        Ok(out)
    }

    /// Latest logged heads of every record (every change is logged with its heads).
    fn logged_heads(vault: &mut Vault) -> Result<HashMap<String, Vec<[u8; 32]>>> {
        let mut out = HashMap::new();
        for e in vault.log_entries()? {
            if let Ok(Entry::RecordChange(c)) = Entry::decode(&e) {
                out.insert(
                    c.record.as_str().to_string(),
                    c.heads.iter().map(|h| h.0).collect(),
                );
            }
        }
        Ok(out)
    }

    fn store_contract(&self, vault: &mut Vault, patient: &str, s: &SignedContract) -> Result<bool> {
        let hash = s.contract().hash().map_err(|e| invalid("consent", e))?;
        let known = self
            .hearth
            .contract_versions(vault, patient)?
            .iter()
            .any(|v| v.contract().hash().ok() == Some(hash));
        if known {
            return Ok(false);
        }
        let key = crate::records::patient_key(vault, patient)?;
        let action = if s.contract().status == Status::Inactive {
            ConsentAction::Withdrawn
        } else {
            ConsentAction::Granted
        };
        let entry = Entry::Consent(hearth_ledger::Consent {
            patient: hearth_ledger::RecordId::new(patient).map_err(|e| invalid("consent", e))?,
            contract: hearth_ledger::Hash(hash.0),
            action,
            time: now_secs(vault),
        })
        .encode()
        .map_err(|e| invalid("consent", e))?;
        let json = s.to_json().map_err(|e| invalid("consent", e))?;
        vault.put_batch_logged(
            &[NewRecord {
                id: &RecordId::random()?,
                kind: CONSENT_KIND,
                key: &key,
                plaintext: json.as_bytes(),
            }],
            &[entry],
        )?;
        Ok(true)
    }

    fn flush_pending(&self, patient: &str) -> Result<()> {
        let waiting: Vec<SignedContract> = {
            let mut p = self.pending();
            let (mine, rest): (Vec<_>, Vec<_>) = p.drain(..).partition(|(id, _)| id == patient);
            *p = rest;
            mine.into_iter().map(|(_, s)| s).collect()
        };
        let mut vault = self.hearth.vault();
        for s in &waiting {
            self.store_contract(&mut vault, patient, s)?;
        }
        Ok(())
    }
}

impl Store for VaultStore {
    fn clinic(&self) -> Result<Option<Clinic>, StoreError> {
        let mut vault = self.hearth.vault();
        Ok(self
            .hearth
            .clinic_file(&mut vault)
            .map_err(failed)?
            .map(|(_, _, c)| c))
    }

    fn save_clinic(&self, clinic: &Clinic) -> Result<(), StoreError> {
        self.hearth
            .modify_clinic(|_, c, _| {
                let n = c.len();
                if clinic.len() < n || clinic.hash_at(n - 1) != Some(c.head()) {
                    return Err(CoreError::Internal(
                        "a registrar log that does not extend this device's".into(),
                    ));
                }
                *c = clinic.clone();
                Ok(())
            })
            .map_err(failed)
    }

    fn offer(&self, peer: &Member) -> Result<Offer, StoreError> {
        // Evidence of misbehaviour travels to every member, whatever consent shares.
        let evidence = self.hearth.evidence_to_share().map_err(failed)?;
        let cosigned = self.hearth.cosigned_to_share().map_err(failed)?;
        let mut vault = self.hearth.vault();
        let today = today(&vault);
        let heads = Self::logged_heads(&mut vault).map_err(failed)?;
        let mut contracts: HashMap<String, Vec<SignedContract>> = HashMap::new();
        let mut offer = Offer {
            evidence,
            cosigned,
            ..Offer::default()
        };
        let mut decisions: HashMap<(String, Category), bool> = HashMap::new();
        for kind in SYNCED {
            for (id, rec) in vault.open_all(kind).map_err(failed)? {
                // A damaged record is not offered; the others still are.
                let Ok(rec) = rec else { continue };
                let Ok((patient, category)) = patient_and_category(kind, &rec.plaintext) else {
                    continue;
                };
                if !contracts.contains_key(&patient) {
                    let v = self
                        .hearth
                        .contract_versions(&mut vault, &patient)
                        .unwrap_or_default();
                    contracts.insert(patient.clone(), v);
                }
                // One decision per (patient, category): the request is the same for each record.
                let key = (patient.clone(), category);
                let permit = match decisions.get(&key) {
                    Some(p) => *p,
                    None => {
                        let set: Vec<Contract> = contracts
                            .get(&patient)
                            .map(|v| v.iter().map(|s| s.contract().clone()).collect())
                            .unwrap_or_default();
                        let d = Hearth::decide_for(
                            peer,
                            &set,
                            &patient,
                            Action::Read,
                            category,
                            false,
                            today,
                        )
                        .map_err(failed)?;
                        decisions.insert(key, d.permit);
                        d.permit
                    }
                };
                if !permit {
                    continue;
                }
                let h = match heads.get(id.as_str()) {
                    Some(h) => h.clone(),
                    None => envelope::heads(&rec.plaintext).map_err(failed)?,
                };
                let mut h = h;
                h.sort_unstable();
                offer.docs.push(hearth_sync::DocMeta {
                    id: id.as_str().to_string(),
                    kind: kind.to_string(),
                    heads: h,
                });
            }
        }
        // The contracts of every patient something is offered of, so the peer can check
        // this device's writes and its own reads the same way.
        let offered: std::collections::BTreeSet<String> = offer
            .docs
            .iter()
            .filter(|d| d.kind == "patient")
            .map(|d| d.id.clone())
            .collect();
        for (patient, versions) in contracts {
            if !offered.contains(&patient) {
                continue;
            }
            for s in versions {
                offer
                    .contracts
                    .push(s.to_json().map_err(failed)?.into_bytes());
            }
        }
        Ok(offer)
    }

    fn document(&self, id: &str) -> Result<Vec<u8>, StoreError> {
        let rid = RecordId::new(id).map_err(failed)?;
        let rec = self.hearth.vault().get(&rid).map_err(failed)?;
        let (_, doc) = envelope::split(&rec.plaintext).map_err(failed)?;
        Ok(doc.to_vec())
    }

    fn apply(
        &self,
        peer: &Member,
        kind: &str,
        id: &str,
        document: &[u8],
    ) -> Result<bool, StoreError> {
        let patient = self.check_write(peer, kind, id, document)?;
        self.merge(kind, id, &patient, document)
    }

    fn apply_many(
        &self,
        peer: &Member,
        docs: &[(String, String, Vec<u8>)],
    ) -> Vec<Result<bool, StoreError>> {
        let mut results: Vec<Option<Result<bool, StoreError>>> =
            (0..docs.len()).map(|_| None).collect();
        // Patients first, one by one: their records need them.
        for (i, (kind, id, bytes)) in docs.iter().enumerate() {
            if kind == "patient" {
                results[i] = Some(self.apply(peer, kind, id, bytes));
            }
        }
        // New records: one transaction for all of them (one fsync, not one per record).
        let mut creates: Vec<(usize, Create)> = Vec::new();
        for (i, (kind, id, bytes)) in docs.iter().enumerate() {
            if kind == "patient" {
                continue;
            }
            if !SYNCED.contains(&kind.as_str()) {
                results[i] = Some(Err(StoreError::Invalid(format!(
                    "kind {kind:?} does not sync"
                ))));
                continue;
            }
            let r = match self.prepare_create(kind, id, bytes) {
                Err(e) => Err(StoreError::Invalid(e.message())),
                Ok(p) => self
                    .check_facts(peer, kind, id, &p.patient, p.category, p.author)
                    .and_then(|()| match p.create {
                        Some(c) => Ok(Ok(c)),
                        None => self.merge(kind, id, &p.patient, bytes).map(Err),
                    }),
            };
            match r {
                Ok(Ok(c)) => creates.push((i, c)),
                Ok(Err(changed)) => results[i] = Some(Ok(changed)),
                Err(e) => results[i] = Some(Err(e)),
            }
        }
        if !creates.is_empty() {
            let records: Vec<NewRecord<'_>> = creates
                .iter()
                .map(|(_, c)| NewRecord {
                    id: &c.id,
                    kind: c.kind,
                    key: &c.key,
                    plaintext: &c.bytes,
                })
                .collect();
            let entries: Vec<Vec<u8>> = creates.iter().map(|(_, c)| c.entry.clone()).collect();
            let written = self.hearth.vault().put_batch_logged(&records, &entries);
            drop(records);
            for (i, c) in creates {
                results[i] = Some(match &written {
                    Ok(()) => {
                        (c.reindex)(&self.hearth);
                        Ok(true)
                    }
                    Err(e) => Err(failed(e)),
                });
            }
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(failed("a document was not handled"))))
            .collect()
    }

    fn accept_contracts(&self, peer: &Member, contracts: &[Vec<u8>]) -> Result<usize, StoreError> {
        let clinic = self.clinic()?.ok_or_else(|| failed("no clinic"))?;
        // Paper consents are attested by a clinician or admin of this clinic.
        let attesters: std::collections::BTreeSet<String> = clinic
            .members()
            .filter(|m| m.active && matches!(m.member.role, Role::Clinician | Role::Admin))
            .map(|m| m.member.member_id())
            .collect();
        let mut new = 0;
        for bytes in contracts {
            let text = std::str::from_utf8(bytes)
                .map_err(|_| StoreError::Invalid("a consent contract that is not text".into()))?;
            let s = SignedContract::from_json(text)
                .map_err(|e| StoreError::Invalid(format!("a consent contract: {e}")))?;
            let ok = s
                .contract()
                .attestation
                .as_ref()
                .is_some_and(|a| attesters.contains(a.by.as_str()));
            if !ok {
                tracing::info!(peer = %peer.name, "a consent contract not attested by a clinic clinician was ignored");
                continue;
            }
            let patient = s.contract().patient.as_str().to_string();
            let mut vault = self.hearth.vault();
            let exists = RecordId::new(&patient)
                .ok()
                .is_some_and(|p| vault.meta(&p).is_ok_and(|m| m.kind == "patient"));
            if exists {
                if self
                    .store_contract(&mut vault, &patient, &s)
                    .map_err(failed)?
                {
                    new += 1;
                }
            } else {
                drop(vault);
                self.pending().push((patient, s));
                new += 1;
            }
        }
        Ok(new)
    }

    fn in_background(&self, f: &mut dyn FnMut()) {
        hearth_vault::in_background(f);
    }

    fn accept_evidence(&self, _peer: &Member, items: &[Vec<u8>]) -> Result<usize, StoreError> {
        self.hearth.accept_evidence(items).map_err(failed)
    }

    fn accept_cosigned(&self, _peer: &Member, notes: &[Vec<u8>]) -> Result<usize, StoreError> {
        self.hearth.accept_cosigned(notes).map_err(failed)
    }

    fn redeem(
        &self,
        endpoint: [u8; 32],
        request: &JoinRequest,
    ) -> Result<Vec<SignedEntry>, StoreError> {
        let key = {
            let mut vault = self.hearth.vault();
            self.hearth.log_key(&mut vault).map_err(failed)?
        };
        let hash = hex::encode(Ticket::secret_hash(&request.secret));
        let out = self.hearth.modify_clinic(|f, c, now| {
            let pos = f
                .invites
                .iter()
                .position(|i| i.hash == hash && i.expires > now)
                .ok_or_else(|| {
                    CoreError::Denied(
                        "the invite is unknown, used or expired; ask for a new one".into(),
                    )
                })?;
            let inv = f.invites.remove(pos);
            let role = Role::from_code(&inv.role)
                .ok_or_else(|| CoreError::Internal("an invite with an unknown role".into()))?;
            c.add(
                &key,
                Member {
                    endpoint,
                    log_key: request.log_key,
                    device: request.device.clone(),
                    name: request.name.clone(),
                    role,
                    stake: inv.stake,
                    patient: inv.patient.clone(),
                },
                now,
            )
            .map_err(|e| CoreError::Denied(e.to_string()))?;
            Ok(c.entries_from(0).to_vec())
        });
        out.map_err(|e| match e {
            CoreError::Denied(why) => StoreError::Denied(why),
            other => failed(other.message()),
        })
    }

    fn sealed_content(
        &self,
        peer: &Member,
        hash: &[u8; 32],
        out: &mut dyn std::io::Write,
    ) -> Result<Option<String>, StoreError> {
        let sent = self
            .hearth
            .sealed_content_for(peer, hash, out)
            .map_err(failed)?;
        if let Some(id) = &sent {
            self.shared(peer, std::slice::from_ref(id));
        }
        Ok(sent)
    }

    fn wanted_content(&self) -> Result<Vec<[u8; 32]>, StoreError> {
        self.hearth.wanted_content().map_err(failed)
    }

    fn import_content(
        &self,
        hash: &[u8; 32],
        sealed: &mut dyn std::io::Read,
    ) -> Result<u64, StoreError> {
        self.hearth.import_content(hash, sealed).map_err(failed)
    }

    fn shared(&self, peer: &Member, ids: &[String]) {
        // One access entry per record sent (action export: it left this device), appended in
        // one transaction; the purpose names the receiving device.
        let purpose = format!("sync-share.{}", hex::encode(&peer.endpoint[..8]));
        let result = (|| -> Result<()> {
            let mut vault = self.hearth.vault();
            let key = self.hearth.log_key(&mut vault)?;
            let now = now_secs(&vault);
            let mut entries = Vec::with_capacity(ids.len());
            for id in ids {
                entries.push(
                    Entry::Access(hearth_ledger::Access {
                        record: hearth_ledger::RecordId::new(id.as_str())
                            .map_err(|e| invalid("record", e))?,
                        action: hearth_ledger::AccessAction::Export,
                        purpose: hearth_ledger::Token::new(purpose.as_str())
                            .map_err(|e| invalid("purpose", e))?,
                        actor: audit::device_id(&key),
                        time: now,
                    })
                    .encode()
                    .map_err(|e| invalid("log", e))?,
                );
            }
            vault.append_log(&entries)?;
            Ok(())
        })();
        if let Err(e) = result {
            tracing::error!(error = %e, "records shared with a peer could not be logged");
        }
    }

    fn checkpoint_for(
        &self,
        peer: &Member,
        from: Option<u64>,
    ) -> Option<hearth_sync::CheckpointOffer> {
        self.hearth
            .checkpoint_offer(peer, from)
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "no checkpoint to offer for witnessing");
                None
            })
    }

    fn witness(
        &self,
        peer: &Member,
        offer: &hearth_sync::CheckpointOffer,
    ) -> hearth_sync::WitnessReply {
        self.hearth.witness_offer(peer, offer)
    }

    fn witnessed(
        &self,
        peer: &Member,
        offered: &hearth_sync::CheckpointOffer,
        reply: &hearth_sync::WitnessReply,
    ) {
        if let Err(e) = self.hearth.witness_answered(peer, offered, reply) {
            tracing::error!(error = %e, "a cosignature could not be stored");
        }
    }

    fn refused(&self, endpoint: [u8; 32], reason: &str) {
        tracing::warn!(peer = %hex::encode(&endpoint[..5]), %reason, "sync peer refused");
        let record = format!("sync:{}", hex::encode(endpoint));
        if let Err(e) =
            self.hearth
                .log_access(&record, hearth_ledger::AccessAction::View, "sync-refused")
        {
            tracing::error!(error = %e, "the refusal could not be logged");
        }
    }
}

/// What one load of a received document tells.
struct Prepared {
    patient: String,
    category: Category,
    author: Option<String>,
    create: Option<Create>,
}

/// A record received whole and new here, ready to be written with the others of its batch.
struct Create {
    id: RecordId,
    kind: &'static str,
    key: hearth_vault::KeyId,
    bytes: Vec<u8>,
    entry: Vec<u8>,
    reindex: Box<dyn FnOnce(&Hearth) + Send>,
}

impl VaultStore {
    /// Refuse unless `peer` may write this record's category; returns the record's patient.
    fn check_write(
        &self,
        peer: &Member,
        kind: &str,
        id: &str,
        document: &[u8],
    ) -> Result<String, StoreError> {
        if !SYNCED.contains(&kind) {
            return Err(StoreError::Invalid(format!("kind {kind:?} does not sync")));
        }
        let me = self.hearth.vault().device_id().to_vec();
        let (patient, category, author) =
            received_facts(kind, document, &me).map_err(|e| StoreError::Invalid(e.message()))?;
        self.check_facts(peer, kind, id, &patient, category, author)?;
        Ok(patient)
    }

    /// [`VaultStore::check_write`] on facts already read from the document.
    fn check_facts(
        &self,
        peer: &Member,
        kind: &str,
        id: &str,
        patient: &str,
        category: Category,
        author: Option<String>,
    ) -> Result<(), StoreError> {
        let patient = patient.to_string();
        let is_author = author.is_some_and(|a| a == peer.member_id());
        let mut vault = self.hearth.vault();
        if kind != "patient" {
            match RecordId::new(&patient).map(|p| vault.meta(&p)) {
                Ok(Ok(m)) if m.kind == "patient" => {}
                Ok(Err(VaultError::NotFound { .. })) | Ok(Ok(_)) | Err(_) => {
                    return Err(StoreError::Denied(format!(
                        "record {id} belongs to patient {patient}, who is not on this device"
                    )))
                }
                Ok(Err(e)) => return Err(failed(e)),
            }
        }
        let stored = kind != "patient"
            || vault
                .meta(&RecordId::new(&patient).map_err(failed)?)
                .is_ok();
        let set = self
            .contracts(&mut vault, &patient, stored)
            .map_err(failed)?;
        let d = Hearth::decide_for(
            peer,
            &set,
            &patient,
            Action::Write,
            category,
            is_author,
            today(&vault),
        )
        .map_err(failed)?;
        if !d.permit {
            drop(vault);
            self.refused_write(peer, id, &d.reason);
            return Err(StoreError::Denied(d.reason));
        }
        Ok(())
    }

    /// Merge (or create) one record, logged.
    fn merge(
        &self,
        kind: &str,
        id: &str,
        patient: &str,
        document: &[u8],
    ) -> Result<bool, StoreError> {
        let changed = self
            .hearth
            .merge_document(kind, id, document)
            .map_err(|e| match e.kind() {
                hearth_api::ErrorKind::InvalidInput
                | hearth_api::ErrorKind::Integrity
                | hearth_api::ErrorKind::NotFound => StoreError::Invalid(e.message()),
                _ => failed(e.message()),
            })?;
        if kind == "patient" {
            self.flush_pending(patient).map_err(failed)?;
        }
        Ok(!changed.is_empty())
    }

    /// One load of a received non-patient document: its patient, category, first author (for
    /// psychotherapy notes) and, if the record is new here, the record ready to write.
    fn prepare_create(&self, kind: &str, id: &str, document: &[u8]) -> Result<Prepared> {
        fn typed<T: RecordKind + Send + 'static>(
            store: &VaultStore,
            id: &str,
            document: &[u8],
        ) -> Result<Prepared> {
            let rid = crate::records::parse_id(id)?;
            let mut vault = store.hearth.vault();
            let device = vault.device_id().to_vec();
            let mut doc: Doc<T> = Doc::load(document, &device).map_err(CoreError::record(id))?;
            let patient = doc.value().patient_id().unwrap_or(doc.id()).to_string();
            let category = crate::consent::category(T::CATEGORY);
            let author = if T::KIND == "psychotherapy-note" {
                doc.history()?.first().map(|h| h.actor.clone())
            } else {
                None
            };
            let exists = match vault.key_of(&rid) {
                Ok(_) => true,
                Err(VaultError::NotFound { .. }) => false,
                Err(e) => return Err(e.into()),
            };
            // A record whose patient is not here is refused by the write check; nothing to build.
            let patient_here = RecordId::new(&patient)
                .ok()
                .is_some_and(|p| vault.meta(&p).is_ok_and(|m| m.kind == "patient"));
            if exists || !patient_here {
                return Ok(Prepared {
                    patient,
                    category,
                    author,
                    create: None,
                });
            }
            let log_key = store.hearth.log_key(&mut vault)?;
            if doc.id() != id {
                return Err(CoreError::Invalid(format!(
                    "document: it belongs to record {}, not {id}",
                    doc.id()
                )));
            }
            let key = match doc.value().patient_id() {
                None => vault.create_key()?,
                Some(pid) => crate::records::patient_key(&mut vault, pid)?,
            };
            let bytes = doc.to_envelope()?;
            let entry = audit::change_entry(
                now_secs(&vault),
                &log_key,
                id,
                doc.head_bytes(),
                hearth_ledger::ChangeKind::Create,
                T::CATEGORY,
            )?;
            let peek = envelope::peek::<T>(&bytes)?;
            Ok(Prepared {
                patient,
                category,
                author,
                create: Some(Create {
                    id: rid,
                    kind: T::KIND,
                    key,
                    bytes,
                    entry,
                    reindex: Box::new(move |h: &Hearth| h.reindex(&peek.id, &peek.value)),
                }),
            })
        }
        match kind {
            "appointment" => typed::<Appointment>(self, id, document),
            "session-note" => typed::<SessionNote>(self, id, document),
            "psychotherapy-note" => typed::<PsychotherapyNote>(self, id, document),
            "assessment" => typed::<Assessment>(self, id, document),
            "treatment-plan" => typed::<TreatmentPlan>(self, id, document),
            "attachment" => typed::<Attachment>(self, id, document),
            other => Err(CoreError::Invalid(format!(
                "kind: {other:?} does not sync here"
            ))),
        }
    }

    fn refused_write(&self, peer: &Member, id: &str, reason: &str) {
        tracing::info!(peer = %peer.name, %id, %reason, "a change from a peer was refused by consent");
        let _ = self
            .hearth
            .log_access(id, hearth_ledger::AccessAction::View, "sync-denied");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::HearthOptions;

    fn vault(dir: &std::path::Path, name: &str) -> Hearth {
        Hearth::create(
            &dir.join(name),
            "correct horse battery",
            HearthOptions::default().insecure_fast_kdf_for_tests(),
        )
        .unwrap()
    }

    #[test]
    fn clinic_is_sealed_and_membership_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let a = vault(dir.path(), "a");
        let info = a
            .clinic_create(
                "Elm Street Clinic",
                "front desk",
                "admin",
                "127.0.0.1:47100".parse().unwrap(),
                false,
            )
            .unwrap();
        assert!(info.registrar);
        assert_eq!(info.members.len(), 1);
        let ticket = a.clinic_invite("clinician", 2, vec![]).unwrap();
        assert!(ticket.starts_with(hearth_sync::clinic::TICKET_PREFIX));
        // Another device redeems it through the store (what the network session does).
        let b = vault(dir.path(), "b");
        let (t, req) = b.join_request(&ticket, "laptop").unwrap();
        let store = a.sync_store();
        let entries = store.redeem(b.endpoint_id().unwrap(), &req).unwrap();
        assert!(
            store.redeem(b.endpoint_id().unwrap(), &req).is_err(),
            "one-time"
        );
        let clinic = Clinic::from_entries(entries).unwrap();
        assert_eq!(clinic.id(), t.clinic);
        let info = b
            .clinic_joined(&clinic, "127.0.0.1:0".parse().unwrap(), false)
            .unwrap();
        assert!(!info.registrar);
        assert_eq!(info.members.len(), 2);
        let info = a
            .clinic_remove(&hex::encode(b.endpoint_id().unwrap()))
            .unwrap();
        assert!(info.members.iter().any(|m| !m.active));
        assert!(b
            .clinic_remove(&hex::encode(a.endpoint_id().unwrap()))
            .is_err());
        // A refused peer is logged in the audit log (no PHI: its endpoint id and a token).
        store.refused([7; 32], "device 0707070707 is not a member");
        let logged = a.vault().log_entries().unwrap().iter().any(|e| {
            matches!(Entry::decode(e), Ok(Entry::Access(x))
                if x.record.as_str() == format!("sync:{}", hex::encode([7u8; 32]))
                    && x.purpose.as_str() == "sync-refused")
        });
        assert!(logged);
        assert!(a.audit().unwrap().ok(), "{:?}", a.audit().unwrap().problems);
        // Nothing of the clinic's name is readable in the files.
        a.lock();
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            assert!(!bytes.windows(10).any(|w| w == b"Elm Street"));
        }
    }
}
