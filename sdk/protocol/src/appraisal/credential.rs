//! Appraisers' credentials: the institution binds an appraiser's SM2 key (made where the
//! appraiser works, never leaving it) to their name and licence number (执业证号)
//! (`tiezheng.appraiser-credential.v1`), and revokes it (`tiezheng.appraiser-revocation.v1`),
//! both signed with the institution's key as the court's pinned policy lists it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::hash::Hash32;
use crate::signed::{SignatureBlock, SignedError};
use crate::sm2::{Sm2PublicKey, Sm2SigningKey};
use crate::time::Timestamp;

/// `type` of an appraiser credential.
pub const CREDENTIAL_TYPE: &str = "tiezheng.appraiser-credential.v1";
/// `type` of a revocation.
pub const REVOCATION_TYPE: &str = "tiezheng.appraiser-revocation.v1";

/// The institution's binding of an appraiser's key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AppraiserCredential {
    /// Always `"tiezheng.appraiser-credential.v1"`.
    #[serde(rename = "type")]
    #[schemars(extend("const" = "tiezheng.appraiser-credential.v1"))]
    pub kind: String,
    /// The institution's member id.
    pub institution: String,
    /// The appraiser's id, as steps name them in `by`.
    pub appraiser_id: String,
    /// Name.
    pub name: String,
    /// Licence number (司法鉴定人执业证号).
    pub licence_number: String,
    /// The appraiser's public key, `04‖X‖Y` hex.
    #[schemars(regex(pattern = r"^04[0-9a-f]{128}$"))]
    pub public_key: String,
    /// SM3 of the public key.
    pub key_id: Hash32,
    /// When the institution bound it.
    pub issued_at: Timestamp,
}

impl AppraiserCredential {
    /// The credential binding `key` to the appraiser, with its type and key ID filled in.
    pub fn new(
        institution: &str,
        appraiser_id: &str,
        name: &str,
        licence_number: &str,
        key: &Sm2PublicKey,
        issued_at: Timestamp,
    ) -> Self {
        Self {
            kind: CREDENTIAL_TYPE.into(),
            institution: institution.into(),
            appraiser_id: appraiser_id.into(),
            name: name.into(),
            licence_number: licence_number.into(),
            public_key: key.to_hex(),
            key_id: key.key_id(),
            issued_at,
        }
    }
}

/// A credential with the institution's signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SignedAppraiserCredential {
    /// The credential.
    pub credential: AppraiserCredential,
    /// The institution's signature over it.
    pub signature: SignatureBlock,
}

impl SignedAppraiserCredential {
    /// Signs `credential` with the institution's key.
    pub fn sign(credential: AppraiserCredential, key: &Sm2SigningKey) -> Result<Self, SignedError> {
        let signature = SignatureBlock::sign(key, &credential)?;
        Ok(Self {
            credential,
            signature,
        })
    }
}

/// The institution's revocation of an appraiser's key, from a moment on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AppraiserRevocation {
    /// Always `"tiezheng.appraiser-revocation.v1"`.
    #[serde(rename = "type")]
    #[schemars(extend("const" = "tiezheng.appraiser-revocation.v1"))]
    pub kind: String,
    /// The institution's member id.
    pub institution: String,
    /// The appraiser.
    pub appraiser_id: String,
    /// SM3 of the revoked key.
    pub key_id: Hash32,
    /// From when the key no longer signs for the institution.
    pub revoked_at: Timestamp,
    /// Why.
    pub reason: String,
}

/// A revocation with the institution's signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SignedAppraiserRevocation {
    /// The revocation.
    pub revocation: AppraiserRevocation,
    /// The institution's signature over it.
    pub signature: SignatureBlock,
}

impl SignedAppraiserRevocation {
    /// Signs `revocation` with the institution's key.
    pub fn sign(revocation: AppraiserRevocation, key: &Sm2SigningKey) -> Result<Self, SignedError> {
        let signature = SignatureBlock::sign(key, &revocation)?;
        Ok(Self {
            revocation,
            signature,
        })
    }
}
