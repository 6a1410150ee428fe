//! A clinic and its members: the registrar log and invite tickets (no IO).
//!
//! The device that creates a clinic is its registrar. Membership is a hash-chained log of
//! entries (genesis, add, remove), each signed by the registrar's Ed25519 audit-log key; every
//! device keeps a copy and accepts an entry only if it extends its copy and verifies. A member
//! is identified on the network by its iroh endpoint id (authenticated by the QUIC TLS
//! handshake), and the entry binds that id to the device's log key, vault device id, role and
//! witness stake.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use base64::Engine;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::wire::{Reader, WireError, Writer};

/// Domain separation for entry signatures.
const ENTRY_DOMAIN: &[u8] = b"hearth-clinic-entry/v1\0";
/// Text prefix of an invite ticket.
pub const TICKET_PREFIX: &str = "hearth-invite1-";

/// What can be wrong with clinic data.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClinicError {
    /// An entry does not decode.
    #[error("a clinic log entry is malformed ({0}); the registrar log was not changed")]
    Malformed(String),
    /// An entry's signature does not verify against the registrar's key.
    #[error("clinic log entry {0} is not signed by the registrar; it was refused")]
    BadSignature(u64),
    /// An entry does not extend the log (wrong index, previous hash or clinic).
    #[error("clinic log entry {index} does not extend this device's registrar log ({why}); resync with the registrar")]
    Fork {
        /// The entry's index.
        index: u64,
        /// Why.
        why: String,
    },
    /// A membership change that makes no sense (adding an active member, removing the
    /// registrar, …).
    #[error("{0}")]
    Refused(String),
    /// Only the registrar signs membership changes.
    #[error("only the clinic's registrar device can change membership; run this on the registrar")]
    NotRegistrar,
    /// A ticket that does not decode.
    #[error("this is not a Hearth invite ticket ({0}); copy the whole ticket again")]
    BadTicket(String),
}

/// This device's iroh endpoint secret, derived from its audit-log key (which the vault keeps
/// sealed): SHA-256 over a domain label and the key. Nothing new is stored, and the two keys
/// are never the same key.
pub fn endpoint_secret(log_key: &SigningKey) -> zeroize::Zeroizing<[u8; 32]> {
    let mut h = Sha256::new();
    h.update(b"hearth/iroh-endpoint-key/v1\0");
    h.update(log_key.as_bytes());
    zeroize::Zeroizing::new(h.finalize().into())
}

/// The endpoint id (Ed25519 public key) of an endpoint secret.
pub fn endpoint_id(secret: &[u8; 32]) -> [u8; 32] {
    SigningKey::from_bytes(secret).verifying_key().to_bytes()
}

/// A clinic's id: 16 random bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClinicId(pub [u8; 16]);

impl ClinicId {
    /// A fresh random id.
    pub fn random() -> Result<Self, ClinicError> {
        let mut b = [0u8; 16];
        getrandom::getrandom(&mut b).map_err(|e| ClinicError::Refused(e.to_string()))?;
        Ok(Self(b))
    }

    /// Hex form.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

/// A member's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// A clinician.
    Clinician,
    /// Clinic administration.
    Admin,
    /// A patient's own device.
    Patient,
}

impl Role {
    /// The code (`clinician`, `admin`, `patient`).
    pub fn code(self) -> &'static str {
        match self {
            Role::Clinician => "clinician",
            Role::Admin => "admin",
            Role::Patient => "patient",
        }
    }

    /// From a code.
    pub fn from_code(s: &str) -> Option<Self> {
        Some(match s {
            "clinician" => Role::Clinician,
            "admin" => Role::Admin,
            "patient" => Role::Patient,
            _ => return None,
        })
    }

    fn to_u8(self) -> u8 {
        match self {
            Role::Clinician => 1,
            Role::Admin => 2,
            Role::Patient => 3,
        }
    }

    fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            1 => Role::Clinician,
            2 => Role::Admin,
            3 => Role::Patient,
            _ => return None,
        })
    }
}

/// A member device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// iroh endpoint id (Ed25519 public key).
    pub endpoint: [u8; 32],
    /// Audit-log Ed25519 public key.
    pub log_key: [u8; 32],
    /// Vault device id (Automerge actor; consent member id is its hex).
    pub device: Vec<u8>,
    /// A short name for people.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Witness stake.
    pub stake: u64,
    /// For a patient's own device (role patient): the patient it belongs to. It receives only
    /// that patient's records, and only what the patient's contracts share with their devices.
    pub patient: Option<String>,
}

