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

use common::{Notary, capture, database_url, device, media_of, notary, put_media};
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

    // Repeated reads in a minute are counted and chained when it is over: end it now.
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let store = Store::connect(&database_url(&n)).await.unwrap();
            let over = tiezheng_notary::api::now_ms() + 120_000;
            store.flush_custody_repeats(over).await.unwrap();
        });
    let log = custody_log(&n);
    verify_custody_chain(&log).unwrap();
    let seqs: Vec<i64> = log.iter().map(|e| e.seq).collect();
    let expected: Vec<i64> = (1..=i64::try_from(log.len()).unwrap()).collect();
    assert_eq!(seqs, expected, "custody sequence numbers have no gaps");
    // A read is an event, or counted in a summary event ("...: N more time(s) in the minute").
    let viewed: usize = log
        .iter()
        .filter(|e| e.proof_sm3 == read_sm3 && e.event == "viewed")
        .map(|e| {
            e.detail
                .split(": ")
                .nth(1)
                .and_then(|m| m.split(' ').next())
                .and_then(|k| k.parse().ok())
                .unwrap_or(1)
        })
        .sum();
    assert_eq!(
        viewed,
        READERS * READS,
        "every read is recorded in the custody log"
    );
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

/// Sends `head` (request line and headers, without the final blank line) and `body`, then
/// waits for the whole answer: `(status, headers in lower case, body)`.
fn raw(url: &str, head: &str, body: &[u8]) -> (u16, String, Vec<u8>) {
    use std::io::{Read as _, Write as _};
    let host = url.strip_prefix("http://").unwrap();
    let mut s = std::net::TcpStream::connect(host).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(60)))
        .unwrap();
    s.write_all(format!("{head}\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes())
        .unwrap();
    s.write_all(body).unwrap();
    let mut resp = Vec::new();
    let _ = s.read_to_end(&mut resp);
    let split = resp
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no answer: {}", String::from_utf8_lossy(&resp)));
    let head = String::from_utf8_lossy(&resp[..split]).to_ascii_lowercase();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, head, resp[split + 4..].to_vec())
}

