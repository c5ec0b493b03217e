//! Documents exchanged with the notary: enrolment, device certificates, receipts and errors.
//!
//! * A device enrols by sending an [`EnrolmentRequest`] signed with its own SM2 key (proof that
//!   it holds the key) together with a one-time code; the notary answers with a
//!   [`DeviceCertificate`] it signs with its SM2 key.
//! * Every accepted proof is answered with a [`Receipt`] signed by the notary: the proof of
//!   receipt. Resubmitting the same proof returns the same receipt.
//! * Every error has one shape, [`ApiError`]: a stable code, a message for people, and the field
//!   at fault when there is one.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::hash::Hash32;
use crate::signed::{SignatureBlock, SignedError};
use crate::sm2::{Sm2PublicKey, Sm2SigningKey};
use crate::time::Timestamp;

/// `type` of a receipt.
pub const RECEIPT_TYPE: &str = "tiezheng.receipt.v1";
/// `type` of a device certificate.
pub const DEVICE_CERTIFICATE_TYPE: &str = "tiezheng.device-certificate.v1";
/// `type` of an enrolment request.
pub const ENROLMENT_REQUEST_TYPE: &str = "tiezheng.enrolment-request.v1";

/// The notary's proof of receipt of one device proof.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    /// Always `"tiezheng.receipt.v1"`.
    #[serde(rename = "type")]
    #[schemars(extend("const" = "tiezheng.receipt.v1"))]
    pub kind: String,
    /// SM3 of the proof's RFC 8785 bytes.
    pub proof_sm3: Hash32,
    /// SM3 of the manifest's RFC 8785 bytes.
    pub manifest_sm3: Hash32,
    /// SM3 of the device's public key.
    pub device_key_id: Hash32,
    /// The manifest's `device_seq`.
    pub device_seq: u64,
    /// When the notary stored the proof, by the notary's clock.
    pub received_at: Timestamp,
    /// SM3 of the notary's public key.
    pub notary_key_id: Hash32,
    /// Set when earlier `device_seq` values of this device have not been received: the proof
    /// is accepted, and the gap is on record.
    pub chain_gap: bool,
}

/// A receipt with the notary's signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "SignedReceipt",
    description = "Receipt for a device proof, signed by the notary (SM2-with-SM3 over the RFC 8785 bytes of `receipt`)."
)]
pub struct SignedReceipt {
    /// The receipt.
    pub receipt: Receipt,
    /// The notary's signature over it.
    pub signature: SignatureBlock,
}

impl SignedReceipt {
    /// Signs `receipt` with the notary key.
    pub fn sign(receipt: Receipt, key: &Sm2SigningKey) -> Result<Self, SignedError> {
        let signature = SignatureBlock::sign(key, &receipt)?;
        Ok(Self { receipt, signature })
    }

    /// Signs each of `receipts` with the notary key, as [`Self::sign`] would, together.
    pub fn sign_many(
        receipts: Vec<Receipt>,
        key: &Sm2SigningKey,
    ) -> Result<Vec<Self>, SignedError> {
        let signatures = SignatureBlock::sign_many(key, &receipts)?;
        Ok(receipts
            .into_iter()
            .zip(signatures)
            .map(|(receipt, signature)| Self { receipt, signature })
            .collect())
    }

    /// Verifies the signature was made by `notary` over exactly this receipt.
    pub fn verify(&self, notary: &Sm2PublicKey) -> Result<(), SignedError> {
        let value = serde_json::to_value(&self.receipt).map_err(|e| {
            SignedError::Canonical(crate::canonical::CanonicalError::Serialize(e.to_string()))
        })?;
        self.signature.verify_value_by(&value, notary)
    }
}

/// What a device asks to be enrolled with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrolmentRequestBody {
    /// Always `"tiezheng.enrolment-request.v1"`.
    #[serde(rename = "type")]
    #[schemars(extend("const" = "tiezheng.enrolment-request.v1"))]
    pub kind: String,
    /// The one-time enrolment code an administrator issued for the officer.
    #[schemars(length(min = 8, max = 128))]
    pub code: String,
    /// The device's local identifier.
    pub device_id: String,
    /// Hardware model.
    pub model: String,
    /// Operating system.
    pub os: String,
    /// When the request was made (device clock).
    pub requested_at: Timestamp,
}

