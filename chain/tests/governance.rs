//! Governance transactions: registry changes under an SM2 quorum of the members.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod common;

use common::{batch, t, tx};
use tiezheng_chain::embedded::EmbeddedChain;
use tiezheng_chain::ledger::{Genesis, Ledger, LedgerError, Member, TxResult};
use tiezheng_protocol::ledger::{
    Cosignature, GovernanceAction, GovernanceError, GovernanceProposal, GovernanceTx,
    SignedBatchHeader,
};
use tiezheng_protocol::{Hash32, Sm2SigningKey, canonical};

const ORGS: [&str; 4] = ["court", "police", "procuratorate", "notary-office"];

struct Consortium {
    keys: Vec<(String, Sm2SigningKey)>,
    notary: Sm2SigningKey,
    genesis: Genesis,
}

fn consortium(orgs: &[&str]) -> Consortium {
    let keys: Vec<(String, Sm2SigningKey)> = orgs
        .iter()
        .map(|o| ((*o).to_owned(), Sm2SigningKey::generate()))
        .collect();
    let notary = Sm2SigningKey::generate();
    let genesis = Genesis {
        chain_id: "tiezheng-consortium-test".into(),
        members: keys
            .iter()
            .map(|(id, k)| Member {
                id: id.clone(),
                public_key: k.public_key().to_hex(),
                power: 1,
            })
            .collect(),
        notaries: vec![notary.public_key().to_hex()],
        validators: Vec::new(),
    };
    Consortium {
        keys,
        notary,
        genesis,
    }
}

impl Consortium {
    fn key(&self, member: &str) -> &Sm2SigningKey {
        &self.keys.iter().find(|(m, _)| m == member).unwrap().1
    }

    fn proposal(&self, seq: u64, change: GovernanceAction) -> GovernanceProposal {
        GovernanceProposal {
            kind: "tiezheng.governance.v1".into(),
            chain_id: self.genesis.chain_id.clone(),
            governance_seq: seq,
            change,
            reason: "consortium resolution 2026-07".into(),
        }
    }

    /// The proposal approved by `by`.
    fn approved(&self, proposal: GovernanceProposal, by: &[&str]) -> Vec<u8> {
        let approvals = by
            .iter()
            .map(|m| proposal.approve(m, self.key(m)).unwrap())
            .collect();
        gov_tx(proposal, approvals)
    }
}

fn gov_tx(proposal: GovernanceProposal, approvals: Vec<Cosignature>) -> Vec<u8> {
    canonical::to_canonical_bytes(&GovernanceTx {
        proposal,
        approvals,
    })
    .unwrap()
}

fn anchor(
    key: &Sm2SigningKey,
    seq: u64,
    previous: Option<&SignedBatchHeader>,
) -> SignedBatchHeader {
    batch(
        key,
        seq,
        previous.map(|p| p.header.sm3().unwrap()),
        Hash32::sm3(&seq.to_be_bytes()),
    )
}

fn new_member(key: &Sm2SigningKey) -> GovernanceAction {
    GovernanceAction::SetMember {
        member: "appraisal-centre".into(),
        public_key: key.public_key().to_hex(),
        power: 1,
    }
}

