//! Archives sealed to a recipient for sending: the [age](https://age-encryption.org/v1)
//! format with X25519 recipients (`age1…`), via the `age` crate. The signed archive inside is
//! unchanged, so after decryption `verify` checks it exactly as before.

use std::io::Read as _;
use std::str::FromStr as _;

use age::secrecy::ExposeSecret as _;

/// The first line of every age file.
const AGE_MAGIC: &[u8] = b"age-encryption.org/v1\n";

/// Sealing or opening failed. Each says what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecipientError {
    /// No recipient given.
    #[error("name at least one recipient (an age public key, age1…)")]
    NoRecipient,
    /// A recipient that is not an age X25519 public key.
    #[error("{0:?} is not an age recipient: it starts with age1 (ask the recipient for the public key that `age-keygen` or `hearth recipient new` printed)")]
    BadRecipient(String),
    /// The identity file holds no usable key.
    #[error("the identity file holds no age secret key (AGE-SECRET-KEY-1…): {0}")]
    BadIdentity(String),
    /// None of the identities can open the archive, or it is damaged.
    #[error("this archive cannot be opened with that identity: {0}; use the secret key of a recipient it was sealed to")]
    CannotOpen(String),
    /// Encryption failed (not expected).
    #[error("could not seal the archive: {0}")]
    Seal(String),
}

/// Whether `bytes` are an age file (a sealed archive).
pub fn is_sealed(bytes: &[u8]) -> bool {
    bytes.starts_with(AGE_MAGIC)
}

/// Encrypt `archive` to every recipient (`age1…` public keys).
pub fn seal_to(recipients: &[String], archive: &[u8]) -> Result<Vec<u8>, RecipientError> {
    if recipients.is_empty() {
        return Err(RecipientError::NoRecipient);
    }
    let parsed = recipients
        .iter()
        .map(|r| {
            age::x25519::Recipient::from_str(r.trim())
                .map_err(|_| RecipientError::BadRecipient(r.clone()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let encryptor =
        age::Encryptor::with_recipients(parsed.iter().map(|r| r as &dyn age::Recipient))
            .map_err(|e| RecipientError::Seal(e.to_string()))?;
    let mut out = Vec::with_capacity(archive.len() + 512);
    let mut w = encryptor
        .wrap_output(&mut out)
        .map_err(|e| RecipientError::Seal(e.to_string()))?;
    std::io::Write::write_all(&mut w, archive).map_err(|e| RecipientError::Seal(e.to_string()))?;
    w.finish()
        .map_err(|e| RecipientError::Seal(e.to_string()))?;
    Ok(out)
}

/// Decrypt a sealed archive with the secret keys in an age identity file's text.
pub fn open_with(identity_file: &str, sealed: &[u8]) -> Result<Vec<u8>, RecipientError> {
    let identities = age::IdentityFile::from_buffer(identity_file.as_bytes())
        .map_err(|e| RecipientError::BadIdentity(e.to_string()))?
        .into_identities()
        .map_err(|e| RecipientError::BadIdentity(e.to_string()))?;
    if identities.is_empty() {
        return Err(RecipientError::BadIdentity("it is empty".into()));
    }
    let decryptor =
        age::Decryptor::new(sealed).map_err(|e| RecipientError::CannotOpen(e.to_string()))?;
    let mut reader = decryptor
        .decrypt(identities.iter().map(|i| i.as_ref() as &dyn age::Identity))
        .map_err(|e| RecipientError::CannotOpen(e.to_string()))?;
    let mut out = Vec::new();
    reader
        .read_to_end(&mut out)
        .map_err(|e| RecipientError::CannotOpen(e.to_string()))?;
    Ok(out)
}

/// A new X25519 identity: (identity file text with its secret key, the public recipient).
/// The caller writes the file where only its owner can read it.
pub fn new_identity() -> (age::secrecy::SecretString, String) {
    let id = age::x25519::Identity::generate();
    let public = id.to_public().to_string();
    let text = format!(
        "# Hearth archive recipient key; keep this file secret.\n# public key: {public}\n{}\n",
        id.to_string().expose_secret()
    );
    (age::secrecy::SecretString::from(text), public)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_archives_open_only_with_a_recipients_key() {
        let (alice_file, alice) = new_identity();
        let (bob_file, _) = new_identity();
        let archive = b"HEARTH-ARCHIVE payload".to_vec();
        let sealed = seal_to(std::slice::from_ref(&alice), &archive).unwrap();
        assert!(is_sealed(&sealed) && !is_sealed(&archive));
        assert!(!sealed
            .windows(archive.len())
            .any(|w| w == archive.as_slice()));
        assert_eq!(
            open_with(alice_file.expose_secret(), &sealed).unwrap(),
            archive
        );
        assert!(matches!(
            open_with(bob_file.expose_secret(), &sealed),
            Err(RecipientError::CannotOpen(_))
        ));
        // Any flipped byte of the payload is refused (age authenticates every chunk).
        let mut bad = sealed.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(open_with(alice_file.expose_secret(), &bad).is_err());
    }

    #[test]
    fn bad_recipients_and_identities_say_what_they_are() {
        assert!(matches!(
            seal_to(&[], b"x"),
            Err(RecipientError::NoRecipient)
        ));
        assert!(matches!(
            seal_to(&["ssh-ed25519 AAAA".into()], b"x"),
            Err(RecipientError::BadRecipient(_))
        ));
        assert!(matches!(
            open_with("hello", b"age-encryption.org/v1\n"),
            Err(RecipientError::BadIdentity(_))
        ));
    }
}
