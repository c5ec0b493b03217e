//! The ABCI application driven call by call as CometBFT drives it, with four member
//! validators: vote extensions carry SM2 cosignatures, proposers put a quorum of them first
//! in the block, every validator rejects a block without one, and a fresh application
//! replaying the blocks reaches the same state.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod common;

use bytes::Bytes;
use common::{batch, tx};
use tendermint::abci::response::{ProcessProposal as Verdict, VerifyVoteExtension as VoteVerdict};
use tendermint::abci::types::{
    BlockSignatureInfo, CommitInfo, ExtendedCommitInfo, ExtendedVoteInfo, Validator,
};
use tendermint::block::BlockIdFlag;
use tendermint::v0_38::abci::{Request, Response, request};
use tiezheng_chain::abci::{AnchorAnswer, LedgerApp, codes};
use tiezheng_chain::ledger::{Genesis, Ledger, Member};
use tiezheng_protocol::ledger::CosignedCheckpoint;
use tiezheng_protocol::merkle::MerkleHasher as _;
use tiezheng_protocol::{Hash32, Sm2SigningKey, Timestamp};

const CHAIN: &str = "tiezheng-test-abci";

struct Net {
    apps: Vec<LedgerApp>,
    members: Vec<(String, Sm2SigningKey)>,
    notary: Sm2SigningKey,
    genesis: Vec<u8>,
}

fn time(h: u64) -> tendermint::Time {
    tendermint::Time::from_unix_timestamp(1_795_224_600 + i64::try_from(h).unwrap(), 0).unwrap()
}

fn height(h: u64) -> tendermint::block::Height {
    tendermint::block::Height::try_from(h).unwrap()
}

fn hash(h: u64) -> tendermint::Hash {
    tendermint::Hash::Sha256(*Hash32::sm3(&h.to_be_bytes()).as_bytes())
}

fn consensus_params() -> tendermint::consensus::Params {
    tendermint::consensus::Params {
        block: tendermint::block::Size {
            max_bytes: 1 << 20,
            max_gas: -1,
            time_iota_ms: 1000,
        },
        evidence: tendermint::evidence::Params {
            max_age_num_blocks: 100_000,
            max_age_duration: tendermint::evidence::Duration(std::time::Duration::from_secs(
                172_800,
            )),
            max_bytes: 1 << 20,
        },
        validator: tendermint::consensus::params::ValidatorParams {
            pub_key_types: vec![tendermint::public_key::Algorithm::Ed25519],
        },
        version: None,
        abci: tendermint::consensus::params::AbciParams {
            vote_extensions_enable_height: Some(height(1)),
        },
    }
}

fn call(app: &LedgerApp, req: Request) -> Response {
    app.handle(req).unwrap()
}

impl Net {
    fn new() -> Self {
        let members: Vec<(String, Sm2SigningKey)> =
            ["court", "police", "procuratorate", "notary-office"]
                .iter()
                .map(|m| ((*m).to_owned(), Sm2SigningKey::generate()))
                .collect();
        let notary = Sm2SigningKey::generate();
        let genesis = serde_json::to_vec(&Genesis {
            chain_id: CHAIN.into(),
            members: members
                .iter()
                .map(|(id, k)| Member {
                    id: id.clone(),
                    public_key: k.public_key().to_hex(),
                    power: 1,
                })
                .collect(),
            notaries: vec![notary.public_key().to_hex()],
            validators: Vec::new(),
        })
        .unwrap();
        let apps = members
            .iter()
            .map(|(id, k)| LedgerApp::new(Some((id.clone(), k.clone()))))
            .collect();
        let net = Self {
            apps,
            members,
            notary,
            genesis,
        };
        for app in &net.apps {
            net.init(app);
        }
        net
    }

    fn member_key(&self, id: &str) -> Sm2SigningKey {
        self.members
            .iter()
            .find(|(m, _)| m == id)
            .unwrap()
            .1
            .clone()
    }

