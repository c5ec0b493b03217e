//! `tiezheng inspect FILE...`: hashes, type, metadata and findings, one JSON line per file.

use std::io::{self, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::json;
use tiezheng_protocol::manifest::GpsPoint;
use tiezheng_sdk::inspect::inspect_file;

use super::emit_json_line;

/// Arguments of `tiezheng inspect`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Files to inspect.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let mut stdout = io::stdout().lock();
    let mut failed = 0usize;
    for path in &args.files {
        match inspect_file(path) {
            Ok(i) => {
                let m = &i.metadata;
                let line = json!({
                    "path": path.to_string_lossy(),
                    "bytes": i.digests.bytes,
                    "sm3": i.digests.sm3,
                    "sha256": i.digests.sha256,
                    "mime": i.media.mime(),
                    "kind": i.media.kind(),
                    "metadata": {
                        "gps": m.gps.as_ref().map(gps_numbers),
                        "captured_at": m.captured_at,
                        "make": m.make,
                        "model": m.model,
                        "orientation": m.orientation,
                        "sources": m.sources,
                    },
                    "fingerprint": i.fingerprint,
                    "warnings": i.findings,
                });
                if !emit_json_line(&mut stdout, &line)? {
                    return Ok(ExitCode::SUCCESS);
                }
            }
            Err(e) => {
                failed += 1;
                let _ = writeln!(io::stderr(), "tiezheng inspect: {e} ({})", e.hint());
            }
        }
    }
    Ok(if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Inspection output is a report, not a signed document: coordinates as JSON numbers.
fn gps_numbers(p: &GpsPoint) -> serde_json::Value {
    json!({
        "latitude": p.latitude.to_f64(),
        "longitude": p.longitude.to_f64(),
        "altitude": p.altitude.as_ref().map(|a| a.to_f64()),
    })
}
