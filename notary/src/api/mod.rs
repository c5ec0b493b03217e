//! The HTTP API. Every endpoint authenticates with a bearer token of the right role (except
//! enrolment, whose credential is the one-time code, and the health, metrics and OpenAPI
//! endpoints), and answers errors in the one [`HttpError`] shape.

mod appraisals;
mod auth;
mod body;
pub mod certificates;
mod enrolment;
mod evidence;
mod intake;
mod ledger;
mod media;
mod officers;
mod operations;
pub mod portal;
mod public;
mod tokens;

use std::path::PathBuf;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use tiezheng_protocol::{Sm2SigningKey, Timestamp};

use auth::token_sm3;
pub use auth::{
    BOOTSTRAP_PREFIX, BOOTSTRAP_SUBJECT, Caller, MIN_TOKEN_CHARS, Role, authenticate,
    check_token_strength, new_token,
};
use body::{canonical_error, next_chunk, parse_json, parse_value, path_param, read_body};
pub use enrolment::{create_enrolment_code, enrol, revoke_device};
pub(crate) use evidence::readable_proof_sm3;
pub use evidence::{get_bundle, get_media, get_proof};
pub use intake::submit_proofs;
pub use ledger::ledger_policy;
pub use media::{UploadQuery, media_status, upload_media};
pub use operations::{healthz, metrics, metrics_text, notary_key, openapi, readyz};
pub use tokens::{create_token, list_tokens, revoke_token};

use crate::config::NotaryConfig;
use crate::error::HttpError;
use crate::media::MediaStore;
use crate::metrics::Metrics;
use crate::store::Store;

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
    /// Certificate PDFs and thumbnails, rendered once and kept.
    pub renditions: crate::renditions::Renditions,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    Timestamp::now_utc().unix_ms()
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
        .service(web::resource("/v1/officers").post(officers::enrol_officer))
        .service(web::resource("/v1/officers/{key_id}/revoke").post(officers::revoke_officer))
        .service(
            web::resource("/v1/tokens")
                .post(create_token)
                .get(list_tokens),
        )
        .service(web::resource("/v1/tokens/{token_id}").delete(revoke_token))
        .service(
            web::resource("/v1/appraisals")
                .get(appraisals::list)
                .post(appraisals::commission),
        )
        .service(web::resource("/v1/judicial-parties").get(appraisals::judicial_parties))
        .service(web::resource("/v1/appraisals/{commission_sm3}").get(appraisals::get))
        .service(web::resource("/v1/appraisals/{commission_sm3}/steps").post(appraisals::add_step))
        .service(
            web::resource("/v1/appraisals/{commission_sm3}/revocations").post(appraisals::revoke),
        )
        .service(
            web::resource("/v1/appraisals/{commission_sm3}/draft")
                .get(appraisals::get_draft)
                .put(appraisals::put_draft),
        )
        .service(web::resource("/v1/appraisals/{commission_sm3}/opinion").get(appraisals::opinion))
        .service(
            web::resource("/v1/appraisals/{commission_sm3}/opinion.pdf")
                .get(appraisals::opinion_pdf),
        )
        .service(web::resource("/v1/proofs").post(submit_proofs))
        .service(web::resource("/v1/proofs/{proof_sm3}").get(get_proof))
        .service(web::resource("/v1/proofs/{proof_sm3}/media/{item}").get(get_media))
        .service(web::resource("/v1/proofs/{proof_sm3}/bundle").get(get_bundle))
        .service(
            web::resource("/v1/proofs/{proof_sm3}/certificate")
                .get(certificates::proof_certificate),
        )
        .service(
            web::resource("/v1/proofs/{proof_sm3}/certificate.pdf")
                .get(certificates::proof_certificate_pdf),
        )
        .service(
            web::resource("/v1/certificates/{number}").get(certificates::certificate_by_number),
        )
        .service(web::resource("/v1/ledger/policy").get(ledger_policy))
        .service(web::resource("/v1/public/certificates/{number}").get(public::public_digest))
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
