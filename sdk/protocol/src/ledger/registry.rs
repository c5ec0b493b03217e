//! The consortium's registry (members, notaries, CometBFT validators) and the rules by which
//! an approved governance change alters it: the one definition shared by the ledger, which
//! applies changes, and every verifier, which follows them from a pinned genesis policy.

use crate::cometbft::PolicyValidator;
use crate::hash::Hash32;
use crate::signed::SignedError;
use crate::sm2::Sm2PublicKey;

use super::{GOVERNANCE_TYPE, GovernanceAction, GovernanceTx, is_quorum};

/// Why a governance change is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GovernanceError {
    /// `proposal.type` is not [`GOVERNANCE_TYPE`].
    #[error("proposal type {0:?} is not \"tiezheng.governance.v1\"")]
    Type(String),
    /// A proposal for another chain.
    #[error("governance proposal is for chain {found:?}, this ledger is {expected:?}")]
    WrongChain {
        /// The proposal's chain ID.
        found: String,
        /// The registry's.
        expected: String,
    },
    /// `governance_seq` is not the next one (a replayed or out-of-order proposal).
    #[error("governance_seq {found} is not the next one ({expected})")]
    Sequence {
        /// What the proposal says.
        found: u64,
        /// What the registry expects.
        expected: u64,
    },
    /// An approval by someone who is not a member before the change, or a member approving
    /// twice.
    #[error("approval {index} is by {member:?}: {why}")]
    Approver {
        /// Position in `approvals`.
        index: usize,
        /// The member it names.
        member: String,
        /// Not a member, or a second approval.
        why: &'static str,
    },
    /// An approval whose SM2 signature does not verify.
    #[error("approval {index} by {member:?} does not verify: {error}")]
    Approval {
        /// Position in `approvals`.
        index: usize,
        /// The member it names.
        member: String,
        /// Why.
        error: SignedError,
    },
    /// The approvals that verify do not reach more than two thirds of the voting power.
    #[error(
        "governance proposal approved by voting power {approved} of {total}; more than two thirds is required"
    )]
    NoQuorum {
        /// Power of distinct members whose approvals verify.
        approved: u64,
        /// Total power of the members.
        total: u64,
    },
    /// The change itself is not valid against the registry.
    #[error("governance change refused: {0}")]
    InvalidChange(String),
}

/// The consortium's registry: members (in registry order: genesis order, then order of
/// joining) with their SM2 keys and voting power, every notary ever admitted (by key ID) with
/// whether it may anchor now, the CometBFT validators (consortium mode; empty for the embedded
/// ledger), and the last applied governance sequence number. The ledger keeps it; a verifier
/// rebuilds it from its pinned genesis and the governance changes a bundle carries, and checks
/// the result against the checkpoint's `registry_root`.
///
/// A validator that belongs to a member (`member` set: every validator added by governance,
/// and genesis validators a policy labels) votes with that member's voting power, which
/// follows the member's; a member has at most one. Members and validators therefore change
/// in one governance, and whenever CometBFT can commit (more than two thirds of the
/// validators' power), the members whose validators voted can cosign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registry {
    /// The chain it belongs to.
    pub chain_id: String,
    /// `(id, key, power)`, in registry order.
    pub members: Vec<(String, Sm2PublicKey, u64)>,
    /// Key ID → (key, may anchor).
    pub notaries: std::collections::BTreeMap<Hash32, (Sm2PublicKey, bool)>,
    /// The CometBFT validators in registry order (genesis order, then order of joining).
    pub validators: Vec<PolicyValidator>,
    /// The last applied governance sequence number (0 at genesis).
    pub governance_seq: u64,
}

/// The SM2 key a governance change names.
fn change_key(hex: &str) -> Result<Sm2PublicKey, GovernanceError> {
    Sm2PublicKey::from_hex(hex)
        .map_err(|e| GovernanceError::InvalidChange(format!("public_key: {e}")))
}

impl Registry {
    /// The registry at genesis.
    pub fn genesis(
        chain_id: &str,
        members: Vec<(String, Sm2PublicKey, u64)>,
        notaries: impl IntoIterator<Item = Sm2PublicKey>,
    ) -> Self {
        Self {
            chain_id: chain_id.to_owned(),
            members,
            notaries: notaries
                .into_iter()
                .map(|k| (k.key_id(), (k, true)))
                .collect(),
            validators: Vec::new(),
            governance_seq: 0,
        }
    }

