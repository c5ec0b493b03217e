//! Several notary instances behind one address, on one PostgreSQL, anchoring on the
//! consortium's four-validator CometBFT chain: any instance accepts any device, per-device order
//! is enforced by the database, exactly one instance at a time (the holder of the batching
//! lease) closes and anchors batches, and when it is killed with SIGKILL under load another
//! takes over.
//!
//! Checked after the load: every receipt returned was for a proof that is stored and ends up
//! anchored (bundles verify offline against the court's policy); every device's sequence
//! numbers are stored once each, in one unbroken chain; batch sequence numbers run 1..n with
//! no gap and none used twice, each batch anchored once; the custody log's hash chain is
//! intact; batches closed after the kill were anchored by the survivor.
//!
//! Needs PostgreSQL (`TIEZHENG_TEST_DATABASE_URL`) and the `cometbft` binary; `.ci/run`
//! provides both and sets `TIEZHENG_REQUIRE_COMETBFT=1`. Without them the test says so and
//! passes.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::testnet::{Testnet, cometbft_binary};
use common::verify_bundle;
use common::{Conn, Notary};
use serde_json::Value;
use tiezheng_protocol::bundle::Bundle;

const DEVICES: usize = 4;
const PROOFS: usize = 240;

fn psql(url: &str, sql: &str) -> String {
    let out = std::process::Command::new("psql")
        .args([url, "-tA", "-c", sql])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn two_instances_share_intake_and_batching_and_survive_a_sigkill() {
    if cometbft_binary().is_none() || !common::on_postgres() {
        assert!(
            std::env::var_os("TIEZHENG_REQUIRE_COMETBFT").is_none() || !common::on_postgres(),
            "TIEZHENG_REQUIRE_COMETBFT is set but no cometbft binary was found"
        );
        eprintln!("SKIPPED: needs PostgreSQL (TIEZHENG_TEST_DATABASE_URL) and cometbft");
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let tz = std::path::PathBuf::from(env!("CARGO_BIN_EXE_tiezheng"));

    // One notary identity (its key registered at genesis), two instances of it.
    let a_dir = root.path().join("notary-a");
    let b_dir = root.path().join("notary-b");
    let notary_key = common::testnet::new_key(&tz, &a_dir.join("notary-key.json"));
    std::fs::create_dir_all(&b_dir).unwrap();
    std::fs::copy(a_dir.join("notary-key.json"), b_dir.join("notary-key.json")).unwrap();
    let net = Testnet::start(&root.path().join("net"), 4, &notary_key, &tz, "300ms");
    for i in 0..4 {
        net.wait_height(i, 2, Duration::from_secs(60));
    }
    let db = common::db_env();
    let url = db[0].1.clone();
    let start = |dir: &std::path::Path, node: usize| {
        Notary::start(
            dir,
            &[
                ("TIEZHENG_NOTARY_DATABASE_URL", url.as_str()),
                ("TIEZHENG_NOTARY_COMETBFT_RPC", &net.rpc(node)),
                ("TIEZHENG_NOTARY_BATCH_MAX_MS", "200"),
                ("TIEZHENG_NOTARY_BATCH_MAX_LEAVES", "64"),
                ("TIEZHENG_NOTARY_DEVICE_PROOFS_PER_SECOND", "0"),
            ],
        )
    };
    let a = start(&a_dir, 0);
    let b = start(&b_dir, 1);
    let instances = Mutex::new(vec![a, b]);
    let urls: Vec<String> = instances
        .lock()
        .unwrap()
        .iter()
        .map(|n| n.url.clone())
        .collect();

    // Devices enrol through either instance.
    let fleet: Vec<common::Fleet> = {
        let list = instances.lock().unwrap();
        (0..DEVICES)
            .map(|i| {
                common::fleet(
                    &list[i % 2],
                    &root.path().join(format!("device-{i}")),
                    i,
                    PROOFS,
                )
            })
            .collect()
    };

    // Load: every device alternates between the instances, requests of 8 proofs; a request
    // that fails because its instance died goes to the other one, as a load balancer would
    // send it. Every receipt returned is kept.
    let receipts: Mutex<BTreeMap<String, Value>> = Mutex::new(BTreeMap::new());
    let sent = AtomicUsize::new(0);
    let dead = AtomicBool::new(false);
    let killed_at: Mutex<Option<(usize, i64)>> = Mutex::new(None);
    std::thread::scope(|s| {
        for f in &fleet {
            let (urls, receipts, sent, dead) = (&urls, &receipts, &sent, &dead);
            s.spawn(move || {
                let mut conns: Vec<Option<Conn>> = vec![None, None];
                for (r, chunk) in f.proofs.chunks(8).enumerate() {
                    let mut target = r % 2;
                    let deadline = Instant::now() + Duration::from_secs(60);
                    loop {
                        assert!(Instant::now() < deadline, "no instance took request {r}");
                        let conn = match &mut conns[target] {
                            Some(c) => c,
                            slot => match Conn::open(&urls[target]) {
                                Ok(c) => slot.insert(c),
                                Err(_) => {
                                    target = 1 - target;
                                    continue;
                                }
                            },
                        };
                        match conn.submit(&f.token, chunk) {
                            Ok((200, v)) => {
                                let mut got = receipts.lock().unwrap();
                                for (res, proof) in
                                    v["results"].as_array().unwrap().iter().zip(chunk)
                                {
                                    assert!(res["receipt"].is_object(), "refused: {res}");
                                    let sm3 = res["receipt"]["receipt"]["proof_sm3"]
                                        .as_str()
                                        .unwrap()
                                        .to_owned();
                                    assert_eq!(
                                        res["receipt"]["receipt"]["device_seq"],
                                        proof["manifest"]["device_seq"]
                                    );
                                    if let Some(before) = got.insert(sm3, res["receipt"].clone()) {
                                        // A resubmission answers the receipt given before.
                                        assert_eq!(&before, &res["receipt"]);
                                    }
                                }
                                break;
                            }
                            Ok((status, v)) => {
                                // 503 while an instance's database connection is lost; any
                                // other answer is a failure.
                                assert_eq!(status, 503, "{v}");
                                std::thread::sleep(Duration::from_millis(200));
                            }
                            Err(_) => {
                                assert!(
                                    dead.load(Ordering::SeqCst),
                                    "a live instance dropped a request"
                                );
                                conns[target] = None;
                                target = 1 - target;
                            }
                        }
                    }
                    sent.fetch_add(chunk.len(), Ordering::SeqCst);
                }
            });
        }
        // Once a third of the proofs are in, SIGKILL the instance holding the batching lease.
        let (instances, sent, dead, killed_at, url) = (&instances, &sent, &dead, &killed_at, &url);
        s.spawn(move || {
            while sent.load(Ordering::SeqCst) < DEVICES * PROOFS / 3 {
                std::thread::sleep(Duration::from_millis(20));
            }
            let holder = psql(url, "SELECT holder FROM leases WHERE name = 'batching'");
            let pid: u32 = holder.split('-').next().unwrap().parse().unwrap();
            let mut list = instances.lock().unwrap();
            let i = list
                .iter()
                .position(|n| n.child.id() == pid)
                .expect("the lease holder is one of the instances");
            let batches: i64 = psql(url, "SELECT COUNT(*) FROM batches").parse().unwrap();
            dead.store(true, Ordering::SeqCst);
            list[i].kill();
            *killed_at.lock().unwrap() = Some((i, batches));
        });
    });
    let (killed, batches_at_kill) = killed_at.lock().unwrap().unwrap();
    let survivor = &instances.lock().unwrap()[1 - killed];
    let receipts = receipts.into_inner().unwrap();
    assert_eq!(receipts.len(), DEVICES * PROOFS, "one receipt per proof");

    // Everything receipted is stored, and ends up anchored by the survivor.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let waiting: i64 = psql(
            &url,
            "SELECT COUNT(*) FROM batch_leaves l LEFT JOIN batches b ON b.batch_seq = l.batch_seq WHERE b.anchored_height IS NULL",
        )
        .parse()
        .unwrap();
        if waiting == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{waiting} proofs not anchored within 120 s; logs:\n{}",
            net.tail_logs()
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    let stored: BTreeSet<String> = psql(&url, "SELECT proof_sm3 FROM proofs")
        .lines()
        .map(str::to_owned)
        .collect();
    let receipted: BTreeSet<String> = receipts.keys().cloned().collect();
    assert_eq!(
        stored, receipted,
        "stored proofs are exactly the receipted ones"
    );

    // Per device: sequence numbers 1..=PROOFS once each, none after a gap.
    let per_device = psql(
        &url,
        "SELECT device_key_id, COUNT(*), COUNT(DISTINCT device_seq), MIN(device_seq), MAX(device_seq), SUM(chain_gap) FROM proofs GROUP BY device_key_id",
    );
    let rows: Vec<&str> = per_device.lines().collect();
    assert_eq!(rows.len(), DEVICES, "{per_device}");
    for row in rows {
        let cols: Vec<&str> = row.split('|').collect();
        assert_eq!(
            &cols[1..],
            &[
                PROOFS.to_string().as_str(),
                PROOFS.to_string().as_str(),
                "1",
                PROOFS.to_string().as_str(),
                "0"
            ],
            "{row}"
        );
    }

    // Batches 1..n, no gap, none twice; every leaf in exactly one; each anchored.
    let seqs: Vec<i64> = psql(&url, "SELECT batch_seq FROM batches ORDER BY batch_seq")
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>());
    assert!(
        seqs.len() as i64 > batches_at_kill,
        "the survivor closed batches after the kill"
    );
    // Batches of proofs hold every proof once; a batch of no proof (a custody commitment
    // alone) has one leaf, the commitment.
    let leaves: i64 = psql(
        &url,
        "SELECT SUM(leaf_count) FROM batches WHERE batch_seq IN (SELECT batch_seq FROM batch_leaves)",
    )
    .parse()
    .unwrap();
    assert_eq!(leaves, (DEVICES * PROOFS) as i64);
    let assigned: i64 = psql(
        &url,
        "SELECT COUNT(*) FROM batch_leaves WHERE batch_seq IS NOT NULL",
    )
    .parse()
    .unwrap();
    assert_eq!(assigned, (DEVICES * PROOFS) as i64);
    let custody_only = psql(
        &url,
        "SELECT leaf_count FROM batches WHERE batch_seq NOT IN (SELECT batch_seq FROM batch_leaves WHERE batch_seq IS NOT NULL)",
    );
    assert!(custody_only.lines().all(|l| l == "1"), "{custody_only}");
    let heights: BTreeSet<String> = psql(&url, "SELECT anchored_height FROM batches")
        .lines()
        .map(str::to_owned)
        .collect();
    assert!(!heights.contains(""), "every batch anchored");

    // The custody log's hash chain is intact.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let log = rt.block_on(async {
        let store = tiezheng_notary::store::Store::connect(&url).await.unwrap();
        store.custody_log().await.unwrap()
    });
    tiezheng_notary::store::verify_custody_chain(&log).unwrap();
    assert_eq!(
        log.iter().filter(|e| e.event == "received").count(),
        DEVICES * PROOFS
    );
    assert_eq!(
        log.iter().filter(|e| e.event == "anchored").count(),
        DEVICES * PROOFS,
        "each proof's anchoring recorded once"
    );

    // Bundles from the survivor verify offline, with the BFT layer, for proofs received
    // before and after the kill.
    let policy = net.court_policy(&notary_key);
    let (court, _) = survivor.token("court", &[]);
    for f in &fleet {
        for proof in [&f.proofs[0], &f.proofs[PROOFS - 1]] {
            let sm3 = tiezheng_protocol::Hash32::sm3(
                &tiezheng_protocol::canonical::canonicalize(proof).unwrap(),
            )
            .to_hex();
            let deadline = Instant::now() + Duration::from_secs(60);
            let v = loop {
                let (s, v) = survivor.call(
                    "GET",
                    &format!("/v1/proofs/{sm3}/bundle"),
                    Some(&court),
                    b"",
                );
                if s == 200 {
                    break v;
                }
                assert!(Instant::now() < deadline, "no bundle for {sm3}: {s} {v}");
                std::thread::sleep(Duration::from_millis(300));
            };
            let bundle: Bundle = serde_json::from_value(v).unwrap();
            verify_bundle(&bundle, None, &policy).unwrap();
        }
    }
}
