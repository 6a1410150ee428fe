//! C2SP `tlog-checkpoint`: the text `<origin>\n<decimal size>\n<base64 root>\n` followed by
//! optional non-empty extension lines, carried as a signed note.

use std::fmt;

use crate::cosignature::Cosignature;
use crate::merkle::Hash;
use crate::note::{Note, NoteError, NoteVerifier};

/// Longest checkpoint text accepted.
pub const MAX_CHECKPOINT_TEXT: usize = 16 * 1024;

/// Why a checkpoint was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// The text is not a well-formed checkpoint.
    #[error("malformed checkpoint: {0}")]
    Malformed(&'static str),
    /// The signed note around it is malformed, or its signature does not verify.
    #[error(transparent)]
    Note(#[from] NoteError),
}

/// A checkpoint: origin, tree size, root hash and extension lines.
#[derive(Clone, PartialEq, Eq)]
pub struct Checkpoint {
    origin: String,
    size: u64,
    root: Hash,
    extensions: Vec<String>,
}

impl fmt::Debug for Checkpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Checkpoint({} size={} root={})",
            self.origin, self.size, self.root
        )
    }
}

fn check_line(line: &str, what: &'static str) -> Result<(), CheckpointError> {
    if line.is_empty() {
        return Err(CheckpointError::Malformed(what));
    }
    if line.chars().any(|c| c < ' ') {
        return Err(CheckpointError::Malformed(
            "a line contains a control character",
        ));
    }
    Ok(())
}

impl Checkpoint {
    /// A checkpoint without extension lines. The origin must be a non-empty line.
    pub fn new(
        origin: impl Into<String>,
        size: u64,
        root: Hash,
    ) -> Result<Checkpoint, CheckpointError> {
        let origin = origin.into();
        check_line(&origin, "the origin line is empty")?;
        let c = Checkpoint {
            origin,
            size,
            root,
            extensions: Vec::new(),
        };
        if c.to_text().len() > MAX_CHECKPOINT_TEXT {
            return Err(CheckpointError::Malformed("the checkpoint is too large"));
        }
        Ok(c)
    }

    /// Adds an extension line (non-empty, no control characters).
    pub fn with_extension(
        mut self,
        line: impl Into<String>,
    ) -> Result<Checkpoint, CheckpointError> {
        let line = line.into();
        check_line(&line, "an extension line is empty")?;
        self.extensions.push(line);
        if self.to_text().len() > MAX_CHECKPOINT_TEXT {
            return Err(CheckpointError::Malformed("the checkpoint is too large"));
        }
        Ok(self)
    }

    /// Parses checkpoint text (a note's text, ending in a newline); strict: a size with a
    /// leading zero, a non-canonical base64 root or an empty extension line is refused.
    pub fn parse(text: &str) -> Result<Checkpoint, CheckpointError> {
        if text.len() > MAX_CHECKPOINT_TEXT {
            return Err(CheckpointError::Malformed("the checkpoint is too large"));
        }
        let body = text.strip_suffix('\n').ok_or(CheckpointError::Malformed(
            "the text must end with a newline",
        ))?;
        let mut lines = body.split('\n');
        let origin = lines
            .next()
            .ok_or(CheckpointError::Malformed("missing origin line"))?;
        check_line(origin, "the origin line is empty")?;
        let size_s = lines
            .next()
            .ok_or(CheckpointError::Malformed("missing tree size line"))?;
        if size_s.is_empty()
            || !size_s.bytes().all(|b| b.is_ascii_digit())
            || (size_s.len() > 1 && size_s.starts_with('0'))
        {
            return Err(CheckpointError::Malformed(
                "the tree size must be a decimal number without leading zeros",
            ));
        }
        let size: u64 = size_s
            .parse()
            .map_err(|_| CheckpointError::Malformed("the tree size does not fit in 64 bits"))?;
        let root_s = lines
            .next()
            .ok_or(CheckpointError::Malformed("missing root hash line"))?;
        let root = Hash::from_base64(root_s).ok_or(CheckpointError::Malformed(
            "the root hash must be 32 bytes in standard base64",
        ))?;
        if root.to_base64() != root_s {
            return Err(CheckpointError::Malformed(
                "the root hash is not in canonical base64",
            ));
        }
        let mut extensions = Vec::new();
        for l in lines {
            check_line(l, "an extension line is empty")?;
            extensions.push(l.to_string());
        }
        Ok(Checkpoint {
            origin: origin.to_string(),
            size,
            root,
            extensions,
        })
    }

