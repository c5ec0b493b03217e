//! Custody: the hash-chained log of every event on a proof (received, viewed, exported,
//! media stored, anchored, certified), and its head row, which every transaction that appends
//! to the log takes first so that appends are serialised across connections and instances.
//!
//! Reads are recorded compactly ([`Store::custody_read`]): the first read of a proof by one
//! token in a minute is an event; the same read again in that minute is counted in
//! `custody_repeats` and chained as one summary event once the minute is over
//! ([`Store::flush_custody_repeats`]). Views read the log a page at a time
//! ([`Store::custody_page`]).

use sqlx::Row;
use sqlx::any::AnyRow;
use tiezheng_protocol::custody::{Actor, CustodyKind};

use super::sql::{ROWS_PER_STATEMENT, dynamic_sql, values_clause};
use super::{Result, Store, Tx};

pub use tiezheng_protocol::custody::CustodyEvent;

impl Store {
    /// Begins a transaction that may append custody events. Its first statement updates the
    /// one `custody_head` row: on PostgreSQL that row lock serialises custody appends across
    /// every connection and notary instance; on SQLite a write as the first statement takes
    /// the database's write lock at once (waiting up to `busy_timeout`), like `BEGIN
    /// IMMEDIATE`, so the transaction never has to upgrade a stale read snapshot, which SQLite
    /// refuses at once with "database is locked". Readers of evidence therefore never fail
    /// because of each other or of intake, and each event reads the true last hash.
    pub(super) async fn begin_custody(&self) -> Result<Tx> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE custody_head SET appends = appends + 1 WHERE name = 'custody'")
            .execute(&mut *tx)
            .await?;
        Ok(tx)
    }

    /// Appends a custody event: `event` done by `actor` at `now`.
    pub async fn custody(
        &self,
        proof_sm3: &str,
        event: CustodyKind,
        actor: &Actor,
        now: i64,
        detail: &str,
    ) -> Result<()> {
        let _turn = self.write_turn().await;
        let mut tx = self.begin_custody().await?;
        append_custody(&mut tx, proof_sm3, event, &actor.to_string(), now, detail).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records a read of evidence (a view or an export) by `actor`: an event if it is the first
    /// such read of the proof by that actor with that detail in the minute of `now`, else a
    /// durable count chained later by [`Self::flush_custody_repeats`]. Returns whether an
    /// event was appended.
    pub async fn custody_read(
        &self,
        proof_sm3: &str,
        event: CustodyKind,
        actor: &Actor,
        now: i64,
        detail: &str,
    ) -> Result<bool> {
        let actor = actor.to_string();
        let minute = now.div_euclid(60_000);
        let _turn = self.write_turn().await;
        let mut tx = self.begin_custody().await?;
        let counted = sqlx::query(
            "UPDATE custody_repeats SET repeats = repeats + 1 WHERE proof_sm3 = $1 AND event = $2 \
             AND actor = $3 AND detail = $4 AND minute = $5",
        )
        .bind(proof_sm3)
        .bind(event.as_str())
        .bind(&actor)
        .bind(detail)
        .bind(minute)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !counted {
            sqlx::query(
                "INSERT INTO custody_repeats (proof_sm3, event, actor, detail, minute, repeats) \
                 VALUES ($1, $2, $3, $4, $5, 0)",
            )
            .bind(proof_sm3)
            .bind(event.as_str())
            .bind(&actor)
            .bind(detail)
            .bind(minute)
            .execute(&mut *tx)
            .await?;
            append_custody(&mut tx, proof_sm3, event, &actor, now, detail).await?;
        }
        tx.commit().await?;
        Ok(!counted)
    }

    /// Chains the reads counted in minutes before `now`'s as one summary event each, and
    /// forgets those minutes. Returns the events appended.
    pub async fn flush_custody_repeats(&self, now: i64) -> Result<usize> {
        let minute = now.div_euclid(60_000);
        let pending: Option<i64> =
            sqlx::query_scalar("SELECT MIN(minute) FROM custody_repeats WHERE minute < $1")
                .bind(minute)
                .fetch_one(&self.pool)
                .await?;
        if pending.is_none() {
            return Ok(0);
        }
        let _turn = self.write_turn().await;
        let mut tx = self.begin_custody().await?;
        let rows = sqlx::query(
            "SELECT proof_sm3, event, actor, detail, minute, repeats FROM custody_repeats \
             WHERE minute < $1 AND repeats > 0 ORDER BY minute, proof_sm3, event, actor, detail",
        )
        .bind(minute)
        .fetch_all(&mut *tx)
        .await?;
        let mut events = Vec::with_capacity(rows.len());
        for r in &rows {
            let event: String = r.try_get("event")?;
            let Some(kind) = CustodyKind::from_name(&event) else {
                continue;
            };
            let (start, repeats): (i64, i64) = (r.try_get("minute")?, r.try_get("repeats")?);
            let from = tiezheng_protocol::Timestamp::from_unix_ms(start * 60_000, 0);
            let detail: String = r.try_get("detail")?;
            events.push((
                r.try_get::<String, _>("proof_sm3")?,
                kind,
                r.try_get::<String, _>("actor")?,
                format!("{detail}: {repeats} more time(s) in the minute from {from}"),
            ));
        }
        let new: Vec<NewCustody<'_>> = events
            .iter()
            .map(|(proof_sm3, event, actor, detail)| NewCustody {
                proof_sm3,
                event: *event,
                actor,
                at: now,
                detail: detail.clone(),
            })
            .collect();
        append_custody_many(&mut tx, &new).await?;
        sqlx::query("DELETE FROM custody_repeats WHERE minute < $1")
            .bind(minute)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(new.len())
    }

    /// A page of a proof's custody log: at most `limit` events before `before` (the newest when
    /// `None`), in chain order; with the proof's event count and reads counted but not chained
    /// yet.
    pub async fn custody_page(
        &self,
        proof_sm3: &str,
        before: Option<i64>,
        limit: i64,
    ) -> Result<CustodyPage> {
        let before = before.unwrap_or(i64::MAX);
        let rows = sqlx::query(
            "SELECT seq, proof_sm3, event, actor, at, detail, prev_hash, item_prev, hash FROM custody_events \
             WHERE proof_sm3 = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3",
        )
        .bind(proof_sm3)
        .bind(before)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut events = rows.iter().map(custody_row).collect::<Result<Vec<_>>>()?;
        events.reverse();
        let total: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM custody_events WHERE proof_sm3 = $1")
                .bind(proof_sm3)
                .fetch_one(&self.pool)
                .await?;
        let uncounted: Option<i64> = sqlx::query_scalar(
            "SELECT CAST(SUM(repeats) AS BIGINT) FROM custody_repeats WHERE proof_sm3 = $1",
        )
        .bind(proof_sm3)
        .fetch_one(&self.pool)
        .await?;
        let head = sqlx::query(
            "SELECT seq, proof_sm3, event, actor, at, detail, prev_hash, item_prev, hash FROM custody_events \
             WHERE proof_sm3 = $1 ORDER BY seq DESC LIMIT 1",
        )
        .bind(proof_sm3)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(custody_row)
        .transpose()?;
        let older = match events.first() {
            Some(first) => sqlx::query(
                "SELECT seq FROM custody_events WHERE proof_sm3 = $1 AND seq < $2 LIMIT 1",
            )
            .bind(proof_sm3)
            .bind(first.seq)
            .fetch_optional(&self.pool)
            .await?
            .map(|_| first.seq),
            None => None,
        };
        Ok(CustodyPage {
            events,
            older,
            total,
            repeats_pending: uncounted.unwrap_or(0),
            head,
        })
    }

    /// Custody events of a proof, in order.
    pub async fn custody_of(&self, proof_sm3: &str) -> Result<Vec<CustodyEvent>> {
        let rows = sqlx::query("SELECT seq, proof_sm3, event, actor, at, detail, prev_hash, item_prev, hash FROM custody_events WHERE proof_sm3 = $1 ORDER BY seq").bind(proof_sm3).fetch_all(&self.pool).await?;
        rows.iter().map(custody_row).collect()
    }

    /// The whole custody log, in order (for audits and tests).
    pub async fn custody_log(&self) -> Result<Vec<CustodyEvent>> {
        let rows = sqlx::query("SELECT seq, proof_sm3, event, actor, at, detail, prev_hash, item_prev, hash FROM custody_events ORDER BY seq").fetch_all(&self.pool).await?;
        rows.iter().map(custody_row).collect()
    }
}

