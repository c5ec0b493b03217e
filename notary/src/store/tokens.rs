//! Tokens and grants: the bearer tokens of every role (stored by their SM3, never in clear),
//! looked up on every request and revoked one by one or with their device; and the cases an
//! appraiser token is granted, stored with the token.

use super::{Result, Store, Tx};

/// A token row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TokenRow {
    /// Public identifier of the token.
    pub token_id: String,
    /// Role name.
    pub role: String,
    /// Subject: device key ID for devices, a name otherwise.
    pub subject: String,
    /// Expiry (Unix ms).
    pub expires_at: i64,
    /// Set when revoked.
    pub revoked_at: Option<i64>,
}

/// A token as the administrator's list shows it (never the secret).
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct TokenListing {
    /// Public identifier of the token.
    pub token_id: String,
    /// Role name.
    pub role: String,
    /// Subject: device key ID for devices, a name otherwise.
    pub subject: String,
    /// When it was issued (Unix ms).
    pub created_at: i64,
    /// Expiry (Unix ms).
    pub expires_at: i64,
    /// When it was revoked (Unix ms).
    pub revoked_at: Option<i64>,
}

/// A token to store.
#[derive(Debug, Clone)]
pub struct NewToken {
    /// SM3 of the secret token.
    pub token_sm3: String,
    /// Public identifier.
    pub token_id: String,
    /// Role.
    pub role: String,
    /// Subject.
    pub subject: String,
    /// Expiry (Unix ms).
    pub expires_at: i64,
}

impl Store {
    /// Stores a token (by its SM3) with optional case grants.
    pub async fn insert_token(&self, token: &NewToken, cases: &[String], now: i64) -> Result<()> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        insert_token(&mut tx, token, now).await?;
        for c in cases {
            sqlx::query("INSERT INTO grants (token_id, case_reference) VALUES ($1, $2)")
                .bind(&token.token_id)
                .bind(c)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Makes `token` the one bootstrap administrator token: stores it if new, and revokes
    /// every other unrevoked admin token whose ID starts with `prefix` (earlier bootstrap
    /// tokens). Returns the IDs revoked.
    pub async fn rotate_bootstrap_token(
        &self,
        token: &NewToken,
        prefix: &str,
        now: i64,
    ) -> Result<Vec<String>> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        let exists = sqlx::query("SELECT token_id FROM tokens WHERE token_sm3 = $1")
            .bind(&token.token_sm3)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            insert_token(&mut tx, token, now).await?;
        }
        let earlier: Vec<String> = sqlx::query_scalar(
            "SELECT token_id FROM tokens WHERE role = 'admin' AND revoked_at IS NULL \
             AND token_sm3 <> $1 AND substr(token_id, 1, length($2)) = $2 ORDER BY token_id",
        )
        .bind(&token.token_sm3)
        .bind(prefix)
        .fetch_all(&mut *tx)
        .await?;
        for id in &earlier {
            sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE token_id = $2")
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(earlier)
    }

    /// Every token (never its secret), newest first, with the cases appraisers are granted;
    /// revoked and expired ones only when `all`.
    pub async fn list_tokens(&self, all: bool, now: i64) -> Result<Vec<TokenListing>> {
        let rows: Vec<TokenListing> = if all {
            sqlx::query_as(
                "SELECT token_id, role, subject, created_at, expires_at, revoked_at FROM tokens \
                 ORDER BY created_at DESC, token_id",
            )
            .fetch_all(&self.pool)
            .await?
        } else {
            sqlx::query_as(
                "SELECT token_id, role, subject, created_at, expires_at, revoked_at FROM tokens \
                 WHERE revoked_at IS NULL AND expires_at > $1 ORDER BY created_at DESC, token_id",
            )
            .bind(now)
            .fetch_all(&self.pool)
            .await?
        };
        Ok(rows)
    }

    /// A token by its SM3.
    pub async fn token(&self, token_sm3: &str) -> Result<Option<TokenRow>> {
        Ok(sqlx::query_as("SELECT token_id, role, subject, expires_at, revoked_at FROM tokens WHERE token_sm3 = $1").bind(token_sm3).fetch_optional(&self.pool).await?)
    }

    /// Revokes a token by its public ID.
    pub async fn revoke_token(&self, token_id: &str, now: i64) -> Result<bool> {
        let _turn = self.write_turn().await;
        let n = sqlx::query(
            "UPDATE tokens SET revoked_at = $1 WHERE token_id = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(token_id)
        .execute(&self.pool)
        .await?;
        Ok(n.rows_affected() == 1)
    }

    /// Whether `token_id` is granted `case_reference`.
    pub async fn granted(&self, token_id: &str, case_reference: &str) -> Result<bool> {
        let row =
            sqlx::query("SELECT token_id FROM grants WHERE token_id = $1 AND case_reference = $2")
                .bind(token_id)
                .bind(case_reference)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.is_some())
    }

    /// The cases `token_id` is granted, in order.
    pub async fn granted_cases(&self, token_id: &str) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT case_reference FROM grants WHERE token_id = $1 ORDER BY case_reference",
        )
        .bind(token_id)
        .fetch_all(&self.pool)
        .await?)
    }
}

/// Stores a token in `tx` (a new token, or a device's at its enrolment).
pub(super) async fn insert_token(tx: &mut Tx, t: &NewToken, now: i64) -> Result<()> {
    sqlx::query("INSERT INTO tokens (token_sm3, token_id, role, subject, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(&t.token_sm3)
        .bind(&t.token_id)
        .bind(&t.role)
        .bind(&t.subject)
        .bind(now)
        .bind(t.expires_at)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Revokes in `tx` every token issued to the device `key_id` (with the device).
pub(super) async fn revoke_device_tokens(tx: &mut Tx, key_id: &str, now: i64) -> Result<()> {
    sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE role = 'device' AND subject = $2 AND revoked_at IS NULL").bind(now).bind(key_id).execute(&mut **tx).await?;
    Ok(())
}
