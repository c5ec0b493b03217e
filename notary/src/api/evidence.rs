//! Reading evidence: a proof with its receipt, media and custody log, the original media files
//! and the offline bundle, for appraisers granted the case, courts and administrators. Every
//! read is a custody event.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};
use tiezheng_protocol::Hash32;
use tiezheng_protocol::custody::CustodyKind;

use super::{AppState, Caller, Role, authenticate, now_ms, path_param};
use crate::error::HttpError;

async fn readable_proof(
    req: &HttpRequest,
    state: &AppState,
) -> Result<(Caller, crate::store::ProofRow), HttpError> {
    readable_proof_sm3(req, state, path_param(req, "proof_sm3")).await
}

/// The caller (appraiser granted the case, court, admin) and the stored proof `sm3`; the token
/// is checked first.
pub(crate) async fn readable_proof_sm3(
    req: &HttpRequest,
    state: &AppState,
    sm3: &str,
) -> Result<(Caller, crate::store::ProofRow), HttpError> {
    let caller = authenticate(req, state, &[Role::Appraiser, Role::Court, Role::Admin]).await?;
    let id = Hash32::from_hex(sm3).map_err(|_| {
        HttpError::bad_request(
            "bad_proof_id",
            "proofs are addressed by their SM3 as 64 lowercase hex digits",
            Some("proof_sm3"),
        )
    })?;
    let not_found = || {
        HttpError::new(
            StatusCode::NOT_FOUND,
            "unknown_proof",
            "no proof with that SM3 is stored here",
            Some("proof_sm3"),
        )
    };
    let row = state
        .store
        .proof(&id.to_hex())
        .await?
        .ok_or_else(not_found)?;
    caller
        .may_read_case(state, &row.case_reference, "proof_sm3", "the proof's case")
        .await?;
    state
        .throttle
        .daily_reads
        .take(&caller.token_id, 1.0)
        .map_err(|wait| {
            HttpError::too_many(
                "this token has used its evidence reads for the day (TOKEN_READS_PER_DAY); ask the administrator if more are needed",
                wait,
            )
        })?;
    Ok((caller, row))
}

/// Which page of the custody log a view returns.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CustodyQuery {
    /// Events before this sequence number (the newest when absent).
    custody_before: Option<i64>,
    /// Events per page.
    #[serde(default = "default_custody_limit")]
    custody_limit: i64,
}

/// Events a view returns unless asked for fewer.
const DEFAULT_CUSTODY_LIMIT: i64 = 100;

fn default_custody_limit() -> i64 {
    DEFAULT_CUSTODY_LIMIT
}

/// `GET /v1/proofs/{proof_sm3}` (appraiser granted the case, court, admin): the proof, its
/// receipt, its media and a page of its custody log (the newest 100
/// events in chain order; `custody_before` and `custody_limit` page back, `custody_page` gives
/// the count, the head and the link to older events). Reading is itself a custody event
/// (recorded compactly: [`crate::store::Store::custody_read`]).
pub async fn get_proof(
    req: HttpRequest,
    state: web::Data<Arc<AppState>>,
) -> Result<HttpResponse, HttpError> {
    let (caller, row) = readable_proof(&req, &state).await?;
    let page = web::Query::<CustodyQuery>::from_query(req.query_string())
        .map_err(|e| {
            HttpError::bad_request(
                "bad_query",
                format!("custody_before and custody_limit are whole numbers: {e}"),
                Some("custody_limit"),
            )
        })?
        .into_inner();
    if !(1..=1000).contains(&page.custody_limit) {
        return Err(HttpError::bad_request(
            "bad_query",
            "custody_limit is 1 to 1000 events",
            Some("custody_limit"),
        ));
    }
    state
        .store
        .custody_read(
            &row.proof_sm3,
            CustodyKind::Viewed,
            &caller.actor(),
            now_ms(),
            "proof and receipt read",
        )
        .await?;
    let mut media = Vec::new();
    for (i, declared) in state
        .store
        .proof_media(&row.proof_sm3)
        .await?
        .into_iter()
        .enumerate()
    {
        let stored = state
            .store
            .media(&declared.sm3)
            .await?
            .is_some_and(|m| declared.satisfied_by(&m));
        media.push(json!({"item": i, "sm3": declared.sm3, "file_name": declared.file_name, "stored": stored}));
    }
    let page = state
        .store
        .custody_page(&row.proof_sm3, page.custody_before, page.custody_limit)
        .await?;
    let proof: Value = serde_json::from_str(&row.proof_json).map_err(HttpError::internal)?;
    let receipt: Value = serde_json::from_str(&row.receipt_json).map_err(HttpError::internal)?;
    Ok(HttpResponse::Ok().json(json!({
        "proof": proof,
        "receipt": receipt,
        "media": media,
        "custody": page.events,
        "custody_page": {
            "events": page.total,
            "head": page.head.map(|h| json!({"seq": h.seq, "hash": h.hash})),
            "repeats_pending": page.repeats_pending,
            "older": page.older.map(|seq| format!("/v1/proofs/{}?custody_before={seq}", row.proof_sm3)),
        },
    })))
}

