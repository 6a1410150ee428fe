//! The Merkle tree of RFC 6962 / RFC 9162 (SHA-256): an in-memory append-only tree and the
//! proof verifiers.
//!
//! - leaf hash = SHA-256(0x00 ‖ entry), interior node = SHA-256(0x01 ‖ left ‖ right), the
//!   empty tree's root = SHA-256("").
//! - [`Tree`] keeps the hash of every complete (perfect, aligned) subtree, level by level:
//!   about two hashes per leaf (64 MiB at a million leaves). The root at any past size, an
//!   inclusion proof and a consistency proof each cost O(log n) hash computations.
//! - [`verify_inclusion`] and [`verify_consistency`] are the algorithms of RFC 9162 §2.1.3.2
//!   and §2.1.4.2; they take any input without panicking.

use std::fmt;

use base64::{engine::general_purpose::STANDARD as B64, Engine};
use sha2::{Digest, Sha256};

/// A SHA-256 hash: a leaf, node or root hash, or the hash of a checkpoint or stake table.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    /// The hash as bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// A hash from a slice that must be exactly 32 bytes long.
    pub fn from_slice(bytes: &[u8]) -> Option<Hash> {
        <[u8; 32]>::try_from(bytes).ok().map(Hash)
    }

    /// SHA-256 of `data`.
    pub fn digest(data: &[u8]) -> Hash {
        Hash(Sha256::digest(data).into())
    }

    /// Standard, padded base64 (the form used in checkpoints and witness requests).
    pub fn to_base64(&self) -> String {
        B64.encode(self.0)
    }

    /// Parses standard padded base64 of exactly 32 bytes; `None` for anything else.
    pub fn from_base64(s: &str) -> Option<Hash> {
        let bytes = B64.decode(s).ok()?;
        Hash::from_slice(&bytes)
    }

    /// Lower-case hexadecimal.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({})", self.to_hex())
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// Why a proof could not be produced or did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError {
    /// A leaf index at or beyond the tree size.
    #[error("leaf index {index} is outside a tree of size {size}")]
    IndexOutOfRange {
        /// The index asked for.
        index: u64,
        /// The tree size it was asked against.
        size: u64,
    },
    /// A tree size larger than the tree holds.
    #[error("tree size {size} is larger than the {available} leaves this tree holds")]
    SizeOutOfRange {
        /// The size asked for.
        size: u64,
        /// The number of leaves in the tree.
        available: u64,
    },
    /// A consistency proof asked from a larger to a smaller tree.
    #[error("old tree size {old} is larger than new tree size {new}: a log never shrinks")]
    OldLargerThanNew {
        /// The older size.
        old: u64,
        /// The newer size.
        new: u64,
    },
    /// A consistency proof from the empty tree (meaningless: every tree extends it).
    #[error("a consistency proof from an empty tree proves nothing; compare sizes instead")]
    EmptyOldTree,
    /// The proof has the wrong number of hashes for the sizes given.
    #[error("the proof has the wrong number of hashes for these tree sizes")]
    WrongLength,
    /// The proof's hashes do not lead to the expected root(s).
    #[error("the proof does not lead to the expected root hash")]
    RootMismatch,
}

/// The empty tree's root, SHA-256 of the empty string.
pub fn empty_root() -> Hash {
    Hash::digest(b"")
}

/// RFC 6962 leaf hash: SHA-256(0x00 ‖ entry).
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(entry);
    Hash(h.finalize().into())
}

/// RFC 6962 interior node hash: SHA-256(0x01 ‖ left ‖ right).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left.0);
    h.update(right.0);
    Hash(h.finalize().into())
}

/// The largest power of two strictly smaller than `n` (`n >= 2`).
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// An append-only RFC 6962 Merkle tree held in memory.
#[derive(Clone, Default)]
pub struct Tree {
    /// `levels[k][i]` is the hash of leaves `[i·2^k, (i+1)·2^k)`; `levels[0]` are leaf hashes.
    levels: Vec<Vec<Hash>>,
}

impl fmt::Debug for Tree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tree")
            .field("size", &self.size())
            .field("root", &self.root())
            .finish()
    }
}

