//! Documents of the consortium ledger: the notary's signed batch header (the anchor
//! transaction), the anchor record the ledger appends, and the SM2-cosigned checkpoint of the
//! anchor log that lets a court check the ledger with SM2 alone.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::canonical::{self, CanonicalError};
use crate::hash::Hash32;
use crate::signed::{SignatureBlock, SignedError};
use crate::sm2::{Sm2PublicKey, Sm2SigningKey};
use crate::time::Timestamp;

/// `type` of a batch header.
pub const BATCH_HEADER_TYPE: &str = "tiezheng.batch-header.v1";
/// `type` of a checkpoint.
pub const CHECKPOINT_TYPE: &str = "tiezheng.checkpoint.v1";

/// A closed batch of receipted proofs, as the notary commits to it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchHeader {
    /// Always `"tiezheng.batch-header.v1"`.
    #[serde(rename = "type")]
    #[schemars(extend("const" = "tiezheng.batch-header.v1"))]
    pub kind: String,
    /// SM3 of the notary's public key.
    pub notary_key_id: Hash32,
    /// The notary's batch sequence number, from 1, without gaps.
    #[schemars(range(min = 1, max = 9_007_199_254_740_991u64))]
    pub batch_seq: u64,
    /// SM3 of the RFC 8785 bytes of the previous batch header; `null` for the first.
    pub previous_header_sm3: Option<Hash32>,
    /// Leaves in the batch tree.
    #[schemars(range(min = 1, max = 9_007_199_254_740_991u64))]
    pub leaf_count: u64,
    /// Root of the batch's RFC 6962 SM3 tree.
    pub root: Hash32,
    /// When the first proof of the batch was receipted.
    pub window_start: Timestamp,
    /// When the batch closed.
    pub window_end: Timestamp,
}

impl BatchHeader {
    /// SM3 of the header's RFC 8785 bytes.
    pub fn sm3(&self) -> Result<Hash32, CanonicalError> {
        Ok(Hash32::sm3(&canonical::to_canonical_bytes(self)?))
    }
}

/// A batch header with the notary's signature: the anchor transaction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "SignedBatchHeader",
    description = "A notary batch header with the notary's SM2 signature; submitted to the ledger as the anchor transaction."
)]
pub struct SignedBatchHeader {
    /// The header.
    pub header: BatchHeader,
    /// The notary's signature over it.
    pub signature: SignatureBlock,
}

impl SignedBatchHeader {
    /// Signs `header` with the notary key.
    pub fn sign(header: BatchHeader, key: &Sm2SigningKey) -> Result<Self, SignedError> {
        let signature = SignatureBlock::sign(key, &header)?;
        Ok(Self { header, signature })
    }

    /// Verifies the signature and that it was made by `notary`.
    pub fn verify(&self, notary: &Sm2PublicKey) -> Result<(), SignedError> {
        let value = serde_json::to_value(&self.header)
            .map_err(|e| SignedError::Canonical(CanonicalError::Serialize(e.to_string())))?;
        self.signature.verify_value_by(&value, notary)
    }
}

/// What the ledger appends to its anchor log for each anchored batch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "AnchorRecord",
    description = "An anchored batch: the leaf of the ledger's append-only SM3 anchor log."
)]
pub struct AnchorRecord {
    /// SM3 of the batch header's RFC 8785 bytes.
    pub batch_header_sm3: Hash32,
    /// SM3 of the notary's public key.
    pub notary_key_id: Hash32,
    /// The notary's batch sequence number.
    pub batch_seq: u64,
    /// The batch tree's root.
    pub root: Hash32,
    /// Leaves in the batch.
    pub leaf_count: u64,
    /// Height of the block that anchored it.
    pub height: u64,
    /// Time of that block.
    pub time: Timestamp,
}

impl AnchorRecord {
    /// The leaf data in the anchor log: the record's RFC 8785 bytes.
    pub fn leaf_bytes(&self) -> Result<Vec<u8>, CanonicalError> {
        canonical::to_canonical_bytes(self)
    }
}

/// The state of the anchor log after a block, as the consortium's members cosign it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    /// Always `"tiezheng.checkpoint.v1"`.
    #[serde(rename = "type")]
    #[schemars(extend("const" = "tiezheng.checkpoint.v1"))]
    pub kind: String,
    /// The ledger's chain ID.
    pub chain_id: String,
    /// Block height the checkpoint describes (state after that block).
    pub height: u64,
    /// Anchor records in the log.
    pub anchor_log_size: u64,
    /// Root of the anchor log (RFC 6962 with SM3; the empty tree is SM3("")).
    pub anchor_log_root: Hash32,
    /// SM3 commitment to the member registry.
    pub registry_root: Hash32,
    /// Block time.
    pub time: Timestamp,
}

/// One member's SM2 signature over a checkpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Cosignature {
    /// The member organisation's identifier.
    pub member: String,
    /// Its signature over the checkpoint's RFC 8785 bytes.
    pub signature: SignatureBlock,
}

/// A checkpoint with the cosignatures of more than two thirds of the members' voting power.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "CosignedCheckpoint",
    description = "An anchor-log checkpoint with the SM2 cosignatures of the consortium members."
)]
pub struct CosignedCheckpoint {
    /// The checkpoint.
    pub checkpoint: Checkpoint,
    /// Members' signatures.
    pub cosignatures: Vec<Cosignature>,
}

impl Checkpoint {
    /// A member's cosignature.
    pub fn cosign(&self, member: &str, key: &Sm2SigningKey) -> Result<Cosignature, SignedError> {
        Ok(Cosignature {
            member: member.to_owned(),
            signature: SignatureBlock::sign(key, self)?,
        })
    }
}

impl CosignedCheckpoint {
    /// The voting power of distinct members whose signatures verify with the key `members`
    /// assigns them; members unknown to `members` and bad signatures count for nothing.
    pub fn signed_power(&self, members: &[(String, Sm2PublicKey, u64)]) -> u64 {
        let Ok(value) = serde_json::to_value(&self.checkpoint) else {
            return 0;
        };
        let mut seen = std::collections::BTreeSet::new();
        let mut power = 0u64;
        for c in &self.cosignatures {
            if let Some((_, key, p)) = members.iter().find(|(m, _, _)| *m == c.member)
                && seen.insert(c.member.clone())
                && c.signature.verify_value_by(&value, key).is_ok()
            {
                power = power.saturating_add(*p);
            }
        }
        power
    }

    /// Whether more than two thirds of the total power of `members` signed.
    pub fn has_quorum(&self, members: &[(String, Sm2PublicKey, u64)]) -> bool {
        let total: u64 = members.iter().map(|(_, _, p)| *p).sum();
        total > 0 && u128::from(self.signed_power(members)) * 3 > u128::from(total) * 2
    }
}
