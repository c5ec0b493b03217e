//! Property-based fuzzing of the ledger's transaction intake: whatever bytes a peer or a
//! proposer sends, CheckTx returns a typed error or a checked transaction, never panics, and
//! FinalizeBlock reaches the same verdict as CheckTx on the same state.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use proptest::prelude::*;
use tiezheng_chain::ledger::{CheckedTx, Genesis, Ledger, Member, TxResult};
use tiezheng_protocol::ledger::{
    BatchHeader, GovernanceAction, GovernanceProposal, GovernanceTx, SignedBatchHeader,
};
use tiezheng_protocol::{Hash32, Sm2SigningKey, Timestamp, canonical};

struct Fixture {
    ledger: Ledger,
    valid: Vec<Vec<u8>>,
}

fn fixture() -> Fixture {
    let court = Sm2SigningKey::generate();
    let notary = Sm2SigningKey::generate();
    let genesis = Genesis {
        chain_id: "tiezheng-fuzz".into(),
        members: vec![Member {
            id: "court".into(),
            public_key: court.public_key().to_hex(),
            power: 1,
        }],
        notaries: vec![notary.public_key().to_hex()],
        validators: Vec::new(),
    };
    let t = Timestamp::from_unix_ms(1_795_224_600_000, 480);
    let anchor = SignedBatchHeader::sign(
        BatchHeader {
            kind: "tiezheng.batch-header.v1".into(),
            notary_key_id: notary.public_key().key_id(),
            batch_seq: 1,
            previous_header_sm3: None,
            leaf_count: 3,
            root: Hash32::sm3(b"batch"),
            window_start: t,
            window_end: t,
            custody: None,
        },
        &notary,
    )
    .unwrap();
    let proposal = GovernanceProposal {
        kind: "tiezheng.governance.v1".into(),
        chain_id: "tiezheng-fuzz".into(),
        governance_seq: 1,
        change: GovernanceAction::SetMember {
            member: "police".into(),
            public_key: Sm2SigningKey::generate().public_key().to_hex(),
            power: 2,
        },
        reason: "fuzz".into(),
    };
    let governance = GovernanceTx {
        approvals: vec![proposal.approve("court", &court).unwrap()],
        proposal,
    };
    Fixture {
        ledger: Ledger::new(&genesis).unwrap(),
        valid: vec![
            canonical::to_canonical_bytes(&anchor).unwrap(),
            canonical::to_canonical_bytes(&governance).unwrap(),
        ],
    }
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Truncate(usize),
    Insert(usize, u8),
    Remove(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1u8..).prop_map(|(i, b)| Mutation::Flip(i, b)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<usize>().prop_map(Mutation::Remove),
    ]
}

fn mutate(mut tx: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let n = tx.len().max(1);
        match *m {
            Mutation::Flip(i, b) if !tx.is_empty() => tx[i % n] ^= b,
            Mutation::Truncate(i) => tx.truncate(i % n),
            Mutation::Insert(i, b) => tx.insert(i % (tx.len() + 1), b),
            Mutation::Remove(i) if !tx.is_empty() => {
                tx.remove(i % n);
            }
            _ => {}
        }
    }
    tx
}

/// CheckTx and FinalizeBlock agree on `tx`.
fn agree(ledger: &Ledger, tx: &[u8]) {
    let checked = ledger.check_tx(tx);
    let mut next = ledger.clone();
    let results = next
        .finalize_block(
            ledger.height() + 1,
            Timestamp::from_unix_ms(0, 0),
            &[tx.to_vec()],
        )
        .unwrap();
    match (checked, &results[0]) {
        (Ok(CheckedTx::Anchor(_)), TxResult::Anchored(_))
        | (Ok(CheckedTx::Governance(_)), TxResult::Governed(_)) => {}
        (Err(e), TxResult::Refused(r)) => {
            assert_eq!(&e, r);
            // A refused transaction leaves the registry and the log untouched.
            assert_eq!(next.registry_root(), ledger.registry_root());
            assert_eq!(
                next.checkpoint().anchor_log_root,
                ledger.checkpoint().anchor_log_root
            );
        }
        (c, r) => panic!("CheckTx said {c:?} but FinalizeBlock {r:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_transactions_are_refused_or_applied_consistently(
        which in 0usize..2,
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        let f = fixture_once();
        agree(&f.ledger, &mutate(f.valid[which].clone(), &mutations));
    }

    #[test]
    fn arbitrary_bytes_never_panic(tx in prop::collection::vec(any::<u8>(), 0..512)) {
        let f = fixture_once();
        agree(&f.ledger, &tx);
    }
}

#[test]
fn the_unmutated_transactions_are_accepted() {
    let f = fixture_once();
    for tx in &f.valid {
        assert!(f.ledger.check_tx(tx).is_ok());
        agree(&f.ledger, tx);
    }
    assert!(f.ledger.check_tx(&vec![b' '; 9000]).is_err());
}

fn fixture_once() -> &'static Fixture {
    static FIXTURE: std::sync::OnceLock<Fixture> = std::sync::OnceLock::new();
    FIXTURE.get_or_init(fixture)
}
