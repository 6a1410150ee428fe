//! C2SP `tlog-cosignature` (cosignature/v1): a witness's timestamped Ed25519 signature of a
//! checkpoint, carried as a signed-note signature line.
//!
//! - key type 0x04; key id = `SHA-256(name ‖ 0x0A ‖ 0x04 ‖ public key)[:4]`
//! - signature bytes = 8-byte big-endian timestamp (seconds) ‖ Ed25519 signature over
//!   `cosignature/v1\ntime <timestamp>\n<checkpoint text>`
//! - verifier key string = `<name>+<hex key id>+<base64(0x04 ‖ public key)>`

use std::fmt;

use ed25519_dalek::{Signer as _, SigningKey, Verifier as _, VerifyingKey};

use crate::note::{
    check_key_name, format_vkey, hex4, key_id, parse_vkey, NoteError, NoteSignature,
};

/// Key type byte of a cosignature/v1 key.
pub const ALG_COSIGNATURE_V1: u8 = 0x04;

/// The message a cosignature/v1 signs.
pub fn cosignature_message(checkpoint_text: &str, timestamp: u64) -> Vec<u8> {
    let mut m = Vec::with_capacity(checkpoint_text.len() + 40);
    m.extend_from_slice(b"cosignature/v1\ntime ");
    m.extend_from_slice(timestamp.to_string().as_bytes());
    m.push(b'\n');
    m.extend_from_slice(checkpoint_text.as_bytes());
    m
}

/// One cosignature/v1: who (name, key id), when (seconds since the Unix epoch) and the
/// Ed25519 signature.
#[derive(Clone, PartialEq, Eq)]
pub struct Cosignature {
    /// The witness's key name.
    pub name: String,
    /// The witness's cosignature key id.
    pub key_id: [u8; 4],
    /// Seconds since the Unix epoch, as signed.
    pub timestamp: u64,
    /// The Ed25519 signature over [`cosignature_message`].
    pub signature: [u8; 64],
}

impl fmt::Debug for Cosignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Cosignature({} {} t={})",
            self.name,
            hex4(&self.key_id),
            self.timestamp
        )
    }
}

impl Cosignature {
    /// The note signature form (signature bytes = timestamp ‖ Ed25519 signature).
    pub fn to_note_signature(&self) -> NoteSignature {
        let mut sig = Vec::with_capacity(72);
        sig.extend_from_slice(&self.timestamp.to_be_bytes());
        sig.extend_from_slice(&self.signature);
        NoteSignature {
            name: self.name.clone(),
            key_id: self.key_id,
            signature: sig,
        }
    }

    /// Reads a note signature as a cosignature/v1; `None` unless it is 72 bytes long.
    pub fn from_note_signature(sig: &NoteSignature) -> Option<Cosignature> {
        if sig.signature.len() != 72 {
            return None;
        }
        let (ts, s) = sig.signature.split_at(8);
        Some(Cosignature {
            name: sig.name.clone(),
            key_id: sig.key_id,
            timestamp: u64::from_be_bytes(ts.try_into().ok()?),
            signature: s.try_into().ok()?,
        })
    }

    /// The signature line, as a witness returns it: `— <name> <base64>\n`.
    pub fn to_line(&self) -> String {
        self.to_note_signature().to_line()
    }

    /// Parses a signature line holding a cosignature/v1.
    pub fn parse_line(line: &str) -> Result<Cosignature, NoteError> {
        let sig = NoteSignature::parse_line(line)?;
        Cosignature::from_note_signature(&sig).ok_or(NoteError::Malformed(
            "a cosignature/v1 signature is 72 bytes",
        ))
    }
}

/// A witness's public cosigning key: key name and Ed25519 public key.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WitnessKey {
    name: String,
    key: [u8; 32],
}

impl fmt::Debug for WitnessKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WitnessKey({} {})", self.name, hex4(&self.key_id()))
    }
}

impl fmt::Display for WitnessKey {
    /// The verifier key string `<name>+<hex key id>+<base64(0x04 ‖ key)>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match VerifyingKey::from_bytes(&self.key) {
            Ok(vk) => f.write_str(&format_vkey(&self.name, ALG_COSIGNATURE_V1, &vk)),
            Err(_) => write!(f, "{}+invalid", self.name),
        }
    }
}

