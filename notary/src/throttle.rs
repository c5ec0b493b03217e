//! Rate limits: token buckets per key (a device, a token, a client address), in memory. A
//! request over its limit is answered 429 with `Retry-After`, before it costs the notary
//! anything else.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Token buckets of one kind, keyed by whom they limit.
#[derive(Debug)]
pub struct Buckets {
    /// Tokens added per second (0: unlimited).
    rate: f64,
    /// Most tokens a bucket holds (the burst).
    burst: f64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

/// Buckets are forgotten when this many exist and they are full again.
const SWEEP_AT: usize = 10_000;

impl Buckets {
    /// Buckets refilled at `per_second`, holding at most `burst` (at least one request's
    /// worth). `per_second` 0 means no limit.
    pub fn new(per_second: f64, burst: f64) -> Self {
        Self {
            rate: per_second.max(0.0),
            burst: burst.max(1.0),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes `cost` tokens from `key`'s bucket, or says how long until they are there (nothing
    /// is taken then).
    pub fn take(&self, key: &str, cost: f64) -> Result<(), Duration> {
        self.take_at(key, cost, Instant::now())
    }

    /// Whether `key` has at least one token, without taking it.
    pub fn check(&self, key: &str) -> Result<(), Duration> {
        self.level(key, 1.0, Instant::now(), false)
    }

    fn take_at(&self, key: &str, cost: f64, now: Instant) -> Result<(), Duration> {
        self.level(key, cost, now, true)
    }

    fn level(&self, key: &str, cost: f64, now: Instant, take: bool) -> Result<(), Duration> {
        if self.rate == 0.0 {
            return Ok(());
        }
        let Ok(mut buckets) = self.buckets.lock() else {
            return Ok(());
        };
        if buckets.len() >= SWEEP_AT {
            let (rate, burst) = (self.rate, self.burst);
            buckets.retain(|_, (tokens, at)| {
                *tokens + now.saturating_duration_since(*at).as_secs_f64() * rate < burst
            });
        }
        let (tokens, at) = buckets.entry(key.to_owned()).or_insert((self.burst, now));
        let refilled = (*tokens + now.saturating_duration_since(*at).as_secs_f64() * self.rate)
            .min(self.burst);
        // A cost above the burst could never be paid: it costs the whole burst instead.
        let cost = cost.min(self.burst);
        if refilled >= cost {
            if take {
                *tokens = refilled - cost;
                *at = now;
            }
            Ok(())
        } else {
            Err(Duration::from_secs_f64((cost - refilled) / self.rate))
        }
    }
}

/// Every limit of the service.
#[derive(Debug)]
pub struct Throttle {
    /// Requests per authenticated token.
    pub per_token: Buckets,
    /// Proofs submitted per device.
    pub device_proofs: Buckets,
    /// Failed enrolment attempts (wrong, used or expired codes) per client address.
    pub enrol_failures: Buckets,
    /// Public certificate checks per client address.
    pub public_checks: Buckets,
    /// Evidence reads (views, downloads, bundles, certificates, thumbnails) per token per day.
    pub daily_reads: Buckets,
}

impl Throttle {
    /// The limits `config` sets.
    pub fn new(config: &crate::NotaryConfig) -> Self {
        let rate = |r: u32| f64::from(r);
        Self {
            per_token: Buckets::new(
                rate(config.limits.token_requests_per_second),
                rate(config.limits.token_requests_per_second) * 4.0,
            ),
            device_proofs: Buckets::new(
                rate(config.limits.device_proofs_per_second),
                rate(config.limits.device_proofs_per_second).max(1.0) * 10.0,
            ),
            enrol_failures: Buckets::new(rate(config.limits.enrol_attempts_per_minute) / 60.0, 5.0),
            public_checks: Buckets::new(rate(config.limits.public_checks_per_minute) / 60.0, 10.0),
            daily_reads: Buckets::new(
                rate(config.limits.token_reads_per_day) / 86_400.0,
                rate(config.limits.token_reads_per_day),
            ),
        }
    }
}

/// Whole seconds to wait, rounded up, at least 1 (the value of `Retry-After`).
pub fn retry_after_seconds(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0).max(u64::from(wait.as_secs() == 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_allow_the_burst_then_refill_at_the_rate() {
        let b = Buckets::new(2.0, 3.0);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(b.take_at("d", 1.0, t0).is_ok());
        }
        let wait = b.take_at("d", 1.0, t0).unwrap_err();
        assert_eq!(retry_after_seconds(wait), 1);
        assert!(b.take_at("other", 1.0, t0).is_ok(), "keys are independent");
        assert!(b.take_at("d", 1.0, t0 + Duration::from_millis(500)).is_ok());
        assert!(
            b.take_at("d", 1.0, t0 + Duration::from_millis(500))
                .is_err()
        );
        assert!(
            Buckets::new(0.0, 1.0).take_at("x", 1e9, t0).is_ok(),
            "0 is unlimited"
        );
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_seconds(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_seconds(Duration::from_secs(10)), 10);
        assert_eq!(retry_after_seconds(Duration::from_millis(10_001)), 11);
    }
}
