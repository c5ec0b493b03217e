//! Whether anchoring keeps up, told to the operator: how long the oldest receipted proof has
//! waited for a complete bundle, when the last batch was anchored, and, once the wait passes
//! `anchoring_stall_ms`, why (the ledger unreachable or refusing, no new block, or blocks
//! without a cosigned checkpoint covering the anchor). `/readyz` answers `degraded` with
//! the cause, `/metrics` carries the ages, and the notary warns once per stall (and per
//! change of cause) and says when it is over.

use std::sync::Mutex;

use serde::Serialize;

use crate::store::{Store, WaitingBatch};

/// How often the database is asked (the anchoring task ticks every 100 ms).
const ASSESS_EVERY_MS: i64 = 2000;

/// The shortest silence of the ledger reported as "no block".
const NO_BLOCK_MS: i64 = 10_000;

/// What the operator sees of anchoring.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AnchoringHealth {
    /// `"ok"` or `"stalled"`.
    pub status: &'static str,
    /// Milliseconds the oldest receipted proof without a complete bundle has waited.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oldest_waiting_ms: Option<i64>,
    /// Milliseconds since this instance last saw a batch anchored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since_last_anchor_ms: Option<i64>,
    /// Why proofs wait, once they have waited too long.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
}

#[derive(Debug, Default)]
struct State {
    assessed_at: i64,
    /// Receipt time of the oldest proof without a complete bundle.
    waiting_since: Option<i64>,
    /// The batch it is in, if closed.
    waiting_batch: Option<WaitingBatch>,
    /// The last tick's failure, if the last tick failed.
    last_error: Option<String>,
    /// The ledger's latest height and when it was first seen (consortium).
    chain_height: Option<(u64, i64)>,
    /// The cause last warned about, while stalled.
    warned: Option<String>,
}

/// Anchoring's liveness, shared by the anchoring task (which updates it) and the HTTP
/// handlers (which read it).
#[derive(Debug, Default)]
pub struct Liveness {
    state: Mutex<State>,
}

impl Liveness {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The outcome of one anchoring tick (its failure, said as the log says it).
    pub fn ticked<E: std::fmt::Display>(&self, result: &Result<(), E>) {
        self.state().last_error = result.as_ref().err().map(ToString::to_string);
    }

    /// The ledger's latest block height, when the anchoring task learns it.
    pub fn chain_height(&self, height: u64, now: i64) {
        let mut st = self.state();
        if st.chain_height.is_none_or(|(h, _)| h != height) {
            st.chain_height = Some((height, now));
        }
    }

    /// Whether [`Liveness::assess`] is due (every 2 s).
    pub fn due(&self, now: i64) -> bool {
        now - self.state().assessed_at >= ASSESS_EVERY_MS
    }

    /// Asks the database for the oldest waiting proof, then warns or says it is over.
    /// `consortium`: a bundle also needs the ledger's evidence kept.
    pub async fn assess(
        &self,
        store: &Store,
        consortium: bool,
        now: i64,
        stall_ms: i64,
        last_anchor: Option<i64>,
    ) {
        self.state().assessed_at = now;
        let oldest = match store.oldest_waiting(consortium).await {
            Ok(o) => o,
            Err(e) => {
                tracing::debug!(error = %e, "cannot read the oldest waiting proof");
                return;
            }
        };
        let health = {
            let mut st = self.state();
            st.waiting_since = oldest.as_ref().map(|w| w.added_at);
            st.waiting_batch = oldest.and_then(|w| w.batch);
            Self::health_of(&st, now, stall_ms, last_anchor)
        };
        let mut st = self.state();
        match (&health.cause, &st.warned) {
            (Some(cause), warned) if warned.as_ref() != Some(cause) => {
                tracing::warn!(
                    oldest_waiting_ms = health.oldest_waiting_ms.unwrap_or(0),
                    cause = %cause,
                    "anchoring stalled: receipted proofs are not getting complete bundles"
                );
                st.warned = Some(cause.clone());
            }
            (None, Some(_)) => {
                tracing::info!("anchoring caught up: no proof waits too long for its bundle");
                st.warned = None;
            }
            _ => {}
        }
    }

    /// What `/readyz` and `/metrics` report; `last_anchor`: when this instance last saw a
    /// batch anchored (unix ms).
    pub fn health(&self, now: i64, stall_ms: i64, last_anchor: Option<i64>) -> AnchoringHealth {
        Self::health_of(&self.state(), now, stall_ms, last_anchor)
    }

    fn health_of(st: &State, now: i64, stall_ms: i64, last_anchor: Option<i64>) -> AnchoringHealth {
        let oldest_waiting_ms = st.waiting_since.map(|t| (now - t).max(0));
        let stalled = stall_ms > 0 && oldest_waiting_ms.is_some_and(|w| w > stall_ms);
        let cause = stalled.then(|| Self::cause(st, now, stall_ms));
        AnchoringHealth {
            status: if stalled { "stalled" } else { "ok" },
            oldest_waiting_ms,
            since_last_anchor_ms: last_anchor.map(|t| (now - t).max(0)),
            cause,
        }
    }

    fn cause(st: &State, now: i64, stall_ms: i64) -> String {
        if let Some(e) = &st.last_error {
            return format!("the ledger: {e}");
        }
        // A round whose proposer is down already costs `timeout_propose` (3 s by default):
        // only a longer silence means the chain cannot commit.
        if let Some((height, since)) = st.chain_height
            && now - since > stall_ms.max(NO_BLOCK_MS)
        {
            return format!(
                "the ledger has committed no block since height {height}, {} s ago: more than a third of the validators' voting power is down or cut off",
                (now - since) / 1000
            );
        }
        match &st.waiting_batch {
            None => "proofs are not being batched: is the batching lease held by a live instance?"
                .into(),
            Some(WaitingBatch {
                batch_seq,
                anchored_height: Some(h),
            }) => format!(
                "batch {batch_seq} was anchored at height {h}, but no checkpoint cosigned by an SM2 quorum of the members (more than two thirds of their power) covers it yet: members' validators are down, or members have no running validator"
            ),
            Some(WaitingBatch {
                batch_seq,
                anchored_height: None,
            }) => format!(
                "batch {batch_seq} is not anchored yet: the ledger has not taken its anchor transaction"
            ),
        }
    }
}
