//! What a certificate states of the forensic procedure (取证依据): the profile the capture
//! followed, by name, version, SM3 and legal basis, and every requirement's outcome — the
//! capture-time ones as the manifest records them, the delay to receipt as the receipt gives
//! it. Derived from the bundle and the profile this verifier ships.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::bundle::Bundle;
use crate::profile::{LegalBasis, ProfileRef, RuleKind, Severity, find_version, receipt_delay};

/// The forensic procedure a certificate states.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProcedureFacts {
    /// The profile followed.
    pub profile: ProfileRef,
    /// Its title in Chinese (取证依据).
    pub title_zh: String,
    /// Its title in English.
    pub title_en: String,
    /// The regulations it follows.
    pub legal_basis: Vec<LegalBasis>,
    /// Every requirement of the profile, in its order, with its outcome.
    pub outcomes: Vec<OutcomeFacts>,
}

/// One requirement's outcome, as a certificate states it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OutcomeFacts {
    /// The rule, e.g. `profile.collectors`.
    pub rule: String,
    /// `must` or `should`.
    pub severity: Severity,
    /// The requirement in Chinese.
    pub title_zh: String,
    /// The requirement in English.
    pub title_en: String,
    /// Whether it held.
    pub met: bool,
    /// Why a `should` not met was accepted, as recorded at capture.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The procedure facts of `bundle`: `None` when its manifest names no profile or one this
/// verifier does not ship (which rule `profile.named` refuses).
pub fn procedure_facts(bundle: &Bundle) -> Option<ProcedureFacts> {
    let m = &bundle.proof.manifest;
    let proc = m.procedure.as_ref()?;
    let loaded = find_version(&proc.profile.id, proc.profile.version)?;
    let p = loaded.profile;
    let outcomes = p
        .requirements
        .into_iter()
        .map(|r| {
            let (met, reason) = if r.rule == RuleKind::ReceiptDelay.id() {
                let held =
                    receipt_delay(&r, &m.created_at, &bundle.receipt.receipt.received_at).is_ok();
                (held, None)
            } else {
                proc.outcomes
                    .iter()
                    .find(|o| o.rule == r.rule)
                    .map_or((false, None), |o| (o.met, o.reason.clone()))
            };
            OutcomeFacts {
                rule: r.rule,
                severity: r.severity,
                title_zh: r.title_zh,
                title_en: r.title_en,
                met,
                reason,
            }
        })
        .collect();
    Some(ProcedureFacts {
        profile: proc.profile.clone(),
        title_zh: p.title_zh,
        title_en: p.title_en,
        legal_basis: p.legal_basis,
        outcomes,
    })
}
