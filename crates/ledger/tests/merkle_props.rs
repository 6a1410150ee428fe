//! Random trees: every inclusion and consistency proof verifies, every mutated proof fails,
//! and an independent implementation (tlog_tiles, a port of Go's x/mod tlog) agrees.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use hearth_ledger::{verify_consistency, verify_inclusion, Hash, Tree};
use proptest::prelude::*;

fn tree_of(n: u64, seed: u64) -> Tree {
    let mut t = Tree::new();
    for i in 0..n {
        t.append(&(i ^ seed).to_le_bytes());
    }
    t
}

fn flip(p: &[Hash], which: usize, bit: usize) -> Vec<Hash> {
    let mut q = p.to_vec();
    let i = which % q.len();
    q[i].0[(bit / 8) % 32] ^= 1 << (bit % 8);
    q
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// Every proof of a random tree verifies, for every leaf and every older size.
    #[test]
    fn every_proof_of_a_random_tree_verifies(n in 1u64..1500, seed in any::<u64>()) {
        let t = tree_of(n, seed);
        let root = t.root();
        for i in 0..n {
            let p = t.inclusion_proof(i, n).unwrap();
            prop_assert!(verify_inclusion(i, n, &t.leaf_hash(i).unwrap(), &p, &root).is_ok());
        }
        for m in 1..=n {
            let p = t.consistency_proof(m, n).unwrap();
            prop_assert!(verify_consistency(m, n, &t.root_at(m).unwrap(), &root, &p).is_ok());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Inclusion proofs at random (index, size) in trees up to a few thousand leaves fail when
    /// a bit is flipped, the index is wrong, a hash is dropped or added, the leaf or root is
    /// wrong, or the size is wrong. (RFC 9162 verification reads the size only through the
    /// proof's shape, so a wrong size is caught whenever it implies another proof length;
    /// sizes with the same shape are the same claim about the same hashes.)
    #[test]
    fn mutated_inclusion_proofs_fail(
        n in 1u64..4000, seed in any::<u64>(), i in any::<u64>(), m in any::<u64>(),
        which in any::<usize>(), bit in 0usize..256, delta in 1u64..5,
    ) {
        let t = tree_of(n + 8, seed);
        let size = 1 + m % n;
        let index = i % size;
        let root = t.root_at(size).unwrap();
        let leaf = t.leaf_hash(index).unwrap();
        let p = t.inclusion_proof(index, size).unwrap();
        prop_assert!(verify_inclusion(index, size, &leaf, &p, &root).is_ok());
        if !p.is_empty() {
            prop_assert!(verify_inclusion(index, size, &leaf, &flip(&p, which, bit), &root).is_err());
            prop_assert!(verify_inclusion(index, size, &leaf, &p[..p.len() - 1], &root).is_err());
        }
        let mut longer = p.clone();
        longer.push(leaf);
        prop_assert!(verify_inclusion(index, size, &leaf, &longer, &root).is_err());
        let other = (index + delta) % size;
        if other != index {
            prop_assert!(verify_inclusion(other, size, &leaf, &p, &root).is_err());
        }
        prop_assert!(verify_inclusion(size, size, &leaf, &p, &root).is_err());
        for wrong in [size + delta, size.saturating_sub(delta)] {
            if wrong > index && t.inclusion_proof(index, wrong).unwrap().len() != p.len() {
                prop_assert!(verify_inclusion(index, wrong, &leaf, &p, &root).is_err());
            }
        }
        prop_assert!(verify_inclusion(index, size, &flip(&[leaf], 0, bit)[0], &p, &root).is_err());
        prop_assert!(verify_inclusion(index, size, &leaf, &p, &flip(&[root], 0, bit)[0]).is_err());
    }

    /// Consistency proofs between random sizes fail under the same mutations.
    #[test]
    fn mutated_consistency_proofs_fail(
        n in 2u64..4000, seed in any::<u64>(), a in any::<u64>(), b in any::<u64>(),
        which in any::<usize>(), bit in 0usize..256, delta in 1u64..5,
    ) {
        let t = tree_of(n + 8, seed);
        let new = 2 + b % (n - 1);
        let old = 1 + a % (new - 1);
        let (r1, r2) = (t.root_at(old).unwrap(), t.root_at(new).unwrap());
        let p = t.consistency_proof(old, new).unwrap();
        prop_assert!(verify_consistency(old, new, &r1, &r2, &p).is_ok());
        prop_assert!(verify_consistency(old, new, &r1, &r2, &flip(&p, which, bit)).is_err());
        prop_assert!(verify_consistency(old, new, &r1, &r2, &p[..p.len() - 1]).is_err());
        let mut longer = p.clone();
        longer.push(r1);
        prop_assert!(verify_consistency(old, new, &r1, &r2, &longer).is_err());
        prop_assert!(verify_consistency(new, old, &r2, &r1, &p).is_err());
        for (o, w) in [(old, new + delta), (old + delta, new), (old.saturating_sub(delta), new)] {
            if o >= 1 && o < w && t.consistency_proof(o, w).unwrap().len() != p.len() {
                prop_assert!(verify_consistency(o, w, &r1, &r2, &p).is_err());
            }
        }
        prop_assert!(verify_consistency(old, new, &flip(&[r1], 0, bit)[0], &r2, &p).is_err());
        prop_assert!(verify_consistency(old, new, &r1, &flip(&[r2], 0, bit)[0], &p).is_err());
        // A tree that differs in any one leaf below `old` is not consistent with this one.
        let mut forked = Tree::new();
        let bad = a % old;
        for i in 0..new {
            let x = if i == bad { u64::MAX - i } else { i ^ seed };
            forked.append(&x.to_le_bytes());
        }
        prop_assert!(verify_consistency(old, new, &forked.root_at(old).unwrap(), &r2, &p).is_err());
        prop_assert!(verify_consistency(old, new, &r1, &forked.root_at(new).unwrap(), &p).is_err());
    }

    /// tlog_tiles (Go's x/mod tlog, ported) accepts our proofs.
    #[test]
    fn independent_tlog_implementation_accepts_our_proofs(
        n in 1u64..3000, seed in any::<u64>(), a in any::<u64>(), b in any::<u64>(),
    ) {
        let t = tree_of(n, seed);
        let size = 1 + a % n;
        let index = b % size;
        let conv = |h: &Hash| tlog_tiles::Hash(h.0);
        let p: Vec<_> = t.inclusion_proof(index, size).unwrap().iter().map(conv).collect();
        prop_assert!(tlog_tiles::check_record(
            &p, size, conv(&t.root_at(size).unwrap()), index, conv(&t.leaf_hash(index).unwrap())
        ).is_ok());
        let old = 1 + b % size;
        let p: Vec<_> = t.consistency_proof(old, size).unwrap().iter().map(conv).collect();
        prop_assert!(tlog_tiles::check_tree(
            &p, size, conv(&t.root_at(size).unwrap()), old, conv(&t.root_at(old).unwrap())
        ).is_ok());
        prop_assert_eq!(tlog_tiles::record_hash(&(index ^ seed).to_le_bytes()).0, t.leaf_hash(index).unwrap().0);
    }
}

#[test]
fn a_million_leaves_fit_and_prove() {
    let mut t = Tree::new();
    for i in 0..1_000_000u64 {
        t.append(&i.to_le_bytes());
    }
    let root = t.root();
    let p = t.inclusion_proof(123_457, 1_000_000).unwrap();
    assert_eq!(p.len(), 20);
    verify_inclusion(
        123_457,
        1_000_000,
        &t.leaf_hash(123_457).unwrap(),
        &p,
        &root,
    )
    .unwrap();
    let c = t.consistency_proof(999_999, 1_000_000).unwrap();
    verify_consistency(999_999, 1_000_000, &t.root_at(999_999).unwrap(), &root, &c).unwrap();
}
