//! Media: the row of each file a proof names (created by its first declaration, completed
//! once the file is stored and verified), each proof's own declaration of it (SHA-256 and
//! size), and each uploader's acknowledged progress of a resumable upload.

use std::collections::HashSet;

use sqlx::Row;
use sqlx::any::AnyRow;

use super::intake::NewProof;
use super::sql::{ROWS_PER_STATEMENT, dynamic_sql, values_clause};
use super::{Result, Store, Tx, custody};

/// A media row.
#[derive(Debug, Clone)]
pub struct MediaRow {
    /// SM3 (the store address).
    pub sm3: String,
    /// SHA-256 it must also match.
    pub sha256: String,
    /// Declared size.
    pub bytes: i64,
    /// Bytes received so far.
    pub received: i64,
    /// Whether stored and verified.
    pub complete: bool,
}

impl sqlx::FromRow<'_, AnyRow> for MediaRow {
    /// `complete` is stored as 0 or 1.
    fn from_row(r: &AnyRow) -> sqlx::Result<Self> {
        Ok(Self {
            sm3: r.try_get("sm3")?,
            sha256: r.try_get("sha256")?,
            bytes: r.try_get("bytes")?,
            received: r.try_get("received")?,
            complete: r.try_get::<i64, _>("complete")? == 1,
        })
    }
}

/// Media as one proof declares it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeclaredMedia {
    /// SM3.
    #[sqlx(rename = "media_sm3")]
    pub sm3: String,
    /// File name in the manifest.
    pub file_name: String,
    /// SHA-256 the proof declares (`None` for proofs stored before declarations were kept).
    pub sha256: Option<String>,
    /// Size the proof declares (`None` as above).
    pub bytes: Option<i64>,
}

impl DeclaredMedia {
    /// Whether the stored media `m` is the file this proof declares.
    pub fn satisfied_by(&self, m: &MediaRow) -> bool {
        m.complete
            && m.sm3 == self.sm3
            && self.sha256.as_ref().is_none_or(|s| *s == m.sha256)
            && self.bytes.is_none_or(|b| b == m.bytes)
    }
}

/// What one device declared of a media file: the digest and size its upload must match.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Declaration {
    /// SHA-256 (hex).
    pub sha256: String,
    /// Size in bytes.
    pub bytes: i64,
}

/// Media a proof names.
#[derive(Debug, Clone)]
pub struct NewMedia {
    /// SM3.
    pub sm3: String,
    /// SHA-256.
    pub sha256: String,
    /// Size.
    pub bytes: i64,
    /// File name in the manifest.
    pub file_name: String,
}

