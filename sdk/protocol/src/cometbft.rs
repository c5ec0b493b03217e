//! The CometBFT layer of a consortium bundle: the header of the height after a checkpoint,
//! whose `app_hash` is the checkpoint's state, committed by more than two thirds of the
//! validator set a court pins in its policy. Checked offline by `verify::chain` (ed25519,
//! SHA-256): no network, no clock, no trust in any single node.

use base64::Engine as _;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tendermint::validator::Info;

/// A CometBFT validator as a policy pins it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyValidator {
    /// Validator address (40 hex digits, as CometBFT prints it).
    #[schemars(regex(pattern = r"^[0-9A-Fa-f]{40}$"))]
    pub address: String,
    /// Its ed25519 consensus key, base64 (`pub_key.value` in CometBFT's genesis and RPC).
    pub pub_key: String,
    /// Voting power.
    pub power: u64,
    /// The member that runs it, once governance has said so (`set_validator`): its power
    /// then follows the member's, and removing the member removes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member: Option<String>,
}

/// The validator with ed25519 key `pub_key` (base64), `power` and `member`, its address
/// derived from the key as CometBFT derives it.
pub fn validator_of(
    pub_key: &str,
    power: u64,
    member: Option<String>,
) -> Result<PolicyValidator, String> {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(pub_key)
        .map_err(|e| format!("pub_key {pub_key:?} is not base64: {e}"))?;
    let canonical = base64::engine::general_purpose::STANDARD.encode(&raw);
    if canonical != pub_key {
        return Err(format!(
            "pub_key {pub_key:?} is not written as CometBFT writes it ({canonical:?})"
        ));
    }
    let pk = tendermint::PublicKey::from_raw_ed25519(&raw)
        .ok_or_else(|| format!("pub_key {pub_key:?} is not a 32-byte ed25519 key"))?;
    let power_t = tendermint::vote::Power::try_from(power)
        .map_err(|e| format!("validator power {power}: {e}"))?;
    Ok(PolicyValidator {
        address: Info::new(pk, power_t).address.to_string(),
        pub_key: pub_key.to_owned(),
        power,
        member,
    })
}

/// The CometBFT layer of a bundle (consortium mode).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BundleCometBft {
    /// `signed_header` of CometBFT's `/commit?height=H+1`, where H is the checkpoint's height:
    /// the header carries the app hash of the state after H, and the commit its signatures.
    #[schemars(with = "serde_json::Map<String, Value>")]
    pub signed_header: Value,
    /// The validator set of height H+1 (`/validators`), each entry exactly `{address,
    /// pub_key: {type, value}, voting_power}`.
    #[schemars(with = "Vec<serde_json::Map<String, Value>>")]
    pub validators: Vec<Value>,
}

/// What the CometBFT layer established.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainReport {
    /// Height of the verified header.
    pub height: u64,
    /// Its block hash (hex).
    pub block_hash: String,
    /// Validators whose signatures are in the commit, of how many.
    pub signers: usize,
    /// Size of the validator set.
    pub validators: usize,
}

/// The validator info of a pinned validator.
pub fn policy_validator_info(v: &PolicyValidator) -> Result<Info, String> {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(&v.pub_key)
        .map_err(|e| format!("validator {}: pub_key is not base64: {e}", v.address))?;
    let pk = tendermint::PublicKey::from_raw_ed25519(&raw)
        .ok_or_else(|| format!("validator {}: pub_key is not an ed25519 key", v.address))?;
    let power = tendermint::vote::Power::try_from(v.power)
        .map_err(|e| format!("validator {}: power: {e}", v.address))?;
    let info = Info::new(pk, power);
    if !info.address.to_string().eq_ignore_ascii_case(&v.address) {
        return Err(format!(
            "validator {}: the address is not that of its pub_key ({})",
            v.address, info.address
        ));
    }
    Ok(info)
}

/// The key type of CometBFT's ed25519 validator keys in JSON.
pub const ED25519_KEY_TYPE: &str = "tendermint/PubKeyEd25519";

/// A validator entry in a bundle: what the validator-set hash covers, and nothing else.
pub fn bundle_validator(v: &PolicyValidator) -> Value {
    serde_json::json!({
        "address": v.address,
        "pub_key": { "type": ED25519_KEY_TYPE, "value": v.pub_key },
        "voting_power": v.power.to_string(),
    })
}

/// A pinned validator from a CometBFT RPC `validators` entry or genesis `validators` entry.
pub fn policy_validator_from_rpc(v: &Value) -> Result<PolicyValidator, String> {
    if v.pointer("/pub_key/type").and_then(Value::as_str) != Some(ED25519_KEY_TYPE) {
        return Err(format!(
            "validator {}: pub_key.type is not {ED25519_KEY_TYPE:?}",
            v.get("address").and_then(Value::as_str).unwrap_or("?")
        ));
    }
    let pub_key = v
        .pointer("/pub_key/value")
        .and_then(Value::as_str)
        .ok_or("validator without pub_key.value")?;
    let power = v
        .get("voting_power")
        .or_else(|| v.get("power"))
        .and_then(|p| p.as_str().and_then(|s| s.parse().ok()).or(p.as_u64()))
        .ok_or("validator without voting_power")?;
    let address = v
        .get("address")
        .and_then(Value::as_str)
        .ok_or("validator without address")?;
    Ok(PolicyValidator {
        address: address.to_owned(),
        pub_key: pub_key.to_owned(),
        power,
        member: None,
    })
}
