//! Wire documents defined by the protocol core. Their JSON Schemas are generated into
//! `schemas/` (see [`crate::schema`]).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::algorithm::HashAlgorithm;
use crate::hash::{ContentDigests, Hash32};
use crate::merkle::{self, MerkleError, MerkleHasher, Sha256Hasher, Sm3Hasher};

/// One line of `tiezheng hash` output (JSON Lines).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "HashRecord",
    description = "One line of `tiezheng hash` output: a file's size and its SM3 and SHA-256 digests."
)]
pub struct HashRecord {
    /// The path as given on the command line.
    pub path: String,
    /// File size in bytes.
    #[schemars(range(max = 9_007_199_254_740_991u64))]
    pub bytes: u64,
    /// SM3 of the file (GB/T 32905), lowercase hex.
    pub sm3: Hash32,
    /// SHA-256 of the file, lowercase hex.
    pub sha256: Hash32,
}

impl HashRecord {
    /// The record for `path` with the digests computed over it.
    pub fn new(path: impl Into<String>, digests: &ContentDigests) -> Self {
        Self {
            path: path.into(),
            bytes: digests.bytes,
            sm3: digests.sm3,
            sha256: digests.sha256,
        }
    }
}

/// A content digest as it appears in manifests: algorithm name, OID and value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "ContentHash",
    description = "A digest of evidence content with its algorithm named and identified by OID."
)]
pub struct ContentHash {
    /// `"SM3"` or `"SHA-256"`.
    pub algorithm: HashAlgorithm,
    /// The algorithm's OID: 1.2.156.10197.1.401 (SM3) or 2.16.840.1.101.3.4.2.1 (SHA-256).
    #[schemars(regex(pattern = r"^(1\.2\.156\.10197\.1\.401|2\.16\.840\.1\.101\.3\.4\.2\.1)$"))]
    pub oid: String,
    /// The digest, 64 lowercase hex digits.
    pub value: Hash32,
}

impl ContentHash {
    /// The entry for `algorithm` with `value`.
    pub fn new(algorithm: HashAlgorithm, value: Hash32) -> Self {
        Self {
            algorithm,
            oid: algorithm.oid().to_owned(),
            value,
        }
    }

    /// Both entries (SM3 first) for a pair of digests.
    pub fn pair(d: &ContentDigests) -> Vec<Self> {
        vec![
            Self::new(HashAlgorithm::Sm3, d.sm3),
            Self::new(HashAlgorithm::Sha256, d.sha256),
        ]
    }

    /// Whether `oid` matches `algorithm`.
    pub fn is_consistent(&self) -> bool {
        self.oid == self.algorithm.oid()
    }
}

/// An RFC 6962 inclusion proof: leaf `leaf_index` is in the tree of `tree_size` leaves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "InclusionProof",
    description = "RFC 6962/9162 inclusion proof; leaf hash H(0x00||data), node hash H(0x01||left||right)."
)]
pub struct InclusionProof {
    /// The tree hash: `"SM3"` for Tiezheng trees.
    pub algorithm: HashAlgorithm,
    /// Zero-based index of the leaf.
    #[schemars(range(max = 9_007_199_254_740_991u64))]
    pub leaf_index: u64,
    /// Number of leaves in the tree the root belongs to.
    #[schemars(range(min = 1, max = 9_007_199_254_740_991u64))]
    pub tree_size: u64,
    /// Sibling hashes from the leaf up to the root.
    #[schemars(length(max = 64))]
    pub path: Vec<Hash32>,
}

impl InclusionProof {
    /// Checks the proof for `leaf_hash` against `root`.
    pub fn verify(&self, leaf_hash: &Hash32, root: &Hash32) -> Result<(), MerkleError> {
        match self.algorithm {
            HashAlgorithm::Sm3 => merkle::verify_inclusion::<Sm3Hasher>(
                leaf_hash,
                self.leaf_index,
                self.tree_size,
                &self.path,
                root,
            ),
            HashAlgorithm::Sha256 => merkle::verify_inclusion::<Sha256Hasher>(
                leaf_hash,
                self.leaf_index,
                self.tree_size,
                &self.path,
                root,
            ),
        }
    }

    /// Builds the document from a tree.
    pub fn from_tree<H: MerkleHasher>(
        tree: &merkle::MerkleTree<H>,
        leaf_index: u64,
        tree_size: u64,
    ) -> Result<Self, MerkleError> {
        Ok(Self {
            algorithm: H::ALGORITHM,
            leaf_index,
            tree_size,
            path: tree.inclusion_proof(leaf_index, tree_size)?,
        })
    }
}

/// An RFC 6962 consistency proof: the tree of `old_size` leaves is a prefix of the tree of
/// `new_size` leaves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "ConsistencyProof",
    description = "RFC 6962/9162 consistency proof between two sizes of an append-only tree."
)]
pub struct ConsistencyProof {
    /// The tree hash: `"SM3"` for Tiezheng trees.
    pub algorithm: HashAlgorithm,
    /// Size of the older tree.
    #[schemars(range(max = 9_007_199_254_740_991u64))]
    pub old_size: u64,
    /// Size of the newer tree.
    #[schemars(range(max = 9_007_199_254_740_991u64))]
    pub new_size: u64,
    /// The proof hashes.
    #[schemars(length(max = 64))]
    pub path: Vec<Hash32>,
}

impl ConsistencyProof {
    /// Checks the proof against the two roots.
    pub fn verify(&self, old_root: &Hash32, new_root: &Hash32) -> Result<(), MerkleError> {
        match self.algorithm {
            HashAlgorithm::Sm3 => merkle::verify_consistency::<Sm3Hasher>(
                self.old_size,
                self.new_size,
                old_root,
                new_root,
                &self.path,
            ),
            HashAlgorithm::Sha256 => merkle::verify_consistency::<Sha256Hasher>(
                self.old_size,
                self.new_size,
                old_root,
                new_root,
                &self.path,
            ),
        }
    }

    /// Builds the document from a tree.
    pub fn from_tree<H: MerkleHasher>(
        tree: &merkle::MerkleTree<H>,
        old_size: u64,
        new_size: u64,
    ) -> Result<Self, MerkleError> {
        Ok(Self {
            algorithm: H::ALGORITHM,
            old_size,
            new_size,
            path: tree.consistency_proof(old_size, new_size)?,
        })
    }
}
