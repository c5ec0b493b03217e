/*!
The Tiezheng SDK as seen from Kotlin, Swift and Python, through UniFFI proc-macros.

This crate is deliberately thin: it converts between UniFFI types and `tiezheng-sdk` types and
classifies errors into the small [`TiezhengError`] enum apps act on. Generate the foreign
bindings with the workspace's `uniffi-bindgen` binary:

```text
cargo build -p tiezheng-ffi
cargo run -p uniffi-bindgen -- generate --library target/debug/libtiezheng_ffi.so \
    --language kotlin --out-dir out/
```

The capture flow (device, streaming capture, queue, sync) is exposed as the SDK grows.
*/
// UniFFI's generated scaffolding is `extern "C"` code; this is the one crate allowed it.
#![allow(unsafe_code)]

use tiezheng_sdk::protocol::hash::DualHasher;

uniffi::setup_scaffolding!();

/// Errors an app can act on.
#[derive(Debug, thiserror::Error, uniffi::Error)]
#[non_exhaustive]
pub enum TiezhengError {
    /// The caller passed something the SDK cannot use; `reason` says what.
    #[error("invalid input: {reason}")]
    InvalidInput {
        /// What is wrong, for people.
        reason: String,
    },
}

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

/// The SDK version string (the Rust crate version).
#[uniffi::export]
pub fn sdk_version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

/// Hashes `data` with SM3 and SHA-256 (zero-copy: the foreign buffer is borrowed).
#[uniffi::export]
pub fn hash_bytes(data: &[u8]) -> ContentDigests {
    let mut h = DualHasher::new();
    h.update(data);
    let d = h.finalize();
    ContentDigests {
        bytes: d.bytes,
        sm3: d.sm3.to_hex(),
        sha256: d.sha256.to_hex(),
    }
}

/// Parses a 64-digit lowercase hex digest and returns it normalised, or a typed error.
#[uniffi::export]
pub fn parse_digest(hex: &str) -> Result<String, TiezhengError> {
    tiezheng_sdk::protocol::Hash32::from_hex(hex)
        .map(|h| h.to_hex())
        .map_err(|e| TiezhengError::InvalidInput {
            reason: format!("digest {hex:?}: {e}"),
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
        assert!(parse_digest("xyz").is_err());
    }
}
