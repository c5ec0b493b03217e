//! The notary driven over HTTP as devices, appraisers, courts and operators use it: a real
//! `tiezheng serve` process (SQLite by default; PostgreSQL when `TIEZHENG_TEST_DATABASE_URL`
//! is set, as `.ci/run` does), the real CLI for the device side, raw HTTP for hostile input.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, missing_docs)]

mod common;

use std::path::Path;

use common::{
    Notary, PIN, capture, cli, corpus_path, device, notary, on_postgres, tiezheng, wait_for_bundle,
};
use serde_json::{Value, json};
use tiezheng_notary::store::{CustodyEvent, verify_custody_chain};
use tiezheng_protocol::notary::SignedReceipt;
use tiezheng_protocol::{Hash32, Proof, Sm2PublicKey, canonical};
use tiezheng_sdk::client::NotaryBinding;
use tiezheng_sdk::device::{Device, UnlockedDevice};
use tiezheng_sdk::vault::PassphraseVault;

fn token(dir: &Path) -> String {
    NotaryBinding::load(dir).unwrap().api_token
}

fn unlocked(dir: &Path) -> UnlockedDevice {
    Device::open(dir)
        .unwrap()
        .unlock(&PassphraseVault::new(PIN))
        .unwrap()
}

fn notary_key(n: &Notary) -> Sm2PublicKey {
    let (_, v) = n.call("GET", "/v1/notary", None, b"");
    Sm2PublicKey::from_hex(v["public_key"].as_str().unwrap()).unwrap()
}

fn submit(n: &Notary, tok: &str, body: &[u8]) -> (u16, Value) {
    n.call("POST", "/v1/proofs", Some(tok), body)
}

fn receipt_of(v: &Value) -> SignedReceipt {
    serde_json::from_value(v["results"][0]["receipt"].clone()).unwrap()
}

#[test]
fn capture_sync_receipts_and_custody() {
    let root = tempfile::tempdir().unwrap();
    let n = notary(root.path(), &[]);
    let dev = device(root.path(), "dev", &n);
    let p1 = capture(&dev, "photos/DSCN0010.jpg");
    capture(&dev, "video/bodycam_5s.mov");
    capture(&dev, "photos/HMD_Nokia_8.3_5G.heif");
    let out = cli(&dev, &["sync"]);
    let last: Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().last().unwrap()).unwrap();
    assert_eq!(
        (last["acknowledged"].as_u64(), last["pending"].as_u64()),
        (Some(3), Some(0)),
        "{last}"
    );

    // Every stored receipt verifies with the notary's key and names its proof.
    let key = notary_key(&n);
    let acked = dev.join("queue/acked");
    let mut receipts = 0;
    for e in std::fs::read_dir(&acked).unwrap() {
        let p = e.unwrap().path();
        if p.to_string_lossy().ends_with(".receipt.json") {
            let r: SignedReceipt = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
            r.verify(&key).unwrap();
            let proof =
                std::fs::read(p.to_string_lossy().replace(".receipt.json", ".proof.json")).unwrap();
            assert_eq!(r.receipt.proof_sm3, Hash32::sm3(&proof));
            assert!(!r.receipt.chain_gap);
            receipts += 1;
        }
    }
    assert_eq!(receipts, 3);

    // Resubmitting is idempotent: the very same receipt.
    let tok = token(&dev);
    let (s1, v1) = submit(&n, &tok, &p1);
    let (s2, v2) = submit(&n, &tok, &p1);
    assert_eq!((s1, s2), (200, 200));
    assert_eq!(v1, v2);
    let stored: SignedReceipt = serde_json::from_slice(
        &std::fs::read(acked.join("00000000000000000001.receipt.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(receipt_of(&v1), stored);

    // A court reads the proof: custody shows receipt, storage and this reading, hash-chained.
    let (court, _) = n.token("court", &[]);
    let sm3 = Hash32::sm3(&p1).to_hex();
    let (s, v) = n.call("GET", &format!("/v1/proofs/{sm3}"), Some(&court), b"");
    assert_eq!(s, 200, "{v}");
    let events: Vec<CustodyEvent> = serde_json::from_value(v["custody"].clone()).unwrap();
    // (Anchoring runs in the background and may add an `anchored` event at any point.)
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e.event.as_str())
        .filter(|k| *k != "anchored")
        .collect();
    assert_eq!(kinds, ["received", "media_stored", "viewed"]);
    assert_eq!(v["media"][0]["stored"], true);
    Proof::verify_value(&v["proof"]).unwrap();
    // The original downloads byte for byte.
    let (s, bytes) = common::http(
        "GET",
        &format!("{}/v1/proofs/{sm3}/media/0", n.url),
        Some(&court),
        b"",
    );
    assert_eq!(s, 200);
    assert_eq!(
        bytes,
        std::fs::read(corpus_path("photos/DSCN0010.jpg")).unwrap()
    );
    let (_, v) = n.call("GET", &format!("/v1/proofs/{sm3}"), Some(&n.admin), b"");
    let events: Vec<CustodyEvent> = serde_json::from_value(v["custody"].clone()).unwrap();
    assert!(events.iter().any(|e| e.event == "exported"));
    // The custody log verifies as a chain (global, across all proofs).
    let db = n.data_dir.clone();
    drop(n);
    if !on_postgres() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let store = rt
            .block_on(tiezheng_notary::store::Store::connect(&format!(
                "sqlite://{}",
                db.join("notary.db").display()
            )))
            .unwrap();
        let log = rt.block_on(store.custody_log()).unwrap();
        assert!(log.len() >= 8);
        verify_custody_chain(&log).unwrap();
        let mut broken = log.clone();
        broken[2].detail.push('!');
        assert_eq!(verify_custody_chain(&broken), Err(broken[2].seq));
    }
}

