//! The ledger's queries (`abci_query`), answered from the committed state: `/policy`,
//! `/checkpoint`, `/anchor` and `/consistency`, and the shapes of their answers (canonical
//! JSON), which the ledger's clients ([`crate::rpc`]) read back.

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use tendermint::abci::{Code, response};
use tendermint::v0_38::abci::request;
use tiezheng_protocol::ledger::{AnchorRecord, CosignedCheckpoint, GovernanceTx};
use tiezheng_protocol::{ConsistencyProof, Hash32, InclusionProof, canonical};

use super::{LedgerApp, codes};

/// The answer to an `/anchor` query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnchorAnswer {
    /// The record's index in the anchor log.
    pub index: u64,
    /// The anchor record.
    pub record: AnchorRecord,
    /// The latest cosigned checkpoint and the record's inclusion proof against it, once a
    /// cosigned checkpoint covers the record.
    pub cosigned: Option<CosignedInclusion>,
}

/// An anchor record's inclusion in a cosigned checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CosignedInclusion {
    /// The checkpoint with the members' SM2 cosignatures.
    pub checkpoint: CosignedCheckpoint,
    /// Inclusion of the record in the checkpoint's anchor log.
    pub inclusion: InclusionProof,
    /// The governance changes applied up to the checkpoint, in order: with them a verifier
    /// who pinned the genesis registry rebuilds the checkpoint's registry.
    pub governance: Vec<GovernanceTx>,
}

/// The answer to a `/consistency` query: the anchor log after one height is a prefix of the
/// log after a later one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyAnswer {
    /// The earlier height.
    pub from_height: u64,
    /// The later height.
    pub to_height: u64,
    /// Root of the anchor log after `from_height`.
    pub old_root: Hash32,
    /// Root of the anchor log after `to_height`.
    pub new_root: Hash32,
    /// The RFC 9162 consistency proof between the two.
    pub proof: ConsistencyProof,
}

/// The answer to a `/policy` query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyAnswer {
    /// Chain ID.
    pub chain_id: String,
    /// Members: id, SM2 key (hex), power.
    pub members: Vec<crate::ledger::Member>,
    /// SM2 keys (hex) of the notaries that may anchor.
    pub notary_keys: Vec<String>,
    /// The current height.
    pub height: u64,
    /// The governance sequence number of the last applied change (the next proposal takes
    /// this + 1).
    pub governance_seq: u64,
}

impl LedgerApp {
    pub(super) fn query(&self, q: &request::Query) -> response::Query {
        let answer = |code: u32, log: String, value: Vec<u8>, height: u64| response::Query {
            code: Code::from(code),
            log,
            value: Bytes::from(value),
            height: u32::try_from(height).map(Into::into).unwrap_or_default(),
            ..Default::default()
        };
        let st = self.state();
        let Some(ledger) = &st.ledger else {
            return answer(
                codes::NOT_READY,
                "the ledger is not initialised".into(),
                Vec::new(),
                0,
            );
        };
        let height = ledger.height();
        match q.path.as_str() {
            "/policy" => {
                let p = PolicyAnswer {
                    chain_id: ledger.checkpoint().chain_id,
                    members: ledger
                        .members()
                        .iter()
                        .map(|(id, k, p)| crate::ledger::Member {
                            id: id.clone(),
                            public_key: k.to_hex(),
                            power: *p,
                        })
                        .collect(),
                    notary_keys: ledger
                        .notaries()
                        .filter(|(_, active)| *active)
                        .map(|(k, _)| k.to_hex())
                        .collect(),
                    height,
                    governance_seq: ledger.governance_seq(),
                };
                answer(0, String::new(), to_json(&p), height)
            }
            "/checkpoint" => match &st.cosigned {
                Some(c) => answer(0, String::new(), to_json(c), height),
                None => answer(
                    codes::NOT_FOUND,
                    "no cosigned checkpoint yet".into(),
                    Vec::new(),
                    height,
                ),
            },
            "/anchor" => {
                let root = match q.data.len() {
                    32 => <[u8; 32]>::try_from(&q.data[..]).ok().map(Hash32),
                    64 => std::str::from_utf8(&q.data)
                        .ok()
                        .and_then(|s| Hash32::from_hex(s).ok()),
                    _ => None,
                };
                let Some(root) = root else {
                    return answer(
                        codes::BAD_QUERY,
                        "data must be a batch root: 32 bytes or 64 hex characters".into(),
                        Vec::new(),
                        height,
                    );
                };
                let Some((index, record, _)) = ledger.anchor_of(&root) else {
                    return answer(
                        codes::NOT_FOUND,
                        format!("batch root {root} is not anchored"),
                        Vec::new(),
                        height,
                    );
                };
                let cosigned = st.cosigned.as_ref().and_then(|c| {
                    let (_, _, inclusion) =
                        ledger.anchor_within(&root, c.checkpoint.anchor_log_size)?;
                    Some(CosignedInclusion {
                        governance: ledger.governance_until(c.checkpoint.height),
                        checkpoint: c.clone(),
                        inclusion,
                    })
                });
                let a = AnchorAnswer {
                    index,
                    record,
                    cosigned,
                };
                answer(0, String::new(), to_json(&a), height)
            }
            "/consistency" => {
                let heights = std::str::from_utf8(&q.data).ok().and_then(|t| {
                    let (a, b) = t.split_once(':')?;
                    Some((a.parse::<u64>().ok()?, b.parse::<u64>().ok()?))
                });
                let Some((from, to)) = heights.filter(|(a, b)| a <= b && *b <= height) else {
                    return answer(
                        codes::BAD_QUERY,
                        format!("data must be FROM:TO, two heights with FROM <= TO <= {height}"),
                        Vec::new(),
                        height,
                    );
                };
                match (
                    ledger.consistency(from, to),
                    ledger.root_at(from),
                    ledger.root_at(to),
                ) {
                    (Ok(proof), Some(old_root), Some(new_root)) => answer(
                        0,
                        String::new(),
                        to_json(&ConsistencyAnswer {
                            from_height: from,
                            to_height: to,
                            old_root,
                            new_root,
                            proof,
                        }),
                        height,
                    ),
                    (Err(e), _, _) => answer(codes::BAD_QUERY, e.to_string(), Vec::new(), height),
                    _ => answer(
                        codes::NOT_FOUND,
                        "no such height".into(),
                        Vec::new(),
                        height,
                    ),
                }
            }
            other => answer(
                codes::BAD_QUERY,
                format!(
                    "unknown query path {other:?}: use /policy, /checkpoint, /anchor or /consistency"
                ),
                Vec::new(),
                height,
            ),
        }
    }
}

/// Canonical JSON bytes of a query answer.
fn to_json<T: Serialize>(v: &T) -> Vec<u8> {
    canonical::to_canonical_bytes(v).unwrap_or_default()
}