    /// This registry with the CometBFT validators of the genesis.
    #[must_use]
    pub fn with_validators(mut self, validators: Vec<PolicyValidator>) -> Self {
        self.validators = validators;
        self
    }

    /// SM3 over text lines, each ending in `\n`: `member <id> <key hex> <power>` in registry
    /// order, `notary <key id hex>` for each notary that may anchor in ascending key-ID order,
    /// and, after the first change, `governance <seq>`. The validators are not listed: they
    /// follow from the genesis policy and the changes that the governance sequence counts.
    pub fn root(&self) -> Hash32 {
        let mut text = String::new();
        for (id, key, power) in &self.members {
            text.push_str(&format!("member {id} {} {power}\n", key.to_hex()));
        }
        for (id, (_, active)) in &self.notaries {
            if *active {
                text.push_str(&format!("notary {id}\n"));
            }
        }
        if self.governance_seq > 0 {
            text.push_str(&format!("governance {}\n", self.governance_seq));
        }
        Hash32::sm3(text.as_bytes())
    }

    /// Total voting power of the members.
    pub fn total_power(&self) -> u64 {
        self.members.iter().map(|(_, _, w)| *w).sum()
    }

    /// Checks `gov` against the registry as it stands: type, chain, next sequence number, SM2
    /// approvals of more than two thirds of the voting power, and a valid change.
    pub fn check(&self, gov: &GovernanceTx) -> Result<(), GovernanceError> {
        let p = &gov.proposal;
        if p.kind != GOVERNANCE_TYPE {
            return Err(GovernanceError::Type(p.kind.clone()));
        }
        if p.chain_id != self.chain_id {
            return Err(GovernanceError::WrongChain {
                found: p.chain_id.clone(),
                expected: self.chain_id.clone(),
            });
        }
        let expected = self.governance_seq.saturating_add(1);
        if p.governance_seq != expected {
            return Err(GovernanceError::Sequence {
                found: p.governance_seq,
                expected,
            });
        }
        // Every approval counts: each by a distinct member, each verifying (a governance
        // transaction is evidence too; nothing in it may be junk).
        let proposal =
            serde_json::to_value(p).map_err(|e| GovernanceError::InvalidChange(e.to_string()))?;
        let mut seen = std::collections::BTreeSet::new();
        for (index, a) in gov.approvals.iter().enumerate() {
            let Some((_, key, _)) = self.members.iter().find(|(m, _, _)| *m == a.member) else {
                return Err(GovernanceError::Approver {
                    index,
                    member: a.member.clone(),
                    why: "not a member of the registry before the change",
                });
            };
            if !seen.insert(a.member.as_str()) {
                return Err(GovernanceError::Approver {
                    index,
                    member: a.member.clone(),
                    why: "this member already approved",
                });
            }
            a.signature
                .verify_value_by(&proposal, key)
                .map_err(|error| GovernanceError::Approval {
                    index,
                    member: a.member.clone(),
                    error,
                })?;
        }
        let total = self.total_power();
        let approved = gov.approved_power(&self.members);
        if !is_quorum(approved, total) {
            return Err(GovernanceError::NoQuorum { approved, total });
        }
        let invalid = |m: String| Err(GovernanceError::InvalidChange(m));
        match &p.change {
            GovernanceAction::SetMember {
                member,
                public_key,
                power,
            } => {
                let valid_id = !member.is_empty()
                    && member.len() <= 64
                    && member
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
                if !valid_id {
                    return invalid(format!(
                        "member {member:?}: use 1 to 64 characters of a-z, 0-9 and -"
                    ));
                }
                if !(1..=1_000_000).contains(power) {
                    return invalid(format!(
                        "power {power} of member {member:?}: use 1 to 1000000 (remove_member removes)"
                    ));
                }
                let k = change_key(public_key)?;
                if let Some((other, _, _)) = self
                    .members
                    .iter()
                    .find(|(m, mk, _)| m != member && *mk == k)
                {
                    return invalid(format!(
                        "public_key of {member:?} is already the key of member {other:?}"
                    ));
                }
            }
            GovernanceAction::RemoveMember { member } => {
                if !self.members.iter().any(|(m, _, _)| m == member) {
                    return invalid(format!("member {member:?} is not a member"));
                }
                if self.members.len() == 1 {
                    return invalid(format!("member {member:?} is the last member"));
                }
            }
            GovernanceAction::AddNotary { public_key } => {
                let k = change_key(public_key)?;
                if self.notaries.get(&k.key_id()).is_some_and(|n| n.1) {
                    return invalid(format!("notary {} is already registered", k.key_id()));
                }
            }
            GovernanceAction::RemoveNotary { notary_key_id } => {
                if !self.notaries.get(notary_key_id).is_some_and(|n| n.1) {
                    return invalid(format!("notary {notary_key_id} is not registered"));
                }
            }
            GovernanceAction::SetValidator { .. } | GovernanceAction::RemoveValidator { .. } => {}
        }
        self.validators_after(&p.change)
            .map_err(GovernanceError::InvalidChange)?;
        Ok(())
    }

