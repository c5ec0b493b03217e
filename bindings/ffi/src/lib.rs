/*!
The Tiezheng SDK for Kotlin (Android), Swift (iOS) and Python, through UniFFI proc-macros.

This crate is thin: it converts between UniFFI types and `tiezheng-sdk`, and classifies every
failure into [`TiezhengError`], the small error enum apps act on (locked key, wrong unlock, not
enrolled, network, rejected by the notary, invalid input, platform hook failure). The platform
itself plugs in through foreign traits: [`KeyVault`] (Android Keystore, iOS Keychain / Secure
Enclave), [`Clock`], [`LocationProvider`], [`NetworkStatus`], and [`SyncListener`] for progress.

The capture flow: [`Device::setup`] or [`Device::unlock`], then [`Device::capture_photo`] with
the camera's bytes (zero-copy), [`Device::start_recording`] for video and audio
([`Recording::write`] chunk by chunk, then [`Recording::finish`]), [`Device::close_session`],
and `async` [`Device::enrol`] / [`Device::sync`] with the notary.

Byte arguments are borrowed `&[u8]`: the foreign side lends its buffer for the call. In Kotlin
that is exactly the bytes between a `ByteBuffer`'s position and limit — a direct buffer is read
in place, a heap buffer copied once — and the buffer's position is left unchanged; the
generated converter that does this is the workspace `uniffi-bindgen`'s
(`bindings/uniffi-bindgen/src/byte_buffers.rs`), and `bindings/kotlin/` adds `ByteArray`
overloads with offset and length. Swift passes `Data`; Python any bytes-like object.

Generate the bindings with the workspace's `uniffi-bindgen` binary (see `bindings/README.md`).
*/
// UniFFI's generated scaffolding is `extern "C"` code; this is the one crate allowed it.
#![allow(unsafe_code)]
// UniFFI lifts foreign arguments into owned Rust values; taking them by value is the interface.
#![allow(clippy::needless_pass_by_value)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tiezheng_protocol::manifest::{self as m, Decimal};
use tiezheng_protocol::{Timestamp, canonical};
use tiezheng_sdk::capture::{
    CaptureContext, CaptureError, CaptureOutcome, Recorder, SegmentPolicy,
};
use tiezheng_sdk::client::{ClientError, NotaryClient};
use tiezheng_sdk::device::{DeviceError, DeviceSetup, UnlockedDevice};
use tiezheng_sdk::protocol::hash::DualHasher;
use tiezheng_sdk::queue::{EntryState, Queue};
use tiezheng_sdk::vault::VaultError;

uniffi::setup_scaffolding!();

// --- errors ----------------------------------------------------------------------------------

/// What went wrong, in terms an app can act on.
///
/// Exhaustive on purpose: apps switch over it in Kotlin and Swift, and any new variant changes
/// the generated bindings anyway.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum TiezhengError {
    /// Too many wrong unlocks: the device key is locked; the device must be set up and enrolled
    /// again.
    #[error(
        "the device key is locked after too many wrong unlocks; set up and enrol the device again"
    )]
    KeyLocked,
    /// The officer's unlock (PIN, biometric) was wrong.
    #[error("wrong unlock: {attempts_left} attempts left before the key locks")]
    WrongUnlock {
        /// Attempts left.
        attempts_left: u32,
    },
    /// The device has not been enrolled with a notary.
    #[error("the device is not enrolled with a notary; enrol it first")]
    NotEnrolled,
    /// The notary could not be reached; the work stays queued.
    #[error("network: {reason}")]
    Network {
        /// Why.
        reason: String,
    },
    /// The notary refused a request: `code` is stable, `field` names the field at fault.
    #[error("the notary refused: {reason} [{code}]")]
    Rejected {
        /// Stable error code (e.g. `invalid_code`, `replayed_sequence`).
        code: String,
        /// For people (named `reason`: Kotlin exceptions already have a `message`).
        reason: String,
        /// The field at fault, if any.
        field: Option<String>,
    },
    /// An argument the SDK cannot use.
    #[error("invalid input: {reason}")]
    InvalidInput {
        /// What is wrong.
        reason: String,
    },
    /// A platform hook (vault, clock, location, network) failed or threw.
    #[error("platform hook failed: {reason}")]
    Platform {
        /// What failed.
        reason: String,
    },
    /// Anything else (storage, a notary answer that does not verify).
    #[error("{reason}")]
    Other {
        /// What happened.
        reason: String,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for TiezhengError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        Self::Platform { reason: e.reason }
    }
}

