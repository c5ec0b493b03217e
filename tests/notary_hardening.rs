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
use tiezheng_notary::store::{Store, verify_custody_chain};
use tiezheng_protocol::Proof;
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