    /// The validators after `change` (the registry's own, for a change that touches neither a
    /// member nor a validator), or why the change leaves no valid set.
    pub fn validators_after(
        &self,
        change: &GovernanceAction,
    ) -> Result<Vec<PolicyValidator>, String> {
        let mut set = self.validators.clone();
        match change {
            GovernanceAction::SetMember { member, power, .. } => {
                for v in set.iter_mut().filter(|v| v.member.as_ref() == Some(member)) {
                    v.power = *power;
                }
            }
            GovernanceAction::RemoveMember { member } => {
                set.retain(|v| v.member.as_ref() != Some(member));
            }
            GovernanceAction::SetValidator { member, pub_key } => {
                let Some((_, _, power)) = self.members.iter().find(|(m, _, _)| m == member) else {
                    return Err(format!(
                        "member {member:?} is not a member: add the member first (set_member)"
                    ));
                };
                let v = crate::cometbft::validator_of(pub_key, *power, Some(member.clone()))?;
                if let Some(other) = set.iter().find(|x| x.pub_key == v.pub_key) {
                    match &other.member {
                        Some(m) if m == member => {
                            return Err(format!(
                                "pub_key {pub_key} is already the validator of member {member:?}"
                            ));
                        }
                        Some(m) => {
                            return Err(format!(
                                "pub_key {pub_key} is the validator of member {m:?}"
                            ));
                        }
                        None => {}
                    }
                }
                // One validator per member: a new key replaces the member's old one, and an
                // unlabelled genesis validator with this key becomes the member's.
                set.retain(|x| x.member.as_ref() != Some(member));
                match set.iter_mut().find(|x| x.pub_key == v.pub_key) {
                    Some(x) => *x = v,
                    None => set.push(v),
                }
            }
            GovernanceAction::RemoveValidator { pub_key } => {
                if !set.iter().any(|v| v.pub_key == *pub_key) {
                    return Err(format!("pub_key {pub_key} is not a validator"));
                }
                set.retain(|v| v.pub_key != *pub_key);
            }
            GovernanceAction::AddNotary { .. } | GovernanceAction::RemoveNotary { .. } => {}
        }
        if set.is_empty() && !self.validators.is_empty() {
            return Err("the change would leave the chain without a validator".into());
        }
        Ok(set)
    }

