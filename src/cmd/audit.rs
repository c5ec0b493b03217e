//! `tiezheng audit`: re-checks a notary's stored proofs, receipts, media, custody events and
//! anchor records against each other and the ledger; prints one JSON line per finding, then a
//! summary, and exits 1 when anything was altered.

use std::io::{self, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use tiezheng_notary::NotaryConfig;

/// Arguments of `tiezheng audit`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The notary's TOML configuration file (TIEZHENG_NOTARY_* variables override it).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The notary's data directory (database, media store, keys, embedded ledger).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

pub(crate) fn run(a: &Args) -> anyhow::Result<ExitCode> {
    let mut cfg = NotaryConfig::load(a.config.as_deref(), std::env::vars())?;
    if let Some(d) = &a.data_dir {
        cfg.data_dir.clone_from(d);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let report = rt.block_on(tiezheng_notary::audit::audit(&cfg))?;
    let mut out = io::stdout().lock();
    for f in &report.findings {
        if !super::emit_json_line(&mut out, f)? {
            return Ok(ExitCode::FAILURE);
        }
    }
    let verdict = if report.findings.is_empty() {
        "intact"
    } else {
        "altered"
    };
    super::emit_json_line(
        &mut out,
        &serde_json::json!({
            "audit": verdict,
            "proofs": report.proofs,
            "media_files": report.media_files,
            "custody_events": report.custody_events,
            "batches": report.batches,
            "bundles_verified": report.bundles_verified,
            "findings": report.findings.len(),
        }),
    )?;
    out.flush()?;
    Ok(if report.findings.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
