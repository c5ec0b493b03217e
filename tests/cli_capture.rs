//! The officer's side through the command line: `device init`, `capture`, `queue`, `session
//! close`, `recover`. Every proof printed is verified through its public wire shape (the
//! protocol's verifier and, independently, the committed JSON Schema), the device chain is
//! checked link by link, and `capture` is killed with SIGKILL at random instants to show that
//! the queue never loses or tears a proof.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, missing_docs)]

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::{corpus_path, expected, repo_root, tiezheng};
use serde_json::Value;
use tiezheng_protocol::{Hash32, Proof, canonical};

const PIN: &str = "135790";

fn cmd(dir: &Path, args: &[&str]) -> Command {
    let mut c = tiezheng();
    c.args(args).arg("--dir").arg(dir).env("TIEZHENG_PIN", PIN);
    c
}

fn init(dir: &Path) {
    let out = cmd(
        dir,
        &[
            "device",
            "init",
            "--officer",
            "310101",
            "--officer",
            "310102",
            "--danger-kdf-iterations",
            "1000",
        ],
    )
    .output()
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn capture(dir: &Path, file: &str, extra: &[&str]) -> Output {
    let path = corpus_path(file);
    let mut c = cmd(
        dir,
        &[
            "capture",
            path.to_str().unwrap(),
            "--case",
            "沪浦-2026-0001",
            "--witness-note",
            "none present",
        ],
    );
    c.args(extra);
    c.output().unwrap()
}

fn proof_schema() -> jsonschema::Validator {
    let text = std::fs::read_to_string(repo_root().join("schemas/proof.schema.json")).unwrap();
    jsonschema::draft202012::new(&serde_json::from_str(&text).unwrap()).unwrap()
}

/// Reads the queue directory and checks the whole device chain; returns the proofs in order.
fn check_chain(dir: &Path) -> Vec<Proof> {
    let mut files: Vec<_> = ["queue/pending", "queue/acked"]
        .iter()
        .filter_map(|d| std::fs::read_dir(dir.join(d)).ok())
        .flat_map(|rd| rd.map(|e| e.unwrap().path()))
        .filter(|p| p.to_string_lossy().ends_with(".proof.json"))
        .collect();
    files.sort_by_key(|p| p.file_name().unwrap().to_owned());
    let mut previous: Option<Hash32> = None;
    let mut proofs = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let bytes = std::fs::read(f).unwrap();
        let v = Proof::verify_bytes(&bytes).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        assert!(
            canonical::parse_canonical(&bytes).is_ok(),
            "queue files hold canonical bytes"
        );
        let m = &v.proof.manifest;
        assert_eq!(
            m.device_seq,
            i as u64 + 1,
            "{}: sequence has no gap or repeat",
            f.display()
        );
        assert_eq!(
            m.previous_manifest_sm3,
            previous,
            "{}: links to the previous manifest",
            f.display()
        );
        previous = Some(v.manifest_sm3);
        proofs.push(v.proof);
    }
    proofs
}

