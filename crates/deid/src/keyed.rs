//! The per-export secret and what is derived from it: pseudonyms and per-patient date offsets.

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

const BLOCK: usize = 64;

/// HMAC-SHA-256 (RFC 2104) over length-prefixed parts, so `("ab", "c")` and `("a", "bc")` differ.
pub(crate) fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut k = Zeroizing::new([0u8; BLOCK]);
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    let ipad: Zeroizing<Vec<u8>> = Zeroizing::new(k.iter().map(|b| b ^ 0x36).collect());
    inner.update(&*ipad);
    for p in parts {
        inner.update((p.len() as u64).to_be_bytes());
        inner.update(p);
    }
    let inner = inner.finalize();
    let opad: Zeroizing<Vec<u8>> = Zeroizing::new(k.iter().map(|b| b ^ 0x5c).collect());
    let mut outer = Sha256::new();
    outer.update(&*opad);
    outer.update(inner);
    outer.finalize().into()
}

/// The secret of one export: pseudonyms and date offsets are keyed by it, so they cannot be
/// reversed or recomputed without it. Wiped on drop, never shown by `Debug`.
#[derive(Clone)]
pub struct ExportSecret(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for ExportSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ExportSecret(..)")
    }
}

impl ExportSecret {
    /// A secret from 32 random bytes (the caller draws them; this crate does no IO).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    fn mac(&self, label: &str, value: &str) -> [u8; 32] {
        hmac_sha256(&*self.0, &[label.as_bytes(), value.as_bytes()])
    }

    /// A patient's pseudonymous id: `p-` and 32 hex digits of HMAC-SHA-256(secret, id).
    pub fn pseudonym(&self, patient_id: &str) -> String {
        let mac = self.mac("hearth-deid/patient/1", patient_id);
        format!("p-{}", hex32(&mac[..16]))
    }

    /// A record's pseudonymous id (`r-` …), so exported resources cannot be matched to the vault.
    pub fn record_pseudonym(&self, record_id: &str) -> String {
        let mac = self.mac("hearth-deid/record/1", record_id);
        format!("r-{}", hex32(&mac[..16]))
    }

    /// A patient's date offset in days: a whole number of weeks (so weekdays stay true), never
    /// zero, at most `max_weeks` either way.
    pub fn date_offset_days(&self, patient_id: &str, max_weeks: u16) -> i64 {
        let max = i64::from(max_weeks.max(1));
        let mac = self.mac("hearth-deid/date-offset/1", patient_id);
        let mut n = [0u8; 8];
        n.copy_from_slice(&mac[..8]);
        let n = u64::from_be_bytes(n);
        let weeks = (n % max as u64) as i64 + 1;
        let sign = if n & (1 << 63) == 0 { 1 } else { -1 };
        sign * weeks * 7
    }
}

fn hex32(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 15)]));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain_hmac(key: &[u8], data: &[u8]) -> String {
        // RFC 4231 vectors use an unprefixed message: rebuild that form here.
        let mut k = [0u8; BLOCK];
        if key.len() > BLOCK {
            k[..32].copy_from_slice(&Sha256::digest(key));
        } else {
            k[..key.len()].copy_from_slice(key);
        }
        let mut inner = Sha256::new();
        inner.update(k.map(|b| b ^ 0x36));
        inner.update(data);
        let mut outer = Sha256::new();
        outer.update(k.map(|b| b ^ 0x5c));
        outer.update(inner.finalize());
        hex32(&outer.finalize())
    }

    #[test]
    fn hmac_construction_matches_rfc_4231_case_2() {
        assert_eq!(
            plain_hmac(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // The crate's form is the same construction over a length-prefixed message.
        let mut msg = (28u64).to_be_bytes().to_vec();
        msg.extend_from_slice(b"what do ya want for nothing?");
        assert_eq!(
            hex32(&hmac_sha256(b"Jefe", &[b"what do ya want for nothing?"])),
            plain_hmac(b"Jefe", &msg)
        );
    }

    #[test]
    fn offsets_are_whole_weeks_within_range_never_zero_and_keyed() {
        let a = ExportSecret::from_bytes([1; 32]);
        let b = ExportSecret::from_bytes([2; 32]);
        let mut differ = 0;
        for i in 0..200 {
            let id = format!("patient-{i}");
            let d = a.date_offset_days(&id, 26);
            assert!(d != 0 && d % 7 == 0 && d.abs() <= 26 * 7, "{d}");
            assert_eq!(d, a.date_offset_days(&id, 26));
            if d != b.date_offset_days(&id, 26) {
                differ += 1;
            }
        }
        assert!(differ > 150);
        assert_ne!(a.pseudonym("x"), b.pseudonym("x"));
        assert_ne!(a.pseudonym("x"), a.record_pseudonym("x"));
        assert_eq!(a.pseudonym("x").len(), 34);
        assert_eq!(format!("{a:?}"), "ExportSecret(..)");
    }
}
