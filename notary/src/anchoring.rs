//! Batching and anchoring, behind the receipts.
//!
//! Every accepted proof gets a salted leaf (stored in the same transaction as the proof). A
//! background task closes a batch when it holds `batch_max_leaves` proofs or its oldest proof
//! has waited `batch_max_ms`: it builds the batch's RFC 6962 SM3 tree, signs the batch header
//! (sequence, previous header's SM3, size, root, time window) and stores it; then it anchors
//! closed batches in order on the ledger. A ledger outage never blocks intake: batches wait
//! and are anchored in order later; a batch the ledger already holds (the notary died between
//! anchoring and recording it) is recorded, never anchored twice.
//!
//! Every batch header also commits the custody log as it stands when the batch closes (the
//! root of its SM3 tree, `crate::store` keeps it sparsely); custody events that wait with no
//! proof to batch get a batch of their own after `CUSTODY_ANCHOR_MS`, whose one leaf is the
//! commitment. Bundles carry the proof's custody events up to the newest commitment anchored
//! at their checkpoint (`anchoring/bundles.rs`).
//!
//! Two ledgers, the same data shapes: the embedded single-validator chain (a quorum of one, in
//! this process), or the consortium's CometBFT chain, reached through this organisation's node
//! RPC (`broadcast_tx_sync` for anchors, `abci_query` for anchor records and cosigned
//! checkpoints, `/commit` and `/validators` for the BFT layer of the bundles).
//!
//! On the consortium ledger a batch is broadcast as soon as it is closed, several may wait in
//! the mempool at once (the ledger checks each against the ones before it), and once the
//! first cosigned checkpoint covers a batch's anchor, what the ledger contributes to its
//! bundles (anchor record and inclusion, cosigned checkpoint, CometBFT header, commit and
//! validators, governance) is kept in the database: bundles are then served without asking
//! the ledger, also while it is unreachable.

mod bundles;

use std::sync::Mutex;

use tiezheng_chain::embedded::EmbeddedChain;
use tiezheng_chain::ledger::{Genesis, Member, TxResult};
use tiezheng_chain::rpc::LedgerRpc;
use tiezheng_protocol::bundle::{BatchLeaf, BundleAnchor, Policy, PolicyMember};
use tiezheng_protocol::cometbft::BundleCometBft;
use tiezheng_protocol::ledger::{
    BATCH_HEADER_TYPE, BatchHeader, CosignedCheckpoint, GovernanceTx, SignedBatchHeader,
};
use tiezheng_protocol::merkle::{MerkleTree, Sm3Hasher};
use tiezheng_protocol::{Hash32, Sm2SigningKey, Timestamp, canonical};

use crate::store::{AnchoredBatch, BatchEvidence, PendingLeaf, Store, StoreError};

/// Why batching, anchoring or a bundle failed: what `/readyz` reports as the ledger's cause
/// of a stall, and what the log says.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AnchoringError {
    /// The notary's database failed, or refused a batch (this instance lost the batching
    /// lease: [`StoreError::LostLease`]).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The ledger could not be opened, reached or understood: the embedded chain, or the
    /// consortium node's RPC.
    #[error("{0}")]
    Ledger(String),
    /// The ledger refused a batch's anchor transaction (the batches after it wait with it).
    #[error("the ledger refused batch {batch_seq}: {log}")]
    Refused {
        /// The refused batch.
        batch_seq: i64,
        /// The ledger's reason.
        log: String,
    },
    /// The ledger took a batch's transaction, but not as its anchor.
    #[error("the ledger did not take batch {batch_seq} as an anchor")]
    NotAnchored {
        /// The batch.
        batch_seq: i64,
    },
    /// What the database holds cannot be read back (a batch header, a leaf, kept ledger
    /// evidence, a stored proof or receipt).
    #[error("{0}")]
    Stored(String),
    /// A batch header could not be hashed, signed or serialised.
    #[error("the batch header: {0}")]
    Header(String),
    /// A bundle cannot be assembled from what the batch and the ledger hold.
    #[error("{0}")]
    Evidence(String),
    /// The embedded ledger's lock was poisoned (a thread panicked while holding it).
    #[error("ledger lock poisoned")]
    Poisoned,
}

