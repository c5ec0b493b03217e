//! The custody log: every event on an evidence item (received, media stored, viewed, exported)
//! as one hash-chained, append-only list, and the check of its integrity.
//!
//! Each event carries the SM3 of its own RFC 8785 form without `hash`, and the `hash` of the
//! event before it (64 zeros for the first event of the log). The log is one chain over all
//! items; the events of one item are a subsequence of it, so [`check_chain`] verifies every
//! event's own hash, that sequence numbers increase, and every link between events that are
//! adjacent in the log. Where events of other items lie between two events it reports the gap
//! instead of a link (those events are not shown to a reader of this item).
//!
//! Each event also names the hash of the previous event of the same proof (`item_prev`, 64
//! zeros for its first), so a proof's events form their own chain that a reader checks
//! without seeing the others. The whole log is also an RFC 6962 SM3 tree whose leaf `seq − 1`
//! is `SM3(0x00 ‖ hash)`; a batch header commits to it ([`CustodyCommitment`]) and so anchors
//! every event on the ledger, and a bundle carries its proof's events with their inclusion
//! proofs (`VERIFYING.md` §4.12).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::canonical;
use crate::hash::Hash32;
use crate::merkle::{MerkleHasher as _, Sm3Hasher};

/// What happened to an evidence item: the `event` of a custody event. The notary writes
/// these and nothing else; a reader (the audit, the portal) reads them back with
/// [`CustodyEvent::kind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CustodyKind {
    /// The proof was receipted (the first event of every proof; the actor is the device).
    Received,
    /// A declared media file was stored and verified.
    MediaStored,
    /// The proof's batch was anchored on the ledger.
    Anchored,
    /// A certificate was issued for the proof.
    Certified,
    /// A token holder read the proof (its record, a thumbnail, a page).
    Viewed,
    /// A token holder took a copy away (original file, bundle, certificate, PDF).
    Exported,
    /// A step of a judicial appraisal of the proof's evidence was filed (detail:
    /// [`crate::appraisal::custody_detail`]), so the step is anchored with the custody log.
    AppraisalStep,
}

impl CustodyKind {
    /// Every kind, in the order of a proof's life.
    pub const ALL: [Self; 7] = [
        Self::Received,
        Self::MediaStored,
        Self::Anchored,
        Self::Certified,
        Self::Viewed,
        Self::Exported,
        Self::AppraisalStep,
    ];

    /// The name written in the log: `received`, `media_stored`, `anchored`, `certified`,
    /// `viewed`, `exported`, `appraisal_step`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::MediaStored => "media_stored",
            Self::Anchored => "anchored",
            Self::Certified => "certified",
            Self::Viewed => "viewed",
            Self::Exported => "exported",
            Self::AppraisalStep => "appraisal_step",
        }
    }

    /// The kind named `name`, if it is one.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl std::fmt::Display for CustodyKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who acted, as the log writes it: a device by its key ID (64 hex digits), the ledger, or the
/// holder of a token as `<role>:<token ID>` (`court:…`, `appraiser:…`, `admin:…`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// The device whose SM2 key has this key ID.
    Device(Hash32),
    /// The ledger (the proof's batch anchored), written `ledger`.
    Ledger,
    /// The holder of a token of `role`.
    Token {
        /// `admin`, `court`, `appraiser`, `device`.
        role: &'static str,
        /// The token's ID (never its secret).
        token_id: String,
    },
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Device(key_id) => write!(f, "{key_id}"),
            Self::Ledger => f.write_str("ledger"),
            Self::Token { role, token_id } => write!(f, "{role}:{token_id}"),
        }
    }
}

/// One custody event.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CustodyEvent {
    /// Global sequence number (1 for the first event of the log).
    pub seq: i64,
    /// The proof concerned.
    pub proof_sm3: String,
    /// What happened: a [`CustodyKind`] name.
    pub event: String,
    /// Who: an [`Actor`] as the log writes it.
    pub actor: String,
    /// When (Unix ms).
    pub at: i64,
    /// Details.
    pub detail: String,
    /// Hash of the previous event of the log (64 zeros for the first).
    pub prev_hash: String,
    /// Hash of the previous event of the same proof (64 zeros for its first); absent on
    /// events logged before the notary kept it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_prev: Option<String>,
    /// SM3 of this event's RFC 8785 form without `hash`.
    pub hash: String,
}

/// What a batch header commits to of the custody log: its first `size` events, as the root
/// of their RFC 6962 SM3 tree (leaf `seq − 1` is `SM3(0x00 ‖ event hash)`).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CustodyCommitment {
    /// Events committed: every event with `seq` ≤ `size`.
    #[schemars(range(min = 1, max = 9_007_199_254_740_991u64))]
    pub size: u64,
    /// Root of their tree.
    pub root: Hash32,
}

impl CustodyCommitment {
    /// The leaf of the batch tree of a batch that carries no proof, only this commitment:
    /// its RFC 8785 bytes (so that every such batch has a root of its own).
    pub fn leaf_data(&self) -> Vec<u8> {
        canonical::to_canonical_bytes(self).unwrap_or_default()
    }
}

