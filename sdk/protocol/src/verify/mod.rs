//! The verifier: every rule of `VERIFYING.md`, each outcome recorded under its layer and
//! stable rule identifier. [`document`] is the one entry for every document kind (bundle,
//! certificate, certificate PDF): the CLI (`tiezheng verify`), the mobile bindings
//! (`verifyDocument`) and the browser (WebAssembly) call it and only render its report; the
//! notary, before it issues a certificate, verifies the bundle with [`verify_bundle`].
//!
//! The verifier does not stop at the first failure: it checks every rule whose inputs it has,
//! so that a report names everything that disagrees. A rule whose inputs are missing (no
//! media file; a registry that could not be derived) is recorded as skipped.

pub mod appraisal;
mod certificate;
mod chain;
mod custody;
mod digest;
pub mod document;
mod ledger;
pub mod media;
mod officer;
mod profile;
mod proof;
mod registry;
pub mod report;

use serde_json::Value;

use crate::bundle::{BUNDLE_TYPE, Bundle, BundleError, BundleReport, Policy};
use crate::canonical;
use crate::hash::Hash32;
use crate::json_diff;
use crate::sm2::Sm2PublicKey;

pub use certificate::CertificateFacts;
pub use document::{
    Document, DocumentKind, DocumentVerification, PolicySource, Unusable, verify_document,
};
pub use media::{MediaEvidence, MediaHasher, hash_media, segment_ranges};
pub use report::{Check, LAYERS, RULES, Report, Rule, Status, rule};

/// Allowed difference between the notary's clock and the ledger's block time when comparing
/// a batch window with the time the batch was anchored, in milliseconds.
pub const CLOCK_TOLERANCE_MS: i64 = 60_000;

/// A pinned policy that cannot be used: the input is unusable, not the bundle invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the policy is not usable: {0}")]
pub struct PolicyError(pub String);

impl From<PolicyError> for BundleError {
    fn from(e: PolicyError) -> Self {
        Self {
            layer: "policy",
            rule: "policy.copy",
            reason: e.to_string(),
        }
    }
}

impl Policy {
    /// Checks that every key of the policy parses and member identifiers are distinct.
    pub fn validate(&self) -> Result<(), PolicyError> {
        if self.chain_id.is_empty() {
            return Err(PolicyError("chain_id is empty".into()));
        }
        if self.members.is_empty() {
            return Err(PolicyError("it lists no members".into()));
        }
        for (i, m) in self.members.iter().enumerate() {
            Sm2PublicKey::from_hex(&m.public_key)
                .map_err(|e| PolicyError(format!("members[{i}].public_key ({}): {e}", m.id)))?;
            if self.members.iter().filter(|o| o.id == m.id).count() > 1 {
                return Err(PolicyError(format!("member {:?} is listed twice", m.id)));
            }
        }
        for (i, k) in self.notary_keys.iter().enumerate() {
            Sm2PublicKey::from_hex(k).map_err(|e| PolicyError(format!("notary_keys[{i}]: {e}")))?;
        }
        for (i, v) in self.validators.iter().enumerate() {
            crate::cometbft::policy_validator_info(v)
                .map_err(|e| PolicyError(format!("validators[{i}]: {e}")))?;
            if let Some(m) = &v.member {
                let Some(member) = self.members.iter().find(|x| x.id == *m) else {
                    return Err(PolicyError(format!(
                        "validators[{i}].member {m:?} is not a member"
                    )));
                };
                if member.power != v.power
                    || self
                        .validators
                        .iter()
                        .filter(|o| o.member.as_ref() == Some(m))
                        .count()
                        > 1
                {
                    return Err(PolicyError(format!(
                        "validators[{i}]: a member's validator has the member's power and a member has one validator ({m:?})"
                    )));
                }
            }
        }
        Ok(())
    }
}

/// The facts a valid bundle establishes, for display.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Facts {
    /// SM3 of the proof.
    pub proof_sm3: Option<Hash32>,
    /// Index of the manifest item the media file is, if a file was given and matched.
    pub media_item: Option<usize>,
    /// The batch's sequence number.
    pub batch_seq: Option<u64>,
    /// Ledger height of the anchor.
    pub anchor_height: Option<u64>,
    /// Height of the cosigned checkpoint.
    pub checkpoint_height: Option<u64>,
    /// Members whose cosignatures verified.
    pub cosigners: Vec<String>,
    /// The CometBFT layer (consortium bundles).
    pub chain: Option<crate::cometbft::ChainReport>,
}

