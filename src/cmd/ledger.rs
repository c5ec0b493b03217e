//! `tiezheng ledger ...`: a consortium member's side of the CometBFT ledger.
//!
//! - `ledger key FILE`: creates (or reads) a member's SM2 key and prints its public key;
//! - `ledger genesis`: writes the Tiezheng ledger genesis (members, notaries) into a CometBFT
//!   `genesis.json` and turns vote extensions on from the initial height;
//! - `ledger serve`: runs the ledger as the ABCI application of the member's validator.

use std::io::{self, Write as _};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use serde_json::{Value, json};
use tiezheng_chain::abci::LedgerApp;
use tiezheng_chain::ledger::{Genesis, Ledger, Member};

/// `tiezheng ledger` subcommands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Create (if missing) a member's or notary's SM2 key file and print its public key.
    Key {
        /// The key file (JSON, mode 0600).
        file: PathBuf,
    },
    /// Put the ledger's genesis (members and notaries) into a CometBFT genesis.json and
    /// enable vote extensions (the SM2 quorum) from its initial height.
    Genesis(GenesisArgs),
    /// Run the ledger as the ABCI application of this member's CometBFT validator.
    Serve(ServeArgs),
}

/// Arguments of `tiezheng ledger genesis`.
#[derive(Debug, clap::Args)]
pub(crate) struct GenesisArgs {
    /// The CometBFT genesis.json to update in place (copy the result to every node).
    #[arg(long, value_name = "FILE")]
    genesis: PathBuf,
    /// A member: `ID=PUBLIC_KEY_HEX[:POWER]` (power 1 if omitted). Repeat for each member.
    #[arg(long = "member", value_name = "ID=KEY[:POWER]", required = true)]
    members: Vec<String>,
    /// A notary's SM2 public key (hex `04‖X‖Y`) allowed to anchor. Repeat for each notary.
    #[arg(long = "notary", value_name = "KEY")]
    notaries: Vec<String>,
}

/// Arguments of `tiezheng ledger serve`.
#[derive(Debug, clap::Args)]
pub(crate) struct ServeArgs {
    /// Address CometBFT's `proxy_app` dials (`tcp://` + this).
    #[arg(long, default_value = "127.0.0.1:26658")]
    listen: SocketAddr,
    /// This member's organisation id, as in the genesis.
    #[arg(long, requires = "key")]
    member: Option<String>,
    /// This member's SM2 key file (`tiezheng ledger key`); it cosigns checkpoints.
    #[arg(long, value_name = "FILE", requires = "member")]
    key: Option<PathBuf>,
}

pub(crate) fn run(c: &Command) -> anyhow::Result<ExitCode> {
    match c {
        Command::Key { file } => {
            let key = tiezheng_notary::keys::load_or_create(file)?;
            super::emit_json_line(
                &mut io::stdout().lock(),
                &json!({ "file": file, "public_key": key.public_key().to_hex() }),
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Genesis(a) => genesis(a),
        Command::Serve(a) => serve(a),
    }
}

fn genesis(a: &GenesisArgs) -> anyhow::Result<ExitCode> {
    let path = &a.genesis;
    let text = std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?;
    let mut doc: Value = serde_json::from_str(&text)
        .with_context(|| format!("{}: not a CometBFT genesis.json", path.display()))?;
    let Some(chain_id) = doc
        .get("chain_id")
        .and_then(Value::as_str)
        .map(str::to_owned)
    else {
        bail!(
            "{}: no chain_id: is this a CometBFT genesis.json?",
            path.display()
        );
    };
    let mut members = Vec::new();
    for m in &a.members {
        let Some((id, rest)) = m.split_once('=') else {
            bail!("--member {m:?}: write ID=PUBLIC_KEY_HEX[:POWER]");
        };
        let (key, power) = match rest.split_once(':') {
            Some((k, p)) => (
                k,
                p.parse::<u64>()
                    .with_context(|| format!("--member {m:?}: power {p:?} is not a number"))?,
            ),
            None => (rest, 1),
        };
        members.push(Member {
            id: id.to_owned(),
            public_key: key.to_owned(),
            power,
        });
    }
    let g = Genesis {
        chain_id,
        members,
        notaries: a.notaries.clone(),
    };
    // Refuse a genesis the ledger would refuse at InitChain.
    Ledger::new(&g).context("--member/--notary")?;
    let initial_height = doc
        .get("initial_height")
        .and_then(|h| {
            h.as_str()
                .map(str::to_owned)
                .or_else(|| h.as_u64().map(|n| n.to_string()))
        })
        .filter(|h| h != "0")
        .unwrap_or_else(|| "1".into());
    let obj = doc
        .as_object_mut()
        .with_context(|| format!("{}: not a JSON object", path.display()))?;
    obj.insert("app_state".into(), serde_json::to_value(&g)?);
    let params = obj
        .get_mut("consensus_params")
        .and_then(Value::as_object_mut)
        .with_context(|| format!("{}: no consensus_params", path.display()))?;
    params.insert(
        "abci".into(),
        json!({ "vote_extensions_enable_height": initial_height }),
    );
    std::fs::write(path, serde_json::to_vec_pretty(&doc)?)
        .with_context(|| format!("{}", path.display()))?;
    super::emit_json_line(
        &mut io::stdout().lock(),
        &json!({ "genesis": path, "chain_id": g.chain_id, "members": g.members.len(),
                 "notaries": g.notaries.len(), "vote_extensions_enable_height": initial_height }),
    )?;
    Ok(ExitCode::SUCCESS)
}

fn serve(a: &ServeArgs) -> anyhow::Result<ExitCode> {
    super::init_json_logs();
    let member = match (&a.member, &a.key) {
        (Some(m), Some(k)) => {
            if !k.exists() {
                bail!(
                    "{}: no such key file; create it with `tiezheng ledger key {}` and put its public key in the genesis",
                    k.display(),
                    k.display()
                );
            }
            Some((m.clone(), tiezheng_notary::keys::load_or_create(k)?))
        }
        _ => None,
    };
    let app = LedgerApp::new(member);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    {
        let mut out = io::stdout().lock();
        let _ = writeln!(
            out,
            "tiezheng ledger ABCI application on tcp://{}",
            a.listen
        );
        let _ = out.flush();
    }
    rt.block_on(tiezheng_chain::abci::serve(app, a.listen))?;
    Ok(ExitCode::SUCCESS)
}
