//! `tiezheng verify FILE [--media FILE] [--policy POLICY]`: checks an offline proof bundle, a
//! notarised certificate (JSON) or a certificate PDF (its attached certificate), layer by layer
//! and rule by rule, with no network.

use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use serde_json::{Value, json};
use tiezheng_protocol::ContentDigests;
use tiezheng_protocol::bundle::{Policy, parse_bundle, verify_bundle};
use tiezheng_protocol::certificate::{
    CERTIFICATE_TYPE, CertificateError, certificate_from_pdf, parse_certificate, verify_certificate,
};
use tiezheng_sdk::files::hash_file;

use super::emit_json_line;

/// Arguments of `tiezheng verify`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The bundle (JSON), the certificate (JSON) or the certificate PDF, as the notary
    /// exported it.
    bundle: PathBuf,
    /// The evidence file to check against the proof.
    #[arg(long, value_name = "FILE")]
    media: Option<PathBuf>,
    /// The keys you trust (JSON policy). Without it, the keys inside the bundle are used, which
    /// proves consistency, not who signed: courts pin their own policy.
    #[arg(long, value_name = "POLICY")]
    policy: Option<PathBuf>,
}

/// What a verification found: the JSON line printed, and whether it is valid.
pub(crate) struct Outcome {
    pub(crate) valid: bool,
    pub(crate) line: Value,
    /// `layer`, `rule` and reason of a failure, for the message on stderr.
    pub(crate) failure: Option<(String, String, String)>,
}

fn failed(layer: &str, rule: &str, reason: &str) -> Outcome {
    Outcome {
        valid: false,
        line: json!({"valid": false, "layer": layer, "rule": rule, "reason": reason}),
        failure: Some((layer.to_owned(), rule.to_owned(), reason.to_owned())),
    }
}

fn certificate_failed(e: &CertificateError) -> Outcome {
    failed(e.layer(), e.rule(), &e.reason())
}

/// Verifies the bundle, certificate or certificate PDF in `bytes` against `policy` (or the
/// keys it carries, when `None`) and the evidence file's digests.
pub(crate) fn verify_bytes(
    bytes: &[u8],
    media: Option<&ContentDigests>,
    policy: Option<&Policy>,
) -> Outcome {
    let is_pdf = bytes
        .get(..1024)
        .unwrap_or(bytes)
        .windows(5)
        .any(|w| w == b"%PDF-");
    let certificate = if is_pdf {
        match certificate_from_pdf(bytes) {
            Ok(c) => Some(c),
            Err(e) => return certificate_failed(&e),
        }
    } else {
        let kind = serde_json::from_slice::<Value>(bytes).ok().and_then(|v| {
            v.pointer("/certificate/type")
                .and_then(Value::as_str)
                .map(str::to_owned)
        });
        (kind.as_deref() == Some(CERTIFICATE_TYPE)).then(|| bytes.to_vec())
    };
    match certificate {
        Some(c) => verify_certificate_bytes(&c, media, policy, is_pdf),
        None => verify_bundle_bytes(bytes, media, policy),
    }
}

fn verify_certificate_bytes(
    bytes: &[u8],
    media: Option<&ContentDigests>,
    policy: Option<&Policy>,
    from_pdf: bool,
) -> Outcome {
    let own;
    let policy = match policy {
        Some(p) => p,
        None => match parse_certificate(bytes) {
            Ok((c, _)) => {
                own = c.certificate.bundle.policy;
                &own
            }
            Err(e) => return certificate_failed(&e),
        },
    };
    match verify_certificate(bytes, media, policy) {
        Ok(r) => {
            let c = &r.certificate.certificate;
            Outcome {
                valid: true,
                line: json!({
                    "valid": true,
                    "certificate": c.number,
                    "certificate_sm3": r.sm3,
                    "from_pdf": from_pdf,
                    "issuer": c.issuer.name,
                    "issued_at": c.issued_at,
                    "proof_sm3": r.bundle.proof_sm3,
                    "media_checked": r.bundle.media_item.is_some(),
                    "batch_seq": r.bundle.batch_seq,
                    "anchor_height": r.bundle.anchor_height,
                    "checkpoint_height": r.bundle.checkpoint_height,
                    "cosigners": r.bundle.cosigners,
                    "mode": c.bundle.mode,
                }),
                failure: None,
            }
        }
        Err(e) => certificate_failed(&e),
    }
}

fn verify_bundle_bytes(
    bytes: &[u8],
    media: Option<&ContentDigests>,
    policy: Option<&Policy>,
) -> Outcome {
    let bundle = match parse_bundle(bytes) {
        Ok(b) => b,
        Err(e) => return failed(e.layer, e.layer, &e.reason),
    };
    let policy = policy.unwrap_or(&bundle.policy);
    match verify_bundle(&bundle, media, policy) {
        Ok(r) => Outcome {
            valid: true,
            line: json!({
                "valid": true,
                "proof_sm3": r.proof_sm3,
                "media_checked": r.media_item.is_some(),
                "batch_seq": r.batch_seq,
                "anchor_height": r.anchor_height,
                "checkpoint_height": r.checkpoint_height,
                "cosigners": r.cosigners,
                "mode": bundle.mode,
                "chain": r.chain.as_ref().map(|c| json!({
                    "header_height": c.height,
                    "block_hash": c.block_hash,
                    "signers": c.signers,
                    "validators": c.validators,
                })),
            }),
            failure: None,
        },
        Err(e) => failed(e.layer, e.layer, &e.reason),
    }
}

/// Reads a policy file.
pub(crate) fn read_policy(p: &Path) -> anyhow::Result<Policy> {
    serde_json::from_slice(
        &std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?,
    )
    .with_context(|| {
        format!(
            "{} is not a policy (schemas/policy.schema.json)",
            p.display()
        )
    })
}

pub(crate) fn run(a: &Args) -> anyhow::Result<ExitCode> {
    let bytes =
        std::fs::read(&a.bundle).with_context(|| format!("cannot read {}", a.bundle.display()))?;
    let policy = match &a.policy {
        Some(p) => Some(read_policy(p)?),
        None => {
            let _ = writeln!(
                io::stderr(),
                "tiezheng verify: no --policy given: using the keys inside the bundle (this shows the bundle is consistent, not who signed it)"
            );
            None
        }
    };
    let digests = match &a.media {
        Some(m) => {
            Some(hash_file(m, |_, _| {}).map_err(|e| anyhow::anyhow!("{e} ({})", e.hint()))?)
        }
        None => None,
    };
    let outcome = verify_bytes(&bytes, digests.as_ref(), policy.as_ref());
    emit_json_line(&mut io::stdout().lock(), &outcome.line)?;
    if let Some((layer, rule, reason)) = &outcome.failure {
        let _ = writeln!(
            io::stderr(),
            "tiezheng verify: {}: INVALID at layer `{layer}` (rule `{rule}`): {reason}",
            a.bundle.display()
        );
    }
    Ok(if outcome.valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
