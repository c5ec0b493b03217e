//! `tiezheng officer add|list|enrol`: each collector's own SM2 key on the device, sealed under
//! the officer's PIN (`TIEZHENG_OFFICER_PIN`, or asked for on a terminal), bound by the notary to
//! the officer's identity; and, for `capture` and `session close`, the unlocking of every
//! collector whose PIN is given (`TIEZHENG_OFFICER_PIN_<officer ID>`), so that each signs.

use std::io::{self, IsTerminal as _, Write as _};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use serde_json::json;
use tiezheng_protocol::officer::OfficerIdentity;
use tiezheng_sdk::device::{Device, UnlockedDevice};
use tiezheng_sdk::vault::PassphraseVault;

use super::device::{DirArg, unlock};
use super::emit_json_line;
use super::notary::{notary_client, runtime};

/// `tiezheng officer ...`
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Register an officer on the device: the officer's own SM2 key, sealed under the
    /// officer's PIN (TIEZHENG_OFFICER_PIN, or asked for on a terminal).
    Add(AddArgs),
    /// List the officers registered on the device, and whether the notary bound their keys.
    List(DirArg),
    /// Bind an officer's key with the notary, through the enrolled device, with a one-time code
    /// the administrator issued for that officer (device PIN: TIEZHENG_PIN; officer PIN:
    /// TIEZHENG_OFFICER_PIN).
    Enrol(EnrolArgs),
}

/// Arguments of `tiezheng officer add`.
#[derive(Debug, clap::Args)]
pub(crate) struct AddArgs {
    #[command(flatten)]
    dir: DirArg,
    /// Officer ID (as named with --collector).
    #[arg(long = "id", value_name = "OFFICER_ID")]
    officer_id: String,
    /// The officer's name.
    #[arg(long)]
    name: String,
    /// The officer's enforcement credential number (执法证号).
    #[arg(long)]
    badge: String,
    /// The officer's unit.
    #[arg(long)]
    unit: String,
    /// PBKDF2 iterations for sealing the key (lower values are for tests only).
    #[arg(long, hide = true, default_value_t = tiezheng_sdk::vault::DEFAULT_PBKDF2_ITERATIONS)]
    danger_kdf_iterations: u32,
}

/// Arguments of `tiezheng officer enrol`.
#[derive(Debug, clap::Args)]
pub(crate) struct EnrolArgs {
    #[command(flatten)]
    dir: DirArg,
    /// Officer ID.
    #[arg(long = "id", value_name = "OFFICER_ID")]
    officer_id: String,
    /// The one-time code the administrator issued for this officer.
    #[arg(long)]
    code: String,
}

/// The PIN in `var`, or asked for on a terminal.
fn pin_from(var: &str, prompt: &str) -> anyhow::Result<Option<String>> {
    if let Ok(p) = std::env::var(var) {
        if p.is_empty() {
            bail!("{var} is empty: set the officer's PIN");
        }
        return Ok(Some(p));
    }
    if io::stdin().is_terminal() {
        let p = rpassword::prompt_password(prompt).context("reading the PIN")?;
        return Ok((!p.is_empty()).then_some(p));
    }
    Ok(None)
}

fn officer_pin() -> anyhow::Result<String> {
    pin_from("TIEZHENG_OFFICER_PIN", "Officer's own PIN: ")?
        .context("no officer PIN: set TIEZHENG_OFFICER_PIN or run on a terminal to be asked")
}

pub(crate) fn run(cmd: &Command) -> anyhow::Result<ExitCode> {
    let mut out = io::stdout().lock();
    match cmd {
        Command::Add(a) => {
            let device = Device::open(&a.dir.dir)?;
            let vault = PassphraseVault::new(officer_pin()?)
                .danger_with_iterations(a.danger_kdf_iterations);
            let r = device.add_officer(
                OfficerIdentity {
                    officer_id: a.officer_id.clone(),
                    name: a.name.clone(),
                    badge_number: a.badge.clone(),
                    unit: a.unit.clone(),
                },
                &vault,
            )?;
            emit_json_line(
                &mut out,
                &json!({"officer_id": r.officer.officer_id, "key_id": r.key_id, "public_key": r.public_key}),
            )?;
        }
        Command::List(a) => {
            for r in Device::open(&a.dir)?.officers()? {
                let line = json!({
                    "officer_id": r.officer.officer_id,
                    "name": r.officer.name,
                    "badge_number": r.officer.badge_number,
                    "unit": r.officer.unit,
                    "key_id": r.key_id,
                    "enrolled": r.credential.is_some(),
                    "locked": r.locked,
                });
                if !emit_json_line(&mut out, &line)? {
                    break;
                }
            }
        }
        Command::Enrol(a) => {
            let device = unlock(&a.dir.dir)?;
            device.unlock_officer(&a.officer_id, &PassphraseVault::new(officer_pin()?))?;
            let binding = tiezheng_sdk::client::NotaryBinding::load(&a.dir.dir)?;
            let client = notary_client(&binding.url)?;
            let c = runtime()?.block_on(client.enrol_officer(&device, &a.officer_id, &a.code))?;
            emit_json_line(
                &mut out,
                &json!({"officer_id": c.certificate.officer.officer_id, "key_id": c.certificate.key_id, "notary_key_id": c.certificate.notary_key_id, "issued_at": c.certificate.issued_at}),
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Unlocks each of `collectors` registered on the device whose PIN is in
/// `TIEZHENG_OFFICER_PIN_<officer ID>`, so that they sign; says on stderr who will not.
pub(crate) fn unlock_collectors(
    device: &UnlockedDevice,
    collectors: &[String],
) -> anyhow::Result<()> {
    let registered = device.device().officers()?;
    for c in collectors {
        if !registered.iter().any(|r| &r.officer.officer_id == c) {
            continue;
        }
        let var = format!("TIEZHENG_OFFICER_PIN_{c}");
        match std::env::var(&var) {
            Ok(pin) if !pin.is_empty() => {
                device
                    .unlock_officer(c, &PassphraseVault::new(pin))
                    .with_context(|| format!("officer {c} ({var})"))?;
            }
            _ => {
                let _ = writeln!(
                    io::stderr(),
                    "tiezheng: officer {c} does not sign this capture: set {var} to the officer's PIN"
                );
            }
        }
    }
    Ok(())
}