impl From<DeviceError> for TiezhengError {
    fn from(e: DeviceError) -> Self {
        match e {
            DeviceError::WrongUnlock { remaining } => Self::WrongUnlock {
                attempts_left: remaining,
            },
            DeviceError::Locked => Self::KeyLocked,
            DeviceError::NotInitialised(_)
            | DeviceError::NoOfficer
            | DeviceError::AlreadyInitialised(_) => Self::InvalidInput {
                reason: e.to_string(),
            },
            DeviceError::Vault(v) => Self::Platform {
                reason: v.to_string(),
            },
            other => Self::Other {
                reason: other.to_string(),
            },
        }
    }
}

impl From<CaptureError> for TiezhengError {
    fn from(e: CaptureError) -> Self {
        match e {
            CaptureError::Device(d) => d.into(),
            CaptureError::BadFileName(_) | CaptureError::File(_) => Self::InvalidInput {
                reason: e.to_string(),
            },
            other => Self::Other {
                reason: other.to_string(),
            },
        }
    }
}

impl From<ClientError> for TiezhengError {
    fn from(e: ClientError) -> Self {
        match e {
            ClientError::Device(d) => d.into(),
            ClientError::Network { reason, .. } => Self::Network { reason },
            ClientError::Rejected { error, .. } => Self::Rejected {
                code: error.code,
                reason: error.message,
                field: error.field,
            },
            ClientError::NotEnrolled => Self::NotEnrolled,
            other => Self::Other {
                reason: other.to_string(),
            },
        }
    }
}

fn invalid(reason: impl Into<String>) -> TiezhengError {
    TiezhengError::InvalidInput {
        reason: reason.into(),
    }
}

// --- platform hooks ----------------------------------------------------------------------------

/// The platform's key vault: seals and opens the 32-byte key-encryption key that protects the
/// device's SM2 key. Android: an AES key in the Android Keystore requiring user
/// authentication; iOS: the Keychain or the Secure Enclave. Throw `WrongUnlock` when the
/// officer's authentication fails.
#[uniffi::export(with_foreign)]
pub trait KeyVault: Send + Sync {
    /// Seals `kek`; the SDK stores the returned blob.
    fn seal_kek(&self, kek: Vec<u8>) -> Result<Vec<u8>, TiezhengError>;
    /// Opens a blob made by `seal_kek`, after the officer's authentication.
    fn open_kek(&self, blob: Vec<u8>) -> Result<Vec<u8>, TiezhengError>;
}

/// The platform's clocks.
#[uniffi::export(with_foreign)]
pub trait Clock: Send + Sync {
    /// Wall-clock milliseconds since 1970 (UTC).
    fn now_unix_ms(&self) -> Result<i64, TiezhengError>;
    /// The device's current UTC offset in minutes (e.g. 480 for China Standard Time).
    fn utc_offset_minutes(&self) -> Result<i32, TiezhengError>;
    /// A monotonic clock in milliseconds (e.g. since boot).
    fn monotonic_ms(&self) -> Result<u64, TiezhengError>;
}

/// The operating system's location fix at capture time.
#[uniffi::export(with_foreign)]
pub trait LocationProvider: Send + Sync {
    /// The latest fix, or `None` when there is none.
    fn current_fix(&self) -> Result<Option<LocationFix>, TiezhengError>;
}

/// Whether the network is available (sync refuses to start offline).
#[uniffi::export(with_foreign)]
pub trait NetworkStatus: Send + Sync {
    /// True when a connection is available.
    fn is_online(&self) -> Result<bool, TiezhengError>;
}

