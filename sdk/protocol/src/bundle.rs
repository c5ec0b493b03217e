//! The offline proof bundle: everything a court needs to check one piece of evidence without
//! the network and without trusting Tiezheng, and the verifier for it.
//!
//! Layers, each checked by [`verify_bundle`] and named in its errors:
//!
//! 1. `media`: the file's SM3 and SHA-256 equal those in the manifest;
//! 2. `proof`: the device's SM2 signature over the manifest;
//! 3. `receipt`: the notary's SM2 signature over the receipt, naming this proof;
//! 4. `leaf`: the salted batch leaf commits to this proof and its inclusion path reaches the
//!    batch root;
//! 5. `batch`: the batch header is signed by a notary the policy trusts;
//! 6. `anchor`: the ledger's anchor record is that batch header, and its inclusion path reaches
//!    the checkpoint's anchor-log root;
//! 7. `checkpoint`: members holding more than two thirds of the policy's voting power cosigned
//!    the checkpoint with SM2.
//! 8. `governance` (bundles made after registry changes): each change, approved with SM2 by
//!    the members before it, leads from the verifier's pinned genesis registry to the
//!    checkpoint's registry root; the resulting members and notaries are the ones checked;
//! 9. `chain` (consortium bundles): the CometBFT header of the next height carries the
//!    checkpoint's app hash and is committed by more than two thirds of the validator set the
//!    policy pins (see [`crate::cometbft`]).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::canonical;
use crate::cometbft::{BundleCometBft, ChainReport, PolicyValidator, verify_chain_layer};
use crate::hash::{ContentDigests, Hash32};
use crate::ledger::{AnchorRecord, CosignedCheckpoint, GovernanceTx, Registry, SignedBatchHeader};
use crate::manifest::Proof;
use crate::merkle::{MerkleHasher as _, Sm3Hasher};
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
}

/// A failed check, naming the layer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{layer}: {reason}")]
pub struct BundleError {
    /// `bundle`, `governance`, `policy`, `media`, `proof`, `receipt`, `leaf`, `batch`,
    /// `anchor`, `checkpoint` or `chain`.
    pub layer: &'static str,
    /// What does not hold.
    pub reason: String,
}

fn fail(layer: &'static str, reason: impl Into<String>) -> BundleError {
    BundleError {
        layer,
        reason: reason.into(),
    }
}

/// What a successful verification established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleReport {
    /// SM3 of the proof.
    pub proof_sm3: Hash32,
    /// The item whose file was checked, if a file was given.
    pub media_item: Option<usize>,
    /// Batch sequence and notary.
    pub batch_seq: u64,
    /// Ledger height of the anchor.
    pub anchor_height: u64,
    /// Checkpoint height and the cosigning members.
    pub checkpoint_height: u64,
    /// Members whose signatures counted.
    pub cosigners: Vec<String>,
    /// The CometBFT layer, if the bundle has one.
    pub chain: Option<ChainReport>,
}

