//! Evidence certificates (存证证书) over HTTP: `GET /v1/proofs/{sm3}/certificate[.pdf]` and
//! `GET /v1/certificates/{number}[.pdf]`, for court, admin and (granted cases) appraiser
//! tokens, each fetch a custody event.
//!
//! A certificate is issued once per proof, on the first request after the proof is anchored,
//! and only after the complete verifier has passed on its bundle against this notary's ledger
//! policy ([`tiezheng_protocol::certificate::issue`]); a refusal is logged and counted. The
//! issued document is stored, so its number and bytes, and the PDF rendered from it, never
//! change: the PDF is rendered once and kept ([`crate::renditions`]).

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use tiezheng_certificate::thumbnail;
use tiezheng_protocol::certificate::{
    CertificateError, CustodySummary, IssueParams, SignedCertificate, issue,
};
use tiezheng_protocol::custody::CustodyKind;
use tiezheng_protocol::manifest::ItemKind;
use tiezheng_protocol::{Hash32, Timestamp};

use super::readable_proof_sm3 as readable_proof;
use super::{AppState, Caller, Role, authenticate, now_ms};
use crate::error::HttpError;
use crate::renditions::Kind;
use crate::store::ProofRow;

/// Seconds a client is told to wait before asking again for a proof not yet anchored.
const RETRY_AFTER_SECONDS: u64 = 2;

/// JSON or PDF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Pdf,
}

/// `GET /v1/proofs/{proof_sm3}/certificate` (appraiser granted the case, court, admin).
pub async fn proof_certificate(
    req: HttpRequest,
    state: web::Data<Arc<AppState>>,
    path: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    by_proof(&req, &state, &path, Format::Json).await
}

/// `GET /v1/proofs/{proof_sm3}/certificate.pdf` (appraiser granted the case, court, admin).
pub async fn proof_certificate_pdf(
    req: HttpRequest,
    state: web::Data<Arc<AppState>>,
    path: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    by_proof(&req, &state, &path, Format::Pdf).await
}

/// `GET /v1/certificates/{number}` and `GET /v1/certificates/{number}.pdf` (appraiser granted
/// the case, court, admin).
pub async fn certificate_by_number(
    req: HttpRequest,
    state: web::Data<Arc<AppState>>,
    path: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    authenticate(&req, &state, &[Role::Appraiser, Role::Court, Role::Admin]).await?;
    let (number, format) = match path.strip_suffix(".pdf") {
        Some(n) => (n, Format::Pdf),
        None => (path.as_str(), Format::Json),
    };
    let unknown = || {
        HttpError::new(
            StatusCode::NOT_FOUND,
            "unknown_certificate",
            "no certificate with that number was issued here (numbers look like TZ-20261121-3F9AC2B177D0E41A)",
            Some("number"),
        )
    };
    if number.len() > 64 {
        return Err(unknown());
    }
    let stored = state.store.certificate(number).await?.ok_or_else(unknown)?;
    by_proof(&req, &state, &stored.proof_sm3, format).await
}

async fn by_proof(
    req: &HttpRequest,
    state: &AppState,
    proof_sm3: &str,
    format: Format,
) -> Result<HttpResponse, HttpError> {
    let (caller, row) = readable_proof(req, state, proof_sm3).await?;
    let (cert, json) = certificate_of(state, &caller, &row).await?;
    let actor = caller.actor();
    match format {
        Format::Json => {
            state
                .store
                .custody_read(
                    &row.proof_sm3,
                    CustodyKind::Exported,
                    &actor,
                    now_ms(),
                    &format!("certificate {} exported (JSON)", cert.certificate.number),
                )
                .await?;
            Ok(HttpResponse::Ok()
                .content_type("application/json")
                .insert_header((
                    "content-disposition",
                    format!(
                        "attachment; filename=\"certificate-{}.json\"",
                        cert.certificate.number
                    ),
                ))
                .body(json))
        }
        Format::Pdf => {
            let number = cert.certificate.number.clone();
            let pdf = certificate_pdf(state, &caller, cert).await?;
            state
                .store
                .custody_read(
                    &row.proof_sm3,
                    CustodyKind::Exported,
                    &actor,
                    now_ms(),
                    &format!("certificate {number} exported (PDF)"),
                )
                .await?;
            Ok(HttpResponse::Ok()
                .content_type("application/pdf")
                .insert_header((
                    "content-disposition",
                    format!("attachment; filename=\"certificate-{number}.pdf\""),
                ))
                .body(pdf))
        }
    }
}

/// What a render costs against the token's request rate, beyond the request itself.
pub(super) const RENDER_COST: f64 = 4.0;

/// The certificate's PDF: rendered once (its photo decoded within the decode budget) and kept.
async fn certificate_pdf(
    state: &AppState,
    caller: &Caller,
    cert: SignedCertificate,
) -> Result<Vec<u8>, HttpError> {
    let number = cert.certificate.number.clone();
    let kind = Kind::CertificatePdf;
    let kept = state.renditions.cached_or_turn(kind, &number).await;
    let _turn = match kept.map_err(HttpError::internal)? {
        Ok(pdf) => return Ok(pdf),
        Err(turn) => turn,
    };
    state
        .throttle
        .per_token
        .take(&caller.token_id, RENDER_COST)
        .map_err(|wait| HttpError::too_many("this token is over its request rate", wait))?;
    let photo = photo_of(state, &cert).await?;
    let pixels = photo
        .as_deref()
        .and_then(|p| thumbnail::dimensions(p).ok())
        .map(thumbnail::pixels)
        .filter(|p| *p <= thumbnail::MAX_DECODE_PIXELS)
        .unwrap_or(0);
    let budget = state.renditions.decode_budget(pixels).await;
    let rendered = web::block(move || tiezheng_certificate::render(&cert, photo.as_deref()))
        .await
        .map_err(HttpError::internal)?
        .map_err(HttpError::internal)?;
    drop(budget);
    for w in &rendered.warnings {
        tracing::warn!(certificate = %number, warning = %w, "certificate PDF");
    }
    if let Err(e) = state.renditions.keep(kind, &number, &rendered.pdf).await {
        tracing::warn!(certificate = %number, error = %e, "certificate PDF not kept; it will be rendered again");
    }
    Ok(rendered.pdf)
}

