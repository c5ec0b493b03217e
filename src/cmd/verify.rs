//! `tiezheng verify FILE [--media FILE] [--policy POLICY] [--json]`: checks an offline proof
//! bundle, a notarised certificate (JSON) or a certificate PDF (its attached certificate and
//! the bundle inside) with no network, rule by rule (see `VERIFYING.md`), and prints every
//! check.
//!
//! Exit codes: 0 valid, 1 invalid (a rule failed), 2 unusable input (a file that cannot be
//! read, a policy that is not one, input that is neither a bundle nor a certificate).

use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::{Value, json};
use tiezheng_protocol::bundle::Policy;
use tiezheng_protocol::canonical;
use tiezheng_protocol::certificate::{CERTIFICATE_TYPE, certificate_from_pdf, verify_certificate};
use tiezheng_protocol::verify::{self, Check, RULES, Status, Verification};
use tiezheng_sdk::files::hash_media_file;

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
    /// The keys you trust (JSON policy: the consortium's genesis registry). Without it, the
    /// keys inside the bundle are used, which proves consistency, not who signed: courts pin
    /// their own policy.
    #[arg(long, value_name = "POLICY")]
    policy: Option<PathBuf>,
    /// Print the report as one JSON object instead of one line per check.
    #[arg(long)]
    json: bool,
}

/// What a verification found.
pub(crate) struct Outcome {
    /// Whether every rule held.
    pub(crate) valid: bool,
    /// The machine-readable report.
    pub(crate) line: Value,
    /// Every check, certificate rules first.
    pub(crate) checks: Vec<Check>,
    /// `layer`, `rule` and reason of the first failure.
    pub(crate) failure: Option<(String, String, String)>,
}

/// Input that cannot be checked at all (exit code 2).
pub(crate) struct Unusable(pub(crate) String);

/// Verifies the bundle, certificate or certificate PDF in `bytes` against `policy` (or the
/// keys the bundle carries, when `None`), with the evidence file at `media`.
pub(crate) fn verify_bytes(
    bytes: &[u8],
    media: Option<&Path>,
    policy: Option<&Policy>,
) -> Result<Outcome, Unusable> {
    let is_pdf = bytes
        .get(..1024)
        .unwrap_or(bytes)
        .windows(5)
        .any(|w| w == b"%PDF-");
    let mut checks: Vec<Check> = Vec::new();
    let certificate = if is_pdf {
        match certificate_from_pdf(bytes) {
            Ok(c) => {
                checks.push(check(
                    "certificate.pdf.attachment",
                    Status::Pass,
                    "one attached certificate".into(),
                ));
                Some(c)
            }
            Err(e) => {
                checks.push(check(e.rule(), Status::Fail, e.reason()));
                return Ok(finish(checks, None, &Value::Null));
            }
        }
    } else {
        None
    };
    let value: Value = match serde_json::from_slice(certificate.as_deref().unwrap_or(bytes)) {
        Ok(v) => v,
        Err(e) => {
            return Err(Unusable(format!(
                "neither a PDF nor JSON ({e}): give the bundle or certificate the notary exported"
            )));
        }
    };
    let is_certificate =
        value.pointer("/certificate/type").and_then(Value::as_str) == Some(CERTIFICATE_TYPE);
    let certificate = certificate.or_else(|| is_certificate.then(|| bytes.to_vec()));
    let bundle_value = match &certificate {
        Some(_) => value
            .pointer("/certificate/bundle")
            .cloned()
            .unwrap_or(Value::Null),
        None => value,
    };
    let policy = match policy {
        Some(p) => p.clone(),
        None => {
            if bundle_value
                .get("governance")
                .and_then(Value::as_array)
                .is_some_and(|g| !g.is_empty())
            {
                return Err(Unusable(
                    "the bundle carries registry changes: pass --policy with the consortium's genesis policy, from which they are followed".into(),
                ));
            }
            bundle_value
                .get("policy")
                .and_then(|p| serde_json::from_value(p.clone()).ok())
                .ok_or_else(|| {
                    Unusable("no usable policy inside the bundle: pass --policy".into())
                })?
        }
    };
    let media = match media {
        Some(m) => {
            let ranges = bundle_value
                .pointer("/proof/manifest")
                .and_then(|m| serde_json::from_value(m.clone()).ok())
                .map(|m| verify::segment_ranges(&m))
                .unwrap_or_default();
            Some(
                hash_media_file(m, &ranges, |_, _| {})
                    .map_err(|e| Unusable(format!("{e} ({})", e.hint())))?,
            )
        }
        None => None,
    };
    let mut certificate_line = Value::Null;
    if let Some(c) = &certificate {
        match verify_certificate(c, media.as_ref(), &policy) {
            Ok(r) => {
                for rule in RULES.iter().filter(|r| r.layer() == "certificate") {
                    if rule.id != "certificate.pdf.attachment" {
                        checks.push(check(rule.id, Status::Pass, "holds".into()));
                    }
                }
                let c = &r.certificate.certificate;
                certificate_line = json!({
                    "number": c.number,
                    "sm3": r.sm3,
                    "from_pdf": is_pdf,
                    "issuer": c.issuer.name,
                    "issued_at": c.issued_at,
                });
            }
            Err(e) if e.layer() == "certificate" => {
                checks.push(check(e.rule(), Status::Fail, e.reason()));
            }
            // The embedded bundle's failures are reported by its own checks below.
            Err(_) => {}
        }
    }
    let bundle_bytes = canonical::canonicalize(&bundle_value).unwrap_or_default();
    let v = verify::verify_bundle_bytes(&bundle_bytes, media.as_ref(), &policy)
        .map_err(|e| Unusable(e.to_string()))?;
    Ok(finish(checks, Some(v), &certificate_line))
}

