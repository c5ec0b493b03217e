//! Helpers for the end-to-end tests: run the real `tiezheng` binary, find the sample media
//! (`tests/corpus`, plus `../shared/corpus` as extra data when CI puts it beside the repository).
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]
#![allow(clippy::indexing_slicing)]

pub mod pdf;
pub mod testnet;

use std::path::PathBuf;
use std::process::{Command, Output};

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `tests/corpus`: the sample media kept in the repository, enough for every test.
pub fn corpus_dir() -> PathBuf {
    repo_root().join("tests/corpus")
}

/// `../shared/corpus` beside the repository, when it is there: extra media, never required.
pub fn shared_corpus_dir() -> Option<PathBuf> {
    let dir = repo_root().join("../shared/corpus");
    dir.join("expected.json").is_file().then_some(dir)
}

fn read_expected(dir: &std::path::Path) -> serde_json::Map<String, serde_json::Value> {
    let path = dir.join("expected.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `tests/corpus/expected.json`: sizes, SM3 and SHA-256 from OpenSSL and hashlib, and the
/// fields ExifTool reads, for every file of the repository's corpus.
pub fn repo_expected() -> serde_json::Map<String, serde_json::Value> {
    read_expected(&corpus_dir())
}

/// The expected values of every corpus file the tests check: the repository's, plus the other
/// files of `../shared/corpus/expected.json` when `../shared` is there. Keys are paths inside
/// the corpus (`photos/DSCN0010.jpg`); [`corpus_path`] finds the file.
pub fn expected() -> serde_json::Map<String, serde_json::Value> {
    let mut all = repo_expected();
    if let Some(dir) = shared_corpus_dir() {
        for (name, value) in read_expected(&dir) {
            if let Some(ours) = all.get(&name) {
                assert_eq!(
                    ours, &value,
                    "{name}: tests/corpus and ../shared/corpus differ"
                );
            } else {
                all.insert(name, value);
            }
        }
    }
    all
}

/// The file `name` (a key of [`expected`]): in `tests/corpus`, else in `../shared/corpus`.
pub fn corpus_path(name: &str) -> PathBuf {
    let ours = corpus_dir().join(name);
    if ours.exists() {
        return ours;
    }
    match shared_corpus_dir() {
        Some(dir) if dir.join(name).exists() => dir.join(name),
        _ => panic!("{name} is in neither tests/corpus nor ../shared/corpus"),
    }
}

/// Fails, naming `tool` and the Debian/Ubuntu package that provides it, unless `tool` is on
/// PATH (the README's "Set-up" lists them all).
pub fn require_tool(tool: &str, apt_package: &str, needed_for: &str) {
    let found = Command::new(tool)
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
    if let Err(e) = found {
        panic!(
            "`{tool}` cannot be run ({e}): {needed_for} need it; install it with `sudo apt-get install {apt_package}`"
        );
    }
}

/// A command running the `tiezheng` binary built for these tests.
pub fn tiezheng() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tiezheng"))
}

/// Runs `tiezheng` with `args`, returning its output.
pub fn run(args: &[&str]) -> Output {
    tiezheng().args(args).output().unwrap()
}

/// Parses JSON Lines.
pub fn json_lines(bytes: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8(bytes.to_vec())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l:?}: {e}")))
        .collect()
}

/// A minimal HTTP/1.1 client over a TCP socket (no dependencies): `(status, body)`.
pub fn http(method: &str, url: &str, token: Option<&str>, body: &[u8]) -> (u16, Vec<u8>) {
    try_http(method, url, token, body).unwrap()
}

/// Like [`http`], with an error instead of a panic when the server cannot be reached.
pub fn try_http(
    method: &str,
    url: &str,
    token: Option<&str>,
    body: &[u8],
) -> std::io::Result<(u16, Vec<u8>)> {
    use std::io::{Read as _, Write as _};
    let rest = url.strip_prefix("http://").expect("http URL");
    let (host, path) = rest
        .split_once('/')
        .map_or((rest, "/".to_owned()), |(h, p)| (h, format!("/{p}")));
    let mut s = std::net::TcpStream::connect(host)?;
    s.set_read_timeout(Some(std::time::Duration::from_secs(30)))?;
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\nContent-Type: application/json\r\n",
        body.len()
    );
    if let Some(t) = token {
        req.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes())?;
    s.write_all(body)?;
    let mut resp = Vec::new();
    s.read_to_end(&mut resp)?;
    let split = resp
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("not an HTTP response"))?;
    let head = String::from_utf8_lossy(&resp[..split]).into_owned();
    let status: u16 = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let mut body = resp[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    Ok((status, body))
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = b.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&b[..eol]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.extend_from_slice(&b[eol + 2..eol + 2 + size]);
        b = &b[eol + 2 + size + 2..];
    }
    out
}

