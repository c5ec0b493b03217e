//! The verification and appraisal portal in a real browser: a live notary (SQLite, embedded
//! ledger) with real evidence, and `portal/tests/portal.test.mjs` driving Debian's Chromium
//! with playwright-core against it. The verdicts the page shows must be those of
//! `tiezheng verify` on the same files.
//!
//! Needs `node`, the npm packages of `portal/tests` (`npm ci --prefix portal/tests`) and
//! Chromium at /usr/bin/chromium (`apt-get install chromium`), or `TIEZHENG_CHROMIUM`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod common;

use std::path::Path;
use std::process::Command;

use common::{Notary, browser_tools, cli, device, repo_root, tiezheng, wait_for_bundle};
use tiezheng_protocol::Hash32;
use tiezheng_protocol::notary::SignedReceipt;

/// `tiezheng verify` on the same files: `(valid, failing layer)`.
fn cli_verdict(bundle: &Path, media: &Path, policy: &Path) -> (bool, Option<String>) {
    let out = tiezheng()
        .arg("verify")
        .arg("--json")
        .arg(bundle)
        .arg("--media")
        .arg(media)
        .arg("--policy")
        .arg(policy)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    (
        v["valid"].as_bool().unwrap(),
        v["layer"].as_str().map(str::to_owned),
    )
}

