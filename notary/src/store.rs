//! Durable state through sqlx's `Any` driver: the same queries run on SQLite (embedded
//! default, WAL with `synchronous=FULL`) and PostgreSQL (production). Intake writes a group of
//! proofs in one transaction (a few multi-row statements per table) that commits before any of
//! their receipts is returned.

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};

/// A database failure.
#[derive(Debug, thiserror::Error)]
#[error("database: {0}")]
pub struct StoreError(#[from] pub sqlx::Error);

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        Self(sqlx::Error::Migrate(Box::new(e)))
    }
}

impl StoreError {
    /// Whether the database could not be reached (down, restarting, refusing connections),
    /// as opposed to refusing a statement: the request may simply be tried again later.
    pub fn is_unavailable(&self) -> bool {
        match &self.0 {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => true,
            // SQLSTATE classes 08 (connection exception), 53 (insufficient resources: disk
            // full, out of memory, too many connections) and 57 (operator intervention:
            // shutting down, cannot connect now); SQLite's busy or locked database beyond
            // busy_timeout (5, 6 and their extended codes) and full disk (13).
            sqlx::Error::Database(e) => e.code().is_some_and(|c| {
                c.starts_with("08")
                    || c.starts_with("53")
                    || c.starts_with("57")
                    || matches!(c.as_ref(), "5" | "6" | "13" | "261" | "262" | "517" | "773")
            }),
            _ => false,
        }
    }
}

/// Result alias for the store.
pub type Result<T> = std::result::Result<T, StoreError>;

/// The notary's database.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// SQLite only: the writer's turn, taken (first come, first served) before every write
    /// transaction. SQLite has one write lock and its busy handler polls for it, so under
    /// intake's back-to-back group commits a waiting batch close or lease renewal could lose
    /// the race for seconds; with the turn it waits at most for the group being committed.
    writer: Option<std::sync::Arc<tokio::sync::Mutex<()>>>,
}

/// Held while a write transaction is open (see [`Store::write_turn`]); `None` on PostgreSQL,
/// whose row locks order writers.
type WriteTurn = Option<tokio::sync::OwnedMutexGuard<()>>;

/// Which database is behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// A closed batch whose bundles are not complete yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitingBatch {
    /// Its sequence number.
    pub batch_seq: i64,
    /// The ledger height that anchored it, if it is anchored.
    pub anchored_height: Option<i64>,
}

/// A stored proof row.
#[derive(Debug, Clone)]
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
#[derive(Debug, Clone)]
pub struct AuditProof {
    /// The device column.
    pub device_key_id: String,
    /// The sequence column.
    pub device_seq: i64,
    /// The rest of the row.
    pub row: ProofRow,
}

/// A device row.
#[derive(Debug, Clone)]
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

/// A token row.
#[derive(Debug, Clone)]
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

