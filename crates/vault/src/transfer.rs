//! The transfer form of an attachment: its content sealed under a key of its own, so the bytes
//! that travel between devices (and wait on disk in a transfer cache) are ciphertext.
//!
//! RustCrypto's STREAM construction (`aead::stream`, big-endian 32-bit counter with a last-chunk
//! flag) over XChaCha20-Poly1305, in 64 KiB chunks: chunks cannot be reordered, dropped from the
//! end or appended to. The key is random and belongs to one immutable content (attachments never
//! change), so the nonce prefix is fixed and sealing the same content twice gives the same
//! bytes: any device holding the content can serve the same BLAKE3-addressed blob.
//!
//! The key travels inside the attachment's record, which only devices that consent lets read
//! the attachment receive; each device keeps the content sealed in its own vault.

use std::io::{Read, Write};

use chacha20poly1305::aead::stream::{DecryptorBE32, EncryptorBE32};
use chacha20poly1305::aead::KeyInit;
use chacha20poly1305::XChaCha20Poly1305;
use zeroize::Zeroizing;

/// Plaintext bytes per sealed chunk.
pub const TRANSFER_CHUNK: usize = 64 * 1024;
/// Bytes each chunk grows by when sealed (the Poly1305 tag).
const TAG: usize = 16;
/// STREAM's nonce prefix for a 24-byte nonce: 24 − 4 (counter) − 1 (last flag).
const PREFIX: [u8; 19] = [0; 19];

/// The key of one attachment's transfer form.
#[derive(Clone)]
pub struct TransferKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for TransferKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TransferKey(…)")
    }
}

impl TransferKey {
    /// A new random key.
    pub fn random() -> std::io::Result<Self> {
        let mut k = Zeroizing::new([0u8; 32]);
        getrandom::getrandom(&mut k[..]).map_err(|e| std::io::Error::other(e.to_string()))?;
        Ok(Self(k))
    }

    /// Read a key written by [`TransferKey::to_hex`].
    pub fn from_hex(s: &str) -> Option<Self> {
        let mut k = Zeroizing::new([0u8; 32]);
        hex::decode_to_slice(s, &mut k[..]).ok()?;
        Some(Self(k))
    }

    /// The key as hex (it is stored inside the sealed attachment record).
    pub fn to_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(hex::encode(&self.0[..]))
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&*self.0).into())
    }
}

/// Size of the transfer form of `plaintext` bytes.
pub fn sealed_len(plaintext: u64) -> u64 {
    // The last chunk may be full; an empty content is one empty chunk.
    let chunks = plaintext.div_ceil(TRANSFER_CHUNK as u64).max(1);
    plaintext + chunks * TAG as u64
}

fn broken(what: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string())
}

/// Seals what is written to it and writes the transfer form to `inner`; call
/// [`Sealer::finish`] at the end (a sealed stream without its last chunk does not open).
pub struct Sealer<W: Write> {
    inner: W,
    enc: Option<EncryptorBE32<XChaCha20Poly1305>>,
    buf: Vec<u8>,
    written: u64,
}

impl<W: Write> Sealer<W> {
    /// Seal into `inner` under `key`.
    pub fn new(key: &TransferKey, inner: W) -> Self {
        Self {
            inner,
            enc: Some(EncryptorBE32::from_aead(key.cipher(), (&PREFIX).into())),
            buf: Vec::with_capacity(TRANSFER_CHUNK),
            written: 0,
        }
    }

    fn emit(&mut self, ct: &[u8]) -> std::io::Result<()> {
        self.written += ct.len() as u64;
        self.inner.write_all(ct)
    }

    /// Seal the last chunk; returns the inner writer and the sealed size.
    pub fn finish(mut self) -> std::io::Result<(W, u64)> {
        let enc = self.enc.take().ok_or_else(|| broken("already finished"))?;
        let ct = enc
            .encrypt_last(&self.buf[..])
            .map_err(|_| broken("sealing failed"))?;
        self.emit(&ct)?;
        self.inner.flush()?;
        Ok((self.inner, self.written))
    }
}

