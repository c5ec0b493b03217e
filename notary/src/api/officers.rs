//! Officers' own keys: an officer enrols the key created on the device (or on the officer's
//! own phone) through an enrolled device, with a one-time code the administrator issued for
//! that officer and proof of possession of the key, and is answered with the notary's signed
//! credential (`tiezheng.officer-certificate.v1`); the administrator revokes a key.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;
use tiezheng_protocol::officer::{
    OFFICER_CERTIFICATE_TYPE, OFFICER_ENROLMENT_TYPE, OfficerCertificate, OfficerEnrolmentRequest,
    SignedOfficerCertificate,
};
use tiezheng_protocol::signed::SignedError;
use tiezheng_protocol::sm2::Sm2Error;
use tiezheng_protocol::{Hash32, Timestamp, canonical};

use super::{
    AppState, Role, authenticate, canonical_error, now_ms, parse_value, path_param, read_body,
    token_sm3,
};
use crate::error::HttpError;
use crate::store::OfficerRow;

/// `POST /v1/officers` (device): binds an officer's key to the officer the code was issued for.
pub(super) async fn enrol_officer(
    http: HttpRequest,
    state: web::Data<Arc<AppState>>,
    payload: web::Payload,
) -> Result<HttpResponse, HttpError> {
    let caller = authenticate(&http, &state, &[Role::Device]).await?;
    let body = read_body(payload, 64 * 1024, &state.config).await?;
    let value = canonical::parse_strict(&body).map_err(canonical_error)?;
    let _shape: OfficerEnrolmentRequest = parse_value(&value)?;
    let (req, key) = OfficerEnrolmentRequest::verify(&value).map_err(|e| match e {
        SignedError::Sm2(Sm2Error::BadSignature) => HttpError::unprocessable(
            "bad_signature",
            "the officer's enrolment request does not verify with the key it carries",
            Some("/signature/value"),
        ),
        other => HttpError::unprocessable(
            "invalid_request",
            format!("officer enrolment request: {other}"),
            None,
        ),
    })?;
    if req.request.kind != OFFICER_ENROLMENT_TYPE {
        return Err(HttpError::unprocessable(
            "invalid_request",
            "request.type must be tiezheng.officer-enrolment.v1",
            Some("/request/type"),
        ));
    }
    req.request
        .officer
        .check()
        .map_err(|m| HttpError::unprocessable("invalid_officer", m, Some("/request/officer")))?;
    let key_id = key.key_id().to_hex();
    if key_id == caller.subject || state.store.device(&key_id).await?.is_some() {
        return Err(HttpError::unprocessable(
            "invalid_request",
            "an officer's key must be the officer's own, not a device's key",
            Some("/signature/public_key"),
        ));
    }
    if state.store.officer(&key_id).await?.is_some() {
        return Err(HttpError::new(
            StatusCode::CONFLICT,
            "already_enrolled",
            "this officer key is already enrolled",
            Some("/signature/public_key"),
        ));
    }
    let now = now_ms();
    let device_key_id = Hash32::from_hex(&caller.subject).map_err(HttpError::internal)?;
    let certificate = SignedOfficerCertificate::sign(
        OfficerCertificate {
            kind: OFFICER_CERTIFICATE_TYPE.to_owned(),
            officer: req.request.officer.clone(),
            public_key: key.to_hex(),
            key_id: key.key_id(),
            device_key_id,
            issued_at: Timestamp::from_unix_ms(now, 0),
            notary_key_id: state.key.public_key().key_id(),
        },
        &state.key,
    )
    .map_err(HttpError::internal)?;
    let row = OfficerRow {
        key_id,
        officer_id: req.request.officer.officer_id.clone(),
        public_key: key.to_hex(),
        device_key_id: caller.subject.clone(),
        certificate: serde_json::to_string(&certificate).map_err(HttpError::internal)?,
        revoked_at: None,
    };
    if !state
        .store
        .enrol_officer(&token_sm3(&req.request.code), now, &row)
        .await?
    {
        return Err(HttpError::new(
            StatusCode::FORBIDDEN,
            "invalid_code",
            "the enrolment code is unknown, used, expired or issued for another officer; ask the administrator for a new one",
            Some("/request/code"),
        ));
    }
    Ok(HttpResponse::Created().json(certificate))
}

/// `POST /v1/officers/{key_id}/revoke` (admin): the key's later signatures are refused.
pub(super) async fn revoke_officer(
    req: HttpRequest,
    state: web::Data<Arc<AppState>>,
) -> Result<HttpResponse, HttpError> {
    authenticate(&req, &state, &[Role::Admin]).await?;
    let key_id = path_param(&req, "key_id");
    if state.store.revoke_officer(key_id, now_ms()).await? {
        Ok(HttpResponse::Ok().json(json!({"revoked": key_id})))
    } else {
        Err(HttpError::new(
            StatusCode::NOT_FOUND,
            "unknown_officer",
            "no enrolled, unrevoked officer key has that key ID",
            Some("key_id"),
        ))
    }
}