/// `GET /v1/proofs/{proof_sm3}/media/{item}` (appraiser granted the case, court, admin): the
/// original file. Export is a custody event.
pub async fn get_media(
    req: HttpRequest,
    state: web::Data<Arc<AppState>>,
) -> Result<HttpResponse, HttpError> {
    let (caller, row) = readable_proof(&req, &state).await?;
    let item: usize = path_param(&req, "item").parse().map_err(|_| {
        HttpError::bad_request(
            "bad_item",
            "items are addressed by their index in the manifest: 0, 1, 2...",
            Some("item"),
        )
    })?;
    let media = state.store.proof_media(&row.proof_sm3).await?;
    let declared = media.get(item).cloned().ok_or_else(|| {
        HttpError::new(
            StatusCode::NOT_FOUND,
            "unknown_item",
            "the proof has no item with that index",
            Some("item"),
        )
    })?;
    let (media_sm3, name) = (declared.sm3.clone(), declared.file_name.clone());
    let stored = state
        .store
        .media(&media_sm3)
        .await?
        .is_some_and(|m| declared.satisfied_by(&m));
    if !stored {
        return Err(HttpError::new(
            StatusCode::NOT_FOUND,
            "media_not_uploaded",
            "the device has not uploaded this file yet",
            Some("item"),
        ));
    }
    let stream = match state.media.read(&media_sm3).await? {
        Some(s) => s,
        None => {
            tracing::error!(
                media_sm3,
                "a stored media file is missing; run `tiezheng audit`"
            );
            return Err(HttpError::new(
                StatusCode::GONE,
                "media_missing",
                "the notary recorded this file as stored but cannot find it; the operator has been alerted (`tiezheng audit` names what changed)",
                Some("item"),
            ));
        }
    };
    state
        .store
        .custody_read(
            &row.proof_sm3,
            CustodyKind::Exported,
            &caller.actor(),
            now_ms(),
            &format!("media {media_sm3} ({name}) downloaded"),
        )
        .await?;
    let stream = futures_util::StreamExt::map(stream, |c| {
        c.map_err(|e| {
            tracing::error!(cause = %e, "media stream failed");
            std::io::Error::other(e)
        })
    });
    let disposition = format!(
        "attachment; filename=\"{}\"",
        name.replace(['"', '\\'], "_")
    );
    Ok(HttpResponse::Ok()
        .content_type("application/octet-stream")
        .insert_header(("content-disposition", disposition))
        .streaming(stream))
}

/// `GET /v1/proofs/{proof_sm3}/bundle` (appraiser granted the case, court, admin): the offline
/// proof bundle, once the proof's batch is anchored. Export is a custody event.
pub async fn get_bundle(
    req: HttpRequest,
    state: web::Data<Arc<AppState>>,
) -> Result<HttpResponse, HttpError> {
    let (caller, row) = readable_proof(&req, &state).await?;
    let bundle = state
        .anchoring
        .bundle(&state.store, &row.proof_sm3, &row.proof_json, &row.receipt_json)
        .await
        .map_err(HttpError::internal)?
        .ok_or_else(|| HttpError::new(StatusCode::CONFLICT, "not_yet_anchored", "the proof is receipted and waits for its batch to be anchored; retry in a few seconds", None))?;
    state
        .store
        .custody_read(
            &row.proof_sm3,
            CustodyKind::Exported,
            &caller.actor(),
            now_ms(),
            "offline proof bundle exported",
        )
        .await?;
    Ok(HttpResponse::Ok().json(bundle))
}
