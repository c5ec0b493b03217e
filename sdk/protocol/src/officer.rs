//! Officers' own keys: every collector signs the manifest with an SM2 credential of their own,
//! so that a proof names who collected it, not only which device.
//!
//! * [`OfficerEnrolmentRequest`]: an officer's key asks the notary, with a one-time code the
//!   administrator issued for that officer, to bind it to the officer's identity (officer ID,
//!   name, 执法证号 and unit), signed by the key itself (proof of possession).
//! * [`SignedOfficerCertificate`]: the notary's answer, `tiezheng.officer-certificate.v1`,
//!   signed by the notary: the credential a bundle carries so that a court checks offline who
//!   signed.
//! * [`OfficerSignature`]: one collector's SM2 signature over the manifest's RFC 8785 bytes,
//!   carried in the proof beside the device's.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::canonical::CanonicalError;
use crate::hash::Hash32;
use crate::signed::{SignatureBlock, SignedError};
use crate::sm2::{Sm2PublicKey, Sm2SigningKey};
use crate::time::Timestamp;

/// `type` of an officer's enrolment request.
pub const OFFICER_ENROLMENT_TYPE: &str = "tiezheng.officer-enrolment.v1";
/// `type` of an officer certificate.
pub const OFFICER_CERTIFICATE_TYPE: &str = "tiezheng.officer-certificate.v1";

/// Who an officer is, as the enrolment request states and the certificate binds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OfficerIdentity {
    /// The officer ID (警号 or staff number) used as a collector in manifests.
    #[schemars(length(min = 1, max = 64))]
    pub officer_id: String,
    /// The officer's name.
    #[schemars(length(min = 1, max = 100))]
    pub name: String,
    /// The enforcement credential number (执法证号).
    #[schemars(length(min = 1, max = 64))]
    pub badge_number: String,
    /// The officer's unit.
    #[schemars(length(min = 1, max = 200))]
    pub unit: String,
}

impl OfficerIdentity {
    /// Each field within its length and not blank; the message names the field.
    pub fn check(&self) -> Result<(), String> {
        for (field, value, max) in [
            ("officer_id", &self.officer_id, 64),
            ("name", &self.name, 100),
            ("badge_number", &self.badge_number, 64),
            ("unit", &self.unit, 200),
        ] {
            let n = value.chars().count();
            if value.trim().is_empty() || n > max || value.chars().any(char::is_control) {
                return Err(format!(
                    "{field} must be 1 to {max} characters, not blank, without control characters"
                ));
            }
        }
        Ok(())
    }
}

/// What an officer's key asks the notary to bind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OfficerEnrolmentBody {
    /// Always `"tiezheng.officer-enrolment.v1"`.
    #[serde(rename = "type")]
    #[schemars(extend("const" = "tiezheng.officer-enrolment.v1"))]
    pub kind: String,
    /// The one-time code the administrator issued for this officer.
    #[schemars(length(min = 8, max = 128))]
    pub code: String,
    /// Who the officer is.
    pub officer: OfficerIdentity,
    /// When the request was made (device clock).
    pub requested_at: Timestamp,
}

/// An officer's enrolment request, signed with the officer's key being enrolled.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "OfficerEnrolmentRequest",
    description = "An officer's enrolment request, signed with the officer's own SM2 key (proof of possession)."
)]
pub struct OfficerEnrolmentRequest {
    /// The request.
    pub request: OfficerEnrolmentBody,
    /// Signature by the officer's key; its `public_key` is the key being enrolled.
    pub signature: SignatureBlock,
}

impl OfficerEnrolmentRequest {
    /// Signs `request` with the officer's key.
    pub fn sign(request: OfficerEnrolmentBody, key: &Sm2SigningKey) -> Result<Self, SignedError> {
        let signature = SignatureBlock::sign(key, &request)?;
        Ok(Self { request, signature })
    }

    /// Verifies proof of possession and returns the key being enrolled.
    pub fn verify(value: &Value) -> Result<(Self, Sm2PublicKey), SignedError> {
        let req: Self = serde_json::from_value(value.clone())
            .map_err(|e| SignedError::Canonical(CanonicalError::Serialize(e.to_string())))?;
        let body = value.get("request").cloned().unwrap_or(Value::Null);
        let key = req.signature.verify_value(&body)?;
        Ok((req, key))
    }
}

/// The notary's credential binding an officer's key to the officer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OfficerCertificate {
    /// Always `"tiezheng.officer-certificate.v1"`.
    #[serde(rename = "type")]
    #[schemars(extend("const" = "tiezheng.officer-certificate.v1"))]
    pub kind: String,
    /// Who the officer is.
    pub officer: OfficerIdentity,
    /// The officer's public key, `04‖X‖Y` hex.
    #[schemars(regex(pattern = r"^04[0-9a-f]{128}$"))]
    pub public_key: String,
    /// SM3 of the officer's public key.
    pub key_id: Hash32,
    /// SM3 of the key of the device through which the officer enrolled.
    pub device_key_id: Hash32,
    /// When the notary bound it.
    pub issued_at: Timestamp,
    /// SM3 of the notary's public key.
    pub notary_key_id: Hash32,
}

/// An officer certificate with the notary's signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "SignedOfficerCertificate",
    description = "Officer credential: the notary's binding of an officer's SM2 key to the officer ID, name, enforcement credential number and unit."
)]
pub struct SignedOfficerCertificate {
    /// The certificate.
    pub certificate: OfficerCertificate,
    /// The notary's signature over it.
    pub signature: SignatureBlock,
}

impl SignedOfficerCertificate {
    /// Signs `certificate` with the notary key.
    pub fn sign(certificate: OfficerCertificate, key: &Sm2SigningKey) -> Result<Self, SignedError> {
        let signature = SignatureBlock::sign(key, &certificate)?;
        Ok(Self {
            certificate,
            signature,
        })
    }

    /// Verifies the notary's signature and returns the notary key that made it.
    pub fn verify(&self) -> Result<Sm2PublicKey, SignedError> {
        let value = serde_json::to_value(&self.certificate)
            .map_err(|e| SignedError::Canonical(CanonicalError::Serialize(e.to_string())))?;
        self.signature.verify_value(&value)
    }
}

/// One collector's signature over the manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OfficerSignature {
    /// The officer ID, one of the manifest's `case.collectors`.
    pub officer_id: String,
    /// The officer's SM2 signature over the manifest's RFC 8785 bytes; its `public_key` is the
    /// officer's key.
    pub signature: SignatureBlock,
}
