//! Structure-aware: the fuzzer's bytes become edits of the example bundle's signed manifest
//! (any member set to another string, number, boolean or null, or removed), and the bundle is
//! then re-signed with the example's real key (GB/T 32918.5 Annex A, the device, the notary and
//! the one member) with every dependent hash, root, path and cosignature recomputed, so that
//! each input passes the signatures and reaches the semantic rules behind them. The file
//! checked is `abc` (the example's) or the fuzzer's own bytes.
//!
//! Invariants: never a panic; the same input gives the same report twice; a bundle that
//! verifies re-encodes, parsed, to exactly the bytes that were verified.
#![no_main]

use std::sync::LazyLock;

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use tiezheng_protocol::bundle::{Bundle, Policy, parse_bundle};
use tiezheng_protocol::ledger::SignedBatchHeader;
use tiezheng_protocol::manifest::{Manifest, Proof};
use tiezheng_protocol::merkle::{MerkleHasher as _, Sm3Hasher};
use tiezheng_protocol::notary::SignedReceipt;
use tiezheng_protocol::verify::{MediaEvidence, verify_bundle_bytes};
use tiezheng_protocol::{DualHasher, Sm2SigningKey, canonical};

static BUNDLE: LazyLock<Bundle> = LazyLock::new(|| {
    serde_json::from_str(include_str!("../../schemas/examples/bundle.json")).expect("example")
});
static POLICY: LazyLock<Policy> = LazyLock::new(|| {
    serde_json::from_str(include_str!("../../schemas/examples/policy.json")).expect("policy")
});
static KEY: LazyLock<Sm2SigningKey> = LazyLock::new(|| {
    let hex = "3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b8";
    let bytes: Vec<u8> = (0..32)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex"))
        .collect();
    Sm2SigningKey::from_bytes(&bytes).expect("the published test key")
});

#[derive(Arbitrary, Debug)]
enum NewValue {
    Text(String),
    Number(i64),
    Flag(bool),
    Null,
    Remove,
}

#[derive(Arbitrary, Debug)]
struct Edit {
    at: u16,
    value: NewValue,
}

/// Every member path of `v` (objects' members and arrays' elements), depth first.
fn paths(v: &Value, at: &mut Vec<Value>, all: &mut Vec<Vec<Value>>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                at.push(Value::String(k.clone()));
                all.push(at.clone());
                paths(x, at, all);
                at.pop();
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                at.push(Value::from(i));
                all.push(at.clone());
                paths(x, at, all);
                at.pop();
            }
        }
        _ => {}
    }
}

fn apply(manifest: &mut Value, edit: Edit) {
    let mut all = Vec::new();
    paths(manifest, &mut Vec::new(), &mut all);
    let Some(path) = all.get(usize::from(edit.at) % all.len().max(1)) else {
        return;
    };
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut node = manifest;
    for p in parents {
        node = match p {
            Value::String(k) => &mut node[k.as_str()],
            _ => &mut node[p.as_u64().unwrap_or(0) as usize],
        };
    }
    let new = match edit.value {
        NewValue::Text(s) => Value::String(s),
        NewValue::Number(n) => Value::from(n),
        NewValue::Flag(b) => Value::Bool(b),
        NewValue::Null => Value::Null,
        NewValue::Remove => {
            match (node, last) {
                (Value::Object(o), Value::String(k)) => {
                    o.remove(k);
                }
                (Value::Array(a), i) => {
                    let i = i.as_u64().unwrap_or(0) as usize;
                    if i < a.len() {
                        a.remove(i);
                    }
                }
                _ => {}
            }
            return;
        }
    };
    match (node, last) {
        (Value::Object(o), Value::String(k)) => {
            o.insert(k.clone(), new);
        }
        (Value::Array(a), i) => {
            if let Some(x) = a.get_mut(i.as_u64().unwrap_or(0) as usize) {
                *x = new;
            }
        }
        _ => {}
    }
}

/// Re-signs `b` around `manifest` as the notary, the device and the member would.
fn reseal(b: &mut Bundle, manifest: Manifest) -> Option<()> {
    let key = &*KEY;
    b.proof = Proof::sign(manifest, key).ok()?;
    let proof_sm3 = b.proof.sm3().ok()?;
    let mut receipt = b.receipt.receipt.clone();
    receipt.proof_sm3 = proof_sm3;
    receipt.manifest_sm3 = b.proof.manifest.sm3().ok()?;
    receipt.device_seq = b.proof.manifest.device_seq;
    b.receipt = SignedReceipt::sign(receipt, key).ok()?;
    b.batch.leaf.proof_sm3 = proof_sm3;
    // One leaf, one record: each tree's root is its leaf hash.
    let mut header = b.batch.header.header.clone();
    header.root = Sm3Hasher::leaf(&b.batch.leaf.data());
    b.batch.header = SignedBatchHeader::sign(header, key).ok()?;
    let h = &b.batch.header.header;
    b.anchor.record.batch_header_sm3 = h.sm3().ok()?;
    b.anchor.record.root = h.root;
    b.checkpoint.checkpoint.anchor_log_root = Sm3Hasher::leaf(&b.anchor.record.leaf_bytes().ok()?);
    b.checkpoint.cosignatures = vec![b.checkpoint.checkpoint.cosign("court", key).ok()?];
    Some(())
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(edits) = Vec::<Edit>::arbitrary(&mut u) else {
        return;
    };
    let own_file = bool::arbitrary(&mut u).unwrap_or(false);
    let mut bundle = BUNDLE.clone();
    let Ok(mut manifest) = serde_json::to_value(&bundle.proof.manifest) else {
        return;
    };
    for e in edits.into_iter().take(4) {
        apply(&mut manifest, e);
    }
    let Ok(manifest) = serde_json::from_value::<Manifest>(manifest) else {
        return;
    };
    if reseal(&mut bundle, manifest).is_none() {
        return;
    }
    let Ok(bytes) = canonical::to_canonical_bytes(&bundle) else {
        return;
    };
    let mut h = DualHasher::new();
    h.update(if own_file { u.take_rest() } else { b"abc" });
    let media = MediaEvidence::whole(h.finalize());
    let first = verify_bundle_bytes(&bytes, Some(&media), &POLICY).expect("the example policy");
    let again = verify_bundle_bytes(&bytes, Some(&media), &POLICY).expect("the example policy");
    assert_eq!(first, again, "the same bundle gave two reports");
    if first.valid {
        let parsed = parse_bundle(&bytes).expect("a valid bundle parses");
        let back = canonical::to_canonical_bytes(&parsed).expect("it re-encodes");
        assert_eq!(
            back, bytes,
            "a valid bundle does not re-encode to its bytes"
        );
    }
});
