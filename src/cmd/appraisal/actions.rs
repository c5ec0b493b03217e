//! What `tiezheng appraisal` does: the party's key file, the institution's documents, and each
//! step built with the protocol's types, signed here and sent to the notary.

use std::io::{self, IsTerminal as _, Read as _, Write as _};
use std::path::{Path, PathBuf};

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

use super::super::certificate::{NotaryAccess, answer, refusal};
use super::{
    CommissionArgs, CredentialArgs, FetchArgs, KeyCommand, OFFSET_MINUTES, OpinionArgs,
    ProcedureArgs, ReceiveArgs, RevokeArgs, Signer, StepArgs,
};

pub(super) fn accept(accepted: bool, reason: Option<String>) -> Act {
    Act::Acceptance { accepted, reason }
}

pub(super) fn now() -> Timestamp {
    Timestamp::from_unix_ms(Timestamp::now_utc().unix_ms(), OFFSET_MINUTES)
}

pub(super) fn passphrase(prompt: &str) -> anyhow::Result<String> {
    if let Ok(p) = std::env::var("TIEZHENG_KEY_PASSPHRASE") {
        return Ok(p);
    }
    if io::stdin().is_terminal() {
        return rpassword::prompt_password(prompt).context("reading the passphrase");
    }
    bail!("set TIEZHENG_KEY_PASSPHRASE to the key's passphrase (or run on a terminal to be asked)")
}

pub(super) fn read_key_file(path: &Path) -> anyhow::Result<PartyKeyFile> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    PartyKeyFile::parse(&bytes).with_context(|| format!("--key {}", path.display()))
}

/// The key in `signer`'s file, opened, and its owner.
pub(super) fn open_key(signer: &Signer) -> anyhow::Result<(Sm2SigningKey, String)> {
    let f = read_key_file(&signer.key)?;
    let key = f
        .open(&passphrase(&format!("passphrase of {}'s key: ", f.owner))?)
        .with_context(|| format!("--key {}", signer.key.display()))?;
    Ok((key, f.owner))
}

pub(super) fn read_json<T: serde::de::DeserializeOwned>(
    path: &Path,
    what: &str,
) -> anyhow::Result<T> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_slice(&bytes).with_context(|| format!("{}: not {what}", path.display()))
}

pub(super) fn write_new(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("cannot create {} (it must not exist)", path.display()))?;
    f.write_all(bytes)
        .with_context(|| format!("cannot write {}", path.display()))
}

pub(super) fn key(cmd: &KeyCommand) -> anyhow::Result<Value> {
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
            file.write_new(out)
                .with_context(|| format!("cannot create {} (it must not exist)", out.display()))?;
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

pub(super) fn credential(a: &CredentialArgs) -> anyhow::Result<Value> {
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

pub(super) fn revoke(a: &RevokeArgs) -> anyhow::Result<Value> {
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
pub(super) fn call(
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

pub(super) fn procedure(a: &ProcedureArgs) -> anyhow::Result<OpinionPackage> {
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

pub(super) fn commission(a: &CommissionArgs) -> anyhow::Result<Value> {
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
pub(super) fn step(
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

pub(super) fn sm3_of_file(path: &Path) -> anyhow::Result<Hash32> {
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
pub(super) fn receive(a: &ReceiveArgs, pkg: &OpinionPackage) -> anyhow::Result<Act> {
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
pub(super) fn download(
    access: &NotaryAccess,
    item: &MaterialItem,
    dir: &Path,
) -> anyhow::Result<PathBuf> {
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
pub(super) fn put_draft(a: &StepArgs, draft: &SignedStep) -> anyhow::Result<Value> {
    call(
        &a.procedure.access,
        "PUT",
        &format!("/v1/appraisals/{}/draft", a.procedure.commission),
        Some(&json!({ "step": draft })),
    )
}

pub(super) fn opinion(a: &OpinionArgs) -> anyhow::Result<Value> {
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

pub(super) fn cosign(a: &StepArgs) -> anyhow::Result<Value> {
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

pub(super) fn fetch(a: &FetchArgs) -> anyhow::Result<Value> {
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