/// JSON body of an HTTP answer.
pub fn json_body(b: &[u8]) -> serde_json::Value {
    serde_json::from_slice(b)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(b)))
}

/// A running `tiezheng serve`, killed on drop.
pub struct Notary {
    pub child: std::process::Child,
    pub url: String,
    pub data_dir: PathBuf,
    pub admin: String,
    pub env: Vec<(String, String)>,
}

impl Notary {
    /// Starts a notary on a free port with `data_dir` and extra environment.
    pub fn start(data_dir: &std::path::Path, env: &[(&str, &str)]) -> Self {
        use std::io::BufRead as _;
        let mut c = tiezheng();
        c.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir);
        c.env(
            "TIEZHENG_NOTARY_ADMIN_TOKEN",
            "tza_test-admin-token-0123456789abcdef",
        );
        for (k, v) in env {
            c.env(k, v);
        }
        // For diagnosis: the notary's log appended to this file (its log level from
        // TIEZHENG_LOG); otherwise discarded.
        let stderr = match std::env::var_os("TIEZHENG_TEST_NOTARY_STDERR") {
            Some(path) => std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_or_else(|_| std::process::Stdio::null(), std::process::Stdio::from),
            None => std::process::Stdio::null(),
        };
        let mut child = c
            .stdout(std::process::Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://") || w.starts_with("https://"))
            .unwrap_or_else(|| panic!("notary did not start: {line:?}"))
            .to_owned();
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let admin = env
            .iter()
            .rev()
            .find(|(k, _)| k == "TIEZHENG_NOTARY_ADMIN_TOKEN")
            .map_or_else(
                || "tza_test-admin-token-0123456789abcdef".to_owned(),
                |(_, v)| v.clone(),
            );
        Self {
            child,
            url,
            data_dir: data_dir.to_owned(),
            admin,
            env,
        }
    }

    /// Starts another notary on the same data directory and database.
    pub fn restart(&self) -> Self {
        let env: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        Self::start(&self.data_dir, &env)
    }

    /// Starts another notary on the same data directory with some settings changed.
    pub fn restart_with(&self, changes: &[(&str, &str)]) -> Self {
        let mut env: Vec<(&str, &str)> = self
            .env
            .iter()
            .filter(|(k, _)| !changes.iter().any(|(c, _)| c == k))
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        env.extend_from_slice(changes);
        Self::start(&self.data_dir, &env)
    }

    /// SIGKILL, no goodbye.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// `(status, json)` of a call.
    pub fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: &[u8],
    ) -> (u16, serde_json::Value) {
        let (s, b) = http(method, &format!("{}{path}", self.url), token, body);
        let v = if b.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_slice(&b).unwrap_or(serde_json::Value::Null)
        };
        (s, v)
    }

    /// A one-time enrolment code for `officer`.
    pub fn code(&self, officer: &str) -> String {
        let (s, v) = self.call(
            "POST",
            "/v1/enrolment-codes",
            Some(&self.admin),
            serde_json::json!({"officer_id": officer})
                .to_string()
                .as_bytes(),
        );
        assert_eq!(s, 201, "{v}");
        v["code"].as_str().unwrap().to_owned()
    }

    /// A token of `role` (appraisers granted `cases`).
    pub fn token(&self, role: &str, cases: &[&str]) -> (String, String) {
        let (s, v) = self.call(
            "POST",
            "/v1/tokens",
            Some(&self.admin),
            serde_json::json!({"role": role, "subject": "test", "cases": cases})
                .to_string()
                .as_bytes(),
        );
        assert_eq!(s, 201, "{v}");
        (
            v["token"].as_str().unwrap().to_owned(),
            v["token_id"].as_str().unwrap().to_owned(),
        )
    }
}

impl Drop for Notary {
    fn drop(&mut self) {
        self.kill();
    }
}

