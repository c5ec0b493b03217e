//! Work per request on the notary's costly reads (issue #25): peak memory of a real
//! `tiezheng serve` while 8 clients at once fetch the certificate PDF of a proof whose photo is
//! a 169-megapixel PNG (13,000 × 13,000; a few hundred kilobytes on the wire), and the time to
//! serve the same 8 again. References measured in the same run: the notary's resident memory
//! before the requests, 8 fetches of the certificate JSON (no rendering), and one whole-image
//! decode of that photo in this process (what each request cost before renditions were bounded
//! and kept).
//!
//! `cargo bench --bench renditions`.

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

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Resident memory of `pid` in KiB (`VmRSS` of /proc).
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// 8 concurrent GETs of `path`; the slowest one's time, and every status.
fn eight(n: &common::Notary, path: &str, token: &str) -> (Duration, Vec<u16>) {
    let started = Instant::now();
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let (url, token) = (format!("{}{path}", n.url), token.to_owned());
            std::thread::spawn(move || common::http("GET", &url, Some(&token), b"").0)
        })
        .collect();
    let statuses = handles.into_iter().map(|h| h.join().unwrap()).collect();
    (started.elapsed(), statuses)
}

fn main() {
    let work = tempfile::tempdir().unwrap();
    let photo = work.path().join("bomb.png");
    // Large blocks of two greys: hundreds of kilobytes as PNG, 169 megapixels decoded.
    let img = image::GrayImage::from_fn(13_000, 13_000, |x, y| {
        image::Luma([if (x / 1000 + y / 1000) % 2 == 0 {
            40
        } else {
            220
        }])
    });
    img.save(&photo).unwrap();
    drop(img);
    let size = std::fs::metadata(&photo).unwrap().len();

    // The reference: one whole-image decode, as every PDF request did before.
    let started = Instant::now();
    let decoded = image::open(&photo).unwrap().to_rgb8();
    let decode = started.elapsed();
    let decoded_mib = decoded.len() as f64 / 1_048_576.0;
    drop(decoded);

    let n = common::notary(work.path(), &[("TIEZHENG_NOTARY_BATCH_MAX_MS", "100")]);
    let dev = common::device(work.path(), "dev", &n);
    let out = common::cli(
        &dev,
        &[
            "capture",
            photo.to_str().unwrap(),
            "--case",
            "CASE-1",
            "--witness-note",
            "none",
        ],
    );
    let proof = out.stdout.trim_ascii_end().to_vec();
    let proof_sm3 = tiezheng_protocol::Proof::verify_bytes(&proof)
        .unwrap()
        .proof_sm3
        .to_hex();
    common::cli(&dev, &["sync"]);
    let (court, _) = n.token("court", &[]);
    common::wait_for_bundle(&n, &court, &proof_sm3);
    let (s, _) = n.call(
        "GET",
        &format!("/v1/proofs/{proof_sm3}/certificate"),
        Some(&court),
        b"",
    );
    assert_eq!(s, 200);

    let pid = n.child.id();
    let before = rss_kib(pid);
    let peak = Arc::new(std::sync::atomic::AtomicU64::new(before));
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, stop) = (peak.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                peak.fetch_max(rss_kib(pid), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    let pdf = format!("/v1/proofs/{proof_sm3}/certificate.pdf");
    let (first, statuses) = eight(&n, &pdf, &court);
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let (again, statuses) = eight(&n, &pdf, &court);
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let thumb = format!("/v1/proofs/{proof_sm3}/thumbnail/0");
    let (thumbs, statuses) = eight(&n, &thumb, &court);
    assert!(statuses.iter().all(|s| *s == 404), "{statuses:?}");
    stop.store(true, Ordering::Relaxed);
    sampler.join().unwrap();
    let json = format!("/v1/proofs/{proof_sm3}/certificate");
    let (json_time, _) = eight(&n, &json, &court);

    let peak = peak.load(Ordering::Relaxed);
    println!(
        "renditions: photo 13000 x 13000 PNG ({} KiB); reference whole-image decode in this process: {:.2} s, {decoded_mib:.0} MiB decoded",
        size / 1024,
        decode.as_secs_f64()
    );
    println!(
        "renditions: notary RSS {:.1} MiB before, peak {:.1} MiB during 8 PDF + 8 PDF + 8 thumbnail requests (+{:.1} MiB)",
        before as f64 / 1024.0,
        peak as f64 / 1024.0,
        (peak.saturating_sub(before)) as f64 / 1024.0
    );
    println!(
        "renditions: 8 concurrent certificate PDFs {:.0} ms first, {:.0} ms again (kept); 8 thumbnails refused in {:.0} ms; reference 8 certificate JSON {:.0} ms",
        first.as_secs_f64() * 1000.0,
        again.as_secs_f64() * 1000.0,
        thumbs.as_secs_f64() * 1000.0,
        json_time.as_secs_f64() * 1000.0
    );
}