impl Store {
    /// A media row.
    pub async fn media(&self, sm3: &str) -> Result<Option<MediaRow>> {
        Ok(sqlx::query_as(
            "SELECT sm3, sha256, bytes, received, complete FROM media WHERE sm3 = $1",
        )
        .bind(sm3)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Every media row.
    pub async fn audit_media(&self) -> Result<Vec<MediaRow>> {
        Ok(
            sqlx::query_as("SELECT sm3, sha256, bytes, received, complete FROM media ORDER BY sm3")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// What `device_key_id` declared for this media in its first proof naming it. Another
    /// device's declaration of the same SM3 is not consulted.
    pub async fn declaration(&self, device_key_id: &str, sm3: &str) -> Result<Option<Declaration>> {
        Ok(sqlx::query_as("SELECT COALESCE(m.sha256, d.sha256) AS sha256, COALESCE(m.bytes, d.bytes) AS bytes FROM proof_media m JOIN proofs p ON p.proof_sm3 = m.proof_sm3 JOIN media d ON d.sm3 = m.media_sm3 WHERE m.media_sm3 = $1 AND p.device_key_id = $2 ORDER BY p.device_seq, m.item LIMIT 1")
            .bind(sm3)
            .bind(device_key_id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Media a proof declares, in item order.
    pub async fn proof_media(&self, proof_sm3: &str) -> Result<Vec<DeclaredMedia>> {
        Ok(sqlx::query_as(
            "SELECT media_sm3, file_name, sha256, bytes FROM proof_media WHERE proof_sm3 = $1 ORDER BY item",
        )
        .bind(proof_sm3)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Bytes of `sm3` acknowledged to `uploader` so far.
    pub async fn upload_received(&self, sm3: &str, uploader: &str) -> Result<i64> {
        let received: Option<i64> = sqlx::query_scalar(
            "SELECT received FROM media_uploads WHERE sm3 = $1 AND uploader = $2",
        )
        .bind(sm3)
        .bind(uploader)
        .fetch_optional(&self.pool)
        .await?;
        Ok(received.unwrap_or(0))
    }

    /// The most bytes of `sm3` any uploader has had acknowledged (for operators).
    pub async fn upload_received_max(&self, sm3: &str) -> Result<i64> {
        let received: Option<i64> = sqlx::query_scalar(
            "SELECT MAX(received) AS received FROM media_uploads WHERE sm3 = $1",
        )
        .bind(sm3)
        .fetch_one(&self.pool)
        .await?;
        Ok(received.unwrap_or(0))
    }

    /// Records an uploader's progress (acknowledged bytes).
    pub async fn set_upload_received(
        &self,
        sm3: &str,
        uploader: &str,
        received: i64,
    ) -> Result<()> {
        let _turn = self.write_turn().await;
        sqlx::query("INSERT INTO media_uploads (sm3, uploader, received) VALUES ($1, $2, $3) ON CONFLICT (sm3, uploader) DO UPDATE SET received = excluded.received")
            .bind(sm3)
            .bind(uploader)
            .bind(received)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Marks media stored and verified as the file of SM3 `sm3`, SHA-256 `sha256` and `bytes`
    /// bytes, with a `media_stored` custody event for every proof whose declaration it
    /// satisfies (a false declaration of the same SM3 gets none).
    pub async fn complete_media(
        &self,
        sm3: &str,
        sha256: &str,
        bytes: i64,
        actor: &str,
        now: i64,
    ) -> Result<()> {
        let _turn = self.write_turn().await;
        let mut tx = self.begin_custody().await?;
        let updated = sqlx::query(
            "UPDATE media SET complete = 1, sha256 = $1, bytes = $2, received = $2, stored_at = $3 WHERE sm3 = $4 AND complete = 0",
        )
        .bind(sha256)
        .bind(bytes)
        .bind(now)
        .bind(sm3)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            // Already complete (another uploader finished first): nothing more to record.
            tx.rollback().await?;
            return Ok(());
        }
        sqlx::query("DELETE FROM media_uploads WHERE sm3 = $1")
            .bind(sm3)
            .execute(&mut *tx)
            .await?;
        let proofs: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT proof_sm3 FROM proof_media WHERE media_sm3 = $1 AND COALESCE(sha256, $2) = $2 AND COALESCE(bytes, $3) = $3 ORDER BY proof_sm3",
        )
        .bind(sm3)
        .bind(sha256)
        .bind(bytes)
        .fetch_all(&mut *tx)
        .await?;
        for p in proofs {
            custody::append_custody(
                &mut tx,
                &p,
                tiezheng_protocol::custody::CustodyKind::MediaStored,
                actor,
                now,
                &format!("media {sm3} verified (SM3 and SHA-256) and stored write-once"),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// Stores in the intake group's `tx` what `proofs` declare of their media: one declaration per
/// item, and the row of each file not declared before (the first declaration creates it).
pub(super) async fn insert_declared(tx: &mut Tx, proofs: &[NewProof]) -> Result<()> {
    let declared: Vec<(&NewProof, usize, &NewMedia)> = proofs
        .iter()
        .flat_map(|p| p.media.iter().enumerate().map(move |(i, m)| (p, i, m)))
        .collect();
    for chunk in declared.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO proof_media (proof_sm3, item, media_sm3, file_name, sha256, bytes) VALUES {}",
            values_clause(chunk.len(), 6)
        );
        let mut q = sqlx::query(dynamic_sql(tx, sql));
        for (p, i, m) in chunk {
            q = q
                .bind(&p.proof_sm3)
                .bind(i64::try_from(*i).unwrap_or(i64::MAX))
                .bind(&m.sm3)
                .bind(&m.file_name)
                .bind(&m.sha256)
                .bind(m.bytes);
        }
        q.execute(&mut **tx).await?;
    }
    // The media each proof expects: the first declaration of a file creates its row.
    let mut seen = HashSet::new();
    let media: Vec<&NewMedia> = declared
        .iter()
        .map(|(_, _, m)| *m)
        .filter(|m| seen.insert(m.sm3.as_str()))
        .collect();
    for chunk in media.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO media (sm3, sha256, bytes, received, complete) VALUES {} ON CONFLICT (sm3) DO NOTHING",
            values_clause(chunk.len(), 5)
        );
        let mut q = sqlx::query(dynamic_sql(tx, sql));
        for m in chunk {
            q = q
                .bind(&m.sm3)
                .bind(&m.sha256)
                .bind(m.bytes)
                .bind(0_i64)
                .bind(0_i64);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}