#[test]
fn capture_the_corpus_and_verify_every_proof() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path());
    let expected = expected();
    let schema = proof_schema();
    let files: Vec<String> = expected.keys().cloned().collect();
    let mut printed = Vec::new();
    for f in files.iter().map(String::as_str) {
        let out = capture(
            dir.path(),
            f,
            &[
                "--lat",
                "43.46745",
                "--lon",
                "11.88513",
                "--accuracy",
                "10",
                "--utc-offset",
                "+08:00",
                "--segment-bytes",
                "1000000",
            ],
        );
        assert!(
            out.status.success(),
            "{f}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert_eq!(stdout.lines().count(), 1, "one line of JSON");
        let line = stdout.trim_end().as_bytes();
        // The public wire shape: schema-valid, and the signature verifies over the manifest.
        let value: Value = serde_json::from_slice(line).unwrap();
        assert!(
            schema.is_valid(&value),
            "{f}: proof does not match schemas/proof.schema.json"
        );
        let verified = Proof::verify_bytes(line).unwrap();
        let item = &verified.proof.manifest.items[0];
        assert_eq!(item.bytes, expected[f]["bytes"].as_u64().unwrap(), "{f}");
        assert_eq!(
            item.hashes[0].value.to_hex(),
            expected[f]["sm3"].as_str().unwrap(),
            "{f}"
        );
        assert_eq!(
            item.hashes[1].value.to_hex(),
            expected[f]["sha256"].as_str().unwrap(),
            "{f}"
        );
        assert_eq!(verified.proof.signature.sm2_id, "1234567812345678");
        printed.push(verified.proof);
    }
    let queued = check_chain(dir.path());
    assert_eq!(queued, printed);

    let by_name = |n: &str| {
        printed
            .iter()
            .find(|p| p.manifest.items[0].file_name == n)
            .unwrap()
    };
    let photo = &by_name("DSCN0010.jpg").manifest.items[0];
    assert_eq!(photo.kind, tiezheng_protocol::manifest::ItemKind::Photo);
    assert!(photo.fingerprint.is_some());
    assert!(photo.findings.iter().any(|f| f.code == "gps_distance"));
    assert!(
        photo.findings.iter().any(|f| f.code == "clock_skew"),
        "a 2008 photo captured today is skewed"
    );
    let far = &by_name("HMD_Nokia_8.3_5G.heif").manifest.items[0];
    assert!(
        far.findings.iter().any(|f| f.code == "gps_mismatch"),
        "photo taken in Spain, fix in Italy"
    );
    let video = &by_name("street_8s_720p.mp4").manifest.items[0];
    assert_eq!(video.recording.as_ref().unwrap().segments.len(), 3);
    assert_eq!(
        video.metadata.gps.as_ref().unwrap().latitude.as_str(),
        "31.23039"
    );
    let broken = &by_name("30-type_error.jpg").manifest.items[0];
    assert!(
        broken
            .findings
            .iter()
            .any(|f| f.code == "metadata_missing" || f.code == "metadata_unreadable")
    );

    // `tiezheng queue` lists them all as pending, with the same proof hashes.
    let out = cmd(dir.path(), &["queue"]).output().unwrap();
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), files.len());
    for (l, p) in lines.iter().zip(&printed) {
        assert_eq!(l["state"], "pending");
        assert_eq!(l["proof_sm3"], p.sm3().unwrap().to_hex());
    }
    // Originals are stored unmodified, content-addressed.
    for p in &printed {
        let sm3 = p.manifest.items[0].hashes[0].value;
        let stored = std::fs::read(dir.path().join("media").join(sm3.to_hex())).unwrap();
        assert_eq!(Hash32::sm3(&stored), sm3);
    }
}

#[test]
fn imported_files_are_never_marked_captured() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path());
    let out = capture(dir.path(), "photos/Canon_40D.jpg", &["--import"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let proof = Proof::verify_bytes(out.stdout.trim_ascii_end())
        .unwrap()
        .proof;
    assert_eq!(
        proof.manifest.items[0].origin,
        tiezheng_protocol::manifest::Origin::Imported
    );
    assert!(
        proof.manifest.items[0]
            .findings
            .iter()
            .any(|f| f.code == "location_missing")
    );
}

#[test]
fn session_close_lists_every_capture_of_the_case() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path());
    assert!(
        capture(dir.path(), "photos/DSCN0012.jpg", &[])
            .status
            .success()
    );
    assert!(
        capture(dir.path(), "photos/DSCN0021.jpg", &[])
            .status
            .success()
    );
    let other = corpus_path("photos/DSCN0025.jpg");
    assert!(
        cmd(
            dir.path(),
            &["capture", other.to_str().unwrap(), "--case", "OTHER"]
        )
        .output()
        .unwrap()
        .status
        .success()
    );
    let out = cmd(
        dir.path(),
        &["session", "close", "--case", "沪浦-2026-0001"],
    )
    .output()
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary = Proof::verify_bytes(out.stdout.trim_ascii_end())
        .unwrap()
        .proof;
    let s = summary.manifest.session_summary.as_ref().unwrap();
    let files: Vec<&str> = s
        .manifests
        .iter()
        .flat_map(|m| m.files.iter().map(String::as_str))
        .collect();
    assert_eq!(files, ["DSCN0012.jpg", "DSCN0021.jpg"]);
    assert!(summary.manifest.items.is_empty());
    let proofs = check_chain(dir.path());
    assert_eq!(proofs.len(), 4);
    assert_eq!(
        s.manifests[1].manifest_sm3,
        proofs[1].manifest.sm3().unwrap()
    );
}

