//! Media upload: resumable chunks at explicit offsets into the write-once media store, and the
//! upload status devices resume from.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;
use tiezheng_protocol::Hash32;
use tokio::io::AsyncWriteExt as _;

use crate::media::Append;

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

/// `GET /v1/media/{sm3}/status` (device, admin): upload progress, to resume. A device sees
/// its own upload of the file its own proofs declare.
pub async fn media_status(
    req: HttpRequest,
    state: web::Data<Arc<AppState>>,
) -> Result<HttpResponse, HttpError> {
    let caller = authenticate(&req, &state, &[Role::Device, Role::Admin]).await?;
    let sm3 = media_id(path_param(&req, "sm3"))?;
    if caller.role == Role::Admin {
        let row = state.store.media(&sm3).await?.ok_or_else(unknown_media)?;
        let received = if row.complete {
            row.bytes
        } else {
            state.store.upload_received_max(&sm3).await?
        };
        return Ok(HttpResponse::Ok().json(
            json!({"sm3": sm3, "bytes": row.bytes, "received": received, "complete": row.complete}),
        ));
    }
    let upload = own_upload(&state, &caller, &sm3).await?;
    Ok(HttpResponse::Ok().json(upload.status()))
}

fn unknown_media() -> HttpError {
    HttpError::new(
        StatusCode::NOT_FOUND,
        "unknown_media",
        "no proof you submitted names this media; submit the proof first",
        Some("sm3"),
    )
}

/// One device's upload of one file, as its own proof declares the file.
struct OwnUpload {
    sm3: String,
    uploader: String,
    sha256: String,
    bytes: i64,
    received: i64,
    /// The file is stored and is the one this device declares.
    complete: bool,
    /// The file is stored but is not what this device declares (a false SHA-256 or size).
    contradicted: bool,
}

impl OwnUpload {
    fn status(&self) -> serde_json::Value {
        json!({"sm3": self.sm3, "bytes": self.bytes, "received": self.received, "complete": self.complete})
    }

    fn contradiction(&self) -> HttpError {
        HttpError::unprocessable(
            "media_hash_mismatch",
            "the file with this SM3 is stored, and its SHA-256 or size differs from what your proof declares; nothing can satisfy that declaration",
            None,
        )
    }
}

/// The caller's declaration of `sm3` and its own progress, finishing first what a crash
/// interrupted: a stored file that verifies is recorded complete; a full-length partial file
/// is verified and stored now.
async fn own_upload(state: &AppState, caller: &Caller, sm3: &str) -> Result<OwnUpload, HttpError> {
    let uploader = caller.subject.clone();
    let declared = state
        .store
        .declaration(&uploader, sm3)
        .await?
        .ok_or_else(unknown_media)?;
    let row = state.store.media(sm3).await?.ok_or_else(unknown_media)?;
    let mut up = OwnUpload {
        sm3: sm3.to_owned(),
        received: 0,
        complete: false,
        contradicted: false,
        uploader,
        sha256: declared.sha256,
        bytes: declared.bytes,
    };
    if row.complete {
        up.complete = row.sha256 == up.sha256 && row.bytes == up.bytes;
        up.contradicted = !up.complete;
        up.received = if up.complete { up.bytes } else { 0 };
        return Ok(up);
    }
    up.received = state.store.upload_received(sm3, &up.uploader).await?;
    let stored = match state.media.verify_stored(sm3, &up.sha256).await {
        Ok(s) => s,
        // Chunks still reach local disk while an object store is down; only finishing needs it.
        Err(e) if e.is_unavailable() && up.received < up.bytes => {
            tracing::warn!(cause = %e, "media object store unavailable; upload continues locally");
            false
        }
        Err(e) => return Err(e.into()),
    };
    if stored {
        // Stored before a crash kept it out of the database.
        state
            .store
            .complete_media(sm3, &up.sha256, up.bytes, &up.uploader, now_ms())
            .await?;
        up.complete = true;
        up.received = up.bytes;
    } else if up.received == up.bytes {
        let _writer = state.media.lock(sm3, &up.uploader).await;
        finish(state, &mut up).await?;
    }
    Ok(up)
}

/// Hashes a complete partial file: stored write-once and recorded when both digests match
/// the declaration; otherwise discarded, the upload starting again from 0.
async fn finish(state: &AppState, up: &mut OwnUpload) -> Result<bool, HttpError> {
    let stored = state.media.has_part(&up.sm3, &up.uploader)
        && state
            .media
            .finish(&up.sm3, &up.uploader, &up.sha256)
            .await?;
    if stored {
        state
            .store
            .complete_media(&up.sm3, &up.sha256, up.bytes, &up.uploader, now_ms())
            .await?;
        up.complete = true;
        up.received = up.bytes;
    } else {
        state
            .media
            .remove_part(&up.sm3, &up.uploader)
            .await
            .map_err(HttpError::internal)?;
        state
            .store
            .set_upload_received(&up.sm3, &up.uploader, 0)
            .await?;
        up.received = 0;
    }
    Ok(stored)
}

