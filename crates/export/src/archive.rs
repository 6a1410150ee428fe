//! The `.hearth` archive: a manifest naming every part with its SHA-256, signed by the
//! exporting device, followed by the parts. See `DESIGN.md`.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::{Signer as _, SigningKey};
use hearth_ledger::{
    leaf_hash, verify_inclusion, Hash, NoteVerifier, SignedCheckpoint, StakeTable, Tree, WitnessKey,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The first bytes of every archive.
pub const MAGIC: &[u8; 17] = b"HEARTH-ARCHIVE/1\n";
/// The manifest's `format` value.
pub const FORMAT: &str = "hearth-archive/1";
/// Domain separation for the manifest signature.
pub(crate) const SIGNING_CONTEXT: &[u8] = b"hearth-archive/1 manifest\n";
/// The longest manifest accepted (16 MiB).
pub(crate) const MAX_MANIFEST: usize = 16 << 20;

/// Why an archive could not be made or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ArchiveError {
    /// An entry's inclusion proof does not lead to its checkpoint's root.
    #[error("log {origin}: entry {index} is not proved by its checkpoint ({reason}); export entries with proofs against the checkpoint given")]
    BadProof {
        /// The log.
        origin: String,
        /// The entry index.
        index: u64,
        /// Why.
        reason: String,
    },
    /// A part could not be encoded.
    #[error("could not encode {part}: {reason}")]
    Encode {
        /// The part.
        part: String,
        /// Why.
        reason: String,
    },
    /// The bytes are not a readable archive; `part` names what is damaged.
    #[error("{part}: {reason}")]
    Malformed {
        /// The damaged part ("header", "manifest", "signature" or a part name).
        part: String,
        /// What is wrong.
        reason: String,
    },
}

fn malformed(part: &str, reason: impl Into<String>) -> ArchiveError {
    ArchiveError::Malformed {
        part: part.into(),
        reason: reason.into(),
    }
}

/// An original Automerge document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document {
    /// The record id.
    pub record_id: String,
    /// The record kind (`patient`, `session-note`, …).
    pub kind: String,
    /// The document bytes (as saved by Automerge, or the record envelope).
    pub bytes: Vec<u8>,
}

/// One ledger entry with its inclusion proof against its log's checkpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoggedEntry {
    /// Index in the log.
    pub index: u64,
    /// The canonical entry bytes.
    pub bytes: Vec<u8>,
    /// Inclusion proof in the tree of the checkpoint's size.
    pub proof: Vec<Hash>,
}

/// One device log's exported entries and the witnessed checkpoint that covers them.
#[derive(Clone, Debug)]
pub struct LogExport {
    /// The log's signing key (its checkpoint signer).
    pub log_key: NoteVerifier,
    /// The checkpoint, with its cosignatures.
    pub checkpoint: SignedCheckpoint,
    /// The entries, with proofs.
    pub entries: Vec<LoggedEntry>,
}

impl LogExport {
    /// Takes entries `(index, bytes)` and proves each from `tree` at the checkpoint's size.
    pub fn from_tree(
        log_key: NoteVerifier,
        checkpoint: SignedCheckpoint,
        tree: &Tree,
        entries: impl IntoIterator<Item = (u64, Vec<u8>)>,
    ) -> Result<LogExport, ArchiveError> {
        let size = checkpoint.checkpoint().size();
        let origin = checkpoint.checkpoint().origin().to_string();
        let mut out = Vec::new();
        for (index, bytes) in entries {
            let proof = tree
                .inclusion_proof(index, size)
                .map_err(|e| ArchiveError::BadProof {
                    origin: origin.clone(),
                    index,
                    reason: e.to_string(),
                })?;
            out.push(LoggedEntry {
                index,
                bytes,
                proof,
            });
        }
        Ok(LogExport {
            log_key,
            checkpoint,
            entries: out,
        })
    }
}

