//! A vote extension as a validator receives it in `VerifyVoteExtension`: the bytes parsed as
//! the ABCI application does (RFC 8785, strict) into a member's cosignature, and counted against
//! the example checkpoint and its consortium. Invariants: never a panic; a cosignature that
//! counts is by a member, and re-encodes to exactly the bytes received.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use tiezheng_protocol::bundle::Policy;
use tiezheng_protocol::canonical;
use tiezheng_protocol::ledger::{Cosignature, CosignedCheckpoint};

static CHECKPOINT: LazyLock<CosignedCheckpoint> = LazyLock::new(|| {
    serde_json::from_str(include_str!("../../schemas/examples/checkpoint.json")).expect("example")
});
static POLICY: LazyLock<Policy> = LazyLock::new(|| {
    serde_json::from_str(include_str!("../../schemas/examples/policy.json")).expect("policy")
});

fuzz_target!(|data: &[u8]| {
    let Ok(value) = canonical::parse_canonical(data) else {
        return;
    };
    let Ok(c) = serde_json::from_value::<Cosignature>(value) else {
        return;
    };
    let one = CosignedCheckpoint {
        checkpoint: CHECKPOINT.checkpoint.clone(),
        cosignatures: vec![c.clone()],
    };
    let members = POLICY.registry().members;
    if one.signed_power(&members) > 0 {
        assert!(members.iter().any(|(m, _, _)| *m == c.member));
        let back = canonical::to_canonical_bytes(&c).expect("it re-encodes");
        assert_eq!(
            back, data,
            "a counted cosignature does not re-encode to its bytes"
        );
    }
});
