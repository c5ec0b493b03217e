//! Operator and public endpoints: health, readiness, metrics, the OpenAPI description and the
//! notary's public key.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde_json::json;

use super::{AppState, IntoResponse as _};
use crate::error::HttpError;

/// `GET /healthz`: the process answers.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// `GET /readyz`: the database answers (503 if not). While proofs wait longer than
/// `anchoring_stall_ms` for a complete bundle, `degraded` with the cause: receipts go on (a
/// receipt is a promise kept in the database), so intake stays routed here.
pub async fn readyz(state: web::Data<Arc<AppState>>) -> HttpResponse {
    match state.store.ping().await {
        Ok(()) => {
            let anchoring = state.liveness.health(
                super::now_ms(),
                state.config.ledger.anchoring_stall_ms,
                state.metrics.last_anchor_ms(),
            );
            let status = if anchoring.status == "ok" {
                "ready"
            } else {
                "degraded"
            };
            HttpResponse::Ok().json(json!({"status": status, "anchoring": anchoring}))
        }
        Err(e) => HttpError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            format!("database unavailable: {e}"),
            None,
        )
        .into_response(),
    }
}

/// `GET /metrics`: Prometheus text, for a `metrics` (or admin) token; without a token on the
/// separate metrics listener (`metrics_listen`), when one is configured.
pub async fn metrics(
    req: actix_web::HttpRequest,
    state: web::Data<Arc<AppState>>,
) -> Result<HttpResponse, HttpError> {
    super::authenticate(&req, &state, &[super::Role::Metrics, super::Role::Admin]).await?;
    Ok(metrics_text(&state).await)
}

/// The metrics in Prometheus' text format (`/metrics`, or the separate metrics listener).
pub async fn metrics_text(state: &AppState) -> HttpResponse {
    let stored = state.store.unanchored_count().await.unwrap_or(-1);
    let anchoring = state.liveness.health(
        super::now_ms(),
        state.config.ledger.anchoring_stall_ms,
        state.metrics.last_anchor_ms(),
    );
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render(stored, &anchoring))
}

/// `GET /openapi.json`.
pub async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(crate::openapi::OPENAPI_JSON)
}

/// `GET /v1/notary`: the notary's public key.
pub async fn notary_key(state: web::Data<Arc<AppState>>) -> HttpResponse {
    let pk = state.key.public_key();
    HttpResponse::Ok().json(json!({"public_key": pk.to_hex(), "key_id": pk.key_id(), "sm2_id": tiezheng_protocol::DEFAULT_SM2_ID}))
}
