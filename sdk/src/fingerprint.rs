//! Perceptual fingerprints of photos, so an appraiser can recognise a re-encoded or resized
//! copy. The exact SM3/SHA-256 hashes remain the evidence; this is an aid only.
//!
//! `dHash-64`: decode (with decompression-bomb limits), shrink to 9×8 greyscale, and set bit
//! `8·row + col` when pixel (col, row) is brighter than pixel (col+1, row).

use std::io::{BufRead, Seek};

use image::{ImageReader, Limits};
use tiezheng_protocol::manifest::Fingerprint;

/// Largest width or height decoded.
pub const MAX_DIMENSION: u32 = 20_000;
/// Largest decoder allocation.
pub const MAX_ALLOC_BYTES: u64 = 512 * 1024 * 1024;

/// Why no fingerprint could be made.
#[derive(Debug, thiserror::Error)]
#[error("cannot decode image for a fingerprint: {0}")]
pub struct FingerprintError(String);

/// Computes the dHash of an encoded image (JPEG or PNG).
pub fn dhash<R: BufRead + Seek>(reader: R) -> Result<Fingerprint, FingerprintError> {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_DIMENSION);
    limits.max_image_height = Some(MAX_DIMENSION);
    limits.max_alloc = Some(MAX_ALLOC_BYTES);
    let mut decoder = ImageReader::new(reader)
        .with_guessed_format()
        .map_err(|e| FingerprintError(e.to_string()))?;
    decoder.limits(limits);
    let img = decoder
        .decode()
        .map_err(|e| FingerprintError(e.to_string()))?;
    let small = img.thumbnail_exact(9, 8).to_luma8();
    let mut bits = 0u64;
    for row in 0..8 {
        for col in 0..8 {
            let left = small.get_pixel(col, row).0[0];
            let right = small.get_pixel(col + 1, row).0[0];
            if left > right {
                bits |= 1 << (row * 8 + col);
            }
        }
    }
    Ok(Fingerprint {
        algorithm: "dHash-64".into(),
        value: format!("{bits:016x}"),
    })
}

/// Number of differing bits between two `dHash-64` values (0 = same picture; ≤ 10 usually a
/// re-encoded or resized copy).
pub fn distance(a: &Fingerprint, b: &Fingerprint) -> Option<u32> {
    let x = u64::from_str_radix(&a.value, 16).ok()?;
    let y = u64::from_str_radix(&b.value, 16).ok()?;
    Some((x ^ y).count_ones())
}
