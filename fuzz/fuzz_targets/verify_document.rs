//! The one verification entry every front end calls (bundle, certificate JSON or certificate
//! PDF, recognised from the bytes), with the committed consortium policy pinned: never a panic;
//! a verdict or an "unusable input" for every input.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use tiezheng_protocol::bundle::Policy;
use tiezheng_protocol::verify::verify_document;

static POLICY: LazyLock<Policy> = LazyLock::new(|| {
    serde_json::from_str(include_str!(
        "../../schemas/examples/policy-consortium.json"
    ))
    .expect("the committed policy")
});

fuzz_target!(|data: &[u8]| {
    let _ = verify_document(data, None, Some(&POLICY));
    let _ = verify_document(data, None, None);
});
