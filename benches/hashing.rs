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

mod common;

use std::time::Instant;

use tiezheng_sdk::files::hash_file;

fn main() {
    let mb = common::bench_mb();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.bin");
    common::write_pseudo_random(&path, mb * 1024 * 1024);
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
    let sm3 = common::openssl_dgst_secs(&path, "-sm3", 3).map(rate);
    let sha = common::openssl_dgst_secs(&path, "-sha256", 3).map(rate);

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
        common::peak_rss_kb().unwrap_or(0),
        bytes / 1024
    );
}
