//! Merkle trees as defined by RFC 6962 §2.1 / RFC 9162 §2.1, instantiated with SM3.
//!
//! * leaf hash `H(0x00 ‖ data)`, interior node `H(0x01 ‖ left ‖ right)`, empty tree `H("")`;
//! * a tree of `n` leaves splits at the largest power of two below `n`;
//! * inclusion proofs (`PATH`) and consistency proofs (`PROOF`) are produced by
//!   [`MerkleTree`] for the current size or any earlier size, and checked by
//!   [`verify_inclusion`] and [`verify_consistency`] with the RFC 9162 algorithms.
//!
//! The construction is generic over [`MerkleHasher`]: [`Sm3Hasher`] is what Tiezheng batches
//! and ledgers use; [`Sha256Hasher`] exists so the very same code can be checked against the
//! published RFC 6962 test vectors.

use std::marker::PhantomData;

use crate::algorithm::HashAlgorithm;
use crate::hash::Hash32;

/// Longest proof accepted by the verifiers: enough for 2^64 leaves.
pub const MAX_PROOF_LEN: usize = 64;

/// A hash function for the tree.
pub trait MerkleHasher {
    /// Which algorithm this is, for the wire documents.
    const ALGORITHM: HashAlgorithm;

    /// The hash of the concatenation of `parts`.
    fn hash(parts: &[&[u8]]) -> Hash32;

    /// `H(0x00 ‖ data)`.
    fn leaf(data: &[u8]) -> Hash32 {
        Self::hash(&[&[0x00], data])
    }

    /// `H(0x01 ‖ left ‖ right)`.
    fn node(left: &Hash32, right: &Hash32) -> Hash32 {
        Self::hash(&[&[0x01], left.as_bytes(), right.as_bytes()])
    }

    /// `H("")`, the root of the empty tree.
    fn empty() -> Hash32 {
        Self::hash(&[])
    }
}

/// SM3 (GB/T 32905): the tree hash of every Tiezheng batch and ledger.
#[derive(Debug, Clone, Copy)]
pub struct Sm3Hasher;

impl MerkleHasher for Sm3Hasher {
    const ALGORITHM: HashAlgorithm = HashAlgorithm::Sm3;

    fn hash(parts: &[&[u8]]) -> Hash32 {
        use sm3::Digest as _;
        let mut h = sm3::Sm3::new();
        for p in parts {
            h.update(p);
        }
        Hash32(h.finalize().into())
    }
}

/// SHA-256: the RFC 6962 original, for test vectors and for verifiers that want it.
#[derive(Debug, Clone, Copy)]
pub struct Sha256Hasher;

impl MerkleHasher for Sha256Hasher {
    const ALGORITHM: HashAlgorithm = HashAlgorithm::Sha256;

    fn hash(parts: &[&[u8]]) -> Hash32 {
        let mut h = crate::hash::ContentHasher::new(HashAlgorithm::Sha256);
        for p in parts {
            h.update(p);
        }
        h.finalize()
    }
}

/// Why a proof could not be produced or does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MerkleError {
    /// A leaf index not below the tree size.
    #[error("leaf index {index} is outside a tree of {size} leaves")]
    IndexOutOfRange {
        /// The index asked for.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// A tree size larger than the tree, or an old size larger than the new one.
    #[error("tree sizes {old} and {new} are not a valid pair (need old <= new <= {available})")]
    InvalidSizes {
        /// The older (or requested) size.
        old: u64,
        /// The newer size.
        new: u64,
        /// Leaves actually present.
        available: u64,
    },
    /// A proof with more entries than any tree needs.
    #[error("proof has {0} entries; at most 64 are possible")]
    ProofTooLong(usize),
    /// A proof with the wrong number of entries for the sizes involved.
    #[error("proof has the wrong number of entries for these tree sizes")]
    WrongProofLength,
    /// The recomputed root differs from the expected root.
    #[error("recomputed root {computed} does not match expected root {expected}")]
    RootMismatch {
        /// What the proof yields.
        computed: Hash32,
        /// What it should have yielded.
        expected: Hash32,
    },
}

