//! `tiezheng certificate fetch`: a court (or an administrator, or an appraiser granted the
//! case) downloads a notarised certificate, as JSON or as PDF, by proof SM3 or by number.

use std::io::{self, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use serde_json::{Value, json};

use super::emit_json_line;
use super::notary::{runtime, rustls_provider};

/// `tiezheng certificate ...`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Download a certificate (JSON by default, `--pdf` for the PDF/A-3 with the signed
    /// certificate attached). Check it with `tiezheng verify FILE --media EVIDENCE`.
    Fetch(FetchArgs),
}

/// The notary to fetch from and the token to show it.
#[derive(Debug, clap::Args)]
pub(crate) struct NotaryAccess {
    /// The notary's base URL.
    #[arg(long, default_value = "http://127.0.0.1:8700")]
    pub(crate) notary: String,
    /// A court, admin or appraiser token (default: TIEZHENG_TOKEN).
    #[arg(long, env = "TIEZHENG_TOKEN", hide_env_values = true)]
    pub(crate) token: String,
}

/// Arguments of `tiezheng certificate fetch`.
#[derive(Debug, clap::Args)]
pub(crate) struct FetchArgs {
    #[command(flatten)]
    access: NotaryAccess,
    /// The proof's SM3 (64 hex digits).
    #[arg(
        long,
        value_name = "SM3",
        conflicts_with = "number",
        required_unless_present = "number"
    )]
    proof: Option<String>,
    /// The certificate number, e.g. TZ-20261121-3F9AC2B177D0E41A.
    #[arg(long)]
    number: Option<String>,
    /// Fetch the PDF instead of the JSON.
    #[arg(long)]
    pdf: bool,
    /// Where to write it (default: `certificate-NUMBER.json`, or `.pdf`; the proof SM3 when
    /// fetched by proof).
    #[arg(long, short, value_name = "FILE")]
    out: Option<PathBuf>,
}

pub(crate) fn run(cmd: &Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Fetch(a) => fetch(a),
    }
}

/// The path of a certificate on the notary.
pub(crate) fn certificate_path(proof: Option<&str>, number: Option<&str>, pdf: bool) -> String {
    let ext = if pdf { ".pdf" } else { "" };
    match (proof, number) {
        (Some(p), _) => format!("/v1/proofs/{p}/certificate{ext}"),
        (None, Some(n)) => format!("/v1/certificates/{n}{ext}"),
        (None, None) => String::new(),
    }
}

/// GETs `path` with `token`: the status, the body and `Retry-After` (seconds), whatever the
/// status; `Err` only when the notary cannot be reached.
pub(crate) fn get_answer(
    notary: &str,
    token: &str,
    path: &str,
) -> anyhow::Result<(u16, Vec<u8>, Option<u64>)> {
    answer(notary, token, "GET", path, None)
}

/// Sends `body` (JSON, if any) with `method` to `path` with `token`: the status, the body and
/// `Retry-After`.
pub(crate) fn answer(
    notary: &str,
    token: &str,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> anyhow::Result<(u16, Vec<u8>, Option<u64>)> {
    let url = format!("{}{path}", notary.trim_end_matches('/'));
    let _ = rustls_provider();
    let method: reqwest::Method = method.parse()?;
    runtime()?.block_on(async {
        let mut req = super::notary::http_client()?
            .request(method, &url)
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req
            .send()
            .await
            .with_context(|| format!("cannot reach {url}"))?;
        let status = resp.status().as_u16();
        let retry = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|s| s.parse().ok());
        let body = resp.bytes().await.context("reading the notary's answer")?;
        Ok((status, body.to_vec(), retry))
    })
}

/// The notary's error answer as a message: its text, code and `Retry-After`.
pub(crate) fn refusal(status: u16, body: &[u8], retry: Option<u64>) -> String {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    format!(
        "notary refused ({status}): {} [{}]{}",
        v.get("message").and_then(Value::as_str).unwrap_or("?"),
        v.get("code").and_then(Value::as_str).unwrap_or("?"),
        retry
            .map(|s| format!("; retry after {s} s"))
            .unwrap_or_default()
    )
}

/// GETs `path` with `token`: the body, or the notary's error as a message.
pub(crate) fn get(notary: &str, token: &str, path: &str) -> anyhow::Result<Vec<u8>> {
    let (status, body, retry) = get_answer(notary, token, path)?;
    if !(200..300).contains(&status) {
        bail!("{}", refusal(status, &body, retry));
    }
    Ok(body)
}

fn fetch(a: &FetchArgs) -> anyhow::Result<ExitCode> {
    let path = certificate_path(a.proof.as_deref(), a.number.as_deref(), a.pdf);
    if path.is_empty() {
        bail!("give --proof SM3 or --number NUMBER");
    }
    let body = get(&a.access.notary, &a.access.token, &path)?;
    let name = a
        .number
        .clone()
        .or_else(|| a.proof.clone())
        .unwrap_or_default();
    let out = a.out.clone().unwrap_or_else(|| {
        PathBuf::from(format!(
            "certificate-{name}.{}",
            if a.pdf { "pdf" } else { "json" }
        ))
    });
    std::fs::write(&out, &body).with_context(|| format!("cannot write {}", out.display()))?;
    let _ = writeln!(
        io::stderr(),
        "tiezheng certificate: wrote {}; check it with `tiezheng verify {} --media EVIDENCE --policy POLICY`",
        out.display(),
        out.display()
    );
    emit_json_line(
        &mut io::stdout().lock(),
        &json!({"path": out, "bytes": body.len(), "sm3": tiezheng_protocol::Hash32::sm3(&body)}),
    )?;
    Ok(ExitCode::SUCCESS)
}
