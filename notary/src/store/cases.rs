//! Cases, as the portal reads them: every case with at least one proof, and the proofs filed
//! under one case. (Which cases a token may read is in `tokens`, with the grants.)

use super::intake::ProofRow;
use super::{Result, Store};

impl Store {
    /// Every case with at least one proof, in order.
    pub async fn cases(&self) -> Result<Vec<String>> {
        Ok(
            sqlx::query_scalar(
                "SELECT DISTINCT case_reference FROM proofs ORDER BY case_reference",
            )
            .fetch_all(&self.pool)
            .await?,
        )
    }

    /// The proofs of a case, by device and sequence.
    pub async fn proofs_of_case(&self, case_reference: &str) -> Result<Vec<ProofRow>> {
        Ok(sqlx::query_as("SELECT proof_sm3, manifest_sm3, previous_manifest_sm3, case_reference, proof_json, receipt_json FROM proofs WHERE case_reference = $1 ORDER BY device_key_id, device_seq")
            .bind(case_reference)
            .fetch_all(&self.pool)
            .await?)
    }
}