impl Tree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    /// Hashes `entry` as a leaf and appends it; returns its index.
    pub fn append(&mut self, entry: &[u8]) -> u64 {
        self.append_leaf_hash(leaf_hash(entry))
    }

    /// Appends an already computed leaf hash; returns its index.
    pub fn append_leaf_hash(&mut self, leaf: Hash) -> u64 {
        let index = self.size();
        if self.levels.is_empty() {
            self.levels.push(Vec::new());
        }
        self.levels[0].push(leaf);
        let mut level = 0;
        while self.levels[level].len() & 1 == 0 {
            let row = &self.levels[level];
            let parent = node_hash(&row[row.len() - 2], &row[row.len() - 1]);
            if self.levels.len() == level + 1 {
                self.levels.push(Vec::new());
            }
            self.levels[level + 1].push(parent);
            level += 1;
        }
        index
    }

    /// The leaf hash at `index`, if the tree has one there.
    pub fn leaf_hash(&self, index: u64) -> Option<Hash> {
        let i = usize::try_from(index).ok()?;
        self.levels.first()?.get(i).copied()
    }

    /// The current root.
    pub fn root(&self) -> Hash {
        self.subtree(0, self.size())
    }

    /// The root the tree had when it held `size` leaves.
    pub fn root_at(&self, size: u64) -> Result<Hash, ProofError> {
        self.check_size(size)?;
        Ok(self.subtree(0, size))
    }

    /// The RFC 6962 audit path for leaf `index` in the tree of `size` leaves (leaf to root).
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, ProofError> {
        self.check_size(size)?;
        if index >= size {
            return Err(ProofError::IndexOutOfRange { index, size });
        }
        let mut out = Vec::with_capacity(64);
        self.path(index, 0, size, &mut out);
        Ok(out)
    }

    /// The RFC 6962 consistency proof from the tree of `old` leaves to the tree of `new`
    /// leaves. Empty when `old == new` or `old == 0`.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>, ProofError> {
        self.check_size(new)?;
        if old > new {
            return Err(ProofError::OldLargerThanNew { old, new });
        }
        let mut out = Vec::with_capacity(64);
        if old > 0 && old < new {
            self.subproof(old, 0, new, true, &mut out);
        }
        Ok(out)
    }

    fn check_size(&self, size: u64) -> Result<(), ProofError> {
        if size > self.size() {
            Err(ProofError::SizeOutOfRange {
                size,
                available: self.size(),
            })
        } else {
            Ok(())
        }
    }

    /// MTH of leaves `[start, start + len)`; the range must lie inside the tree.
    fn subtree(&self, start: u64, len: u64) -> Hash {
        if len == 0 {
            return empty_root();
        }
        if len.is_power_of_two() && start & (len - 1) == 0 {
            let level = len.trailing_zeros() as usize;
            if let Some(h) = self
                .levels
                .get(level)
                .and_then(|row| row.get((start >> level) as usize))
            {
                return *h;
            }
        }
        if len == 1 {
            // Unreachable for ranges inside the tree (level 0 holds every leaf).
            return empty_root();
        }
        let k = split_point(len);
        node_hash(&self.subtree(start, k), &self.subtree(start + k, len - k))
    }

    /// RFC 6962 PATH(m, D[start .. start+len]).
    fn path(&self, m: u64, start: u64, len: u64, out: &mut Vec<Hash>) {
        if len <= 1 {
            return;
        }
        let k = split_point(len);
        if m < k {
            self.path(m, start, k, out);
            out.push(self.subtree(start + k, len - k));
        } else {
            self.path(m - k, start + k, len - k, out);
            out.push(self.subtree(start, k));
        }
    }

    /// RFC 6962 SUBPROOF(m, D[start .. start+len], b).
    fn subproof(&self, m: u64, start: u64, len: u64, whole: bool, out: &mut Vec<Hash>) {
        if m == len {
            if !whole {
                out.push(self.subtree(start, len));
            }
            return;
        }
        let k = split_point(len);
        if m <= k {
            self.subproof(m, start, k, whole, out);
            out.push(self.subtree(start + k, len - k));
        } else {
            self.subproof(m - k, start + k, len - k, false, out);
            out.push(self.subtree(start, k));
        }
    }
}