/// Media as one proof declares it.
#[derive(Debug, Clone)]
pub struct DeclaredMedia {
    /// SM3.
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

pub use tiezheng_protocol::custody::CustodyEvent;

fn opt_i64(row: &AnyRow, col: &str) -> Result<Option<i64>> {
    Ok(row.try_get::<Option<i64>, _>(col)?)
}

/// Every SQLite connection's settings.
const SQLITE_PRAGMAS: [&str; 7] = [
    // Durability first: a receipt promises the proof survives a crash.
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA busy_timeout=10000",
    // Reads of the proof and media indexes from memory, not by read(2) per page: a 32 MiB
    // page cache per connection and the file mapped (up to 1 GiB of address space; pages are
    // shared with the OS cache).
    "PRAGMA cache_size=-32768",
    "PRAGMA mmap_size=1073741824",
    // No checkpoint inside a commit (it would hold up intake's writer and every receipt
    // waiting on it): `Store::checkpoint` runs them in the background instead.
    "PRAGMA wal_autocheckpoint=0",
    "PRAGMA temp_store=MEMORY",
];

impl Store {
    /// Connects and migrates.
    pub async fn connect(url: &str) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        };
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 4 } else { 16 })
            // While the database is down a request waits at most this long, then is answered
            // 503 (and the device retries), instead of hanging.
            .acquire_timeout(std::time::Duration::from_secs(5))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        for pragma in SQLITE_PRAGMAS {
                            sqlx::query(pragma).execute(&mut *conn).await?;
                        }
                    }
                    Ok(())
                })
            })
            .connect(url)
            .await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        let writer =
            (backend == Backend::Sqlite).then(|| std::sync::Arc::new(tokio::sync::Mutex::new(())));
        Ok(Self {
            pool,
            backend,
            writer,
        })
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Waits for this process's turn to write (SQLite), in order of arrival. Take it before
    /// the transaction begins and hold it until the commit.
    async fn write_turn(&self) -> WriteTurn {
        match &self.writer {
            Some(w) => Some(w.clone().lock_owned().await),
            None => None,
        }
    }

    /// Begins a transaction that may append custody events. Its first statement updates the
    /// one `custody_head` row: on PostgreSQL that row lock serialises custody appends across
    /// every connection and notary instance; on SQLite a write as the first statement takes
    /// the database's write lock at once (waiting up to `busy_timeout`), like `BEGIN
    /// IMMEDIATE`, so the transaction never has to upgrade a stale read snapshot, which SQLite
    /// refuses at once with "database is locked". Readers of evidence therefore never fail
    /// because of each other or of intake, and each event reads the true last hash.
    async fn begin_custody(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE custody_head SET appends = appends + 1 WHERE name = 'custody'")
            .execute(&mut *tx)
            .await?;
        Ok(tx)
    }

    /// On SQLite, copies what the write-ahead log holds into the database file as far as
    /// readers allow, without waiting for the writer (`PRAGMA wal_checkpoint(PASSIVE)`), and
    /// returns how many WAL frames remain to copy; on PostgreSQL, nothing. Run in the
    /// background (connections never checkpoint inside a commit).
    pub async fn checkpoint(&self) -> Result<i64> {
        if self.backend != Backend::Sqlite {
            return Ok(0);
        }
        let row = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(&self.pool)
            .await?;
        let log: i64 = row.try_get(1)?;
        let copied: i64 = row.try_get(2)?;
        Ok(log - copied)
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").fetch_one(&self.pool).await?;
        Ok(())
    }

    // --- enrolment codes -------------------------------------------------------------------

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

    /// Consumes a code and registers the device and its token in one transaction. Returns the
    /// officer, or `None` when the code is unknown, used or expired.
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
        token: &NewToken,
    ) -> Result<bool> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        let used = sqlx::query("UPDATE enrolment_codes SET used_at = $1 WHERE code_sm3 = $2 AND used_at IS NULL AND expires_at > $3")
            .bind(now)
            .bind(code_sm3)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        if used.rows_affected() != 1 {
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
        insert_token(&mut tx, token, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The officer an unused, unexpired code was issued for.
    pub async fn enrolment_code_officer(&self, code_sm3: &str, now: i64) -> Result<Option<String>> {
        let row = sqlx::query("SELECT officer_id FROM enrolment_codes WHERE code_sm3 = $1 AND used_at IS NULL AND expires_at > $2")
            .bind(code_sm3)
            .bind(now)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get("officer_id")).transpose()?)
    }

    // --- devices ---------------------------------------------------------------------------

    /// A device by key ID.
    pub async fn device(&self, key_id: &str) -> Result<Option<DeviceRow>> {
        let row = sqlx::query("SELECT key_id, public_key, enrolment_id, officer_id, revoked_at FROM devices WHERE key_id = $1")
            .bind(key_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            Ok(DeviceRow {
                key_id: r.try_get("key_id")?,
                public_key: r.try_get("public_key")?,
                enrolment_id: r.try_get("enrolment_id")?,
                officer_id: r.try_get("officer_id")?,
                revoked_at: opt_i64(&r, "revoked_at")?,
            })
        })
        .transpose()
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
        sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE role = 'device' AND subject = $2 AND revoked_at IS NULL").bind(now).bind(key_id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(n.rows_affected() == 1)
    }

    // --- tokens ----------------------------------------------------------------------------

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

    /// Ensures the bootstrap admin token exists.
    pub async fn ensure_token(&self, token: &NewToken, now: i64) -> Result<()> {
        let exists = sqlx::query("SELECT token_id FROM tokens WHERE token_sm3 = $1")
            .bind(&token.token_sm3)
            .fetch_optional(&self.pool)
            .await?;
        if exists.is_none() {
            self.insert_token(token, &[], now).await?;
        }
        Ok(())
    }

    /// A token by its SM3.
    pub async fn token(&self, token_sm3: &str) -> Result<Option<TokenRow>> {
        let row = sqlx::query("SELECT token_id, role, subject, expires_at, revoked_at FROM tokens WHERE token_sm3 = $1").bind(token_sm3).fetch_optional(&self.pool).await?;
        row.map(|r| {
            Ok(TokenRow {
                token_id: r.try_get("token_id")?,
                role: r.try_get("role")?,
                subject: r.try_get("subject")?,
                expires_at: r.try_get("expires_at")?,
                revoked_at: opt_i64(&r, "revoked_at")?,
            })
        })
        .transpose()
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

    // --- proofs ----------------------------------------------------------------------------

    /// The proof stored for a device's sequence number.
    pub async fn proof_at(&self, device_key_id: &str, device_seq: i64) -> Result<Option<ProofRow>> {
        let row = sqlx::query("SELECT proof_sm3, manifest_sm3, previous_manifest_sm3, case_reference, proof_json, receipt_json FROM proofs WHERE device_key_id = $1 AND device_seq = $2")
            .bind(device_key_id)
            .bind(device_seq)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| proof_row(&r)).transpose()
    }

    /// A proof by its SM3.
    pub async fn proof(&self, proof_sm3: &str) -> Result<Option<ProofRow>> {
        let row = sqlx::query("SELECT proof_sm3, manifest_sm3, previous_manifest_sm3, case_reference, proof_json, receipt_json FROM proofs WHERE proof_sm3 = $1")
            .bind(proof_sm3)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| proof_row(&r)).transpose()
    }

    /// Number of proofs stored.
    pub async fn proof_count(&self) -> Result<i64> {
        let r = sqlx::query("SELECT COUNT(*) AS n FROM proofs")
            .fetch_one(&self.pool)
            .await?;
        Ok(r.try_get("n")?)
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

    // --- batches ---------------------------------------------------------------------------

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
            let events: Vec<NewCustody<'_>> = proofs
                .iter()
                .map(|p| NewCustody {
                    proof_sm3: p,
                    event: "anchored",
                    actor: "ledger",
                    at: now,
                    detail: detail.clone(),
                })
                .collect();
            append_custody_many(&mut tx, &events).await?;
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

    // --- certificates ----------------------------------------------------------------------

    /// The certificate issued for a proof: (number, signed certificate JSON).
    pub async fn certificate_of_proof(&self, proof_sm3: &str) -> Result<Option<(String, String)>> {
        let r =
            sqlx::query("SELECT number, certificate_json FROM certificates WHERE proof_sm3 = $1")
                .bind(proof_sm3)
                .fetch_optional(&self.pool)
                .await?;
        r.map(|r| Ok((r.try_get("number")?, r.try_get("certificate_json")?)))
            .transpose()
    }

    /// The certificate with a number: (proof SM3, signed certificate JSON).
    pub async fn certificate(&self, number: &str) -> Result<Option<(String, String)>> {
        let r =
            sqlx::query("SELECT proof_sm3, certificate_json FROM certificates WHERE number = $1")
                .bind(number)
                .fetch_optional(&self.pool)
                .await?;
        r.map(|r| Ok((r.try_get("proof_sm3")?, r.try_get("certificate_json")?)))
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

    // --- media -----------------------------------------------------------------------------

    /// A media row.
    pub async fn media(&self, sm3: &str) -> Result<Option<MediaRow>> {
        let row =
            sqlx::query("SELECT sm3, sha256, bytes, received, complete FROM media WHERE sm3 = $1")
                .bind(sm3)
                .fetch_optional(&self.pool)
                .await?;
        row.map(|r| {
            Ok(MediaRow {
                sm3: r.try_get("sm3")?,
                sha256: r.try_get("sha256")?,
                bytes: r.try_get("bytes")?,
                received: r.try_get("received")?,
                complete: r.try_get::<i64, _>("complete")? == 1,
            })
        })
        .transpose()
    }

    /// What `device_key_id` declared for this media in its first proof naming it: (SHA-256,
    /// size). Another device's declaration of the same SM3 is not consulted.
    pub async fn declaration(
        &self,
        device_key_id: &str,
        sm3: &str,
    ) -> Result<Option<(String, i64)>> {
        let row = sqlx::query("SELECT COALESCE(m.sha256, d.sha256) AS sha256, COALESCE(m.bytes, d.bytes) AS bytes FROM proof_media m JOIN proofs p ON p.proof_sm3 = m.proof_sm3 JOIN media d ON d.sm3 = m.media_sm3 WHERE m.media_sm3 = $1 AND p.device_key_id = $2 ORDER BY p.device_seq, m.item LIMIT 1")
            .bind(sm3)
            .bind(device_key_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| Ok((r.try_get("sha256")?, r.try_get("bytes")?)))
            .transpose()
    }

    /// Bytes of `sm3` acknowledged to `uploader` so far.
    pub async fn upload_received(&self, sm3: &str, uploader: &str) -> Result<i64> {
        let row =
            sqlx::query("SELECT received FROM media_uploads WHERE sm3 = $1 AND uploader = $2")
                .bind(sm3)
                .bind(uploader)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|r| r.try_get("received")).transpose()?.unwrap_or(0))
    }

    /// The most bytes of `sm3` any uploader has had acknowledged (for operators).
    pub async fn upload_received_max(&self, sm3: &str) -> Result<i64> {
        let row = sqlx::query("SELECT MAX(received) AS received FROM media_uploads WHERE sm3 = $1")
            .bind(sm3)
            .fetch_one(&self.pool)
            .await?;
        Ok(opt_i64(&row, "received")?.unwrap_or(0))
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
        let proofs = sqlx::query(
            "SELECT DISTINCT proof_sm3 FROM proof_media WHERE media_sm3 = $1 AND COALESCE(sha256, $2) = $2 AND COALESCE(bytes, $3) = $3 ORDER BY proof_sm3",
        )
        .bind(sm3)
        .bind(sha256)
        .bind(bytes)
        .fetch_all(&mut *tx)
        .await?;
        for r in proofs {
            let p: String = r.try_get("proof_sm3")?;
            append_custody(
                &mut tx,
                &p,
                "media_stored",
                actor,
                now,
                &format!("media {sm3} verified (SM3 and SHA-256) and stored write-once"),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Media a proof declares, in item order.
    pub async fn proof_media(&self, proof_sm3: &str) -> Result<Vec<DeclaredMedia>> {
        let rows = sqlx::query(
            "SELECT media_sm3, file_name, sha256, bytes FROM proof_media WHERE proof_sm3 = $1 ORDER BY item",
        )
        .bind(proof_sm3)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(DeclaredMedia {
                    sm3: r.try_get("media_sm3")?,
                    file_name: r.try_get("file_name")?,
                    sha256: r.try_get("sha256")?,
                    bytes: opt_i64(r, "bytes")?,
                })
            })
            .collect()
    }

    // --- audit -----------------------------------------------------------------------------

    /// Every stored proof with the columns an audit checks against its JSON.
    pub async fn audit_proofs(&self) -> Result<Vec<AuditProof>> {
        let rows = sqlx::query("SELECT proof_sm3, device_key_id, device_seq, manifest_sm3, previous_manifest_sm3, case_reference, proof_json, receipt_json FROM proofs ORDER BY device_key_id, device_seq").fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                Ok(AuditProof {
                    device_key_id: r.try_get("device_key_id")?,
                    device_seq: r.try_get("device_seq")?,
                    row: proof_row(r)?,
                })
            })
            .collect()
    }

    /// Every media row.
    pub async fn audit_media(&self) -> Result<Vec<MediaRow>> {
        let rows =
            sqlx::query("SELECT sm3, sha256, bytes, received, complete FROM media ORDER BY sm3")
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|r| {
                Ok(MediaRow {
                    sm3: r.try_get("sm3")?,
                    sha256: r.try_get("sha256")?,
                    bytes: r.try_get("bytes")?,
                    received: r.try_get("received")?,
                    complete: r.try_get::<i64, _>("complete")? == 1,
                })
            })
            .collect()
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

    // --- custody ---------------------------------------------------------------------------

    /// Appends a custody event.
    pub async fn custody(
        &self,
        proof_sm3: &str,
        event: &str,
        actor: &str,
        now: i64,
        detail: &str,
    ) -> Result<()> {
        let _turn = self.write_turn().await;
        let mut tx = self.begin_custody().await?;
        append_custody(&mut tx, proof_sm3, event, actor, now, detail).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Custody events of a proof, in order.
    pub async fn custody_of(&self, proof_sm3: &str) -> Result<Vec<CustodyEvent>> {
        let rows = sqlx::query("SELECT seq, proof_sm3, event, actor, at, detail, prev_hash, hash FROM custody_events WHERE proof_sm3 = $1 ORDER BY seq").bind(proof_sm3).fetch_all(&self.pool).await?;
        rows.iter().map(custody_row).collect()
    }

    // --- portal (reading by case) --------------------------------------------------------

    /// The cases `token_id` is granted, in order.
    pub async fn granted_cases(&self, token_id: &str) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT case_reference FROM grants WHERE token_id = $1 ORDER BY case_reference",
        )
        .bind(token_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok(r.try_get("case_reference")?))
            .collect()
    }

    /// Every case with at least one proof, in order.
    pub async fn cases(&self) -> Result<Vec<String>> {
        let rows =
            sqlx::query("SELECT DISTINCT case_reference FROM proofs ORDER BY case_reference")
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|r| Ok(r.try_get("case_reference")?))
            .collect()
    }

    /// The proofs of a case, by device and sequence.
    pub async fn proofs_of_case(&self, case_reference: &str) -> Result<Vec<ProofRow>> {
        let rows = sqlx::query("SELECT proof_sm3, manifest_sm3, previous_manifest_sm3, case_reference, proof_json, receipt_json FROM proofs WHERE case_reference = $1 ORDER BY device_key_id, device_seq")
            .bind(case_reference)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(proof_row).collect()
    }

    /// The whole custody log, in order (for audits and tests).
    pub async fn custody_log(&self) -> Result<Vec<CustodyEvent>> {
        let rows = sqlx::query("SELECT seq, proof_sm3, event, actor, at, detail, prev_hash, hash FROM custody_events ORDER BY seq").fetch_all(&self.pool).await?;
        rows.iter().map(custody_row).collect()
    }
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
    pub media: Vec<NewMedia>,
    /// Random salt of the proof's batch leaf (32 hex digits).
    pub salt: String,
}

