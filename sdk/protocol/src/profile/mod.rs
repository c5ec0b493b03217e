//! Forensic profiles (取证规范): named, versioned rule sets that a capture follows, kept as data
//! in `schemas/profiles/` and built into every verifier.
//!
//! A [`Profile`] lists [`Requirement`]s, each a rule of the verifier's catalogue (`profile.*`)
//! with a severity and its parameters: a `must` that does not hold refuses the capture; a
//! `should` that does not hold is allowed only with a reason, recorded. A manifest names the
//! profile it followed by id, version and the SM3 of the profile's RFC 8785 bytes, and records
//! each capture-time requirement's outcome ([`Procedure`]); the verifier looks the profile up
//! in its own catalogue ([`builtin`]) and re-checks every outcome against the manifest.
//!
//! This module holds the profile and procedure types and the catalogue; evaluating a
//! requirement on a manifest's facts is `rules.rs`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::canonical::{self, CanonicalError};
use crate::hash::Hash32;

mod rules;

pub use crate::manifest::{Outcome, Procedure, ProfileRef};
pub(crate) use rules::review;
pub use rules::{
    Facts, ItemFacts, ProcedureViolation, RuleKind, assess, check_procedure, evaluate,
    receipt_delay,
};

/// The `type` of a forensic profile.
pub const PROFILE_TYPE: &str = "tiezheng.profile.v1";
/// The profile a device follows when none was chosen: no legal claim.
pub const BASIC_PROFILE: &str = "basic";
pub use crate::manifest::limits::{PROFILE_ID_PATTERN, REASON_MAX_CHARS};

/// The profiles every verifier ships: `(file name, bytes)` of `schemas/profiles/*.json`.
const BUILTIN: &[(&str, &str)] = &[
    (
        "basic.json",
        include_str!("../../../../schemas/profiles/basic.json"),
    ),
    (
        "cn.mps.criminal-electronic-data.2019.json",
        include_str!("../../../../schemas/profiles/cn.mps.criminal-electronic-data.2019.json"),
    ),
    (
        "cn.admin-penalty.onsite.2021.json",
        include_str!("../../../../schemas/profiles/cn.admin-penalty.onsite.2021.json"),
    ),
    (
        "cn.online-litigation.2021.json",
        include_str!("../../../../schemas/profiles/cn.online-litigation.2021.json"),
    ),
];

/// A forensic profile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "Profile",
    description = "Forensic profile: a named, versioned set of requirements a capture follows (schemas/profiles/)."
)]
pub struct Profile {
    /// Always `"tiezheng.profile.v1"`.
    #[serde(rename = "type")]
    #[schemars(extend("const" = "tiezheng.profile.v1"))]
    pub kind: String,
    /// Stable identifier, e.g. `cn.admin-penalty.onsite.2021`.
    #[schemars(regex(pattern = PROFILE_ID_PATTERN), length(min = 1, max = 100))]
    pub id: String,
    /// Version of this profile, from 1; a changed requirement is a new version.
    #[schemars(range(min = 1, max = 1_000_000))]
    pub version: u32,
    /// Title in Chinese (取证依据 on certificates and records).
    #[schemars(length(min = 1, max = 200))]
    pub title_zh: String,
    /// Title in English.
    #[schemars(length(min = 1, max = 200))]
    pub title_en: String,
    /// The regulations the profile follows.
    pub legal_basis: Vec<LegalBasis>,
    /// The requirements, in the order a checklist shows them; each rule at most once.
    pub requirements: Vec<Requirement>,
}

/// A regulation a profile follows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LegalBasis {
    /// Its name in Chinese.
    #[schemars(length(min = 1, max = 300))]
    pub title_zh: String,
    /// Its name in English.
    #[schemars(length(min = 1, max = 300))]
    pub title_en: String,
    /// Its document number (文号), e.g. `法发〔2016〕22号`, where it has one.
    pub document_number: Option<String>,
    /// Article numbers relied on, only where their text was confirmed.
    pub articles: Vec<String>,
}

/// How binding a requirement is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Capture is refused when it does not hold.
    Must,
    /// Capture is allowed when it does not hold only with a reason, recorded.
    Should,
}

/// One requirement of a profile: a `profile.*` rule with its severity and parameters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    /// The rule, e.g. `profile.collectors` (see [`RuleKind`]).
    pub rule: String,
    /// `must` or `should`.
    pub severity: Severity,
    /// The checklist line in Chinese.
    #[schemars(length(min = 1, max = 300))]
    pub title_zh: String,
    /// The checklist line in English.
    #[schemars(length(min = 1, max = 300))]
    pub title_en: String,
    /// `profile.collectors`: fewest distinct collectors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_collectors: Option<u32>,
    /// `profile.fields`: case fields that must be filled in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<Vec<CaseField>>,
    /// `profile.location`: largest horizontal accuracy of the OS fix, in metres.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_accuracy_m: Option<u32>,
    /// `profile.clock`: largest difference from trusted time, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_skew_s: Option<u32>,
    /// `profile.receipt_delay`: longest time from capture to the notary's receipt, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_delay_s: Option<u32>,
}

/// A case field a profile can require.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaseField {
    /// `case.cause` (案由).
    Cause,
    /// `case.object` (what is collected).
    Object,
    /// `case.description` (the content).
    Description,
}