#[test]
fn hostile_proofs_get_clear_errors_and_nothing_is_stored() {
    let root = tempfile::tempdir().unwrap();
    let n = notary(root.path(), &[("TIEZHENG_NOTARY_MAX_BODY_BYTES", "200000")]);
    let dev = device(root.path(), "dev", &n);
    let tok = token(&dev);
    let good = capture(&dev, "photos/DSCN0012.jpg");
    let good_value: Value = serde_json::from_slice(&good).unwrap();
    let dev_key = unlocked(&dev);
    let admin = tiezheng_protocol::profile::find("cn.admin-penalty.onsite.2021").unwrap();
    let admin_rules: Vec<&str> = admin
        .profile
        .requirements
        .iter()
        .map(|r| r.rule.as_str())
        .filter(|r| *r != "profile.receipt_delay")
        .collect();
    let resign = |f: &dyn Fn(&mut Value)| -> Vec<u8> {
        let mut v = good_value.clone();
        f(&mut v);
        let sig = dev_key.sign_document(&v["manifest"]).unwrap();
        canonical::canonicalize(&json!({"manifest": v["manifest"], "signature": sig})).unwrap()
    };
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (
            "malformed JSON",
            b"{\"manifest\": ".to_vec(),
            400,
            "malformed_json",
        ),
        (
            "duplicate member",
            b"{\"a\":1,\"a\":2}".to_vec(),
            400,
            "duplicate_key",
        ),
        (
            "not canonical",
            serde_json::to_vec_pretty(&good_value).unwrap(),
            422,
            "not_canonical",
        ),
        (
            "float",
            br#"{"manifest":{"x":1.5}}"#.to_vec(),
            422,
            "float_not_allowed",
        ),
        (
            "wrong signature",
            {
                let mut v = good_value.clone();
                v["manifest"]["case"]["reference"] = json!("CASE-2");
                canonical::canonicalize(&v).unwrap()
            },
            422,
            "bad_signature",
        ),
        (
            "wrong sm2_id",
            {
                let mut v = good_value.clone();
                v["signature"]["sm2_id"] = json!("TLSv1.3+GM+Cipher+Suite");
                canonical::canonicalize(&v).unwrap()
            },
            422,
            "wrong_sm2_id",
        ),
        (
            "path-like file name",
            resign(&|v| v["manifest"]["items"][0]["file_name"] = json!("../../etc/passwd")),
            422,
            "bad_file_name",
        ),
        (
            "unknown field",
            resign(&|v| v["manifest"]["smuggled"] = json!("x")),
            422,
            "invalid_proof",
        ),
        (
            "missing SHA-256",
            resign(&|v| {
                v["manifest"]["items"][0]["hashes"]
                    .as_array_mut()
                    .unwrap()
                    .pop();
            }),
            422,
            "invalid_hashes",
        ),
        (
            "a forensic profile the notary does not know",
            resign(&|v| v["manifest"]["procedure"]["profile"]["id"] = json!("cn.nowhere")),
            422,
            "unknown_profile",
        ),
        (
            "a profile SM3 that is not the profile's",
            resign(&|v| {
                v["manifest"]["procedure"]["profile"]["sm3"] = json!(Hash32::sm3(b"lax"));
            }),
            422,
            "profile_mismatch",
        ),
        (
            "a two-officer profile with no outcome recorded",
            resign(&|v| v["manifest"]["procedure"]["profile"] = json!(admin.reference())),
            422,
            "profile_outcomes",
        ),
        (
            "every requirement of a two-officer profile recorded as met, none holding",
            resign(&|v| {
                v["manifest"]["procedure"] = json!({
                    "profile": admin.reference(),
                    "outcomes": admin_rules
                        .iter()
                        .map(|r| json!({"rule": r, "met": true}))
                        .collect::<Vec<_>>(),
                });
            }),
            422,
            "profile_requirement_not_met",
        ),
        ("oversized body", vec![b' '; 300_000], 413, "body_too_large"),
    ];
    for (what, body, status, code) in cases {
        let (s, v) = submit(&n, &tok, &body);
        assert_eq!(
            (s, v["code"].as_str().unwrap_or("")),
            (status, code),
            "{what}: {v}"
        );
        assert!(!v["message"].as_str().unwrap().is_empty(), "{what}");
        if code.starts_with("profile") || code == "unknown_profile" {
            assert!(
                v["field"]
                    .as_str()
                    .unwrap()
                    .starts_with("/manifest/procedure"),
                "{what}: {v}"
            );
        }
    }
    // An unenrolled device's proof.
    let stranger = root.path().join("stranger");
    cli(
        &stranger,
        &[
            "device",
            "init",
            "--officer",
            "1",
            "--danger-kdf-iterations",
            "100",
        ],
    );
    let foreign = capture(&stranger, "photos/DSCN0021.jpg");
    let (s, v) = submit(&n, &tok, &foreign);
    assert_eq!(
        (s, v["code"].as_str().unwrap()),
        (403, "unknown_device"),
        "{v}"
    );
    // Nothing above was stored: the good proof is still device_seq 1 and accepted now.
    let (s, v) = submit(&n, &tok, &good);
    assert_eq!(s, 200, "{v}");
    assert_eq!(receipt_of(&v).receipt.device_seq, 1);
    // A revoked device can submit nothing more.
    let key_id = unlocked(&dev).public_key().key_id().to_hex();
    let (s, _) = n.call(
        "POST",
        &format!("/v1/devices/{key_id}/revoke"),
        Some(&n.admin),
        b"{}",
    );
    assert_eq!(s, 200);
    let next = capture(&dev, "photos/DSCN0025.jpg");
    let (s, v) = submit(&n, &tok, &next);
    assert_eq!(
        (s, v["code"].as_str().unwrap()),
        (401, "device_revoked"),
        "{v}"
    );
}