/// What goes into an archive.
#[derive(Clone, Debug)]
pub struct ArchiveInput {
    /// The exporting device's name (shown by the verifier).
    pub device_name: String,
    /// When the archive was made (Unix seconds).
    pub created_at: i64,
    /// The FHIR Bundle (see [`crate::bundle`]).
    pub bundle: serde_json::Value,
    /// The original Automerge documents.
    pub documents: Vec<Document>,
    /// Ledger entries with proofs, per log.
    pub logs: Vec<LogExport>,
    /// The stake table the checkpoints are judged under.
    pub stake_table: StakeTable,
}

/// One part in the manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestPart {
    /// Unique name, e.g. `fhir/bundle.json`.
    pub name: String,
    /// `fhir-bundle`, `document`, `checkpoint`, `ledger-entries` or `stake-table`.
    pub kind: String,
    /// Length in bytes.
    pub length: u64,
    /// SHA-256, lowercase hex.
    pub sha256: String,
}

/// One log in the manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestLog {
    /// The log's origin line.
    pub origin: String,
    /// The log key (C2SP verifier key string).
    pub log_key: String,
    /// Name of its checkpoint part.
    pub checkpoint: String,
    /// Name of its entries part.
    pub entries: String,
}

/// The manifest: what the archive holds, signed by the exporting device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Always [`FORMAT`].
    pub format: String,
    /// When it was made (Unix seconds).
    pub created_at: i64,
    /// The exporting device's name.
    pub device_name: String,
    /// The exporting device's Ed25519 public key (hex): it signed the manifest.
    pub device_key: String,
    /// The parts, in the order their bytes follow.
    pub parts: Vec<ManifestPart>,
    /// The logs.
    pub logs: Vec<ManifestLog>,
    /// Name of the stake-table part.
    pub stake_table: String,
}

/// The stake-table part.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StakePart {
    pub epoch: u64,
    pub hash: String,
    pub witnesses: Vec<StakeLine>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StakeLine {
    pub key: String,
    pub stake: u64,
}

/// The ledger-entries part of one log.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EntriesPart {
    pub origin: String,
    pub tree_size: u64,
    pub entries: Vec<EntryLine>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EntryLine {
    pub index: u64,
    pub entry: String,
    pub proof: Vec<String>,
}

pub(crate) fn sha256_hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

fn safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn json_bytes<T: Serialize>(part: &str, v: &T) -> Result<Vec<u8>, ArchiveError> {
    serde_json::to_vec_pretty(v).map_err(|e| ArchiveError::Encode {
        part: part.into(),
        reason: e.to_string(),
    })
}

