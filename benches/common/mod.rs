//! Helpers shared by the benchmarks: test data, the OpenSSL reference, peak memory.

#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation
)]

use std::io::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

/// Writes `len` bytes of xorshift noise (incompressible, deterministic) to `path`.
pub(crate) fn write_pseudo_random(path: &Path, len: u64) {
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

/// Best wall-clock seconds of `runs` runs of `openssl dgst ALG FILE`; `None` without OpenSSL.
pub(crate) fn openssl_dgst_secs(path: &Path, alg: &str, runs: usize) -> Option<f64> {
    let mut best = f64::MAX;
    for _ in 0..runs {
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

/// This process's peak resident memory in kB (Linux `VmHWM`).
pub(crate) fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// The benchmark size from `TIEZHENG_BENCH_MB` (default 512 MiB).
pub(crate) fn bench_mb() -> u64 {
    std::env::var("TIEZHENG_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(512)
}
