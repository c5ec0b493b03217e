//! The HTTP API. Every endpoint authenticates with a bearer token of the right role (except
//! enrolment, whose credential is the one-time code, and the health, metrics and OpenAPI
//! endpoints), and answers errors in the one [`HttpError`] shape.

mod enrolment;
mod evidence;
mod intake;
mod ledger;
mod media;
mod operations;
mod tokens;

use std::path::PathBuf;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt as _;
use tiezheng_protocol::{Hash32, Sm2SigningKey, Timestamp, canonical};

pub use enrolment::{create_enrolment_code, enrol, revoke_device};
pub(crate) use evidence::readable_proof_sm3;
pub use evidence::{get_bundle, get_media, get_proof};
pub use intake::submit_proofs;
pub use ledger::ledger_policy;
pub use media::{UploadQuery, media_status, upload_media};
pub use operations::{healthz, metrics, notary_key, openapi, readyz};
pub use tokens::{create_token, revoke_token};

use crate::config::NotaryConfig;
use crate::error::HttpError;
use crate::media::MediaStore;
use crate::metrics::Metrics;
use crate::store::{NewToken, Store};

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
    /// Whether anchoring keeps up.
    pub liveness: crate::liveness::Liveness,
    /// The intake writer: places verified proofs in their devices' chains, group-commits them
    /// and signs their receipts.
    pub sequencer: crate::sequencer::Sequencer,
    /// Rate limits.
    pub throttle: crate::throttle::Throttle,
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

impl Caller {
    /// Who the custody log says acted: `<role>:<token ID>`.
    pub fn actor(&self) -> tiezheng_protocol::custody::Actor {
        tiezheng_protocol::custody::Actor::Token {
            role: self.role.name(),
            token_id: self.token_id.clone(),
        }
    }
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
    state
        .throttle
        .per_token
        .take(&row.token_id, 1.0)
        .map_err(|wait| HttpError::too_many("this token is over its request rate", wait))?;
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

/// Reads a request body up to `limit` bytes. A body that stops arriving for longer than
/// `body_timeout_ms` is cut off (408), so a stalled client holds nothing for long.
async fn read_body(
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
async fn next_chunk(
    payload: &mut web::Payload,
    config: &NotaryConfig,
) -> Result<Option<web::Bytes>, HttpError> {
    let wait = std::time::Duration::from_millis(config.body_timeout_ms);
    match tokio::time::timeout(wait, payload.next()).await {
        Err(_) => Err(HttpError::new(
            StatusCode::REQUEST_TIMEOUT,
            "body_timeout",
            format!(
                "the request body stopped arriving for {} ms; send it again (uploads resume from the acknowledged offset)",
                config.body_timeout_ms
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
fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, HttpError> {
    parse_value(&canonical::parse_strict(body).map_err(canonical_error)?)
}

/// As [`parse_json`], from a parsed value.
fn parse_value<T: serde::de::DeserializeOwned>(value: &serde_json::Value) -> Result<T, HttpError> {
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
fn path_param<'a>(req: &'a HttpRequest, name: &str) -> &'a str {
    req.match_info().get(name).unwrap_or_default()
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

trait IntoResponse {
    fn into_response(self) -> HttpResponse;
}

impl IntoResponse for HttpError {
    fn into_response(self) -> HttpResponse {
        actix_web::ResponseError::error_response(&self)
    }
}

/// Registers every endpoint. Each path is one resource, so a wrong method is answered 405
/// (with `Allow`) rather than 404; add new resources here (or in a module's own
/// `configure`, called from here).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/healthz").get(healthz))
        .service(web::resource("/readyz").get(readyz))
        .service(web::resource("/metrics").get(metrics))
        .service(web::resource("/openapi.json").get(openapi))
        .service(web::resource("/v1/notary").get(notary_key))
        .service(web::resource("/v1/enrolment-codes").post(create_enrolment_code))
        .service(web::resource("/v1/enrol").post(enrol))
        .service(web::resource("/v1/devices/{key_id}/revoke").post(revoke_device))
        .service(web::resource("/v1/tokens").post(create_token))
        .service(web::resource("/v1/tokens/{token_id}").delete(revoke_token))
        .service(web::resource("/v1/proofs").post(submit_proofs))
        .service(web::resource("/v1/proofs/{proof_sm3}").get(get_proof))
        .service(web::resource("/v1/proofs/{proof_sm3}/media/{item}").get(get_media))
        .service(web::resource("/v1/proofs/{proof_sm3}/bundle").get(get_bundle))
        .service(
            web::resource("/v1/proofs/{proof_sm3}/certificate")
                .get(crate::certificates::proof_certificate),
        )
        .service(
            web::resource("/v1/proofs/{proof_sm3}/certificate.pdf")
                .get(crate::certificates::proof_certificate_pdf),
        )
        .service(
            web::resource("/v1/certificates/{number}")
                .get(crate::certificates::certificate_by_number),
        )
        .service(web::resource("/v1/ledger/policy").get(ledger_policy))
        .service(web::resource("/v1/media/{sm3}").put(upload_media))
        .service(web::resource("/v1/media/{sm3}/status").get(media_status));
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