/// PostgreSQL when `TIEZHENG_TEST_DATABASE_URL` names a server: each notary gets a fresh
/// database on it (created with `psql`), so tests running in parallel never share state.
pub fn db_env() -> Vec<(&'static str, String)> {
    match std::env::var("TIEZHENG_TEST_DATABASE_URL") {
        Ok(base) if !base.is_empty() => {
            let name = format!(
                "tz_{}",
                tiezheng_protocol::Hash32::sm3(
                    format!(
                        "{:?}{:?}",
                        std::time::SystemTime::now(),
                        std::thread::current().id()
                    )
                    .as_bytes()
                )
                .to_hex()
                .get(..16)
                .unwrap()
            );
            let out = Command::new("psql")
                .arg(&base)
                .args(["-q", "-c", &format!("CREATE DATABASE {name}")])
                .output()
                .expect("psql is needed for the PostgreSQL tests");
            assert!(
                out.status.success(),
                "creating {name}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let url = match base.rsplit_once('/') {
                Some((server, _)) => format!("{server}/{name}"),
                None => panic!("TIEZHENG_TEST_DATABASE_URL must end with /DATABASE"),
            };
            vec![("TIEZHENG_NOTARY_DATABASE_URL", url)]
        }
        _ => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must run the notary tests on PostgreSQL too: set TIEZHENG_TEST_DATABASE_URL"
            );
            Vec::new()
        }
    }
}

