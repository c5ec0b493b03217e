//! Signed documents: an SM2 signature over the RFC 8785 canonical bytes of a JSON document.
//!
//! On the wire a signed document is an object holding the document under its own name and a
//! [`SignatureBlock`] under `"signature"`, for example the device proof
//! `{"manifest": {...}, "signature": {...}}`. The signature covers exactly
//! `canonicalize(document)`; the block carries everything a verifier needs besides the
//! document: algorithm name and OID, the SM2 distinguishing ID, the public key and the value.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::algorithm::SignatureAlgorithm;
use crate::canonical::{self, CanonicalError};
use crate::hash::Hash32;
use crate::sm2::{DEFAULT_SM2_ID, Sm2Error, Sm2PublicKey, Sm2Signature, Sm2SigningKey};

/// The signature part of every signed Tiezheng document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "SignatureBlock",
    description = "SM2-with-SM3 signature over the RFC 8785 canonical bytes of the document it accompanies."
)]
pub struct SignatureBlock {
    /// Always `"SM2-with-SM3"`.
    pub algorithm: SignatureAlgorithm,
    /// Always `"1.2.156.10197.1.501"` (GM/T 0006 SM2-with-SM3).
    #[schemars(extend("const" = "1.2.156.10197.1.501"))]
    pub oid: String,
    /// The SM2 distinguishing ID the signature was made with; Tiezheng documents always use
    /// `"1234567812345678"` (GM/T 0009 default).
    #[schemars(extend("const" = "1234567812345678"))]
    pub sm2_id: String,
    /// The signer's public key, `04‖X‖Y` as 130 lowercase hex digits.
    #[schemars(regex(pattern = r"^04[0-9a-f]{128}$"))]
    pub public_key: String,
    /// DER `SEQUENCE { r INTEGER, s INTEGER }`, standard base64 with padding.
    #[schemars(regex(pattern = r"^[A-Za-z0-9+/]+={0,2}$"))]
    pub value: String,
}

/// Why a signed document does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignedError {
    /// The document cannot be canonicalised (floats, huge integers...).
    #[error("document cannot be canonicalised: {0}")]
    Canonical(#[from] CanonicalError),
    /// `signature.oid` is not the OID of `signature.algorithm`.
    #[error("signature.oid {found:?} does not match SM2-with-SM3 (expected {expected:?})")]
    WrongOid {
        /// What the block says.
        found: String,
        /// What it must say.
        expected: &'static str,
    },
    /// `signature.sm2_id` is not the profile's ID.
    #[error(
        "signature.sm2_id {0:?} is not allowed: Tiezheng documents are signed with \"1234567812345678\""
    )]
    WrongSm2Id(String),
    /// The public key or signature value is malformed, or the signature is wrong.
    #[error("signature: {0}")]
    Sm2(#[from] Sm2Error),
    /// The key is valid but not the one the verifier expected.
    #[error("signed by key {found}, but key {expected} was expected")]
    UnexpectedKey {
        /// SM3 key ID of the key in the block.
        found: Hash32,
        /// SM3 key ID the caller required.
        expected: Hash32,
    },
}

impl SignatureBlock {
    /// Signs the canonical form of `document`.
    pub fn sign<T: Serialize + ?Sized>(
        key: &Sm2SigningKey,
        document: &T,
    ) -> Result<Self, SignedError> {
        let bytes = canonical::to_canonical_bytes(document)?;
        let sig = key.sign(DEFAULT_SM2_ID, &bytes)?;
        Ok(Self {
            algorithm: SignatureAlgorithm::Sm2WithSm3,
            oid: SignatureAlgorithm::Sm2WithSm3.oid().to_owned(),
            sm2_id: DEFAULT_SM2_ID.to_owned(),
            public_key: key.public_key().to_hex(),
            value: sig.to_base64(),
        })
    }

    /// Signs the canonical form of each of `documents` ([`Self::sign`] for each, with less
    /// work per signature: see [`Sm2SigningKey::sign_many`]).
    pub fn sign_many<T: Serialize>(
        key: &Sm2SigningKey,
        documents: &[T],
    ) -> Result<Vec<Self>, SignedError> {
        let bytes = documents
            .iter()
            .map(canonical::to_canonical_bytes)
            .collect::<Result<Vec<_>, _>>()?;
        let refs: Vec<&[u8]> = bytes.iter().map(Vec::as_slice).collect();
        key.sign_many(DEFAULT_SM2_ID, &refs)
            .into_iter()
            .map(|sig| {
                Ok(Self {
                    algorithm: SignatureAlgorithm::Sm2WithSm3,
                    oid: SignatureAlgorithm::Sm2WithSm3.oid().to_owned(),
                    sm2_id: DEFAULT_SM2_ID.to_owned(),
                    public_key: key.public_key().to_hex(),
                    value: sig?.to_base64(),
                })
            })
            .collect()
    }

