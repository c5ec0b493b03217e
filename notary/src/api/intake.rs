//! Proof intake: `POST /v1/proofs` checks each proof (canonical form, signature, enrolled
//! device, sequence and chain), stores it and answers with a signed receipt.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;
use std::sync::Arc;
use tiezheng_protocol::manifest::ProofError;
use tiezheng_protocol::notary::{
    RECEIPT_TYPE, Receipt, SignedReceipt, SubmitResponse, SubmitResult,
};
use tiezheng_protocol::signed::SignedError;
use tiezheng_protocol::sm2::Sm2Error;
use tiezheng_protocol::{Proof, Timestamp, canonical};

use super::{AppState, Caller, Role, authenticate, canonical_error, now_ms, read_body};
use crate::error::HttpError;
use crate::store::{NewMedia, NewProof};

/// `POST /v1/proofs` (device): one proof, or `{"proofs": [...]}` (up to `max_batch`). The body
/// must be RFC 8785 canonical JSON. Each proof is checked and stored before its receipt is
/// returned; resubmitting a proof returns the same receipt.
pub async fn submit_proofs(
    req: HttpRequest,
    state: web::Data<Arc<AppState>>,
    payload: web::Payload,
) -> Result<HttpResponse, HttpError> {
    let caller = authenticate(&req, &state, &[Role::Device]).await?;
    let body = read_body(payload, state.config.max_body_bytes, &state.config).await?;
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
        .and_then(Value::as_array);
    let count = batch.map_or(1, Vec::len);
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
    let verified = Proof::verify_value_checked(value).map_err(proof_error)?;
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
