//! The ledger state machine and its embedded driver.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod common;

use common::{batch, t, tx};
use tiezheng_chain::embedded::{EmbeddedChain, EmbeddedError};
use tiezheng_chain::ledger::{Genesis, Ledger, LedgerError, Member, TxResult};
use tiezheng_protocol::ledger::{CosignedCheckpoint, SignedBatchHeader};
use tiezheng_protocol::merkle::{MerkleHasher as _, Sm3Hasher};
use tiezheng_protocol::{Hash32, Sm2SigningKey};

struct World {
    notary: Sm2SigningKey,
    court: Sm2SigningKey,
    genesis: Genesis,
}

fn world() -> World {
    let notary = Sm2SigningKey::generate();
    let court = Sm2SigningKey::generate();
    let genesis = Genesis {
        chain_id: "tiezheng-test".into(),
        members: vec![Member {
            id: "court".into(),
            public_key: court.public_key().to_hex(),
            power: 1,
        }],
        notaries: vec![notary.public_key().to_hex()],
        validators: Vec::new(),
    };
    World {
        notary,
        court,
        genesis,
    }
}

/// Three batches in sequence, linked by header hashes.
fn batches(key: &Sm2SigningKey) -> Vec<SignedBatchHeader> {
    let mut out: Vec<SignedBatchHeader> = Vec::new();
    for seq in 1..=3 {
        let prev = out.last().map(|b| b.header.sm3().unwrap());
        out.push(batch(key, seq, prev, Hash32::sm3(&seq.to_be_bytes())));
    }
    out
}

#[test]
fn anchors_in_sequence_and_refuses_each_kind_of_bad_transaction() {
    let w = world();
    let mut l = Ledger::new(&w.genesis).unwrap();
    let b = batches(&w.notary);
    let stranger = Sm2SigningKey::generate();
    let mut forged = b[0].clone();
    forged.header.leaf_count = 5;
    let out_of_order = tx(&b[1]);
    let results = l
        .finalize_block(
            1,
            t(2000),
            &[
                out_of_order.clone(),
                tx(&b[0]),
                tx(&forged),
                tx(&batch(&stranger, 1, None, Hash32::sm3(b"x"))),
                b"{}".to_vec(),
                vec![b' '; 9000],
            ],
        )
        .unwrap();
    assert!(matches!(
        results[0],
        TxResult::Refused(LedgerError::Sequence {
            found: 2,
            expected: 1,
            ..
        })
    ));
    assert_eq!(results[1], TxResult::Anchored(0));
    assert!(matches!(
        results[2],
        TxResult::Refused(LedgerError::BadSignature(_) | LedgerError::Sequence { .. })
    ));
    assert!(matches!(
        results[3],
        TxResult::Refused(LedgerError::UnknownNotary(_))
    ));
    assert!(matches!(
        results[4],
        TxResult::Refused(LedgerError::Malformed(_))
    ));
    assert!(matches!(
        results[5],
        TxResult::Refused(LedgerError::TooLarge(9000))
    ));
    // Now batch 2 fits; a batch 3 that does not link to batch 2 is refused.
    let unlinked = batch(&w.notary, 3, Some(Hash32::sm3(b"other")), Hash32::sm3(b"3"));
    let results = l
        .finalize_block(2, t(3000), &[out_of_order, tx(&unlinked), tx(&b[2])])
        .unwrap();
    assert_eq!(results[0], TxResult::Anchored(1));
    assert!(matches!(
        results[1],
        TxResult::Refused(LedgerError::Chain(_))
    ));
    assert_eq!(results[2], TxResult::Anchored(2));
    assert!(matches!(
        l.finalize_block(5, t(4000), &[]),
        Err(LedgerError::Height {
            found: 5,
            expected: 3
        })
    ));
    assert!(
        l.check_tx(&tx(&b[0])).is_err(),
        "a replayed anchor is refused"
    );
}

