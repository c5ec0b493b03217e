//! The plain records of the capture flow (the case, a capture's result and findings, the
//! device's identity, the queue, a sync's outcome) and their conversion from the SDK's types.

use tiezheng_protocol::canonical;
use tiezheng_protocol::manifest as m;
use tiezheng_sdk::capture::CaptureOutcome;

use crate::errors::TiezhengError;

/// The case and collection record of a capture. Only `reference` is required: every other
/// field defaults to absent (Kotlin and Swift: named arguments with defaults; Python: keyword
/// arguments).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CaseInfo {
    /// Case or enforcement-session reference.
    pub reference: String,
    /// Cause (案由).
    #[uniffi(default = None)]
    pub cause: Option<String>,
    /// What is being recorded.
    #[uniffi(default = None)]
    pub object: Option<String>,
    /// Description of the content.
    #[uniffi(default = None)]
    pub description: Option<String>,
    /// Collection method (default: on-site capture with the Tiezheng SDK).
    #[uniffi(default = None)]
    pub method: Option<String>,
    /// Collector officer IDs (default: the device's officers).
    #[uniffi(default = [])]
    pub collectors: Vec<String>,
    /// Holder or party name.
    #[uniffi(default = None)]
    pub holder_name: Option<String>,
    /// Note about the holder (e.g. refused to sign).
    #[uniffi(default = None)]
    pub holder_note: Option<String>,
    /// Witness name.
    #[uniffi(default = None)]
    pub witness_name: Option<String>,
    /// Why there is no witness, or a note.
    #[uniffi(default = None)]
    pub witness_note: Option<String>,
    /// The forensic profile to follow (`profiles()` lists them); default: the device's.
    #[uniffi(default = None)]
    pub profile: Option<String>,
    /// Why a `should` of the profile cannot be met, per rule (recorded in the manifest).
    #[uniffi(default = [])]
    pub reasons: Vec<crate::profiles::ProfileReason>,
}

/// A consistency finding.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Finding {
    /// Stable code.
    pub code: String,
    /// For people.
    pub detail: String,
}

/// A capture that is signed and queued.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CaptureResult {
    /// Its place in the device chain.
    pub device_seq: u64,
    /// SM3 of the proof.
    pub proof_sm3: String,
    /// The proof, RFC 8785 JSON.
    pub proof_json: String,
    /// SM3 of the file (empty for session summaries).
    pub sm3: String,
    /// SHA-256 of the file.
    pub sha256: String,
    /// File size.
    pub bytes: u64,
    /// Findings recorded in the manifest.
    pub findings: Vec<Finding>,
}

/// The device's identity.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DeviceSummary {
    /// Local identifier.
    pub device_id: String,
    /// SM3 of the SM2 public key.
    pub key_id: String,
    /// `04‖X‖Y` hex.
    pub public_key: String,
    /// Enrolment ID, once enrolled.
    pub enrolment_id: Option<String>,
    /// Officers.
    pub officers: Vec<String>,
    /// The forensic profile captures follow unless they choose another.
    pub profile: String,
}

/// A queued proof.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct QueueItem {
    /// Its place in the chain.
    pub device_seq: u64,
    /// Receipted by the notary.
    pub acknowledged: bool,
    /// SM3 of the proof.
    pub proof_sm3: String,
    /// Case reference.
    pub case_reference: String,
    /// File names.
    pub files: Vec<String>,
}

/// The outcome of a sync.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncReport {
    /// Proofs receipted in this run.
    pub acknowledged: u64,
    /// Media bytes uploaded.
    pub media_bytes: u64,
    /// Proofs still pending.
    pub pending: u64,
    /// Proofs the notary refused in this run; they stay queued.
    pub refused: Vec<RefusedProof>,
}

/// A proof the notary refused during a sync.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RefusedProof {
    /// Its `device_seq`.
    pub device_seq: u64,
    /// The notary's error code (see `bindings/REJECTED-CODES.md`).
    pub code: String,
    /// For people.
    pub reason: String,
}

pub(crate) fn findings(f: &[m::Finding]) -> Vec<Finding> {
    f.iter()
        .map(|f| Finding {
            code: f.code.clone(),
            detail: f.detail.clone(),
        })
        .collect()
}

pub(crate) fn result(o: &CaptureOutcome) -> Result<CaptureResult, TiezhengError> {
    let item = o.proof.manifest.items.first();
    let hash = |alg| {
        item.and_then(|i| i.hashes.iter().find(|h| h.algorithm == alg))
            .map(|h| h.value.to_hex())
            .unwrap_or_default()
    };
    Ok(CaptureResult {
        device_seq: o.proof.manifest.device_seq,
        proof_sm3: o.proof_sm3.to_hex(),
        proof_json: String::from_utf8(canonical::to_canonical_bytes(&o.proof).map_err(|e| {
            TiezhengError::Other {
                reason: e.to_string(),
            }
        })?)
        .unwrap_or_default(),
        sm3: hash(tiezheng_protocol::HashAlgorithm::Sm3),
        sha256: hash(tiezheng_protocol::HashAlgorithm::Sha256),
        bytes: item.map_or(0, |i| i.bytes),
        findings: item.map(|i| findings(&i.findings)).unwrap_or_default(),
    })
}
