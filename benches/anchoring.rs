//! Anchoring: how fast receipted proofs become verifiable offline bundles, on both ledgers.
//! A real `tiezheng serve` (SQLite, 100 ms batch window) receives N proofs in requests of 100;
//! the figures are intake (proofs receipted per second), receipt → verifiable bundle latency
//! for the last proof, and anchored proofs per second end to end.
//!
//! 1. the embedded ledger (one validator, SM2 quorum of one, in the notary's process);
//! 2. the consortium ledger: a CometBFT v0.38 testnet of four validators
//!    (`TIEZHENG_BENCH_VALIDATORS`; 15 in the documented run) on loopback (the
//!    `cometbft` binary as `.ci/run` installs it; skipped if absent), each validator with its
//!    own `tiezheng ledger serve`, `timeout_commit` 1 s (CometBFT's default). Its bundle is
//!    verified with the BFT layer against the validators pinned from genesis.
//!
//! Then, on each ledger, **at intake speed**: 16 devices (`TIEZHENG_BENCH_DEVICES`) each send
//! `TIEZHENG_BENCH_PROOFS_PER_DEVICE` (default 1000) proofs signed ahead, in requests of 100, as
//! fast as receipts come back, while four pollers fetch the bundle of every request's last
//! proof from the moment it is receipted (every 20 ms or so; the court token is not rate
//! limited here). Figures: intake rate, anchored proofs per second (from the first sampled
//! bundle to the last), and receipt → bundle latency p50 / p95 / max. The chain keeps up when
//! the anchored rate matches intake and p95 stays within the batch window plus a few blocks.
//! The consortium's figures end in one line: `consortium <V> validators at intake speed:
//! intake <I>/s; anchored <A>/s; receipt -> bundle p95 <P> s` (goal: A ≥ I, P ≤ 5 s).
//!
//! `cargo bench --bench anchoring` (N with `TIEZHENG_BENCH_PROOFS`, default 1000).
//! `TIEZHENG_BENCH_LEDGER=embedded` or `consortium` measures one ledger only; for diagnosis,
//! `TIEZHENG_BENCH_NOTARY_LOG=info` with `TIEZHENG_TEST_NOTARY_STDERR=<file>` keeps the
//! notary's log (batches closed, submitted, anchored, evidence kept).

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
use std::time::Instant;

use serde_json::{Value, json};
use tiezheng_protocol::bundle::{Bundle, Policy};
use tiezheng_protocol::manifest::CaseRecord;
use tiezheng_protocol::{Timestamp, canonical};
use tiezheng_sdk::capture::CaptureContext;
use tiezheng_sdk::client::{NotaryBinding, NotaryClient};
use tiezheng_sdk::device::{Device, DeviceSetup};
use tiezheng_sdk::vault::PassphraseVault;

