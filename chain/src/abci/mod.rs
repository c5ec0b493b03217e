//! The CometBFT v0.38 (ABCI 2.0) driver: the same [`Ledger`] as the ABCI application of one
//! consortium member's validator, with the members' SM2 quorum carried in vote extensions.
//!
//! # The SM2 quorum
//!
//! - `ExtendVote(H)`: the member cosigns with SM2 the [`Checkpoint`] of the state after block
//!   `H`, the block it votes for: [`Ledger::checkpoint_after`] executes the block's ledger
//!   transactions and undoes them (the same code as `FinalizeBlock`, so the speculation and
//!   the execution cannot differ). The extension is that [`Cosignature`] (canonical JSON,
//!   about 300 bytes).
//! - `VerifyVoteExtension(H)`: parse, and check the signature against the checkpoint after
//!   block `H` as this validator computed it for the block's hash (in `ProcessProposal(H)` or
//!   its own `ExtendVote(H)`) and the member's registered key; REJECT only malformed or badly
//!   signed extensions. A validator that has not seen the block (this call carries no
//!   transactions) accepts a well-formed extension: the proposer and every validator check
//!   the cosignatures against the committed checkpoint before they count.
//! - `PrepareProposal(H+1)`: the proposer gathers the extensions of the precommits for `H`,
//!   keeps those valid over the checkpoint committed after `H` and, once they reach more than
//!   two thirds of the members' SM2 voting power, puts them first in the block as one
//!   [`CosignedCheckpoint`] transaction.
//! - `ProcessProposal(B)`: from the height after `vote_extensions_enable_height` on, every
//!   validator rejects a block whose first transaction claims to be the checkpoint of `B-1`
//!   but is not that checkpoint cosigned by a quorum, and any block with a cosigned
//!   checkpoint elsewhere.
//!   `CheckTx` refuses them from the mempool. A block without one is accepted: its proposer
//!   had no SM2 quorum among the precommits of `B-1` (a member whose validator is down, or a
//!   member without a validator), and since those precommits never change, refusing it would
//!   halt the chain for good. The checkpoint after `B-1` then stays uncosigned; the next
//!   cosigned checkpoint covers its anchors (the log only grows), and the application warns
//!   once per run of uncosigned blocks.
//! - `FinalizeBlock`: the cosigned checkpoint is kept (it is served by `/checkpoint` and
//!   `/anchor` queries); the other transactions run through [`Ledger::finalize_block`].
//!
//! An anchor in block `H` is therefore cosigned in block `H+1`, whose header also carries the
//! app hash after `H`: a bundle is complete as soon as `H+1` is committed.
//!
//! # State and recovery
//!
//! The application keeps its state in memory. After a restart it answers `Info` with height 0,
//! and CometBFT replays its stored blocks through `InitChain` and `FinalizeBlock`, which
//! rebuilds exactly the same state (the app hash in every header checks it).
//!
//! # Queries (`abci_query`)
//!
//! - `/policy`: chain ID, members (id, SM2 key, power) and the notary keys that may anchor.
//! - `/checkpoint`: the latest cosigned checkpoint.
//! - `/anchor` with `data` = a batch root (32 bytes, or its 64 hex characters): the anchor
//!   record, its index, and, once a cosigned checkpoint covers it, the checkpoint with the
//!   record's inclusion proof against it.
//! - `/consistency` with `data` = `FROM:TO` (two heights): the anchor-log roots after both and
//!   the RFC 9162 consistency proof between them.

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use bytes::Bytes;
use tendermint::abci::types::ExecTxResult;
use tendermint::abci::{Code, Event, EventAttributeIndexExt as _, response};
use tendermint::block::BlockIdFlag;
use tendermint::v0_38::abci::{Request, Response, request};
use tiezheng_protocol::ledger::{Checkpoint, Cosignature, CosignedCheckpoint};
use tiezheng_protocol::{Hash32, Sm2SigningKey, Timestamp, canonical};
use tower::Service;

