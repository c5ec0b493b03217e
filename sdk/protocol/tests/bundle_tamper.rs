//! Tampering with any value of a bundle is detected: every scalar of the committed example
//! bundles (embedded and consortium) is changed in turn, and the verifier must refuse the
//! result, naming a layer.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use serde_json::Value;
use tiezheng_protocol::bundle::{Bundle, BundleError, BundleReport, Policy, parse_bundle};

fn verify_bundle(
    b: &Bundle,
    media: Option<&tiezheng_protocol::verify::MediaEvidence>,
    p: &Policy,
) -> Result<BundleReport, BundleError> {
    tiezheng_protocol::verify::verify_bundle(b, media, p)?.summary()
}

fn repo_root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(name: &str) -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("schemas/examples").join(name)).unwrap(),
    )
    .unwrap()
}

/// Every scalar of `v` with its JSON pointer.
fn scalars(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                scalars(
                    x,
                    format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                scalars(x, format!("{at}/{i}"), out);
            }
        }
        Value::Null => {}
        _ => out.push(at),
    }
}

/// A different value of the same kind: one character changed, a number plus one, a negated bool.
fn changed(v: &Value) -> Value {
    match v {
        Value::String(s) => {
            let mut c: Vec<char> = s.chars().collect();
            if c.is_empty() {
                return Value::String("x".into());
            }
            let i = c.len() / 2;
            c[i] = match c[i] {
                '0' => '1',
                'a' => 'b',
                'A' => 'B',
                '9' => '8',
                'z' => 'y',
                'Z' => 'Y',
                ch if ch.is_ascii_digit() => '0',
                ch if ch.is_ascii_lowercase() => 'a',
                ch if ch.is_ascii_uppercase() => 'A',
                _ => '0',
            };
            Value::String(c.into_iter().collect())
        }
        Value::Number(n) => Value::from(n.as_u64().map_or(1, |x| x + 1)),
        Value::Bool(b) => Value::Bool(!b),
        other => other.clone(),
    }
}

/// The pointers whose change the verifier does not notice.
fn undetected(bundle: &Value, policy: &Policy) -> Vec<String> {
    let original: Bundle = serde_json::from_value(bundle.clone()).unwrap();
    verify_bundle(&original, None, policy).unwrap();
    let mut paths = Vec::new();
    scalars(bundle, String::new(), &mut paths);
    assert!(paths.len() > 100, "{}", paths.len());
    paths
        .into_iter()
        .filter(|p| {
            let mut v = bundle.clone();
            let slot = v.pointer_mut(p).unwrap();
            *slot = changed(slot);
            let Ok(b) = parse_bundle(&serde_json::to_vec(&v).unwrap()) else {
                return false;
            };
            verify_bundle(&b, None, policy).is_ok()
        })
        .collect()
}

#[test]
fn every_value_of_an_embedded_bundle_is_checked() {
    let policy: Policy = serde_json::from_value(read("policy.json")).unwrap();
    let missed = undetected(&read("bundle.json"), &policy);
    assert!(missed.is_empty(), "not detected: {missed:#?}");
}

#[test]
fn every_value_of_a_consortium_bundle_is_checked() {
    let policy: Policy = serde_json::from_value(read("policy-consortium.json")).unwrap();
    let missed = undetected(&read("bundle-consortium.json"), &policy);
    assert!(missed.is_empty(), "not detected: {missed:#?}");
}

#[test]
fn every_value_of_a_bundle_after_a_registry_change_is_checked() {
    let policy: Policy = serde_json::from_value(read("policy-consortium.json")).unwrap();
    let missed = undetected(&read("bundle-consortium-governance.json"), &policy);
    assert!(missed.is_empty(), "not detected: {missed:#?}");
}
