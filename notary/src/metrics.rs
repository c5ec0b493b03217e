//! Prometheus metrics in the text exposition format.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Counters the notary keeps.
#[derive(Debug, Default)]
pub struct Metrics {
    accepted: AtomicU64,
    duplicates: AtomicU64,
    rejected: Mutex<BTreeMap<String, u64>>,
    media_bytes: AtomicU64,
    requests: Mutex<BTreeMap<u16, u64>>,
    batches: AtomicU64,
    batch_latency_ms_sum: AtomicU64,
    batch_latency_ms_last: AtomicU64,
    certificates_issued: AtomicU64,
    certificates_refused: Mutex<BTreeMap<String, u64>>,
    public_checks: Mutex<BTreeMap<&'static str, u64>>,
    /// When a batch was last anchored (unix ms; 0: not since the start).
    last_anchor_ms: std::sync::atomic::AtomicI64,
}

impl Metrics {
    /// A proof stored and receipted.
    pub fn accepted(&self) {
        self.accepted.fetch_add(1, Ordering::Relaxed);
    }

    /// A resubmitted proof answered with its existing receipt.
    pub fn duplicate(&self) {
        self.duplicates.fetch_add(1, Ordering::Relaxed);
    }

    /// A proof refused, by error code.
    pub fn rejected(&self, code: &str) {
        if let Ok(mut m) = self.rejected.lock() {
            *m.entry(code.to_owned()).or_default() += 1;
        }
    }

    /// Media bytes received.
    pub fn media_bytes(&self, n: u64) {
        self.media_bytes.fetch_add(n, Ordering::Relaxed);
    }

    /// A batch anchored at `now` (unix ms), `latency_ms` after its oldest proof was receipted.
    pub fn batch_anchored(&self, latency_ms: u64, now: i64) {
        self.last_anchor_ms.store(now, Ordering::Relaxed);
        self.batches.fetch_add(1, Ordering::Relaxed);
        self.batch_latency_ms_sum
            .fetch_add(latency_ms, Ordering::Relaxed);
        self.batch_latency_ms_last
            .store(latency_ms, Ordering::Relaxed);
    }

    /// When a batch was last anchored (unix ms), if since the start.
    pub fn last_anchor_ms(&self) -> Option<i64> {
        Some(self.last_anchor_ms.load(Ordering::Relaxed)).filter(|t| *t > 0)
    }

    /// A certificate issued.
    pub fn certificate_issued(&self) {
        self.certificates_issued.fetch_add(1, Ordering::Relaxed);
    }

    /// A certificate refused because its bundle failed `rule`.
    pub fn certificate_refused(&self, rule: &str) {
        if let Ok(mut m) = self.certificates_refused.lock() {
            *m.entry(rule.to_owned()).or_default() += 1;
        }
    }

    /// A public certificate check answered: `found`, `not_deposited` or `refused`.
    pub fn public_check(&self, outcome: &'static str) {
        if let Ok(mut m) = self.public_checks.lock() {
            *m.entry(outcome).or_default() += 1;
        }
    }

    /// An HTTP response, by status.
    pub fn response(&self, status: u16) {
        if let Ok(mut m) = self.requests.lock() {
            *m.entry(status).or_default() += 1;
        }
    }