/// Receives sync progress.
#[uniffi::export(with_foreign)]
pub trait SyncListener: Send + Sync {
    /// Called for every event; errors thrown here are ignored.
    fn on_event(&self, event: SyncEvent) -> Result<(), TiezhengError>;
}

/// Where a location fix came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum LocationSource {
    /// Satellites.
    Gps,
    /// Cell / Wi-Fi.
    Network,
    /// The platform's fused provider.
    Fused,
    /// Entered by hand.
    Manual,
}

/// A location fix as the platform reports it (WGS-84, never converted).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct LocationFix {
    /// Latitude in degrees.
    pub latitude: f64,
    /// Longitude in degrees.
    pub longitude: f64,
    /// Altitude in metres.
    pub altitude: Option<f64>,
    /// Horizontal accuracy in metres.
    pub horizontal_accuracy: Option<f64>,
    /// Vertical accuracy in metres.
    pub vertical_accuracy: Option<f64>,
    /// Provider.
    pub source: LocationSource,
    /// Time of the fix (Unix ms).
    pub fix_time_unix_ms: Option<i64>,
    /// Satellites used.
    pub satellites: Option<u32>,
    /// Flagged as mock by the OS.
    pub mock: bool,
}

/// Sync progress.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum SyncEvent {
    /// A proof was receipted and acknowledged.
    Receipted {
        /// Its `device_seq`.
        device_seq: u64,
        /// The notary flagged a gap before it.
        chain_gap: bool,
    },
    /// Media upload progress.
    Uploading {
        /// SM3 of the file.
        sm3: String,
        /// Bytes the notary has.
        received: u64,
        /// Total.
        total: u64,
    },
    /// A request failed and is retried.
    Retrying {
        /// Attempt number.
        attempt: u32,
        /// Why.
        reason: String,
    },
}

/// The SDK's vault interface over the platform's.
struct VaultAdapter(Arc<dyn KeyVault>);

impl tiezheng_sdk::vault::KeyVault for VaultAdapter {
    fn seal_kek(&self, kek: &tiezheng_sdk::vault::Kek) -> Result<Vec<u8>, VaultError> {
        self.0.seal_kek(kek.to_vec()).map_err(vault_error)
    }

    fn open_kek(&self, blob: &[u8]) -> Result<tiezheng_sdk::vault::Kek, VaultError> {
        let kek = self.0.open_kek(blob.to_vec()).map_err(vault_error)?;
        kek.try_into().map_err(|_| {
            VaultError::Corrupt("the platform vault returned a key that is not 32 bytes".into())
        })
    }
}

fn vault_error(e: TiezhengError) -> VaultError {
    match e {
        TiezhengError::WrongUnlock { .. } => VaultError::WrongUnlock,
        other => VaultError::Unavailable {
            reason: other.to_string(),
        },
    }
}

/// The SDK's segment clock over the platform's monotonic clock.
struct ClockAdapter(Arc<dyn Clock>);

impl tiezheng_sdk::capture::Clock for ClockAdapter {
    fn now_ms(&self) -> u64 {
        self.0.monotonic_ms().unwrap_or(0)
    }
}

// --- records ------------------------------------------------------------------------------------

/// The case and collection record of a capture.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CaseInfo {
    /// Case or enforcement-session reference.
    pub reference: String,
    /// Cause (案由).
    pub cause: Option<String>,
    /// What is being recorded.
    pub object: Option<String>,
    /// Description of the content.
    pub description: Option<String>,
    /// Collection method (default: on-site capture with the Tiezheng SDK).
    pub method: Option<String>,
    /// Collector officer IDs (default: the device's officers).
    pub collectors: Vec<String>,
    /// Holder or party name.
    pub holder_name: Option<String>,
    /// Note about the holder (e.g. refused to sign).
    pub holder_note: Option<String>,
    /// Witness name.
    pub witness_name: Option<String>,
    /// Why there is no witness, or a note.
    pub witness_note: Option<String>,
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
}

/// SM3 and SHA-256 of some bytes, as lowercase hex.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ContentDigests {
    /// Number of bytes hashed.
    pub bytes: u64,
    /// SM3 digest (GB/T 32905), 64 lowercase hex digits.
    pub sm3: String,
    /// SHA-256 digest, 64 lowercase hex digits.
    pub sha256: String,
}

