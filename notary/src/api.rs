//! The HTTP API. Every endpoint authenticates with a bearer token of the right role (except
//! enrolment, whose credential is the one-time code, and the health, metrics and OpenAPI
//! endpoints), and answers errors in the one [`HttpError`] shape.

use std::path::PathBuf;
use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt as _;
use serde::Deserialize;
use serde_json::{Value, json};
use tiezheng_protocol::manifest::ProofError;
use tiezheng_protocol::notary::{
    DEVICE_CERTIFICATE_TYPE, DeviceCertificate, ENROLMENT_REQUEST_TYPE, EnrolmentRequest,
    EnrolmentResponse, RECEIPT_TYPE, Receipt, SignedDeviceCertificate, SignedReceipt,
    SubmitResponse, SubmitResult,
};
use tiezheng_protocol::signed::SignedError;
use tiezheng_protocol::sm2::Sm2Error;
use tiezheng_protocol::{Hash32, Proof, Sm2SigningKey, Timestamp, canonical};
use tokio::io::AsyncWriteExt as _;

use crate::config::NotaryConfig;
use crate::error::HttpError;
use crate::media::MediaStore;
use crate::metrics::Metrics;
use crate::store::{DeviceRow, NewMedia, NewProof, NewToken, Store};

/// Roles a token can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// An officer's device: submits proofs and media.
    Device,
    /// A judicial appraiser: reads and verifies evidence of granted cases.
    Appraiser,
    /// A court: fetches evidence and certificates.
    Court,
    /// The notary's administrator.
    Admin,
}

impl Role {
    /// The role's name in tokens and the database.
    pub fn name(self) -> &'static str {
        match self {
            Self::Device => "device",
            Self::Appraiser => "appraiser",
            Self::Court => "court",
            Self::Admin => "admin",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "device" => Some(Self::Device),
            "appraiser" => Some(Self::Appraiser),
            "court" => Some(Self::Court),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }
}

/// Shared state of the service.
pub struct AppState {
    /// Batching and the ledger.
    pub anchoring: crate::anchoring::Anchoring,
    /// The database.
    pub store: Store,
    /// The notary's SM2 key.
    pub key: Sm2SigningKey,
    /// Settings.
    pub config: NotaryConfig,
    /// The media store.
    pub media: MediaStore,
    /// Counters.
    pub metrics: Metrics,
    /// One intake writer at a time: sequence, chain and custody checks are then race-free on
    /// every backend.
    pub intake: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The token's public ID.
    pub token_id: String,
    /// Its role.
    pub role: Role,
    /// Its subject (device key ID for devices).
    pub subject: String,
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    Timestamp::now_utc().unix_ms()
}

fn token_sm3(token: &str) -> String {
    Hash32::sm3(token.as_bytes()).to_hex()
}

/// A new random secret token for `role`.
pub fn new_token(role: Role, subject: &str, expires_at: i64) -> (String, NewToken) {
    let mut secret = [0u8; 24];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut secret).ok();
    let token = format!("tz{}_{}", &role.name()[..1], hex::encode(secret));
    let token_id = Hash32::sm3(token.as_bytes()).to_hex()[..16].to_owned();
    (
        token.clone(),
        NewToken {
            token_sm3: token_sm3(&token),
            token_id,
            role: role.name().to_owned(),
            subject: subject.to_owned(),
            expires_at,
        },
    )
}

/// Checks the bearer token and its role.
pub async fn authenticate(
    req: &HttpRequest,
    state: &AppState,
    allowed: &[Role],
) -> Result<Caller, HttpError> {
    let unauthorized = |msg: &str| {
        HttpError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            msg,
            Some("Authorization"),
        )
    };
    let header = req
        .headers()
        .get("authorization")
        .and_then(|h| h.to_str().ok())
        .ok_or_else(|| unauthorized("send `Authorization: Bearer <token>`"))?;
    let token = header
        .strip_prefix("Bearer ")
        .ok_or_else(|| unauthorized("the Authorization header must be `Bearer <token>`"))?;
    let row = state
        .store
        .token(&token_sm3(token.trim()))
        .await?
        .ok_or_else(|| unauthorized("unknown token"))?;
    if row.revoked_at.is_some() {
        return Err(unauthorized("this token has been revoked"));
    }
    if row.expires_at <= now_ms() {
        return Err(unauthorized(
            "this token has expired; ask the administrator for a new one",
        ));
    }
    let role = Role::parse(&row.role).ok_or_else(|| unauthorized("token has an unknown role"))?;
    if !allowed.contains(&role) {
        let names: Vec<&str> = allowed.iter().map(|r| r.name()).collect();
        return Err(HttpError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "this endpoint needs a token of role {}; yours is {}",
                names.join(" or "),
                role.name()
            ),
            Some("Authorization"),
        ));
    }
    Ok(Caller {
        token_id: row.token_id,
        role,
        subject: row.subject,
    })
}

