//! The ledger's public description: the keys and policy this notary's ledger uses.

use std::sync::Arc;

use actix_web::{HttpResponse, web};

use super::AppState;

/// `GET /v1/ledger/policy`: the keys this notary's ledger uses (courts pin their own copy).
pub async fn ledger_policy(state: web::Data<Arc<AppState>>) -> HttpResponse {
    HttpResponse::Ok().json(state.anchoring.policy())
}
