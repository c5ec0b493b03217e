//! Proof intake: `POST /v1/proofs` verifies each proof (canonical form, schema, signature) in
//! parallel off the HTTP workers, then the sequencer places it in its device's chain
//! (enrolled device, sequence, links), stores it in a group commit and signs its receipt.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::stream::{self, StreamExt as _};
use serde_json::Value;
use std::sync::Arc;
use tiezheng_protocol::manifest::{ProofError, VerifiedProof};
use tiezheng_protocol::notary::{SignedReceipt, SubmitResponse, SubmitResult};
use tiezheng_protocol::signed::SignedError;
use tiezheng_protocol::sm2::Sm2Error;
use tiezheng_protocol::{Proof, canonical};

use super::{AppState, Caller, Role, authenticate, canonical_error, read_body};
use crate::error::HttpError;
use crate::sequencer::{Candidate, Outcome, Refusal, SequencerError};
use crate::store::NewMedia;

/// `POST /v1/proofs` (device): one proof, or `{"proofs": [...]}` (up to `max_batch`). The body
/// must be RFC 8785 canonical JSON. Each proof is checked and stored before its receipt is
/// returned; resubmitting a proof returns the same receipt.
pub async fn submit_proofs(
    req: HttpRequest,
    state: web::Data<Arc<AppState>>,
    payload: web::Payload,
) -> Result<HttpResponse, HttpError> {
    let caller = authenticate(&req, &state, &[Role::Device]).await?;
    let body = read_body(payload, state.config.limits.max_body_bytes, &state.config).await?;
    // A large body is parsed off the HTTP worker, so one device's huge request does not hold
    // up the others' small ones.
    let parsed = if body.len() > 64 * 1024 {
        web::block(move || canonical::parse_canonical(&body))
            .await
            .map_err(HttpError::internal)?
    } else {
        canonical::parse_canonical(&body)
    };
    let value = match parsed {
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
        .and_then(Value::as_array)
        .map(Vec::len);
    let count = batch.unwrap_or(1);
    state
        .throttle
        .device_proofs
        .take(&caller.subject, count as f64)
        .map_err(|wait| {
            HttpError::too_many(
                "this device is over its rate of proofs; the proofs are not stored, send them again",
                wait,
            )
        })?;
    let items = match value {
        Value::Object(mut o) if batch.is_some() => match o.remove("proofs") {
            Some(Value::Array(items)) => items,
            _ => Vec::new(),
        },
        single => vec![single],
    };
    if batch.is_some() && items.len() > state.config.limits.max_batch {
        return Err(HttpError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "batch_too_large",
            format!(
                "at most {} proofs per request",
                state.config.limits.max_batch
            ),
            Some("/proofs"),
        ));
    }
    let mut outcomes = intake(&state, &caller, items).await?;
    if batch.is_none() && matches!(outcomes.last(), Some(Err(_))) {
        // A single proof's refusal is the answer itself.
        if let Some(Err(e)) = outcomes.pop() {
            return Err(e);
        }
    }
    let results = outcomes
        .into_iter()
        .enumerate()
        .map(|(index, o)| match o {
            Ok(receipt) => SubmitResult {
                index: index as u64,
                receipt: Some(receipt),
                error: None,
            },
            Err(e) => SubmitResult {
                index: index as u64,
                receipt: None,
                error: Some(e.body),
            },
        })
        .collect();
    Ok(HttpResponse::Ok().json(SubmitResponse { results }))
}

/// Proofs verified per blocking task: a large request yields between chunks, so one device's
/// big submission does not hold up the others' small ones.
const VERIFY_CHUNK: usize = 32;

/// Chunks of one request verified at once: enough to keep every core busy while earlier chunks
/// are committed, few enough that one huge request cannot fill the blocking pool.
const VERIFY_AHEAD: usize = 4;

/// Verifies `items` in chunks, off the HTTP worker and in parallel with other requests, and
/// queues each chunk's verified proofs with the sequencer in order as soon as they are
/// verified (later chunks are verified while earlier ones commit); one result per item, in
/// order, once every chunk has committed.
async fn intake(
    state: &AppState,
    caller: &Caller,
    items: Vec<Value>,
) -> Result<Vec<Result<SignedReceipt, HttpError>>, HttpError> {
    let mut chunks = Vec::with_capacity(items.len().div_ceil(VERIFY_CHUNK));
    let mut items = items.into_iter();
    loop {
        let chunk: Vec<Value> = items.by_ref().take(VERIFY_CHUNK).collect();
        if chunk.is_empty() {
            break;
        }
        chunks.push(chunk);
    }
    let mut verified = stream::iter(chunks)
        .map(|chunk| {
            let subject = caller.subject.clone();
            web::block(move || candidates(&chunk, &subject))
        })
        .buffered(VERIFY_AHEAD);
    let mut queued = Vec::new();
    while let Some(checked) = verified.next().await {
        let checked = checked.map_err(HttpError::internal)?;
        let candidates: Vec<Candidate> = checked
            .iter()
            .filter_map(|c| c.as_ref().ok().cloned())
            .collect();
        let pending = if candidates.is_empty() {
            None
        } else {
            Some(state.sequencer.enqueue(candidates).await?)
        };
        queued.push((checked, pending));
    }
    let mut results = Vec::new();
    for (checked, pending) in queued {
        let mut outcomes = match pending {
            Some(p) => p.outcomes().await?,
            None => Vec::new(),
        }
        .into_iter();
        for c in checked {
            let outcome = match c {
                Err(e) => Err(e),
                Ok(_) => match outcomes.next() {
                    Some(Outcome::Accepted(r)) => {
                        state.metrics.accepted();
                        Ok(r)
                    }
                    Some(Outcome::Resubmitted(r)) => {
                        state.metrics.duplicate();
                        Ok(r)
                    }
                    Some(Outcome::Refused(refusal)) => Err(refused(&refusal)),
                    None => Err(HttpError::internal("no outcome")),
                },
            };
            if let Err(e) = &outcome {
                state.metrics.rejected(&e.body.code);
            }
            results.push(outcome);
        }
    }
    Ok(results)
}

