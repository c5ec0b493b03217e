//! The rules of the proof schema that the Rust types alone do not enforce. The schemars
//! attributes of [`Manifest`](super::Manifest) and its parts are written with these constants,
//! so the published schema (`schemas/proof.schema.json`) and
//! [`Proof::from_value_checked`](super::Proof::from_value_checked), which the notary, the SDK
//! and every verifier call, say the same thing.

/// The largest integer a signed document may carry (2^53 − 1, as RFC 8785 / I-JSON).
pub const MAX_SAFE_INTEGER: u64 = 9_007_199_254_740_991;
/// Longest case reference, in characters (JSON Schema counts code points).
pub const CASE_REFERENCE_MAX_CHARS: u64 = 128;
/// Fewest collectors a collection record names.
pub const COLLECTORS_MIN: u64 = 1;
/// Fewest content hashes per item (SM3 and SHA-256).
pub const HASHES_MIN: u64 = 2;
/// Longest file name, in characters.
pub const FILE_NAME_MAX_CHARS: usize = 255;
/// A file name: 1 to 255 characters, none of them `/`, `\` or NUL.
pub const FILE_NAME_PATTERN: &str = r"^[^/\\\x00]{1,255}$";
/// 32 lowercase hex digits (`manifest_id`, `recording_id`).
pub const HEX32_PATTERN: &str = r"^[0-9a-f]{32}$";
/// 16 lowercase hex digits (a dHash fingerprint).
pub const HEX16_PATTERN: &str = r"^[0-9a-f]{16}$";
/// The only coordinate system locations are recorded in.
pub const COORDINATE_SYSTEM: &str = "WGS-84";
/// A forensic profile's id: lowercase letters and digits in dot- or hyphen-separated words.
pub const PROFILE_ID_PATTERN: &str = r"^[a-z0-9]+([.-][a-z0-9]+)*$";
/// Longest reason recorded for a `should` not met, in characters.
pub const REASON_MAX_CHARS: usize = 500;
