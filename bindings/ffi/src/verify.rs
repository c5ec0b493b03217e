//! Offline verification: a proof ([`verify_proof`]), a notary receipt ([`verify_receipt`]) and
//! a bundle, certificate or certificate PDF ([`verify_document`]), with their verdict records.

use std::path::Path;

use crate::errors::{TiezhengError, invalid};

/// The verdict on a proof document.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ProofCheck {
    /// SM3 of the proof.
    pub proof_sm3: String,
    /// SM3 key ID of the signing device.
    pub device_key_id: String,
    /// Its `device_seq`.
    pub device_seq: u64,
    /// SM3 of each file, in item order.
    pub file_sm3: Vec<String>,
}

/// Verifies a proof document (schema, canonical form, SM2 signature, key ID).
#[uniffi::export]
pub fn verify_proof(proof_json: String) -> Result<ProofCheck, TiezhengError> {
    let v = tiezheng_protocol::Proof::verify_bytes(proof_json.as_bytes())
        .map_err(|e| invalid(e.to_string()))?;
    Ok(ProofCheck {
        proof_sm3: v.proof_sm3.to_hex(),
        device_key_id: v.key.key_id().to_hex(),
        device_seq: v.proof.manifest.device_seq,
        file_sm3: v
            .proof
            .manifest
            .items
            .iter()
            .filter_map(|i| i.hashes.first().map(|h| h.value.to_hex()))
            .collect(),
    })
}

/// Verifies a notary receipt against the notary's public key (hex `04‖X‖Y`) and the proof it
/// should be for.
#[uniffi::export]
pub fn verify_receipt(
    receipt_json: String,
    notary_public_key: String,
    proof_json: String,
) -> Result<bool, TiezhengError> {
    let r: tiezheng_protocol::notary::SignedReceipt =
        serde_json::from_str(&receipt_json).map_err(|e| invalid(format!("receipt: {e}")))?;
    let key = tiezheng_protocol::Sm2PublicKey::from_hex(&notary_public_key)
        .map_err(|e| invalid(format!("notary key: {e}")))?;
    r.verify(&key)
        .map_err(|e| invalid(format!("receipt signature: {e}")))?;
    Ok(r.receipt.proof_sm3 == tiezheng_protocol::Hash32::sm3(proof_json.as_bytes()))
}

/// One rule's outcome, as `VERIFYING.md` names it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RuleCheck {
    /// The rule identifier (e.g. `receipt.device_seq`); its layer is the part before the dot.
    pub rule: String,
    /// `pass`, `fail` or `skip` (does not apply: no media file, no CometBFT layer, ...).
    pub status: String,
    /// What was compared, or what disagrees with what.
    pub detail: String,
}

/// What the verification of a bundle, certificate or certificate PDF established: the same
/// report, rule by rule, as `tiezheng verify` and the browser give for the same input.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DocumentCheck {
    /// Whether every rule holds.
    pub valid: bool,
    /// `bundle`, `certificate`, `certificate_pdf` or `public_digest`.
    pub kind: String,
    /// The first layer that failed (`certificate`, `bundle`, `policy`, `governance`,
    /// `proof`, `media`, `receipt`, `leaf`, `batch`, `anchor`, `checkpoint`, `chain`), if any.
    pub failed_layer: Option<String>,
    /// The rule that failed first (`VERIFYING.md` identifier, e.g. `receipt.device_seq`).
    pub failed_rule: Option<String>,
    /// Why it failed.
    pub reason: Option<String>,
    /// SM3 of the proof (once the proof could be read).
    pub proof_sm3: Option<String>,
    /// Ledger height of the anchor (once the anchor could be read).
    pub anchor_height: Option<u64>,
    /// Members whose cosignatures counted.
    pub cosigners: Vec<String>,
    /// Whether a file was checked against the proof (and the document holds).
    pub media_checked: bool,
    /// The certificate number, for a certificate.
    pub certificate_number: Option<String>,
    /// `pinned` (the policy given) or `bundle` (the keys inside the bundle: consistency only).
    pub policy_source: Option<String>,
    /// Every rule checked, in catalogue order.
    pub checks: Vec<RuleCheck>,
}

/// Verifies a bundle, a certificate (JSON) or a certificate PDF with no network, by the
/// protocol's one verification entry: every rule from the file's hashes to the cosigned ledger
/// checkpoint (and the certificate's own rules). `media_path` is the evidence file to check
/// (optional); `policy_json` the keys the verifier trusts: a court pins the consortium's
/// genesis policy. Without it the keys inside the bundle are used, which shows consistency,
/// not who signed, and a bundle that carries registry changes is refused as unusable
/// ([`TiezhengError::InvalidInput`]), as it is by `tiezheng verify` and the browser.
#[uniffi::export]
pub fn verify_document(
    document: Vec<u8>,
    media_path: Option<String>,
    policy_json: Option<String>,
) -> Result<DocumentCheck, TiezhengError> {
    use tiezheng_protocol::verify::{Document, DocumentKind, PolicySource, Status};
    let policy = policy_json
        .map(|p| {
            serde_json::from_str::<tiezheng_protocol::bundle::Policy>(&p).map_err(|e| {
                invalid(format!(
                    "policy: not a policy (schemas/policy.schema.json): {e}"
                ))
            })
        })
        .transpose()?;
    let doc = Document::recognise(&document).map_err(|e| invalid(e.message))?;
    let media = media_path
        .map(|p| {
            tiezheng_sdk::files::hash_media_file(Path::new(&p), &doc.segment_ranges(), |_, _| {})
                .map_err(|e| invalid(format!("{e} ({})", e.hint())))
        })
        .transpose()?;
    let v = doc
        .verify(media.as_ref(), policy.as_ref())
        .map_err(|e| invalid(e.message))?;
    let first = v.first_failure();
    Ok(DocumentCheck {
        valid: v.valid,
        kind: match v.kind {
            DocumentKind::Bundle => "bundle",
            DocumentKind::Certificate => "certificate",
            DocumentKind::CertificatePdf => "certificate_pdf",
            DocumentKind::PublicDigest => "public_digest",
            DocumentKind::AppraisalOpinion => "appraisal_opinion",
        }
        .to_owned(),
        failed_layer: first.map(|c| c.layer.to_owned()),
        failed_rule: first.map(|c| c.rule.to_owned()),
        reason: first.map(|c| c.detail.clone()),
        proof_sm3: v.facts.proof_sm3.map(|h| h.to_hex()),
        anchor_height: v.facts.anchor_height,
        cosigners: v.facts.cosigners.clone(),
        media_checked: v.facts.media_item.is_some(),
        certificate_number: v.certificate.as_ref().map(|c| c.number.clone()),
        policy_source: v.policy_source.map(|s| {
            match s {
                PolicySource::Pinned => "pinned",
                PolicySource::Bundle => "bundle",
            }
            .to_owned()
        }),
        checks: v
            .checks
            .iter()
            .map(|c| RuleCheck {
                rule: c.rule.to_owned(),
                status: match c.status {
                    Status::Pass => "pass",
                    Status::Fail => "fail",
                    Status::Skip => "skip",
                }
                .to_owned(),
                detail: c.detail.clone(),
            })
            .collect(),
    })
}