impl WitnessKey {
    /// A witness key named `name` for the Ed25519 public key `key`.
    pub fn new(name: impl Into<String>, key: &VerifyingKey) -> Result<WitnessKey, NoteError> {
        let name = name.into();
        check_key_name(&name)?;
        Ok(WitnessKey {
            name,
            key: key.to_bytes(),
        })
    }

    /// From raw parts, checking the name and that the bytes are an Ed25519 point.
    pub fn from_parts(name: &str, key: [u8; 32]) -> Result<WitnessKey, NoteError> {
        let vk = VerifyingKey::from_bytes(&key)
            .map_err(|_| NoteError::MalformedKey("not a valid Ed25519 public key"))?;
        WitnessKey::new(name, &vk)
    }

    /// Parses `<name>+<hex key id>+<base64(0x04 ‖ key)>`.
    pub fn parse(vkey: &str) -> Result<WitnessKey, NoteError> {
        let (name, vk) = parse_vkey(vkey, ALG_COSIGNATURE_V1)?;
        WitnessKey::new(name, &vk)
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The Ed25519 public key bytes.
    pub fn public_key(&self) -> &[u8; 32] {
        &self.key
    }

    /// The cosignature/v1 key id.
    pub fn key_id(&self) -> [u8; 4] {
        key_id(&self.name, ALG_COSIGNATURE_V1, &self.key)
    }

    /// Whether `cosig` is this witness's valid cosignature of `checkpoint_text`.
    pub fn verify(&self, checkpoint_text: &str, cosig: &Cosignature) -> bool {
        if cosig.name != self.name || cosig.key_id != self.key_id() {
            return false;
        }
        let Ok(vk) = VerifyingKey::from_bytes(&self.key) else {
            return false;
        };
        vk.verify(
            &cosignature_message(checkpoint_text, cosig.timestamp),
            &ed25519_dalek::Signature::from_bytes(&cosig.signature),
        )
        .is_ok()
    }
}

/// A witness's cosigning key (secret). `Debug` shows only the public half.
pub struct WitnessSigner {
    public: WitnessKey,
    key: SigningKey,
}

impl fmt::Debug for WitnessSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WitnessSigner({:?})", self.public)
    }
}

impl WitnessSigner {
    /// A signer named `name` using `key`.
    pub fn new(name: impl Into<String>, key: SigningKey) -> Result<WitnessSigner, NoteError> {
        let public = WitnessKey::new(name, &key.verifying_key())?;
        Ok(WitnessSigner { public, key })
    }

    /// The public key.
    pub fn witness_key(&self) -> &WitnessKey {
        &self.public
    }

    /// Cosigns `checkpoint_text` at `timestamp` (seconds since the Unix epoch).
    pub fn cosign(&self, checkpoint_text: &str, timestamp: u64) -> Cosignature {
        let sig = self
            .key
            .sign(&cosignature_message(checkpoint_text, timestamp));
        Cosignature {
            name: self.public.name.clone(),
            key_id: self.public.key_id(),
            timestamp,
            signature: sig.to_bytes(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosign_verify_and_line_round_trip() {
        let w = WitnessSigner::new("witness.example", SigningKey::from_bytes(&[3u8; 32])).unwrap();
        let text = "origin\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
        let c = w.cosign(text, 1_700_000_000);
        assert!(w.witness_key().verify(text, &c));
        assert!(!w.witness_key().verify("origin\n2\n", &c));
        let mut later = c.clone();
        later.timestamp += 1;
        assert!(!w.witness_key().verify(text, &later));
        let parsed = Cosignature::parse_line(&c.to_line()).unwrap();
        assert_eq!(parsed, c);
        let k = WitnessKey::parse(&w.witness_key().to_string()).unwrap();
        assert_eq!(&k, w.witness_key());
        // A cosignature key string is not an Ed25519 note key and vice versa.
        assert!(crate::NoteVerifier::parse(&k.to_string()).is_err());
    }
}
