//! The capture path's throughput: a large recording streamed through the SDK's recorder in
//! 1 MiB chunks, as an encoder delivers it (SM3 + SHA-256 of the whole, SM3 per segment,
//! journal, write to disk, sign, queue), printed beside `openssl dgst -sm3` on the same file in
//! the same run, with the process's peak memory.
//!
//! `cargo bench --bench capture` (size with `TIEZHENG_BENCH_MB`, default 512).

#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss,
    missing_docs
)]

mod common;

use std::io::Read as _;
use std::time::Instant;

use tiezheng_protocol::Timestamp;
use tiezheng_protocol::manifest::CaseRecord;
use tiezheng_sdk::capture::{CaptureContext, MonotonicClock, SegmentPolicy};
use tiezheng_sdk::device::{Device, DeviceSetup};
use tiezheng_sdk::vault::PassphraseVault;

fn main() {
    let mb = common::bench_mb();
    let bytes = mb * 1024 * 1024;
    let work = tempfile::tempdir().unwrap();
    let source = work.path().join("recording.mp4");
    common::write_pseudo_random(&source, bytes);

    let vault = PassphraseVault::new("bench").danger_with_iterations(1);
    let setup = DeviceSetup {
        profile: None,
        officers: vec!["1".into(), "2".into()],
        model: "bench".into(),
        os: "linux".into(),
    };
    let device = Device::init(&work.path().join("device"), setup, &vault)
        .unwrap()
        .unlock(&vault)
        .unwrap();
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

    // Warm the page cache for both contenders (streaming: the bench must not hold the file).
    let mut buf = vec![0u8; 1024 * 1024];
    let mut warm = std::fs::File::open(&source).unwrap();
    while warm.read(&mut buf).unwrap() > 0 {}
    let mut best = f64::MAX;
    for _ in 0..2 {
        let t = Instant::now();
        let mut rec = device
            .start_recording(
                "recording.mp4",
                SegmentPolicy::default(),
                &ctx,
                Box::new(MonotonicClock::default()),
            )
            .unwrap();
        let mut f = std::fs::File::open(&source).unwrap();
        loop {
            let n = f.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            rec.write(&buf[..n]).unwrap();
        }
        let outcome = rec.finish().unwrap();
        best = best.min(t.elapsed().as_secs_f64());
        std::fs::remove_file(outcome.media_path.unwrap()).unwrap();
    }
    let rate = |secs: f64| bytes as f64 / 1e6 / secs;
    let ours = rate(best);
    println!("capture path, {mb} MiB recording in 1 MiB encoder chunks (best of 2):");
    println!(
        "  tiezheng recorder (SM3 + SHA-256 whole, SM3 per 4 MiB segment, fsync'd journal, write, sign): {ours:8.1} MB/s"
    );
    match common::openssl_dgst_secs(&source, "-sm3", 2) {
        Some(s) => {
            println!(
                "  openssl dgst -sm3 on the same file (hash only)                                             : {:8.1} MB/s",
                rate(s)
            );
            println!(
                "  ratio tiezheng capture / openssl SM3                                                       : {:8.2}",
                ours / rate(s)
            );
        }
        None => println!("  openssl not available: no reference figure"),
    }
    println!(
        "  peak resident memory (VmHWM): {} kB for a {} kB recording",
        common::peak_rss_kb().unwrap_or(0),
        bytes / 1024
    );
}