/// What a file says about itself.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct MediaInfo {
    /// MIME type sniffed from the bytes.
    pub mime: String,
    /// Size, SM3 and SHA-256.
    pub digests: ContentDigests,
    /// Capture time written in the file.
    pub captured_at: Option<String>,
    /// Camera make.
    pub make: Option<String>,
    /// Camera model.
    pub model: Option<String>,
    /// GPS latitude from the file.
    pub latitude: Option<f64>,
    /// GPS longitude from the file.
    pub longitude: Option<f64>,
    /// GPS altitude from the file.
    pub altitude: Option<f64>,
    /// Unreadable or missing metadata.
    pub warnings: Vec<Finding>,
}

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

// --- free functions -----------------------------------------------------------------------------

/// The SDK version string (the Rust crate version).
#[uniffi::export]
pub fn sdk_version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

/// Hashes `data` with SM3 and SHA-256 (the foreign buffer is borrowed, not copied).
///
/// Kotlin: the bytes between the `ByteBuffer`'s position and limit, direct (zero-copy) or heap
/// (copied once); the position is left unchanged. Python: any bytes-like object.
#[uniffi::export]
pub fn hash_bytes(data: &[u8]) -> ContentDigests {
    let mut h = DualHasher::new();
    h.update(data);
    digests(&h.finalize())
}

fn digests(d: &tiezheng_protocol::ContentDigests) -> ContentDigests {
    ContentDigests {
        bytes: d.bytes,
        sm3: d.sm3.to_hex(),
        sha256: d.sha256.to_hex(),
    }
}

