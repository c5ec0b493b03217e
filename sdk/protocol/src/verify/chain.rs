//! Layer `chain` (consortium bundles): the CometBFT header of the height after the checkpoint
//! carries the checkpoint's app hash and is committed by more than two thirds of the
//! validator set the court pins. Checked offline (ed25519, SHA-256), stricter than a light
//! client: the JSON must be exactly CometBFT's, and every signature in the commit must verify,
//! votes for nil included, one entry per validator in set order.
//!
//! The header and the commit are read separately (tendermint-rs's `SignedHeader` refuses a
//! commit of another height outright), and each commit entry by hand, so that every
//! inconsistency is reported under the one rule it breaks: the shape of the JSON under
//! `chain.header`, the entries under `chain.signatures`, what was committed under
//! `chain.commit`.

use base64::Engine as _;
use serde_json::{Map, Value};
use tendermint::block::{self, Header};
use tendermint::validator::{Info, Set};
use tendermint::{Time, account, chain, vote};

use crate::cometbft::{
    BundleCometBft, ChainReport, PolicyValidator, bundle_validator, policy_validator_from_rpc,
    policy_validator_info,
};
use crate::ledger::Checkpoint;

use super::report::{RULES, Report};

/// `block_id_flag` of an absent validator, a vote for the block, a vote for nil.
const ABSENT: u64 = 1;
const FOR_BLOCK: u64 = 2;
const FOR_NIL: u64 = 3;
/// The zero time CometBFT writes in an absent validator's entry.
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

fn skip_rest(r: &mut Report, why: &str) {
    for rule in RULES.iter().filter(|x| x.layer() == "chain") {
        r.skip(rule.id, why);
    }
}

/// One entry of `commit.signatures`, as written (its meaning is `chain.signatures`' business).
#[derive(Debug)]
struct Entry {
    flag: u64,
    address: String,
    timestamp: Time,
    signature: Option<Vec<u8>>,
}

/// The commit, read on its own.
#[derive(Debug)]
struct Commit {
    height: block::Height,
    round: block::Round,
    block_id: block::Id,
    entries: Vec<Entry>,
}

/// `sets`: the validator sets the registry went through, from the pinned one to the one at the
/// checkpoint (never empty; one set when the bundle carries no validator change); `known`:
/// whether the last of them is the registry's at the checkpoint (false when a registry change
/// was refused).
pub(super) fn check(
    layer: &BundleCometBft,
    cp: &Checkpoint,
    sets: &[Vec<PolicyValidator>],
    known: bool,
    r: &mut Report,
) -> Option<ChainReport> {
    let at_checkpoint: &[PolicyValidator] = sets.last().map_or(&[], Vec::as_slice);
    let (header, commit) = match read_signed_header(&layer.signed_header) {
        Ok(x) => {
            r.record(
                "chain.header",
                Ok("header and commit written exactly as CometBFT writes them".into()),
            );
            x
        }
        Err(e) => {
            r.record(
                "chain.header",
                Err(format!(
                    "cometbft.signed_header is not a CometBFT signed header written as CometBFT writes it: {e} (unknown, missing or re-spelt members are not covered by any hash)"
                )),
            );
            skip_rest(r, "the signed header cannot be read");
            return None;
        }
    };
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
    // At CometBFT's precision (nanoseconds): a header 0.4 ms after a checkpoint is after it.
    let checkpoint_ns = i128::from(cp.time.unix_ms()) * 1_000_000;
    r.record(
        "chain.time",
        if header.time.unix_timestamp_nanos() > checkpoint_ns {
            Ok(format!("header time after the checkpoint's {}", cp.time))
        } else {
            Err(format!(
                "the header's time {} is not after the checkpoint's time {}",
                header.time, cp.time
            ))
        },
    );
    // Validator updates of block H take effect at H+2 (CometBFT): the header of H+1 names
    // the set at the checkpoint as its *next* validators.
    let next = if known {
        Set::try_from_policy(at_checkpoint)
    } else {
        Err(String::new())
    };
    match next {
        Err(e) if e.is_empty() => r.skip(
            "chain.next_validators",
            "the registry at the checkpoint is unknown",
        ),
        next => r.record("chain.next_validators", match next {
            Ok(next) if header.next_validators_hash == next.hash() => Ok(format!(
                "next validators hash {}: the {} validators of the registry at the checkpoint",
                header.next_validators_hash,
                at_checkpoint.len()
            )),
            Ok(next) => Err(format!(
                "the header's next_validators_hash {} is not the hash {} of the registry's validators at the checkpoint (the pinned set after the bundle's registry changes)",
                header.next_validators_hash,
                next.hash()
            )),
            Err(e) => Err(e),
        }),
    }
    let (set, count) = match validators(layer, sets) {
        Ok((set, which)) => {
            r.record(
                "chain.validators",
                Ok(if sets.len() == 1 {
                    format!("{} pinned validators", set.validators().len())
                } else {
                    format!(
                        "{} validators: the registry's set after {which} of its {} validator change(s)",
                        set.validators().len(),
                        sets.len() - 1
                    )
                }),
            );
            let count = set.validators().len();
            (set, count)
        }
        Err(e) => {
            r.record("chain.validators", Err(e));
            for rule in ["chain.validators_hash", "chain.commit", "chain.signatures"] {
                r.skip(rule, "the validator set is not one the registry has had");
            }
            return None;
        }
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
    let verified = verify_entries(&header.chain_id, &commit, &set);
    r.record("chain.signatures", all_signatures(&commit, &set, &verified));
    r.record("chain.commit", committed(&header, &commit, &set, &verified));
    Some(ChainReport {
        height: header.height.value(),
        block_hash: commit.block_id.hash.to_string(),
        signers: commit
            .entries
            .iter()
            .filter(|e| e.flag == FOR_BLOCK)
            .count(),
        validators: count,
    })
}

// ---- chain.header: exactly CometBFT's JSON ---------------------------------------------------

fn members<'a>(v: &'a Value, names: &[&str], at: &str) -> Result<&'a Map<String, Value>, String> {
    let o = v
        .as_object()
        .ok_or_else(|| format!("{at} is not an object"))?;
    if o.len() != names.len() || names.iter().any(|n| !o.contains_key(*n)) {
        let mut found: Vec<&str> = o.keys().map(String::as_str).collect();
        found.sort_unstable();
        return Err(format!(
            "{at} has the members {found:?}; CometBFT writes exactly {names:?}"
        ));
    }
    Ok(o)
}

