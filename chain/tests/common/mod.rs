//! Helpers shared by the ledger's integration tests.

#![allow(clippy::unwrap_used, dead_code, missing_docs)]

use tiezheng_protocol::ledger::{BatchHeader, SignedBatchHeader};
use tiezheng_protocol::{Hash32, Sm2SigningKey, Timestamp, canonical};

/// A fixed test time, `ms` after 2026-11-21T01:30:00Z.
pub(crate) fn t(ms: i64) -> Timestamp {
    Timestamp::from_unix_ms(1_795_224_600_000 + ms, 0)
}

/// A batch header of four leaves, signed by the notary `key`.
pub(crate) fn batch(
    key: &Sm2SigningKey,
    seq: u64,
    previous: Option<Hash32>,
    root: Hash32,
) -> SignedBatchHeader {
    SignedBatchHeader::sign(
        BatchHeader {
            kind: "tiezheng.batch-header.v1".into(),
            notary_key_id: key.public_key().key_id(),
            batch_seq: seq,
            previous_header_sm3: previous,
            leaf_count: 4,
            root,
            window_start: t(0),
            window_end: t(1000),
            custody: None,
        },
        key,
    )
    .unwrap()
}

/// The transaction bytes of a signed batch header.
pub(crate) fn tx(b: &SignedBatchHeader) -> Vec<u8> {
    canonical::to_canonical_bytes(b).unwrap()
}