use crate::ledger::{CheckedTx, Genesis, Ledger, LedgerError, MAX_TX_BYTES, TxResult};

mod query;
mod validators;

pub use query::{AnchorAnswer, ConsistencyAnswer, CosignedInclusion, PolicyAnswer};

/// Why the ABCI server could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AbciError {
    /// Building or running the server failed.
    #[error("ABCI server on {addr}: {reason}")]
    Server {
        /// The listening address.
        addr: SocketAddr,
        /// Why.
        reason: String,
    },
}

/// `CheckTx`/`ExecTxResult` codes the application returns.
pub mod codes {
    /// Anchor or governance transaction refused by the ledger.
    pub const REFUSED: u32 = 1;
    /// A cosigned checkpoint sent through the mempool (only proposers put them in blocks).
    pub const COSIGN_FROM_MEMPOOL: u32 = 2;
    /// Query: nothing found.
    pub const NOT_FOUND: u32 = 3;
    /// Query: unknown path or bad data.
    pub const BAD_QUERY: u32 = 4;
    /// The chain has not been initialised yet.
    pub const NOT_READY: u32 = 5;
}

#[derive(Debug, Default)]
struct State {
    ledger: Option<Ledger>,
    /// First height whose precommits carry extensions (0: vote extensions off).
    enable_height: u64,
    /// Checkpoints of the last few committed heights.
    checkpoints: BTreeMap<u64, Checkpoint>,
    /// Checkpoints after blocks proposed but not committed yet, by height and block hash (a
    /// height may see several proposals, one per round).
    speculated: BTreeMap<(u64, Vec<u8>), Checkpoint>,
    /// The latest checkpoint cosigned by a quorum.
    cosigned: Option<CosignedCheckpoint>,
    /// Per notary, the last anchor accepted into the mempool since the last commit.
    pending: BTreeMap<Hash32, (u64, Hash32)>,
    /// The first height of the current run of blocks without a cosigned checkpoint.
    uncosigned_since: Option<u64>,
}

/// The ledger as an ABCI 2.0 application. Cloning shares the state.
#[derive(Clone)]
pub struct LedgerApp {
    state: Arc<Mutex<State>>,
    member: Option<Arc<(String, Sm2SigningKey)>>,
}

impl std::fmt::Debug for LedgerApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LedgerApp")
            .field("member", &self.member.as_ref().map(|m| m.0.clone()))
            .finish_non_exhaustive()
    }
}

fn block_time(t: tendermint::Time) -> Timestamp {
    let ms = t.unix_timestamp_nanos() / 1_000_000;
    Timestamp::from_unix_ms(i64::try_from(ms).unwrap_or(i64::MAX), 0)
}

fn height_u64(h: tendermint::block::Height) -> u64 {
    h.value()
}

/// A transaction that claims to be a cosigned checkpoint (it has a `checkpoint` member).
fn as_cosigned(tx: &[u8]) -> Option<Result<CosignedCheckpoint, LedgerError>> {
    if tx.len() > MAX_TX_BYTES {
        return None;
    }
    let value = canonical::parse_canonical(tx).ok()?;
    value.get("checkpoint")?;
    Some(serde_json::from_value(value).map_err(|e| LedgerError::Malformed(e.to_string())))
}

fn exec(code: u32, log: String, events: Vec<Event>) -> ExecTxResult {
    ExecTxResult {
        code: Code::from(code),
        log,
        events,
        ..Default::default()
    }
}

