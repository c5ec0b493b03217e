//! `tiezheng appraisal …`: every step of a judicial appraisal (司法鉴定) from the command line,
//! for scripted use: a party's key (`key new`, the same `tiezheng.party-key.v1` file the
//! browser workspace exports), the institution's credentials and revocations, the court's
//! commission, each step of the institution, the appraisers and the reviewer, the opinion
//! drafted and co-signed, and the delivered opinion fetched. Every step is built with the
//! protocol's own types, signed here with the party's key, and checked by the notary against
//! the procedure's rules; a refusal names its rule and nothing is stored.
//!
//! The key's passphrase comes from `TIEZHENG_KEY_PASSPHRASE`, or is asked for on a terminal.
//! Times are written in Beijing time (UTC+8).

use std::io::{self};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use serde_json::{Value, json};
use tiezheng_protocol::appraisal::{Act, Role, SignedAppraiserRevocation};

mod actions;

use actions::{
    accept, call, commission, cosign, credential, fetch, key, opinion, procedure, read_json,
    receive, revoke, sm3_of_file, step,
};

use super::certificate::NotaryAccess;
use super::emit_json_line;

/// Beijing time, as the procedure's documents are written.
const OFFSET_MINUTES: i16 = 8 * 60;

/// `tiezheng appraisal ...`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// A party's SM2 key file (court, institution, appraiser), sealed under a passphrase.
    #[command(subcommand)]
    Key(KeyCommand),
    /// (Institution) Sign an appraiser's credential binding their public key to name and
    /// licence number (执业证号).
    Credential(CredentialArgs),
    /// (Institution) Sign the revocation of an appraiser's key; hand it in with the next step
    /// (`--revocation FILE`).
    Revoke(RevokeArgs),
    /// (Institution) File a signed revocation with a procedure, on its own: no step signed with
    /// that key is accepted from then on.
    FileRevocation(FileRevocationArgs),
    /// (Court) Sign and file a commission (委托) of evidence held by the notary.
    Commission(CommissionArgs),
    /// The procedures filed with the notary, one JSON line each.
    List(ListArgs),
    /// One procedure's signed steps, one JSON line each.
    Show(ProcedureArgs),
    /// (Institution) Accept the commission (受理).
    Accept(StepArgs),
    /// (Institution) Refuse the commission, with the reason.
    Refuse(RefuseArgs),
    /// (Institution) Assign at least two appraisers and a reviewer.
    Assign(AssignArgs),
    /// (Appraiser, reviewer) Declare no conflict of interest (回避).
    Declare(DeclareArgs),
    /// (Appraiser) Receive the material: each file's SM3 as computed here, from the notary's
    /// copy downloaded now or from local files.
    Receive(ReceiveArgs),
    /// (Appraiser) Add an entry to the process record.
    Record(RecordArgs),
    /// (Appraiser, institution) Draft the opinion (a finding per question) and sign it.
    Opinion(OpinionArgs),
    /// (Appraiser, institution) Co-sign the opinion being drafted; the last signer's signature
    /// makes it a step.
    Cosign(StepArgs),
    /// (Reviewer) Approve or return the opinion (复核).
    Review(ReviewArgs),
    /// (Institution) Deliver the opinion to the court.
    Deliver(StepArgs),
    /// (Court) Fetch the delivered opinion: the PDF (鉴定意见书) or its signed JSON.
    Fetch(FetchArgs),
}

/// `tiezheng appraisal key ...`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum KeyCommand {
    /// Make a key for OWNER and write it sealed under the passphrase.
    New {
        /// Whose key: the member id (court, institution) or the appraiser id.
        #[arg(long)]
        owner: String,
        /// The key file to write (it must not exist).
        #[arg(long, short)]
        out: PathBuf,
        /// PBKDF2 iterations (at least 100,000; lower values than the default are for tests).
        #[arg(long, hide = true, default_value_t = tiezheng_sdk::vault::DEFAULT_PBKDF2_ITERATIONS)]
        danger_kdf_iterations: u32,
    },
    /// Print a key file's owner and public key; with the passphrase, check that it opens.
    Show {
        /// The key file (made here or exported from the browser workspace).
        file: PathBuf,
        /// Also open it with the passphrase.
        #[arg(long)]
        check: bool,
    },
}

/// The party's key.
#[derive(Debug, clap::Args)]
pub(crate) struct Signer {
    /// The acting party's key file (`tiezheng appraisal key new`, or the browser's backup).
    #[arg(long = "key", value_name = "FILE")]
    key: PathBuf,
}

/// A procedure at a notary.
#[derive(Debug, clap::Args)]
pub(crate) struct ProcedureArgs {
    #[command(flatten)]
    access: NotaryAccess,
    /// The procedure: the SM3 of its signed commission.
    #[arg(long, value_name = "SM3")]
    commission: String,
}

