//! The offline proof bundle: everything a court needs to check one piece of evidence without
//! the network and without trusting Tiezheng: the device proof, the notary's receipt, the
//! salted batch leaf with its path to the signed batch header, the ledger's anchor record with
//! its path to the cosigned checkpoint, the registry changes since genesis and, for the
//! consortium ledger, the CometBFT header and commit; and the proof's custody events up to an
//! anchored commitment of the custody log. This module holds the types and their
//! parsing; the rules a verifier enforces on them are in [`crate::verify`] and `VERIFYING.md`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::canonical;
use crate::cometbft::{BundleCometBft, ChainReport, PolicyValidator};
use crate::custody::CustodyEvent;
use crate::hash::Hash32;
use crate::ledger::{
    AnchorRecord, CosignedCheckpoint, GovernanceError, GovernanceTx, Registry, SignedBatchHeader,
};
use crate::manifest::Proof;
use crate::notary::SignedReceipt;
use crate::sm2::Sm2PublicKey;
use crate::wire::InclusionProof;

/// `type` of a bundle.
pub const BUNDLE_TYPE: &str = "tiezheng.bundle.v1";

/// The salted leaf of a batch: `SM3(0x00 ‖ RFC 8785 bytes of {"proof_sm3", "salt"})`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchLeaf {
    /// SM3 of the proof.
    pub proof_sm3: Hash32,
    /// 16 random bytes (hex) so that sibling hashes reveal nothing about other proofs.
    #[schemars(regex(pattern = r"^[0-9a-f]{32}$"))]
    pub salt: String,
}

impl BatchLeaf {
    /// The leaf data: the leaf's RFC 8785 bytes.
    pub fn data(&self) -> Vec<u8> {
        canonical::to_canonical_bytes(self).unwrap_or_default()
    }
}

/// A member of the consortium as a policy lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyMember {
    /// Organisation identifier.
    pub id: String,
    /// SM2 public key, `04‖X‖Y` hex.
    #[schemars(regex(pattern = r"^04[0-9a-f]{128}$"))]
    pub public_key: String,
    /// Voting power.
    pub power: u64,
}

/// What a verifier trusts: notary keys and consortium members. Courts pin their own policy; the
/// copy inside a bundle is only a convenience.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "Policy",
    description = "Keys a verifier trusts: notaries and consortium members."
)]
pub struct Policy {
    /// The ledger's chain ID.
    pub chain_id: String,
    /// Notary public keys (`04‖X‖Y` hex).
    pub notary_keys: Vec<String>,
    /// Consortium members.
    pub members: Vec<PolicyMember>,
    /// The CometBFT validator set (consortium mode); empty for the embedded ledger.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub validators: Vec<PolicyValidator>,
    /// The judicial parties the court trusts (courts that commission appraisals, appraisal
    /// institutions that perform them), with their keys. Only a court's pinned policy lists
    /// them; a bundle's copy of the policy (the ledger's registry) never does.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parties: Vec<Party>,
}

/// A judicial party of a court's pinned policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Party {
    /// Identifier, as documents name it.
    pub id: String,
    /// What it is.
    pub role: PartyRole,
    /// SM2 public key, `04‖X‖Y` hex.
    #[schemars(regex(pattern = r"^04[0-9a-f]{128}$"))]
    pub public_key: String,
}

/// A party's standing in a judicial procedure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PartyRole {
    /// A court (人民法院): commissions appraisals and receives opinions.
    Court,
    /// A judicial appraisal institution (司法鉴定机构): accepts commissions, credentials its
    /// appraisers, seals opinions.
    AppraisalInstitution,
}

impl Policy {
    /// The registry this policy pins: its chain, members and notaries. Keys that do not parse
    /// are left out (the verifier's `policy` layer names them).
    pub fn registry(&self) -> Registry {
        let members = self
            .members
            .iter()
            .filter_map(|m| {
                Some((
                    m.id.clone(),
                    Sm2PublicKey::from_hex(&m.public_key).ok()?,
                    m.power,
                ))
            })
            .collect();
        let notaries: Vec<Sm2PublicKey> = self
            .notary_keys
            .iter()
            .filter_map(|k| Sm2PublicKey::from_hex(k).ok())
            .collect();
        Registry::genesis(&self.chain_id, members, notaries)
            .with_validators(self.validators.clone())
    }

    /// `registry` written as a policy.
    pub fn from_registry(registry: &Registry) -> Self {
        Self {
            chain_id: registry.chain_id.clone(),
            notary_keys: registry
                .notaries
                .values()
                .filter(|(_, active)| *active)
                .map(|(k, _)| k.to_hex())
                .collect(),
            members: registry
                .members
                .iter()
                .map(|(id, k, power)| PolicyMember {
                    id: id.clone(),
                    public_key: k.to_hex(),
                    power: *power,
                })
                .collect(),
            validators: registry.validators.clone(),
            parties: Vec::new(),
        }
    }

