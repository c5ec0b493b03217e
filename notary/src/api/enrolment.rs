//! Device enrolment: one-time codes issued by the administrator, enrolment with proof of
//! possession of the device key (answered with an SM2-signed device certificate and a device
//! token), and device revocation.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;
use tiezheng_protocol::notary::{
    DEVICE_CERTIFICATE_TYPE, DeviceCertificate, ENROLMENT_REQUEST_TYPE, EnrolmentRequest,
    EnrolmentResponse, SignedDeviceCertificate,
};
use tiezheng_protocol::signed::SignedError;
use tiezheng_protocol::sm2::Sm2Error;
use tiezheng_protocol::{Timestamp, canonical};

use super::{
    AppState, Role, authenticate, canonical_error, new_token, now_ms, parse_json, parse_value,
    path_param, read_body, token_sm3,
};
use crate::error::HttpError;
use crate::store::DeviceRow;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeRequest {
    officer_id: String,
}

/// `POST /v1/enrolment-codes` (admin): a one-time code for an officer's device.
pub async fn create_enrolment_code(
    req: HttpRequest,
    state: web::Data<Arc<AppState>>,
    payload: web::Payload,
) -> Result<HttpResponse, HttpError> {
    authenticate(&req, &state, &[Role::Admin]).await?;
    let r: CodeRequest = parse_json(&read_body(payload, 64 * 1024, &state.config).await?)?;
    if r.officer_id.trim().is_empty() || r.officer_id.chars().count() > 64 {
        return Err(HttpError::unprocessable(
            "invalid_officer",
            "officer_id must be 1 to 64 characters",
            Some("/officer_id"),
        ));
    }
    let mut raw = [0u8; 10];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut raw).ok();
    let code = hex::encode_upper(raw)
        .as_bytes()
        .chunks(5)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-");
    let now = now_ms();
    let expires = now + state.config.limits.enrolment_code_ttl_seconds * 1000;
    state
        .store
        .insert_enrolment_code(&token_sm3(&code), &r.officer_id, now, expires)
        .await?;
    Ok(HttpResponse::Created().json(json!({"code": code, "officer_id": r.officer_id, "expires_at": Timestamp::from_unix_ms(expires, 0)})))
}

/// `POST /v1/devices/{key_id}/revoke` (admin).
pub async fn revoke_device(
    req: HttpRequest,
    state: web::Data<Arc<AppState>>,
) -> Result<HttpResponse, HttpError> {
    authenticate(&req, &state, &[Role::Admin]).await?;
    let key_id = path_param(&req, "key_id");
    if state.store.revoke_device(key_id, now_ms()).await? {
        Ok(HttpResponse::Ok().json(json!({"revoked": key_id})))
    } else {
        Err(HttpError::new(
            StatusCode::NOT_FOUND,
            "unknown_device",
            "no enrolled, unrevoked device has that key ID",
            Some("key_id"),
        ))
    }
}

/// `POST /v1/enrol`: a device with a one-time code and proof of possession of its key.
pub async fn enrol(
    http: HttpRequest,
    state: web::Data<Arc<AppState>>,
    payload: web::Payload,
) -> Result<HttpResponse, HttpError> {
    // Guessing codes is throttled per client address, before anything else is done.
    let client = http
        .peer_addr()
        .map_or_else(String::new, |a| a.ip().to_string());
    let throttled =
        |wait| HttpError::too_many("too many failed enrolment attempts from this address", wait);
    state
        .throttle
        .enrol_failures
        .check(&client)
        .map_err(throttled)?;
    let failed = |e: HttpError| {
        // A refused code costs one attempt; the next refusal may already be throttled.
        let _ = state.throttle.enrol_failures.take(&client, 1.0);
        e
    };
    // Anonymous: the whole body within one body timeout, however it trickles in.
    let within = std::time::Duration::from_millis(state.config.limits.body_timeout_ms);
    let body = tokio::time::timeout(within, read_body(payload, 64 * 1024, &state.config))
        .await
        .map_err(|_| {
            HttpError::new(
                StatusCode::REQUEST_TIMEOUT,
                "body_timeout",
                format!(
                    "the enrolment request did not arrive within {} ms",
                    state.config.limits.body_timeout_ms
                ),
                None,
            )
        })??;
    let value = canonical::parse_strict(&body).map_err(canonical_error)?;
    let _shape: EnrolmentRequest = parse_value(&value)?;
    let (req, key) = EnrolmentRequest::verify(&value).map_err(|e| match e {
        SignedError::Sm2(Sm2Error::BadSignature) => HttpError::unprocessable(
            "bad_signature",
            "the enrolment request's signature does not verify with the key it carries",
            Some("/signature/value"),
        ),
        other => HttpError::unprocessable(
            "invalid_request",
            format!("enrolment request: {other}"),
            None,
        ),
    })?;
    if req.request.kind != ENROLMENT_REQUEST_TYPE {
        return Err(HttpError::unprocessable(
            "invalid_request",
            "request.type must be tiezheng.enrolment-request.v1",
            Some("/request/type"),
        ));
    }
    let now = now_ms();
    let code_sm3 = token_sm3(&req.request.code);
    let officer = state
        .store
        .enrolment_code_officer(&code_sm3, now)
        .await?
        .ok_or_else(|| {
            failed(HttpError::new(
                StatusCode::FORBIDDEN,
                "invalid_code",
                "the enrolment code is unknown, already used or expired; ask the administrator for a new one",
                Some("/request/code"),
            ))
        })?;
    if state.store.device(&key.key_id().to_hex()).await?.is_some() {
        return Err(HttpError::new(
            StatusCode::CONFLICT,
            "already_enrolled",
            "this device key is already enrolled",
            Some("/signature/public_key"),
        ));
    }
    let enrolment_id = format!("enr-{}", &key.key_id().to_hex()[..16]);
    let certificate = SignedDeviceCertificate::sign(
        DeviceCertificate {
            kind: DEVICE_CERTIFICATE_TYPE.to_owned(),
            enrolment_id: enrolment_id.clone(),
            officer_id: officer.clone(),
            device_id: req.request.device_id.clone(),
            public_key: key.to_hex(),
            device_key_id: key.key_id(),
            issued_at: Timestamp::from_unix_ms(now, 0),
            notary_key_id: state.key.public_key().key_id(),
        },
        &state.key,
    )
    .map_err(HttpError::internal)?;
    let cert_json = serde_json::to_string(&certificate).map_err(HttpError::internal)?;
    let (token, token_row) = new_token(
        Role::Device,
        &key.key_id().to_hex(),
        now + state.config.limits.device_token_ttl_seconds * 1000,
    );
    let device = DeviceRow {
        key_id: key.key_id().to_hex(),
        public_key: key.to_hex(),
        enrolment_id,
        officer_id: officer,
        revoked_at: None,
    };
    if !state
        .store
        .enrol(
            &code_sm3,
            now,
            &device,
            &req.request.device_id,
            &req.request.model,
            &req.request.os,
            &cert_json,
            &token_row,
        )
        .await?
    {
        return Err(failed(HttpError::new(
            StatusCode::FORBIDDEN,
            "invalid_code",
            "the enrolment code was used concurrently; ask for a new one",
            Some("/request/code"),
        )));
    }
    Ok(HttpResponse::Created().json(EnrolmentResponse {
        certificate,
        notary_public_key: state.key.public_key().to_hex(),
        api_token: token,
    }))
}
