//! One error shape for every endpoint: `{"code", "message", "field"}` with a status code,
//! decided here and nowhere else.

use std::fmt;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use tiezheng_protocol::notary::ApiError;

/// An error answered to a client.
#[derive(Debug, Clone)]
pub struct HttpError {
    /// HTTP status.
    pub status: StatusCode,
    /// The JSON body.
    pub body: ApiError,
    /// Seconds the client should wait before trying again (`Retry-After`), for 429 and 503.
    pub retry_after_seconds: Option<u64>,
}

impl HttpError {
    /// An error with a status, a stable code and a message; `field` names the field at fault.
    pub fn new(
        status: StatusCode,
        code: &str,
        message: impl Into<String>,
        field: Option<&str>,
    ) -> Self {
        Self {
            status,
            body: ApiError {
                code: code.to_owned(),
                message: message.into(),
                field: field.map(str::to_owned),
            },
            retry_after_seconds: None,
        }
    }

    /// 429: the caller is over a rate limit and may try again after `wait`.
    pub fn too_many(message: impl Into<String>, wait: std::time::Duration) -> Self {
        let seconds = crate::throttle::retry_after_seconds(wait);
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("{}; retry after {seconds} s", message.into()),
            None,
        );
        e.retry_after_seconds = Some(seconds);
        e
    }

    /// 400.
    pub fn bad_request(code: &str, message: impl Into<String>, field: Option<&str>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message, field)
    }

    /// 422.
    pub fn unprocessable(code: &str, message: impl Into<String>, field: Option<&str>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message, field)
    }

    /// 500, logged with its cause; the client sees no internals.
    pub fn internal(cause: impl fmt::Display) -> Self {
        tracing::error!(%cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the notary failed to process the request; it was not stored; retry later",
            None,
        )
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.body.code,
            self.body.message
        )
    }
}

impl ResponseError for HttpError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status);
        if let Some(s) = self.retry_after_seconds {
            res.insert_header((actix_web::http::header::RETRY_AFTER, s.to_string()));
        }
        res.json(&self.body)
    }
}

impl From<crate::store::StoreError> for HttpError {
    fn from(e: crate::store::StoreError) -> Self {
        Self::from(&e)
    }
}

impl From<&crate::store::StoreError> for HttpError {
    fn from(e: &crate::store::StoreError) -> Self {
        use crate::store::StoreError;
        match e {
            // 503: the database is down or overloaded; the client tries again.
            StoreError::Database(_) if e.is_unavailable() => {
                tracing::warn!(cause = %e, "database unavailable");
                let mut err = Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "database_unavailable",
                    "the notary's database is unavailable; nothing was stored; keep the proofs queued and retry in a few seconds",
                    None,
                );
                err.retry_after_seconds = Some(5);
                err
            }
            // 503: nothing was stored for a reason that is not the database's (no random
            // salt, a receipt not signed, the batching lease taken over); trying again may
            // succeed.
            StoreError::LostLease { .. }
            | StoreError::LeavesNotAssigned { .. }
            | StoreError::Randomness
            | StoreError::Signing(_) => {
                tracing::error!(cause = %e, "nothing stored");
                let mut err = Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "notary_unavailable",
                    "the notary could not store the request just now; nothing was stored; keep the proofs queued and retry in a few seconds",
                    None,
                );
                err.retry_after_seconds = Some(5);
                err
            }
            // 500: a statement refused, or a schema that cannot be migrated.
            _ => Self::internal(e),
        }
    }
}

impl From<crate::media::MediaError> for HttpError {
    fn from(e: crate::media::MediaError) -> Self {
        if e.is_unavailable() {
            tracing::warn!(cause = %e, "media object store unavailable");
            let mut err = Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "media_store_unavailable",
                "the notary's media storage is unavailable; the bytes already acknowledged are kept; retry in a few seconds",
                None,
            );
            err.retry_after_seconds = Some(5);
            err
        } else if let crate::media::MediaError::Corrupt(sm3) = &e {
            tracing::error!(media_sm3 = %sm3, "the media storage holds a different object under this SM3");
            Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "media_store_conflict",
                "the notary's media storage already holds a different object under this SM3; it is never overwritten; your acknowledged bytes are kept and the operator has been alerted (`tiezheng audit`)",
                None,
            )
        } else {
            Self::internal(e)
        }
    }
}