    /// This policy (a consortium's genesis policy) after the registry `changes`, in order:
    /// the copy a bundle whose checkpoint follows them carries, whatever the registry is
    /// today. Fails with the index of the first change the registry refuses.
    pub fn after(&self, changes: &[GovernanceTx]) -> Result<Self, (usize, GovernanceError)> {
        let mut registry = self.registry();
        for (i, change) in changes.iter().enumerate() {
            registry.apply(change).map_err(|e| (i, e))?;
        }
        Ok(Self::from_registry(&registry))
    }
}

/// Batch layer of a bundle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BundleBatch {
    /// The salted leaf.
    pub leaf: BatchLeaf,
    /// Inclusion of the leaf in the batch tree.
    pub inclusion: InclusionProof,
    /// The notary-signed batch header.
    pub header: SignedBatchHeader,
}

/// Anchor layer of a bundle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BundleAnchor {
    /// The ledger's record of the batch.
    pub record: AnchorRecord,
    /// Inclusion of the record in the anchor log at the checkpoint.
    pub inclusion: InclusionProof,
}

/// The batch header that commits the custody log, anchored: the header, the ledger's record
/// of it and the record's inclusion in the anchor log at the bundle's checkpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CustodyAnchor {
    /// A notary-signed batch header with a custody commitment.
    pub header: SignedBatchHeader,
    /// The ledger's record of it.
    pub record: AnchorRecord,
    /// Inclusion of the record in the anchor log at the checkpoint.
    pub inclusion: InclusionProof,
}

/// Custody layer of a bundle: the proof's custody events up to an anchored commitment of the
/// custody log, each with its inclusion in the log's tree (`VERIFYING.md` §4.12).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BundleCustody {
    /// Every event of the proof the commitment covers, in log order.
    pub events: Vec<CustodyEvent>,
    /// One per event: its inclusion in the tree of the commitment's size.
    pub inclusions: Vec<InclusionProof>,
    /// The anchored batch header whose custody commitment the events are in.
    pub anchor: CustodyAnchor,
}

/// The offline proof bundle.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "Bundle",
    description = "Offline proof bundle: device proof, receipt, batch and anchor inclusion, SM2-cosigned checkpoint."
)]
pub struct Bundle {
    /// Always `"tiezheng.bundle.v1"`.
    #[serde(rename = "type")]
    #[schemars(extend("const" = "tiezheng.bundle.v1"))]
    pub kind: String,
    /// `"embedded"` (single validator, quorum of one) or `"consortium"`.
    pub mode: String,
    /// The device proof.
    pub proof: Proof,
    /// The notary's receipt.
    pub receipt: SignedReceipt,
    /// Leaf → batch root.
    pub batch: BundleBatch,
    /// Batch → anchor log.
    pub anchor: BundleAnchor,
    /// The cosigned checkpoint of the anchor log.
    pub checkpoint: CosignedCheckpoint,
    /// The keys the notary says it used (compare with your own policy).
    pub policy: Policy,
    /// Consortium mode: the CometBFT header and commit over the checkpoint's state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cometbft: Option<BundleCometBft>,
    /// The registry changes applied up to the checkpoint, in order (absent if none): a
    /// verifier who pinned the genesis registry applies them, each approved by an SM2 quorum
    /// of the members before it, and must arrive at the checkpoint's `registry_root`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub governance: Vec<GovernanceTx>,
    /// The proof's custody events, anchored (absent when the notary has none to prove).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custody: Option<BundleCustody>,
    /// The credential of each officer who signed the proof, as the notary bound it (absent when
    /// no officer signed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub officers: Vec<crate::officer::SignedOfficerCertificate>,
}

/// A failed check, naming the layer and the rule (see [`crate::verify::RULES`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{layer}: {rule}: {reason}")]
pub struct BundleError {
    /// `bundle`, `policy`, `governance`, `proof`, `media`, `receipt`, `leaf`, `batch`,
    /// `anchor`, `checkpoint` or `chain`.
    pub layer: &'static str,
    /// The rule identifier, e.g. `receipt.device_seq`.
    pub rule: &'static str,
    /// What does not hold.
    pub reason: String,
}

/// What a successful verification established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleReport {
    /// SM3 of the proof.
    pub proof_sm3: Hash32,
    /// The item whose file was checked, if a file was given.
    pub media_item: Option<usize>,
    /// Batch sequence number.
    pub batch_seq: u64,
    /// Ledger height of the anchor.
    pub anchor_height: u64,
    /// Checkpoint height.
    pub checkpoint_height: u64,
    /// Members whose signatures counted.
    pub cosigners: Vec<String>,
    /// The CometBFT layer, if the bundle has one.
    pub chain: Option<ChainReport>,
}

/// Parses a bundle strictly.
pub fn parse_bundle(bytes: &[u8]) -> Result<Bundle, BundleError> {
    let v: Value = canonical::parse_strict(bytes).map_err(|e| BundleError {
        layer: "bundle",
        rule: "bundle.json",
        reason: e.to_string(),
    })?;
    serde_json::from_value(v).map_err(|e| BundleError {
        layer: "bundle",
        rule: "bundle.schema",
        reason: format!("does not match schemas/bundle.schema.json: {e}"),
    })
}
