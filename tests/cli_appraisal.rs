//! `tiezheng verify` on an appraisal opinion (鉴定意见书) through the one verification entry:
//! the committed example verifies against the court's policy with its judicial parties; the
//! same opinion without a policy is unusable input; a re-dated step is refused naming its rule.
//! And `tiezheng appraisal …`: a whole procedure from the command line against a live notary,
//! every party with its own key file, bad steps refused with their rule and nothing stored.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod common;

use std::path::Path;

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
    assert_eq!(passed.len(), 16, "{line}");
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

/// `tiezheng appraisal ARGS` with the key passphrase set; its JSON line, or the error text.
fn appraisal(args: &[&str]) -> Result<Value, String> {
    let out = common::tiezheng()
        .arg("appraisal")
        .args(args)
        .env("TIEZHENG_KEY_PASSPHRASE", "passphrase of the test")
        .output()
        .unwrap();
    if out.status.success() {
        Ok(serde_json::from_slice(&out.stdout).unwrap_or(Value::Null))
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[test]
fn a_whole_procedure_runs_from_the_command_line() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let parties = dir.join("parties.json");
    std::fs::write(&parties, "[]").unwrap();
    let n = common::Notary::start(
        &dir.join("notary"),
        &[
            ("TIEZHENG_NOTARY_BATCH_MAX_MS", "100"),
            ("TIEZHENG_NOTARY_CUSTODY_ANCHOR_MS", "200"),
            (
                "TIEZHENG_NOTARY_JUDICIAL_PARTIES_FILE",
                parties.to_str().unwrap(),
            ),
        ],
    );
    let case = "沪浦-2026-CLI-APPRAISAL";
    let (court_token, _) = n.token("court", &[]);
    let (photo, proof) = common::anchored_photo(&n, dir, case, &court_token);
    let (token, _) = n.token("appraiser", &[case]);
    let file_sm3 = tiezheng_protocol::Hash32::sm3(&std::fs::read(&photo).unwrap()).to_hex();

    // Every party makes its key file; the consortium registers the court and the institution.
    let key = |owner: &str| -> (String, String) {
        let path = dir.join(format!("{owner}.key.json"));
        let v = appraisal(&[
            "key",
            "new",
            "--owner",
            owner,
            "--out",
            path.to_str().unwrap(),
            "--danger-kdf-iterations",
            "100000",
        ])
        .unwrap();
        (
            path.to_str().unwrap().to_owned(),
            v["public_key"].as_str().unwrap().to_owned(),
        )
    };
    let (court, court_pub) = key("court-1");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&court).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "a key file is its owner's only");
    }
    let (inst, inst_pub) = key("inst-1");
    let people: Vec<(&str, String)> = ["A-1", "A-2", "R-1"]
        .iter()
        .map(|id| (*id, key(id).0))
        .collect();
    std::fs::write(
        &parties,
        serde_json::json!([
            {"id": "court-1", "role": "court", "public_key": court_pub},
            {"id": "inst-1", "role": "appraisal_institution", "public_key": inst_pub},
        ])
        .to_string(),
    )
    .unwrap();
    let shown = appraisal(&["key", "show", &court, "--check"]).unwrap();
    assert_eq!(
        (shown["owner"].as_str(), shown["opens"].as_bool()),
        (Some("court-1"), Some(true))
    );
    let wrong = common::tiezheng()
        .args(["appraisal", "key", "show", &court, "--check"])
        .env("TIEZHENG_KEY_PASSPHRASE", "not the passphrase")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("wrong passphrase"));
    let credential = |id: &str, key: &str| -> String {
        let out = dir.join(format!("{id}.credential.json"));
        appraisal(&[
            "credential",
            "--key",
            &inst,
            "--appraiser",
            id,
            "--name",
            &format!("鉴定人 {id}"),
            "--licence",
            &format!("沪司鉴 {id}"),
            "--public-key",
            &format!("@{key}"),
            "--out",
            out.to_str().unwrap(),
        ])
        .unwrap();
        out.to_str().unwrap().to_owned()
    };
    let credentials: Vec<String> = people.iter().map(|(id, k)| credential(id, k)).collect();

    let notary = ["--notary", n.url.as_str(), "--token", token.as_str()];
    let filed = appraisal(
        &[
            &["commission"][..],
            &["--notary", &n.url, "--token", &court_token, "--key", &court],
            &[
                "--case-reference",
                "(2026)沪0115行初0003号",
                "--institution",
                "inst-1",
            ],
            &["--item", &format!("{proof}:scene.png:{file_sm3}")],
            &["--question", "是否未经修改？ Unaltered?"],
            &["--deadline", "2099-12-31T23:59:59.000+08:00"],
        ]
        .concat(),
    )
    .unwrap();
    let sm3 = filed["commission_sm3"].as_str().unwrap().to_owned();
    let act = |what: &str, key: &str, extra: &[&str]| {
        appraisal(
            &[
                &[what][..],
                &notary,
                &["--commission", &sm3, "--key", key],
                extra,
            ]
            .concat(),
        )
    };
    act("accept", &inst, &[]).unwrap();
    // A second acceptance: refused with its rule, nothing stored.
    let e = act("accept", &inst, &[]).unwrap_err();
    assert!(
        e.contains("appraisal.order") && e.contains("appraisal_step_refused"),
        "{e}"
    );
    // A step signed with another key than the one its signer's role requires.
    let e = act(
        "assign",
        &court,
        &[
            "--as",
            "inst-1",
            "--appraiser",
            "A-1",
            "--appraiser",
            "A-2",
            "--reviewer",
            "R-1",
        ],
    )
    .unwrap_err();
    assert!(e.contains("appraisal.institution"), "{e}");
    act(
        "assign",
        &inst,
        &[
            "--appraiser",
            "A-1",
            "--appraiser",
            "A-2",
            "--reviewer",
            "R-1",
        ],
    )
    .unwrap();
    for ((_, key), cred) in people.iter().zip(&credentials) {
        act("declare", key, &["--credential", cred]).unwrap();
    }
    let material = dir.join("material");
    for (_, key) in people.iter().take(2) {
        act("receive", key, &["--save-dir", material.to_str().unwrap()]).unwrap();
    }
    let report = dir.join("report.json");
    std::fs::write(&report, b"{\"valid\":true}").unwrap();
    for (_, key) in people.iter().take(2) {
        act(
            "record",
            key,
            &[
                "--tool",
                "tiezheng verify",
                "--tool-version",
                "0.1.0",
                "--action",
                "verified",
                "--result",
                "valid",
                "--attach",
                report.to_str().unwrap(),
            ],
        )
        .unwrap();
    }
    // A-1 drafts the opinion; A-2 and the institution co-sign; the reviewer may not.
    let v = act(
        "opinion",
        &people[0].1,
        &["--finding", "是，未经修改。 Yes."],
    )
    .unwrap();
    assert_eq!(v["missing"], serde_json::json!(["A-2", "inst-1"]));
    let e = act("cosign", &people[2].1, &[]).unwrap_err();
    assert!(e.contains("appraisal.opinion"), "{e}");
    act("cosign", &people[1].1, &[]).unwrap();
    let v = act("cosign", &inst, &[]).unwrap();
    assert_eq!(v["act"], "opinion");
    act("review", &people[2].1, &["--remarks", "复核同意"]).unwrap();
    act("deliver", &inst, &[]).unwrap();

    // The institution revokes A-1's key from now on; the steps it signed before stand.
    let revocation = dir.join("A-1.revocation.json");
    appraisal(&[
        "revoke",
        "--key",
        &inst,
        "--credential",
        &credentials[0],
        "--reason",
        "执业证暂停",
        "--out",
        revocation.to_str().unwrap(),
    ])
    .unwrap();
    let v = appraisal(
        &[
            &["file-revocation"][..],
            &notary,
            &[
                "--commission",
                &sm3,
                "--revocation",
                revocation.to_str().unwrap(),
            ],
        ]
        .concat(),
    )
    .unwrap();
    assert_eq!(v["appraiser_id"], "A-1");

    // Every step as the notary holds it; the material as the appraisers hashed it.
    let shown = common::tiezheng()
        .args([
            "appraisal",
            "show",
            "--notary",
            &n.url,
            "--token",
            &token,
            "--commission",
            &sm3,
        ])
        .output()
        .unwrap();
    let steps: Vec<Value> = String::from_utf8_lossy(&shown.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(steps.len(), 13);
    let receipts: Vec<&Value> = steps
        .iter()
        .filter(|s| s["step"]["act"]["kind"] == "material_receipt")
        .collect();
    assert_eq!(receipts.len(), 2);
    assert!(
        receipts
            .iter()
            .all(|s| s["step"]["act"]["items"][0]["sm3"] == file_sm3.as_str())
    );

    // The court fetches the PDF; it verifies against the court's policy with the parties.
    let pdf = dir.join("opinion.pdf");
    appraisal(&[
        "fetch",
        "--notary",
        &n.url,
        "--token",
        &court_token,
        "--commission",
        &sm3,
        "--out",
        pdf.to_str().unwrap(),
    ])
    .unwrap();
    let (_, mut policy) = n.call("GET", "/v1/ledger/policy", None, b"");
    policy["parties"] = serde_json::from_slice(&std::fs::read(&parties).unwrap()).unwrap();
    let policy_path = dir.join("court-policy.json");
    std::fs::write(&policy_path, policy.to_string()).unwrap();
    verified(&pdf, &policy_path);
}

fn verified(file: &Path, policy: &Path) {
    let out = common::run(&[
        "verify",
        file.to_str().unwrap(),
        "--policy",
        policy.to_str().unwrap(),
        "--json",
    ]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["valid"], true, "{v}");
}
