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

/// Why a governance change is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GovernanceError {
    /// `proposal.type` is not [`GOVERNANCE_TYPE`].
    #[error("proposal type {0:?} is not \"tiezheng.governance.v1\"")]
    Type(String),
    /// A proposal for another chain.
    #[error("governance proposal is for chain {found:?}, this ledger is {expected:?}")]
    WrongChain {
        /// The proposal's chain ID.
        found: String,
        /// The registry's.
        expected: String,
    },
    /// `governance_seq` is not the next one (a replayed or out-of-order proposal).
    #[error("governance_seq {found} is not the next one ({expected})")]
    Sequence {
        /// What the proposal says.
        found: u64,
        /// What the registry expects.
        expected: u64,
    },
    /// An approval by someone who is not a member before the change, or a member approving
    /// twice.
    #[error("approval {index} is by {member:?}: {why}")]
    Approver {
        /// Position in `approvals`.
        index: usize,
        /// The member it names.
        member: String,
        /// Not a member, or a second approval.
        why: &'static str,
    },
    /// An approval whose SM2 signature does not verify.
    #[error("approval {index} by {member:?} does not verify: {error}")]
    Approval {
        /// Position in `approvals`.
        index: usize,
        /// The member it names.
        member: String,
        /// Why.
        error: SignedError,
    },
    /// The approvals that verify do not reach more than two thirds of the voting power.
    #[error(
        "governance proposal approved by voting power {approved} of {total}; more than two thirds is required"
    )]
    NoQuorum {
        /// Power of distinct members whose approvals verify.
        approved: u64,
        /// Total power of the members.
        total: u64,
    },
    /// The change itself is not valid against the registry.
    #[error("governance change refused: {0}")]
    InvalidChange(String),
}

/// The consortium's registry: members (in registry order: genesis order, then order of
/// joining) with their SM2 keys and voting power, every notary ever admitted (by key ID) with
/// whether it may anchor now, and the last applied governance sequence number. The ledger keeps
/// it; a verifier rebuilds it from its pinned genesis and the governance changes a bundle
/// carries, and checks the result against the checkpoint's `registry_root`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registry {
    /// The chain it belongs to.
    pub chain_id: String,
    /// `(id, key, power)`, in registry order.
    pub members: Vec<(String, Sm2PublicKey, u64)>,
    /// Key ID → (key, may anchor).
    pub notaries: std::collections::BTreeMap<Hash32, (Sm2PublicKey, bool)>,
    /// The last applied governance sequence number (0 at genesis).
    pub governance_seq: u64,
}

/// The SM2 key a governance change names.
fn change_key(hex: &str) -> Result<Sm2PublicKey, GovernanceError> {
    Sm2PublicKey::from_hex(hex)
        .map_err(|e| GovernanceError::InvalidChange(format!("public_key: {e}")))
}

impl Registry {
    /// The registry at genesis.
    pub fn genesis(
        chain_id: &str,
        members: Vec<(String, Sm2PublicKey, u64)>,
        notaries: impl IntoIterator<Item = Sm2PublicKey>,
    ) -> Self {
        Self {
            chain_id: chain_id.to_owned(),
            members,
            notaries: notaries
                .into_iter()
                .map(|k| (k.key_id(), (k, true)))
                .collect(),
            governance_seq: 0,
        }
    }

    /// SM3 over text lines, each ending in `\n`: `member <id> <key hex> <power>` in registry
    /// order, `notary <key id hex>` for each notary that may anchor in ascending key-ID order,
    /// and, after the first change, `governance <seq>`.
    pub fn root(&self) -> Hash32 {
        let mut text = String::new();
        for (id, key, power) in &self.members {
            text.push_str(&format!("member {id} {} {power}\n", key.to_hex()));
        }
        for (id, (_, active)) in &self.notaries {
            if *active {
                text.push_str(&format!("notary {id}\n"));
            }
        }
        if self.governance_seq > 0 {
            text.push_str(&format!("governance {}\n", self.governance_seq));
        }
        Hash32::sm3(text.as_bytes())
    }

    /// Total voting power of the members.
    pub fn total_power(&self) -> u64 {
        self.members.iter().map(|(_, _, w)| *w).sum()
    }

