//! An append-only RFC 6962 Merkle tree that nobody holds in full: its right edge (the
//! [`Frontier`], at most 64 hashes) gives the root of every size as leaves are appended, and
//! every perfect subtree it completes is reported so that a store keeps those it wants (for
//! example every subtree of 1,024 leaves). An inclusion proof is then assembled from whatever
//! perfect subtrees the store can give ([`inclusion_path`]), the missing ones recomputed from
//! their children down to the leaves. The notary holds its custody log this way: millions of
//! events, proofs in O(log n) stored nodes. The results are those of [`crate::merkle`]'s
//! [`crate::merkle::MerkleTree`], which the tests check.

use std::marker::PhantomData;

use crate::hash::Hash32;
use crate::merkle::{MerkleError, MerkleHasher};

/// A perfect subtree: the hash of leaves `[index·2^level, (index+1)·2^level)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Node {
    /// Height above the leaves (0: a leaf hash).
    pub level: u32,
    /// Position among the subtrees of that level.
    pub index: u64,
    /// Its hash.
    pub hash: Hash32,
}

/// The right edge of an append-only tree of `size` leaves: the roots of the perfect subtrees
/// its size decomposes into, largest (leftmost) first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frontier<H: MerkleHasher> {
    size: u64,
    /// `(level, hash)`, levels strictly decreasing.
    edge: Vec<(u32, Hash32)>,
    hasher: PhantomData<H>,
}

impl<H: MerkleHasher> Default for Frontier<H> {
    fn default() -> Self {
        Self {
            size: 0,
            edge: Vec::new(),
            hasher: PhantomData,
        }
    }
}

impl<H: MerkleHasher> Frontier<H> {
    /// The frontier of a tree of `size` leaves with this right edge (as [`Self::edge`] gives
    /// it); `None` if the edge does not fit the size.
    pub fn from_edge(size: u64, edge: Vec<(u32, Hash32)>) -> Option<Self> {
        let levels: u64 = edge
            .iter()
            .try_fold(0u64, |acc, (l, _)| acc.checked_add(1u64.checked_shl(*l)?))?;
        let decreasing = edge.windows(2).all(|w| matches!(w, [a, b] if a.0 > b.0));
        (levels == size && decreasing).then_some(Self {
            size,
            edge,
            hasher: PhantomData,
        })
    }

    /// Leaves in the tree.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The right edge, `(level, hash)` largest first: what to store to continue later.
    pub fn edge(&self) -> &[(u32, Hash32)] {
        &self.edge
    }

    /// Appends a leaf hash; returns every perfect subtree this completes, the leaf itself
    /// first, then upwards.
    pub fn push(&mut self, leaf_hash: Hash32) -> Vec<Node> {
        let index = self.size;
        let mut done = vec![Node {
            level: 0,
            index,
            hash: leaf_hash,
        }];
        let mut node = (0u32, leaf_hash);
        while let Some(&(level, left)) = self.edge.last() {
            if level != node.0 {
                break;
            }
            self.edge.pop();
            let hash = H::node(&left, &node.1);
            let level = level + 1;
            done.push(Node {
                level,
                index: index >> level,
                hash,
            });
            node = (level, hash);
        }
        self.edge.push(node);
        self.size += 1;
        done
    }

    /// The root of the tree (the empty tree's hash when it has no leaf).
    pub fn root(&self) -> Hash32 {
        let mut nodes = self.edge.iter().rev();
        let Some((_, first)) = nodes.next() else {
            return H::empty();
        };
        nodes.fold(*first, |right, (_, left)| H::node(left, &right))
    }
}

/// The hash of the perfect subtree `(level, index)`, from `stored` if it has it, else from its
/// children; `stored` must at least have every leaf hash (level 0) it is asked for.
fn perfect<H: MerkleHasher>(
    level: u32,
    index: u64,
    stored: &mut dyn FnMut(u32, u64) -> Option<Hash32>,
) -> Result<Hash32, MerkleError> {
    if let Some(h) = stored(level, index) {
        return Ok(h);
    }
    if level == 0 {
        return Err(MerkleError::IndexOutOfRange { index, size: index });
    }
    let left = perfect::<H>(level - 1, index * 2, stored)?;
    let right = perfect::<H>(level - 1, index * 2 + 1, stored)?;
    Ok(H::node(&left, &right))
}

/// RFC 6962 `MTH(D[start : start+size])` for the aligned ranges its recursion produces.
fn subtree<H: MerkleHasher>(
    start: u64,
    size: u64,
    stored: &mut dyn FnMut(u32, u64) -> Option<Hash32>,
) -> Result<Hash32, MerkleError> {
    if size.is_power_of_two() {
        let level = size.trailing_zeros();
        return perfect::<H>(level, start >> level, stored);
    }
    let k = split(size);
    let left = subtree::<H>(start, k, stored)?;
    let right = subtree::<H>(start + k, size - k, stored)?;
    Ok(H::node(&left, &right))
}