/// The longest patient id a member entry may name.
const MAX_PATIENT_ID: usize = 200;

impl Member {
    /// The consent member id: hex of the vault device id.
    pub fn member_id(&self) -> String {
        hex::encode(&self.device)
    }

    fn encode(&self, w: &mut Writer) {
        w.raw(&self.endpoint);
        w.raw(&self.log_key);
        w.bytes(&self.device);
        w.str(&self.name);
        w.u8(self.role.to_u8());
        w.u64(self.stake);
        match &self.patient {
            Some(p) => {
                w.u8(1);
                w.str(p);
            }
            None => w.u8(0),
        }
    }

    /// Entry version 1 had no patient field; version 2 ends with one.
    fn decode(r: &mut Reader<'_>, version: u8) -> Result<Self, WireError> {
        let mut m = Self {
            endpoint: r.array()?,
            log_key: r.array()?,
            device: r.bytes()?,
            name: r.string(1024)?,
            role: {
                let v = r.u8()?;
                Role::from_u8(v).ok_or_else(|| r.bad(format!("role {v}")))?
            },
            stake: r.u64()?,
            patient: None,
        };
        if version >= 2 {
            m.patient = match r.u8()? {
                0 => None,
                1 => Some(r.string(MAX_PATIENT_ID)?),
                v => return Err(r.bad(format!("patient flag {v}"))),
            };
        }
        Ok(m)
    }

    /// A patient's device names its patient; no other role does.
    fn check(&self) -> Result<(), ClinicError> {
        match (&self.role, &self.patient) {
            (Role::Patient, Some(p)) if !p.trim().is_empty() => Ok(()),
            (Role::Patient, _) => Err(ClinicError::Refused(
                "a patient's device must name its patient".into(),
            )),
            (_, Some(_)) => Err(ClinicError::Refused(
                "only a patient's device names a patient".into(),
            )),
            (_, None) => Ok(()),
        }
    }
}

/// The registrar-log entry format written (2: members may name their patient).
const ENTRY_VERSION: u8 = 2;

/// What an entry does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The clinic is created; the member is the registrar.
    Genesis {
        /// The clinic's name.
        name: String,
        /// The registrar.
        registrar: Member,
    },
    /// A member joins.
    Add(Member),
    /// A member (by endpoint id) is removed.
    Remove {
        /// The member's endpoint id.
        endpoint: [u8; 32],
    },
    /// A member's stake is slashed to zero, with the proof of its misbehaviour
    /// ([`crate::witness::MemberEvidence`], encoded), which every device checks.
    Slash {
        /// The member's endpoint id.
        endpoint: [u8; 32],
        /// The encoded evidence.
        evidence: Vec<u8>,
    },
}

/// An entry's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The clinic.
    pub clinic: ClinicId,
    /// Position in the log, from 0 (genesis).
    pub index: u64,
    /// Hash of the previous signed entry (zeros for genesis).
    pub prev: [u8; 32],
    /// Unix seconds.
    pub time: u64,
    /// The change.
    pub change: Change,
}

impl Entry {
    fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.u8(ENTRY_VERSION);
        w.raw(&self.clinic.0);
        w.u64(self.index);
        w.raw(&self.prev);
        w.u64(self.time);
        match &self.change {
            Change::Genesis { name, registrar } => {
                w.u8(1);
                w.str(name);
                registrar.encode(&mut w);
            }
            Change::Add(m) => {
                w.u8(2);
                m.encode(&mut w);
            }
            Change::Remove { endpoint } => {
                w.u8(3);
                w.raw(endpoint);
            }
            Change::Slash { endpoint, evidence } => {
                w.u8(4);
                w.raw(endpoint);
                w.bytes(evidence);
            }
        }
        w.0
    }

    fn decode(bytes: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(bytes, "clinic entry");
        let v = r.u8()?;
        if v == 0 || v > ENTRY_VERSION {
            return Err(r.bad(format!("entry version {v}")));
        }
        let clinic = ClinicId(r.array()?);
        let index = r.u64()?;
        let prev = r.array()?;
        let time = r.u64()?;
        let change = match r.u8()? {
            1 => Change::Genesis {
                name: r.string(1024)?,
                registrar: Member::decode(&mut r, v)?,
            },
            2 => Change::Add(Member::decode(&mut r, v)?),
            3 => Change::Remove {
                endpoint: r.array()?,
            },
            4 if v >= 2 => Change::Slash {
                endpoint: r.array()?,
                evidence: r.bytes()?,
            },
            other => return Err(r.bad(format!("change type {other}"))),
        };
        r.end()?;
        Ok(Self {
            clinic,
            index,
            prev,
            time,
            change,
        })
    }
}

