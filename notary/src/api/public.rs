//! The public check: `GET /v1/public/certificates/{number}`, no token. For an issued
//! certificate it answers its public digest (`tiezheng.public-digest.v1`: hashes, anchor,
//! issuer and ledger layers, no personal data), signed by this notary, which the `/check` page
//! verifies in the browser against the consortium policy while it hashes the file the visitor
//! holds (the file never leaves the browser).
//!
//! It is built for strangers: a budget of checks per client address (`PUBLIC_CHECKS_PER_MINUTE`,
//! 429 with `Retry-After` over it), a number that is not of the certificate form refused
//! before any lookup, and every answer (found or not) given no earlier than
//! [`ANSWER_FLOOR`] after the request arrived, so that the time of an answer does not tell a
//! known number from an unknown one. Numbers carry 64 random-looking bits and nothing lists
//! them. A public check reads no evidence and is not a custody event.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use tiezheng_protocol::certificate::SignedCertificate;
use tiezheng_protocol::digest::{PublicDigest, SignedPublicDigest};

use super::AppState;
use crate::error::HttpError;

/// The earliest any answer of the public check leaves, counted from the request's arrival:
/// well above the time a lookup and a signature take, so known and unknown numbers answer
/// alike.
pub(super) const ANSWER_FLOOR: Duration = Duration::from_millis(150);

/// Whether `number` has the certificate number's form, `TZ-<8 digits>-<16 upper-case hex>`.
fn is_number(number: &str) -> bool {
    let b = number.as_bytes();
    b.len() == 28
        && b.starts_with(b"TZ-")
        && b.get(3..11)
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
        && b.get(11) == Some(&b'-')
        && b.get(12..).is_some_and(|h| {
            h.iter()
                .all(|c| c.is_ascii_digit() || (b'A'..=b'F').contains(c))
        })
}

/// `GET /v1/public/certificates/{number}`: the signed public digest of the certificate
/// `number`, or 404 `not_deposited`.
pub(super) async fn public_digest(
    req: HttpRequest,
    state: web::Data<Arc<AppState>>,
    path: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    let arrived = Instant::now();
    let client = req
        .peer_addr()
        .map_or_else(String::new, |a| a.ip().to_string());
    state
        .throttle
        .public_checks
        .take(&client, 1.0)
        .map_err(|wait| HttpError::too_many("too many public checks from this address", wait))?;
    let answer = lookup(&state, &path).await;
    if let Some(rest) = ANSWER_FLOOR.checked_sub(arrived.elapsed()) {
        tokio::time::sleep(rest).await;
    }
    state.metrics.public_check(match &answer {
        Ok(_) => "found",
        Err(e) if e.status == StatusCode::NOT_FOUND => "not_deposited",
        Err(_) => "refused",
    });
    let bytes = answer?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header(("cache-control", "no-store"))
        .body(bytes))
}

async fn lookup(state: &AppState, number: &str) -> Result<Vec<u8>, HttpError> {
    if !is_number(number) {
        return Err(HttpError::new(
            StatusCode::BAD_REQUEST,
            "invalid_certificate_number",
            "a certificate number is TZ-, 8 digits, - and 16 upper-case hex digits, as printed on the certificate (e.g. TZ-20261121-3F9AC2B177D0E41A)",
            Some("number"),
        ));
    }
    let stored = state.store.certificate(number).await?.ok_or_else(|| {
        HttpError::new(
            StatusCode::NOT_FOUND,
            "not_deposited",
            "no certificate with this number was issued here (未存证): check the number against the certificate",
            Some("number"),
        )
    })?;
    let cert: SignedCertificate =
        serde_json::from_str(&stored.certificate_json).map_err(HttpError::internal)?;
    let digest = PublicDigest::of(&cert).map_err(HttpError::internal)?;
    SignedPublicDigest::sign(digest, &state.key)
        .map_err(HttpError::internal)?
        .to_bytes()
        .map_err(HttpError::internal)
}

#[cfg(test)]
mod tests {
    use super::is_number;

    #[test]
    fn only_the_certificate_form_is_a_number() {
        assert!(is_number("TZ-20261121-3F9AC2B177D0E41A"));
        for bad in [
            "",
            "TZ-20261121-3F9AC2B177D0E41",
            "TZ-20261121-3f9ac2b177d0e41a",
            "TZ-2026112A-3F9AC2B177D0E41A",
            "XX-20261121-3F9AC2B177D0E41A",
            "TZ-20261121_3F9AC2B177D0E41A",
            "TZ-20261121-3F9AC2B177D0E41G",
            "TZ-20261121-3F9AC2B177D0E41A/",
            "TZ-20261121-３F9AC2B177D0E41",
        ] {
            assert!(!is_number(bad), "{bad:?}");
        }
    }
}