impl<W: Write> Write for Sealer<W> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let mut rest = data;
        while !rest.is_empty() {
            // A full buffer is sealed only once more data comes: the last chunk is marked.
            if self.buf.len() == TRANSFER_CHUNK {
                let enc = self
                    .enc
                    .as_mut()
                    .ok_or_else(|| broken("already finished"))?;
                let ct = enc
                    .encrypt_next(&self.buf[..])
                    .map_err(|_| broken("sealing failed"))?;
                self.buf.clear();
                self.emit(&ct)?;
            }
            let take = rest.len().min(TRANSFER_CHUNK - self.buf.len());
            self.buf.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Reads a transfer form from `inner` and yields its plaintext, checking every chunk; a
/// chunk that does not authenticate, or a stream cut short, is an `InvalidData` error.
pub struct Opener<R: Read> {
    inner: R,
    dec: Option<DecryptorBE32<XChaCha20Poly1305>>,
    /// Sealed bytes read ahead (up to two chunks: the last one is known only by what follows).
    sealed: Vec<u8>,
    plain: Vec<u8>,
    pos: usize,
    eof: bool,
}

impl<R: Read> Opener<R> {
    /// Open what `inner` yields under `key`.
    pub fn new(key: &TransferKey, inner: R) -> Self {
        Self {
            inner,
            dec: Some(DecryptorBE32::from_aead(key.cipher(), (&PREFIX).into())),
            sealed: Vec::with_capacity(2 * (TRANSFER_CHUNK + TAG)),
            plain: Vec::new(),
            pos: 0,
            eof: false,
        }
    }

    /// Read until more than one sealed chunk is buffered or the input ends.
    fn fill(&mut self) -> std::io::Result<()> {
        let want = TRANSFER_CHUNK + TAG + 1;
        let mut tmp = [0u8; 16 * 1024];
        while !self.eof && self.sealed.len() < want {
            match self.inner.read(&mut tmp) {
                Ok(0) => self.eof = true,
                Ok(n) => self.sealed.extend_from_slice(&tmp[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn next_chunk(&mut self) -> std::io::Result<()> {
        self.fill()?;
        let full = TRANSFER_CHUNK + TAG;
        if self.sealed.len() > full {
            let dec = self
                .dec
                .as_mut()
                .ok_or_else(|| broken("read past the end"))?;
            self.plain = dec
                .decrypt_next(&self.sealed[..full])
                .map_err(|_| broken("a chunk of the file does not authenticate"))?;
            self.sealed.drain(..full);
        } else {
            let dec = self.dec.take().ok_or_else(|| broken("read past the end"))?;
            self.plain = dec
                .decrypt_last(&self.sealed[..])
                .map_err(|_| broken("the file's last chunk does not authenticate (cut short?)"))?;
            self.sealed.clear();
        }
        self.pos = 0;
        Ok(())
    }
}

impl<R: Read> Read for Opener<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.pos == self.plain.len() {
            if self.dec.is_none() {
                return Ok(0);
            }
            self.next_chunk()?;
        }
        let n = out.len().min(self.plain.len() - self.pos);
        out[..n].copy_from_slice(&self.plain[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seal(key: &TransferKey, data: &[u8]) -> Vec<u8> {
        let mut s = Sealer::new(key, Vec::new());
        // Odd write sizes cross chunk boundaries.
        for part in data.chunks(7_777) {
            s.write_all(part).unwrap();
        }
        let (out, n) = s.finish().unwrap();
        assert_eq!(n, out.len() as u64);
        out
    }

    fn open(key: &TransferKey, sealed: &[u8]) -> std::io::Result<Vec<u8>> {
        let mut out = Vec::new();
        Opener::new(key, sealed).read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn round_trips_at_every_chunk_boundary_and_is_deterministic() {
        let key = TransferKey::random().unwrap();
        for len in [
            0,
            1,
            TRANSFER_CHUNK - 1,
            TRANSFER_CHUNK,
            TRANSFER_CHUNK + 1,
            3 * TRANSFER_CHUNK,
            3 * TRANSFER_CHUNK + 5,
        ] {
            let data: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
            let sealed = seal(&key, &data);
            assert_eq!(sealed.len() as u64, sealed_len(len as u64), "len {len}");
            assert!(open(&key, &sealed).unwrap() == data, "len {len}");
            assert!(seal(&key, &data) == sealed, "sealing is deterministic");
            // A run of 16+ bytes: a shorter one could turn up in ciphertext by chance.
            if len >= 16 {
                assert!(
                    !sealed
                        .windows(len.min(32))
                        .any(|w| w == &data[..len.min(32)]),
                    "no plaintext in the sealed form"
                );
            }
        }
    }

    #[test]
    fn tampering_truncation_extension_and_the_wrong_key_are_refused() {
        let key = TransferKey::random().unwrap();
        let data = vec![7u8; 2 * TRANSFER_CHUNK + 100];
        let sealed = seal(&key, &data);
        let mut flipped = sealed.clone();
        flipped[TRANSFER_CHUNK + 40] ^= 1;
        assert!(open(&key, &flipped).is_err());
        // Cut at a chunk boundary: the now-last chunk was not sealed as last.
        assert!(open(&key, &sealed[..2 * (TRANSFER_CHUNK + TAG)]).is_err());
        assert!(open(&key, &sealed[..sealed.len() - 1]).is_err());
        let mut longer = sealed.clone();
        longer.extend_from_slice(&[0; 20]);
        assert!(open(&key, &longer).is_err());
        assert!(open(&TransferKey::random().unwrap(), &sealed).is_err());
        assert!(
            open(&key, &[]).is_err(),
            "an empty stream lacks its last chunk"
        );
    }

    #[test]
    fn keys_round_trip_as_hex_and_bad_hex_is_refused() {
        let key = TransferKey::random().unwrap();
        let again = TransferKey::from_hex(&key.to_hex()).unwrap();
        assert_eq!(again.0[..], key.0[..]);
        assert!(TransferKey::from_hex("zz").is_none());
        assert!(TransferKey::from_hex(&"ab".repeat(31)).is_none());
        assert_eq!(format!("{key:?}"), "TransferKey(…)");
    }
}