fn assert_error(what: &str, (status, v): (u16, Value), want: (u16, &str, Option<&str>)) {
    assert_eq!(
        (
            status,
            v["code"].as_str().unwrap_or("<no code>"),
            v["field"].as_str()
        ),
        want,
        "{what}: {v}"
    );
    assert!(
        v["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{what}: {v}"
    );
    assert_eq!(
        v.as_object().map(|o| o.len()),
        Some(3),
        "{what}: exactly code, message, field: {v}"
    );
}

/// Errors from every layer (routing, path and query parameters, JSON shapes, body limits,
/// stalled bodies) are `{code, message, field}` with the right status; the token is checked
/// before anything else about the request.
#[test]
fn every_error_has_one_shape_and_the_token_comes_first() {
    let root = tempfile::tempdir().unwrap();
    let n = notary(root.path(), &[("TIEZHENG_NOTARY_BODY_TIMEOUT_MS", "1500")]);
    let dev = device(root.path(), "dev", &n);
    let tok = token(&dev);
    let proof = capture(&dev, "photos/DSCN0010.jpg");
    let (s, _) = n.call("POST", "/v1/proofs", Some(&tok), &proof);
    assert_eq!(s, 200);
    let sm3 = proof_sm3(&proof);
    let media_sm3 = Proof::verify_bytes(&proof).unwrap().proof.manifest.items[0].hashes[0]
        .value
        .to_hex();
    let (court, _) = n.token("court", &[]);
    let admin = n.admin.clone();

    // Routing.
    assert_error(
        "unknown path",
        n.call("GET", "/v2/nothing", None, b""),
        (404, "not_found", None),
    );
    let proof_path = format!("/v1/proofs/{sm3}");
    for (method, path) in [
        ("DELETE", "/v1/proofs"),
        ("GET", "/v1/enrol"),
        ("POST", proof_path.as_str()),
        ("PUT", "/healthz"),
    ] {
        assert_error(
            &format!("{method} {path}"),
            n.call(method, path, None, b""),
            (405, "method_not_allowed", None),
        );
    }
    let (s, head, _) = raw(
        &n.url,
        "DELETE /v1/proofs HTTP/1.1\r\nContent-Length: 0",
        b"",
    );
    assert_eq!(s, 405);
    assert!(head.contains("allow: post"), "{head}");

    // The token before anything else: bad parameters of an anonymous caller are never judged.
    for (method, path) in [
        ("PUT", format!("/v1/media/{media_sm3}?offset=-1")),
        ("PUT", "/v1/media/nothex?offset=x".to_owned()),
        ("GET", "/v1/proofs/NOTHEX".to_owned()),
        ("GET", format!("/v1/proofs/{sm3}/media/-1")),
        ("GET", "/v1/media/nothex/status".to_owned()),
        ("DELETE", "/v1/tokens/%FF%FE".to_owned()),
        ("POST", "/v1/tokens".to_owned()),
    ] {
        assert_error(
            &format!("anonymous {method} {path}"),
            n.call(method, &path, None, b"{\"x\":1.5"),
            (401, "unauthorized", Some("Authorization")),
        );
    }

    // Path and query parameters.
    for query in [
        "offset=-1",
        "offset=abc",
        "offset=99999999999999999999999",
        "",
        "offset=0&x=1",
    ] {
        assert_error(
            &format!("query {query:?}"),
            n.call(
                "PUT",
                &format!("/v1/media/{media_sm3}?{query}"),
                Some(&tok),
                b"x",
            ),
            (400, "bad_offset", Some("offset")),
        );
    }
    assert_error(
        "bad media id",
        n.call("PUT", "/v1/media/ABC?offset=0", Some(&tok), b"x"),
        (400, "bad_media_id", Some("sm3")),
    );
    assert_error(
        "bad proof id",
        n.call("GET", "/v1/proofs/..%2F..%2Fetc", Some(&court), b""),
        (400, "bad_proof_id", Some("proof_sm3")),
    );
    for item in ["-1", "x", "99999999999999999999999"] {
        assert_error(
            &format!("item {item}"),
            n.call(
                "GET",
                &format!("/v1/proofs/{sm3}/media/{item}"),
                Some(&court),
                b"",
            ),
            (400, "bad_item", Some("item")),
        );
    }

    // JSON bodies: the member at fault is named.
    let tokens = |body: Value| {
        n.call(
            "POST",
            "/v1/tokens",
            Some(&admin),
            body.to_string().as_bytes(),
        )
    };
    assert_error(
        "wrong type",
        tokens(json!({"role": "court", "subject": 7})),
        (422, "invalid_request", Some("/subject")),
    );
    assert_error(
        "unknown member",
        tokens(json!({"role": "court", "subject": "x", "smuggled": true})),
        (422, "invalid_request", Some("/smuggled")),
    );
    assert_error(
        "missing member",
        tokens(json!({"role": "court"})),
        (422, "invalid_request", Some("/subject")),
    );
    assert_error(
        "wrong element type",
        tokens(json!({"role": "appraiser", "subject": "x", "cases": ["a", 1]})),
        (422, "invalid_request", Some("/cases/1")),
    );
    assert_error(
        "officer type",
        n.call(
            "POST",
            "/v1/enrolment-codes",
            Some(&admin),
            br#"{"officer_id":5}"#,
        ),
        (422, "invalid_request", Some("/officer_id")),
    );
    assert_error(
        "enrolment timestamp",
        n.call(
            "POST",
            "/v1/enrol",
            None,
            json!({"request": {"type": "tiezheng.enrolment-request.v1", "code": "AAAAA-BBBBB", "device_id": "d", "model": "m", "os": "o", "requested_at": "noon"}, "signature": {}}).to_string().as_bytes(),
        ),
        (422, "invalid_request", Some("/request/requested_at")),
    );
    assert_error(
        "oversized enrolment",
        n.call("POST", "/v1/enrol", None, &vec![b' '; 100_000]),
        (413, "body_too_large", None),
    );

    // A body that stops arriving is cut off, and answered in the same shape.
    let (s, _, body) = raw(
        &n.url,
        "POST /v1/enrol HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 1000",
        b"{\"request\":",
    );
    assert_error(
        "stalled enrolment",
        (s, serde_json::from_slice(&body).unwrap()),
        (408, "body_timeout", None),
    );
}

fn media_stored(n: &Notary, reader: &str, proof_sm3: &str) -> bool {
    let (s, v) = n.call("GET", &format!("/v1/proofs/{proof_sm3}"), Some(reader), b"");
    assert_eq!(s, 200, "{v}");
    v["media"][0]["stored"].as_bool().unwrap()
}

/// An enrolled device that declares someone else's file (its SM3) with a false SHA-256 and
/// size, before the genuine device does, can neither block nor alter the genuine upload; its
/// own declaration is never satisfied.
#[test]
fn media_squatting_cannot_block_or_alter_a_genuine_upload() {
    let root = tempfile::tempdir().unwrap();
    let n = notary(root.path(), &[]);
    let genuine = device(root.path(), "genuine", &n);
    let squatter = device(root.path(), "squatter", &n);
    let (gtok, stok) = (token(&genuine), token(&squatter));
    let file = std::fs::read(common::corpus_dir().join("photos/DSCN0021.jpg")).unwrap();
    let real = capture(&genuine, "photos/DSCN0021.jpg");
    let sm3 = media_of(&real);

    // The squatter's proof names the same SM3 with a false SHA-256 and size, and comes first.
    let own: Value = serde_json::from_slice(&capture(&squatter, "photos/DSCN0010.jpg")).unwrap();
    let key = unlocked(&squatter);
    let mut m = own["manifest"].clone();
    for h in m["items"][0]["hashes"].as_array_mut().unwrap() {
        if h["algorithm"] == "SM3" {
            h["value"] = json!(sm3);
        } else {
            h["value"] = json!("ab".repeat(32));
        }
    }
    m["items"][0]["bytes"] = json!(10);
    let sig = key.sign_document(&m).unwrap();
    let squat = canonical::canonicalize(&json!({"manifest": m, "signature": sig})).unwrap();
    let (s, v) = n.call("POST", "/v1/proofs", Some(&stok), &squat);
    assert_eq!(
        s, 200,
        "receipted: the notary cannot know the file yet: {v}"
    );
    let (s, v) = n.call("POST", "/v1/proofs", Some(&gtok), &real);
    assert_eq!(s, 200, "{v}");

    // The squatter uploads what it declared: 10 bytes, which cannot match; then starts again.
    let (s, v) = put_media(&n, &stok, &sm3, 0, &file[..10]);
    assert_eq!(
        (s, v["code"].as_str().unwrap_or("")),
        (422, "media_hash_mismatch"),
        "{v}"
    );
    let (s, _) = put_media(&n, &stok, &sm3, 0, b"junk");
    assert_eq!(s, 202);

    // The genuine device uploads in two chunks, unhindered, against its own declaration.
    let (s, v) = n.call("GET", &format!("/v1/media/{sm3}/status"), Some(&gtok), b"");
    assert_eq!(
        (s, v["bytes"].as_u64(), v["received"].as_u64()),
        (200, Some(file.len() as u64), Some(0)),
        "{v}"
    );
    let half = file.len() / 2;
    let (s, v) = put_media(&n, &gtok, &sm3, 0, &file[..half]);
    assert_eq!(s, 202, "{v}");
    let (s, v) = put_media(&n, &gtok, &sm3, half, &file[half..]);
    assert_eq!((s, v["complete"].as_bool()), (201, Some(true)), "{v}");
    let stored = n.data_dir.join("media").join(&sm3[..2]).join(&sm3);
    assert_eq!(std::fs::read(stored).unwrap(), file);

    // The file belongs to the proof that declares it truthfully.
    let (court, _) = n.token("court", &[]);
    assert!(media_stored(&n, &court, &proof_sm3(&real)));
    assert!(!media_stored(&n, &court, &proof_sm3(&squat)));
    let (s, _) = n.call(
        "GET",
        &format!("/v1/proofs/{}/media/0", proof_sm3(&squat)),
        Some(&court),
        b"",
    );
    assert_eq!(s, 404, "a false declaration never exports the file");
    let log = custody_log(&n);
    let stored_for: Vec<&str> = log
        .iter()
        .filter(|e| e.event == "media_stored")
        .map(|e| e.proof_sm3.as_str())
        .collect();
    assert_eq!(stored_for, vec![proof_sm3(&real).as_str()]);
    // The squatter is told its declaration can never be satisfied.
    let (s, v) = put_media(&n, &stok, &sm3, 0, b"junk");
    assert_eq!(
        (s, v["code"].as_str().unwrap_or("")),
        (422, "media_hash_mismatch"),
        "{v}"
    );
    let (_, v) = n.call("GET", &format!("/v1/media/{sm3}/status"), Some(&stok), b"");
    assert_eq!(v["complete"], false, "{v}");
}

/// A chunk that overlaps acknowledged bytes must carry the same bytes: an identical retry is
/// accepted, a different one is refused with 409, and acknowledged bytes never change, also
/// when two chunks race for the same offset.
#[test]
fn overlapping_chunks_never_change_acknowledged_bytes() {
    let root = tempfile::tempdir().unwrap();
    let n = notary(root.path(), &[]);
    let dev = device(root.path(), "dev", &n);
    let tok = token(&dev);
    let file = std::fs::read(common::corpus_dir().join("photos/DSCN0025.jpg")).unwrap();
    let proof = capture(&dev, "photos/DSCN0025.jpg");
    assert_eq!(n.call("POST", "/v1/proofs", Some(&tok), &proof).0, 200);
    let sm3 = media_of(&proof);
    let q = file.len() / 4;
    let received = || {
        n.call("GET", &format!("/v1/media/{sm3}/status"), Some(&tok), b"")
            .1["received"]
            .as_u64()
            .unwrap() as usize
    };

    assert_eq!(put_media(&n, &tok, &sm3, 0, &file[..q]).0, 202);
    // Different bytes over acknowledged ones: refused, nothing changes.
    let mut other = file[..q].to_vec();
    other[q / 2] ^= 0xff;
    let (s, v) = put_media(&n, &tok, &sm3, 0, &other);
    assert_eq!(
        (s, v["code"].as_str().unwrap_or(""), v["field"].as_str()),
        (409, "overlap_mismatch", Some("offset")),
        "{v}"
    );
    assert_eq!(received(), q);
    // The same bytes again (a retry whose answer was lost): accepted, nothing changes.
    assert_eq!(put_media(&n, &tok, &sm3, 0, &file[..q]).0, 202);
    assert_eq!(received(), q);
    // Overlapping identical bytes plus new ones: only the new ones are added.
    assert_eq!(put_media(&n, &tok, &sm3, q / 2, &file[q / 2..2 * q]).0, 202);
    assert_eq!(received(), 2 * q);

    // Two chunks race for the same offset: one wins, the other is refused.
    let mut junk = file[2 * q..3 * q].to_vec();
    junk[0] ^= 0xff;
    let results: Vec<(u16, Value)> = std::thread::scope(|s| {
        let a = s.spawn(|| put_media(&n, &tok, &sm3, 2 * q, &file[2 * q..3 * q]));
        let b = s.spawn(|| put_media(&n, &tok, &sm3, 2 * q, &junk));
        vec![a.join().unwrap(), b.join().unwrap()]
    });
    let mut statuses: Vec<u16> = results.iter().map(|r| r.0).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, vec![202, 409], "{results:?}");
    assert_eq!(received(), 3 * q);
    let genuine_won = results[0].0 == 202;
    // The loser's bytes were not taken: resending the winner's is accepted, the loser's not.
    let (winner, loser) = if genuine_won {
        (&file[2 * q..3 * q], &junk[..])
    } else {
        (&junk[..], &file[2 * q..3 * q])
    };
    assert_eq!(put_media(&n, &tok, &sm3, 2 * q, winner).0, 202);
    assert_eq!(put_media(&n, &tok, &sm3, 2 * q, loser).0, 409);
    // Finish: with the genuine bytes the file is stored; after junk it is refused and restarts.
    let (s, v) = put_media(&n, &tok, &sm3, 3 * q, &file[3 * q..]);
    if genuine_won {
        assert_eq!((s, v["complete"].as_bool()), (201, Some(true)), "{v}");
    } else {
        assert_eq!(
            (s, v["code"].as_str()),
            (422, Some("media_hash_mismatch")),
            "{v}"
        );
        assert_eq!(received(), 0);
        let (s, v) = put_media(&n, &tok, &sm3, 0, &file);
        assert_eq!((s, v["complete"].as_bool()), (201, Some(true)), "{v}");
    }
    let stored = n.data_dir.join("media").join(&sm3[..2]).join(&sm3);
    assert_eq!(std::fs::read(stored).unwrap(), file);
}

