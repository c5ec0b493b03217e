//! The consortium ledger on a real four-validator CometBFT v0.38 testnet on loopback, each
//! validator with its own `tiezheng ledger serve` and its organisation's SM2 key, and a real
//! `tiezheng serve` notary anchoring through one node's RPC:
//!
//! - receipted proofs end up anchored, in bundles whose checkpoint carries an SM2 quorum and
//!   whose CometBFT header and commit verify offline against the validator set pinned from
//!   genesis; tampering with the chain layer is caught and named;
//! - with one validator killed anchoring continues, on a 3-of-4 SM2 quorum;
//! - the killed validator restarts and catches up;
//! - a ledger application that dies restarts empty and recovers its state from CometBFT's
//!   replay (same app hash, same anchors);
//! - the notary's own node goes down: receipts go on, bundles already anchored are still
//!   served (from the notary's database), anchoring resumes when it is back;
//! - the members admit a second notary by an SM2-approved governance transaction (`tiezheng
//!   ledger propose/approve/submit`; two approvals of four are refused), and it anchors
//!   through another member's node.
//!
//! Needs the `cometbft` binary (`.ci/run` installs v0.38.25 with `go install`). Without it the
//! test says so and passes, unless `TIEZHENG_REQUIRE_COMETBFT=1` (set by `.ci/run`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod common;

use std::path::Path;
use std::time::Duration;

use common::testnet::{MEMBERS, Testnet, cometbft_binary};
use common::verify_bundle;
use common::{Notary, capture, cli, corpus_path, device, tiezheng};
use serde_json::{Value, json};
use tiezheng_protocol::Hash32;
use tiezheng_protocol::bundle::{Bundle, Policy};

fn anchored(n: &Notary, court: &str, dev: &Path, file: &str, net: &Testnet) -> Value {
    let bytes = capture(dev, file);
    cli(dev, &["sync"]);
    bundle_of(n, court, &Hash32::sm3(&bytes).to_hex(), net)
}