#[test]
fn app_hash_is_deterministic_and_commits_to_the_log() {
    let w = world();
    let b = batches(&w.notary);
    let run = |txs: Vec<Vec<u8>>| {
        let mut l = Ledger::new(&w.genesis).unwrap();
        l.finalize_block(1, t(1), &txs).unwrap();
        l
    };
    let a = run(b.iter().map(tx).collect());
    let again = run(b.iter().map(tx).collect());
    assert_eq!(a.app_hash(), again.app_hash());
    let fewer = run(b[..2].iter().map(tx).collect());
    assert_ne!(a.app_hash(), fewer.app_hash());
    let mut other_genesis = w.genesis.clone();
    other_genesis.members[0].power = 2;
    let mut l = Ledger::new(&other_genesis).unwrap();
    l.finalize_block(1, t(1), &b.iter().map(tx).collect::<Vec<_>>())
        .unwrap();
    assert_ne!(l.app_hash(), a.app_hash(), "the registry is committed too");
}

#[test]
fn inclusion_and_consistency_proofs_at_any_height() {
    let w = world();
    let b = batches(&w.notary);
    let mut l = Ledger::new(&w.genesis).unwrap();
    for (i, batch) in b.iter().enumerate() {
        l.finalize_block(i as u64 + 1, t(i as i64), &[tx(batch)])
            .unwrap();
    }
    l.finalize_block(4, t(9), &[]).unwrap();
    let cp = l.checkpoint();
    assert_eq!((cp.height, cp.anchor_log_size), (4, 3));
    for batch in &b {
        let (index, record, proof) = l.anchor_of(&batch.header.root).unwrap();
        assert_eq!(record.batch_header_sm3, batch.header.sm3().unwrap());
        proof
            .verify(
                &Sm3Hasher::leaf(&record.leaf_bytes().unwrap()),
                &cp.anchor_log_root,
            )
            .unwrap();
        assert_eq!(proof.leaf_index, index);
    }
    for from in 0..=4 {
        for to in from..=4 {
            let proof = l.consistency(from, to).unwrap();
            proof
                .verify(&l.root_at(from).unwrap(), &l.root_at(to).unwrap())
                .unwrap();
        }
    }
}