    /// Parses and checks the block's own fields: OID, ID, key and signature encoding.
    pub fn parts(&self) -> Result<(Sm2PublicKey, Sm2Signature), SignedError> {
        let expected = self.algorithm.oid();
        if self.oid != expected {
            return Err(SignedError::WrongOid {
                found: self.oid.clone(),
                expected,
            });
        }
        if self.sm2_id != DEFAULT_SM2_ID {
            return Err(SignedError::WrongSm2Id(self.sm2_id.clone()));
        }
        Ok((
            Sm2PublicKey::from_hex(&self.public_key)?,
            Sm2Signature::from_base64(&self.value)?,
        ))
    }

    /// Verifies the signature over the canonical form of `document` (a parsed JSON value, so
    /// that unknown members are covered too). Returns the signer's key.
    pub fn verify_value(&self, document: &Value) -> Result<Sm2PublicKey, SignedError> {
        let bytes = canonical::canonicalize(document)?;
        self.verify_bytes(&bytes)
    }

    /// Verifies the signature over `canonical`, the RFC 8785 bytes of the signed document
    /// (the caller has canonicalised it already). Returns the signer's key.
    pub fn verify_bytes(&self, canonical: &[u8]) -> Result<Sm2PublicKey, SignedError> {
        let (key, sig) = self.parts()?;
        key.verify(&self.sm2_id, canonical, &sig)?;
        Ok(key)
    }

    /// As [`Self::verify_value`], and also requires the signer to be `expected`.
    pub fn verify_value_by(
        &self,
        document: &Value,
        expected: &Sm2PublicKey,
    ) -> Result<(), SignedError> {
        let key = self.verify_value(document)?;
        if &key != expected {
            return Err(SignedError::UnexpectedKey {
                found: key.key_id(),
                expected: expected.key_id(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sm2::TLS13_SM2_ID;

    #[test]
    fn sign_then_verify_and_tamper() {
        let key = Sm2SigningKey::generate();
        let doc = serde_json::json!({"case": "A-1", "items": [{"n": 1}], "note": "现场"});
        let block = SignatureBlock::sign(&key, &doc).unwrap();
        assert_eq!(block.verify_value(&doc).unwrap(), *key.public_key());
        block.verify_value_by(&doc, key.public_key()).unwrap();

        let mut changed = doc.clone();
        changed["items"][0]["n"] = 2.into();
        assert!(matches!(
            block.verify_value(&changed),
            Err(SignedError::Sm2(Sm2Error::BadSignature))
        ));

        let other = Sm2SigningKey::generate();
        assert!(matches!(
            block.verify_value_by(&doc, other.public_key()),
            Err(SignedError::UnexpectedKey { .. })
        ));
    }

    #[test]
    fn block_fields_are_checked() {
        let key = Sm2SigningKey::generate();
        let doc = serde_json::json!({"a": 1});
        let good = SignatureBlock::sign(&key, &doc).unwrap();

        let mut b = good.clone();
        b.sm2_id = TLS13_SM2_ID.to_owned();
        assert!(matches!(
            b.verify_value(&doc),
            Err(SignedError::WrongSm2Id(_))
        ));
        let mut b = good.clone();
        b.oid = "1.2.156.10197.1.301.1".into();
        assert!(matches!(
            b.verify_value(&doc),
            Err(SignedError::WrongOid { .. })
        ));
        let mut b = good.clone();
        b.public_key = format!("02{}", &good.public_key[2..66]);
        assert!(matches!(
            b.verify_value(&doc),
            Err(SignedError::Sm2(Sm2Error::PublicKeyLength(33)))
        ));
        let mut b = good;
        b.value = "not base64!".into();
        assert!(matches!(
            b.verify_value(&doc),
            Err(SignedError::Sm2(Sm2Error::Encoding { .. }))
        ));

        let json = r#"{"algorithm":"SM2-with-SM3","oid":"x","sm2_id":"x","public_key":"x","value":"x","extra":1}"#;
        assert!(serde_json::from_str::<SignatureBlock>(json).is_err());
    }
}
