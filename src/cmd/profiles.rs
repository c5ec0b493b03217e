//! `tiezheng profiles`: the forensic profiles this version knows, one JSON line each
//! (`{"id","version","sm3","title_zh","title_en"}`), or one profile whole with its
//! requirements (the checklist an app shows the officer).

use std::io;
use std::process::ExitCode;

use serde_json::json;
use tiezheng_protocol::profile;

use super::emit_json_line;

/// Arguments of `tiezheng profiles`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Print this profile whole (its legal basis and requirements) instead of the list.
    #[arg(value_name = "ID")]
    id: Option<String>,
}

pub(crate) fn run(a: &Args) -> anyhow::Result<ExitCode> {
    let mut out = io::stdout().lock();
    if let Some(id) = &a.id {
        let p = profile::find(id)?;
        emit_json_line(&mut out, &p.profile)?;
        return Ok(ExitCode::SUCCESS);
    }
    for p in profile::builtin() {
        let line = json!({
            "id": p.profile.id,
            "version": p.profile.version,
            "sm3": p.sm3,
            "title_zh": p.profile.title_zh,
            "title_en": p.profile.title_en,
        });
        if !emit_json_line(&mut out, &line)? {
            break;
        }
    }
    Ok(ExitCode::SUCCESS)
}