/// Checks that `leaf` is at `index` in the tree of `size` leaves whose root is `root`
/// (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let (mut fnode, mut snode) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if snode == 0 {
            return Err(ProofError::WrongLength);
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(ProofError::WrongLength);
    }
    if r != *root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// Checks that the tree of `old_size` leaves with root `old_root` is a prefix of the tree of
/// `new_size` leaves with root `new_root` (RFC 9162 §2.1.4.2). Equal sizes need an empty
/// proof and equal roots; an old size of zero is refused ([`ProofError::EmptyOldTree`]).
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if old_size > new_size {
        return Err(ProofError::OldLargerThanNew {
            old: old_size,
            new: new_size,
        });
    }
    if old_size == 0 {
        return Err(ProofError::EmptyOldTree);
    }
    if old_size == new_size {
        if !proof.is_empty() {
            return Err(ProofError::WrongLength);
        }
        return if old_root == new_root {
            Ok(())
        } else {
            Err(ProofError::RootMismatch)
        };
    }
    if proof.is_empty() {
        return Err(ProofError::WrongLength);
    }
    // Step 2: when the old tree is a perfect subtree its root is the first node.
    let (first, rest) = if old_size.is_power_of_two() {
        (*old_root, proof)
    } else {
        (proof[0], &proof[1..])
    };
    let (mut fnode, mut snode) = (old_size - 1, new_size - 1);
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    let (mut fr, mut sr) = (first, first);
    for c in rest {
        if snode == 0 {
            return Err(ProofError::WrongLength);
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(ProofError::WrongLength);
    }
    if fr != *old_root || sr != *new_root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference MTH straight from RFC 6962 §2.1, over entries.
    fn mth(entries: &[Vec<u8>]) -> Hash {
        match entries.len() {
            0 => empty_root(),
            1 => leaf_hash(&entries[0]),
            n => {
                let k = split_point(n as u64) as usize;
                node_hash(&mth(&entries[..k]), &mth(&entries[k..]))
            }
        }
    }

    #[test]
    fn roots_match_the_reference_definition_at_every_size() {
        let entries: Vec<Vec<u8>> = (0..70u32).map(|i| i.to_be_bytes().to_vec()).collect();
        let mut tree = Tree::new();
        assert_eq!(tree.root(), empty_root());
        for (i, e) in entries.iter().enumerate() {
            tree.append(e);
            assert_eq!(tree.root(), mth(&entries[..=i]));
        }
        for n in 0..=70u64 {
            assert_eq!(tree.root_at(n).unwrap(), mth(&entries[..n as usize]));
        }
        assert!(tree.root_at(71).is_err());
    }

    #[test]
    fn proofs_for_small_trees_verify() {
        let mut tree = Tree::new();
        for i in 0..40u32 {
            tree.append(&i.to_le_bytes());
        }
        for n in 1..=40u64 {
            let root = tree.root_at(n).unwrap();
            for i in 0..n {
                let p = tree.inclusion_proof(i, n).unwrap();
                verify_inclusion(i, n, &tree.leaf_hash(i).unwrap(), &p, &root).unwrap();
            }
            for m in 1..=n {
                let p = tree.consistency_proof(m, n).unwrap();
                verify_consistency(m, n, &tree.root_at(m).unwrap(), &root, &p).unwrap();
            }
        }
    }

    #[test]
    fn bad_requests_are_errors_not_panics() {
        let mut tree = Tree::new();
        tree.append(b"a");
        assert!(tree.inclusion_proof(1, 1).is_err());
        assert!(tree.inclusion_proof(0, 2).is_err());
        assert!(tree.consistency_proof(2, 1).is_err());
        assert!(verify_inclusion(0, 0, &Hash::default(), &[], &Hash::default()).is_err());
        assert!(
            verify_inclusion(u64::MAX, u64::MAX, &Hash::default(), &[], &Hash::default()).is_err()
        );
        assert!(verify_consistency(
            u64::MAX - 1,
            u64::MAX,
            &Hash::default(),
            &Hash::default(),
            &[Hash::default(); 70]
        )
        .is_err());
    }
}