    fn init(&self, app: &LedgerApp) {
        call(
            app,
            Request::InitChain(request::InitChain {
                time: time(0),
                chain_id: CHAIN.into(),
                consensus_params: consensus_params(),
                validators: Vec::new(),
                app_state_bytes: Bytes::from(self.genesis.clone()),
                initial_height: height(1),
            }),
        );
    }

    /// Every validator's vote extension for block `h` with transactions `txs`.
    fn extensions(&self, h: u64, txs: &[Bytes]) -> Vec<Bytes> {
        self.apps
            .iter()
            .map(|app| extend_vote(app, h, txs))
            .collect()
    }

    fn verify_extension(&self, app: usize, h: u64, ext: Bytes) -> VoteVerdict {
        let Response::VerifyVoteExtension(v) = call(
            &self.apps[app],
            Request::VerifyVoteExtension(request::VerifyVoteExtension {
                hash: hash(h),
                validator_address: tendermint::account::Id::new([1; 20]),
                height: height(h),
                vote_extension: ext,
            }),
        ) else {
            panic!("not a VerifyVoteExtension answer")
        };
        v
    }

    fn prepare(&self, h: u64, extensions: &[Bytes], txs: Vec<Bytes>) -> Vec<Bytes> {
        let votes = extensions
            .iter()
            .enumerate()
            .map(|(i, e)| ExtendedVoteInfo {
                validator: Validator {
                    address: [u8::try_from(i).unwrap(); 20],
                    power: 1u32.into(),
                },
                sig_info: BlockSignatureInfo::Flag(BlockIdFlag::Commit),
                vote_extension: e.clone(),
                extension_signature: None,
            })
            .collect();
        let Response::PrepareProposal(p) = call(
            &self.apps[0],
            Request::PrepareProposal(request::PrepareProposal {
                max_tx_bytes: 1 << 20,
                txs,
                local_last_commit: Some(ExtendedCommitInfo {
                    round: 0u16.into(),
                    votes,
                }),
                misbehavior: Vec::new(),
                height: height(h),
                time: time(h),
                next_validators_hash: hash(0),
                proposer_address: tendermint::account::Id::new([0; 20]),
            }),
        ) else {
            panic!("not a PrepareProposal answer")
        };
        p.txs
    }

    fn process(&self, app: usize, h: u64, txs: &[Bytes]) -> Verdict {
        let Response::ProcessProposal(v) = call(
            &self.apps[app],
            Request::ProcessProposal(request::ProcessProposal {
                txs: txs.to_vec(),
                proposed_last_commit: None,
                misbehavior: Vec::new(),
                hash: hash(h),
                height: height(h),
                time: time(h),
                next_validators_hash: hash(0),
                proposer_address: tendermint::account::Id::new([0; 20]),
            }),
        ) else {
            panic!("not a ProcessProposal answer")
        };
        v
    }

    fn finalize_on(app: &LedgerApp, h: u64, txs: &[Bytes]) -> Vec<u32> {
        let Response::FinalizeBlock(r) = call(
            app,
            Request::FinalizeBlock(request::FinalizeBlock {
                txs: txs.to_vec(),
                decided_last_commit: CommitInfo {
                    round: 0u16.into(),
                    votes: Vec::new(),
                },
                misbehavior: Vec::new(),
                hash: hash(h),
                height: height(h),
                time: time(h),
                next_validators_hash: hash(0),
                proposer_address: tendermint::account::Id::new([0; 20]),
            }),
        ) else {
            panic!("not a FinalizeBlock answer")
        };
        call(app, Request::Commit);
        r.tx_results.iter().map(|t| t.code.value()).collect()
    }

    fn finalize(&self, h: u64, txs: &[Bytes]) -> Vec<u32> {
        let codes: Vec<Vec<u32>> = self
            .apps
            .iter()
            .map(|a| Self::finalize_on(a, h, txs))
            .collect();
        assert!(codes.windows(2).all(|w| w[0] == w[1]), "{codes:?}");
        codes[0].clone()
    }
}