impl CaseField {
    /// The member's name in `case`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Cause => "cause",
            Self::Object => "object",
            Self::Description => "description",
        }
    }
}

/// Why a profile document is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProfileError {
    /// Not strict JSON.
    #[error("profile is not acceptable JSON: {0}")]
    Json(#[from] CanonicalError),
    /// JSON, but not the profile shape; names the member at fault.
    #[error("profile does not match schemas/profile.schema.json at {pointer}: {message}")]
    Shape {
        /// JSON pointer of the member at fault.
        pointer: String,
        /// What is wrong.
        message: String,
    },
    /// A value breaks a rule of the profile schema or of its rule's parameters.
    #[error("profile {pointer}: {message}")]
    Invalid {
        /// JSON pointer of the value at fault.
        pointer: String,
        /// What is wrong and what to write instead.
        message: String,
    },
    /// No profile of that id (and version) in the catalogue.
    #[error(
        "unknown forensic profile {0:?}: run `tiezheng profiles` for the ids this version knows"
    )]
    Unknown(String),
}

/// A profile with the SM3 of its RFC 8785 bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadedProfile {
    /// The profile.
    pub profile: Profile,
    /// SM3 of its RFC 8785 bytes (what manifests name).
    pub sm3: Hash32,
}

impl LoadedProfile {
    /// The reference a manifest records.
    pub fn reference(&self) -> ProfileRef {
        ProfileRef {
            id: self.profile.id.clone(),
            version: self.profile.version,
            sm3: self.sm3,
        }
    }
}

impl Profile {
    /// Parses and checks a profile document: strict JSON, the exact shape, the id's pattern,
    /// non-blank titles, each rule known and at most once, with exactly its parameters.
    pub fn parse(bytes: &[u8]) -> Result<LoadedProfile, ProfileError> {
        let value = canonical::parse_strict(bytes)?;
        let profile: Profile = serde_path_to_error::deserialize(&value).map_err(|e| {
            let message = e.inner().to_string();
            ProfileError::Shape {
                pointer: crate::manifest::pointer_of(e.path(), &message),
                message,
            }
        })?;
        profile.check()?;
        let sm3 = Hash32::sm3(&canonical::canonicalize(&value)?);
        Ok(LoadedProfile { profile, sm3 })
    }

    fn check(&self) -> Result<(), ProfileError> {
        let invalid = |pointer: &str, message: String| {
            Err(ProfileError::Invalid {
                pointer: pointer.to_owned(),
                message,
            })
        };
        if self.kind != PROFILE_TYPE {
            return invalid("/type", format!("type must be {PROFILE_TYPE:?}"));
        }
        if !is_profile_id(&self.id) {
            return invalid(
                "/id",
                format!(
                    "id {:?} must be lowercase words of letters and digits joined by '.' or '-'",
                    self.id
                ),
            );
        }
        if self.version == 0 {
            return invalid("/version", "version must be 1 or more".into());
        }
        for (p, t) in [("/title_zh", &self.title_zh), ("/title_en", &self.title_en)] {
            if t.trim().is_empty() {
                return invalid(p, "the title must not be blank".into());
            }
        }
        for (i, r) in self.requirements.iter().enumerate() {
            let at = format!("/requirements/{i}");
            let Some(kind) = RuleKind::from_id(&r.rule) else {
                return invalid(
                    &format!("{at}/rule"),
                    format!(
                        "unknown rule {:?}; the rules are {}",
                        r.rule,
                        RuleKind::ALL.map(RuleKind::id).join(", ")
                    ),
                );
            };
            if self.requirements.iter().take(i).any(|o| o.rule == r.rule) {
                return invalid(&format!("{at}/rule"), format!("{} appears twice", r.rule));
            }
            if r.title_zh.trim().is_empty() || r.title_en.trim().is_empty() {
                return invalid(&at, "the checklist titles must not be blank".into());
            }
            kind.check_params(r)
                .or_else(|m| invalid(&at, format!("{}: {m}", r.rule)))?;
        }
        Ok(())
    }
}

fn is_profile_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 100
        && id.split(['.', '-']).all(|w| {
            !w.is_empty()
                && w.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// Every profile this build ships, parsed (the files are checked by the tests).
pub fn builtin() -> Vec<LoadedProfile> {
    BUILTIN
        .iter()
        .filter_map(|(_, text)| Profile::parse(text.as_bytes()).ok())
        .collect()
}

/// The built-in profile `id` (its latest version).
pub fn find(id: &str) -> Result<LoadedProfile, ProfileError> {
    builtin()
        .into_iter()
        .filter(|p| p.profile.id == id)
        .max_by_key(|p| p.profile.version)
        .ok_or_else(|| ProfileError::Unknown(id.to_owned()))
}

/// The built-in profile `id` at `version`.
pub fn find_version(id: &str, version: u32) -> Option<LoadedProfile> {
    builtin()
        .into_iter()
        .find(|p| p.profile.id == id && p.profile.version == version)
}

/// The built-in profile files, `(file name, text)`, for tests and tools.
pub fn builtin_files() -> &'static [(&'static str, &'static str)] {
    BUILTIN
}