/// A step of a procedure, signed with a key.
#[derive(Debug, clap::Args)]
pub(crate) struct StepArgs {
    #[command(flatten)]
    procedure: ProcedureArgs,
    #[command(flatten)]
    signer: Signer,
    /// Who acts (default: the key file's owner).
    #[arg(long = "as", value_name = "ID")]
    by: Option<String>,
    /// The appraiser's credential (sent with their steps until the notary holds it).
    #[arg(long, value_name = "FILE")]
    credential: Option<PathBuf>,
    /// Revocations to hand in with this step.
    #[arg(long, value_name = "FILE")]
    revocation: Vec<PathBuf>,
}

/// Arguments of `tiezheng appraisal credential`.
#[derive(Debug, clap::Args)]
pub(crate) struct CredentialArgs {
    #[command(flatten)]
    signer: Signer,
    /// The appraiser's id.
    #[arg(long)]
    appraiser: String,
    /// The appraiser's name.
    #[arg(long)]
    name: String,
    /// The licence number (执业证号).
    #[arg(long)]
    licence: String,
    /// The appraiser's public key (04‖X‖Y hex), or their key file (`@FILE`).
    #[arg(long, value_name = "HEX|@FILE")]
    public_key: String,
    /// Where to write the credential.
    #[arg(long, short)]
    out: PathBuf,
}

/// Arguments of `tiezheng appraisal revoke`.
#[derive(Debug, clap::Args)]
pub(crate) struct RevokeArgs {
    #[command(flatten)]
    signer: Signer,
    /// The credential to revoke.
    #[arg(long, value_name = "FILE")]
    credential: PathBuf,
    /// Why.
    #[arg(long)]
    reason: String,
    /// Where to write the revocation.
    #[arg(long, short)]
    out: PathBuf,
}

/// Arguments of `tiezheng appraisal file-revocation`.
#[derive(Debug, clap::Args)]
pub(crate) struct FileRevocationArgs {
    #[command(flatten)]
    procedure: ProcedureArgs,
    /// The revocation (`tiezheng appraisal revoke`).
    #[arg(long, value_name = "FILE")]
    revocation: PathBuf,
}

/// Arguments of `tiezheng appraisal commission`.
#[derive(Debug, clap::Args)]
pub(crate) struct CommissionArgs {
    #[command(flatten)]
    access: NotaryAccess,
    #[command(flatten)]
    signer: Signer,
    /// The court's member id (default: the key file's owner).
    #[arg(long = "as", value_name = "ID")]
    by: Option<String>,
    /// The court's case number.
    #[arg(long)]
    case_reference: String,
    /// The institution's member id.
    #[arg(long)]
    institution: String,
    /// A file of the material: PROOF_SM3:FILE_NAME:FILE_SM3 (repeat, in order).
    #[arg(long = "item", value_name = "PROOF:NAME:SM3", required = true)]
    items: Vec<String>,
    /// A question to answer (repeat, in order).
    #[arg(long = "question", required = true)]
    questions: Vec<String>,
    /// The deadline (RFC 3339, for example 2027-01-31T23:59:59.000+08:00).
    #[arg(long)]
    deadline: String,
}

/// Arguments of `tiezheng appraisal list`.
#[derive(Debug, clap::Args)]
pub(crate) struct ListArgs {
    #[command(flatten)]
    access: NotaryAccess,
}

/// Arguments of `tiezheng appraisal refuse`.
#[derive(Debug, clap::Args)]
pub(crate) struct RefuseArgs {
    #[command(flatten)]
    step: StepArgs,
    /// Why the institution refuses.
    #[arg(long)]
    reason: String,
}

/// Arguments of `tiezheng appraisal assign`.
#[derive(Debug, clap::Args)]
pub(crate) struct AssignArgs {
    #[command(flatten)]
    step: StepArgs,
    /// An appraiser's id (at least two).
    #[arg(long = "appraiser", required = true)]
    appraisers: Vec<String>,
    /// The reviewer's id.
    #[arg(long)]
    reviewer: String,
}

/// Arguments of `tiezheng appraisal declare`.
#[derive(Debug, clap::Args)]
pub(crate) struct DeclareArgs {
    #[command(flatten)]
    step: StepArgs,
    /// The statement, in the declarant's words.
    #[arg(
        long,
        default_value = "本人与本案当事人无利害关系，无需回避 / I have no conflict of interest in this case"
    )]
    statement: String,
}

/// Arguments of `tiezheng appraisal receive`.
#[derive(Debug, clap::Args)]
pub(crate) struct ReceiveArgs {
    #[command(flatten)]
    step: StepArgs,
    /// Local copies of the material, in the commission's order (default: download each from
    /// the notary into --save-dir, hashing as it arrives).
    #[arg(long = "file", value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Where downloaded material is kept.
    #[arg(long, default_value = "material")]
    save_dir: PathBuf,
}

