//! The online verification and appraisal portal: the pages and the WebAssembly verifier the
//! notary serves, and the read endpoints the appraiser workspace needs.
//!
//! * `GET /verify` (public): drop in a bundle or certificate and the media file; the file is
//!   hashed and every layer verified in the browser by the protocol crate compiled to
//!   WebAssembly (`portal/wasm`); nothing is uploaded.
//! * `GET /appraiser`: the appraiser workspace (token sign-in, granted cases, items, custody
//!   log checked in the browser, one-click verification).
//! * `GET /court`: certificate lookup by number for courts.
//! * `GET /portal/{file}`: the pages' scripts, style sheet and WebAssembly module, embedded in
//!   the notary at compile time from `portal/www/` (the module is built reproducibly by
//!   `portal/build.sh`, and CI checks the committed build against the sources).
//! * `GET /v1/cases` and `GET /v1/cases/items?reference=…` (appraiser: granted cases only;
//!   court and admin: all): the cases and their evidence items. Reading an item's facts,
//!   media or bundle goes through the `/v1/proofs/...` endpoints, each a custody event.
//! * `GET /v1/proofs/{proof_sm3}/thumbnail/{item}`: a small PNG of a photo, made from the
//!   stored original (decoding bounded against hostile files); a custody event like any view.

use std::sync::Arc;
use tiezheng_protocol::custody::CustodyKind;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{AppState, Role, authenticate};
use crate::error::HttpError;

/// A file of the portal, embedded at compile time.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

