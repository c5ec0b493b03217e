//! Helpers shared by the protocol crate's integration tests.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    unreachable_pub
)]

pub mod consortium;
pub mod evidence;

use std::path::PathBuf;

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Parses `schemas/vectors/sm2-sm3.json` (the SM3 and SM2 examples of the standards).
pub fn sm2_sm3_vectors() -> serde_json::Value {
    let path = repo_root().join("schemas/vectors/sm2-sm3.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

pub fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

/// The verifier's verdict on a bundle: its facts, or its first failure (an unusable policy
/// counts as a `policy` failure).
pub fn verify_bundle(
    bundle: &tiezheng_protocol::bundle::Bundle,
    media: Option<&tiezheng_protocol::verify::MediaEvidence>,
    policy: &tiezheng_protocol::bundle::Policy,
) -> Result<tiezheng_protocol::bundle::BundleReport, tiezheng_protocol::bundle::BundleError> {
    tiezheng_protocol::verify::verify_bundle(bundle, media, policy)?.summary()
}
