//! Property-based fuzzing of every parser that reads untrusted input (stable-Rust stand-in for
//! cargo-fuzz, which needs a nightly toolchain). Each parser must return a typed error, never
//! panic, and strict encodings must be unique: whatever a strict parser accepts re-encodes to
//! exactly the bytes it was given.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, missing_docs)]

use proptest::prelude::*;
use serde_json::Value;
use tiezheng_protocol::canonical::{self, CanonicalError};
use tiezheng_protocol::sm2::{Sm2PublicKey, Sm2Signature, Sm2SigningKey};
use tiezheng_protocol::{Hash32, InclusionProof, SignatureBlock};

const GOOD_DER: &str = "3046022100f5a03b0648d2c4630eeac513e1bb81a15944da3827d5b74143ac7eaceee720b3022100b1b6aa29df212fd8763182bc0d421ca1bb9038fd1f7f42d4840b69c485bbc1aa";

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 10_000,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Arbitrary JSON without floats, as documents are.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-(1i64 << 53) + 1..(1i64 << 53)).prop_map(|n| Value::Number(n.into())),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn der_random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..80)) {
        if let Ok(sig) = Sm2Signature::from_der(&bytes) {
            prop_assert_eq!(sig.to_der(), bytes);
        }
    }

    #[test]
    fn der_mutations_of_a_valid_signature(pos in 0usize..72, val in any::<u8>(), cut in 0usize..73, extra in prop::collection::vec(any::<u8>(), 0..3)) {
        let mut bytes = hex::decode(GOOD_DER).unwrap();
        bytes[pos] = val;
        bytes.truncate(cut);
        bytes.extend_from_slice(&extra);
        if let Ok(sig) = Sm2Signature::from_der(&bytes) {
            prop_assert_eq!(sig.to_der(), bytes);
        }
    }

    #[test]
    fn base64_signature_text(s in "[A-Za-z0-9+/=]{0,100}|\\PC{0,40}") {
        if let Ok(sig) = Sm2Signature::from_base64(&s) {
            prop_assert_eq!(sig.to_base64(), s);
        }
    }

    #[test]
    fn public_key_bytes(prefix in prop_oneof![Just(4u8), any::<u8>()], rest in prop::collection::vec(any::<u8>(), 0..70)) {
        let mut bytes = vec![prefix];
        bytes.extend_from_slice(&rest);
        if let Ok(key) = Sm2PublicKey::from_sec1(&bytes) {
            prop_assert_eq!(key.to_sec1().to_vec(), bytes);
        }
    }

    #[test]
    fn public_key_text(s in "\\PC{0,200}") {
        let _ = Sm2PublicKey::from_hex(&s);
        let _ = Sm2PublicKey::from_pem(&s);
        let _ = Hash32::from_hex(&s);
    }

    #[test]
    fn strict_json_random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(v) = canonical::parse_strict(&bytes) {
            let c = canonical::canonicalize(&v).unwrap();
            prop_assert_eq!(canonical::parse_canonical(&c).unwrap(), v);
        }
    }

    #[test]
    fn strict_json_text(s in "[\\[\\]{}\",:0-9a-z.eE+\\- \\\\]{0,120}") {
        match canonical::parse_strict(s.as_bytes()) {
            Ok(v) => { canonical::canonicalize(&v).unwrap(); }
            Err(CanonicalError::Syntax { .. } | CanonicalError::DuplicateKey { .. } | CanonicalError::Float { .. } | CanonicalError::IntegerOutOfRange { .. }) => {}
            Err(e) => prop_assert!(false, "unexpected error kind {e:?}"),
        }
    }

    #[test]
    fn canonical_form_is_a_fixed_point(v in json_value()) {
        let c = canonical::canonicalize(&v).unwrap();
        let parsed = canonical::parse_canonical(&c).unwrap();
        prop_assert_eq!(&parsed, &v);
        // Any other serialisation of the same value parses but is reported as not canonical.
        let pretty = serde_json::to_vec_pretty(&v).unwrap();
        if pretty != c {
            prop_assert_eq!(canonical::parse_canonical(&pretty), Err(CanonicalError::NotCanonical));
        }
    }

    #[test]
    fn wire_documents_from_random_json(v in json_value()) {
        let _ = serde_json::from_value::<SignatureBlock>(v.clone());
        if let Ok(p) = serde_json::from_value::<InclusionProof>(v) {
            let _ = p.verify(&Hash32([0; 32]), &Hash32([0; 32]));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    /// Signatures over arbitrary documents verify, and break when the document changes.
    #[test]
    fn sign_verify_arbitrary_documents(v in json_value(), extra in any::<String>()) {
        let key = Sm2SigningKey::generate();
        let block = SignatureBlock::sign(&key, &v).unwrap();
        prop_assert!(block.verify_value(&v).is_ok());
        let changed = serde_json::json!({"wrapped": v, "extra": extra});
        prop_assert!(block.verify_value(&changed).is_err());
    }
}
