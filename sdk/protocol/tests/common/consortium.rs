//! A synthetic consortium: four CometBFT validators with ed25519 keys from fixed seeds, and the
//! `cometbft` layer of a bundle (signed header, commit, validator set) written exactly as
//! CometBFT v0.38 writes `/commit` and `/validators`. Hashes and vote sign bytes are encoded
//! here by hand from `VERIFYING.md` §4.11 (not with tendermint-rs, which the verifier uses), so
//! the two implementations check each other.
//!
//! Everything works on the JSON, so that a forger can change any value and then re-derive and
//! re-sign what depends on it: [`rehash_validators`], [`rehash_block`], [`sign_votes`], or all
//! three with [`seal`].

use base64::Engine as _;
use ed25519_consensus::SigningKey;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use tiezheng_protocol::cometbft::PolicyValidator;
use tiezheng_protocol::ledger::Checkpoint;
use tiezheng_protocol::merkle::{MerkleTree, Sha256Hasher};

/// The key type CometBFT writes for ed25519 keys.
pub const KEY_TYPE: &str = "tendermint/PubKeyEd25519";
/// The zero time CometBFT writes in an absent validator's commit entry.
pub const ZERO_TIME: &str = "0001-01-01T00:00:00Z";
/// The time of the committed header: half a second after the genuine checkpoint, with
/// nanoseconds as CometBFT keeps them.
pub const HEADER_TIME: &str = "2026-11-21T01:31:03.512034817Z";

/// A validator: its signing key and voting power.
#[derive(Clone, Debug)]
pub struct Validator {
    pub key: SigningKey,
    pub power: u64,
}

impl Validator {
    /// The 32-byte ed25519 public key.
    pub fn public(&self) -> [u8; 32] {
        self.key.verification_key().to_bytes()
    }

    /// The public key, base64 as CometBFT writes it.
    pub fn pub_key(&self) -> String {
        b64(&self.public())
    }

    /// The address: the first 20 bytes of SHA-256 of the public key, upper-case hex.
    pub fn address(&self) -> String {
        address_of(&self.public())
    }

    /// Its entry in `/validators`.
    pub fn entry(&self) -> Value {
        json!({
            "address": self.address(),
            "pub_key": {"type": KEY_TYPE, "value": self.pub_key()},
            "voting_power": self.power.to_string(),
        })
    }

    /// As a court's policy pins it.
    pub fn pinned(&self) -> PolicyValidator {
        PolicyValidator {
            address: self.address(),
            pub_key: self.pub_key(),
            power: self.power,
            member: None,
        }
    }
}

pub fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

pub fn address_of(public: &[u8]) -> String {
    hex::encode_upper(&Sha256::digest(public)[..20])
}

/// The validator whose ed25519 key is derived from `seed`.
pub fn validator(seed: &str, power: u64) -> Validator {
    let secret: [u8; 32] = Sha256::digest(seed.as_bytes()).into();
    Validator {
        key: SigningKey::from(secret),
        power,
    }
}

/// The four validators, in CometBFT's order (power descending, then address ascending). Two
/// share the highest power, so the order by address matters; the total is 9, so that exactly
/// two thirds (6) can be signed, which is not enough.
pub fn validators() -> Vec<Validator> {
    let mut v: Vec<Validator> = [("a", 3), ("b", 3), ("c", 2), ("d", 1)]
        .iter()
        .map(|(s, p)| validator(&format!("tiezheng forge validator {s}"), *p))
        .collect();
    sort(&mut v);
    v
}

/// Sorts validators in CometBFT's order.
pub fn sort(v: &mut [Validator]) {
    v.sort_by(|a, b| b.power.cmp(&a.power).then(a.address().cmp(&b.address())));
}

/// How a validator voted in the commit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Vote {
    /// A precommit for the block (`block_id_flag` 2).
    Commit,
    /// A precommit for nil (`block_id_flag` 3).
    Nil,
    /// No precommit received (`block_id_flag` 1).
    Absent,
}

/// A hash as CometBFT writes it: 64 upper-case hex digits.
fn filler(what: &str) -> String {
    hex::encode_upper(Sha256::digest(what.as_bytes()))
}

