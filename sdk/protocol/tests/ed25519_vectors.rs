//! The ed25519 rule of CometBFT commits, pinned by published edge cases: the twelve cases of
//! "Taming the many EdDSAs" (`schemas/vectors/ed25519-speccheck.json`: small-order and
//! mixed-order keys, non-canonical S, R and A) give the ZIP-215 verdicts the published results
//! table gives for its reference implementation, in the verifier's own code path (tendermint's
//! default verifier, as `chain.signatures` uses it) and in the Python reference verifier.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;
use tendermint::crypto::signature::Verifier as _;

fn cases() -> Vec<Value> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../schemas/vectors/ed25519-speccheck.json");
    let doc: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    doc["cases"].as_array().unwrap().clone()
}

fn bytes(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap()).unwrap()
}

#[test]
fn the_rust_verifier_applies_zip215_to_the_published_edge_cases() {
    let cases = cases();
    assert_eq!(cases.len(), 12);
    for c in &cases {
        let key = tendermint::PublicKey::from_raw_ed25519(&bytes(&c["public_key"]));
        let sig = tendermint::Signature::try_from(bytes(&c["signature"]).as_slice()).ok();
        let verdict = match (key, sig) {
            (Some(k), Some(s)) => tendermint::crypto::default::signature::Verifier::verify(
                k,
                &bytes(&c["message"]),
                &s,
            )
            .is_ok(),
            _ => false,
        };
        assert_eq!(
            verdict,
            c["zip215"].as_bool().unwrap(),
            "case {}: ZIP-215 says {}",
            c["case"],
            c["zip215"]
        );
    }
}

#[test]
fn the_python_reference_verifier_agrees() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tools/reference-verifier");
    let script = r#"
import json, sys, ed25519
doc = json.load(open(sys.argv[1]))
print(json.dumps([ed25519.verify(bytes.fromhex(c["public_key"]), bytes.fromhex(c["message"]),
                                 bytes.fromhex(c["signature"])) for c in doc["cases"]]))
"#;
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(dir.join("../../schemas/vectors/ed25519-speccheck.json"))
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Vec<bool> = serde_json::from_slice(&out.stdout).unwrap();
    let want: Vec<bool> = cases()
        .iter()
        .map(|c| c["zip215"].as_bool().unwrap())
        .collect();
    assert_eq!(got, want);
}
