//! Layer `chain` (consortium bundles): the CometBFT header of the height after the checkpoint
//! carries the checkpoint's app hash and is committed by more than two thirds of the
//! validator set the court pins. Checked offline with the light-client verifier's
//! `verify_validator_sets` and `verify_commit` (ed25519, SHA-256), and stricter: every
//! signature in the commit must verify, and the JSON must be exactly CometBFT's.

use tendermint::block::CommitSig;
use tendermint::block::signed_header::SignedHeader;
use tendermint::validator::{Info, Set};
use tendermint_light_client_verifier::operations::{
    ProdVotingPowerCalculator, VotingPowerCalculator as _,
};
use tendermint_light_client_verifier::types::UntrustedBlockState;
use tendermint_light_client_verifier::{ProdVerifier, Verdict};

use crate::cometbft::{
    BundleCometBft, ChainReport, PolicyValidator, bundle_validator, policy_validator_from_rpc,
    policy_validator_info, verify_nil_votes,
};
use crate::ledger::Checkpoint;

use super::report::{RULES, Report};

fn skip_rest(r: &mut Report, why: &str) {
    for rule in RULES.iter().filter(|x| x.layer() == "chain") {
        r.skip(rule.id, why);
    }
}

pub(super) fn check(
    layer: &BundleCometBft,
    cp: &Checkpoint,
    pinned: &[PolicyValidator],
    r: &mut Report,
) -> Option<ChainReport> {
    let sh: SignedHeader = match serde_json::from_value(layer.signed_header.clone()) {
        Ok(sh) => sh,
        Err(e) => {
            r.record(
                "chain.header",
                Err(format!(
                    "cometbft.signed_header is not a CometBFT signed header: {e}"
                )),
            );
            skip_rest(r, "the signed header cannot be read");
            return None;
        }
    };
    r.record(
        "chain.header",
        match serde_json::to_value(&sh).map(|b| absent_as_cometbft(&b)) {
            Ok(back) if back == layer.signed_header => Ok("written exactly as CometBFT writes it".into()),
            Ok(back) => Err(format!(
                "cometbft.signed_header is not written as CometBFT writes it (at {}): unknown, missing or re-spelt members are not covered by any hash",
                super::first_difference(&layer.signed_header, &back, String::new()).unwrap_or_default()
            )),
            Err(e) => Err(e.to_string()),
        },
    );
    let header = &sh.header;
    r.record(
        "chain.chain_id",
        if header.chain_id.as_str() == cp.chain_id {
            Ok(format!("chain {}", cp.chain_id))
        } else {
            Err(format!(
                "the header's chain_id is {:?}, the checkpoint's {:?}",
                header.chain_id.as_str(),
                cp.chain_id
            ))
        },
    );
    let next = cp.height.saturating_add(1);
    r.record(
        "chain.height",
        if header.height.value() == next {
            Ok(format!("header at height {next}"))
        } else {
            Err(format!(
                "the header is at height {}, not the checkpoint's height + 1 ({next})",
                header.height
            ))
        },
    );
    r.record(
        "chain.app_hash",
        if header.app_hash.as_bytes() == cp.app_hash().as_bytes() {
            Ok(format!("app hash {}", cp.app_hash()))
        } else {
            Err(format!(
                "the header's app_hash is not the app hash of the checkpoint's state ({})",
                cp.app_hash()
            ))
        },
    );
    let header_ms = header.time.unix_timestamp_nanos() / 1_000_000;
    r.record(
        "chain.time",
        if header_ms > i128::from(cp.time.unix_ms()) {
            Ok(format!("header time after the checkpoint's {}", cp.time))
        } else {
            Err(format!(
                "the header's time {} is not after the checkpoint's time {}",
                header.time, cp.time
            ))
        },
    );
    let set = match validators(layer, pinned) {
        Ok(set) => {
            r.record(
                "chain.validators",
                Ok(format!("{} pinned validators", pinned.len())),
            );
            set
        }
        Err(e) => {
            r.record("chain.validators", Err(e));
            for rule in ["chain.validators_hash", "chain.commit", "chain.signatures"] {
                r.skip(rule, "the validator set is not the pinned one");
            }
            return None;
        }
    };
    let untrusted = UntrustedBlockState {
        signed_header: &sh,
        validators: &set,
        next_validators: None,
    };
    let verifier = ProdVerifier::default();
    let verdict = |v: Verdict| match v {
        Verdict::Success => Ok(()),
        Verdict::NotEnoughTrust(t) => Err(format!("not enough voting power signed: {t}")),
        Verdict::Invalid(e) => Err(e.to_string()),
    };
    r.record(
        "chain.validators_hash",
        if header.validators_hash == set.hash() {
            Ok(format!("validators hash {}", header.validators_hash))
        } else {
            Err(format!(
                "the header's validators_hash {} is not the hash of the pinned set {}",
                header.validators_hash,
                set.hash()
            ))
        },
    );
    let commit = &sh.commit;
    r.record(
        "chain.commit",
        if commit.height != header.height {
            Err(format!(
                "the commit is for height {}, the header is at {}",
                commit.height, header.height
            ))
        } else if commit.block_id.hash != header.hash() {
            Err(format!(
                "the commit is for block {}, the header's hash is {}",
                commit.block_id.hash,
                header.hash()
            ))
        } else {
            verdict(verifier.verify_commit(&untrusted))
                .map(|()| format!("block {} committed by more than two thirds", header.hash()))
                .map_err(|e| format!("commit: {e}"))
        },
    );
    r.record("chain.signatures", all_signatures(&sh, &set));
    Some(ChainReport {
        height: header.height.value(),
        block_hash: commit.block_id.hash.to_string(),
        signers: commit.signatures.iter().filter(|s| s.is_commit()).count(),
        validators: pinned.len(),
    })
}