/// The `cometbft` layer of a consortium bundle whose checkpoint is `cp`: the header of height
/// `cp.height + 1` with the checkpoint's app hash, committed with `votes` (one per validator,
/// in set order), all derived and signed.
pub fn layer(cp: &Checkpoint, vals: &[Validator], votes: &[Vote]) -> Value {
    let next = (cp.height + 1).to_string();
    let header = json!({
        "version": {"block": "11", "app": "1"},
        "chain_id": cp.chain_id,
        "height": next,
        "time": HEADER_TIME,
        "last_block_id": {
            "hash": filler("last block"),
            "parts": {"total": 1, "hash": filler("last parts")},
        },
        "last_commit_hash": filler("last commit"),
        "data_hash": filler("data"),
        "validators_hash": "",
        "next_validators_hash": "",
        "consensus_hash": filler("consensus params"),
        "app_hash": cp.app_hash().to_hex().to_uppercase(),
        "last_results_hash": filler("last results"),
        // SHA-256 of nothing: the evidence hash of a block without evidence.
        "evidence_hash": hex::encode_upper(Sha256::digest(b"")),
        "proposer_address": vals[1].address(),
    });
    let signatures: Vec<Value> = vals
        .iter()
        .zip(votes)
        .enumerate()
        .map(|(i, (v, vote))| match vote {
            Vote::Absent => absent(),
            Vote::Commit | Vote::Nil => json!({
                "block_id_flag": if *vote == Vote::Commit { 2 } else { 3 },
                "validator_address": v.address(),
                "timestamp": format!("2026-11-21T01:31:04.{}Z", 10_234 + 1111 * i),
                "signature": "",
            }),
        })
        .collect();
    let mut l = json!({
        "signed_header": {
            "header": header,
            "commit": {
                "height": next,
                "round": 0,
                "block_id": {"hash": "", "parts": {"total": 1, "hash": filler("parts")}},
                "signatures": signatures,
            },
        },
        "validators": vals.iter().map(Validator::entry).collect::<Vec<_>>(),
    });
    let vh = validators_hash(l["validators"].as_array().unwrap());
    l["signed_header"]["header"]["next_validators_hash"] = json!(hex::encode_upper(vh));
    seal(&mut l, vals);
    l
}

/// The header's `next_validators_hash` := the hash of `next` (as listed), then sealed by
/// `vals`: a header that names `next` as the validators after it.
pub fn with_next(layer: &mut Value, next: &[Validator], vals: &[Validator]) {
    let entries: Vec<Value> = next.iter().map(Validator::entry).collect();
    let nh = validators_hash(&entries);
    layer["signed_header"]["header"]["next_validators_hash"] = json!(hex::encode_upper(nh));
    seal(layer, vals);
}

/// An absent validator's commit entry, as CometBFT writes it.
pub fn absent() -> Value {
    json!({"block_id_flag": 1, "validator_address": "", "timestamp": ZERO_TIME, "signature": null})
}

/// Re-derives the header's validators hash, the block hash in the commit, and every vote.
pub fn seal(layer: &mut Value, vals: &[Validator]) {
    rehash_validators(layer);
    rehash_block(layer);
    sign_votes(layer, vals);
}

/// The header's `validators_hash` := the hash of the layer's validators (as listed).
pub fn rehash_validators(layer: &mut Value) {
    let vh = validators_hash(layer["validators"].as_array().unwrap());
    layer["signed_header"]["header"]["validators_hash"] = json!(hex::encode_upper(vh));
}

/// The commit's `block_id.hash` := the header's hash.
pub fn rehash_block(layer: &mut Value) {
    let h = header_hash(&layer["signed_header"]["header"]);
    layer["signed_header"]["commit"]["block_id"]["hash"] = json!(hex::encode_upper(h));
}