    /// Checks and applies `gov`; on error nothing changes.
    pub fn apply(&mut self, gov: &GovernanceTx) -> Result<u64, GovernanceError> {
        self.check(gov)?;
        let p = &gov.proposal;
        self.validators = self
            .validators_after(&p.change)
            .map_err(GovernanceError::InvalidChange)?;
        match &p.change {
            GovernanceAction::SetMember {
                member,
                public_key,
                power,
            } => {
                let k = change_key(public_key)?;
                match self.members.iter_mut().find(|(m, _, _)| m == member) {
                    Some(entry) => *entry = (member.clone(), k, *power),
                    None => self.members.push((member.clone(), k, *power)),
                }
            }
            GovernanceAction::RemoveMember { member } => {
                self.members.retain(|(m, _, _)| m != member);
            }
            GovernanceAction::AddNotary { public_key } => {
                let k = change_key(public_key)?;
                self.notaries
                    .entry(k.key_id())
                    .and_modify(|n| n.1 = true)
                    .or_insert((k, true));
            }
            GovernanceAction::RemoveNotary { notary_key_id } => {
                if let Some(n) = self.notaries.get_mut(notary_key_id) {
                    n.1 = false;
                }
            }
            GovernanceAction::SetValidator { .. } | GovernanceAction::RemoveValidator { .. } => {}
        }
        self.governance_seq = p.governance_seq;
        Ok(p.governance_seq)
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;

    use super::*;
    use crate::cometbft::validator_of;
    use crate::sm2::Sm2SigningKey;

    fn key(seed: u8) -> String {
        base64::engine::general_purpose::STANDARD.encode([seed; 32])
    }

    fn member(id: &str, seed: u8, power: u64) -> (String, Sm2PublicKey, u64) {
        let k = Sm2SigningKey::from_bytes(&[seed; 32]).unwrap_or_else(|e| panic!("{e}"));
        (id.to_owned(), k.public_key().clone(), power)
    }

    /// Members a (power 1) and b (power 2); genesis validators 1 and 2, power 1, unclaimed.
    fn registry() -> Registry {
        Registry::genesis(
            "tz-test",
            vec![member("a", 1, 1), member("b", 2, 2)],
            Vec::new(),
        )
        .with_validators(vec![
            validator_of(&key(1), 1, None).unwrap_or_else(|e| panic!("{e}")),
            validator_of(&key(2), 1, None).unwrap_or_else(|e| panic!("{e}")),
        ])
    }

    fn set(member: &str, seed: u8) -> GovernanceAction {
        GovernanceAction::SetValidator {
            member: member.into(),
            pub_key: key(seed),
        }
    }

    fn summary(v: &[PolicyValidator]) -> Vec<(String, u64, Option<String>)> {
        v.iter()
            .map(|x| (x.pub_key.clone(), x.power, x.member.clone()))
            .collect()
    }

    #[test]
    fn a_member_claims_rotates_and_takes_its_validator_away() {
        let mut r = registry();
        // Claiming a genesis validator: in place, with the member's power.
        r.validators = r
            .validators_after(&set("b", 2))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            summary(&r.validators),
            [(key(1), 1, None), (key(2), 2, Some("b".into()))]
        );
        // Rotation: the new key replaces the member's old one.
        r.validators = r
            .validators_after(&set("b", 3))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            summary(&r.validators),
            [(key(1), 1, None), (key(3), 2, Some("b".into()))]
        );
        // The member's power moves its validator's.
        let power = GovernanceAction::SetMember {
            member: "b".into(),
            public_key: r.members[1].1.to_hex(),
            power: 5,
        };
        let after = r.validators_after(&power).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(after[1].power, 5);
        // Removing the member removes its validator.
        let gone = r
            .validators_after(&GovernanceAction::RemoveMember { member: "b".into() })
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(summary(&gone), [(key(1), 1, None)]);
    }

    #[test]
    fn invalid_validator_changes_are_refused() {
        let mut r = registry();
        r.validators = r
            .validators_after(&set("b", 2))
            .unwrap_or_else(|e| panic!("{e}"));
        let refused = |r: &Registry, c: GovernanceAction| r.validators_after(&c).is_err();
        assert!(refused(&r, set("b", 2)), "set twice");
        assert!(refused(&r, set("a", 2)), "another member's validator");
        assert!(refused(&r, set("nobody", 4)), "not a member");
        let not_canonical = GovernanceAction::SetValidator {
            member: "a".into(),
            pub_key: key(5).replace('=', ""),
        };
        assert!(refused(&r, not_canonical), "unpadded base64");
        let short = GovernanceAction::SetValidator {
            member: "a".into(),
            pub_key: base64::engine::general_purpose::STANDARD.encode([7u8; 31]),
        };
        assert!(refused(&r, short), "31 bytes");
        assert!(refused(
            &r,
            GovernanceAction::RemoveValidator { pub_key: key(9) }
        ));
        r.validators.truncate(1);
        assert!(
            refused(&r, GovernanceAction::RemoveValidator { pub_key: key(1) }),
            "the last validator"
        );
    }
}