/// What the sequencer reads of a stored proof: enough to tell a resubmission from a replay
/// and to check chain links in both directions.
#[derive(Debug, Clone)]
pub struct ChainRow {
    /// SM3 of the proof.
    pub proof_sm3: String,
    /// SM3 of the manifest.
    pub manifest_sm3: String,
    /// The link the manifest claims.
    pub previous_manifest_sm3: Option<String>,
    /// The receipt returned for it (returned again on resubmission).
    pub receipt_json: String,
}

/// Rows per multi-row statement: well under both engines' limits on bound values.
const ROWS_PER_STATEMENT: usize = 100;

// The multi-row statements below are built only from fixed text and numbered placeholders
// (`AssertSqlSafe`); every value is bound.

/// A dynamic statement for `conn`. On SQLite its `$n` placeholders (numbered in bind order)
/// become anonymous `?`: SQLite binds those without a name look-up per parameter, which is
/// linear in the statement's parameter count (quadratic for a hundred-row insert).
fn dynamic_sql(conn: &sqlx::AnyConnection, sql: String) -> sqlx::AssertSqlSafe<String> {
    if conn.backend_name() != "SQLite" {
        return sqlx::AssertSqlSafe(sql);
    }
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            while chars.peek().is_some_and(char::is_ascii_digit) {
                chars.next();
            }
            out.push('?');
        } else {
            out.push(c);
        }
    }
    sqlx::AssertSqlSafe(out)
}