/// The stored certificate of the proof, issuing it first if there is none yet.
async fn certificate_of(
    state: &AppState,
    caller: &Caller,
    row: &ProofRow,
) -> Result<(SignedCertificate, String), HttpError> {
    if let Some(stored) = state.store.certificate_of_proof(&row.proof_sm3).await? {
        let cert = serde_json::from_str(&stored.certificate_json).map_err(HttpError::internal)?;
        return Ok((cert, stored.certificate_json));
    }
    let bundle = state
        .anchoring
        .bundle(&state.store, &row.proof_sm3, &row.proof_json, &row.receipt_json)
        .await
        .map_err(HttpError::internal)?
        .ok_or_else(|| {
            let mut e = HttpError::new(
                StatusCode::CONFLICT,
                "not_yet_anchored",
                format!(
                    "the proof is receipted and waits for its batch to be anchored; a certificate is issued only for an anchored proof: retry in {RETRY_AFTER_SECONDS} seconds"
                ),
                None,
            );
            e.retry_after_seconds = Some(RETRY_AFTER_SECONDS);
            e
        })?;
    let events = state.store.custody_of(&row.proof_sm3).await?;
    let last = events.last().ok_or_else(|| {
        HttpError::internal(format!("proof {} has no custody event", row.proof_sm3))
    })?;
    let params = IssueParams {
        issuer: state
            .config
            .identity
            .issuer_standing()
            .map_err(HttpError::internal)?,
        verify_url: state.config.verify_url(),
        issued_at: Timestamp::from_unix_ms(now_ms(), 0),
        custody: CustodySummary {
            events: u64::try_from(events.len()).unwrap_or(u64::MAX),
            last_event_hash: Hash32::from_hex(&last.hash).map_err(HttpError::internal)?,
        },
    };
    // The genesis policy, as a court pins it: the bundle carries the registry changes since.
    let policy = state.anchoring.genesis_policy().await.map_err(|e| {
        HttpError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "ledger_unavailable",
            format!("the ledger's genesis policy cannot be read yet: {e}"),
            None,
        )
    })?;
    let cert = match issue(bundle, &policy, params, &state.key) {
        Ok(c) => c,
        Err(e) => return Err(refused(state, &row.proof_sm3, &e)),
    };
    let bytes = cert.to_bytes().map_err(HttpError::internal)?;
    let json = String::from_utf8(bytes).map_err(HttpError::internal)?;
    let number = cert.certificate.number.clone();
    let stored = state
        .store
        .insert_certificate(
            &number,
            &row.proof_sm3,
            &json,
            cert.certificate.issued_at.unix_ms(),
        )
        .await?;
    if !stored {
        // Another request issued it first: serve that one.
        let stored = state
            .store
            .certificate_of_proof(&row.proof_sm3)
            .await?
            .ok_or_else(|| HttpError::internal("certificate vanished after a conflict"))?;
        let cert = serde_json::from_str(&stored.certificate_json).map_err(HttpError::internal)?;
        return Ok((cert, stored.certificate_json));
    }
    state.metrics.certificate_issued();
    state
        .store
        .custody(
            &row.proof_sm3,
            CustodyKind::Certified,
            &caller.actor(),
            now_ms(),
            &format!("certificate {number} issued"),
        )
        .await?;
    tracing::info!(certificate = %number, proof = %row.proof_sm3, "certificate issued");
    Ok((cert, json))
}

/// A certificate the verifier refuses is never issued: logged, counted, answered 500.
fn refused(state: &AppState, proof_sm3: &str, e: &CertificateError) -> HttpError {
    state.metrics.certificate_refused(e.rule());
    tracing::error!(proof = %proof_sm3, layer = e.layer(), rule = e.rule(), reason = %e.reason(), "certificate refused: the bundle fails verification");
    HttpError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "certificate_refused",
        format!(
            "no certificate was issued: the proof's bundle fails verification at layer `{}` ({}); the operators have been alerted",
            e.layer(),
            e.rule()
        ),
        None,
    )
}

/// The first item's bytes when it is a photo stored here (for the PDF's thumbnail). A media
/// storage outage is an error (503), so a PDF never silently lacks its photo.
async fn photo_of(
    state: &AppState,
    cert: &SignedCertificate,
) -> Result<Option<Vec<u8>>, HttpError> {
    let Some(item) = cert.certificate.items.first() else {
        return Ok(None);
    };
    if item.kind != ItemKind::Photo || item.bytes > 64 * 1024 * 1024 {
        return Ok(None);
    }
    let Some(sm3) = item
        .hashes
        .iter()
        .find(|h| h.algorithm == tiezheng_protocol::HashAlgorithm::Sm3)
        .map(|h| h.value.to_hex())
    else {
        return Ok(None);
    };
    match state.store.media(&sm3).await {
        Ok(Some(stored)) if stored.complete => {}
        _ => return Ok(None),
    }
    match state.media.read_all(&sm3, 64 * 1024 * 1024).await {
        Ok(photo) => Ok(photo),
        Err(e) if e.is_unavailable() => Err(e.into()),
        Err(e) => {
            tracing::warn!(cause = %e, media_sm3 = %sm3, "no photo for the certificate");
            Ok(None)
        }
    }
}
