//! Judicial appraisals: each procedure's signed steps in chain order and the credentials and
//! revocations handed in with them. A step is appended only at the next free position, in one
//! transaction with its documents, so two parties acting at once cannot both extend the chain.
//! An opinion being co-signed is kept as the procedure's draft until every signer has signed.

use tiezheng_protocol::custody::CustodyKind;

use super::custody::append_custody;
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
    /// The proofs the commission names: each gets an `appraisal_step` custody event.
    pub proofs: &'a [String],
    /// Who filed it, as the custody log writes actors.
    pub actor: String,
    /// The custody event's detail (`appraisal::custody_detail`).
    pub detail: String,
}

/// A procedure as listed: its commission, how many steps it has and its last one.
#[derive(Debug, Clone)]
pub struct AppraisalSummary {
    /// SM3 of the signed commission.
    pub commission_sm3: String,
    /// The signed commission (JSON).
    pub commission: String,
    /// The last signed step (JSON).
    pub last: String,
    /// How many steps.
    pub steps: i64,
}

/// The opinion being co-signed: the position it will take, the signed step so far (JSON) and
/// the version the next write must name.
#[derive(Debug, Clone)]
pub struct StoredDraft {
    /// The step's position.
    pub seq: i64,
    /// The draft (JSON of the signed step).
    pub document: String,
    /// Bumped by every write.
    pub version: i64,
}

impl Store {
    /// The procedures filed here, newest first, at most `limit`.
    pub async fn appraisals(&self, limit: i64) -> Result<Vec<AppraisalSummary>> {
        let firsts: Vec<(String, String)> = sqlx::query_as(
            "SELECT commission_sm3, document FROM appraisal_steps WHERE seq = 0 ORDER BY received_at DESC, commission_sm3 LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(firsts.len());
        for (commission_sm3, commission) in firsts {
            let (seq, last): (i64, String) = sqlx::query_as(
                "SELECT seq, document FROM appraisal_steps WHERE commission_sm3 = $1 ORDER BY seq DESC LIMIT 1",
            )
            .bind(&commission_sm3)
            .fetch_one(&self.pool)
            .await?;
            out.push(AppraisalSummary {
                commission_sm3,
                commission,
                last,
                steps: seq + 1,
            });
        }
        Ok(out)
    }

    /// Adds a credential or revocation to the procedure's documents; `false` when it was
    /// there already.
    pub async fn add_appraisal_document(
        &self,
        commission_sm3: &str,
        (sm3, kind, document): (&str, &str, &str),
        received_at: i64,
    ) -> Result<bool> {
        let _turn = self.write_turn().await;
        let done = sqlx::query(
            "INSERT INTO appraisal_documents (commission_sm3, sm3, kind, document, received_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (commission_sm3, sm3) DO NOTHING",
        )
        .bind(commission_sm3)
        .bind(sm3)
        .bind(kind)
        .bind(document)
        .bind(received_at)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(done == 1)
    }

    /// The draft opinion of the procedure, if one is being co-signed.
    pub async fn appraisal_draft(&self, commission_sm3: &str) -> Result<Option<StoredDraft>> {
        let row: Option<(i64, String, i64)> = sqlx::query_as(
            "SELECT seq, document, version FROM appraisal_drafts WHERE commission_sm3 = $1",
        )
        .bind(commission_sm3)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(seq, document, version)| StoredDraft {
            seq,
            document,
            version,
        }))
    }

    /// Writes the draft if the stored one is still at `version` (`None`: there is none).
    /// `false` when someone else wrote first: read it again and merge.
    pub async fn put_appraisal_draft(
        &self,
        commission_sm3: &str,
        seq: i64,
        document: &str,
        version: Option<i64>,
        now: i64,
    ) -> Result<bool> {
        let _turn = self.write_turn().await;
        let done = match version {
            Some(v) => sqlx::query(
                "UPDATE appraisal_drafts SET seq = $1, document = $2, version = version + 1, updated_at = $3 WHERE commission_sm3 = $4 AND version = $5",
            )
            .bind(seq)
            .bind(document)
            .bind(now)
            .bind(commission_sm3)
            .bind(v)
            .execute(&self.pool)
            .await?
            .rows_affected(),
            None => sqlx::query(
                "INSERT INTO appraisal_drafts (commission_sm3, seq, document, version, updated_at) VALUES ($1, $2, $3, 1, $4) ON CONFLICT (commission_sm3) DO NOTHING",
            )
            .bind(commission_sm3)
            .bind(seq)
            .bind(document)
            .bind(now)
            .execute(&self.pool)
            .await?
            .rows_affected(),
        };
        Ok(done == 1)
    }

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

    /// Appends `step` at its position with its documents, and records it in the custody log
    /// of every proof it concerns (anchored with the log), all in one transaction. `false`
    /// (nothing stored) when that position is already taken: another step came first.
    pub async fn append_appraisal_step(&self, step: &NewStep<'_>) -> Result<bool> {
        let _turn = self.write_turn().await;
        let mut tx = self.begin_custody().await?;
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
        for proof in step.proofs {
            append_custody(
                &mut tx,
                proof,
                CustodyKind::AppraisalStep,
                &step.actor,
                step.received_at,
                &step.detail,
            )
            .await?;
        }
        // A step taken means any draft chained before it is stale.
        sqlx::query("DELETE FROM appraisal_drafts WHERE commission_sm3 = $1 AND seq <= $2")
            .bind(step.commission_sm3)
            .bind(step.seq)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }
}
