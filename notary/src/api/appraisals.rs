//! Judicial appraisal online (司法鉴定全程在线): a court files a signed commission naming
//! evidence this notary holds; the institution, its appraisers and the reviewer then add their
//! signed steps one by one, each checked with the protocol's own rules for a procedure under
//! way (`check_in_progress`) before it is stored; anyone in the procedure reads it so far (to
//! chain the next step) and lists the procedures filed here. The opinion, which the institution
//! and every assigned appraiser sign, is co-signed through a draft the notary keeps
//! (`check_draft`: only its signers, chained to the last step) and becomes a step once the last
//! of them signs. Once delivered, the court fetches the opinion package with the bundle
//! of every proof it names, verified as a court would verify it. The notary never signs or
//! holds a party's key: documents authenticate themselves against the judicial parties it is
//! configured with.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};
use tiezheng_protocol::appraisal::{
    Act, OPINION_TYPE, OpinionPackage, SignedAppraiserCredential, SignedAppraiserRevocation,
    SignedStep, custody_detail,
};
use tiezheng_protocol::bundle::{Party, Policy};
use tiezheng_protocol::manifest::Proof;
use tiezheng_protocol::verify::appraisal::{check_draft, check_in_progress, verify_opinion_bytes};
use tiezheng_protocol::{Hash32, HashAlgorithm, canonical};

use super::{
    AppState, Caller, Role, authenticate, canonical_error, now_ms, parse_value, path_param,
    read_body,
};
use crate::error::HttpError;
use crate::store::NewStep;

/// Largest signed step (with its credentials) accepted.
const MAX_STEP_BYTES: usize = 1024 * 1024;

/// Most steps a procedure holds: every new step is checked against the whole procedure, so
/// the work per request stays bounded.
const MAX_STEPS: usize = 500;

/// `POST /v1/appraisals/{commission}/steps`: the next step, with the credentials and
/// revocations it relies on that the notary has not seen yet.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StepRequest {
    step: SignedStep,
    #[serde(default)]
    credentials: Vec<SignedAppraiserCredential>,
    #[serde(default)]
    revocations: Vec<SignedAppraiserRevocation>,
}

/// `PUT /v1/appraisals/{commission}/draft`: an opinion with the signatures its sender adds.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DraftRequest {
    step: SignedStep,
}

/// Most procedures `GET /v1/appraisals` lists.
const MAX_LISTED: i64 = 200;

/// The judicial parties the notary accepts steps from (`JUDICIAL_PARTIES_FILE`).
fn parties(state: &AppState) -> Result<Vec<Party>, HttpError> {
    let Some(path) = &state.config.identity.judicial_parties_file else {
        return Err(HttpError::new(
            StatusCode::CONFLICT,
            "appraisals_not_configured",
            "this notary lists no judicial parties: set JUDICIAL_PARTIES_FILE to the courts and appraisal institutions it serves",
            None,
        ));
    };
    let bytes = std::fs::read(path).map_err(|e| {
        HttpError::internal(format!("JUDICIAL_PARTIES_FILE {}: {e}", path.display()))
    })?;
    serde_json::from_slice(&bytes).map_err(|e| {
        HttpError::internal(format!(
            "JUDICIAL_PARTIES_FILE {}: not a list of parties ({e})",
            path.display()
        ))
    })
}

fn refused(e: &tiezheng_protocol::verify::appraisal::StepRefused) -> HttpError {
    HttpError::unprocessable(
        "appraisal_step_refused",
        format!("{}: {} (nothing was stored)", e.rule, e.message),
        Some("/step"),
    )
}

fn commission_id(req: &HttpRequest) -> Result<String, HttpError> {
    Hash32::from_hex(path_param(req, "commission_sm3"))
        .map(|h| h.to_hex())
        .map_err(|_| {
            HttpError::bad_request(
                "bad_appraisal_id",
                "appraisals are addressed by the SM3 of their signed commission, 64 lowercase hex digits",
                Some("commission_sm3"),
            )
        })
}

fn parse_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, HttpError> {
    serde_json::from_str(text).map_err(HttpError::internal)
}

