//! An in-memory [`Store`] for tests and benchmarks: documents in a map, a clinic, invites, and
//! simple rules (hidden documents are never offered; writes from listed peers are refused).
//! It is a real store (real Automerge documents, real clinic log), not a mock of the network.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, MutexGuard};

use automerge::Automerge;
use ed25519_dalek::SigningKey;

use crate::clinic::{Clinic, Member, Role, SignedEntry, Ticket};
use crate::guard;
use crate::session::{Offer, Store, StoreError};
use crate::wire::{DocMeta, JoinRequest};

#[derive(Default)]
struct Inner {
    clinic: Option<Clinic>,
    key: Option<SigningKey>,
    docs: BTreeMap<String, (String, Vec<u8>)>,
    hidden: BTreeSet<String>,
    read_only: BTreeSet<[u8; 32]>,
    invites: Vec<([u8; 32], Role)>,
    refusals: Vec<([u8; 32], String)>,
    received: Vec<String>,
    /// Attachment content by the BLAKE3 of its bytes (here the bytes stand for a transfer
    /// form), and which of it is not shared.
    content: BTreeMap<[u8; 32], Vec<u8>>,
    hidden_content: BTreeSet<[u8; 32]>,
    wanted: BTreeSet<[u8; 32]>,
}

/// A store in memory.
#[derive(Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MemoryStore")
    }
}

impl MemoryStore {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Set the clinic and, on the registrar, its signing key.
    pub fn set_clinic(&self, clinic: Clinic, key: Option<SigningKey>) {
        let mut i = self.lock();
        i.clinic = Some(clinic);
        i.key = key;
    }

    /// The clinic, if any.
    pub fn clinic_now(&self) -> Option<Clinic> {
        self.lock().clinic.clone()
    }

    /// Registrar: a one-time invite for `role`.
    pub fn invite(&self, secret: [u8; 32], role: Role) {
        self.lock()
            .invites
            .push((Ticket::secret_hash(&secret), role));
    }

    /// Registrar: remove a member.
    pub fn remove_member(&self, endpoint: [u8; 32]) -> Result<(), StoreError> {
        let mut i = self.lock();
        let key = i
            .key
            .clone()
            .ok_or_else(|| StoreError::Failed("not the registrar".into()))?;
        let c = i
            .clinic
            .as_mut()
            .ok_or_else(|| StoreError::Failed("no clinic".into()))?;
        c.remove(&key, endpoint, 0)
            .map_err(|e| StoreError::Failed(e.to_string()))?;
        Ok(())
    }

    /// Put a document.
    pub fn put(&self, id: &str, kind: &str, doc: &Automerge) {
        self.lock()
            .docs
            .insert(id.into(), (kind.into(), doc.save()));
    }

    /// A document, loaded.
    pub fn get(&self, id: &str) -> Option<Automerge> {
        let bytes = self.lock().docs.get(id).map(|(_, b)| b.clone())?;
        guard::load(&bytes).ok()
    }

    /// Ids of the documents held.
    pub fn ids(&self) -> Vec<String> {
        self.lock().docs.keys().cloned().collect()
    }

    /// Hold attachment content; returns its hash.
    pub fn add_content(&self, bytes: &[u8]) -> [u8; 32] {
        let hash = *blake3::hash(bytes).as_bytes();
        self.lock().content.insert(hash, bytes.to_vec());
        hash
    }

    /// Never share this content.
    pub fn hide_content(&self, hash: [u8; 32]) {
        self.lock().hidden_content.insert(hash);
    }

    /// Want this content (as if an attachment record named it).
    pub fn want_content(&self, hash: [u8; 32]) {
        self.lock().wanted.insert(hash);
    }

    /// Content held, by hash.
    pub fn content(&self, hash: &[u8; 32]) -> Option<Vec<u8>> {
        self.lock().content.get(hash).cloned()
    }

    /// Never offer this document to anyone.
    pub fn hide(&self, id: &str) {
        self.lock().hidden.insert(id.into());
    }

    /// Refuse every write from this peer.
    pub fn read_only(&self, endpoint: [u8; 32]) {
        self.lock().read_only.insert(endpoint);
    }

    /// Refusals logged so far (endpoint, reason).
    pub fn refusals(&self) -> Vec<([u8; 32], String)> {
        self.lock().refusals.clone()
    }

    /// Ids of the documents received from peers (in order).
    pub fn received(&self) -> Vec<String> {
        self.lock().received.clone()
    }
}

impl Store for MemoryStore {
    fn clinic(&self) -> Result<Option<Clinic>, StoreError> {
        Ok(self.lock().clinic.clone())
    }

    fn save_clinic(&self, clinic: &Clinic) -> Result<(), StoreError> {
        self.lock().clinic = Some(clinic.clone());
        Ok(())
    }

