//! The opinion co-signed through a draft the notary keeps (`GET`/`PUT
//! /v1/appraisals/{commission_sm3}/draft`): the institution and every assigned appraiser sign
//! the one opinion; each adds a signature to the draft (checked with `check_draft`: chained to
//! the procedure's last step, signed only by its signers), and the last signature makes it
//! the next step.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;
use tiezheng_protocol::appraisal::SignedStep;
use tiezheng_protocol::verify::appraisal::{check_draft, check_in_progress};

use super::super::{AppState, Role, authenticate, now_ms};
use super::{
    append, commission_id, parse_json, parties, procedure_request, proofs_of, refused, sm3_of,
    visible,
};
use crate::error::HttpError;

/// `PUT /v1/appraisals/{commission}/draft`: an opinion with the signatures its sender adds.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DraftRequest {
    step: SignedStep,
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
pub(crate) async fn get_draft(
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
pub(crate) async fn put_draft(
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