/// The largest power of two strictly below `n` (`n >= 2`).
fn split(n: u64) -> u64 {
    1 << (63 - (n - 1).leading_zeros())
}

/// The root of the tree of the first `size` leaves, from the perfect subtrees `stored` has
/// (and the leaves it must have where it has no subtree).
pub fn root_from<H: MerkleHasher>(
    size: u64,
    stored: &mut dyn FnMut(u32, u64) -> Option<Hash32>,
) -> Result<Hash32, MerkleError> {
    if size == 0 {
        return Ok(H::empty());
    }
    subtree::<H>(0, size, stored)
}

/// RFC 6962 `PATH(index, D[0 : size])`, leaf side first, from the perfect subtrees `stored`
/// has: for leaf `index` it needs the leaves of the smallest stored subtree around it, and
/// for the rest the stored subtrees (or the leaves under those it lacks).
pub fn inclusion_path<H: MerkleHasher>(
    index: u64,
    size: u64,
    stored: &mut dyn FnMut(u32, u64) -> Option<Hash32>,
) -> Result<Vec<Hash32>, MerkleError> {
    if index >= size {
        return Err(MerkleError::IndexOutOfRange { index, size });
    }
    let (mut m, mut start, mut n) = (index, 0u64, size);
    // RFC 6962 builds the path from the root down and lists it from the leaf up.
    let mut down = Vec::new();
    while n > 1 {
        let k = split(n);
        if m < k {
            down.push(subtree::<H>(start + k, n - k, stored)?);
            n = k;
        } else {
            down.push(subtree::<H>(start, k, stored)?);
            m -= k;
            start += k;
            n -= k;
        }
    }
    down.reverse();
    Ok(down)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::{MerkleTree, Sm3Hasher};
    use std::collections::HashMap;

    fn leaves(n: u64) -> Vec<Hash32> {
        (0..n).map(|i| Sm3Hasher::leaf(&i.to_be_bytes())).collect()
    }

    #[test]
    fn the_frontier_gives_every_root_and_reports_perfect_subtrees() {
        let mut f = Frontier::<Sm3Hasher>::default();
        let mut t = MerkleTree::<Sm3Hasher>::new();
        assert_eq!(f.root(), t.root());
        let mut kept = HashMap::new();
        for (i, h) in leaves(300).into_iter().enumerate() {
            for n in f.push(h) {
                kept.insert((n.level, n.index), n.hash);
            }
            t.push_leaf_hash(h);
            assert_eq!(f.root(), t.root(), "size {}", i + 1);
            let again = Frontier::<Sm3Hasher>::from_edge(f.size(), f.edge().to_vec()).unwrap();
            assert_eq!(again.root(), f.root());
        }
        assert_eq!(kept.get(&(8, 0)), Some(&t.root_at(256).unwrap()));
        assert!(Frontier::<Sm3Hasher>::from_edge(5, vec![(2, Hash32::sm3(b""))]).is_none());
    }

    #[test]
    fn paths_from_sparse_subtrees_are_the_full_trees_paths() {
        let all = leaves(2_100);
        let mut t = MerkleTree::<Sm3Hasher>::new();
        let mut f = Frontier::<Sm3Hasher>::default();
        // The store keeps only subtrees of 256 leaves, as the notary keeps tiles.
        let mut tiles = HashMap::new();
        for h in &all {
            t.push_leaf_hash(*h);
            for n in f.push(*h) {
                if n.level == 8 {
                    tiles.insert(n.index, n.hash);
                }
            }
        }
        for size in [1u64, 2, 3, 255, 256, 257, 1_000, 1_024, 2_047, 2_100] {
            for index in [0, size / 3, size / 2, size - 1] {
                let mut reads = 0;
                // Leaves only of the leaf's own tile and of the tree's unfinished end, and only
                // the tiles below the size, as the notary loads them.
                let tail = size / 256;
                let mut stored = |level: u32, i: u64| {
                    reads += 1;
                    match level {
                        8 if i < tail => tiles.get(&i).copied(),
                        0 if i / 256 == index / 256 || (i / 256 == tail && i < size) => {
                            all.get(usize::try_from(i).ok()?).copied()
                        }
                        _ => None,
                    }
                };
                let path = inclusion_path::<Sm3Hasher>(index, size, &mut stored).unwrap();
                assert_eq!(
                    path,
                    t.inclusion_proof(index, size).unwrap(),
                    "{index}/{size}"
                );
                let root = root_from::<Sm3Hasher>(size, &mut stored).unwrap();
                assert_eq!(root, t.root_at(size).unwrap());
                assert!(reads < 4_000, "{reads} reads for {index}/{size}");
            }
        }
        assert!(inclusion_path::<Sm3Hasher>(5, 5, &mut |_, _| None).is_err());
        assert!(inclusion_path::<Sm3Hasher>(0, 4, &mut |_, _| None).is_err());
    }
}
