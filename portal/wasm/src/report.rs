//! The verification report the page shows: a verdict, and every layer with its rules.
//!
//! [`verify_evidence`] is the one adapter between the protocol's verifier and the page.
//! Today's verifier stops at the first failing layer; the adapter reports the layers before it
//! as passed, that layer as failed, and the rest as not checked. When the protocol's
//! rule-by-rule report lands, only [`verify_evidence`] changes: it copies that report's checks.

use serde::Serialize;
use serde_json::{Value, json};
use tiezheng_protocol::ContentDigests;
use tiezheng_protocol::bundle::{Bundle, Policy, verify_bundle};
use tiezheng_protocol::{Hash32, canonical};

use crate::evidence::{Evidence, Unusable, recognise};

/// The layers in the order the verifier checks them.
pub const LAYERS: [&str; 11] = [
    "bundle",
    "governance",
    "policy",
    "proof",
    "media",
    "receipt",
    "leaf",
    "batch",
    "anchor",
    "checkpoint",
    "chain",
];

/// One check: a rule of a layer, and whether it held.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Check {
    /// Layer name.
    pub layer: &'static str,
    /// Stable rule identifier (`layer.rule`).
    pub rule: String,
    /// `ok`, `fail` or `skipped` (not checked: an earlier layer failed, or no media file).
    pub status: &'static str,
    /// What was found, in plain words.
    pub message: String,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// `valid`, `invalid`, or `unusable` (the document could not be read).
    pub verdict: &'static str,
    /// Whether a media file was checked against the proof.
    pub media_checked: bool,
    /// Every check in order.
    pub checks: Vec<Check>,
    /// The policy used: where it came from, its fingerprint, its keys.
    pub policy: Option<Value>,
    /// Facts the evidence states (proof, receipt, batch, anchor, manifest).
    pub facts: Option<Value>,
}

/// What the page measured of the media file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaFile {
    /// Size, SM3 and SHA-256 of the whole file.
    pub digests: ContentDigests,
    /// For a recording, the SM3 of each segment's byte range as the manifest gives them.
    pub segment_sm3: Vec<Hash32>,
}

/// The fingerprint shown beside a policy: SM3 of its RFC 8785 bytes.
pub fn policy_fingerprint(policy: &Policy) -> String {
    canonical::to_canonical_bytes(policy)
        .map(|b| Hash32::sm3(&b).to_hex())
        .unwrap_or_default()
}

fn policy_view(policy: &Policy, source: &str) -> Value {
    json!({
        "source": source,
        "fingerprint": policy_fingerprint(policy),
        "chain_id": policy.chain_id,
        "notary_keys": policy.notary_keys,
        "members": policy.members,
        "validators": policy.validators.len(),
    })
}

fn unusable(u: Unusable) -> Report {
    Report {
        verdict: "unusable",
        media_checked: false,
        checks: vec![Check {
            layer: u.layer,
            rule: u.rule.to_owned(),
            status: "fail",
            message: u.message,
        }],
        policy: None,
        facts: None,
    }
}

/// Parses a policy file a court loaded.
pub fn parse_policy(bytes: &[u8]) -> Result<Policy, String> {
    serde_json::from_slice(bytes)
        .map_err(|e| format!("this file is not a policy (schemas/policy.schema.json): {e}"))
}

/// Verifies `evidence` (bundle or certificate bytes) with the media file's digests if given,
/// against the court's `policy` if given (else the keys inside the bundle).
pub fn verify_evidence(
    evidence: &[u8],
    media_file: Option<&MediaFile>,
    policy: Option<&Policy>,
) -> Report {
    // HOOK (rule-by-rule verifier): its media checks also take `media_file.segment_sm3`, the
    // per-segment SM3s of a recording; today's verifier checks the whole file only.
    let media = media_file.map(|m| &m.digests);
    let bundle = match recognise(evidence) {
        Ok(Evidence::Bundle(b)) => b,
        Err(u) => return unusable(u),
    };
    let (policy, source) = match policy {
        Some(p) => (p.clone(), "court"),
        None => (bundle.policy.clone(), "bundle"),
    };
    let applicable = |layer: &str| match layer {
        "chain" => bundle.cometbft.is_some() || bundle.mode != "embedded",
        "governance" => !bundle.governance.is_empty(),
        _ => true,
    };
    // The adapter: today's verifier gives one result; see the module documentation.
    let result = verify_bundle(&bundle, media, &policy);
    let failed_at = result.as_ref().err().map(|e| {
        let at = LAYERS.iter().position(|l| *l == e.layer).unwrap_or(0);
        (at, e.clone())
    });
    let mut checks = Vec::new();
    for (i, layer) in LAYERS.iter().enumerate() {
        if !applicable(layer) && failed_at.as_ref().is_none_or(|(at, _)| *at != i) {
            continue;
        }
        let check = match &failed_at {
            Some((at, e)) if *at == i => Check {
                layer,
                rule: (*layer).to_owned(),
                status: "fail",
                message: e.reason.clone(),
            },
            Some((at, _)) if i > *at => Check {
                layer,
                rule: (*layer).to_owned(),
                status: "skipped",
                message: "not checked: an earlier layer failed".into(),
            },
            _ if *layer == "media" && media.is_none() => Check {
                layer,
                rule: "media".into(),
                status: "skipped",
                message: "no media file given: the file itself was not checked".into(),
            },
            _ => Check {
                layer,
                rule: (*layer).to_owned(),
                status: "ok",
                message: passed_message(layer),
            },
        };
        checks.push(check);
    }
    Report {
        verdict: if result.is_ok() { "valid" } else { "invalid" },
        media_checked: media.is_some(),
        checks,
        policy: Some(policy_view(&policy, source)),
        facts: Some(facts(&bundle, result.ok().as_ref())),
    }
}

fn passed_message(layer: &str) -> String {
    match layer {
        "bundle" => "a tiezheng.bundle.v1 document of a known mode",
        "governance" => "every registry change since genesis was approved by a quorum of members",
        "policy" => "the bundle's keys are ones the policy trusts",
        "proof" => "the device's SM2 signature over the manifest is valid",
        "media" => "the file's size, SM3 and SHA-256 are those of an item the device signed",
        "receipt" => "the notary's SM2-signed receipt names this proof",
        "leaf" => "the proof's salted leaf is in the batch's Merkle tree",
        "batch" => "the batch header is signed by a trusted notary",
        "anchor" => "the ledger's anchor record is this batch, in the checkpoint's anchor log",
        "checkpoint" => {
            "members with more than two thirds of the voting power cosigned the checkpoint"
        }
        "chain" => "the CometBFT header and commit of the validators carry the checkpoint",
        _ => "passed",
    }
    .into()
}

fn facts(bundle: &Bundle, report: Option<&tiezheng_protocol::bundle::BundleReport>) -> Value {
    json!({
        "mode": bundle.mode,
        "manifest": serde_json::to_value(&bundle.proof.manifest).unwrap_or(Value::Null),
        "receipt": serde_json::to_value(&bundle.receipt.receipt).unwrap_or(Value::Null),
        "batch_seq": bundle.batch.header.header.batch_seq,
        "anchor_height": bundle.anchor.record.height,
        "checkpoint_height": bundle.checkpoint.checkpoint.height,
        "proof_sm3": report.map(|r| r.proof_sm3.to_hex()),
        "media_item": report.and_then(|r| r.media_item),
        "cosigners": report.map(|r| r.cosigners.clone()),
    })
}
