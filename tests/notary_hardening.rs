//! The notary under concurrent use and hostile clients (issue #14), against the real
//! `tiezheng serve` process, on SQLite and, when `TIEZHENG_TEST_DATABASE_URL` is set, on
//! PostgreSQL: readers never fail because of each other or of intake, and the custody chain
//! stays exact.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, missing_docs)]

mod common;

use std::path::Path;

use common::{Notary, capture, database_url, device, notary};
use serde_json::{Value, json};
use tiezheng_notary::store::{Store, verify_custody_chain};
use tiezheng_protocol::{Proof, canonical};
use tiezheng_sdk::client::NotaryBinding;

fn token(dir: &Path) -> String {
    NotaryBinding::load(dir).unwrap().api_token
}

fn proof_sm3(proof: &[u8]) -> String {
    Proof::verify_bytes(proof).unwrap().proof_sm3.to_hex()
}

/// The notary's custody log, read from its database as an auditor would.
fn custody_log(n: &Notary) -> Vec<tiezheng_notary::store::CustodyEvent> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = Store::connect(&database_url(n)).await.unwrap();
        store.custody_log().await.unwrap()
    })
}

/// Twenty appraisers and courts read the same proof at once while a device submits proofs:
/// every read answers 200, every read and every receipt is one custody event, and the hash
/// chain over all of them is intact.
#[test]
fn concurrent_readers_with_intake_never_fail_and_custody_stays_exact() {
    const READERS: usize = 20;
    const READS: usize = 10;
    let root = tempfile::tempdir().unwrap();
    let n = notary(root.path(), &[]);
    let dev = device(root.path(), "dev", &n);
    let tok = token(&dev);
    let first = capture(&dev, "photos/DSCN0010.jpg");
    let (s, v) = n.call("POST", "/v1/proofs", Some(&tok), &first);
    assert_eq!(s, 200, "{v}");
    let read_sm3 = proof_sm3(&first);
    let later: Vec<Vec<u8>> = [
        "photos/DSCN0012.jpg",
        "photos/DSCN0021.jpg",
        "photos/DSCN0025.jpg",
        "photos/DSCN0027.jpg",
        "photos/Canon_40D.jpg",
    ]
    .iter()
    .map(|f| capture(&dev, f))
    .collect();
    let (court, _) = n.token("court", &[]);
    let (appraiser, _) = n.token("appraiser", &["CASE-1"]);

    let failures: Vec<String> = std::thread::scope(|scope| {
        let submitter = scope.spawn(|| {
            let mut bad = Vec::new();
            for p in &later {
                let (s, v) = n.call("POST", "/v1/proofs", Some(&tok), p);
                if s != 200 || v["results"][0]["receipt"].is_null() {
                    bad.push(format!("intake {s}: {v}"));
                }
            }
            bad
        });
        let readers: Vec<_> = (0..READERS)
            .map(|i| {
                let who = if i % 2 == 0 { &court } else { &appraiser };
                let (n, read_sm3) = (&n, &read_sm3);
                scope.spawn(move || {
                    let mut bad = Vec::new();
                    for _ in 0..READS {
                        let (s, v) =
                            n.call("GET", &format!("/v1/proofs/{read_sm3}"), Some(who), b"");
                        if s != 200 {
                            bad.push(format!("read {s}: {v}"));
                        }
                    }
                    bad
                })
            })
            .collect();
        let mut all = submitter.join().unwrap();
        for r in readers {
            all.extend(r.join().unwrap());
        }
        all
    });
    assert!(
        failures.is_empty(),
        "{} requests failed, e.g. {:?}",
        failures.len(),
        failures.iter().take(3).collect::<Vec<_>>()
    );

    let log = custody_log(&n);
    verify_custody_chain(&log).unwrap();
    let seqs: Vec<i64> = log.iter().map(|e| e.seq).collect();
    let expected: Vec<i64> = (1..=i64::try_from(log.len()).unwrap()).collect();
    assert_eq!(seqs, expected, "custody sequence numbers have no gaps");
    let viewed = log
        .iter()
        .filter(|e| e.proof_sm3 == read_sm3 && e.event == "viewed")
        .count();
    assert_eq!(viewed, READERS * READS, "every read is one custody event");
    let received = log.iter().filter(|e| e.event == "received").count();
    assert_eq!(
        received,
        1 + later.len(),
        "every receipt is one custody event"
    );
}