/// The stored procedure as a package (no bundles yet).
async fn stored(state: &AppState, commission: &str) -> Result<OpinionPackage, HttpError> {
    let row = state
        .store
        .appraisal(commission)
        .await?
        .ok_or_else(unknown_appraisal)?;
    let mut pkg = OpinionPackage {
        kind: OPINION_TYPE.into(),
        steps: row
            .steps
            .iter()
            .map(|s| parse_json(s))
            .collect::<Result<_, _>>()?,
        credentials: Vec::new(),
        revocations: Vec::new(),
        bundles: Vec::new(),
    };
    for (kind, doc) in &row.documents {
        match kind.as_str() {
            "credential" => pkg.credentials.push(parse_json(doc)?),
            _ => pkg.revocations.push(parse_json(doc)?),
        }
    }
    Ok(pkg)
}

/// The cases of the evidence a procedure's commission names.
async fn cases_of(state: &AppState, commission: &SignedStep) -> Result<Vec<String>, HttpError> {
    let Act::Commission { items, .. } = &commission.step.act else {
        return Err(HttpError::internal(
            "a stored procedure without its commission",
        ));
    };
    let mut cases = Vec::new();
    for item in items {
        let row = state
            .store
            .proof(&item.proof_sm3.to_hex())
            .await?
            .ok_or_else(|| {
                HttpError::internal(format!("commissioned proof {} is gone", item.proof_sm3))
            })?;
        let proof: Proof = parse_json(&row.proof_json)?;
        if !cases.contains(&proof.manifest.case.reference) {
            cases.push(proof.manifest.case.reference);
        }
    }
    Ok(cases)
}

