//! The custody log as an RFC 6962 SM3 tree, held sparsely: each commitment a batch header
//! carries (`custody_commitments`, with the tree's right edge so the next one continues from
//! it) and every complete subtree of [`TILE`] events (`custody_tiles`). A commitment reads only
//! the events since the last one; an event's inclusion proof reads the tiles and at most two
//! tiles' worth of events (its own and the log's unfinished end).

use std::collections::HashMap;

use sqlx::Row;
use tiezheng_protocol::custody::{CustodyCommitment, CustodyEvent, leaf_hash};
use tiezheng_protocol::frontier::{self, Frontier};
use tiezheng_protocol::{Hash32, HashAlgorithm, InclusionProof, Sm3Hasher};

use super::{Result, Store, StoreError, Tx};

/// Events per stored subtree: 2^10.
pub(super) const TILE_LEVEL: u32 = 10;
/// 1,024.
pub const TILE: i64 = 1 << TILE_LEVEL;

/// The commitment a batch about to close will carry, and what to store with it.
#[derive(Debug, Clone)]
pub struct NextCommitment {
    /// Size and root.
    pub commitment: CustodyCommitment,
    /// Whether it commits events the last commitment did not (else it repeats it).
    pub grown: bool,
    /// The tree's right edge, JSON.
    pub edge: String,
    /// Tiles completed since the last commitment: `(tile, root hex)`.
    pub tiles: Vec<(i64, String)>,
}

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("custody tree: {what}"))
}

fn hash(hex: &str) -> Result<Hash32> {
    Hash32::from_hex(hex).map_err(corrupt)
}