/// Removes a spool file when the request ends, however it ends.
struct Spool(std::path::PathBuf);

impl Drop for Spool {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// `PUT /v1/media/{sm3}?offset=N` (device): a chunk of the file starting at `offset`
/// (resumable). The body is received in full before anything is locked; bytes that overlap
/// what was already acknowledged must be identical (409 otherwise: acknowledged bytes never
/// change). When the last byte arrives the file is hashed; it is stored write-once only if
/// SM3 and SHA-256 both match this device's proof, and discarded otherwise.
pub async fn upload_media(
    req: HttpRequest,
    state: web::Data<Arc<AppState>>,
    mut payload: web::Payload,
) -> Result<HttpResponse, HttpError> {
    let caller = authenticate(&req, &state, &[Role::Device]).await?;
    let sm3 = media_id(path_param(&req, "sm3"))?;
    let offset = i64::try_from(upload_query(&req)?.offset).map_err(|_| {
        HttpError::bad_request("bad_offset", "offset must be below 2^63", Some("offset"))
    })?;
    let mut up = own_upload(&state, &caller, &sm3).await?;
    if up.contradicted {
        return Err(up.contradiction());
    }
    if up.complete {
        return Ok(HttpResponse::Ok().json(up.status()));
    }
    if offset > up.received {
        return Err(wrong_offset(up.received));
    }

    // Receive the whole chunk into a spool file of this request, holding no lock.
    let (path, mut file) = state.media.spool().await.map_err(HttpError::internal)?;
    let spool = Spool(path);
    let limit = i64::try_from(state.config.limits.max_media_chunk_bytes).unwrap_or(i64::MAX);
    let mut written: i64 = 0;
    while let Some(chunk) = next_chunk(&mut payload, &state.config).await? {
        let n = i64::try_from(chunk.len()).unwrap_or(i64::MAX);
        if written + n > limit {
            return Err(HttpError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "chunk_too_large",
                format!("send at most {limit} bytes per request"),
                None,
            ));
        }
        if offset + written + n > up.bytes {
            return Err(HttpError::unprocessable(
                "media_too_large",
                format!("your proof declares {} bytes for this media", up.bytes),
                None,
            ));
        }
        file.write_all(&chunk).await.map_err(HttpError::internal)?;
        written += n;
    }
    file.flush().await.map_err(HttpError::internal)?;
    drop(file);

    // Compare and append, briefly, under this uploader's lock.
    let _writer = state.media.lock(&sm3, &up.uploader).await;
    let received = state.store.upload_received(&sm3, &up.uploader).await?;
    let appended = state
        .media
        .append(
            &sm3,
            &up.uploader,
            u64::try_from(received).unwrap_or(0),
            u64::try_from(offset).unwrap_or(0),
            &spool.0,
        )
        .await
        .map_err(HttpError::internal)?;
    let now_received = match appended {
        Append::Gap => return Err(wrong_offset(received)),
        Append::Conflict => {
            return Err(HttpError::new(
                StatusCode::CONFLICT,
                "overlap_mismatch",
                format!(
                    "this chunk overlaps the {received} bytes already acknowledged with different content; acknowledged bytes never change; continue at offset {received}"
                ),
                Some("offset"),
            ));
        }
        Append::Appended(n) => i64::try_from(n).unwrap_or(i64::MAX),
    };
    if now_received > received {
        state
            .store
            .set_upload_received(&sm3, &up.uploader, now_received)
            .await?;
        state
            .metrics
            .media_bytes(u64::try_from(now_received - received).unwrap_or(0));
    }
    up.received = now_received;
    if up.received < up.bytes {
        return Ok(HttpResponse::Accepted().json(up.status()));
    }
    if finish(&state, &mut up).await? {
        Ok(HttpResponse::Created().json(up.status()))
    } else {
        Err(HttpError::unprocessable(
            "media_hash_mismatch",
            "the uploaded bytes do not match the SM3 and SHA-256 in the proof; nothing was stored; upload the original file again from offset 0",
            None,
        ))
    }
}

fn wrong_offset(received: i64) -> HttpError {
    HttpError::new(
        StatusCode::CONFLICT,
        "wrong_offset",
        format!("upload must continue at offset {received}"),
        Some("offset"),
    )
}
