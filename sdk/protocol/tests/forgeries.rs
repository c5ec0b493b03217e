//! The forgery suite: for every rule of `VERIFYING.md`, a bundle that breaks that rule alone.
//! Every signature is re-made with the real keys (device, notary, members) and every dependent
//! hash, path and root recomputed, so that nothing but the rule under test can catch it. Each
//! must be refused naming exactly that rule; the genuine bundle passes every rule.
//!
//! The forged bundles are also written to `target/forgeries/` (or `$TIEZHENG_FORGERIES_DIR`)
//! with an `index.json`, for the reference verifier in another language to check.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod common;

use std::collections::BTreeSet;

use common::consortium::{self as cbft, Vote};
use common::evidence::*;

use serde_json::{Value, json};
use tiezheng_protocol::bundle::{Bundle, BundleCustody, Policy, PolicyMember};
use tiezheng_protocol::custody::{self, CustodyCommitment};
use tiezheng_protocol::ledger::{
    Checkpoint, GovernanceAction, GovernanceProposal, GovernanceTx, SignedBatchHeader,
};
use tiezheng_protocol::manifest::{Finding, Manifest, Origin, PartyRecord, TimeSync};
use tiezheng_protocol::notary::SignedReceipt;
use tiezheng_protocol::officer::{OfficerCertificate, OfficerSignature, SignedOfficerCertificate};
use tiezheng_protocol::profile::{self};
use tiezheng_protocol::verify::{self, RULES, Status, hash_media};
use tiezheng_protocol::{Hash32, InclusionProof, MerkleTree, Sm2SigningKey, Sm3Hasher, canonical};

/// The bundle after one registry change: the appraisal centre joins (approved by all four).
fn governed(k: &Keys) -> Bundle {
    let mut b = genuine(k);
    let proposal = GovernanceProposal {
        kind: "tiezheng.governance.v1".into(),
        chain_id: b.policy.chain_id.clone(),
        governance_seq: 1,
        change: GovernanceAction::SetMember {
            member: "appraisal-centre".into(),
            public_key: member_key(k, "appraisal-centre").public_key().to_hex(),
            power: 1,
        },
        reason: "consortium resolution 2026-07".into(),
    };
    b.governance = vec![approve(
        proposal,
        k,
        &["court", "police", "procuratorate", "notary-office"],
    )];
    regovern(&mut b, k);
    b
}

fn approve(proposal: GovernanceProposal, k: &Keys, by: &[&str]) -> GovernanceTx {
    GovernanceTx {
        approvals: by
            .iter()
            .map(|m| proposal.approve(m, member_key(k, m)).unwrap())
            .collect(),
        proposal,
    }
}

/// After changing the governance: the registry root, the policy copy and the cosigners follow.
fn regovern(b: &mut Bundle, k: &Keys) {
    let genesis = if b.mode == "consortium" {
        pinned_consortium(k)
    } else {
        pinned(k)
    };
    let mut reg = registry_of(&genesis).with_validators(genesis.validators.clone());
    for g in &b.governance {
        // A forged change may not apply: the rest stays as at genesis.
        if reg.apply(g).is_err() {
            break;
        }
    }
    b.checkpoint.checkpoint.registry_root = reg.root();
    b.policy.members = reg
        .members
        .iter()
        .map(|(id, key, power)| PolicyMember {
            id: id.clone(),
            public_key: key.to_hex(),
            power: *power,
        })
        .collect();
    b.policy.validators = reg.validators.clone();
    b.checkpoint.cosignatures = reg
        .members
        .iter()
        .map(|(m, _, _)| b.checkpoint.checkpoint.cosign(m, member_key(k, m)).unwrap())
        .collect();
}

/// The validator the appraisal centre brings when it joins.
fn fifth_validator() -> cbft::Validator {
    cbft::validator("tiezheng forge validator e", 1)
}

/// The consortium bundle after the appraisal centre joined with its validator (two changes:
/// `set_member`, then `set_validator`, each approved by every member of the time), its header
/// committed by the four genesis validators (`by_five` false: the changes were in the block
/// before the checkpoint) or by all five, and naming the five as its next validators.
fn grown(k: &Keys, by_five: bool) -> Bundle {
    let mut b = genuine(k);
    b.mode = "consortium".into();
    let chain_id = b.policy.chain_id.clone();
    let four = ["court", "police", "procuratorate", "notary-office"];
    let join = GovernanceProposal {
        kind: "tiezheng.governance.v1".into(),
        chain_id: chain_id.clone(),
        governance_seq: 1,
        change: GovernanceAction::SetMember {
            member: "appraisal-centre".into(),
            public_key: member_key(k, "appraisal-centre").public_key().to_hex(),
            power: 1,
        },
        reason: "consortium resolution 2026-07".into(),
    };
    let validator = GovernanceProposal {
        kind: "tiezheng.governance.v1".into(),
        chain_id,
        governance_seq: 2,
        change: GovernanceAction::SetValidator {
            member: "appraisal-centre".into(),
            pub_key: fifth_validator().pub_key(),
        },
        reason: "consortium resolution 2026-07, its node".into(),
    };
    let mut five_members = four.to_vec();
    five_members.push("appraisal-centre");
    b.governance = vec![
        approve(join, k, &four),
        approve(validator, k, &five_members),
    ];
    regovern(&mut b, k);
    let mut five = k.validators.clone();
    five.push(fifth_validator());
    cbft::sort(&mut five);
    let signers = if by_five {
        five.clone()
    } else {
        k.validators.clone()
    };
    let mut l = cbft::layer(
        &b.checkpoint.checkpoint,
        &signers,
        &vec![Vote::Commit; signers.len()],
    );
    cbft::with_next(&mut l, &five, &signers);
    set_layer(&mut b, l);
    b
}

/// One forgery: its name, the rule it breaks, the bundle (as JSON, for encoding forgeries),
/// and the media file to check it with.
struct Forgery {
    rule: &'static str,
    name: &'static str,
    bundle: Value,
    media: Option<Vec<u8>>,
    /// Checked against the consortium's policy (which pins the validators).
    consortium: bool,
}

fn forge(
    rule: &'static str,
    name: &'static str,
    k: &Keys,
    f: impl FnOnce(&mut Bundle, &Keys),
) -> Forgery {
    let mut b = genuine(k);
    f(&mut b, k);
    Forgery {
        rule,
        name,
        bundle: serde_json::to_value(&b).unwrap(),
        media: None,
        consortium: false,
    }
}

fn forge_gov(
    rule: &'static str,
    name: &'static str,
    k: &Keys,
    f: impl FnOnce(&mut Bundle, &Keys),
) -> Forgery {
    let mut b = governed(k);
    f(&mut b, k);
    Forgery {
        rule,
        name,
        bundle: serde_json::to_value(&b).unwrap(),
        media: None,
        consortium: false,
    }
}

/// The policy a court pins for the consortium: the genesis policy and the four validators.
fn pinned_consortium(k: &Keys) -> Policy {
    let mut p = pinned(k);
    p.validators = k.validators.iter().map(cbft::Validator::pinned).collect();
    p
}

/// Every validator votes for the block.
const ALL: [Vote; 4] = [Vote::Commit; 4];

/// The genuine consortium bundle: the genuine bundle anchored in the consortium's ledger, the
/// checkpoint's state the app hash of the next CometBFT header, committed with `votes`.
fn consortium(k: &Keys, votes: &[Vote]) -> Bundle {
    let mut b = genuine(k);
    b.mode = "consortium".into();
    b.policy = pinned_consortium(k);
    let layer = cbft::layer(&b.checkpoint.checkpoint, &k.validators, votes);
    set_layer(&mut b, layer);
    b
}

fn layer_of(b: &Bundle) -> Value {
    serde_json::to_value(b.cometbft.as_ref().unwrap()).unwrap()
}

fn set_layer(b: &mut Bundle, layer: Value) {
    b.cometbft = Some(serde_json::from_value(layer).unwrap());
}

/// A forgery of the consortium bundle's CometBFT layer (committed with `votes`), as JSON.
fn forge_chain(
    rule: &'static str,
    name: &'static str,
    k: &Keys,
    votes: &[Vote],
    f: impl FnOnce(&mut Value, &Keys, &Checkpoint),
) -> Forgery {
    let mut b = consortium(k, votes);
    let mut l = layer_of(&b);
    f(&mut l, k, &b.checkpoint.checkpoint);
    set_layer(&mut b, l);
    Forgery {
        rule,
        name,
        bundle: serde_json::to_value(&b).unwrap(),
        media: None,
        consortium: true,
    }
}

fn hdr(l: &mut Value) -> &mut Value {
    &mut l["signed_header"]["header"]
}

fn cmt(l: &mut Value) -> &mut Value {
    &mut l["signed_header"]["commit"]
}

fn entry(l: &mut Value, i: usize) -> &mut Value {
    &mut l["signed_header"]["commit"]["signatures"][i]
}

/// `v`'s signature of commit entry `i` as if its timestamp were another: a bad signature.
fn bad_signature(l: &Value, i: usize, v: &cbft::Validator) -> Value {
    let sh = &l["signed_header"];
    let mut other = sh["commit"]["signatures"][i].clone();
    other["timestamp"] = json!("2026-11-21T01:31:05Z");
    json!(cbft::sign(
        v,
        &sh["commit"],
        &other,
        sh["header"]["chain_id"].as_str().unwrap()
    ))
}

