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

mod draft;
mod opinion;

pub(super) use draft::{get_draft, put_draft};
pub(super) use opinion::{opinion, opinion_pdf};

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;
use tiezheng_protocol::appraisal::{
    Act, OPINION_TYPE, OpinionPackage, SignedAppraiserCredential, SignedAppraiserRevocation,
    SignedStep, custody_detail,
};
use tiezheng_protocol::bundle::Party;
use tiezheng_protocol::manifest::Proof;
use tiezheng_protocol::verify::appraisal::check_in_progress;
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

/// `POST /v1/appraisals/{commission}/revocations`: the institution revokes an appraiser's key.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RevocationRequest {
    revocation: SignedAppraiserRevocation,
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
pub(crate) async fn commission(
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
pub(crate) async fn add_step(
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
pub(crate) async fn list(
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
pub(crate) async fn judicial_parties(
    http: HttpRequest,
    state: web::Data<Arc<AppState>>,
) -> Result<HttpResponse, HttpError> {
    authenticate(&http, &state, &[Role::Appraiser, Role::Court, Role::Admin]).await?;
    Ok(HttpResponse::Ok().json(json!({ "parties": parties(&state)? })))
}

/// `POST /v1/appraisals/{commission_sm3}/revocations`: the institution's signed revocation of
/// an appraiser's key, on its own (it may also come with a step). Checked with the procedure's
/// rules: signed by the commissioned institution's key, and no step already stored is signed
/// with that key at or after `revoked_at` (a revocation does not reach back past what the key
/// already signed). From then on no step signed with that key is accepted.
pub(crate) async fn revoke(
    http: HttpRequest,
    state: web::Data<Arc<AppState>>,
    payload: web::Payload,
) -> Result<HttpResponse, HttpError> {
    let (_, commission, req, parties, mut pkg) =
        procedure_request::<RevocationRequest>(&http, &state, payload).await?;
    if !pkg.revocations.contains(&req.revocation) {
        pkg.revocations.push(req.revocation.clone());
    }
    check_in_progress(&pkg, &parties).map_err(|e| {
        HttpError::unprocessable(
            "appraisal_revocation_refused",
            format!("{}: {} (nothing was stored)", e.rule, e.message),
            Some("/revocation"),
        )
    })?;
    let (sm3, document) = sm3_of(&req.revocation)?;
    let added = state
        .store
        .add_appraisal_document(&commission, (&sm3, "revocation", &document), now_ms())
        .await?;
    let r = &req.revocation.revocation;
    let body = json!({
        "commission_sm3": commission,
        "revocation_sm3": sm3,
        "appraiser_id": r.appraiser_id,
        "key_id": r.key_id,
        "revoked_at": r.revoked_at,
    });
    Ok(if added {
        HttpResponse::Created().json(body)
    } else {
        HttpResponse::Ok().json(body)
    })
}

/// `GET /v1/appraisals/{commission_sm3}`: the procedure so far (to chain the next step).
pub(crate) async fn get(
    http: HttpRequest,
    state: web::Data<Arc<AppState>>,
) -> Result<HttpResponse, HttpError> {
    let caller = authenticate(&http, &state, &[Role::Appraiser, Role::Court, Role::Admin]).await?;
    let commission = commission_id(&http)?;
    Ok(HttpResponse::Ok().json(visible(&caller, &state, &commission).await?))
}
