//! Request bodies and parameters: reading a body with a size limit and a stall timeout, strict
//! JSON into typed requests (the failing member named as a JSON pointer), path parameters, and
//! the error each malformed input gets.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};
use futures_util::StreamExt as _;
use tiezheng_protocol::canonical;

use crate::config::NotaryConfig;
use crate::error::HttpError;

/// Reads a request body up to `limit` bytes. A body that stops arriving for longer than
/// `body_timeout_ms` is cut off (408), so a stalled client holds nothing for long.
pub(super) async fn read_body(
    mut payload: web::Payload,
    limit: usize,
    config: &NotaryConfig,
) -> Result<web::BytesMut, HttpError> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = next_chunk(&mut payload, config).await? {
        if body.len() + chunk.len() > limit {
            return Err(HttpError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!("request body exceeds {limit} bytes; send fewer proofs per request"),
                None,
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The next piece of a request body, waiting at most `body_timeout_ms` for it.
pub(super) async fn next_chunk(
    payload: &mut web::Payload,
    config: &NotaryConfig,
) -> Result<Option<web::Bytes>, HttpError> {
    let wait = std::time::Duration::from_millis(config.limits.body_timeout_ms);
    match tokio::time::timeout(wait, payload.next()).await {
        Err(_) => Err(HttpError::new(
            StatusCode::REQUEST_TIMEOUT,
            "body_timeout",
            format!(
                "the request body stopped arriving for {} ms; send it again (uploads resume from the acknowledged offset)",
                config.limits.body_timeout_ms
            ),
            None,
        )),
        Ok(None) => Ok(None),
        Ok(Some(Err(e))) => Err(HttpError::bad_request(
            "bad_body",
            format!("the request body could not be read: {e}"),
            None,
        )),
        Ok(Some(Ok(chunk))) => Ok(Some(chunk)),
    }
}

/// Parses a JSON request body (strict: no duplicate members, no floats) into `T`; a member
/// that is unknown, missing or of the wrong type is named in `field` as a JSON pointer.
pub(super) fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, HttpError> {
    parse_value(&canonical::parse_strict(body).map_err(canonical_error)?)
}

/// As [`parse_json`], from a parsed value.
pub(super) fn parse_value<T: serde::de::DeserializeOwned>(
    value: &serde_json::Value,
) -> Result<T, HttpError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let pointer = tiezheng_protocol::manifest::pointer_of(e.path(), &e.inner().to_string());
        HttpError::unprocessable(
            "invalid_request",
            format!("request does not match the expected shape: {}", e.inner()),
            Some(&pointer),
        )
    })
}

/// A path parameter, read after the caller is authenticated (never before).
pub(super) fn path_param<'a>(req: &'a HttpRequest, name: &str) -> &'a str {
    req.match_info().get(name).unwrap_or_default()
}

pub(super) fn canonical_error(e: canonical::CanonicalError) -> HttpError {
    use canonical::CanonicalError as C;
    match e {
        C::Syntax {
            line,
            column,
            message,
        } => HttpError::bad_request(
            "malformed_json",
            format!("body is not valid JSON at line {line}, column {column}: {message}"),
            None,
        ),
        C::DuplicateKey { key } => HttpError::bad_request(
            "duplicate_key",
            format!("member {key:?} appears twice in one object"),
            Some(&key),
        ),
        C::Float { path } => HttpError::unprocessable(
            "float_not_allowed",
            "floating-point numbers are not allowed in signed documents; write decimals as strings",
            Some(&path),
        ),
        C::IntegerOutOfRange { path } => HttpError::unprocessable(
            "integer_out_of_range",
            "integers must be within ±(2^53 - 1)",
            Some(&path),
        ),
        C::NotCanonical => HttpError::unprocessable(
            "not_canonical",
            "the body must be RFC 8785 canonical JSON (sorted members, no whitespace), exactly as `tiezheng capture` prints it",
            None,
        ),
        other => HttpError::unprocessable("invalid_json", other.to_string(), None),
    }
}