fn member<'a>(o: &'a Map<String, Value>, name: &str) -> &'a Value {
    o.get(name).unwrap_or(&Value::Null)
}

/// A CometBFT time: RFC 3339 in UTC, with nanoseconds and no trailing zeros, as Go writes it.
fn time(v: &Value, at: &str) -> Result<Time, String> {
    let s = v.as_str().ok_or_else(|| format!("{at} is not a string"))?;
    let t = Time::parse_from_rfc3339(s).map_err(|e| format!("{at} ({s:?}): {e}"))?;
    if t.to_rfc3339() != s {
        return Err(format!(
            "{at} is {s:?}; CometBFT writes that time {:?}",
            t.to_rfc3339()
        ));
    }
    Ok(t)
}

fn read_signed_header(v: &Value) -> Result<(Header, Commit), String> {
    let o = members(v, &["header", "commit"], "signed_header")?;
    let h = member(o, "header");
    let header: Header = serde_json::from_value(h.clone()).map_err(|e| format!("header: {e}"))?;
    let back = serde_json::to_value(&header).map_err(|e| e.to_string())?;
    if back != *h {
        return Err(format!(
            "the header is not written as CometBFT writes it (at header{})",
            super::first_difference(h, &back).unwrap_or_default()
        ));
    }
    Ok((header, read_commit(member(o, "commit"))?))
}

fn read_commit(v: &Value) -> Result<Commit, String> {
    let o = members(v, &["height", "round", "block_id", "signatures"], "commit")?;
    let height = member(o, "height")
        .as_str()
        .filter(|s| *s == "0" || (!s.starts_with('0') && s.bytes().all(|b| b.is_ascii_digit())))
        .and_then(|s| s.parse::<u64>().ok())
        .and_then(|n| block::Height::try_from(n).ok())
        .ok_or("commit.height is not a height in decimal (a string)")?;
    let round = member(o, "round")
        .as_u64()
        .and_then(|n| u32::try_from(n).ok())
        .and_then(|n| block::Round::try_from(n).ok())
        .ok_or("commit.round is not a round (a non-negative integer)")?;
    let b = member(o, "block_id");
    let block_id: block::Id =
        serde_json::from_value(b.clone()).map_err(|e| format!("commit.block_id: {e}"))?;
    if serde_json::to_value(block_id).ok().as_ref() != Some(b) {
        return Err("commit.block_id is not written as CometBFT writes it".into());
    }
    let entries = member(o, "signatures")
        .as_array()
        .ok_or("commit.signatures is not an array")?
        .iter()
        .enumerate()
        .map(|(i, s)| read_entry(s, &format!("commit.signatures[{i}]")))
        .collect::<Result<_, _>>()?;
    Ok(Commit {
        height,
        round,
        block_id,
        entries,
    })
}