/// Every chain rule broken alone: the header, commit and validator set re-derived and the
/// votes re-signed with the validators' real keys after each change.
#[allow(clippy::too_many_lines)]
fn chain_forgeries(k: &Keys) -> Vec<Forgery> {
    use Vote::{Absent, Commit, Nil};
    let seal = |l: &mut Value, k: &Keys| cbft::seal(l, &k.validators);
    let outsider = || cbft::validator("tiezheng forge validator e", 1);
    vec![
        // chain.header: nothing covers these, so nothing needs re-signing.
        forge_chain(
            "chain.header",
            "unknown member inside the header",
            k,
            &ALL,
            |l, _, _| hdr(l)["round"] = json!(0),
        ),
        forge_chain(
            "chain.header",
            "unknown member inside the commit",
            k,
            &ALL,
            |l, _, _| cmt(l)["extensions"] = json!([]),
        ),
        forge_chain(
            "chain.header",
            "unknown member in a commit entry",
            k,
            &ALL,
            |l, _, _| entry(l, 0)["validator_index"] = json!(0),
        ),
        forge_chain(
            "chain.header",
            "unknown member beside header and commit",
            k,
            &ALL,
            |l, _, _| l["signed_header"]["canonical"] = json!(true),
        ),
        forge_chain(
            "chain.header",
            "a vote's time re-spelt with trailing zeros",
            k,
            &ALL,
            |l, _, _| entry(l, 0)["timestamp"] = json!("2026-11-21T01:31:04.102340000Z"),
        ),
        forge_chain(
            "chain.header",
            "the header's time re-spelt at +08:00",
            k,
            &ALL,
            |l, _, _| hdr(l)["time"] = json!("2026-11-21T09:31:03.512034817+08:00"),
        ),
        forge_chain(
            "chain.header",
            "the commit's height as a number",
            k,
            &ALL,
            |l, _, _| cmt(l)["height"] = json!(42),
        ),
        forge_chain(
            "chain.header",
            "the committed block hash in lower case",
            k,
            &ALL,
            |l, _, _| {
                let h = cmt(l)["block_id"]["hash"].as_str().unwrap().to_lowercase();
                cmt(l)["block_id"]["hash"] = json!(h);
            },
        ),
        // chain.chain_id
        forge_chain(
            "chain.chain_id",
            "header of another chain, re-committed",
            k,
            &ALL,
            |l, k, _| {
                hdr(l)["chain_id"] = json!("another-chain");
                seal(l, k);
            },
        ),
        // chain.height
        forge_chain(
            "chain.height",
            "header two heights after the checkpoint, re-committed",
            k,
            &ALL,
            |l, k, _| {
                hdr(l)["height"] = json!("43");
                cmt(l)["height"] = json!("43");
                seal(l, k);
            },
        ),
        forge_chain(
            "chain.height",
            "header at the checkpoint's own height, re-committed",
            k,
            &ALL,
            |l, k, _| {
                hdr(l)["height"] = json!("41");
                cmt(l)["height"] = json!("41");
                seal(l, k);
            },
        ),
        // chain.app_hash
        forge_chain(
            "chain.app_hash",
            "app hash of a longer anchor log, re-committed",
            k,
            &ALL,
            |l, k, cp| {
                let other = tiezheng_protocol::ledger::app_hash(
                    cp.anchor_log_size + 1,
                    &cp.anchor_log_root,
                    &cp.registry_root,
                );
                hdr(l)["app_hash"] = json!(other.to_hex().to_uppercase());
                seal(l, k);
            },
        ),
        forge_chain(
            "chain.app_hash",
            "a 20-byte app hash, re-committed",
            k,
            &ALL,
            |l, k, cp| {
                let short = cp.app_hash().to_hex().to_uppercase()[..40].to_owned();
                hdr(l)["app_hash"] = json!(short);
                seal(l, k);
            },
        ),
        // chain.time
        forge_chain(
            "chain.time",
            "header time equal to the checkpoint's, re-committed",
            k,
            &ALL,
            |l, k, _| {
                hdr(l)["time"] = json!("2026-11-21T01:31:03Z");
                seal(l, k);
            },
        ),
        forge_chain(
            "chain.time",
            "header a nanosecond before the checkpoint, re-committed",
            k,
            &ALL,
            |l, k, _| {
                hdr(l)["time"] = json!("2026-11-21T01:31:02.999999999Z");
                seal(l, k);
            },
        ),
        // chain.validators
        forge_chain(
            "chain.validators",
            "a validator left out, re-committed by the others",
            k,
            &ALL,
            |l, k, cp| {
                *l = cbft::layer(cp, &k.validators[..3], &ALL[..3]);
                cbft::with_next(l, &k.validators, &k.validators[..3]);
            },
        ),
        forge_chain(
            "chain.validators",
            "a fifth validator added, re-committed",
            k,
            &ALL,
            |l, k, cp| {
                let mut vals = k.validators.clone();
                vals.push(outsider());
                cbft::sort(&mut vals);
                *l = cbft::layer(cp, &vals, &[Commit; 5]);
                cbft::with_next(l, &k.validators, &vals);
            },
        ),
        forge_chain(
            "chain.validators",
            "a validator's power raised, re-committed",
            k,
            &ALL,
            |l, k, cp| {
                let mut vals = k.validators.clone();
                vals[3].power = 2;
                cbft::sort(&mut vals);
                *l = cbft::layer(cp, &vals, &ALL);
                cbft::with_next(l, &k.validators, &vals);
            },
        ),
        // chain.next_validators
        forge_chain(
            "chain.next_validators",
            "the header names a fifth validator as the next set, re-committed",
            k,
            &ALL,
            |l, k, _| {
                let mut next = k.validators.clone();
                next.push(outsider());
                cbft::sort(&mut next);
                cbft::with_next(l, &next, &k.validators);
            },
        ),
        forge_chain(
            "chain.validators",
            "an address not derived from its key, re-committed",
            k,
            &ALL,
            |l, k, _| {
                let forged = cbft::address_of(b"another key");
                l["validators"][3]["address"] = json!(forged);
                entry(l, 3)["validator_address"] = json!(forged);
                seal(l, k);
            },
        ),
        forge_chain(
            "chain.validators",
            "the two strongest validators swapped, re-committed",
            k,
            &ALL,
            |l, k, _| {
                l["validators"].as_array_mut().unwrap().swap(0, 1);
                cmt(l)["signatures"].as_array_mut().unwrap().swap(0, 1);
                seal(l, k);
            },
        ),
        forge_chain(
            "chain.validators",
            "a validator's address in lower case",
            k,
            &ALL,
            |l, k, _| {
                l["validators"][2]["address"] = json!(k.validators[2].address().to_lowercase())
            },
        ),
        forge_chain(
            "chain.validators",
            "a validator entry with proposer_priority",
            k,
            &ALL,
            |l, _, _| l["validators"][0]["proposer_priority"] = json!("0"),
        ),
        forge_chain(
            "chain.validators",
            "a key labelled secp256k1",
            k,
            &ALL,
            |l, _, _| l["validators"][0]["pub_key"]["type"] = json!("tendermint/PubKeySecp256k1"),
        ),
        forge_chain(
            "chain.validators",
            "voting power as a number",
            k,
            &ALL,
            |l, k, _| l["validators"][0]["voting_power"] = json!(k.validators[0].power),
        ),
        // chain.validators_hash
        forge_chain(
            "chain.validators_hash",
            "hash of the set with equal powers, re-committed",
            k,
            &ALL,
            |l, k, _| {
                let mut equal = l["validators"].as_array().unwrap().clone();
                for v in &mut equal {
                    v["voting_power"] = json!("1");
                }
                hdr(l)["validators_hash"] = json!(hex::encode_upper(cbft::validators_hash(&equal)));
                cbft::rehash_block(l);
                cbft::sign_votes(l, &k.validators);
            },
        ),
        forge_chain(
            "chain.validators_hash",
            "hash of the set in reverse order, re-committed",
            k,
            &ALL,
            |l, k, _| {
                let mut rev = l["validators"].as_array().unwrap().clone();
                rev.reverse();
                hdr(l)["validators_hash"] = json!(hex::encode_upper(cbft::validators_hash(&rev)));
                cbft::rehash_block(l);
                cbft::sign_votes(l, &k.validators);
            },
        ),
        // chain.commit
        forge_chain(
            "chain.commit",
            "commit for another block, re-signed",
            k,
            &ALL,
            |l, k, _| {
                cmt(l)["block_id"]["hash"] =
                    json!(hex::encode_upper(Hash32::sm3(b"another block").as_bytes()));
                cbft::sign_votes(l, &k.validators);
            },
        ),
        forge_chain(
            "chain.commit",
            "commit of another height, re-signed",
            k,
            &ALL,
            |l, k, _| {
                cmt(l)["height"] = json!("43");
                cbft::sign_votes(l, &k.validators);
            },
        ),
        forge_chain(
            "chain.commit",
            "exactly two thirds of the power for the block",
            k,
            &[Commit, Commit, Nil, Absent],
            |_, _, _| {},
        ),
        forge_chain(
            "chain.commit",
            "one validator for the block, the others for nil",
            k,
            &[Commit, Nil, Nil, Nil],
            |_, _, _| {},
        ),
        // chain.signatures
        forge_chain(
            "chain.signatures",
            "a vote for the block with a bad signature",
            k,
            &ALL,
            |l, k, _| entry(l, 3)["signature"] = bad_signature(l, 3, &k.validators[3]),
        ),
        forge_chain(
            "chain.signatures",
            "a vote for the block signed with another validator's key",
            k,
            &ALL,
            |l, k, _| {
                let sh = l["signed_header"].clone();
                entry(l, 2)["signature"] = json!(cbft::sign(
                    &k.validators[3],
                    &sh["commit"],
                    &sh["commit"]["signatures"][2],
                    sh["header"]["chain_id"].as_str().unwrap()
                ));
            },
        ),
        forge_chain(
            "chain.signatures",
            "a vote for the block relabelled nil",
            k,
            &ALL,
            |l, _, _| entry(l, 3)["block_id_flag"] = json!(3),
        ),
        forge_chain(
            "chain.signatures",
            "a vote for nil with a bad signature",
            k,
            &[Commit, Commit, Commit, Nil],
            |l, k, _| entry(l, 3)["signature"] = bad_signature(l, 3, &k.validators[3]),
        ),
        forge_chain(
            "chain.signatures",
            "a vote for nil relabelled for the block",
            k,
            &[Commit, Commit, Commit, Nil],
            |l, _, _| entry(l, 3)["block_id_flag"] = json!(2),
        ),
        forge_chain(
            "chain.signatures",
            "an absent entry carrying a signature",
            k,
            &[Commit, Commit, Commit, Absent],
            |l, k, _| entry(l, 3)["signature"] = bad_signature(l, 0, &k.validators[3]),
        ),
        forge_chain(
            "chain.signatures",
            "an absent entry carrying an address",
            k,
            &[Commit, Commit, Commit, Absent],
            |l, k, _| entry(l, 3)["validator_address"] = json!(k.validators[3].address()),
        ),
        forge_chain(
            "chain.signatures",
            "an absent entry carrying a time",
            k,
            &[Commit, Commit, Commit, Absent],
            |l, _, _| entry(l, 3)["timestamp"] = json!("2026-11-21T01:31:04.1Z"),
        ),
        forge_chain(
            "chain.signatures",
            "two entries out of set order",
            k,
            &ALL,
            |l, _, _| cmt(l)["signatures"].as_array_mut().unwrap().swap(0, 1),
        ),
        forge_chain(
            "chain.signatures",
            "the last validator's entry left out",
            k,
            &ALL,
            |l, _, _| {
                cmt(l)["signatures"].as_array_mut().unwrap().pop();
            },
        ),
        forge_chain(
            "chain.signatures",
            "one validator's vote twice, in another's place",
            k,
            &ALL,
            |l, _, _| *entry(l, 3) = entry(l, 0).clone(),
        ),
        forge_chain(
            "chain.signatures",
            "a vote by a validator outside the set, signed",
            k,
            &ALL,
            |l, _, _| {
                let e = outsider();
                entry(l, 3)["validator_address"] = json!(e.address());
                let sh = l["signed_header"].clone();
                entry(l, 3)["signature"] = json!(cbft::sign(
                    &e,
                    &sh["commit"],
                    &sh["commit"]["signatures"][3],
                    sh["header"]["chain_id"].as_str().unwrap()
                ));
            },
        ),
        forge_chain(
            "chain.signatures",
            "an unknown block_id_flag",
            k,
            &ALL,
            |l, _, _| entry(l, 3)["block_id_flag"] = json!(4),
        ),
        forge_chain(
            "chain.signatures",
            "a vote for the block without a signature",
            k,
            &ALL,
            |l, _, _| entry(l, 3)["signature"] = Value::Null,
        ),
    ]
}

