//! `tiezheng bundle fetch`: a court, an administrator or an appraiser granted the case
//! downloads the offline bundle of a proof from a notary, waiting (up to `--wait` seconds)
//! while its batch is not anchored yet; `tiezheng verify` then checks it offline.

use std::io::{self, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use serde_json::{Value, json};

use super::certificate::{NotaryAccess, get_answer, refusal};
use super::emit_json_line;

/// `tiezheng bundle ...`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Download a proof's offline bundle (JSON). Check it with
    /// `tiezheng verify FILE --media EVIDENCE --policy POLICY`.
    Fetch(FetchArgs),
}

/// Arguments of `tiezheng bundle fetch`.
#[derive(Debug, clap::Args)]
pub(crate) struct FetchArgs {
    #[command(flatten)]
    access: NotaryAccess,
    /// The proof's SM3 (64 hex digits).
    #[arg(long, value_name = "SM3")]
    proof: String,
    /// Where to write it (default: `bundle-<proof SM3>.json`).
    #[arg(long, short, value_name = "FILE")]
    out: Option<PathBuf>,
    /// How long to wait for the proof to be anchored, in seconds (0: do not wait).
    #[arg(long, default_value_t = 60)]
    wait: u64,
}

pub(crate) fn run(cmd: &Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Fetch(a) => fetch(a),
    }
}

fn fetch(a: &FetchArgs) -> anyhow::Result<ExitCode> {
    let path = format!("/v1/proofs/{}/bundle", a.proof);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(a.wait);
    let body = loop {
        let (status, body, retry) = get_answer(&a.access.notary, &a.access.token, &path)?;
        match status {
            200 => break body,
            409 if std::time::Instant::now() < deadline => {
                let pause = retry.unwrap_or(1).clamp(1, 5);
                std::thread::sleep(std::time::Duration::from_secs(pause));
            }
            409 => bail!(
                "--proof {}: not anchored within {} s ({}); try again later or pass a longer --wait",
                a.proof,
                a.wait,
                refusal(status, &body, retry)
            ),
            _ => bail!("--proof {}: {}", a.proof, refusal(status, &body, retry)),
        }
    };
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("bundle-{}.json", a.proof)));
    std::fs::write(&out, &body).with_context(|| format!("cannot write {}", out.display()))?;
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let _ = writeln!(
        io::stderr(),
        "tiezheng bundle: wrote {}; check it with `tiezheng verify {} --media EVIDENCE --policy POLICY`",
        out.display(),
        out.display()
    );
    emit_json_line(
        &mut io::stdout().lock(),
        &json!({"path": out, "bytes": body.len(), "mode": v.get("mode"),
                "batch_seq": v.pointer("/batch/header/header/batch_seq"),
                "anchor_height": v.pointer("/anchor/record/height")}),
    )?;
    Ok(ExitCode::SUCCESS)
}