#[test]
fn portal_verifies_in_chromium_and_serves_appraisers() {
    let tests = browser_tools();
    let tmp = tempfile::tempdir().unwrap();
    let n = Notary::start(
        &tmp.path().join("notary"),
        &[("TIEZHENG_NOTARY_BATCH_MAX_MS", "100")],
    );
    let dev = device(tmp.path(), "dev", &n);
    let photo = repo_root().join("portal/tests/fixtures/scene.png");
    let other = tmp.path().join("other.bin");
    std::fs::write(&other, b"evidence of another case".repeat(100)).unwrap();
    let capture = |file: &Path, case: &str| {
        let out = cli(
            &dev,
            &[
                "capture",
                file.to_str().unwrap(),
                "--case",
                case,
                "--witness-note",
                "none",
            ],
        );
        Hash32::sm3(out.stdout.trim_ascii_end()).to_hex()
    };
    let proof = capture(&photo, "沪浦-2026-PORTAL");
    let other_proof = capture(&other, "沪浦-2026-OTHER");
    cli(&dev, &["sync"]);
    let (court, _) = n.token("court", &[]);
    let (appraiser, appraiser_id) = n.token("appraiser", &["沪浦-2026-PORTAL"]);

    // An appraiser reads only granted cases, over HTTP as in the browser.
    let (s, v) = n.call("GET", "/v1/cases", Some(&appraiser), b"");
    assert_eq!(
        (s, v["cases"].clone()),
        (200, serde_json::json!(["沪浦-2026-PORTAL"]))
    );
    let (s, v) = n.call(
        "GET",
        "/v1/cases/items?reference=%E6%B2%AA%E6%B5%A6-2026-OTHER",
        Some(&appraiser),
        b"",
    );
    assert_eq!((s, v["code"].as_str()), (403, Some("not_granted")), "{v}");

    // The evidence files, as a court would hold them.
    let files = tmp.path().join("files");
    std::fs::create_dir_all(&files).unwrap();
    let bundle = wait_for_bundle(&n, &court, &proof);
    let bundle_path = files.join("evidence.bundle.json");
    std::fs::write(&bundle_path, serde_json::to_vec(&bundle).unwrap()).unwrap();
    let (_, policy) = n.call("GET", "/v1/ledger/policy", None, b"");
    let policy_path = files.join("policy.json");
    std::fs::write(&policy_path, serde_json::to_vec(&policy).unwrap()).unwrap();
    let media_path = files.join("scene.png");
    std::fs::copy(&photo, &media_path).unwrap();
    let mut altered = std::fs::read(&photo).unwrap();
    let middle = altered.len() / 2;
    altered[middle] ^= 0x01;
    let altered_path = files.join("scene-altered.png");
    std::fs::write(&altered_path, altered).unwrap();
    // A forgery whose every signature is valid: the notary's real key re-signs a receipt that
    // names another proof.
    let key =
        tiezheng_notary::keys::load_or_create(&tmp.path().join("notary/notary-key.json")).unwrap();
    let mut receipt: SignedReceipt = serde_json::from_value(bundle["receipt"].clone()).unwrap();
    receipt.receipt.proof_sm3 = Hash32::from_hex(&other_proof).unwrap();
    let receipt = SignedReceipt::sign(receipt.receipt, &key).unwrap();
    let mut forged = bundle.clone();
    forged["receipt"] = serde_json::to_value(&receipt).unwrap();
    let forged_path = files.join("forged.bundle.json");
    std::fs::write(&forged_path, serde_json::to_vec(&forged).unwrap()).unwrap();

    // The certificate a court holds, and what its QR code carries.
    let (s, cert_bytes) = common::http(
        "GET",
        &format!("{}/v1/proofs/{proof}/certificate", n.url),
        Some(&court),
        b"",
    );
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&cert_bytes));
    let certificate_path = files.join("certificate.json");
    std::fs::write(&certificate_path, &cert_bytes).unwrap();
    let cert_json = common::json_body(&cert_bytes);
    let qr = serde_json::json!({
        "n": cert_json["certificate"]["number"],
        "c": Hash32::sm3(&cert_bytes).to_hex(),
        "p": proof,
        "f": Hash32::sm3(&std::fs::read(&photo).unwrap()).to_hex(),
    });

    // What the public check page must never show: the case, the collectors, the file's name.
    let c = &cert_json["certificate"];
    let personal = serde_json::json!([
        c["case"]["reference"],
        c["case"]["collectors"][0],
        c["items"][0]["file_name"],
        c["device"]["model"],
    ]);
    assert!(
        personal
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p.as_str().is_some_and(|s| !s.is_empty())),
        "{personal}"
    );

    // A court policy that trusts another notary key.
    let mut foreign = policy.clone();
    foreign["notary_keys"] = serde_json::json!([tiezheng_protocol::Sm2SigningKey::generate()
        .public_key()
        .to_hex()]);
    let foreign_path = files.join("foreign-policy.json");
    std::fs::write(&foreign_path, serde_json::to_vec(&foreign).unwrap()).unwrap();

    // The same files through `tiezheng verify`.
    let valid = cli_verdict(&bundle_path, &media_path, &policy_path);
    let altered_cli = cli_verdict(&bundle_path, &altered_path, &policy_path);
    let forged_cli = cli_verdict(&forged_path, &media_path, &policy_path);
    assert_eq!(valid, (true, None));
    assert_eq!(altered_cli, (false, Some("media".into())));
    let forged_layer = forged_cli.1.clone().expect("the CLI refuses the forgery");
    let foreign_cli = cli_verdict(&bundle_path, &media_path, &foreign_path);
    let foreign_layer = foreign_cli
        .1
        .clone()
        .expect("the CLI refuses an untrusted notary");

    // Segment hashes over byte ranges (as a recording's manifest gives them), computed here
    // with the protocol and in the browser's worker.
    let bytes = std::fs::read(&photo).unwrap();
    let ranges = [
        [0, 1000],
        [1000, 0],
        [1000, 20_000],
        [30_000, bytes.len() - 30_000],
    ];
    let segment_sm3: Vec<String> = ranges
        .iter()
        .map(|[o, n]| Hash32::sm3(&bytes[*o..o + n]).to_hex())
        .collect();

    let out = tmp.path().join("verdicts.json");
    let run = Command::new("node")
        .arg(tests.join("portal.test.mjs"))
        .current_dir(&tests)
        .env("PORTAL_URL", &n.url)
        .env(
            "PORTAL_FILES",
            serde_json::json!({
                "bundle": bundle_path, "media": media_path, "altered": altered_path,
                "forged": forged_path, "forged_layer": forged_layer,
                "policy": policy_path, "foreign_policy": foreign_path, "foreign_layer": foreign_layer,
                "certificate": certificate_path, "qr": qr,
                "personal": personal,
            })
            .to_string(),
        )
        .env("PORTAL_APPRAISER_TOKEN", &appraiser)
        .env("PORTAL_COURT_TOKEN", &court)
        .env("PORTAL_APPRAISER_ID", &appraiser_id)
        .env("PORTAL_GRANTED_CASE", "沪浦-2026-PORTAL")
        .env("PORTAL_OTHER_CASE", "沪浦-2026-OTHER")
        .env("PORTAL_PROOF", &proof)
        .env("PORTAL_OUT", &out)
        .env(
            "PORTAL_SEGMENTS",
            serde_json::json!({"ranges": ranges, "sm3": segment_sm3}).to_string(),
        )
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "the browser test failed:\n{}\n{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    let seen: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    // Same verdicts, same failing layers as the command line.
    assert_eq!(seen["valid"]["verdict"], "valid");
    assert_eq!(seen["altered"]["layer"].as_str(), altered_cli.1.as_deref());
    assert_eq!(
        seen["forged"]["layer"].as_str(),
        Some(forged_layer.as_str())
    );
    assert_eq!(
        seen["foreign"]["layer"].as_str(),
        Some(foreign_layer.as_str())
    );
    assert_eq!(seen["appraiser"], "valid");
    assert_eq!(
        seen["no_token_in_urls"], true,
        "sign-in forms without scripts"
    );
    // With the court's own policy loaded, both pages refuse what only the operator's accepts.
    assert_eq!(
        seen["court"],
        serde_json::json!({"operator": "valid", "source": "notary",
            "pinned": {"verdict": "invalid", "layer": foreign_layer}}),
    );
    assert_eq!(seen["appraiser_pinned"], serde_json::json!(foreign_layer));
    // The public check: each outcome, the file never sent, nothing personal shown, and the
    // only API calls the digest and the operator's policy.
    let number = cert_json["certificate"]["number"].as_str().unwrap();
    assert_eq!(
        seen["check"],
        serde_json::json!({
            "genuine": "verified", "altered": "mismatch", "unknown": "not-deposited",
            "shows": [], "bodies": [], "carried_media": false,
            "api": ["/v1/ledger/policy", "/v1/public/certificates/TZ-20260101-0000000000000000",
                format!("/v1/public/certificates/{number}")],
        }),
    );
    assert_eq!(
        seen["qr"],
        serde_json::json!({"right": {"n": "true", "c": "true", "p": "true", "f": "true"},
            "wrong": {"n": "false", "c": "false", "p": "true", "f": "true"}}),
        "every QR value compared"
    );

    // Every view and download in the browser is in the custody log, and the log still
    // verifies.
    let (_, view) = n.call("GET", &format!("/v1/proofs/{proof}"), Some(&court), b"");
    let events: Vec<tiezheng_protocol::custody::CustodyEvent> =
        serde_json::from_value(view["custody"].clone()).unwrap();
    let by_appraiser = |what: &str| {
        events
            .iter()
            .filter(|e| e.event == what && e.actor == format!("appraiser:{appraiser_id}"))
            .count()
    };
    assert!(by_appraiser("viewed") >= 1);
    assert!(by_appraiser("exported") >= 2, "media and bundle exports");
    assert!(tiezheng_protocol::custody::check_chain(&events).intact);
}
