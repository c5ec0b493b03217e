//! The device proof: a manifest signed by the capturing device ([`Proof`]), how it is signed,
//! and how it is parsed and verified, one at a time or many together ([`VerifiedProof`],
//! [`ProofError`]).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::schema::{SchemaViolation, pointer_of};
use super::{MANIFEST_TYPE, Manifest};
use crate::canonical::{self, CanonicalError};
use crate::hash::Hash32;
use crate::officer::OfficerSignature;
use crate::signed::{SignatureBlock, SignedError};
use crate::sm2::{Sm2Error, Sm2PublicKey, Sm2Signature, Sm2SigningKey};

/// A signed manifest: the device proof.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "Proof",
    description = "Device proof: an evidence manifest and the device's SM2 signature over its RFC 8785 bytes."
)]
pub struct Proof {
    /// The manifest.
    pub manifest: Manifest,
    /// The device's signature over the manifest.
    pub signature: SignatureBlock,
    /// Each collector's own signature over the manifest (absent when no officer signed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub officer_signatures: Vec<OfficerSignature>,
}

/// Why a proof is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError {
    /// Not strict JSON (duplicates, floats...).
    #[error("proof is not acceptable JSON: {0}")]
    Json(#[from] CanonicalError),
    /// JSON, but not the proof shape (missing or unknown fields, wrong types).
    #[error("proof does not match the proof schema: {0}")]
    Shape(String),
    /// The signature block or signature is wrong.
    #[error("proof signature: {0}")]
    Signature(#[from] SignedError),
    /// `manifest.device.key_id` does not name the key that signed.
    #[error("manifest.device.key_id {claimed} does not match the signing key {actual}")]
    KeyMismatch {
        /// What the manifest says.
        claimed: Hash32,
        /// SM3 of the signature block's public key.
        actual: Hash32,
    },
    /// An officer's signature is malformed, does not verify over the manifest, names an
    /// officer who is not a collector, or repeats an officer or a key.
    #[error("officer_signatures[{index}]: {reason}")]
    OfficerSignature {
        /// Its position in `officer_signatures`.
        index: usize,
        /// What is wrong.
        reason: String,
    },
    /// `manifest.type` is not a manifest type this version knows.
    #[error("manifest.type {0:?} is not \"tiezheng.manifest.v1\"")]
    UnknownType(String),
    /// A value breaks a rule of the proof schema; the violation names it.
    #[error("proof does not match the proof schema: {0}")]
    Schema(SchemaViolation),
}

impl Proof {
    /// Adds `officer`'s signature over the manifest (signed with the officer's own key).
    pub fn cosign(&mut self, officer_id: &str, key: &Sm2SigningKey) -> Result<(), SignedError> {
        let signature = SignatureBlock::sign(key, &self.manifest)?;
        self.officer_signatures.push(OfficerSignature {
            officer_id: officer_id.to_owned(),
            signature,
        });
        Ok(())
    }

    /// Signs `manifest` with the device key.
    pub fn sign(manifest: Manifest, key: &Sm2SigningKey) -> Result<Self, SignedError> {
        let signature = SignatureBlock::sign(key, &manifest)?;
        Ok(Self {
            manifest,
            signature,
            officer_signatures: Vec::new(),
        })
    }

    /// SM3 of the proof's RFC 8785 bytes: the proof's identity for receipts and batches.
    pub fn sm3(&self) -> Result<Hash32, CanonicalError> {
        Ok(Hash32::sm3(&canonical::to_canonical_bytes(self)?))
    }

    /// Parses and verifies a proof received as bytes: strict JSON, exact shape, signature over
    /// the manifest exactly as received, and the manifest's `key_id` naming the signer.
    pub fn verify_bytes(bytes: &[u8]) -> Result<VerifiedProof, ProofError> {
        let value = canonical::parse_strict(bytes)?;
        Self::verify_value(&value)
    }

    /// As [`Self::verify_bytes`], from a parsed value.
    pub fn verify_value(value: &Value) -> Result<VerifiedProof, ProofError> {
        let proof: Proof =
            serde_json::from_value(value.clone()).map_err(|e| ProofError::Shape(e.to_string()))?;
        let u = Self::unverified(proof, value)?;
        u.key
            .verify(crate::sm2::DEFAULT_SM2_ID, &u.manifest_bytes, &u.signature)
            .map_err(SignedError::Sm2)?;
        u.finish(value)
    }

    /// As [`Self::verify_value`], and first every rule of the proof schema
    /// ([`Self::from_value_checked`]): what the notary's intake runs, so that a refused proof
    /// names the value at fault.
    pub fn verify_value_checked(value: &Value) -> Result<VerifiedProof, ProofError> {
        Self::verify_values_checked(&[value])
            .pop()
            .unwrap_or_else(|| Err(ProofError::Shape("no proof".into())))
    }

    /// [`Self::verify_value_checked`] for each of `values`, one result per value, with the
    /// signatures verified together (see [`crate::sm2::verify_many`]).
    pub fn verify_values_checked(values: &[&Value]) -> Vec<Result<VerifiedProof, ProofError>> {
        let parsed: Vec<Result<Unverified, ProofError>> = values
            .iter()
            .map(|value| {
                let proof = Self::from_value_checked(value).map_err(ProofError::Schema)?;
                Self::unverified(proof, value)
            })
            .collect();
        let items: Vec<(&Sm2PublicKey, &str, &[u8], &Sm2Signature)> = parsed
            .iter()
            .filter_map(|u| u.as_ref().ok())
            .map(|u| {
                (
                    &u.key,
                    crate::sm2::DEFAULT_SM2_ID,
                    u.manifest_bytes.as_slice(),
                    &u.signature,
                )
            })
            .collect();
        let mut verdicts = crate::sm2::verify_many(&items).into_iter();
        parsed
            .into_iter()
            .zip(values)
            .map(|(u, value)| {
                let u = u?;
                verdicts
                    .next()
                    .unwrap_or(Err(Sm2Error::BadSignature))
                    .map_err(SignedError::Sm2)?;
                u.finish(value)
            })
            .collect()
    }

    /// Everything but the signature equation: type, the manifest's canonical bytes, and the
    /// signature block's own fields (OID, ID, key and value encodings).
    fn unverified(proof: Proof, value: &Value) -> Result<Unverified, ProofError> {
        if proof.manifest.kind != MANIFEST_TYPE {
            return Err(ProofError::UnknownType(proof.manifest.kind.clone()));
        }
        let manifest_value = value
            .get("manifest")
            .ok_or_else(|| ProofError::Shape("missing field `manifest`".into()))?;
        // Each document is canonicalised once: the manifest's bytes are both signed and
        // hashed, the proof's bytes hashed and kept (the notary stores exactly these).
        let manifest_bytes = canonical::canonicalize(manifest_value)?;
        let (key, signature) = proof.signature.parts()?;
        Ok(Unverified {
            proof,
            key,
            signature,
            manifest_bytes,
        })
    }
}

/// A proof whose signature equation is still to be checked.
struct Unverified {
    proof: Proof,
    key: Sm2PublicKey,
    signature: Sm2Signature,
    manifest_bytes: Vec<u8>,
}

impl Unverified {
    /// After the signature has verified: the signer must be the device the manifest names.
    fn finish(self, value: &Value) -> Result<VerifiedProof, ProofError> {
        let Self {
            proof,
            key,
            manifest_bytes,
            ..
        } = self;
        if key.key_id() != proof.manifest.device.key_id {
            return Err(ProofError::KeyMismatch {
                claimed: proof.manifest.device.key_id,
                actual: key.key_id(),
            });
        }
        check_officer_signatures(&proof, &key, &manifest_bytes)?;
        let canonical = canonical::canonicalize(value)?;
        Ok(VerifiedProof {
            proof,
            key,
            proof_sm3: Hash32::sm3(&canonical),
            manifest_sm3: Hash32::sm3(&manifest_bytes),
            canonical,
        })
    }
}

impl Proof {
    /// Parses a proof from a JSON value as the schema says, naming the member at fault (as a
    /// JSON pointer) when a member is unknown, missing or of the wrong type, then checks the
    /// rules of [`Manifest::check_schema`]. Does not check the signature, nor the recorded
    /// procedure (`profile::check_procedure`, which the notary's intake runs next).
    pub fn from_value_checked(value: &Value) -> Result<Self, SchemaViolation> {
        let proof: Proof = serde_path_to_error::deserialize(value).map_err(|e| {
            let message = e.inner().to_string();
            SchemaViolation::new("invalid_proof", pointer_of(e.path(), &message), message)
        })?;
        proof.manifest.check_schema()?;
        Ok(proof)
    }
}

/// Every officer signature verifies over `manifest_bytes`, names a collector of the manifest,
/// and no officer or key signs twice (nor the device's key as an officer's).
fn check_officer_signatures(
    proof: &Proof,
    device: &Sm2PublicKey,
    manifest_bytes: &[u8],
) -> Result<(), ProofError> {
    let mut keys = vec![device.key_id()];
    let mut officers: Vec<&str> = Vec::new();
    for (index, s) in proof.officer_signatures.iter().enumerate() {
        let bad = |reason: String| ProofError::OfficerSignature { index, reason };
        if !proof.manifest.case.collectors.contains(&s.officer_id) {
            return Err(bad(format!(
                "officer {:?} signed but is not one of case.collectors",
                s.officer_id
            )));
        }
        if officers.contains(&s.officer_id.as_str()) {
            return Err(bad(format!("officer {:?} signed twice", s.officer_id)));
        }
        let (key, signature) = s.signature.parts().map_err(|e| bad(e.to_string()))?;
        if keys.contains(&key.key_id()) {
            return Err(bad(
                "the key signed twice (or is the device's key): each officer signs with a key of their own".into(),
            ));
        }
        key.verify(crate::sm2::DEFAULT_SM2_ID, manifest_bytes, &signature)
            .map_err(|e| bad(format!("the officer's signature over the manifest: {e}")))?;
        keys.push(key.key_id());
        officers.push(&s.officer_id);
    }
    Ok(())
}

/// A proof whose signature has been checked.
#[derive(Debug, Clone)]
pub struct VerifiedProof {
    /// The proof.
    pub proof: Proof,
    /// The key that signed it.
    pub key: Sm2PublicKey,
    /// SM3 of the proof's canonical bytes.
    pub proof_sm3: Hash32,
    /// SM3 of the manifest's canonical bytes.
    pub manifest_sm3: Hash32,
    /// The proof's RFC 8785 bytes (what `proof_sm3` hashes).
    pub canonical: Vec<u8>,
}