/// The vote extension `app` makes for block `h` with transactions `txs`.
fn extend_vote(app: &LedgerApp, h: u64, txs: &[Bytes]) -> Bytes {
    let Response::ExtendVote(r) = call(
        app,
        Request::ExtendVote(request::ExtendVote {
            hash: hash(h),
            height: height(h),
            time: time(h),
            txs: txs.to_vec(),
            proposed_last_commit: None,
            misbehavior: Vec::new(),
            next_validators_hash: hash(0),
            proposer_address: tendermint::account::Id::new([0; 20]),
        }),
    ) else {
        panic!("not an ExtendVote answer")
    };
    r.vote_extension
}

fn query(app: &LedgerApp, path: &str, data: &[u8]) -> (u32, Vec<u8>) {
    let Response::Query(q) = call(
        app,
        Request::Query(request::Query {
            data: Bytes::copy_from_slice(data),
            path: path.into(),
            height: 0u32.into(),
            prove: false,
        }),
    ) else {
        panic!("not a Query answer")
    };
    (q.code.value(), q.value.to_vec())
}

fn info(app: &LedgerApp) -> (u64, Vec<u8>) {
    let Response::Info(i) = call(
        app,
        Request::Info(request::Info {
            version: String::new(),
            block_version: 11,
            p2p_version: 8,
            abci_version: "2.0.0".into(),
        }),
    ) else {
        panic!("not an Info answer")
    };
    (
        i.last_block_height.value(),
        i.last_block_app_hash.as_bytes().to_vec(),
    )
}