/// Reads a request body up to `limit` bytes.
async fn read_body(mut payload: web::Payload, limit: usize) -> Result<web::BytesMut, HttpError> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            HttpError::bad_request(
                "bad_body",
                format!("the request body could not be read: {e}"),
                None,
            )
        })?;
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

fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, HttpError> {
    let value = canonical::parse_strict(body).map_err(canonical_error)?;
    serde_json::from_value(value).map_err(|e| {
        HttpError::unprocessable(
            "invalid_request",
            format!("request does not match the expected shape: {e}"),
            None,
        )
    })
}

fn canonical_error(e: canonical::CanonicalError) -> HttpError {
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

// --- public endpoints ------------------------------------------------------------------------

/// `GET /healthz`: the process answers.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// `GET /readyz`: the database answers.
pub async fn readyz(state: web::Data<Arc<AppState>>) -> HttpResponse {
    match state.store.ping().await {
        Ok(()) => HttpResponse::Ok().json(json!({"status": "ready"})),
        Err(e) => HttpError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            format!("database unavailable: {e}"),
            None,
        )
        .into_response(),
    }
}

/// `GET /metrics`: Prometheus text.
pub async fn metrics(state: web::Data<Arc<AppState>>) -> HttpResponse {
    let stored = state.store.unanchored_count().await.unwrap_or(-1);
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render(stored))
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

trait IntoResponse {
    fn into_response(self) -> HttpResponse;
}

impl IntoResponse for HttpError {
    fn into_response(self) -> HttpResponse {
        actix_web::ResponseError::error_response(&self)
    }
}

