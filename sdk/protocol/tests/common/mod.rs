//! Helpers shared by the protocol crate's integration tests.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    unreachable_pub
)]

use std::path::PathBuf;

/// `../shared` beside the repository root (CI and developers keep it there).
pub fn shared_dir() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = root.join("../shared");
    assert!(
        dir.is_dir(),
        "test data not found at {}: clone the repository with ../shared beside it",
        dir.display()
    );
    dir
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Parses `../shared/vectors/sm2-sm3.json`.
pub fn sm2_sm3_vectors() -> serde_json::Value {
    let path = shared_dir().join("vectors/sm2-sm3.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

pub fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}