/// An append-only Merkle tree that keeps every complete subtree, so proofs take
/// O(log² n) hash operations and appends O(log n).
#[derive(Clone, Debug)]
pub struct MerkleTree<H: MerkleHasher> {
    /// `levels[k][i]` is the hash of the perfect subtree of leaves `[i·2^k, (i+1)·2^k)`.
    levels: Vec<Vec<Hash32>>,
    hasher: PhantomData<H>,
}

impl<H: MerkleHasher> Default for MerkleTree<H> {
    fn default() -> Self {
        Self::new()
    }
}

impl<H: MerkleHasher> MerkleTree<H> {
    /// The empty tree.
    pub fn new() -> Self {
        Self {
            levels: vec![Vec::new()],
            hasher: PhantomData,
        }
    }

    /// A tree over already-computed leaf hashes.
    pub fn from_leaf_hashes(leaf_hashes: impl IntoIterator<Item = Hash32>) -> Self {
        let mut t = Self::new();
        for h in leaf_hashes {
            t.push_leaf_hash(h);
        }
        t
    }

    /// A tree over raw leaf data (each hashed with [`MerkleHasher::leaf`]).
    pub fn from_leaves<'a>(leaves: impl IntoIterator<Item = &'a [u8]>) -> Self {
        Self::from_leaf_hashes(leaves.into_iter().map(H::leaf))
    }

    /// Appends raw leaf data; returns its index.
    pub fn push_leaf(&mut self, data: &[u8]) -> u64 {
        self.push_leaf_hash(H::leaf(data))
    }

    /// Appends a leaf hash; returns its index.
    pub fn push_leaf_hash(&mut self, leaf_hash: Hash32) -> u64 {
        let index = self.len();
        let mut level = 0;
        let mut node = leaf_hash;
        let mut i = index;
        loop {
            if self.levels.len() <= level {
                self.levels.push(Vec::new());
            }
            let Some(row) = self.levels.get_mut(level) else {
                break;
            };
            row.push(node);
            if i.is_multiple_of(2) {
                break;
            }
            // The new node completes a pair: its parent is now a perfect subtree too.
            let (Some(left), Some(right)) = (row.iter().nth_back(1), row.last()) else {
                break;
            };
            node = H::node(left, right);
            i /= 2;
            level += 1;
        }
        index
    }

    /// Drops every leaf from `size` on: the tree is again exactly the tree it was when it held
    /// `size` leaves (a larger `size` changes nothing). Every perfect subtree that lies wholly
    /// within the first `size` leaves is kept as it is; the others are removed.
    pub fn truncate(&mut self, size: u64) {
        for (k, row) in self.levels.iter_mut().enumerate() {
            let keep = size
                .checked_shr(u32::try_from(k).unwrap_or(u32::MAX))
                .unwrap_or(0);
            row.truncate(usize::try_from(keep).unwrap_or(usize::MAX));
        }
        while self.levels.last().is_some_and(Vec::is_empty) {
            self.levels.pop();
        }
    }

    /// Number of leaves.
    pub fn len(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    /// Whether the tree has no leaves.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The leaf hash at `index`.
    pub fn leaf_hash(&self, index: u64) -> Option<Hash32> {
        self.levels
            .first()?
            .get(usize::try_from(index).ok()?)
            .copied()
    }

    /// The root of the whole tree (MTH of all leaves).
    pub fn root(&self) -> Hash32 {
        self.root_at(self.len()).unwrap_or_else(|_| H::empty())
    }

    /// The root the tree had when it held `size` leaves.
    pub fn root_at(&self, size: u64) -> Result<Hash32, MerkleError> {
        self.check_size(size, size)?;
        if size == 0 {
            return Ok(H::empty());
        }
        Ok(self.subtree(0, size))
    }

    /// The inclusion proof of leaf `index` in the tree of the first `size` leaves.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash32>, MerkleError> {
        self.check_size(size, size)?;
        if index >= size {
            return Err(MerkleError::IndexOutOfRange { index, size });
        }
        let mut proof = Vec::new();
        self.path(index, 0, size, &mut proof);
        Ok(proof)
    }

    /// The consistency proof between the tree of `old` leaves and the tree of `new` leaves.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash32>, MerkleError> {
        self.check_size(old, new)?;
        let mut proof = Vec::new();
        if old > 0 && old < new {
            self.subproof(old, 0, new, true, &mut proof);
        }
        Ok(proof)
    }

    fn check_size(&self, old: u64, new: u64) -> Result<(), MerkleError> {
        let available = self.len();
        if old > new || new > available {
            return Err(MerkleError::InvalidSizes {
                old,
                new,
                available,
            });
        }
        Ok(())
    }

    /// MTH of the `size` leaves starting at `start`; `start` is always aligned as RFC 6962's
    /// recursion produces it, so perfect subtrees come straight from `levels`.
    fn subtree(&self, start: u64, size: u64) -> Hash32 {
        if size.is_power_of_two() {
            let level = size.trailing_zeros() as usize;
            let stored = usize::try_from(start >> level)
                .ok()
                .and_then(|i| self.levels.get(level)?.get(i).copied());
            if let Some(h) = stored {
                return h;
            }
        }
        if size <= 1 {
            // Unreachable for sizes checked by the callers; the empty hash keeps it total.
            return H::empty();
        }
        let k = split_point(size);
        H::node(&self.subtree(start, k), &self.subtree(start + k, size - k))
    }

    /// RFC 6962 `PATH(m, D[start : start+size])`, leaf side first.
    fn path(&self, m: u64, start: u64, size: u64, out: &mut Vec<Hash32>) {
        if size <= 1 {
            return;
        }
        let k = split_point(size);
        if m < k {
            self.path(m, start, k, out);
            out.push(self.subtree(start + k, size - k));
        } else {
            self.path(m - k, start + k, size - k, out);
            out.push(self.subtree(start, k));
        }
    }

    /// RFC 6962 `SUBPROOF(m, D[start : start+size], b)`.
    fn subproof(&self, m: u64, start: u64, size: u64, complete: bool, out: &mut Vec<Hash32>) {
        if m == size {
            if !complete {
                out.push(self.subtree(start, size));
            }
            return;
        }
        let k = split_point(size);
        if m <= k {
            self.subproof(m, start, k, complete, out);
            out.push(self.subtree(start + k, size - k));
        } else {
            self.subproof(m - k, start + k, size - k, false, out);
            out.push(self.subtree(start, k));
        }
    }
}

