//! Judicial appraisals: each procedure's signed steps in chain order and the credentials and
//! revocations handed in with them. A step is appended only at the next free position, in one
//! transaction with its documents, so two parties acting at once cannot both extend the chain.

use super::{Result, Store};

/// A procedure as stored: its signed steps (JSON, in order) and its credentials and
/// revocations (kind, JSON, in the order received).
#[derive(Debug, Clone, Default)]
pub struct StoredAppraisal {
    /// The signed steps, commission first.
    pub steps: Vec<String>,
    /// `("credential" | "revocation", JSON)`.
    pub documents: Vec<(String, String)>,
}

/// A step to append, with the documents that came with it.
#[derive(Debug, Clone)]
pub struct NewStep<'a> {
    /// SM3 of the signed commission.
    pub commission_sm3: &'a str,
    /// The step's position.
    pub seq: i64,
    /// SM3 of the signed step.
    pub step_sm3: &'a str,
    /// The signed step (JSON).
    pub document: &'a str,
    /// `(sm3, kind, JSON)` of credentials and revocations not stored before.
    pub documents: &'a [(String, &'static str, String)],
    /// When the notary received it.
    pub received_at: i64,
}

impl Store {
    /// The procedure whose commission has SM3 `commission_sm3`, if one is stored.
    pub async fn appraisal(&self, commission_sm3: &str) -> Result<Option<StoredAppraisal>> {
        let steps: Vec<(String,)> = sqlx::query_as(
            "SELECT document FROM appraisal_steps WHERE commission_sm3 = $1 ORDER BY seq",
        )
        .bind(commission_sm3)
        .fetch_all(&self.pool)
        .await?;
        if steps.is_empty() {
            return Ok(None);
        }
        let documents: Vec<(String, String)> = sqlx::query_as(
            "SELECT kind, document FROM appraisal_documents WHERE commission_sm3 = $1 ORDER BY received_at, sm3",
        )
        .bind(commission_sm3)
        .fetch_all(&self.pool)
        .await?;
        Ok(Some(StoredAppraisal {
            steps: steps.into_iter().map(|(d,)| d).collect(),
            documents,
        }))
    }

    /// Appends `step` at its position with its documents. `false` (nothing stored) when that
    /// position is already taken: another step came first.
    pub async fn append_appraisal_step(&self, step: &NewStep<'_>) -> Result<bool> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        let taken: Option<(i64,)> = sqlx::query_as(
            "SELECT seq FROM appraisal_steps WHERE commission_sm3 = $1 AND seq = $2",
        )
        .bind(step.commission_sm3)
        .bind(step.seq)
        .fetch_optional(&mut *tx)
        .await?;
        if taken.is_some() {
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query("INSERT INTO appraisal_steps (commission_sm3, seq, step_sm3, document, received_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(step.commission_sm3)
            .bind(step.seq)
            .bind(step.step_sm3)
            .bind(step.document)
            .bind(step.received_at)
            .execute(&mut *tx)
            .await?;
        for (sm3, kind, doc) in step.documents {
            let known: Option<(String,)> = sqlx::query_as(
                "SELECT sm3 FROM appraisal_documents WHERE commission_sm3 = $1 AND sm3 = $2",
            )
            .bind(step.commission_sm3)
            .bind(sm3)
            .fetch_optional(&mut *tx)
            .await?;
            if known.is_none() {
                sqlx::query("INSERT INTO appraisal_documents (commission_sm3, sm3, kind, document, received_at) VALUES ($1, $2, $3, $4, $5)")
                    .bind(step.commission_sm3)
                    .bind(sm3)
                    .bind(*kind)
                    .bind(doc)
                    .bind(step.received_at)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(true)
    }
}
