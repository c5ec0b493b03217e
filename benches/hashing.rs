//! Streaming hash throughput: Tiezheng's one-pass SM3 + SHA-256 over a large file, printed
//! beside OpenSSL's `dgst -sm3` and `dgst -sha256` on the same file in the same run, plus the
//! process's peak memory.
//!
//! `cargo bench --bench hashing` (size with `TIEZHENG_BENCH_MB`, default 512).

#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    missing_docs
)]

use std::io::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use tiezheng_sdk::files::hash_file;

fn main() {
    let mb: u64 = std::env::var("TIEZHENG_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(512);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.bin");
    write_pseudo_random(&path, mb * 1024 * 1024);
    let bytes = mb * 1024 * 1024;
    let rate = |secs: f64| bytes as f64 / 1e6 / secs;

    // Warm the page cache so every contender reads from memory.
    hash_file(&path, |_, _| {}).unwrap();

    let mut best = f64::MAX;
    for _ in 0..3 {
        let t = Instant::now();
        hash_file(&path, |_, _| {}).unwrap();
        best = best.min(t.elapsed().as_secs_f64());
    }
    let ours = rate(best);
    let sm3 = openssl_rate(&path, "-sm3").map(rate);
    let sha = openssl_rate(&path, "-sha256").map(rate);

    println!("hashing {mb} MiB file (page-cached), best of 3:");
    println!("  tiezheng SM3+SHA-256, one pass : {ours:8.1} MB/s");
    match (sm3, sha) {
        (Some(sm3), Some(sha)) => {
            // Two separate passes of OpenSSL: the time one pass of both would take.
            let both = 1.0 / (1.0 / sm3 + 1.0 / sha);
            println!("  openssl dgst -sm3              : {sm3:8.1} MB/s");
            println!("  openssl dgst -sha256           : {sha:8.1} MB/s");
            println!(
                "  openssl SM3 then SHA-256       : {both:8.1} MB/s (reference for the dual hash)"
            );
            println!("  ratio tiezheng / openssl (both): {:8.2}", ours / both);
        }
        _ => println!("  openssl not available: no reference figure"),
    }
    println!(
        "  peak resident memory (VmHWM)   : {} kB (file is {} kB)",
        peak_rss_kb().unwrap_or(0),
        bytes / 1024
    );
}

fn write_pseudo_random(path: &Path, len: u64) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut block = vec![0u8; 1 << 20];
    let mut left = len;
    while left > 0 {
        for chunk in block.chunks_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
        }
        let n = left.min(block.len() as u64) as usize;
        f.write_all(&block[..n]).unwrap();
        left -= n as u64;
    }
    f.flush().unwrap();
}

/// Best of 3 wall-clock seconds for `openssl dgst ALG FILE`.
fn openssl_rate(path: &Path, alg: &str) -> Option<f64> {
    let mut best = f64::MAX;
    for _ in 0..3 {
        let t = Instant::now();
        let out = Command::new("openssl")
            .args(["dgst", alg])
            .arg(path)
            .output()
            .ok()?;
        if !out.status.success() {
            return None;
        }
        best = best.min(t.elapsed().as_secs_f64());
    }
    Some(best)
}

fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