/// Whether `caller` takes part in the procedure: courts and administrators do; an appraiser
/// token (the institution's and its appraisers') only when it is granted every case whose
/// evidence the commission names, as it must be to receive the material.
async fn may_read(
    caller: &Caller,
    state: &AppState,
    pkg: &OpinionPackage,
) -> Result<bool, HttpError> {
    if caller.role != Role::Appraiser {
        return Ok(true);
    }
    let first = pkg
        .steps
        .first()
        .ok_or_else(|| HttpError::internal("a stored procedure without its commission"))?;
    for case in cases_of(state, first).await? {
        if !state.store.granted(&caller.token_id, &case).await? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The procedure `commission` as `caller` may see it: 404 `unknown_appraisal` both when it does
/// not exist and when the caller's token is not granted its material (so tokens learn nothing of
/// procedures they are not part of).
async fn visible(
    caller: &Caller,
    state: &AppState,
    commission: &str,
) -> Result<OpinionPackage, HttpError> {
    let pkg = stored(state, commission).await?;
    if may_read(caller, state, &pkg).await? {
        Ok(pkg)
    } else {
        Err(unknown_appraisal())
    }
}

fn unknown_appraisal() -> HttpError {
    HttpError::new(
        StatusCode::NOT_FOUND,
        "unknown_appraisal",
        "no appraisal with that commission SM3 is filed here for this token (an appraiser token must be granted the case of the material)",
        Some("commission_sm3"),
    )
}

/// Each commissioned file is a file of a proof stored here, with that SM3.
async fn evidence_held(state: &AppState, step: &SignedStep) -> Result<(), HttpError> {
    let Act::Commission { items, .. } = &step.step.act else {
        return Err(HttpError::unprocessable(
            "appraisal_step_refused",
            "appraisal.schema: a procedure starts with a commission",
            Some("/step/act/kind"),
        ));
    };
    for (i, item) in items.iter().enumerate() {
        let field = format!("/step/act/items/{i}");
        let row = state
            .store
            .proof(&item.proof_sm3.to_hex())
            .await?
            .ok_or_else(|| {
                HttpError::unprocessable(
                    "commissioned_proof_unknown",
                    format!(
                        "no proof {} is stored here: commission evidence this notary holds",
                        item.proof_sm3
                    ),
                    Some(&field),
                )
            })?;
        let proof: Proof = parse_json(&row.proof_json)?;
        let held = proof.manifest.items.iter().any(|f| {
            f.file_name == item.file_name
                && f.hashes
                    .iter()
                    .any(|h| h.algorithm == HashAlgorithm::Sm3 && h.value == item.sm3)
        });
        if !held {
            return Err(HttpError::unprocessable(
                "commissioned_file_unknown",
                format!(
                    "proof {} lists no file {} with SM3 {}",
                    item.proof_sm3, item.file_name, item.sm3
                ),
                Some(&field),
            ));
        }
    }
    Ok(())
}

/// The distinct proofs a commission names, in order of first mention.
fn proofs_of(commission: Option<&SignedStep>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    if let Some(Act::Commission { items, .. }) = commission.map(|s| &s.step.act) {
        for i in items {
            let p = i.proof_sm3.to_hex();
            if !out.contains(&p) {
                out.push(p);
            }
        }
    }
    out
}

fn sm3_of<T: serde::Serialize>(doc: &T) -> Result<(String, String), HttpError> {
    let bytes = canonical::to_canonical_bytes(doc).map_err(HttpError::internal)?;
    let text = String::from_utf8(bytes.clone()).map_err(HttpError::internal)?;
    Ok((Hash32::sm3(&bytes).to_hex(), text))
}

/// Stores a checked `step` with the credentials and revocations that came with it (the
/// store keeps each document once).
async fn append(
    state: &AppState,
    caller: &Caller,
    commission: &str,
    step: &SignedStep,
    proofs: &[String],
    credentials: &[SignedAppraiserCredential],
    revocations: &[SignedAppraiserRevocation],
) -> Result<HttpResponse, HttpError> {
    let (step_sm3, document) = sm3_of(step)?;
    let mut documents = Vec::new();
    for c in credentials {
        let (sm3, doc) = sm3_of(c)?;
        documents.push((sm3, "credential", doc));
    }
    for r in revocations {
        let (sm3, doc) = sm3_of(r)?;
        documents.push((sm3, "revocation", doc));
    }
    let seq = i64::try_from(step.step.seq).map_err(HttpError::internal)?;
    let stored = state
        .store
        .append_appraisal_step(&NewStep {
            commission_sm3: commission,
            seq,
            step_sm3: &step_sm3,
            document: &document,
            documents: &documents,
            received_at: now_ms(),
            proofs,
            actor: caller.actor().to_string(),
            detail: custody_detail(
                &Hash32::from_hex(commission).map_err(HttpError::internal)?,
                step,
            )
            .map_err(HttpError::internal)?,
        })
        .await?;
    if !stored {
        return Err(HttpError::new(
            StatusCode::CONFLICT,
            "appraisal_step_conflict",
            "another step took this position first: fetch the procedure, chain to its last step and sign again",
            Some("/step/step/seq"),
        ));
    }
    Ok(HttpResponse::Created().json(json!({
        "commission_sm3": commission,
        "seq": step.step.seq,
        "step_sm3": step_sm3,
        "act": step.step.act.name(),
    })))
}

/// `POST /v1/appraisals`: a court's signed commission of evidence held here.
pub(super) async fn commission(
    http: HttpRequest,
    state: web::Data<Arc<AppState>>,
    payload: web::Payload,
) -> Result<HttpResponse, HttpError> {
    let caller = authenticate(&http, &state, &[Role::Court, Role::Admin]).await?;
    let body = read_body(payload, MAX_STEP_BYTES, &state.config).await?;
    let value = canonical::parse_strict(&body).map_err(canonical_error)?;
    let req: StepRequest = parse_value(&value)?;
    let parties = parties(&state)?;
    let pkg = OpinionPackage {
        kind: OPINION_TYPE.into(),
        steps: vec![req.step],
        credentials: req.credentials,
        revocations: req.revocations,
        bundles: Vec::new(),
    };
    check_in_progress(&pkg, &parties).map_err(|e| refused(&e))?;
    let step = pkg
        .steps
        .first()
        .ok_or_else(|| HttpError::internal("no step"))?;
    evidence_held(&state, step).await?;
    let commission = step.sm3().map_err(HttpError::internal)?.to_hex();
    if state.store.appraisal(&commission).await?.is_some() {
        return Err(HttpError::new(
            StatusCode::CONFLICT,
            "appraisal_exists",
            "this commission is already filed",
            None,
        ));
    }
    append(
        &state,
        &caller,
        &commission,
        step,
        &proofs_of(Some(step)),
        &pkg.credentials,
        &pkg.revocations,
    )
    .await
}

/// A party's request about the procedure the path names: who may send it, the procedure's
/// SM3, the parsed body, the judicial parties and the procedure so far.
async fn procedure_request<T: serde::de::DeserializeOwned>(
    http: &HttpRequest,
    state: &AppState,
    payload: web::Payload,
) -> Result<(Caller, String, T, Vec<Party>, OpinionPackage), HttpError> {
    let caller = authenticate(http, state, &[Role::Appraiser, Role::Court, Role::Admin]).await?;
    let commission = commission_id(http)?;
    let body = read_body(payload, MAX_STEP_BYTES, &state.config).await?;
    let value = canonical::parse_strict(&body).map_err(canonical_error)?;
    let req: T = parse_value(&value)?;
    let parties = parties(state)?;
    let pkg = visible(&caller, state, &commission).await?;
    Ok((caller, commission, req, parties, pkg))
}

/// `POST /v1/appraisals/{commission_sm3}/steps`: the next signed step of the procedure.
pub(super) async fn add_step(
    http: HttpRequest,
    state: web::Data<Arc<AppState>>,
    payload: web::Payload,
) -> Result<HttpResponse, HttpError> {
    let (caller, commission, req, parties, mut pkg) =
        procedure_request::<StepRequest>(&http, &state, payload).await?;
    if pkg.steps.len() >= MAX_STEPS {
        return Err(HttpError::unprocessable(
            "appraisal_step_refused",
            format!(
                "appraisal.order: a procedure holds at most {MAX_STEPS} steps (nothing was stored)"
            ),
            Some("/step"),
        ));
    }
    if req.step.step.seq != pkg.steps.len() as u64 {
        return Err(HttpError::new(
            StatusCode::CONFLICT,
            "appraisal_step_conflict",
            format!(
                "the procedure has {} step(s): the next step is seq {}, chained to the last one; fetch it and sign again",
                pkg.steps.len(),
                pkg.steps.len()
            ),
            Some("/step/step/seq"),
        ));
    }
    let credentials: Vec<SignedAppraiserCredential> = req
        .credentials
        .into_iter()
        .filter(|c| !pkg.credentials.contains(c))
        .collect();
    let revocations: Vec<SignedAppraiserRevocation> = req
        .revocations
        .into_iter()
        .filter(|r| !pkg.revocations.contains(r))
        .collect();
    pkg.credentials.extend(credentials.iter().cloned());
    pkg.revocations.extend(revocations.iter().cloned());
    pkg.steps.push(req.step);
    check_in_progress(&pkg, &parties).map_err(|e| refused(&e))?;
    let step = pkg
        .steps
        .last()
        .ok_or_else(|| HttpError::internal("no step"))?;
    let proofs = proofs_of(pkg.steps.first());
    append(
        &state,
        &caller,
        &commission,
        step,
        &proofs,
        &credentials,
        &revocations,
    )
    .await
}

/// `GET /v1/appraisals`: the procedures filed here, newest first (at most 200): each
/// commission's case, court, institution and questions, and where the procedure stands.
pub(super) async fn list(
    http: HttpRequest,
    state: web::Data<Arc<AppState>>,
) -> Result<HttpResponse, HttpError> {
    let caller = authenticate(&http, &state, &[Role::Appraiser, Role::Court, Role::Admin]).await?;
    let mut out = Vec::new();
    for row in state.store.appraisals(MAX_LISTED).await? {
        let first: SignedStep = parse_json(&row.commission)?;
        let last: SignedStep = parse_json(&row.last)?;
        if caller.role == Role::Appraiser {
            let mut granted = true;
            for case in cases_of(&state, &first).await? {
                granted &= state.store.granted(&caller.token_id, &case).await?;
            }
            if !granted {
                continue;
            }
        }
        let Act::Commission {
            case_reference,
            institution,
            questions,
            deadline,
            items,
        } = &first.step.act
        else {
            return Err(HttpError::internal(
                "a stored procedure without its commission",
            ));
        };
        out.push(json!({
            "commission_sm3": row.commission_sm3,
            "case_reference": case_reference,
            "court": first.step.by,
            "institution": institution,
            "questions": questions,
            "items": items.len(),
            "deadline": deadline,
            "steps": row.steps,
            "last_act": last.step.act.name(),
            "last_by": last.step.by,
            "last_at": last.step.at,
        }));
    }
    Ok(HttpResponse::Ok().json(json!({ "appraisals": out })))
}

/// `GET /v1/judicial-parties`: the courts and appraisal institutions whose steps this notary
/// accepts (public keys only), for the workspace to show and to check drafts against.
pub(super) async fn judicial_parties(
    http: HttpRequest,
    state: web::Data<Arc<AppState>>,
) -> Result<HttpResponse, HttpError> {
    authenticate(&http, &state, &[Role::Appraiser, Role::Court, Role::Admin]).await?;
    Ok(HttpResponse::Ok().json(json!({ "parties": parties(&state)? })))
}

fn no_draft() -> HttpError {
    HttpError::new(
        StatusCode::NOT_FOUND,
        "no_draft",
        "no opinion is being co-signed in this procedure: draft one with PUT …/draft",
        None,
    )
}

/// `GET /v1/appraisals/{commission_sm3}/draft`: the opinion being co-signed, and who has
/// still to sign it.
pub(super) async fn get_draft(
    http: HttpRequest,
    state: web::Data<Arc<AppState>>,
) -> Result<HttpResponse, HttpError> {
    let caller = authenticate(&http, &state, &[Role::Appraiser, Role::Court, Role::Admin]).await?;
    let commission = commission_id(&http)?;
    let pkg = visible(&caller, &state, &commission).await?;
    let draft = state
        .store
        .appraisal_draft(&commission)
        .await?
        .filter(|d| d.seq == pkg.steps.len() as i64)
        .ok_or_else(no_draft)?;
    let step: SignedStep = parse_json(&draft.document)?;
    let missing = check_draft(&pkg, &step, &parties(&state)?).map_err(|e| refused(&e))?;
    Ok(HttpResponse::Ok().json(json!({ "draft": step, "missing": missing })))
}

/// `PUT /v1/appraisals/{commission_sm3}/draft`: an opinion with its sender's signature(s).
/// The same opinion as the draft kept adds its signatures to it; another opinion replaces it.
/// Checked with `check_draft`: it chains to the procedure's last step and carries signatures
/// only of the institution and the assigned appraisers. Once every one of them has signed, it
/// is checked as a step and appended (201); until then it is kept (200) with who is missing.
pub(super) async fn put_draft(
    http: HttpRequest,
    state: web::Data<Arc<AppState>>,
    payload: web::Payload,
) -> Result<HttpResponse, HttpError> {
    let (caller, commission, req, parties, mut pkg) =
        procedure_request::<DraftRequest>(&http, &state, payload).await?;
    let seq = pkg.steps.len() as u64;
    if req.step.step.seq != seq {
        return Err(HttpError::new(
            StatusCode::CONFLICT,
            "appraisal_step_conflict",
            format!(
                "the procedure has {seq} step(s): an opinion drafted now is seq {seq}, chained to the last one; fetch it and draft again"
            ),
            Some("/step/step/seq"),
        ));
    }
    // Co-signers may write at once: merge into the version read, retry if another came first.
    for _ in 0..8 {
        let kept = state
            .store
            .appraisal_draft(&commission)
            .await?
            .map(|d| parse_json::<SignedStep>(&d.document).map(|s| (d, s)))
            .transpose()?;
        let mut merged = req.step.clone();
        let mut replaced = false;
        if let Some((d, s)) = &kept {
            if d.seq == seq as i64 && s.step == merged.step {
                for b in &s.signatures {
                    if !merged
                        .signatures
                        .iter()
                        .any(|m| m.public_key == b.public_key)
                    {
                        merged.signatures.push(b.clone());
                    }
                }
            } else {
                replaced = d.seq == seq as i64;
            }
        }
        let missing = check_draft(&pkg, &merged, &parties).map_err(|e| refused(&e))?;
        if missing.is_empty() {
            pkg.steps.push(merged);
            check_in_progress(&pkg, &parties).map_err(|e| refused(&e))?;
            let step = pkg
                .steps
                .last()
                .ok_or_else(|| HttpError::internal("no step"))?;
            let proofs = proofs_of(pkg.steps.first());
            return append(&state, &caller, &commission, step, &proofs, &[], &[]).await;
        }
        let (_, document) = sm3_of(&merged)?;
        let i_seq = i64::try_from(seq).map_err(HttpError::internal)?;
        if state
            .store
            .put_appraisal_draft(
                &commission,
                i_seq,
                &document,
                kept.as_ref().map(|(d, _)| d.version),
                now_ms(),
            )
            .await?
        {
            return Ok(HttpResponse::Ok().json(json!({
                "commission_sm3": commission,
                "seq": seq,
                "missing": missing,
                "replaced": replaced,
                "draft": merged,
            })));
        }
    }
    Err(HttpError::new(
        StatusCode::CONFLICT,
        "appraisal_step_conflict",
        "the draft kept changing while it was merged: fetch it and sign again",
        Some("/step"),
    ))
}

/// `GET /v1/appraisals/{commission_sm3}`: the procedure so far (to chain the next step).
pub(super) async fn get(
    http: HttpRequest,
    state: web::Data<Arc<AppState>>,
) -> Result<HttpResponse, HttpError> {
    let caller = authenticate(&http, &state, &[Role::Appraiser, Role::Court, Role::Admin]).await?;
    let commission = commission_id(&http)?;
    Ok(HttpResponse::Ok().json(visible(&caller, &state, &commission).await?))
}

/// `GET /v1/appraisals/{commission_sm3}/opinion`: the delivered opinion with the bundle of
/// every proof it names, verified against the notary's ledger policy and its parties first.
pub(super) async fn opinion(
    http: HttpRequest,
    state: web::Data<Arc<AppState>>,
) -> Result<HttpResponse, HttpError> {
    authenticate(&http, &state, &[Role::Court, Role::Admin]).await?;
    let (_, bytes) = delivered(&state, &commission_id(&http)?).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(bytes))
}

/// `GET /v1/appraisals/{commission_sm3}/opinion.pdf`: the same opinion as PDF/A-3u, the
/// package attached (鉴定意见书).
pub(super) async fn opinion_pdf(
    http: HttpRequest,
    state: web::Data<Arc<AppState>>,
) -> Result<HttpResponse, HttpError> {
    authenticate(&http, &state, &[Role::Court, Role::Admin]).await?;
    let (pkg, _) = delivered(&state, &commission_id(&http)?).await?;
    let url = state.config.verify_url();
    let rendered =
        tokio::task::spawn_blocking(move || tiezheng_certificate::render_opinion(&pkg, &url))
            .await
            .map_err(HttpError::internal)?
            .map_err(HttpError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("application/pdf")
        .body(rendered.pdf))
}

/// Seconds a client waits before asking again for an opinion not anchored yet.
const RETRY_AFTER_SECONDS: u64 = 2;

/// 409 `not_yet_anchored` with `Retry-After`.
fn waiting(what: &str) -> HttpError {
    let mut e = HttpError::new(
        StatusCode::CONFLICT,
        "not_yet_anchored",
        format!("{what}: retry in {RETRY_AFTER_SECONDS} seconds"),
        None,
    );
    e.retry_after_seconds = Some(RETRY_AFTER_SECONDS);
    e
}

/// The delivered opinion of `commission` with its evidence bundles, verified as a court
/// verifies it: the package and its RFC 8785 bytes.
async fn delivered(
    state: &AppState,
    commission: &str,
) -> Result<(OpinionPackage, Vec<u8>), HttpError> {
    let mut pkg = stored(state, commission).await?;
    if !matches!(
        pkg.steps.last().map(|s| &s.step.act),
        Some(Act::Delivery { .. })
    ) {
        return Err(HttpError::new(
            StatusCode::CONFLICT,
            "not_delivered",
            "the institution has not delivered the opinion yet",
            None,
        ));
    }
    let Some(Act::Commission { items, .. }) = pkg.steps.first().map(|s| &s.step.act) else {
        return Err(HttpError::internal(
            "a stored procedure without its commission",
        ));
    };
    let mut proofs: Vec<String> = items.iter().map(|i| i.proof_sm3.to_hex()).collect();
    proofs.sort();
    proofs.dedup();
    let mut bundles: Vec<Value> = Vec::new();
    for p in proofs {
        let row = state
            .store
            .proof(&p)
            .await?
            .ok_or_else(|| HttpError::internal(format!("commissioned proof {p} is gone")))?;
        let bundle = state
            .anchoring
            .bundle(
                &state.store,
                &row.proof_sm3,
                &row.proof_json,
                &row.receipt_json,
            )
            .await
            .map_err(HttpError::internal)?
            .ok_or_else(|| waiting("a commissioned proof waits for its batch to be anchored"))?;
        bundles.push(serde_json::to_value(bundle).map_err(HttpError::internal)?);
    }
    pkg.bundles = bundles;
    let mut policy: Policy = state.anchoring.genesis_policy().await.map_err(|e| {
        HttpError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "ledger_unavailable",
            format!("the ledger's policy cannot be read: {e}"),
            None,
        )
    })?;
    policy.parties = parties(state)?;
    let bytes = canonical::to_canonical_bytes(&pkg).map_err(HttpError::internal)?;
    let report = verify_opinion_bytes(&bytes, &policy).map_err(HttpError::internal)?;
    if let Some(f) = report.first_failure() {
        // The last steps are in the custody log but its commitment is not anchored yet.
        if f.rule == "appraisal.anchor" {
            return Err(waiting(
                "the procedure's last steps wait for the custody log to be anchored",
            ));
        }
        return Err(HttpError::internal(format!(
            "the assembled opinion does not verify: {} ({})",
            f.rule, f.detail
        )));
    }
    Ok((pkg, bytes))
}
