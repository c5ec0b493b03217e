//! The offline bundle of an anchored proof, assembled from what the notary stored and what
//! the ledger holds: the proof, its receipt and salted leaf, the batch and its anchor, the
//! checkpoint (with, on the consortium ledger, the CometBFT layer and governance kept at
//! sealing), and the proof's custody events up to the newest commitment of the custody log
//! anchored at that checkpoint.

use tiezheng_protocol::bundle::{
    BUNDLE_TYPE, BatchLeaf, Bundle, BundleAnchor, BundleBatch, BundleCustody, CustodyAnchor,
};
use tiezheng_protocol::ledger::SignedBatchHeader;
use tiezheng_protocol::merkle::{MerkleTree, Sm3Hasher};
use tiezheng_protocol::{Hash32, InclusionProof};

use super::{Anchoring, AnchoringError, Backend, LedgerEvidence, stored};
use crate::store::{LeafPosition, Store, StoredBatch};

impl Anchoring {
    /// The offline bundle of an anchored proof; `Ok(None)` while it waits for its batch or anchor.
    pub async fn bundle(
        &self,
        store: &Store,
        proof_sm3: &str,
        proof_json: &str,
        receipt_json: &str,
    ) -> Result<Option<Bundle>, AnchoringError> {
        let Some(LeafPosition {
            batch_seq: seq,
            leaf_index: index,
            salt,
        }) = store.leaf_of(proof_sm3).await?
        else {
            return Ok(None);
        };
        // On the consortium ledger the evidence is in the database once it exists: look
        // before loading the batch (answering "not yet" costs one read).
        let evidence = match &self.backend {
            Backend::Embedded(_) => None,
            Backend::CometBft(_) => {
                let Some(json) = store.ledger_evidence(seq).await? else {
                    return Ok(None);
                };
                let evidence: LedgerEvidence = serde_json::from_str(&json).map_err(|e| {
                    AnchoringError::Stored(format!("batch {seq}: stored ledger evidence: {e}"))
                })?;
                Some(evidence)
            }
        };
        let Some(StoredBatch {
            header_json,
            anchored_height: Some(_),
            leaves,
        }) = store.batch(seq).await?
        else {
            return Ok(None);
        };
        let data: Vec<Vec<u8>> = leaves
            .iter()
            .map(|leaf| {
                Ok(BatchLeaf {
                    proof_sm3: Hash32::from_hex(&leaf.proof_sm3).map_err(stored)?,
                    salt: leaf.salt.clone(),
                }
                .data())
            })
            .collect::<Result<_, AnchoringError>>()?;
        let tree = MerkleTree::<Sm3Hasher>::from_leaves(data.iter().map(Vec::as_slice));
        let index = u64::try_from(index).map_err(stored)?;
        let inclusion = InclusionProof::from_tree(&tree, index, tree.len())
            .map_err(|e| AnchoringError::Evidence(e.to_string()))?;
        let header: SignedBatchHeader = serde_json::from_str(&header_json).map_err(stored)?;
        // The newest custody commitments: the bundle carries the proof's events up to the
        // newest one anchored at its checkpoint.
        let mut commitments = Vec::new();
        if evidence.is_none() {
            for (size, batch_seq) in store.custody_commitments(8).await? {
                if let Some(json) = store.batch_header(batch_seq).await? {
                    let h: SignedBatchHeader = serde_json::from_str(&json).map_err(stored)?;
                    commitments.push((size, h));
                }
            }
        }
        let (record, anchor_inclusion, checkpoint, cometbft, governance, custody_anchor) =
            match evidence {
                Some(e) => {
                    // The consortium bundle keeps the checkpoint that first covered its batch:
                    // the custody log its own header committed is anchored there.
                    let custody_anchor = header.header.custody.map(|c| {
                        (
                            c.size,
                            CustodyAnchor {
                                header: header.clone(),
                                record: e.anchor.record.clone(),
                                inclusion: e.anchor.inclusion.clone(),
                            },
                        )
                    });
                    (
                        e.anchor.record,
                        e.anchor.inclusion,
                        e.checkpoint,
                        Some(e.cometbft),
                        e.governance,
                        custody_anchor,
                    )
                }
                None => {
                    let Backend::Embedded(chain) = &self.backend else {
                        return Ok(None);
                    };
                    let chain = chain.lock().map_err(|_| AnchoringError::Poisoned)?;
                    let Some((_, record, incl)) = chain.ledger().anchor_of(&header.header.root)
                    else {
                        return Ok(None);
                    };
                    let cp = chain
                        .checkpoint_at(chain.ledger().height())
                        .cloned()
                        .ok_or_else(|| AnchoringError::Evidence("no checkpoint".into()))?;
                    let custody_anchor = commitments.into_iter().find_map(|(size, h)| {
                        let (_, r, i) = chain.ledger().anchor_of(&h.header.root)?;
                        (r.batch_seq == h.header.batch_seq).then_some((
                            u64::try_from(size).ok()?,
                            CustodyAnchor {
                                header: h,
                                record: r,
                                inclusion: i,
                            },
                        ))
                    });
                    (record, incl, cp, None, Vec::new(), custody_anchor)
                }
            };
        let custody = match custody_anchor {
            Some((size, anchor)) => {
                let size = i64::try_from(size).map_err(stored)?;
                let (events, inclusions): (Vec<_>, Vec<_>) = store
                    .custody_proofs(proof_sm3, size)
                    .await?
                    .into_iter()
                    .unzip();
                (!events.is_empty()).then_some(BundleCustody {
                    events,
                    inclusions,
                    anchor,
                })
            }
            None => None,
        };
        // The registry as of the checkpoint: the genesis policy after the changes the bundle
        // carries (never today's registry, which a later change may have moved on).
        let policy = self
            .genesis_policy()
            .await?
            .after(&governance)
            .map_err(|(i, e)| {
                AnchoringError::Evidence(format!(
                    "batch {seq}: registry change {i} does not follow from the genesis: {e}"
                ))
            })?;
        let proof: tiezheng_protocol::Proof = serde_json::from_str(proof_json).map_err(stored)?;
        // The credential of each officer who signed, as the notary bound it at enrolment.
        let signers: Vec<String> = proof
            .officer_signatures
            .iter()
            .filter_map(|s| s.signature.parts().ok())
            .map(|(k, _)| k.key_id().to_hex())
            .collect();
        let officers = store
            .officer_certificates(&signers)
            .await?
            .iter()
            .map(|c| serde_json::from_str(c).map_err(stored))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(Bundle {
            kind: BUNDLE_TYPE.to_owned(),
            mode: self.mode().into(),
            proof,
            receipt: serde_json::from_str(receipt_json).map_err(stored)?,
            batch: BundleBatch {
                leaf: BatchLeaf {
                    proof_sm3: Hash32::from_hex(proof_sm3).map_err(stored)?,
                    salt,
                },
                inclusion,
                header,
            },
            anchor: BundleAnchor {
                record,
                inclusion: anchor_inclusion,
            },
            checkpoint,
            policy,
            cometbft,
            governance,
            custody,
            officers,
        }))
    }
}
