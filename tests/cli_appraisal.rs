//! `tiezheng verify` on an appraisal opinion (鉴定意见书) through the one verification entry:
//! the committed example verifies against the court's policy with its judicial parties; the
//! same opinion without a policy is unusable input; a re-dated step is refused naming its rule.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use serde_json::Value;

#[test]
fn an_appraisal_opinion_verifies_through_tiezheng_verify() {
    let examples = common::repo_root().join("schemas/examples");
    let opinion = examples.join("appraisal-opinion.json");
    let policy = examples.join("policy-judicial.json");
    let out = common::run(&[
        "verify",
        opinion.to_str().unwrap(),
        "--policy",
        policy.to_str().unwrap(),
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line: Value = serde_json::from_slice(&out.stdout).unwrap();
    let passed: Vec<&str> = line["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "pass")
        .map(|c| c["rule"].as_str().unwrap())
        .collect();
    assert_eq!(passed.len(), 15, "{line}");
    assert!(passed.iter().all(|r| r.starts_with("appraisal.")), "{line}");

    // Without the court's policy nothing vouches for the court or the institution.
    let out = common::run(&["verify", opinion.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("give --policy"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A step re-dated after it was signed.
    let mut v: Value = serde_json::from_slice(&std::fs::read(&opinion).unwrap()).unwrap();
    v["steps"][4]["step"]["at"] = Value::from("2026-12-01T09:00:00.000+08:00");
    let dir = tempfile::tempdir().unwrap();
    let forged = dir.path().join("opinion.json");
    std::fs::write(&forged, serde_json::to_vec(&v).unwrap()).unwrap();
    let out = common::run(&[
        "verify",
        forged.to_str().unwrap(),
        "--policy",
        policy.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("FAIL") && text.contains("appraisal.signatures"),
        "{text}"
    );
}
