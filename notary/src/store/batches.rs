//! Batches: each receipted proof's salted leaf, the batches closed over them (under the
//! batching lease, which one instance at a time holds), their anchoring on the ledger and the
//! ledger's evidence kept for their bundles, and what still waits for any of it.

use super::intake::NewProof;
use super::sql::{ROWS_PER_STATEMENT, dynamic_sql, values_clause, values_clause_from};
use super::{Result, Store, StoreError, Tx, custody};

/// A closed batch whose bundles are not complete yet.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct WaitingBatch {
    /// Its sequence number.
    pub batch_seq: i64,
    /// The ledger height that anchored it, if it is anchored.
    pub anchored_height: Option<i64>,
}

/// The oldest receipted proof without a complete bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitingProof {
    /// When its leaf was added (its receipt time, Unix ms).
    pub added_at: i64,
    /// The batch it is in, if one was closed.
    pub batch: Option<WaitingBatch>,
}

/// A proof's leaf waiting for a batch.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PendingLeaf {
    /// SM3 of the proof.
    pub proof_sm3: String,
    /// The leaf's random salt (32 hex digits).
    pub salt: String,
    /// When it was added (the proof's receipt time, Unix ms).
    pub added_at: i64,
}

/// The last closed batch: what the next one links to.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LastBatch {
    /// Its sequence number.
    pub batch_seq: i64,
    /// SM3 of its header.
    pub header_sm3: String,
}

/// A closed batch not anchored yet.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UnanchoredBatch {
    /// Its sequence number.
    pub batch_seq: i64,
    /// Its signed header (RFC 8785 JSON): the anchor transaction.
    pub header_json: String,
}

/// A closed batch whose ledger evidence is not kept yet.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UnsealedBatch {
    /// Its sequence number.
    pub batch_seq: i64,
    /// Its signed header (RFC 8785 JSON): the anchor transaction.
    pub header_json: String,
    /// The ledger height that anchored it, once recorded.
    pub anchored_height: Option<i64>,
}

/// A batch the ledger anchored, to record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnchoredBatch {
    /// Its sequence number.
    pub batch_seq: i64,
    /// The ledger height of the block that anchored it.
    pub height: i64,
}

/// What the ledger contributes to the bundles of an anchored batch, to keep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchEvidence {
    /// The batch's sequence number.
    pub batch_seq: i64,
    /// The evidence (canonical JSON).
    pub evidence_json: String,
}

/// Where a proof was batched.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LeafPosition {
    /// The batch's sequence number.
    pub batch_seq: i64,
    /// The leaf's index in the batch's tree.
    pub leaf_index: i64,
    /// The leaf's salt.
    pub salt: String,
}

/// A leaf of a closed batch.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LeafRow {
    /// SM3 of the proof.
    pub proof_sm3: String,
    /// The leaf's salt.
    pub salt: String,
}

/// A closed batch with its leaves.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredBatch {
    /// Its signed header (RFC 8785 JSON).
    pub header_json: String,
    /// The ledger height that anchored it, once recorded.
    pub anchored_height: Option<i64>,
    /// Its leaves, in tree order.
    #[sqlx(skip)]
    pub leaves: Vec<LeafRow>,
}

/// A closed batch as an audit reads it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct BatchRow {
    /// Its sequence number.
    pub batch_seq: i64,
    /// Its signed header (RFC 8785 JSON).
    pub header_json: String,
    /// SM3 of the header.
    pub header_sm3: String,
    /// The tree's root (hex).
    pub root: String,
    /// How many leaves it has.
    pub leaf_count: i64,
    /// The ledger height that anchored it, once recorded.
    pub anchored_height: Option<i64>,
}

impl Store {
    /// Takes or renews the batching lease for `holder` until `now + ttl_ms`; whether `holder`
    /// holds it now. Free or expired leases are taken; a live one held by another is not.
    pub async fn hold_batching_lease(&self, holder: &str, now: i64, ttl_ms: i64) -> Result<bool> {
        let _turn = self.write_turn().await;
        let n = sqlx::query("UPDATE leases SET holder = $1, expires_at = $2 WHERE name = 'batching' AND (holder = $3 OR expires_at < $4)")
            .bind(holder)
            .bind(now.saturating_add(ttl_ms))
            .bind(holder)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(n.rows_affected() == 1)
    }

