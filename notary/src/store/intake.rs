//! Proofs: the intake group's transaction ([`IntakeTx`]), in which the sequencer reads the
//! stored device chains around the proofs it is about to receipt and stores the accepted ones
//! (with their batch leaves, media declarations and `received` custody events) in one commit;
//! and the stored proofs read back, by device and sequence, by SM3, and for an audit.

use std::collections::HashMap;

use super::sql::{ROWS_PER_STATEMENT, dynamic_sql, placeholders, values_clause};
use super::{Result, Store, Tx, WriteTurn, batches, custody, enrolment, media};

/// A stored proof row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProofRow {
    /// SM3 of the proof.
    pub proof_sm3: String,
    /// SM3 of the manifest.
    pub manifest_sm3: String,
    /// The link the manifest claims.
    pub previous_manifest_sm3: Option<String>,
    /// The case.
    pub case_reference: String,
    /// The proof as received (RFC 8785 bytes).
    pub proof_json: String,
    /// The signed receipt returned.
    pub receipt_json: String,
}

/// A proof row as an audit reads it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditProof {
    /// The device column.
    pub device_key_id: String,
    /// The sequence column.
    pub device_seq: i64,
    /// The rest of the row.
    #[sqlx(flatten)]
    pub row: ProofRow,
}

/// A proof to store.
#[derive(Debug, Clone)]
pub struct NewProof {
    /// SM3 of the proof.
    pub proof_sm3: String,
    /// Device key ID.
    pub device_key_id: String,
    /// Sequence number.
    pub device_seq: i64,
    /// SM3 of the manifest.
    pub manifest_sm3: String,
    /// Claimed link.
    pub previous_manifest_sm3: Option<String>,
    /// Case.
    pub case_reference: String,
    /// Proof bytes (RFC 8785).
    pub proof_json: String,
    /// Receipt bytes (RFC 8785).
    pub receipt_json: String,
    /// Receipt time.
    pub received_at: i64,
    /// Gap flag.
    pub chain_gap: bool,
    /// Media named.
    pub media: Vec<media::NewMedia>,
    /// Random salt of the proof's batch leaf (32 hex digits).
    pub salt: String,
}

/// What the sequencer reads of a stored proof: enough to tell a resubmission from a replay
/// and to check chain links in both directions.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ChainRow {
    /// Its place in the device's chain.
    pub device_seq: i64,
    /// SM3 of the proof.
    pub proof_sm3: String,
    /// SM3 of the manifest.
    pub manifest_sm3: String,
    /// The link the manifest claims.
    pub previous_manifest_sm3: Option<String>,
    /// The receipt returned for it (returned again on resubmission).
    pub receipt_json: String,
}

impl Store {
    /// The proof stored for a device's sequence number.
    pub async fn proof_at(&self, device_key_id: &str, device_seq: i64) -> Result<Option<ProofRow>> {
        Ok(sqlx::query_as("SELECT proof_sm3, manifest_sm3, previous_manifest_sm3, case_reference, proof_json, receipt_json FROM proofs WHERE device_key_id = $1 AND device_seq = $2")
            .bind(device_key_id)
            .bind(device_seq)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// A proof by its SM3.
    pub async fn proof(&self, proof_sm3: &str) -> Result<Option<ProofRow>> {
        Ok(sqlx::query_as("SELECT proof_sm3, manifest_sm3, previous_manifest_sm3, case_reference, proof_json, receipt_json FROM proofs WHERE proof_sm3 = $1")
            .bind(proof_sm3)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Number of proofs stored.
    pub async fn proof_count(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) AS n FROM proofs")
            .fetch_one(&self.pool)
            .await?)
    }

    /// Every stored proof with the columns an audit checks against its JSON.
    pub async fn audit_proofs(&self) -> Result<Vec<AuditProof>> {
        Ok(sqlx::query_as("SELECT proof_sm3, device_key_id, device_seq, manifest_sm3, previous_manifest_sm3, case_reference, proof_json, receipt_json FROM proofs ORDER BY device_key_id, device_seq").fetch_all(&self.pool).await?)
    }

    /// Begins an intake group: one transaction in which the sequencer reads each device's
    /// stored chain around the sequence numbers it is about to receipt, then stores every
    /// accepted proof of the group. Its first statement takes the custody head (see
    /// `begin_custody`), which serialises groups across connections and notary
    /// instances, so every check reads what the previous group committed.
    pub async fn begin_intake(&self) -> Result<IntakeTx> {
        let turn = self.write_turn().await;
        Ok(IntakeTx {
            tx: self.begin_custody().await?,
            _turn: turn,
        })
    }
}

/// An intake group's transaction (see [`Store::begin_intake`]).
pub struct IntakeTx {
    tx: Tx,
    /// Released after the commit (fields drop in order).
    _turn: WriteTurn,
}

impl std::fmt::Debug for IntakeTx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntakeTx").finish_non_exhaustive()
    }
}

