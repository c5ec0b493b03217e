//! The public digest (`tiezheng.public-digest.v1`) through the one verification entry: the
//! committed example (`schemas/examples/public-digest.json`, of the example certificate) is
//! verified with and without its file, shown to carry none of the certificate's personal data,
//! and changed one thing at a time, signed again with the real key (the GB/T 32918.5 Annex A
//! test key that signed it), each change refused by the rule under test.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::{Value, json};
use tiezheng_protocol::bundle::Policy;
use tiezheng_protocol::digest::{PublicDigest, SignedPublicDigest};
use tiezheng_protocol::verify::{
    DocumentKind, DocumentVerification, MediaEvidence, Status, verify_document,
};
use tiezheng_protocol::{DualHasher, SignatureBlock, Sm2SigningKey};

/// GB/T 32918.5-2017 Annex A private key: public, so anyone can re-make the example's
/// signatures.
const TEST_KEY: &str = "3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b8";

fn key() -> Sm2SigningKey {
    Sm2SigningKey::from_bytes(&hex::decode(TEST_KEY).unwrap()).unwrap()
}

fn example(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../schemas/examples")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn policy() -> Policy {
    serde_json::from_value(example("certificate.json")["certificate"]["bundle"]["policy"].clone())
        .unwrap()
}

fn file(bytes: &[u8]) -> MediaEvidence {
    let mut h = DualHasher::new();
    h.update(bytes);
    MediaEvidence::whole(h.finalize())
}

fn verify(v: &Value, media: Option<&[u8]>) -> DocumentVerification {
    let evidence = media.map(file);
    verify_document(
        &serde_json::to_vec(v).unwrap(),
        evidence.as_ref(),
        Some(&policy()),
    )
    .unwrap()
}

fn failed(r: &DocumentVerification) -> BTreeSet<&'static str> {
    r.checks
        .iter()
        .filter(|c| c.status == Status::Fail)
        .map(|c| c.rule)
        .collect()
}

fn resign(mut v: Value, key: &Sm2SigningKey) -> Value {
    let sig = SignatureBlock::sign(key, &v["digest"]).unwrap();
    v["signature"] = serde_json::to_value(sig).unwrap();
    v
}

#[test]
fn the_example_is_the_digest_of_the_example_certificate_and_verifies() {
    let cert = serde_json::from_value(example("certificate.json")).unwrap();
    let digest = example("public-digest.json");
    assert_eq!(
        serde_json::to_value(PublicDigest::of(&cert).unwrap()).unwrap(),
        digest["digest"]
    );
    let r = verify(&digest, Some(b"abc"));
    assert_eq!(r.kind, DocumentKind::PublicDigest);
    assert!(r.valid, "{:?}", failed(&r));
    assert_eq!(r.facts.media_item, Some(0));
    let facts = r.certificate.clone().unwrap();
    assert_eq!(facts.number, digest["digest"]["number"].as_str().unwrap());
    for rule in [
        "digest.format",
        "digest.signature",
        "digest.issuer",
        "digest.number",
        "leaf.inclusion",
        "anchor.inclusion",
        "checkpoint.quorum",
        "media.item",
        "media.sha256",
        "media.bytes",
    ] {
        assert_eq!(r.status(rule), Some(Status::Pass), "{rule}");
    }
    assert_eq!(r.status("proof.signature"), Some(Status::Skip));
    // Without a file the digest itself verifies; with another file only the file is refused.
    assert!(verify(&digest, None).valid);
    let other = verify(&digest, Some(b"abd"));
    assert_eq!(failed(&other), BTreeSet::from(["media.item"]));
}

/// Every string the certificate states about people, places, the case, the device and the
/// files, none of which the digest may carry.
fn personal(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) if s.chars().count() >= 3 => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| personal(x, out)),
        Value::Object(o) => o.values().for_each(|x| personal(x, out)),
        _ => {}
    }
}