fn with_media(mut f: Forgery, data: Vec<u8>) -> Forgery {
    f.media = Some(data);
    f
}

fn manifest_edit(b: &mut Bundle, k: &Keys, f: impl FnOnce(&mut Manifest)) {
    f(&mut b.proof.manifest);
    reseal(b, k, Step::Proof);
}

#[allow(clippy::too_many_lines)]
fn forgeries(k: &Keys) -> Vec<Forgery> {
    let g = |b: &Bundle| serde_json::to_value(b).unwrap();
    let base = g(&genuine(k));
    let json_edit = |rule, name, f: &dyn Fn(&mut Value)| {
        let mut v = base.clone();
        f(&mut v);
        Forgery {
            rule,
            name,
            bundle: v,
            media: None,
            consortium: false,
        }
    };
    vec![
        // bundle
        json_edit(
            "bundle.schema",
            "unknown member inside the signed manifest",
            &|v| {
                v["proof"]["manifest"]["extra"] = json!(1);
            },
        ),
        json_edit(
            "bundle.schema",
            "optional member omitted instead of null",
            &|v| {
                v["proof"]["manifest"]["case"]
                    .as_object_mut()
                    .unwrap()
                    .remove("object");
            },
        ),
        json_edit("bundle.schema", "upper-case hex digest", &|v| {
            let s = v["receipt"]["receipt"]["notary_key_id"]
                .as_str()
                .unwrap()
                .to_uppercase();
            v["receipt"]["receipt"]["notary_key_id"] = json!(s);
        }),
        forge("bundle.type", "another bundle type", k, |b, _| {
            b.kind = "tiezheng.bundle.v2".into()
        }),
        forge(
            "bundle.mode",
            "embedded bundle called consortium",
            k,
            |b, _| b.mode = "consortium".into(),
        ),
        // policy
        forge(
            "policy.copy",
            "the copy claims a member's power is 2",
            k,
            |b, _| b.policy.members[0].power = 2,
        ),
        forge(
            "policy.copy",
            "the copy lists a second notary",
            k,
            |b, _| {
                b.policy
                    .notary_keys
                    .push(key("rogue notary").public_key().to_hex());
            },
        ),
        // governance
        forge_gov(
            "governance.type",
            "proposal of another type, re-approved",
            k,
            |b, k| {
                let mut p = b.governance[0].proposal.clone();
                p.kind = "tiezheng.governance.v0".into();
                b.governance[0] =
                    approve(p, k, &["court", "police", "procuratorate", "notary-office"]);
            },
        ),
        forge_gov(
            "governance.chain_id",
            "proposal for another chain, re-approved",
            k,
            |b, k| {
                let mut p = b.governance[0].proposal.clone();
                p.chain_id = "another-chain".into();
                b.governance[0] =
                    approve(p, k, &["court", "police", "procuratorate", "notary-office"]);
            },
        ),
        forge_gov(
            "governance.sequence",
            "change numbered 2 first, re-approved",
            k,
            |b, k| {
                let mut p = b.governance[0].proposal.clone();
                p.governance_seq = 2;
                b.governance[0] =
                    approve(p, k, &["court", "police", "procuratorate", "notary-office"]);
            },
        ),
        forge_gov(
            "governance.approvers",
            "one member approves twice",
            k,
            |b, k| {
                let p = b.governance[0].proposal.clone();
                b.governance[0] = approve(
                    p,
                    k,
                    &["court", "police", "procuratorate", "notary-office", "court"],
                );
            },
        ),
        forge_gov(
            "governance.approvers",
            "approval by the member being admitted",
            k,
            |b, k| {
                let p = b.governance[0].proposal.clone();
                b.governance[0] = approve(
                    p,
                    k,
                    &[
                        "court",
                        "police",
                        "procuratorate",
                        "notary-office",
                        "appraisal-centre",
                    ],
                );
            },
        ),
        forge_gov(
            "governance.approvals",
            "a fifth, junk approval beside a quorum",
            k,
            |b, k| {
                let mut other = b.governance[0].proposal.clone();
                other.reason = "something else".into();
                b.governance[0].approvals[3] = other
                    .approve("notary-office", member_key(k, "notary-office"))
                    .unwrap();
            },
        ),
        forge_gov("governance.quorum", "two approvals of four", k, |b, _| {
            b.governance[0].approvals.truncate(2);
        }),
        forge_gov(
            "governance.change",
            "power 0, approved by all",
            k,
            |b, k| {
                let mut p = b.governance[0].proposal.clone();
                if let GovernanceAction::SetMember { power, .. } = &mut p.change {
                    *power = 0;
                }
                b.governance[0] =
                    approve(p, k, &["court", "police", "procuratorate", "notary-office"]);
            },
        ),
        {
            // A validator for a member that is not (yet) one.
            let mut b = grown(k, false);
            let mut p = b.governance[1].proposal.clone();
            if let GovernanceAction::SetValidator { member, .. } = &mut p.change {
                *member = "bank".into();
            }
            b.governance[1] = approve(
                p,
                k,
                &[
                    "court",
                    "police",
                    "procuratorate",
                    "notary-office",
                    "appraisal-centre",
                ],
            );
            regovern(&mut b, k);
            let mut l = layer_of(&b);
            hdr(&mut l)["app_hash"] = json!(hex::encode_upper(
                b.checkpoint.checkpoint.app_hash().as_bytes()
            ));
            cbft::seal(&mut l, &k.validators);
            set_layer(&mut b, l);
            Forgery {
                rule: "governance.change",
                name: "a validator for a member that is not one, approved by all",
                bundle: serde_json::to_value(&b).unwrap(),
                media: None,
                consortium: true,
            }
        },
        forge(
            "checkpoint.registry_root",
            "embedded checkpoint commits to another registry",
            k,
            |b, k| {
                b.checkpoint.checkpoint.registry_root = Hash32::sm3(b"registry");
                reseal(b, k, Step::Cosign);
            },
        ),
        forge_gov(
            "checkpoint.registry_root",
            "governance carried but the root is genesis's",
            k,
            |b, k| {
                b.checkpoint.checkpoint.registry_root = registry_of(&pinned(k)).root();
                reseal(b, k, Step::Cosign);
            },
        ),
        // proof
        forge("proof.type", "manifest type v2, re-signed", k, |b, k| {
            manifest_edit(b, k, |m| m.kind = "tiezheng.manifest.v2".into())
        }),
        forge(
            "proof.schema",
            "device_seq 0 after... no: empty case reference",
            k,
            |b, k| manifest_edit(b, k, |m| m.case.reference = String::new()),
        ),
        forge("proof.schema", "no collectors", k, |b, k| {
            manifest_edit(b, k, |m| {
                m.case.collectors.clear();
                // Under no profile, so that only the schema's minimum is broken.
                m.procedure = None;
            })
        }),
        forge("proof.schema", "coordinates in GCJ-02", k, |b, k| {
            manifest_edit(b, k, |m| {
                m.items[0].location.as_mut().unwrap().coordinate_system = "GCJ-02".into();
            })
        }),
        forge("proof.schema", "manifest_id with a path", k, |b, k| {
            manifest_edit(b, k, |m| m.manifest_id = "../../x".into())
        }),
        forge(
            "proof.signature",
            "manifest changed after signing",
            k,
            |b, k| {
                b.proof.manifest.case.cause = Some("另一案由".into());
                // The officers sign the changed manifest: only the device's signature is stale.
                b.proof.officer_signatures.clear();
                for (o, key) in &k.officers {
                    b.proof.cosign(o, key).unwrap();
                }
                reseal(b, k, Step::ReceiptLinks);
            },
        ),
        forge(
            "proof.signature",
            "signature block with another OID",
            k,
            |b, k| {
                b.proof.signature.oid = "1.2.156.10197.1.301.1".into();
                reseal(b, k, Step::ReceiptLinks);
            },
        ),
        forge(
            "proof.key_id",
            "key_id of another device, re-signed",
            k,
            |b, k| {
                manifest_edit(b, k, |m| {
                    m.device.key_id = key("other device").public_key().key_id();
                })
            },
        ),
        forge(
            "proof.chain_link",
            "device_seq 1 with a predecessor, re-signed",
            k,
            |b, k| manifest_edit(b, k, |m| m.device_seq = 1),
        ),
        forge(
            "proof.chain_link",
            "device_seq 5 without a predecessor, re-signed",
            k,
            |b, k| manifest_edit(b, k, |m| m.previous_manifest_sm3 = None),
        ),
        forge(
            "proof.content",
            "a capture manifest without items, re-signed",
            k,
            |b, k| manifest_edit(b, k, |m| m.items.clear()),
        ),
        forge(
            "proof.item_hashes",
            "the SM3 digest labelled with SHA-256's OID, re-signed",
            k,
            |b, k| {
                manifest_edit(b, k, |m| {
                    m.items[0].hashes[0].oid = "2.16.840.1.101.3.4.2.1".into();
                })
            },
        ),
        forge(
            "proof.item_hashes",
            "two SM3 digests, re-signed",
            k,
            |b, k| {
                manifest_edit(b, k, |m| {
                    m.items[0].hashes[1] = m.items[0].hashes[0].clone();
                })
            },
        ),
        forge(
            "proof.recording_segments",
            "a gap between segments, chain recomputed, re-signed",
            k,
            |b, k| {
                manifest_edit(b, k, |m| {
                    let s = &mut m.items[1].recording.as_mut().unwrap().segments;
                    s[1].offset += 1;
                    s[1].bytes -= 1;
                    relink_segments(s);
                })
            },
        ),
        forge(
            "proof.recording_segments",
            "the last segment dropped, chain intact, re-signed",
            k,
            |b, k| {
                manifest_edit(b, k, |m| {
                    m.items[1].recording.as_mut().unwrap().segments.pop();
                })
            },
        ),
        forge(
            "proof.recording_chain",
            "broken segment chain, re-signed",
            k,
            |b, k| {
                manifest_edit(b, k, |m| {
                    m.items[1].recording.as_mut().unwrap().segments[1].chain = Hash32::sm3(b"x");
                })
            },
        ),
        forge(
            "proof.recording_flags",
            "truncated without interruption or finding, re-signed",
            k,
            |b, k| {
                manifest_edit(b, k, |m| {
                    m.items[1].recording.as_mut().unwrap().truncated = true;
                    m.items[1].findings.push(Finding {
                        code: "recording_truncated".into(),
                        detail: "x".into(),
                    });
                })
            },
        ),
        forge(
            "proof.recording_flags",
            "interrupted without a finding, re-signed",
            k,
            |b, k| {
                manifest_edit(b, k, |m| {
                    m.items[1].recording.as_mut().unwrap().interrupted = true;
                })
            },
        ),
        forge(
            "proof.session_summary",
            "summary closing before it opens, re-signed",
            k,
            |b, k| {
                manifest_edit(b, k, |m| {
                    m.items.clear();
                    m.session_summary = Some(tiezheng_protocol::manifest::SessionSummary {
                        opened_at: t("2026-11-21T10:00:00.000+08:00"),
                        closed_at: t("2026-11-21T09:00:00.000+08:00"),
                        manifests: Vec::new(),
                        record: None,
                    });
                })
            },
        ),
        forge(
            "proof.session_summary",
            "summary listing a later manifest, re-signed",
            k,
            |b, k| {
                manifest_edit(b, k, |m| {
                    m.items.clear();
                    m.session_summary = Some(tiezheng_protocol::manifest::SessionSummary {
                        opened_at: t("2026-11-21T09:00:00.000+08:00"),
                        closed_at: t("2026-11-21T10:00:00.000+08:00"),
                        manifests: vec![tiezheng_protocol::manifest::SummaryEntry {
                            device_seq: 7,
                            manifest_sm3: Hash32::sm3(b"later"),
                            files: Vec::new(),
                        }],
                        record: None,
                    });
                })
            },
        ),
        // media
        with_media(
            forge("media.item", "another file", k, |_, _| {}),
            b"not the evidence".to_vec(),
        ),
        with_media(
            forge(
                "media.sha256",
                "the item's SHA-256 replaced, re-signed",
                k,
                |b, k| {
                    manifest_edit(b, k, |m| {
                        m.items[0].hashes[1].value = Hash32::sm3(b"forged sha-256");
                    })
                },
            ),
            photo(),
        ),
        with_media(
            forge(
                "media.bytes",
                "the item's size changed, re-signed",
                k,
                |b, k| {
                    manifest_edit(b, k, |m| {
                        m.items[0].bytes += 1;
                    })
                },
            ),
            photo(),
        ),
        with_media(
            forge(
                "media.segments",
                "a segment's SM3 replaced, chain recomputed, re-signed",
                k,
                |b, k| {
                    manifest_edit(b, k, |m| {
                        let s = &mut m.items[1].recording.as_mut().unwrap().segments;
                        s[0].sm3 = Hash32::sm3(b"other bytes");
                        relink_segments(s);
                    })
                },
            ),
            video(),
        ),
        // receipt
        forge("receipt.type", "receipt type v2, re-signed", k, |b, k| {
            b.receipt.receipt.kind = "tiezheng.receipt.v2".into();
            reseal(b, k, Step::ReceiptSignature);
        }),
        forge(
            "receipt.notary",
            "receipt naming an untrusted notary",
            k,
            |b, _| {
                let rogue = key("rogue notary");
                b.receipt.receipt.notary_key_id = rogue.public_key().key_id();
                b.receipt = SignedReceipt::sign(b.receipt.receipt.clone(), &rogue).unwrap();
                // The rogue notary bound the officers' keys too.
                for c in &mut b.officers {
                    let mut cert = c.certificate.clone();
                    cert.notary_key_id = rogue.public_key().key_id();
                    *c = SignedOfficerCertificate::sign(cert, &rogue).unwrap();
                }
            },
        ),
        forge(
            "receipt.signature",
            "receipt changed after signing",
            k,
            |b, _| {
                b.receipt.receipt.received_at = t("2026-11-21T01:31:00.600Z");
            },
        ),
        forge(
            "receipt.proof_sm3",
            "receipt for another proof, re-signed",
            k,
            |b, k| {
                b.receipt.receipt.proof_sm3 = Hash32::sm3(b"another proof");
                reseal(b, k, Step::ReceiptSignature);
            },
        ),
        forge(
            "receipt.manifest_sm3",
            "receipt for another manifest, re-signed",
            k,
            |b, k| {
                b.receipt.receipt.manifest_sm3 = Hash32::sm3(b"another manifest");
                reseal(b, k, Step::ReceiptSignature);
            },
        ),
        forge(
            "receipt.device_key_id",
            "receipt naming another device, re-signed",
            k,
            |b, k| {
                b.receipt.receipt.device_key_id = key("other device").public_key().key_id();
                reseal(b, k, Step::ReceiptSignature);
            },
        ),
        forge(
            "receipt.device_seq",
            "receipt with another device_seq, re-signed",
            k,
            |b, k| {
                b.receipt.receipt.device_seq = 6;
                reseal(b, k, Step::ReceiptSignature);
            },
        ),
        forge(
            "receipt.chain_gap",
            "first manifest with a chain gap, re-signed",
            k,
            |b, k| {
                b.proof.manifest.device_seq = 1;
                b.proof.manifest.previous_manifest_sm3 = None;
                b.receipt.receipt.chain_gap = true;
                reseal(b, k, Step::Proof);
            },
        ),
        forge(
            "receipt.time",
            "receipt dated after the batch closed, re-signed",
            k,
            |b, k| {
                b.receipt.receipt.received_at = t("2026-11-21T01:31:01.417Z");
                reseal(b, k, Step::ReceiptSignature);
            },
        ),
        // leaf
        forge("leaf.salt", "upper-case salt, tree rebuilt", k, |b, k| {
            b.batch.leaf.salt = "0F1E2D3C4B5A69788796A5B4C3D2E1F0".into();
            reseal(b, k, Step::BatchTree);
        }),
        forge(
            "leaf.proof_sm3",
            "leaf of another proof, tree rebuilt",
            k,
            |b, k| {
                b.batch.leaf.proof_sm3 = Hash32::sm3(b"another proof");
                reseal(b, k, Step::BatchTree);
            },
        ),
        forge(
            "leaf.inclusion",
            "inclusion proof for a smaller tree",
            k,
            |b, _| {
                b.batch.inclusion.tree_size = 2;
            },
        ),
        forge(
            "leaf.inclusion",
            "a path that does not reach the root",
            k,
            |b, _| {
                b.batch.inclusion.path[0] = Hash32::sm3(b"sibling");
            },
        ),
        // batch
        forge("batch.type", "header type v2, re-signed", k, |b, k| {
            b.batch.header.header.kind = "tiezheng.batch-header.v2".into();
            reseal(b, k, Step::HeaderSignature);
        }),
        forge(
            "batch.notary",
            "batch by another trusted notary than the receipt's",
            k,
            |b, k| {
                let second = key("second notary");
                b.batch.header.header.notary_key_id = second.public_key().key_id();
                b.batch.header =
                    SignedBatchHeader::sign(b.batch.header.header.clone(), &second).unwrap();
                reseal(b, k, Step::RecordLinks);
            },
        ),
        forge(
            "batch.notary",
            "batch by an untrusted notary, everything re-signed by it",
            k,
            |b, k| {
                let rogue = key("rogue notary");
                b.batch.header.header.notary_key_id = rogue.public_key().key_id();
                b.batch.header =
                    SignedBatchHeader::sign(b.batch.header.header.clone(), &rogue).unwrap();
                reseal(b, k, Step::RecordLinks);
                // The receipt still names the trusted notary: that is receipt.notary's business too.
            },
        ),
        forge(
            "batch.signature",
            "header changed after signing",
            k,
            |b, k| {
                b.batch.header.header.window_start = t("2026-11-21T01:30:59.000Z");
                reseal(b, k, Step::RecordLinks);
            },
        ),
        forge(
            "batch.sequence",
            "batch 9 without a predecessor, re-signed",
            k,
            |b, k| {
                b.batch.header.header.previous_header_sm3 = None;
                reseal(b, k, Step::HeaderSignature);
            },
        ),
        forge("batch.sequence", "batch 0, re-signed", k, |b, k| {
            b.batch.header.header.batch_seq = 0;
            reseal(b, k, Step::HeaderSignature);
        }),
        forge(
            "batch.window",
            "window ending before it starts, re-signed",
            k,
            |b, k| {
                b.batch.header.header.window_start = t("2026-11-21T01:31:01.000Z");
                b.batch.header.header.window_end = t("2026-11-21T01:31:00.000Z");
                b.receipt.receipt.received_at = t("2026-11-21T01:31:00.000Z");
                reseal(b, k, Step::ReceiptSignature);
            },
        ),
        // anchor
        forge(
            "anchor.batch_header_sm3",
            "record of the signed wrapper's hash",
            k,
            |b, k| {
                b.anchor.record.batch_header_sm3 =
                    Hash32::sm3(&canonical::to_canonical_bytes(&b.batch.header).unwrap());
                reseal(b, k, Step::AnchorLog);
            },
        ),
        forge(
            "anchor.notary_key_id",
            "record naming another notary",
            k,
            |b, k| {
                b.anchor.record.notary_key_id = key("rogue notary").public_key().key_id();
                reseal(b, k, Step::AnchorLog);
            },
        ),
        forge(
            "anchor.batch_seq",
            "record with another batch_seq",
            k,
            |b, k| {
                b.anchor.record.batch_seq = 10;
                reseal(b, k, Step::AnchorLog);
            },
        ),
        forge("anchor.root", "record with another root", k, |b, k| {
            b.anchor.record.root = Hash32::sm3(b"root");
            reseal(b, k, Step::AnchorLog);
        }),
        forge(
            "anchor.leaf_count",
            "record with another leaf_count",
            k,
            |b, k| {
                b.anchor.record.leaf_count = 4;
                reseal(b, k, Step::AnchorLog);
            },
        ),
        forge(
            "anchor.inclusion",
            "inclusion proof against a smaller log",
            k,
            |b, _| {
                b.anchor.inclusion.tree_size = 1;
            },
        ),
        forge(
            "anchor.height",
            "record above the checkpoint's height",
            k,
            |b, k| {
                b.anchor.record.height = 42;
                reseal(b, k, Step::AnchorLog);
            },
        ),
        forge(
            "anchor.time",
            "anchored a minute and more before the batch closed",
            k,
            |b, k| {
                b.anchor.record.time = t("2026-11-21T01:29:59.000Z");
                reseal(b, k, Step::AnchorLog);
            },
        ),
        forge("anchor.time", "record after the checkpoint", k, |b, k| {
            b.anchor.record.time = t("2026-11-21T01:31:04.000Z");
            reseal(b, k, Step::AnchorLog);
        }),
        // checkpoint
        forge(
            "checkpoint.type",
            "checkpoint type v2, re-cosigned",
            k,
            |b, k| {
                b.checkpoint.checkpoint.kind = "tiezheng.checkpoint.v2".into();
                reseal(b, k, Step::Cosign);
            },
        ),
        forge(
            "checkpoint.chain_id",
            "checkpoint of another chain, re-cosigned",
            k,
            |b, k| {
                b.checkpoint.checkpoint.chain_id = "another-chain".into();
                reseal(b, k, Step::Cosign);
            },
        ),
        forge(
            "checkpoint.cosigners",
            "a member cosigns twice",
            k,
            |b, k| {
                let extra = b
                    .checkpoint
                    .checkpoint
                    .cosign("court", member_key(k, "court"))
                    .unwrap();
                b.checkpoint.cosignatures.push(extra);
            },
        ),
        forge(
            "checkpoint.cosigners",
            "a non-member's cosignature beside the quorum",
            k,
            |b, k| {
                let extra = b
                    .checkpoint
                    .checkpoint
                    .cosign("appraisal-centre", member_key(k, "appraisal-centre"))
                    .unwrap();
                b.checkpoint.cosignatures.push(extra);
            },
        ),
        forge(
            "checkpoint.cosignatures",
            "a junk cosignature beside the quorum",
            k,
            |b, k| {
                let mut other = b.checkpoint.checkpoint.clone();
                other.height = 99;
                b.checkpoint.cosignatures[3] = other
                    .cosign("notary-office", member_key(k, "notary-office"))
                    .unwrap();
            },
        ),
        forge("checkpoint.quorum", "two cosigners of four", k, |b, _| {
            b.checkpoint.cosignatures.truncate(2);
        }),
    ]
    .into_iter()
    .chain(chain_forgeries(k))
    .chain(custody_forgeries(k))
    .chain(profile_forgeries(k))
    .chain(officer_forgeries(k))
    .chain(record_forgeries(k))
    .collect()
}