/// `AnchoringError::Stored` with the error's text.
fn stored(e: impl std::fmt::Display) -> AnchoringError {
    AnchoringError::Stored(e.to_string())
}

/// `AnchoringError::Header` with the error's text.
fn header_error(e: impl std::fmt::Display) -> AnchoringError {
    AnchoringError::Header(e.to_string())
}

/// The ledger the notary anchors on, and the policy a court needs to check its bundles.
#[derive(Debug)]
pub struct Anchoring {
    backend: Backend,
    /// The ledger's genesis policy (what courts pin; it never changes): known at once for the
    /// embedded ledger, read from the node's `genesis` once on the consortium ledger.
    genesis: Mutex<Option<Policy>>,
    /// This instance's name in the batching lease (random, per process).
    holder: String,
}

/// How long the batching lease lasts without renewal: when its holder dies, another instance
/// takes over batching and anchoring within this time.
pub const BATCHING_LEASE_MS: i64 = 3000;

/// At most this many batches not anchored yet, and as many anchored ones waiting for their
/// ledger evidence, are looked at per tick (a backlog, after an outage, drains over several
/// ticks).
const UNSEALED_PER_TICK: i64 = 256;

/// Anchor queries sent to the node at once.
const QUERIES_IN_FLIGHT: usize = 8;

/// What the consortium ledger contributes to every bundle of one batch, kept in the database
/// (canonical JSON) once the first cosigned checkpoint covers the batch's anchor.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct LedgerEvidence {
    anchor: BundleAnchor,
    checkpoint: CosignedCheckpoint,
    cometbft: BundleCometBft,
    governance: Vec<GovernanceTx>,
}

fn new_holder() -> String {
    let mut b = [0u8; 8];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b).ok();
    format!("{}-{}", std::process::id(), hex::encode(b))
}

#[derive(Debug)]
enum Backend {
    Embedded(Box<Mutex<EmbeddedChain>>),
    CometBft(CometRpc),
}

/// The member organisation that cosigns the embedded ledger.
pub const EMBEDDED_MEMBER: &str = "notary-office";

impl Anchoring {
    /// Opens the embedded ledger in `dir` with the notary's key registered and `member_key` as
    /// the single cosigning member.
    pub fn open(
        dir: &std::path::Path,
        notary: &Sm2SigningKey,
        member_key: Sm2SigningKey,
    ) -> Result<Self, AnchoringError> {
        let chain_id = format!(
            "tiezheng-embedded-{}",
            notary
                .public_key()
                .key_id()
                .to_hex()
                .get(..12)
                .unwrap_or("0")
        );
        let genesis = Genesis {
            chain_id: chain_id.clone(),
            members: vec![Member {
                id: EMBEDDED_MEMBER.into(),
                public_key: member_key.public_key().to_hex(),
                power: 1,
            }],
            notaries: vec![notary.public_key().to_hex()],
            validators: Vec::new(),
        };
        let policy = Policy {
            chain_id,
            notary_keys: vec![notary.public_key().to_hex()],
            members: vec![PolicyMember {
                id: EMBEDDED_MEMBER.into(),
                public_key: member_key.public_key().to_hex(),
                power: 1,
            }],
            validators: Vec::new(),
            parties: Vec::new(),
        };
        let chain = EmbeddedChain::open(dir, &genesis, EMBEDDED_MEMBER, member_key)
            .map_err(|e| AnchoringError::Ledger(e.to_string()))?;
        Ok(Self {
            holder: new_holder(),
            backend: Backend::Embedded(Box::new(Mutex::new(chain))),
            genesis: Mutex::new(Some(policy)),
        })
    }