/// A request whose body stops arriving holds nothing others wait for: while it hangs, the
/// device's status request and its retry of the upload are answered at once; the stalled
/// request is cut off by the body timeout with a JSON error.
#[test]
fn a_stalled_upload_blocks_nobody() {
    use std::io::{Read as _, Write as _};
    let root = tempfile::tempdir().unwrap();
    let n = notary(root.path(), &[("TIEZHENG_NOTARY_BODY_TIMEOUT_MS", "20000")]);
    let dev = device(root.path(), "dev", &n);
    let tok = token(&dev);
    let file = std::fs::read(common::corpus_dir().join("photos/DSCN0027.jpg")).unwrap();
    let proof = capture(&dev, "photos/DSCN0027.jpg");
    assert_eq!(n.call("POST", "/v1/proofs", Some(&tok), &proof).0, 200);
    let sm3 = media_of(&proof);

    let host = n.url.strip_prefix("http://").unwrap();
    let mut stalled = std::net::TcpStream::connect(host).unwrap();
    stalled
        .write_all(
            format!(
                "PUT /v1/media/{sm3}?offset=0 HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {tok}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                file.len()
            )
            .as_bytes(),
        )
        .unwrap();
    stalled.write_all(&file[..1000]).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));

    // Answered while the stalled request still hangs (the client gives up after 5 s).
    let answered_within = |method: &str, path: &str, body: &[u8]| -> u16 {
        let mut s = std::net::TcpStream::connect(host).unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        s.write_all(
            format!(
                "{method} {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {tok}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )
            .as_bytes(),
        )
        .unwrap();
        s.write_all(body).unwrap();
        let mut resp = Vec::new();
        s.read_to_end(&mut resp)
            .unwrap_or_else(|e| panic!("{method} {path} hung behind the stalled upload: {e}"));
        String::from_utf8_lossy(&resp)
            .split_whitespace()
            .nth(1)
            .unwrap()
            .parse()
            .unwrap()
    };
    assert_eq!(
        answered_within("GET", &format!("/v1/media/{sm3}/status"), b""),
        200
    );
    assert_eq!(
        answered_within("PUT", &format!("/v1/media/{sm3}?offset=0"), &file),
        201,
        "the device's retry completes the upload"
    );
    stalled
        .set_read_timeout(Some(std::time::Duration::from_millis(200)))
        .unwrap();
    let mut first = [0u8; 1];
    assert!(
        stalled.read(&mut first).is_err(),
        "the stalled request is still waiting for its body"
    );
    drop(stalled);
    let stored = n.data_dir.join("media").join(&sm3[..2]).join(&sm3);
    assert_eq!(std::fs::read(stored).unwrap(), file);
}