#[test]
fn embedded_chain_cosigns_replays_and_detects_alteration() {
    let w = world();
    let dir = tempfile::tempdir().unwrap();
    let b = batches(&w.notary);
    let (hash, cp2) = {
        let mut c = EmbeddedChain::open(dir.path(), &w.genesis, "court", w.court.clone()).unwrap();
        c.commit_block(t(1), &[tx(&b[0])]).unwrap();
        c.commit_block(t(2), &[tx(&b[1]), tx(&b[2])]).unwrap();
        let cp: CosignedCheckpoint = c.checkpoint_at(2).unwrap().clone();
        assert!(cp.has_quorum(c.ledger().members()), "a quorum of one");
        // A block the ledger refuses outright is never stored.
        assert!(c.commit_block(t(3), &[]).is_ok());
        (c.ledger().app_hash(), cp)
    };
    // Reopen: the same state, the same cosigned checkpoint.
    let c = EmbeddedChain::open(dir.path(), &w.genesis, "court", w.court.clone()).unwrap();
    assert_eq!(c.ledger().app_hash(), hash);
    assert_eq!(c.checkpoint_at(2).unwrap().checkpoint, cp2.checkpoint);
    drop(c);

    // A torn last line (killed mid-append) is not a block.
    let blocks = dir.path().join("blocks.jsonl");
    let mut text = std::fs::read_to_string(&blocks).unwrap();
    text.push_str("{\"height\":4,\"ti");
    std::fs::write(&blocks, &text).unwrap();
    let mut c = EmbeddedChain::open(dir.path(), &w.genesis, "court", w.court.clone()).unwrap();
    assert_eq!(c.ledger().height(), 3);
    // It is cut off, so the next block follows the last whole one and survives a reopen.
    c.commit_block(t(4), &[]).unwrap();
    drop(c);
    let c = EmbeddedChain::open(dir.path(), &w.genesis, "court", w.court.clone()).unwrap();
    assert_eq!(c.ledger().height(), 4);
    drop(c);
    text = std::fs::read_to_string(&blocks).unwrap();
    // A damaged line with blocks after it is an alteration, not a torn append.
    let lines: Vec<&str> = text.lines().collect();
    let damaged = format!(
        "{}\n{{\"height\":2,\"ti\n{}\n{}\n",
        lines[0], lines[2], lines[3]
    );
    std::fs::write(&blocks, &damaged).unwrap();
    match EmbeddedChain::open(dir.path(), &w.genesis, "court", w.court.clone()) {
        Err(EmbeddedError::Replay { height: 2, .. }) => {}
        other => panic!("expected a replay error at block 2, got {other:?}"),
    }
    std::fs::write(&blocks, &text).unwrap();

    // Altering a stored anchor breaks replay with a clear error.
    let altered = text.replacen("leaf_count\\\":4", "leaf_count\\\":9", 1);
    assert_ne!(altered, text, "the test must alter something");
    std::fs::write(&blocks, altered).unwrap();
    match EmbeddedChain::open(dir.path(), &w.genesis, "court", w.court.clone()) {
        Err(EmbeddedError::Replay { height: 1, .. }) => {}
        other => panic!("expected a replay error at block 1, got {other:?}"),
    }

    // A checkpoint signed by a stranger has no quorum.
    let stranger = Sm2SigningKey::generate();
    let forged = CosignedCheckpoint {
        cosignatures: vec![cp2.checkpoint.cosign("court", &stranger).unwrap()],
        checkpoint: cp2.checkpoint.clone(),
    };
    let members = vec![("court".to_owned(), w.court.public_key().clone(), 1u64)];
    assert!(!forged.has_quorum(&members));
    assert!(cp2.has_quorum(&members));
}

/// A notary can queue consecutive batches in the mempool while the chain is behind: CheckTx
/// counts the anchors already accepted there, and still refuses gaps and broken links.
#[test]
fn check_tx_follows_the_anchors_already_pending() {
    let w = world();
    let ledger = Ledger::new(&w.genesis).unwrap();
    let mut b: Vec<SignedBatchHeader> = Vec::new();
    for seq in 1..=5u64 {
        let prev = b.last().map(|x| x.header.sm3().unwrap());
        b.push(batch(&w.notary, seq, prev, Hash32::sm3(&seq.to_be_bytes())));
    }
    let mut pending = std::collections::BTreeMap::new();
    assert!(ledger.check_tx(&tx(&b[1])).is_err(), "seq 2 before 1");
    for signed in &b[..3] {
        ledger.check_tx_pending(&tx(signed), &pending).unwrap();
        pending.insert(
            signed.header.notary_key_id,
            (signed.header.batch_seq, signed.header.sm3().unwrap()),
        );
    }
    // After 1..3 pending, 5 is a gap and a re-sent 3 is a replay.
    assert!(matches!(
        ledger.check_tx_pending(&tx(&b[4]), &pending),
        Err(LedgerError::Sequence { expected: 4, .. })
    ));
    assert!(matches!(
        ledger.check_tx_pending(&tx(&b[2]), &pending),
        Err(LedgerError::Sequence { expected: 4, .. })
    ));
    // A 4 that does not link to the pending 3 is refused.
    let forged = batch(
        &w.notary,
        4,
        Some(Hash32::sm3(b"other")),
        Hash32::sm3(b"r4"),
    );
    assert!(matches!(
        ledger.check_tx_pending(&tx(&forged), &pending),
        Err(LedgerError::Chain(_))
    ));
    ledger.check_tx_pending(&tx(&b[3]), &pending).unwrap();
}