#[test]
fn wrong_pins_are_counted_and_lock_the_key() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path());
    let photo = corpus_path("photos/DSCN0027.jpg");
    let attempt = |pin: &str| {
        let mut c = tiezheng();
        c.args(["capture", photo.to_str().unwrap(), "--case", "X", "--dir"])
            .arg(dir.path())
            .env("TIEZHENG_PIN", pin);
        c.output().unwrap()
    };
    for left in (1..5).rev() {
        let out = attempt("000000");
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&format!("wrong PIN: {left} attempts left")),
            "{err}"
        );
    }
    let out = attempt("000000");
    assert!(String::from_utf8_lossy(&out.stderr).contains("locked"));
    let out = attempt(PIN);
    assert!(
        !out.status.success(),
        "the right PIN no longer helps once locked"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("re-enrol"));
    assert!(check_chain(dir.path()).is_empty(), "nothing was captured");
}

#[test]
fn bad_input_gets_a_clear_error_and_queues_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let stderr = |o: Output| String::from_utf8_lossy(&o.stderr).into_owned();
    // No device yet: the error says what to run.
    let e = stderr(capture(dir.path(), "photos/DSCN0010.jpg", &[]));
    assert!(e.contains("device init"), "{e}");
    init(dir.path());
    let e = stderr(
        cmd(dir.path(), &["capture", "no/such/photo.jpg", "--case", "X"])
            .output()
            .unwrap(),
    );
    assert!(e.contains("no/such/photo.jpg"), "{e}");
    let e = stderr(capture(
        dir.path(),
        "photos/DSCN0010.jpg",
        &["--lat", "200", "--lon", "10"],
    ));
    assert!(e.contains("--lat"), "{e}");
    let e = stderr(capture(
        dir.path(),
        "photos/DSCN0010.jpg",
        &["--lat", "30.1e3", "--lon", "10"],
    ));
    assert!(e.contains("--lat") && e.contains("decimal"), "{e}");
    let e = stderr(capture(
        dir.path(),
        "photos/DSCN0010.jpg",
        &["--utc-offset", "8"],
    ));
    assert!(e.contains("--utc-offset"), "{e}");
    let mut c = tiezheng();
    c.args(["capture", "x.jpg", "--case", "X", "--dir"])
        .arg(dir.path())
        .env_remove("TIEZHENG_PIN")
        .stdin(Stdio::null());
    let e = stderr(c.output().unwrap());
    assert!(e.contains("TIEZHENG_PIN"), "{e}");
    assert!(check_chain(dir.path()).is_empty());
}

/// SIGKILL at random instants during capture, repeatedly: afterwards every queued proof is
/// whole and valid, the chain has no gap or repeat, and interrupted recordings are recovered.
#[test]
fn killed_at_any_instant_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path());
    let video = corpus_path("video/street_8s_720p.mp4");
    let photo = corpus_path("photos/DSCN0010.jpg");
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    let mut completed = 0;
    for round in 0..30 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let file = if round % 3 == 0 { &photo } else { &video };
        let mut child = cmd(
            dir.path(),
            &[
                "capture",
                file.to_str().unwrap(),
                "--case",
                "K",
                "--segment-bytes",
                "65536",
            ],
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
        std::thread::sleep(Duration::from_micros(seed % 60_000));
        let _ = child.kill();
        if child.wait().unwrap().success() {
            completed += 1;
        }
    }
    let out = cmd(dir.path(), &["recover"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let proofs = check_chain(dir.path());
    assert!(
        proofs.len() >= completed,
        "{} proofs for {completed} completed captures",
        proofs.len()
    );
    let full = std::fs::read(&video).unwrap();
    for p in &proofs {
        let item = &p.manifest.items[0];
        match &item.recording {
            Some(r) if r.interrupted => {
                let prefix = &full[..item.bytes as usize];
                assert_eq!(
                    item.hashes[0].value,
                    Hash32::sm3(prefix),
                    "recovered prefix hash"
                );
            }
            _ => {
                let want = if item.file_name.ends_with(".mp4") {
                    Hash32::sm3(&full)
                } else {
                    Hash32::sm3(&std::fs::read(&photo).unwrap())
                };
                assert_eq!(item.hashes[0].value, want);
            }
        }
    }
    assert!(
        std::fs::read_dir(dir.path().join("recordings")).map_or(0, |d| d.count()) == 0,
        "every recording finished or recovered"
    );
    eprintln!(
        "kill test: 30 rounds, {completed} completed, {} proofs queued",
        proofs.len()
    );
}