fn check(rule: &'static str, status: Status, detail: String) -> Check {
    Check {
        layer: verify::report::layer_of(rule),
        rule,
        status,
        detail,
    }
}

fn finish(mut checks: Vec<Check>, v: Option<Verification>, certificate: &Value) -> Outcome {
    let facts = v.as_ref().map(|v| v.facts.clone()).unwrap_or_default();
    let bundle_valid = v.as_ref().is_some_and(|v| v.valid);
    if let Some(v) = v {
        checks.extend(v.checks);
    }
    let valid = bundle_valid && checks.iter().all(|c| c.status != Status::Fail);
    let first = verify::LAYERS.iter().find_map(|l| {
        checks
            .iter()
            .find(|c| c.status == Status::Fail && c.layer == *l)
    });
    let failure = first.map(|c| (c.layer.to_owned(), c.rule.to_owned(), c.detail.clone()));
    let f = &facts;
    let line = json!({
        "valid": valid,
        "layer": first.map(|c| c.layer),
        "rule": first.map(|c| c.rule),
        "reason": first.map(|c| c.detail.clone()),
        "certificate": certificate.get("number"),
        "certificate_sm3": certificate.get("sm3"),
        "from_pdf": certificate.get("from_pdf"),
        "proof_sm3": f.proof_sm3,
        "media_checked": f.media_item.is_some(),
        "media_item": f.media_item,
        "batch_seq": f.batch_seq,
        "anchor_height": f.anchor_height,
        "checkpoint_height": f.checkpoint_height,
        "cosigners": f.cosigners,
        "chain": f.chain.as_ref().map(|c| json!({
            "header_height": c.height,
            "block_hash": c.block_hash,
            "signers": c.signers,
            "validators": c.validators,
        })),
        "checks": checks,
    });
    Outcome {
        valid,
        line,
        checks,
        failure,
    }
}

/// Unusable input: exit 2 with a message naming the file and what to do.
fn unusable(file: &Path, what: impl std::fmt::Display) -> ExitCode {
    let _ = writeln!(io::stderr(), "tiezheng verify: {}: {what}", file.display());
    ExitCode::from(2)
}

pub(crate) fn run(a: &Args) -> anyhow::Result<ExitCode> {
    let bytes = match std::fs::read(&a.bundle) {
        Ok(b) => b,
        Err(e) => return Ok(unusable(&a.bundle, format!("cannot read it: {e}"))),
    };
    let policy: Option<Policy> = match &a.policy {
        Some(p) => {
            let parsed = std::fs::read(p)
                .map_err(|e| e.to_string())
                .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()));
            match parsed {
                Ok(policy) => Some(policy),
                Err(e) => {
                    return Ok(unusable(
                        p,
                        format!("not a policy (schemas/policy.schema.json): {e}"),
                    ));
                }
            }
        }
        None => {
            let _ = writeln!(
                io::stderr(),
                "tiezheng verify: no --policy given: using the keys inside the bundle (this shows the bundle is consistent, not who signed it)"
            );
            None
        }
    };
    let outcome = match verify_bytes(&bytes, a.media.as_deref(), policy.as_ref()) {
        Ok(o) => o,
        Err(Unusable(e)) => return Ok(unusable(&a.bundle, e)),
    };
    if a.json {
        let mut line = outcome.line.clone();
        if let Some(o) = line.as_object_mut() {
            o.insert("file".into(), json!(a.bundle.display().to_string()));
        }
        emit_json_line(&mut io::stdout().lock(), &line)?;
    } else {
        print_checks(&a.bundle, &outcome)?;
    }
    if let Some((layer, rule, reason)) = &outcome.failure {
        let _ = writeln!(
            io::stderr(),
            "tiezheng verify: {}: INVALID: {rule} ({layer}): {reason}",
            a.bundle.display(),
        );
    }
    Ok(if outcome.valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn print_checks(file: &Path, o: &Outcome) -> anyhow::Result<()> {
    let count = |s: Status| o.checks.iter().filter(|c| c.status == s).count();
    let mut text = format!("{}\n", file.display());
    for c in &o.checks {
        let status = match c.status {
            Status::Pass => "ok  ",
            Status::Fail => "FAIL",
            Status::Skip => "skip",
        };
        text.push_str(&format!(
            "  {status}  {:<11}  {:<30}  {}\n",
            c.layer, c.rule, c.detail
        ));
    }
    text.push_str(&if o.valid {
        format!(
            "VALID: {} checks passed, {} not applicable\n",
            count(Status::Pass),
            count(Status::Skip)
        )
    } else {
        format!("INVALID: {} rule(s) do not hold\n", count(Status::Fail))
    });
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}
