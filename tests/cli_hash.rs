//! `tiezheng hash`, driven as a user drives it: the real binary on the real corpus, compared
//! with `tests/corpus/expected.json` and, where it is, `../shared/corpus/expected.json`
//! (computed by OpenSSL 3 and Python's hashlib).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, missing_docs)]

mod common;

use std::io::Write as _;
use std::process::Stdio;

use common::{
    corpus_dir, corpus_path, expected, json_lines, repo_expected, repo_root, run,
    shared_corpus_dir, tiezheng,
};

#[test]
fn corpus_matches_independent_tools() {
    let expected = expected();
    // tests/corpus alone holds 17 files (photos, damaged files, video, audio).
    assert!(
        expected.len() >= 17,
        "expected.json lists {} files",
        expected.len()
    );
    let paths: Vec<String> = expected
        .keys()
        .map(|k| corpus_path(k).to_string_lossy().into_owned())
        .collect();
    let mut args = vec!["hash"];
    args.extend(paths.iter().map(String::as_str));
    let out = run(&args);
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let lines = json_lines(&out.stdout);
    assert_eq!(lines.len(), expected.len());
    for ((name, want), (line, path)) in expected.iter().zip(lines.iter().zip(&paths)) {
        assert_eq!(
            line["path"],
            path.as_str(),
            "{name}: lines come in argument order"
        );
        assert_eq!(line["bytes"], want["bytes"], "{name}: bytes");
        assert_eq!(line["sm3"], want["sm3"], "{name}: sm3");
        assert_eq!(line["sha256"], want["sha256"], "{name}: sha256");
        assert_eq!(
            line.as_object().unwrap().len(),
            4,
            "{name}: exactly path, bytes, sm3, sha256"
        );
    }

    // Every media file of each corpus is covered by its expected.json.
    let corpora = std::iter::once((corpus_dir(), repo_expected()))
        .chain(shared_corpus_dir().map(|d| (d, expected.clone())));
    for (corpus, expected) in corpora {
        for sub in ["photos", "video", "malformed"] {
            for entry in std::fs::read_dir(corpus.join(sub)).unwrap() {
                let name = format!("{sub}/{}", entry.unwrap().file_name().to_string_lossy());
                assert!(
                    expected.contains_key(&name),
                    "{name} missing from {}/expected.json",
                    corpus.display()
                );
            }
        }
    }
}

#[test]
fn output_lines_follow_the_published_schema() {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("schemas/hash-record.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    let photo = corpus_path("photos/DSCN0010.jpg");
    let out = run(&["hash", photo.to_str().unwrap()]);
    for line in json_lines(&out.stdout) {
        assert!(validator.is_valid(&line), "{line}");
    }
}

#[test]
fn missing_file_is_named_and_others_still_hashed() {
    let a = corpus_path("photos/DSCN0010.jpg");
    let b = corpus_path("video/bodycam_5s.mov");
    let out = run(&[
        "hash",
        a.to_str().unwrap(),
        "no/such/evidence.jpg",
        b.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a failed file gives a non-zero exit"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no/such/evidence.jpg"),
        "error names the file: {stderr}"
    );
    assert!(
        stderr.contains("check the path"),
        "error says what to do: {stderr}"
    );
    let lines = json_lines(&out.stdout);
    assert_eq!(lines.len(), 2, "the other files are still processed");
    assert_eq!(lines[1]["sm3"], expected()["video/bodycam_5s.mov"]["sm3"]);
}

#[test]
fn directory_and_unreadable_files_are_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&["hash", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a regular file"));
    let out = run(&["hash"]);
    assert_eq!(out.status.code(), Some(2), "usage error");
}

#[test]
fn standard_input() {
    let mut child = tiezheng()
        .args(["hash", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"abc").unwrap();
    let out = child.wait_with_output().unwrap();
    let lines = json_lines(&out.stdout);
    assert_eq!(lines[0]["path"], "-");
    assert_eq!(lines[0]["bytes"], 3);
    assert_eq!(
        lines[0]["sm3"],
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    );
}

/// Constant memory: a 512 MiB file hashes inside a 64 MiB address-space limit, so the file is
/// never buffered whole. (A sparse file: no disk space is used.)
#[test]
fn large_file_in_constant_memory() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.bin");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(512 * 1024 * 1024).unwrap();
    drop(f);
    let script = format!(
        "ulimit -v {}; exec \"$0\" hash --no-progress \"$1\"",
        64 * 1024
    );
    let out = std::process::Command::new("sh")
        .args([
            "-c",
            &script,
            env!("CARGO_BIN_EXE_tiezheng"),
            big.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = &json_lines(&out.stdout)[0];
    assert_eq!(line["bytes"], 512u64 * 1024 * 1024);
    // SHA-256 of 512 MiB of zeros, from `head -c 536870912 /dev/zero | sha256sum`.
    assert_eq!(
        line["sha256"],
        "9acca8e8c22201155389f65abbf6bc9723edc7384ead80503839f49dcc56d767"
    );
}
