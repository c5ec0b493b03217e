//! `tiezheng verify BUNDLE [--media FILE] [--policy POLICY] [--json]`: checks an offline proof
//! bundle with no network, rule by rule (see `VERIFYING.md`), and prints every check.
//!
//! Exit codes: 0 valid, 1 invalid (a rule failed), 2 unusable input (a file that cannot be
//! read, a policy that is not one, a bundle that is not JSON).

use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::json;
use tiezheng_protocol::bundle::Policy;
use tiezheng_protocol::verify::{self, Status, Verification};
use tiezheng_sdk::files::hash_media_file;

use super::emit_json_line;

/// Arguments of `tiezheng verify`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The bundle (JSON), as the notary exported it.
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

/// Unusable input: exit 2 with a message naming the file and what to do.
fn unusable(file: &Path, what: impl std::fmt::Display) -> anyhow::Result<ExitCode> {
    let _ = writeln!(io::stderr(), "tiezheng verify: {}: {what}", file.display());
    Ok(ExitCode::from(2))
}

pub(crate) fn run(a: &Args) -> anyhow::Result<ExitCode> {
    let bytes = match std::fs::read(&a.bundle) {
        Ok(b) => b,
        Err(e) => return unusable(&a.bundle, format!("cannot read the bundle: {e}")),
    };
    let value: serde_json::Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(e) => {
            return unusable(
                &a.bundle,
                format!("not JSON ({e}): give the bundle the notary exported"),
            );
        }
    };
    let policy: Policy = match &a.policy {
        Some(p) => {
            let parsed = std::fs::read(p)
                .map_err(|e| e.to_string())
                .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()));
            match parsed {
                Ok(policy) => policy,
                Err(e) => {
                    return unusable(p, format!("not a policy (schemas/policy.schema.json): {e}"));
                }
            }
        }
        None => {
            if value
                .get("governance")
                .and_then(|g| g.as_array())
                .is_some_and(|g| !g.is_empty())
            {
                return unusable(
                    &a.bundle,
                    "the bundle carries registry changes: pass --policy with the consortium's genesis policy, from which they are followed",
                );
            }
            let Some(copy) = value
                .get("policy")
                .and_then(|p| serde_json::from_value(p.clone()).ok())
            else {
                return unusable(
                    &a.bundle,
                    "no usable policy inside the bundle: pass --policy",
                );
            };
            let _ = writeln!(
                io::stderr(),
                "tiezheng verify: no --policy given: using the keys inside the bundle (this shows the bundle is consistent, not who signed it)"
            );
            copy
        }
    };
    let media = match &a.media {
        Some(m) => {
            let ranges = value
                .get("proof")
                .and_then(|p| p.get("manifest"))
                .and_then(|m| serde_json::from_value(m.clone()).ok())
                .map(|m| verify::segment_ranges(&m))
                .unwrap_or_default();
            match hash_media_file(m, &ranges, |_, _| {}) {
                Ok(e) => Some(e),
                Err(e) => return unusable(m, format!("{e} ({})", e.hint())),
            }
        }
        None => None,
    };
    let v = match verify::verify_bundle_bytes(&bytes, media.as_ref(), &policy) {
        Ok(v) => v,
        Err(e) => return unusable(a.policy.as_deref().unwrap_or(&a.bundle), e),
    };
    if a.json {
        emit_json_line(
            &mut io::stdout().lock(),
            &json_report(&a.bundle, &value, &v),
        )?;
    } else {
        print_checks(&a.bundle, &v)?;
    }
    if let Some(c) = v.first_failure() {
        let _ = writeln!(
            io::stderr(),
            "tiezheng verify: {}: INVALID: {} ({}): {}",
            a.bundle.display(),
            c.rule,
            c.layer,
            c.detail
        );
    }
    Ok(if v.valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The machine-readable report: the verdict, every check, the facts, and the first failure.
fn json_report(file: &Path, bundle: &serde_json::Value, v: &Verification) -> serde_json::Value {
    let f = &v.facts;
    let first = v.first_failure();
    json!({
        "file": file.display().to_string(),
        "valid": v.valid,
        "mode": bundle.get("mode"),
        "layer": first.map(|c| c.layer),
        "rule": first.map(|c| c.rule),
        "reason": first.map(|c| c.detail.clone()),
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
    })
}

fn print_checks(file: &Path, v: &Verification) -> anyhow::Result<()> {
    let mut out = io::stdout().lock();
    let mut text = format!("{}\n", file.display());
    for c in &v.checks {
        let status = match c.status {
            Status::Pass => "ok  ",
            Status::Fail => "FAIL",
            Status::Skip => "skip",
        };
        text.push_str(&format!(
            "  {status}  {:<10}  {:<26}  {}\n",
            c.layer, c.rule, c.detail
        ));
    }
    let failed = v.checks.iter().filter(|c| c.status == Status::Fail).count();
    text.push_str(&if v.valid {
        format!(
            "VALID: {} checks passed, {} not applicable\n",
            v.checks.iter().filter(|c| c.status == Status::Pass).count(),
            v.checks.iter().filter(|c| c.status == Status::Skip).count()
        )
    } else {
        format!("INVALID: {failed} rule(s) do not hold\n")
    });
    match out.write_all(text.as_bytes()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}
