//! The key hierarchy and the AEAD seal, with no IO.
//!
//! passphrase ──Argon2id(salt, params)──▶ KEK ──wraps──▶ master key ──wraps──▶ data keys ──seal──▶ records
//!
//! Every seal is XChaCha20-Poly1305 with a fresh random 192-bit nonce and associated data that
//! binds the ciphertext to its place, so a ciphertext moved to another row, key or vault fails
//! to open.

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

/// Length of every symmetric key, in bytes.
pub const KEY_LEN: usize = 32;
/// Length of an XChaCha20-Poly1305 nonce, in bytes.
pub const NONCE_LEN: usize = 24;
/// Length of the Argon2id salt, in bytes.
pub const SALT_LEN: usize = 16;

/// A passphrase held in memory that is wiped when dropped and never printed.
#[derive(Clone)]
pub struct Passphrase(Zeroizing<String>);

impl Passphrase {
    /// Wrap a passphrase.
    pub fn new(s: impl Into<String>) -> Self {
        Self(Zeroizing::new(s.into()))
    }

    /// The passphrase bytes.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for Passphrase {
    fn from(s: String) -> Self {
        Self::new(s)
    }
}

impl From<&str> for Passphrase {
    fn from(s: &str) -> Self {
        Self::new(s)
    }
}

impl std::fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Passphrase(<redacted>)")
    }
}

/// Argon2id cost parameters, stored in the vault header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory cost in KiB.
    pub m_cost_kib: u32,
    /// Number of passes.
    pub t_cost: u32,
    /// Lanes.
    pub p_cost: u32,
}

impl KdfParams {
    /// The production minimum: 64 MiB, 3 passes (as Bitwarden and Standard Notes).
    pub const RECOMMENDED: Self = Self {
        m_cost_kib: 64 * 1024,
        t_cost: 3,
        p_cost: 1,
    };

    /// Cheap parameters for tests only: a vault made with them falls to a guessing attack.
    pub const INSECURE_FOR_TESTS: Self = Self {
        m_cost_kib: 256,
        t_cost: 1,
        p_cost: 1,
    };

    fn argon2(&self) -> Result<Argon2<'static>, argon2::Error> {
        let params = Params::new(self.m_cost_kib, self.t_cost, self.p_cost, Some(KEY_LEN))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }
}

impl Default for KdfParams {
    fn default() -> Self {
        Self::RECOMMENDED
    }
}

/// A 256-bit symmetric key, wiped on drop.
#[derive(Clone)]
pub struct SecretKey(Zeroizing<[u8; KEY_LEN]>);

impl SecretKey {
    /// A fresh random key from the operating system's generator.
    pub fn random() -> Result<Self, getrandom::Error> {
        let mut k = Zeroizing::new([0u8; KEY_LEN]);
        getrandom::getrandom(k.as_mut())?;
        Ok(Self(k))
    }

    /// Derive the key-encryption key from a passphrase.
    pub fn derive(
        passphrase: &Passphrase,
        salt: &[u8],
        params: KdfParams,
    ) -> Result<Self, argon2::Error> {
        let mut k = Zeroizing::new([0u8; KEY_LEN]);
        params
            .argon2()?
            .hash_password_into(passphrase.expose().as_bytes(), salt, k.as_mut())?;
        Ok(Self(k))
    }

    fn from_slice(bytes: &[u8]) -> Option<Self> {
        let arr: [u8; KEY_LEN] = bytes.try_into().ok()?;
        Some(Self(Zeroizing::new(arr)))
    }

    /// An AEAD instance under this key (the instance wipes its key copy on drop).
    pub fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(self.0.as_ref().into())
    }

    /// The raw bytes (for wrapping under another key).
    fn bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

/// The AEAD failed: wrong key, or the ciphertext, nonce or associated data changed (or, when
/// sealing, a message beyond the cipher's limit of 256 GiB).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AeadError;

/// A random nonce.
pub fn random_nonce() -> Result<[u8; NONCE_LEN], getrandom::Error> {
    let mut n = [0u8; NONCE_LEN];
    getrandom::getrandom(&mut n)?;
    Ok(n)
}

/// Seal `plaintext` under `cipher` with `nonce` and associated data `aad`.
pub fn seal(
    cipher: &XChaCha20Poly1305,
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, AeadError> {
    cipher
        .encrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| AeadError)
}

/// Open a sealed value; the plaintext is wiped when dropped.
pub fn open(
    cipher: &XChaCha20Poly1305,
    nonce: &[u8],
    aad: &[u8],
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>, AeadError> {
    if nonce.len() != NONCE_LEN {
        return Err(AeadError);
    }
    cipher
        .decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad,
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| AeadError)
}