fn main() {
    let n: usize = std::env::var("TIEZHENG_BENCH_PROOFS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let work = tempfile::tempdir().unwrap();
    // `TIEZHENG_BENCH_LEDGER=embedded` or `consortium` measures only that ledger.
    let only = std::env::var("TIEZHENG_BENCH_LEDGER").unwrap_or_default();
    if only != "consortium" {
        run(n, &work.path().join("embedded"), None);
    }
    if only == "embedded" {
        return;
    }
    if common::testnet::cometbft_binary().is_none() {
        println!("consortium ledger: not measured (no cometbft binary; .ci/run installs it)");
        return;
    }
    let dir = work.path().join("consortium");
    let tz = std::path::PathBuf::from(env!("CARGO_BIN_EXE_tiezheng"));
    let notary_key = common::testnet::new_key(&tz, &dir.join("notary/notary-key.json"));
    let validators = env_usize("TIEZHENG_BENCH_VALIDATORS", 4);
    let timeout_commit =
        std::env::var("TIEZHENG_BENCH_TIMEOUT_COMMIT").unwrap_or_else(|_| "1s".into());
    let net = common::testnet::Testnet::start(
        &dir.join("net"),
        validators,
        &notary_key,
        &tz,
        &timeout_commit,
    );
    for i in 0..validators {
        net.wait_height(i, 2, std::time::Duration::from_secs(120));
    }
    run(n, &dir, Some(&net));
}

fn run(n: usize, dir: &Path, net: Option<&common::testnet::Testnet>) {
    let rpc = net.map(|t| t.rpc(0));
    let mut env = vec![
        ("TIEZHENG_NOTARY_BATCH_MAX_MS", "100"),
        // One device sends every proof: no per-device rate limit here; and the bundle
        // pollers ask as often as they like.
        ("TIEZHENG_NOTARY_DEVICE_PROOFS_PER_SECOND", "0"),
        ("TIEZHENG_NOTARY_TOKEN_REQUESTS_PER_SECOND", "0"),
        ("TIEZHENG_NOTARY_TOKEN_READS_PER_DAY", "0"),
    ];
    let log = std::env::var("TIEZHENG_BENCH_NOTARY_LOG").unwrap_or_else(|_| "warn".into());
    env.push(("TIEZHENG_LOG", log.as_str()));
    if let Some(r) = &rpc {
        env.push(("TIEZHENG_NOTARY_COMETBFT_RPC", r.as_str()));
    }
    let notary = common::Notary::start(&dir.join("notary"), &env);

    // An enrolled device with N proofs queued (captured from a small photo).
    let vault = PassphraseVault::new("bench").danger_with_iterations(1);
    let device_dir = dir.join("device");
    let setup = DeviceSetup {
        profile: None,
        officers: vec!["1".into(), "2".into()],
        model: "bench".into(),
        os: "linux".into(),
    };
    Device::init(&device_dir, setup, &vault).unwrap();
    let device = Device::open(&device_dir).unwrap().unlock(&vault).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(
        NotaryClient::new(&notary.url)
            .unwrap()
            .enrol(&device, &notary.code("1")),
    )
    .unwrap();
    let token = NotaryBinding::load(&device_dir).unwrap().api_token;
    let photo = std::fs::read(common::corpus_path("photos/Canon_40D.jpg")).unwrap();
    let ctx = CaptureContext {
        profile: None,
        reasons: Default::default(),
        case: CaseRecord {
            reference: "BENCH".into(),
            cause: None,
            object: None,
            description: None,
            method: "bench".into(),
            collectors: vec!["1".into(), "2".into()],
            holder: None,
            witness: None,
        },
        device_time: Timestamp::now_utc(),
        monotonic_ms: None,
        gnss_time: None,
        last_time_sync: None,
        os_fix: None,
    };
    let t = Instant::now();
    let proofs: Vec<Value> = (0..n)
        .map(|i| {
            serde_json::to_value(
                device
                    .capture_photo(&format!("p{i}.jpg"), &photo, &ctx)
                    .unwrap()
                    .proof,
            )
            .unwrap()
        })
        .collect();
    let capture_rate = n as f64 / t.elapsed().as_secs_f64();

    // Intake: batches of 100 proofs per request.
    let started = Instant::now();
    let mut last_receipt_at = started;
    for chunk in proofs.chunks(100) {
        let body = canonical::canonicalize(&json!({ "proofs": chunk })).unwrap();
        let (status, resp) = common::http(
            "POST",
            &format!("{}/v1/proofs", notary.url),
            Some(&token),
            &body,
        );
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&resp));
        last_receipt_at = Instant::now();
    }
    let intake = n as f64 / (last_receipt_at - started).as_secs_f64();

    // Latency: the last proof's bundle becomes available and verifies.
    let last_sm3 =
        tiezheng_protocol::Hash32::sm3(&canonical::canonicalize(proofs.last().unwrap()).unwrap())
            .to_hex();
    let (court, _) = notary.token("court", &[]);
    let bundle: Bundle = loop {
        let (s, v) = notary.call(
            "GET",
            &format!("/v1/proofs/{last_sm3}/bundle"),
            Some(&court),
            b"",
        );
        if s == 200 {
            break serde_json::from_value(v).unwrap();
        }
        assert!(
            last_receipt_at.elapsed().as_secs() < 120,
            "not anchored within 120 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    let latency = last_receipt_at.elapsed();
    let total = started.elapsed();
    let (_, policy) = notary.call("GET", "/v1/ledger/policy", None, b"");
    let mut policy: Policy = serde_json::from_value(policy).unwrap();
    if let Some(t) = net {
        // The court pins the validators from genesis, not what the notary reports.
        policy.validators = t.pinned_validators();
    }
    let verified = Instant::now();
    let report = tiezheng_protocol::verify::verify_bundle(&bundle, None, &policy)
        .unwrap()
        .summary()
        .unwrap();
    let verify_ms = verified.elapsed().as_secs_f64() * 1000.0;

    match net {
        None => println!(
            "anchoring, embedded ledger (one validator, SM2 quorum of one), {n} proofs, batch window 100 ms:"
        ),
        Some(t) => println!(
            "anchoring, consortium ledger (CometBFT v0.38, {} validators on loopback, timeout_commit {}), {n} proofs, batch window 100 ms:",
            t.validators.len(),
            std::env::var("TIEZHENG_BENCH_TIMEOUT_COMMIT").unwrap_or_else(|_| "1s".into())
        ),
    }
    println!("  device capture + SM2 signing          : {capture_rate:8.1} proofs/s");
    println!(
        "  notary intake (verify, store, receipt): {intake:8.1} proofs/s (requests of 100 proofs)"
    );
    println!(
        "  receipt -> verifiable bundle (last)   : {:8.0} ms",
        latency.as_secs_f64() * 1000.0
    );
    println!(
        "  anchored end to end                   : {:8.1} proofs/s",
        n as f64 / total.as_secs_f64()
    );
    println!(
        "  bundle size                           : {:8} bytes",
        serde_json::to_vec(&bundle).unwrap().len()
    );
    println!(
        "  offline verification of the bundle    : {verify_ms:8.1} ms ({} SM2 cosigners{})",
        report.cosigners.len(),
        report
            .chain
            .map(|c| format!(", {} of {} validators' commit", c.signers, c.validators))
            .unwrap_or_default()
    );
    at_intake_speed(&notary, dir, &court, net.map(|t| t.validators.len()));
}

/// Threads polling for bundles in the fleet phase.
const POLLERS: usize = 4;

/// Fetches the bundle of every sample received on `samples` until it is there; returns when
/// it was there and how long after its receipt.
fn poll_bundles(
    url: &str,
    court: &str,
    samples: &std::sync::mpsc::Receiver<(String, Instant)>,
) -> Vec<(Instant, f64)> {
    use std::sync::mpsc::TryRecvError;
    let mut pending: Vec<(String, Instant)> = Vec::new();
    let mut done: Vec<(Instant, f64)> = Vec::new();
    let mut open = true;
    while open || !pending.is_empty() {
        loop {
            match samples.try_recv() {
                Ok(s) => pending.push(s),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    open = false;
                    break;
                }
            }
        }
        let mut still = Vec::new();
        for (sm3, receipted) in pending.drain(..) {
            let (status, _) = common::http(
                "GET",
                &format!("{url}/v1/proofs/{sm3}/bundle"),
                Some(court),
                b"",
            );
            if status == 200 {
                let now = Instant::now();
                done.push((now, (now - receipted).as_secs_f64()));
            } else {
                assert!(receipted.elapsed().as_secs() < 120, "not anchored in 120 s");
                still.push((sm3, receipted));
            }
        }
        pending = still;
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    done
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Fleet devices sending as fast as receipts come back; every request's last proof sampled
/// for receipt → bundle latency.
fn at_intake_speed(notary: &common::Notary, dir: &Path, court: &str, validators: Option<usize>) {
    use std::sync::mpsc;
    let devices = env_usize("TIEZHENG_BENCH_DEVICES", 16);
    let per_device = env_usize("TIEZHENG_BENCH_PROOFS_PER_DEVICE", 1000);
    let fleet: Vec<common::Fleet> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..devices)
            .map(|i| {
                let dir = dir.join(format!("fleet-{i}"));
                s.spawn(move || common::fleet(notary, &dir, 100 + i, per_device))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let requests: Vec<Vec<(Vec<u8>, String)>> = fleet
        .iter()
        .map(|f| {
            f.proofs
                .chunks(100)
                .map(|c| {
                    let last = tiezheng_protocol::Hash32::sm3(
                        &canonical::canonicalize(c.last().unwrap()).unwrap(),
                    )
                    .to_hex();
                    (
                        canonical::canonicalize(&json!({ "proofs": c })).unwrap(),
                        last,
                    )
                })
                .collect()
        })
        .collect();

    // Pollers: every sampled proof's bundle, fetched every 20 ms or so until it is there
    // (several pollers, so that a sweep over the waiting samples stays short).
    let started = Instant::now();
    let mut senders = Vec::new();
    let mut pollers = Vec::new();
    for _ in 0..POLLERS {
        let (sampled, samples) = mpsc::channel::<(String, Instant)>();
        senders.push(sampled);
        let url = notary.url.clone();
        let court = court.to_owned();
        pollers.push(std::thread::spawn(move || {
            poll_bundles(&url, &court, &samples)
        }));
    }
    let last_receipt = std::thread::scope(|s| {
        let handles: Vec<_> = fleet
            .iter()
            .zip(&requests)
            .enumerate()
            .map(|(i, (f, reqs))| {
                let url = notary.url.as_str();
                let sampled = senders[i % POLLERS].clone();
                s.spawn(move || {
                    let mut conn = common::Conn::open(url).unwrap();
                    let mut last = Instant::now();
                    for (body, sm3) in reqs {
                        let (status, answer) = conn.submit_body(&f.token, body).unwrap();
                        assert_eq!(status, 200, "{answer}");
                        last = Instant::now();
                        sampled.send((sm3.clone(), last)).unwrap();
                    }
                    last
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .max()
            .unwrap()
    });
    drop(senders);
    let done: Vec<(Instant, f64)> = pollers
        .into_iter()
        .flat_map(|p| p.join().unwrap())
        .collect();
    let total = devices * per_device;
    let intake = total as f64 / (last_receipt - started).as_secs_f64();
    let first = done.iter().map(|d| d.0).min().unwrap();
    let last = done.iter().map(|d| d.0).max().unwrap();
    let mut latencies: Vec<f64> = done.iter().map(|d| d.1).collect();
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| latencies[((latencies.len() - 1) as f64 * p).round() as usize];
    // Proofs anchored between the first sampled anchor and the last: all but the first
    // request's worth of each device.
    let anchored = (total - devices * 100) as f64 / (last - first).as_secs_f64().max(1e-3);
    println!(
        "  at intake speed, {devices} devices x {per_device} proofs: intake {intake:.0} proofs/s; anchored {anchored:.0} proofs/s; receipt -> bundle p50 {:.2} s, p95 {:.2} s, max {:.2} s ({} samples)",
        pct(0.5),
        pct(0.95),
        latencies.last().unwrap(),
        latencies.len()
    );
    if let Some(v) = validators {
        println!(
            "consortium {v} validators at intake speed: intake {intake:.0}/s; anchored {anchored:.0}/s; receipt -> bundle p95 {:.2} s",
            pct(0.95)
        );
    }
}
