//! The strict JSON parser and RFC 8785 canonical form: any input either is refused or
//! re-encodes to canonical bytes that parse back to the same value and re-encode identically.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tiezheng_protocol::canonical;

fuzz_target!(|data: &[u8]| {
    if let Ok(value) = canonical::parse_strict(data) {
        let bytes = canonical::canonicalize(&value).expect("a parsed value canonicalises");
        let again = canonical::parse_canonical(&bytes).expect("canonical bytes parse as canonical");
        assert_eq!(again, value, "canonical form changed the value");
        assert_eq!(canonical::canonicalize(&again).expect("re-encode"), bytes);
    }
});