/// The bundle of proof `sm3`, waiting up to 90 s for it to be anchored.
fn bundle_of(n: &Notary, court: &str, sm3: &str, net: &Testnet) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    loop {
        let (s, v) = n.call("GET", &format!("/v1/proofs/{sm3}/bundle"), Some(court), b"");
        if s == 200 {
            return v;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "proof {sm3} not anchored within 90 s ({s} {v}); logs:\n{}",
            net.tail_logs()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A notary anchoring through node `node`, a device enrolled with it, and a court token.
fn notary_on(
    dir: &Path,
    net: &Testnet,
    node: usize,
    root: &Path,
    device_name: &str,
) -> (Notary, std::path::PathBuf, String) {
    let n = Notary::start(
        dir,
        &[
            ("TIEZHENG_NOTARY_COMETBFT_RPC", &net.rpc(node)),
            ("TIEZHENG_NOTARY_BATCH_MAX_MS", "200"),
            ("TIEZHENG_NOTARY_ANCHORING_STALL_MS", "3000"),
        ],
    );
    let dev = device(root, device_name, &n);
    let (court, _) = n.token("court", &[]);
    (n, dev, court)
}

/// `tiezheng audit` of notary `n`'s data: every anchored proof's bundle, built from the
/// database and verified with the genesis policy. Its summary, asserted intact.
fn audit(n: &Notary) -> Value {
    let out = tiezheng()
        .args(["audit", "--data-dir"])
        .arg(&n.data_dir)
        .envs(n.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let summary: Value = serde_json::from_str(stdout.lines().last().unwrap_or("null")).unwrap();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(summary["audit"], "intact", "{summary}");
    summary
}

fn verify_cli(dir: &Path, bundle: &Value, policy: &Policy, media: &str) -> Value {
    let bundle_file = dir.join("bundle.json");
    let policy_file = dir.join("policy.json");
    std::fs::write(&bundle_file, bundle.to_string()).unwrap();
    std::fs::write(&policy_file, serde_json::to_vec(policy).unwrap()).unwrap();
    let out = tiezheng()
        .arg("verify")
        .arg("--json")
        .arg(&bundle_file)
        .arg("--media")
        .arg(corpus_path(media))
        .arg("--policy")
        .arg(&policy_file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn four_validators_anchor_with_an_sm2_quorum_and_survive_kills() {
    if cometbft_binary().is_none() {
        assert!(
            std::env::var_os("TIEZHENG_REQUIRE_COMETBFT").is_none(),
            "TIEZHENG_REQUIRE_COMETBFT is set but no cometbft binary was found"
        );
        eprintln!(
            "SKIPPED: no cometbft binary (install: go install github.com/cometbft/cometbft/cmd/cometbft@v0.38.25)"
        );
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let tz = std::path::PathBuf::from(env!("CARGO_BIN_EXE_tiezheng"));

    // The notary's key exists before the chain, so that genesis can register it.
    let notary_dir = root.path().join("notary");
    let notary_key = common::testnet::new_key(&tz, &notary_dir.join("notary-key.json"));
    let mut net = Testnet::start(&root.path().join("net"), 4, &notary_key, &tz, "300ms");
    for i in 0..4 {
        net.wait_height(i, 3, Duration::from_secs(60));
    }
    let (n, dev, court) = notary_on(&notary_dir, &net, 0, root.path(), "dev");
    let policy = net.court_policy(&notary_key);

    // 1. All four up: anchored, cosigned by at least three members, BFT layer verifies.
    let first = anchored(&n, &court, &dev, "photos/DSCN0021.jpg", &net);
    assert_eq!(first["mode"], "consortium");
    let bundle: Bundle = serde_json::from_value(first.clone()).unwrap();
    let report = verify_bundle(&bundle, None, &policy).unwrap();
    assert!(report.cosigners.len() >= 3, "{:?}", report.cosigners);
    let chain = report.chain.clone().expect("chain layer");
    assert_eq!(chain.height, report.checkpoint_height + 1);
    assert!(chain.signers >= 3 && chain.validators == 4, "{chain:?}");
    let cli_report = verify_cli(root.path(), &first, &policy, "photos/DSCN0021.jpg");
    assert_eq!(cli_report["valid"], true, "{cli_report}");
    assert_eq!(cli_report["chain"]["validators"], 4, "{cli_report}");
    // The notary's published policy names the same chain, members and validators.
    let (_, published) = n.call("GET", "/v1/ledger/policy", None, b"");
    let published: Policy = serde_json::from_value(published).unwrap();
    assert_eq!(published.chain_id, policy.chain_id);
    assert_eq!(published.members, policy.members);
    assert_eq!(published.validators.len(), 4);

    if std::env::var_os("TIEZHENG_BLESS").is_some() {
        // A real consortium bundle and the policy that pins its network, for schemas/.
        let dir = common::repo_root().join("schemas/examples");
        let pretty = |v: &Value| format!("{}\n", serde_json::to_string_pretty(v).unwrap());
        std::fs::write(dir.join("bundle-consortium.json"), pretty(&first)).unwrap();
        std::fs::write(
            dir.join("policy-consortium.json"),
            pretty(&serde_json::to_value(&policy).unwrap()),
        )
        .unwrap();
    }

    // Tampering with the chain layer, or pinning other validators, is caught at `chain`.
    let tampered = |f: &dyn Fn(&mut Value), p: &Policy| -> String {
        let mut v = first.clone();
        f(&mut v);
        let b: Bundle = serde_json::from_value(v).unwrap();
        let e = verify_bundle(&b, None, p).unwrap_err();
        format!("{}: {}", e.layer, e.reason)
    };
    let flip = |s: &str| -> String {
        let mut c: Vec<char> = s.chars().collect();
        c[0] = if c[0] == 'A' { 'B' } else { 'A' };
        c.into_iter().collect()
    };
    for (what, f) in [
        (
            "app hash",
            Box::new(|v: &mut Value| {
                let h = v["cometbft"]["signed_header"]["header"]["app_hash"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                v["cometbft"]["signed_header"]["header"]["app_hash"] = json!(flip(&h));
            }) as Box<dyn Fn(&mut Value)>,
        ),
        (
            "commit signature",
            Box::new(|v: &mut Value| {
                for s in v["cometbft"]["signed_header"]["commit"]["signatures"]
                    .as_array_mut()
                    .unwrap()
                {
                    if let Some(sig) = s["signature"].as_str().map(str::to_owned) {
                        s["signature"] = json!(flip(&sig));
                    }
                }
            }),
        ),
        (
            "header time",
            Box::new(|v: &mut Value| {
                v["cometbft"]["signed_header"]["header"]["time"] =
                    json!("2030-01-01T00:00:00.000000000Z");
            }),
        ),
        (
            "validator set",
            Box::new(|v: &mut Value| {
                v["cometbft"]["validators"].as_array_mut().unwrap().pop();
            }),
        ),
        (
            "no chain layer",
            Box::new(|v: &mut Value| {
                v.as_object_mut().unwrap().remove("cometbft");
            }),
        ),
    ] {
        let e = tampered(&*f, &policy);
        if what == "no chain layer" {
            // A consortium bundle without its CometBFT layer is refused by `bundle.mode`.
            assert!(e.starts_with("bundle: mode"), "{what}: {e}");
        } else {
            assert!(e.starts_with("chain: "), "{what}: {e}");
        }
    }
    let mut other_validators = policy.clone();
    other_validators.validators[0].pub_key = net.pinned_validators()[1].pub_key.clone();
    // (The bundle's own policy copy must not claim what the court does not pin...)
    assert!(tampered(&|_| {}, &other_validators).starts_with("policy: "));
    // (...and a pinned validator whose address is not its key's makes the policy unusable.)
    let copy = serde_json::to_value(&other_validators).unwrap();
    assert!(tampered(&|v| v["policy"] = copy.clone(), &other_validators).starts_with("policy: "));
    let mut no_validators = policy.clone();
    no_validators.validators.clear();
    let copy = serde_json::to_value(&no_validators).unwrap();
    assert!(
        tampered(&|v| v["policy"] = copy.clone(), &no_validators)
            .contains("pins no CometBFT validators")
    );

    // 2. One validator (the notary office's) dies: anchoring goes on with 3 of 4.
    net.kill_node(3);
    net.kill_app(3);
    let second = anchored(&n, &court, &dev, "photos/DSCN0025.jpg", &net);
    let report = verify_bundle(&serde_json::from_value(second).unwrap(), None, &policy).unwrap();
    let mut cosigners = report.cosigners.clone();
    cosigners.sort();
    let mut three: Vec<String> = MEMBERS[..3].iter().map(|m| (*m).to_owned()).collect();
    three.sort();
    assert_eq!(
        cosigners, three,
        "a 3-of-4 SM2 quorum without the dead member"
    );
    assert_eq!(report.chain.unwrap().signers, 3);

    // 3. It restarts (its ledger app empty) and catches up with the others.
    net.start_app(3);
    net.start_node(3);
    let target = net.height(0).unwrap();
    net.wait_height(3, target, Duration::from_secs(90));
    let h = target.to_string();
    let block =
        |i: usize| net.get(i, &format!("/block?height={h}")).unwrap()["block_id"]["hash"].clone();
    assert_eq!(
        block(3),
        block(0),
        "the restarted validator has the same block {h}"
    );

    // 4. Validator 1's ledger application dies; its node stops with it. Both restart: the
    // app, empty, is rebuilt by CometBFT's replay to the same state.
    net.kill_app(1);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while net.node_running(1) && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    net.kill_node(1);
    net.start_app(1);
    net.start_node(1);
    let target = net.height(0).unwrap();
    net.wait_height(1, target, Duration::from_secs(90));
    let root_hex = bundle.batch.header.header.root.to_hex();
    let (c1, a1) = net.query(1, "/anchor", &root_hex).unwrap();
    let (c0, a0) = net.query(0, "/anchor", &root_hex).unwrap();
    assert_eq!((c1, c0), (0, 0));
    let (a1, a0): (Value, Value) = (
        serde_json::from_slice(&a1).unwrap(),
        serde_json::from_slice(&a0).unwrap(),
    );
    assert_eq!(a1["record"], a0["record"], "replayed anchor record");
    let info = |i: usize| {
        let v = net.get(i, "/abci_info").unwrap();
        (
            v["response"]["last_block_height"]
                .as_str()
                .unwrap()
                .parse::<u64>()
                .unwrap(),
            v["response"]["last_block_app_hash"].clone(),
        )
    };
    let (h1, _) = info(1);
    let header = |i: usize, h: u64| {
        net.get(i, &format!("/header?height={}", h + 1))
            .map(|v| v["header"]["app_hash"].clone())
    };
    net.wait_height(0, h1 + 1, Duration::from_secs(30));
    net.wait_height(1, h1 + 1, Duration::from_secs(30));
    assert_eq!(header(1, h1), header(0, h1), "same app hash after replay");

    // 5. The notary's own node goes down (a chain outage, as the notary sees it): intake
    // goes on, receipts are promised, and the proof is anchored once the node is back.
    net.kill_node(0);
    net.kill_app(0);
    let waiting = capture(&dev, "photos/DSCN0027.jpg");
    let out = cli(&dev, &["sync"]);
    let last: Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().last().unwrap()).unwrap();
    assert_eq!(last["pending"], 0, "receipted during the outage: {last}");
    let waiting_sm3 = Hash32::sm3(&waiting).to_hex();
    std::thread::sleep(Duration::from_secs(2));
    let (s, v) = n.call(
        "GET",
        &format!("/v1/proofs/{waiting_sm3}/bundle"),
        Some(&court),
        b"",
    );
    assert_eq!(
        (s, v["code"].as_str()),
        (409, Some("not_yet_anchored")),
        "{v}"
    );
    // Meanwhile the bundles of proofs anchored before the outage are served from the
    // notary's database (the ledger's part of them was kept once cosigned), and verify.
    let earlier = bundle.batch.leaf.proof_sm3.to_hex();
    let (s, v) = n.call(
        "GET",
        &format!("/v1/proofs/{earlier}/bundle"),
        Some(&court),
        b"",
    );
    assert_eq!(s, 200, "a bundle during the ledger outage: {v}");
    verify_bundle(&serde_json::from_value(v).unwrap(), None, &policy).unwrap();
    net.start_app(0);
    net.start_node(0);
    let after_outage = bundle_of(&n, &court, &waiting_sm3, &net);
    verify_bundle(
        &serde_json::from_value(after_outage).unwrap(),
        None,
        &policy,
    )
    .unwrap();

    // 6. And anchoring goes on, on a full quorum again.
    let third = anchored(&n, &court, &dev, "photos/DSCN0010.jpg", &net);
    let report = verify_bundle(&serde_json::from_value(third).unwrap(), None, &policy).unwrap();
    assert!(report.cosigners.len() >= 3);

    // The operator's audit in consortium mode: the bundle of every anchored proof, built from
    // the notary's database and checked with the chain's policy, verifies.
    let summary = audit(&n);
    assert!(
        summary["bundles_verified"].as_u64().unwrap_or(0) >= 3,
        "{summary}"
    );

    // 7. Governance on the chain: the members admit a second notary. Two approvals of four
    // are refused; with a third, the change applies, and the new notary anchors through
    // another member's node.
    let notary2_dir = root.path().join("notary2");
    let notary2_key = common::testnet::new_key(&tz, &notary2_dir.join("notary-key.json"));
    let proposal = root.path().join("add-notary.json");
    let ledger_cli = |args: &[&str]| tiezheng().arg("ledger").args(args).output().unwrap();
    let path = proposal.to_str().unwrap();
    let out = ledger_cli(&[
        "propose",
        "--rpc",
        &net.rpc(1),
        "--add-notary",
        &notary2_key,
        "--reason",
        "second notary office joins",
        "--out",
        path,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let approve = |i: usize| {
        let key = net.dir.join(format!("node{i}/config/member-key.json"));
        let out = ledger_cli(&[
            "approve",
            path,
            "--member",
            MEMBERS[i],
            "--key",
            key.to_str().unwrap(),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    approve(0);
    approve(1);
    let out = ledger_cli(&["submit", path, "--rpc", &net.rpc(2)]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("voting power 2 of 4"),
        "{err}"
    );
    approve(2);
    let out = ledger_cli(&["submit", path, "--rpc", &net.rpc(2)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let applied: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (
            applied["governance_seq"].as_u64(),
            applied["notaries"].as_u64()
        ),
        (Some(1), Some(2))
    );
    // The same approved proposal cannot apply twice.
    let out = ledger_cli(&["submit", path, "--rpc", &net.rpc(2)]);
    assert!(!out.status.success());

    let (n2, dev2, court2) = notary_on(&notary2_dir, &net, 2, root.path(), "dev2");
    let from_second = anchored(&n2, &court2, &dev2, "photos/DSCN0012.jpg", &net);
    let from_second: Bundle = serde_json::from_value(from_second).unwrap();
    // The bundle carries the governance change, approved by the members with SM2: a court
    // that pinned only the genesis registry follows it and accepts the new notary's bundle.
    assert_eq!(from_second.governance.len(), 1);
    if std::env::var_os("TIEZHENG_BLESS").is_some() {
        // A real bundle after a registry change, for schemas/ (verified with the genesis
        // policy-consortium.json).
        std::fs::write(
            common::repo_root().join("schemas/examples/bundle-consortium-governance.json"),
            format!("{}\n", serde_json::to_string_pretty(&from_second).unwrap()),
        )
        .unwrap();
    }
    let report = verify_bundle(&from_second, None, &policy).unwrap();
    assert!(report.cosigners.len() >= 3);
    let mut both = policy.clone();
    both.notary_keys.push(notary2_key.clone());
    let layer = |b: &Bundle, p: &Policy| verify_bundle(b, None, p).unwrap_err().layer;
    // Without the change, the new notary is one the court never admitted.
    let without = Bundle {
        governance: Vec::new(),
        ..from_second.clone()
    };
    assert_eq!(layer(&without, &policy), "policy");
    // With the change but an approval dropped, it has no quorum.
    let mut weak = from_second.clone();
    weak.governance[0].approvals.pop();
    assert_eq!(layer(&weak, &policy), "governance");
    // A pinned policy that is not the genesis registry does not lead to the checkpoint's
    // registry: the bundle's copy is not that registry (and its root is not the checkpoint's).
    let rules = |b: &Bundle, p: &Policy| {
        tiezheng_protocol::verify::verify_bundle(b, None, p)
            .unwrap()
            .checks
            .iter()
            .filter(|c| c.status == tiezheng_protocol::verify::Status::Fail)
            .map(|c| c.rule)
            .collect::<Vec<_>>()
    };
    // (Pinning the new notary already: the bundle's change would admit it twice.)
    assert_eq!(rules(&from_second, &both), ["governance.change"]);
    let mut reordered = policy.clone();
    reordered.members.reverse();
    assert_eq!(
        rules(&from_second, &reordered),
        ["policy.copy", "checkpoint.registry_root"]
    );

    // 8. History-correct documents: the proof anchored before the change, exported again
    // after it, still carries the registry of its own checkpoint and verifies with the
    // genesis policy alone; certificates issue on both sides of the change; the notary
    // publishes the genesis policy (what a court pins), not today's registry.
    let earlier_sm3 = bundle.batch.leaf.proof_sm3.to_hex();
    let again = bundle_of(&n, &court, &earlier_sm3, &net);
    let again: Bundle = serde_json::from_value(again).unwrap();
    let in_order = |mut p: Policy| {
        p.validators.sort_by(|a, b| a.address.cmp(&b.address));
        p
    };

    assert_eq!(
        in_order(again.policy.clone()),
        in_order(bundle.policy.clone()),
        "the registry as of its checkpoint"
    );
    verify_bundle(&again, None, &policy).unwrap();
    let (_, published) = n.call("GET", "/v1/ledger/policy", None, b"");
    assert_eq!(
        in_order(serde_json::from_value::<Policy>(published).unwrap()),
        in_order(policy.clone()),
        "the genesis policy"
    );
    let certificate = |n: &Notary, court: &str, sm3: &str| {
        let (s, v) = n.call(
            "GET",
            &format!("/v1/proofs/{sm3}/certificate"),
            Some(court),
            b"",
        );
        assert_eq!(s, 200, "certificate of {sm3}: {v}");
    };
    certificate(&n, &court, &earlier_sm3);
    certificate(&n2, &court2, &from_second.batch.leaf.proof_sm3.to_hex());
    let out = ledger_cli(&["policy", "--rpc", &net.rpc(3)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written: Policy = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        in_order(written),
        in_order(policy.clone()),
        "tiezheng ledger policy writes the genesis policy"
    );

    // 9. A fifth member joins (an appraisal institution) without a validator of its own: the
    // members' SM2 quorum is now 4 of 5, so with one validator down no checkpoint can be
    // cosigned. The chain goes on committing blocks (it never halts for good), the notary
    // says anchoring is stalled and why, and once the validator is back, cosigning resumes
    // and the waiting proof's bundle verifies with the genesis policy alone.
    let appraisal_key =
        common::testnet::new_key(&tz, &root.path().join("appraisal/member-key.json"));
    let path = root.path().join("add-member.json");
    let path = path.to_str().unwrap();
    let out = ledger_cli(&[
        "propose",
        "--rpc",
        &net.rpc(0),
        "--set-member",
        &format!("appraisal-centre={appraisal_key}:1"),
        "--reason",
        "a judicial appraisal institution joins",
        "--out",
        path,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // With --rpc, a member's approval is checked against the chain's registry first.
    let key0 = net.dir.join("node0/config/member-key.json");
    let out = ledger_cli(&[
        "approve",
        path,
        "--member",
        MEMBERS[1],
        "--key",
        key0.to_str().unwrap(),
        "--rpc",
        &net.rpc(0),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("is not the key the chain holds"),
        "{err}"
    );
    for (i, member) in MEMBERS.iter().enumerate().take(3) {
        let key = net.dir.join(format!("node{i}/config/member-key.json"));
        let out = ledger_cli(&[
            "approve",
            path,
            "--member",
            member,
            "--key",
            key.to_str().unwrap(),
            "--rpc",
            &net.rpc(0),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = ledger_cli(&["submit", path, "--rpc", &net.rpc(0)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after_join = anchored(&n, &court, &dev, "photos/Canon_40D.jpg", &net);
    let after_join: Bundle = serde_json::from_value(after_join).unwrap();
    assert_eq!(after_join.governance.len(), 2);
    assert_eq!(
        verify_bundle(&after_join, None, &policy)
            .unwrap()
            .cosigners
            .len(),
        4
    );

    net.kill_node(3);
    net.kill_app(3);
    let stuck = capture(&dev, "photos/portrait_6.jpg");
    cli(&dev, &["sync"]);
    let stuck_sm3 = Hash32::sm3(&stuck).to_hex();
    let h = net.height(0).unwrap();
    net.wait_height(0, h + 5, Duration::from_secs(60));
    let readyz = |n: &Notary| n.call("GET", "/readyz", None, b"").1;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let degraded = loop {
        let r = readyz(&n);
        if r["status"] == "degraded" {
            break r;
        }
        assert!(std::time::Instant::now() < deadline, "not degraded: {r}");
        std::thread::sleep(Duration::from_millis(300));
    };
    let cause = degraded["anchoring"]["cause"].as_str().unwrap();
    assert!(cause.contains("cosigned by an SM2 quorum"), "{degraded}");
    let (s, _) = n.call(
        "GET",
        &format!("/v1/proofs/{stuck_sm3}/bundle"),
        Some(&court),
        b"",
    );
    assert_eq!(s, 409, "no cosigned checkpoint covers it yet");
    let (_, metrics) = common::http("GET", &format!("{}/metrics", n.url), Some(&n.admin), b"");
    let metrics = String::from_utf8_lossy(&metrics);
    assert!(
        metrics.contains("tiezheng_anchoring_stalled 1"),
        "{metrics}"
    );
    // A second validator down: more than a third of the power, no block at all; the cause
    // says so.
    net.kill_node(2);
    net.kill_app(2);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let r = readyz(&n);
        if r["anchoring"]["cause"]
            .as_str()
            .is_some_and(|c| c.contains("no block"))
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no-block cause not reported: {r}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    for i in [2, 3] {
        net.start_app(i);
        net.start_node(i);
    }
    let resumed = bundle_of(&n, &court, &stuck_sm3, &net);
    let resumed: Bundle = serde_json::from_value(resumed).unwrap();
    let report = verify_bundle(&resumed, None, &policy).unwrap();
    assert!(report.cosigners.len() >= 4, "{:?}", report.cosigners);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let r = readyz(&n);
        if r["status"] == "ready" {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "still degraded: {r}");
        std::thread::sleep(Duration::from_millis(300));
    }
    certificate(&n, &court, &stuck_sm3);
    let summary = audit(&n);
    assert!(
        summary["bundles_verified"].as_u64().unwrap_or(0) >= 5,
        "{summary}"
    );
    drop(n2);
    drop(n);
}