/// An enrolment request signed with the device key being enrolled (proof of possession).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "EnrolmentRequest",
    description = "Enrolment request signed with the device's own SM2 key."
)]
pub struct EnrolmentRequest {
    /// The request.
    pub request: EnrolmentRequestBody,
    /// Signature by the key to enrol; its `public_key` is the key being enrolled.
    pub signature: SignatureBlock,
}

impl EnrolmentRequest {
    /// Verifies proof of possession and returns the key being enrolled.
    pub fn verify(value: &Value) -> Result<(Self, Sm2PublicKey), SignedError> {
        let req: Self = serde_json::from_value(value.clone()).map_err(|e| {
            SignedError::Canonical(crate::canonical::CanonicalError::Serialize(e.to_string()))
        })?;
        let body = value.get("request").cloned().unwrap_or(Value::Null);
        let key = req.signature.verify_value(&body)?;
        Ok((req, key))
    }
}

/// The notary's certificate for an enrolled device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceCertificate {
    /// Always `"tiezheng.device-certificate.v1"`.
    #[serde(rename = "type")]
    #[schemars(extend("const" = "tiezheng.device-certificate.v1"))]
    pub kind: String,
    /// Enrolment identifier (appears in the device's manifests).
    pub enrolment_id: String,
    /// The officer the device was enrolled for.
    pub officer_id: String,
    /// The device's local identifier.
    pub device_id: String,
    /// The device's public key, `04‖X‖Y` hex.
    #[schemars(regex(pattern = r"^04[0-9a-f]{128}$"))]
    pub public_key: String,
    /// SM3 of the device's public key.
    pub device_key_id: Hash32,
    /// When the certificate was issued.
    pub issued_at: Timestamp,
    /// SM3 of the notary's public key.
    pub notary_key_id: Hash32,
}

/// A device certificate with the notary's signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "SignedDeviceCertificate",
    description = "Device certificate signed by the notary."
)]
pub struct SignedDeviceCertificate {
    /// The certificate.
    pub certificate: DeviceCertificate,
    /// The notary's signature over it.
    pub signature: SignatureBlock,
}

impl SignedDeviceCertificate {
    /// Signs `certificate` with the notary key.
    pub fn sign(certificate: DeviceCertificate, key: &Sm2SigningKey) -> Result<Self, SignedError> {
        let signature = SignatureBlock::sign(key, &certificate)?;
        Ok(Self {
            certificate,
            signature,
        })
    }

    /// Verifies the notary's signature.
    pub fn verify(&self, notary: &Sm2PublicKey) -> Result<(), SignedError> {
        let value = serde_json::to_value(&self.certificate).map_err(|e| {
            SignedError::Canonical(crate::canonical::CanonicalError::Serialize(e.to_string()))
        })?;
        self.signature.verify_value_by(&value, notary)
    }
}

/// The notary's answer to a successful enrolment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrolmentResponse {
    /// The signed device certificate.
    pub certificate: SignedDeviceCertificate,
    /// The notary's public key (`04‖X‖Y` hex), to pin for receipts.
    pub notary_public_key: String,
    /// Bearer token for the device's API calls (role `device`). Shown once.
    pub api_token: String,
}

/// The one error shape of the notary API.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "ApiError",
    description = "Error returned by every notary endpoint."
)]
pub struct ApiError {
    /// Stable machine-readable code, e.g. `bad_signature`, `replayed_sequence`.
    pub code: String,
    /// What went wrong and what to do, for people.
    pub message: String,
    /// JSON pointer or parameter name of the field at fault, when there is one.
    pub field: Option<String>,
}

/// The result for one proof of a submitted batch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitResult {
    /// Position of the proof in the batch.
    pub index: u64,
    /// The signed receipt, when accepted.
    pub receipt: Option<SignedReceipt>,
    /// Why it was refused, otherwise.
    pub error: Option<ApiError>,
}

/// The answer to `POST /v1/proofs`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "SubmitResponse",
    description = "Per-proof results of a proof submission."
)]
pub struct SubmitResponse {
    /// One result per submitted proof, in order.
    pub results: Vec<SubmitResult>,
}