/// Fairness (issue #15): one device's huge submission, or one whose body stalls, holds up no
/// other device. Ordering, not timing: a proof sent once the huge request's first proofs are
/// stored is receipted before the huge request is answered, the notary's receipts show the
/// huge request's proofs stored both before and after it, and the stalled request is still
/// waiting for its body throughout (then completes when the body arrives).
#[test]
fn a_huge_or_stalled_submission_delays_no_other_device() {
    use std::io::{Read as _, Write as _};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let root = tempfile::tempdir().unwrap();
    let n = notary(
        root.path(),
        &[
            ("TIEZHENG_NOTARY_DEVICE_PROOFS_PER_SECOND", "0"),
            ("TIEZHENG_NOTARY_MAX_BATCH", "1000"),
            ("TIEZHENG_NOTARY_BODY_TIMEOUT_MS", "30000"),
        ],
    );
    let big = common::fleet(&n, &root.path().join("big"), 0, 1000);
    let small = common::fleet(&n, &root.path().join("small"), 1, 1);
    let slow = common::fleet(&n, &root.path().join("slow"), 2, 1);
    let key_of = |proofs: &[Value]| {
        proofs[0]["manifest"]["device"]["key_id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let big_key = key_of(&big.proofs);

    // A device whose request body stops half-way.
    let host = n.url.strip_prefix("http://").unwrap().to_owned();
    let slow_body = canonical::canonicalize(&json!({ "proofs": slow.proofs })).unwrap();
    let mut stalled = std::net::TcpStream::connect(&host).unwrap();
    stalled
        .write_all(
            format!(
                "POST /v1/proofs HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                slow.token,
                slow_body.len()
            )
            .as_bytes(),
        )
        .unwrap();
    let half = slow_body.len() / 2;
    stalled.write_all(&slow_body[..half]).unwrap();

    // A device sending a thousand proofs in one request.
    let done = Arc::new(AtomicBool::new(false));
    let huge = {
        let (url, done) = (n.url.clone(), done.clone());
        let (token, proofs) = (big.token.clone(), big.proofs.clone());
        std::thread::spawn(move || {
            let answer = common::Conn::open(&url)
                .unwrap()
                .submit(&token, &proofs)
                .unwrap();
            done.store(true, Ordering::SeqCst);
            answer
        })
    };
    // Once its first proofs are stored (the notary's custody log says so) …
    let stored_before = loop {
        let stored = custody_log(&n)
            .iter()
            .filter(|e| e.event == "received" && e.actor == big_key)
            .count();
        if stored > 0 {
            break stored;
        }
        assert!(
            !done.load(Ordering::SeqCst),
            "the huge request was answered before any of it was seen stored"
        );
        std::thread::sleep(std::time::Duration::from_millis(2));
    };
    assert!(stored_before < 1000, "the huge request is still under way");
    // … another device's proof is receipted while the huge request is still being answered.
    let (status, answer) = common::Conn::open(&n.url)
        .unwrap()
        .submit(&small.token, &small.proofs)
        .unwrap();
    assert_eq!(status, 200, "{answer}");
    assert!(
        !done.load(Ordering::SeqCst),
        "the small proof's receipt waited for the huge request"
    );
    let small_at = answer["results"][0]["receipt"]["receipt"]["received_at"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, answer) = huge.join().unwrap();
    assert_eq!(status, 200);
    let big_times: Vec<&str> = answer["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["receipt"]["receipt"]["received_at"].as_str().unwrap())
        .collect();
    assert_eq!(
        big_times.len(),
        1000,
        "every proof of the huge request is receipted"
    );
    let parse = |t: &str| tiezheng_protocol::Timestamp::parse(t).unwrap().unix_ms();
    assert!(
        big_times.iter().any(|t| parse(t) > parse(&small_at)),
        "some of the huge request's proofs were stored after the small one"
    );

    // The stalled request is still waiting for its body; sent, it is receipted.
    stalled
        .set_read_timeout(Some(std::time::Duration::from_millis(200)))
        .unwrap();
    let mut first = [0u8; 1];
    assert!(
        stalled.read(&mut first).is_err(),
        "the stalled request is still waiting for its body"
    );
    stalled.write_all(&slow_body[half..]).unwrap();
    stalled
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let mut response = Vec::new();
    stalled.read_to_end(&mut response).unwrap();
    let response = String::from_utf8_lossy(&response);
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("\"receipt\""), "{response}");
}

/// Over a limit the notary answers 429 with `Retry-After` and does nothing else: wrong
/// enrolment codes per client address, requests per token, proofs per device.
#[test]
fn throttled_callers_get_429_with_retry_after() {
    let root = tempfile::tempdir().unwrap();
    let n = notary(
        root.path(),
        &[
            ("TIEZHENG_NOTARY_TOKEN_REQUESTS_PER_SECOND", "5"),
            ("TIEZHENG_NOTARY_DEVICE_PROOFS_PER_SECOND", "1"),
        ],
    );
    let dev = device(root.path(), "dev", &n);
    let tok = token(&dev);

    // Guessing enrolment codes: five refusals, then 429 for every attempt, right or wrong.
    let key = unlocked(&dev);
    let enrolment = |code: &str| -> Vec<u8> {
        let body = json!({"type": "tiezheng.enrolment-request.v1", "code": code, "device_id": "guess", "model": "m", "os": "o", "requested_at": "2026-12-01T08:00:00.000Z"});
        let sig = key.sign_document(&body).unwrap();
        canonical::canonicalize(&json!({"request": body, "signature": sig})).unwrap()
    };
    for i in 0..5 {
        let (s, v) = n.call(
            "POST",
            "/v1/enrol",
            None,
            &enrolment(&format!("WRONG-CODE-{i}")),
        );
        assert_eq!((s, v["code"].as_str()), (403, Some("invalid_code")), "{v}");
    }
    let good_code = n.code("310101");
    for code in ["WRONG-CODE-9", good_code.as_str()] {
        let body = enrolment(code);
        let (s, head, b) = raw(
            &n.url,
            &format!(
                "POST /v1/enrol HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: {}",
                body.len()
            ),
            &body,
        );
        assert_error(
            "throttled enrolment",
            (s, serde_json::from_slice(&b).unwrap()),
            (429, "rate_limited", None),
        );
        let wait: u64 = head
            .lines()
            .find_map(|l| l.strip_prefix("retry-after: "))
            .expect("Retry-After")
            .trim()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&wait), "{wait}");
    }

    // Requests per token: a burst of 20, then 429; another token is not affected.
    let (court, _) = n.token("court", &[]);
    let codes: Vec<u16> = (0..40)
        .map(|_| n.call("GET", "/v1/proofs/00", Some(&court), b"").0)
        .collect();
    assert!(
        codes.contains(&429),
        "a token over its rate is throttled: {codes:?}"
    );
    let (other, _) = n.token("court", &[]);
    let (s, v) = n.call("GET", "/v1/proofs/00", Some(&other), b"");
    assert_eq!((s, v["code"].as_str()), (400, Some("bad_proof_id")), "{v}");

    // Proofs per device: a burst of 10, then 429; the refused proof is not stored and is
    // accepted once the device has waited.
    let proofs: Vec<Value> = (0..11)
        .map(|_| serde_json::from_slice(&capture(&dev, "photos/DSCN0010.jpg")).unwrap())
        .collect();
    let batch = canonical::canonicalize(&json!({"proofs": &proofs[..10]})).unwrap();
    let (s, v) = n.call("POST", "/v1/proofs", Some(&tok), &batch);
    assert_eq!(s, 200, "{v}");
    let last = canonical::canonicalize(&proofs[10]).unwrap();
    let (s, v) = n.call("POST", "/v1/proofs", Some(&tok), &last);
    assert_error("device over its rate", (s, v), (429, "rate_limited", None));
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let (s, v) = n.call("POST", "/v1/proofs", Some(&tok), &last);
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["results"][0]["receipt"]["receipt"]["device_seq"], 11);
}