#[test]
fn vote_extensions_carry_an_sm2_quorum_into_every_block() {
    let net = Net::new();
    let anchor = batch(&net.notary, 1, None, Hash32::sm3(b"batch 1"));
    let anchor_tx = Bytes::from(tx(&anchor));
    // Height 1: extensions start; nothing to cosign into the block yet. The block holds an
    // anchor, and the extensions for it cosign the checkpoint after it, before it is
    // committed (each validator executes the block and undoes it).
    let block1 = vec![anchor_tx.clone()];
    assert_eq!(net.process(1, 1, &block1), Verdict::Accept);
    let ext1 = net.extensions(1, &block1);
    for (i, e) in ext1.iter().enumerate() {
        assert!(!e.is_empty());
        assert_eq!(
            net.verify_extension((i + 1) % 4, 1, e.clone()),
            VoteVerdict::Accept
        );
    }
    // A flipped byte, a key that is not a member's, garbage: rejected. Empty (a validator
    // that is not a member): accepted, and counts for nothing.
    let mut flipped = ext1[0].to_vec();
    let at = flipped.len() - 20;
    flipped[at] = if flipped[at] == b'A' { b'B' } else { b'A' };
    assert_eq!(
        net.verify_extension(1, 1, Bytes::from(flipped)),
        VoteVerdict::Reject
    );
    // A validator whose key is not its member's registered key does not cosign at all...
    let impostor_key = Sm2SigningKey::generate();
    let impostor = LedgerApp::new(Some(("court".into(), impostor_key.clone())));
    net.init(&impostor);
    assert!(extend_vote(&impostor, 1, &block1).is_empty());
    // ...and a cosignature of the right checkpoint under court's name with that key is refused.
    let mut ledger =
        Ledger::new(&serde_json::from_slice::<Genesis>(&net.genesis).unwrap()).unwrap();
    ledger
        .finalize_block(
            1,
            Timestamp::from_unix_ms(1_795_224_601_000, 0),
            &[anchor_tx.to_vec()],
        )
        .unwrap();
    let fake = Bytes::from(
        tiezheng_protocol::canonical::to_canonical_bytes(
            &ledger.checkpoint().cosign("court", &impostor_key).unwrap(),
        )
        .unwrap(),
    );
    assert_eq!(
        net.verify_extension(1, 1, fake.clone()),
        VoteVerdict::Reject
    );
    // A cosignature of the checkpoint without the block's anchor (the state before it) is
    // not a cosignature of this block.
    let before = Ledger::new(&serde_json::from_slice::<Genesis>(&net.genesis).unwrap()).unwrap();
    let stale = Bytes::from(
        tiezheng_protocol::canonical::to_canonical_bytes(
            &before
                .checkpoint()
                .cosign("police", &net.member_key("police"))
                .unwrap(),
        )
        .unwrap(),
    );
    assert_eq!(
        net.verify_extension(2, 1, stale.clone()),
        VoteVerdict::Reject
    );
    assert_eq!(
        net.verify_extension(1, 1, Bytes::from_static(b"{}")),
        VoteVerdict::Reject
    );
    assert_eq!(
        net.verify_extension(1, 1, Bytes::new()),
        VoteVerdict::Accept
    );
    // A validator that has not seen block 1 cannot check a signature over it: it accepts a
    // well-formed extension (the cosigned checkpoint is checked before it counts), and still
    // rejects a malformed one.
    let blind = LedgerApp::new(None);
    net.init(&blind);
    let verdict = |app: &LedgerApp, ext: Bytes| {
        let Response::VerifyVoteExtension(v) = call(
            app,
            Request::VerifyVoteExtension(request::VerifyVoteExtension {
                hash: hash(1),
                validator_address: tendermint::account::Id::new([1; 20]),
                height: height(1),
                vote_extension: ext,
            }),
        ) else {
            panic!("not a VerifyVoteExtension answer")
        };
        v
    };
    assert_eq!(verdict(&blind, fake.clone()), VoteVerdict::Accept);
    assert_eq!(
        verdict(&blind, Bytes::from_static(b"{}")),
        VoteVerdict::Reject
    );
    // The speculation changed nothing: block 1 executes as if it had never been seen.
    assert_eq!(net.finalize(1, &block1), vec![0]);
    assert_eq!(info(&net.apps[0]).0, 1);

    // Block 2 starts with the checkpoint of height 1 cosigned, when its proposer can. Two of
    // four members are not a quorum: no cosigned checkpoint is proposed, and every validator
    // accepts the block without one (the precommits of block 1 never change: refusing it
    // would halt the chain for good).
    let anchor2 = batch(
        &net.notary,
        2,
        Some(anchor.header.sm3().unwrap()),
        Hash32::sm3(b"batch 2"),
    );
    let anchor2_tx = Bytes::from(tx(&anchor2));
    let weak = net.prepare(2, &ext1[..2], vec![anchor2_tx.clone()]);
    assert_eq!(weak, vec![anchor2_tx.clone()]);
    for i in 0..4 {
        assert_eq!(net.process(i, 2, &weak), Verdict::Accept);
    }

    // The impostor's or a stale extension does not make a quorum either.
    let with_fake = [ext1[0].clone(), ext1[1].clone(), fake];
    assert_eq!(net.prepare(2, &with_fake, Vec::new()), Vec::<Bytes>::new());
    let with_stale = [ext1[0].clone(), ext1[2].clone(), stale];
    assert_eq!(net.prepare(2, &with_stale, Vec::new()), Vec::<Bytes>::new());
    // Three of four are: the cosigned checkpoint goes first, and the block is accepted.
    let block2 = net.prepare(2, &ext1[..3], vec![anchor2_tx.clone()]);
    assert_eq!(block2.len(), 2);
    assert_eq!(block2[1], anchor2_tx);
    let cosigned: CosignedCheckpoint = serde_json::from_slice(&block2[0]).unwrap();
    assert_eq!(cosigned.checkpoint.height, 1);
    assert_eq!(cosigned.checkpoint.anchor_log_size, 1);
    assert_eq!(cosigned.cosignatures.len(), 3);
    for i in 0..4 {
        assert_eq!(net.process(i, 2, &block2), Verdict::Accept);
    }
    // A first transaction that claims to be the cosigned checkpoint must be one: the same
    // checkpoint with two of the three cosignatures is refused by every validator.
    let mut short = cosigned.clone();
    short.cosignatures.truncate(2);
    let short_block = vec![
        Bytes::from(tiezheng_protocol::canonical::to_canonical_bytes(&short).unwrap()),
        anchor2_tx.clone(),
    ];
    for i in 0..4 {
        assert_eq!(net.process(i, 2, &short_block), Verdict::Reject);
    }
    // Out of place, or sent through the mempool, it is refused.
    let swapped = vec![block2[1].clone(), block2[0].clone()];
    assert_eq!(net.process(0, 2, &swapped), Verdict::Reject);
    let Response::CheckTx(c) = call(
        &net.apps[0],
        Request::CheckTx(request::CheckTx {
            tx: block2[0].clone(),
            kind: request::CheckTxKind::New,
        }),
    ) else {
        panic!()
    };
    assert_eq!(c.code.value(), codes::COSIGN_FROM_MEMPOOL);
    // A quorum's cosignatures of another height's checkpoint (height 2, from the extensions
    // for block 2) are not this block's.
    let ext2 = net.extensions(2, &block2);
    let mut other = cosigned.clone();
    other.checkpoint.height = 2;
    other.cosignatures = ext2[..3]
        .iter()
        .map(|e| serde_json::from_slice(e).unwrap())
        .collect();
    let other_block = vec![
        Bytes::from(tiezheng_protocol::canonical::to_canonical_bytes(&other).unwrap()),
        anchor2_tx.clone(),
    ];
    assert_eq!(net.process(1, 2, &other_block), Verdict::Reject);

    // Once block 2 is committed, the anchor of block 1 is covered by a cosigned checkpoint:
    // the anchor query returns it with the record's inclusion proof.
    let (code, value) = query(&net.apps[0], "/anchor", anchor.header.root.as_bytes());
    assert_eq!(code, 0);
    let a: AnchorAnswer = serde_json::from_slice(&value).unwrap();
    assert_eq!((a.index, a.record.height), (0, 1));
    assert!(
        a.cosigned.is_none(),
        "no cosigned checkpoint covers height 1 before block 2"
    );
    assert_eq!(net.finalize(2, &block2), vec![0, 0]);
    let (_, value) = query(
        &net.apps[1],
        "/anchor",
        anchor.header.root.to_hex().as_bytes(),
    );
    let a: AnchorAnswer = serde_json::from_slice(&value).unwrap();
    let c = a.cosigned.expect("cosigned by block 2");
    assert_eq!(c.checkpoint.checkpoint.height, 1);
    assert_eq!(c.checkpoint.cosignatures.len(), 3);
    let leaf = tiezheng_protocol::merkle::Sm3Hasher::leaf(&a.record.leaf_bytes().unwrap());
    c.inclusion
        .verify(&leaf, &c.checkpoint.checkpoint.anchor_log_root)
        .unwrap();

    // Blocks 3 and 4: the anchor of block 2 is cosigned in block 3.
    let mut blocks = vec![block1.clone(), block2.clone()];
    let mut ext = ext2;
    for h in 3..=4 {
        let block = net.prepare(h, &ext, Vec::new());
        assert_eq!(net.process(2, h, &block), Verdict::Accept);
        ext = net.extensions(h, &block);
        net.finalize(h, &block);
        blocks.push(block);
    }
    let (_, value) = query(&net.apps[2], "/anchor", anchor2.header.root.as_bytes());
    let a: AnchorAnswer = serde_json::from_slice(&value).unwrap();
    let c = a.cosigned.expect("cosigned by block 3");
    assert_eq!(c.checkpoint.checkpoint.height, 3);
    assert_eq!(c.checkpoint.cosignatures.len(), 4);
    // The app hash in the next header is the checkpoint's, recomputed by verifiers.
    let (h, app_hash) = info(&net.apps[0]);
    assert_eq!(h, 4);
    assert_eq!(query(&net.apps[0], "/nowhere", b"").0, codes::BAD_QUERY);
    // The log after height 1 (one record) and after height 4 (two) are consistent.
    let (code, value) = query(&net.apps[0], "/consistency", b"1:4");
    assert_eq!(code, 0);
    let c: tiezheng_chain::abci::ConsistencyAnswer = serde_json::from_slice(&value).unwrap();
    assert_eq!((c.proof.old_size, c.proof.new_size), (1, 2));
    c.proof.verify(&c.old_root, &c.new_root).unwrap();
    for bad in [&b"4:1"[..], b"1:9", b"x", b""] {
        assert_eq!(query(&net.apps[0], "/consistency", bad).0, codes::BAD_QUERY);
    }
    assert_eq!(query(&net.apps[0], "/anchor", b"short").0, codes::BAD_QUERY);

    // A fresh application (a restart) replaying the blocks through FinalizeBlock alone, as
    // CometBFT's handshake does, reaches the same state.
    let fresh = LedgerApp::new(None);
    assert_eq!(info(&fresh).0, 0, "a restarted app asks for replay");
    net.init(&fresh);
    for (i, block) in blocks.iter().enumerate() {
        Net::finalize_on(&fresh, u64::try_from(i).unwrap() + 1, block);
    }
    assert_eq!(info(&fresh), (h, app_hash));
    for path in ["/checkpoint", "/policy"] {
        assert_eq!(query(&fresh, path, b""), query(&net.apps[3], path, b""));
    }
    assert_eq!(
        query(&fresh, "/anchor", anchor.header.root.as_bytes()),
        query(&net.apps[0], "/anchor", anchor.header.root.as_bytes())
    );
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    /// Bytes that are sometimes almost a document: random, or a real one with a byte changed.
    fn hostile(valid: Vec<Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
        let n = valid.len();
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..600),
            (0..n, any::<prop::sample::Index>(), any::<u8>()).prop_map(move |(i, at, b)| {
                let mut v = valid[i].clone();
                let k = at.index(v.len());
                v[k] ^= b | 1;
                v
            }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

        /// Whatever arrives as a transaction, vote extension, proposal or query, the
        /// application answers without panicking; a damaged extension is rejected; a damaged
        /// cosigned checkpoint makes its block refused; other damaged transactions are
        /// refused one by one when the block executes, and change nothing.
        #[test]
        fn hostile_inputs_are_answered_and_change_nothing(input in {
            let net = Net::new();
            net.finalize(1, &[]);
            let ext = net.extensions(2, &[]);
            let notary = &net.notary;
            let anchor = tx(&batch(notary, 1, None, Hash32::sm3(b"r")));
            let valid = vec![ext[0].to_vec(), ext[1].to_vec(), anchor];
            hostile(valid).prop_map(move |b| b)
        }) {
            let net = Net::new();
            net.finalize(1, &[]);
            // Validator 1 has seen block 2 (empty), as the honest extensions cosign it.
            let _ = net.extensions(2, &[]);
            let before = info(&net.apps[0]);
            let bytes = Bytes::from(input.clone());
            let Response::CheckTx(_) = call(
                &net.apps[0],
                Request::CheckTx(request::CheckTx { tx: bytes.clone(), kind: request::CheckTxKind::New }),
            ) else { panic!() };
            if !input.is_empty() {
                // Any change to an honest extension breaks its signature or its shape.
                prop_assert_eq!(net.verify_extension(1, 2, bytes.clone()), VoteVerdict::Reject);
            }
            for path in ["/anchor", "/consistency", "/policy", "/checkpoint", "/x"] {
                let _ = query(&net.apps[0], path, &input);
            }
            // A block whose first transaction claims to be a cosigned checkpoint is refused
            // unless it is one; any other transaction is refused on its own when the block
            // executes.
            let claims_cosigned = tiezheng_protocol::canonical::parse_canonical(&input)
                .is_ok_and(|v| v.get("checkpoint").is_some());
            let expected = if claims_cosigned { Verdict::Reject } else { Verdict::Accept };
            prop_assert_eq!(net.process(0, 2, std::slice::from_ref(&bytes)), expected);
            let codes = Net::finalize_on(&net.apps[0], 2, std::slice::from_ref(&bytes));
            prop_assert!(codes[0] != 0);
            let (h, app_hash) = info(&net.apps[0]);
            prop_assert_eq!((h, app_hash), (2, before.1));
        }
    }
}