#[test]
fn a_member_joins_with_three_of_four_approvals_and_not_with_two() {
    let c = consortium(&ORGS);
    let mut l = Ledger::new(&c.genesis).unwrap();
    let before = (l.registry_root(), l.app_hash());
    let centre = Sm2SigningKey::generate();
    let two = c.approved(c.proposal(1, new_member(&centre)), &["court", "police"]);
    let three = c.approved(
        c.proposal(1, new_member(&centre)),
        &["court", "police", "procuratorate"],
    );
    let results = l
        .finalize_block(1, t(2000), &[two, three.clone(), three])
        .unwrap();
    assert_eq!(
        results[0],
        TxResult::Refused(LedgerError::Governance(GovernanceError::NoQuorum {
            approved: 2,
            total: 4
        }))
    );
    assert_eq!(results[1], TxResult::Governed(1));
    // The same approved proposal again is a replay.
    assert_eq!(
        results[2],
        TxResult::Refused(LedgerError::Governance(GovernanceError::Sequence {
            found: 1,
            expected: 2
        }))
    );
    assert_eq!(l.governance_seq(), 1);
    assert_eq!(l.members().len(), 5);
    assert_eq!(l.members()[4].0, "appraisal-centre");
    assert_eq!(&l.members()[4].1, centre.public_key());
    assert_ne!(
        l.registry_root(),
        before.0,
        "the registry root commits to members"
    );
    assert_ne!(l.app_hash(), before.1);
    assert_eq!(l.checkpoint().registry_root, l.registry_root());

    // Now five members: three approvals are no longer a quorum, four are.
    let centre2 = Sm2SigningKey::generate();
    let change = GovernanceAction::SetMember {
        member: "appraisal-centre".into(),
        public_key: centre2.public_key().to_hex(),
        power: 2,
    };
    let three = c.approved(
        c.proposal(2, change.clone()),
        &["court", "police", "procuratorate"],
    );
    let proposal = c.proposal(2, change);
    let mut approvals: Vec<Cosignature> = ["court", "police", "procuratorate"]
        .iter()
        .map(|m| proposal.approve(m, c.key(m)).unwrap())
        .collect();
    approvals.push(proposal.approve("appraisal-centre", &centre).unwrap());
    let four = gov_tx(proposal, approvals);
    let results = l.finalize_block(2, t(3000), &[three, four]).unwrap();
    assert_eq!(
        results[0],
        TxResult::Refused(LedgerError::Governance(GovernanceError::NoQuorum {
            approved: 3,
            total: 5
        }))
    );
    assert_eq!(results[1], TxResult::Governed(2));
    // Re-keyed and re-weighted: the old key no longer counts, the new one counts twice.
    assert_eq!(&l.members()[4].1, centre2.public_key());
    assert_eq!(l.members()[4].2, 2);
}

#[test]
fn duplicate_unknown_and_forged_approvals_are_refused() {
    let c = consortium(&ORGS);
    let mut l = Ledger::new(&c.genesis).unwrap();
    let centre = Sm2SigningKey::generate();
    let proposal = c.proposal(1, new_member(&centre));
    let other = c.proposal(
        1,
        GovernanceAction::RemoveMember {
            member: "police".into(),
        },
    );
    let impostor = Sm2SigningKey::generate();
    let approvals = vec![
        proposal.approve("court", c.key("court")).unwrap(),
        // The same member three times counts once.
        proposal.approve("court", c.key("court")).unwrap(),
        proposal.approve("court", c.key("court")).unwrap(),
        // A key that is not police's.
        proposal.approve("police", &impostor).unwrap(),
        // Not a member at all.
        proposal.approve("appraisal-centre", &centre).unwrap(),
        // A valid signature over a different proposal.
        other
            .approve("procuratorate", c.key("procuratorate"))
            .unwrap(),
    ];
    let results = l
        .finalize_block(1, t(2000), &[gov_tx(proposal.clone(), approvals.clone())])
        .unwrap();
    // Every approval must be a distinct member's and verify: the second approval by court is
    // refused (and so would be the impostor's, the non-member's and the one over another
    // proposal, each tried alone below).
    assert!(
        matches!(
            &results[0],
            TxResult::Refused(LedgerError::Governance(GovernanceError::Approver {
                index: 1,
                ..
            }))
        ),
        "{:?}",
        results[0]
    );
    for (junk, expect_approver) in [(3usize, false), (4, true), (5, false)] {
        let mut only = vec![approvals[0].clone()];
        only.push(approvals[junk].clone());
        let r = l.check_tx(
            &canonical::to_canonical_bytes(&GovernanceTx {
                proposal: proposal.clone(),
                approvals: only,
            })
            .unwrap(),
        );
        match (r, expect_approver) {
            (Err(LedgerError::Governance(GovernanceError::Approver { index: 1, .. })), true)
            | (Err(LedgerError::Governance(GovernanceError::Approval { index: 1, .. })), false) => {
            }
            (other, _) => panic!("approval {junk}: {other:?}"),
        }
    }
    // Changing the proposal after approval invalidates every approval.
    let mut approved: GovernanceTx = serde_json::from_slice(&c.approved(
        proposal,
        &["court", "police", "procuratorate", "notary-office"],
    ))
    .unwrap();
    approved.proposal.reason.push('!');
    let err = l
        .check_tx(&canonical::to_canonical_bytes(&approved).unwrap())
        .unwrap_err();
    assert!(
        matches!(
            err,
            LedgerError::Governance(GovernanceError::Approval { index: 0, .. })
        ),
        "{err:?}"
    );
    assert_eq!(l.governance_seq(), 0);
    assert_eq!(l.members().len(), 4);
}

