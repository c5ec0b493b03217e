//! Documents of the consortium ledger: the notary's signed batch header (the anchor
//! transaction), the anchor record the ledger appends, and the SM2-cosigned checkpoint of the
//! anchor log that lets a court check the ledger with SM2 alone; and the governance
//! transaction by which the members, with an SM2 quorum, change who is a member and which
//! notaries may anchor.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::canonical::{self, CanonicalError};
use crate::hash::Hash32;
use crate::signed::{SignatureBlock, SignedError};
use crate::sm2::{Sm2PublicKey, Sm2SigningKey};
use crate::time::Timestamp;

mod registry;
pub use registry::{GovernanceError, Registry};

/// `type` of a batch header.
pub const BATCH_HEADER_TYPE: &str = "tiezheng.batch-header.v1";
/// `type` of a checkpoint.
pub const CHECKPOINT_TYPE: &str = "tiezheng.checkpoint.v1";
/// `type` of a governance proposal.
pub const GOVERNANCE_TYPE: &str = "tiezheng.governance.v1";

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
    /// The notary's custody log when the batch closed: its first `size` events, committed
    /// (absent when the notary commits none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custody: Option<crate::custody::CustodyCommitment>,
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

/// One member's SM2 signature over a checkpoint or a governance proposal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Cosignature {
    /// The member organisation's identifier.
    pub member: String,
    /// Its signature over the RFC 8785 bytes of the checkpoint (or governance proposal).
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

/// The ledger's app hash (what CometBFT puts in the next block header):
/// `SM3("TIEZHENG-APPHASH-V1" ‖ be64(anchor_log_size) ‖ anchor_log_root ‖ registry_root)`.
pub fn app_hash(anchor_log_size: u64, anchor_log_root: &Hash32, registry_root: &Hash32) -> Hash32 {
    let mut pre = b"TIEZHENG-APPHASH-V1".to_vec();
    pre.extend_from_slice(&anchor_log_size.to_be_bytes());
    pre.extend_from_slice(anchor_log_root.as_bytes());
    pre.extend_from_slice(registry_root.as_bytes());
    Hash32::sm3(&pre)
}

impl Checkpoint {
    /// The app hash of the state this checkpoint describes (see [`app_hash`]): a verifier
    /// recomputes it from the checkpoint and finds it in the CometBFT header of the next height.
    pub fn app_hash(&self) -> Hash32 {
        app_hash(
            self.anchor_log_size,
            &self.anchor_log_root,
            &self.registry_root,
        )
    }

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
        match serde_json::to_value(&self.checkpoint) {
            Ok(value) => signed_power(&value, &self.cosignatures, members),
            Err(_) => 0,
        }
    }

    /// Whether more than two thirds of the total power of `members` signed.
    pub fn has_quorum(&self, members: &[(String, Sm2PublicKey, u64)]) -> bool {
        let total: u64 = members.iter().map(|(_, _, p)| *p).sum();
        is_quorum(self.signed_power(members), total)
    }
}

/// A change to the consortium's registry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum GovernanceAction {
    /// Adds a member organisation, or replaces the key or voting power of an existing one.
    SetMember {
        /// Organisation identifier: 1 to 64 characters of `a-z`, `0-9` and `-`.
        member: String,
        /// Its SM2 public key (hex `04‖X‖Y`).
        public_key: String,
        /// Its voting power, at least 1 (remove a member with `remove_member`).
        #[schemars(range(min = 1, max = 1_000_000))]
        power: u64,
    },
    /// Removes a member organisation; at least one member must remain.
    RemoveMember {
        /// Organisation identifier.
        member: String,
    },
    /// Allows a notary key to anchor batches (again: a re-admitted notary keeps its batch
    /// sequence and header chain).
    AddNotary {
        /// The notary's SM2 public key (hex `04‖X‖Y`).
        public_key: String,
    },
    /// Stops a notary key from anchoring; its anchored batches stay in the log.
    RemoveNotary {
        /// SM3 of the notary's public key.
        notary_key_id: Hash32,
    },
    /// Makes `pub_key` the CometBFT validator of `member`, with the member's voting power
    /// (which it follows from then on). It replaces the member's previous validator (key
    /// rotation); an unlabelled genesis validator with this key becomes the member's.
    SetValidator {
        /// The member that runs it.
        member: String,
        /// Its ed25519 consensus key, base64 (`pub_key.value` in CometBFT's genesis).
        pub_key: String,
    },
    /// Removes the CometBFT validator with this key; at least one validator must remain
    /// (removing a member removes its validator too).
    RemoveValidator {
        /// Its ed25519 consensus key, base64.
        pub_key: String,
    },
}

/// What the members approve: one registry change, bound to the chain and to the next
/// governance sequence number so that it can be applied once only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GovernanceProposal {
    /// Always `"tiezheng.governance.v1"`.
    #[serde(rename = "type")]
    #[schemars(extend("const" = "tiezheng.governance.v1"))]
    pub kind: String,
    /// The ledger's chain ID.
    pub chain_id: String,
    /// The ledger's governance sequence number after this change: the last one + 1, from 1.
    #[schemars(range(min = 1, max = 9_007_199_254_740_991u64))]
    pub governance_seq: u64,
    /// The change.
    pub change: GovernanceAction,
    /// Why, for the record (e.g. the consortium resolution's reference).
    pub reason: String,
}

/// A governance transaction: a proposal with the SM2 approvals of more than two thirds of the
/// members' voting power as it stands before the change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "GovernanceTx",
    description = "A change to the consortium ledger's member and notary registry, approved with SM2 signatures by more than two thirds of the members' voting power."
)]
pub struct GovernanceTx {
    /// The change.
    pub proposal: GovernanceProposal,
    /// Members' signatures over the proposal's RFC 8785 bytes.
    pub approvals: Vec<Cosignature>,
}

impl GovernanceProposal {
    /// A member's approval.
    pub fn approve(&self, member: &str, key: &Sm2SigningKey) -> Result<Cosignature, SignedError> {
        Ok(Cosignature {
            member: member.to_owned(),
            signature: SignatureBlock::sign(key, self)?,
        })
    }
}

impl GovernanceTx {
    /// The voting power of distinct members (per `members`) whose approvals verify.
    pub fn approved_power(&self, members: &[(String, Sm2PublicKey, u64)]) -> u64 {
        match serde_json::to_value(&self.proposal) {
            Ok(value) => signed_power(&value, &self.approvals, members),
            Err(_) => 0,
        }
    }
}

/// Sums the power of distinct `members` whose signature in `signatures` verifies over
/// `document` with the key `members` assigns them.
fn signed_power(
    document: &serde_json::Value,
    signatures: &[Cosignature],
    members: &[(String, Sm2PublicKey, u64)],
) -> u64 {
    let mut seen = std::collections::BTreeSet::new();
    let mut power = 0u64;
    for c in signatures {
        if let Some((_, key, p)) = members.iter().find(|(m, _, _)| *m == c.member)
            && seen.insert(c.member.clone())
            && c.signature.verify_value_by(document, key).is_ok()
        {
            power = power.saturating_add(*p);
        }
    }
    power
}

/// Whether `signed` is more than two thirds of `total` (and `total` is not zero).
pub fn is_quorum(signed: u64, total: u64) -> bool {
    total > 0 && u128::from(signed) * 3 > u128::from(total) * 2
}