impl LedgerApp {
    /// An application for a validator; `member` is its organisation's id and SM2 key (a
    /// validator without one votes with empty extensions, which count for nothing).
    pub fn new(member: Option<(String, Sm2SigningKey)>) -> Self {
        Self {
            state: Arc::new(Mutex::new(State::default())),
            member: member.map(Arc::new),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave a half-applied block: blocks are applied
        // by `Ledger::finalize_block`, which never fails midway. Carry on with the state.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Handles one ABCI request.
    pub fn handle(&self, req: Request) -> Result<Response, String> {
        Ok(match req {
            Request::Echo(e) => Response::Echo(response::Echo { message: e.message }),
            Request::Flush => Response::Flush,
            Request::Info(_) => Response::Info(self.info()),
            Request::InitChain(r) => Response::InitChain(self.init_chain(&r)?),
            Request::Query(q) => Response::Query(self.query(&q)),
            Request::CheckTx(r) => Response::CheckTx(self.check_tx(&r.tx)),
            Request::Commit => {
                // CometBFT rechecks what is left in the mempool, in order, right after this.
                self.state().pending.clear();
                Response::Commit(response::Commit {
                    data: Bytes::new(),
                    retain_height: 0u32.into(),
                })
            }
            Request::PrepareProposal(r) => Response::PrepareProposal(self.prepare_proposal(r)),
            Request::ProcessProposal(r) => Response::ProcessProposal(self.process_proposal(&r)),
            Request::ExtendVote(r) => Response::ExtendVote(self.extend_vote(&r)),
            Request::VerifyVoteExtension(r) => {
                Response::VerifyVoteExtension(self.verify_vote_extension(&r))
            }
            Request::FinalizeBlock(r) => Response::FinalizeBlock(self.finalize_block(&r)?),
            Request::ListSnapshots => Response::ListSnapshots(Default::default()),
            Request::OfferSnapshot(_) => Response::OfferSnapshot(Default::default()),
            Request::LoadSnapshotChunk(_) => Response::LoadSnapshotChunk(Default::default()),
            Request::ApplySnapshotChunk(_) => Response::ApplySnapshotChunk(Default::default()),
        })
    }

    fn info(&self) -> response::Info {
        let st = self.state();
        let (height, app_hash) = match &st.ledger {
            Some(l) if l.height() > 0 => (l.height(), l.app_hash().as_bytes().to_vec()),
            _ => (0, Vec::new()),
        };
        response::Info {
            data: "tiezheng-ledger".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            app_version: 1,
            last_block_height: u32::try_from(height)
                .map(Into::into)
                .unwrap_or_else(|_| tendermint::block::Height::from(u32::MAX)),
            last_block_app_hash: app_hash.try_into().unwrap_or_default(),
        }
    }

    fn init_chain(&self, r: &request::InitChain) -> Result<response::InitChain, String> {
        let genesis: Genesis = serde_json::from_slice(&r.app_state_bytes).map_err(|e| {
            format!("genesis.json app_state is not a Tiezheng ledger genesis (chain_id, members, notaries): {e}")
        })?;
        if genesis.chain_id != r.chain_id {
            return Err(format!(
                "genesis.json app_state.chain_id {:?} differs from chain_id {:?}",
                genesis.chain_id, r.chain_id
            ));
        }
        let mut ledger =
            Ledger::new(&genesis).map_err(|e| format!("genesis.json app_state: {e}"))?;
        ledger
            .set_genesis_validators(
                &genesis,
                validators::from_init_chain(&r.validators)
                    .map_err(|e| format!("genesis.json validators: {e}"))?,
            )
            .map_err(|e| format!("genesis.json app_state: {e}"))?;
        let app_hash = ledger.app_hash();
        let mut st = self.state();
        st.enable_height = r
            .consensus_params
            .abci
            .vote_extensions_enable_height
            .map_or(0, height_u64);
        st.checkpoints.clear();
        st.checkpoints.insert(0, ledger.checkpoint());
        st.cosigned = None;
        st.ledger = Some(ledger);
        tracing::info!(chain_id = %r.chain_id, enable_height = st.enable_height, "ledger initialised");
        Ok(response::InitChain {
            consensus_params: None,
            validators: Vec::new(),
            app_hash: app_hash.as_bytes().to_vec().try_into().unwrap_or_default(),
        })
    }

    fn check_tx(&self, tx: &[u8]) -> response::CheckTx {
        let refuse = |code: u32, log: String| response::CheckTx {
            code: Code::from(code),
            log,
            ..Default::default()
        };
        if as_cosigned(tx).is_some() {
            return refuse(
                codes::COSIGN_FROM_MEMPOOL,
                "cosigned checkpoints are put in blocks by proposers only".into(),
            );
        }
        let mut st = self.state();
        let State {
            ledger, pending, ..
        } = &mut *st;
        let Some(ledger) = ledger else {
            return refuse(codes::NOT_READY, "the ledger is not initialised".into());
        };
        match ledger.check_tx_pending(tx, pending) {
            Ok(CheckedTx::Anchor(signed)) => {
                if let Ok(sm3) = signed.header.sm3() {
                    pending.insert(signed.header.notary_key_id, (signed.header.batch_seq, sm3));
                }
                response::CheckTx::default()
            }
            Ok(CheckedTx::Governance(_)) => response::CheckTx::default(),
            Err(e) => refuse(codes::REFUSED, e.to_string()),
        }
    }

    /// Whether block `height` starts with the cosigned checkpoint of `height - 1` when its
    /// proposer holds an SM2 quorum of extensions (the extensions exist from the height after
    /// `vote_extensions_enable_height`).
    fn needs_cosign(enable_height: u64, height: u64) -> bool {
        enable_height > 0 && height > enable_height
    }

    /// The checkpoint after the proposed block `height` with hash `hash`, computed once per
    /// block: `None` if the ledger is not at `height - 1` (catching up) or not initialised.
    fn speculate(
        st: &mut State,
        height: u64,
        hash: &[u8],
        time: tendermint::Time,
        txs: &[Bytes],
    ) -> Option<Checkpoint> {
        let key = (height, hash.to_vec());
        if let Some(cp) = st.speculated.get(&key) {
            return Some(cp.clone());
        }
        let ledger = st.ledger.as_mut()?;
        // The ledger's transactions, exactly as FinalizeBlock hands them over.
        let ledger_txs: Vec<Vec<u8>> = txs
            .iter()
            .filter(|tx| as_cosigned(tx).is_none())
            .map(|tx| tx.to_vec())
            .collect();
        match ledger.checkpoint_after(height, block_time(time), &ledger_txs) {
            Ok(cp) => {
                // Proposals of heights long gone are never voted on again.
                st.speculated = st
                    .speculated
                    .split_off(&(height.saturating_sub(1), Vec::new()));
                st.speculated.insert(key, cp.clone());
                Some(cp)
            }
            Err(e) => {
                tracing::debug!(height, %e, "cannot speculate the checkpoint after this block");
                None
            }
        }
    }

    fn prepare_proposal(&self, r: request::PrepareProposal) -> response::PrepareProposal {
        let height = height_u64(r.height);
        let limit = usize::try_from(r.max_tx_bytes).unwrap_or(usize::MAX);
        let mut txs: Vec<Bytes> = Vec::new();
        let mut used = 0usize;
        let st = self.state();
        if let Some(ledger) = &st.ledger
            && Self::needs_cosign(st.enable_height, height)
        {
            let target = height.saturating_sub(1);
            match (st.checkpoints.get(&target), r.local_last_commit.as_ref()) {
                (Some(cp), Some(commit)) => {
                    let mut cosignatures: Vec<Cosignature> = Vec::new();
                    for vote in &commit.votes {
                        if vote.sig_info
                            != tendermint::abci::types::BlockSignatureInfo::Flag(
                                BlockIdFlag::Commit,
                            )
                        {
                            continue;
                        }
                        let Ok(c) = canonical::parse_canonical(&vote.vote_extension)
                            .map_err(|e| e.to_string())
                            .and_then(|v| {
                                serde_json::from_value::<Cosignature>(v).map_err(|e| e.to_string())
                            })
                        else {
                            continue;
                        };
                        if cosignatures.iter().any(|k| k.member == c.member) {
                            continue;
                        }
                        let one = CosignedCheckpoint {
                            checkpoint: cp.clone(),
                            cosignatures: vec![c.clone()],
                        };
                        if one.signed_power(ledger.members()) > 0 {
                            cosignatures.push(c);
                        }
                    }
                    let cosigned = CosignedCheckpoint {
                        checkpoint: cp.clone(),
                        cosignatures,
                    };
                    match ledger.check_cosigned(&cosigned, cp) {
                        Ok(()) => match canonical::to_canonical_bytes(&cosigned) {
                            Ok(b) => {
                                used += b.len();
                                txs.push(Bytes::from(b));
                            }
                            Err(e) => tracing::error!(%e, "cannot encode cosigned checkpoint"),
                        },
                        Err(e) if st.uncosigned_since.is_none() => {
                            tracing::warn!(height, %e, "no SM2 quorum to propose with; proposing without a cosigned checkpoint");
                        }
                        Err(e) => tracing::debug!(height, %e, "no SM2 quorum to propose with"),
                    }
                }
                _ => tracing::warn!(height, "no checkpoint or extensions to propose with"),
            }
        }
        drop(st);
        for tx in r.txs {
            if as_cosigned(&tx).is_some() || tx.len() > MAX_TX_BYTES {
                continue;
            }
            if used + tx.len() > limit {
                break;
            }
            used += tx.len();
            txs.push(tx);
        }
        response::PrepareProposal { txs }
    }

    fn process_proposal(&self, r: &request::ProcessProposal) -> response::ProcessProposal {
        use response::ProcessProposal::{Accept, Reject};
        let height = height_u64(r.height);
        let mut st = self.state();
        let Some(ledger) = &st.ledger else {
            return Reject;
        };
        if r.txs.iter().any(|t| t.len() > MAX_TX_BYTES) {
            tracing::warn!(height, "rejecting proposal: oversized transaction");
            return Reject;
        }
        let first = r.txs.first().and_then(|t| as_cosigned(t));
        let rest = match first {
            Some(first) if Self::needs_cosign(st.enable_height, height) => {
                let target = height.saturating_sub(1);
                let verdict = match (first, st.checkpoints.get(&target)) {
                    (Ok(c), Some(cp)) => ledger.check_cosigned(&c, cp),
                    (Err(e), _) => Err(e),
                    (_, None) => Err(LedgerError::Cosign(format!(
                        "no checkpoint of height {target} here"
                    ))),
                };
                if let Err(e) = verdict {
                    tracing::warn!(height, %e, "rejecting proposal");
                    return Reject;
                }
                r.txs.get(1..).unwrap_or_default()
            }
            // No cosigned checkpoint: the proposer's precommits for the last block did not
            // hold an SM2 quorum (a member without a running validator, extensions lost).
            // The block goes on; the checkpoint after the last block stays uncosigned and a
            // later cosigned checkpoint covers its anchors. Refusing the block instead would
            // halt the chain for good: the precommits of a committed block never change.
            _ => &r.txs[..],
        };
        if rest.iter().any(|t| as_cosigned(t).is_some()) {
            tracing::warn!(height, "rejecting proposal: misplaced cosigned checkpoint");
            return Reject;
        }
        // What this validator's member will cosign if the block is voted on, and what the
        // others' extensions are checked against.
        Self::speculate(&mut st, height, r.hash.as_bytes(), r.time, &r.txs);
        Accept
    }

    fn extend_vote(&self, r: &request::ExtendVote) -> response::ExtendVote {
        let empty = response::ExtendVote {
            vote_extension: Bytes::new(),
        };
        let Some(member) = &self.member else {
            return empty;
        };
        let mut st = self.state();
        // A member removed (or re-keyed) by governance votes on without cosigning: an
        // extension the others cannot verify would make them discard the whole vote. (A
        // change in the block voted on itself takes effect from the next block's votes.)
        let registered = st.ledger.as_ref().is_some_and(|l| {
            l.members()
                .iter()
                .any(|(id, k, _)| *id == member.0 && k == member.1.public_key())
        });
        if !registered {
            return empty;
        }
        let height = height_u64(r.height);
        let Some(cp) = Self::speculate(&mut st, height, r.hash.as_bytes(), r.time, &r.txs) else {
            tracing::warn!(height, "no checkpoint after this block to cosign");
            return empty;
        };
        match cp
            .cosign(&member.0, &member.1)
            .map_err(|e| e.to_string())
            .and_then(|c| canonical::to_canonical_bytes(&c).map_err(|e| e.to_string()))
        {
            Ok(b) => response::ExtendVote {
                vote_extension: Bytes::from(b),
            },
            Err(e) => {
                tracing::error!(%e, "cannot cosign the checkpoint");
                empty
            }
        }
    }

    fn verify_vote_extension(
        &self,
        r: &request::VerifyVoteExtension,
    ) -> response::VerifyVoteExtension {
        use response::VerifyVoteExtension::{Accept, Reject};
        if r.vote_extension.is_empty() {
            // A validator that is not a member: its vote counts for CometBFT, not for SM2.
            return Accept;
        }
        let Ok(c) = canonical::parse_canonical(&r.vote_extension)
            .map_err(|e| e.to_string())
            .and_then(|v| serde_json::from_value::<Cosignature>(v).map_err(|e| e.to_string()))
        else {
            tracing::warn!(validator = %r.validator_address, "malformed vote extension");
            return Reject;
        };
        let st = self.state();
        let key = (height_u64(r.height), r.hash.as_bytes().to_vec());
        let (Some(ledger), Some(cp)) = (&st.ledger, st.speculated.get(&key)) else {
            // This validator has not seen the block: nothing to check the signature against.
            return Accept;
        };
        let one = CosignedCheckpoint {
            checkpoint: cp.clone(),
            cosignatures: vec![c],
        };
        if one.signed_power(ledger.members()) > 0 {
            Accept
        } else {
            tracing::warn!(validator = %r.validator_address, "vote extension not signed by a member over the committed checkpoint");
            Reject
        }
    }

    fn finalize_block(
        &self,
        r: &request::FinalizeBlock,
    ) -> Result<response::FinalizeBlock, String> {
        let height = height_u64(r.height);
        let time = block_time(r.time);
        let mut st = self.state();
        let enable_height = st.enable_height;
        let mut tx_results = Vec::with_capacity(r.txs.len());
        let mut ledger_txs: Vec<Vec<u8>> = Vec::with_capacity(r.txs.len());
        let mut positions: Vec<usize> = Vec::with_capacity(r.txs.len());
        let mut cosigned_now = None;
        for (i, tx) in r.txs.iter().enumerate() {
            match as_cosigned(tx) {
                Some(parsed) => {
                    let target = height.saturating_sub(1);
                    let verdict = if i == 0 && Self::needs_cosign(enable_height, height) {
                        match (parsed, st.checkpoints.get(&target), &st.ledger) {
                            (Ok(c), Some(cp), Some(l)) => l.check_cosigned(&c, cp).map(|()| c),
                            (Err(e), _, _) => Err(e),
                            _ => Err(LedgerError::Cosign(format!(
                                "no checkpoint of height {target}"
                            ))),
                        }
                    } else {
                        Err(LedgerError::Cosign("misplaced cosigned checkpoint".into()))
                    };
                    tx_results.push(match verdict {
                        Ok(c) => {
                            let e = Event::new(
                                "cosign",
                                [("height", c.checkpoint.height.to_string()).index()],
                            );
                            cosigned_now = Some(c);
                            exec(0, String::new(), vec![e])
                        }
                        Err(e) => exec(codes::REFUSED, e.to_string(), Vec::new()),
                    });
                }
                None => {
                    positions.push(i);
                    ledger_txs.push(tx.to_vec());
                    tx_results.push(ExecTxResult::default());
                }
            }
        }
        let ledger = st.ledger.as_mut().ok_or("FinalizeBlock before InitChain")?;
        let validators_before = ledger.validators().to_vec();
        let results = ledger
            .finalize_block(height, time, &ledger_txs)
            .map_err(|e| format!("block {height}: {e}"))?;
        let validator_updates = validators::updates(&validators_before, ledger.validators())
            .map_err(|e| format!("block {height}: validator updates: {e}"))?;
        if !validator_updates.is_empty() {
            tracing::info!(
                height,
                validators = ledger.validators().len(),
                updates = validator_updates.len(),
                "validator set changed by governance; in effect from height {}",
                height + 2
            );
        }
        for (pos, result) in positions.iter().zip(results) {
            let out = match result {
                TxResult::Anchored(index) => {
                    let mut attrs = vec![("index", index.to_string()).index()];
                    if let Some(r) = ledger.record(index) {
                        attrs.push(("batch_root", r.root.to_hex()).index());
                        attrs.push(("seq", r.batch_seq.to_string()).index());
                        attrs.push(("notary", r.notary_key_id.to_hex()).index());
                    }
                    exec(0, String::new(), vec![Event::new("anchor", attrs)])
                }
                TxResult::Governed(seq) => exec(
                    0,
                    String::new(),
                    vec![Event::new("governance", [("seq", seq.to_string()).index()])],
                ),
                TxResult::Refused(e) => exec(codes::REFUSED, e.to_string(), Vec::new()),
            };
            if let Some(slot) = tx_results.get_mut(*pos) {
                *slot = out;
            }
        }
        let app_hash = ledger.app_hash();
        let checkpoint = ledger.checkpoint();
        st.checkpoints.insert(height, checkpoint);
        st.checkpoints = st.checkpoints.split_off(&height.saturating_sub(3));
        // The speculations about this height (and any before) are settled.
        st.speculated = st.speculated.split_off(&(height + 1, Vec::new()));
        // The operator's view of the SM2 quorum: said once when cosigning stops and once when
        // it resumes, not at every block.
        if Self::needs_cosign(enable_height, height) {
            match (&cosigned_now, st.uncosigned_since) {
                (None, None) => {
                    st.uncosigned_since = Some(height);
                    let members = st.ledger.as_ref().map_or(0, |l| l.members().len());
                    tracing::warn!(
                        height,
                        members,
                        "block without a cosigned checkpoint: the precommits for the last block held no SM2 quorum of the members (more than two thirds of their power); anchors wait for a later cosigned checkpoint"
                    );
                }
                (Some(c), Some(since)) => {
                    st.uncosigned_since = None;
                    tracing::info!(
                        height,
                        since,
                        cosigners = c.cosignatures.len(),
                        "cosigned checkpoints resumed"
                    );
                }
                _ => {}
            }
        }
        if let Some(c) = cosigned_now {
            st.cosigned = Some(c);
        }
        Ok(response::FinalizeBlock {
            events: Vec::new(),
            tx_results,
            validator_updates,
            consensus_param_updates: None,
            app_hash: app_hash.as_bytes().to_vec().try_into().unwrap_or_default(),
        })
    }
}

impl Service<Request> for LedgerApp {
    type Response = Response;
    type Error = tower_abci::BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Self::Error>> + Send + 'static>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let result = self.handle(req).map_err(|e| {
            tracing::error!(error = %e, "ABCI request failed; CometBFT will stop");
            tower_abci::BoxError::from(e)
        });
        Box::pin(async move { result })
    }
}

/// Serves `app` to CometBFT on `addr` (CometBFT's `proxy_app = "tcp://<addr>"`) until the
/// process ends.
pub async fn serve(app: LedgerApp, addr: SocketAddr) -> Result<(), AbciError> {
    let fail = |reason: String| AbciError::Server { addr, reason };
    let (consensus, mempool, snapshot, info) = tower_abci::v038::split::service(app, 1);
    let server = tower_abci::v038::Server::builder()
        .consensus(consensus)
        .snapshot(snapshot)
        .mempool(tower::ServiceBuilder::new().buffer(100).service(mempool))
        .info(tower::ServiceBuilder::new().buffer(100).service(info))
        .finish()
        .ok_or_else(|| fail("incomplete server".into()))?;
    server
        .listen_tcp(addr)
        .await
        .map_err(|e| fail(e.to_string()))
}