/// An entry and the registrar's signature over it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedEntry {
    body: Vec<u8>,
    entry: Entry,
    signature: [u8; 64],
}

impl SignedEntry {
    fn sign(entry: Entry, key: &SigningKey) -> Self {
        let body = entry.encode();
        let mut msg = ENTRY_DOMAIN.to_vec();
        msg.extend_from_slice(&body);
        let signature = key.sign(&msg).to_bytes();
        Self {
            body,
            entry,
            signature,
        }
    }

    /// The entry.
    pub fn entry(&self) -> &Entry {
        &self.entry
    }

    /// Wire/storage form: u32 body length, body, signature.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.bytes(&self.body);
        w.raw(&self.signature);
        w.0
    }

    /// Parse (the signature is checked when the entry is applied to a log).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ClinicError> {
        let mut r = Reader::new(bytes, "signed clinic entry");
        let parse = |r: &mut Reader<'_>| -> Result<Self, WireError> {
            let body = r.bytes()?;
            let signature = r.array()?;
            r.end()?;
            let entry = Entry::decode(&body)?;
            Ok(Self {
                body,
                entry,
                signature,
            })
        };
        parse(&mut r).map_err(|e| ClinicError::Malformed(e.to_string()))
    }

    /// SHA-256 of the wire form: what the next entry's `prev` names.
    pub fn hash(&self) -> [u8; 32] {
        Sha256::digest(self.to_bytes()).into()
    }

    fn verify(&self, key: &[u8; 32]) -> bool {
        let Ok(vk) = VerifyingKey::from_bytes(key) else {
            return false;
        };
        let mut msg = ENTRY_DOMAIN.to_vec();
        msg.extend_from_slice(&self.body);
        vk.verify(&msg, &Signature::from_bytes(&self.signature))
            .is_ok()
    }
}

/// A member and whether it is still in the clinic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberState {
    /// The member.
    pub member: Member,
    /// Not removed.
    pub active: bool,
    /// Its stake was slashed to zero for proven misbehaviour (the entry holds the proof).
    pub slashed: bool,
}

/// A clinic as this device knows it: the verified registrar log and the members it implies.
#[derive(Debug, Clone)]
pub struct Clinic {
    id: ClinicId,
    name: String,
    registrar: Member,
    entries: Vec<SignedEntry>,
    members: BTreeMap<[u8; 32], MemberState>,
}

impl Clinic {
    /// Create a clinic: this device (whose log key signs) becomes the registrar.
    pub fn create(
        name: &str,
        key: &SigningKey,
        mut registrar: Member,
        time: u64,
    ) -> Result<Self, ClinicError> {
        registrar.log_key = key.verifying_key().to_bytes();
        let entry = Entry {
            clinic: ClinicId::random()?,
            index: 0,
            prev: [0; 32],
            time,
            change: Change::Genesis {
                name: name.to_string(),
                registrar,
            },
        };
        Self::from_entries(vec![SignedEntry::sign(entry, key)])
    }

    /// Rebuild from a log, verifying every entry.
    pub fn from_entries(entries: Vec<SignedEntry>) -> Result<Self, ClinicError> {
        let mut it = entries.into_iter();
        let genesis = it
            .next()
            .ok_or_else(|| ClinicError::Malformed("an empty registrar log".into()))?;
        let (name, registrar) = match &genesis.entry.change {
            Change::Genesis { name, registrar } if genesis.entry.index == 0 => {
                (name.clone(), registrar.clone())
            }
            _ => {
                return Err(ClinicError::Fork {
                    index: genesis.entry.index,
                    why: "the first entry is not a genesis".into(),
                })
            }
        };
        if genesis.entry.prev != [0; 32] {
            return Err(ClinicError::Fork {
                index: 0,
                why: "genesis names a previous entry".into(),
            });
        }
        if !genesis.verify(&registrar.log_key) {
            return Err(ClinicError::BadSignature(0));
        }
        registrar.check()?;
        let mut members = BTreeMap::new();
        members.insert(
            registrar.endpoint,
            MemberState {
                member: registrar.clone(),
                active: true,
                slashed: false,
            },
        );
        let mut clinic = Self {
            id: genesis.entry.clinic,
            name,
            registrar,
            entries: vec![genesis],
            members,
        };
        for e in it {
            clinic.append(e)?;
        }
        Ok(clinic)
    }

