//! A real CometBFT v0.38 testnet on loopback: `cometbft testnet` writes the nodes, `tiezheng
//! ledger genesis` puts the ledger's genesis in, and each validator runs `cometbft start`
//! against its own `tiezheng ledger serve` (the ABCI application with its member's SM2 key).
//! Node `i` lives on 127.0.0.(11+i): p2p 26656, RPC 26657, ABCI 26658.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The organisations of the four-validator consortium, one per validator.
pub const MEMBERS: [&str; 4] = ["court", "police", "procuratorate", "notary-office"];

/// The member running genesis validator `i`: [`MEMBERS`], then `member-5`, `member-6`, ...
pub fn member_name(i: usize) -> String {
    MEMBERS
        .get(i)
        .map_or_else(|| format!("member-{}", i + 1), |m| (*m).to_owned())
}

/// Where the `cometbft` binary is: `$COMETBFT`, then `PATH`, then where `.ci/run` installs it.
pub fn cometbft_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("COMETBFT") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut candidates: Vec<PathBuf> = std::env::split_paths(&path)
        .map(|d| d.join("cometbft"))
        .collect();
    if let Some(home) = std::env::var_os("HOME") {
        candidates.push(PathBuf::from(&home).join(".cache/tiezheng/go-bin/cometbft"));
        candidates.push(PathBuf::from(home).join("go/bin/cometbft"));
    }
    candidates.into_iter().find(|p| p.is_file())
}

/// A validator: its CometBFT node and its ledger application.
#[derive(Debug)]
pub struct Validator {
    pub index: usize,
    /// The member organisation that runs it.
    pub member: String,
    pub ip: String,
    pub app: Option<Child>,
    pub node: Option<Child>,
}

/// A running testnet; every process is killed on drop.
#[derive(Debug)]
pub struct Testnet {
    pub dir: PathBuf,
    pub cometbft: PathBuf,
    pub tiezheng: PathBuf,
    pub validators: Vec<Validator>,
    pub chain_id: String,
    /// Member id → SM2 public key (hex).
    pub member_keys: Vec<(String, String)>,
    /// `validators` of genesis.json (address, pub_key, power), as a court pins them.
    pub genesis_validators: Vec<Value>,
}

/// Creates an SM2 key file with `tiezheng ledger key` and returns its public key (hex).
pub fn new_key(tiezheng: &Path, file: &Path) -> String {
    let out = Command::new(tiezheng)
        .args(["ledger", "key"])
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["public_key"].as_str().unwrap().to_owned()
}