// --- administration --------------------------------------------------------------------------

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
    let r: CodeRequest = parse_json(&read_body(payload, 64 * 1024).await?)?;
    if r.officer_id.trim().is_empty() || r.officer_id.len() > 64 {
        return Err(HttpError::unprocessable(
            "invalid_officer",
            "officer_id must be 1 to 64 characters",
            Some("officer_id"),
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
    let expires = now + state.config.enrolment_code_ttl_seconds * 1000;
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
    path: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    authenticate(&req, &state, &[Role::Admin]).await?;
    if state.store.revoke_device(&path, now_ms()).await? {
        Ok(HttpResponse::Ok().json(json!({"revoked": path.into_inner()})))
    } else {
        Err(HttpError::new(
            StatusCode::NOT_FOUND,
            "unknown_device",
            "no enrolled, unrevoked device has that key ID",
            Some("key_id"),
        ))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenRequest {
    role: String,
    subject: String,
    ttl_seconds: Option<i64>,
    #[serde(default)]
    cases: Vec<String>,
}

/// `POST /v1/tokens` (admin): an appraiser, court or admin token; appraisers are granted
/// `cases`.
pub async fn create_token(
    req: HttpRequest,
    state: web::Data<Arc<AppState>>,
    payload: web::Payload,
) -> Result<HttpResponse, HttpError> {
    authenticate(&req, &state, &[Role::Admin]).await?;
    let r: TokenRequest = parse_json(&read_body(payload, 64 * 1024).await?)?;
    let role = match Role::parse(&r.role) {
        Some(Role::Device) => {
            return Err(HttpError::unprocessable(
                "invalid_role",
                "device tokens are issued at enrolment",
                Some("role"),
            ));
        }
        Some(role) => role,
        None => {
            return Err(HttpError::unprocessable(
                "invalid_role",
                "role must be appraiser, court or admin",
                Some("role"),
            ));
        }
    };
    let ttl = r.ttl_seconds.unwrap_or(90 * 24 * 3600);
    if !(1..=10 * 365 * 24 * 3600).contains(&ttl) {
        return Err(HttpError::unprocessable(
            "invalid_ttl",
            "ttl_seconds must be between 1 second and 10 years",
            Some("ttl_seconds"),
        ));
    }
    let expires = now_ms() + ttl * 1000;
    let (token, row) = new_token(role, &r.subject, expires);
    state.store.insert_token(&row, &r.cases, now_ms()).await?;
    Ok(HttpResponse::Created().json(json!({"token": token, "token_id": row.token_id, "role": role.name(), "expires_at": Timestamp::from_unix_ms(expires, 0)})))
}

/// `DELETE /v1/tokens/{token_id}` (admin).
pub async fn revoke_token(
    req: HttpRequest,
    state: web::Data<Arc<AppState>>,
    path: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    authenticate(&req, &state, &[Role::Admin]).await?;
    if state.store.revoke_token(&path, now_ms()).await? {
        Ok(HttpResponse::Ok().json(json!({"revoked": path.into_inner()})))
    } else {
        Err(HttpError::new(
            StatusCode::NOT_FOUND,
            "unknown_token",
            "no active token has that ID",
            Some("token_id"),
        ))
    }
}

// --- enrolment -------------------------------------------------------------------------------

/// `POST /v1/enrol`: a device with a one-time code and proof of possession of its key.
pub async fn enrol(
    state: web::Data<Arc<AppState>>,
    payload: web::Payload,
) -> Result<HttpResponse, HttpError> {
    let body = read_body(payload, 64 * 1024).await?;
    let value = canonical::parse_strict(&body).map_err(canonical_error)?;
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
    let officer = state.store.enrolment_code_officer(&code_sm3, now).await?.ok_or_else(|| {
        HttpError::new(StatusCode::FORBIDDEN, "invalid_code", "the enrolment code is unknown, already used or expired; ask the administrator for a new one", Some("/request/code"))
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
        now + state.config.device_token_ttl_seconds * 1000,
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
        return Err(HttpError::new(
            StatusCode::FORBIDDEN,
            "invalid_code",
            "the enrolment code was used concurrently; ask for a new one",
            Some("/request/code"),
        ));
    }
    Ok(HttpResponse::Created().json(EnrolmentResponse {
        certificate,
        notary_public_key: state.key.public_key().to_hex(),
        api_token: token,
    }))
}

// --- proofs ----------------------------------------------------------------------------------

/// `POST /v1/proofs` (device): one proof, or `{"proofs": [...]}` (up to `max_batch`). The body
/// must be RFC 8785 canonical JSON. Each proof is checked and stored before its receipt is
/// returned; resubmitting a proof returns the same receipt.
pub async fn submit_proofs(
    req: HttpRequest,
    state: web::Data<Arc<AppState>>,
    payload: web::Payload,
) -> Result<HttpResponse, HttpError> {
    let caller = authenticate(&req, &state, &[Role::Device]).await?;
    let body = read_body(payload, state.config.max_body_bytes).await?;
    let value = match canonical::parse_canonical(&body) {
        Ok(v) => v,
        Err(e) => {
            let err = canonical_error(e);
            state.metrics.rejected(&err.body.code);
            return Err(err);
        }
    };
    let batch = value
        .as_object()
        .filter(|o| o.len() == 1)
        .and_then(|o| o.get("proofs"))
        .and_then(Value::as_array);
    match batch {
        Some(items) => {
            if items.len() > state.config.max_batch {
                return Err(HttpError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "batch_too_large",
                    format!("at most {} proofs per request", state.config.max_batch),
                    Some("/proofs"),
                ));
            }
            let mut results = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let index = i as u64;
                match intake(&state, &caller, item).await {
                    Ok(receipt) => results.push(SubmitResult {
                        index,
                        receipt: Some(receipt),
                        error: None,
                    }),
                    Err(e) if e.status.is_server_error() => return Err(e),
                    Err(e) => results.push(SubmitResult {
                        index,
                        receipt: None,
                        error: Some(e.body),
                    }),
                }
            }
            Ok(HttpResponse::Ok().json(SubmitResponse { results }))
        }
        None => {
            let receipt = intake(&state, &caller, &value).await?;
            Ok(HttpResponse::Ok().json(SubmitResponse {
                results: vec![SubmitResult {
                    index: 0,
                    receipt: Some(receipt),
                    error: None,
                }],
            }))
        }
    }
}

fn proof_error(e: ProofError) -> HttpError {
    match e {
        ProofError::Json(c) => canonical_error(c),
        ProofError::Shape(msg) => HttpError::unprocessable(
            "invalid_proof",
            format!("proof does not match schemas/proof.schema.json: {msg}"),
            None,
        ),
        ProofError::UnknownType(t) => HttpError::unprocessable(
            "unknown_type",
            format!("manifest.type {t:?} is not tiezheng.manifest.v1"),
            Some("/manifest/type"),
        ),
        ProofError::KeyMismatch { .. } => HttpError::unprocessable(
            "key_mismatch",
            e.to_string(),
            Some("/manifest/device/key_id"),
        ),
        ProofError::Signature(SignedError::WrongSm2Id(id)) => HttpError::unprocessable(
            "wrong_sm2_id",
            format!(
                "signature.sm2_id {id:?} is not allowed; proofs are signed with \"1234567812345678\""
            ),
            Some("/signature/sm2_id"),
        ),
        ProofError::Signature(SignedError::WrongOid { .. }) => {
            HttpError::unprocessable("wrong_oid", e.to_string(), Some("/signature/oid"))
        }
        ProofError::Signature(SignedError::Sm2(Sm2Error::BadSignature)) => {
            HttpError::unprocessable(
                "bad_signature",
                "the SM2 signature does not verify over the manifest's RFC 8785 bytes",
                Some("/signature/value"),
            )
        }
        ProofError::Signature(SignedError::Sm2(s)) => {
            HttpError::unprocessable("invalid_signature", s.to_string(), Some("/signature"))
        }
        other => HttpError::unprocessable("invalid_proof", other.to_string(), None),
    }
}

/// Checks one proof and stores it; returns its (possibly existing) receipt.
async fn intake(
    state: &AppState,
    caller: &Caller,
    value: &Value,
) -> Result<SignedReceipt, HttpError> {
    let result = intake_inner(state, caller, value).await;
    match &result {
        Ok(_) => {}
        Err(e) => state.metrics.rejected(&e.body.code),
    }
    result
}

async fn intake_inner(
    state: &AppState,
    caller: &Caller,
    value: &Value,
) -> Result<SignedReceipt, HttpError> {
    let verified = Proof::verify_value(value).map_err(proof_error)?;
    let m = &verified.proof.manifest;
    let key_id = verified.key.key_id().to_hex();
    let device = state.store.device(&key_id).await?.ok_or_else(|| {
        HttpError::new(
            StatusCode::FORBIDDEN,
            "unknown_device",
            "the signing key is not enrolled with this notary; enrol the device first",
            Some("/signature/public_key"),
        )
    })?;
    if device.revoked_at.is_some() {
        return Err(HttpError::new(
            StatusCode::FORBIDDEN,
            "revoked_device",
            "the signing device has been revoked; its proofs are refused",
            Some("/signature/public_key"),
        ));
    }
    if caller.subject != key_id {
        return Err(HttpError::new(
            StatusCode::FORBIDDEN,
            "device_mismatch",
            "a device may only submit proofs signed with its own key",
            Some("/signature/public_key"),
        ));
    }
    validate_items(m)?;
    let seq = i64::try_from(m.device_seq).map_err(|_| {
        HttpError::unprocessable(
            "invalid_proof",
            "device_seq out of range",
            Some("/manifest/device_seq"),
        )
    })?;
    let proof_sm3 = verified.proof_sm3.to_hex();
    let manifest_sm3 = verified.manifest_sm3.to_hex();

    let _writer = state.intake.lock().await;
    if let Some(existing) = state.store.proof_at(&key_id, seq).await? {
        if existing.proof_sm3 == proof_sm3 {
            state.metrics.duplicate();
            return serde_json::from_str(&existing.receipt_json).map_err(HttpError::internal);
        }
        return Err(HttpError::new(
            StatusCode::CONFLICT,
            "replayed_sequence",
            format!("device_seq {seq} of this device was already used by another proof"),
            Some("/manifest/device_seq"),
        ));
    }
    let claimed = m.previous_manifest_sm3.map(|h| h.to_hex());
    let mut gap = false;
    if seq == 1 {
        if claimed.is_some() {
            return Err(HttpError::new(
                StatusCode::CONFLICT,
                "chain_mismatch",
                "the first manifest of a device must have previous_manifest_sm3 null",
                Some("/manifest/previous_manifest_sm3"),
            ));
        }
    } else {
        match state.store.proof_at(&key_id, seq - 1).await? {
            Some(prev) if Some(&prev.manifest_sm3) != claimed.as_ref() => {
                return Err(HttpError::new(
                    StatusCode::CONFLICT,
                    "chain_mismatch",
                    format!(
                        "previous_manifest_sm3 does not match the stored manifest {} of device_seq {}",
                        prev.manifest_sm3,
                        seq - 1
                    ),
                    Some("/manifest/previous_manifest_sm3"),
                ));
            }
            Some(_) => {}
            None => gap = true,
        }
    }
    if let Some(next) = state.store.proof_at(&key_id, seq + 1).await?
        && next.previous_manifest_sm3.as_deref() != Some(manifest_sm3.as_str())
    {
        return Err(HttpError::new(
            StatusCode::CONFLICT,
            "chain_mismatch",
            format!(
                "the stored manifest of device_seq {} links to a different predecessor",
                seq + 1
            ),
            Some("/manifest"),
        ));
    }
    let now = now_ms();
    let receipt = SignedReceipt::sign(
        Receipt {
            kind: RECEIPT_TYPE.to_owned(),
            proof_sm3: verified.proof_sm3,
            manifest_sm3: verified.manifest_sm3,
            device_key_id: verified.key.key_id(),
            device_seq: m.device_seq,
            received_at: Timestamp::from_unix_ms(now, 0),
            notary_key_id: state.key.public_key().key_id(),
            chain_gap: gap,
        },
        &state.key,
    )
    .map_err(HttpError::internal)?;
    let receipt_json =
        String::from_utf8(canonical::to_canonical_bytes(&receipt).map_err(HttpError::internal)?)
            .map_err(HttpError::internal)?;
    let proof_json =
        String::from_utf8(canonical::canonicalize(value).map_err(HttpError::internal)?)
            .map_err(HttpError::internal)?;
    let media = m
        .items
        .iter()
        .map(|i| NewMedia {
            sm3: i
                .hashes
                .iter()
                .find(|h| h.algorithm == tiezheng_protocol::HashAlgorithm::Sm3)
                .map(|h| h.value.to_hex())
                .unwrap_or_default(),
            sha256: i
                .hashes
                .iter()
                .find(|h| h.algorithm == tiezheng_protocol::HashAlgorithm::Sha256)
                .map(|h| h.value.to_hex())
                .unwrap_or_default(),
            bytes: i64::try_from(i.bytes).unwrap_or(i64::MAX),
            file_name: i.file_name.clone(),
        })
        .collect();
    state
        .store
        .insert_proof(&NewProof {
            proof_sm3: &proof_sm3,
            device_key_id: &key_id,
            device_seq: seq,
            manifest_sm3: &manifest_sm3,
            previous_manifest_sm3: claimed.as_deref(),
            case_reference: &m.case.reference,
            proof_json: &proof_json,
            receipt_json: &receipt_json,
            received_at: now,
            chain_gap: gap,
            media,
            salt: {
                let mut b = [0u8; 16];
                ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b).ok();
                hex::encode(b)
            },
        })
        .await?;
    state.metrics.accepted();
    tracing::info!(proof_sm3, device_seq = seq, device = %key_id, chain_gap = gap, "proof accepted");
    Ok(receipt)
}

/// Checks what the schema says but serde cannot: file names and the pair of hashes.
fn validate_items(m: &tiezheng_protocol::Manifest) -> Result<(), HttpError> {
    for (i, item) in m.items.iter().enumerate() {
        let name = &item.file_name;
        let bad = name.is_empty()
            || name.len() > 255
            || name.contains(['/', '\\', '\0'])
            || name == "."
            || name == ".."
            || name.chars().any(char::is_control);
        if bad {
            return Err(HttpError::unprocessable(
                "bad_file_name",
                format!(
                    "file name {name:?} must be a plain name without directories or control characters"
                ),
                Some(&format!("/manifest/items/{i}/file_name")),
            ));
        }
        let has = |alg| {
            item.hashes
                .iter()
                .any(|h| h.algorithm == alg && h.is_consistent())
        };
        if !has(tiezheng_protocol::HashAlgorithm::Sm3)
            || !has(tiezheng_protocol::HashAlgorithm::Sha256)
            || item.hashes.iter().any(|h| !h.is_consistent())
        {
            return Err(HttpError::unprocessable(
                "invalid_hashes",
                "each item needs SM3 and SHA-256 entries whose OIDs match their algorithms",
                Some(&format!("/manifest/items/{i}/hashes")),
            ));
        }
    }
    Ok(())
}

// --- media -----------------------------------------------------------------------------------

/// Query of a media upload.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadQuery {
    /// Where this chunk starts.
    pub offset: u64,
}

fn media_id(s: &str) -> Result<String, HttpError> {
    Hash32::from_hex(s).map(|h| h.to_hex()).map_err(|_| {
        HttpError::bad_request(
            "bad_media_id",
            "media are addressed by their SM3 as 64 lowercase hex digits",
            Some("sm3"),
        )
    })
}

/// `GET /v1/media/{sm3}/status` (device, admin): upload progress, to resume.
pub async fn media_status(
    req: HttpRequest,
    state: web::Data<Arc<AppState>>,
    path: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    let caller = authenticate(&req, &state, &[Role::Device, Role::Admin]).await?;
    let sm3 = media_id(&path)?;
    let row = declared_media(&state, &caller, &sm3).await?;
    Ok(HttpResponse::Ok().json(json!({"sm3": row.sm3, "bytes": row.bytes, "received": row.received, "complete": row.complete})))
}

async fn declared_media(
    state: &AppState,
    caller: &Caller,
    sm3: &str,
) -> Result<crate::store::MediaRow, HttpError> {
    let unknown = || {
        HttpError::new(
            StatusCode::NOT_FOUND,
            "unknown_media",
            "no proof you submitted names this media; submit the proof first",
            Some("sm3"),
        )
    };
    let row = state.store.media(sm3).await?.ok_or_else(unknown)?;
    if caller.role == Role::Device
        && !state
            .store
            .device_declared_media(&caller.subject, sm3)
            .await?
    {
        return Err(unknown());
    }
    reconcile_media(state, row, &caller.subject).await
}

/// Finishes what a crash interrupted between storing a file and recording it: a stored file
/// that verifies is recorded complete; a full-length partial file is verified and stored now;
/// a full length recorded with neither file present starts again from zero.
async fn reconcile_media(
    state: &AppState,
    mut row: crate::store::MediaRow,
    actor: &str,
) -> Result<crate::store::MediaRow, HttpError> {
    if row.complete {
        return Ok(row);
    }
    let _writer = state.media.lock(&row.sm3).await;
    if state
        .media
        .verify_stored(&row.sm3, &row.sha256)
        .await
        .map_err(HttpError::internal)?
    {
        state
            .store
            .complete_media(&row.sm3, actor, now_ms())
            .await?;
        row.complete = true;
        row.received = row.bytes;
    } else if row.received == row.bytes && state.media.has_part(&row.sm3) {
        if state
            .media
            .finish(&row.sm3, &row.sha256)
            .await
            .map_err(HttpError::internal)?
        {
            state
                .store
                .complete_media(&row.sm3, actor, now_ms())
                .await?;
            row.complete = true;
        } else {
            state.store.set_media_received(&row.sm3, 0).await?;
            row.received = 0;
        }
    } else if row.received == row.bytes {
        state.store.set_media_received(&row.sm3, 0).await?;
        row.received = 0;
    }
    Ok(row)
}

/// `PUT /v1/media/{sm3}?offset=N` (device): appends a chunk at `offset` (resumable). When the
/// last byte arrives the file is hashed; it is stored write-once only if both SM3 and SHA-256
/// match the proof, and discarded otherwise.
pub async fn upload_media(
    req: HttpRequest,
    state: web::Data<Arc<AppState>>,
    path: web::Path<String>,
    query: web::Query<UploadQuery>,
    mut payload: web::Payload,
) -> Result<HttpResponse, HttpError> {
    let caller = authenticate(&req, &state, &[Role::Device]).await?;
    let sm3 = media_id(&path)?;
    let row = declared_media(&state, &caller, &sm3).await?;
    if row.complete {
        return Ok(HttpResponse::Ok().json(
            json!({"sm3": sm3, "bytes": row.bytes, "received": row.bytes, "complete": true}),
        ));
    }
    let offset = i64::try_from(query.offset).unwrap_or(i64::MAX);
    if offset != row.received {
        return Err(HttpError::new(
            StatusCode::CONFLICT,
            "wrong_offset",
            format!("upload must continue at offset {}", row.received),
            Some("offset"),
        ));
    }
    let _writer = state.media.lock(&sm3).await;
    let mut part = state
        .media
        .open_part(&sm3, row.received)
        .await
        .map_err(HttpError::internal)?;
    let mut written: i64 = 0;
    let limit = i64::try_from(state.config.max_media_chunk_bytes).unwrap_or(i64::MAX);
    while let Some(chunk) = payload.next().await {
        let chunk = match chunk {
            Ok(c) => c,
            Err(e) => {
                // The connection broke: keep only what was durably written (nothing of this request).
                state.media.truncate_part(&sm3, row.received).await.ok();
                return Err(HttpError::bad_request(
                    "truncated_upload",
                    format!(
                        "the upload was cut off ({e}); resume at offset {}",
                        row.received
                    ),
                    None,
                ));
            }
        };
        let n = i64::try_from(chunk.len()).unwrap_or(i64::MAX);
        if written + n > limit {
            state.media.truncate_part(&sm3, row.received).await.ok();
            return Err(HttpError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "chunk_too_large",
                format!("send at most {limit} bytes per request"),
                None,
            ));
        }
        if row.received + written + n > row.bytes {
            state.media.truncate_part(&sm3, row.received).await.ok();
            return Err(HttpError::unprocessable(
                "media_too_large",
                format!("the proof declares {} bytes for this media", row.bytes),
                None,
            ));
        }
        part.write_all(&chunk).await.map_err(HttpError::internal)?;
        written += n;
    }
    part.sync_all().await.map_err(HttpError::internal)?;
    drop(part);
    let received = row.received + written;
    state.store.set_media_received(&sm3, received).await?;
    state
        .metrics
        .media_bytes(u64::try_from(written).unwrap_or(0));
    if received < row.bytes {
        return Ok(HttpResponse::Accepted().json(
            json!({"sm3": sm3, "bytes": row.bytes, "received": received, "complete": false}),
        ));
    }
    match state
        .media
        .finish(&sm3, &row.sha256)
        .await
        .map_err(HttpError::internal)?
    {
        true => {
            state
                .store
                .complete_media(&sm3, &caller.subject, now_ms())
                .await?;
            Ok(HttpResponse::Created().json(
                json!({"sm3": sm3, "bytes": row.bytes, "received": received, "complete": true}),
            ))
        }
        false => {
            state.store.set_media_received(&sm3, 0).await?;
            Err(HttpError::unprocessable(
                "media_hash_mismatch",
                "the uploaded bytes do not match the SM3 and SHA-256 in the proof; nothing was stored; upload the original file again from offset 0",
                None,
            ))
        }
    }
}

