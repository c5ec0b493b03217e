//! The registry's validators in CometBFT's terms: the genesis set from `InitChain`, and the
//! validator updates a block's governance changes make (`FinalizeBlock`), so that the members
//! and the validators change in one approved transaction.

use base64::Engine as _;
use tendermint::validator::Update;
use tiezheng_protocol::cometbft::{PolicyValidator, validator_of};

/// The genesis validators CometBFT passes to `InitChain`, as the registry keeps them.
pub(super) fn from_init_chain(updates: &[Update]) -> Result<Vec<PolicyValidator>, String> {
    updates
        .iter()
        .map(|u| {
            let raw = match u.pub_key {
                tendermint::PublicKey::Ed25519(k) => k.as_bytes().to_vec(),
                _ => return Err("genesis validator with a key other than ed25519".to_owned()),
            };
            let b64 = base64::engine::general_purpose::STANDARD.encode(raw);
            validator_of(&b64, u.power.value(), None)
        })
        .collect()
}

/// The updates that turn `before` into `after`: power 0 for a removed key, the new power for
/// an added or changed one, in `after`'s order then removals (CometBFT applies them as a set).
pub(super) fn updates(
    before: &[PolicyValidator],
    after: &[PolicyValidator],
) -> Result<Vec<Update>, String> {
    let mut out = Vec::new();
    let update = |v: &PolicyValidator, power: u64| -> Result<Update, String> {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(&v.pub_key)
            .map_err(|e| format!("validator {}: {e}", v.address))?;
        let pub_key = tendermint::PublicKey::from_raw_ed25519(&raw)
            .ok_or_else(|| format!("validator {}: not an ed25519 key", v.address))?;
        let power = tendermint::vote::Power::try_from(power)
            .map_err(|e| format!("validator {}: power: {e}", v.address))?;
        Ok(Update { pub_key, power })
    };
    for v in after {
        match before.iter().find(|b| b.pub_key == v.pub_key) {
            Some(b) if b.power == v.power => {}
            _ => out.push(update(v, v.power)?),
        }
    }
    for b in before {
        if !after.iter().any(|a| a.pub_key == b.pub_key) {
            out.push(update(b, 0)?);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(seed: u8, power: u64) -> PolicyValidator {
        let key = base64::engine::general_purpose::STANDARD.encode([seed; 32]);
        validator_of(&key, power, None).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn updates_add_change_and_remove() {
        let before = vec![v(1, 1), v(2, 1), v(3, 1)];
        let after = vec![v(1, 1), v(2, 5), v(4, 1)];
        let u = updates(&before, &after).unwrap_or_else(|e| panic!("{e}"));
        let got: Vec<(u8, u64)> = u
            .iter()
            .map(|x| (x.pub_key.to_bytes()[0], x.power.value()))
            .collect();
        assert_eq!(got, vec![(2, 5), (4, 1), (3, 0)]);
        assert!(updates(&after, &after).unwrap_or_default().is_empty());
    }
}
