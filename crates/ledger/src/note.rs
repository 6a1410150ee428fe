//! C2SP `signed-note`: a UTF-8 text followed by a blank line and signature lines
//! `— <key name> <base64(key id ‖ signature)>`, and the Ed25519 note keys (type 0x01).
//!
//! - key id (Ed25519) = `SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[:4]`
//! - verifier key string = `<name>+<hex key id>+<base64(0x01 ‖ public key)>`
//!
//! [`Note::parse`] takes arbitrary bytes and never panics: at most [`MAX_NOTE_BYTES`] bytes and
//! [`MAX_SIGNATURES`] signature lines.

use std::fmt;

use base64::{engine::general_purpose::STANDARD as B64, Engine};
use ed25519_dalek::{Signer as _, SigningKey, Verifier as _, VerifyingKey};
use sha2::{Digest, Sha256};

/// Largest note accepted by [`Note::parse`] (text and signatures together).
pub const MAX_NOTE_BYTES: usize = 64 * 1024;
/// Most signature lines accepted on one note.
pub const MAX_SIGNATURES: usize = 100;
/// Longest key name accepted.
pub const MAX_KEY_NAME: usize = 256;

/// Key type byte of an Ed25519 signed-note key.
pub const ALG_ED25519: u8 = 0x01;

const SIG_PREFIX: &str = "\u{2014} ";

/// Why a note, key or signature line was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NoteError {
    /// The bytes are not a well-formed signed note.
    #[error("malformed signed note: {0}")]
    Malformed(&'static str),
    /// A key name is empty, too long, or contains a space or `+`.
    #[error(
        "invalid key name {0:?}: it must be non-empty, at most 256 bytes, without spaces or '+'"
    )]
    InvalidKeyName(String),
    /// A verifier key string could not be parsed.
    #[error("malformed verifier key: {0}")]
    MalformedKey(&'static str),
    /// A verifier key string names a key id that does not match its key.
    #[error("verifier key id does not match the key it names")]
    KeyIdMismatch,
    /// No signature on the note verified under the given key.
    #[error("the note carries no valid signature by {name}+{key_id}")]
    NotSigned {
        /// The key name looked for.
        name: String,
        /// The key id looked for, in hex.
        key_id: String,
    },
    /// A signature by the given key is present but does not verify: the note was altered
    /// or forged.
    #[error("a signature by {name}+{key_id} does not verify: the note was altered or forged")]
    BadSignature {
        /// The key name.
        name: String,
        /// The key id, in hex.
        key_id: String,
    },
}

/// Whether `name` is a valid signed-note key name.
pub fn is_valid_key_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_KEY_NAME
        && !name.chars().any(|c| c.is_whitespace() || c == '+')
}

pub(crate) fn check_key_name(name: &str) -> Result<(), NoteError> {
    if is_valid_key_name(name) {
        Ok(())
    } else {
        Err(NoteError::InvalidKeyName(name.to_string()))
    }
}

/// The 4-byte key id: `SHA-256(name ‖ 0x0A ‖ key type ‖ public key)[:4]`.
pub fn key_id(name: &str, key_type: u8, public_key: &[u8; 32]) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', key_type]);
    h.update(public_key);
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

pub(crate) fn hex4(id: &[u8; 4]) -> String {
    id.iter().map(|b| format!("{b:02x}")).collect()
}

