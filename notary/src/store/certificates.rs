//! Certificates: the notarised certificate issued for a proof, stored once (the first one
//! issued stays) and found again by its proof or by its number.

use sqlx::Row;

use super::{Result, Store};

/// A stored certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateRow {
    /// Its number (`TZ-…`).
    pub number: String,
    /// SM3 of the proof it certifies.
    pub proof_sm3: String,
    /// The signed certificate (RFC 8785 JSON).
    pub certificate_json: String,
}

impl Store {
    /// The certificate issued for a proof.
    pub async fn certificate_of_proof(&self, proof_sm3: &str) -> Result<Option<CertificateRow>> {
        let r =
            sqlx::query("SELECT number, certificate_json FROM certificates WHERE proof_sm3 = $1")
                .bind(proof_sm3)
                .fetch_optional(&self.pool)
                .await?;
        r.map(|r| {
            Ok(CertificateRow {
                number: r.try_get("number")?,
                proof_sm3: proof_sm3.to_owned(),
                certificate_json: r.try_get("certificate_json")?,
            })
        })
        .transpose()
    }

    /// The certificate with a number.
    pub async fn certificate(&self, number: &str) -> Result<Option<CertificateRow>> {
        let r =
            sqlx::query("SELECT proof_sm3, certificate_json FROM certificates WHERE number = $1")
                .bind(number)
                .fetch_optional(&self.pool)
                .await?;
        r.map(|r| {
            Ok(CertificateRow {
                number: number.to_owned(),
                proof_sm3: r.try_get("proof_sm3")?,
                certificate_json: r.try_get("certificate_json")?,
            })
        })
        .transpose()
    }

    /// Stores a certificate unless one is already stored for its proof (the first one
    /// issued stays). Returns whether this one was stored.
    pub async fn insert_certificate(
        &self,
        number: &str,
        proof_sm3: &str,
        certificate_json: &str,
        issued_at: i64,
    ) -> Result<bool> {
        let _turn = self.write_turn().await;
        let done = sqlx::query("INSERT INTO certificates (number, proof_sm3, certificate_json, issued_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING")
            .bind(number)
            .bind(proof_sm3)
            .bind(certificate_json)
            .bind(issued_at)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
