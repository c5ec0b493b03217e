//! What a manifest records of the forensic procedure it followed: the profile, named by id,
//! version and SM3, and each capture-time requirement's outcome. The profiles themselves, and
//! what each requirement means, are [`crate::profile`]'s.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::limits::PROFILE_ID_PATTERN;
use crate::hash::Hash32;

/// What a manifest records of the procedure it followed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Procedure {
    /// The profile followed.
    pub profile: ProfileRef,
    /// The outcome of each of the profile's capture-time requirements (all but
    /// `profile.receipt_delay`), in the profile's order.
    pub outcomes: Vec<Outcome>,
}

/// A profile named by id, version and SM3.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileRef {
    /// The profile's id.
    #[schemars(regex(pattern = PROFILE_ID_PATTERN), length(min = 1, max = 100))]
    pub id: String,
    /// The profile's version.
    #[schemars(range(min = 1, max = 1_000_000))]
    pub version: u32,
    /// SM3 of the profile's RFC 8785 bytes.
    pub sm3: Hash32,
}

/// One requirement's outcome at capture.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Outcome {
    /// The requirement's rule.
    pub rule: String,
    /// Whether it held.
    pub met: bool,
    /// Why a `should` that did not hold was accepted (absent when met).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 500))]
    pub reason: Option<String>,
}
