//! [`Proof::from_value_checked`] enforces exactly what the published proof schema says, and
//! names the value at fault: each rule is broken in turn in the committed example proof, and
//! both an independent JSON Schema validator and the protocol's own check refuse it, the
//! protocol naming the JSON pointer of the value. Rules beyond the schema (plain file names,
//! SM3 and SHA-256 both present) are refused by the protocol alone.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

mod common;

use common::repo_root;
use serde_json::{Value, json};
use tiezheng_protocol::Proof;

fn example() -> Value {
    let text = std::fs::read_to_string(repo_root().join("schemas/examples/proof.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn validator() -> jsonschema::Validator {
    let text = std::fs::read_to_string(repo_root().join("schemas/proof.schema.json")).unwrap();
    jsonschema::draft202012::new(&serde_json::from_str::<Value>(&text).unwrap()).unwrap()
}

fn with(pointer: &str, value: Value) -> Value {
    let mut v = example();
    *v.pointer_mut(pointer)
        .unwrap_or_else(|| panic!("{pointer} is not in the example")) = value;
    v
}

#[test]
fn the_example_passes_both() {
    assert!(validator().is_valid(&example()));
    Proof::from_value_checked(&example()).unwrap();
}

#[test]
fn every_schema_rule_is_enforced_and_names_its_value() {
    let schema = validator();
    let long = "案".repeat(129);
    let cases: Vec<(Value, &str)> = vec![
        (
            with("/manifest/device_seq", json!(0)),
            "/manifest/device_seq",
        ),
        (
            with("/manifest/case/reference", json!("")),
            "/manifest/case/reference",
        ),
        (
            with("/manifest/case/reference", json!(long)),
            "/manifest/case/reference",
        ),
        (
            with("/manifest/manifest_id", json!("../../x")),
            "/manifest/manifest_id",
        ),
        (
            with(
                "/manifest/manifest_id",
                json!("0123456789ABCDEF0123456789abcdef"),
            ),
            "/manifest/manifest_id",
        ),
        (
            with("/manifest/case/collectors", json!([])),
            "/manifest/case/collectors",
        ),
        (
            with("/manifest/type", json!("tiezheng.manifest.v2")),
            "/manifest/type",
        ),
        (
            with(
                "/manifest/items/0/location/coordinate_system",
                json!("GCJ-02"),
            ),
            "/manifest/items/0/location/coordinate_system",
        ),
        (
            with(
                "/manifest/items/0/fingerprint/value",
                json!("D658D8989957C373"),
            ),
            "/manifest/items/0/fingerprint/value",
        ),
        (
            with("/manifest/items/0/file_name", json!("a/b.jpg")),
            "/manifest/items/0/file_name",
        ),
        (
            with("/manifest/items/0/file_name", json!("x".repeat(256))),
            "/manifest/items/0/file_name",
        ),
        (
            with("/manifest/items/0/file_name", json!("")),
            "/manifest/items/0/file_name",
        ),
        (
            with("/manifest/items/0/hashes", json!([])),
            "/manifest/items/0/hashes",
        ),
        // Wrong types, unknown members, bad hex and timestamps: named by the parser.
        (
            with("/manifest/device_seq", json!("1")),
            "/manifest/device_seq",
        ),
        (
            with("/manifest/items/0/bytes", json!(-1)),
            "/manifest/items/0/bytes",
        ),
        (
            with("/manifest/previous_manifest_sm3", json!("ZZ")),
            "/manifest/previous_manifest_sm3",
        ),
        (
            with("/manifest/created_at", json!("yesterday")),
            "/manifest/created_at",
        ),
        (
            with("/manifest/items/0/kind", json!("hologram")),
            "/manifest/items/0/kind",
        ),
        (
            {
                let mut v = example();
                v["manifest"]["case"]["smuggled"] = json!(1);
                v
            },
            "/manifest/case",
        ),
    ];
    for (doc, pointer) in cases {
        assert!(
            !schema.is_valid(&doc),
            "the schema accepts what {pointer} breaks"
        );
        let err = Proof::from_value_checked(&doc)
            .expect_err(&format!("the protocol accepts what {pointer} breaks"));
        assert!(
            err.pointer.starts_with(pointer),
            "{pointer}: the violation names {:?} ({err})",
            err.pointer
        );
        assert!(!err.message.is_empty());
    }
}

#[test]
fn rules_beyond_the_schema_are_enforced_too() {
    for name in [".", "..", "a\u{7}b.jpg"] {
        let err = Proof::from_value_checked(&with("/manifest/items/0/file_name", json!(name)))
            .unwrap_err();
        assert_eq!(
            (err.code, err.pointer.as_str()),
            ("bad_file_name", "/manifest/items/0/file_name")
        );
    }
    // Two SM3 entries and no SHA-256: the schema counts two hashes, the protocol wants both.
    let mut v = example();
    let sm3 = v["manifest"]["items"][0]["hashes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["algorithm"] == "SM3")
        .cloned()
        .unwrap();
    v["manifest"]["items"][0]["hashes"] = json!([sm3, sm3]);
    let err = Proof::from_value_checked(&v).unwrap_err();
    assert_eq!(
        (err.code, err.pointer.as_str()),
        ("invalid_hashes", "/manifest/items/0/hashes")
    );
}
