//! One module per subcommand.

pub(crate) mod appraisal;
pub(crate) mod audit;
pub(crate) mod bundle;
pub(crate) mod capture;
pub(crate) mod certificate;
pub(crate) mod demo;
mod demo_appraisal;
pub(crate) mod device;
pub(crate) mod hash;
pub(crate) mod inspect;
pub(crate) mod ledger;
pub(crate) mod notary;
pub(crate) mod officer;
pub(crate) mod profiles;
pub(crate) mod verify;

use std::io::{self, Write};

/// Writes one JSON line to stdout. `Ok(false)` means stdout is closed (for example piped into
/// `head`): the caller stops quietly instead of failing.
pub(crate) fn emit_json_line<T: serde::Serialize>(
    out: &mut impl Write,
    value: &T,
) -> anyhow::Result<bool> {
    let mut line = serde_json::to_vec(value)?;
    line.push(b'\n');
    match out.write_all(&line).and_then(|()| out.flush()) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// JSON logs on stderr for the long-running services, filtered by `TIEZHENG_LOG` (default
/// `info`).
pub(crate) fn init_json_logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TIEZHENG_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(io::stderr)
        .json()
        .try_init();
}
