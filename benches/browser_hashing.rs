//! Browser hashing: SM3 throughput in Chromium (the protocol crate's SM3 compiled to
//! WebAssembly, in the verify page's Web Worker, reading the file in 4 MiB `File.slice`
//! chunks) beside the native SM3 of the same file in the same run. Goal: at least 0.8× native.
//!
//! `cargo bench --bench browser_hashing` (size with `TIEZHENG_BENCH_MB`, default 1024). Needs
//! node, `npm ci --prefix portal/tests` and Chromium at /usr/bin/chromium, as the portal tests.

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

use std::io::{BufRead as _, Read as _};
use std::process::{Command, Stdio};
use std::time::Instant;

use tiezheng_protocol::{ContentHasher, HashAlgorithm};

/// Native SM3 of `path` with the protocol's hasher, 4 MiB reads: (seconds, hex).
fn native_sm3(path: &std::path::Path) -> (f64, String) {
    let t = Instant::now();
    let mut f = std::fs::File::open(path).unwrap();
    let mut h = ContentHasher::new(HashAlgorithm::Sm3);
    let mut buf = vec![0u8; 4 << 20];
    loop {
        let n = f.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    let hex = h.finalize().to_hex();
    (t.elapsed().as_secs_f64(), hex)
}

fn main() {
    let mb = std::env::var("TIEZHENG_BENCH_MB")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(1024);
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let tests = root.join("portal/tests");
    assert!(
        tests.join("node_modules/playwright-core").is_dir(),
        "run `npm ci --prefix portal/tests` first (needs node and npm; Chromium from `apt-get install chromium`)"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.bin");
    common::write_pseudo_random(&path, mb * 1024 * 1024);
    let bytes = (mb * 1024 * 1024) as f64;
    let rate = |secs: f64| bytes / 1e6 / secs;

    // A notary serving the portal.
    let mut notary = Command::new(env!("CARGO_BIN_EXE_tiezheng"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("notary"))
        .env("TIEZHENG_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(notary.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("the notary did not start")
        .to_owned();

    // Native, page-cached, best of 3.
    native_sm3(&path);
    let mut native = f64::MAX;
    let mut native_hex = String::new();
    for _ in 0..3 {
        let (s, h) = native_sm3(&path);
        native = native.min(s);
        native_hex = h;
    }
    let browser = Command::new("node")
        .arg(tests.join("bench.mjs"))
        .current_dir(&tests)
        .env("PORTAL_URL", &url)
        .env("BENCH_FILE", &path)
        .output()
        .unwrap();
    let _ = notary.kill();
    let _ = notary.wait();
    assert!(
        browser.status.success(),
        "the browser half failed: {}",
        String::from_utf8_lossy(&browser.stderr)
    );
    let out: serde_json::Value = serde_json::from_slice(&browser.stdout).unwrap();
    assert_eq!(
        out["sm3"].as_str(),
        Some(native_hex.as_str()),
        "the browser's SM3 differs from the native one"
    );
    let ms: Vec<f64> = out["ms"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(serde_json::Value::as_f64)
        .collect();
    let best = ms.iter().copied().fold(f64::MAX, f64::min) / 1000.0;
    let (b, n) = (rate(best), rate(native));
    println!("SM3 of a {mb} MiB file (page-cached), best of 3, same run:");
    println!("  native (tiezheng-protocol, release)        : {n:8.1} MB/s");
    println!("  Chromium (WebAssembly, Web Worker, 4 MiB) : {b:8.1} MB/s");
    println!(
        "  ratio browser / native                     : {:8.2} (goal >= 0.80)",
        b / n
    );
}
