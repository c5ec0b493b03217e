//! `tiezheng serve`, `tiezheng admin ...`, `tiezheng enrol`, `tiezheng sync`.

use std::io::{self, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use serde_json::{Value, json};
use tiezheng_notary::NotaryConfig;
use tiezheng_sdk::client::{NotaryBinding, NotaryClient, SyncEvent};

use super::device::{DirArg, unlock};
use super::emit_json_line;

/// Arguments of `tiezheng serve`.
#[derive(Debug, clap::Args)]
pub(crate) struct ServeArgs {
    /// TOML configuration file (every field optional; TIEZHENG_NOTARY_* variables override).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Address to listen on (port 0: any free port).
    #[arg(long)]
    listen: Option<String>,
    /// Data directory (SQLite database, media store, notary key).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

pub(crate) fn serve(a: &ServeArgs) -> anyhow::Result<ExitCode> {
    super::init_json_logs();
    let mut cfg = NotaryConfig::load(a.config.as_deref(), std::env::vars())?;
    if let Some(l) = &a.listen {
        cfg.listen.clone_from(l);
    }
    if let Some(d) = &a.data_dir {
        cfg.data_dir.clone_from(d);
    }
    tracing::info!(config = ?cfg, "starting notary");
    tiezheng_notary::run(cfg, |n| {
        let mut out = io::stdout().lock();
        let _ = writeln!(out, "tiezheng notary listening on http://{}", n.addr);
        if let Some(f) = &n.admin_token_file {
            let _ = writeln!(
                out,
                "administrator token written to {} (keep it secret)",
                f.display()
            );
        }
        let _ = out.flush();
    })?;
    Ok(ExitCode::SUCCESS)
}

/// `tiezheng admin ...`: operator actions against a running notary.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum AdminCommand {
    /// Issue a one-time enrolment code for an officer's device.
    EnrolmentCode {
        #[command(flatten)]
        conn: AdminConn,
        /// The officer's ID.
        #[arg(long)]
        officer: String,
    },
    /// Issue an appraiser, court or admin token.
    Token {
        #[command(flatten)]
        conn: AdminConn,
        /// appraiser, court or admin.
        #[arg(long)]
        role: String,
        /// Who holds it (a name or an organisation).
        #[arg(long)]
        subject: String,
        /// Case the appraiser may read (repeatable).
        #[arg(long = "case")]
        cases: Vec<String>,
        /// Lifetime in seconds.
        #[arg(long)]
        ttl_seconds: Option<i64>,
    },
    /// Revoke a device by its key ID.
    RevokeDevice {
        #[command(flatten)]
        conn: AdminConn,
        /// SM3 key ID of the device.
        #[arg(long)]
        key_id: String,
    },
}

/// Where the notary is and the administrator token.
#[derive(Debug, clap::Args)]
pub(crate) struct AdminConn {
    /// The notary's base URL.
    #[arg(long, default_value = "http://127.0.0.1:8700")]
    pub(crate) notary: String,
    /// Administrator token (default: TIEZHENG_ADMIN_TOKEN).
    #[arg(long, env = "TIEZHENG_ADMIN_TOKEN", hide_env_values = true)]
    pub(crate) token: String,
}

pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

pub(crate) fn admin_call(conn: &AdminConn, path: &str, body: &Value) -> anyhow::Result<Value> {
    let _ = rustls_provider();
    runtime()?.block_on(async {
        let url = format!("{}{path}", conn.notary.trim_end_matches('/'));
        let resp = reqwest::Client::new()
            .post(&url)
            .bearer_auth(&conn.token)
            .json(body)
            .send()
            .await
            .with_context(|| format!("cannot reach {url}"))?;
        let status = resp.status();
        let v: Value = resp.json().await.context("reading the notary's answer")?;
        if !status.is_success() {
            bail!(
                "notary refused ({status}): {} [{}]",
                v.get("message").and_then(Value::as_str).unwrap_or("?"),
                v.get("code").and_then(Value::as_str).unwrap_or("?")
            );
        }
        Ok(v)
    })
}

pub(crate) fn rustls_provider() -> bool {
    NotaryClient::new("http://localhost").is_ok()
}

pub(crate) fn admin(cmd: &AdminCommand) -> anyhow::Result<ExitCode> {
    let v = match cmd {
        AdminCommand::EnrolmentCode { conn, officer } => {
            admin_call(conn, "/v1/enrolment-codes", &json!({"officer_id": officer}))?
        }
        AdminCommand::Token {
            conn,
            role,
            subject,
            cases,
            ttl_seconds,
        } => admin_call(
            conn,
            "/v1/tokens",
            &json!({"role": role, "subject": subject, "cases": cases, "ttl_seconds": ttl_seconds}),
        )?,
        AdminCommand::RevokeDevice { conn, key_id } => {
            admin_call(conn, &format!("/v1/devices/{key_id}/revoke"), &json!({}))?
        }
    };
    emit_json_line(&mut io::stdout().lock(), &v)?;
    Ok(ExitCode::SUCCESS)
}

/// Arguments of `tiezheng enrol`.
#[derive(Debug, clap::Args)]
pub(crate) struct EnrolArgs {
    #[command(flatten)]
    dir: DirArg,
    /// The notary's base URL.
    #[arg(long)]
    notary: String,
    /// The one-time enrolment code from the administrator.
    #[arg(long)]
    code: String,
}

pub(crate) fn enrol(a: &EnrolArgs) -> anyhow::Result<ExitCode> {
    let device = unlock(&a.dir.dir)?;
    let client = NotaryClient::new(&a.notary)?;
    let resp = runtime()?.block_on(client.enrol(&device, &a.code))?;
    let c = &resp.certificate.certificate;
    emit_json_line(
        &mut io::stdout().lock(),
        &json!({"enrolment_id": c.enrolment_id, "officer_id": c.officer_id, "device_key_id": c.device_key_id, "notary_public_key": resp.notary_public_key}),
    )?;
    Ok(ExitCode::SUCCESS)
}

/// Arguments of `tiezheng sync`.
#[derive(Debug, clap::Args)]
pub(crate) struct SyncArgs {
    #[command(flatten)]
    dir: DirArg,
    /// The notary's base URL (default: the one the device enrolled with).
    #[arg(long)]
    notary: Option<String>,
}

pub(crate) fn sync(a: &SyncArgs) -> anyhow::Result<ExitCode> {
    let binding = NotaryBinding::load(&a.dir.dir)?;
    let url = a.notary.clone().unwrap_or(binding.url);
    let client = NotaryClient::new(&url)?;
    let mut out = io::stdout().lock();
    let report = runtime()?.block_on(client.sync(&a.dir.dir, |e| {
        let line = match e {
            SyncEvent::Receipted {
                device_seq,
                chain_gap,
            } => json!({"event": "receipted", "device_seq": device_seq, "chain_gap": chain_gap}),
            SyncEvent::Uploading {
                sm3,
                received,
                total,
            } => json!({"event": "uploading", "sm3": sm3, "received": received, "total": total}),
            SyncEvent::Retrying { attempt, reason } => {
                json!({"event": "retrying", "attempt": attempt, "reason": reason})
            }
            _ => return,
        };
        let _ = emit_json_line(&mut out, &line);
    }))?;
    let mut out = io::stdout().lock();
    emit_json_line(
        &mut out,
        &json!({"event": "done", "acknowledged": report.acknowledged, "media_bytes": report.media_bytes, "pending": report.pending}),
    )?;
    Ok(ExitCode::SUCCESS)
}
