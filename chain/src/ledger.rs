//! The ledger state machine: deterministic, pure, the same under CometBFT and embedded.
//!
//! State: the member registry (organisations with their SM2 keys and voting power), the
//! registered notaries with their batch-sequence continuity, and the append-only anchor log (an
//! RFC 6962 SM3 Merkle tree of [`AnchorRecord`]s). A block's transactions are anchor
//! transactions ([`SignedBatchHeader`]s); each is checked (registered notary, valid SM2
//! signature, `batch_seq` = last + 1, `previous_header_sm3` = last header's SM3, size limits)
//! and appended in order. After each block the [`Ledger::app_hash`] commits to the anchor log
//! and the registry, and [`Ledger::checkpoint`] is what members cosign with SM2.

use std::collections::BTreeMap;

use tiezheng_protocol::ledger::{AnchorRecord, CHECKPOINT_TYPE, Checkpoint, SignedBatchHeader};
use tiezheng_protocol::merkle::{MerkleError, MerkleTree, Sm3Hasher};
use tiezheng_protocol::{
    ConsistencyProof, Hash32, InclusionProof, Sm2PublicKey, Timestamp, canonical,
};

/// Largest anchor transaction accepted, in bytes.
pub const MAX_TX_BYTES: usize = 8 * 1024;

/// Why a transaction or block is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// The transaction is larger than [`MAX_TX_BYTES`].
    #[error("transaction of {0} bytes exceeds the {MAX_TX_BYTES}-byte limit")]
    TooLarge(usize),
    /// Not a canonical signed batch header.
    #[error("not an anchor transaction: {0}")]
    Malformed(String),
    /// The notary key is not registered.
    #[error("notary {0} is not registered with the consortium")]
    UnknownNotary(Hash32),
    /// The notary's signature does not verify.
    #[error("the batch header's signature does not verify: {0}")]
    BadSignature(String),
    /// `batch_seq` is not the next one.
    #[error("batch_seq {found} of notary {notary} is not the next one ({expected})")]
    Sequence {
        /// The notary.
        notary: Hash32,
        /// What the header says.
        found: u64,
        /// What the ledger expects.
        expected: u64,
    },
    /// `previous_header_sm3` does not link to the notary's last anchored header.
    #[error("previous_header_sm3 of notary {0} does not match its last anchored header")]
    Chain(Hash32),
    /// A block whose height is not the next one.
    #[error("block height {found} is not the next height {expected}")]
    Height {
        /// Given.
        found: u64,
        /// Expected.
        expected: u64,
    },
}

/// A consortium member.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Member {
    /// Organisation identifier (e.g. "court", "police", "procuratorate", "notary-office").
    pub id: String,
    /// Its SM2 public key (hex `04‖X‖Y`).
    pub public_key: String,
    /// Voting power.
    pub power: u64,
}

/// The genesis of a ledger: chain ID, members and registered notaries.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Genesis {
    /// Chain identifier.
    pub chain_id: String,
    /// Members with their SM2 keys and voting power.
    pub members: Vec<Member>,
    /// Notary public keys allowed to anchor (hex `04‖X‖Y`).
    pub notaries: Vec<String>,
}

#[derive(Debug, Clone)]
struct NotaryState {
    key: Sm2PublicKey,
    last_seq: u64,
    last_header_sm3: Option<Hash32>,
}

/// The ledger.
#[derive(Debug, Clone)]
pub struct Ledger {
    chain_id: String,
    height: u64,
    time: Timestamp,
    members: Vec<(String, Sm2PublicKey, u64)>,
    notaries: BTreeMap<Hash32, NotaryState>,
    log: MerkleTree<Sm3Hasher>,
    records: Vec<AnchorRecord>,
    /// Anchor-log size after each height (index = height).
    sizes: Vec<u64>,
}

/// The result of one transaction in a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxResult {
    /// Appended at this anchor-log index.
    Anchored(u64),
    /// Refused; the block goes on without it.
    Refused(LedgerError),
}

impl Ledger {
    /// A ledger at height 0 from `genesis`.
    pub fn new(genesis: &Genesis) -> Result<Self, LedgerError> {
        let key = |hex: &str| {
            Sm2PublicKey::from_hex(hex)
                .map_err(|e| LedgerError::Malformed(format!("genesis key: {e}")))
        };
        let mut members = Vec::new();
        for m in &genesis.members {
            members.push((m.id.clone(), key(&m.public_key)?, m.power));
        }
        let mut notaries = BTreeMap::new();
        for n in &genesis.notaries {
            let k = key(n)?;
            notaries.insert(
                k.key_id(),
                NotaryState {
                    key: k,
                    last_seq: 0,
                    last_header_sm3: None,
                },
            );
        }
        Ok(Self {
            chain_id: genesis.chain_id.clone(),
            height: 0,
            time: Timestamp::from_unix_ms(0, 0),
            members,
            notaries,
            log: MerkleTree::new(),
            records: Vec::new(),
            sizes: vec![0],
        })
    }

    /// Current height (0 before the first block).
    pub fn height(&self) -> u64 {
        self.height
    }

    /// The members, as `(id, key, power)`.
    pub fn members(&self) -> &[(String, Sm2PublicKey, u64)] {
        &self.members
    }

    /// Checks a transaction against the committed state (CheckTx / ProcessProposal).
    pub fn check_tx(&self, tx: &[u8]) -> Result<SignedBatchHeader, LedgerError> {
        self.check_against(tx, &self.notaries)
    }