impl IntakeTx {
    /// The enrolled devices among `key_ids`: key ID → revocation time (if revoked).
    pub async fn devices(&mut self, key_ids: &[&str]) -> Result<HashMap<String, Option<i64>>> {
        enrolment::revocations(&mut self.tx, key_ids).await
    }

    /// The enrolled officer keys among `key_ids`: key ID → (officer ID, revocation time).
    pub async fn officers(
        &mut self,
        key_ids: &[&str],
    ) -> Result<HashMap<String, super::OfficerStanding>> {
        super::officers::standings(&mut self.tx, key_ids).await
    }

    /// The stored proofs of `device` at any of `seqs`.
    pub async fn chain_rows(&mut self, device: &str, seqs: &[i64]) -> Result<Vec<ChainRow>> {
        let mut out = Vec::new();
        for chunk in seqs.chunks(ROWS_PER_STATEMENT * 4) {
            let sql = format!(
                "SELECT device_seq, proof_sm3, manifest_sm3, previous_manifest_sm3, receipt_json FROM proofs WHERE device_key_id = $1 AND device_seq IN ({})",
                placeholders(2, chunk.len())
            );
            let mut q = sqlx::query_as(dynamic_sql(&self.tx, sql)).bind(device);
            for s in chunk {
                q = q.bind(*s);
            }
            out.extend(q.fetch_all(&mut *self.tx).await?);
        }
        Ok(out)
    }

    /// Stores accepted proofs with their media expectations, batch leaves and `received`
    /// custody events (chained in order), a few multi-row statements per table.
    pub async fn insert_proofs(&mut self, proofs: &[NewProof]) -> Result<()> {
        let tx = &mut self.tx;
        for chunk in proofs.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO proofs (proof_sm3, device_key_id, device_seq, manifest_sm3, previous_manifest_sm3, case_reference, proof_json, receipt_json, received_at, chain_gap) VALUES {}",
                values_clause(chunk.len(), 10)
            );
            let mut q = sqlx::query(dynamic_sql(tx, sql));
            for p in chunk {
                q = q
                    .bind(&p.proof_sm3)
                    .bind(&p.device_key_id)
                    .bind(p.device_seq)
                    .bind(&p.manifest_sm3)
                    .bind(p.previous_manifest_sm3.as_deref())
                    .bind(&p.case_reference)
                    .bind(&p.proof_json)
                    .bind(&p.receipt_json)
                    .bind(p.received_at)
                    .bind(i64::from(p.chain_gap));
            }
            q.execute(&mut **tx).await?;
            batches::insert_leaves(tx, chunk).await?;
        }
        media::insert_declared(tx, proofs).await?;
        let events: Vec<custody::NewCustody<'_>> = proofs
            .iter()
            .map(|p| custody::NewCustody {
                proof_sm3: &p.proof_sm3,
                event: tiezheng_protocol::custody::CustodyKind::Received,
                actor: &p.device_key_id,
                at: p.received_at,
                detail: format!("device_seq {}", p.device_seq),
            })
            .collect();
        custody::append_custody_many(tx, &events).await?;
        Ok(())
    }

    /// Commits the group: only now may its receipts be returned.
    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }
}