/// The custody layer: an event removed, two reordered, an event re-dated (hashed again, or
/// not), a commitment the ledger never anchored. The notary's key re-signs what it signs.
/// Edits the genuine manifest's procedure and re-signs everything.
fn forge_procedure(
    rule: &'static str,
    name: &'static str,
    k: &Keys,
    f: impl FnOnce(&mut Manifest),
) -> Forgery {
    forge(rule, name, k, |b, k| manifest_edit(b, k, f))
}

/// The outcome of `rule` in `m`'s procedure.
fn outcome<'a>(m: &'a mut Manifest, rule: &str) -> &'a mut profile::Outcome {
    m.procedure
        .as_mut()
        .unwrap()
        .outcomes
        .iter_mut()
        .find(|o| o.rule == rule)
        .unwrap()
}

/// Records `rule` as met, whether or not it holds.
fn claim_met(m: &mut Manifest, rule: &str) {
    let o = outcome(m, rule);
    o.met = true;
    o.reason = None;
}

/// The genuine capture turned into the session summary that closes it, with the collection
/// record and inventory of its two files (the summary lists the capture as device_seq 4).
fn recorded_session(m: &mut Manifest) {
    use tiezheng_protocol::manifest::{
        CollectionRecord, Confirmation, InventoryEntry, OriginalMedium, SessionSummary,
        SummaryEntry,
    };
    let listed = Hash32::sm3(b"manifest 4");
    let inventory = m
        .items
        .iter()
        .map(|i| InventoryEntry {
            device_seq: 4,
            manifest_sm3: listed,
            file_name: i.file_name.clone(),
            kind: i.kind,
            bytes: i.bytes,
            sm3: i.hashes[0].value,
            sha256: i.hashes[1].value,
            captured_at: i.times.device_time,
            location: None,
            original: OriginalMedium {
                description: "the capturing phone".into(),
                seized: false,
                kept_at: None,
                not_seized_reason: Some("the phone stays in service".into()),
            },
        })
        .collect();
    let files = m.items.iter().map(|i| i.file_name.clone()).collect();
    m.items.clear();
    m.session_summary = Some(SessionSummary {
        opened_at: t("2026-11-21T09:00:00.000+08:00"),
        closed_at: t("2026-11-21T09:30:01.000+08:00"),
        manifests: vec![SummaryEntry {
            device_seq: 4,
            manifest_sm3: listed,
            files,
        }],
        record: Some(CollectionRecord {
            place: "上海市浦东新区某菜市场".into(),
            process: "two officers photographed and filmed the stall".into(),
            inventory,
            holder: Confirmation {
                signature_image_sm3: None,
                refusal: Some("refused to sign".into()),
            },
            witness: Confirmation {
                signature_image_sm3: Some(Hash32::sm3(b"signature image")),
                refusal: None,
            },
            process_recording: None,
        }),
    });
}