    /// The checkpoint text (what the log signs and witnesses cosign).
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            self.root.to_base64()
        );
        for e in &self.extensions {
            s.push_str(e);
            s.push('\n');
        }
        s
    }

    /// The origin (the log's identity).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The tree size.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The root hash.
    pub fn root(&self) -> &Hash {
        &self.root
    }

    /// The extension lines.
    pub fn extensions(&self) -> &[String] {
        &self.extensions
    }

    /// SHA-256 of the checkpoint text: what the next checkpoint's chain entry records.
    pub fn hash(&self) -> Hash {
        Hash::digest(self.to_text().as_bytes())
    }
}

/// A checkpoint with its signed note (the log's signature and any cosignatures).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct SignedCheckpoint {
    checkpoint: Checkpoint,
    note: Note,
}

impl SignedCheckpoint {
    /// Parses a signed checkpoint from arbitrary bytes. Signatures are not verified: call
    /// [`SignedCheckpoint::verify`].
    pub fn parse(bytes: &[u8]) -> Result<SignedCheckpoint, CheckpointError> {
        let note = Note::parse(bytes)?;
        let checkpoint = Checkpoint::parse(note.text())?;
        Ok(SignedCheckpoint { checkpoint, note })
    }

    /// Wraps a checkpoint in an unsigned note.
    pub fn unsigned(checkpoint: Checkpoint) -> Result<SignedCheckpoint, CheckpointError> {
        let note = Note::new(checkpoint.to_text())?;
        Ok(SignedCheckpoint { checkpoint, note })
    }

    /// Checks the log's signature.
    pub fn verify(&self, log_key: &NoteVerifier) -> Result<(), CheckpointError> {
        Ok(log_key.verify_note(&self.note)?)
    }

    /// The checkpoint.
    pub fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// The note (text and signature lines).
    pub fn note(&self) -> &Note {
        &self.note
    }

    /// Mutable access to the signature lines (adding the log's signature or cosignatures).
    pub fn note_mut(&mut self) -> &mut Note {
        &mut self.note
    }

    /// Adds a cosignature line.
    pub fn add_cosignature(&mut self, cosig: &Cosignature) {
        self.note.add_signature(cosig.to_note_signature());
    }

    /// Every signature line that has the shape of a cosignature/v1 (not yet verified).
    pub fn cosignatures(&self) -> Vec<Cosignature> {
        self.note
            .signatures()
            .iter()
            .filter_map(Cosignature::from_note_signature)
            .collect()
    }

    /// The signed note as bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.note.to_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trip_with_extensions() {
        let c = Checkpoint::new("hearth.example/device/1", 42, Hash([9; 32]))
            .unwrap()
            .with_extension("x y z")
            .unwrap();
        let t = c.to_text();
        assert_eq!(Checkpoint::parse(&t).unwrap(), c);
    }

    #[test]
    fn strict_parse_refuses_variants() {
        let root = Hash([1; 32]).to_base64();
        for bad in [
            format!("o\n01\n{root}\n"),
            format!("o\n-1\n{root}\n"),
            format!("o\n+1\n{root}\n"),
            format!("o\n18446744073709551616\n{root}\n"),
            format!("\n1\n{root}\n"),
            format!("o\n1\n{root}\n\n"),
            format!("o\n1\n{root}"),
            "o\n1\nAAAA\n".to_string(),
            "o\n1\n".to_string(),
        ] {
            assert!(Checkpoint::parse(&bad).is_err(), "{bad:?}");
        }
        assert!(Checkpoint::parse(&format!("o\n0\n{root}\n")).is_ok());
    }
}