#[test]
fn the_digest_carries_no_personal_data() {
    let cert = example("certificate.json");
    let c = &cert["certificate"];
    let mut secrets = Vec::new();
    personal(&c["case"], &mut secrets);
    personal(&c["device"], &mut secrets);
    for item in c["items"].as_array().unwrap() {
        personal(&item["file_name"], &mut secrets);
        personal(&item["location"], &mut secrets);
        personal(&item["file_gps"], &mut secrets);
    }
    let manifest = &c["bundle"]["proof"]["manifest"];
    personal(&manifest["case"], &mut secrets);
    personal(&manifest["device"], &mut secrets);
    // The device's key ID (SM3 of its public key) stays: the notary's receipt signs it, and
    // it names a key, not a person.
    let key_id = c["device"]["key_id"].as_str().unwrap().to_owned();
    secrets.retain(|s| *s != key_id);
    // Short numbers (powers, sizes) also occur elsewhere; names, places and references do not.
    secrets.retain(|s| s.len() >= 6);
    assert!(secrets.len() > 8, "{secrets:?}");
    let digest = serde_json::to_string(&example("public-digest.json")).unwrap();
    for s in &secrets {
        assert!(!digest.contains(s.as_str()), "the digest carries {s:?}");
    }
    assert!(!digest.contains("\"manifest\""));
}

#[test]
fn every_change_is_refused_by_its_rule() {
    let k = key();
    let genuine = example("public-digest.json");
    let other = Sm2SigningKey::from_bytes(&[7u8; 32]).unwrap();
    let cases: Vec<(&str, Value, BTreeSet<&str>)> = vec![
        (
            "another number",
            {
                let mut v = genuine.clone();
                v["digest"]["number"] = json!("TZ-20261121-0000000000000000");
                resign(v, &k)
            },
            BTreeSet::from(["digest.number"]),
        ),
        (
            "signed by a key the policy does not trust",
            resign(genuine.clone(), &other),
            BTreeSet::from(["digest.signature"]),
        ),
        (
            "an issuer key that is not the notary's",
            {
                let mut v = genuine.clone();
                v["digest"]["issuer"]["public_key"] = json!(other.public_key().to_hex());
                resign(v, &k)
            },
            BTreeSet::from(["digest.issuer"]),
        ),
        (
            "a credit code with a wrong check character",
            {
                let mut v = genuine.clone();
                v["digest"]["issuer"]["credit_code"] = json!("91110108MA01TE000C");
                resign(v, &k)
            },
            BTreeSet::from(["digest.issuer"]),
        ),
        (
            "another proof",
            {
                let mut v = genuine.clone();
                v["digest"]["proof_sm3"] = json!("00".repeat(32));
                resign(v, &k)
            },
            BTreeSet::from(["receipt.proof_sm3", "leaf.proof_sm3", "digest.number"]),
        ),
        (
            "a member more (the manifest)",
            {
                let mut v = genuine.clone();
                v["digest"]["manifest"] =
                    example("certificate.json")["certificate"]["bundle"]["proof"]["manifest"]
                        .clone();
                resign(v, &k)
            },
            BTreeSet::from(["digest.format"]),
        ),
        (
            "another type",
            {
                let mut v = genuine.clone();
                v["digest"]["type"] = json!("tiezheng.public-digest.v2");
                resign(v, &k)
            },
            BTreeSet::from(["digest.format"]),
        ),
        (
            "another salt",
            {
                let mut v = genuine.clone();
                v["digest"]["batch"]["leaf"]["salt"] = json!("0".repeat(32));
                resign(v, &k)
            },
            BTreeSet::from(["leaf.inclusion"]),
        ),
        (
            "the anchor record moved to another height",
            {
                let mut v = genuine.clone();
                v["digest"]["anchor"]["record"]["height"] = json!(2);
                resign(v, &k)
            },
            BTreeSet::from(["anchor.inclusion", "digest.number"]),
        ),
    ];
    let mut wrong = Vec::new();
    for (name, v, expected) in &cases {
        let r = verify(v, Some(b"abc"));
        if r.valid || failed(&r) != *expected {
            wrong.push(format!("{name}: failed {:?}", failed(&r)));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn a_digest_signed_with_the_api_verifies_with_the_api() {
    let cert = serde_json::from_value(example("certificate.json")).unwrap();
    let signed = SignedPublicDigest::sign(PublicDigest::of(&cert).unwrap(), &key()).unwrap();
    signed.verify(key().public_key()).unwrap();
    let bytes = signed.to_bytes().unwrap();
    let v: Value = serde_json::from_slice(&bytes).unwrap();
    assert!(verify(&v, Some(b"abc")).valid);
}
