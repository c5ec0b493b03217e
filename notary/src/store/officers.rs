//! Officers' own keys: enrolled with a one-time code issued for the officer (through an
//! enrolled device), looked up by intake (which refuses signatures of unknown or revoked
//! keys) and by bundle assembly (which carries each signer's credential), and revoked.

use std::collections::HashMap;

use super::sql::{ROWS_PER_STATEMENT, dynamic_sql, placeholders};
use super::{Result, Store, Tx};

/// An enrolled officer key.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OfficerRow {
    /// SM3 of the officer's public key.
    pub key_id: String,
    /// The officer ID the key is bound to.
    pub officer_id: String,
    /// Public key hex.
    pub public_key: String,
    /// The device through which the officer enrolled.
    pub device_key_id: String,
    /// The signed credential (JSON).
    pub certificate: String,
    /// Set when revoked.
    pub revoked_at: Option<i64>,
}

/// What an intake group needs to know of an officer key: the officer it is bound to and when
/// it was revoked, if it was.
pub type OfficerStanding = (String, Option<i64>);

impl Store {
    /// Consumes the code (issued for `row.officer_id`) and stores the officer's key in one
    /// transaction. `false` (nothing stored) when the code is unknown, used, expired or issued
    /// for another officer.
    pub async fn enrol_officer(&self, code_sm3: &str, now: i64, row: &OfficerRow) -> Result<bool> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        if !super::enrolment::consume_code(&mut tx, code_sm3, Some(&row.officer_id), now).await? {
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query("INSERT INTO officers (key_id, officer_id, public_key, device_key_id, certificate, enrolled_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&row.key_id)
            .bind(&row.officer_id)
            .bind(&row.public_key)
            .bind(&row.device_key_id)
            .bind(&row.certificate)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// An officer key by its key ID.
    pub async fn officer(&self, key_id: &str) -> Result<Option<OfficerRow>> {
        Ok(sqlx::query_as("SELECT key_id, officer_id, public_key, device_key_id, certificate, revoked_at FROM officers WHERE key_id = $1")
            .bind(key_id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Revokes an officer key. Returns whether an unrevoked key existed.
    pub async fn revoke_officer(&self, key_id: &str, now: i64) -> Result<bool> {
        let _turn = self.write_turn().await;
        let n = sqlx::query(
            "UPDATE officers SET revoked_at = $1 WHERE key_id = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(key_id)
        .execute(&self.pool)
        .await?;
        Ok(n.rows_affected() == 1)
    }

    /// The signed credentials of the officer keys `key_ids` (those enrolled), in that order.
    pub async fn officer_certificates(&self, key_ids: &[String]) -> Result<Vec<String>> {
        let mut out = Vec::with_capacity(key_ids.len());
        for k in key_ids {
            if let Some(row) = self.officer(k).await? {
                out.push(row.certificate);
            }
        }
        Ok(out)
    }
}

/// The enrolled officer keys among `key_ids`, read in `tx` (an intake group's): key ID →
/// (officer ID, revocation time).
pub(super) async fn standings(
    tx: &mut Tx,
    key_ids: &[&str],
) -> Result<HashMap<String, OfficerStanding>> {
    let mut out = HashMap::new();
    for chunk in key_ids.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "SELECT key_id, officer_id, revoked_at FROM officers WHERE key_id IN ({})",
            placeholders(1, chunk.len())
        );
        let mut q = sqlx::query_as::<_, (String, String, Option<i64>)>(dynamic_sql(tx, sql));
        for k in chunk {
            q = q.bind(*k);
        }
        out.extend(
            q.fetch_all(&mut **tx)
                .await?
                .into_iter()
                .map(|(k, o, r)| (k, (o, r))),
        );
    }
    Ok(out)
}
