//! RFC 6962/9162 Merkle trees: the published SHA-256 test vectors pass through the same generic
//! code that Tiezheng runs with SM3, and the SM3 vectors published in
//! `schemas/vectors/merkle.json` (for independent verifiers) are reproduced.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, missing_docs)]

mod common;

use common::{repo_root, unhex};
use tiezheng_protocol::Hash32;
use tiezheng_protocol::merkle::{
    MerkleError, MerkleHasher, MerkleTree, Sha256Hasher, Sm3Hasher, verify_consistency,
    verify_inclusion,
};
use tiezheng_protocol::wire::{ConsistencyProof, InclusionProof};

fn vectors() -> serde_json::Value {
    let path = repo_root().join("schemas/vectors/merkle.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn hashes(v: &serde_json::Value) -> Vec<Hash32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|h| Hash32::from_hex(h.as_str().unwrap()).unwrap())
        .collect()
}

fn check_published<H: MerkleHasher>(section: &str) {
    let v = vectors();
    let leaves: Vec<Vec<u8>> = v["leaves"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| unhex(l.as_str().unwrap()))
        .collect();
    let tree = MerkleTree::<H>::from_leaves(leaves.iter().map(Vec::as_slice));
    let roots = hashes(&v[section]["roots"]);
    assert_eq!(roots.len(), 9);
    for (n, want) in roots.iter().enumerate() {
        assert_eq!(
            tree.root_at(n as u64).unwrap(),
            *want,
            "{section} root of {n} leaves"
        );
        let prefix = MerkleTree::<H>::from_leaves(leaves[..n].iter().map(Vec::as_slice));
        assert_eq!(prefix.root(), *want);
    }
    for case in v[section]["inclusion"].as_array().unwrap() {
        let (i, n) = (
            case["leaf_index"].as_u64().unwrap(),
            case["tree_size"].as_u64().unwrap(),
        );
        let want = hashes(&case["path"]);
        assert_eq!(
            tree.inclusion_proof(i, n).unwrap(),
            want,
            "{section} PATH({i}, {n})"
        );
        verify_inclusion::<H>(
            &H::leaf(&leaves[i as usize]),
            i,
            n,
            &want,
            &roots[n as usize],
        )
        .unwrap();
    }
    for case in v[section]["consistency"].as_array().unwrap_or(&Vec::new()) {
        let (m, n) = (
            case["old_size"].as_u64().unwrap(),
            case["new_size"].as_u64().unwrap(),
        );
        let want = hashes(&case["path"]);
        assert_eq!(
            tree.consistency_proof(m, n).unwrap(),
            want,
            "{section} PROOF({m}, {n})"
        );
        verify_consistency::<H>(m, n, &roots[m as usize], &roots[n as usize], &want).unwrap();
    }
}

#[test]
fn sha256_published_rfc6962_vectors() {
    check_published::<Sha256Hasher>("sha256");
}

#[test]
fn sm3_published_vectors() {
    check_published::<Sm3Hasher>("sm3");
    let v = vectors();
    let leaf5 = Sm3Hasher::leaf(&unhex(v["leaves"][5].as_str().unwrap()));
    assert_eq!(
        leaf5.to_hex(),
        v["sm3"]["leaf_hashes"]["5"].as_str().unwrap()
    );
}

fn tree_of(n: u64) -> MerkleTree<Sm3Hasher> {
    MerkleTree::from_leaves(
        (0..n)
            .map(|i| i.to_le_bytes())
            .collect::<Vec<_>>()
            .iter()
            .map(|b| b.as_slice()),
    )
}

fn flip(h: &Hash32) -> Hash32 {
    let mut b = *h.as_bytes();
    b[7] ^= 0x10;
    Hash32(b)
}

/// Every leaf of every tree size 1..=64 has a proof that verifies, and any change to the leaf,
/// index, size, root or any path element is refused.
#[test]
fn inclusion_all_sizes_and_tampering() {
    let tree = tree_of(64);
    for n in 1..=64u64 {
        let root = tree.root_at(n).unwrap();
        for i in 0..n {
            let leaf = tree.leaf_hash(i).unwrap();
            let proof = tree.inclusion_proof(i, n).unwrap();
            verify_inclusion::<Sm3Hasher>(&leaf, i, n, &proof, &root).unwrap();
            assert!(verify_inclusion::<Sm3Hasher>(&flip(&leaf), i, n, &proof, &root).is_err());
            assert!(verify_inclusion::<Sm3Hasher>(&leaf, i, n, &proof, &flip(&root)).is_err());
            if n > 1 {
                assert!(
                    verify_inclusion::<Sm3Hasher>(&leaf, (i + 1) % n, n, &proof, &root).is_err()
                );
            }
            // The size is authenticated by the signed header that carries it, not by the path:
            // leaf 0 of 3 and leaf 0 of 4 take the same route, so RFC 9162 cannot tell them
            // apart. A size that changes the route must fail.
            if tree.inclusion_proof(i, n + 1).map(|p| p.len()) != Ok(proof.len())
                || n.is_power_of_two()
            {
                assert!(
                    verify_inclusion::<Sm3Hasher>(&leaf, i, n + 1, &proof, &root).is_err(),
                    "n={n} i={i}"
                );
            }
            for k in 0..proof.len() {
                let mut bad = proof.clone();
                bad[k] = flip(&bad[k]);
                assert!(
                    verify_inclusion::<Sm3Hasher>(&leaf, i, n, &bad, &root).is_err(),
                    "n={n} i={i} k={k}"
                );
            }
            let mut longer = proof.clone();
            longer.push(root);
            assert!(verify_inclusion::<Sm3Hasher>(&leaf, i, n, &longer, &root).is_err());
            if !proof.is_empty() {
                assert!(verify_inclusion::<Sm3Hasher>(&leaf, i, n, &proof[1..], &root).is_err());
            }
        }
        assert_eq!(
            tree.inclusion_proof(n, n),
            Err(MerkleError::IndexOutOfRange { index: n, size: n })
        );
    }
}

/// Every pair of sizes 1 <= m <= n <= 64 has a consistency proof that verifies, and a change
/// to either root or any path element is refused.
#[test]
fn consistency_all_size_pairs_and_tampering() {
    let tree = tree_of(64);
    let roots: Vec<Hash32> = (0..=64).map(|n| tree.root_at(n).unwrap()).collect();
    for n in 1..=64u64 {
        for m in 1..=n {
            let proof = tree.consistency_proof(m, n).unwrap();
            let (ro, rn) = (&roots[m as usize], &roots[n as usize]);
            verify_consistency::<Sm3Hasher>(m, n, ro, rn, &proof).unwrap();
            if m < n {
                assert!(
                    verify_consistency::<Sm3Hasher>(m, n, &flip(ro), rn, &proof).is_err(),
                    "{m}->{n}"
                );
                assert!(
                    verify_consistency::<Sm3Hasher>(m, n, ro, &flip(rn), &proof).is_err(),
                    "{m}->{n}"
                );
                for k in 0..proof.len() {
                    let mut bad = proof.clone();
                    bad[k] = flip(&bad[k]);
                    assert!(
                        verify_consistency::<Sm3Hasher>(m, n, ro, rn, &bad).is_err(),
                        "{m}->{n} k={k}"
                    );
                }
                // A proof for another old size does not fit.
                if m > 1 {
                    assert!(
                        verify_consistency::<Sm3Hasher>(
                            m - 1,
                            n,
                            &roots[m as usize - 1],
                            rn,
                            &proof
                        )
                        .is_err()
                    );
                }
            }
        }
    }
    assert!(tree.consistency_proof(5, 4).is_err());
    assert!(tree.consistency_proof(1, 65).is_err());
    verify_consistency::<Sm3Hasher>(0, 7, &roots[0], &roots[7], &[]).unwrap();
    assert!(verify_consistency::<Sm3Hasher>(7, 7, &roots[7], &roots[6], &[]).is_err());
}

#[test]
fn wire_documents_round_trip_and_verify() {
    let tree = tree_of(13);
    let root = tree.root();
    let p = InclusionProof::from_tree(&tree, 11, 13).unwrap();
    let json = serde_json::to_string(&p).unwrap();
    assert!(
        json.starts_with(r#"{"algorithm":"SM3","leaf_index":11,"tree_size":13,"path":["#),
        "{json}"
    );
    let back: InclusionProof = serde_json::from_str(&json).unwrap();
    back.verify(&tree.leaf_hash(11).unwrap(), &root).unwrap();

    let c = ConsistencyProof::from_tree(&tree, 5, 13).unwrap();
    let back: ConsistencyProof = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
    back.verify(&tree.root_at(5).unwrap(), &root).unwrap();

    let mut long = p.clone();
    long.path = vec![root; 65];
    assert_eq!(
        long.verify(&root, &root),
        Err(MerkleError::ProofTooLong(65))
    );
}
