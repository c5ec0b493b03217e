//! A client of a CometBFT node's JSON-RPC for the ledger: `abci_query` of the ledger's
//! answers (`/policy`, `/anchor`, ...), `broadcast_tx_sync`, and the header, commit and
//! validator set that consortium bundles carry.

use serde_json::{Value, json};
use tiezheng_protocol::Hash32;
use tiezheng_protocol::bundle::{Policy, PolicyMember};
use tiezheng_protocol::cometbft::{BundleCometBft, bundle_validator, policy_validator_from_rpc};

use crate::abci::{AnchorAnswer, PolicyAnswer, codes};

/// The ledger's members as a policy lists them.
fn policy_members(members: Vec<crate::ledger::Member>) -> Vec<PolicyMember> {
    members
        .into_iter()
        .map(|m| PolicyMember {
            id: m.id,
            public_key: m.public_key,
            power: m.power,
        })
        .collect()
}

/// A CometBFT node's JSON-RPC, as the ledger's clients (the notary, `tiezheng ledger`) use it.
#[derive(Debug)]
pub struct LedgerRpc {
    url: String,
    http: reqwest::Client,
}

impl LedgerRpc {
    /// A client of the node whose RPC listens at `url` (e.g. `http://127.0.0.1:26657`).
    pub fn new(url: &str) -> Result<Self, String> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| format!("cometbft_rpc {url}: {e}"))?;
        Ok(Self {
            url: url.trim_end_matches('/').to_owned(),
            http,
        })
    }

    /// One JSON-RPC call; `Ok(Err(message))` is an error the node answered with.
    pub async fn call(&self, method: &str, params: Value) -> Result<Result<Value, String>, String> {
        let body = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
        let reply: Value = self
            .http
            .post(&self.url)
            .json(&body)
            .send()
            .await
            .map_err(|e| format!("CometBFT node {} unreachable ({method}): {e}", self.url))?
            .json()
            .await
            .map_err(|e| format!("CometBFT node {}: {method}: {e}", self.url))?;
        Ok(match (reply.get("result"), reply.get("error")) {
            (Some(r), _) => Ok(r.clone()),
            (None, Some(e)) => Err(format!(
                "{} {}",
                e.get("message").and_then(Value::as_str).unwrap_or(""),
                e.get("data").and_then(Value::as_str).unwrap_or("")
            )),
            (None, None) => Err("an empty JSON-RPC answer".into()),
        })
    }

    /// `abci_query`: `(code, value, log)`.
    pub async fn query(&self, path: &str, data: &[u8]) -> Result<(u32, Vec<u8>, String), String> {
        use base64::Engine as _;
        let r = self
            .call(
                "abci_query",
                json!({ "path": path, "data": hex::encode(data) }),
            )
            .await?
            .map_err(|e| format!("abci_query {path}: {e}"))?;
        let resp = r.get("response").ok_or("abci_query without response")?;
        let code = resp.get("code").and_then(Value::as_u64).unwrap_or(0);
        let value = match resp.get("value").and_then(Value::as_str) {
            Some(v) => base64::engine::general_purpose::STANDARD
                .decode(v)
                .map_err(|e| format!("abci_query {path}: value: {e}"))?,
            None => Vec::new(),
        };
        let log = resp
            .get("log")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        Ok((u32::try_from(code).unwrap_or(u32::MAX), value, log))
    }

    /// The anchor record of a batch root (`None` while not anchored).
    pub async fn anchor(&self, root: &Hash32) -> Result<Option<AnchorAnswer>, String> {
        let (code, value, log) = self.query("/anchor", root.as_bytes()).await?;
        match code {
            0 => serde_json::from_slice(&value)
                .map(Some)
                .map_err(|e| format!("abci_query /anchor: {e}")),
            codes::NOT_FOUND => Ok(None),
            _ => Err(format!("abci_query /anchor: code {code}: {log}")),
        }
    }

    /// The ledger's policy as a verifier would pin it: chain, members, notaries, validators.
    pub async fn policy(&self) -> Result<Policy, String> {
        let p = self.policy_answer().await?;
        let validators = self
            .validators(None)
            .await?
            .iter()
            .map(policy_validator_from_rpc)
            .collect::<Result<_, _>>()?;
        Ok(Policy {
            chain_id: p.chain_id,
            notary_keys: p.notary_keys,
            members: policy_members(p.members),
            validators,
            parties: Vec::new(),
        })
    }

    /// The consortium's genesis policy, the one a court pins: chain, members and notaries from
    /// the genesis document's `app_state`, the validators from its `validators`. Every bundle
    /// of the chain verifies with it, whatever governance changed since (a bundle carries the
    /// changes up to its checkpoint).
    pub async fn genesis_policy(&self) -> Result<Policy, String> {
        let r = self
            .call("genesis", json!({}))
            .await?
            .map_err(|e| format!("genesis: {e}"))?;
        let doc = r.get("genesis").ok_or("genesis: no genesis document")?;
        let app: crate::ledger::Genesis =
            serde_json::from_value(doc.get("app_state").cloned().unwrap_or(Value::Null))
                .map_err(|e| format!("genesis: app_state is not a Tiezheng ledger genesis: {e}"))?;
        let mut validators: Vec<_> = doc
            .get("validators")
            .and_then(Value::as_array)
            .ok_or("genesis: no validators (the consortium's genesis lists them)")?
            .iter()
            .map(policy_validator_from_rpc)
            .collect::<Result<_, _>>()
            .map_err(|e| format!("genesis: {e}"))?;
        // CometBFT's order (as `/validators` lists them): voting power descending, then
        // address ascending.
        validators.sort_by(|a, b| {
            b.power.cmp(&a.power).then_with(|| {
                a.address
                    .to_ascii_uppercase()
                    .cmp(&b.address.to_ascii_uppercase())
            })
        });
        app.label(&mut validators)
            .map_err(|e| format!("genesis: app_state: {e}"))?;
        let policy = Policy {
            chain_id: app.chain_id,
            notary_keys: app.notaries,
            members: policy_members(app.members),
            validators,
            parties: Vec::new(),
        };
        // The same order as the registry writes it back (notaries by key ID), so that the
        // policy a court pins reads like every bundle's copy.
        Ok(Policy::from_registry(&policy.registry()))
    }

    /// The ledger's own `/policy` answer (with its governance sequence number).
    pub async fn policy_answer(&self) -> Result<PolicyAnswer, String> {
        let (code, value, log) = self.query("/policy", b"").await?;
        if code != 0 {
            return Err(format!("abci_query /policy: code {code}: {log}"));
        }
        serde_json::from_slice(&value).map_err(|e| format!("abci_query /policy: {e}"))
    }

    /// `broadcast_tx_sync`: `Ok(Ok(()))` once the node's CheckTx accepted `tx`, `Ok(Err(log))`
    /// if the ledger refused it, `Err` if the node could not be asked. A transaction already
    /// in the node's mempool counts as accepted.
    pub async fn broadcast(&self, tx: &[u8]) -> Result<Result<(), String>, String> {
        use base64::Engine as _;
        let tx64 = base64::engine::general_purpose::STANDARD.encode(tx);
        match self
            .call("broadcast_tx_sync", json!({ "tx": tx64 }))
            .await?
        {
            Ok(r) if r.get("code").and_then(Value::as_u64).unwrap_or(0) == 0 => Ok(Ok(())),
            Ok(r) => Ok(Err(r
                .get("log")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned())),
            Err(e) if e.contains("already exists in cache") => Ok(Ok(())),
            Err(e) => Err(format!("broadcast_tx_sync: {e}")),
        }
    }

    /// The validator set (`height` or the latest), as CometBFT reports it.
    pub async fn validators(&self, height: Option<u64>) -> Result<Vec<Value>, String> {
        let params = match height {
            Some(h) => json!({ "per_page": "100", "height": h.to_string() }),
            None => json!({ "per_page": "100" }),
        };
        let r = self
            .call("validators", params)
            .await?
            .map_err(|e| format!("validators: {e}"))?;
        r.get("validators")
            .and_then(Value::as_array)
            .cloned()
            .ok_or_else(|| "validators: no validator list".into())
    }

    /// The signed header and validator set of `height`; `None` if it is not committed yet.
    pub async fn chain_layer(&self, height: u64) -> Result<Option<BundleCometBft>, String> {
        let commit = match self
            .call("commit", json!({ "height": height.to_string() }))
            .await?
        {
            Ok(c) => c,
            Err(e) => {
                tracing::debug!(height, error = %e, "header not available yet");
                return Ok(None);
            }
        };
        let signed_header = commit
            .get("signed_header")
            .cloned()
            .ok_or("commit: no signed_header")?;
        let validators = self
            .validators(Some(height))
            .await?
            .iter()
            .map(|v| policy_validator_from_rpc(v).map(|p| bundle_validator(&p)))
            .collect::<Result<_, _>>()?;
        Ok(Some(BundleCometBft {
            signed_header,
            validators,
        }))
    }
}
