//! The browser's entry points, run natively on the published examples: the same verdicts and
//! layers as the protocol's verifier, and a typed report (never a panic) for bad input.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, missing_docs)]

use serde_json::Value;
use tiezheng_wasm::{Hasher, check_custody, segment_ranges, verify_json};

fn example(name: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../schemas/examples")
            .join(name),
    )
    .unwrap()
}

fn report(evidence: &[u8], media: Option<&str>, policy: Option<&[u8]>) -> Value {
    serde_json::from_str(&verify_json(evidence, media, policy)).unwrap()
}

fn failing(r: &Value) -> Option<(String, String)> {
    r["checks"].as_array().unwrap().iter().find_map(|c| {
        (c["status"] == "fail").then(|| {
            (
                c["layer"].as_str().unwrap().to_owned(),
                c["rule"].as_str().unwrap().to_owned(),
            )
        })
    })
}

#[test]
fn example_bundles_verify_against_their_policies() {
    for (bundle, policy) in [
        ("bundle.json", "policy.json"),
        ("bundle-consortium.json", "policy-consortium.json"),
    ] {
        let r = report(&example(bundle), None, Some(&example(policy)));
        assert_eq!(r["verdict"], "valid", "{bundle}: {r}");
        assert_eq!(r["policy"]["source"], "court");
        assert_eq!(r["policy"]["fingerprint"].as_str().unwrap().len(), 64);
        let media = r["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["layer"] == "media")
            .unwrap();
        assert_eq!(media["status"], "skipped", "no media file given");
    }
}

#[test]
fn wrong_media_fails_the_media_layer_and_names_it() {
    let bundle = example("bundle.json");
    // SM3 and SHA-256 of the empty file: not an item of the example proof.
    let media = r#"{"bytes": 0, "sm3": "1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b", "sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}"#;
    let r = report(&bundle, Some(media), Some(&example("policy.json")));
    assert_eq!(r["verdict"], "invalid");
    assert_eq!(failing(&r).unwrap().0, "media");
}

#[test]
fn a_changed_bundle_fails_the_same_layer_as_the_protocol_verifier() {
    let mut v: Value = serde_json::from_slice(&example("bundle.json")).unwrap();
    v["receipt"]["receipt"]["device_seq"] = Value::from(99);
    let bytes = serde_json::to_vec(&v).unwrap();
    let policy: tiezheng_protocol::bundle::Policy =
        serde_json::from_slice(&example("policy.json")).unwrap();
    let want = tiezheng_protocol::bundle::parse_bundle(&bytes)
        .and_then(|b| {
            tiezheng_protocol::verify::verify_bundle(&b, None, &policy)
                .map_err(tiezheng_protocol::bundle::BundleError::from)
                .and_then(|v| v.summary())
        })
        .unwrap_err();
    let r = report(&bytes, None, Some(&example("policy.json")));
    assert_eq!(r["verdict"], "invalid");
    assert_eq!(failing(&r).unwrap().0, want.layer);
}

#[test]
fn bad_input_gets_a_typed_report() {
    for (evidence, media, policy, layer) in [
        (&b"not json"[..], None, None, "bundle"),
        // A PDF carrying no certificate is refused (invalid), as `tiezheng verify` does: see
        // below.
        // Not a certificate (its type sits under `certificate`), and not a bundle either.
        (
            &br#"{"type":"tiezheng.certificate.v1"}"#[..],
            None,
            None,
            "bundle",
        ),
        (&br#"{"type":"something.else"}"#[..], None, None, "bundle"),
        (&b"{}"[..], Some("{}"), None, "media"),
        (&b"{}"[..], None, Some(&b"[]"[..]), "policy"),
    ] {
        let r = report(evidence, media, policy);
        assert_eq!(r["verdict"], "unusable", "{r}");
        assert_eq!(failing(&r).unwrap().0, layer, "{r}");
    }
    let r = report(&b"%PDF-1.7 ..."[..], None, None);
    assert_eq!(r["verdict"], "invalid", "{r}");
    assert_eq!(failing(&r).unwrap().0, "certificate", "{r}");
}

#[test]
fn hasher_and_custody_entry_points() {
    let mut h = Hasher::new("SM3").unwrap();
    h.update(b"abc");
    assert_eq!(
        h.finalize(),
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    );
    let ranges: Vec<[u64; 2]> =
        serde_json::from_str(&segment_ranges(&example("bundle.json"))).unwrap();
    assert!(ranges.iter().all(|[_, n]| *n > 0));
    assert_eq!(segment_ranges(b"not a bundle"), "[]");
    let media = r#"{"bytes": 0, "sm3": "1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b", "sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "segments": ["zz"]}"#;
    let r: Value =
        serde_json::from_str(&verify_json(&example("bundle.json"), Some(media), None)).unwrap();
    assert_eq!(
        r["verdict"], "unusable",
        "a malformed segment hash is refused"
    );
    let c: Value = serde_json::from_str(&check_custody("[]")).unwrap();
    assert_eq!(c["intact"], true);
    let c: Value = serde_json::from_str(&check_custody("{")).unwrap();
    assert_eq!(c["intact"], false);
}
