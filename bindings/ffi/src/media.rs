//! Hashing bytes and inspecting a file (digests and what its metadata says), without a device.

use std::path::Path;

use tiezheng_protocol::manifest::Decimal;
use tiezheng_sdk::protocol::hash::DualHasher;

use crate::errors::{TiezhengError, invalid};
use crate::records::{Finding, findings};

/// SM3 and SHA-256 of some bytes, as lowercase hex.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ContentDigests {
    /// Number of bytes hashed.
    pub bytes: u64,
    /// SM3 digest (GB/T 32905), 64 lowercase hex digits.
    pub sm3: String,
    /// SHA-256 digest, 64 lowercase hex digits.
    pub sha256: String,
}

/// What a file says about itself.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct MediaInfo {
    /// MIME type sniffed from the bytes.
    pub mime: String,
    /// Size, SM3 and SHA-256.
    pub digests: ContentDigests,
    /// Capture time written in the file.
    pub captured_at: Option<String>,
    /// Camera make.
    pub make: Option<String>,
    /// Camera model.
    pub model: Option<String>,
    /// GPS latitude from the file.
    pub latitude: Option<f64>,
    /// GPS longitude from the file.
    pub longitude: Option<f64>,
    /// GPS altitude from the file.
    pub altitude: Option<f64>,
    /// Unreadable or missing metadata.
    pub warnings: Vec<Finding>,
}

/// Hashes `data` with SM3 and SHA-256 (the foreign buffer is borrowed, not copied).
///
/// Kotlin: the bytes between the `ByteBuffer`'s position and limit, direct (zero-copy) or heap
/// (copied once); the position is left unchanged. Python: any bytes-like object.
#[uniffi::export]
pub fn hash_bytes(data: &[u8]) -> ContentDigests {
    let mut h = DualHasher::new();
    h.update(data);
    digests(&h.finalize())
}

fn digests(d: &tiezheng_protocol::ContentDigests) -> ContentDigests {
    ContentDigests {
        bytes: d.bytes,
        sm3: d.sm3.to_hex(),
        sha256: d.sha256.to_hex(),
    }
}

/// Hashes and inspects a file (EXIF, XMP, MP4/MOV tags).
#[uniffi::export]
pub fn inspect_file(path: String) -> Result<MediaInfo, TiezhengError> {
    let i = tiezheng_sdk::inspect::inspect_file(Path::new(&path))
        .map_err(|e| invalid(format!("{e} ({})", e.hint())))?;
    let gps = i.metadata.gps.as_ref();
    Ok(MediaInfo {
        mime: i.media.mime().to_owned(),
        digests: digests(&i.digests),
        captured_at: i.metadata.captured_at.clone(),
        make: i.metadata.make.clone(),
        model: i.metadata.model.clone(),
        latitude: gps.map(|g| g.latitude.to_f64()),
        longitude: gps.map(|g| g.longitude.to_f64()),
        altitude: gps.and_then(|g| g.altitude.as_ref().map(Decimal::to_f64)),
        warnings: findings(&i.findings),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_bytes_matches_the_standard() {
        let d = hash_bytes(b"abc");
        assert_eq!(
            d.sm3,
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
    }
}