/// Makes every error answer JSON in the one shape: answers from the HTTP layer itself (405
/// for a wrong method, 404, 413 or 400 from actix's readers) arrive here without a JSON body
/// and get `{code, message, field}` with the same status (and headers such as `Allow`).
pub fn json_errors<B: actix_web::body::MessageBody + 'static>(
    res: actix_web::dev::ServiceResponse<B>,
) -> actix_web::dev::ServiceResponse<actix_web::body::BoxBody> {
    use actix_web::http::header;
    let status = res.status();
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return res.map_into_boxed_body();
    }
    let cause = res.response().error().map(ToString::to_string);
    let (code, message) = match status {
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "this endpoint does not answer that method; the Allow header lists the ones it does (see /openapi.json)".to_owned(),
        ),
        StatusCode::NOT_FOUND => (
            "not_found",
            "no such endpoint; see /openapi.json".to_owned(),
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (
            "body_too_large",
            "the request body is larger than this endpoint accepts".to_owned(),
        ),
        StatusCode::REQUEST_TIMEOUT => (
            "request_timeout",
            "the request did not arrive in time; send it again".to_owned(),
        ),
        s if s.is_server_error() => (
            "internal",
            "the notary failed to process the request; it was not stored; retry later".to_owned(),
        ),
        _ => (
            "bad_request",
            match cause {
                Some(c) => format!("the request could not be read: {c}"),
                None => "the request could not be read".to_owned(),
            },
        ),
    };
    let mut json = HttpError::new(status, code, message, None).error_response();
    for name in [header::ALLOW, header::RETRY_AFTER] {
        if let Some(v) = res.headers().get(&name) {
            json.headers_mut().insert(name.clone(), v.clone());
        }
    }
    res.into_response(json)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreError;

    #[test]
    fn store_failures_keep_their_statuses() {
        let answer = |e: StoreError| {
            let e = HttpError::from(e);
            (e.status.as_u16(), e.body.code, e.retry_after_seconds)
        };
        let unavailable = |code: &str| (503, code.to_owned(), Some(5));
        assert_eq!(
            answer(StoreError::Database(sqlx::Error::PoolTimedOut)),
            unavailable("database_unavailable")
        );
        assert_eq!(
            answer(StoreError::Database(sqlx::Error::RowNotFound)),
            (500, "internal".to_owned(), None)
        );
        for e in [
            StoreError::LostLease { batch_seq: 7 },
            StoreError::LeavesNotAssigned {
                batch_seq: 7,
                assigned: 1,
                leaves: 2,
            },
            StoreError::Randomness,
            StoreError::Signing("no key".into()),
        ] {
            assert!(!e.is_unavailable(), "{e}");
            assert_eq!(answer(e), unavailable("notary_unavailable"));
        }
    }

    #[test]
    fn store_failures_say_what_failed() {
        assert_eq!(
            StoreError::LostLease { batch_seq: 7 }.to_string(),
            "batch 7 not stored: this instance no longer holds the batching lease"
        );
        assert_eq!(
            StoreError::Signing("no key".into()).to_string(),
            "signing a receipt: no key"
        );
        assert!(
            StoreError::Database(sqlx::Error::PoolTimedOut)
                .to_string()
                .starts_with("database: ")
        );
        // Anchoring passes the store's words on, as `/readyz` and the log show them.
        assert_eq!(
            crate::anchoring::AnchoringError::from(StoreError::LostLease { batch_seq: 7 })
                .to_string(),
            "batch 7 not stored: this instance no longer holds the batching lease"
        );
    }
}
