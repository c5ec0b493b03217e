//! The README's consortium recipe, followed literally: `tools/consortium/local-network.sh`
//! lays out four members on one machine (each on its own loopback address with CometBFT's
//! standard ports, `members.tsv` saying which node is whose, the notary's key created and put
//! in the genesis), starts every ledger application and validator, and a notary started on the
//! data folder that holds that key anchors through the first member's node. A court takes the
//! genesis policy with `tiezheng ledger policy` (each validator named with its member),
//! fetches the proof's bundle with `tiezheng bundle fetch` and verifies it offline with that
//! policy. Then a fifth member joins as the README says (`local-network.sh join`, `ledger
//! propose --set-member`, then `--set-validator`, approved by the members and submitted): its
//! node becomes the fifth validator, and the next bundle verifies with the same genesis policy.
//!
//! Needs the `cometbft` binary (`.ci/run` installs v0.38.25 with `go install`); without it the
//! test says so and passes, unless `TIEZHENG_REQUIRE_COMETBFT=1`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::testnet::cometbft_binary;
use common::{Notary, capture, cli, corpus_path, device, tiezheng};
use tiezheng_protocol::Hash32;

/// Stops the network when the test ends, however it ends.
struct Network(std::path::PathBuf, std::path::PathBuf);

impl Drop for Network {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(&self.0)
            .arg("stop")
            .arg(&self.1)
            .status();
    }
}