fn unlocked(dir: &Path) -> tiezheng_sdk::device::UnlockedDevice {
    tiezheng_sdk::device::Device::open(dir)
        .unwrap()
        .unlock(&tiezheng_sdk::vault::PassphraseVault::new(common::PIN))
        .unwrap()
}

/// Proofs signed with the enrolled device's real key, each breaking one rule of the proof
/// schema, are refused with 422 and the value named; none gets a receipt.
#[test]
fn intake_enforces_every_schema_rule_with_the_field_named() {
    let root = tempfile::tempdir().unwrap();
    let n = notary(root.path(), &[]);
    let dev = device(root.path(), "dev", &n);
    let tok = token(&dev);
    let good: Value = serde_json::from_slice(&capture(&dev, "photos/DSCN0012.jpg")).unwrap();
    let key = unlocked(&dev);
    let resign = |pointer: &str, value: Value| -> Vec<u8> {
        let mut v = good.clone();
        *v.pointer_mut(pointer).unwrap() = value;
        let sig = key.sign_document(&v["manifest"]).unwrap();
        canonical::canonicalize(&json!({"manifest": v["manifest"], "signature": sig})).unwrap()
    };
    let cases = [
        ("/manifest/device_seq", json!(0), "invalid_value"),
        ("/manifest/case/reference", json!(""), "invalid_value"),
        (
            "/manifest/case/reference",
            json!("x".repeat(1000)),
            "invalid_value",
        ),
        ("/manifest/manifest_id", json!("../../x"), "invalid_value"),
        ("/manifest/case/collectors", json!([]), "invalid_value"),
        ("/manifest/items/0/file_name", json!(".."), "bad_file_name"),
        ("/manifest/items/0/hashes", json!([]), "invalid_hashes"),
        ("/manifest/device_seq", json!("1"), "invalid_proof"),
        ("/manifest/created_at", json!("2026-13-45"), "invalid_proof"),
        (
            "/manifest/previous_manifest_sm3",
            json!("XYZ"),
            "invalid_proof",
        ),
    ];
    for (pointer, value, code) in cases {
        let (s, v) = n.call(
            "POST",
            "/v1/proofs",
            Some(&tok),
            &resign(pointer, value.clone()),
        );
        assert_eq!(
            (
                s,
                v["code"].as_str().unwrap_or(""),
                v["field"].as_str().unwrap_or("")
            ),
            (422, code, pointer),
            "{pointer} = {value}: {v}"
        );
    }
    // A location in another coordinate system (the capture has none: add one).
    let mut located = good.clone();
    located["manifest"]["items"][0]["location"] =
        json!({"coordinate_system": "GCJ-02", "os_fix": null});
    let sig = key.sign_document(&located["manifest"]).unwrap();
    let body = canonical::canonicalize(&json!({"manifest": located["manifest"], "signature": sig}))
        .unwrap();
    let (s, v) = n.call("POST", "/v1/proofs", Some(&tok), &body);
    assert_eq!(
        (s, v["field"].as_str().unwrap_or("")),
        (422, "/manifest/items/0/location/coordinate_system"),
        "{v}"
    );
    // Nothing was stored: the genuine proof is accepted as device_seq 1.
    let (s, v) = n.call(
        "POST",
        "/v1/proofs",
        Some(&tok),
        &canonical::canonicalize(&good).unwrap(),
    );
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["results"][0]["receipt"]["receipt"]["device_seq"], 1);
}
