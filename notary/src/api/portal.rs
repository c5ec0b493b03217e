//! The online verification and appraisal portal: the pages and the WebAssembly verifier the
//! notary serves, and the read endpoints the appraiser workspace needs.
//!
//! * `GET /verify` (public): drop in a bundle or certificate and the media file; the file is
//!   hashed and every layer verified in the browser by the protocol crate compiled to
//!   WebAssembly (`portal/wasm`); nothing is uploaded.
//! * `GET /appraiser`: the appraiser workspace (token sign-in, granted cases, items, custody
//!   log checked in the browser, one-click verification).
//! * `GET /court`: certificate lookup by number for courts.
//! * `GET /check` (public): anyone checks a certificate number and a file (hashed in the
//!   browser, never sent) against the number's public digest (`GET
//!   /v1/public/certificates/{number}`): verified, not deposited, or mismatch.
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
    asset!("check.html", "text/html; charset=utf-8"),
    asset!("portal.css", "text/css; charset=utf-8"),
    asset!("portal.js", JS),
    asset!("verify.js", JS),
    asset!("appraiser.js", JS),
    asset!("court.js", JS),
    asset!("check.js", JS),
    asset!("keystore.js", JS),
    asset!("commission.js", JS),
    asset!("procedure.js", JS),
    asset!("workspace.js", JS),
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
        .service(web::resource("/check").get(|| async { serve("check.html") }))
        .service(
            web::resource("/portal/{file:.*}").get(|p: web::Path<String>| async move { serve(&p) }),
        )
        .service(web::resource("/v1/cases").get(list_cases))
        .service(web::resource("/v1/cases/items").get(case_items))
        .service(web::resource("/v1/proofs/{proof_sm3}/thumbnail/{item}").get(thumbnail));
}

/// Longest side of a thumbnail, in pixels.
pub const THUMBNAIL_PIXELS: u32 = 320;
/// Largest original read for a thumbnail, in bytes.
const THUMBNAIL_MAX_READ: u64 = 64 * 1024 * 1024;

/// The PNG thumbnail of the stored photo `media_sm3`: rendered once, within the decode budget,
/// and kept; a photo too large to decode (or not a photo) has none.
async fn thumbnail_of(
    state: &AppState,
    caller: &super::Caller,
    media_sm3: &str,
) -> Result<Vec<u8>, HttpError> {
    use tiezheng_certificate::thumbnail;
    let kind = crate::renditions::Kind::Thumbnail;
    let no_thumbnail =
        |msg: String| HttpError::new(StatusCode::NOT_FOUND, "no_thumbnail", msg, Some("item"));
    // An empty rendition records that the file has none (too large, or not a photo).
    let cached = state.renditions.cached_or_turn(kind, media_sm3).await;
    let _turn = match cached.map_err(HttpError::internal)? {
        Ok(png) if png.is_empty() => return Err(no_thumbnail(
            "the notary makes no thumbnail of this file (too large, or not a JPEG or PNG photo); open the original".into(),
        )),
        Ok(png) => return Ok(png),
        Err(turn) => turn,
    };
    state
        .throttle
        .per_token
        .take(&caller.token_id, super::certificates::RENDER_COST)
        .map_err(|wait| HttpError::too_many("this token is over its request rate", wait))?;
    let original = state
        .media
        .read_all(media_sm3, THUMBNAIL_MAX_READ)
        .await?
        .ok_or_else(|| no_thumbnail("the stored file is missing or larger than 64 MiB".into()))?;
    let rendered = match thumbnail::dimensions(&original) {
        Ok(size) if thumbnail::pixels(size) > thumbnail::MAX_DECODE_PIXELS => Err(format!(
            "the photo is {} × {} pixels, more than the {} megapixels decoded for a thumbnail; open the original",
            size.0,
            size.1,
            thumbnail::MAX_DECODE_PIXELS / 1_000_000
        )),
        Ok(size) => {
            let budget = state
                .renditions
                .decode_budget(thumbnail::pixels(size))
                .await;
            let png = web::block(move || {
                thumbnail::thumbnail(&original, THUMBNAIL_PIXELS, thumbnail::Encoding::Png)
            })
            .await
            .map_err(HttpError::internal)?;
            drop(budget);
            png.map_err(|e| format!("not a photo the notary can decode (JPEG or PNG): {e}"))
        }
        Err(e) => Err(format!(
            "not a photo the notary can decode (JPEG or PNG): {e}"
        )),
    };
    let keep: &[u8] = rendered.as_deref().unwrap_or_default();
    if let Err(e) = state.renditions.keep(kind, media_sm3, keep).await {
        tracing::warn!(media_sm3, error = %e, "thumbnail not kept; it will be rendered again");
    }
    rendered.map_err(no_thumbnail)
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
    let png = thumbnail_of(&state, &caller, &media_sm3).await?;
    state
        .store
        .custody_read(
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
                    "sm3": it.get("hashes").and_then(Value::as_array).and_then(|hs| {
                        hs.iter()
                            .find(|h| h.get("algorithm").and_then(Value::as_str) == Some("SM3"))
                            .and_then(|h| h.get("value"))
                    }),
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