/// Parses `<name>+<hex key id>+<base64(type ‖ key)>` for a given key type.
pub(crate) fn parse_vkey(s: &str, key_type: u8) -> Result<(String, VerifyingKey), NoteError> {
    let mut parts = s.splitn(3, '+');
    let (Some(name), Some(id_hex), Some(key_b64)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(NoteError::MalformedKey("expected <name>+<key id>+<key>"));
    };
    check_key_name(name)?;
    if id_hex.len() != 8 || !id_hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(NoteError::MalformedKey("key id must be 8 hex digits"));
    }
    let id = u32::from_str_radix(id_hex, 16)
        .map_err(|_| NoteError::MalformedKey("key id must be 8 hex digits"))?
        .to_be_bytes();
    let raw = B64
        .decode(key_b64)
        .map_err(|_| NoteError::MalformedKey("key is not valid base64"))?;
    let Some((&alg, key)) = raw.split_first() else {
        return Err(NoteError::MalformedKey("key is empty"));
    };
    if alg != key_type {
        return Err(NoteError::MalformedKey("unexpected key type"));
    }
    let key: [u8; 32] = key
        .try_into()
        .map_err(|_| NoteError::MalformedKey("an Ed25519 key is 32 bytes"))?;
    let vk = VerifyingKey::from_bytes(&key)
        .map_err(|_| NoteError::MalformedKey("not a valid Ed25519 public key"))?;
    if key_id(name, key_type, &key) != id {
        return Err(NoteError::KeyIdMismatch);
    }
    Ok((name.to_string(), vk))
}

pub(crate) fn format_vkey(name: &str, key_type: u8, key: &VerifyingKey) -> String {
    let mut raw = Vec::with_capacity(33);
    raw.push(key_type);
    raw.extend_from_slice(key.as_bytes());
    format!(
        "{name}+{}+{}",
        hex4(&key_id(name, key_type, key.as_bytes())),
        B64.encode(raw)
    )
}

/// One signature line of a note: key name, key id and the signature bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct NoteSignature {
    /// The signer's key name.
    pub name: String,
    /// The signer's 4-byte key id.
    pub key_id: [u8; 4],
    /// The signature bytes (64 for Ed25519, 72 for a cosignature/v1).
    pub signature: Vec<u8>,
}

impl fmt::Debug for NoteSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "NoteSignature({} {} {} bytes)",
            self.name,
            hex4(&self.key_id),
            self.signature.len()
        )
    }
}

impl NoteSignature {
    /// The signature line, `— <name> <base64(key id ‖ signature)>\n`.
    pub fn to_line(&self) -> String {
        let mut raw = Vec::with_capacity(4 + self.signature.len());
        raw.extend_from_slice(&self.key_id);
        raw.extend_from_slice(&self.signature);
        format!("{SIG_PREFIX}{} {}\n", self.name, B64.encode(raw))
    }

    /// Parses one signature line (with or without its trailing newline).
    pub fn parse_line(line: &str) -> Result<NoteSignature, NoteError> {
        let line = line.strip_suffix('\n').unwrap_or(line);
        let rest = line.strip_prefix(SIG_PREFIX).ok_or(NoteError::Malformed(
            "a signature line must start with '— '",
        ))?;
        let (name, b64) = rest.split_once(' ').ok_or(NoteError::Malformed(
            "a signature line is '— <name> <base64>'",
        ))?;
        check_key_name(name)?;
        let raw = B64
            .decode(b64)
            .map_err(|_| NoteError::Malformed("signature is not valid base64"))?;
        if raw.len() < 5 {
            return Err(NoteError::Malformed("signature too short"));
        }
        let (id, sig) = raw.split_at(4);
        Ok(NoteSignature {
            name: name.to_string(),
            key_id: [id[0], id[1], id[2], id[3]],
            signature: sig.to_vec(),
        })
    }
}

/// A signed note: its text (ending in a newline) and its signatures, in order.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Note {
    text: String,
    signatures: Vec<NoteSignature>,
}

fn check_text(text: &str) -> Result<(), NoteError> {
    if text.is_empty() || !text.ends_with('\n') {
        return Err(NoteError::Malformed("the text must end with a newline"));
    }
    if text.chars().any(|c| c < ' ' && c != '\n') {
        return Err(NoteError::Malformed(
            "the text contains a control character other than newline",
        ));
    }
    if text.len() > MAX_NOTE_BYTES {
        return Err(NoteError::Malformed("the note is too large"));
    }
    Ok(())
}

impl Note {
    /// An unsigned note with the given text (UTF-8, no control characters but newlines,
    /// ending in a newline).
    pub fn new(text: impl Into<String>) -> Result<Note, NoteError> {
        let text = text.into();
        check_text(&text)?;
        Ok(Note {
            text,
            signatures: Vec::new(),
        })
    }

