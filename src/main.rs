//! `tiezheng`: the command line of Tiezheng (铁证).
//!
//! One program for every role: `hash` and (as they land) `inspect`, `device`, `capture` and
//! `sync` for the officer's side, `serve` for the notary, `verify` for appraisers and courts,
//! and `demo` to watch the whole flow on a laptop.

use std::io::Write as _;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;

/// Tiezheng (铁证): evidence that courts can trust from the moment of capture.
#[derive(Debug, Parser)]
#[command(name = "tiezheng", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print SM3 and SHA-256 of files as JSON Lines: {"path","bytes","sm3","sha256"}.
    Hash(cmd::hash::Args),
    /// Print hashes, type, metadata (GPS, capture time, camera) and findings as JSON Lines.
    Inspect(cmd::inspect::Args),
    /// Set up or show the officer's device (SM2 key sealed under the PIN).
    #[command(subcommand)]
    Device(cmd::device::Command),
    /// Officers' own keys on the device: add, list, enrol with the notary.
    #[command(subcommand)]
    Officer(cmd::officer::Command),
    /// List the forensic profiles (取证规范) captures can follow, or print one whole.
    Profiles(cmd::profiles::Args),
    /// Capture a photo, video or audio file: hash, read metadata, sign, queue; prints the proof.
    Capture(Box<cmd::capture::CaptureArgs>),
    /// List the device's queue of proofs (pending and acknowledged).
    Queue(cmd::device::DirArg),
    /// Enforcement sessions.
    #[command(subcommand)]
    Session(cmd::capture::SessionCommand),
    /// Turn recordings interrupted by a crash into proofs of what was recorded.
    Recover(cmd::device::DirArg),
    /// Run the notary service (SQLite and a local media store by default).
    Serve(cmd::notary::ServeArgs),
    /// Operator actions against a running notary.
    #[command(subcommand)]
    Admin(cmd::notary::AdminCommand),
    /// Enrol the device with a notary using a one-time code.
    Enrol(cmd::notary::EnrolArgs),
    /// Submit queued proofs and their media to the notary; store the signed receipts.
    Sync(cmd::notary::SyncArgs),
    /// A consortium member's ledger: keys, CometBFT genesis, the ABCI application.
    #[command(subcommand)]
    Ledger(cmd::ledger::Command),
    /// Verify an offline proof bundle, a certificate (JSON) or a certificate PDF (and the
    /// evidence file), rule by rule, offline.
    Verify(cmd::verify::Args),
    /// Re-check a notary's stored proofs, receipts, media, custody log and anchors against
    /// each other and the ledger; name what was altered (exit 1).
    Audit(cmd::audit::Args),
    /// Offline proof bundles: fetch them from a notary.
    #[command(subcommand)]
    Bundle(cmd::bundle::Command),
    /// Evidence certificates (存证证书): fetch them from a notary.
    #[command(subcommand)]
    Certificate(cmd::certificate::Command),
    /// Judicial appraisal (司法鉴定): party keys, credentials, the court's commission, every
    /// step of the institution, the appraisers and the reviewer, the delivered opinion.
    #[command(subcommand)]
    Appraisal(cmd::appraisal::Command),
    /// Run the end-to-end demonstration on the repository's sample media (`tests/corpus`).
    Demo(cmd::demo::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Hash(args) => cmd::hash::run(&args),
        Command::Inspect(args) => cmd::inspect::run(&args),
        Command::Device(c) => cmd::device::run(&c),
        Command::Profiles(args) => cmd::profiles::run(&args),
        Command::Officer(c) => cmd::officer::run(&c),
        Command::Capture(args) => cmd::capture::capture(&args),
        Command::Queue(args) => cmd::capture::queue(&args),
        Command::Session(c) => cmd::capture::session(&c),
        Command::Recover(args) => cmd::capture::recover_cmd(&args),
        Command::Serve(args) => cmd::notary::serve(&args),
        Command::Admin(c) => cmd::notary::admin(&c),
        Command::Enrol(args) => cmd::notary::enrol(&args),
        Command::Sync(args) => cmd::notary::sync(&args),
        Command::Ledger(c) => cmd::ledger::run(&c),
        Command::Verify(args) => cmd::verify::run(&args),
        Command::Bundle(c) => cmd::bundle::run(&c),
        Command::Certificate(c) => cmd::certificate::run(&c),
        Command::Audit(args) => cmd::audit::run(&args),
        Command::Appraisal(c) => cmd::appraisal::run(&c),
        Command::Demo(args) => cmd::demo::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            let _ = writeln!(std::io::stderr(), "tiezheng: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
