//! `tiezheng device init|show`, and the device options shared by capture-side commands.

use std::io::{self, IsTerminal as _};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use serde_json::json;
use tiezheng_sdk::device::{Device, DeviceSetup, UnlockedDevice};
use tiezheng_sdk::vault::{DEFAULT_PBKDF2_ITERATIONS, PassphraseVault};

use super::emit_json_line;

/// `tiezheng device ...`
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Set up a device: generate its SM2 key on this machine and seal it under the officer's
    /// PIN (from TIEZHENG_PIN, or asked for on the terminal).
    Init(InitArgs),
    /// Show the device's identity and public key.
    Show(DirArg),
}

/// The device directory.
#[derive(Debug, clap::Args)]
pub(crate) struct DirArg {
    /// Device directory (key, queue, media).
    #[arg(long, value_name = "DIR")]
    pub(crate) dir: PathBuf,
}

/// Arguments of `tiezheng device init`.
#[derive(Debug, clap::Args)]
pub(crate) struct InitArgs {
    #[command(flatten)]
    dir: DirArg,
    /// Officer ID; repeat for each officer (the rules require two collectors).
    #[arg(long = "officer", value_name = "ID", required = true)]
    officers: Vec<String>,
    /// Hardware model recorded in manifests.
    #[arg(long, default_value = "laptop")]
    model: String,
    /// Operating system recorded in manifests.
    #[arg(long, default_value = std::env::consts::OS)]
    os: String,
    /// The forensic profile captures follow by default (`tiezheng profiles` lists them).
    #[arg(long, value_name = "ID")]
    profile: Option<String>,
    /// PBKDF2 iterations for sealing the key (lower values are for tests only).
    #[arg(long, hide = true, default_value_t = DEFAULT_PBKDF2_ITERATIONS)]
    danger_kdf_iterations: u32,
}

pub(crate) fn run(cmd: &Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Init(a) => {
            let vault =
                PassphraseVault::new(pin()?).danger_with_iterations(a.danger_kdf_iterations);
            let setup = DeviceSetup {
                profile: a.profile.clone(),
                officers: a.officers.clone(),
                model: a.model.clone(),
                os: a.os.clone(),
            };
            let device = Device::init(&a.dir.dir, setup, &vault)?;
            show(&device)
        }
        Command::Show(a) => show(&Device::open(&a.dir)?),
    }
}

fn show(device: &Device) -> anyhow::Result<ExitCode> {
    let s = device.state();
    let line = json!({
        "device_id": s.device_id,
        "officers": s.officers,
        "profile": s.profile.as_deref().unwrap_or(tiezheng_protocol::profile::BASIC_PROFILE),
        "key_id": s.key_id,
        "public_key": s.public_key,
        "enrolment_id": s.enrolment_id,
        "locked": s.locked,
        "failed_unlocks": s.failed_unlocks,
    });
    emit_json_line(&mut io::stdout().lock(), &line)?;
    Ok(ExitCode::SUCCESS)
}

/// The officer's PIN: `TIEZHENG_PIN`, or a prompt without echo when a terminal is attached.
pub(crate) fn pin() -> anyhow::Result<String> {
    if let Ok(p) = std::env::var("TIEZHENG_PIN") {
        if p.is_empty() {
            bail!("TIEZHENG_PIN is empty: set the officer's PIN");
        }
        return Ok(p);
    }
    if io::stdin().is_terminal() {
        let p = rpassword::prompt_password("Officer PIN: ")
            .context("reading the PIN from the terminal")?;
        if p.is_empty() {
            bail!("empty PIN");
        }
        return Ok(p);
    }
    bail!("no PIN: set TIEZHENG_PIN or run on a terminal to be asked")
}

/// Opens and unlocks the device in `dir` with the officer's PIN.
pub(crate) fn unlock(dir: &std::path::Path) -> anyhow::Result<UnlockedDevice> {
    let device = Device::open(dir)?;
    let vault = PassphraseVault::new(pin()?);
    Ok(device.unlock(&vault)?)
}