/// A private PostgreSQL cluster this test may stop and start (never the shared one).
struct PrivateCluster {
    bin: std::path::PathBuf,
    dir: std::path::PathBuf,
    port: u16,
    as_postgres: bool,
}

impl PrivateCluster {
    /// `None` when the PostgreSQL server binaries are not installed.
    fn start(root: &Path) -> Option<Self> {
        use std::os::unix::fs::PermissionsExt as _;
        let mut versions: Vec<std::path::PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .filter(|b| b.join("pg_ctl").is_file())
            .collect();
        versions.sort();
        let bin = versions.pop()?;
        let as_postgres = String::from_utf8_lossy(
            &std::process::Command::new("id")
                .arg("-u")
                .output()
                .unwrap()
                .stdout,
        )
        .trim()
            == "0";
        let dir = root.join("pg");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o755)).unwrap();
        if as_postgres {
            // PostgreSQL refuses to run as root: the cluster belongs to `postgres`.
            let ok = std::process::Command::new("chown")
                .args(["postgres:postgres"])
                .arg(&dir)
                .status()
                .unwrap()
                .success();
            assert!(ok, "chown postgres {}", dir.display());
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let c = Self {
            bin,
            dir,
            port,
            as_postgres,
        };
        let data = c.dir.join("data");
        c.run(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-A",
                "trust",
                "-U",
                "postgres",
            ],
        );
        c.ctl("start");
        Some(c)
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let exe = self.bin.join(tool);
        let mut cmd = if self.as_postgres {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            std::process::Command::new(exe)
        };
        let out = cmd.args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{tool} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn ctl(&self, action: &str) {
        let data = self.dir.join("data");
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.display()
        );
        let log = self.dir.join("log");
        let mut args = vec![
            "-D",
            data.to_str().unwrap(),
            "-l",
            log.to_str().unwrap(),
            "-w",
            "-m",
            "fast",
        ];
        if action == "start" {
            args.extend_from_slice(&["-o", &opts]);
        }
        args.push(action);
        self.run("pg_ctl", &args);
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        let exe = self.bin.join("pg_ctl");
        let args = [
            "-D",
            data.to_str().unwrap_or_default(),
            "-m",
            "immediate",
            "stop",
        ];
        let _ = if self.as_postgres {
            std::process::Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(exe)
                .args(args)
                .output()
        } else {
            std::process::Command::new(exe).args(args).output()
        };
    }
}

