//! Intake at scale: how many proofs per second a real `tiezheng serve` receipts, each receipt
//! returned only after its proof is durably committed, with N devices submitting at once.
//!
//! 1. The SM2 bound of this machine, measured first in the same run: one device-signature
//!    verify and one receipt signature per proof, one at a time with the protocol's own
//!    `Sm2PublicKey::verify` (per-key table, warm) and `Sm2SigningKey::sign` (constant time),
//!    spread over every core: `cores ÷ (verify + sign)`. The notary verifies and signs in
//!    chunks (`sm2::verify_many`, `Sm2SigningKey::sign_many`), which share a field inversion,
//!    so it can do slightly better than one at a time.
//! 2. N enrolled devices, each with its proofs signed ahead of time (a real capture as the
//!    first, then manifests chained to it), each on its own keep-alive connection sending
//!    requests of 100 proofs as fast as receipts come back. Figure: receipted proofs per second.
//! 3. The same devices paced at half that rate, in requests of 10: p50 and p99 receipt latency.
//!
//! Embedded defaults (SQLite) unless `TIEZHENG_BENCH_DATABASE_URL` names a PostgreSQL server
//! (`postgres://user:pass@host/postgres`; a fresh database is created on it with `psql`).
//! `TIEZHENG_BENCH_DEVICES` (default 16) and `TIEZHENG_BENCH_PROOFS_PER_DEVICE` (default 2000).
//!
//! `cargo bench --bench intake`; the last line is
//! `intake: <R> receipted proofs/s with <N> devices; SM2 bound <B>/s; ratio <R/B>`.