/// Wrap (seal) a key under another key.
pub fn wrap_key(
    kek: &SecretKey,
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    key: &SecretKey,
) -> Result<Vec<u8>, AeadError> {
    seal(&kek.cipher(), nonce, aad, key.bytes())
}

/// Unwrap a key sealed by [`wrap_key`].
pub fn unwrap_key(
    kek: &SecretKey,
    nonce: &[u8],
    aad: &[u8],
    wrapped: &[u8],
) -> Result<SecretKey, AeadError> {
    let bytes = open(&kek.cipher(), nonce, aad, wrapped)?;
    SecretKey::from_slice(&bytes).ok_or(AeadError)
}

/// Associated data: a domain label then length-prefixed fields, so no two field lists
/// encode to the same bytes.
pub fn aad(label: &str, fields: &[&[u8]]) -> Vec<u8> {
    let mut out =
        Vec::with_capacity(label.len() + 1 + fields.iter().map(|f| f.len() + 4).sum::<usize>());
    out.extend_from_slice(label.as_bytes());
    out.push(0);
    for f in fields {
        out.extend_from_slice(&(f.len() as u32).to_be_bytes());
        out.extend_from_slice(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key() -> SecretKey {
        SecretKey::random().unwrap()
    }

    proptest! {
        #[test]
        fn seal_open_round_trip(pt in proptest::collection::vec(any::<u8>(), 0..4096), ad in proptest::collection::vec(any::<u8>(), 0..64)) {
            let k = key();
            let n = random_nonce().unwrap();
            let ct = seal(&k.cipher(), &n, &ad, &pt).unwrap();
            prop_assert_eq!(ct.len(), pt.len() + 16);
            let back = open(&k.cipher(), &n, &ad, &ct).unwrap();
            prop_assert_eq!(&back[..], &pt[..]);
        }

        #[test]
        fn any_flipped_bit_fails(pt in proptest::collection::vec(any::<u8>(), 1..512), which in any::<prop::sample::Index>(), bit in 0u8..8) {
            let k = key();
            let n = random_nonce().unwrap();
            let mut ct = seal(&k.cipher(), &n, b"ad", &pt).unwrap();
            let i = which.index(ct.len());
            ct[i] ^= 1 << bit;
            prop_assert!(open(&k.cipher(), &n, b"ad", &ct).is_err());
        }

        #[test]
        fn key_wrap_round_trip(ad in proptest::collection::vec(any::<u8>(), 0..64)) {
            let kek = key();
            let k = key();
            let n = random_nonce().unwrap();
            let w = wrap_key(&kek, &n, &ad, &k).unwrap();
            let back = unwrap_key(&kek, &n, &ad, &w).unwrap();
            prop_assert_eq!(back.bytes(), k.bytes());
            // Another KEK or other associated data does not unwrap it.
            prop_assert!(unwrap_key(&key(), &n, &ad, &w).is_err());
            let mut other = ad.clone();
            other.push(1);
            prop_assert!(unwrap_key(&kek, &n, &other, &w).is_err());
        }

        #[test]
        fn aad_is_injective(a in "[a-z]{0,5}", b in "[a-z]{0,5}", c in "[a-z]{0,5}", d in "[a-z]{0,5}") {
            prop_assume!((a.as_str(), b.as_str()) != (c.as_str(), d.as_str()));
            prop_assert_ne!(aad("l", &[a.as_bytes(), b.as_bytes()]), aad("l", &[c.as_bytes(), d.as_bytes()]));
        }
    }

    #[test]
    fn derive_is_deterministic_and_salted() {
        let p = Passphrase::new("correct horse");
        let a = SecretKey::derive(&p, b"0123456789abcdef", KdfParams::INSECURE_FOR_TESTS).unwrap();
        let b = SecretKey::derive(&p, b"0123456789abcdef", KdfParams::INSECURE_FOR_TESTS).unwrap();
        let c = SecretKey::derive(&p, b"fedcba9876543210", KdfParams::INSECURE_FOR_TESTS).unwrap();
        assert_eq!(a.bytes(), b.bytes());
        assert_ne!(a.bytes(), c.bytes());
    }

    #[test]
    fn secrets_do_not_print() {
        assert!(!format!("{:?}", Passphrase::new("hunter2hunter2")).contains("hunter2"));
        assert!(format!("{:?}", key()).contains("redacted"));
    }

    #[test]
    fn short_nonce_is_refused_not_panicking() {
        let k = key();
        assert_eq!(
            open(&k.cipher(), &[0u8; 3], b"", b"whatever"),
            Err(AeadError)
        );
    }
}