/// Hashes and inspects a file (EXIF, XMP, MP4/MOV tags).
#[uniffi::export]
pub fn inspect_file(path: String) -> Result<MediaInfo, TiezhengError> {
    let i = tiezheng_sdk::inspect::inspect_file(Path::new(&path))
        .map_err(|e| invalid(format!("{e} ({})", e.hint())))?;
    let gps = i.metadata.gps.as_ref();
    Ok(MediaInfo {
        mime: i.media.mime().to_owned(),
        digests: digests(&i.digests),
        captured_at: i.metadata.captured_at.clone(),
        make: i.metadata.make.clone(),
        model: i.metadata.model.clone(),
        latitude: gps.map(|g| g.latitude.to_f64()),
        longitude: gps.map(|g| g.longitude.to_f64()),
        altitude: gps.and_then(|g| g.altitude.as_ref().map(Decimal::to_f64)),
        warnings: findings(&i.findings),
    })
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
    /// `bundle`, `certificate` or `certificate_pdf`.
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

fn findings(f: &[m::Finding]) -> Vec<Finding> {
    f.iter()
        .map(|f| Finding {
            code: f.code.clone(),
            detail: f.detail.clone(),
        })
        .collect()
}

fn result(o: &CaptureOutcome) -> Result<CaptureResult, TiezhengError> {
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

// --- the device ---------------------------------------------------------------------------------

/// An officer's device, unlocked for this session.
#[derive(uniffi::Object)]
pub struct Device {
    inner: Arc<UnlockedDevice>,
    dir: PathBuf,
    clock: Arc<dyn Clock>,
    location: Option<Arc<dyn LocationProvider>>,
    network: Option<Arc<dyn NetworkStatus>>,
}

impl std::fmt::Debug for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Device")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl Device {
    /// Sets up a new device in `dir`: the SM2 key is generated here and sealed through `vault`.
    #[uniffi::constructor]
    #[allow(clippy::too_many_arguments)] // the platform hooks are the constructor's arguments
    pub fn setup(
        dir: String,
        officers: Vec<String>,
        model: String,
        os: String,
        vault: Arc<dyn KeyVault>,
        clock: Arc<dyn Clock>,
        location: Option<Arc<dyn LocationProvider>>,
        network: Option<Arc<dyn NetworkStatus>>,
    ) -> Result<Arc<Self>, TiezhengError> {
        let adapter = VaultAdapter(vault);
        let device = tiezheng_sdk::device::Device::init(
            Path::new(&dir),
            DeviceSetup {
                officers,
                model,
                os,
            },
            &adapter,
        )?;
        let inner = device.unlock(&adapter)?;
        Ok(Arc::new(Self {
            inner: Arc::new(inner),
            dir: PathBuf::from(dir),
            clock,
            location,
            network,
        }))
    }

    /// Opens the device in `dir` and unlocks its key through `vault` (the officer
    /// authenticates). Wrong unlocks are counted; too many lock the key.
    #[uniffi::constructor]
    pub fn unlock(
        dir: String,
        vault: Arc<dyn KeyVault>,
        clock: Arc<dyn Clock>,
        location: Option<Arc<dyn LocationProvider>>,
        network: Option<Arc<dyn NetworkStatus>>,
    ) -> Result<Arc<Self>, TiezhengError> {
        let inner =
            tiezheng_sdk::device::Device::open(Path::new(&dir))?.unlock(&VaultAdapter(vault))?;
        Ok(Arc::new(Self {
            inner: Arc::new(inner),
            dir: PathBuf::from(dir),
            clock,
            location,
            network,
        }))
    }

    /// The device's identity.
    pub fn summary(&self) -> DeviceSummary {
        let s = self.inner.device().state();
        let info = self.inner.info();
        DeviceSummary {
            device_id: s.device_id.clone(),
            key_id: s.key_id.to_hex(),
            public_key: s.public_key.clone(),
            enrolment_id: info.enrolment_id,
            officers: s.officers.clone(),
        }
    }

    /// Captures a photo from the bytes the camera delivered (borrowed, not copied).
    ///
    /// Kotlin: the bytes between the `ByteBuffer`'s position and limit, direct (zero-copy) or
    /// heap (copied once); the position is left unchanged, so a failed capture can be retried
    /// with the same buffer. Python: any bytes-like object.
    pub fn capture_photo(
        &self,
        file_name: String,
        bytes: &[u8],
        case: CaseInfo,
    ) -> Result<CaptureResult, TiezhengError> {
        let ctx = self.context(case)?;
        result(&self.inner.capture_photo(&file_name, bytes, &ctx)?)
    }

    /// Imports an existing file (recorded as `imported`, never as captured).
    pub fn import_file(
        &self,
        path: String,
        case: CaseInfo,
    ) -> Result<CaptureResult, TiezhengError> {
        let ctx = self.context(case)?;
        result(&self.inner.import_file(Path::new(&path), &ctx)?)
    }

    /// Starts a video or audio recording; segments close every `segment_max_bytes` bytes or
    /// `segment_max_ms` milliseconds.
    pub fn start_recording(
        &self,
        file_name: String,
        case: CaseInfo,
        segment_max_bytes: u64,
        segment_max_ms: u64,
    ) -> Result<Arc<Recording>, TiezhengError> {
        let ctx = self.context(case)?;
        let policy = SegmentPolicy {
            max_bytes: segment_max_bytes,
            max_ms: segment_max_ms,
        };
        let rec = self.inner.start_recording_shared(
            &file_name,
            policy,
            &ctx,
            Box::new(ClockAdapter(self.clock.clone())),
        )?;
        Ok(Arc::new(Recording {
            inner: Mutex::new(Some(rec)),
        }))
    }

    /// Proves recordings cut off by a crash, up to their last closed segment.
    pub fn recover_recordings(&self) -> Result<Vec<CaptureResult>, TiezhengError> {
        self.inner
            .recover_recordings()?
            .iter()
            .map(result)
            .collect()
    }

    /// Closes an enforcement session with a signed summary of its captures since
    /// `opened_at_unix_ms`.
    pub fn close_session(
        &self,
        case: CaseInfo,
        opened_at_unix_ms: i64,
    ) -> Result<CaptureResult, TiezhengError> {
        let ctx = self.context(case)?;
        result(
            &self
                .inner
                .close_session(Timestamp::from_unix_ms(opened_at_unix_ms, 0), &ctx)?,
        )
    }

    /// The queue of proofs, oldest first.
    pub fn queue(&self) -> Result<Vec<QueueItem>, TiezhengError> {
        let q = Queue::open(&self.dir)?;
        let mut out = Vec::new();
        for e in q.entries()? {
            let p = q.read(&e)?;
            out.push(QueueItem {
                device_seq: e.device_seq,
                acknowledged: e.state == EntryState::Acknowledged,
                proof_sm3: p.sm3().map(|h| h.to_hex()).unwrap_or_default(),
                case_reference: p.manifest.case.reference.clone(),
                files: p
                    .manifest
                    .items
                    .iter()
                    .map(|i| i.file_name.clone())
                    .collect(),
            });
        }
        Ok(out)
    }

    /// Enrols the device with the notary at `notary_url` using a one-time `code`.
    pub async fn enrol(
        &self,
        notary_url: String,
        code: String,
    ) -> Result<DeviceSummary, TiezhengError> {
        self.check_online()?;
        let client = NotaryClient::new(&notary_url)?;
        client.enrol(&self.inner, &code).await?;
        Ok(self.summary())
    }

    /// Sends queued proofs and their media to the notary and stores the signed receipts.
    pub async fn sync(
        &self,
        listener: Option<Arc<dyn SyncListener>>,
    ) -> Result<SyncReport, TiezhengError> {
        self.check_online()?;
        let binding = tiezheng_sdk::client::NotaryBinding::load(&self.dir)?;
        let client = NotaryClient::new(&binding.url)?;
        let report = client
            .sync(&self.dir, |e| {
                if let Some(l) = &listener {
                    let event = match e {
                        tiezheng_sdk::client::SyncEvent::Receipted {
                            device_seq,
                            chain_gap,
                        } => SyncEvent::Receipted {
                            device_seq,
                            chain_gap,
                        },
                        tiezheng_sdk::client::SyncEvent::Uploading {
                            sm3,
                            received,
                            total,
                        } => SyncEvent::Uploading {
                            sm3: sm3.to_hex(),
                            received,
                            total,
                        },
                        tiezheng_sdk::client::SyncEvent::Retrying { attempt, reason } => {
                            SyncEvent::Retrying { attempt, reason }
                        }
                        _ => return,
                    };
                    let _ = l.on_event(event);
                }
            })
            .await?;
        Ok(SyncReport {
            acknowledged: report.acknowledged as u64,
            media_bytes: report.media_bytes,
            pending: report.pending as u64,
        })
    }
}

impl Device {
    fn check_online(&self) -> Result<(), TiezhengError> {
        if let Some(n) = &self.network
            && !n.is_online()?
        {
            return Err(TiezhengError::Network {
                reason: "the device is offline; the proofs stay queued".into(),
            });
        }
        Ok(())
    }

    fn context(&self, case: CaseInfo) -> Result<CaptureContext, TiezhengError> {
        if case.reference.trim().is_empty() {
            return Err(invalid("case reference is empty"));
        }
        let now = self.clock.now_unix_ms()?;
        let offset = i16::try_from(self.clock.utc_offset_minutes()?)
            .map_err(|_| invalid("UTC offset out of range"))?;
        let monotonic = self.clock.monotonic_ms().ok();
        let fix = match &self.location {
            Some(l) => l.current_fix()?,
            None => None,
        };
        let dec = |v: f64, what: &str| {
            Decimal::from_f64(v, 9).map_err(|_| invalid(format!("{what} is not a finite number")))
        };
        let os_fix = match fix {
            Some(f) => {
                if !(-90.0..=90.0).contains(&f.latitude) || !(-180.0..=180.0).contains(&f.longitude)
                {
                    return Err(invalid("location fix out of range"));
                }
                Some(m::LocationFix {
                    latitude: dec(f.latitude, "latitude")?,
                    longitude: dec(f.longitude, "longitude")?,
                    altitude: f.altitude.map(|a| dec(a, "altitude")).transpose()?,
                    horizontal_accuracy: f
                        .horizontal_accuracy
                        .map(|a| dec(a, "horizontal accuracy"))
                        .transpose()?,
                    vertical_accuracy: f
                        .vertical_accuracy
                        .map(|a| dec(a, "vertical accuracy"))
                        .transpose()?,
                    provider: match f.source {
                        LocationSource::Gps => m::LocationProvider::Gps,
                        LocationSource::Network => m::LocationProvider::Network,
                        LocationSource::Fused => m::LocationProvider::Fused,
                        LocationSource::Manual => m::LocationProvider::Manual,
                    },
                    fix_time: f
                        .fix_time_unix_ms
                        .map(|t| Timestamp::from_unix_ms(t, offset)),
                    satellites: f.satellites,
                    mock: f.mock,
                })
            }
            None => None,
        };
        let collectors = if case.collectors.is_empty() {
            self.inner.device().state().officers.clone()
        } else {
            case.collectors
        };
        let party = |name: Option<String>, note: Option<String>| {
            (name.is_some() || note.is_some()).then_some(m::PartyRecord { name, note })
        };
        Ok(CaptureContext {
            case: m::CaseRecord {
                reference: case.reference,
                cause: case.cause,
                object: case.object,
                description: case.description,
                method: case
                    .method
                    .unwrap_or_else(|| "on-site capture with the Tiezheng SDK".into()),
                collectors,
                holder: party(case.holder_name, case.holder_note),
                witness: party(case.witness_name, case.witness_note),
            },
            device_time: Timestamp::from_unix_ms(now, offset),
            monotonic_ms: monotonic,
            gnss_time: None,
            last_time_sync: None,
            os_fix,
        })
    }
}

// --- streaming capture ----------------------------------------------------------------------------

/// A video or audio recording in progress: feed encoder output with [`Recording::write`].
#[derive(uniffi::Object)]
pub struct Recording {
    inner: Mutex<Option<Recorder<'static>>>,
}

impl std::fmt::Debug for Recording {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recording").finish_non_exhaustive()
    }
}