/// The recorded session with `edit` applied to its record, re-signed.
fn forge_record(
    name: &'static str,
    k: &Keys,
    edit: impl FnOnce(&mut tiezheng_protocol::manifest::CollectionRecord),
) -> Forgery {
    forge_procedure("proof.session_record", name, k, |m| {
        recorded_session(m);
        edit(
            m.session_summary
                .as_mut()
                .and_then(|s| s.record.as_mut())
                .unwrap(),
        );
    })
}

fn record_forgeries(k: &Keys) -> Vec<Forgery> {
    vec![
        forge_record(
            "an inventory listing a file the session's manifests do not contain",
            k,
            |r| {
                r.inventory[1].file_name = "VID_0002.mp4".into();
            },
        ),
        forge_record("an inventory leaving a file out", k, |r| {
            r.inventory.pop();
        }),
        forge_record("a file inventoried twice", k, |r| {
            let first = r.inventory[0].clone();
            r.inventory[1] = first;
        }),
        forge_record("an entry naming another manifest's SM3", k, |r| {
            r.inventory[0].manifest_sm3 = Hash32::sm3(b"manifest 3");
        }),
        forge_record("a medium not seized without a reason", k, |r| {
            r.inventory[0].original.not_seized_reason = None;
        }),
        forge_record("a seized medium with no place it is kept", k, |r| {
            r.inventory[0].original.seized = true;
        }),
        forge_record("a holder who neither signed nor refused", k, |r| {
            r.holder.refusal = Some("  ".into());
        }),
        forge_record("a witness who both signed and refused", k, |r| {
            r.witness.refusal = Some("absent".into());
        }),
        forge_record("no place stated", k, |r| r.place = " ".into()),
        forge_record("a whole-process recording that is a photo", k, |r| {
            r.process_recording = Some(process_recording("IMG_0001.jpg"));
        }),
        forge_record(
            "a whole-process recording the inventory does not list",
            k,
            |r| {
                r.process_recording = Some(process_recording("VID_0009.mp4"));
            },
        ),
    ]
}

