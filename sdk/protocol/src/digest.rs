//! The public digest of a certificate (`tiezheng.public-digest.v1`): what anyone may see about
//! an issued certificate without a token, so that a member of the public checks a number and
//! a file on the notary's `/check` page. It holds only hashes, the anchor and the issuer: the
//! certificate's number, SM3 and issue time, the issuer's standing, the proof's SM3, each
//! evidence file's size and digests, and the ledger layers of the certificate's bundle (the
//! receipt, the salted leaf with its batch, the anchor record, the cosigned checkpoint, the
//! CometBFT layer and the registry changes). No manifest, so no names, places, case details,
//! file names or device information.
//!
//! Without the manifest nothing links a file's digests to the proof but the notary's word, so
//! the notary signs the digest with the key that receipted the proof; the ledger layers are
//! then checked exactly as a bundle's (`VERIFYING.md` §4.13, rules `digest.*`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::bundle::{BundleAnchor, BundleBatch, Policy};
use crate::canonical::{self, CanonicalError};
use crate::certificate::{Issuer, SignedCertificate};
use crate::cometbft::BundleCometBft;
use crate::hash::Hash32;
use crate::ledger::{CosignedCheckpoint, GovernanceTx};
use crate::manifest::ItemKind;
use crate::notary::SignedReceipt;
use crate::signed::{SignatureBlock, SignedError};
use crate::sm2::{Sm2PublicKey, Sm2SigningKey};
use crate::time::Timestamp;
use crate::wire::ContentHash;

/// `type` of a public digest.
pub const PUBLIC_DIGEST_TYPE: &str = "tiezheng.public-digest.v1";

/// One evidence file, by its digests only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DigestItem {
    /// Position in the manifest.
    pub index: u64,
    /// Photo, video, audio or other.
    pub kind: ItemKind,
    /// Size in bytes.
    pub bytes: u64,
    /// SM3 and SHA-256 of the whole file, with their OIDs.
    pub hashes: Vec<ContentHash>,
}

/// The public digest of one certificate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PublicDigest {
    /// Always `"tiezheng.public-digest.v1"`.
    #[serde(rename = "type")]
    #[schemars(extend("const" = "tiezheng.public-digest.v1"))]
    pub kind: String,
    /// The certificate's number.
    #[schemars(regex(pattern = r"^TZ-[0-9]{8}-[0-9A-F]{16}$"))]
    pub number: String,
    /// SM3 of the signed certificate's RFC 8785 bytes (the `c` of its QR code).
    pub certificate_sm3: Hash32,
    /// When the certificate was issued.
    pub issued_at: Timestamp,
    /// The issuer and its standing.
    pub issuer: Issuer,
    /// SM3 of the device proof.
    pub proof_sm3: Hash32,
    /// The evidence files (none for a session summary).
    pub items: Vec<DigestItem>,
    /// `"embedded"` or `"consortium"`, as in the bundle.
    pub mode: String,
    /// The notary's receipt of the proof.
    pub receipt: SignedReceipt,
    /// Leaf → batch root.
    pub batch: BundleBatch,
    /// Batch → anchor log.
    pub anchor: BundleAnchor,
    /// The cosigned checkpoint of the anchor log.
    pub checkpoint: CosignedCheckpoint,
    /// The keys the notary says it used.
    pub policy: Policy,
    /// Consortium mode: the CometBFT header and commit over the checkpoint's state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cometbft: Option<BundleCometBft>,
    /// The registry changes applied up to the checkpoint, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub governance: Vec<GovernanceTx>,
}

/// A public digest with the signature of the notary that receipted the proof.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "SignedPublicDigest",
    description = "The public digest of an evidence certificate: hashes, anchor, issuer and ledger layers, no personal data; signed by the notary (SM2-with-SM3 over the RFC 8785 bytes of `digest`)."
)]
pub struct SignedPublicDigest {
    /// The digest.
    pub digest: PublicDigest,
    /// The notary's signature over it.
    pub signature: SignatureBlock,
}

impl PublicDigest {
    /// The digest of `cert`: its number, SM3, time and issuer, the files' digests and the
    /// ledger layers of its bundle.
    pub fn of(cert: &SignedCertificate) -> Result<Self, CanonicalError> {
        let c = &cert.certificate;
        let b = &c.bundle;
        Ok(Self {
            kind: PUBLIC_DIGEST_TYPE.to_owned(),
            number: c.number.clone(),
            certificate_sm3: Hash32::sm3(&canonical::to_canonical_bytes(cert)?),
            issued_at: c.issued_at,
            issuer: c.issuer.clone(),
            proof_sm3: c.proof_sm3,
            items: c
                .items
                .iter()
                .map(|i| DigestItem {
                    index: i.index,
                    kind: i.kind,
                    bytes: i.bytes,
                    hashes: i.hashes.clone(),
                })
                .collect(),
            mode: b.mode.clone(),
            receipt: b.receipt.clone(),
            batch: b.batch.clone(),
            anchor: b.anchor.clone(),
            checkpoint: b.checkpoint.clone(),
            policy: b.policy.clone(),
            cometbft: b.cometbft.clone(),
            governance: b.governance.clone(),
        })
    }
}

impl SignedPublicDigest {
    /// Signs `digest` with the notary key.
    pub fn sign(digest: PublicDigest, key: &Sm2SigningKey) -> Result<Self, SignedError> {
        let signature = SignatureBlock::sign(key, &digest)?;
        Ok(Self { digest, signature })
    }

    /// Verifies the signature and that it was made by `notary`.
    pub fn verify(&self, notary: &Sm2PublicKey) -> Result<(), SignedError> {
        let value = serde_json::to_value(&self.digest)
            .map_err(|e| SignedError::Canonical(CanonicalError::Serialize(e.to_string())))?;
        self.signature.verify_value_by(&value, notary)
    }

    /// The RFC 8785 bytes, as the notary serves them.
    pub fn to_bytes(&self) -> Result<Vec<u8>, CanonicalError> {
        canonical::to_canonical_bytes(self)
    }
}