/// The outcome of verifying one bundle: every check and the facts established.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Verification {
    /// Whether every rule held.
    pub valid: bool,
    /// Every check.
    pub checks: Vec<Check>,
    /// What the bundle establishes (filled as far as the checks got).
    pub facts: Facts,
}

impl Verification {
    fn from(mut report: Report, facts: Facts) -> Self {
        report.sort();
        Self {
            valid: report.is_valid(),
            checks: report.checks,
            facts,
        }
    }

    /// The first failed check, in layer order.
    pub fn first_failure(&self) -> Option<&Check> {
        report::first_failure(&self.checks)
    }

    /// The outcome of `rule`, if checked.
    pub fn status(&self, rule: &str) -> Option<Status> {
        report::status(&self.checks, rule)
    }

    /// The facts of a valid bundle, or its first failure (in layer order): the short form,
    /// for callers that act on the verdict alone.
    pub fn summary(&self) -> Result<BundleReport, BundleError> {
        if let Some(c) = self.first_failure() {
            return Err(BundleError {
                layer: c.layer,
                rule: c.rule,
                reason: c.detail.clone(),
            });
        }
        let f = &self.facts;
        match (
            f.proof_sm3,
            f.batch_seq,
            f.anchor_height,
            f.checkpoint_height,
        ) {
            (Some(proof_sm3), Some(batch_seq), Some(anchor_height), Some(checkpoint_height)) => {
                Ok(BundleReport {
                    proof_sm3,
                    media_item: f.media_item,
                    batch_seq,
                    anchor_height,
                    checkpoint_height,
                    cosigners: f.cosigners.clone(),
                    chain: f.chain.clone(),
                })
            }
            _ => Err(BundleError {
                layer: "bundle",
                rule: "bundle.schema",
                reason: "the bundle could not be read".into(),
            }),
        }
    }
}

/// Parses and verifies a bundle given as bytes (the form a court holds).
pub fn verify_bundle_bytes(
    bytes: &[u8],
    media: Option<&MediaEvidence>,
    policy: &Policy,
) -> Result<Verification, PolicyError> {
    policy.validate()?;
    let mut report = Report::default();
    let value = match canonical::parse_strict(bytes) {
        Ok(v) => v,
        Err(e) => {
            report.record("bundle.json", Err(e.to_string()));
            return Ok(Verification::from(report, Facts::default()));
        }
    };
    report.record("bundle.json", Ok("strict JSON".into()));
    match parse_value(&value) {
        Ok(bundle) => {
            report.record("bundle.schema", Ok("exactly the bundle schema".into()));
            Ok(check(&bundle, media, policy, report))
        }
        Err(e) => {
            report.record("bundle.schema", Err(e));
            Ok(Verification::from(report, Facts::default()))
        }
    }
}

/// Verifies a parsed bundle (its `bundle.schema` rule is checked by re-encoding it).
pub fn verify_bundle(
    bundle: &Bundle,
    media: Option<&MediaEvidence>,
    policy: &Policy,
) -> Result<Verification, PolicyError> {
    policy.validate()?;
    let mut report = Report::default();
    let value = serde_json::to_value(bundle).map_err(|e| PolicyError(e.to_string()))?;
    report.record("bundle.json", Ok("strict JSON".into()));
    match parse_value(&value) {
        Ok(b) => {
            report.record("bundle.schema", Ok("exactly the bundle schema".into()));
            Ok(check(&b, media, policy, report))
        }
        Err(e) => {
            report.record("bundle.schema", Err(e));
            Ok(Verification::from(report, Facts::default()))
        }
    }
}

/// The bundle in `value`, if it has exactly the bundle's shape: deserialising it and writing it
/// back gives the same JSON (so no member is unknown, missing or spelt another way).
fn parse_value(value: &Value) -> Result<Bundle, String> {
    let bundle: Bundle = serde_json::from_value(value.clone())
        .map_err(|e| format!("does not match schemas/bundle.schema.json: {e}"))?;
    let back = serde_json::to_value(&bundle).map_err(|e| e.to_string())?;
    if let Some(at) = first_difference(value, &back) {
        return Err(format!(
            "member {at} is not written as schemas/bundle.schema.json requires (missing, or null where absent is required, or the reverse)"
        ));
    }
    Ok(bundle)
}

/// The JSON pointer of the first place where `a` and `b` differ, a missing member counting as
/// a difference (a document's exact shape).
pub(super) fn first_difference(a: &Value, b: &Value) -> Option<String> {
    json_diff::first_difference(a, b, json_diff::Missing::Differs).map(|d| d.pointer)
}