/// A page of one proof's custody log.
#[derive(Debug, Clone)]
pub struct CustodyPage {
    /// The events of the page, in chain order.
    pub events: Vec<CustodyEvent>,
    /// When older events exist: the `before` that pages back to them (the page's first seq).
    pub older: Option<i64>,
    /// Events of the proof in the whole log.
    pub total: i64,
    /// Repeated reads counted in the current minute, chained once it is over.
    pub repeats_pending: i64,
    /// The proof's newest event.
    pub head: Option<CustodyEvent>,
}

/// A custody event to append.
pub(super) struct NewCustody<'a> {
    /// The proof it is about.
    pub(super) proof_sm3: &'a str,
    /// What happened.
    pub(super) event: CustodyKind,
    /// Who did it.
    pub(super) actor: &'a str,
    /// When (Unix ms).
    pub(super) at: i64,
    /// For people.
    pub(super) detail: String,
}

/// Appends `events` to the custody log in order, chained from its last event, a hundred rows
/// per statement. The caller's transaction holds the custody head.
pub(super) async fn append_custody_many(tx: &mut Tx, events: &[NewCustody<'_>]) -> Result<()> {
    let (mut seq, mut prev_hash) = last_custody(tx).await?;
    // Each event's previous event of its proof: none before a receipt (the first event of
    // every proof), else the proof's newest event, then the ones appended here.
    let others: Vec<&str> = events
        .iter()
        .filter(|n| n.event != CustodyKind::Received)
        .map(|n| n.proof_sm3)
        .collect();
    let mut item_heads = last_of_proofs(tx, &others).await?;
    let zeros = "0".repeat(64);
    let events: Vec<CustodyEvent> = events
        .iter()
        .map(|n| {
            seq += 1;
            let item_prev = if n.event == CustodyKind::Received {
                zeros.clone()
            } else {
                item_heads
                    .get(n.proof_sm3)
                    .cloned()
                    .unwrap_or_else(|| zeros.clone())
            };
            let mut e = CustodyEvent {
                seq,
                proof_sm3: n.proof_sm3.to_owned(),
                event: n.event.as_str().to_owned(),
                actor: n.actor.to_owned(),
                at: n.at,
                detail: n.detail.clone(),
                prev_hash: std::mem::take(&mut prev_hash),
                item_prev: Some(item_prev),
                hash: String::new(),
            };
            e.hash = e.compute_hash();
            prev_hash.clone_from(&e.hash);
            item_heads.insert(n.proof_sm3.to_owned(), e.hash.clone());
            e
        })
        .collect();
    for chunk in events.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO custody_events (seq, proof_sm3, event, actor, at, detail, prev_hash, item_prev, hash) VALUES {}",
            values_clause(chunk.len(), 9)
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
                .bind(&e.item_prev)
                .bind(&e.hash);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// The hash of the newest event of each of `proofs` that has one, a hundred proofs per
/// statement. The caller's transaction holds the custody head.
async fn last_of_proofs(
    tx: &mut Tx,
    proofs: &[&str],
) -> Result<std::collections::HashMap<String, String>> {
    let mut distinct: Vec<&str> = proofs.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    let mut heads = std::collections::HashMap::new();
    for chunk in distinct.chunks(ROWS_PER_STATEMENT) {
        let list = (1..=chunk.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT proof_sm3, hash FROM custody_events WHERE seq IN \
             (SELECT MAX(seq) FROM custody_events WHERE proof_sm3 IN ({list}) GROUP BY proof_sm3)"
        );
        let mut q = sqlx::query(dynamic_sql(tx, sql));
        for p in chunk {
            q = q.bind(*p);
        }
        for r in q.fetch_all(&mut **tx).await? {
            heads.insert(r.try_get("proof_sm3")?, r.try_get("hash")?);
        }
    }
    Ok(heads)
}

/// The custody log's last sequence number and hash (0 and 64 zeros when it is empty).
async fn last_custody(tx: &mut Tx) -> Result<(i64, String)> {
    let last = sqlx::query("SELECT seq, hash FROM custody_events ORDER BY seq DESC LIMIT 1")
        .fetch_optional(&mut **tx)
        .await?;
    Ok(match last {
        Some(r) => (r.try_get::<i64, _>("seq")?, r.try_get::<String, _>("hash")?),
        None => (0, "0".repeat(64)),
    })
}

/// Appends one event to the custody log, chained from its last event. The caller's
/// transaction holds the custody head.
pub(super) async fn append_custody(
    tx: &mut Tx,
    proof_sm3: &str,
    event: CustodyKind,
    actor: &str,
    at: i64,
    detail: &str,
) -> Result<()> {
    let (last, prev_hash) = last_custody(tx).await?;
    let seq = last + 1;
    let item_prev = match event {
        CustodyKind::Received => None,
        _ => last_of_proofs(tx, &[proof_sm3]).await?.remove(proof_sm3),
    }
    .unwrap_or_else(|| "0".repeat(64));
    let mut e = CustodyEvent {
        seq,
        proof_sm3: proof_sm3.to_owned(),
        event: event.as_str().to_owned(),
        actor: actor.to_owned(),
        at,
        detail: detail.to_owned(),
        prev_hash,
        item_prev: Some(item_prev),
        hash: String::new(),
    };
    e.hash = e.compute_hash();
    sqlx::query("INSERT INTO custody_events (seq, proof_sm3, event, actor, at, detail, prev_hash, item_prev, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
        .bind(e.seq)
        .bind(&e.proof_sm3)
        .bind(&e.event)
        .bind(&e.actor)
        .bind(e.at)
        .bind(&e.detail)
        .bind(&e.prev_hash)
        .bind(&e.item_prev)
        .bind(&e.hash)
        .execute(&mut **tx)
        .await?;
    Ok(())
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
        item_prev: r.try_get("item_prev")?,
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
