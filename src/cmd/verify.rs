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
use tiezheng_protocol::verify::{Check, Document, DocumentKind, DocumentVerification, Status};
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
/// keys the bundle carries, when `None`), with the evidence file at `media`: the protocol's
/// one verification entry ([`Document`]), rendered.
pub(crate) fn verify_bytes(
    bytes: &[u8],
    media: Option<&Path>,
    policy: Option<&Policy>,
) -> Result<Outcome, Unusable> {
    let doc = Document::recognise(bytes).map_err(|e| Unusable(e.message))?;
    let media = match media {
        Some(m) => Some(
            hash_media_file(m, &doc.segment_ranges(), |_, _| {})
                .map_err(|e| Unusable(format!("{e} ({})", e.hint())))?,
        ),
        None => None,
    };
    let v = doc
        .verify(media.as_ref(), policy)
        .map_err(|e| Unusable(e.message))?;
    Ok(render(&v))
}

fn render(v: &DocumentVerification) -> Outcome {
    let first = v.first_failure();
    let failure = first.map(|c| (c.layer.to_owned(), c.rule.to_owned(), c.detail.clone()));
    let f = &v.facts;
    let c = v.certificate.as_ref();
    let line = json!({
        "valid": v.valid,
        "kind": v.kind,
        "layer": first.map(|c| c.layer),
        "rule": first.map(|c| c.rule),
        "reason": first.map(|c| c.detail.clone()),
        "certificate": c.map(|c| c.number.clone()),
        "certificate_sm3": c.map(|c| c.sm3),
        "from_pdf": (v.kind != DocumentKind::Bundle).then_some(v.kind == DocumentKind::CertificatePdf),
        "policy_source": v.policy_source,
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
        "checks": v.checks,
    });
    Outcome {
        valid: v.valid,
        line,
        checks: v.checks.clone(),
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