    /// Verify and apply the next entry.
    pub fn append(&mut self, e: SignedEntry) -> Result<(), ClinicError> {
        let index = e.entry.index;
        let fork = |why: &str| ClinicError::Fork {
            index,
            why: why.to_string(),
        };
        if e.entry.clinic != self.id {
            return Err(fork("another clinic"));
        }
        if index != self.len() {
            return Err(fork(&format!("expected entry {}", self.len())));
        }
        if e.entry.prev != self.head() {
            return Err(fork("the previous-entry hash differs"));
        }
        if !e.verify(&self.registrar.log_key) {
            return Err(ClinicError::BadSignature(index));
        }
        match &e.entry.change {
            Change::Genesis { .. } => return Err(fork("a second genesis")),
            Change::Add(m) => {
                m.check()?;
                if self.active(&m.endpoint).is_some() {
                    return Err(ClinicError::Refused(
                        "that device is already an active member".into(),
                    ));
                }
                self.members.insert(
                    m.endpoint,
                    MemberState {
                        member: m.clone(),
                        active: true,
                        slashed: false,
                    },
                );
            }
            Change::Remove { endpoint } => {
                if *endpoint == self.registrar.endpoint {
                    return Err(ClinicError::Refused(
                        "the registrar cannot be removed".into(),
                    ));
                }
                match self.members.get_mut(endpoint) {
                    Some(m) if m.active => m.active = false,
                    _ => {
                        return Err(ClinicError::Refused(
                            "that device is not an active member".into(),
                        ))
                    }
                }
            }
            Change::Slash { endpoint, evidence } => {
                let Some(m) = self.members.get_mut(endpoint) else {
                    return Err(ClinicError::Refused("that device is not a member".into()));
                };
                if m.slashed {
                    return Err(ClinicError::Refused(
                        "that member's stake is already slashed".into(),
                    ));
                }
                // Every device checks the proof: a registrar cannot slash on its word alone.
                crate::witness::MemberEvidence::decode(evidence)
                    .and_then(|ev| ev.verify(&m.member))
                    .map_err(|e| ClinicError::Refused(format!("the slashing proof fails: {e}")))?;
                m.member.stake = 0;
                m.slashed = true;
            }
        }
        self.entries.push(e);
        Ok(())
    }

    /// Apply entries received from a peer, starting at index `from`: entries this device has
    /// must match; new ones must verify. Returns how many were new.
    pub fn extend(&mut self, from: u64, entries: &[SignedEntry]) -> Result<usize, ClinicError> {
        let mut added = 0;
        for (i, e) in entries.iter().enumerate() {
            let index = from
                .checked_add(i as u64)
                .ok_or_else(|| ClinicError::Fork {
                    index: from,
                    why: "an index past the end of any log".into(),
                })?;
            if index < self.len() {
                let ours = usize::try_from(index)
                    .ok()
                    .and_then(|k| self.entries.get(k));
                if ours != Some(e) {
                    return Err(ClinicError::Fork {
                        index,
                        why: "the peer's entry differs from this device's".into(),
                    });
                }
                continue;
            }
            self.append(e.clone())?;
            added += 1;
        }
        Ok(added)
    }

    fn sign_next(
        &mut self,
        key: &SigningKey,
        change: Change,
        time: u64,
    ) -> Result<SignedEntry, ClinicError> {
        if key.verifying_key().to_bytes() != self.registrar.log_key {
            return Err(ClinicError::NotRegistrar);
        }
        let e = SignedEntry::sign(
            Entry {
                clinic: self.id,
                index: self.len(),
                prev: self.head(),
                time,
                change,
            },
            key,
        );
        self.append(e.clone())?;
        Ok(e)
    }