    /// Anchors on the consortium's CometBFT ledger through the node RPC at `rpc` (for example
    /// `http://127.0.0.1:26657`). The node need not be up yet: anchoring waits for it.
    pub fn cometbft(rpc: &str) -> Result<Self, AnchoringError> {
        Ok(Self {
            holder: new_holder(),
            backend: Backend::CometBft(CometRpc::new(rpc).map_err(AnchoringError::Ledger)?),
            genesis: Mutex::new(None),
        })
    }

    /// The ledger's genesis policy: the one courts pin, with which every bundle and
    /// certificate of this ledger verifies, before and after any registry change (a bundle
    /// carries the changes up to its checkpoint). On the consortium ledger it is read from
    /// the node's genesis document the first time and kept; `Err` while the node cannot be
    /// asked.
    pub async fn genesis_policy(&self) -> Result<Policy, AnchoringError> {
        if let Some(p) = self.genesis.lock().ok().and_then(|g| g.clone()) {
            return Ok(p);
        }
        let Backend::CometBft(rpc) = &self.backend else {
            return Err(AnchoringError::Ledger(
                "the embedded ledger has no genesis policy".into(),
            ));
        };
        let p = rpc.genesis_policy().await.map_err(AnchoringError::Ledger)?;
        if let Ok(mut g) = self.genesis.lock() {
            *g = Some(p.clone());
        }
        Ok(p)
    }

    /// The consortium ledger's latest block height, as this notary's node reports it (`None`
    /// on the embedded ledger, or when the node cannot be asked).
    pub async fn chain_height(&self) -> Option<u64> {
        let Backend::CometBft(rpc) = &self.backend else {
            return None;
        };
        let status = rpc.call("status", serde_json::json!({})).await.ok()?.ok()?;
        status
            .pointer("/sync_info/latest_block_height")?
            .as_str()?
            .parse()
            .ok()
    }