fn read_entry(v: &Value, at: &str) -> Result<Entry, String> {
    let o = members(
        v,
        &[
            "block_id_flag",
            "validator_address",
            "timestamp",
            "signature",
        ],
        at,
    )?;
    let flag = member(o, "block_id_flag")
        .as_u64()
        .ok_or_else(|| format!("{at}.block_id_flag is not a non-negative integer"))?;
    let address = member(o, "validator_address")
        .as_str()
        .filter(|a| {
            a.is_empty()
                || (a.len() == 40 && a.bytes().all(|b| matches!(b, b'0'..=b'9' | b'A'..=b'F')))
        })
        .ok_or_else(|| format!("{at}.validator_address is not empty or 40 upper-case hex digits"))?
        .to_owned();
    let timestamp = time(member(o, "timestamp"), &format!("{at}.timestamp"))?;
    let signature = match member(o, "signature") {
        Value::Null => None,
        Value::String(s) => {
            let b64 = base64::engine::general_purpose::STANDARD;
            let bytes = b64
                .decode(s)
                .ok()
                .filter(|b| b64.encode(b) == *s)
                .ok_or_else(|| format!("{at}.signature is not canonical base64"))?;
            Some(bytes)
        }
        _ => return Err(format!("{at}.signature is neither base64 nor null")),
    };
    Ok(Entry {
        flag,
        address,
        timestamp,
        signature,
    })
}

// ---- chain.validators ------------------------------------------------------------------------

/// The validator set, if the bundle's entries are exactly one of the registry's `sets` in
/// CometBFT's order, with the position of that set in `sets`.
fn validators(
    layer: &BundleCometBft,
    sets: &[Vec<PolicyValidator>],
) -> Result<(Set, usize), String> {
    if sets.iter().all(Vec::is_empty) {
        return Err("your policy pins no CometBFT validators; add the consortium's validator set (address, pub_key, power)".into());
    }
    let mut bundled: Vec<PolicyValidator> = Vec::new();
    for (i, v) in layer.validators.iter().enumerate() {
        let pv =
            policy_validator_from_rpc(v).map_err(|e| format!("cometbft.validators[{i}]: {e}"))?;
        let upper_hex =
            |a: &str| a.len() == 40 && a.bytes().all(|b| matches!(b, b'0'..=b'9' | b'A'..=b'F'));
        if !upper_hex(&pv.address) {
            return Err(format!(
                "cometbft.validators[{i}]: the address {:?} is not 40 upper-case hex digits, as CometBFT writes it",
                pv.address
            ));
        }
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
    a.sort();
    let which = sets.iter().rposition(|s| {
        let mut b: Vec<_> = s.iter().map(key).collect();
        b.sort();
        a == b
    });
    let Some(which) = which else {
        return Err(if sets.len() == 1 {
            "the bundle's validator set is not the one your policy pins".into()
        } else {
            format!(
                "the bundle's validator set is none of the {} sets the registry went through (your policy's, then after each validator change the bundle carries)",
                sets.len()
            )
        });
    };
    let set = Set::without_proposer(infos.clone());
    if set
        .validators()
        .iter()
        .map(|v| v.address)
        .ne(infos.iter().map(|v| v.address))
    {
        return Err("cometbft.validators is not in CometBFT's order (voting power descending, then address ascending)".into());
    }
    Ok((set, which))
}

/// A validator set from a registry's validators.
trait FromPolicy: Sized {
    fn try_from_policy(v: &[PolicyValidator]) -> Result<Self, String>;
}

impl FromPolicy for Set {
    fn try_from_policy(v: &[PolicyValidator]) -> Result<Self, String> {
        let infos = v
            .iter()
            .map(policy_validator_info)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Set::without_proposer(infos))
    }
}

// ---- chain.signatures and chain.commit -------------------------------------------------------

/// For each commit entry: the validator it names, if it is a vote (for the block or for nil)
/// by a validator of the set whose signature verifies, or why not; `None` for an absent entry.
fn verify_entries<'a>(
    chain_id: &chain::Id,
    commit: &Commit,
    set: &'a Set,
) -> Vec<Option<Result<&'a Info, String>>> {
    commit
        .entries
        .iter()
        .enumerate()
        .map(|(i, e)| (e.flag != ABSENT).then(|| verify_vote(chain_id, commit, i, e, set)))
        .collect()
}