/// `($1, $2, …), (…)`: `rows` groups of `cols` numbered placeholders.
fn values_clause(rows: usize, cols: usize) -> String {
    values_clause_from(1, rows, cols)
}

/// As [`values_clause`], numbered from `$from`.
fn values_clause_from(from: usize, rows: usize, cols: usize) -> String {
    let mut out = String::with_capacity(rows * cols * 5);
    for r in 0..rows {
        if r > 0 {
            out.push_str(", ");
        }
        out.push('(');
        for c in 0..cols {
            if c > 0 {
                out.push_str(", ");
            }
            out.push('$');
            out.push_str(&(from + r * cols + c).to_string());
        }
        out.push(')');
    }
    out
}

/// `$1, $2, …, $n`, numbered from `from`.
fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// An intake group's transaction (see [`Store::begin_intake`]).
pub struct IntakeTx {
    tx: sqlx::Transaction<'static, sqlx::Any>,
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
    pub async fn devices(
        &mut self,
        key_ids: &[&str],
    ) -> Result<std::collections::HashMap<String, Option<i64>>> {
        let mut out = std::collections::HashMap::new();
        for chunk in key_ids.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "SELECT key_id, revoked_at FROM devices WHERE key_id IN ({})",
                placeholders(1, chunk.len())
            );
            let mut q = sqlx::query(dynamic_sql(&self.tx, sql));
            for k in chunk {
                q = q.bind(*k);
            }
            for r in q.fetch_all(&mut *self.tx).await? {
                out.insert(r.try_get("key_id")?, opt_i64(&r, "revoked_at")?);
            }
        }
        Ok(out)
    }

    /// The stored proofs of `device` at any of `seqs`.
    pub async fn chain_rows(&mut self, device: &str, seqs: &[i64]) -> Result<Vec<(i64, ChainRow)>> {
        let mut out = Vec::new();
        for chunk in seqs.chunks(ROWS_PER_STATEMENT * 4) {
            let sql = format!(
                "SELECT device_seq, proof_sm3, manifest_sm3, previous_manifest_sm3, receipt_json FROM proofs WHERE device_key_id = $1 AND device_seq IN ({})",
                placeholders(2, chunk.len())
            );
            let mut q = sqlx::query(dynamic_sql(&self.tx, sql)).bind(device);
            for s in chunk {
                q = q.bind(*s);
            }
            for r in q.fetch_all(&mut *self.tx).await? {
                out.push((
                    r.try_get("device_seq")?,
                    ChainRow {
                        proof_sm3: r.try_get("proof_sm3")?,
                        manifest_sm3: r.try_get("manifest_sm3")?,
                        previous_manifest_sm3: r.try_get("previous_manifest_sm3")?,
                        receipt_json: r.try_get("receipt_json")?,
                    },
                ));
            }
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

            let sql = format!(
                "INSERT INTO batch_leaves (proof_sm3, salt, added_at) VALUES {}",
                values_clause(chunk.len(), 3)
            );
            let mut q = sqlx::query(dynamic_sql(tx, sql));
            for p in chunk {
                q = q.bind(&p.proof_sm3).bind(&p.salt).bind(p.received_at);
            }
            q.execute(&mut **tx).await?;
        }

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
        let mut seen = std::collections::HashSet::new();
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

        let events: Vec<NewCustody<'_>> = proofs
            .iter()
            .map(|p| NewCustody {
                proof_sm3: &p.proof_sm3,
                event: "received",
                actor: &p.device_key_id,
                at: p.received_at,
                detail: format!("device_seq {}", p.device_seq),
            })
            .collect();
        append_custody_many(tx, &events).await?;
        Ok(())
    }

    /// Commits the group: only now may its receipts be returned.
    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }
}