    /// `"embedded"` or `"consortium"`.
    pub fn mode(&self) -> &'static str {
        match self.backend {
            Backend::Embedded(_) => "embedded",
            Backend::CometBft(_) => "consortium",
        }
    }

    /// Closes a batch if one is due, then anchors every closed batch not yet anchored.
    pub async fn tick(
        &self,
        store: &Store,
        key: &Sm2SigningKey,
        max_leaves: usize,
        max_ms: i64,
        custody_ms: i64,
        metrics: &crate::metrics::Metrics,
    ) -> Result<(), AnchoringError> {
        let now = Timestamp::now_utc().unix_ms();
        if !store
            .hold_batching_lease(&self.holder, now, BATCHING_LEASE_MS)
            .await?
        {
            // Another instance closes and anchors batches; this one only takes proofs.
            return Ok(());
        }
        let limit = i64::try_from(max_leaves).unwrap_or(i64::MAX);
        // Every batch that is due, so a backlog (after an outage, or under a load above one
        // full batch per tick) drains at once.
        let mut send_now = true;
        for round in 0..65 {
            let pending = store.pending_leaves(limit).await?;
            let due = pending.first().is_some_and(|oldest| {
                pending.len() >= max_leaves || now - oldest.added_at >= max_ms
            });
            // No proof due: custody events waiting uncommitted since the last batch closed
            // (custody_ms ago at least) get a batch of their own.
            let custody_due =
                !due && round == 0 && self.custody_due(store, now, custody_ms).await?;
            if (!due && !custody_due) || round == 64 {
                break;
            }
            let batch: &[PendingLeaf] = if due { &pending } else { &[] };
            let (seq, header_json) = self.close_batch(store, key, batch, now).await?;
            // On the consortium ledger the batch is sent at once, so that it makes the next
            // block; if the node refuses it or cannot be reached, the anchoring below sends
            // it again (and no other batch of this tick waits on the node meanwhile).
            if send_now
                && let Backend::CometBft(rpc) = &self.backend
                && let Err(e) = rpc.submit(seq, header_json.as_bytes()).await
            {
                send_now = false;
                tracing::debug!(batch_seq = seq, error = %e, "anchor transaction not sent yet");
            }
        }
        match &self.backend {
            Backend::Embedded(chain) => Self::anchor_embedded(chain, store, now, metrics).await,
            Backend::CometBft(rpc) => self.anchor_consortium(rpc, store, key, now, metrics).await,
        }
    }

    /// Anchors every closed batch not yet anchored on the embedded ledger, in order, in one
    /// block (one cosignature, one durable write), and records them in one transaction.
    async fn anchor_embedded(
        chain: &Mutex<EmbeddedChain>,
        store: &Store,
        now: i64,
        metrics: &crate::metrics::Metrics,
    ) -> Result<(), AnchoringError> {
        let batches = store.unanchored_batches().await?;
        let mut signed = Vec::with_capacity(batches.len());
        for b in batches {
            let header: SignedBatchHeader = serde_json::from_str(&b.header_json).map_err(stored)?;
            signed.push((b.batch_seq, b.header_json, header));
        }
        let mut refusal: Option<AnchoringError> = None;
        let heights = {
            let mut chain = chain.lock().map_err(|_| AnchoringError::Poisoned)?;
            // Those the ledger holds already (the notary died between anchoring and recording
            // them) are recorded, never anchored twice.
            let mut heights: Vec<Option<u64>> = signed
                .iter()
                .map(|(_, _, h)| match chain.ledger().anchor_of(&h.header.root) {
                    Some((_, record, _)) if record.batch_seq == h.header.batch_seq => {
                        Some(record.height)
                    }
                    _ => None,
                })
                .collect();
            let txs: Vec<Vec<u8>> = signed
                .iter()
                .zip(&heights)
                .filter(|(_, height)| height.is_none())
                .map(|((_, json, _), _)| json.clone().into_bytes())
                .collect();
            if !txs.is_empty() {
                let results = chain
                    .commit_block(Timestamp::now_utc(), &txs)
                    .map_err(|e| AnchoringError::Ledger(e.to_string()))?;
                let height = chain.ledger().height();
                let mut results = results.into_iter();
                for ((seq, _, _), slot) in signed.iter().zip(heights.iter_mut()) {
                    if slot.is_some() {
                        continue;
                    }
                    match results.next() {
                        Some(TxResult::Anchored(_)) => *slot = Some(height),
                        // The batches after a refused one follow it: they are refused too,
                        // and wait with it.
                        Some(TxResult::Refused(e)) => {
                            refusal = Some(AnchoringError::Refused {
                                batch_seq: *seq,
                                log: e.to_string(),
                            });
                            break;
                        }
                        Some(TxResult::Governed(_)) | None => {
                            refusal = Some(AnchoringError::NotAnchored { batch_seq: *seq });
                            break;
                        }
                    }
                }
            }
            heights
        };
        let anchored: Vec<(&SignedBatchHeader, i64, u64)> = signed
            .iter()
            .zip(&heights)
            .filter_map(|((seq, _, h), height)| height.map(|height| (h, *seq, height)))
            .collect();
        Self::record_anchored(store, &anchored, now, metrics).await?;
        refusal.map_or(Ok(()), Err)
    }

    /// On the consortium ledger: asks the ledger about every batch whose evidence is not kept
    /// yet (a few queries in flight at once); records those it anchored; keeps the evidence
    /// of those a cosigned checkpoint covers; and submits, in order, those it does not hold
    /// yet. A refusal stops the submissions of this tick (the later batches follow the
    /// refused one), not the recording of the others.
    async fn anchor_consortium(
        &self,
        rpc: &CometRpc,
        store: &Store,
        key: &Sm2SigningKey,
        now: i64,
        metrics: &crate::metrics::Metrics,
    ) -> Result<(), AnchoringError> {
        use futures_util::StreamExt as _;
        if rpc.policy_due() {
            rpc.policy_fetched();
            let current = rpc.policy_answer().await.map_err(AnchoringError::Ledger)?;
            let registered = current.notary_keys.contains(&key.public_key().to_hex());
            let was = rpc
                .registered
                .swap(registered, std::sync::atomic::Ordering::Relaxed);
            if !registered && (was || !rpc.warned.swap(true, std::sync::atomic::Ordering::Relaxed))
            {
                tracing::warn!(
                    notary_key = %key.public_key().to_hex(),
                    chain_id = %current.chain_id,
                    "this notary's key may not anchor on the consortium ledger: the ledger will refuse its batches. Put the key (the public_key of the notary's key file) in the genesis app_state.notaries, or have the members admit it (tiezheng ledger propose --add-notary)"
                );
            }
        }
        let batches = store.unsealed_batches(UNSEALED_PER_TICK).await?;
        let mut waiting = Vec::with_capacity(batches.len());
        for b in batches {
            let signed: SignedBatchHeader = serde_json::from_str(&b.header_json).map_err(stored)?;
            waiting.push((b.batch_seq, b.header_json, b.anchored_height, signed));
        }
        // The first failure (the node unreachable, say) ends the tick at once: the queries
        // still in flight are dropped.
        let mut answers = Vec::with_capacity(waiting.len());
        let mut asked = futures_util::stream::iter(
            waiting
                .iter()
                .map(|(_, _, _, signed)| rpc.anchor(&signed.header.root)),
        )
        .buffered(QUERIES_IN_FLIGHT);
        while let Some(answer) = asked.next().await {
            answers.push(answer.map_err(AnchoringError::Ledger)?);
        }
        drop(asked);
        let mut answered = Vec::with_capacity(waiting.len());
        for (batch, answer) in waiting.into_iter().zip(answers) {
            let answer = answer.filter(|a| a.record.batch_seq == batch.3.header.batch_seq);
            answered.push((batch, answer));
        }
        // First what the ledger does not hold yet, in order, so that a batch just closed is
        // on its way before the others' records are written.
        let mut first_error: Option<AnchoringError> = None;
        for ((seq, header_json, anchored, _), answer) in &answered {
            // A batch recorded as anchored that the node does not answer with: its ledger
            // application is rebuilding its state (replaying blocks). Ask again later.
            if answer.is_some() || anchored.is_some() {
                continue;
            }
            if let Err(e) = rpc.submit(*seq, header_json.as_bytes()).await {
                // The later batches follow this one: they would be refused too.
                first_error = Some(e);
                break;
            }
        }
        let newly: Vec<(&SignedBatchHeader, i64, u64)> = answered
            .iter()
            .filter_map(|((seq, _, anchored, signed), a)| match (anchored, a) {
                (None, Some(a)) => Some((signed, *seq, a.record.height)),
                _ => None,
            })
            .collect();
        Self::record_anchored(store, &newly, now, metrics).await?;
        let mut sealed = Vec::new();
        for ((seq, _, _, _), answer) in answered {
            let Some(a) = answer else { continue };
            let Some(c) = a.cosigned else { continue };
            // The header of the next height carries the checkpoint's app hash.
            let Some(layer) = rpc
                .chain_layer_cached(c.checkpoint.checkpoint.height + 1)
                .await?
            else {
                continue;
            };
            let evidence = LedgerEvidence {
                anchor: BundleAnchor {
                    record: a.record,
                    inclusion: c.inclusion,
                },
                checkpoint: c.checkpoint,
                cometbft: layer,
                governance: c.governance,
            };
            let json = canonical::to_canonical_bytes(&evidence)
                .map_err(|e| e.to_string())
                .and_then(|b| String::from_utf8(b).map_err(|e| e.to_string()))
                .map_err(AnchoringError::Evidence)?;
            sealed.push(BatchEvidence {
                batch_seq: seq,
                evidence_json: json,
            });
        }
        store.set_ledger_evidence(&sealed).await?;
        for e in &sealed {
            tracing::info!(
                batch_seq = e.batch_seq,
                "ledger evidence kept: its bundles are ready"
            );
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Records `anchored` batches (header, seq, height) in one transaction.
    async fn record_anchored(
        store: &Store,
        anchored: &[(&SignedBatchHeader, i64, u64)],
        now: i64,
        metrics: &crate::metrics::Metrics,
    ) -> Result<(), AnchoringError> {
        let rows: Vec<AnchoredBatch> = anchored
            .iter()
            .map(|(_, seq, height)| AnchoredBatch {
                batch_seq: *seq,
                height: i64::try_from(*height).unwrap_or(i64::MAX),
            })
            .collect();
        store.set_anchored(&rows, now).await?;
        for (signed, seq, height) in anchored {
            metrics.batch_anchored(
                u64::try_from(now - signed.header.window_start.unix_ms()).unwrap_or(0),
                now,
            );
            tracing::info!(batch_seq = seq, height, "batch anchored");
        }
        Ok(())
    }

    /// Whether the custody log holds events no batch has committed, and no batch has closed
    /// for `custody_ms`.
    async fn custody_due(
        &self,
        store: &Store,
        now: i64,
        custody_ms: i64,
    ) -> Result<bool, AnchoringError> {
        let (committed, logged) = store.custody_uncommitted().await?;
        if logged <= committed {
            return Ok(false);
        }
        Ok(store
            .last_batch_closed_at()
            .await?
            .is_none_or(|at| now - at >= custody_ms))
    }

    /// Closes a batch of `pending` proofs (or, with none, of the custody commitment alone:
    /// its one leaf is the commitment's RFC 8785 bytes), committing the custody log as it is.
    async fn close_batch(
        &self,
        store: &Store,
        key: &Sm2SigningKey,
        pending: &[PendingLeaf],
        now: i64,
    ) -> Result<(i64, String), AnchoringError> {
        let custody = store.next_custody_commitment().await?;
        let leaves: Vec<BatchLeaf> = pending
            .iter()
            .map(|leaf| {
                Ok(BatchLeaf {
                    proof_sm3: Hash32::from_hex(&leaf.proof_sm3).map_err(stored)?,
                    salt: leaf.salt.clone(),
                })
            })
            .collect::<Result<_, AnchoringError>>()?;
        let mut data: Vec<Vec<u8>> = leaves.iter().map(BatchLeaf::data).collect();
        if data.is_empty() {
            let Some(c) = &custody else {
                return Err(AnchoringError::Evidence(
                    "a batch of no proof needs a custody commitment".into(),
                ));
            };
            data.push(c.commitment.leaf_data());
        }
        let tree = MerkleTree::<Sm3Hasher>::from_leaves(data.iter().map(Vec::as_slice));
        let last = store.last_batch().await?;
        let seq = last.as_ref().map_or(1, |b| b.batch_seq + 1);
        let previous = last
            .map(|b| Hash32::from_hex(&b.header_sm3))
            .transpose()
            .map_err(stored)?;
        let header = BatchHeader {
            kind: BATCH_HEADER_TYPE.to_owned(),
            notary_key_id: key.public_key().key_id(),
            batch_seq: u64::try_from(seq).unwrap_or(0),
            previous_header_sm3: previous,
            leaf_count: tree.len(),
            root: tree.root(),
            window_start: Timestamp::from_unix_ms(pending.first().map_or(now, |p| p.added_at), 0),
            window_end: Timestamp::from_unix_ms(now, 0),
            custody: custody.as_ref().map(|c| c.commitment),
        };
        let header_sm3 = header.sm3().map_err(header_error)?;
        let signed = SignedBatchHeader::sign(header, key).map_err(header_error)?;
        let json = String::from_utf8(canonical::to_canonical_bytes(&signed).map_err(header_error)?)
            .map_err(header_error)?;
        let proofs: Vec<String> = pending.iter().map(|p| p.proof_sm3.clone()).collect();
        store
            .insert_batch(
                &self.holder,
                seq,
                &json,
                &header_sm3.to_hex(),
                &tree.root().to_hex(),
                &proofs,
                custody.as_ref(),
                now,
            )
            .await?;
        tracing::info!(batch_seq = seq, leaves = proofs.len(), "batch closed");
        Ok((seq, json))
    }
}

/// The consortium backend: the node's RPC and when each waiting batch was last submitted, so
/// that it is re-sent only now and then (the node's mempool refuses exact duplicates anyway).
#[derive(Debug)]
struct CometRpc {
    rpc: LedgerRpc,
    submitted: Mutex<std::collections::BTreeMap<i64, std::time::Instant>>,
    /// When the chain's registry was last read (to warn when this notary may not anchor).
    policy_at: Mutex<Option<std::time::Instant>>,
    /// Whether this notary's key may anchor, as last read.
    registered: std::sync::atomic::AtomicBool,
    /// Whether the warning that it may not was given.
    warned: std::sync::atomic::AtomicBool,
    /// The last CometBFT layer read (several batches share a cosigned checkpoint).
    layer: Mutex<Option<(u64, BundleCometBft)>>,
}

impl std::ops::Deref for CometRpc {
    type Target = LedgerRpc;
    fn deref(&self) -> &LedgerRpc {
        &self.rpc
    }
}

impl CometRpc {
    fn new(url: &str) -> Result<Self, String> {
        Ok(Self {
            rpc: LedgerRpc::new(url)?,
            submitted: Mutex::new(std::collections::BTreeMap::new()),
            policy_at: Mutex::new(None),
            registered: std::sync::atomic::AtomicBool::new(false),
            warned: std::sync::atomic::AtomicBool::new(false),
            layer: Mutex::new(None),
        })
    }

    /// [`LedgerRpc::chain_layer`] of `height`, read once for the batches that share it.
    async fn chain_layer_cached(
        &self,
        height: u64,
    ) -> Result<Option<BundleCometBft>, AnchoringError> {
        if let Ok(g) = self.layer.lock()
            && let Some((h, layer)) = g.as_ref()
            && *h == height
        {
            return Ok(Some(layer.clone()));
        }
        let layer = self
            .rpc
            .chain_layer(height)
            .await
            .map_err(AnchoringError::Ledger)?;
        if let (Some(l), Ok(mut g)) = (&layer, self.layer.lock()) {
            *g = Some((height, l.clone()));
        }
        Ok(layer)
    }

    /// Whether to read the chain's policy again: never read yet, or 10 s ago (governance may
    /// have changed it).
    fn policy_due(&self) -> bool {
        self.policy_at.lock().map_or(true, |at| {
            at.is_none_or(|t| t.elapsed() > std::time::Duration::from_secs(10))
        })
    }

    fn policy_fetched(&self) {
        if let Ok(mut at) = self.policy_at.lock() {
            *at = Some(std::time::Instant::now());
        }
    }

    /// Broadcasts an anchor transaction (`broadcast_tx_sync`), at most every 3 s per batch
    /// once the node accepted it (a refused one is sent again at the next tick).
    async fn submit(&self, seq: i64, tx: &[u8]) -> Result<(), AnchoringError> {
        let recent = self.submitted.lock().ok().is_some_and(|g| {
            g.get(&seq)
                .is_some_and(|at| at.elapsed() < std::time::Duration::from_secs(3))
        });
        if recent {
            return Ok(());
        }
        let answer = self
            .rpc
            .broadcast(tx)
            .await
            .map_err(AnchoringError::Ledger)?;
        match answer {
            Ok(()) => {
                if let Ok(mut g) = self.submitted.lock() {
                    // Forget batches anchored long ago (sequence numbers only grow).
                    let keep = g.split_off(&(seq - 1000));
                    *g = keep;
                    g.insert(seq, std::time::Instant::now());
                }
                tracing::info!(batch_seq = seq, "anchor transaction submitted");
                Ok(())
            }
            Err(log) => Err(AnchoringError::Refused {
                batch_seq: seq,
                log,
            }),
        }
    }
}