/// Builds and signs an archive. Every inclusion proof is checked first: an archive that
/// would not verify is refused.
pub fn seal(input: &ArchiveInput, device: &SigningKey) -> Result<Vec<u8>, ArchiveError> {
    let mut parts: Vec<(ManifestPart, Vec<u8>)> = Vec::new();
    let mut push = |name: String, kind: &str, bytes: Vec<u8>| {
        parts.push((
            ManifestPart {
                name,
                kind: kind.into(),
                length: bytes.len() as u64,
                sha256: sha256_hex(&bytes),
            },
            bytes,
        ));
    };
    push(
        "fhir/bundle.json".into(),
        "fhir-bundle",
        json_bytes("fhir/bundle.json", &input.bundle)?,
    );
    let mut docs: Vec<&Document> = input.documents.iter().collect();
    docs.sort_by(|a, b| (&a.kind, &a.record_id).cmp(&(&b.kind, &b.record_id)));
    for (i, d) in docs.iter().enumerate() {
        push(
            format!(
                "records/{i}-{}-{}.automerge",
                safe(&d.kind),
                safe(&d.record_id)
            ),
            "document",
            d.bytes.clone(),
        );
    }
    let stake = StakePart {
        epoch: input.stake_table.epoch(),
        hash: input.stake_table.hash().to_hex(),
        witnesses: input
            .stake_table
            .witnesses()
            .map(|(k, s)| StakeLine {
                key: k.to_string(),
                stake: s,
            })
            .collect(),
    };
    push(
        "ledger/stake-table.json".into(),
        "stake-table",
        json_bytes("ledger/stake-table.json", &stake)?,
    );
    let mut logs = Vec::new();
    for (i, l) in input.logs.iter().enumerate() {
        let cp = l.checkpoint.checkpoint();
        let origin = cp.origin().to_string();
        for e in &l.entries {
            verify_inclusion(
                e.index,
                cp.size(),
                &leaf_hash(&e.bytes),
                &e.proof,
                cp.root(),
            )
            .map_err(|err| ArchiveError::BadProof {
                origin: origin.clone(),
                index: e.index,
                reason: err.to_string(),
            })?;
        }
        let cp_name = format!("ledger/{i}-{}.checkpoint", safe(&origin));
        let en_name = format!("ledger/{i}-{}.entries.json", safe(&origin));
        push(cp_name.clone(), "checkpoint", l.checkpoint.to_bytes());
        let entries = EntriesPart {
            origin: origin.clone(),
            tree_size: cp.size(),
            entries: l
                .entries
                .iter()
                .map(|e| EntryLine {
                    index: e.index,
                    entry: B64.encode(&e.bytes),
                    proof: e.proof.iter().map(Hash::to_base64).collect(),
                })
                .collect(),
        };
        push(
            en_name.clone(),
            "ledger-entries",
            json_bytes(&en_name, &entries)?,
        );
        logs.push(ManifestLog {
            origin,
            log_key: l.log_key.to_string(),
            checkpoint: cp_name,
            entries: en_name,
        });
    }
    let manifest = Manifest {
        format: FORMAT.into(),
        created_at: input.created_at,
        device_name: input.device_name.clone(),
        device_key: hex::encode(device.verifying_key().as_bytes()),
        parts: parts.iter().map(|(m, _)| m.clone()).collect(),
        logs,
        stake_table: "ledger/stake-table.json".into(),
    };
    let mbytes = json_bytes("manifest", &manifest)?;
    let len = u32::try_from(mbytes.len())
        .ok()
        .filter(|n| (*n as usize) <= MAX_MANIFEST)
        .ok_or_else(|| ArchiveError::Encode {
            part: "manifest".into(),
            reason: "the manifest is larger than 16 MiB".into(),
        })?;
    let mut signed = SIGNING_CONTEXT.to_vec();
    signed.extend_from_slice(&mbytes);
    let sig = device.sign(&signed);
    let total: usize = parts.iter().map(|(_, b)| b.len()).sum();
    let mut out = Vec::with_capacity(MAGIC.len() + 4 + mbytes.len() + 64 + total);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&mbytes);
    out.extend_from_slice(&sig.to_bytes());
    for (_, b) in &parts {
        out.extend_from_slice(b);
    }
    Ok(out)
}

/// A parsed (not yet verified) archive: the manifest, its signature and the parts' bytes.
#[derive(Clone, Debug)]
pub struct Archive<'a> {
    /// The manifest.
    pub manifest: Manifest,
    /// The manifest's exact bytes, as signed.
    pub manifest_bytes: &'a [u8],
    /// The device's signature over the manifest.
    pub signature: [u8; 64],
    /// Each part's bytes, in manifest order (`manifest.parts[i]` describes `parts[i]`).
    pub parts: Vec<&'a [u8]>,
    /// Where each region starts in the file: (name, start, end), for naming damage.
    pub layout: Vec<(String, usize, usize)>,
}

