//! Layers `policy` and `governance`, and the registry root: from the court's pinned policy
//! (the consortium's genesis registry) through the registry changes the bundle carries, to the
//! registry the checkpoint commits to. The members and notaries of that registry are the ones
//! every later layer trusts, and the validator sets it went through are the ones the CometBFT
//! layer may find.

use crate::bundle::Policy;
use crate::cometbft::PolicyValidator;
use crate::ledger::{GovernanceError, Registry};

use super::Layers;
use super::report::{RULES, Report};

/// The registry at the bundle's checkpoint and the validator sets from the pinned one through
/// every change (the pinned set first, the checkpoint's last), if the changes could be followed.
pub(super) fn check(
    b: &Layers<'_>,
    pinned: &Policy,
    r: &mut Report,
) -> Option<(Registry, Vec<Vec<PolicyValidator>>)> {
    let mut registry = pinned.registry();
    let mut sets = vec![registry.validators.clone()];
    let governance_rules = RULES.iter().filter(|x| x.layer() == "governance");
    if b.governance.is_empty() {
        for rule in governance_rules {
            r.skip(rule.id, "the bundle carries no registry changes");
        }
    } else {
        for (i, change) in b.governance.iter().enumerate() {
            if let Err(e) = registry.apply(change) {
                let rule = match &e {
                    GovernanceError::Type(_) => "governance.type",
                    GovernanceError::WrongChain { .. } => "governance.chain_id",
                    GovernanceError::Sequence { .. } => "governance.sequence",
                    GovernanceError::Approver { .. } => "governance.approvers",
                    GovernanceError::Approval { .. } => "governance.approvals",
                    GovernanceError::NoQuorum { .. } => "governance.quorum",
                    _ => "governance.change",
                };
                r.record(
                    rule,
                    Err(format!(
                        "registry change {i} (governance_seq {}): {e}",
                        change.proposal.governance_seq
                    )),
                );
                for rule in RULES.iter().filter(|x| x.layer() == "governance") {
                    r.skip(rule.id, format!("not checked after the refused change {i}"));
                }
                for rule in ["policy.copy", "checkpoint.registry_root"] {
                    r.skip(rule, "the registry at the checkpoint is unknown");
                }
                return None;
            }
            if sets.last() != Some(&registry.validators) {
                sets.push(registry.validators.clone());
            }
        }
        for rule in governance_rules {
            r.record(
                rule.id,
                Ok(format!(
                    "{} registry change(s) followed from the pinned policy",
                    b.governance.len()
                )),
            );
        }
    }
    let at_checkpoint = Policy::from_registry(&registry);
    r.record("policy.copy", compare_copy(b.policy, &at_checkpoint));
    let root = registry.root();
    let cp = &b.checkpoint.checkpoint.registry_root;
    r.record(
        "checkpoint.registry_root",
        if root == *cp {
            Ok(format!("registry root {root}"))
        } else {
            Err(format!(
                "the checkpoint's registry_root is {cp}, but the registry {} has root {root}: pin the consortium's genesis policy, and the bundle must carry every registry change since",
                if b.governance.is_empty() {
                    "of your policy"
                } else {
                    "your policy leads to through the bundle's changes"
                }
            ))
        },
    );
    Some((registry, sets))
}

fn compare_copy(copy: &Policy, expected: &Policy) -> Result<String, String> {
    let say = |what: String| {
        Err(format!(
            "the bundle's copy of the policy {what}; compare it with your policy before trusting either"
        ))
    };
    if copy.chain_id != expected.chain_id {
        return say(format!(
            "names chain {:?}, the registry {:?}",
            copy.chain_id, expected.chain_id
        ));
    }
    if copy.members != expected.members {
        let differs = copy
            .members
            .iter()
            .zip(&expected.members)
            .find(|(a, b)| a != b)
            .map_or_else(
                || {
                    format!(
                        "lists {} members, the registry {}",
                        copy.members.len(),
                        expected.members.len()
                    )
                },
                |(a, b)| format!("lists member {:?} where the registry has {:?} (key, power or order differ)", a.id, b.id),
            );
        return say(differs);
    }
    let sorted = |v: &[String]| {
        let mut v = v.to_vec();
        v.sort();
        v
    };
    if sorted(&copy.notary_keys) != sorted(&expected.notary_keys)
        || has_duplicates(&copy.notary_keys)
    {
        return say("lists other notary keys than the registry".into());
    }
    let key = |v: &PolicyValidator| {
        (
            v.address.to_ascii_uppercase(),
            v.pub_key.clone(),
            v.power,
            v.member.clone(),
        )
    };
    let mut a: Vec<_> = copy.validators.iter().map(key).collect();
    let mut b: Vec<_> = expected.validators.iter().map(key).collect();
    a.sort();
    b.sort();
    if a != b || has_duplicates(&a) {
        return say(
            "lists other validators (address, key, power or member) than the registry at the checkpoint"
                .into(),
        );
    }
    Ok(format!(
        "{} members, {} notaries, {} validators, as the registry at the checkpoint",
        copy.members.len(),
        copy.notary_keys.len(),
        copy.validators.len()
    ))
}

fn has_duplicates<T: Ord + Clone>(v: &[T]) -> bool {
    let mut s = v.to_vec();
    s.sort();
    s.windows(2).any(|w| w.first() == w.get(1))
}