/// Records `Ok(detail)` if `a == b`, else a failure saying what disagrees.
fn same<T: PartialEq + std::fmt::Display>(
    report: &mut Report,
    rule: &'static str,
    what: &str,
    found: &T,
    expected: &T,
    expected_what: &str,
) {
    report.record(
        rule,
        if found == expected {
            Ok(format!("{what} = {expected_what}"))
        } else {
            Err(format!(
                "{what} is {found}, but {expected_what} is {expected}"
            ))
        },
    );
}

fn check(
    b: &Bundle,
    media: Option<&MediaEvidence>,
    pinned: &Policy,
    mut r: Report,
) -> Verification {
    let mut facts = Facts::default();
    r.record(
        "bundle.type",
        if b.kind == BUNDLE_TYPE {
            Ok(format!("type {BUNDLE_TYPE}"))
        } else {
            Err(format!("type is {:?}, not {BUNDLE_TYPE:?}", b.kind))
        },
    );
    let proof = proof::check(b, &mut r);
    if let Some(p) = &proof {
        facts.proof_sm3 = Some(p.proof_sm3);
        facts.media_item = proof::check_media(&p.proof.manifest, media, &mut r);
        profile::check(p.proof, &b.receipt.receipt.received_at, &mut r);
        officer::check(b, &mut r);
    }
    let subject = proof
        .as_ref()
        .map_or(ledger::Subject::Unread, ledger::Subject::Proof);
    let registry = check_layers(&Layers::of(b), subject, pinned, &mut r, &mut facts);
    custody::check(
        b.custody.as_ref(),
        &b.batch.leaf.proof_sm3,
        &b.receipt.receipt.notary_key_id,
        registry.as_ref(),
        &b.checkpoint,
        &mut r,
    );
    let valid = r.is_valid();
    if !valid {
        facts.media_item = None;
    }
    Verification::from(r, facts)
}

/// The layers a bundle and a public digest share: the mode, the receipt, the salted leaf and
/// its batch, the anchor record, the cosigned checkpoint, the policy copy, the CometBFT layer
/// and the registry changes.
pub(crate) struct Layers<'a> {
    mode: &'a str,
    receipt: &'a crate::notary::SignedReceipt,
    batch: &'a crate::bundle::BundleBatch,
    anchor: &'a crate::bundle::BundleAnchor,
    checkpoint: &'a crate::ledger::CosignedCheckpoint,
    policy: &'a Policy,
    cometbft: Option<&'a crate::cometbft::BundleCometBft>,
    governance: &'a [crate::ledger::GovernanceTx],
}

impl<'a> Layers<'a> {
    fn of(b: &'a Bundle) -> Self {
        Self {
            mode: &b.mode,
            receipt: &b.receipt,
            batch: &b.batch,
            anchor: &b.anchor,
            checkpoint: &b.checkpoint,
            policy: &b.policy,
            cometbft: b.cometbft.as_ref(),
            governance: &b.governance,
        }
    }
}

/// Layers `bundle.mode`, `policy`, `governance`, `receipt`, `leaf`, `batch`, `anchor`,
/// `checkpoint` and `chain`, for a bundle or a public digest.
/// Returns the registry at the checkpoint, if the registry changes could be followed.
fn check_layers(
    b: &Layers<'_>,
    subject: ledger::Subject<'_, '_>,
    pinned: &Policy,
    r: &mut Report,
    facts: &mut Facts,
) -> Option<crate::ledger::Registry> {
    r.record(
        "bundle.mode",
        match (b.mode, b.cometbft.is_some()) {
            ("embedded", false) => Ok("embedded ledger, no CometBFT layer".into()),
            ("consortium", true) => Ok("consortium ledger with its CometBFT layer".into()),
            (mode, has) => Err(format!(
                "mode {mode:?} {} a CometBFT layer: \"embedded\" bundles have none, \"consortium\" bundles must have one",
                if has { "with" } else { "without" }
            )),
        },
    );
    let registry = registry::check(b, pinned, r);
    ledger::check(b, subject, registry.as_ref().map(|x| &x.0), r, facts);
    match b.cometbft {
        Some(layer) => {
            // Without the registry at the checkpoint, the header is checked against the pinned
            // set alone and its next validators are unknown.
            let (sets, known) = registry.as_ref().map_or_else(
                || (vec![pinned.validators.clone()], false),
                |x| (x.1.clone(), true),
            );
            facts.chain = chain::check(layer, &b.checkpoint.checkpoint, &sets, known, r);
        }
        None => {
            for rule in RULES.iter().filter(|x| x.layer() == "chain") {
                r.skip(rule.id, "embedded bundle: no CometBFT layer");
            }
        }
    }
    registry.map(|x| x.0)
}
