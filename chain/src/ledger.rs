//! The ledger state machine: deterministic, pure, the same under CometBFT and embedded.
//!
//! State: the member registry (organisations with their SM2 keys and voting power), the
//! registered notaries with their batch-sequence continuity, and the append-only anchor log (an
//! RFC 6962 SM3 Merkle tree of [`AnchorRecord`]s). A block's transactions are
//! - anchor transactions ([`SignedBatchHeader`]s), each checked (registered notary, valid SM2
//!   signature, `batch_seq` = last + 1, `previous_header_sm3` = last header's SM3, size limits)
//!   and appended in order;
//! - governance transactions ([`GovernanceTx`]s), each a registry change (member added,
//!   re-keyed, re-weighted or removed; notary admitted or removed) bound to the chain ID and
//!   the next governance sequence number, applied only with SM2 approvals of more than two
//!   thirds of the members' voting power as it stands before the change.
//!
//! After each block the [`Ledger::app_hash`] commits to the anchor log and the registry, and
//! [`Ledger::checkpoint`] is what members cosign with SM2.

use std::collections::BTreeMap;

use tiezheng_protocol::cometbft::PolicyValidator;
use tiezheng_protocol::ledger::{
    AnchorRecord, CHECKPOINT_TYPE, Checkpoint, CosignedCheckpoint, GovernanceError, GovernanceTx,
    Registry, SignedBatchHeader, is_quorum,
};
use tiezheng_protocol::merkle::{MerkleError, MerkleTree, Sm3Hasher};
use tiezheng_protocol::{
    ConsistencyProof, Hash32, InclusionProof, Sm2PublicKey, Timestamp, canonical,
};

/// Largest transaction accepted, in bytes.
pub const MAX_TX_BYTES: usize = 8 * 1024;

/// Why a transaction or block is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// The transaction is larger than [`MAX_TX_BYTES`].
    #[error("transaction of {0} bytes exceeds the {MAX_TX_BYTES}-byte limit")]
    TooLarge(usize),
    /// Not a canonical signed batch header or governance transaction.
    #[error("not an anchor or governance transaction: {0}")]
    Malformed(String),
    /// The notary key was removed from the consortium by governance.
    #[error("notary {0} was removed from the consortium and may no longer anchor")]
    NotaryRemoved(Hash32),
    /// A governance transaction the registry refuses (chain, sequence, quorum or change).
    #[error(transparent)]
    Governance(#[from] GovernanceError),
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
    /// A cosigned checkpoint that is not this ledger's or lacks a quorum.
    #[error("cosigned checkpoint refused: {0}")]
    Cosign(String),
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
    /// Which member runs which genesis validator (each then votes with its member's power
    /// and leaves with it); validators not named here belong to no member until governance
    /// says so (`set_validator`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub validators: Vec<GenesisValidator>,
}

/// A genesis validator's member.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisValidator {
    /// The member organisation.
    pub member: String,
    /// The validator's ed25519 key, base64, as in the genesis document's `validators`.
    pub pub_key: String,
}

impl Genesis {
    /// The genesis `validators` (CometBFT's, unlabelled) with the members this genesis names
    /// for them; refuses a label for an unknown member or key, a power other than the
    /// member's, or a member named twice.
    pub fn label(&self, validators: &mut [PolicyValidator]) -> Result<(), LedgerError> {
        let bad = |m: String| Err(LedgerError::Malformed(format!("genesis validators: {m}")));
        for (i, l) in self.validators.iter().enumerate() {
            let Some(member) = self.members.iter().find(|m| m.id == l.member) else {
                return bad(format!("[{i}] names {:?}, not a member", l.member));
            };
            if self.validators.iter().take(i).any(|o| o.member == l.member) {
                return bad(format!("member {:?} is named twice", l.member));
            }
            let Some(v) = validators.iter_mut().find(|v| v.pub_key == l.pub_key) else {
                return bad(format!(
                    "[{i}] key {} is not a genesis validator",
                    l.pub_key
                ));
            };
            if v.power != member.power {
                return bad(format!(
                    "the validator of {:?} has power {}, the member {}: give them the same",
                    l.member, v.power, member.power
                ));
            }
            v.member = Some(l.member.clone());
        }
        Ok(())
    }
}