    /// Add a member (registrar only).
    pub fn add(
        &mut self,
        key: &SigningKey,
        member: Member,
        time: u64,
    ) -> Result<SignedEntry, ClinicError> {
        self.sign_next(key, Change::Add(member), time)
    }

    /// Slash a member's stake to zero with `evidence` (encoded
    /// [`crate::witness::MemberEvidence`]) (registrar only).
    pub fn slash(
        &mut self,
        key: &SigningKey,
        endpoint: [u8; 32],
        evidence: Vec<u8>,
        time: u64,
    ) -> Result<SignedEntry, ClinicError> {
        self.sign_next(key, Change::Slash { endpoint, evidence }, time)
    }

    /// Remove a member (registrar only).
    pub fn remove(
        &mut self,
        key: &SigningKey,
        endpoint: [u8; 32],
        time: u64,
    ) -> Result<SignedEntry, ClinicError> {
        self.sign_next(key, Change::Remove { endpoint }, time)
    }

    /// The clinic id.
    pub fn id(&self) -> ClinicId {
        self.id
    }

    /// The clinic name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The registrar.
    pub fn registrar(&self) -> &Member {
        &self.registrar
    }

    /// Entries in the log.
    pub fn len(&self) -> u64 {
        self.entries.len() as u64
    }

    /// Never true (a clinic has its genesis); for clippy's sake.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Hash of the last entry.
    pub fn head(&self) -> [u8; 32] {
        self.entries
            .last()
            .map(SignedEntry::hash)
            .unwrap_or([0; 32])
    }

    /// Hash of entry `index`, if this device has it.
    pub fn hash_at(&self, index: u64) -> Option<[u8; 32]> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.entries.get(i))
            .map(SignedEntry::hash)
    }

    /// The entries from `from` on.
    pub fn entries_from(&self, from: u64) -> &[SignedEntry] {
        let from = usize::try_from(from)
            .unwrap_or(usize::MAX)
            .min(self.entries.len());
        &self.entries[from..]
    }

    /// The active member with this endpoint id.
    pub fn active(&self, endpoint: &[u8; 32]) -> Option<&Member> {
        self.members
            .get(endpoint)
            .filter(|m| m.active)
            .map(|m| &m.member)
    }

    /// Every member ever added, with its state.
    pub fn members(&self) -> impl Iterator<Item = &MemberState> {
        self.members.values()
    }

    /// Persisted form: `HCL1`, then the entries.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.raw(b"HCL1");
        w.len(self.entries.len());
        for e in &self.entries {
            w.bytes(&e.to_bytes());
        }
        w.0
    }

    /// Read the persisted form, verifying every entry.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ClinicError> {
        let mut r = Reader::new(bytes, "clinic");
        let mut parse = || -> Result<Vec<SignedEntry>, ClinicError> {
            let magic: [u8; 4] = r
                .array()
                .map_err(|e| ClinicError::Malformed(e.to_string()))?;
            if &magic != b"HCL1" {
                return Err(ClinicError::Malformed("not a clinic record".into()));
            }
            let n = r
                .count(4)
                .map_err(|e| ClinicError::Malformed(e.to_string()))?;
            let mut out = Vec::with_capacity(n);
            for _ in 0..n {
                let b = r
                    .bytes()
                    .map_err(|e| ClinicError::Malformed(e.to_string()))?;
                out.push(SignedEntry::from_bytes(&b)?);
            }
            Ok(out)
        };
        Self::from_entries(parse()?)
    }
}

/// An invite ticket: where the registrar listens, which clinic, and a one-time secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Ticket {
    /// The clinic.
    pub clinic: ClinicId,
    /// The registrar's endpoint id.
    pub endpoint: [u8; 32],
    /// Addresses the registrar was reachable at.
    pub addrs: Vec<SocketAddr>,
    /// The one-time secret.
    pub secret: [u8; 32],
}

impl std::fmt::Debug for Ticket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ticket")
            .field("clinic", &self.clinic.to_hex())
            .field("endpoint", &hex::encode(self.endpoint))
            .field("addrs", &self.addrs)
            .field("secret", &"<hidden>")
            .finish()
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.secret);
    }
}