#[test]
fn replays_are_refused_and_gaps_flagged() {
    let root = tempfile::tempdir().unwrap();
    let n = notary(root.path(), &[]);
    let dev = device(root.path(), "dev", &n);
    let tok = token(&dev);
    // A copy of the device directory captures a different photo with the same device_seq.
    let p1 = capture(&dev, "photos/DSCN0010.jpg");
    let twin = root.path().join("twin");
    copy_dir(&dev, &twin);
    let p2 = capture(&dev, "photos/DSCN0012.jpg");
    let p2_twin = capture(&twin, "photos/DSCN0021.jpg");
    let p3 = capture(&dev, "photos/DSCN0025.jpg");

    // device_seq 3 before 2: accepted, gap on record.
    assert_eq!(submit(&n, &tok, &p1).0, 200);
    let (s, v) = submit(&n, &tok, &p3);
    assert_eq!(s, 200, "{v}");
    assert!(receipt_of(&v).receipt.chain_gap);
    // A different proof claiming device_seq 2 whose manifest is not what 3 links to: refused.
    let (s, v) = submit(&n, &tok, &p2_twin);
    assert_eq!(
        (s, v["code"].as_str().unwrap()),
        (409, "chain_mismatch"),
        "{v}"
    );
    // The real 2 fills the gap.
    let (s, v) = submit(&n, &tok, &p2);
    assert_eq!(s, 200, "{v}");
    assert!(!receipt_of(&v).receipt.chain_gap);
    // Now the twin's 2 is a replay of a used sequence number.
    let (s, v) = submit(&n, &tok, &p2_twin);
    assert_eq!(
        (s, v["code"].as_str().unwrap()),
        (409, "replayed_sequence"),
        "{v}"
    );
    // Batches answer per proof.
    let batch = canonical::canonicalize(&json!({"proofs": [serde_json::from_slice::<Value>(&p1).unwrap(), serde_json::from_slice::<Value>(&p2_twin).unwrap()]})).unwrap();
    let (s, v) = submit(&n, &tok, &batch);
    assert_eq!(s, 200, "{v}");
    assert!(v["results"][0]["receipt"].is_object());
    assert_eq!(v["results"][1]["error"]["code"], "replayed_sequence");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

#[test]
fn media_uploads_are_resumable_verified_and_write_once() {
    let root = tempfile::tempdir().unwrap();
    let n = notary(root.path(), &[]);
    let dev = device(root.path(), "dev", &n);
    let tok = token(&dev);
    let proof = capture(&dev, "video/street_8s_720p.mp4");
    assert_eq!(submit(&n, &tok, &proof).0, 200);
    let file = std::fs::read(corpus_path("video/street_8s_720p.mp4")).unwrap();
    let sm3 = Hash32::sm3(&file).to_hex();
    let put = |offset: usize, bytes: &[u8]| {
        n.call(
            "PUT",
            &format!("/v1/media/{sm3}?offset={offset}"),
            Some(&tok),
            bytes,
        )
    };
    let status = || {
        n.call("GET", &format!("/v1/media/{sm3}/status"), Some(&tok), b"")
            .1
    };

    // Truncated upload: the first half arrives, the rest is missing: not stored, resumable.
    let half = file.len() / 2;
    let (s, v) = put(0, &file[..half]);
    assert_eq!((s, v["complete"].as_bool()), (202, Some(false)), "{v}");
    assert_eq!(status()["received"], half as u64);
    // Resuming beyond the acknowledged bytes is refused with the right offset.
    let (s, v) = put(half + 10, &file[half + 10..]);
    assert_eq!((s, v["code"].as_str().unwrap()), (409, "wrong_offset"));
    assert!(v["message"].as_str().unwrap().contains(&half.to_string()));
    // More bytes than the proof declares.
    let (s, v) = put(half, &[file[half..].to_vec(), vec![0; 10]].concat());
    assert_eq!((s, v["code"].as_str().unwrap()), (422, "media_too_large"));
    // Wrong bytes of the right length: refused, nothing kept, start again.
    let mut wrong = file[half..].to_vec();
    wrong[100] ^= 1;
    let (s, v) = put(half, &wrong);
    assert_eq!(
        (s, v["code"].as_str().unwrap()),
        (422, "media_hash_mismatch"),
        "{v}"
    );
    assert_eq!(status()["received"], 0);
    // The right bytes, in two requests: stored.
    assert_eq!(put(0, &file[..half]).0, 202);
    let (s, v) = put(half, &file[half..]);
    assert_eq!((s, v["complete"].as_bool()), (201, Some(true)), "{v}");
    let stored = n.data_dir.join("media").join(&sm3[..2]).join(&sm3);
    assert_eq!(std::fs::read(&stored).unwrap(), file);
    assert!(
        std::fs::metadata(&stored).unwrap().permissions().readonly(),
        "originals are write-once"
    );
    // Media no proof of this device names.
    let other = Hash32::sm3(b"other").to_hex();
    let (s, v) = n.call(
        "PUT",
        &format!("/v1/media/{other}?offset=0"),
        Some(&tok),
        b"x",
    );
    assert_eq!((s, v["code"].as_str().unwrap()), (404, "unknown_media"));
    let (s, v) = n.call("PUT", "/v1/media/..%2F..%2Fetc?offset=0", Some(&tok), b"x");
    assert_eq!(s, 400, "{v}");
}

#[test]
fn every_endpoint_checks_its_token() {
    let root = tempfile::tempdir().unwrap();
    let n = notary(root.path(), &[]);
    let dev = device(root.path(), "dev", &n);
    let device_tok = token(&dev);
    let proof = capture(&dev, "photos/DSCN0027.jpg");
    assert_eq!(submit(&n, &device_tok, &proof).0, 200);
    let sm3 = Hash32::sm3(&proof).to_hex();
    let media = Hash32::sm3(&std::fs::read(corpus_path("photos/DSCN0027.jpg")).unwrap()).to_hex();
    let (appraiser, appraiser_id) = n.token("appraiser", &["CASE-1"]);
    let (court, court_id) = n.token("court", &[]);
    let (admin2, admin2_id) = n.token("admin", &[]);
    let tokens = [
        ("device", device_tok.clone()),
        ("appraiser", appraiser.clone()),
        ("court", court.clone()),
        ("admin", admin2.clone()),
    ];
    // (method, path, body, roles allowed)
    let endpoints: Vec<(&str, String, &[u8], &[&str])> = vec![
        (
            "POST",
            "/v1/enrolment-codes".into(),
            br#"{"officer_id":"9"}"#,
            &["admin"],
        ),
        (
            "POST",
            "/v1/tokens".into(),
            br#"{"role":"court","subject":"x"}"#,
            &["admin"],
        ),
        (
            "DELETE",
            "/v1/tokens/0000000000000000".into(),
            b"",
            &["admin"],
        ),
        ("POST", "/v1/devices/00/revoke".into(), b"{}", &["admin"]),
        ("POST", "/v1/proofs".into(), b"{}", &["device"]),
        (
            "PUT",
            format!("/v1/media/{media}?offset=0"),
            b"",
            &["device"],
        ),
        (
            "GET",
            format!("/v1/media/{media}/status"),
            b"",
            &["device", "admin"],
        ),
        (
            "GET",
            format!("/v1/proofs/{sm3}"),
            b"",
            &["appraiser", "court", "admin"],
        ),
        (
            "GET",
            format!("/v1/proofs/{sm3}/media/0"),
            b"",
            &["appraiser", "court", "admin"],
        ),
        (
            "GET",
            format!("/v1/proofs/{sm3}/bundle"),
            b"",
            &["appraiser", "court", "admin"],
        ),
    ];
    for (method, path, body, allowed) in &endpoints {
        let (s, v) = n.call(method, path, None, body);
        assert_eq!(
            (s, v["code"].as_str().unwrap_or("")),
            (401, "unauthorized"),
            "{method} {path} without token"
        );
        let (s, _) = n.call(method, path, Some("tzx_not-a-token"), body);
        assert_eq!(s, 401, "{method} {path} with an unknown token");
        for (role, tok) in &tokens {
            let (s, v) = n.call(method, path, Some(tok), body);
            if allowed.contains(role) {
                assert!(s != 401 && s != 403, "{method} {path} as {role}: {s} {v}");
            } else {
                assert_eq!(
                    (s, v["code"].as_str().unwrap_or("")),
                    (403, "forbidden"),
                    "{method} {path} as {role}"
                );
            }
        }
    }
    // An appraiser without a grant for the case is refused.
    let (other_appraiser, _) = n.token("appraiser", &["CASE-9"]);
    let (s, v) = n.call(
        "GET",
        &format!("/v1/proofs/{sm3}"),
        Some(&other_appraiser),
        b"",
    );
    assert_eq!((s, v["code"].as_str().unwrap()), (403, "not_granted"));
    // Revoked tokens are refused everywhere.
    for id in [&appraiser_id, &court_id, &admin2_id] {
        assert_eq!(
            n.call("DELETE", &format!("/v1/tokens/{id}"), Some(&n.admin), b"")
                .0,
            200
        );
    }
    let key_id = unlocked(&dev).public_key().key_id().to_hex();
    assert_eq!(
        n.call(
            "POST",
            &format!("/v1/devices/{key_id}/revoke"),
            Some(&n.admin),
            b"{}"
        )
        .0,
        200
    );
    for (method, path, body, allowed) in &endpoints {
        for (role, tok) in &tokens {
            if allowed.contains(role) {
                let (s, v) = n.call(method, path, Some(tok), body);
                let code = if *role == "device" {
                    "device_revoked"
                } else {
                    "token_revoked"
                };
                assert_eq!(
                    (s, v["code"].as_str().unwrap_or("")),
                    (401, code),
                    "{method} {path} with revoked {role} token"
                );
            }
        }
    }
    // Public endpoints answer without a token; unknown paths answer in the error shape.
    for p in ["/healthz", "/readyz", "/openapi.json", "/v1/notary"] {
        assert_eq!(n.call("GET", p, None, b"").0, 200, "{p}");
    }
    // Metrics need a token (a monitoring system gets a `metrics` token, which reads nothing
    // else), or a separate listener.
    assert_eq!(n.call("GET", "/metrics", None, b"").0, 401);
    let (reader, _) = n.token("court", &[]);
    assert_eq!(n.call("GET", "/metrics", Some(&reader), b"").0, 403);
    let (monitor, _) = n.token("metrics", &[]);
    assert_eq!(n.call("GET", "/metrics", Some(&monitor), b"").0, 200);
    assert_eq!(
        n.call("GET", "/v1/tokens", Some(&monitor), b"").0,
        403,
        "a metrics token reads nothing else"
    );
    assert_eq!(n.call("GET", "/metrics", Some(&n.admin), b"").0, 200);
    let (s, v) = n.call("GET", "/v1/nothing", None, b"");
    assert_eq!((s, v["code"].as_str().unwrap()), (404, "not_found"));
}

/// A receipt is a promise: under a load of concurrent submissions the notary is killed with
/// SIGKILL; after a restart every proof that was receipted is there, with the same receipt.
#[test]
fn receipted_proofs_survive_sigkill() {
    let root = tempfile::tempdir().unwrap();
    let mut n = notary(root.path(), &[]);
    let photos = [
        "photos/DSCN0010.jpg",
        "photos/DSCN0012.jpg",
        "photos/DSCN0021.jpg",
        "photos/DSCN0025.jpg",
        "photos/DSCN0027.jpg",
        "photos/Canon_40D.jpg",
    ];
    let mut devices = Vec::new();
    for d in 0..4 {
        let dir = device(root.path(), &format!("dev{d}"), &n);
        let mut proofs = Vec::new();
        for round in 0..3 {
            for p in &photos[..4 + (d + round) % 3] {
                proofs.push(capture(&dir, p));
            }
        }
        devices.push((token(&dir), proofs));
    }
    let url = n.url.clone();
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let handles: Vec<_> = devices
        .into_iter()
        .map(|(tok, proofs)| {
            let url = url.clone();
            let count = count.clone();
            std::thread::spawn(move || {
                let mut receipted = Vec::new();
                for p in proofs {
                    let result = std::panic::catch_unwind(|| {
                        common::http("POST", &format!("{url}/v1/proofs"), Some(&tok), &p)
                    });
                    match result {
                        Ok((200, body)) => {
                            receipted.push((
                                p,
                                common::json_body(&body)["results"][0]["receipt"].clone(),
                            ));
                            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        }
                        _ => break,
                    }
                }
                receipted
            })
        })
        .collect();
    // Kill in the middle of the load: once some receipts are out (bounded wait, whatever the
    // machine's speed), while the other submissions are still in flight.
    let started = std::time::Instant::now();
    while count.load(std::sync::atomic::Ordering::SeqCst) < 8
        && started.elapsed() < std::time::Duration::from_secs(20)
    {
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    n.kill();
    let receipted: Vec<(Vec<u8>, Value)> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    assert!(
        !receipted.is_empty(),
        "no receipt before the kill: the load started too late"
    );

    let n2 = n.restart();
    for (proof, receipt) in &receipted {
        let sm3 = Hash32::sm3(proof).to_hex();
        let (s, v) = n2.call("GET", &format!("/v1/proofs/{sm3}"), Some(&n2.admin), b"");
        assert_eq!(s, 200, "receipted proof {sm3} lost after SIGKILL");
        assert_eq!(&v["receipt"], receipt);
    }
    eprintln!(
        "SIGKILL test: {} receipted proofs all present after restart",
        receipted.len()
    );
}

/// The network drops mid-sync (the notary dies under it): running sync again completes the
/// work with nothing lost, nothing duplicated, and every receipt valid.
#[test]
fn sync_survives_the_notary_dying_mid_request() {
    let root = tempfile::tempdir().unwrap();
    let mut n = notary(root.path(), &[]);
    let dev = device(root.path(), "dev", &n);
    let files = [
        "video/street_8s_720p.mp4",
        "photos/HMD_Nokia_8.3_5G.heif",
        "photos/HMD_Nokia_8.3_5G.jpg",
        "video/street_interrupted.mp4",
        "photos/DSCN0010.jpg",
        "video/bodycam_5s.mov",
    ];
    for f in files {
        capture(&dev, f);
    }
    let mut sync = tiezheng();
    sync.args(["sync", "--dir"])
        .arg(&dev)
        .env("TIEZHENG_PIN", PIN)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut child = sync.spawn().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(40));
    n.kill();
    let _ = child.wait();

    let n2 = n.restart();
    let out = cli(&dev, &["sync", "--notary", &n2.url]);
    let last: Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().last().unwrap()).unwrap();
    assert_eq!(last["pending"], 0, "{last}");
    let key = notary_key(&n2);
    for seq in 1..=files.len() {
        let r: SignedReceipt = serde_json::from_slice(
            &std::fs::read(dev.join(format!("queue/acked/{seq:020}.receipt.json"))).unwrap(),
        )
        .unwrap();
        r.verify(&key).unwrap();
        let (s, v) = n2.call(
            "GET",
            &format!("/v1/proofs/{}", r.receipt.proof_sm3),
            Some(&n2.admin),
            b"",
        );
        assert_eq!(s, 200);
        assert_eq!(v["media"][0]["stored"], true, "media of #{seq} complete");
        let received = v["custody"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["event"] == "received")
            .count();
        assert_eq!(received, 1, "#{seq} stored exactly once");
    }
}

