//! Role tokens for appraisers, courts and administrators: issued and revoked by the
//! administrator (device tokens are issued at enrolment).

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;
use tiezheng_protocol::Timestamp;

use super::{AppState, Role, authenticate, new_token, now_ms, parse_json, path_param, read_body};
use crate::error::HttpError;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenRequest {
    role: String,
    subject: String,
    ttl_seconds: Option<i64>,
    #[serde(default)]
    cases: Vec<String>,
}

/// `POST /v1/tokens` (admin): an appraiser, court, admin or metrics token; appraisers are granted
/// `cases`.
pub async fn create_token(
    req: HttpRequest,
    state: web::Data<Arc<AppState>>,
    payload: web::Payload,
) -> Result<HttpResponse, HttpError> {
    authenticate(&req, &state, &[Role::Admin]).await?;
    let r: TokenRequest = parse_json(&read_body(payload, 64 * 1024, &state.config).await?)?;
    let role = match Role::parse(&r.role) {
        Some(Role::Device) => {
            return Err(HttpError::unprocessable(
                "invalid_role",
                "device tokens are issued at enrolment",
                Some("/role"),
            ));
        }
        Some(role) => role,
        None => {
            return Err(HttpError::unprocessable(
                "invalid_role",
                "role must be appraiser, court, admin or metrics",
                Some("/role"),
            ));
        }
    };
    let ttl = r.ttl_seconds.unwrap_or(90 * 24 * 3600);
    if !(1..=10 * 365 * 24 * 3600).contains(&ttl) {
        return Err(HttpError::unprocessable(
            "invalid_ttl",
            "ttl_seconds must be between 1 second and 10 years",
            Some("/ttl_seconds"),
        ));
    }
    if !(1..=256).contains(&r.subject.chars().count()) {
        return Err(HttpError::unprocessable(
            "invalid_subject",
            "subject (who holds the token) must be 1 to 256 characters",
            Some("/subject"),
        ));
    }
    let max = tiezheng_protocol::manifest::limits::CASE_REFERENCE_MAX_CHARS;
    if let Some(i) = r
        .cases
        .iter()
        .position(|c| !(1..=max).contains(&(c.chars().count() as u64)))
    {
        return Err(HttpError::unprocessable(
            "invalid_case",
            format!("case references are 1 to {max} characters, as in manifests"),
            Some(&format!("/cases/{i}")),
        ));
    }
    // A case granted twice is granted once.
    let mut cases = r.cases;
    cases.sort_unstable();
    cases.dedup();
    let expires = now_ms() + ttl * 1000;
    let (token, row) = new_token(role, &r.subject, expires);
    state.store.insert_token(&row, &cases, now_ms()).await?;
    Ok(HttpResponse::Created().json(json!({"token": token, "token_id": row.token_id, "role": role.name(), "expires_at": Timestamp::from_unix_ms(expires, 0)})))
}

/// Which tokens `GET /v1/tokens` lists.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    /// Revoked and expired tokens too.
    #[serde(default)]
    all: bool,
}

/// `GET /v1/tokens` (admin): every active token (`?all=true`: revoked and expired ones too),
/// newest first, with its ID, role, subject, times and the cases it is granted; never a secret.
pub async fn list_tokens(
    req: HttpRequest,
    state: web::Data<Arc<AppState>>,
) -> Result<HttpResponse, HttpError> {
    authenticate(&req, &state, &[Role::Admin]).await?;
    let q = web::Query::<ListQuery>::from_query(req.query_string()).map_err(|e| {
        HttpError::unprocessable(
            "invalid_query",
            format!("the query must be empty or `all=true`: {e}"),
            Some("all"),
        )
    })?;
    let rows = state.store.list_tokens(q.all, now_ms()).await?;
    let mut tokens = Vec::with_capacity(rows.len());
    for t in rows {
        let cases = if t.role == Role::Appraiser.name() {
            state.store.granted_cases(&t.token_id).await?
        } else {
            Vec::new()
        };
        let ms = |v: i64| Timestamp::from_unix_ms(v, 0);
        tokens.push(json!({
            "token_id": t.token_id,
            "role": t.role,
            "subject": t.subject,
            "created_at": ms(t.created_at),
            // The bootstrap token never expires.
            "expires_at": (t.expires_at < i64::MAX / 2).then(|| ms(t.expires_at)),
            "revoked_at": t.revoked_at.map(ms),
            "cases": cases,
        }));
    }
    Ok(HttpResponse::Ok().json(json!({ "tokens": tokens })))
}

/// `DELETE /v1/tokens/{token_id}` (admin).
pub async fn revoke_token(
    req: HttpRequest,
    state: web::Data<Arc<AppState>>,
) -> Result<HttpResponse, HttpError> {
    authenticate(&req, &state, &[Role::Admin]).await?;
    let token_id = path_param(&req, "token_id");
    if state.store.revoke_token(token_id, now_ms()).await? {
        Ok(HttpResponse::Ok().json(json!({"revoked": token_id})))
    } else {
        Err(HttpError::new(
            StatusCode::NOT_FOUND,
            "unknown_token",
            "no active token has that ID",
            Some("token_id"),
        ))
    }
}