/// PostgreSQL stopped under load: intake answers 503 `database_unavailable` with
/// `Retry-After` (no 500, no hang), the device keeps its proofs queued, and once the database
/// is back every queued proof is receipted and the custody chain is intact.
#[test]
fn postgres_restarted_under_load_answers_503_then_resumes() {
    let root = tempfile::tempdir().unwrap();
    let Some(pg) = PrivateCluster::start(root.path()) else {
        assert!(
            !common::on_postgres(),
            "PostgreSQL's server binaries (initdb, pg_ctl) are needed: apt-get install postgresql"
        );
        eprintln!("skipped: no PostgreSQL server binaries (apt-get install postgresql)");
        return;
    };
    let url = pg.url();
    let n = Notary::start(
        &root.path().join("notary"),
        &[("TIEZHENG_NOTARY_DATABASE_URL", url.as_str())],
    );
    let dev = device(root.path(), "dev", &n);
    let tok = token(&dev);
    let files = [
        "photos/DSCN0010.jpg",
        "photos/DSCN0012.jpg",
        "photos/DSCN0021.jpg",
        "photos/DSCN0025.jpg",
        "photos/DSCN0027.jpg",
        "photos/Canon_40D.jpg",
    ];
    let proofs: Vec<Vec<u8>> = files.iter().map(|f| capture(&dev, f)).collect();
    for p in &proofs[..2] {
        assert_eq!(n.call("POST", "/v1/proofs", Some(&tok), p).0, 200);
    }
    let (court, _) = n.token("court", &[]);

    // Readers keep reading while the database goes away.
    let stop = std::sync::atomic::AtomicBool::new(false);
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let reader = s.spawn(|| {
            let mut seen = Vec::new();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let (st, _) = n.call(
                    "GET",
                    &format!("/v1/proofs/{}", proof_sm3(&proofs[0])),
                    Some(&court),
                    b"",
                );
                seen.push(st);
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            seen
        });
        std::thread::sleep(std::time::Duration::from_millis(200));
        pg.ctl("stop");
        let (s3, head, body) = raw(
            &n.url,
            &format!(
                "POST /v1/proofs HTTP/1.1\r\nAuthorization: Bearer {tok}\r\nContent-Type: application/json\r\nContent-Length: {}",
                proofs[2].len()
            ),
            &proofs[2],
        );
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_error(
            "intake while down",
            (s3, v.clone()),
            (503, "database_unavailable", None),
        );
        assert!(head.contains("retry-after: "), "{head}");
        let (s4, v4) = n.call("GET", "/readyz", None, b"");
        assert_eq!(s4, 503, "{v4}");
        pg.ctl("start");
        std::thread::sleep(std::time::Duration::from_millis(200));
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        reader.join().unwrap()
    });
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 503),
        "readers saw only 200 or 503: {statuses:?}"
    );

    // Back: the device's queue goes through, nothing was lost.
    let out = common::cli(&dev, &["sync"]);
    assert!(out.status.success());
    let (s, v) = n.call("GET", "/readyz", None, b"");
    assert_eq!(s, 200, "{v}");
    for p in &proofs {
        let (s, v) = n.call(
            "GET",
            &format!("/v1/proofs/{}", proof_sm3(p)),
            Some(&court),
            b"",
        );
        assert_eq!(
            s, 200,
            "every queued proof is stored after the restart: {v}"
        );
    }
    let log = custody_log(&n);
    verify_custody_chain(&log).unwrap();
    assert_eq!(
        log.iter().filter(|e| e.event == "received").count(),
        proofs.len()
    );
}

/// Runs SQL on a notary's database, as someone tampering with it would.
fn tamper(url: &str, statements: &[String]) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(url).await.unwrap();
        for s in statements {
            // Test-made statements: tampering is the point here.
            let done = sqlx::query(sqlx::AssertSqlSafe(s.clone()))
                .execute(&pool)
                .await
                .unwrap();
            assert_eq!(done.rows_affected(), 1, "{s}");
        }
        pool.close().await;
    });
}

