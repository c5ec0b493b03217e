//! The delivered opinion for the court (`GET /v1/appraisals/{commission_sm3}/opinion` and
//! `…/opinion.pdf`): the package with the bundle of every proof it names, served only once the
//! last steps are anchored with the custody log, and verified as a court verifies it first.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;
use tiezheng_protocol::appraisal::{Act, OpinionPackage};
use tiezheng_protocol::bundle::Policy;
use tiezheng_protocol::canonical;
use tiezheng_protocol::verify::appraisal::verify_opinion_bytes;

use super::super::{AppState, Role, authenticate};
use super::{commission_id, parties, stored};
use crate::error::HttpError;

/// `GET /v1/appraisals/{commission_sm3}/opinion`: the delivered opinion with the bundle of
/// every proof it names, verified against the notary's ledger policy and its parties first.
pub(crate) async fn opinion(
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
pub(crate) async fn opinion_pdf(
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
