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
        let _ = writeln!(
            out,
            "tiezheng notary listening on {}://{}",
            n.scheme, n.addr
        );
        let _ = writeln!(
            out,
            "notary key ID {} (devices pin it: enrol --notary-key)",
            n.key_id
        );
        if let Some(m) = n.metrics_addr {
            let _ = writeln!(out, "metrics (no token) on http://{m}/metrics");
        }
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
    /// List the notary's tokens (IDs, roles, subjects, expiry, granted cases; never secrets).
    Tokens {
        #[command(flatten)]
        conn: AdminConn,
        /// Revoked and expired tokens too.
        #[arg(long)]
        all: bool,
    },
    /// Revoke a token by its ID (from `admin tokens`).
    RevokeToken {
        #[command(flatten)]
        conn: AdminConn,
        /// The token's public ID.
        #[arg(long)]
        token_id: String,
    },
    /// Revoke a device by its key ID.
    RevokeDevice {
        #[command(flatten)]
        conn: AdminConn,
        /// SM3 key ID of the device.
        #[arg(long)]
        key_id: String,
    },
    /// Revoke an officer's own key: the notary refuses the proofs it signs from now on.
    RevokeOfficer {
        #[command(flatten)]
        conn: AdminConn,
        /// SM3 key ID of the officer's key (`tiezheng officer list`).
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
    admin_request(conn, reqwest::Method::POST, path, Some(body))
}

/// One administrator request: `body` as JSON when given; the answer's JSON, or the notary's
/// refusal as the error.
pub(crate) fn admin_request(
    conn: &AdminConn,
    method: reqwest::Method,
    path: &str,
    body: Option<&Value>,
) -> anyhow::Result<Value> {
    let _ = rustls_provider();
    runtime()?.block_on(async {
        let url = format!("{}{path}", conn.notary.trim_end_matches('/'));
        let mut request = http_client()?
            .request(method, &url)
            .bearer_auth(&conn.token);
        if let Some(body) = body {
            request = request.json(body);
        }
        let resp = request
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

/// The certificate authorities to trust for `https` notaries: the PEM file named by
/// `TIEZHENG_CA_FILE` (a private PKI or a test certificate), else the system's roots.
pub(crate) fn trusted_roots() -> anyhow::Result<Option<Vec<u8>>> {
    match std::env::var_os("TIEZHENG_CA_FILE").filter(|v| !v.is_empty()) {
        Some(path) => std::fs::read(&path).map(Some).with_context(|| {
            format!(
                "TIEZHENG_CA_FILE: cannot read {}; name a PEM file of the certificate authorities to trust",
                std::path::Path::new(&path).display()
            )
        }),
        None => Ok(None),
    }
}

/// An HTTP client for calls to the notary that trusts [`trusted_roots`].
pub(crate) fn http_client() -> anyhow::Result<reqwest::Client> {
    let roots = trusted_roots()?;
    Ok(tiezheng_sdk::client::http_client(
        roots.as_deref(),
        std::time::Duration::from_secs(300),
    )?)
}

/// A notary client for `url` that trusts [`trusted_roots`].
pub(crate) fn notary_client(url: &str) -> anyhow::Result<NotaryClient> {
    let roots = trusted_roots()?;
    Ok(NotaryClient::with_trust(url, roots.as_deref())?)
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
        AdminCommand::Tokens { conn, all } => {
            let path = if *all {
                "/v1/tokens?all=true"
            } else {
                "/v1/tokens"
            };
            admin_request(conn, reqwest::Method::GET, path, None)?
        }
        AdminCommand::RevokeToken { conn, token_id } => {
            if token_id.is_empty()
                || !token_id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            {
                bail!(
                    "--token-id: expected a token ID as `tiezheng admin tokens` lists it (letters, digits and -)"
                );
            }
            admin_request(
                conn,
                reqwest::Method::DELETE,
                &format!("/v1/tokens/{token_id}"),
                None,
            )?
        }
        AdminCommand::RevokeDevice { conn, key_id } => {
            admin_call(conn, &format!("/v1/devices/{key_id}/revoke"), &json!({}))?
        }
        AdminCommand::RevokeOfficer { conn, key_id } => {
            admin_call(conn, &format!("/v1/officers/{key_id}/revoke"), &json!({}))?
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
    /// The notary's key ID (64 hex digits, from its operator): enrolment is refused if the
    /// notary answers with another key. Without it the first key seen is trusted.
    #[arg(long, value_name = "KEY_ID")]
    notary_key: Option<String>,
}

pub(crate) fn enrol(a: &EnrolArgs) -> anyhow::Result<ExitCode> {
    let device = unlock(&a.dir.dir)?;
    let mut client = notary_client(&a.notary)?;
    if let Some(pin) = &a.notary_key {
        let pin = pin.trim();
        if pin.len() != 64 || !pin.bytes().all(|b| b.is_ascii_hexdigit()) {
            bail!(
                "--notary-key: expected the notary's key ID, 64 hexadecimal digits (`key_id` of GET /v1/notary), got {pin:?}"
            );
        }
        client = client.pin_notary_key(pin);
    }
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
    let client = notary_client(&url)?;
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
            SyncEvent::Refused {
                device_seq,
                code,
                message,
            } => {
                json!({"event": "refused", "device_seq": device_seq, "code": code, "message": message})
            }
            _ => return,
        };
        let _ = emit_json_line(&mut out, &line);
    }))?;
    let mut out = io::stdout().lock();
    emit_json_line(
        &mut out,
        &json!({"event": "done", "acknowledged": report.acknowledged, "media_bytes": report.media_bytes, "pending": report.pending, "refused": report.refused.len()}),
    )?;
    if report.refused.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        // Some proofs stay queued: say so in the exit status, after syncing every other one.
        Ok(ExitCode::from(2))
    }
}
