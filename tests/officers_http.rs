//! Officers' own keys against a real notary, as a unit uses them: each officer's key is added
//! on the device under the officer's own PIN and bound by the notary with a one-time code issued
//! for that officer; a capture naming two enrolled officers carries both signatures, and the
//! bundle a court fetches verifies them and the notary's credentials offline. A revoked
//! officer's key, a key never enrolled, a code issued for another officer and a wrong officer
//! PIN are each refused clearly, with nothing stored.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod common;

use std::path::Path;
use std::process::Output;

use common::{PIN, corpus_path, device, notary, tiezheng, wait_for_bundle};
use serde_json::{Value, json};
use tiezheng_protocol::bundle::Policy;
use tiezheng_protocol::verify::{self, Status};
use tiezheng_protocol::{Proof, canonical};
use tiezheng_sdk::client::NotaryBinding;

const OFFICERS: [(&str, &str, &str); 2] = [("310101", "王强", "1111"), ("310102", "李明", "2222")];

fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = tiezheng();
    c.args(args).arg("--dir").arg(dir).env("TIEZHENG_PIN", PIN);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn ok(o: Output) -> Output {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    o
}

fn add_officer(dir: &Path, id: &str, name: &str, pin: &str) {
    let badge = format!("沪执0{id}");
    ok(run(
        dir,
        &[
            "officer",
            "add",
            "--id",
            id,
            "--name",
            name,
            "--badge",
            &badge,
            "--unit",
            "上海市浦东新区城市管理行政执法局",
            "--danger-kdf-iterations",
            "100",
        ],
        &[("TIEZHENG_OFFICER_PIN", pin)],
    ));
}

fn capture(dir: &Path, photo: &str, collectors: &[&str], pins: &[(&str, &str)]) -> Output {
    let path = corpus_path(photo);
    let mut args = vec![
        "capture",
        path.to_str().unwrap(),
        "--case",
        "沪浦-2026-0009",
        "--cause",
        "占道经营",
        "--holder",
        "张某",
        "--witness",
        "赵某",
        "--profile",
        "cn.admin-penalty.onsite.2021",
        "--reason",
        "profile.location=indoor market hall",
        "--reason",
        "profile.clock=no network for a time sync",
    ];
    for c in collectors {
        args.extend(["--collector", c]);
    }
    let vars: Vec<(String, String)> = pins
        .iter()
        .map(|(id, pin)| (format!("TIEZHENG_OFFICER_PIN_{id}"), (*pin).to_owned()))
        .collect();
    let env: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    run(dir, &args, &env)
}

fn submit(n: &common::Notary, token: &str, proof: &[u8]) -> (u16, Value) {
    n.call("POST", "/v1/proofs", Some(token), proof)
}