fn finished() -> TiezhengError {
    invalid("the recording is already finished or aborted")
}

#[uniffi::export]
impl Recording {
    /// Appends a chunk of encoder output (borrowed, not copied).
    ///
    /// Kotlin: the bytes between the `ByteBuffer`'s position and limit, direct (zero-copy) or
    /// heap (copied once); the position is left unchanged (the chunk is taken whole or the call
    /// fails). Python: any bytes-like object.
    pub fn write(&self, chunk: &[u8]) -> Result<(), TiezhengError> {
        let mut g = self.inner.lock().map_err(|_| TiezhengError::Other {
            reason: "recording lock poisoned".into(),
        })?;
        g.as_mut().ok_or_else(finished)?.write(chunk)?;
        Ok(())
    }

    /// Bytes received so far.
    pub fn bytes(&self) -> u64 {
        self.inner
            .lock()
            .ok()
            .and_then(|g| g.as_ref().map(Recorder::bytes))
            .unwrap_or(0)
    }

    /// Segments closed so far.
    pub fn segments(&self) -> u64 {
        self.inner
            .lock()
            .ok()
            .and_then(|g| g.as_ref().map(|r| r.segments().len() as u64))
            .unwrap_or(0)
    }

    /// Ends the recording: the file is stored and its proof signed and queued.
    pub fn finish(&self) -> Result<CaptureResult, TiezhengError> {
        let rec = self
            .inner
            .lock()
            .map_err(|_| TiezhengError::Other {
                reason: "recording lock poisoned".into(),
            })?
            .take()
            .ok_or_else(finished)?;
        result(&rec.finish()?)
    }

    /// Discards the recording: nothing is stored or queued.
    pub fn abort(&self) -> Result<(), TiezhengError> {
        let rec = self
            .inner
            .lock()
            .map_err(|_| TiezhengError::Other {
                reason: "recording lock poisoned".into(),
            })?
            .take()
            .ok_or_else(finished)?;
        rec.abort()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_bytes_matches_the_standard() {
        let d = hash_bytes(b"abc");
        assert_eq!(
            d.sm3,
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
    }
}