/// The leaf hash of the event whose `hash` is `event_hash` in the custody tree:
/// `SM3(0x00 ‖ the 32 bytes of the hash)`.
pub fn leaf_hash(event_hash: &Hash32) -> Hash32 {
    Sm3Hasher::leaf(event_hash.as_bytes())
}

impl CustodyEvent {
    /// The kind of event, if `event` names one of [`CustodyKind`].
    pub fn kind(&self) -> Option<CustodyKind> {
        CustodyKind::from_name(&self.event)
    }

    /// The hash this event must carry: SM3 of the RFC 8785 bytes of every member but `hash`.
    pub fn compute_hash(&self) -> String {
        let mut v = serde_json::json!({
            "seq": self.seq, "proof_sm3": self.proof_sm3, "event": self.event, "actor": self.actor,
            "at": self.at, "detail": self.detail, "prev_hash": self.prev_hash,
        });
        if let (Some(item_prev), Some(o)) = (&self.item_prev, v.as_object_mut()) {
            o.insert("item_prev".into(), item_prev.clone().into());
        }
        canonical::canonicalize(&v)
            .map(|b| Hash32::sm3(&b).to_hex())
            .unwrap_or_default()
    }
}

/// What [`check_chain`] found for one event.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CustodyCheck {
    /// The event's sequence number.
    pub seq: i64,
    /// Its own hash recomputes.
    pub hash_ok: bool,
    /// `"linked"` (its `prev_hash` is the hash of the event shown before it), `"first"` (first
    /// event of the whole log, `prev_hash` all zeros), `"gap"` (events of other items lie
    /// between, so the link is not checkable here) or `"broken"`.
    pub link: &'static str,
    /// A plain explanation when something does not hold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// The verdict on a list of custody events.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CustodyReport {
    /// Every event's hash recomputes, sequence numbers increase and no checkable link is broken.
    pub intact: bool,
    /// One entry per event, in the order given.
    pub events: Vec<CustodyCheck>,
}

/// Checks the integrity of `events`, the custody log of one item (or the whole log), in order.
pub fn check_chain(events: &[CustodyEvent]) -> CustodyReport {
    let zeros = "0".repeat(64);
    let mut checks = Vec::with_capacity(events.len());
    let mut before: Option<&CustodyEvent> = None;
    for e in events {
        let hash_ok = e.compute_hash() == e.hash;
        let mut problem = (!hash_ok).then(|| {
            format!(
                "event {} was changed after it was logged: its hash does not recompute",
                e.seq
            )
        });
        let link = match before {
            _ if e.seq == 1 => {
                if e.prev_hash == zeros {
                    "first"
                } else {
                    problem.get_or_insert_with(|| {
                        "the log's first event must have an all-zero prev_hash".into()
                    });
                    "broken"
                }
            }
            Some(b) if e.seq <= b.seq => {
                problem.get_or_insert_with(|| {
                    format!(
                        "event {} comes after event {}: sequence numbers must increase",
                        e.seq, b.seq
                    )
                });
                "broken"
            }
            Some(b) if e.seq == b.seq.saturating_add(1) => {
                if e.prev_hash == b.hash {
                    "linked"
                } else {
                    problem.get_or_insert_with(|| {
                        format!(
                            "event {} does not link to event {}: its prev_hash differs",
                            e.seq, b.seq
                        )
                    });
                    "broken"
                }
            }
            _ => "gap",
        };
        checks.push(CustodyCheck {
            seq: e.seq,
            hash_ok,
            link,
            problem,
        });
        before = Some(e);
    }
    CustodyReport {
        intact: checks.iter().all(|c| c.problem.is_none()),
        events: checks,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(n: i64) -> Vec<CustodyEvent> {
        let mut prev = "0".repeat(64);
        (1..=n)
            .map(|seq| {
                let mut e = CustodyEvent {
                    seq,
                    proof_sm3: format!("{:064x}", seq % 2),
                    event: "viewed".into(),
                    actor: "appraiser:abc".into(),
                    at: 1_700_000_000_000 + seq,
                    detail: "read".into(),
                    prev_hash: prev.clone(),
                    item_prev: None,
                    hash: String::new(),
                };
                e.hash = e.compute_hash();
                prev = e.hash.clone();
                e
            })
            .collect()
    }

    #[test]
    fn an_untouched_log_is_intact_and_gaps_are_named() {
        let all = log(5);
        let r = check_chain(&all);
        assert!(r.intact);
        assert_eq!(r.events[0].link, "first");
        assert_eq!(r.events[4].link, "linked");
        let one_item: Vec<_> = all.iter().filter(|e| e.seq % 2 == 1).cloned().collect();
        let r = check_chain(&one_item);
        assert!(r.intact);
        assert_eq!(r.events[1].link, "gap");
    }

    #[test]
    fn any_change_is_found() {
        let mut all = log(4);
        all[2].detail = "something else".into();
        let r = check_chain(&all);
        assert!(!r.intact);
        assert!(!r.events[2].hash_ok);
        let mut all = log(4);
        all[2].prev_hash = all[0].hash.clone();
        all[2].hash = all[2].compute_hash();
        let r = check_chain(&all);
        assert_eq!(r.events[2].link, "broken");
        let mut all = log(4);
        all.swap(1, 2);
        assert!(!check_chain(&all).intact);
    }
}