#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss,
    missing_docs
)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tiezheng_protocol::{Sm2SigningKey, canonical};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let devices = env_usize("TIEZHENG_BENCH_DEVICES", 16);
    let per_device = env_usize("TIEZHENG_BENCH_PROOFS_PER_DEVICE", 2000);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let work = tempfile::tempdir().unwrap();

    // Proofs first (the bound is measured on a quiet machine, after this).
    let (notary, database) = start_notary(work.path());
    println!("database: {database}");
    let t = Instant::now();
    let fleet: Vec<common::Fleet> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..devices)
            .map(|i| {
                let notary = &notary;
                let dir = work.path().join(format!("device-{i}"));
                s.spawn(move || common::fleet(notary, &dir, i, per_device + 400))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    println!(
        "prepared {} devices × {} signed proofs in {:.1} s",
        devices,
        per_device + 400,
        t.elapsed().as_secs_f64()
    );

    // Requests encoded ahead too: the devices' side costs the notary's cores nothing it need not.
    let fleet: Vec<Requests> = fleet
        .into_iter()
        .map(|f| Requests {
            bulk: f.proofs[..per_device].chunks(100).map(body).collect(),
            paced: f.proofs[per_device..]
                .chunks(10)
                .map(|c| (body(c), c.len()))
                .collect(),
            token: f.token,
            manifest: f.manifest,
        })
        .collect();
    let bound = sm2_bound(cores, &fleet[0].manifest);

    // Throughput: every device as fast as its receipts come back.
    let started = Instant::now();
    let counts: Vec<usize> = std::thread::scope(|s| {
        let handles: Vec<_> = fleet
            .iter()
            .map(|f| {
                let url = notary.url.as_str();
                s.spawn(move || {
                    let mut conn = common::Conn::open(url).unwrap();
                    let mut receipted = 0;
                    for body in &f.bulk {
                        receipted += submit(&mut conn, &f.token, body);
                    }
                    receipted
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let secs = started.elapsed().as_secs_f64();
    let total: usize = counts.iter().sum();
    assert_eq!(total, devices * per_device, "every proof must be receipted");
    let rate = total as f64 / secs;
    println!(
        "throughput: {total} proofs from {devices} devices receipted in {secs:.2} s: {rate:.0} proofs/s"
    );

    // Latency at half that rate: requests of 10 proofs, paced per device.
    let paced = rate / 2.0;
    let interval = Duration::from_secs_f64(10.0 * devices as f64 / paced);
    let mut latencies: Vec<f64> = std::thread::scope(|s| {
        let handles: Vec<_> = fleet
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let url = notary.url.as_str();
                s.spawn(move || {
                    let mut conn = common::Conn::open(url).unwrap();
                    let mut out = Vec::new();
                    // Devices start spread over one interval.
                    let mut next = Instant::now() + interval.mul_f64(i as f64 / devices as f64);
                    for (body, n) in &f.paced {
                        let now = Instant::now();
                        if next > now {
                            std::thread::sleep(next - now);
                        }
                        next += interval;
                        let t = Instant::now();
                        assert_eq!(submit(&mut conn, &f.token, body), *n);
                        out.push(t.elapsed().as_secs_f64() * 1000.0);
                    }
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| latencies[((latencies.len() - 1) as f64 * p).round() as usize];
    println!(
        "latency at {paced:.0} proofs/s (requests of 10): p50 {:.1} ms, p99 {:.1} ms",
        pct(0.50),
        pct(0.99)
    );
    drop(notary);
    println!(
        "intake: {rate:.0} receipted proofs/s with {devices} devices; SM2 bound {bound:.0}/s; ratio {:.2}",
        rate / bound
    );
}

fn start_notary(dir: &Path) -> (common::Notary, String) {
    let mut env: Vec<(&str, String)> = vec![
        // The devices send as fast as they can: no per-device rate limit here.
        ("TIEZHENG_NOTARY_DEVICE_PROOFS_PER_SECOND", "0".into()),
        ("TIEZHENG_NOTARY_MAX_BATCH", "1000".into()),
        ("TIEZHENG_LOG", "warn".into()),
    ];
    let label = match std::env::var("TIEZHENG_BENCH_DATABASE_URL") {
        Ok(base) if !base.is_empty() => {
            let name = format!("tz_bench_{}", std::process::id());
            let out = std::process::Command::new("psql")
                .arg(&base)
                .args(["-q", "-c", &format!("CREATE DATABASE {name}")])
                .output()
                .expect("psql");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let (server, _) = base.rsplit_once('/').unwrap();
            env.push(("TIEZHENG_NOTARY_DATABASE_URL", format!("{server}/{name}")));
            "PostgreSQL (synchronous_commit on)".to_owned()
        }
        _ => "SQLite (WAL, synchronous=FULL)".to_owned(),
    };
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    (common::Notary::start(&dir.join("notary"), &env), label)
}

/// `cores ÷ (one verify + one sign)`, each timed on one core over a manifest's real bytes.
fn sm2_bound(cores: usize, manifest: &[u8]) -> f64 {
    let id = "1234567812345678";
    let key = Sm2SigningKey::generate();
    let sig = key.sign(id, manifest).unwrap();
    let public = key.public_key().clone();
    let rounds = 2000;
    let t = Instant::now();
    for _ in 0..rounds {
        public.verify(id, manifest, &sig).unwrap();
    }
    let verify = t.elapsed().as_secs_f64() / f64::from(rounds);
    let t = Instant::now();
    for _ in 0..rounds {
        std::hint::black_box(key.sign(id, manifest).unwrap());
    }
    let sign = t.elapsed().as_secs_f64() / f64::from(rounds);
    let bound = cores as f64 / (verify + sign);
    println!(
        "SM2 on one core: verify {:.0} µs, sign {:.0} µs; bound with {cores} cores: {bound:.0} proofs/s",
        verify * 1e6,
        sign * 1e6
    );
    bound
}

/// Sends one encoded request; returns how many receipts came back (all must be).
fn submit(conn: &mut common::Conn, token: &str, body: &[u8]) -> usize {
    let (status, v) = conn.submit_body(token, body).unwrap();
    assert_eq!(status, 200, "{v}");
    let results = v["results"].as_array().unwrap();
    for r in results {
        assert!(r["receipt"].is_object(), "refused: {r}");
    }
    results.len()
}

/// One device's requests: the throughput run's (100 proofs each), then the paced run's (10).
struct Requests {
    token: String,
    bulk: Vec<Vec<u8>>,
    paced: Vec<(Vec<u8>, usize)>,
    manifest: Vec<u8>,
}

fn body(proofs: &[Value]) -> Vec<u8> {
    canonical::canonicalize(&json!({ "proofs": proofs })).unwrap()
}
