//! Canonical form, hashes, Ed25519 signatures and version chains.
//!
//! The canonical form of a contract version is its FHIR R4 Consent JSON (as written by
//! [`crate::to_fhir_json`]) canonicalised per RFC 8785 (JCS, via `serde_jcs`). The hash is
//! SHA-256 of those bytes; the patient signs those bytes with Ed25519.

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine as _;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::fhir::{from_fhir_value, to_fhir, FhirError};
use crate::model::{Contract, ContractId, Status};

/// SHA-256 of a contract version's canonical form.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContractHash(pub [u8; 32]);

impl ContractHash {
    /// Lowercase hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses 64 lowercase hex digits.
    pub fn from_hex(s: &str) -> Option<Self> {
        if s.len() != 64 || s.bytes().any(|b| b.is_ascii_uppercase()) {
            return None;
        }
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).ok()?;
        Some(Self(out))
    }
}

impl fmt::Debug for ContractHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ContractHash({})", self.to_hex())
    }
}

impl fmt::Display for ContractHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// A signature, chain or encoding failure. Each says what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// The canonical form could not be written (not expected for these types).
    #[error("could not write the canonical form of the contract: {0}")]
    Canonical(String),
    /// The version number cannot grow further.
    #[error("the contract has reached the last version number; start a new contract")]
    VersionOverflow,
    /// The signature does not verify with the patient's key.
    #[error("consent {id} v{version}: the signature does not match the patient's key; ask the patient to sign again")]
    BadSignature {
        /// Contract id.
        id: ContractId,
        /// Version.
        version: u32,
    },
    /// Neither signed nor attested.
    #[error("consent {id} v{version} is neither signed by the patient nor attested by a clinician; sign it or record the paper consent")]
    Unsigned {
        /// Contract id.
        id: ContractId,
        /// Version.
        version: u32,
    },
    /// A stored signed contract could not be read.
    #[error("could not read the signed consent: {0}")]
    Decode(String),
    /// The FHIR body of a stored signed contract is invalid.
    #[error(transparent)]
    Fhir(#[from] FhirError),
}

/// A chain of versions that does not hold together.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChainError {
    /// No versions.
    #[error("no versions to validate")]
    Empty,
    /// Versions of another contract or patient mixed in.
    #[error("version {version} belongs to another contract or patient ({id}); keep each contract's versions apart")]
    Mixed {
        /// The id of the stray version.
        id: ContractId,
        /// Its version.
        version: u32,
    },
    /// Two different versions with the same number: no single head.
    #[error("consent {id} has two different versions {version}: the chain forks and has no single head; keep the one the patient signed last and discard the other")]
    Fork {
        /// Contract id.
        id: ContractId,
        /// The duplicated version.
        version: u32,
    },
    /// A version is missing.
    #[error("consent {id} is missing version {version}; fetch it before accepting later versions")]
    Gap {
        /// Contract id.
        id: ContractId,
        /// The first missing version.
        version: u32,
    },
    /// A version's previous hash does not match the version before it.
    #[error("consent {id} v{version} does not link to v{}: its previous-version hash is {found:?}, expected {expected:?}; it was altered or belongs to another chain", version - 1)]
    BrokenLink {
        /// Contract id.
        id: ContractId,
        /// The version that does not link.
        version: u32,
        /// Hash of the version before it.
        expected: Option<ContractHash>,
        /// Hash it names.
        found: Option<ContractHash>,
    },
    /// A version follows a revocation.
    #[error("consent {id} was revoked in v{revoked}; v{version} cannot follow it: record a new consent instead")]
    AfterRevocation {
        /// Contract id.
        id: ContractId,
        /// The revoking version.
        revoked: u32,
        /// The version that follows it.
        version: u32,
    },
    /// A version's signature is bad or missing.
    #[error(transparent)]
    Signature(#[from] SignatureError),
}

impl Contract {
    /// The canonical form: RFC 8785 JSON of the FHIR Consent.
    pub fn canonical_bytes(&self) -> Result<Vec<u8>, SignatureError> {
        serde_jcs::to_vec(&to_fhir(self)).map_err(|e| SignatureError::Canonical(e.to_string()))
    }

    /// SHA-256 of the canonical form.
    pub fn hash(&self) -> Result<ContractHash, SignatureError> {
        Ok(ContractHash(Sha256::digest(self.canonical_bytes()?).into()))
    }
}