    /// Checks `gov` against the registry as it stands: type, chain, next sequence number, SM2
    /// approvals of more than two thirds of the voting power, and a valid change.
    pub fn check(&self, gov: &GovernanceTx) -> Result<(), GovernanceError> {
        let p = &gov.proposal;
        if p.kind != GOVERNANCE_TYPE {
            return Err(GovernanceError::Type(p.kind.clone()));
        }
        if p.chain_id != self.chain_id {
            return Err(GovernanceError::WrongChain {
                found: p.chain_id.clone(),
                expected: self.chain_id.clone(),
            });
        }
        let expected = self.governance_seq.saturating_add(1);
        if p.governance_seq != expected {
            return Err(GovernanceError::Sequence {
                found: p.governance_seq,
                expected,
            });
        }
        // Every approval counts: each by a distinct member, each verifying (a governance
        // transaction is evidence too; nothing in it may be junk).
        let proposal =
            serde_json::to_value(p).map_err(|e| GovernanceError::InvalidChange(e.to_string()))?;
        let mut seen = std::collections::BTreeSet::new();
        for (index, a) in gov.approvals.iter().enumerate() {
            let Some((_, key, _)) = self.members.iter().find(|(m, _, _)| *m == a.member) else {
                return Err(GovernanceError::Approver {
                    index,
                    member: a.member.clone(),
                    why: "not a member of the registry before the change",
                });
            };
            if !seen.insert(a.member.as_str()) {
                return Err(GovernanceError::Approver {
                    index,
                    member: a.member.clone(),
                    why: "this member already approved",
                });
            }
            a.signature
                .verify_value_by(&proposal, key)
                .map_err(|error| GovernanceError::Approval {
                    index,
                    member: a.member.clone(),
                    error,
                })?;
        }
        let total = self.total_power();
        let approved = gov.approved_power(&self.members);
        if !is_quorum(approved, total) {
            return Err(GovernanceError::NoQuorum { approved, total });
        }
        let invalid = |m: String| Err(GovernanceError::InvalidChange(m));
        match &p.change {
            GovernanceAction::SetMember {
                member,
                public_key,
                power,
            } => {
                let valid_id = !member.is_empty()
                    && member.len() <= 64
                    && member
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
                if !valid_id {
                    return invalid(format!(
                        "member {member:?}: use 1 to 64 characters of a-z, 0-9 and -"
                    ));
                }
                if !(1..=1_000_000).contains(power) {
                    return invalid(format!(
                        "power {power} of member {member:?}: use 1 to 1000000 (remove_member removes)"
                    ));
                }
                let k = change_key(public_key)?;
                if let Some((other, _, _)) = self
                    .members
                    .iter()
                    .find(|(m, mk, _)| m != member && *mk == k)
                {
                    return invalid(format!(
                        "public_key of {member:?} is already the key of member {other:?}"
                    ));
                }
            }
            GovernanceAction::RemoveMember { member } => {
                if !self.members.iter().any(|(m, _, _)| m == member) {
                    return invalid(format!("member {member:?} is not a member"));
                }
                if self.members.len() == 1 {
                    return invalid(format!("member {member:?} is the last member"));
                }
            }
            GovernanceAction::AddNotary { public_key } => {
                let k = change_key(public_key)?;
                if self.notaries.get(&k.key_id()).is_some_and(|n| n.1) {
                    return invalid(format!("notary {} is already registered", k.key_id()));
                }
            }
            GovernanceAction::RemoveNotary { notary_key_id } => {
                if !self.notaries.get(notary_key_id).is_some_and(|n| n.1) {
                    return invalid(format!("notary {notary_key_id} is not registered"));
                }
            }
        }
        Ok(())
    }

    /// Checks and applies `gov`; on error nothing changes.
    pub fn apply(&mut self, gov: &GovernanceTx) -> Result<u64, GovernanceError> {
        self.check(gov)?;
        let p = &gov.proposal;
        match &p.change {
            GovernanceAction::SetMember {
                member,
                public_key,
                power,
            } => {
                let k = change_key(public_key)?;
                match self.members.iter_mut().find(|(m, _, _)| m == member) {
                    Some(entry) => *entry = (member.clone(), k, *power),
                    None => self.members.push((member.clone(), k, *power)),
                }
            }
            GovernanceAction::RemoveMember { member } => {
                self.members.retain(|(m, _, _)| m != member);
            }
            GovernanceAction::AddNotary { public_key } => {
                let k = change_key(public_key)?;
                self.notaries
                    .entry(k.key_id())
                    .and_modify(|n| n.1 = true)
                    .or_insert((k, true));
            }
            GovernanceAction::RemoveNotary { notary_key_id } => {
                if let Some(n) = self.notaries.get_mut(notary_key_id) {
                    n.1 = false;
                }
            }
        }
        self.governance_seq = p.governance_seq;
        Ok(p.governance_seq)
    }
}