#[test]
fn two_enrolled_officers_sign_and_the_bundle_proves_who_signed() {
    let root = tempfile::tempdir().unwrap();
    let n = notary(root.path(), &[]);
    let dev = device(root.path(), "dev", &n);
    let token = NotaryBinding::load(&dev).unwrap().api_token;
    for (id, name, pin) in OFFICERS {
        add_officer(&dev, id, name, pin);
    }
    // A code issued for another officer binds nothing.
    let wrong = n.code("310101");
    let refused = run(
        &dev,
        &["officer", "enrol", "--id", "310102", "--code", &wrong],
        &[("TIEZHENG_OFFICER_PIN", "2222")],
    );
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("invalid_code"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    for (id, _, pin) in OFFICERS {
        let code = n.code(id);
        let out = ok(run(
            &dev,
            &["officer", "enrol", "--id", id, "--code", &code],
            &[("TIEZHENG_OFFICER_PIN", pin)],
        ));
        let line: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(line["officer_id"], id);
    }
    let list = ok(run(&dev, &["officer", "list"], &[]));
    let enrolled: Vec<Value> = String::from_utf8(list.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        enrolled.iter().all(|o| o["enrolled"] == true),
        "{enrolled:?}"
    );

    // A wrong officer PIN refuses the capture; nothing is queued.
    let bad = capture(
        &dev,
        "photos/DSCN0010.jpg",
        &["310101", "310102"],
        &[("310101", "1111"), ("310102", "9999")],
    );
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("officer 310102"));

    // Both officers sign; the notary receipts; the bundle proves who signed.
    let out = ok(capture(
        &dev,
        "photos/DSCN0010.jpg",
        &["310101", "310102"],
        &[("310101", "1111"), ("310102", "2222")],
    ));
    let line = out.stdout.trim_ascii_end().to_vec();
    let proof: Proof = serde_json::from_slice(&line).unwrap();
    let signers: Vec<&str> = proof
        .officer_signatures
        .iter()
        .map(|s| s.officer_id.as_str())
        .collect();
    assert_eq!(signers, ["310101", "310102"]);
    let (s, v) = submit(&n, &token, &line);
    assert_eq!(s, 200, "{v}");
    let (court, _) = n.token("court", &[]);
    let bundle = wait_for_bundle(&n, &court, &proof.sm3().unwrap().to_hex());
    assert_eq!(bundle["officers"].as_array().unwrap().len(), 2);
    let (_, policy) = n.call("GET", "/v1/ledger/policy", None, b"");
    let policy: Policy = serde_json::from_value(policy).unwrap();
    let bytes = canonical::canonicalize(&bundle).unwrap();
    let report = verify::verify_bundle_bytes(&bytes, None, &policy).unwrap();
    assert!(
        report.valid,
        "{:?}",
        report
            .checks
            .iter()
            .filter(|c| c.status == Status::Fail)
            .collect::<Vec<_>>()
    );
    for rule in ["officer.signature", "officer.credential"] {
        assert_eq!(report.status(rule), Some(Status::Pass), "{rule}");
    }
    let names: Vec<&str> = bundle["officers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["certificate"]["officer"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["王强", "李明"]);

    // The administrator revokes 310102's key: its next signature is refused, nothing stored.
    let key_id = bundle["officers"][1]["certificate"]["key_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = ok(tiezheng()
        .args([
            "admin",
            "revoke-officer",
            "--notary",
            &n.url,
            "--key-id",
            &key_id,
        ])
        .env("TIEZHENG_ADMIN_TOKEN", &n.admin)
        .output()
        .unwrap());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["revoked"], key_id.as_str());
    let next = ok(capture(
        &dev,
        "photos/DSCN0012.jpg",
        &["310101", "310102"],
        &[("310101", "1111"), ("310102", "2222")],
    ));
    let (s, v) = submit(&n, &token, next.stdout.trim_ascii_end());
    assert_eq!(
        (s, v["code"].as_str()),
        (403, Some("revoked_officer")),
        "{v}"
    );
    assert_eq!(v["field"], json!("/officer_signatures"));
}

#[test]
fn a_key_the_notary_never_bound_is_refused() {
    let root = tempfile::tempdir().unwrap();
    let n = notary(root.path(), &[]);
    let dev = device(root.path(), "dev", &n);
    let token = NotaryBinding::load(&dev).unwrap().api_token;
    // Both officers' keys are on the device, but only 310101's was ever bound by the notary.
    add_officer(&dev, "310101", "王强", "1111");
    add_officer(&dev, "310102", "李明", "2222");
    let code = n.code("310101");
    ok(run(
        &dev,
        &["officer", "enrol", "--id", "310101", "--code", &code],
        &[("TIEZHENG_OFFICER_PIN", "1111")],
    ));
    let out = ok(capture(
        &dev,
        "photos/DSCN0010.jpg",
        &["310101", "310102"],
        &[("310101", "1111"), ("310102", "2222")],
    ));
    let (s, v) = submit(&n, &token, out.stdout.trim_ascii_end());
    assert_eq!(
        (s, v["code"].as_str()),
        (403, Some("unknown_officer")),
        "{v}"
    );
    // A malformed identity is refused before a key is made.
    let bad = run(
        &dev,
        &[
            "officer", "add", "--id", " ", "--name", "x", "--badge", "y", "--unit", "z",
        ],
        &[("TIEZHENG_OFFICER_PIN", "1")],
    );
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("officer_id"));
}