impl Ticket {
    /// The text form: `hearth-invite1-` and base64url of (version 1, clinic, endpoint,
    /// addresses, secret).
    pub fn to_text(&self) -> String {
        let mut w = Writer::default();
        w.u8(1);
        w.raw(&self.clinic.0);
        w.raw(&self.endpoint);
        w.len(self.addrs.len());
        for a in &self.addrs {
            w.str(&a.to_string());
        }
        w.raw(&self.secret);
        let text = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&w.0);
        zeroize::Zeroize::zeroize(&mut w.0);
        format!("{TICKET_PREFIX}{text}")
    }

    /// Parse the text form (surrounding white space ignored).
    pub fn from_text(text: &str) -> Result<Self, ClinicError> {
        let body = text.trim().strip_prefix(TICKET_PREFIX).ok_or_else(|| {
            ClinicError::BadTicket(format!("it should start with {TICKET_PREFIX}"))
        })?;
        let bytes = zeroize::Zeroizing::new(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(body)
                .map_err(|e| ClinicError::BadTicket(e.to_string()))?,
        );
        let mut r = Reader::new(&bytes, "ticket");
        let mut parse = || -> Result<Ticket, WireError> {
            let v = r.u8()?;
            if v != 1 {
                return Err(r.bad(format!("ticket version {v}")));
            }
            let clinic = ClinicId(r.array()?);
            let endpoint = r.array()?;
            let n = r.count(4)?;
            let mut addrs = Vec::with_capacity(n);
            for _ in 0..n {
                let s = r.string(64)?;
                addrs.push(s.parse().map_err(|_| r.bad("an address"))?);
            }
            let secret = r.array()?;
            r.end()?;
            Ok(Ticket {
                clinic,
                endpoint,
                addrs,
                secret,
            })
        };
        parse().map_err(|e| ClinicError::BadTicket(e.to_string()))
    }

    /// SHA-256 of the secret: what the registrar keeps.
    pub fn secret_hash(secret: &[u8; 32]) -> [u8; 32] {
        Sha256::digest(secret).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(b: u8) -> SigningKey {
        SigningKey::from_bytes(&[b; 32])
    }

    fn member(b: u8, role: Role) -> Member {
        Member {
            endpoint: [b; 32],
            log_key: key(b).verifying_key().to_bytes(),
            device: vec![b; 16],
            name: format!("device {b}"),
            patient: (role == Role::Patient).then(|| "patient-1".to_string()),
            role,
            stake: 1,
        }
    }

    #[test]
    fn create_add_remove_and_replay() {
        let reg = key(1);
        let mut c = Clinic::create("Elm St", &reg, member(1, Role::Admin), 10).unwrap();
        assert!(c.active(&[1; 32]).is_some());
        c.add(&reg, member(2, Role::Clinician), 11).unwrap();
        assert_eq!(c.active(&[2; 32]).unwrap().role, Role::Clinician);
        c.remove(&reg, [2; 32], 12).unwrap();
        assert!(c.active(&[2; 32]).is_none());
        let copy = Clinic::from_bytes(&c.to_bytes()).unwrap();
        assert_eq!(copy.head(), c.head());
        assert!(copy.active(&[2; 32]).is_none());
        assert!(c.remove(&reg, [1; 32], 13).is_err(), "registrar stays");
    }

    #[test]
    fn only_the_registrar_signs() {
        let reg = key(1);
        let mut c = Clinic::create("Elm St", &reg, member(1, Role::Admin), 10).unwrap();
        assert!(matches!(
            c.add(&key(9), member(9, Role::Clinician), 11),
            Err(ClinicError::NotRegistrar)
        ));
        // A forged entry (signed by another key) is refused by a follower.
        let mut forger = c.clone();
        forger.registrar.log_key = key(9).verifying_key().to_bytes();
        let forged = forger.add(&key(9), member(9, Role::Clinician), 11).unwrap();
        assert!(matches!(
            c.append(forged),
            Err(ClinicError::BadSignature(1))
        ));
    }

    #[test]
    fn followers_extend_and_detect_forks() {
        let reg = key(1);
        let mut c = Clinic::create("Elm St", &reg, member(1, Role::Admin), 10).unwrap();
        let mut follower = Clinic::from_entries(c.entries_from(0).to_vec()).unwrap();
        c.add(&reg, member(2, Role::Clinician), 11).unwrap();
        c.add(&reg, member(3, Role::Patient), 12).unwrap();
        assert_eq!(follower.extend(0, c.entries_from(0)).unwrap(), 2);
        assert_eq!(follower.head(), c.head());
        let mut other = Clinic::from_entries(c.entries_from(0)[..1].to_vec()).unwrap();
        other.add(&reg, member(4, Role::Clinician), 13).unwrap();
        assert!(follower.extend(1, other.entries_from(1)).is_err());
        // A hostile start index neither overflows nor applies anything.
        assert!(follower.extend(u64::MAX, c.entries_from(1)).is_err());
        assert_eq!(follower.head(), c.head());
    }

    #[test]
    fn a_patient_device_names_its_patient_and_no_one_else_does() {
        let reg = key(1);
        let mut c = Clinic::create("Elm St", &reg, member(1, Role::Admin), 10).unwrap();
        c.add(&reg, member(2, Role::Patient), 11).unwrap();
        let copy = Clinic::from_bytes(&c.to_bytes()).unwrap();
        assert_eq!(
            copy.active(&[2; 32]).unwrap().patient.as_deref(),
            Some("patient-1")
        );
        let mut unbound = member(3, Role::Patient);
        unbound.patient = None;
        assert!(matches!(
            c.add(&reg, unbound, 12),
            Err(ClinicError::Refused(_))
        ));
        let mut clinician = member(4, Role::Clinician);
        clinician.patient = Some("patient-1".into());
        assert!(matches!(
            c.add(&reg, clinician, 12),
            Err(ClinicError::Refused(_))
        ));
        assert_eq!(c.len(), 2, "refused members leave no entry");
    }

    #[test]
    fn a_slash_needs_a_proof_that_checks() {
        let reg = key(1);
        let mut c = Clinic::create("Elm St", &reg, member(1, Role::Admin), 10).unwrap();
        c.add(&reg, member(2, Role::Clinician), 11).unwrap();
        for bogus in [vec![], vec![1, 2, 3]] {
            assert!(matches!(
                c.slash(&reg, [2; 32], bogus, 12),
                Err(ClinicError::Refused(_))
            ));
        }
        assert!(matches!(
            c.slash(&reg, [9; 32], vec![1], 12),
            Err(ClinicError::Refused(_))
        ));
        assert_eq!(c.len(), 2, "nothing was written");
        assert_eq!(c.active(&[2; 32]).unwrap().stake, 1);
    }

    #[test]
    fn version_1_entries_still_read() {
        // A version-1 genesis (no patient field) signed by the registrar.
        let reg = key(1);
        let m = member(1, Role::Admin);
        let mut w = Writer::default();
        w.u8(1);
        w.raw(&[7; 16]);
        w.u64(0);
        w.raw(&[0; 32]);
        w.u64(10);
        w.u8(1);
        w.str("Elm St");
        w.raw(&m.endpoint);
        w.raw(&reg.verifying_key().to_bytes());
        w.bytes(&m.device);
        w.str(&m.name);
        w.u8(m.role.to_u8());
        w.u64(m.stake);
        let body = w.0;
        let mut msg = ENTRY_DOMAIN.to_vec();
        msg.extend_from_slice(&body);
        let signature = reg.sign(&msg).to_bytes();
        let mut out = Writer::default();
        out.bytes(&body);
        out.raw(&signature);
        let e = SignedEntry::from_bytes(&out.0).unwrap();
        let c = Clinic::from_entries(vec![e]).unwrap();
        assert_eq!(c.registrar().patient, None);
        assert_eq!(c.name(), "Elm St");
    }

    #[test]
    fn ticket_round_trips_and_hides_its_secret() {
        let t = Ticket {
            clinic: ClinicId([3; 16]),
            endpoint: [4; 32],
            addrs: vec!["127.0.0.1:4000".parse().unwrap()],
            secret: [5; 32],
        };
        let text = t.to_text();
        assert!(text.starts_with(TICKET_PREFIX));
        assert_eq!(Ticket::from_text(&format!(" {text}\n")).unwrap(), t);
        assert!(!format!("{t:?}").contains("5, 5"));
        assert!(Ticket::from_text("hearth-invite1-AAAA").is_err());
        assert!(Ticket::from_text("nonsense").is_err());
    }
}