    /// Parses a signed note from arbitrary bytes; signatures are not verified here.
    pub fn parse(bytes: &[u8]) -> Result<Note, NoteError> {
        if bytes.len() > MAX_NOTE_BYTES {
            return Err(NoteError::Malformed("the note is too large"));
        }
        let s = std::str::from_utf8(bytes).map_err(|_| NoteError::Malformed("not UTF-8"))?;
        if s.chars().any(|c| c < ' ' && c != '\n') {
            return Err(NoteError::Malformed(
                "the note contains a control character other than newline",
            ));
        }
        let (text, sigs) = s
            .rsplit_once("\n\n")
            .ok_or(NoteError::Malformed("no blank line before the signatures"))?;
        let sigs = sigs.strip_suffix('\n').ok_or(NoteError::Malformed(
            "the last signature line must end with a newline",
        ))?;
        let mut signatures = Vec::new();
        for line in sigs.split('\n') {
            if signatures.len() == MAX_SIGNATURES {
                return Err(NoteError::Malformed("too many signatures"));
            }
            signatures.push(NoteSignature::parse_line(line)?);
        }
        let text = format!("{text}\n");
        check_text(&text)?;
        Ok(Note { text, signatures })
    }

    /// The signed text, ending in a newline.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The signatures, in the order they appear.
    pub fn signatures(&self) -> &[NoteSignature] {
        &self.signatures
    }

    /// Adds a signature line, replacing any earlier one with the same name and key id.
    pub fn add_signature(&mut self, sig: NoteSignature) {
        self.signatures
            .retain(|s| !(s.name == sig.name && s.key_id == sig.key_id));
        self.signatures.push(sig);
    }

    /// The note as bytes: text, blank line, signature lines.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.to_string().into_bytes()
    }
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)?;
        f.write_str("\n")?;
        for s in &self.signatures {
            f.write_str(&s.to_line())?;
        }
        Ok(())
    }
}

/// An Ed25519 signed-note signing key with its name (a device's log key).
pub struct NoteSigner {
    name: String,
    key: SigningKey,
}

impl fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NoteSigner({})", self.verifier())
    }
}

impl NoteSigner {
    /// A signer named `name` (a valid key name) using `key`.
    pub fn new(name: impl Into<String>, key: SigningKey) -> Result<NoteSigner, NoteError> {
        let name = name.into();
        check_key_name(&name)?;
        Ok(NoteSigner { name, key })
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The matching verifier.
    pub fn verifier(&self) -> NoteVerifier {
        NoteVerifier {
            name: self.name.clone(),
            key: self.key.verifying_key(),
        }
    }

    /// Signs `text` (the note's text) and returns the signature line.
    pub fn sign_text(&self, text: &str) -> NoteSignature {
        let sig = self.key.sign(text.as_bytes());
        NoteSignature {
            name: self.name.clone(),
            key_id: key_id(&self.name, ALG_ED25519, self.key.verifying_key().as_bytes()),
            signature: sig.to_bytes().to_vec(),
        }
    }

    /// Adds this key's signature to `note`.
    pub fn sign(&self, note: &mut Note) {
        let sig = self.sign_text(note.text());
        note.add_signature(sig);
    }
}

/// An Ed25519 signed-note verifier: key name and public key.
#[derive(Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    key: VerifyingKey,
}

impl fmt::Debug for NoteVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NoteVerifier({self})")
    }
}

impl fmt::Display for NoteVerifier {
    /// The verifier key string `<name>+<hex key id>+<base64(0x01 ‖ key)>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_vkey(&self.name, ALG_ED25519, &self.key))
    }
}

impl NoteVerifier {
    /// A verifier for `key` under `name`.
    pub fn new(name: impl Into<String>, key: VerifyingKey) -> Result<NoteVerifier, NoteError> {
        let name = name.into();
        check_key_name(&name)?;
        Ok(NoteVerifier { name, key })
    }

