//! `tiezheng verify BUNDLE [--media FILE] [--policy POLICY]`: checks an offline proof bundle,
//! layer by layer, with no network.

use std::io::{self, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use serde_json::json;
use tiezheng_protocol::bundle::{Policy, parse_bundle, verify_bundle};
use tiezheng_sdk::files::hash_file;

use super::emit_json_line;

/// Arguments of `tiezheng verify`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The bundle (JSON), as the notary exported it.
    bundle: PathBuf,
    /// The evidence file to check against the proof.
    #[arg(long, value_name = "FILE")]
    media: Option<PathBuf>,
    /// The keys you trust (JSON policy). Without it, the keys inside the bundle are used, which
    /// proves consistency, not who signed: courts pin their own policy.
    #[arg(long, value_name = "POLICY")]
    policy: Option<PathBuf>,
}

pub(crate) fn run(a: &Args) -> anyhow::Result<ExitCode> {
    let bytes =
        std::fs::read(&a.bundle).with_context(|| format!("cannot read {}", a.bundle.display()))?;
    let bundle = match parse_bundle(&bytes) {
        Ok(b) => b,
        Err(e) => return fail(&a.bundle.display().to_string(), &e),
    };
    let policy: Policy = match &a.policy {
        Some(p) => serde_json::from_slice(
            &std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?,
        )
        .with_context(|| {
            format!(
                "{} is not a policy (schemas/policy.schema.json)",
                p.display()
            )
        })?,
        None => {
            let _ = writeln!(
                io::stderr(),
                "tiezheng verify: no --policy given: using the keys inside the bundle (this shows the bundle is consistent, not who signed it)"
            );
            bundle.policy.clone()
        }
    };
    let digests = match &a.media {
        Some(m) => {
            Some(hash_file(m, |_, _| {}).map_err(|e| anyhow::anyhow!("{e} ({})", e.hint()))?)
        }
        None => None,
    };
    match verify_bundle(&bundle, digests.as_ref(), &policy) {
        Ok(r) => {
            emit_json_line(
                &mut io::stdout().lock(),
                &json!({
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
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => fail(&a.bundle.display().to_string(), &e),
    }
}

fn fail(file: &str, e: &tiezheng_protocol::bundle::BundleError) -> anyhow::Result<ExitCode> {
    emit_json_line(
        &mut io::stdout().lock(),
        &json!({"valid": false, "layer": e.layer, "reason": e.reason}),
    )?;
    let _ = writeln!(
        io::stderr(),
        "tiezheng verify: {file}: INVALID at layer `{}`: {}",
        e.layer,
        e.reason
    );
    Ok(ExitCode::FAILURE)
}