/// A contract version with the patient's signature (or none, when attested on paper).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedContract {
    contract: Contract,
    signature: Option<Signature>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Stored {
    format: String,
    consent: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    signature: Option<String>,
}

const STORED_FORMAT: &str = "hearth-signed-consent/1";

impl SignedContract {
    /// The patient signs the canonical form of `contract`.
    pub fn sign(contract: Contract, patient: &SigningKey) -> Result<Self, SignatureError> {
        let signature = patient.sign(&contract.canonical_bytes()?);
        Ok(Self {
            contract,
            signature: Some(signature),
        })
    }

    /// A paper consent: no signature; the contract must carry an [`crate::Attestation`].
    pub fn attested(contract: Contract) -> Result<Self, SignatureError> {
        if contract.attestation.is_none() {
            return Err(SignatureError::Unsigned {
                id: contract.id.clone(),
                version: contract.version,
            });
        }
        Ok(Self {
            contract,
            signature: None,
        })
    }

    /// Pairs a contract with a signature received from elsewhere (not yet verified).
    pub fn from_parts(contract: Contract, signature: Option<[u8; 64]>) -> Self {
        Self {
            contract,
            signature: signature.map(|s| Signature::from_bytes(&s)),
        }
    }

    /// The contract.
    pub fn contract(&self) -> &Contract {
        &self.contract
    }

    /// The signature bytes, if signed.
    pub fn signature(&self) -> Option<[u8; 64]> {
        self.signature.map(|s| s.to_bytes())
    }

    /// Checks the version is signed by `patient` or, if unsigned, attested. A signature, when
    /// present, must verify even on an attested contract.
    pub fn verify(&self, patient: &VerifyingKey) -> Result<(), SignatureError> {
        match &self.signature {
            Some(sig) => {
                let bytes = self.contract.canonical_bytes()?;
                patient
                    .verify_strict(&bytes, sig)
                    .map_err(|_| SignatureError::BadSignature {
                        id: self.contract.id.clone(),
                        version: self.contract.version,
                    })
            }
            None if self.contract.attestation.is_some() => Ok(()),
            None => Err(SignatureError::Unsigned {
                id: self.contract.id.clone(),
                version: self.contract.version,
            }),
        }
    }

    /// The persisted form: JSON `{"format": "hearth-signed-consent/1", "consent": <FHIR>,
    /// "signature": <base64>}`.
    pub fn to_json(&self) -> Result<String, SignatureError> {
        let stored = Stored {
            format: STORED_FORMAT.to_owned(),
            consent: crate::fhir::to_fhir_value(&self.contract)?,
            signature: self
                .signature
                .map(|s| base64::engine::general_purpose::STANDARD.encode(s.to_bytes())),
        };
        serde_json::to_string(&stored).map_err(|e| SignatureError::Canonical(e.to_string()))
    }

    /// Reads the persisted form (does not verify; call [`Self::verify`] or [`Chain`]).
    pub fn from_json(json: &str) -> Result<Self, SignatureError> {
        let stored: Stored =
            serde_json::from_str(json).map_err(|e| SignatureError::Decode(e.to_string()))?;
        if stored.format != STORED_FORMAT {
            return Err(SignatureError::Decode(format!(
                "unknown format {:?}, expected {STORED_FORMAT:?}",
                stored.format
            )));
        }
        let contract = from_fhir_value(&stored.consent)?;
        let signature = match stored.signature {
            None => None,
            Some(s) => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(s.as_bytes())
                    .map_err(|e| SignatureError::Decode(format!("signature: {e}")))?;
                let bytes: [u8; 64] = bytes.try_into().map_err(|_| {
                    SignatureError::Decode("signature: expected 64 bytes".to_owned())
                })?;
                Some(bytes)
            }
        };
        Ok(Self::from_parts(contract, signature))
    }
}

/// What [`Chain::accept`] did with a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    /// The version is the new head.
    Appended,
    /// The version was already in the chain (an older version replayed): nothing changed.
    AlreadyKnown,
}

/// A validated version chain of one contract: version 1 to the head, each linked by hash to
/// the one before, each signed by the patient or attested, nothing after a revocation.
#[derive(Debug, Clone)]
pub struct Chain {
    versions: Vec<SignedContract>,
    hashes: Vec<ContractHash>,
}