fn verify_vote<'a>(
    chain_id: &chain::Id,
    commit: &Commit,
    i: usize,
    e: &Entry,
    set: &'a Set,
) -> Result<&'a Info, String> {
    if e.flag != FOR_BLOCK && e.flag != FOR_NIL {
        return Err(format!(
            "entry {i} has block_id_flag {}, none of absent (1), for the block (2), for nil (3)",
            e.flag
        ));
    }
    let validator = set
        .validators()
        .iter()
        .find(|v| v.address.to_string() == e.address)
        .ok_or_else(|| {
            format!(
                "entry {i} is by {:?}, not a validator of the set",
                e.address
            )
        })?;
    let signature = e
        .signature
        .as_deref()
        .map(tendermint::Signature::new)
        .transpose()
        .map_err(|err| format!("entry {i}: {err}"))?
        .flatten()
        .ok_or_else(|| format!("entry {i} is a vote without a signature"))?;
    let v = vote::Vote {
        vote_type: vote::Type::Precommit,
        height: commit.height,
        round: commit.round,
        block_id: (e.flag == FOR_BLOCK).then_some(commit.block_id),
        timestamp: Some(e.timestamp),
        validator_address: validator.address,
        validator_index: vote::ValidatorIndex::try_from(i).map_err(|err| err.to_string())?,
        signature: Some(signature.clone()),
        extension: Vec::new(),
        extension_signature: None,
    };
    let signed = vote::SignedVote::from_vote(v, chain_id.clone())
        .ok_or_else(|| format!("entry {i} is a vote without a signature"))?;
    validator
        .verify_signature::<tendermint::crypto::default::signature::Verifier>(
            &signed.sign_bytes(),
            &signature,
        )
        .map_err(|_| {
            format!(
                "the signature of entry {i} (a vote {} by {}) does not verify",
                if e.flag == FOR_BLOCK {
                    "for the block"
                } else {
                    "for nil"
                },
                validator.address
            )
        })?;
    Ok(validator)
}

/// One entry per validator in set order; absent entries exactly as CometBFT writes them (no
/// address, the zero time, no signature); every vote's signature verifies.
fn all_signatures(
    commit: &Commit,
    set: &Set,
    verified: &[Option<Result<&Info, String>>],
) -> Result<String, String> {
    if commit.entries.len() != set.validators().len() {
        return Err(format!(
            "the commit has {} entries for {} validators: one entry per validator, in set order",
            commit.entries.len(),
            set.validators().len()
        ));
    }
    let mut absent = 0;
    for (i, ((e, v), expected)) in commit
        .entries
        .iter()
        .zip(verified)
        .zip(set.validators())
        .enumerate()
    {
        match v {
            None => {
                if !e.address.is_empty()
                    || e.timestamp.to_rfc3339() != ZERO_TIME
                    || e.signature.is_some()
                {
                    return Err(format!(
                        "entry {i} is absent but carries an address, a time or a signature (CometBFT writes \"\", {ZERO_TIME}, null)"
                    ));
                }
                absent += 1;
            }
            Some(Err(why)) => return Err(why.clone()),
            Some(Ok(by)) if by.address != expected.address => {
                return Err(format!(
                    "entry {i} is by {}, but validator {i} of the set is {}: one entry per validator, in set order",
                    by.address, expected.address
                ));
            }
            Some(Ok(_)) => {}
        }
    }
    Ok(format!(
        "{} signatures verify, {absent} validator(s) absent",
        commit.entries.len() - absent
    ))
}

/// The commit is for this header, and the validators whose votes for the block verify hold
/// more than two thirds of the set's power.
fn committed(
    header: &Header,
    commit: &Commit,
    set: &Set,
    verified: &[Option<Result<&Info, String>>],
) -> Result<String, String> {
    if commit.height != header.height {
        return Err(format!(
            "the commit is for height {}, the header is at {}",
            commit.height, header.height
        ));
    }
    let hash = header.hash();
    if commit.block_id.hash != hash {
        return Err(format!(
            "the commit is for block {}, the header's hash is {hash}",
            commit.block_id.hash
        ));
    }
    // Each validator counts once, however many entries name it (entry order is
    // chain.signatures' business).
    let mut signed: Vec<account::Id> = Vec::new();
    for (e, v) in commit.entries.iter().zip(verified) {
        if let Some(Ok(info)) = v
            && e.flag == FOR_BLOCK
            && !signed.contains(&info.address)
        {
            signed.push(info.address);
        }
    }
    let power: u64 = set
        .validators()
        .iter()
        .filter(|v| signed.contains(&v.address))
        .map(|v| v.power())
        .sum();
    let total = set.total_voting_power().value();
    if u128::from(power) * 3 > u128::from(total) * 2 {
        Ok(format!(
            "block {hash} committed by {} validators holding {power} of {total} voting power",
            signed.len()
        ))
    } else {
        Err(format!(
            "the valid votes for block {hash} hold {power} of {total} voting power, not more than two thirds"
        ))
    }
}