async fn insert_token(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    t: &NewToken,
    now: i64,
) -> Result<()> {
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

/// A custody event to append.
struct NewCustody<'a> {
    proof_sm3: &'a str,
    event: &'a str,
    actor: &'a str,
    at: i64,
    detail: String,
}

/// Appends `events` to the custody log in order, chained from its last event, a hundred rows
/// per statement. The caller's transaction holds the custody head.
async fn append_custody_many(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    events: &[NewCustody<'_>],
) -> Result<()> {
    let (mut seq, mut prev_hash) = last_custody(tx).await?;
    let events: Vec<CustodyEvent> = events
        .iter()
        .map(|n| {
            seq += 1;
            let mut e = CustodyEvent {
                seq,
                proof_sm3: n.proof_sm3.to_owned(),
                event: n.event.to_owned(),
                actor: n.actor.to_owned(),
                at: n.at,
                detail: n.detail.clone(),
                prev_hash: std::mem::take(&mut prev_hash),
                hash: String::new(),
            };
            e.hash = e.compute_hash();
            prev_hash.clone_from(&e.hash);
            e
        })
        .collect();
    for chunk in events.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO custody_events (seq, proof_sm3, event, actor, at, detail, prev_hash, hash) VALUES {}",
            values_clause(chunk.len(), 8)
        );
        let mut q = sqlx::query(dynamic_sql(tx, sql));
        for e in chunk {
            q = q
                .bind(e.seq)
                .bind(&e.proof_sm3)
                .bind(&e.event)
                .bind(&e.actor)
                .bind(e.at)
                .bind(&e.detail)
                .bind(&e.prev_hash)
                .bind(&e.hash);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// The custody log's last sequence number and hash (0 and 64 zeros when it is empty).
async fn last_custody(tx: &mut sqlx::Transaction<'_, sqlx::Any>) -> Result<(i64, String)> {
    let last = sqlx::query("SELECT seq, hash FROM custody_events ORDER BY seq DESC LIMIT 1")
        .fetch_optional(&mut **tx)
        .await?;
    Ok(match last {
        Some(r) => (r.try_get::<i64, _>("seq")?, r.try_get::<String, _>("hash")?),
        None => (0, "0".repeat(64)),
    })
}

async fn append_custody(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    proof_sm3: &str,
    event: &str,
    actor: &str,
    at: i64,
    detail: &str,
) -> Result<()> {
    let (last, prev_hash) = last_custody(tx).await?;
    let seq = last + 1;
    let mut e = CustodyEvent {
        seq,
        proof_sm3: proof_sm3.to_owned(),
        event: event.to_owned(),
        actor: actor.to_owned(),
        at,
        detail: detail.to_owned(),
        prev_hash,
        hash: String::new(),
    };
    e.hash = e.compute_hash();
    sqlx::query("INSERT INTO custody_events (seq, proof_sm3, event, actor, at, detail, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(e.seq)
        .bind(&e.proof_sm3)
        .bind(&e.event)
        .bind(&e.actor)
        .bind(e.at)
        .bind(&e.detail)
        .bind(&e.prev_hash)
        .bind(&e.hash)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

fn proof_row(r: &AnyRow) -> Result<ProofRow> {
    Ok(ProofRow {
        proof_sm3: r.try_get("proof_sm3")?,
        manifest_sm3: r.try_get("manifest_sm3")?,
        previous_manifest_sm3: r.try_get("previous_manifest_sm3")?,
        case_reference: r.try_get("case_reference")?,
        proof_json: r.try_get("proof_json")?,
        receipt_json: r.try_get("receipt_json")?,
    })
}

fn custody_row(r: &AnyRow) -> Result<CustodyEvent> {
    Ok(CustodyEvent {
        seq: r.try_get("seq")?,
        proof_sm3: r.try_get("proof_sm3")?,
        event: r.try_get("event")?,
        actor: r.try_get("actor")?,
        at: r.try_get("at")?,
        detail: r.try_get("detail")?,
        prev_hash: r.try_get("prev_hash")?,
        hash: r.try_get("hash")?,
    })
}

/// Checks a whole custody log's hash chain (from its first event, no gaps) with the protocol's
/// check; returns the first broken sequence number.
pub fn verify_custody_chain(events: &[CustodyEvent]) -> std::result::Result<(), i64> {
    let report = tiezheng_protocol::custody::check_chain(events);
    match report
        .events
        .iter()
        .find(|c| c.problem.is_some() || c.link == "gap")
    {
        Some(c) => Err(c.seq),
        None => Ok(()),
    }
}