// --- evidence access -------------------------------------------------------------------------

pub(crate) async fn readable_proof(
    req: &HttpRequest,
    state: &AppState,
    sm3: &str,
) -> Result<(Caller, crate::store::ProofRow), HttpError> {
    let caller = authenticate(req, state, &[Role::Appraiser, Role::Court, Role::Admin]).await?;
    let id = Hash32::from_hex(sm3).map_err(|_| {
        HttpError::bad_request(
            "bad_proof_id",
            "proofs are addressed by their SM3 as 64 lowercase hex digits",
            Some("proof_sm3"),
        )
    })?;
    let not_found = || {
        HttpError::new(
            StatusCode::NOT_FOUND,
            "unknown_proof",
            "no proof with that SM3 is stored here",
            Some("proof_sm3"),
        )
    };
    let row = state
        .store
        .proof(&id.to_hex())
        .await?
        .ok_or_else(not_found)?;
    if caller.role == Role::Appraiser
        && !state
            .store
            .granted(&caller.token_id, &row.case_reference)
            .await?
    {
        return Err(HttpError::new(
            StatusCode::FORBIDDEN,
            "not_granted",
            "this appraiser token is not granted the proof's case",
            Some("proof_sm3"),
        ));
    }
    Ok((caller, row))
}

/// `GET /v1/proofs/{proof_sm3}` (appraiser granted the case, court, admin): the proof, its
/// receipt, its media and its custody log. Reading is itself a custody event.
pub async fn get_proof(
    req: HttpRequest,
    state: web::Data<Arc<AppState>>,
    path: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    let (caller, row) = readable_proof(&req, &state, &path).await?;
    state
        .store
        .custody(
            &row.proof_sm3,
            "viewed",
            &format!("{}:{}", caller.role.name(), caller.token_id),
            now_ms(),
            "proof and receipt read",
        )
        .await?;
    let mut media = Vec::new();
    for (i, (sm3, name)) in state
        .store
        .proof_media(&row.proof_sm3)
        .await?
        .into_iter()
        .enumerate()
    {
        let stored = state.store.media(&sm3).await?.is_some_and(|m| m.complete);
        media.push(json!({"item": i, "sm3": sm3, "file_name": name, "stored": stored}));
    }
    let custody = state.store.custody_of(&row.proof_sm3).await?;
    let proof: Value = serde_json::from_str(&row.proof_json).map_err(HttpError::internal)?;
    let receipt: Value = serde_json::from_str(&row.receipt_json).map_err(HttpError::internal)?;
    Ok(HttpResponse::Ok()
        .json(json!({"proof": proof, "receipt": receipt, "media": media, "custody": custody})))
}