/// `tiezheng audit` finds an intact notary intact, then names each kind of tampering: a
/// changed proof row, a flipped byte in a media file, a changed custody event, a changed
/// receipt, a changed batch leaf (and the anchored bundles that no longer verify).
#[test]
fn audit_names_each_kind_of_tampering() {
    let root = tempfile::tempdir().unwrap();
    let mut n = notary(root.path(), &[]);
    let dev = device(root.path(), "dev", &n);
    let p1 = capture(&dev, "photos/DSCN0010.jpg");
    let p2 = capture(&dev, "photos/DSCN0012.jpg");
    common::cli(&dev, &["sync"]);
    let (court, _) = n.token("court", &[]);
    let (s1, s2) = (proof_sm3(&p1), proof_sm3(&p2));
    common::wait_for_bundle(&n, &court, &s1);
    common::wait_for_bundle(&n, &court, &s2);
    let url = database_url(&n);
    let data_dir = n.data_dir.clone();
    let env = n.env.clone();
    n.kill();

    let audit = || -> (bool, Vec<Value>) {
        let out = common::tiezheng()
            .args(["audit", "--data-dir"])
            .arg(&data_dir)
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .output()
            .unwrap();
        let lines = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert!(
            out.stderr.is_empty() || out.status.code() == Some(1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), lines)
    };
    let (ok, lines) = audit();
    assert!(ok, "an untouched notary is intact: {lines:?}");
    let summary = lines.last().unwrap();
    assert_eq!(summary["audit"], "intact", "{summary}");
    assert_eq!(summary["proofs"], 2);
    assert_eq!(summary["media_files"], 2);
    assert_eq!(summary["bundles_verified"], 2);

    let media2 = media_of(&p2);
    let file = data_dir.join("media").join(&media2[..2]).join(&media2);
    let mut bytes = std::fs::read(&file).unwrap();
    bytes[1000] ^= 0x01;
    let mut perms = std::fs::metadata(&file).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&file, perms).unwrap();
    std::fs::write(&file, &bytes).unwrap();
    tamper(
        &url,
        &[
            format!("UPDATE proofs SET case_reference = 'CASE-9' WHERE proof_sm3 = '{s1}'"),
            "UPDATE custody_events SET detail = detail || '!' WHERE seq = 2".to_owned(),
            format!(
                "UPDATE proofs SET receipt_json = REPLACE(receipt_json, '\"chain_gap\":false', '\"chain_gap\":true') WHERE proof_sm3 = '{s2}'"
            ),
            format!(
                "UPDATE batch_leaves SET salt = '{}' WHERE proof_sm3 = '{s1}'",
                "0".repeat(32)
            ),
        ],
    );
    let (ok, lines) = audit();
    assert!(!ok, "tampering makes the audit fail");
    assert_eq!(lines.last().unwrap()["audit"], "altered");
    let named = |layer: &str, item: &str, words: &str| {
        assert!(
            lines.iter().any(|f| f["layer"] == layer
                && (item.is_empty() || f["item"] == item)
                && f["problem"].as_str().is_some_and(|p| p.contains(words))),
            "no {layer} finding for {item} mentioning {words:?}: {lines:#?}"
        );
    };
    named("proof", &s1, "case_reference");
    named("media", &media2, "bytes changed");
    named("custody", "2", "changed");
    named("receipt", &s2, "signature");
    named("batch", "", "leaf was altered");
    named("anchor", &s1, "bundle fails");
    // Nothing untouched is accused.
    assert!(
        !lines
            .iter()
            .any(|f| f["layer"] == "custody" && f["item"] != "2"),
        "{lines:#?}"
    );
    assert!(
        !lines
            .iter()
            .any(|f| f["layer"] == "proof" && f["item"] == s2.as_str()),
        "{lines:#?}"
    );
}

/// The photo whose certificate the public-check test looks up.
const PUBLIC_CHECK_PHOTO: &str = "photos/DSCN0010.jpg";

/// The public check (`GET /v1/public/certificates/{number}`, issue #24) under hostile use:
/// malformed numbers are refused before any lookup, a flood from one address is answered 429
/// with `Retry-After` after its burst (other addresses unaffected is the bucket's own unit
/// test), and a known and an unknown number take the same time to answer: both wait for the
/// answer floor, so their medians differ by far less than the floor itself.
#[test]
fn the_public_check_refuses_bad_numbers_floods_and_timing_probes() {
    let tmp = tempfile::tempdir().unwrap();
    let mut n = notary(
        &tmp.path().join("notary"),
        &[
            ("TIEZHENG_NOTARY_BATCH_MAX_MS", "100"),
            ("TIEZHENG_NOTARY_PUBLIC_CHECKS_PER_MINUTE", "600"),
        ],
    );
    let dev = device(tmp.path(), "dev", &n);
    let proof = capture(&dev, PUBLIC_CHECK_PHOTO);
    common::cli(&dev, &["sync"]);
    let (court, _) = n.token("court", &[]);
    let sm3 = proof_sm3(&proof);
    common::wait_for_bundle(&n, &court, &sm3);
    let (s, cert) = n.call(
        "GET",
        &format!("/v1/proofs/{sm3}/certificate"),
        Some(&court),
        b"",
    );
    assert_eq!(s, 200, "{cert}");
    let number = cert["certificate"]["number"].as_str().unwrap().to_owned();

    // The digest: signed, of this certificate, with nothing of the case in it.
    let (s, digest) = n.call(
        "GET",
        &format!("/v1/public/certificates/{number}"),
        None,
        b"",
    );
    assert_eq!(s, 200, "{digest}");
    assert_eq!(digest["digest"]["number"], json!(number));
    let text = digest.to_string();
    let file_name = Path::new(PUBLIC_CHECK_PHOTO)
        .file_name()
        .unwrap()
        .to_str()
        .unwrap();
    for secret in ["CASE-1", file_name] {
        assert!(
            !text.contains(secret),
            "the public digest carries {secret:?}"
        );
    }

    // Malformed numbers: 400 with the field named, nothing looked up.
    for bad in [
        "TZ-1",
        "tz-20261121-3f9ac2b177d0e41a",
        "TZ-20261121-3F9AC2B177D0E41A%27%20OR%201=1",
        "TZ-20261121-3F9AC2B177D0E41A.pdf",
        &"9".repeat(300),
    ] {
        let (s, v) = n.call("GET", &format!("/v1/public/certificates/{bad}"), None, b"");
        assert_eq!(
            (s, v["code"].as_str(), v["field"].as_str()),
            (400, Some("invalid_certificate_number"), Some("number")),
            "{bad}: {v}"
        );
    }
    let unknown = "TZ-20260101-0123456789ABCDEF";
    let (s, v) = n.call(
        "GET",
        &format!("/v1/public/certificates/{unknown}"),
        None,
        b"",
    );
    assert_eq!((s, v["code"].as_str()), (404, Some("not_deposited")), "{v}");

    // Timing: alternate known and unknown numbers; both answer no earlier than the floor and
    // their medians are within a few milliseconds of each other.
    let mut known_ms = Vec::new();
    let mut unknown_ms = Vec::new();
    for i in 0..20 {
        for (which, out) in [
            (&number, &mut known_ms),
            (&unknown.to_owned(), &mut unknown_ms),
        ] {
            let started = std::time::Instant::now();
            let (s, _) = n.call(
                "GET",
                &format!("/v1/public/certificates/{which}"),
                None,
                b"",
            );
            assert!(s == 200 || s == 404, "round {i}: {s}");
            out.push(started.elapsed().as_secs_f64() * 1000.0);
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (k, u) = (median(&mut known_ms), median(&mut unknown_ms));
    eprintln!("public check: median {k:.1} ms for a known number, {u:.1} ms for an unknown one");
    assert!(
        k >= 150.0 && u >= 150.0,
        "the floor holds: {k:.1} / {u:.1} ms"
    );
    assert!((k - u).abs() < 25.0, "known {k:.1} ms vs unknown {u:.1} ms");

    // A flood from one address: after its burst, 429 with Retry-After.
    n.kill();
    let n2 = n.restart_with(&[("TIEZHENG_NOTARY_PUBLIC_CHECKS_PER_MINUTE", "6")]);
    let statuses: Vec<u16> = (0..14)
        .map(|_| {
            n2.call(
                "GET",
                &format!("/v1/public/certificates/{unknown}"),
                None,
                b"",
            )
            .0
        })
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 404).count(),
        10,
        "{statuses:?}"
    );
    assert!(statuses[10..].iter().all(|s| *s == 429), "{statuses:?}");
    let (_, head, _) = raw(
        &n2.url,
        &format!("GET /v1/public/certificates/{unknown} HTTP/1.1"),
        b"",
    );
    assert!(head.to_ascii_lowercase().contains("retry-after:"), "{head}");
}