/// Verifies every layer of `bundle` against `policy`; `media` are the digests of the file the
/// court holds (checked against the manifest's items), if any.
pub fn verify_bundle(
    bundle: &Bundle,
    media: Option<&ContentDigests>,
    policy: &Policy,
) -> Result<BundleReport, BundleError> {
    if bundle.kind != BUNDLE_TYPE {
        return Err(fail(
            "bundle",
            format!("type {:?} is not {BUNDLE_TYPE}", bundle.kind),
        ));
    }
    match (bundle.mode.as_str(), bundle.cometbft.is_some()) {
        ("embedded", false) | ("consortium", true) => {}
        ("consortium", false) => {
            return Err(fail(
                "chain",
                "a consortium bundle without its CometBFT header and commit",
            ));
        }
        (mode, _) => {
            return Err(fail(
                "bundle",
                format!(
                    "mode {mode:?} with{} a CometBFT layer: use \"embedded\" (without) or \"consortium\" (with)",
                    if bundle.cometbft.is_some() { "" } else { "out" }
                ),
            ));
        }
    }
    let derived;
    let policy = if bundle.governance.is_empty() {
        policy
    } else {
        derived = follow_governance(policy, &bundle.governance, &bundle.checkpoint)?;
        &derived
    };
    check_policy_copy(&bundle.policy, policy)?;
    // 2. proof
    let proof_value =
        serde_json::to_value(&bundle.proof).map_err(|e| fail("proof", e.to_string()))?;
    let verified = Proof::verify_value(&proof_value).map_err(|e| fail("proof", e.to_string()))?;
    // 1. media
    let media_item = match media {
        Some(d) => Some(
            verified
                .proof
                .manifest
                .items
                .iter()
                .position(|i| {
                    i.bytes == d.bytes
                        && i.hashes.iter().any(|h| h.value == d.sm3)
                        && i.hashes.iter().any(|h| h.value == d.sha256)
                })
                .ok_or_else(|| {
                    fail(
                        "media",
                        format!(
                            "the file (SM3 {}, {} bytes) is not an item of this proof",
                            d.sm3, d.bytes
                        ),
                    )
                })?,
        ),
        None => None,
    };
    // 3. receipt
    let notary_keys: Vec<Sm2PublicKey> = policy
        .notary_keys
        .iter()
        .filter_map(|k| Sm2PublicKey::from_hex(k).ok())
        .collect();
    let receipt_key = notary_keys
        .iter()
        .find(|k| k.key_id() == bundle.receipt.receipt.notary_key_id)
        .ok_or_else(|| fail("receipt", "signed by a notary key the policy does not list"))?;
    bundle
        .receipt
        .verify(receipt_key)
        .map_err(|e| fail("receipt", e.to_string()))?;
    if bundle.receipt.receipt.proof_sm3 != verified.proof_sm3 {
        return Err(fail("receipt", "the receipt names another proof"));
    }
    // 4. leaf
    if bundle.batch.leaf.proof_sm3 != verified.proof_sm3 {
        return Err(fail("leaf", "the batch leaf commits to another proof"));
    }
    let leaf_hash = Sm3Hasher::leaf(&bundle.batch.leaf.data());
    // 5. batch
    let header = &bundle.batch.header;
    let notary = notary_keys
        .iter()
        .find(|k| k.key_id() == header.header.notary_key_id)
        .ok_or_else(|| {
            fail(
                "batch",
                "batch header signed by a notary key the policy does not list",
            )
        })?;
    header
        .verify(notary)
        .map_err(|e| fail("batch", format!("batch header signature: {e}")))?;
    if bundle.batch.inclusion.tree_size != header.header.leaf_count {
        return Err(fail("leaf", "inclusion proof is for another batch size"));
    }
    bundle
        .batch
        .inclusion
        .verify(&leaf_hash, &header.header.root)
        .map_err(|e| fail("leaf", format!("leaf not in the batch tree: {e}")))?;
    // 6. anchor
    let record = &bundle.anchor.record;
    let header_sm3 = header
        .header
        .sm3()
        .map_err(|e| fail("anchor", e.to_string()))?;
    if record.batch_header_sm3 != header_sm3
        || record.root != header.header.root
        || record.batch_seq != header.header.batch_seq
        || record.leaf_count != header.header.leaf_count
        || record.notary_key_id != header.header.notary_key_id
    {
        return Err(fail(
            "anchor",
            "the anchor record does not describe this batch header",
        ));
    }
    let cp = &bundle.checkpoint.checkpoint;
    if bundle.anchor.inclusion.tree_size != cp.anchor_log_size || record.height > cp.height {
        return Err(fail(
            "anchor",
            "inclusion proof is not against the checkpoint's anchor log",
        ));
    }
    let record_leaf = Sm3Hasher::leaf(
        &record
            .leaf_bytes()
            .map_err(|e| fail("anchor", e.to_string()))?,
    );
    bundle
        .anchor
        .inclusion
        .verify(&record_leaf, &cp.anchor_log_root)
        .map_err(|e| fail("anchor", format!("record not in anchor log: {e}")))?;
    // 7. checkpoint
    if cp.chain_id != policy.chain_id {
        return Err(fail(
            "checkpoint",
            format!(
                "chain {:?} is not the policy's {:?}",
                cp.chain_id, policy.chain_id
            ),
        ));
    }
    let members: Vec<(String, Sm2PublicKey, u64)> = policy
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
    let checkpoint_value =
        serde_json::to_value(cp).map_err(|e| fail("checkpoint", e.to_string()))?;
    // Every cosignature a bundle carries must be a listed member's and verify, not only enough
    // of them: a bundle is evidence, and nothing in it may be altered unnoticed.
    for (i, c) in bundle.checkpoint.cosignatures.iter().enumerate() {
        let Some((_, key, _)) = members.iter().find(|(id, _, _)| *id == c.member) else {
            return Err(fail(
                "checkpoint",
                format!(
                    "cosignature {i} is by {:?}, a member the policy does not list: update the policy if the consortium admitted it",
                    c.member
                ),
            ));
        };
        c.signature
            .verify_value_by(&checkpoint_value, key)
            .map_err(|e| fail("checkpoint", format!("cosignature {i} ({}): {e}", c.member)))?;
    }
    if !bundle.checkpoint.has_quorum(&members) {
        return Err(fail(
            "checkpoint",
            "the cosignatures do not reach more than two thirds of the members' voting power",
        ));
    }
    let cosigners = bundle
        .checkpoint
        .cosignatures
        .iter()
        .map(|c| c.member.clone())
        .collect();
    // 8. chain
    let chain = match &bundle.cometbft {
        Some(layer) => {
            Some(verify_chain_layer(layer, cp, &policy.validators).map_err(|e| fail("chain", e))?)
        }
        None => None,
    };
    Ok(BundleReport {
        chain,
        proof_sm3: verified.proof_sm3,
        media_item,
        batch_seq: header.header.batch_seq,
        anchor_height: record.height,
        checkpoint_height: cp.height,
        cosigners,
    })
}