/// Re-signs every vote (for the block or for nil) over the commit as it stands, with the
/// header's chain ID: each with the key in `vals` of the validator the entry names (through
/// the layer's validator list, so an entry naming a forged address is signed with that
/// entry's key).
pub fn sign_votes(layer: &mut Value, vals: &[Validator]) {
    let chain_id = layer["signed_header"]["header"]["chain_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let listed = layer["validators"].as_array().unwrap().clone();
    let commit = layer["signed_header"]["commit"].clone();
    let sigs = layer["signed_header"]["commit"]["signatures"]
        .as_array_mut()
        .unwrap();
    for s in sigs {
        if s["block_id_flag"] != json!(2) && s["block_id_flag"] != json!(3) {
            continue;
        }
        let by_list = listed
            .iter()
            .find(|e| e["address"] == s["validator_address"])
            .and_then(|e| vals.iter().find(|v| e["pub_key"]["value"] == v.pub_key()));
        let Some(v) =
            by_list.or_else(|| vals.iter().find(|v| s["validator_address"] == v.address()))
        else {
            continue;
        };
        s["signature"] = json!(sign(v, &commit, s, &chain_id));
    }
}

/// `v`'s signature (base64) of commit entry `sig` of `commit`.
pub fn sign(v: &Validator, commit: &Value, sig: &Value, chain_id: &str) -> String {
    b64(&v
        .key
        .sign(&vote_sign_bytes(commit, sig, chain_id))
        .to_bytes())
}

// ---- protobuf by hand, as VERIFYING.md §4.11 states it ------------------------------------

fn uvarint(mut n: u64, out: &mut Vec<u8>) {
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

/// A varint field; omitted when 0 (negative values as two's complement).
fn f_varint(num: u64, v: i64, out: &mut Vec<u8>) {
    if v != 0 {
        uvarint(num << 3, out);
        uvarint(v.cast_unsigned(), out);
    }
}

/// A length-delimited field; omitted when empty unless `always` (a non-nullable message).
fn f_bytes(num: u64, b: &[u8], always: bool, out: &mut Vec<u8>) {
    if !b.is_empty() || always {
        uvarint(num << 3 | 2, out);
        uvarint(b.len() as u64, out);
        out.extend_from_slice(b);
    }
}

fn f_sfixed64(num: u64, v: i64, out: &mut Vec<u8>) {
    if v != 0 {
        uvarint(num << 3 | 1, out);
        out.extend_from_slice(&v.to_le_bytes());
    }
}

fn hexb(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap()).unwrap()
}

fn int(v: &Value) -> i64 {
    v.as_i64()
        .unwrap_or_else(|| v.as_str().unwrap().parse().unwrap())
}

/// google.protobuf.Timestamp of a CometBFT time.
fn timestamp(v: &Value) -> Vec<u8> {
    let t = tendermint::Time::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
    let nanos = t.unix_timestamp_nanos();
    let secs = i64::try_from(nanos.div_euclid(1_000_000_000)).unwrap();
    let frac = i64::try_from(nanos.rem_euclid(1_000_000_000)).unwrap();
    let mut out = Vec::new();
    f_varint(1, secs, &mut out);
    f_varint(2, frac, &mut out);
    out
}

/// BlockID / CanonicalBlockID: `{1: hash, 2: PartSetHeader{1: total, 2: hash}}`; the part set
/// header is a non-nullable message, written even when empty.
fn block_id(b: &Value) -> Vec<u8> {
    let mut psh = Vec::new();
    f_varint(1, int(&b["parts"]["total"]), &mut psh);
    f_bytes(2, &hexb(&b["parts"]["hash"]), false, &mut psh);
    let mut out = Vec::new();
    f_bytes(1, &hexb(&b["hash"]), false, &mut out);
    f_bytes(2, &psh, true, &mut out);
    out
}

fn sha256_root(leaves: &[Vec<u8>]) -> [u8; 32] {
    MerkleTree::<Sha256Hasher>::from_leaves(leaves.iter().map(Vec::as_slice))
        .root()
        .0
}

/// The header hash: the SHA-256 Merkle root of its 14 fields' encodings.
pub fn header_hash(h: &Value) -> [u8; 32] {
    let mut leaves = Vec::new();
    let mut version = Vec::new();
    f_varint(1, int(&h["version"]["block"]), &mut version);
    f_varint(2, int(&h["version"]["app"]), &mut version);
    leaves.push(version);
    let mut chain_id = Vec::new();
    f_bytes(
        1,
        h["chain_id"].as_str().unwrap().as_bytes(),
        false,
        &mut chain_id,
    );
    leaves.push(chain_id);
    let mut height = Vec::new();
    f_varint(1, int(&h["height"]), &mut height);
    leaves.push(height);
    leaves.push(timestamp(&h["time"]));
    leaves.push(block_id(&h["last_block_id"]));
    for k in [
        "last_commit_hash",
        "data_hash",
        "validators_hash",
        "next_validators_hash",
        "consensus_hash",
        "app_hash",
        "last_results_hash",
        "evidence_hash",
        "proposer_address",
    ] {
        let mut leaf = Vec::new();
        f_bytes(1, &hexb(&h[k]), false, &mut leaf);
        leaves.push(leaf);
    }
    sha256_root(&leaves)
}

/// The validator-set hash of `/validators` entries, in the order given.
pub fn validators_hash(vals: &[Value]) -> [u8; 32] {
    let leaves: Vec<Vec<u8>> = vals
        .iter()
        .map(|v| {
            let pk = base64::engine::general_purpose::STANDARD
                .decode(v["pub_key"]["value"].as_str().unwrap())
                .unwrap();
            let mut key = Vec::new();
            f_bytes(1, &pk, false, &mut key);
            let mut out = Vec::new();
            f_bytes(1, &key, false, &mut out);
            f_varint(2, int(&v["voting_power"]), &mut out);
            out
        })
        .collect();
    sha256_root(&leaves)
}

/// What a commit entry's signature signs: the length-prefixed CanonicalVote.
pub fn vote_sign_bytes(commit: &Value, sig: &Value, chain_id: &str) -> Vec<u8> {
    let mut body = Vec::new();
    f_varint(1, 2, &mut body); // SIGNED_MSG_TYPE_PRECOMMIT
    f_sfixed64(2, int(&commit["height"]), &mut body);
    f_sfixed64(3, int(&commit["round"]), &mut body);
    if sig["block_id_flag"] == json!(2) {
        f_bytes(4, &block_id(&commit["block_id"]), true, &mut body);
    }
    f_bytes(5, &timestamp(&sig["timestamp"]), true, &mut body);
    f_bytes(6, chain_id.as_bytes(), false, &mut body);
    let mut out = Vec::new();
    uvarint(body.len() as u64, &mut out);
    out.extend(body);
    out
}
