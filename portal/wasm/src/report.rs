//! The verification report the page shows: a verdict, and every rule the protocol's verifier
//! checked (the same rules, in the same code, as `tiezheng verify`), grouped by the page into
//! layers. [`verify_evidence`] is the one adapter between the protocol and the page.

use serde::Serialize;
use serde_json::{Value, json};
use tiezheng_protocol::ContentDigests;
use tiezheng_protocol::bundle::{Bundle, Policy};
use tiezheng_protocol::verify::{
    self, Document, DocumentKind, MediaEvidence, PolicySource, Status, Unusable,
};
use tiezheng_protocol::{Hash32, canonical};

/// One check: a rule of a layer, and whether it held.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Check {
    /// Layer name.
    pub layer: &'static str,
    /// Stable rule identifier (`layer.rule`, as in `VERIFYING.md`).
    pub rule: String,
    /// `ok`, `fail` or `skipped` (does not apply: no media file, no recording, ...).
    pub status: &'static str,
    /// What was found, in plain words.
    pub message: String,
    /// What the rule requires, in English.
    pub en: &'static str,
    /// What the rule requires, in Chinese.
    pub zh: &'static str,
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
    /// The certificate read (number, SM3 of its canonical bytes, issuer, date), when the
    /// evidence is a certificate: what a QR code's `n` and `c` are compared with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate: Option<Value>,
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
            en: "",
            zh: "",
        }],
        policy: None,
        facts: None,
        certificate: None,
    }
}

/// Parses a policy file a court loaded.
pub fn parse_policy(bytes: &[u8]) -> Result<Policy, String> {
    serde_json::from_slice(bytes)
        .map_err(|e| format!("this file is not a policy (schemas/policy.schema.json): {e}"))
}

fn check(rule: &'static str, status: Status, message: String) -> Check {
    let text = verify::rule(rule);
    Check {
        layer: verify::report::layer_of(rule),
        rule: rule.to_owned(),
        status: match status {
            Status::Pass => "ok",
            Status::Fail => "fail",
            Status::Skip => "skipped",
        },
        message,
        en: text.map_or("", |r| r.en),
        zh: text.map_or("", |r| r.zh),
    }
}

/// Verifies `evidence` (bundle, certificate, certificate PDF or public digest bytes) with the media file's
/// digests if given, against the court's `policy` if given (else the keys inside the bundle):
/// the protocol's one verification entry ([`Document`]), rendered for the page.
pub fn verify_evidence(
    evidence: &[u8],
    media_file: Option<&MediaFile>,
    policy: Option<&Policy>,
) -> Report {
    let doc = match Document::recognise(evidence) {
        Ok(d) => d,
        Err(u) => return unusable(u),
    };
    // The media file as the verifier takes it: whole-file digests, and the SM3 of each
    // segment range the page hashed, in the order `segment_ranges` gave them.
    let media = media_file.map(|m| MediaEvidence {
        digests: m.digests,
        ranges: doc
            .segment_ranges()
            .iter()
            .enumerate()
            .map(|(i, (o, n))| (*o, *n, m.segment_sm3.get(i).copied()))
            .collect(),
    });
    let v = match doc.verify(media.as_ref(), policy) {
        Ok(v) => v,
        Err(u) => return unusable(u),
    };
    let source = match v.policy_source {
        Some(PolicySource::Pinned) => "court",
        _ => "bundle",
    };
    Report {
        verdict: if v.valid { "valid" } else { "invalid" },
        media_checked: media.is_some(),
        checks: v
            .checks
            .iter()
            .map(|c| check(c.rule, c.status, c.detail.clone()))
            .collect(),
        policy: v.policy.as_ref().map(|p| policy_view(p, source)),
        facts: match doc.bundle() {
            Some(b) => Some(facts(b, &v.facts)),
            // A public digest: what its layers establish (it has no manifest).
            None if v.kind == DocumentKind::PublicDigest => Some(json!({
                "proof_sm3": v.facts.proof_sm3,
                "media_item": v.facts.media_item,
                "batch_seq": v.facts.batch_seq,
                "anchor_height": v.facts.anchor_height,
                "checkpoint_height": v.facts.checkpoint_height,
                "cosigners": v.facts.cosigners,
            })),
            None => None,
        },
        certificate: v.certificate.as_ref().map(|c| {
            json!({"number": c.number, "sm3": c.sm3, "issuer": c.issuer, "issued_at": c.issued_at})
        }),
    }
}

fn facts(bundle: &Bundle, report: &verify::Facts) -> Value {
    json!({
        "mode": bundle.mode,
        "manifest": serde_json::to_value(&bundle.proof.manifest).unwrap_or(Value::Null),
        "receipt": serde_json::to_value(&bundle.receipt.receipt).unwrap_or(Value::Null),
        "batch_seq": bundle.batch.header.header.batch_seq,
        "anchor_height": bundle.anchor.record.height,
        "checkpoint_height": bundle.checkpoint.checkpoint.height,
        "proof_sm3": report.proof_sm3,
        "media_item": report.media_item,
        "cosigners": report.cosigners,
    })
}
