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

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::{AppState, Role, authenticate};
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
            bytes: include_bytes!(concat!("../../portal/www/", $name)),
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
    cfg.route("/verify", web::get().to(|| async { serve("verify.html") }))
        .route(
            "/appraiser",
            web::get().to(|| async { serve("appraiser.html") }),
        )
        .route("/court", web::get().to(|| async { serve("court.html") }))
        .route(
            "/portal/{file:.*}",
            web::get().to(|p: web::Path<String>| async move { serve(&p) }),
        )
        .route("/v1/cases", web::get().to(list_cases))
        .route("/v1/cases/items", web::get().to(case_items));
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
    if caller.role == Role::Appraiser
        && !state
            .store
            .granted(&caller.token_id, &query.reference)
            .await?
    {
        return Err(HttpError::new(
            StatusCode::FORBIDDEN,
            "not_granted",
            "this appraiser token is not granted that case; ask the notary's administrator for a grant",
            Some("reference"),
        ));
    }
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