    fn offer(&self, _peer: &Member) -> Result<Offer, StoreError> {
        let i = self.lock();
        let mut docs = Vec::new();
        for (id, (kind, bytes)) in &i.docs {
            if i.hidden.contains(id) {
                continue;
            }
            let doc = guard::load(bytes).map_err(|e| StoreError::Failed(e.to_string()))?;
            let mut heads: Vec<[u8; 32]> = doc.get_heads().into_iter().map(|h| h.0).collect();
            heads.sort_unstable();
            docs.push(DocMeta {
                id: id.clone(),
                kind: kind.clone(),
                heads,
            });
        }
        Ok(Offer {
            contracts: Vec::new(),
            docs,
            evidence: Vec::new(),
            cosigned: Vec::new(),
        })
    }

    fn document(&self, id: &str) -> Result<Vec<u8>, StoreError> {
        self.lock()
            .docs
            .get(id)
            .map(|(_, b)| b.clone())
            .ok_or_else(|| StoreError::Failed(format!("no document {id}")))
    }

    fn apply(
        &self,
        peer: &Member,
        kind: &str,
        id: &str,
        document: &[u8],
    ) -> Result<bool, StoreError> {
        let mut i = self.lock();
        if i.read_only.contains(&peer.endpoint) {
            return Err(StoreError::Denied(format!("{} may not write", peer.name)));
        }
        let mut incoming = guard::load(document).map_err(|e| StoreError::Invalid(e.to_string()))?;
        i.received.push(id.to_string());
        let merged = match i.docs.get(id) {
            None => incoming,
            Some((k, bytes)) => {
                if k != kind {
                    return Err(StoreError::Invalid(format!("{id} is a {k}, not a {kind}")));
                }
                let mut doc = guard::load(bytes).map_err(|e| StoreError::Failed(e.to_string()))?;
                let before = doc.get_heads();
                doc.merge(&mut incoming)
                    .map_err(|e| StoreError::Invalid(e.to_string()))?;
                if doc.get_heads() == before {
                    return Ok(false);
                }
                doc
            }
        };
        i.docs.insert(id.into(), (kind.into(), merged.save()));
        Ok(true)
    }

    fn accept_contracts(
        &self,
        _peer: &Member,
        _contracts: &[Vec<u8>],
    ) -> Result<usize, StoreError> {
        Ok(0)
    }

    fn redeem(
        &self,
        endpoint: [u8; 32],
        request: &JoinRequest,
    ) -> Result<Vec<SignedEntry>, StoreError> {
        let mut i = self.lock();
        let hash = Ticket::secret_hash(&request.secret);
        let pos = i
            .invites
            .iter()
            .position(|(h, _)| *h == hash)
            .ok_or_else(|| StoreError::Denied("unknown or used invite".into()))?;
        let (_, role) = i.invites.remove(pos);
        let key = i
            .key
            .clone()
            .ok_or_else(|| StoreError::Failed("not the registrar".into()))?;
        let c = i
            .clinic
            .as_mut()
            .ok_or_else(|| StoreError::Failed("no clinic".into()))?;
        c.add(
            &key,
            Member {
                endpoint,
                log_key: request.log_key,
                device: request.device.clone(),
                name: request.name.clone(),
                role,
                stake: 1,
                patient: None,
            },
            0,
        )
        .map_err(|e| StoreError::Denied(e.to_string()))?;
        Ok(c.entries_from(0).to_vec())
    }

    fn sealed_content(
        &self,
        _peer: &Member,
        hash: &[u8; 32],
        out: &mut dyn std::io::Write,
    ) -> Result<Option<String>, StoreError> {
        let bytes = {
            let i = self.lock();
            if i.hidden_content.contains(hash) {
                return Ok(None);
            }
            match i.content.get(hash) {
                Some(b) => b.clone(),
                None => return Ok(None),
            }
        };
        out.write_all(&bytes)
            .map_err(|e| StoreError::Failed(e.to_string()))?;
        Ok(Some(hex::encode(&hash[..8])))
    }

    fn wanted_content(&self) -> Result<Vec<[u8; 32]>, StoreError> {
        let i = self.lock();
        Ok(i.wanted
            .iter()
            .filter(|h| !i.content.contains_key(*h))
            .copied()
            .collect())
    }

    fn import_content(
        &self,
        hash: &[u8; 32],
        sealed: &mut dyn std::io::Read,
    ) -> Result<u64, StoreError> {
        let mut bytes = Vec::new();
        sealed
            .read_to_end(&mut bytes)
            .map_err(|e| StoreError::Failed(e.to_string()))?;
        if blake3::hash(&bytes).as_bytes() != hash {
            return Err(StoreError::Invalid(
                "content does not match its hash".into(),
            ));
        }
        let n = bytes.len() as u64;
        self.lock().content.insert(*hash, bytes);
        Ok(n)
    }

    fn refused(&self, endpoint: [u8; 32], reason: &str) {
        self.lock().refusals.push((endpoint, reason.to_string()));
    }
}