/// `GET /v1/proofs/{proof_sm3}/media/{item}` (appraiser granted the case, court, admin): the
/// original file. Export is a custody event.
pub async fn get_media(
    req: HttpRequest,
    state: web::Data<Arc<AppState>>,
    path: web::Path<(String, usize)>,
) -> Result<HttpResponse, HttpError> {
    let (sm3, item) = path.into_inner();
    let (caller, row) = readable_proof(&req, &state, &sm3).await?;
    let media = state.store.proof_media(&row.proof_sm3).await?;
    let (media_sm3, name) = media.get(item).cloned().ok_or_else(|| {
        HttpError::new(
            StatusCode::NOT_FOUND,
            "unknown_item",
            "the proof has no item with that index",
            Some("item"),
        )
    })?;
    let stored = state
        .store
        .media(&media_sm3)
        .await?
        .is_some_and(|m| m.complete);
    if !stored {
        return Err(HttpError::new(
            StatusCode::NOT_FOUND,
            "media_not_uploaded",
            "the device has not uploaded this file yet",
            Some("item"),
        ));
    }
    let file = tokio::fs::File::open(state.media.path(&media_sm3))
        .await
        .map_err(HttpError::internal)?;
    state
        .store
        .custody(
            &row.proof_sm3,
            "exported",
            &format!("{}:{}", caller.role.name(), caller.token_id),
            now_ms(),
            &format!("media {media_sm3} ({name}) downloaded"),
        )
        .await?;
    let stream = futures_util::stream::unfold(file, |mut f| async move {
        use tokio::io::AsyncReadExt as _;
        let mut buf = vec![0u8; 256 * 1024];
        match f.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(web::Bytes::from(buf)), f))
            }
            Err(e) => Some((Err(e), f)),
        }
    });
    let disposition = format!(
        "attachment; filename=\"{}\"",
        name.replace(['"', '\\'], "_")
    );
    Ok(HttpResponse::Ok()
        .content_type("application/octet-stream")
        .insert_header(("content-disposition", disposition))
        .streaming(stream))
}

