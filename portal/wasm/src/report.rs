//! The verification report the page shows: a verdict, and every rule the protocol's verifier
//! checked (the same rules, in the same code, as `tiezheng verify`), grouped by the page into
//! layers. [`verify_evidence`] is the one adapter between the protocol and the page.

use serde::Serialize;
use serde_json::{Value, json};
use tiezheng_protocol::ContentDigests;
use tiezheng_protocol::bundle::{Bundle, Policy};
use tiezheng_protocol::certificate::verify_certificate;
use tiezheng_protocol::verify::{self, MediaEvidence, Status};
use tiezheng_protocol::{Hash32, canonical};

use crate::evidence::{Unusable, recognise};

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

/// Verifies `evidence` (bundle or certificate bytes) with the media file's digests if given,
/// against the court's `policy` if given (else the keys inside the bundle).
pub fn verify_evidence(
    evidence: &[u8],
    media_file: Option<&MediaFile>,
    policy: Option<&Policy>,
) -> Report {
    let ev = match recognise(evidence) {
        Ok(e) => e,
        Err(u) if u.layer == "certificate" => {
            let mut r = unusable(u);
            r.verdict = "invalid";
            return r;
        }
        Err(u) => return unusable(u),
    };
    let (policy, source) = match (policy, &ev.bundle) {
        (Some(p), _) => (p.clone(), "court"),
        (None, Some(b)) if b.governance.is_empty() => (b.policy.clone(), "bundle"),
        (None, Some(_)) => {
            return unusable(Unusable {
                layer: "policy",
                rule: "policy.copy",
                message: "this bundle carries registry changes: load the consortium's genesis policy, from which they are followed".into(),
            });
        }
        (None, None) => {
            return unusable(Unusable {
                layer: "bundle",
                rule: "bundle.schema",
                message: "this is not a bundle: no policy inside it".into(),
            });
        }
    };
    // The media file as the verifier takes it: whole-file digests, and the SM3 of each
    // segment range the page hashed, in the order `segment_ranges` gave them.
    let media = media_file.map(|m| {
        let ranges = ev
            .bundle
            .as_ref()
            .map(|b| verify::segment_ranges(&b.proof.manifest))
            .unwrap_or_default();
        MediaEvidence {
            digests: m.digests,
            ranges: ranges
                .iter()
                .enumerate()
                .map(|(i, (o, n))| (*o, *n, m.segment_sm3.get(i).copied()))
                .collect(),
        }
    });
    let mut checks = Vec::new();
    if let Some(c) = &ev.certificate {
        if ev.from_pdf {
            checks.push(check(
                "certificate.pdf.attachment",
                Status::Pass,
                "one attached certificate".into(),
            ));
        }
        match verify_certificate(c, media.as_ref(), &policy) {
            Ok(_) => {
                for r in verify::RULES.iter().filter(|r| r.layer() == "certificate") {
                    if r.id != "certificate.pdf.attachment" {
                        checks.push(check(r.id, Status::Pass, "holds".into()));
                    }
                }
            }
            Err(e) if e.layer() == "certificate" => {
                checks.push(check(e.rule(), Status::Fail, e.reason()));
            }
            Err(_) => {}
        }
    }
    let v = match verify::verify_bundle_bytes(&ev.bundle_bytes, media.as_ref(), &policy) {
        Ok(v) => v,
        Err(e) => {
            return unusable(Unusable {
                layer: "policy",
                rule: "policy.copy",
                message: e.to_string(),
            });
        }
    };
    checks.extend(
        v.checks
            .iter()
            .map(|c| check(c.rule, c.status, c.detail.clone())),
    );
    let valid = v.valid && checks.iter().all(|c| c.status != "fail");
    Report {
        verdict: if valid { "valid" } else { "invalid" },
        media_checked: media.is_some(),
        checks,
        policy: Some(policy_view(&policy, source)),
        facts: ev.bundle.as_ref().map(|b| facts(b, &v.facts)),
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