/// The answer to a proof the sequencer refused: its chain or its device says no.
fn refused(r: &Refusal) -> HttpError {
    let status = match r {
        Refusal::UnknownDevice
        | Refusal::RevokedDevice
        | Refusal::DeviceMismatch
        | Refusal::UnknownOfficer(_)
        | Refusal::RevokedOfficer(_) => StatusCode::FORBIDDEN,
        Refusal::SequenceOutOfRange => StatusCode::UNPROCESSABLE_ENTITY,
        Refusal::ReplayedSequence(_) | Refusal::ChainMismatch { .. } => StatusCode::CONFLICT,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    HttpError::new(status, r.code(), r.to_string(), r.field())
}

impl From<SequencerError> for HttpError {
    fn from(e: SequencerError) -> Self {
        match e {
            SequencerError::Store(store) => Self::from(&*store),
            _ => Self::internal(e.to_string()),
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
        ProofError::Schema(v) => HttpError::unprocessable(
            v.code,
            format!(
                "proof does not match schemas/proof.schema.json at {}: {}",
                v.pointer, v.message
            ),
            Some(&v.pointer),
        ),
        ProofError::UnknownType(t) => HttpError::unprocessable(
            "unknown_type",
            format!("manifest.type {t:?} is not tiezheng.manifest.v1"),
            Some("/manifest/type"),
        ),
        ProofError::OfficerSignature { index, .. } => HttpError::unprocessable(
            "bad_officer_signature",
            e.to_string(),
            Some(&format!("/officer_signatures/{index}")),
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

/// Checks what needs no stored state (canonical form, schema, the device's SM2 signature, and
/// that the device signs its own proofs); the sequencer does the rest. The chunk's signatures
/// are verified together.
fn candidates(values: &[Value], submitter: &str) -> Vec<Result<Candidate, HttpError>> {
    let refs: Vec<&Value> = values.iter().collect();
    Proof::verify_values_checked(&refs)
        .into_iter()
        .map(|verified| candidate(verified.map_err(proof_error)?, submitter))
        .collect()
}

/// A verified proof as the sequencer takes it.
fn candidate(verified: VerifiedProof, submitter: &str) -> Result<Candidate, HttpError> {
    // The forensic procedure the manifest claims must hold (profile.* rules).
    tiezheng_protocol::profile::check_procedure(&verified.proof).map_err(|v| {
        HttpError::unprocessable(
            v.code,
            format!("{}: {}", v.rule, v.message),
            Some(&v.pointer),
        )
    })?;
    let m = &verified.proof.manifest;
    let device = verified.key.key_id();
    let media = m
        .items
        .iter()
        .map(|i| {
            let hex = |alg| {
                i.hashes
                    .iter()
                    .find(|h| h.algorithm == alg)
                    .map(|h| h.value.to_hex())
                    .unwrap_or_default()
            };
            NewMedia {
                sm3: hex(tiezheng_protocol::HashAlgorithm::Sm3),
                sha256: hex(tiezheng_protocol::HashAlgorithm::Sha256),
                bytes: i64::try_from(i.bytes).unwrap_or(i64::MAX),
                file_name: i.file_name.clone(),
            }
        })
        .collect();
    Ok(Candidate {
        device,
        submitter: submitter.to_owned(),
        seq: m.device_seq,
        proof_sm3: verified.proof_sm3,
        manifest_sm3: verified.manifest_sm3,
        previous: m.previous_manifest_sm3,
        case_reference: m.case.reference.clone(),
        media,
        officers: verified
            .proof
            .officer_signatures
            .iter()
            .filter_map(|s| {
                let (key, _) = s.signature.parts().ok()?;
                Some((key.key_id().to_hex(), s.officer_id.clone()))
            })
            .collect(),
        proof_json: String::from_utf8(verified.canonical).map_err(HttpError::internal)?,
    })
}
