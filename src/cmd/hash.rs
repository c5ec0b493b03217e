//! `tiezheng hash FILE...`: SM3 and SHA-256 of each file, one JSON line per file.

use std::io::{self, IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use indicatif::{ProgressBar, ProgressStyle};
use tiezheng_protocol::{HashRecord, hash_reader};
use tiezheng_sdk::files::hash_file;

use super::emit_json_line;

/// Files at least this large get a progress bar when stderr is a terminal.
const PROGRESS_THRESHOLD: u64 = 64 * 1024 * 1024;

/// Arguments of `tiezheng hash`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Files to hash; `-` reads standard input.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Never show a progress bar.
    #[arg(long)]
    no_progress: bool,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let show_progress = !args.no_progress && io::stderr().is_terminal();
    let mut stdout = io::stdout().lock();
    let mut failed = 0usize;
    for path in &args.files {
        let shown = path.to_string_lossy().into_owned();
        let result = if shown == "-" {
            hash_reader(io::stdin().lock(), |_| {})
                .map_err(|e| format!("cannot read standard input: {e}"))
        } else {
            let bar = ProgressSlot::new(show_progress, &shown);
            let r = hash_file(path, |done, total| bar.update(done, total));
            bar.finish();
            r.map_err(|e| format!("{e} ({})", e.hint()))
        };
        match result {
            Ok(digests) => {
                if !emit_json_line(&mut stdout, &HashRecord::new(shown, &digests))? {
                    return Ok(ExitCode::SUCCESS);
                }
            }
            Err(message) => {
                failed += 1;
                let _ = writeln!(io::stderr(), "tiezheng hash: {message}");
            }
        }
    }
    if failed > 0 {
        let _ = writeln!(
            io::stderr(),
            "tiezheng hash: {failed} of {} files could not be hashed",
            args.files.len()
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// A progress bar created lazily, only for large files on a terminal.
struct ProgressSlot<'a> {
    enabled: bool,
    label: &'a str,
    bar: std::cell::OnceCell<ProgressBar>,
}

impl<'a> ProgressSlot<'a> {
    fn new(enabled: bool, label: &'a str) -> Self {
        Self {
            enabled,
            label,
            bar: std::cell::OnceCell::new(),
        }
    }

    fn update(&self, done: u64, total: u64) {
        if !self.enabled || total < PROGRESS_THRESHOLD {
            return;
        }
        let bar = self.bar.get_or_init(|| {
            let bar = ProgressBar::new(total);
            if let Ok(style) = ProgressStyle::with_template(
                "{msg} [{bar:30}] {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} eta {eta}",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_message(self.label.to_owned());
            bar
        });
        bar.set_position(done);
    }

    fn finish(&self) {
        if let Some(bar) = self.bar.get() {
            bar.finish_and_clear();
        }
    }
}
