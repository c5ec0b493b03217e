//! Durable state through sqlx's `Any` driver: the same queries run on SQLite (embedded
//! default, WAL with `synchronous=FULL`) and PostgreSQL (production). Intake writes a group of
//! proofs in one transaction (a few multi-row statements per table) that commits before any of
//! their receipts is returned.
//!
//! [`Store`] holds the pool and what every resource shares (the SQLite writer's turn, the
//! connection settings, the migrations); the queries live with their resource, each in its
//! own `impl Store` block (an audit's reads too), with the rows they return:
//!
//! - `enrolment`: one-time enrolment codes and the devices they enrol;
//! - `tokens`: bearer tokens, and the case grants stored with them;
//! - `cases`: the cases with proofs and the proofs filed under a case (the portal's reads);
//! - `intake`: stored proofs, the intake group's transaction ([`IntakeTx`]) and the device
//!   chains it reads;
//! - `media`: media rows, each proof's declarations of them and resumable uploads;
//! - `batches`: batch leaves, closed batches, their anchoring and ledger evidence, and the
//!   batching lease;
//! - `custody`: the hash-chained custody log and its head;
//! - `certificates`: notarised certificates, one per proof;
//! - `sql`: the placeholders of the multi-row statements.
//!
//! A transaction that writes several resources at once (an intake group, an anchoring, a
//! completed upload) calls each resource's statements on the one transaction.

use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Row};

mod appraisals;
mod batches;
mod cases;
mod certificates;
mod custody;
mod custody_tree;
mod enrolment;
mod intake;
mod media;
mod officers;
mod sql;
mod tokens;

pub use appraisals::{AppraisalSummary, NewStep, StoredAppraisal, StoredDraft};
pub use batches::{
    AnchoredBatch, BatchEvidence, BatchRow, LastBatch, LeafPosition, LeafRow, PendingLeaf,
    StoredBatch, UnanchoredBatch, UnsealedBatch, WaitingBatch, WaitingProof,
};
pub use certificates::CertificateRow;
pub use custody::{CustodyEvent, CustodyPage, verify_custody_chain};
pub use custody_tree::{NextCommitment, TILE};
pub use enrolment::DeviceRow;
pub use intake::{AuditProof, ChainRow, IntakeTx, NewProof, ProofRow};
pub use media::{Declaration, DeclaredMedia, MediaRow, NewMedia};
pub use officers::{OfficerRow, OfficerStanding};
pub use tokens::{NewToken, TokenListing, TokenRow};

/// Why something could not be stored or read: the database failed, or a write was refused
/// before it reached the database.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database failed (unreachable, or refusing a statement).
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// The database's schema could not be brought up to date.
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A closed batch was not stored: this instance no longer holds the batching lease
    /// (it stalled past the lease's expiry and another instance took batching over).
    #[error("batch {batch_seq} not stored: this instance no longer holds the batching lease")]
    LostLease {
        /// The batch that was not stored.
        batch_seq: i64,
    },
    /// A closed batch was not stored: some of its leaves were no longer waiting for a batch.
    #[error("batch {batch_seq}: {assigned} of {leaves} leaves assigned")]
    LeavesNotAssigned {
        /// The batch that was not stored.
        batch_seq: i64,
        /// Leaves of one statement that were assigned.
        assigned: u64,
        /// Leaves that statement should have assigned.
        leaves: usize,
    },
    /// An intake group was not stored: the system's random source gave no salt for its
    /// batch leaves.
    #[error("no random salt: the system's random source failed")]
    Randomness,
    /// An intake group was not stored: its receipts could not be signed.
    #[error("signing a receipt: {0}")]
    Signing(String),
    /// What the database holds does not fit together (a gap in the custody log, a stored
    /// value that does not parse): the audit names the cause.
    #[error("stored data: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// Whether the database could not be reached (down, restarting, refusing connections),
    /// as opposed to refusing a statement: the request may simply be tried again later.
    pub fn is_unavailable(&self) -> bool {
        let Self::Database(e) = self else {
            return false;
        };
        match e {
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

/// A transaction on the pool.
type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// Which database is behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
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
}
