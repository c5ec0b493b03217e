//! `tiezheng ledger ...`: a consortium member's side of the CometBFT ledger.
//!
//! - `ledger key FILE`: creates (or reads) a member's SM2 key and prints its public key;
//! - `ledger genesis`: writes the Tiezheng ledger genesis (members, notaries) into a CometBFT
//!   `genesis.json` and turns vote extensions on from the initial height;
//! - `ledger serve`: runs the ledger as the ABCI application of the member's validator;
//! - `ledger propose`, `approve`, `submit`: a registry change (notaries, members), approved
//!   with SM2 by more than two thirds of the members' power, applied on the chain;
//! - `ledger policy`: the genesis policy a court pins, from a node's genesis document.

use std::io::{self, Write as _};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use serde_json::{Value, json};
use tiezheng_chain::abci::LedgerApp;
use tiezheng_chain::ledger::{Genesis, GenesisValidator, Ledger, Member};
use tiezheng_chain::rpc::LedgerRpc;
use tiezheng_protocol::ledger::{
    GOVERNANCE_TYPE, GovernanceAction, GovernanceProposal, GovernanceTx,
};
use tiezheng_protocol::{Hash32, canonical};

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
    /// Write a governance proposal (a registry change) for the members to approve.
    Propose(ProposeArgs),
    /// Approve a governance proposal with this member's SM2 key (adds the approval in place).
    Approve(ApproveArgs),
    /// Submit an approved governance proposal to the chain and wait until it applies.
    Submit(SubmitArgs),
    /// Write the consortium's genesis policy, the one a court pins: read from a node's genesis
    /// document, it verifies every bundle of the chain before and after registry changes.
    Policy(PolicyArgs),
}