#[test]
fn the_readme_recipe_gives_a_working_four_member_network() {
    let Some(cometbft) = cometbft_binary() else {
        assert!(
            std::env::var_os("TIEZHENG_REQUIRE_COMETBFT").is_none(),
            "TIEZHENG_REQUIRE_COMETBFT is set but no cometbft binary was found"
        );
        eprintln!("SKIPPED: no cometbft binary");
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let net = root.path().join("net");
    let script = common::repo_root().join("tools/consortium/local-network.sh");
    let run = |args: &[&str]| {
        let out = Command::new("bash")
            .arg(&script)
            .args(args)
            .env("TIEZHENG_BIN", env!("CARGO_BIN_EXE_tiezheng"))
            .env("COMETBFT_BIN", &cometbft)
            // Addresses of their own, apart from tests/consortium.rs's.
            .env("TIEZHENG_NET_BASE", "31")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "local-network.sh {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let net_str = net.to_str().unwrap();
    run(&["init", net_str, "4"]);
    let members = std::fs::read_to_string(net.join("members.tsv")).unwrap();
    let rows: Vec<Vec<&str>> = members.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(rows.len(), 4);
    assert_eq!(
        rows.iter().map(|r| r[1]).collect::<Vec<_>>(),
        ["court", "police", "procuratorate", "notary-office"]
    );
    run(&["start", net_str]);
    let _stop = Network(script.clone(), net.clone());
    let rpc = rows[0][3].to_owned();

    // Blocks are being made.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let up = std::net::TcpStream::connect(rpc.trim_start_matches("http://")).is_ok();
        let (s, body) = if up {
            common::http("GET", &format!("{rpc}/status"), None, b"")
        } else {
            (0, Vec::new())
        };
        let height = (s == 200)
            .then(|| serde_json::from_slice::<serde_json::Value>(&body).ok())
            .flatten()
            .and_then(|v| {
                v["result"]["sync_info"]["latest_block_height"]
                    .as_str()?
                    .parse::<u64>()
                    .ok()
            });
        if height.is_some_and(|h| h >= 3) {
            break;
        }
        assert!(Instant::now() < deadline, "no blocks on {rpc}");
        std::thread::sleep(Duration::from_millis(300));
    }

    // The notary on the folder that holds the key the genesis registered.
    let n = Notary::start(
        &net.join("notary"),
        &[
            ("TIEZHENG_NOTARY_COMETBFT_RPC", &rpc),
            ("TIEZHENG_NOTARY_BATCH_MAX_MS", "200"),
        ],
    );
    let dev = device(root.path(), "dev", &n);
    let photo = capture(&dev, "photos/DSCN0021.jpg");
    cli(&dev, &["sync"]);
    let (court, _) = n.token("court", &[]);
    let sm3 = Hash32::sm3(&photo).to_hex();
    // The court fetches the bundle (waiting while the batch is anchored)...
    let bundle_file = root.path().join("evidence.bundle.json");
    let out = tiezheng()
        .args([
            "bundle", "fetch", "--notary", &n.url, "--token", &court, "--proof", &sm3,
        ])
        .args(["--wait", "90", "--out"])
        .arg(&bundle_file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // ...takes the genesis policy from any member's node, and verifies offline.
    let policy = root.path().join("court-policy.json");
    let out = tiezheng()
        .args(["ledger", "policy", "--rpc", rows[2][3], "--out"])
        .arg(&policy)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = tiezheng()
        .args(["verify", "--json"])
        .arg(&bundle_file)
        .arg("--media")
        .arg(corpus_path("photos/DSCN0021.jpg"))
        .arg("--policy")
        .arg(&policy)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["valid"], true, "{report}");
    assert_eq!(report["policy_source"], "pinned");
    assert!(
        report["cosigners"].as_array().unwrap().len() >= 3,
        "{report}"
    );
    assert_eq!(report["chain"]["validators"], 4, "{report}");
    let pinned: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&policy).unwrap()).unwrap();
    let mut owners: Vec<&str> = pinned["validators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["member"].as_str().unwrap_or("none"))
        .collect();
    owners.sort_unstable();
    assert_eq!(
        owners,
        ["court", "notary-office", "police", "procuratorate"],
        "{pinned}"
    );

    // A fifth member joins: its node, then the two changes the script prints.
    let joined: serde_json::Value =
        serde_json::from_str(run(&["join", net_str, "appraisal-centre"]).trim()).unwrap();
    let ledger = |args: &[&str]| {
        let out = tiezheng().arg("ledger").args(args).output().unwrap();
        assert!(
            out.status.success(),
            "tiezheng ledger {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let changes = [
        format!(
            "--set-member=appraisal-centre={}:1",
            joined["public_key"].as_str().unwrap()
        ),
        format!(
            "--set-validator=appraisal-centre={}",
            joined["validator_key"].as_str().unwrap()
        ),
    ];
    for (k, change) in changes.iter().enumerate() {
        let file = root.path().join(format!("change-{k}.json"));
        let file = file.to_str().unwrap();
        ledger(&[
            "propose",
            "--rpc",
            &rpc,
            change,
            "--reason",
            "resolution 2026-12",
            "--out",
            file,
        ]);
        let members = std::fs::read_to_string(net.join("members.tsv")).unwrap();
        // Approved by every member the registry holds (the newcomer too, once it is one).
        for row in members.lines().map(|l| l.split('\t').collect::<Vec<_>>()) {
            if row[1] == "appraisal-centre" && k == 0 {
                continue;
            }
            ledger(&[
                "approve", file, "--member", row[1], "--key", row[4], "--rpc", &rpc,
            ]);
        }
        ledger(&["submit", file, "--rpc", &rpc]);
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, body) = common::http("GET", &format!("{rpc}/validators"), None, b"");
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        if v["result"]["total"] == "5" {
            break;
        }
        assert!(Instant::now() < deadline, "no fifth validator: {v}");
        std::thread::sleep(Duration::from_millis(300));
    }
    let photo = capture(&dev, "photos/DSCN0010.jpg");
    cli(&dev, &["sync"]);
    let out = tiezheng()
        .args([
            "bundle", "fetch", "--notary", &n.url, "--token", &court, "--proof",
        ])
        .arg(Hash32::sm3(&photo).to_hex())
        .args(["--wait", "90", "--out"])
        .arg(&bundle_file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = tiezheng()
        .args(["verify", "--json"])
        .arg(&bundle_file)
        .arg("--policy")
        .arg(&policy)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["valid"], true, "{report}");
}