/// The policy after the registry changes a bundle carries: `pinned` must list the chain's
/// genesis members (in genesis order) and notaries; each change must be the next, for this
/// chain, approved with SM2 by more than two thirds of the members' power before it; and the
/// result must be the registry the checkpoint commits to.
fn follow_governance(
    pinned: &Policy,
    changes: &[GovernanceTx],
    checkpoint: &CosignedCheckpoint,
) -> Result<Policy, BundleError> {
    let key = |hex: &str| {
        Sm2PublicKey::from_hex(hex)
            .map_err(|e| fail("governance", format!("policy key {hex}: {e}")))
    };
    let members = pinned
        .members
        .iter()
        .map(|m| Ok((m.id.clone(), key(&m.public_key)?, m.power)))
        .collect::<Result<Vec<_>, BundleError>>()?;
    let notaries = pinned
        .notary_keys
        .iter()
        .map(|k| key(k))
        .collect::<Result<Vec<_>, BundleError>>()?;
    let mut registry = Registry::genesis(&pinned.chain_id, members, notaries);
    for (i, change) in changes.iter().enumerate() {
        registry.apply(change).map_err(|e| {
            fail(
                "governance",
                format!(
                    "change {i} (governance_seq {}): {e}",
                    change.proposal.governance_seq
                ),
            )
        })?;
    }
    if registry.root() != checkpoint.checkpoint.registry_root {
        return Err(fail(
            "governance",
            "the changes do not lead from your policy to the checkpoint's registry: the policy must list the chain's genesis members (in genesis order) and notaries, and the bundle every change since",
        ));
    }
    Ok(Policy {
        chain_id: pinned.chain_id.clone(),
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
        validators: pinned.validators.clone(),
    })
}

/// The bundle's copy of the notary's policy may claim nothing the verifier's policy does not
/// grant: the same chain, and only members, notary keys and validators the verifier lists
/// (identically). A court that pins a wider policy (several notaries, say) still accepts.
fn check_policy_copy(copy: &Policy, pinned: &Policy) -> Result<(), BundleError> {
    let bad = |what: String| {
        Err(fail(
            "policy",
            format!(
                "the bundle's copy of the policy {what} that your policy does not; compare the two before trusting either"
            ),
        ))
    };
    if copy.chain_id != pinned.chain_id {
        return bad(format!("names chain {:?}", copy.chain_id));
    }
    if let Some(m) = copy.members.iter().find(|m| !pinned.members.contains(m)) {
        return bad(format!("lists member {:?} with a key or power", m.id));
    }
    if let Some(k) = copy
        .notary_keys
        .iter()
        .find(|k| !pinned.notary_keys.contains(k))
    {
        return bad(format!("lists notary key {k}"));
    }
    if let Some(v) = copy
        .validators
        .iter()
        .find(|v| !pinned.validators.contains(v))
    {
        return bad(format!("lists validator {}", v.address));
    }
    Ok(())
}

/// Parses a bundle strictly.
pub fn parse_bundle(bytes: &[u8]) -> Result<Bundle, BundleError> {
    let v: Value = canonical::parse_strict(bytes).map_err(|e| fail("bundle", e.to_string()))?;
    serde_json::from_value(v).map_err(|e| {
        fail(
            "bundle",
            format!("does not match schemas/bundle.schema.json: {e}"),
        )
    })
}