    /// Parses a verifier key string `<name>+<hex key id>+<base64(0x01 ‖ key)>`.
    pub fn parse(vkey: &str) -> Result<NoteVerifier, NoteError> {
        let (name, key) = parse_vkey(vkey, ALG_ED25519)?;
        Ok(NoteVerifier { name, key })
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The Ed25519 public key.
    pub fn key(&self) -> &VerifyingKey {
        &self.key
    }

    /// The 4-byte key id.
    pub fn key_id(&self) -> [u8; 4] {
        key_id(&self.name, ALG_ED25519, self.key.as_bytes())
    }

    /// Whether `sig` is this key's valid signature of `text`.
    pub fn verify_signature(&self, text: &str, sig: &NoteSignature) -> bool {
        if sig.name != self.name || sig.key_id != self.key_id() {
            return false;
        }
        let Ok(bytes) = <[u8; 64]>::try_from(sig.signature.as_slice()) else {
            return false;
        };
        self.key
            .verify(
                text.as_bytes(),
                &ed25519_dalek::Signature::from_bytes(&bytes),
            )
            .is_ok()
    }

    /// Checks that `note` carries this key's signature and that every signature line
    /// claiming to be by this key verifies (other keys' signatures are ignored).
    pub fn verify_note(&self, note: &Note) -> Result<(), NoteError> {
        let id = self.key_id();
        let mut found = false;
        for s in note.signatures() {
            if s.name == self.name && s.key_id == id {
                if !self.verify_signature(note.text(), s) {
                    return Err(NoteError::BadSignature {
                        name: self.name.clone(),
                        key_id: hex4(&id),
                    });
                }
                found = true;
            }
        }
        if found {
            Ok(())
        } else {
            Err(NoteError::NotSigned {
                name: self.name.clone(),
                key_id: hex4(&id),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> NoteSigner {
        NoteSigner::new("device.example/a", SigningKey::from_bytes(&[7u8; 32])).unwrap()
    }

    #[test]
    fn sign_parse_verify_round_trip() {
        let s = signer();
        let mut note = Note::new("hello\nworld\n").unwrap();
        s.sign(&mut note);
        let bytes = note.to_bytes();
        let parsed = Note::parse(&bytes).unwrap();
        assert_eq!(parsed, note);
        s.verifier().verify_note(&parsed).unwrap();
        let v = NoteVerifier::parse(&s.verifier().to_string()).unwrap();
        assert_eq!(v, s.verifier());
    }

    #[test]
    fn altered_text_is_a_bad_signature() {
        let s = signer();
        let mut note = Note::new("hello\n").unwrap();
        s.sign(&mut note);
        let tampered = String::from_utf8(note.to_bytes())
            .unwrap()
            .replace("hello", "hallo");
        let parsed = Note::parse(tampered.as_bytes()).unwrap();
        assert!(matches!(
            s.verifier().verify_note(&parsed),
            Err(NoteError::BadSignature { .. })
        ));
    }

    #[test]
    fn malformed_notes_are_refused() {
        for bad in [
            &b""[..],
            b"hello\n",
            b"hello\n\n",
            b"hello\n\n\xe2\x80\x94 a AAAA\n",
            b"hello\n\n\xe2\x80\x94 a\n",
            b"hello\n\n\xe2\x80\x94 a AAAAAAAA",
            b"he\tllo\n\n\xe2\x80\x94 a AAAAAAAA\n",
        ] {
            assert!(Note::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn key_strings_with_a_wrong_id_are_refused() {
        let good = signer().verifier().to_string();
        let (name, rest) = good.split_once('+').unwrap();
        let (_, key) = rest.split_once('+').unwrap();
        assert_eq!(
            NoteVerifier::parse(&format!("{name}+00000000+{key}")),
            Err(NoteError::KeyIdMismatch)
        );
        assert!(NoteVerifier::parse("a+b").is_err());
        assert!(NoteVerifier::parse("a b+00000000+AQ==").is_err());
    }
}