/// Custody anchored (issue #24): the bundle of a proof carries its custody events (receipt,
/// anchoring, a court's view) up to a commitment the ledger anchored, and they verify under
/// every `custody.*` rule, as does the certificate's summary; the audit finds the notary
/// intact, then names a custody log rewritten by someone with database access (an event
/// re-dated, its hash and every later link recomputed, so the hash chain alone still holds)
/// because it no longer gives the root a batch committed.
#[test]
fn custody_is_anchored_and_a_rewritten_log_no_longer_matches_it() {
    use tiezheng_protocol::verify::Status;
    let root = tempfile::tempdir().unwrap();
    let mut n = notary(
        root.path(),
        &[
            ("TIEZHENG_NOTARY_BATCH_MAX_MS", "100"),
            ("TIEZHENG_NOTARY_CUSTODY_ANCHOR_MS", "300"),
        ],
    );
    let dev = device(root.path(), "dev", &n);
    let p1 = capture(&dev, "photos/DSCN0010.jpg");
    common::cli(&dev, &["sync"]);
    let (court, _) = n.token("court", &[]);
    let s1 = proof_sm3(&p1);
    common::wait_for_bundle(&n, &court, &s1);
    let (s, _) = n.call("GET", &format!("/v1/proofs/{s1}"), Some(&court), b"");
    assert_eq!(s, 200);
    let (_, policy) = n.call("GET", "/v1/ledger/policy", None, b"");
    let policy: tiezheng_protocol::bundle::Policy = serde_json::from_value(policy).unwrap();

    // The view is committed by a batch of no proof within a second or so.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let bundle = loop {
        let b = common::wait_for_bundle(&n, &court, &s1);
        let kinds: Vec<String> = b["custody"]["events"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| e["event"].as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default();
        if kinds.iter().any(|k| k == "viewed") && kinds.iter().any(|k| k == "anchored") {
            break b;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "custody never anchored: {kinds:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    assert_eq!(bundle["custody"]["events"][0]["event"], "received");
    let bundle: tiezheng_protocol::bundle::Bundle = serde_json::from_value(bundle).unwrap();
    let v = tiezheng_protocol::verify::verify_bundle(&bundle, None, &policy).unwrap();
    for rule in [
        "custody.events",
        "custody.chain",
        "custody.inclusion",
        "custody.anchor",
    ] {
        assert_eq!(v.status(rule), Some(Status::Pass), "{rule}: {:?}", v.checks);
    }
    assert!(v.valid);
    let (s, cert) = common::http(
        "GET",
        &format!("{}/v1/proofs/{s1}/certificate", n.url),
        Some(&court),
        b"",
    );
    assert_eq!(s, 200);
    let cv = tiezheng_protocol::verify::verify_document(&cert, None, Some(&policy)).unwrap();
    assert!(cv.valid, "{:?}", cv.first_failure());
    for rule in ["certificate.custody", "custody.chain", "custody.anchor"] {
        assert_eq!(cv.status(rule), Some(Status::Pass), "{rule}");
    }

    let url = database_url(&n);
    let (data_dir, env) = (n.data_dir.clone(), n.env.clone());
    n.kill();
    let audit = || {
        let out = common::tiezheng()
            .args(["audit", "--data-dir"])
            .arg(&data_dir)
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .output()
            .unwrap();
        let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        (out.status.success(), lines)
    };
    let (ok, lines) = audit();
    assert!(ok, "{lines:#?}");

    // The operator re-dates the receipt event and re-makes every hash after it: the chain
    // holds, the committed root does not.
    let mut log = custody_log(&n);
    let mut statements = Vec::new();
    log[0].at -= 3_600_000;
    for i in 0..log.len() {
        if i > 0 {
            log[i].prev_hash = log[i - 1].hash.clone();
            let proof = log[i].proof_sm3.clone();
            if let Some(before) = log[..i].iter().rev().find(|e| e.proof_sm3 == proof) {
                log[i].item_prev = Some(before.hash.clone());
            }
        }
        log[i].hash = log[i].compute_hash();
        let e = &log[i];
        statements.push(format!(
            "UPDATE custody_events SET at = {}, prev_hash = '{}', item_prev = {}, hash = '{}' WHERE seq = {}",
            e.at,
            e.prev_hash,
            e.item_prev.as_ref().map_or("NULL".to_owned(), |h| format!("'{h}'")),
            e.hash,
            e.seq
        ));
    }
    tamper(&url, &statements);
    let (ok, lines) = audit();
    assert!(!ok, "a rewritten custody log is found");
    assert!(
        lines.iter().any(|f| f["layer"] == "custody"
            && f["problem"]
                .as_str()
                .is_some_and(|p| p.contains("no longer give the root"))),
        "{lines:#?}"
    );
    assert!(
        !lines.iter().any(|f| f["layer"] == "custody"
            && f["problem"].as_str().is_some_and(|p| p.contains("link"))),
        "the hash chain itself was re-made consistently: {lines:#?}"
    );
}