    /// Proofs not yet anchored (waiting for a batch or for their batch's anchor).
    pub async fn unanchored_count(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) AS n FROM batch_leaves l LEFT JOIN batches b ON b.batch_seq = l.batch_seq WHERE b.anchored_height IS NULL").fetch_one(&self.pool).await?)
    }

    /// The oldest receipted proof without a complete bundle: when it was added, and the batch
    /// it is in if one was closed. `evidence`: on the consortium ledger a batch is complete
    /// once its ledger evidence is kept, on the embedded one once it is anchored.
    pub async fn oldest_waiting(&self, evidence: bool) -> Result<Option<WaitingProof>> {
        // Two indexed look-ups (partial indexes on each condition), not a scan of every batch.
        let first = |sql: &'static str| async move {
            sqlx::query_as::<_, WaitingBatch>(sql)
                .fetch_optional(&self.pool)
                .await
        };
        let unanchored = first("SELECT batch_seq, anchored_height FROM batches WHERE anchored_height IS NULL ORDER BY batch_seq LIMIT 1").await?;
        let unsealed = if evidence {
            first("SELECT batch_seq, anchored_height FROM batches WHERE ledger_evidence IS NULL ORDER BY batch_seq LIMIT 1").await?
        } else {
            None
        };
        let batch = match (unanchored, unsealed) {
            (Some(a), Some(b)) => Some(if b.batch_seq < a.batch_seq { b } else { a }),
            (a, b) => a.or(b),
        };
        let oldest: Option<i64> = match &batch {
            // Batches close in order: the oldest incomplete one holds the oldest proof.
            Some(b) => {
                sqlx::query_scalar(
                    "SELECT MIN(added_at) AS t FROM batch_leaves WHERE batch_seq = $1",
                )
                .bind(b.batch_seq)
                .fetch_one(&self.pool)
                .await?
            }
            None => {
                sqlx::query_scalar(
                    "SELECT MIN(added_at) AS t FROM batch_leaves WHERE batch_seq IS NULL",
                )
                .fetch_one(&self.pool)
                .await?
            }
        };
        Ok(oldest.map(|added_at| WaitingProof { added_at, batch }))
    }

    /// Leaves waiting for a batch, oldest first.
    pub async fn pending_leaves(&self, limit: i64) -> Result<Vec<PendingLeaf>> {
        Ok(sqlx::query_as("SELECT proof_sm3, salt, added_at FROM batch_leaves WHERE batch_seq IS NULL ORDER BY added_at, proof_sm3 LIMIT $1").bind(limit).fetch_all(&self.pool).await?)
    }

    /// The last closed batch.
    pub async fn last_batch(&self) -> Result<Option<LastBatch>> {
        Ok(sqlx::query_as(
            "SELECT batch_seq, header_sm3 FROM batches ORDER BY batch_seq DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?)
    }

    /// When the last batch closed (Unix ms), if any did.
    pub async fn last_batch_closed_at(&self) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar("SELECT MAX(closed_at) FROM batches")
            .fetch_one(&self.pool)
            .await?)
    }

    /// The signed header (RFC 8785 JSON) of batch `seq`, if it was closed.
    pub async fn batch_header(&self, seq: i64) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT header_json FROM batches WHERE batch_seq = $1")
                .bind(seq)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Stores a closed batch and assigns its leaves, in one transaction, only while `holder`
    /// still holds the batching lease.
    #[allow(clippy::too_many_arguments)]
    pub async fn insert_batch(
        &self,
        holder: &str,
        seq: i64,
        header_json: &str,
        header_sm3: &str,
        root: &str,
        leaves: &[String],
        custody: Option<&super::NextCommitment>,
        closed_at: i64,
    ) -> Result<()> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        // Fenced by the lease: a closer that lost it (stalled past its expiry) stores nothing.
        let held = sqlx::query(
            "UPDATE leases SET holder = holder WHERE name = 'batching' AND holder = $1",
        )
        .bind(holder)
        .execute(&mut *tx)
        .await?;
        if held.rows_affected() != 1 {
            tx.rollback().await?;
            return Err(StoreError::LostLease { batch_seq: seq });
        }
        sqlx::query("INSERT INTO batches (batch_seq, header_json, header_sm3, root, leaf_count, closed_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(seq)
            .bind(header_json)
            .bind(header_sm3)
            .bind(root)
            // A batch of no proof carries one leaf: its custody commitment.
            .bind(i64::try_from(leaves.len().max(1)).unwrap_or(i64::MAX))
            .bind(closed_at)
            .execute(&mut *tx)
            .await?;
        if let Some(next) = custody {
            super::custody_tree::record_commitment(&mut tx, next, seq).await?;
        }
        // One multi-row statement per hundred leaves: (proof SM3, leaf index) pairs.
        for (c, chunk) in leaves.chunks(ROWS_PER_STATEMENT).enumerate() {
            let sql = format!(
                "UPDATE batch_leaves SET batch_seq = $1, leaf_index = v.column2 FROM (VALUES {}) AS v WHERE batch_leaves.proof_sm3 = v.column1",
                values_clause_from(2, chunk.len(), 2)
            );
            let mut q = sqlx::query(dynamic_sql(&tx, sql)).bind(seq);
            for (i, p) in chunk.iter().enumerate() {
                let index = c * ROWS_PER_STATEMENT + i;
                q = q.bind(p).bind(i64::try_from(index).unwrap_or(i64::MAX));
            }
            let n = q.execute(&mut *tx).await?;
            if n.rows_affected() != chunk.len() as u64 {
                return Err(StoreError::LeavesNotAssigned {
                    batch_seq: seq,
                    assigned: n.rows_affected(),
                    leaves: chunk.len(),
                });
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Closed batches not yet anchored, in order.
    pub async fn unanchored_batches(&self) -> Result<Vec<UnanchoredBatch>> {
        Ok(sqlx::query_as("SELECT batch_seq, header_json FROM batches WHERE anchored_height IS NULL ORDER BY batch_seq").fetch_all(&self.pool).await?)
    }

    /// Batches whose ledger evidence is not kept yet, in order of sequence: the oldest
    /// `limit` not anchored yet (they are submitted in order) and the newest `limit` anchored
    /// ones (so that a batch the ledger cannot answer for, say after the chain was reset, never
    /// holds up the evidence of those after it).
    pub async fn unsealed_batches(&self, limit: i64) -> Result<Vec<UnsealedBatch>> {
        let mut out: Vec<UnsealedBatch> = sqlx::query_as("SELECT batch_seq, header_json, anchored_height FROM batches WHERE anchored_height IS NULL ORDER BY batch_seq LIMIT $1").bind(limit).fetch_all(&self.pool).await?;
        out.extend(sqlx::query_as::<_, UnsealedBatch>("SELECT batch_seq, header_json, anchored_height FROM batches WHERE ledger_evidence IS NULL AND anchored_height IS NOT NULL ORDER BY batch_seq DESC LIMIT $1").bind(limit).fetch_all(&self.pool).await?);
        out.sort_by_key(|b| b.batch_seq);
        Ok(out)
    }

    /// Keeps the ledger's evidence of anchored batches in one transaction (once per batch: an
    /// anchored batch's evidence never changes afterwards).
    pub async fn set_ledger_evidence(&self, evidence: &[BatchEvidence]) -> Result<()> {
        if evidence.is_empty() {
            return Ok(());
        }
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        for e in evidence {
            sqlx::query("UPDATE batches SET ledger_evidence = $1 WHERE batch_seq = $2 AND ledger_evidence IS NULL AND anchored_height IS NOT NULL")
                .bind(&e.evidence_json)
                .bind(e.batch_seq)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The ledger evidence kept for batch `seq`, if any.
    pub async fn ledger_evidence(&self, seq: i64) -> Result<Option<String>> {
        let evidence: Option<Option<String>> =
            sqlx::query_scalar("SELECT ledger_evidence FROM batches WHERE batch_seq = $1")
                .bind(seq)
                .fetch_optional(&self.pool)
                .await?;
        Ok(evidence.flatten())
    }

    /// Records batches as anchored, with an `anchored` custody event per proof, in one
    /// transaction. A batch recorded already (by another instance that held the batching
    /// lease before) is left as it is.
    pub async fn set_anchored(&self, anchored: &[AnchoredBatch], now: i64) -> Result<()> {
        if anchored.is_empty() {
            return Ok(());
        }
        let _turn = self.write_turn().await;
        let mut tx = self.begin_custody().await?;
        for &AnchoredBatch {
            batch_seq: seq,
            height,
        } in anchored
        {
            let updated = sqlx::query("UPDATE batches SET anchored_height = $1, anchored_at = $2 WHERE batch_seq = $3 AND anchored_height IS NULL").bind(height).bind(now).bind(seq).execute(&mut *tx).await?;
            if updated.rows_affected() == 0 {
                continue;
            }
            let proofs: Vec<String> = sqlx::query_scalar(
                "SELECT proof_sm3 FROM batch_leaves WHERE batch_seq = $1 ORDER BY leaf_index",
            )
            .bind(seq)
            .fetch_all(&mut *tx)
            .await?;
            let detail = format!("batch {seq} anchored at height {height}");
            let ledger = tiezheng_protocol::custody::Actor::Ledger.to_string();
            let events: Vec<custody::NewCustody<'_>> = proofs
                .iter()
                .map(|p| custody::NewCustody {
                    proof_sm3: p,
                    event: tiezheng_protocol::custody::CustodyKind::Anchored,
                    actor: &ledger,
                    at: now,
                    detail: detail.clone(),
                })
                .collect();
            custody::append_custody_many(&mut tx, &events).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Where a proof was batched, once its batch closed.
    pub async fn leaf_of(&self, proof_sm3: &str) -> Result<Option<LeafPosition>> {
        Ok(sqlx::query_as("SELECT batch_seq, leaf_index, salt FROM batch_leaves WHERE proof_sm3 = $1 AND batch_seq IS NOT NULL").bind(proof_sm3).fetch_optional(&self.pool).await?)
    }

    /// A closed batch with its leaves in order.
    pub async fn batch(&self, seq: i64) -> Result<Option<StoredBatch>> {
        let Some(mut batch) = sqlx::query_as::<_, StoredBatch>(
            "SELECT header_json, anchored_height FROM batches WHERE batch_seq = $1",
        )
        .bind(seq)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        batch.leaves = sqlx::query_as(
            "SELECT proof_sm3, salt FROM batch_leaves WHERE batch_seq = $1 ORDER BY leaf_index",
        )
        .bind(seq)
        .fetch_all(&self.pool)
        .await?;
        Ok(Some(batch))
    }

    /// Every closed batch, in order.
    pub async fn audit_batches(&self) -> Result<Vec<BatchRow>> {
        Ok(sqlx::query_as("SELECT batch_seq, header_json, header_sm3, root, leaf_count, anchored_height FROM batches ORDER BY batch_seq").fetch_all(&self.pool).await?)
    }
}

/// Stores in the intake group's `tx` the batch leaf of each proof of `chunk` (at most
/// [`ROWS_PER_STATEMENT`]), waiting for a batch.
pub(super) async fn insert_leaves(tx: &mut Tx, chunk: &[NewProof]) -> Result<()> {
    let sql = format!(
        "INSERT INTO batch_leaves (proof_sm3, salt, added_at) VALUES {}",
        values_clause(chunk.len(), 3)
    );
    let mut q = sqlx::query(dynamic_sql(tx, sql));
    for p in chunk {
        q = q.bind(&p.proof_sm3).bind(&p.salt).bind(p.received_at);
    }
    q.execute(&mut **tx).await?;
    Ok(())
}