impl Testnet {
    /// Writes and starts a network of `n` validators under `dir`, whose ledger lets the
    /// notary with SM2 public key `notary_key` anchor; `timeout_commit` sets the block pace.
    pub fn start(
        dir: &Path,
        n: usize,
        notary_key: &str,
        tiezheng: &Path,
        timeout_commit: &str,
    ) -> Self {
        let cometbft = cometbft_binary().expect("cometbft binary");
        let out = Command::new(&cometbft)
            .args(["testnet", "--v", &n.to_string(), "--o"])
            .arg(dir)
            .args(["--starting-ip-address", "127.0.0.11"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "cometbft testnet: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut member_keys = Vec::new();
        let mut genesis_cmd = Command::new(tiezheng);
        genesis_cmd
            .args(["ledger", "genesis", "--genesis"])
            .arg(dir.join("node0/config/genesis.json"));
        for i in 0..n {
            let m = member_name(i);
            let key = dir.join(format!("node{i}/config/member-key.json"));
            let pk = new_key(tiezheng, &key);
            genesis_cmd.args(["--member", &format!("{m}={pk}")]);
            member_keys.push((m, pk));
        }
        genesis_cmd.args(["--notary", notary_key]);
        let out = genesis_cmd.output().unwrap();
        assert!(
            out.status.success(),
            "tiezheng ledger genesis: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let genesis_text = std::fs::read_to_string(dir.join("node0/config/genesis.json")).unwrap();
        let genesis: Value = serde_json::from_str(&genesis_text).unwrap();
        for i in 0..n {
            std::fs::write(
                dir.join(format!("node{i}/config/genesis.json")),
                &genesis_text,
            )
            .unwrap();
            let cfg = dir.join(format!("node{i}/config/config.toml"));
            let text = std::fs::read_to_string(&cfg)
                .unwrap()
                .replace(
                    "timeout_commit = \"1s\"",
                    &format!("timeout_commit = \"{timeout_commit}\""),
                )
                .replace("timeout_propose = \"3s\"", "timeout_propose = \"1s\"")
                .replace(
                    "peer_gossip_sleep_duration = \"100ms\"",
                    &format!(
                        "peer_gossip_sleep_duration = \"{}\"",
                        std::env::var("TIEZHENG_TESTNET_GOSSIP_SLEEP")
                            .unwrap_or_else(|_| "100ms".into())
                    ),
                );
            std::fs::write(&cfg, text).unwrap();
        }
        std::fs::create_dir_all(dir.join("logs")).unwrap();
        let mut net = Self {
            dir: dir.to_owned(),
            cometbft,
            tiezheng: tiezheng.to_owned(),
            validators: (0..n)
                .map(|i| Validator {
                    index: i,
                    member: member_name(i),
                    ip: format!("127.0.0.{}", 11 + i),
                    app: None,
                    node: None,
                })
                .collect(),
            chain_id: genesis["chain_id"].as_str().unwrap().to_owned(),
            member_keys,
            genesis_validators: genesis["validators"].as_array().unwrap().clone(),
        };
        for i in 0..n {
            net.start_app(i);
        }
        for i in 0..n {
            net.start_node(i);
        }
        net
    }

    fn log(&self, name: &str) -> std::fs::File {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("logs").join(name))
            .unwrap()
    }

    /// Starts validator `i`'s ledger application (a fresh process: empty state).
    pub fn start_app(&mut self, i: usize) {
        let ip = self.validators[i].ip.clone();
        let child = Command::new(&self.tiezheng)
            .args(["ledger", "serve", "--listen", &format!("{ip}:26658")])
            .args(["--member", &self.validators[i].member, "--key"])
            .arg(self.dir.join(format!("node{i}/config/member-key.json")))
            .stdout(Stdio::null())
            .stderr(self.log(&format!("app{i}.log")))
            .spawn()
            .unwrap();
        self.validators[i].app = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(format!("{ip}:26658")).is_err() {
            assert!(Instant::now() < deadline, "ledger app {i} did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Starts validator `i`'s CometBFT node.
    pub fn start_node(&mut self, i: usize) {
        let ip = self.validators[i].ip.clone();
        let child = Command::new(&self.cometbft)
            .arg("start")
            .arg("--home")
            .arg(self.dir.join(format!("node{i}")))
            .args(["--proxy_app", &format!("tcp://{ip}:26658")])
            .args(["--rpc.laddr", &format!("tcp://{ip}:26657")])
            .args(["--p2p.laddr", &format!("tcp://{ip}:26656")])
            .stdout(self.log(&format!("node{i}.log")))
            .stderr(self.log(&format!("node{i}.log")))
            .spawn()
            .unwrap();
        self.validators[i].node = Some(child);
    }

    /// A new member's node `n` (the next index, on 127.0.0.(11+n)): `cometbft init`, the
    /// network's genesis, the testnet's settings, every existing node as a persistent peer,
    /// and the member's SM2 key. Started (app and node) as a full node that syncs; it becomes
    /// a validator when governance says so. Returns `(index, SM2 public key hex)`.
    pub fn join(&mut self, member: &str) -> (usize, String) {
        let i = self.validators.len();
        let home = self.dir.join(format!("node{i}"));
        let out = Command::new(&self.cometbft)
            .args(["init", "--home"])
            .arg(&home)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::copy(
            self.dir.join("node0/config/genesis.json"),
            home.join("config/genesis.json"),
        )
        .unwrap();
        let peers: Vec<String> = self
            .validators
            .iter()
            .map(|v| format!("{}@{}:26656", self.node_id(v.index), v.ip))
            .collect();
        // The settings of the genesis nodes (`cometbft testnet` wrote them), with this node's
        // moniker, peers and key files.
        let template = std::fs::read_to_string(self.dir.join("node0/config/config.toml")).unwrap();
        let config: String = template
            .lines()
            .map(|l| {
                if l.starts_with("moniker = ") {
                    format!("moniker = \"{member}\"")
                } else if l.starts_with("persistent_peers = ") {
                    format!("persistent_peers = \"{}\"", peers.join(","))
                } else {
                    l.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        std::fs::write(home.join("config/config.toml"), config + "\n").unwrap();
        let pk = new_key(&self.tiezheng, &home.join("config/member-key.json"));
        self.validators.push(Validator {
            index: i,
            member: member.to_owned(),
            ip: format!("127.0.0.{}", 11 + i),
            app: None,
            node: None,
        });
        self.member_keys.push((member.to_owned(), pk.clone()));
        self.start_app(i);
        self.start_node(i);
        (i, pk)
    }

    /// Node `i`'s CometBFT node ID.
    pub fn node_id(&self, i: usize) -> String {
        let out = Command::new(&self.cometbft)
            .args(["show-node-id", "--home"])
            .arg(self.dir.join(format!("node{i}")))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Node `i`'s validator key file (CometBFT's `priv_validator_key.json`).
    pub fn validator_key_file(&self, i: usize) -> PathBuf {
        self.dir
            .join(format!("node{i}/config/priv_validator_key.json"))
    }

    /// Node `i`'s member SM2 key file.
    pub fn member_key_file(&self, i: usize) -> PathBuf {
        self.dir.join(format!("node{i}/config/member-key.json"))
    }

    /// A governance change through the operators' commands: `tiezheng ledger propose` with
    /// `change` (its flags), approved with `ledger approve --rpc` by the members of `approvers`
    /// (indices of their nodes), and `ledger submit`ted through node `via`, which waits until
    /// it applies.
    pub fn govern(&self, change: &[&str], approvers: &[usize], via: usize) {
        let file = self.dir.join(format!(
            "proposal-{}.json",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        let path = file.to_str().unwrap();
        let run = |args: &[&str]| {
            let out = Command::new(&self.tiezheng)
                .arg("ledger")
                .args(args)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "tiezheng ledger {args:?}: {}\n{}",
                String::from_utf8_lossy(&out.stderr),
                self.tail_logs()
            );
        };
        let rpc = self.rpc(via);
        let mut propose = vec!["propose", "--rpc", &rpc];
        propose.extend_from_slice(change);
        propose.extend_from_slice(&["--reason", "consortium resolution", "--out", path]);
        run(&propose);
        for &a in approvers {
            let key = self.member_key_file(a);
            run(&[
                "approve",
                path,
                "--member",
                &self.validators[a].member,
                "--key",
                key.to_str().unwrap(),
                "--rpc",
                &rpc,
            ]);
        }
        run(&["submit", path, "--rpc", &rpc]);
    }

    /// The validator set node `i` reports (`/validators`): `(pub_key base64, power)`, sorted.
    pub fn validator_set(&self, i: usize) -> Vec<(String, u64)> {
        let v = self.get(i, "/validators?per_page=100").unwrap_or_default();
        let mut out: Vec<(String, u64)> = v["validators"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|x| {
                (
                    x["pub_key"]["value"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                    x["voting_power"]
                        .as_str()
                        .unwrap_or("0")
                        .parse()
                        .unwrap_or(0),
                )
            })
            .collect();
        out.sort();
        out
    }

    /// SIGKILL of validator `i`'s node.
    pub fn kill_node(&mut self, i: usize) {
        if let Some(mut c) = self.validators[i].node.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGKILL of validator `i`'s ledger application.
    pub fn kill_app(&mut self, i: usize) {
        if let Some(mut c) = self.validators[i].app.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Whether validator `i`'s node process is still running.
    pub fn node_running(&mut self, i: usize) -> bool {
        self.validators[i]
            .node
            .as_mut()
            .is_some_and(|c| c.try_wait().ok().flatten().is_none())
    }

    /// RPC base URL of node `i`.
    pub fn rpc(&self, i: usize) -> String {
        format!("http://{}:26657", self.validators[i].ip)
    }

    /// GET `path` on node `i`'s RPC: its `result`, or `None` if it does not answer.
    pub fn get(&self, i: usize, path: &str) -> Option<Value> {
        let (s, b) = super::try_http("GET", &format!("{}{path}", self.rpc(i)), None, b"").ok()?;
        if s != 200 {
            return None;
        }
        let v: Value = serde_json::from_slice(&b).ok()?;
        v.get("result").cloned()
    }

    /// Node `i`'s latest height, if it answers.
    pub fn height(&self, i: usize) -> Option<u64> {
        self.get(i, "/status")?["sync_info"]["latest_block_height"]
            .as_str()?
            .parse()
            .ok()
    }

    /// Waits until node `i` reaches `height`.
    pub fn wait_height(&self, i: usize, height: u64, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            if self.height(i).is_some_and(|h| h >= height) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "node {i} did not reach height {height} within {within:?} (at {:?}); logs:\n{}",
                self.height(i),
                self.tail_logs()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// `abci_query` on node `i`: `(code, value)`.
    pub fn query(&self, i: usize, path: &str, data_hex: &str) -> Option<(u64, Vec<u8>)> {
        use base64::Engine as _;
        let r = self.get(
            i,
            &format!("/abci_query?path=%22{path}%22&data=0x{data_hex}"),
        )?;
        let resp = &r["response"];
        let value = base64::engine::general_purpose::STANDARD
            .decode(resp["value"].as_str().unwrap_or(""))
            .ok()?;
        Some((resp["code"].as_u64().unwrap_or(0), value))
    }

    /// The ends of every log, for failure messages.
    pub fn tail_logs(&self) -> String {
        let mut out = String::new();
        for i in 0..self.validators.len() {
            for name in [format!("node{i}.log"), format!("app{i}.log")] {
                let text =
                    std::fs::read_to_string(self.dir.join("logs").join(&name)).unwrap_or_default();
                let lines: Vec<&str> = text.lines().collect();
                out.push_str(&format!("--- {name}\n"));
                for l in &lines[lines.len().saturating_sub(8)..] {
                    out.push_str(l);
                    out.push('\n');
                }
            }
        }
        out
    }

    /// A court's policy for this network: its chain, `notary_key`, the members' SM2 keys
    /// (power 1 each) and the validators pinned from genesis.
    pub fn court_policy(&self, notary_key: &str) -> tiezheng_protocol::bundle::Policy {
        tiezheng_protocol::bundle::Policy {
            chain_id: self.chain_id.clone(),
            notary_keys: vec![notary_key.to_owned()],
            members: self
                .member_keys
                .iter()
                .map(|(id, k)| tiezheng_protocol::bundle::PolicyMember {
                    id: id.clone(),
                    public_key: k.clone(),
                    power: 1,
                })
                .collect(),
            validators: self.pinned_validators(),
            parties: Vec::new(),
        }
    }

    /// The validator set as a court pins it in its policy.
    pub fn pinned_validators(&self) -> Vec<tiezheng_protocol::cometbft::PolicyValidator> {
        self.genesis_validators
            .iter()
            .map(|v| tiezheng_protocol::cometbft::policy_validator_from_rpc(v).unwrap())
            .collect()
    }
}

impl Drop for Testnet {
    fn drop(&mut self) {
        for i in 0..self.validators.len() {
            self.kill_node(i);
            self.kill_app(i);
        }
    }
}
