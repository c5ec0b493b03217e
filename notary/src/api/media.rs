//! Media upload: resumable chunks at explicit offsets into the write-once media store, and the
//! upload status devices resume from.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;
use tiezheng_protocol::Hash32;
use tokio::io::AsyncWriteExt as _;

use super::{AppState, Caller, Role, authenticate, next_chunk, now_ms, path_param};
use crate::error::HttpError;

/// Query of a media upload.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadQuery {
    /// Where this chunk starts.
    pub offset: u64,
}

/// The upload's query, read after the caller is authenticated.
fn upload_query(req: &HttpRequest) -> Result<UploadQuery, HttpError> {
    web::Query::<UploadQuery>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .map_err(|e| {
            HttpError::bad_request(
                "bad_offset",
                format!(
                    "the query must be `offset=N`, N the number of bytes the notary has acknowledged (a whole number from 0): {e}"
                ),
                Some("offset"),
            )
        })
}

fn media_id(s: &str) -> Result<String, HttpError> {
    Hash32::from_hex(s).map(|h| h.to_hex()).map_err(|_| {
        HttpError::bad_request(
            "bad_media_id",
            "media are addressed by their SM3 as 64 lowercase hex digits",
            Some("sm3"),
        )
    })
}

/// `GET /v1/media/{sm3}/status` (device, admin): upload progress, to resume.
pub async fn media_status(
    req: HttpRequest,
    state: web::Data<Arc<AppState>>,
) -> Result<HttpResponse, HttpError> {
    let caller = authenticate(&req, &state, &[Role::Device, Role::Admin]).await?;
    let sm3 = media_id(path_param(&req, "sm3"))?;
    let row = declared_media(&state, &caller, &sm3).await?;
    Ok(HttpResponse::Ok().json(json!({"sm3": row.sm3, "bytes": row.bytes, "received": row.received, "complete": row.complete})))
}

async fn declared_media(
    state: &AppState,
    caller: &Caller,
    sm3: &str,
) -> Result<crate::store::MediaRow, HttpError> {
    let unknown = || {
        HttpError::new(
            StatusCode::NOT_FOUND,
            "unknown_media",
            "no proof you submitted names this media; submit the proof first",
            Some("sm3"),
        )
    };
    let row = state.store.media(sm3).await?.ok_or_else(unknown)?;
    if caller.role == Role::Device
        && !state
            .store
            .device_declared_media(&caller.subject, sm3)
            .await?
    {
        return Err(unknown());
    }
    reconcile_media(state, row, &caller.subject).await
}

/// Finishes what a crash interrupted between storing a file and recording it: a stored file
/// that verifies is recorded complete; a full-length partial file is verified and stored now;
/// a full length recorded with neither file present starts again from zero.
async fn reconcile_media(
    state: &AppState,
    mut row: crate::store::MediaRow,
    actor: &str,
) -> Result<crate::store::MediaRow, HttpError> {
    if row.complete {
        return Ok(row);
    }
    let _writer = state.media.lock(&row.sm3).await;
    if state
        .media
        .verify_stored(&row.sm3, &row.sha256)
        .await
        .map_err(HttpError::internal)?
    {
        state
            .store
            .complete_media(&row.sm3, actor, now_ms())
            .await?;
        row.complete = true;
        row.received = row.bytes;
    } else if row.received == row.bytes && state.media.has_part(&row.sm3) {
        if state
            .media
            .finish(&row.sm3, &row.sha256)
            .await
            .map_err(HttpError::internal)?
        {
            state
                .store
                .complete_media(&row.sm3, actor, now_ms())
                .await?;
            row.complete = true;
        } else {
            state.store.set_media_received(&row.sm3, 0).await?;
            row.received = 0;
        }
    } else if row.received == row.bytes {
        state.store.set_media_received(&row.sm3, 0).await?;
        row.received = 0;
    }
    Ok(row)
}

/// `PUT /v1/media/{sm3}?offset=N` (device): appends a chunk at `offset` (resumable). When the
/// last byte arrives the file is hashed; it is stored write-once only if both SM3 and SHA-256
/// match the proof, and discarded otherwise.
pub async fn upload_media(
    req: HttpRequest,
    state: web::Data<Arc<AppState>>,
    mut payload: web::Payload,
) -> Result<HttpResponse, HttpError> {
    let caller = authenticate(&req, &state, &[Role::Device]).await?;
    let sm3 = media_id(path_param(&req, "sm3"))?;
    let query = upload_query(&req)?;
    let row = declared_media(&state, &caller, &sm3).await?;
    if row.complete {
        return Ok(HttpResponse::Ok().json(
            json!({"sm3": sm3, "bytes": row.bytes, "received": row.bytes, "complete": true}),
        ));
    }
    let offset = i64::try_from(query.offset).unwrap_or(i64::MAX);
    if offset != row.received {
        return Err(HttpError::new(
            StatusCode::CONFLICT,
            "wrong_offset",
            format!("upload must continue at offset {}", row.received),
            Some("offset"),
        ));
    }
    let _writer = state.media.lock(&sm3).await;
    let mut part = state
        .media
        .open_part(&sm3, row.received)
        .await
        .map_err(HttpError::internal)?;
    let mut written: i64 = 0;
    let limit = i64::try_from(state.config.max_media_chunk_bytes).unwrap_or(i64::MAX);
    loop {
        let chunk = match next_chunk(&mut payload, &state.config).await {
            Ok(Some(c)) => c,
            Ok(None) => break,
            Err(e) => {
                // The connection broke or stalled: keep only what was durably written
                // (nothing of this request).
                state.media.truncate_part(&sm3, row.received).await.ok();
                return Err(e);
            }
        };
        let n = i64::try_from(chunk.len()).unwrap_or(i64::MAX);
        if written + n > limit {
            state.media.truncate_part(&sm3, row.received).await.ok();
            return Err(HttpError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "chunk_too_large",
                format!("send at most {limit} bytes per request"),
                None,
            ));
        }
        if row.received + written + n > row.bytes {
            state.media.truncate_part(&sm3, row.received).await.ok();
            return Err(HttpError::unprocessable(
                "media_too_large",
                format!("the proof declares {} bytes for this media", row.bytes),
                None,
            ));
        }
        part.write_all(&chunk).await.map_err(HttpError::internal)?;
        written += n;
    }
    part.sync_all().await.map_err(HttpError::internal)?;
    drop(part);
    let received = row.received + written;
    state.store.set_media_received(&sm3, received).await?;
    state
        .metrics
        .media_bytes(u64::try_from(written).unwrap_or(0));
    if received < row.bytes {
        return Ok(HttpResponse::Accepted().json(
            json!({"sm3": sm3, "bytes": row.bytes, "received": received, "complete": false}),
        ));
    }
    match state
        .media
        .finish(&sm3, &row.sha256)
        .await
        .map_err(HttpError::internal)?
    {
        true => {
            state
                .store
                .complete_media(&sm3, &caller.subject, now_ms())
                .await?;
            Ok(HttpResponse::Created().json(
                json!({"sm3": sm3, "bytes": row.bytes, "received": received, "complete": true}),
            ))
        }
        false => {
            state.store.set_media_received(&sm3, 0).await?;
            Err(HttpError::unprocessable(
                "media_hash_mismatch",
                "the uploaded bytes do not match the SM3 and SHA-256 in the proof; nothing was stored; upload the original file again from offset 0",
                None,
            ))
        }
    }
}