macro_rules! asset {
    ($name:literal, $type:expr) => {
        Asset {
            name: $name,
            content_type: $type,
            bytes: include_bytes!(concat!("../../../portal/www/", $name)),
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";

static ASSETS: &[Asset] = &[
    asset!("verify.html", "text/html; charset=utf-8"),
    asset!("appraiser.html", "text/html; charset=utf-8"),
    asset!("court.html", "text/html; charset=utf-8"),
    asset!("portal.css", "text/css; charset=utf-8"),
    asset!("portal.js", JS),
    asset!("verify.js", JS),
    asset!("appraiser.js", JS),
    asset!("court.js", JS),
    asset!("hash-worker.js", JS),
    asset!("pkg/tiezheng_wasm.js", JS),
    asset!("pkg/tiezheng_wasm_bg.wasm", "application/wasm"),
    asset!("pkg/BUILD-INFO", "text/plain; charset=utf-8"),
];

/// What the pages may load: only this origin; WebAssembly compilation allowed; media shown
/// from `blob:` URLs made in the page.
const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
    worker-src 'self'; connect-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; \
    style-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

fn serve(name: &str) -> HttpResponse {
    match ASSETS.iter().find(|a| a.name == name) {
        Some(a) => HttpResponse::Ok()
            .content_type(a.content_type)
            .insert_header(("content-security-policy", CSP))
            .insert_header(("x-content-type-options", "nosniff"))
            .insert_header(("cache-control", "no-cache"))
            .body(a.bytes),
        None => actix_web::ResponseError::error_response(&HttpError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such portal file",
            None,
        )),
    }
}

/// Registers the portal's routes (called from the notary's `App`).
pub fn routes(cfg: &mut web::ServiceConfig) {
    // Resources, so that another method gets 405 with `Allow`, as every notary route does.
    cfg.service(web::resource("/verify").get(|| async { serve("verify.html") }))
        .service(web::resource("/appraiser").get(|| async { serve("appraiser.html") }))
        .service(web::resource("/court").get(|| async { serve("court.html") }))
        .service(
            web::resource("/portal/{file:.*}").get(|p: web::Path<String>| async move { serve(&p) }),
        )
        .service(web::resource("/v1/cases").get(list_cases))
        .service(web::resource("/v1/cases/items").get(case_items))
        .service(web::resource("/v1/proofs/{proof_sm3}/thumbnail/{item}").get(thumbnail));
}

/// Longest side of a thumbnail, in pixels.
pub const THUMBNAIL_PIXELS: u32 = 320;
/// Largest original decoded for a thumbnail (width or height), against decompression bombs.
const THUMBNAIL_MAX_DIMENSION: u32 = 20_000;
/// Largest decoder allocation for a thumbnail.
const THUMBNAIL_MAX_ALLOC: u64 = 512 * 1024 * 1024;

/// Where a thumbnail's original comes from.
enum Original {
    File(std::path::PathBuf),
    Bytes(Vec<u8>),
}

fn make_thumbnail(original: &Original) -> Result<Vec<u8>, String> {
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(THUMBNAIL_MAX_DIMENSION);
    limits.max_image_height = Some(THUMBNAIL_MAX_DIMENSION);
    limits.max_alloc = Some(THUMBNAIL_MAX_ALLOC);
    let img = match original {
        Original::File(path) => {
            let mut reader = image::ImageReader::open(path)
                .map_err(|e| e.to_string())?
                .with_guessed_format()
                .map_err(|e| e.to_string())?;
            reader.limits(limits);
            reader.decode().map_err(|e| e.to_string())?
        }
        Original::Bytes(b) => {
            let mut reader = image::ImageReader::new(std::io::Cursor::new(b))
                .with_guessed_format()
                .map_err(|e| e.to_string())?;
            reader.limits(limits);
            reader.decode().map_err(|e| e.to_string())?
        }
    };
    let small = img.thumbnail(THUMBNAIL_PIXELS, THUMBNAIL_PIXELS).to_rgb8();
    let mut out = std::io::Cursor::new(Vec::new());
    small
        .write_to(&mut out, image::ImageFormat::Png)
        .map_err(|e| e.to_string())?;
    Ok(out.into_inner())
}

/// `GET /v1/proofs/{proof_sm3}/thumbnail/{item}` (appraiser granted the case, court, admin):
/// a PNG of at most [`THUMBNAIL_PIXELS`] a side of a stored photo. Viewing it is a custody
/// event.
async fn thumbnail(
    req: HttpRequest,
    state: web::Data<Arc<AppState>>,
) -> Result<HttpResponse, HttpError> {
    // The token first, then the path.
    let sm3 = req
        .match_info()
        .get("proof_sm3")
        .unwrap_or_default()
        .to_owned();
    let (caller, row) = super::readable_proof_sm3(&req, &state, &sm3).await?;
    let item: usize = req
        .match_info()
        .get("item")
        .unwrap_or_default()
        .parse()
        .map_err(|_| {
            HttpError::bad_request(
                "bad_item",
                "the item is its index in the manifest: 0, 1, 2, ...",
                Some("item"),
            )
        })?;
    let no_thumbnail =
        |msg: &str| HttpError::new(StatusCode::NOT_FOUND, "no_thumbnail", msg, Some("item"));
    let declared = state
        .store
        .proof_media(&row.proof_sm3)
        .await?
        .get(item)
        .cloned()
        .ok_or_else(|| no_thumbnail("the proof has no item with that index"))?;
    let (media_sm3, name) = (declared.sm3.clone(), declared.file_name.clone());
    if !state
        .store
        .media(&media_sm3)
        .await?
        .is_some_and(|m| declared.satisfied_by(&m))
    {
        return Err(no_thumbnail("the device has not uploaded this file yet"));
    }
    let original = match state.media.local_path(&media_sm3) {
        Some(p) => Original::File(p),
        None => Original::Bytes(
            state
                .media
                .read_all(&media_sm3, THUMBNAIL_MAX_ALLOC)
                .await?
                .ok_or_else(|| no_thumbnail("the stored file is missing or too large"))?,
        ),
    };
    let png = web::block(move || make_thumbnail(&original))
        .await
        .map_err(HttpError::internal)?
        .map_err(|e| {
            no_thumbnail(&format!(
                "not a photo the notary can decode (JPEG or PNG): {e}"
            ))
        })?;
    state
        .store
        .custody(
            &row.proof_sm3,
            CustodyKind::Viewed,
            &caller.actor(),
            super::now_ms(),
            &format!("thumbnail of media {media_sm3} ({name})"),
        )
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("image/png")
        .insert_header(("cache-control", "private, no-store"))
        .body(png))
}

/// `GET /v1/cases`: the cases this token may read (an appraiser's grants; every case for a
/// court or the administrator).
async fn list_cases(
    req: HttpRequest,
    state: web::Data<Arc<AppState>>,
) -> Result<HttpResponse, HttpError> {
    let caller = authenticate(&req, &state, &[Role::Appraiser, Role::Court, Role::Admin]).await?;
    let cases = if caller.role == Role::Appraiser {
        state.store.granted_cases(&caller.token_id).await?
    } else {
        state.store.cases().await?
    };
    Ok(HttpResponse::Ok().json(json!({
        "role": caller.role.name(),
        "subject": caller.subject,
        "cases": cases,
    })))
}

/// Query of `GET /v1/cases/items`.
#[derive(Debug, Deserialize)]
struct CaseQuery {
    reference: String,
}

/// `GET /v1/cases/items?reference=…`: the evidence items of one case, as listed in the
/// signed manifests (file name, kind, size, capture time, finding codes). An appraiser not
/// granted the case is refused.
async fn case_items(
    req: HttpRequest,
    state: web::Data<Arc<AppState>>,
    query: web::Query<CaseQuery>,
) -> Result<HttpResponse, HttpError> {
    let caller = authenticate(&req, &state, &[Role::Appraiser, Role::Court, Role::Admin]).await?;
    caller
        .may_read_case(&state, &query.reference, "reference", "that case")
        .await?;
    let mut proofs = Vec::new();
    for row in state.store.proofs_of_case(&query.reference).await? {
        let proof: Value = serde_json::from_str(&row.proof_json).map_err(HttpError::internal)?;
        let manifest = proof.get("manifest").cloned().unwrap_or(Value::Null);
        let items: Vec<Value> = manifest
            .get("items")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
            .map(|(i, it)| {
                json!({
                    "item": i,
                    "file_name": it.get("file_name"),
                    "kind": it.get("kind"),
                    "mime": it.get("mime"),
                    "bytes": it.get("bytes"),
                    "device_time": it.pointer("/times/device_time"),
                    "findings": it.get("findings").and_then(Value::as_array).map(|f| {
                        f.iter().filter_map(|x| x.get("code")).cloned().collect::<Vec<_>>()
                    }),
                })
            })
            .collect();
        proofs.push(json!({
            "proof_sm3": row.proof_sm3,
            "device_seq": manifest.get("device_seq"),
            "created_at": manifest.get("created_at"),
            "session_summary": manifest.get("session_summary").is_some_and(|s| !s.is_null()),
            "items": items,
        }));
    }
    if proofs.is_empty() && caller.role != Role::Appraiser {
        return Err(HttpError::new(
            StatusCode::NOT_FOUND,
            "unknown_case",
            "no evidence of that case is stored here",
            Some("reference"),
        ));
    }
    Ok(HttpResponse::Ok().json(json!({"reference": query.reference, "proofs": proofs})))
}