/// The largest power of two strictly below `n` (for `n >= 2`).
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

/// RFC 9162 §2.1.3.2: checks that `leaf_hash` is leaf `index` of a tree of `size` leaves with
/// root `root`.
pub fn verify_inclusion<H: MerkleHasher>(
    leaf_hash: &Hash32,
    index: u64,
    size: u64,
    proof: &[Hash32],
    root: &Hash32,
) -> Result<(), MerkleError> {
    if proof.len() > MAX_PROOF_LEN {
        return Err(MerkleError::ProofTooLong(proof.len()));
    }
    if index >= size {
        return Err(MerkleError::IndexOutOfRange { index, size });
    }
    let mut fnode = index;
    let mut snode = size - 1;
    let mut r = *leaf_hash;
    for p in proof {
        if snode == 0 {
            return Err(MerkleError::WrongProofLength);
        }
        if fnode & 1 == 1 || fnode == snode {
            r = H::node(p, &r);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            r = H::node(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(MerkleError::WrongProofLength);
    }
    if r != *root {
        return Err(MerkleError::RootMismatch {
            computed: r,
            expected: *root,
        });
    }
    Ok(())
}

/// RFC 9162 §2.1.4.2: checks that the tree of `old_size` leaves with root `old_root` is a prefix
/// of the tree of `new_size` leaves with root `new_root`.
pub fn verify_consistency<H: MerkleHasher>(
    old_size: u64,
    new_size: u64,
    old_root: &Hash32,
    new_root: &Hash32,
    proof: &[Hash32],
) -> Result<(), MerkleError> {
    if proof.len() > MAX_PROOF_LEN {
        return Err(MerkleError::ProofTooLong(proof.len()));
    }
    if old_size > new_size {
        return Err(MerkleError::InvalidSizes {
            old: old_size,
            new: new_size,
            available: new_size,
        });
    }
    if old_size == new_size {
        if !proof.is_empty() {
            return Err(MerkleError::WrongProofLength);
        }
        if old_root != new_root {
            return Err(MerkleError::RootMismatch {
                computed: *old_root,
                expected: *new_root,
            });
        }
        return Ok(());
    }
    if old_size == 0 {
        // Every tree extends the empty tree; RFC 9162 proofs from size 0 are empty.
        return if proof.is_empty() {
            Ok(())
        } else {
            Err(MerkleError::WrongProofLength)
        };
    }
    let mut path: Vec<Hash32> = Vec::with_capacity(proof.len() + 1);
    if old_size.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    let Some((first, rest)) = path.split_first() else {
        return Err(MerkleError::WrongProofLength);
    };
    let mut fnode = old_size - 1;
    let mut snode = new_size - 1;
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    let mut fr = *first;
    let mut sr = *first;
    for c in rest {
        if snode == 0 {
            return Err(MerkleError::WrongProofLength);
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = H::node(c, &fr);
            sr = H::node(c, &sr);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            sr = H::node(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(MerkleError::WrongProofLength);
    }
    if fr != *old_root {
        return Err(MerkleError::RootMismatch {
            computed: fr,
            expected: *old_root,
        });
    }
    if sr != *new_root {
        return Err(MerkleError::RootMismatch {
            computed: sr,
            expected: *new_root,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_points() {
        assert_eq!(split_point(2), 1);
        assert_eq!(split_point(3), 2);
        assert_eq!(split_point(4), 2);
        assert_eq!(split_point(5), 4);
        assert_eq!(split_point(8), 4);
        assert_eq!(split_point(9), 8);
    }

    #[test]
    fn incremental_equals_batch_and_root_at_history() {
        let data: Vec<Vec<u8>> = (0u32..40).map(|i| i.to_be_bytes().to_vec()).collect();
        let full = MerkleTree::<Sm3Hasher>::from_leaves(data.iter().map(Vec::as_slice));
        for n in 0..=data.len() {
            let prefix = MerkleTree::<Sm3Hasher>::from_leaves(data[..n].iter().map(Vec::as_slice));
            assert_eq!(full.root_at(n as u64).unwrap(), prefix.root(), "size {n}");
        }
        assert!(full.root_at(41).is_err());
    }

    #[test]
    fn truncated_tree_is_the_tree_of_the_prefix_and_grows_alike() {
        let data: Vec<Vec<u8>> = (0u32..40).map(|i| i.to_be_bytes().to_vec()).collect();
        for n in 0..=data.len() {
            let mut cut = MerkleTree::<Sm3Hasher>::from_leaves(data.iter().map(Vec::as_slice));
            cut.truncate(n as u64);
            let prefix = MerkleTree::<Sm3Hasher>::from_leaves(data[..n].iter().map(Vec::as_slice));
            assert_eq!(cut.len(), n as u64);
            assert_eq!(cut.root(), prefix.root(), "size {n}");
            // Growing the truncated tree again gives every root and proof of the full tree.
            for d in &data[n..] {
                cut.push_leaf(d);
            }
            let full = MerkleTree::<Sm3Hasher>::from_leaves(data.iter().map(Vec::as_slice));
            assert_eq!(cut.root(), full.root(), "regrown from {n}");
            for i in 0..data.len() as u64 {
                assert_eq!(
                    cut.inclusion_proof(i, 40).unwrap(),
                    full.inclusion_proof(i, 40).unwrap()
                );
            }
        }
        let mut t = MerkleTree::<Sm3Hasher>::from_leaves(data.iter().map(Vec::as_slice));
        t.truncate(100);
        assert_eq!(t.len(), 40);
    }
}
