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
    /// Seconds after which to retry, sent as `Retry-After` (409 not yet anchored, say).
    pub retry_after: Option<u64>,
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
            retry_after: None,
        }
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
        let mut r = HttpResponse::build(self.status);
        if let Some(s) = self.retry_after {
            r.insert_header(("retry-after", s.to_string()));
        }
        r.json(&self.body)
    }
}

impl From<crate::store::StoreError> for HttpError {
    fn from(e: crate::store::StoreError) -> Self {
        Self::internal(e)
    }
}