#[test]
fn wrong_chain_and_invalid_changes_are_refused_with_a_reason() {
    let c = consortium(&ORGS);
    let l = Ledger::new(&c.genesis).unwrap();
    let all = ORGS;
    let check = |change: GovernanceAction| l.check_tx(&c.approved(c.proposal(1, change), &all));
    let mut foreign = c.proposal(1, new_member(&Sm2SigningKey::generate()));
    foreign.chain_id = "another-chain".into();
    assert!(matches!(
        l.check_tx(&c.approved(foreign, &all)),
        Err(LedgerError::Governance(GovernanceError::WrongChain { .. }))
    ));
    let invalid = |r: Result<_, LedgerError>, needle: &str| match r {
        Err(LedgerError::Governance(GovernanceError::InvalidChange(m))) => {
            assert!(m.contains(needle), "{m}")
        }
        other => panic!("expected InvalidChange({needle}), got {other:?}"),
    };
    let k = Sm2SigningKey::generate().public_key().to_hex();
    let set = |member: &str, public_key: &str, power| GovernanceAction::SetMember {
        member: member.into(),
        public_key: public_key.into(),
        power,
    };
    invalid(check(set("Court House", &k, 1)), "a-z, 0-9 and -");
    invalid(check(set("", &k, 1)), "a-z, 0-9 and -");
    invalid(check(set("bureau", &k, 0)), "remove_member removes");
    invalid(check(set("bureau", "04abcd", 1)), "public_key");
    let court_key = c.key("court").public_key().to_hex();
    invalid(
        check(set("bureau", &court_key, 1)),
        "already the key of member \"court\"",
    );
    invalid(
        check(GovernanceAction::RemoveMember {
            member: "bureau".into(),
        }),
        "not a member",
    );
    invalid(
        check(GovernanceAction::AddNotary {
            public_key: c.notary.public_key().to_hex(),
        }),
        "already registered",
    );
    invalid(
        check(GovernanceAction::RemoveNotary {
            notary_key_id: Hash32::sm3(b"nobody"),
        }),
        "not registered",
    );
    // A well-formed change passes CheckTx.
    assert!(check(set("bureau", &k, 3)).is_ok());

    let lone = consortium(&["court"]);
    let l = Ledger::new(&lone.genesis).unwrap();
    invalid(
        l.check_tx(&lone.approved(
            lone.proposal(
                1,
                GovernanceAction::RemoveMember {
                    member: "court".into(),
                },
            ),
            &["court"],
        )),
        "last member",
    );
}

#[test]
fn a_removed_notary_cannot_anchor_and_a_readmitted_one_keeps_its_chain() {
    let c = consortium(&ORGS);
    let mut l = Ledger::new(&c.genesis).unwrap();
    let quorum = ["court", "police", "procuratorate"];
    let b1 = anchor(&c.notary, 1, None);
    let b2 = anchor(&c.notary, 2, Some(&b1));
    let remove = c.approved(
        c.proposal(
            1,
            GovernanceAction::RemoveNotary {
                notary_key_id: c.notary.public_key().key_id(),
            },
        ),
        &quorum,
    );
    // In one block: anchored, removed, then refused — in transaction order.
    let results = l
        .finalize_block(1, t(2000), &[tx(&b1), remove, tx(&b2)])
        .unwrap();
    assert_eq!(results[0], TxResult::Anchored(0));
    assert_eq!(results[1], TxResult::Governed(1));
    assert_eq!(
        results[2],
        TxResult::Refused(LedgerError::NotaryRemoved(c.notary.public_key().key_id()))
    );
    assert!(l.notaries().all(|(_, active)| !active));
    // What it anchored stays anchored and provable.
    assert!(l.anchor_of(&b1.header.root).is_some());

    let readmit = c.approved(
        c.proposal(
            2,
            GovernanceAction::AddNotary {
                public_key: c.notary.public_key().to_hex(),
            },
        ),
        &quorum,
    );
    let restart = anchor(&c.notary, 1, None);
    let results = l
        .finalize_block(2, t(3000), &[readmit, tx(&restart), tx(&b2)])
        .unwrap();
    assert_eq!(results[0], TxResult::Governed(2));
    assert!(matches!(
        results[1],
        TxResult::Refused(LedgerError::Sequence {
            found: 1,
            expected: 2,
            ..
        })
    ));
    assert_eq!(results[2], TxResult::Anchored(1));
}