/// tendermint-rs writes an absent validator's commit entry with another spelling of "no
/// signature" than CometBFT's `"signature": null`; written back CometBFT's way for comparison.
fn absent_as_cometbft(v: &serde_json::Value) -> serde_json::Value {
    let mut v = v.clone();
    if let Some(sigs) = v
        .pointer_mut("/commit/signatures")
        .and_then(serde_json::Value::as_array_mut)
    {
        for s in sigs {
            if s.get("block_id_flag") == Some(&serde_json::json!(1))
                && let Some(o) = s.as_object_mut()
            {
                o.insert("signature".into(), serde_json::Value::Null);
            }
        }
    }
    v
}

/// The validator set, if the bundle's entries are exactly the pinned validators in
/// CometBFT's order.
fn validators(layer: &BundleCometBft, pinned: &[PolicyValidator]) -> Result<Set, String> {
    if pinned.is_empty() {
        return Err("your policy pins no CometBFT validators; add the consortium's validator set (address, pub_key, power)".into());
    }
    let mut bundled: Vec<PolicyValidator> = Vec::new();
    for (i, v) in layer.validators.iter().enumerate() {
        let pv =
            policy_validator_from_rpc(v).map_err(|e| format!("cometbft.validators[{i}]: {e}"))?;
        if *v != bundle_validator(&pv) {
            return Err(format!(
                "cometbft.validators[{i}] ({}): write exactly address, pub_key {{type, value}} and voting_power",
                pv.address
            ));
        }
        bundled.push(pv);
    }
    let infos: Vec<Info> = bundled
        .iter()
        .map(policy_validator_info)
        .collect::<Result<_, _>>()?;
    let key = |v: &PolicyValidator| (v.address.to_ascii_uppercase(), v.pub_key.clone(), v.power);
    let mut a: Vec<_> = bundled.iter().map(key).collect();
    let mut b: Vec<_> = pinned.iter().map(key).collect();
    a.sort();
    b.sort();
    if a != b {
        return Err("the bundle's validator set is not the one your policy pins".into());
    }
    let set = Set::without_proposer(infos.clone());
    if set
        .validators()
        .iter()
        .map(|v| v.address)
        .ne(infos.iter().map(|v| v.address))
    {
        return Err("cometbft.validators is not in CometBFT's order (voting power descending, then address ascending)".into());
    }
    Ok(set)
}

/// Every signature the commit carries verifies; `verify_commit` stops once more than two
/// thirds have, and skips votes for nil.
fn all_signatures(sh: &SignedHeader, set: &Set) -> Result<String, String> {
    if sh.commit.signatures.len() != set.validators().len() {
        return Err(format!(
            "the commit has {} entries for {} validators: one entry per validator, in set order",
            sh.commit.signatures.len(),
            set.validators().len()
        ));
    }
    for (i, (sig, v)) in sh
        .commit
        .signatures
        .iter()
        .zip(set.validators())
        .enumerate()
    {
        let address = match sig {
            CommitSig::BlockIdFlagAbsent => continue,
            CommitSig::BlockIdFlagCommit {
                validator_address, ..
            }
            | CommitSig::BlockIdFlagNil {
                validator_address, ..
            } => validator_address,
        };
        if *address != v.address {
            return Err(format!(
                "commit entry {i} is by {address}, but validator {i} of the set is {}",
                v.address
            ));
        }
    }
    let whole = tendermint::trust_threshold::TrustThresholdFraction::new(1, 1)
        .map_err(|e| e.to_string())?;
    ProdVotingPowerCalculator::default()
        .voting_power_in(sh, set, whole)
        .map_err(|e| format!("a signature for the block does not verify: {e}"))?;
    verify_nil_votes(sh, set)?;
    let absent = sh
        .commit
        .signatures
        .iter()
        .filter(|s| matches!(s, CommitSig::BlockIdFlagAbsent))
        .count();
    Ok(format!(
        "{} signatures verify, {absent} validator(s) absent",
        sh.commit.signatures.len() - absent
    ))
}
