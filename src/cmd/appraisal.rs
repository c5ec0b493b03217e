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

use std::io::{self, IsTerminal as _, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use serde_json::{Value, json};
use tiezheng_protocol::appraisal::{
    Act, AppraiserCredential, AppraiserRevocation, MaterialItem, OpinionPackage, Role,
    SignedAppraiserCredential, SignedAppraiserRevocation, SignedStep, credential::REVOCATION_TYPE,
    next_step,
};
use tiezheng_protocol::{
    ContentHasher, Hash32, HashAlgorithm, Sm2PublicKey, Sm2SigningKey, Timestamp,
};
use tiezheng_sdk::party_key::PartyKeyFile;

use super::certificate::{NotaryAccess, answer, refusal};
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

fn accept(accepted: bool, reason: Option<String>) -> Act {
    Act::Acceptance { accepted, reason }
}

fn now() -> Timestamp {
    Timestamp::from_unix_ms(Timestamp::now_utc().unix_ms(), OFFSET_MINUTES)
}

fn passphrase(prompt: &str) -> anyhow::Result<String> {
    if let Ok(p) = std::env::var("TIEZHENG_KEY_PASSPHRASE") {
        return Ok(p);
    }
    if io::stdin().is_terminal() {
        return rpassword::prompt_password(prompt).context("reading the passphrase");
    }
    bail!("set TIEZHENG_KEY_PASSPHRASE to the key's passphrase (or run on a terminal to be asked)")
}

fn read_key_file(path: &Path) -> anyhow::Result<PartyKeyFile> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    PartyKeyFile::parse(&bytes).with_context(|| format!("--key {}", path.display()))
}

/// The key in `signer`'s file, opened, and its owner.
fn open_key(signer: &Signer) -> anyhow::Result<(Sm2SigningKey, String)> {
    let f = read_key_file(&signer.key)?;
    let key = f
        .open(&passphrase(&format!("passphrase of {}'s key: ", f.owner))?)
        .with_context(|| format!("--key {}", signer.key.display()))?;
    Ok((key, f.owner))
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path, what: &str) -> anyhow::Result<T> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_slice(&bytes).with_context(|| format!("{}: not {what}", path.display()))
}

fn write_new(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("cannot create {} (it must not exist)", path.display()))?;
    f.write_all(bytes)
        .with_context(|| format!("cannot write {}", path.display()))
}

fn key(cmd: &KeyCommand) -> anyhow::Result<Value> {
    match cmd {
        KeyCommand::New {
            owner,
            out,
            danger_kdf_iterations,
        } => {
            let key = Sm2SigningKey::generate();
            let file = PartyKeyFile::seal(
                owner,
                &key,
                &passphrase(&format!("new passphrase for {owner}'s key: "))?,
                *danger_kdf_iterations,
                &now().to_string(),
            )?;
            write_new(out, &serde_json::to_vec_pretty(&file)?)?;
            Ok(
                json!({"owner": owner, "public_key": file.public_key, "key_id": file.key_id, "file": out}),
            )
        }
        KeyCommand::Show { file, check } => {
            let f = read_key_file(file)?;
            if *check {
                f.open(&passphrase(&format!("passphrase of {}'s key: ", f.owner))?)
                    .with_context(|| format!("{}", file.display()))?;
            }
            Ok(
                json!({"owner": f.owner, "public_key": f.public_key, "key_id": f.key_id,
                "created_at": f.created_at, "opens": check.then_some(true)}),
            )
        }
    }
}

fn credential(a: &CredentialArgs) -> anyhow::Result<Value> {
    let public = match a.public_key.strip_prefix('@') {
        Some(path) => read_key_file(Path::new(path))?.public_key,
        None => a.public_key.trim().to_owned(),
    };
    let appraiser = Sm2PublicKey::from_hex(&public)
        .map_err(|e| anyhow::anyhow!("--public-key: {e} (give 04‖X‖Y in hex, or @KEY_FILE)"))?;
    let (key, institution) = open_key(&a.signer)?;
    let c = AppraiserCredential::new(
        &institution,
        &a.appraiser,
        &a.name,
        &a.licence,
        &appraiser,
        now(),
    );
    let signed = SignedAppraiserCredential::sign(c, &key)?;
    write_new(&a.out, &serde_json::to_vec_pretty(&signed)?)?;
    Ok(
        json!({"credential": a.out, "institution": institution, "appraiser": a.appraiser,
        "key_id": signed.credential.key_id}),
    )
}