/// Arguments of `tiezheng appraisal record`.
#[derive(Debug, clap::Args)]
pub(crate) struct RecordArgs {
    #[command(flatten)]
    step: StepArgs,
    /// The tool used.
    #[arg(long)]
    tool: String,
    /// Its version.
    #[arg(long)]
    tool_version: String,
    /// What was done.
    #[arg(long)]
    action: String,
    /// What it gave.
    #[arg(long)]
    result: String,
    /// An output to attach by its SM3 (repeat): a report, a screenshot, the verifier's JSON.
    #[arg(long = "attach", value_name = "FILE")]
    attachments: Vec<PathBuf>,
}

/// Arguments of `tiezheng appraisal opinion`.
#[derive(Debug, clap::Args)]
pub(crate) struct OpinionArgs {
    #[command(flatten)]
    step: StepArgs,
    /// A finding, one per question in the commission's order (repeat).
    #[arg(long = "finding", required = true)]
    findings: Vec<String>,
}

/// Arguments of `tiezheng appraisal review`.
#[derive(Debug, clap::Args)]
pub(crate) struct ReviewArgs {
    #[command(flatten)]
    step: StepArgs,
    /// Return the opinion instead of approving it.
    #[arg(long = "return")]
    returned: bool,
    /// The reviewer's remarks.
    #[arg(long)]
    remarks: String,
}

/// Arguments of `tiezheng appraisal fetch`.
#[derive(Debug, clap::Args)]
pub(crate) struct FetchArgs {
    #[command(flatten)]
    procedure: ProcedureArgs,
    /// Fetch the signed JSON package instead of the PDF.
    #[arg(long)]
    json: bool,
    /// How long to wait for the last steps to be anchored, in seconds (0: do not wait).
    #[arg(long, default_value_t = 60)]
    wait: u64,
    /// Where to write it.
    #[arg(long, short)]
    out: PathBuf,
}

pub(crate) fn run(cmd: &Command) -> anyhow::Result<ExitCode> {
    let out = &mut io::stdout().lock();
    let line = match cmd {
        Command::Key(k) => key(k)?,
        Command::Credential(a) => credential(a)?,
        Command::Revoke(a) => revoke(a)?,
        Command::FileRevocation(a) => {
            let revocation: SignedAppraiserRevocation =
                read_json(&a.revocation, "an appraiser revocation")?;
            call(
                &a.procedure.access,
                "POST",
                &format!("/v1/appraisals/{}/revocations", a.procedure.commission),
                Some(&json!({ "revocation": revocation })),
            )?
        }
        Command::Commission(a) => commission(a)?,
        Command::List(a) => {
            let v = call(&a.access, "GET", "/v1/appraisals", None)?;
            for p in v
                .get("appraisals")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if !emit_json_line(out, p)? {
                    break;
                }
            }
            return Ok(ExitCode::SUCCESS);
        }
        Command::Show(a) => {
            for s in procedure(a)?.steps {
                if !emit_json_line(out, &s)? {
                    break;
                }
            }
            return Ok(ExitCode::SUCCESS);
        }
        Command::Accept(a) => step(a, Role::Institution, |_| Ok(accept(true, None)))?,
        Command::Refuse(a) => step(&a.step, Role::Institution, |_| {
            Ok(accept(false, Some(a.reason.clone())))
        })?,
        Command::Assign(a) => step(&a.step, Role::Institution, |_| {
            Ok(Act::Assignment {
                appraisers: a.appraisers.clone(),
                reviewer: a.reviewer.clone(),
            })
        })?,
        Command::Declare(a) => step(&a.step, Role::Appraiser, |_| {
            Ok(Act::Declaration {
                statement: a.statement.clone(),
            })
        })?,
        Command::Receive(a) => step(&a.step, Role::Appraiser, |pkg| receive(a, pkg))?,
        Command::Record(a) => step(&a.step, Role::Appraiser, |_| {
            Ok(Act::RecordEntry {
                tool: a.tool.clone(),
                tool_version: a.tool_version.clone(),
                action: a.action.clone(),
                result: a.result.clone(),
                attachments: a
                    .attachments
                    .iter()
                    .map(|f| sm3_of_file(f))
                    .collect::<anyhow::Result<_>>()?,
            })
        })?,
        Command::Opinion(a) => opinion(a)?,
        Command::Cosign(a) => cosign(a)?,
        Command::Review(a) => step(&a.step, Role::Appraiser, |_| {
            Ok(Act::Review {
                approved: !a.returned,
                remarks: a.remarks.clone(),
            })
        })?,
        Command::Deliver(a) => step(a, Role::Institution, |pkg| {
            Ok(Act::Delivery {
                court: pkg
                    .steps
                    .first()
                    .map(|s| s.step.by.clone())
                    .context("the procedure has no commission")?,
            })
        })?,
        Command::Fetch(a) => fetch(a)?,
    };
    emit_json_line(out, &line)?;
    Ok(ExitCode::SUCCESS)
}