impl<'a> Archive<'a> {
    /// Splits an archive into its manifest and parts. Checks the framing only: use
    /// [`crate::verify`] to check signatures, hashes and proofs.
    pub fn parse(bytes: &'a [u8]) -> Result<Archive<'a>, ArchiveError> {
        let rest = bytes.strip_prefix(MAGIC.as_slice()).ok_or_else(|| {
            malformed("header", "not a Hearth archive (the first bytes are wrong)")
        })?;
        let (len, rest) = rest
            .split_first_chunk::<4>()
            .ok_or_else(|| malformed("manifest", "the archive ends before the manifest"))?;
        let n = u32::from_be_bytes(*len) as usize;
        if n > MAX_MANIFEST || rest.len() < n + 64 {
            return Err(malformed("manifest", "the manifest length is wrong"));
        }
        let (mbytes, rest) = rest.split_at(n);
        let manifest: Manifest = serde_json::from_slice(mbytes)
            .map_err(|e| malformed("manifest", format!("the manifest is unreadable ({e})")))?;
        if manifest.format != FORMAT {
            return Err(malformed(
                "manifest",
                format!("format {:?} is not {FORMAT}", manifest.format),
            ));
        }
        let (sig, mut rest) = rest
            .split_first_chunk::<64>()
            .ok_or_else(|| malformed("signature", "the archive ends in the signature"))?;
        let mut pos = MAGIC.len() + 4 + n + 64;
        let mut layout = vec![
            ("header".to_string(), 0, MAGIC.len()),
            ("manifest".to_string(), MAGIC.len(), MAGIC.len() + 4 + n),
            ("signature".to_string(), pos - 64, pos),
        ];
        let mut parts = Vec::new();
        for p in &manifest.parts {
            let l = usize::try_from(p.length)
                .ok()
                .filter(|l| *l <= rest.len())
                .ok_or_else(|| malformed(&p.name, "the archive ends inside this part"))?;
            let (b, r) = rest.split_at(l);
            parts.push(b);
            layout.push((p.name.clone(), pos, pos + l));
            pos += l;
            rest = r;
        }
        if !rest.is_empty() {
            return Err(malformed(
                "archive",
                format!("{} unexpected bytes after the last part", rest.len()),
            ));
        }
        let mut names = std::collections::BTreeSet::new();
        if !manifest.parts.iter().all(|p| names.insert(p.name.as_str())) {
            return Err(malformed("manifest", "two parts have the same name"));
        }
        Ok(Archive {
            manifest,
            manifest_bytes: mbytes,
            signature: *sig,
            parts,
            layout,
        })
    }

    /// The bytes of the part named `name`.
    pub fn part(&self, name: &str) -> Option<&'a [u8]> {
        self.manifest
            .parts
            .iter()
            .position(|p| p.name == name)
            .and_then(|i| self.parts.get(i).copied())
    }

    /// The region of the file (header, manifest, signature or a part name) holding byte `pos`.
    pub fn region_of(&self, pos: usize) -> Option<&str> {
        self.layout
            .iter()
            .find(|(_, s, e)| (*s..*e).contains(&pos))
            .map(|(n, _, _)| n.as_str())
    }
}

pub(crate) fn parse_stake(bytes: &[u8]) -> Result<(StakeTable, u64, String), String> {
    let s: StakePart = serde_json::from_slice(bytes)
        .map_err(|e| format!("the stake table is unreadable ({e})"))?;
    let mut keys = Vec::new();
    for w in s.witnesses {
        let k = WitnessKey::parse(&w.key).map_err(|e| format!("witness key {:?}: {e}", w.key))?;
        keys.push((k, w.stake));
    }
    Ok((StakeTable::genesis(keys), s.epoch, s.hash))
}

pub(crate) fn parse_entries(bytes: &[u8]) -> Result<(String, u64, Vec<LoggedEntry>), String> {
    let p: EntriesPart =
        serde_json::from_slice(bytes).map_err(|e| format!("the entries are unreadable ({e})"))?;
    let mut out = Vec::new();
    for e in p.entries {
        let b = B64
            .decode(&e.entry)
            .map_err(|_| format!("entry {} is not base64", e.index))?;
        let proof = e
            .proof
            .iter()
            .map(|h| {
                Hash::from_base64(h)
                    .ok_or_else(|| format!("entry {}: a proof hash is not valid", e.index))
            })
            .collect::<Result<Vec<_>, _>>()?;
        out.push(LoggedEntry {
            index: e.index,
            bytes: b,
            proof,
        });
    }
    Ok((p.origin, p.tree_size, out))
}
