//! Judicial appraisal fully online, through the pages: a live notary (SQLite, embedded ledger)
//! holding real evidence, and `portal/tests/appraisal.test.mjs` driving Debian's Chromium with
//! playwright-core in five browser contexts (court, institution, two appraisers, reviewer), each
//! making its key and signing its steps in WebAssembly. The opinion PDF the court's page
//! fetched and verified, and the verify page verified offline, must verify with
//! `tiezheng verify` too, and the procedure the notary holds must be the one the pages made.
//!
//! Needs what `tests/portal.rs` needs: `node`, `npm ci --prefix portal/tests`, Chromium.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod common;

use std::process::Command;

use common::{Notary, anchored_photo, browser_tools, tiezheng};
use tiezheng_protocol::Hash32;

#[test]
fn a_whole_appraisal_through_the_pages_in_five_browsers() {
    let tests = browser_tools();
    let tmp = tempfile::tempdir().unwrap();
    let files = tmp.path().join("files");
    std::fs::create_dir_all(&files).unwrap();
    // The consortium registers the parties once their keys exist (in the browsers).
    let parties = files.join("judicial-parties.json");
    std::fs::write(&parties, "[]").unwrap();
    let n = Notary::start(
        &tmp.path().join("notary"),
        &[
            ("TIEZHENG_NOTARY_BATCH_MAX_MS", "100"),
            ("TIEZHENG_NOTARY_CUSTODY_ANCHOR_MS", "200"),
            (
                "TIEZHENG_NOTARY_JUDICIAL_PARTIES_FILE",
                parties.to_str().unwrap(),
            ),
        ],
    );
    let case = "沪浦-2026-APPRAISAL";
    let (court, _) = n.token("court", &[]);
    let (photo, _) = anchored_photo(&n, tmp.path(), case, &court);
    let token = || n.token("appraiser", &[case]).0;
    let (_, policy) = n.call("GET", "/v1/ledger/policy", None, b"");
    let policy_path = files.join("policy.json");
    std::fs::write(&policy_path, serde_json::to_vec(&policy).unwrap()).unwrap();

    let out = tmp.path().join("appraisal.json");
    let run = Command::new("node")
        .arg(tests.join("appraisal.test.mjs"))
        .current_dir(&tests)
        .env("APPRAISAL_URL", &n.url)
        .env(
            "APPRAISAL_CONFIG",
            serde_json::json!({
                "dir": files, "parties_file": parties, "policy": policy_path, "case": case,
                "tokens": {"court": court, "institution": token(), "a1": token(), "a2": token(), "r": token()},
            })
            .to_string(),
        )
        .env("APPRAISAL_OUT", &out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "the browser test failed:\n{}\n{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    let seen: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(seen["page_verdict"], "valid");
    assert_eq!(seen["offline_verdict"], "valid");

    // The PDF the court downloaded verifies with the command line, against the court's policy.
    let pdf = seen["opinion_pdf"].as_str().unwrap();
    let court_policy = seen["policy"].as_str().unwrap();
    let v = tiezheng()
        .args(["verify", "--json", pdf, "--policy", court_policy])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&v.stdout).unwrap_or_else(|e| {
        panic!(
            "tiezheng verify: {e}\n{}",
            String::from_utf8_lossy(&v.stderr)
        )
    });
    assert_eq!(report["valid"], true, "{report}");

    // The procedure the notary holds: thirteen steps, each by the key its page made; the
    // appraisers' material receipts name the SM3 of the deposited file.
    let sm3 = seen["commission_sm3"].as_str().unwrap();
    let (s, pkg) = n.call("GET", &format!("/v1/appraisals/{sm3}"), Some(&court), b"");
    assert_eq!(s, 200, "{pkg}");
    let steps = pkg["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 13);
    let file_sm3 = Hash32::sm3(&std::fs::read(&photo).unwrap()).to_hex();
    for s in steps
        .iter()
        .filter(|s| s["step"]["act"]["kind"] == "material_receipt")
    {
        assert_eq!(s["step"]["act"]["items"][0]["sm3"], file_sm3.as_str());
    }
    let opinion = steps
        .iter()
        .find(|s| s["step"]["act"]["kind"] == "opinion")
        .unwrap();
    assert_eq!(opinion["signatures"].as_array().unwrap().len(), 3);
    // Each record entry attaches the SM3 of the verifier's report its page made.
    for s in steps
        .iter()
        .filter(|s| s["step"]["act"]["kind"] == "record_entry")
    {
        assert_eq!(s["step"]["act"]["attachments"].as_array().unwrap().len(), 1);
    }
    // The key backup A-102's browser exported opens with the command line (one format).
    let backup = files.join("A-102.key-backup.json");
    let shown = tiezheng()
        .args([
            "appraisal",
            "key",
            "show",
            "--check",
            backup.to_str().unwrap(),
        ])
        .env("TIEZHENG_KEY_PASSPHRASE", "A-102 passphrase")
        .output()
        .unwrap();
    assert!(
        shown.status.success(),
        "{}",
        String::from_utf8_lossy(&shown.stderr)
    );
    let shown: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(
        (shown["owner"].as_str(), shown["opens"].as_bool()),
        (Some("A-102"), Some(true))
    );
    let a102 = steps.iter().find(|s| s["step"]["by"] == "A-102").unwrap();
    assert_eq!(a102["signatures"][0]["public_key"], shown["public_key"]);

    // No draft is left once the opinion is a step.
    let (s, v) = n.call(
        "GET",
        &format!("/v1/appraisals/{sm3}/draft"),
        Some(&court),
        b"",
    );
    assert_eq!((s, v["code"].as_str()), (404, Some("no_draft")), "{v}");
}