/// The record's whole-process recording: `file` of the session's manifest 4.
fn process_recording(file: &str) -> tiezheng_protocol::manifest::ProcessRecording {
    tiezheng_protocol::manifest::ProcessRecording {
        device_seq: 4,
        file_name: file.into(),
    }
}

/// The recorded session where no witness signed the record (the witness is named in the case
/// but refused), with profile.witness recorded as met.
fn witness_refused(m: &mut Manifest) -> &mut tiezheng_protocol::manifest::CollectionRecord {
    recorded_session(m);
    m.case.witness = Some(PartyRecord {
        name: Some("李某".into()),
        note: None,
    });
    claim_met(m, "profile.witness");
    let record = m
        .session_summary
        .as_mut()
        .and_then(|s| s.record.as_mut())
        .unwrap();
    record.witness = tiezheng_protocol::manifest::Confirmation {
        signature_image_sm3: None,
        refusal: Some("the witness left before the record was read out".into()),
    };
    record
}

fn profile_forgeries(k: &Keys) -> Vec<Forgery> {
    vec![
        forge_procedure(
            "profile.named",
            "a profile this verifier does not ship",
            k,
            |m| {
                m.procedure.as_mut().unwrap().profile.id = "cn.example.unknown".into();
            },
        ),
        forge_procedure(
            "profile.named",
            "a version of the profile that does not exist",
            k,
            |m| {
                m.procedure.as_mut().unwrap().profile.version = 2;
            },
        ),
        forge_procedure(
            "profile.named",
            "a profile SM3 that is not the profile's",
            k,
            |m| {
                m.procedure.as_mut().unwrap().profile.sm3 = Hash32::sm3(b"a laxer profile");
            },
        ),
        forge_procedure("profile.outcomes", "an outcome left out", k, |m| {
            m.procedure
                .as_mut()
                .unwrap()
                .outcomes
                .retain(|o| o.rule != "profile.witness");
        }),
        forge_procedure(
            "profile.outcomes",
            "outcomes out of the profile's order",
            k,
            |m| {
                m.procedure.as_mut().unwrap().outcomes.swap(0, 1);
            },
        ),
        forge_procedure(
            "profile.outcomes",
            "a must recorded as not met, with a reason",
            k,
            |m| {
                let o = outcome(m, "profile.origin");
                o.met = false;
                o.reason = Some("imported by mistake".into());
            },
        ),
        forge_procedure(
            "profile.outcomes",
            "a should not met without a reason",
            k,
            |m| {
                outcome(m, "profile.location").reason = None;
            },
        ),
        forge_procedure(
            "profile.outcomes",
            "a should not met with a blank reason",
            k,
            |m| {
                outcome(m, "profile.location").reason = Some("  ".into());
            },
        ),
        forge_procedure(
            "profile.outcomes",
            "a met requirement with a reason",
            k,
            |m| {
                outcome(m, "profile.holder").reason = Some("named".into());
            },
        ),
        forge_procedure(
            "profile.collectors",
            "one collector under a two-officer profile, recorded as met",
            k,
            |m| m.case.collectors = vec!["310101".into()],
        ),
        forge_procedure(
            "profile.collectors",
            "the same officer named twice, recorded as met",
            k,
            |m| m.case.collectors = vec!["310101".into(), " 310101".into()],
        ),
        forge(
            "profile.signatures",
            "a single officer's signature under a two-officer profile, recorded as met",
            k,
            |b, k| {
                b.proof
                    .officer_signatures
                    .retain(|s| s.officer_id == "310101");
                b.officers
                    .retain(|c| c.certificate.officer.officer_id == "310101");
                reseal(b, k, Step::ReceiptLinks);
            },
        ),
        forge(
            "profile.signatures",
            "no officer signed, only the device, recorded as met",
            k,
            |b, k| {
                b.proof.officer_signatures.clear();
                b.officers.clear();
                reseal(b, k, Step::ReceiptLinks);
            },
        ),
        forge_procedure("profile.holder", "no holder, recorded as met", k, |m| {
            m.case.holder = None;
        }),
        forge_procedure("profile.witness", "no witness, recorded as met", k, |m| {
            claim_met(m, "profile.witness");
        }),
        forge_procedure(
            "profile.witness",
            "a record no witness signed and no video of the whole process, recorded as met",
            k,
            |m| {
                witness_refused(m);
            },
        ),
        forge_procedure("profile.fields", "a blank cause, recorded as met", k, |m| {
            m.case.cause = Some(" ".into());
        }),
        forge_procedure(
            "profile.location",
            "no location fix, recorded as met",
            k,
            |m| {
                claim_met(m, "profile.location");
            },
        ),
        forge_procedure(
            "profile.clock",
            "no trusted time, recorded as met",
            k,
            |m| {
                claim_met(m, "profile.clock");
            },
        ),
        forge_procedure(
            "profile.clock",
            "a time sync off by more than the profile allows, recorded as met",
            k,
            |m| {
                for i in &mut m.items {
                    i.times.last_time_sync = Some(TimeSync {
                        at: t("2026-11-21T09:00:00.000+08:00"),
                        source: "ntp:ntp.ntsc.ac.cn".into(),
                        offset_ms: 301_000,
                    });
                }
                claim_met(m, "profile.clock");
            },
        ),
        forge_procedure(
            "profile.origin",
            "an imported item, recorded as met",
            k,
            |m| {
                m.items[0].origin = Origin::Imported;
            },
        ),
        forge_procedure(
            "profile.receipt_delay",
            "deposited two days after capture under a profile that requires a day",
            k,
            |m| {
                for i in &mut m.items {
                    i.times.last_time_sync = Some(TimeSync {
                        at: t("2026-11-19T09:00:00.000+08:00"),
                        source: "ntp:ntp.ntsc.ac.cn".into(),
                        offset_ms: 120,
                    });
                }
                m.created_at = t("2026-11-19T09:30:01.000+08:00");
                m.procedure = Some(procedure_of(m, "cn.online-litigation.2021"));
            },
        ),
    ]
}

/// Replaces `b`'s officer signatures, then re-derives everything from the receipt down.
fn with_signatures(b: &mut Bundle, k: &Keys, f: impl FnOnce(&mut Vec<OfficerSignature>, &[u8])) {
    let bytes = canonical::to_canonical_bytes(&b.proof.manifest).unwrap();
    f(&mut b.proof.officer_signatures, &bytes);
    reseal(b, k, Step::ReceiptLinks);
}

fn officer_signature(officer: &str, key: &Sm2SigningKey, doc: &Value) -> OfficerSignature {
    OfficerSignature {
        officer_id: officer.into(),
        signature: tiezheng_protocol::SignatureBlock::sign(key, doc).unwrap(),
    }
}

/// Replaces officer `officer`'s credential with `edit` applied, signed by `by`.
fn recredential(
    b: &mut Bundle,
    k: &Keys,
    officer: &str,
    by: &Sm2SigningKey,
    edit: impl FnOnce(&mut OfficerCertificate),
) {
    let c = b
        .officers
        .iter_mut()
        .find(|c| c.certificate.officer.officer_id == officer)
        .unwrap();
    let mut cert = c.certificate.clone();
    edit(&mut cert);
    *c = SignedOfficerCertificate::sign(cert, by).unwrap();
    reseal(b, k, Step::Cosign);
}

