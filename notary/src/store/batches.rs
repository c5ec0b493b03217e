//! Batches: each receipted proof's salted leaf, the batches closed over them (under the
//! batching lease, which one instance at a time holds), their anchoring on the ledger and the
//! ledger's evidence kept for their bundles, and what still waits for any of it.

use sqlx::Row;

use super::intake::NewProof;
use super::sql::{ROWS_PER_STATEMENT, dynamic_sql, values_clause, values_clause_from};
use super::{Result, Store, StoreError, Tx, custody, opt_i64};

/// A closed batch whose bundles are not complete yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitingBatch {
    /// Its sequence number.
    pub batch_seq: i64,
    /// The ledger height that anchored it, if it is anchored.
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
        let r = sqlx::query("SELECT COUNT(*) AS n FROM batch_leaves l LEFT JOIN batches b ON b.batch_seq = l.batch_seq WHERE b.anchored_height IS NULL").fetch_one(&self.pool).await?;
        Ok(r.try_get("n")?)
    }

    /// The oldest receipted proof without a complete bundle: when it was added, and the batch
    /// it is in if one was closed. `evidence`: on the consortium ledger a batch is complete
    /// once its ledger evidence is kept, on the embedded one once it is anchored.
    pub async fn oldest_waiting(
        &self,
        evidence: bool,
    ) -> Result<Option<(i64, Option<WaitingBatch>)>> {
        // Two indexed look-ups (partial indexes on each condition), not a scan of every batch.
        let first = |sql: &'static str| async move {
            sqlx::query(sql)
                .fetch_optional(&self.pool)
                .await?
                .map(|r| {
                    Ok::<_, StoreError>(WaitingBatch {
                        batch_seq: r.try_get("batch_seq")?,
                        anchored_height: opt_i64(&r, "anchored_height")?,
                    })
                })
                .transpose()
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
        let oldest = match &batch {
            // Batches close in order: the oldest incomplete one holds the oldest proof.
            Some(b) => {
                sqlx::query("SELECT MIN(added_at) AS t FROM batch_leaves WHERE batch_seq = $1")
                    .bind(b.batch_seq)
                    .fetch_one(&self.pool)
                    .await?
            }
            None => {
                sqlx::query("SELECT MIN(added_at) AS t FROM batch_leaves WHERE batch_seq IS NULL")
                    .fetch_one(&self.pool)
                    .await?
            }
        };
        Ok(opt_i64(&oldest, "t")?.map(|t| (t, batch)))
    }

    /// Leaves waiting for a batch, oldest first: (proof SM3, salt, added at).
    pub async fn pending_leaves(&self, limit: i64) -> Result<Vec<(String, String, i64)>> {
        let rows = sqlx::query("SELECT proof_sm3, salt, added_at FROM batch_leaves WHERE batch_seq IS NULL ORDER BY added_at, proof_sm3 LIMIT $1").bind(limit).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("proof_sm3")?,
                    r.try_get("salt")?,
                    r.try_get("added_at")?,
                ))
            })
            .collect()
    }

    /// The last closed batch: (seq, header SM3).
    pub async fn last_batch(&self) -> Result<Option<(i64, String)>> {
        let r = sqlx::query(
            "SELECT batch_seq, header_sm3 FROM batches ORDER BY batch_seq DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        r.map(|r| Ok((r.try_get("batch_seq")?, r.try_get("header_sm3")?)))
            .transpose()
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
            return Err(StoreError(sqlx::Error::Protocol(format!(
                "batch {seq} not stored: this instance no longer holds the batching lease"
            ))));
        }
        sqlx::query("INSERT INTO batches (batch_seq, header_json, header_sm3, root, leaf_count, closed_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(seq)
            .bind(header_json)
            .bind(header_sm3)
            .bind(root)
            .bind(i64::try_from(leaves.len()).unwrap_or(i64::MAX))
            .bind(closed_at)
            .execute(&mut *tx)
            .await?;
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
                return Err(StoreError(sqlx::Error::Protocol(format!(
                    "batch {seq}: {} of {} leaves assigned",
                    n.rows_affected(),
                    chunk.len()
                ))));
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Closed batches not yet anchored, in order: (seq, header JSON).
    pub async fn unanchored_batches(&self) -> Result<Vec<(i64, String)>> {
        let rows = sqlx::query("SELECT batch_seq, header_json FROM batches WHERE anchored_height IS NULL ORDER BY batch_seq").fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| Ok((r.try_get("batch_seq")?, r.try_get("header_json")?)))
            .collect()
    }

    /// Batches whose ledger evidence is not kept yet, in order of sequence: the oldest
    /// `limit` not anchored yet (they are submitted in order) and the newest `limit` anchored
    /// ones (so that a batch the ledger cannot answer for, say after the chain was reset, never
    /// holds up the evidence of those after it). Each is (seq, header JSON, anchored height).
    pub async fn unsealed_batches(&self, limit: i64) -> Result<Vec<(i64, String, Option<i64>)>> {
        let mut rows = sqlx::query("SELECT batch_seq, header_json, anchored_height FROM batches WHERE anchored_height IS NULL ORDER BY batch_seq LIMIT $1").bind(limit).fetch_all(&self.pool).await?;
        rows.extend(sqlx::query("SELECT batch_seq, header_json, anchored_height FROM batches WHERE ledger_evidence IS NULL AND anchored_height IS NOT NULL ORDER BY batch_seq DESC LIMIT $1").bind(limit).fetch_all(&self.pool).await?);
        let mut out = rows
            .iter()
            .map(|r| {
                Ok((
                    r.try_get("batch_seq")?,
                    r.try_get("header_json")?,
                    opt_i64(r, "anchored_height")?,
                ))
            })
            .collect::<Result<Vec<(i64, String, Option<i64>)>>>()?;
        out.sort_by_key(|(seq, _, _)| *seq);
        Ok(out)
    }

    /// Keeps the ledger's evidence of anchored batches, each `(seq, evidence JSON)`, in one
    /// transaction (once per batch: an anchored batch's evidence never changes afterwards).
    pub async fn set_ledger_evidence(&self, evidence: &[(i64, String)]) -> Result<()> {
        if evidence.is_empty() {
            return Ok(());
        }
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        for (seq, json) in evidence {
            sqlx::query("UPDATE batches SET ledger_evidence = $1 WHERE batch_seq = $2 AND ledger_evidence IS NULL AND anchored_height IS NOT NULL")
                .bind(json)
                .bind(seq)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The ledger evidence kept for batch `seq`, if any.
    pub async fn ledger_evidence(&self, seq: i64) -> Result<Option<String>> {
        let r = sqlx::query("SELECT ledger_evidence FROM batches WHERE batch_seq = $1")
            .bind(seq)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match r {
            Some(r) => r.try_get::<Option<String>, _>("ledger_evidence")?,
            None => None,
        })
    }

    /// Records batches as anchored, each `(seq, height)`, with an `anchored` custody event per
    /// proof, in one transaction. A batch recorded already (by another instance that held the
    /// batching lease before) is left as it is.
    pub async fn set_anchored(&self, anchored: &[(i64, i64)], now: i64) -> Result<()> {
        if anchored.is_empty() {
            return Ok(());
        }
        let _turn = self.write_turn().await;
        let mut tx = self.begin_custody().await?;
        for &(seq, height) in anchored {
            let updated = sqlx::query("UPDATE batches SET anchored_height = $1, anchored_at = $2 WHERE batch_seq = $3 AND anchored_height IS NULL").bind(height).bind(now).bind(seq).execute(&mut *tx).await?;
            if updated.rows_affected() == 0 {
                continue;
            }
            let proofs = sqlx::query(
                "SELECT proof_sm3 FROM batch_leaves WHERE batch_seq = $1 ORDER BY leaf_index",
            )
            .bind(seq)
            .fetch_all(&mut *tx)
            .await?;
            let proofs: Vec<String> = proofs
                .iter()
                .map(|r| r.try_get("proof_sm3"))
                .collect::<std::result::Result<_, _>>()?;
            let detail = format!("batch {seq} anchored at height {height}");
            let events: Vec<custody::NewCustody<'_>> = proofs
                .iter()
                .map(|p| custody::NewCustody {
                    proof_sm3: p,
                    event: "anchored",
                    actor: "ledger",
                    at: now,
                    detail: detail.clone(),
                })
                .collect();
            custody::append_custody_many(&mut tx, &events).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Where a proof was batched: (batch seq, leaf index, salt), once its batch closed.
    pub async fn leaf_of(&self, proof_sm3: &str) -> Result<Option<(i64, i64, String)>> {
        let r = sqlx::query("SELECT batch_seq, leaf_index, salt FROM batch_leaves WHERE proof_sm3 = $1 AND batch_seq IS NOT NULL").bind(proof_sm3).fetch_optional(&self.pool).await?;
        r.map(|r| {
            Ok((
                r.try_get("batch_seq")?,
                r.try_get("leaf_index")?,
                r.try_get("salt")?,
            ))
        })
        .transpose()
    }

    /// A batch: (header JSON, anchored height) and its leaves (proof SM3, salt) in order.
    pub async fn batch(
        &self,
        seq: i64,
    ) -> Result<Option<(String, Option<i64>, Vec<(String, String)>)>> {
        let Some(b) =
            sqlx::query("SELECT header_json, anchored_height FROM batches WHERE batch_seq = $1")
                .bind(seq)
                .fetch_optional(&self.pool)
                .await?
        else {
            return Ok(None);
        };
        let leaves = sqlx::query(
            "SELECT proof_sm3, salt FROM batch_leaves WHERE batch_seq = $1 ORDER BY leaf_index",
        )
        .bind(seq)
        .fetch_all(&self.pool)
        .await?;
        let leaves = leaves
            .iter()
            .map(|r| Ok((r.try_get("proof_sm3")?, r.try_get("salt")?)))
            .collect::<Result<Vec<_>>>()?;
        Ok(Some((
            b.try_get("header_json")?,
            opt_i64(&b, "anchored_height")?,
            leaves,
        )))
    }

    /// Every closed batch: (seq, header JSON, header SM3, root, leaf count, anchored height).
    pub async fn audit_batches(
        &self,
    ) -> Result<Vec<(i64, String, String, String, i64, Option<i64>)>> {
        let rows = sqlx::query("SELECT batch_seq, header_json, header_sm3, root, leaf_count, anchored_height FROM batches ORDER BY batch_seq").fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("batch_seq")?,
                    r.try_get("header_json")?,
                    r.try_get("header_sm3")?,
                    r.try_get("root")?,
                    r.try_get("leaf_count")?,
                    opt_i64(r, "anchored_height")?,
                ))
            })
            .collect()
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
