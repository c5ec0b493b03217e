//! Forensic profiles for apps: the profiles this SDK ships ([`profiles`]) and one with its
//! requirements ([`profile`]), so an app can show the officer the checklist before capturing,
//! and a reason a `should` cannot be met ([`ProfileReason`]) to pass with a capture.

use tiezheng_protocol::profile::{self, LoadedProfile, Severity};

use crate::errors::TiezhengError;

/// A forensic profile (取证规范) and its checklist.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ProfileInfo {
    /// Stable identifier, e.g. `cn.admin-penalty.onsite.2021`.
    pub id: String,
    /// Version.
    pub version: u32,
    /// SM3 of the profile's RFC 8785 bytes (what manifests record).
    pub sm3: String,
    /// Title in Chinese (取证依据).
    pub title_zh: String,
    /// Title in English.
    pub title_en: String,
    /// The regulations it follows, by name (Chinese, with the document number when it has one).
    pub legal_basis: Vec<String>,
    /// The checklist, in order.
    pub requirements: Vec<RequirementInfo>,
}

/// One item of a profile's checklist.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RequirementInfo {
    /// The rule, e.g. `profile.collectors` (the key of a [`ProfileReason`]).
    pub rule: String,
    /// `true`: a capture is refused when it does not hold; `false` (a should): allowed with a
    /// reason.
    pub must: bool,
    /// Whether it is decided at capture (`false` for `profile.receipt_delay`, decided by the
    /// notary's receipt).
    pub at_capture: bool,
    /// The checklist line in Chinese.
    pub title_zh: String,
    /// The checklist line in English.
    pub title_en: String,
}

/// Why a `should` of the profile cannot be met, recorded in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ProfileReason {
    /// The requirement's rule, e.g. `profile.location`.
    pub rule: String,
    /// Why (1 to 500 characters).
    pub reason: String,
}

fn info(p: LoadedProfile) -> ProfileInfo {
    let LoadedProfile { profile: p, sm3 } = p;
    ProfileInfo {
        id: p.id,
        version: p.version,
        sm3: sm3.to_hex(),
        title_zh: p.title_zh,
        title_en: p.title_en,
        legal_basis: p
            .legal_basis
            .into_iter()
            .map(|b| match b.document_number {
                Some(n) => format!("{}（{n}）", b.title_zh),
                None => b.title_zh,
            })
            .collect(),
        requirements: p
            .requirements
            .into_iter()
            .map(|r| RequirementInfo {
                at_capture: profile::RuleKind::from_id(&r.rule).is_some_and(|k| k.at_capture()),
                rule: r.rule,
                must: r.severity == Severity::Must,
                title_zh: r.title_zh,
                title_en: r.title_en,
            })
            .collect(),
    }
}

/// The forensic profiles this SDK ships.
#[uniffi::export]
pub fn profiles() -> Vec<ProfileInfo> {
    profile::builtin().into_iter().map(info).collect()
}

/// The profile `id` with its checklist; `UnknownProfile` when the SDK does not ship it.
#[uniffi::export]
pub fn profile(id: String) -> Result<ProfileInfo, TiezhengError> {
    Ok(info(profile::find(&id)?))
}
