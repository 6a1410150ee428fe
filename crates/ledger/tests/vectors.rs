//! The public RFC 6962 test vectors of transparency-dev/merkle (copied as data into
//! `tests/vectors/transparency-dev-merkle.txt`, with their source and licence in its header).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::{engine::general_purpose::STANDARD as B64, Engine};
use hearth_ledger::{empty_root, verify_consistency, verify_inclusion, Hash, Tree};
use sha2::{Digest, Sha256};

const VECTORS: &str = include_str!("vectors/transparency-dev-merkle.txt");

fn hex(s: &str) -> Vec<u8> {
    if s == "-" {
        return Vec::new();
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn to_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn raw(s: &str) -> Vec<u8> {
    if s == "_" {
        Vec::new()
    } else {
        B64.decode(s).unwrap()
    }
}

/// A base64 hash field (`_` = empty); `None` unless it is 32 bytes. Our API only takes
/// 32-byte hashes, so a vector with a shorter or longer leaf hash, root or proof element is
/// refused before verification, as Go's verifier refuses (or fails to match) it.
fn hash(s: &str) -> Option<Hash> {
    Hash::from_slice(&raw(s))
}

fn proof(s: &str) -> Option<Vec<Hash>> {
    if s == "-" {
        return Some(Vec::new());
    }
    s.split(',').map(hash).collect()
}

/// For the equal-size consistency vectors, whose "don't care" roots are compared only for
/// equality: map other lengths through a domain-separated SHA-256, which keeps equal values
/// equal and different values different and never yields a real tree hash.
fn root_mapped(s: &str) -> Hash {
    let r = raw(s);
    Hash::from_slice(&r)
        .unwrap_or_else(|| Hash::digest(&[&b"not a 32-byte hash:"[..], &r].concat()))
}

struct Reference {
    leaves: Vec<Vec<u8>>,
    roots: Vec<Vec<u8>>,
}

fn reference() -> Reference {
    let mut r = Reference {
        leaves: Vec::new(),
        roots: Vec::new(),
    };
    for line in VECTORS.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = line.split(' ').collect();
        match f[0] {
            "leaf" => {
                assert_eq!(f[1].parse::<usize>().unwrap(), r.leaves.len());
                r.leaves.push(hex(f[2]));
            }
            "root" => {
                assert_eq!(f[1].parse::<usize>().unwrap(), r.roots.len());
                r.roots.push(hex(f[2]));
            }
            _ => {}
        }
    }
    r
}

fn reference_tree() -> (Tree, Reference) {
    let r = reference();
    let mut t = Tree::new();
    for l in &r.leaves {
        t.append(l);
    }
    (t, r)
}

#[test]
fn reference_roots_at_every_size() {
    let (t, r) = reference_tree();
    assert_eq!(r.leaves.len(), 8);
    assert_eq!(r.roots.len(), 9);
    assert_eq!(r.roots[0], empty_root().0.to_vec());
    for (n, want) in r.roots.iter().enumerate() {
        assert_eq!(t.root_at(n as u64).unwrap().0.to_vec(), *want, "size {n}");
    }
}

#[test]
fn inclusion_vectors() {
    let (t, r) = reference_tree();
    let (mut checked, mut generated) = (0, 0);
    for line in VECTORS.lines().filter(|l| l.starts_with("incl ")) {
        let f: Vec<&str> = line.split(' ').collect();
        let (name, index, size) = (
            f[1],
            f[2].parse::<u64>().unwrap(),
            f[3].parse::<u64>().unwrap(),
        );
        let want_ok = f[7] == "ok";
        let got_ok = match (hash(f[4]), hash(f[5]), proof(f[6])) {
            (Some(root), Some(leaf), Some(p)) => {
                verify_inclusion(index, size, &leaf, &p, &root).is_ok()
            }
            _ => false,
        };
        assert_eq!(got_ok, want_ok, "{name}");
        checked += 1;
        // Our proof generator must produce the vector's proof for the reference tree.
        if want_ok && size <= 8 && Some(raw(f[4])) == r.roots.get(size as usize).cloned() {
            assert_eq!(
                Some(t.inclusion_proof(index, size).unwrap()),
                proof(f[6]),
                "{name}"
            );
            generated += 1;
        }
    }
    assert_eq!(checked, 98);
    assert!(generated >= 5);
}

#[test]
fn consistency_vectors() {
    let (t, r) = reference_tree();
    let (mut checked, mut generated) = (0, 0);
    for line in VECTORS.lines().filter(|l| l.starts_with("cons ")) {
        let f: Vec<&str> = line.split(' ').collect();
        let (name, s1, s2) = (
            f[1],
            f[2].parse::<u64>().unwrap(),
            f[3].parse::<u64>().unwrap(),
        );
        let want_ok = f[7] == "ok";
        let got_ok = match proof(f[6]) {
            Some(p) => {
                verify_consistency(s1, s2, &root_mapped(f[4]), &root_mapped(f[5]), &p).is_ok()
            }
            None => false,
        };
        assert_eq!(got_ok, want_ok, "{name}");
        checked += 1;
        if want_ok && s2 <= 8 && Some(raw(f[5])) == r.roots.get(s2 as usize).cloned() {
            assert_eq!(
                Some(t.consistency_proof(s1, s2).unwrap()),
                proof(f[6]),
                "{name}"
            );
            generated += 1;
        }
    }
    assert_eq!(checked, 98);
    assert!(generated >= 5);
}

fn bit_ceil(n: u64) -> u64 {
    n.next_power_of_two()
}

fn subtree_valid(start: u64, end: u64) -> bool {
    start <= end && (start == 0 || start == end || start & (bit_ceil(end - start) - 1) == 0)
}

fn rolling(name: &str) -> String {
    VECTORS
        .lines()
        .find_map(|l| l.strip_prefix(&format!("rolling {name} ")))
        .unwrap()
        .to_string()
}

/// The "Subtree Test Vectors" of draft-ietf-plants-merkle-tree-certs as folded by
/// transparency-dev/merkle: every valid subtree `[start, end)` of the tree of leaves
/// `0x00, 0x01, …, 0x81` hashed (and, below, every inclusion proof within it) into one
/// rolling SHA-256. A subtree's hash is the root of a tree of its leaves.
#[test]
fn subtree_hash_rolling_vector() {
    let d: Vec<Vec<u8>> = (0..130u8).map(|i| vec![i]).collect();
    let mut h = Sha256::new();
    for end in 0..=130u64 {
        for start in 0..=end {
            if !subtree_valid(start, end) {
                continue;
            }
            let mut t = Tree::new();
            for l in &d[start as usize..end as usize] {
                t.append(l);
            }
            h.update(format!("[{start}, {end}) {}\n", to_hex(&t.root().0)));
        }
    }
    assert_eq!(to_hex(&h.finalize()), rolling("subtree-hash"));
}

#[test]
fn subtree_inclusion_rolling_vector() {
    let d: Vec<Vec<u8>> = (0..130u8).map(|i| vec![i]).collect();
    let mut h = Sha256::new();
    for end in 0..=130u64 {
        for start in 0..=end {
            if !subtree_valid(start, end) {
                continue;
            }
            let mut t = Tree::new();
            for l in &d[start as usize..end as usize] {
                t.append(l);
            }
            for index in start..end {
                let p = t.inclusion_proof(index - start, end - start).unwrap();
                let mut line = format!("{index} [{start}, {end})");
                for x in &p {
                    line.push_str(&format!(" {}", to_hex(&x.0)));
                }
                line.push('\n');
                h.update(line);
            }
        }
    }
    assert_eq!(to_hex(&h.finalize()), rolling("subtree-inclusion"));
}
