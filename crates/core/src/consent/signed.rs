//! Consents signed on the patient's own device, and the device keys allowed to sign them.
//!
//! A clinician registers the public key of the patient's device once, in person, comparing
//! the fingerprint the patient's device shows; the registration is logged as a consent event.
//! After that, a version signed with that key (`hearth-signed-consent/1` JSON) is accepted
//! only if its signature verifies and it links to the newest stored version of its contract;
//! a replayed older version is ignored, anything else is refused and changes nothing.

use ed25519_dalek::VerifyingKey;
use hearth_api::ConsentInfo;
use hearth_consent::{Accepted, Chain, SignedContract};
use hearth_ledger::ConsentAction;
use hearth_vault::{NewRecord, RecordId, Vault};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{info, invalid};
use crate::records::patient_key;
use crate::{audit, CoreError, Hearth, Result};

/// Vault kind of a registered patient device key.
const PATIENT_DEVICE_KIND: &str = "patient-device";

/// A registered key (`hearth-patient-device/1`).
#[derive(Debug, Serialize, Deserialize)]
struct DeviceKey {
    v: u8,
    /// Ed25519 public key, hex.
    key: String,
    /// When it was registered, seconds since the Unix epoch.
    registered: u64,
}

/// How a key is shown for comparison: the first 16 bytes of its SHA-256, in groups of four.
pub fn fingerprint(key: &[u8; 32]) -> String {
    let digest = Sha256::digest(key);
    hex::encode(&digest[..16])
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

fn parse_key(hex_key: &str) -> Result<VerifyingKey> {
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(hex_key.trim(), &mut bytes).map_err(|_| {
        invalid("a patient device key is 64 hex digits (the public key the patient's device shows)")
    })?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| {
        invalid("that is not a valid Ed25519 public key; copy it again from the patient's device")
    })
}

fn device_keys(vault: &mut Vault, patient_id: &str) -> Result<Vec<VerifyingKey>> {
    let key = patient_key(vault, patient_id)?;
    let mut out = Vec::new();
    for (id, rec) in vault.open_under_key(PATIENT_DEVICE_KIND, &key)? {
        let rec = rec?;
        let d: DeviceKey = serde_json::from_slice(&rec.plaintext).map_err(|e| {
            CoreError::Internal(format!("patient device key {id} cannot be read: {e}"))
        })?;
        out.push(parse_key(&d.key)?);
    }
    Ok(out)
}

impl Hearth {
    /// Register the public key (64 hex digits) of the patient's own device, so consents it
    /// signs are accepted. Returns the key's fingerprint to compare with the patient's device.
    pub fn register_patient_device(&self, patient_id: &str, public_key: &str) -> Result<String> {
        let vk = parse_key(public_key)?;
        let mut vault = self.vault();
        let key = patient_key(&mut vault, patient_id)?;
        if device_keys(&mut vault, patient_id)?.contains(&vk) {
            return Ok(fingerprint(vk.as_bytes()));
        }
        let rec = DeviceKey {
            v: 1,
            key: hex::encode(vk.as_bytes()),
            registered: audit::now_secs(&vault),
        };
        let json = serde_json::to_vec(&rec).map_err(|e| CoreError::Internal(e.to_string()))?;
        let entry = hearth_ledger::Entry::Consent(hearth_ledger::Consent {
            patient: hearth_ledger::RecordId::new(patient_id).map_err(invalid)?,
            contract: hearth_ledger::Hash(Sha256::digest(vk.as_bytes()).into()),
            action: ConsentAction::KeyRegistered,
            time: audit::now_secs(&vault),
        })
        .encode()
        .map_err(invalid)?;
        vault.put_batch_logged(
            &[NewRecord {
                id: &RecordId::random()?,
                kind: PATIENT_DEVICE_KIND,
                key: &key,
                plaintext: &json,
            }],
            &[entry],
        )?;
        Ok(fingerprint(vk.as_bytes()))
    }

    /// Fingerprints of the patient's registered devices.
    pub fn patient_devices(&self, patient_id: &str) -> Result<Vec<String>> {
        let mut vault = self.vault();
        Ok(device_keys(&mut vault, patient_id)?
            .iter()
            .map(|k| fingerprint(k.as_bytes()))
            .collect())
    }

    /// Accept a consent version signed on the patient's device (`hearth-signed-consent/1`
    /// JSON). It must be about this patient, verify with a registered device key and link to
    /// the newest stored version of its contract (or be version 1 of a new one). Returns the
    /// version and whether it was new (`false`: an older version replayed, nothing changed).
    pub fn record_signed_consent(
        &self,
        patient_id: &str,
        signed_json: &str,
    ) -> Result<(ConsentInfo, bool)> {
        let signed = SignedContract::from_json(signed_json).map_err(invalid)?;
        if signed.signature().is_none() {
            return Err(invalid(
                "this consent carries no signature; have the patient sign it on their device, or record it as a paper consent",
            ));
        }
        let c = signed.contract();
        if c.patient.as_str() != patient_id {
            return Err(invalid(format!(
                "it is about patient {}, not {patient_id}",
                c.patient.as_str()
            )));
        }
        let mut vault = self.vault();
        let keys = device_keys(&mut vault, patient_id)?;
        if keys.is_empty() {
            return Err(invalid(
                "no device of this patient is registered; register the patient's device key first (it is shown on their device)",
            ));
        }
        let signer = keys
            .iter()
            .find(|k| signed.verify(k).is_ok())
            .copied()
            .ok_or_else(|| {
                invalid(format!(
                    "consent {} v{}: the signature does not match any registered device of this patient; it was altered, or signed by another key",
                    c.id.as_str(),
                    c.version
                ))
            })?;
        let existing: Vec<SignedContract> = self
            .contract_versions(&mut vault, patient_id)?
            .into_iter()
            .filter(|v| v.contract().id == c.id)
            .collect();
        let accepted = if existing.is_empty() {
            Chain::validate([signed.clone()], &signer).map_err(invalid)?;
            Accepted::Appended
        } else {
            let mut chain = Chain::validate(existing, &signer).map_err(invalid)?;
            chain.accept(signed.clone(), &signer).map_err(invalid)?
        };
        if accepted == Accepted::AlreadyKnown {
            return Ok((info(&signed)?, false));
        }
        let action = if c.status == hearth_consent::Status::Inactive {
            ConsentAction::Withdrawn
        } else {
            ConsentAction::Granted
        };
        self.store_version(&mut vault, patient_id, &signed, action)?;
        Ok((info(&signed)?, true))
    }
}