/// Arguments of `tiezheng ledger policy`.
#[derive(Debug, clap::Args)]
pub(crate) struct PolicyArgs {
    /// A node's RPC (e.g. http://127.0.0.1:26657).
    #[arg(long, value_name = "URL")]
    rpc: String,
    /// Where to write the policy (JSON); standard output if omitted.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// Arguments of `tiezheng ledger propose`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("change").required(true).args(["add_notary", "remove_notary", "set_member", "remove_member", "set_validator", "remove_validator"])))]
pub(crate) struct ProposeArgs {
    /// A node's RPC (e.g. http://127.0.0.1:26657), to read the chain ID and the next
    /// governance sequence number.
    #[arg(long, value_name = "URL")]
    rpc: String,
    /// Admit a notary: its SM2 public key (hex `04‖X‖Y`).
    #[arg(long, value_name = "KEY")]
    add_notary: Option<String>,
    /// Remove a notary: its key ID (SM3 of its public key, hex).
    #[arg(long, value_name = "KEY_ID")]
    remove_notary: Option<String>,
    /// Add a member or change its key or power: `ID=PUBLIC_KEY_HEX[:POWER]`.
    #[arg(long, value_name = "ID=KEY[:POWER]")]
    set_member: Option<String>,
    /// Remove a member (and its validator).
    #[arg(long, value_name = "ID")]
    remove_member: Option<String>,
    /// Make a CometBFT validator the member's (joining, or rotating its key; it votes with
    /// the member's power): `ID=PUB_KEY_BASE64`, or `ID=FILE` with the node's
    /// `config/priv_validator_key.json` (only its public key is read).
    #[arg(long, value_name = "ID=KEY|FILE")]
    set_validator: Option<String>,
    /// Remove a CometBFT validator: its ed25519 public key (base64), or its
    /// `priv_validator_key.json`.
    #[arg(long, value_name = "KEY|FILE")]
    remove_validator: Option<String>,
    /// Why (recorded in the proposal every member signs).
    #[arg(long)]
    reason: String,
    /// Where to write the proposal.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

/// Arguments of `tiezheng ledger approve`.
#[derive(Debug, clap::Args)]
pub(crate) struct ApproveArgs {
    /// The proposal file (`tiezheng ledger propose`), updated in place.
    file: PathBuf,
    /// This member's organisation id.
    #[arg(long)]
    member: String,
    /// This member's SM2 key file.
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// A node's RPC: check first that the key is the one the chain's registry holds for
    /// `--member` (an approval with another key would count for nothing).
    #[arg(long, value_name = "URL")]
    rpc: Option<String>,
}

/// Arguments of `tiezheng ledger submit`.
#[derive(Debug, clap::Args)]
pub(crate) struct SubmitArgs {
    /// The approved proposal file.
    file: PathBuf,
    /// A node's RPC (e.g. http://127.0.0.1:26657).
    #[arg(long, value_name = "URL")]
    rpc: String,
    /// How long to wait for the change to apply, in seconds.
    #[arg(long, default_value_t = 60)]
    wait_seconds: u64,
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
    /// Which member runs which genesis validator: `ID=PUB_KEY_BASE64` or
    /// `ID=priv_validator_key.json` (its public key only). Repeat for each; the validator then
    /// votes with its member's power and leaves with it.
    #[arg(long = "validator", value_name = "ID=KEY|FILE")]
    validators: Vec<String>,
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
        Command::Propose(a) => propose(a),
        Command::Approve(a) => approve(a),
        Command::Submit(a) => submit(a),
        Command::Policy(a) => policy(a),
    }
}

fn policy(a: &PolicyArgs) -> anyhow::Result<ExitCode> {
    let rpc = LedgerRpc::new(&a.rpc).map_err(anyhow::Error::msg)?;
    let policy = runtime()?
        .block_on(rpc.genesis_policy())
        .map_err(anyhow::Error::msg)
        .with_context(|| format!("--rpc {}", a.rpc))?;
    let text = format!("{}\n", serde_json::to_string_pretty(&policy)?);
    match &a.out {
        Some(file) => {
            std::fs::write(file, text).with_context(|| format!("{}", file.display()))?;
            super::emit_json_line(
                &mut io::stdout().lock(),
                &json!({ "policy": file, "chain_id": policy.chain_id,
                         "members": policy.members.len(), "notaries": policy.notary_keys.len(),
                         "validators": policy.validators.len(),
                         "sm3": Hash32::sm3(&canonical::to_canonical_bytes(&policy)?).to_hex() }),
            )?;
        }
        None => io::stdout().lock().write_all(text.as_bytes())?,
    }
    Ok(ExitCode::SUCCESS)
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

fn member_arg(flag: &str, m: &str) -> anyhow::Result<Member> {
    let Some((id, rest)) = m.split_once('=') else {
        bail!("{flag} {m:?}: write ID=PUBLIC_KEY_HEX[:POWER]");
    };
    let (key, power) = match rest.split_once(':') {
        Some((k, p)) => (
            k,
            p.parse::<u64>()
                .with_context(|| format!("{flag} {m:?}: power {p:?} is not a number"))?,
        ),
        None => (rest, 1),
    };
    Ok(Member {
        id: id.to_owned(),
        public_key: key.to_owned(),
        power,
    })
}

/// A validator's ed25519 public key (base64): given as such, or read from a CometBFT
/// `priv_validator_key.json` (its `pub_key.value`; the private key is not kept).
fn validator_key(flag: &str, arg: &str) -> anyhow::Result<String> {
    let path = std::path::Path::new(arg);
    let key = if path.is_file() {
        let v: Value = serde_json::from_slice(
            &std::fs::read(path).with_context(|| format!("{flag} {}", path.display()))?,
        )
        .with_context(|| format!("{flag} {}: not JSON", path.display()))?;
        v.pointer("/pub_key/value")
            .and_then(Value::as_str)
            .with_context(|| {
                format!(
                    "{flag} {}: no pub_key.value (give a node's config/priv_validator_key.json)",
                    path.display()
                )
            })?
            .to_owned()
    } else {
        arg.to_owned()
    };
    tiezheng_protocol::cometbft::validator_of(&key, 1, None)
        .map_err(|e| anyhow::anyhow!("{flag} {arg:?}: {e}"))?;
    Ok(key)
}

fn read_governance(file: &std::path::Path) -> anyhow::Result<GovernanceTx> {
    let bytes = std::fs::read(file).with_context(|| format!("{}", file.display()))?;
    serde_json::from_slice(&bytes).with_context(|| {
        format!(
            "{} is not a governance proposal (schemas/governance.schema.json)",
            file.display()
        )
    })
}

fn write_governance(file: &std::path::Path, tx: &GovernanceTx) -> anyhow::Result<()> {
    let mut text = serde_json::to_string_pretty(tx)?;
    text.push('\n');
    std::fs::write(file, text).with_context(|| format!("{}", file.display()))
}

fn propose(a: &ProposeArgs) -> anyhow::Result<ExitCode> {
    let rpc = LedgerRpc::new(&a.rpc).map_err(anyhow::Error::msg)?;
    let policy = runtime()?
        .block_on(rpc.policy_answer())
        .map_err(anyhow::Error::msg)?;
    let change = if let Some(k) = &a.add_notary {
        GovernanceAction::AddNotary {
            public_key: k.clone(),
        }
    } else if let Some(id) = &a.remove_notary {
        GovernanceAction::RemoveNotary {
            notary_key_id: Hash32::from_hex(id)
                .map_err(|e| anyhow::anyhow!("--remove-notary {id:?}: {e}"))?,
        }
    } else if let Some(m) = &a.set_member {
        let m = member_arg("--set-member", m)?;
        GovernanceAction::SetMember {
            member: m.id,
            public_key: m.public_key,
            power: m.power,
        }
    } else if let Some(m) = &a.remove_member {
        GovernanceAction::RemoveMember { member: m.clone() }
    } else if let Some(v) = &a.set_validator {
        let Some((member, key)) = v.split_once('=') else {
            bail!("--set-validator {v:?}: write ID=PUB_KEY_BASE64 or ID=priv_validator_key.json");
        };
        GovernanceAction::SetValidator {
            member: member.to_owned(),
            pub_key: validator_key("--set-validator", key)?,
        }
    } else if let Some(k) = &a.remove_validator {
        GovernanceAction::RemoveValidator {
            pub_key: validator_key("--remove-validator", k)?,
        }
    } else {
        bail!(
            "say which change: --add-notary, --remove-notary, --set-member, --remove-member, --set-validator or --remove-validator"
        );
    };
    let tx = GovernanceTx {
        proposal: GovernanceProposal {
            kind: GOVERNANCE_TYPE.to_owned(),
            chain_id: policy.chain_id,
            governance_seq: policy.governance_seq + 1,
            change,
            reason: a.reason.clone(),
        },
        approvals: Vec::new(),
    };
    write_governance(&a.out, &tx)?;
    super::emit_json_line(
        &mut io::stdout().lock(),
        &json!({ "proposal": a.out, "chain_id": tx.proposal.chain_id,
                 "governance_seq": tx.proposal.governance_seq,
                 "members": policy.members.len() }),
    )?;
    Ok(ExitCode::SUCCESS)
}

fn approve(a: &ApproveArgs) -> anyhow::Result<ExitCode> {
    let mut tx = read_governance(&a.file)?;
    if !a.key.exists() {
        bail!("{}: no such key file", a.key.display());
    }
    let key = tiezheng_notary::keys::load_or_create(&a.key)?;
    if let Some(url) = &a.rpc {
        let rpc = LedgerRpc::new(url).map_err(anyhow::Error::msg)?;
        let registry = runtime()?
            .block_on(rpc.policy_answer())
            .map_err(anyhow::Error::msg)?;
        let mine = key.public_key().to_hex();
        match registry.members.iter().find(|m| m.id == a.member) {
            None => bail!(
                "--member {}: not a member of chain {} (members: {})",
                a.member,
                registry.chain_id,
                registry
                    .members
                    .iter()
                    .map(|m| m.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Some(m) if m.public_key != mine => bail!(
                "--key {}: its public key {mine} is not the key the chain holds for member {} ({}): use that member's own key file",
                a.key.display(),
                a.member,
                m.public_key
            ),
            Some(_) => {}
        }
    } else {
        let _ = writeln!(
            io::stderr(),
            "warning: the key was not checked against the chain's registry (give --rpc URL): an approval with a key other than {}'s counts for nothing, and submit will be refused",
            a.member
        );
    }
    tx.approvals.retain(|c| c.member != a.member);
    tx.approvals.push(
        tx.proposal
            .approve(&a.member, &key)
            .map_err(anyhow::Error::msg)?,
    );
    write_governance(&a.file, &tx)?;
    super::emit_json_line(
        &mut io::stdout().lock(),
        &json!({ "proposal": a.file, "approved_by": a.member,
                 "approvals": tx.approvals.len() }),
    )?;
    Ok(ExitCode::SUCCESS)
}

fn submit(a: &SubmitArgs) -> anyhow::Result<ExitCode> {
    let tx = read_governance(&a.file)?;
    let bytes = canonical::to_canonical_bytes(&tx)?;
    let rpc = LedgerRpc::new(&a.rpc).map_err(anyhow::Error::msg)?;
    let rt = runtime()?;
    let seq = tx.proposal.governance_seq;
    let now = rt
        .block_on(rpc.policy_answer())
        .map_err(anyhow::Error::msg)?;
    if now.governance_seq >= seq {
        bail!(
            "{}: governance_seq {seq} is already taken on the chain (it is at {}): this proposal was applied, or another took its place; propose again if a change is still needed",
            a.file.display(),
            now.governance_seq
        );
    }
    if let Err(log) = rt
        .block_on(rpc.broadcast(&bytes))
        .map_err(anyhow::Error::msg)?
    {
        bail!(
            "{}: the ledger refused the proposal: {log}",
            a.file.display()
        );
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(a.wait_seconds);
    loop {
        let p = rt
            .block_on(rpc.policy_answer())
            .map_err(anyhow::Error::msg)?;
        if p.governance_seq >= seq {
            super::emit_json_line(
                &mut io::stdout().lock(),
                &json!({ "applied": true, "governance_seq": p.governance_seq, "height": p.height,
                         "members": p.members.len(), "notaries": p.notary_keys.len() }),
            )?;
            return Ok(ExitCode::SUCCESS);
        }
        if std::time::Instant::now() > deadline {
            bail!(
                "{}: submitted, but not applied within {} s (the chain is at governance_seq {})",
                a.file.display(),
                a.wait_seconds,
                p.governance_seq
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
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
    let members = a
        .members
        .iter()
        .map(|m| member_arg("--member", m))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut labels = Vec::new();
    for v in &a.validators {
        let Some((member, key)) = v.split_once('=') else {
            bail!("--validator {v:?}: write ID=PUB_KEY_BASE64 or ID=priv_validator_key.json");
        };
        labels.push(GenesisValidator {
            member: member.to_owned(),
            pub_key: validator_key("--validator", key)?,
        });
    }
    let g = Genesis {
        chain_id,
        members,
        notaries: a.notaries.clone(),
        validators: labels,
    };
    // Refuse a genesis the ledger would refuse at InitChain.
    Ledger::new(&g).context("--member/--notary")?;
    let mut genesis_validators = doc
        .get("validators")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(tiezheng_protocol::cometbft::policy_validator_from_rpc)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow::anyhow!("{}: validators: {e}", path.display()))?;
    g.label(&mut genesis_validators)
        .context("--validator: name each member's validator from this genesis.json")?;
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