fn officer_forgeries(k: &Keys) -> Vec<Forgery> {
    let manifest_value = |b: &Bundle| serde_json::to_value(&b.proof.manifest).unwrap();
    vec![
        forge(
            "officer.signature",
            "an officer's signature over another document",
            k,
            |b, k| {
                let other = json!({"type": "tiezheng.manifest.v1", "note": "another manifest"});
                with_signatures(b, k, |s, _| {
                    s[1] = officer_signature("310102", officer_key(k, "310102"), &other);
                });
            },
        ),
        forge(
            "officer.signature",
            "an officer signs with the device's key",
            k,
            |b, k| {
                let m = manifest_value(b);
                b.officers
                    .retain(|c| c.certificate.officer.officer_id != "310102");
                with_signatures(b, k, |s, _| {
                    s[1] = officer_signature("310102", &k.device, &m);
                });
            },
        ),
        forge(
            "officer.signature",
            "someone who is not a collector signs",
            k,
            |b, k| {
                let m = manifest_value(b);
                with_signatures(b, k, |s, _| {
                    s.push(officer_signature("310199", &key("officer 310199"), &m));
                });
            },
        ),
        forge("officer.signature", "one officer signs twice", k, |b, k| {
            with_signatures(b, k, |s, _| s.push(s[0].clone()));
        }),
        forge(
            "officer.credential",
            "a credential the notary did not sign",
            k,
            |b, k| {
                recredential(b, k, "310102", &key("rogue"), |_| {});
            },
        ),
        forge(
            "officer.credential",
            "a credential issued by another notary",
            k,
            |b, k| {
                let other = key("second notary");
                recredential(b, k, "310102", &other, |c| {
                    c.notary_key_id = other.public_key().key_id();
                });
            },
        ),
        forge(
            "officer.credential",
            "the key bound to another officer",
            k,
            |b, k| {
                let notary = k.notary.clone();
                recredential(b, k, "310102", &notary, |c| {
                    c.officer.officer_id = "310103".into();
                });
            },
        ),
        forge(
            "officer.credential",
            "a credential issued after the receipt",
            k,
            |b, k| {
                let notary = k.notary.clone();
                recredential(b, k, "310102", &notary, |c| {
                    c.issued_at = t("2026-11-22T08:00:00.000+08:00");
                });
            },
        ),
        forge(
            "officer.credential",
            "a credential binding another key",
            k,
            |b, k| {
                let notary = k.notary.clone();
                recredential(b, k, "310102", &notary, |c| {
                    c.public_key = key("officer 310101").public_key().to_hex();
                });
            },
        ),
        forge(
            "officer.credential",
            "a signer without a credential",
            k,
            |b, k| {
                b.officers.pop();
                reseal(b, k, Step::Cosign);
            },
        ),
        forge(
            "officer.credential",
            "a credential no signature uses",
            k,
            |b, k| {
                let mut extra = credential(k, "310101");
                let stranger = key("officer 310199");
                extra.certificate.officer.officer_id = "310199".into();
                extra.certificate.public_key = stranger.public_key().to_hex();
                extra.certificate.key_id = stranger.public_key().key_id();
                b.officers
                    .push(SignedOfficerCertificate::sign(extra.certificate, &k.notary).unwrap());
                reseal(b, k, Step::Cosign);
            },
        ),
    ]
}

fn custody_forgeries(k: &Keys) -> Vec<Forgery> {
    let c = |b: &mut Bundle| b.custody.as_mut().unwrap().clone();
    let set = |b: &mut Bundle, c: BundleCustody| b.custody = Some(c);
    vec![
        forge(
            "custody.chain",
            "an event of the proof removed",
            k,
            |b, _| {
                let mut x = c(b);
                x.events.remove(1);
                x.inclusions.remove(1);
                set(b, x);
            },
        ),
        forge(
            "custody.chain",
            "two events of the proof reordered",
            k,
            |b, _| {
                let mut x = c(b);
                x.events.swap(1, 2);
                x.inclusions.swap(1, 2);
                set(b, x);
            },
        ),
        forge(
            "custody.events",
            "an event re-dated, its hash left",
            k,
            |b, _| {
                let mut x = c(b);
                x.events[2].at -= 3_600_000;
                set(b, x);
            },
        ),
        forge(
            "custody.inclusion",
            "the last event re-dated and hashed again",
            k,
            |b, _| {
                let mut x = c(b);
                let last = x.events.last_mut().unwrap();
                last.at -= 3_600_000;
                last.hash = last.compute_hash();
                set(b, x);
            },
        ),
        forge(
            "custody.inclusion",
            "an event's proof moved to another place in the log",
            k,
            |b, _| {
                let mut x = c(b);
                x.inclusions[1].leaf_index += 1;
                set(b, x);
            },
        ),
        forge(
            "custody.anchor",
            "a custody log rewritten and committed by a header the ledger never anchored",
            k,
            |b, k| {
                // The forger drops an event from the log itself, rebuilds the tree, commits it
                // in a header of its own and re-signs it; the anchor log still holds the
                // genuine commitment's record.
                let mut x = c(b);
                let mut events = x.events.clone();
                events.remove(1);
                let zeros = "0".repeat(64);
                let mut prev = zeros.clone();
                for (e, seq) in events.iter_mut().zip(1i64..) {
                    e.seq = seq;
                    e.prev_hash = prev.clone();
                    e.item_prev = Some(prev.clone());
                    e.hash = e.compute_hash();
                    prev.clone_from(&e.hash);
                }
                let tree = MerkleTree::<Sm3Hasher>::from_leaf_hashes(
                    events
                        .iter()
                        .map(|e| custody::leaf_hash(&Hash32::from_hex(&e.hash).unwrap())),
                );
                let mut header = x.anchor.header.header.clone();
                header.custody = Some(CustodyCommitment {
                    size: tree.len(),
                    root: tree.root(),
                });
                x.inclusions = (0..tree.len())
                    .map(|i| InclusionProof::from_tree(&tree, i, tree.len()).unwrap())
                    .collect();
                x.events = events;
                x.anchor.record.batch_header_sm3 = header.sm3().unwrap();
                x.anchor.header = SignedBatchHeader::sign(header, &k.notary).unwrap();
                set(b, x);
            },
        ),
    ]
}

fn failing(v: &verify::Verification) -> BTreeSet<&'static str> {
    v.checks
        .iter()
        .filter(|c| c.status == Status::Fail)
        .map(|c| c.rule)
        .collect()
}

fn check(bundle: &Value, media_bytes: Option<&[u8]>, policy: &Policy) -> verify::Verification {
    let bytes =
        canonical::canonicalize(bundle).unwrap_or_else(|_| serde_json::to_vec(bundle).unwrap());
    let parsed: Option<Bundle> = serde_json::from_value(bundle.clone()).ok();
    let media = media_bytes.map(|d| match &parsed {
        Some(b) => media(b, d),
        None => hash_media(d, &[], |_| {}).unwrap(),
    });
    verify::verify_bundle_bytes(&bytes, media.as_ref(), policy).unwrap()
}

#[test]
fn the_genuine_bundles_pass_every_rule() {
    let k = keys();
    let policy = pinned(&k);
    for (name, b, data) in [
        ("genuine, photo", genuine(&k), photo()),
        ("genuine, video", genuine(&k), video()),
        ("after a registry change", governed(&k), photo()),
    ] {
        let v = check(&serde_json::to_value(&b).unwrap(), Some(&data), &policy);
        assert!(
            v.valid,
            "{name}: {:#?}",
            v.checks
                .iter()
                .filter(|c| c.status == Status::Fail)
                .collect::<Vec<_>>()
        );
    }
    let v = check(
        &serde_json::to_value(genuine(&k)).unwrap(),
        Some(&video()),
        &policy,
    );
    assert_eq!(v.status("media.segments"), Some(Status::Pass));
}

/// The genuine consortium bundles: every validator for the block; one for nil; one absent; a
/// header a nanosecond after the checkpoint (times are compared at CometBFT's precision).
fn genuine_consortium(k: &Keys) -> Vec<(&'static str, Bundle)> {
    use Vote::{Absent, Commit, Nil};
    let mut just_after = consortium(k, &ALL);
    let mut l = layer_of(&just_after);
    hdr(&mut l)["time"] = json!("2026-11-21T01:31:03.000000001Z");
    cbft::seal(&mut l, &k.validators);
    set_layer(&mut just_after, l);
    vec![
        ("consortium, all for the block", consortium(k, &ALL)),
        (
            "consortium, one for nil",
            consortium(k, &[Commit, Commit, Commit, Nil]),
        ),
        (
            "consortium, one absent",
            consortium(k, &[Commit, Commit, Commit, Absent]),
        ),
        (
            "consortium, the third for nil",
            consortium(k, &[Commit, Commit, Nil, Commit]),
        ),
        ("consortium, header 1 ns after the checkpoint", just_after),
        (
            "consortium grown to five: header committed by the four, the five next",
            grown(k, false),
        ),
        (
            "consortium grown to five: header committed by the five",
            grown(k, true),
        ),
    ]
}

#[test]
fn the_genuine_consortium_bundles_pass_every_rule() {
    let k = keys();
    let policy = pinned_consortium(&k);
    for (name, b) in genuine_consortium(&k) {
        let v = check(&serde_json::to_value(&b).unwrap(), Some(&photo()), &policy);
        assert!(
            v.valid,
            "{name}: {:#?}",
            v.checks
                .iter()
                .filter(|c| c.status == Status::Fail)
                .collect::<Vec<_>>()
        );
        for rule in RULES.iter().filter(|r| r.layer() == "chain") {
            assert_eq!(v.status(rule.id), Some(Status::Pass), "{name}: {}", rule.id);
        }
    }
}

