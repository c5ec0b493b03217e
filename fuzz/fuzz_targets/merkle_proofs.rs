//! Merkle inclusion and consistency proofs as a bundle carries them: arbitrary indexes, sizes
//! and paths are refused with a typed error or accepted, never a panic; and a path taken from
//! a real tree of the fuzzed leaves verifies, while the same path for another leaf does not.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use tiezheng_protocol::Hash32;
use tiezheng_protocol::merkle::{MerkleTree, Sm3Hasher, verify_consistency, verify_inclusion};

#[derive(Arbitrary, Debug)]
struct Input {
    index: u64,
    size: u64,
    old_size: u64,
    path: Vec<[u8; 32]>,
    root: [u8; 32],
    other_root: [u8; 32],
    leaves: Vec<Vec<u8>>,
}

fuzz_target!(|input: Input| {
    let path: Vec<Hash32> = input.path.iter().map(|b| Hash32(*b)).collect();
    let root = Hash32(input.root);
    let other = Hash32(input.other_root);
    let _ = verify_inclusion::<Sm3Hasher>(&root, input.index, input.size, &path, &root);
    let _ = verify_consistency::<Sm3Hasher>(input.old_size, input.size, &other, &root, &path);

    let leaves: Vec<&Vec<u8>> = input.leaves.iter().take(64).collect();
    if leaves.is_empty() {
        return;
    }
    let mut tree = MerkleTree::<Sm3Hasher>::new();
    for l in &leaves {
        tree.push_leaf(l);
    }
    let size = tree.len();
    let index = input.index % size;
    let Ok(proof) = tree.inclusion_proof(index, size) else {
        return;
    };
    let leaf = tree.leaf_hash(index).expect("a leaf of the tree");
    assert!(verify_inclusion::<Sm3Hasher>(&leaf, index, size, &proof, &tree.root()).is_ok());
    let wrong = Hash32::sm3(b"not a leaf of this tree");
    if wrong != leaf {
        assert!(verify_inclusion::<Sm3Hasher>(&wrong, index, size, &proof, &tree.root()).is_err());
    }
});
