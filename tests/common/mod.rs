//! Helpers for the end-to-end tests: run the real `tiezheng` binary, find `../shared`.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::path::PathBuf;
use std::process::{Command, Output};

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared/corpus` beside the repository.
pub fn corpus_dir() -> PathBuf {
    let dir = repo_root().join("../shared/corpus");
    assert!(
        dir.is_dir(),
        "corpus not found at {}: keep ../shared beside the repository",
        dir.display()
    );
    dir
}

/// `../shared/corpus/expected.json`, made with OpenSSL, hashlib and ExifTool.
pub fn expected() -> serde_json::Map<String, serde_json::Value> {
    let text = std::fs::read_to_string(corpus_dir().join("expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// A command running the `tiezheng` binary built for these tests.
pub fn tiezheng() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tiezheng"))
}

/// Runs `tiezheng` with `args`, returning its output.
pub fn run(args: &[&str]) -> Output {
    tiezheng().args(args).output().unwrap()
}

/// Parses JSON Lines.
pub fn json_lines(bytes: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8(bytes.to_vec())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l:?}: {e}")))
        .collect()
}