    fn check_against(
        &self,
        tx: &[u8],
        notaries: &BTreeMap<Hash32, NotaryState>,
    ) -> Result<SignedBatchHeader, LedgerError> {
        if tx.len() > MAX_TX_BYTES {
            return Err(LedgerError::TooLarge(tx.len()));
        }
        let value =
            canonical::parse_canonical(tx).map_err(|e| LedgerError::Malformed(e.to_string()))?;
        let signed: SignedBatchHeader =
            serde_json::from_value(value).map_err(|e| LedgerError::Malformed(e.to_string()))?;
        let h = &signed.header;
        let notary = notaries
            .get(&h.notary_key_id)
            .ok_or(LedgerError::UnknownNotary(h.notary_key_id))?;
        signed
            .verify(&notary.key)
            .map_err(|e| LedgerError::BadSignature(e.to_string()))?;
        if h.batch_seq != notary.last_seq + 1 {
            return Err(LedgerError::Sequence {
                notary: h.notary_key_id,
                found: h.batch_seq,
                expected: notary.last_seq + 1,
            });
        }
        if h.previous_header_sm3 != notary.last_header_sm3 {
            return Err(LedgerError::Chain(h.notary_key_id));
        }
        Ok(signed)
    }

    /// Executes a block (FinalizeBlock): every transaction in order, refusing those that do
    /// not check against the state as it stands before them. Deterministic.
    pub fn finalize_block(
        &mut self,
        height: u64,
        time: Timestamp,
        txs: &[Vec<u8>],
    ) -> Result<Vec<TxResult>, LedgerError> {
        if height != self.height + 1 {
            return Err(LedgerError::Height {
                found: height,
                expected: self.height + 1,
            });
        }
        let mut results = Vec::with_capacity(txs.len());
        for tx in txs {
            match self.check_against(tx, &self.notaries) {
                Ok(signed) => {
                    let h = &signed.header;
                    let header_sm3 = h.sm3().map_err(|e| LedgerError::Malformed(e.to_string()))?;
                    let record = AnchorRecord {
                        batch_header_sm3: header_sm3,
                        notary_key_id: h.notary_key_id,
                        batch_seq: h.batch_seq,
                        root: h.root,
                        leaf_count: h.leaf_count,
                        height,
                        time,
                    };
                    let leaf = record
                        .leaf_bytes()
                        .map_err(|e| LedgerError::Malformed(e.to_string()))?;
                    let index = self.log.push_leaf(&leaf);
                    self.records.push(record);
                    if let Some(n) = self.notaries.get_mut(&h.notary_key_id) {
                        n.last_seq = h.batch_seq;
                        n.last_header_sm3 = Some(header_sm3);
                    }
                    results.push(TxResult::Anchored(index));
                }
                Err(e) => results.push(TxResult::Refused(e)),
            }
        }
        self.height = height;
        self.time = time;
        self.sizes.push(self.log.len());
        Ok(results)
    }

    /// SM3 commitment to the member registry and registered notaries.
    pub fn registry_root(&self) -> Hash32 {
        let mut text = String::new();
        for (id, key, power) in &self.members {
            text.push_str(&format!("member {id} {} {power}\n", key.to_hex()));
        }
        for id in self.notaries.keys() {
            text.push_str(&format!("notary {id}\n"));
        }
        Hash32::sm3(text.as_bytes())
    }

    /// `SM3("TIEZHENG-APPHASH-V1" ‖ be64(anchor_log_size) ‖ anchor_log_root ‖ registry_root)`.
    pub fn app_hash(&self) -> Hash32 {
        let mut pre = b"TIEZHENG-APPHASH-V1".to_vec();
        pre.extend_from_slice(&self.log.len().to_be_bytes());
        pre.extend_from_slice(self.log.root().as_bytes());
        pre.extend_from_slice(self.registry_root().as_bytes());
        Hash32::sm3(&pre)
    }

    /// The checkpoint of the current state, for members to cosign.
    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            kind: CHECKPOINT_TYPE.to_owned(),
            chain_id: self.chain_id.clone(),
            height: self.height,
            anchor_log_size: self.log.len(),
            anchor_log_root: self.log.root(),
            registry_root: self.registry_root(),
            time: self.time,
        }
    }

    /// The anchor record of a batch root, its index and its inclusion proof in the log as it
    /// stands now.
    pub fn anchor_of(&self, batch_root: &Hash32) -> Option<(u64, AnchorRecord, InclusionProof)> {
        let index = self.records.iter().position(|r| r.root == *batch_root)?;
        let index = u64::try_from(index).ok()?;
        let proof = InclusionProof::from_tree(&self.log, index, self.log.len()).ok()?;
        Some((
            index,
            self.records.get(usize::try_from(index).ok()?)?.clone(),
            proof,
        ))
    }

    /// Anchor-log size after `height`.
    pub fn size_at(&self, height: u64) -> Option<u64> {
        self.sizes.get(usize::try_from(height).ok()?).copied()
    }

    /// Consistency proof between the anchor log after two heights.
    pub fn consistency(
        &self,
        from_height: u64,
        to_height: u64,
    ) -> Result<ConsistencyProof, MerkleError> {
        let bad = |h| MerkleError::InvalidSizes {
            old: from_height,
            new: to_height,
            available: h,
        };
        let old = self.size_at(from_height).ok_or(bad(self.height))?;
        let new = self.size_at(to_height).ok_or(bad(self.height))?;
        ConsistencyProof::from_tree(&self.log, old, new)
    }

    /// Root of the anchor log after `height`.
    pub fn root_at(&self, height: u64) -> Option<Hash32> {
        self.log.root_at(self.size_at(height)?).ok()
    }
}