pub fn on_postgres() -> bool {
    std::env::var("TIEZHENG_TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty())
}

/// A notary with its own data directory (and, on PostgreSQL, its own database schema state:
/// each test uses distinct devices, so shared tables do not interfere).
pub fn notary(dir: &std::path::Path, extra: &[(&str, &str)]) -> Notary {
    let env = db_env();
    let mut all: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    all.extend_from_slice(extra);
    Notary::start(&dir.join("notary"), &all)
}

/// The database URL a notary started by [`notary`] uses (to inspect it as an auditor would).
pub fn database_url(n: &Notary) -> String {
    n.env
        .iter()
        .find(|(k, _)| k == "TIEZHENG_NOTARY_DATABASE_URL")
        .map_or_else(
            || format!("sqlite://{}", n.data_dir.join("notary.db").display()),
            |(_, v)| v.clone(),
        )
}

/// The device PIN of the tests.
pub const PIN: &str = "97531";

pub fn cli(dir: &std::path::Path, args: &[&str]) -> Output {
    let mut c: Command = tiezheng();
    c.args(args).arg("--dir").arg(dir).env("TIEZHENG_PIN", PIN);
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "tiezheng {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A device directory enrolled with `n`.
pub fn device(root: &std::path::Path, name: &str, n: &Notary) -> PathBuf {
    let dir = init_device(root, name);
    let code = n.code("310101");
    cli(&dir, &["enrol", "--notary", &n.url, "--code", &code]);
    dir
}

/// A new device directory for two officers, not enrolled yet.
pub fn init_device(root: &std::path::Path, name: &str) -> PathBuf {
    let dir = root.join(name);
    cli(
        &dir,
        &[
            "device",
            "init",
            "--officer",
            "310101",
            "--officer",
            "310102",
            "--danger-kdf-iterations",
            "100",
        ],
    );
    dir
}

pub fn capture(dir: &std::path::Path, file: &str) -> Vec<u8> {
    let path = corpus_path(file);
    let out = cli(
        dir,
        &[
            "capture",
            path.to_str().unwrap(),
            "--case",
            "CASE-1",
            "--witness-note",
            "none",
        ],
    );
    out.stdout.trim_ascii_end().to_vec()
}

pub fn wait_for_bundle(n: &Notary, token: &str, proof_sm3: &str) -> serde_json::Value {
    wait_for_bundle_within(n, token, proof_sm3, std::time::Duration::from_secs(10))
}

/// The bundle of `proof_sm3` once anchored, waiting at most `within`.
pub fn wait_for_bundle_within(
    n: &Notary,
    token: &str,
    proof_sm3: &str,
    within: std::time::Duration,
) -> serde_json::Value {
    let deadline = std::time::Instant::now() + within;
    while std::time::Instant::now() < deadline {
        let (s, v) = n.call(
            "GET",
            &format!("/v1/proofs/{proof_sm3}/bundle"),
            Some(token),
            b"",
        );
        if s == 200 {
            return v;
        }
        assert_eq!(
            (s, v["code"].as_str().unwrap_or("")),
            (409, "not_yet_anchored"),
            "{v}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("proof {proof_sm3} was not anchored within {within:?}");
}

/// A device enrolled with a notary, with proofs signed ahead of time: a real capture of a
/// corpus photo as `device_seq` 1, then manifests chained to it (for load: benches and the
/// scale-out test).
pub struct Fleet {
    /// The device's API token.
    pub token: String,
    /// Its proofs in sequence order, as JSON values.
    pub proofs: Vec<serde_json::Value>,
    /// The first manifest's RFC 8785 bytes.
    pub manifest: Vec<u8>,
}

/// Creates device `index` in `dir`, enrols it with `n` and signs `count` chained proofs.
pub fn fleet(n: &Notary, dir: &std::path::Path, index: usize, count: usize) -> Fleet {
    use tiezheng_protocol::{Hash32, Timestamp, canonical};
    use tiezheng_sdk::capture::CaptureContext;
    use tiezheng_sdk::client::{NotaryBinding, NotaryClient};
    use tiezheng_sdk::device::{Device, DeviceSetup};
    use tiezheng_sdk::vault::PassphraseVault;

    let vault = PassphraseVault::new("fleet").danger_with_iterations(1);
    let setup = DeviceSetup {
        profile: None,
        officers: vec!["1".into(), "2".into()],
        model: "fleet".into(),
        os: "linux".into(),
    };
    Device::init(dir, setup, &vault).unwrap();
    let device = Device::open(dir).unwrap().unlock(&vault).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(
        NotaryClient::new(&n.url)
            .unwrap()
            .enrol(&device, &n.code("1")),
    )
    .unwrap();
    let token = NotaryBinding::load(dir).unwrap().api_token;
    let photo = std::fs::read(corpus_path("photos/Canon_40D.jpg")).unwrap();
    let ctx = CaptureContext {
        profile: None,
        reasons: Default::default(),
        case: tiezheng_protocol::manifest::CaseRecord {
            reference: format!("FLEET-{index}"),
            cause: None,
            object: None,
            description: None,
            method: "fleet".into(),
            collectors: vec!["1".into(), "2".into()],
            holder: None,
            witness: None,
        },
        device_time: Timestamp::now_utc(),
        monotonic_ms: None,
        gnss_time: None,
        last_time_sync: None,
        os_fix: None,
    };
    let first = device.capture_photo("p.jpg", &photo, &ctx).unwrap().proof;
    let manifest_bytes = canonical::to_canonical_bytes(&first.manifest).unwrap();
    let mut manifest = first.manifest.clone();
    let mut proofs = vec![serde_json::to_value(&first).unwrap()];
    for seq in 2..=count as u64 {
        manifest.previous_manifest_sm3 = Some(Hash32::sm3(
            &canonical::to_canonical_bytes(&manifest).unwrap(),
        ));
        manifest.device_seq = seq;
        manifest.manifest_id = format!("{index:016x}{seq:016x}");
        proofs.push(serde_json::to_value(device.sign(manifest.clone()).unwrap()).unwrap());
    }
    Fleet {
        token,
        proofs,
        manifest: manifest_bytes,
    }
}

/// A keep-alive HTTP/1.1 connection to a notary, as a device's client keeps one.
pub struct Conn {
    reader: std::io::BufReader<std::net::TcpStream>,
    host: String,
}

impl Conn {
    /// Connects to `url` (`http://host:port`).
    pub fn open(url: &str) -> std::io::Result<Self> {
        let host = url.trim_start_matches("http://").trim_end_matches('/');
        let s = std::net::TcpStream::connect(host)?;
        s.set_nodelay(true)?;
        s.set_read_timeout(Some(std::time::Duration::from_secs(60)))?;
        Ok(Self {
            reader: std::io::BufReader::new(s),
            host: host.to_owned(),
        })
    }

    /// POSTs `{"proofs": [...]}`: `(status, answer)`, or an error when the connection fails.
    pub fn submit(
        &mut self,
        token: &str,
        proofs: &[serde_json::Value],
    ) -> std::io::Result<(u16, serde_json::Value)> {
        let body =
            tiezheng_protocol::canonical::canonicalize(&serde_json::json!({ "proofs": proofs }))
                .unwrap();
        self.submit_body(token, &body)
    }

    /// POSTs a body already encoded (`{"proofs": [...]}`, RFC 8785).
    pub fn submit_body(
        &mut self,
        token: &str,
        body: &[u8],
    ) -> std::io::Result<(u16, serde_json::Value)> {
        use std::io::{BufRead as _, Read as _, Write as _};
        let head = format!(
            "POST /v1/proofs HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            self.host,
            body.len()
        );
        let s = self.reader.get_mut();
        s.write_all(head.as_bytes())?;
        s.write_all(body)?;
        let mut status = String::new();
        if self.reader.read_line(&mut status)? == 0 {
            return Err(std::io::Error::other("connection closed"));
        }
        let code: u16 = status
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("not HTTP: {status:?}")))?;
        let mut length = 0;
        loop {
            let mut line = String::new();
            if self.reader.read_line(&mut line)? == 0 {
                return Err(std::io::Error::other("connection closed"));
            }
            if line == "\r\n" {
                break;
            }
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                length = v.trim().parse().unwrap_or(0);
            }
        }
        let mut answer = vec![0; length];
        self.reader.read_exact(&mut answer)?;
        Ok((code, serde_json::from_slice(&answer).unwrap_or_default()))
    }
}

/// The media SM3 (the upload address) a proof's first item declares.
pub fn media_of(proof: &[u8]) -> String {
    tiezheng_protocol::Proof::verify_bytes(proof)
        .unwrap()
        .proof
        .manifest
        .items[0]
        .hashes[0]
        .value
        .to_hex()
}

/// `PUT /v1/media/{sm3}?offset=…` with `bytes`: (status, answer).
pub fn put_media(
    n: &Notary,
    tok: &str,
    sm3: &str,
    offset: usize,
    bytes: &[u8],
) -> (u16, serde_json::Value) {
    n.call(
        "PUT",
        &format!("/v1/media/{sm3}?offset={offset}"),
        Some(tok),
        bytes,
    )
}

/// The verifier's verdict on a bundle: its facts, or its first failure (an unusable policy
/// counts as a `policy` failure).
pub fn verify_bundle(
    bundle: &tiezheng_protocol::bundle::Bundle,
    media: Option<&tiezheng_protocol::verify::MediaEvidence>,
    policy: &tiezheng_protocol::bundle::Policy,
) -> Result<tiezheng_protocol::bundle::BundleReport, tiezheng_protocol::bundle::BundleError> {
    tiezheng_protocol::verify::verify_bundle(bundle, media, policy)?.summary()
}

/// Node, the npm packages and Chromium, or a panic naming what is missing and how to get it.
pub fn browser_tools() -> PathBuf {
    let node = Command::new("node").arg("--version").output();
    assert!(
        node.is_ok_and(|o| o.status.success()),
        "node is not installed: the portal's browser tests run playwright-core on Node.js (apt-get install nodejs npm)"
    );
    let tests = repo_root().join("portal/tests");
    assert!(
        tests.join("node_modules/playwright-core").is_dir(),
        "playwright-core is not installed for the portal's browser tests: run `npm ci --prefix portal/tests` (needs npm: apt-get install npm)"
    );
    let chromium =
        std::env::var("TIEZHENG_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        std::path::Path::new(&chromium).is_file(),
        "Chromium not found at {chromium}: install Debian's package (apt-get install chromium) or set TIEZHENG_CHROMIUM"
    );
    tests
}

/// The portal's test photo captured under `case` on a new device, synced and anchored: the
/// photo's path and the proof's SM3 (hex).
pub fn anchored_photo(
    n: &Notary,
    dir: &std::path::Path,
    case: &str,
    court: &str,
) -> (PathBuf, String) {
    let dev = device(dir, "dev", n);
    let photo = repo_root().join("portal/tests/fixtures/scene.png");
    let out = cli(
        &dev,
        &[
            "capture",
            photo.to_str().unwrap(),
            "--case",
            case,
            "--witness-note",
            "none",
        ],
    );
    let proof = tiezheng_protocol::Hash32::sm3(out.stdout.trim_ascii_end()).to_hex();
    cli(&dev, &["sync"]);
    wait_for_bundle(n, court, &proof);
    (photo, proof)
}

/// `GET path` with `token`, asked again while the notary answers 409 `not_yet_anchored` (a
/// delivered opinion waits for its last steps to be anchored with the custody log), for up to
/// a minute: the status and the body.
pub fn get_when_anchored(n: &Notary, token: &str, path: &str) -> (u16, Vec<u8>) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let (s, body) = http("GET", &format!("{}{path}", n.url), Some(token), b"");
        let waiting = s == 409
            && serde_json::from_slice::<serde_json::Value>(&body)
                .is_ok_and(|v| v["code"] == "not_yet_anchored");
        if !waiting || std::time::Instant::now() > deadline {
            return (s, body);
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}