    /// The exposition text; `stored_proofs` is the number of proofs awaiting anchoring,
    /// `anchoring` what the liveness check last saw.
    pub fn render(
        &self,
        stored_proofs: i64,
        anchoring: &crate::liveness::AnchoringHealth,
    ) -> String {
        let mut s = String::new();
        let seconds = |ms: Option<i64>| ms.map_or(-1.0, |ms| ms as f64 / 1000.0);
        let _ = writeln!(
            s,
            "# HELP tiezheng_anchoring_oldest_waiting_seconds Age of the oldest receipted proof without a complete bundle (0 when none waits)."
        );
        let _ = writeln!(s, "# TYPE tiezheng_anchoring_oldest_waiting_seconds gauge");
        let _ = writeln!(
            s,
            "tiezheng_anchoring_oldest_waiting_seconds {}",
            anchoring
                .oldest_waiting_ms
                .map_or(0.0, |ms| ms as f64 / 1000.0)
        );
        let _ = writeln!(
            s,
            "# HELP tiezheng_anchoring_seconds_since_last_anchor Time since this instance last saw a batch anchored (-1: not since it started)."
        );
        let _ = writeln!(
            s,
            "# TYPE tiezheng_anchoring_seconds_since_last_anchor gauge"
        );
        let _ = writeln!(
            s,
            "tiezheng_anchoring_seconds_since_last_anchor {}",
            seconds(anchoring.since_last_anchor_ms)
        );
        let _ = writeln!(
            s,
            "# HELP tiezheng_anchoring_stalled 1 while proofs wait longer than ANCHORING_STALL_MS for a complete bundle."
        );
        let _ = writeln!(s, "# TYPE tiezheng_anchoring_stalled gauge");
        let _ = writeln!(
            s,
            "tiezheng_anchoring_stalled {}",
            u8::from(anchoring.status == "stalled")
        );
        let _ = writeln!(
            s,
            "# HELP tiezheng_proofs_accepted_total Proofs stored and receipted."
        );
        let _ = writeln!(s, "# TYPE tiezheng_proofs_accepted_total counter");
        let _ = writeln!(
            s,
            "tiezheng_proofs_accepted_total {}",
            self.accepted.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            s,
            "# HELP tiezheng_proofs_duplicate_total Resubmitted proofs answered with their existing receipt."
        );
        let _ = writeln!(s, "# TYPE tiezheng_proofs_duplicate_total counter");
        let _ = writeln!(
            s,
            "tiezheng_proofs_duplicate_total {}",
            self.duplicates.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            s,
            "# HELP tiezheng_proofs_rejected_total Proofs refused, by reason."
        );
        let _ = writeln!(s, "# TYPE tiezheng_proofs_rejected_total counter");
        if let Ok(m) = self.rejected.lock() {
            for (code, n) in m.iter() {
                let _ = writeln!(s, "tiezheng_proofs_rejected_total{{reason=\"{code}\"}} {n}");
            }
        }
        let _ = writeln!(
            s,
            "# HELP tiezheng_unanchored_proofs Proofs stored and waiting for anchoring (the anchoring queue)."
        );
        let _ = writeln!(s, "# TYPE tiezheng_unanchored_proofs gauge");
        let _ = writeln!(s, "tiezheng_unanchored_proofs {stored_proofs}");
        let _ = writeln!(
            s,
            "# HELP tiezheng_batch_latency_ms Time from a batch's oldest receipt to its anchoring."
        );
        let _ = writeln!(s, "# TYPE tiezheng_batch_latency_ms summary");
        let _ = writeln!(
            s,
            "tiezheng_batch_latency_ms_sum {}",
            self.batch_latency_ms_sum.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            s,
            "tiezheng_batch_latency_ms_count {}",
            self.batches.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            s,
            "# HELP tiezheng_batch_latency_ms_last Latency of the last anchored batch."
        );
        let _ = writeln!(s, "# TYPE tiezheng_batch_latency_ms_last gauge");
        let _ = writeln!(
            s,
            "tiezheng_batch_latency_ms_last {}",
            self.batch_latency_ms_last.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            s,
            "# HELP tiezheng_media_bytes_received_total Media bytes received."
        );
        let _ = writeln!(s, "# TYPE tiezheng_media_bytes_received_total counter");
        let _ = writeln!(
            s,
            "tiezheng_media_bytes_received_total {}",
            self.media_bytes.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            s,
            "# HELP tiezheng_certificates_issued_total Certificates issued."
        );
        let _ = writeln!(s, "# TYPE tiezheng_certificates_issued_total counter");
        let _ = writeln!(
            s,
            "tiezheng_certificates_issued_total {}",
            self.certificates_issued.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            s,
            "# HELP tiezheng_certificates_refused_total Certificates not issued because a verification rule failed, by rule."
        );
        let _ = writeln!(s, "# TYPE tiezheng_certificates_refused_total counter");
        if let Ok(m) = self.certificates_refused.lock() {
            for (rule, n) in m.iter() {
                let _ = writeln!(
                    s,
                    "tiezheng_certificates_refused_total{{rule=\"{rule}\"}} {n}"
                );
            }
        }
        let _ = writeln!(
            s,
            "# HELP tiezheng_public_checks_total Public certificate checks answered, by outcome (found, not_deposited, refused)."
        );
        let _ = writeln!(s, "# TYPE tiezheng_public_checks_total counter");
        if let Ok(m) = self.public_checks.lock() {
            for (outcome, n) in m.iter() {
                let _ = writeln!(
                    s,
                    "tiezheng_public_checks_total{{outcome=\"{outcome}\"}} {n}"
                );
            }
        }
        let _ = writeln!(
            s,
            "# HELP tiezheng_http_responses_total HTTP responses, by status."
        );
        let _ = writeln!(s, "# TYPE tiezheng_http_responses_total counter");
        if let Ok(m) = self.requests.lock() {
            for (status, n) in m.iter() {
                let _ = writeln!(
                    s,
                    "tiezheng_http_responses_total{{status=\"{status}\"}} {n}"
                );
            }
        }
        s
    }
}