fn revoke(a: &RevokeArgs) -> anyhow::Result<Value> {
    let c: SignedAppraiserCredential = read_json(&a.credential, "an appraiser credential")?;
    let (key, institution) = open_key(&a.signer)?;
    if c.credential.institution != institution {
        bail!(
            "--credential {}: issued by {}, not by {institution}",
            a.credential.display(),
            c.credential.institution
        );
    }
    let r = AppraiserRevocation {
        kind: REVOCATION_TYPE.into(),
        institution,
        appraiser_id: c.credential.appraiser_id.clone(),
        key_id: c.credential.key_id,
        revoked_at: now(),
        reason: a.reason.clone(),
    };
    let signed = SignedAppraiserRevocation::sign(r, &key)?;
    write_new(&a.out, &serde_json::to_vec_pretty(&signed)?)?;
    Ok(
        json!({"revocation": a.out, "appraiser": c.credential.appraiser_id,
        "key_id": c.credential.key_id, "revoked_at": signed.revocation.revoked_at}),
    )
}

/// The notary's JSON answer to `method path`, or its refusal as an error.
fn call(
    access: &NotaryAccess,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> anyhow::Result<Value> {
    let (status, bytes, retry) = answer(&access.notary, &access.token, method, path, body)?;
    if !(200..300).contains(&status) {
        bail!("{}", refusal(status, &bytes, retry));
    }
    serde_json::from_slice(&bytes).context("the notary's answer is not JSON")
}

fn procedure(a: &ProcedureArgs) -> anyhow::Result<OpinionPackage> {
    Hash32::from_hex(&a.commission)
        .map_err(|e| anyhow::anyhow!("--commission: {e} (the SM3 of the signed commission)"))?;
    let v = call(
        &a.access,
        "GET",
        &format!("/v1/appraisals/{}", a.commission),
        None,
    )?;
    serde_json::from_value(v).context("the notary's procedure")
}

fn commission(a: &CommissionArgs) -> anyhow::Result<Value> {
    let items = a
        .items
        .iter()
        .map(|i| {
            // The file name may hold ':': the proof's SM3 is before the first, the file's
            // after the last.
            let parts = i
                .split_once(':')
                .and_then(|(proof, rest)| rest.rsplit_once(':').map(|(n, s)| (proof, n, s)));
            let Some((proof, name, sm3)) = parts else {
                bail!("--item {i:?}: write PROOF_SM3:FILE_NAME:FILE_SM3");
            };
            Ok(MaterialItem {
                proof_sm3: Hash32::from_hex(proof)
                    .map_err(|e| anyhow::anyhow!("--item {i:?}: the proof's SM3: {e}"))?,
                file_name: name.to_owned(),
                sm3: Hash32::from_hex(sm3)
                    .map_err(|e| anyhow::anyhow!("--item {i:?}: the file's SM3: {e}"))?,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let deadline = Timestamp::parse(&a.deadline).map_err(|e| anyhow::anyhow!("--deadline: {e}"))?;
    let (key, owner) = open_key(&a.signer)?;
    let by = a.by.clone().unwrap_or(owner);
    let act = Act::Commission {
        case_reference: a.case_reference.clone(),
        institution: a.institution.clone(),
        items,
        questions: a.questions.clone(),
        deadline,
    };
    let step = SignedStep::sign(next_step(&[], now(), &by, Role::Court, act)?, &[&key])?;
    call(
        &a.access,
        "POST",
        "/v1/appraisals",
        Some(&json!({"step": step})),
    )
}

/// Signs the act `make` builds (from the procedure as it stands) as the next step and sends it.
fn step(
    a: &StepArgs,
    role: Role,
    make: impl FnOnce(&OpinionPackage) -> anyhow::Result<Act>,
) -> anyhow::Result<Value> {
    let (key, owner) = open_key(&a.signer)?;
    let by = a.by.clone().unwrap_or(owner);
    let pkg = procedure(&a.procedure)?;
    let act = make(&pkg)?;
    let step = SignedStep::sign(next_step(&pkg.steps, now(), &by, role, act)?, &[&key])?;
    let credentials: Vec<SignedAppraiserCredential> = a
        .credential
        .iter()
        .map(|f| read_json(f, "an appraiser credential"))
        .collect::<anyhow::Result<_>>()?;
    let revocations: Vec<SignedAppraiserRevocation> = a
        .revocation
        .iter()
        .map(|f| read_json(f, "an appraiser revocation"))
        .collect::<anyhow::Result<_>>()?;
    call(
        &a.procedure.access,
        "POST",
        &format!("/v1/appraisals/{}/steps", a.procedure.commission),
        Some(&json!({"step": step, "credentials": credentials, "revocations": revocations})),
    )
}

fn sm3_of_file(path: &Path) -> anyhow::Result<Hash32> {
    let mut f =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut h = ContentHasher::new(HashAlgorithm::Sm3);
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f
            .read(&mut buf)
            .with_context(|| format!("reading {}", path.display()))?;
        if n == 0 {
            break;
        }
        h.update(buf.get(..n).unwrap_or_default());
    }
    Ok(h.finalize())
}

/// The material as this appraiser holds it: each file's SM3 computed here.
fn receive(a: &ReceiveArgs, pkg: &OpinionPackage) -> anyhow::Result<Act> {
    let Some(Act::Commission { items, .. }) = pkg.steps.first().map(|s| &s.step.act) else {
        bail!("the procedure has no commission");
    };
    if !a.files.is_empty() && a.files.len() != items.len() {
        bail!(
            "--file: the commission lists {} file(s); give each, in its order, or none to download them",
            items.len()
        );
    }
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let path = match a.files.get(i) {
            Some(f) => f.clone(),
            None => download(&a.step.procedure.access, item, &a.save_dir)?,
        };
        out.push(MaterialItem {
            proof_sm3: item.proof_sm3,
            file_name: item.file_name.clone(),
            sm3: sm3_of_file(&path)?,
        });
    }
    Ok(Act::MaterialReceipt { items: out })
}

/// Downloads a commissioned file from the notary (a custody event) into `dir`.
fn download(access: &NotaryAccess, item: &MaterialItem, dir: &Path) -> anyhow::Result<PathBuf> {
    let view = call(
        access,
        "GET",
        &format!("/v1/proofs/{}", item.proof_sm3),
        None,
    )?;
    let index = view
        .pointer("/proof/manifest/items")
        .and_then(Value::as_array)
        .and_then(|fs| {
            fs.iter()
                .position(|f| f.get("file_name").and_then(Value::as_str) == Some(&item.file_name))
        })
        .with_context(|| format!("proof {} lists no {}", item.proof_sm3, item.file_name))?;
    let (status, bytes, retry) = answer(
        &access.notary,
        &access.token,
        "GET",
        &format!("/v1/proofs/{}/media/{index}", item.proof_sm3),
        None,
    )?;
    if status != 200 {
        bail!("{}: {}", item.file_name, refusal(status, &bytes, retry));
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let name = Path::new(&item.file_name).file_name().map_or_else(
        || format!("item-{index}"),
        |n| n.to_string_lossy().into_owned(),
    );
    let path = dir.join(format!(
        "{}-{name}",
        item.proof_sm3.to_hex().get(..12).unwrap_or("")
    ));
    std::fs::write(&path, &bytes).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

/// Sends the draft with this signer's signature; the notary answers who is still missing,
/// or that the opinion became a step.
fn put_draft(a: &StepArgs, draft: &SignedStep) -> anyhow::Result<Value> {
    call(
        &a.procedure.access,
        "PUT",
        &format!("/v1/appraisals/{}/draft", a.procedure.commission),
        Some(&json!({ "step": draft })),
    )
}

fn opinion(a: &OpinionArgs) -> anyhow::Result<Value> {
    let (key, _) = open_key(&a.step.signer)?;
    let pkg = procedure(&a.step.procedure)?;
    let Some(Act::Commission { institution, .. }) = pkg.steps.first().map(|s| &s.step.act) else {
        bail!("the procedure has no commission");
    };
    let act = Act::Opinion {
        findings: a.findings.clone(),
    };
    let draft = SignedStep::sign(
        next_step(&pkg.steps, now(), institution, Role::Institution, act)?,
        &[&key],
    )?;
    put_draft(&a.step, &draft)
}

fn cosign(a: &StepArgs) -> anyhow::Result<Value> {
    let (key, _) = open_key(&a.signer)?;
    let v = call(
        &a.procedure.access,
        "GET",
        &format!("/v1/appraisals/{}/draft", a.procedure.commission),
        None,
    )?;
    let mut draft: SignedStep =
        serde_json::from_value(v.get("draft").cloned().unwrap_or(Value::Null))
            .context("the notary's draft")?;
    draft.cosign(&key)?;
    put_draft(a, &draft)
}

fn fetch(a: &FetchArgs) -> anyhow::Result<Value> {
    let path = format!(
        "/v1/appraisals/{}/opinion{}",
        a.procedure.commission,
        if a.json { "" } else { ".pdf" }
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(a.wait);
    let bytes = loop {
        let (status, bytes, retry) = answer(
            &a.procedure.access.notary,
            &a.procedure.access.token,
            "GET",
            &path,
            None,
        )?;
        let waiting = status == 409
            && serde_json::from_slice::<Value>(&bytes)
                .is_ok_and(|v| v.get("code").and_then(Value::as_str) == Some("not_yet_anchored"));
        match status {
            200 => break bytes,
            409 if waiting && std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_secs(
                    retry.unwrap_or(1).clamp(1, 5),
                ));
            }
            _ => bail!("{}", refusal(status, &bytes, retry)),
        }
    };
    std::fs::write(&a.out, &bytes).with_context(|| format!("cannot write {}", a.out.display()))?;
    let _ = writeln!(
        io::stderr(),
        "tiezheng appraisal: wrote {}; check it with `tiezheng verify {} --policy POLICY`",
        a.out.display(),
        a.out.display()
    );
    Ok(json!({"path": a.out, "bytes": bytes.len(), "sm3": Hash32::sm3(&bytes)}))
}