impl Store {
    /// The last commitment of the custody log: its size, root and right edge.
    async fn last_commitment(&self) -> Result<Option<(CustodyCommitment, Frontier<Sm3Hasher>)>> {
        let Some(r) = sqlx::query(
            "SELECT size, root, edge FROM custody_commitments ORDER BY size DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let size: i64 = r.try_get("size")?;
        let size = u64::try_from(size).map_err(corrupt)?;
        let edge: Vec<(u32, Hash32)> =
            serde_json::from_str(&r.try_get::<String, _>("edge")?).map_err(corrupt)?;
        let frontier = Frontier::from_edge(size, edge)
            .ok_or_else(|| corrupt(format!("the stored edge does not fit size {size}")))?;
        let commitment = CustodyCommitment {
            size,
            root: hash(&r.try_get::<String, _>("root")?)?,
        };
        Ok(Some((commitment, frontier)))
    }

    /// The commitment of the custody log as it is now: the last one extended by the events
    /// logged since; `None` while the log is empty.
    pub async fn next_custody_commitment(&self) -> Result<Option<NextCommitment>> {
        let (last, mut frontier) = match self.last_commitment().await? {
            Some((c, f)) => (Some(c), f),
            None => (None, Frontier::default()),
        };
        let from = i64::try_from(frontier.size()).map_err(corrupt)?;
        let rows = sqlx::query("SELECT seq, hash FROM custody_events WHERE seq > $1 ORDER BY seq")
            .bind(from)
            .fetch_all(&self.pool)
            .await?;
        let mut tiles = Vec::new();
        for r in &rows {
            let seq: i64 = r.try_get("seq")?;
            if u64::try_from(seq).ok() != Some(frontier.size() + 1) {
                return Err(corrupt(format!(
                    "event {seq} follows {}: the log has a gap",
                    frontier.size()
                )));
            }
            for node in frontier.push(leaf_hash(&hash(&r.try_get::<String, _>("hash")?)?)) {
                if node.level == TILE_LEVEL {
                    tiles.push((
                        i64::try_from(node.index).map_err(corrupt)?,
                        node.hash.to_hex(),
                    ));
                }
            }
        }
        if frontier.size() == 0 {
            return Ok(None);
        }
        let commitment = CustodyCommitment {
            size: frontier.size(),
            root: frontier.root(),
        };
        Ok(Some(NextCommitment {
            grown: last != Some(commitment),
            commitment,
            edge: serde_json::to_string(frontier.edge()).map_err(corrupt)?,
            tiles,
        }))
    }

    /// The newest commitments of the custody log, newest first: `(size, batch_seq)`.
    pub async fn custody_commitments(&self, limit: i64) -> Result<Vec<(i64, i64)>> {
        let rows = sqlx::query(
            "SELECT size, batch_seq FROM custody_commitments ORDER BY size DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("size")?, r.try_get("batch_seq")?)))
            .collect()
    }

    /// The size of the last commitment (0 when none) and the log's last sequence number.
    pub async fn custody_uncommitted(&self) -> Result<(i64, i64)> {
        let committed: Option<i64> =
            sqlx::query_scalar("SELECT MAX(size) FROM custody_commitments")
                .fetch_one(&self.pool)
                .await?;
        let logged: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM custody_events")
            .fetch_one(&self.pool)
            .await?;
        Ok((committed.unwrap_or(0), logged.unwrap_or(0)))
    }

    /// The events of `proof_sm3` among the first `size` of the log, each with its inclusion
    /// proof in their tree; empty if any of them predates `item_prev` (a reader could not
    /// check that none is missing).
    pub async fn custody_proofs(
        &self,
        proof_sm3: &str,
        size: i64,
    ) -> Result<Vec<(CustodyEvent, InclusionProof)>> {
        let events: Vec<CustodyEvent> = self
            .custody_of(proof_sm3)
            .await?
            .into_iter()
            .filter(|e| e.seq <= size)
            .collect();
        if events.is_empty() || events.iter().any(|e| e.item_prev.is_none()) {
            return Ok(Vec::new());
        }
        let full_tiles = size / TILE;
        let tiles: HashMap<u64, Hash32> =
            sqlx::query("SELECT tile, root FROM custody_tiles WHERE tile < $1")
                .bind(full_tiles)
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|r| {
                    let t: i64 = r.try_get("tile")?;
                    Ok((
                        u64::try_from(t).map_err(corrupt)?,
                        hash(&r.try_get::<String, _>("root")?)?,
                    ))
                })
                .collect::<Result<_>>()?;
        // The leaves needed: those of each event's tile and of the log's unfinished end.
        let mut ranges: Vec<i64> = events.iter().map(|e| (e.seq - 1) / TILE).collect();
        ranges.push(full_tiles);
        ranges.sort_unstable();
        ranges.dedup();
        let mut leaves: HashMap<u64, Hash32> = HashMap::new();
        for t in ranges {
            let rows = sqlx::query(
                "SELECT seq, hash FROM custody_events WHERE seq > $1 AND seq <= $2 ORDER BY seq",
            )
            .bind(t * TILE)
            .bind(((t + 1) * TILE).min(size))
            .fetch_all(&self.pool)
            .await?;
            for r in &rows {
                let seq: i64 = r.try_get("seq")?;
                leaves.insert(
                    u64::try_from(seq - 1).map_err(corrupt)?,
                    leaf_hash(&hash(&r.try_get::<String, _>("hash")?)?),
                );
            }
        }
        let mut stored = |level: u32, index: u64| match level {
            0 => leaves.get(&index).copied(),
            TILE_LEVEL => tiles.get(&index).copied(),
            _ => None,
        };
        let tree_size = u64::try_from(size).map_err(corrupt)?;
        events
            .into_iter()
            .map(|e| {
                let index = u64::try_from(e.seq - 1).map_err(corrupt)?;
                let path = frontier::inclusion_path::<Sm3Hasher>(index, tree_size, &mut stored)
                    .map_err(|err| corrupt(format!("event {}: {err}", e.seq)))?;
                Ok((
                    e,
                    InclusionProof {
                        algorithm: HashAlgorithm::Sm3,
                        leaf_index: index,
                        tree_size,
                        path,
                    },
                ))
            })
            .collect()
    }
}

/// Stores `next` with the batch `batch_seq` that carries it, in the batch's transaction (a
/// commitment repeated by a later batch keeps its first batch).
pub(super) async fn record_commitment(
    tx: &mut Tx,
    next: &NextCommitment,
    batch_seq: i64,
) -> Result<()> {
    if !next.grown {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO custody_commitments (size, root, edge, batch_seq) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (size) DO NOTHING",
    )
    .bind(i64::try_from(next.commitment.size).map_err(corrupt)?)
    .bind(next.commitment.root.to_hex())
    .bind(&next.edge)
    .bind(batch_seq)
    .execute(&mut **tx)
    .await?;
    for (tile, root) in &next.tiles {
        sqlx::query(
            "INSERT INTO custody_tiles (tile, root) VALUES ($1, $2) ON CONFLICT (tile) DO NOTHING",
        )
        .bind(tile)
        .bind(root)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use tiezheng_protocol::custody::{Actor, CustodyKind};
    use tiezheng_protocol::merkle::MerkleTree;

    use super::*;

    async fn commit(store: &Store, batch: i64) -> NextCommitment {
        let next = store.next_custody_commitment().await.unwrap().unwrap();
        let mut tx = store.pool.begin().await.unwrap();
        record_commitment(&mut tx, &next, batch).await.unwrap();
        tx.commit().await.unwrap();
        next
    }

    /// Logs events `from..to` (1-based), round robin over `proofs`, each proof's first a receipt.
    async fn log(store: &Store, proofs: &[String], from: usize, to: usize) {
        for n in from..to {
            let kind = if n <= proofs.len() {
                CustodyKind::Received
            } else {
                CustodyKind::Viewed
            };
            store
                .custody(
                    &proofs[n % proofs.len()],
                    kind,
                    &Actor::Ledger,
                    1_700_000_000_000,
                    "t",
                )
                .await
                .unwrap();
        }
    }

    /// Past two tiles: commitments continue from their edge, tiles are kept, and every event's
    /// proof (in a complete tile or in the unfinished end) leads to the committed root, the
    /// root of the whole log's tree.
    #[tokio::test]
    async fn commitments_continue_and_proofs_reach_the_committed_root() {
        let tmp = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", tmp.path().join("t.db").display());
        let store = Store::connect(&url).await.unwrap();
        let proofs: Vec<String> = (0..3).map(|i| format!("{i:064x}")).collect();
        log(&store, &proofs, 1, 701).await;
        let first = commit(&store, 1).await;
        assert_eq!(first.commitment.size, 700);
        log(&store, &proofs, 701, 2_201).await;
        let second = commit(&store, 2).await;
        assert_eq!((second.commitment.size, second.tiles.len()), (2_200, 2));
        let all = store.custody_log().await.unwrap();
        let tree = MerkleTree::<Sm3Hasher>::from_leaf_hashes(
            all.iter()
                .map(|e| leaf_hash(&Hash32::from_hex(&e.hash).unwrap())),
        );
        assert_eq!(second.commitment.root, tree.root());
        assert_eq!(first.commitment.root, tree.root_at(700).unwrap());
        for p in &proofs {
            let shown = store.custody_proofs(p, 2_200).await.unwrap();
            assert!(shown.len() > 700, "{}", shown.len());
            for (e, incl) in &shown {
                let h = Hash32::from_hex(&e.hash).unwrap();
                incl.verify(&leaf_hash(&h), &second.commitment.root)
                    .unwrap();
            }
            // At the earlier commitment, only the events it covers.
            let early = store.custody_proofs(p, 700).await.unwrap();
            assert!(early.iter().all(|(e, _)| e.seq <= 700));
            for (e, incl) in &early {
                let h = Hash32::from_hex(&e.hash).unwrap();
                incl.verify(&leaf_hash(&h), &first.commitment.root).unwrap();
            }
        }
    }
}