#[test]
fn every_forgery_is_refused_by_its_rule_alone() {
    let k = keys();
    let policy = pinned(&k);
    let consortium_policy = pinned_consortium(&k);
    let all = forgeries(&k);
    let dir = std::env::var_os("TIEZHENG_FORGERIES_DIR").map_or_else(
        || std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/forgeries"),
        std::path::PathBuf::from,
    );
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("policy.json"),
        serde_json::to_vec_pretty(&policy).unwrap(),
    )
    .unwrap();
    std::fs::write(
        dir.join("policy-consortium.json"),
        serde_json::to_vec_pretty(&consortium_policy).unwrap(),
    )
    .unwrap();
    std::fs::write(
        dir.join("genuine.json"),
        serde_json::to_vec_pretty(&genuine(&k)).unwrap(),
    )
    .unwrap();
    std::fs::write(
        dir.join("consortium.json"),
        serde_json::to_vec_pretty(&consortium(&k, &ALL)).unwrap(),
    )
    .unwrap();
    std::fs::write(
        dir.join("governed.json"),
        serde_json::to_vec_pretty(&governed(&k)).unwrap(),
    )
    .unwrap();
    std::fs::write(dir.join("photo.bin"), photo()).unwrap();
    std::fs::write(dir.join("video.bin"), video()).unwrap();
    let mut index = Vec::new();
    let mut problems = Vec::new();
    for (i, f) in all.iter().enumerate() {
        let (policy, policy_file) = if f.consortium {
            (&consortium_policy, "policy-consortium.json")
        } else {
            (&policy, "policy.json")
        };
        let v = check(&f.bundle, f.media.as_deref(), policy);
        let failed = failing(&v);
        if v.valid || failed != BTreeSet::from([f.rule]) {
            problems.push(format!("{} ({}): failed {failed:?}", f.rule, f.name));
        }
        let file = format!("forgery-{i:03}.json");
        std::fs::write(
            dir.join(&file),
            serde_json::to_vec_pretty(&f.bundle).unwrap(),
        )
        .unwrap();
        let media = f.media.as_ref().map(|d| {
            let m = format!("forgery-{i:03}.media");
            std::fs::write(dir.join(&m), d).unwrap();
            m
        });
        index.push(json!({
            "file": file,
            "rule": f.rule,
            "name": f.name,
            "media": media,
            "policy": policy_file,
        }));
    }
    std::fs::write(
        dir.join("index.json"),
        serde_json::to_vec_pretty(&index).unwrap(),
    )
    .unwrap();
    assert!(
        problems.is_empty(),
        "forgeries not refused by their rule alone:\n{}",
        problems.join("\n")
    );
    // Every rule outside the certificate layer has a forgery here (certificates have theirs in
    // certificate.rs, public digests in public_digest.rs, appraisal opinions in appraisal.rs;
    // `bundle.json` in
    // a_bundle_that_is_not_strict_json_is_refused).
    let covered: BTreeSet<&str> = all.iter().map(|f| f.rule).collect();
    let missing: Vec<&str> = RULES
        .iter()
        .map(|r| r.id)
        .filter(|id| {
            !id.starts_with("certificate.")
                && !id.starts_with("digest.")
                && !id.starts_with("appraisal.")
                && *id != "bundle.json"
        })
        .filter(|id| !covered.contains(id))
        .collect();
    assert!(missing.is_empty(), "rules without a forgery: {missing:?}");
}

/// A session closed with its collection record and inventory passes every rule.
#[test]
fn a_recorded_session_passes_every_rule() {
    let k = keys();
    let mut b = genuine(&k);
    manifest_edit(&mut b, &k, recorded_session);
    let v = check(&serde_json::to_value(&b).unwrap(), None, &pinned(&k));
    assert!(v.valid, "{:?}", failing(&v));
    assert_eq!(v.status("proof.session_record"), Some(Status::Pass));
    // No witness signed, and the whole collection is on the session's video: both rules hold.
    let mut b = genuine(&k);
    manifest_edit(&mut b, &k, |m| {
        witness_refused(m).process_recording = Some(process_recording("VID_0001.mp4"));
    });
    let v = check(&serde_json::to_value(&b).unwrap(), None, &pinned(&k));
    assert!(v.valid, "{:?}", failing(&v));
    assert_eq!(v.status("profile.witness"), Some(Status::Pass));
}

#[test]
fn a_bundle_that_is_not_strict_json_is_refused() {
    let k = keys();
    let mut bytes = canonical::to_canonical_bytes(&genuine(&k)).unwrap();
    // A duplicate member name: the second "type" would hide the first from some parsers.
    bytes.splice(1..1, br#""type":"tiezheng.bundle.v1","#.iter().copied());
    let v = verify::verify_bundle_bytes(&bytes, None, &pinned(&k)).unwrap();
    assert_eq!(failing(&v), BTreeSet::from(["bundle.json"]));
}

#[test]
fn verifying_md_documents_every_rule() {
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../VERIFYING.md"),
    )
    .unwrap();
    for r in RULES {
        assert!(
            doc.contains(&format!("`{}`", r.id)),
            "VERIFYING.md does not document {}",
            r.id
        );
    }
}

/// The reference verifier in Python (`tools/reference-verifier/`, written from `VERIFYING.md`
/// alone) on a bundle: `(valid, failed rules)`.
fn reference_verdict(
    bundle: &std::path::Path,
    policy: &std::path::Path,
    media: Option<&std::path::Path>,
) -> (bool, Vec<String>) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut c = std::process::Command::new("python3");
    c.arg(root.join("tools/reference-verifier/verify.py"))
        .arg(bundle)
        .arg("--policy")
        .arg(policy)
        .arg("--json");
    if let Some(m) = media {
        c.arg("--media").arg(m);
    }
    let out = c.output().unwrap_or_else(|e| {
        panic!("python3 is needed to run the reference verifier (apt-get install python3): {e}")
    });
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "the reference verifier gave no report on {}: {}\n(it needs gmssl: pip install -r tools/reference-verifier/requirements.txt)",
            bundle.display(),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let failed = v["failed"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    (v["valid"] == json!(true), failed)
}

/// Both verifiers agree on every genuine bundle (accepted) and every forgery (refused, and the
/// Python verifier names the forgery's rule too; for the chain layer, that rule alone).
#[test]
fn the_reference_verifier_in_python_agrees() {
    let probe = std::process::Command::new("python3")
        .args(["-c", "import gmssl"])
        .output();
    assert!(
        probe.as_ref().is_ok_and(|o| o.status.success()),
        "the reference verifier needs python3 with gmssl: apt-get install python3 python3-pip && pip install -r tools/reference-verifier/requirements.txt"
    );
    let k = keys();
    let policy = pinned(&k);
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let write = |name: &str, bytes: &[u8]| {
        std::fs::write(p.join(name), bytes).unwrap();
        p.join(name)
    };
    let policy_file = write("policy.json", &serde_json::to_vec(&policy).unwrap());
    let consortium_policy_file = write(
        "policy-consortium.json",
        &serde_json::to_vec(&pinned_consortium(&k)).unwrap(),
    );
    let video_file = write("video.bin", &video());
    for (name, b) in [("genuine", genuine(&k)), ("governed", governed(&k))] {
        let f = write(&format!("{name}.json"), &serde_json::to_vec(&b).unwrap());
        assert_eq!(
            reference_verdict(&f, &policy_file, Some(&video_file)),
            (true, Vec::new()),
            "{name}"
        );
    }
    for (i, (name, b)) in genuine_consortium(&k).into_iter().enumerate() {
        let f = write(
            &format!("consortium-{i}.json"),
            &serde_json::to_vec(&b).unwrap(),
        );
        assert_eq!(
            reference_verdict(&f, &consortium_policy_file, Some(&video_file)),
            (true, Vec::new()),
            "{name}"
        );
    }
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/examples");
    for (bundle, pol) in [
        ("bundle.json", "policy.json"),
        ("bundle-consortium.json", "policy-consortium.json"),
        (
            "bundle-consortium-governance.json",
            "policy-consortium.json",
        ),
    ] {
        let (valid, failed) = reference_verdict(&examples.join(bundle), &examples.join(pol), None);
        assert!(valid, "{bundle}: {failed:?}");
    }
    let mut disagree = Vec::new();
    for (i, f) in forgeries(&k).iter().enumerate() {
        let file = write(
            &format!("forgery-{i:03}.json"),
            &serde_json::to_vec(&f.bundle).unwrap(),
        );
        let media = f
            .media
            .as_ref()
            .map(|d| write(&format!("forgery-{i:03}.media"), d));
        let policy = if f.consortium {
            &consortium_policy_file
        } else {
            &policy_file
        };
        let (valid, failed) = reference_verdict(&file, policy, media.as_deref());
        // The chain layer's must name that rule alone; the other layers' reports may add the
        // schema or a rule downstream of the one broken.
        let named = if f.consortium {
            failed == [f.rule]
        } else {
            failed.iter().any(|r| r == f.rule)
        };
        if valid || !named {
            disagree.push(format!(
                "{} ({}): python says valid={valid}, failed {failed:?}",
                f.rule, f.name
            ));
        }
    }
    assert!(
        disagree.is_empty(),
        "the reference verifier disagrees:\n{}",
        disagree.join("\n")
    );
}