#[test]
fn the_embedded_chain_replays_governance_to_the_same_state() {
    let dir = tempfile::tempdir().unwrap();
    let c = consortium(&["court"]);
    let second = Sm2SigningKey::generate();
    let (app_hash, root) = {
        let mut chain =
            EmbeddedChain::open(dir.path(), &c.genesis, "court", c.key("court").clone()).unwrap();
        let admit = c.approved(
            c.proposal(
                1,
                GovernanceAction::AddNotary {
                    public_key: second.public_key().to_hex(),
                },
            ),
            &["court"],
        );
        let results = chain.commit_block(t(2000), &[admit]).unwrap();
        assert_eq!(results[0], TxResult::Governed(1));
        let results = chain
            .commit_block(t(3000), &[tx(&anchor(&second, 1, None))])
            .unwrap();
        assert_eq!(results[0], TxResult::Anchored(0));
        (chain.ledger().app_hash(), chain.ledger().registry_root())
    };
    let chain =
        EmbeddedChain::open(dir.path(), &c.genesis, "court", c.key("court").clone()).unwrap();
    assert_eq!(chain.ledger().height(), 2);
    assert_eq!(chain.ledger().governance_seq(), 1);
    assert_eq!(chain.ledger().registry_root(), root);
    assert_eq!(chain.ledger().app_hash(), app_hash);
    assert_eq!(chain.ledger().notaries().filter(|(_, a)| *a).count(), 2);
}

/// Members cosign a block's checkpoint before it is committed: the speculation runs the block
/// and undoes it. Governance changes inside the block (a member joins, the notary is removed
/// and its later anchor refused) must leave no trace, and the committed checkpoint must be
/// exactly the one speculated.
#[test]
fn checkpoint_after_a_block_is_the_committed_one_and_leaves_the_ledger_unchanged() {
    let c = consortium(&ORGS);
    let mut l = Ledger::new(&c.genesis).unwrap();
    let first = anchor(&c.notary, 1, None);
    l.finalize_block(1, t(1000), &[tx(&first)]).unwrap();
    let second = anchor(&c.notary, 2, Some(&first));
    let third = anchor(&c.notary, 3, Some(&second));
    let centre = Sm2SigningKey::generate();
    let join = c.approved(
        c.proposal(1, new_member(&centre)),
        &["court", "police", "procuratorate"],
    );
    let remove = c.approved(
        c.proposal(
            2,
            GovernanceAction::RemoveNotary {
                notary_key_id: c.notary.public_key().key_id(),
            },
        ),
        // Four of the five members once the centre has joined.
        &ORGS,
    );
    let block = vec![tx(&second), join, remove, tx(&third), b"not json".to_vec()];
    let untouched = l.clone();
    let state = |l: &Ledger| {
        (
            l.height(),
            l.app_hash(),
            l.checkpoint(),
            l.registry_root(),
            l.governance_seq(),
            l.anchor_of(&second.header.root).is_some(),
            l.check_tx(&tx(&second)).is_ok(),
        )
    };
    let speculated = l.checkpoint_after(2, t(2000), &block).unwrap();
    assert_eq!(state(&l), state(&untouched), "the speculation left a trace");
    assert_eq!(
        l.checkpoint_after(2, t(2000), &block).unwrap(),
        speculated,
        "the same block speculated twice"
    );
    // Another block speculated first changes nothing either.
    l.checkpoint_after(2, t(2000), &[tx(&second)]).unwrap();
    assert!(
        l.checkpoint_after(5, t(2000), &block).is_err(),
        "wrong height"
    );
    assert_eq!(state(&l), state(&untouched));

    let results = l.finalize_block(2, t(2000), &block).unwrap();
    assert_eq!(l.checkpoint(), speculated);
    assert!(matches!(results[0], TxResult::Anchored(1)));
    assert_eq!(results[1], TxResult::Governed(1));
    assert_eq!(results[2], TxResult::Governed(2));
    assert!(
        matches!(results[3], TxResult::Refused(LedgerError::NotaryRemoved(_))),
        "{:?}",
        results[3]
    );
    assert_ne!(speculated.registry_root, untouched.registry_root());
    assert_eq!(speculated.anchor_log_size, 2);
}
