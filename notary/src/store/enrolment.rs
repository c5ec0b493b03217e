//! Enrolment: the one-time codes officers are issued, and the devices enrolled with them
//! (registered, looked up, revoked, and checked by each intake group).

use std::collections::HashMap;

use super::sql::{ROWS_PER_STATEMENT, dynamic_sql, placeholders};
use super::{Result, Store, Tx, tokens};

/// A device row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeviceRow {
    /// SM3 of the device key.
    pub key_id: String,
    /// Public key hex.
    pub public_key: String,
    /// Enrolment ID.
    pub enrolment_id: String,
    /// Officer.
    pub officer_id: String,
    /// Set when revoked.
    pub revoked_at: Option<i64>,
}

impl Store {
    /// Stores an enrolment code (by its SM3).
    pub async fn insert_enrolment_code(
        &self,
        code_sm3: &str,
        officer_id: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<()> {
        let _turn = self.write_turn().await;
        sqlx::query("INSERT INTO enrolment_codes (code_sm3, officer_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(code_sm3)
            .bind(officer_id)
            .bind(now)
            .bind(expires_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Consumes a code and registers the device and its token in one transaction. Returns
    /// `false` (and stores nothing) when the code is unknown, used or expired.
    #[allow(clippy::too_many_arguments)]
    pub async fn enrol(
        &self,
        code_sm3: &str,
        now: i64,
        device: &DeviceRow,
        device_id: &str,
        model: &str,
        os: &str,
        certificate_json: &str,
        token: &tokens::NewToken,
    ) -> Result<bool> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        if !consume_code(&mut tx, code_sm3, None, now).await? {
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query("INSERT INTO devices (key_id, public_key, enrolment_id, officer_id, device_id, model, os, certificate, enrolled_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
            .bind(&device.key_id)
            .bind(&device.public_key)
            .bind(&device.enrolment_id)
            .bind(&device.officer_id)
            .bind(device_id)
            .bind(model)
            .bind(os)
            .bind(certificate_json)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tokens::insert_token(&mut tx, token, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The officer an unused, unexpired code was issued for.
    pub async fn enrolment_code_officer(&self, code_sm3: &str, now: i64) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT officer_id FROM enrolment_codes WHERE code_sm3 = $1 AND used_at IS NULL AND expires_at > $2")
            .bind(code_sm3)
            .bind(now)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// A device by key ID.
    pub async fn device(&self, key_id: &str) -> Result<Option<DeviceRow>> {
        Ok(sqlx::query_as("SELECT key_id, public_key, enrolment_id, officer_id, revoked_at FROM devices WHERE key_id = $1")
            .bind(key_id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Revokes a device and every token issued to it. Returns whether it existed.
    pub async fn revoke_device(&self, key_id: &str, now: i64) -> Result<bool> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        let n = sqlx::query(
            "UPDATE devices SET revoked_at = $1 WHERE key_id = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(key_id)
        .execute(&mut *tx)
        .await?;
        tokens::revoke_device_tokens(&mut tx, key_id, now).await?;
        tx.commit().await?;
        Ok(n.rows_affected() == 1)
    }
}

/// Marks an unused, unexpired one-time code used (one issued for `officer`, when given), in
/// `tx`; `false` when there is no such code.
pub(super) async fn consume_code(
    tx: &mut Tx,
    code_sm3: &str,
    officer: Option<&str>,
    now: i64,
) -> Result<bool> {
    let used = sqlx::query("UPDATE enrolment_codes SET used_at = $1 WHERE code_sm3 = $2 AND ($3 IS NULL OR officer_id = $3) AND used_at IS NULL AND expires_at > $4")
        .bind(now)
        .bind(code_sm3)
        .bind(officer)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    Ok(used.rows_affected() == 1)
}

/// The enrolled devices among `key_ids`, read in `tx` (an intake group's): key ID →
/// revocation time (if revoked).
pub(super) async fn revocations(
    tx: &mut Tx,
    key_ids: &[&str],
) -> Result<HashMap<String, Option<i64>>> {
    let mut out = HashMap::new();
    for chunk in key_ids.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "SELECT key_id, revoked_at FROM devices WHERE key_id IN ({})",
            placeholders(1, chunk.len())
        );
        let mut q = sqlx::query_as::<_, (String, Option<i64>)>(dynamic_sql(tx, sql));
        for k in chunk {
            q = q.bind(*k);
        }
        out.extend(q.fetch_all(&mut **tx).await?);
    }
    Ok(out)
}