/// The ledger.
#[derive(Debug, Clone)]
pub struct Ledger {
    height: u64,
    time: Timestamp,
    registry: Registry,
    /// Per notary ever admitted: its last anchored `batch_seq` and header SM3.
    continuity: BTreeMap<Hash32, (u64, Option<Hash32>)>,
    /// Applied governance changes with the height that applied them.
    governance: Vec<(u64, GovernanceTx)>,
    log: MerkleTree<Sm3Hasher>,
    records: Vec<AnchorRecord>,
    /// Index of the first record of each batch root.
    by_root: std::collections::HashMap<Hash32, u64>,
    /// Anchor-log size after each height (index = height).
    sizes: Vec<u64>,
}

/// A transaction that passed its checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckedTx {
    /// An anchor transaction.
    Anchor(SignedBatchHeader),
    /// A governance transaction.
    Governance(GovernanceTx),
}

/// The result of one transaction in a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxResult {
    /// Appended at this anchor-log index.
    Anchored(u64),
    /// A governance change applied, with this governance sequence number.
    Governed(u64),
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
        let mut notaries = Vec::new();
        for n in &genesis.notaries {
            notaries.push(key(n)?);
        }
        let registry = Registry::genesis(&genesis.chain_id, members, notaries);
        let continuity = registry
            .notaries
            .keys()
            .map(|id| (*id, (0, None)))
            .collect();
        Ok(Self {
            height: 0,
            time: Timestamp::from_unix_ms(0, 0),
            registry,
            continuity,
            governance: Vec::new(),
            log: MerkleTree::new(),
            records: Vec::new(),
            by_root: std::collections::HashMap::new(),
            sizes: vec![0],
        })
    }

    /// Current height (0 before the first block).
    pub fn height(&self) -> u64 {
        self.height
    }

    /// The members, as `(id, key, power)`.
    pub fn members(&self) -> &[(String, Sm2PublicKey, u64)] {
        &self.registry.members
    }

    /// The CometBFT validators of the registry (empty for the embedded ledger).
    pub fn validators(&self) -> &[PolicyValidator] {
        &self.registry.validators
    }

    /// Sets the genesis validators (CometBFT's `InitChain`), before the first block, with the
    /// members `genesis` names for them.
    pub fn set_genesis_validators(
        &mut self,
        genesis: &Genesis,
        mut validators: Vec<PolicyValidator>,
    ) -> Result<(), LedgerError> {
        genesis.label(&mut validators)?;
        if self.height == 0 && self.governance.is_empty() {
            self.registry.validators = validators;
        }
        Ok(())
    }

    /// The governance sequence number of the last applied change (0 at genesis).
    pub fn governance_seq(&self) -> u64 {
        self.registry.governance_seq
    }

    /// The applied governance changes up to `height`, in order.
    pub fn governance_until(&self, height: u64) -> Vec<GovernanceTx> {
        self.governance
            .iter()
            .take_while(|(h, _)| *h <= height)
            .map(|(_, g)| g.clone())
            .collect()
    }

    /// The key and whether it may anchor, of every notary ever registered.
    pub fn notaries(&self) -> impl Iterator<Item = (&Sm2PublicKey, bool)> {
        self.registry
            .notaries
            .values()
            .map(|(k, active)| (k, *active))
    }

    /// Checks a transaction against the committed state (CheckTx / ProcessProposal).
    pub fn check_tx(&self, tx: &[u8]) -> Result<CheckedTx, LedgerError> {
        self.check_tx_pending(tx, &BTreeMap::new())
    }

    /// Checks a transaction against the committed state advanced by the anchors already
    /// accepted into the mempool: `pending` maps a notary's key ID to the `(batch_seq,
    /// header SM3)` of its last one there, so that a notary can queue consecutive batches
    /// while the chain is behind.
    pub fn check_tx_pending(
        &self,
        tx: &[u8],
        pending: &BTreeMap<Hash32, (u64, Hash32)>,
    ) -> Result<CheckedTx, LedgerError> {
        if tx.len() > MAX_TX_BYTES {
            return Err(LedgerError::TooLarge(tx.len()));
        }
        let value =
            canonical::parse_canonical(tx).map_err(|e| LedgerError::Malformed(e.to_string()))?;
        let malformed = |e: serde_json::Error| LedgerError::Malformed(e.to_string());
        if value.get("proposal").is_some() {
            let gov: GovernanceTx = serde_json::from_value(value).map_err(malformed)?;
            self.check_governance(&gov)?;
            Ok(CheckedTx::Governance(gov))
        } else {
            let signed: SignedBatchHeader = serde_json::from_value(value).map_err(malformed)?;
            self.check_anchor(&signed, pending.get(&signed.header.notary_key_id))?;
            Ok(CheckedTx::Anchor(signed))
        }
    }

    fn check_anchor(
        &self,
        signed: &SignedBatchHeader,
        pending: Option<&(u64, Hash32)>,
    ) -> Result<(), LedgerError> {
        let h = &signed.header;
        let (key, active) = self
            .registry
            .notaries
            .get(&h.notary_key_id)
            .ok_or(LedgerError::UnknownNotary(h.notary_key_id))?;
        if !active {
            return Err(LedgerError::NotaryRemoved(h.notary_key_id));
        }
        signed
            .verify(key)
            .map_err(|e| LedgerError::BadSignature(e.to_string()))?;
        let (seq, header) = self
            .continuity
            .get(&h.notary_key_id)
            .copied()
            .unwrap_or((0, None));
        let (last_seq, last_header) = match pending {
            Some((p_seq, p_header)) if *p_seq > seq => (*p_seq, Some(*p_header)),
            _ => (seq, header),
        };
        if h.batch_seq != last_seq + 1 {
            return Err(LedgerError::Sequence {
                notary: h.notary_key_id,
                found: h.batch_seq,
                expected: last_seq + 1,
            });
        }
        if h.previous_header_sm3 != last_header {
            return Err(LedgerError::Chain(h.notary_key_id));
        }
        Ok(())
    }

    fn check_governance(&self, gov: &GovernanceTx) -> Result<(), LedgerError> {
        Ok(self.registry.check(gov)?)
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
            // Both appliers fail (if ever) before they change anything, so a failure refuses
            // the one transaction and never leaves the block half-applied.
            let applied = match self.check_tx(tx) {
                Ok(CheckedTx::Anchor(signed)) => self
                    .append_anchor(&signed, height, time)
                    .map(TxResult::Anchored),
                Ok(CheckedTx::Governance(gov)) => match self.registry.apply(&gov) {
                    Ok(seq) => {
                        for id in self.registry.notaries.keys() {
                            self.continuity.entry(*id).or_insert((0, None));
                        }
                        self.governance.push((height, gov));
                        Ok(TxResult::Governed(seq))
                    }
                    Err(e) => Err(e.into()),
                },
                Err(e) => Err(e),
            };
            results.push(applied.unwrap_or_else(TxResult::Refused));
        }
        self.height = height;
        self.time = time;
        self.sizes.push(self.log.len());
        Ok(results)
    }

    /// The checkpoint this ledger will have once block `height` (time `time`, ledger
    /// transactions `txs`) is executed, with the ledger left as it was: what members cosign in
    /// their vote for the block, before it is committed. It runs [`Ledger::finalize_block`]
    /// itself and then undoes it, so the speculation and the execution cannot differ.
    pub fn checkpoint_after(
        &mut self,
        height: u64,
        time: Timestamp,
        txs: &[Vec<u8>],
    ) -> Result<Checkpoint, LedgerError> {
        let before = (
            self.height,
            self.time,
            self.registry.clone(),
            self.continuity.clone(),
            self.governance.len(),
            self.records.len(),
            self.sizes.len(),
            self.log.len(),
        );
        let executed = self.finalize_block(height, time, txs);
        let checkpoint = self.checkpoint();
        let (height0, time0, registry, continuity, governance, records, sizes, log) = before;
        for (i, r) in self.records.iter().enumerate().skip(records) {
            if self.by_root.get(&r.root) == Some(&(i as u64)) {
                self.by_root.remove(&r.root);
            }
        }
        self.records.truncate(records);
        self.log.truncate(log);
        self.sizes.truncate(sizes);
        self.governance.truncate(governance);
        self.continuity = continuity;
        self.registry = registry;
        self.height = height0;
        self.time = time0;
        executed.map(|_| checkpoint)
    }

    fn append_anchor(
        &mut self,
        signed: &SignedBatchHeader,
        height: u64,
        time: Timestamp,
    ) -> Result<u64, LedgerError> {
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
        self.by_root.entry(record.root).or_insert(index);
        self.records.push(record);
        self.continuity
            .insert(h.notary_key_id, (h.batch_seq, Some(header_sm3)));
        Ok(index)
    }

    /// SM3 commitment to the member registry, the notaries that may anchor and (once there
    /// has been a change) the governance sequence number.
    pub fn registry_root(&self) -> Hash32 {
        self.registry.root()
    }

    /// `SM3("TIEZHENG-APPHASH-V1" ‖ be64(anchor_log_size) ‖ anchor_log_root ‖ registry_root)`.
    pub fn app_hash(&self) -> Hash32 {
        tiezheng_protocol::ledger::app_hash(self.log.len(), &self.log.root(), &self.registry_root())
    }

    /// The checkpoint of the current state, for members to cosign.
    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            kind: CHECKPOINT_TYPE.to_owned(),
            chain_id: self.registry.chain_id.clone(),
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
        let index = *self.by_root.get(batch_root)?;
        let proof = InclusionProof::from_tree(&self.log, index, self.log.len()).ok()?;
        Some((
            index,
            self.records.get(usize::try_from(index).ok()?)?.clone(),
            proof,
        ))
    }

    /// The anchor record at `index` in the log.
    pub fn record(&self, index: u64) -> Option<&AnchorRecord> {
        self.records.get(usize::try_from(index).ok()?)
    }

    /// Like [`Ledger::anchor_of`], with the inclusion proof against the log when it held
    /// `log_size` records (a cosigned checkpoint's size); `None` if the batch was anchored
    /// later or not at all.
    pub fn anchor_within(
        &self,
        batch_root: &Hash32,
        log_size: u64,
    ) -> Option<(u64, AnchorRecord, InclusionProof)> {
        let (index, record, _) = self.anchor_of(batch_root)?;
        if index >= log_size {
            return None;
        }
        let proof = InclusionProof::from_tree(&self.log, index, log_size).ok()?;
        Some((index, record, proof))
    }

    /// Checks that `cosigned` is `expected` (a checkpoint this ledger produced) cosigned with
    /// SM2 by members holding more than two thirds of the current voting power.
    pub fn check_cosigned(
        &self,
        cosigned: &CosignedCheckpoint,
        expected: &Checkpoint,
    ) -> Result<(), LedgerError> {
        if cosigned.checkpoint != *expected {
            return Err(LedgerError::Cosign(format!(
                "the checkpoint is not this ledger's checkpoint at height {}",
                expected.height
            )));
        }
        let total = self.registry.total_power();
        let signed = cosigned.signed_power(self.members());
        if !is_quorum(signed, total) {
            return Err(LedgerError::Cosign(format!(
                "cosigned by voting power {signed} of {total}; more than two thirds is required"
            )));
        }
        Ok(())
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
