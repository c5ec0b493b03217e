//! The ledger's public description: the genesis policy a court pins to verify this notary's
//! bundles and certificates.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

use super::{AppState, IntoResponse as _};
use crate::error::HttpError;

/// `GET /v1/ledger/policy`: the ledger's genesis policy, the one every bundle of this ledger
/// verifies with (each bundle carries the registry changes since). Courts pin their own copy,
/// obtained from the consortium, and compare.
pub async fn ledger_policy(state: web::Data<Arc<AppState>>) -> HttpResponse {
    match state.anchoring.genesis_policy().await {
        Ok(p) => HttpResponse::Ok().json(p),
        Err(e) => HttpError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "ledger_unavailable",
            format!("the ledger's genesis policy cannot be read yet: {e}"),
            None,
        )
        .into_response(),
    }
}