impl Chain {
    /// Validates `versions` (any order) against the patient's key.
    pub fn validate(
        versions: impl IntoIterator<Item = SignedContract>,
        patient: &VerifyingKey,
    ) -> Result<Chain, ChainError> {
        let mut by_version: BTreeMap<u32, SignedContract> = BTreeMap::new();
        let mut first: Option<(ContractId, crate::PatientId)> = None;
        for v in versions {
            let c = v.contract();
            match &first {
                None => first = Some((c.id.clone(), c.patient.clone())),
                Some((id, patient)) => {
                    if *id != c.id || *patient != c.patient {
                        return Err(ChainError::Mixed {
                            id: c.id.clone(),
                            version: c.version,
                        });
                    }
                }
            }
            if let Some(existing) = by_version.get(&c.version) {
                if existing != &v {
                    return Err(ChainError::Fork {
                        id: c.id.clone(),
                        version: c.version,
                    });
                }
                continue;
            }
            by_version.insert(c.version, v);
        }
        if by_version.is_empty() {
            return Err(ChainError::Empty);
        }
        let mut chain = Chain {
            versions: Vec::new(),
            hashes: Vec::new(),
        };
        for (_, v) in by_version {
            chain.push(v, patient)?;
        }
        Ok(chain)
    }

    fn push(&mut self, v: SignedContract, patient: &VerifyingKey) -> Result<(), ChainError> {
        let c = v.contract();
        let expected_version = u32::try_from(self.versions.len() + 1).unwrap_or(u32::MAX);
        if c.version != expected_version {
            return Err(ChainError::Gap {
                id: c.id.clone(),
                version: expected_version,
            });
        }
        if let Some(head) = self.versions.last() {
            if head.contract().status == Status::Inactive {
                return Err(ChainError::AfterRevocation {
                    id: c.id.clone(),
                    revoked: head.contract().version,
                    version: c.version,
                });
            }
        }
        let expected = self.hashes.last().copied();
        if c.previous != expected {
            return Err(ChainError::BrokenLink {
                id: c.id.clone(),
                version: c.version,
                expected,
                found: c.previous,
            });
        }
        v.verify(patient)?;
        self.hashes.push(c.hash()?);
        self.versions.push(v);
        Ok(())
    }

    /// Adds a version received later. A version already in the chain (a replay of an older
    /// version) is ignored; a different version with a known number is a fork; the next
    /// version must link, verify and not follow a revocation. On error nothing changes.
    pub fn accept(
        &mut self,
        version: SignedContract,
        patient: &VerifyingKey,
    ) -> Result<Accepted, ChainError> {
        let c = version.contract();
        let head = self.head().contract();
        if c.id != head.id || c.patient != head.patient {
            return Err(ChainError::Mixed {
                id: c.id.clone(),
                version: c.version,
            });
        }
        let known = usize::try_from(c.version)
            .ok()
            .and_then(|n| n.checked_sub(1))
            .and_then(|i| self.versions.get(i));
        if let Some(known) = known {
            return if known == &version {
                Ok(Accepted::AlreadyKnown)
            } else {
                Err(ChainError::Fork {
                    id: c.id.clone(),
                    version: c.version,
                })
            };
        }
        self.push(version, patient)?;
        Ok(Accepted::Appended)
    }

    /// The newest version: the one that counts.
    pub fn head(&self) -> &SignedContract {
        // `validate` refuses an empty chain and nothing removes versions.
        &self.versions[self.versions.len() - 1]
    }

    /// Every version, from 1.
    pub fn versions(&self) -> &[SignedContract] {
        &self.versions
    }

    /// Hash of the head version (the `previous` of the next version).
    pub fn head_hash(&self) -> ContractHash {
        self.hashes[self.hashes.len() - 1]
    }

    /// Whether the head revokes the contract.
    pub fn is_revoked(&self) -> bool {
        self.head().contract().status == Status::Inactive
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_parse_only_lowercase_hex_of_the_right_length() {
        let h = ContractHash([0xab; 32]);
        assert_eq!(ContractHash::from_hex(&h.to_hex()), Some(h));
        assert_eq!(ContractHash::from_hex(&h.to_hex().to_uppercase()), None);
        assert_eq!(ContractHash::from_hex("abcd"), None);
        assert_eq!(ContractHash::from_hex(&"zz".repeat(32)), None);
    }
}