/// Receipted proofs are batched, anchored on the embedded ledger and exported as offline
/// bundles that verify with no network; tampering with any layer is caught and named.
#[test]
fn anchored_bundles_verify_offline_and_tampering_is_named() {
    use common::verify_bundle;
    use tiezheng_protocol::bundle::{Bundle, Policy};
    let root = tempfile::tempdir().unwrap();
    let n = notary(root.path(), &[("TIEZHENG_NOTARY_BATCH_MAX_MS", "100")]);
    let dev = device(root.path(), "dev", &n);
    let photo = capture(&dev, "photos/DSCN0021.jpg");
    capture(&dev, "video/bodycam_5s.mov");
    cli(&dev, &["sync"]);
    let (court, _) = n.token("court", &[]);
    let sm3 = Hash32::sm3(&photo).to_hex();
    let bundle_value = wait_for_bundle(&n, &court, &sm3);
    let (_, policy_value) = n.call("GET", "/v1/ledger/policy", None, b"");
    let policy: Policy = serde_json::from_value(policy_value.clone()).unwrap();

    // The CLI verifies it offline, with the court's pinned policy and the evidence file.
    let bundle_file = root.path().join("evidence.bundle.json");
    let policy_file = root.path().join("policy.json");
    std::fs::write(
        &bundle_file,
        canonical::canonicalize(&bundle_value).unwrap(),
    )
    .unwrap();
    std::fs::write(&policy_file, policy_value.to_string()).unwrap();
    let media = corpus_path("photos/DSCN0021.jpg");
    let out = tiezheng()
        .arg("verify")
        .arg("--json")
        .arg(&bundle_file)
        .arg("--media")
        .arg(&media)
        .arg("--policy")
        .arg(&policy_file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (report["valid"].as_bool(), report["media_checked"].as_bool()),
        (Some(true), Some(true)),
        "{report}"
    );
    assert_eq!(report["cosigners"], json!(["notary-office"]));
    // The wrong file is refused at the media layer, by the CLI too.
    let other = corpus_path("photos/DSCN0025.jpg");
    let out = tiezheng()
        .arg("verify")
        .arg("--json")
        .arg(&bundle_file)
        .arg("--media")
        .arg(&other)
        .arg("--policy")
        .arg(&policy_file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert_eq!(
        serde_json::from_slice::<Value>(&out.stdout).unwrap()["layer"],
        "media"
    );

    // Tampering with each layer is caught, and the error names the layer.
    let bundle: Bundle = serde_json::from_value(bundle_value.clone()).unwrap();
    verify_bundle(&bundle, None, &policy).unwrap();
    let tampered = |f: &dyn Fn(&mut Value)| -> String {
        let mut v = bundle_value.clone();
        f(&mut v);
        let b: Bundle = serde_json::from_value(v).unwrap();
        verify_bundle(&b, None, &policy)
            .unwrap_err()
            .layer
            .to_owned()
    };
    assert_eq!(
        tampered(&|v| v["proof"]["manifest"]["case"]["reference"] = json!("CASE-X")),
        "proof"
    );
    assert_eq!(
        tampered(&|v| v["receipt"]["receipt"]["chain_gap"] = json!(true)),
        "receipt"
    );
    assert_eq!(
        tampered(&|v| v["batch"]["leaf"]["salt"] = json!("00".repeat(16))),
        "leaf"
    );
    assert_eq!(
        tampered(&|v| v["batch"]["inclusion"]["leaf_index"] = json!(1)),
        "leaf"
    );
    assert_eq!(
        tampered(
            &|v| v["batch"]["header"]["header"]["window_end"] = json!("2030-01-01T00:00:00.000Z")
        ),
        "batch"
    );
    assert_eq!(
        tampered(&|v| v["anchor"]["record"]["height"] = json!(0)),
        "anchor"
    );
    assert_eq!(
        tampered(&|v| v["checkpoint"]["checkpoint"]["time"] = json!("2030-01-01T00:00:00.000Z")),
        "checkpoint"
    );
    let mut foreign = policy.clone();
    foreign.members[0].public_key = tiezheng_protocol::Sm2SigningKey::generate()
        .public_key()
        .to_hex();
    // The bundle's own copy of the policy may claim nothing the court's does not grant...
    assert_eq!(
        verify_bundle(&bundle, None, &foreign).unwrap_err().layer,
        "policy"
    );
    // ...and with a copy that agrees, a member key the court does not trust fails the quorum.
    let with_copy = |p: &Policy| Bundle {
        policy: p.clone(),
        ..bundle.clone()
    };
    assert_eq!(
        verify_bundle(&with_copy(&foreign), None, &foreign)
            .unwrap_err()
            .layer,
        "checkpoint"
    );
    let mut other_notary = policy.clone();
    other_notary.notary_keys = vec![
        tiezheng_protocol::Sm2SigningKey::generate()
            .public_key()
            .to_hex(),
    ];
    assert_eq!(
        verify_bundle(&with_copy(&other_notary), None, &other_notary)
            .unwrap_err()
            .layer,
        "receipt"
    );

    // Custody records the anchoring and the export.
    let (_, v) = n.call("GET", &format!("/v1/proofs/{sm3}"), Some(&court), b"");
    let events: Vec<&str> = v["custody"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert!(
        events.contains(&"anchored") && events.contains(&"exported"),
        "{events:?}"
    );

    // Operators see the batches: latency recorded, nothing left unanchored.
    let mut metrics = String::new();
    for _ in 0..50 {
        metrics = String::from_utf8(
            common::http("GET", &format!("{}/metrics", n.url), Some(&n.admin), b"").1,
        )
        .unwrap();
        if metrics.contains("tiezheng_unanchored_proofs 0\n") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(
        metrics.contains("tiezheng_unanchored_proofs 0\n"),
        "{metrics}"
    );
    let batches: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("tiezheng_batch_latency_ms_count "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(batches >= 1, "{metrics}");
}