/// `GET /v1/proofs/{proof_sm3}/bundle` (appraiser granted the case, court, admin): the offline
/// proof bundle, once the proof's batch is anchored. Export is a custody event.
pub async fn get_bundle(
    req: HttpRequest,
    state: web::Data<Arc<AppState>>,
    path: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    let (caller, row) = readable_proof(&req, &state, &path).await?;
    let bundle = state
        .anchoring
        .bundle(&state.store, &row.proof_sm3, &row.proof_json, &row.receipt_json)
        .await
        .map_err(HttpError::internal)?
        .ok_or_else(|| HttpError::new(StatusCode::CONFLICT, "not_yet_anchored", "the proof is receipted and waits for its batch to be anchored; retry in a few seconds", None))?;
    state
        .store
        .custody(
            &row.proof_sm3,
            "exported",
            &format!("{}:{}", caller.role.name(), caller.token_id),
            now_ms(),
            "offline proof bundle exported",
        )
        .await?;
    Ok(HttpResponse::Ok().json(bundle))
}

/// `GET /v1/ledger/policy`: the keys this notary's ledger uses (courts pin their own copy).
pub async fn ledger_policy(state: web::Data<Arc<AppState>>) -> HttpResponse {
    HttpResponse::Ok().json(state.anchoring.policy())
}

/// JSON error for unknown routes.
pub async fn not_found() -> HttpResponse {
    HttpError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such endpoint; see /openapi.json",
        None,
    )
    .into_response()
}

/// Where the media of the service live, for the CLI's messages.
pub fn media_dir(config: &NotaryConfig) -> PathBuf {
    config.media_dir()
}
