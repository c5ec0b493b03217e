//! Operator safety (issue #25) against the real `tiezheng serve`: administrator tokens that
//! rotate and are never weak, tokens listed without their secrets, answers that no browser or
//! proxy keeps, metrics behind a token or on their own listener, and a data directory that
//! only the notary's account can read.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod common;

use std::path::Path;

use common::{capture, cli, device, notary};

const FIRST: &str = "tza_first-admin-0123456789abcdef0123";
const SECOND: &str = "tza_second-admin-0123456789abcdef012";

#[test]
fn weak_administrator_tokens_are_refused_at_start() {
    let tmp = tempfile::tempdir().unwrap();
    for (weak, why) in [
        ("", "too short"),
        ("admin", "too short"),
        ("0123456789abcdef0123456", "too short"),
        ("tza_with a space 0123456789abcdef0123", "alphabet"),
        (
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "different characters",
        ),
    ] {
        let out = common::tiezheng()
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(tmp.path().join("weak"))
            .env("TIEZHENG_NOTARY_ADMIN_TOKEN", weak)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{weak:?} was accepted");
        assert!(
            err.contains("TIEZHENG_NOTARY_ADMIN_TOKEN") && err.contains("openssl rand"),
            "{weak:?} ({why}): {err}"
        );
        if why == "alphabet" {
            assert!(err.contains("outside the token alphabet"), "{err}");
        }
    }
}

#[test]
fn a_new_administrator_token_revokes_the_old_one() {
    let tmp = tempfile::tempdir().unwrap();
    let mut first = notary(tmp.path(), &[("TIEZHENG_NOTARY_ADMIN_TOKEN", FIRST)]);
    let (minted, minted_id) = first.token("admin", &[]);
    let (court, court_id) = first.token("court", &[]);
    first.kill();

    let second = first.restart_with(&[("TIEZHENG_NOTARY_ADMIN_TOKEN", SECOND)]);
    let (s, v) = second.call("GET", "/v1/tokens", Some(FIRST), b"");
    assert_eq!(
        (s, v["message"].as_str()),
        (401, Some("this token has been revoked"))
    );
    assert_eq!(second.call("GET", "/v1/tokens", Some(SECOND), b"").0, 200);

    // The list shows every active token, never a secret; the old bootstrap one with `all`.
    let (_, list) = second.call("GET", "/v1/tokens", Some(SECOND), b"");
    let text = list.to_string();
    for secret in [FIRST, SECOND, minted.as_str(), court.as_str()] {
        assert!(!text.contains(secret), "a secret in the list: {text}");
    }
    let ids: Vec<&str> = list["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["token_id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&minted_id.as_str()) && ids.contains(&court_id.as_str()),
        "{list}"
    );
    let bootstrap: Vec<&serde_json::Value> = list["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["token_id"].as_str().unwrap().starts_with("admin-"))
        .collect();
    assert_eq!(bootstrap.len(), 1, "one bootstrap token is active: {list}");
    assert_eq!(bootstrap[0]["expires_at"], serde_json::Value::Null);
    let (_, all) = second.call("GET", "/v1/tokens?all=true", Some(SECOND), b"");
    let revoked = all["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| {
            t["token_id"].as_str().unwrap().starts_with("admin-") && !t["revoked_at"].is_null()
        })
        .count();
    assert_eq!(revoked, 1, "{all}");

    // A token minted with the leaked one is revoked by ID, from the list, with the CLI.
    assert_eq!(second.call("GET", "/v1/tokens", Some(&minted), b"").0, 200);
    let out = common::tiezheng()
        .args([
            "admin",
            "revoke-token",
            "--notary",
            &second.url,
            "--token-id",
            &minted_id,
        ])
        .env("TIEZHENG_ADMIN_TOKEN", SECOND)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(second.call("GET", "/v1/tokens", Some(&minted), b"").0, 401);
    let out = common::tiezheng()
        .args(["admin", "tokens", "--notary", &second.url])
        .env("TIEZHENG_ADMIN_TOKEN", SECOND)
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(
        listed.contains(&court_id) && !listed.contains(&minted_id),
        "{listed}"
    );
}

/// The raw head of an answer, lower-cased.
fn head(url: &str, path: &str, token: Option<&str>) -> (u16, String) {
    use std::io::{Read as _, Write as _};
    let host = url.strip_prefix("http://").unwrap();
    let mut s = std::net::TcpStream::connect(host).unwrap();
    let auth = token.map_or_else(String::new, |t| format!("Authorization: Bearer {t}\r\n"));
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\n{auth}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut resp = Vec::new();
    let _ = s.read_to_end(&mut resp);
    let split = resp.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&resp[..split]).to_ascii_lowercase();
    (
        head.split_whitespace().nth(1).unwrap().parse().unwrap(),
        head,
    )
}

#[test]
fn answers_are_never_cached_and_metrics_listen_apart() {
    let tmp = tempfile::tempdir().unwrap();
    let metrics_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let listen = format!("127.0.0.1:{metrics_port}");
    let n = notary(tmp.path(), &[("TIEZHENG_NOTARY_METRICS_LISTEN", &listen)]);
    for (path, token) in [
        ("/v1/tokens", Some(n.admin.as_str())),
        ("/v1/tokens", None),
        ("/v1/nothing", None),
        ("/readyz", None),
    ] {
        let (_, h) = head(&n.url, path, token);
        assert!(h.contains("\r\ncache-control: no-store"), "{path}: {h}");
        assert!(
            h.contains("\r\nx-content-type-options: nosniff"),
            "{path}: {h}"
        );
    }
    assert_eq!(head(&n.url, "/metrics", None).0, 401);
    let (s, h) = head(&format!("http://{listen}"), "/metrics", None);
    assert_eq!(s, 200, "{h}");
    let (_, body) = common::http("GET", &format!("http://{listen}/metrics"), None, b"");
    assert!(
        String::from_utf8_lossy(&body).contains("tiezheng_"),
        "metrics served apart"
    );
    assert_eq!(
        common::http("GET", &format!("http://{listen}/v1/tokens"), None, b"").0,
        404
    );
}

#[cfg(unix)]
fn modes(root: &Path, out: &mut Vec<(String, u32, bool)>) {
    use std::os::unix::fs::PermissionsExt as _;
    let meta = std::fs::symlink_metadata(root).unwrap();
    out.push((
        root.display().to_string(),
        meta.permissions().mode() & 0o777,
        meta.is_dir(),
    ));
    if meta.is_dir() {
        for e in std::fs::read_dir(root).unwrap() {
            modes(&e.unwrap().path(), out);
        }
    }
}

#[cfg(unix)]
#[test]
fn every_file_the_notary_and_the_device_write_is_private() {
    use std::os::unix::fs::PermissionsExt as _;
    let tmp = tempfile::tempdir().unwrap();
    let n = notary(tmp.path(), &[("TIEZHENG_NOTARY_BATCH_MAX_MS", "50")]);
    let dev = device(tmp.path(), "dev", &n);
    capture(&dev, "photos/DSCN0010.jpg");
    cli(&dev, &["sync"]);

    // Finished media of the notary are read-only; everything else 0600, directories 0700.
    let check = |root: &Path, media_read_only: bool| {
        let mut all = Vec::new();
        modes(root, &mut all);
        assert!(all.len() > 3, "{all:?}");
        for (path, mode, dir) in &all {
            let finished_media =
                media_read_only && path.contains("/media/") && !path.contains("/partial");
            let ok = if *dir {
                *mode == 0o700
            } else if finished_media {
                *mode == 0o400
            } else {
                *mode == 0o600
            };
            assert!(ok, "{path} is {mode:o}");
        }
        all
    };
    let written = check(&n.data_dir, true);
    assert!(
        written
            .iter()
            .any(|(p, m, _)| p.contains("/media/") && *m == 0o400),
        "a finished media file: {written:?}"
    );
    if !common::on_postgres() {
        assert!(written.iter().any(|(p, _, _)| p.ends_with("notary.db")));
    }
    check(&dev, false);

    // An installation from before: opened up, then tightened at the next start.
    let mut n = n;
    n.kill();
    std::fs::set_permissions(&n.data_dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let key = n.data_dir.join("notary-key.json");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let again = n.restart();
    check(&again.data_dir, true);
}

/// A test certificate authority and a server certificate for 127.0.0.1 and localhost, made with
/// OpenSSL's command line: `(ca.pem, cert.pem, key.pem)`.
fn test_pki(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    common::require_tool("openssl", "openssl", "the TLS tests");
    let run = |args: &[&str]| {
        let out = std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    std::fs::write(
        dir.join("san.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    run(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=Tiezheng test CA",
    ]);
    run(&[
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "key.pem",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "cert.pem",
        "-days",
        "2",
        "-extfile",
        "san.ext",
    ]);
    (
        dir.join("ca.pem"),
        dir.join("cert.pem"),
        dir.join("key.pem"),
    )
}

fn curl(ca: &Path, url: &str, token: Option<&str>) -> (String, String) {
    common::require_tool("curl", "curl", "the TLS tests");
    let mut c = std::process::Command::new("curl");
    c.args(["-sS", "-o", "-", "-w", "\n%{http_code}", "--cacert"])
        .arg(ca)
        .arg(url);
    if let Some(t) = token {
        c.args(["-H", &format!("Authorization: Bearer {t}")]);
    }
    let out = c.output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", ""));
    (
        code.to_owned(),
        format!("{body}{}", String::from_utf8_lossy(&out.stderr)),
    )
}

#[test]
fn tls_end_to_end_plain_http_off_loopback_refused_and_the_notary_key_pinned() {
    let tmp = tempfile::tempdir().unwrap();
    let (ca, cert, key) = test_pki(tmp.path());

    // Plain HTTP where other machines can listen in is refused, with what to do.
    let out = common::tiezheng()
        .args(["serve", "--listen", "0.0.0.0:0", "--data-dir"])
        .arg(tmp.path().join("open"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("BEHIND_TLS_PROXY"),
        "{err}"
    );
    // So is a certificate address that is not https off loopback.
    let out = common::tiezheng()
        .args(["serve", "--listen", "0.0.0.0:0", "--data-dir"])
        .arg(tmp.path().join("open"))
        .env("TIEZHENG_NOTARY_BEHIND_TLS_PROXY", "true")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("PUBLIC_URL"), "{err}");
    // So are the demonstration issuer's credentials, and a credit code with a wrong check
    // character anywhere (certificates state them for good).
    let out = common::tiezheng()
        .args(["serve", "--listen", "0.0.0.0:0", "--data-dir"])
        .arg(tmp.path().join("open"))
        .env("TIEZHENG_NOTARY_BEHIND_TLS_PROXY", "true")
        .env("TIEZHENG_NOTARY_PUBLIC_URL", "https://notary.example.cn")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success()
            && err.contains("ISSUER_CREDIT_CODE")
            && err.contains("demonstration"),
        "{err}"
    );
    let out = common::tiezheng()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(tmp.path().join("typo"))
        .env("TIEZHENG_NOTARY_ISSUER_CREDIT_CODE", "91330100716105852G")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("credit_code") && err.contains("check character"),
        "{err}"
    );

    let (cert, key) = (cert.to_str().unwrap(), key.to_str().unwrap());
    let n = notary(
        tmp.path(),
        &[
            ("TIEZHENG_NOTARY_TLS_CERT_FILE", cert),
            ("TIEZHENG_NOTARY_TLS_KEY_FILE", key),
            ("TIEZHENG_NOTARY_BATCH_MAX_MS", "50"),
        ],
    );
    assert!(n.url.starts_with("https://127.0.0.1:"), "{}", n.url);
    let url = n.url.clone();

    // Pages and the API over https, trusted through the test authority only.
    let (code, body) = curl(&ca, &format!("{url}/verify"), None);
    assert_eq!(code, "200", "{body}");
    let (code, notary_key) = curl(&ca, &format!("{url}/v1/notary"), None);
    assert_eq!(code, "200", "{notary_key}");
    let key_id = serde_json::from_str::<serde_json::Value>(notary_key.trim()).unwrap()["key_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (code, _) = curl(&ca, &format!("{url}/v1/tokens"), Some(&n.admin));
    assert_eq!(code, "200");

    let admin = |args: &[&str]| {
        let out = common::tiezheng()
            .arg("admin")
            .args(args)
            .args(["--notary", &url])
            .env("TIEZHENG_ADMIN_TOKEN", &n.admin)
            .env("TIEZHENG_CA_FILE", &ca)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        common::json_lines(&out.stdout).remove(0)
    };
    let dev = common::init_device(tmp.path(), "dev");
    let enrol = |code: &str, pin: &str| {
        common::tiezheng()
            .args(["enrol", "--dir"])
            .arg(&dev)
            .args(["--notary", &url, "--code", code, "--notary-key", pin])
            .env("TIEZHENG_PIN", common::PIN)
            .env("TIEZHENG_CA_FILE", &ca)
            .output()
            .unwrap()
    };
    // Another key pinned: refused, and nothing stored.
    let code = admin(&["enrolment-code", "--officer", "310101"])["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let other = "ab".repeat(32);
    let out = enrol(&code, &other);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains(&other) && err.contains(&key_id),
        "{err}"
    );
    assert!(
        !dev.join("notary.json").exists(),
        "nothing stored after a pinning refusal"
    );
    // Without the test authority, the certificate is not trusted.
    let out = common::tiezheng()
        .args(["enrol", "--dir"])
        .arg(&dev)
        .args(["--notary", &url, "--code", &code])
        .env("TIEZHENG_PIN", common::PIN)
        .env_remove("TIEZHENG_CA_FILE")
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "an untrusted certificate was accepted"
    );
    // The right key: enrolled, then intake over https.
    let out = enrol(&code, &key_id);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    capture(&dev, "photos/DSCN0010.jpg");
    let out = common::tiezheng()
        .args(["sync", "--dir"])
        .arg(&dev)
        .env("TIEZHENG_CA_FILE", &ca)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (code, answer) = curl(&ca, &format!("{url}/v1/cases"), Some(&n.admin));
    assert_eq!(code, "200", "{answer}");
    assert!(answer.contains("CASE-1"), "{answer}");
}

#[test]
fn reads_are_recorded_compactly_paged_and_budgeted_and_every_one_stays_provable() {
    let tmp = tempfile::tempdir().unwrap();
    let n = notary(
        tmp.path(),
        &[
            ("TIEZHENG_NOTARY_TOKEN_REQUESTS_PER_SECOND", "0"),
            ("TIEZHENG_NOTARY_TOKEN_READS_PER_DAY", "400"),
        ],
    );
    let dev = device(tmp.path(), "dev", &n);
    let proof = capture(&dev, "photos/DSCN0010.jpg");
    cli(&dev, &["sync"]);
    let sm3 = tiezheng_protocol::Proof::verify_bytes(&proof)
        .unwrap()
        .proof_sm3
        .to_hex();
    let (court, court_id) = n.token("court", &[]);
    let actor = format!("court:{court_id}");
    let view = |q: &str| {
        let (s, b) = common::http(
            "GET",
            &format!("{}/v1/proofs/{sm3}{q}", n.url),
            Some(&court),
            b"",
        );
        assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
        (b.len(), common::json_body(&b))
    };
    let (first_size, _) = view("");
    let reads = 300;
    for _ in 1..reads {
        view("");
    }
    let (size, v) = view("");
    let reads = reads + 1;
    assert!(
        size < first_size * 2,
        "the view grew from {first_size} to {size} bytes"
    );
    // Every read is provable: chained events, summaries of counted minutes, and the counts of
    // the current minute (durable, chained once it is over).
    let provable = |v: &serde_json::Value| -> i64 {
        let chained: i64 = v["custody"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["event"] == "viewed" && e["actor"] == actor.as_str())
            .map(|e| {
                // A summary event stands for the reads it counts; any other for one read.
                let d = e["detail"].as_str().unwrap();
                d.split(": ")
                    .nth(1)
                    .and_then(|m| m.split(' ').next())
                    .and_then(|k| k.parse::<i64>().ok())
                    .unwrap_or(1)
            })
            .sum();
        chained + v["custody_page"]["repeats_pending"].as_i64().unwrap()
    };
    assert_eq!(provable(&v), reads, "{v}");
    let viewed = v["custody"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "viewed")
        .count();
    assert!(viewed <= 3, "one event per minute of reads, not {viewed}");

    // The minute over, the counts are chained as one event (as the notary does every 5 s).
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = tiezheng_notary::store::Store::connect(&common::database_url(&n))
            .await
            .unwrap();
        store
            .flush_custody_repeats(tiezheng_notary::api::now_ms() + 120_000)
            .await
            .unwrap();
    });
    let (_, v) = view("");
    let reads = reads + 1;
    assert_eq!(provable(&v), reads, "{v}");
    let events: Vec<tiezheng_protocol::custody::CustodyEvent> =
        serde_json::from_value(v["custody"].clone()).unwrap();
    assert!(tiezheng_protocol::custody::check_chain(&events).intact);
    assert!(
        events
            .iter()
            .any(|e| e.detail.contains("more time(s) in the minute from")),
        "{v}"
    );

    // A page at a time, newest first, with the way back.
    let (_, page) = view("?custody_limit=2");
    let reads = reads + 1;
    assert_eq!(page["custody"].as_array().unwrap().len(), 2);
    let older = page["custody_page"]["older"].as_str().unwrap().to_owned();
    assert_eq!(
        page["custody_page"]["head"]["seq"],
        page["custody"][1]["seq"]
    );
    let (_, back) = view(&format!(
        "{}&custody_limit=2",
        older.split_once('?').map(|(_, q)| format!("?{q}")).unwrap()
    ));
    let reads = reads + 1;
    assert!(
        back["custody"][1]["seq"].as_i64().unwrap() < page["custody"][0]["seq"].as_i64().unwrap()
    );
    let (s, _) = common::http(
        "GET",
        &format!("{}/v1/proofs/{sm3}?custody_limit=0", n.url),
        Some(&court),
        b"",
    );
    assert_eq!(s, 400);

    // The daily read budget (400 here): then 429 with Retry-After, until it refills.
    let mut refused = 0;
    for _ in reads..410 {
        let (s, _) = common::http(
            "GET",
            &format!("{}/v1/proofs/{sm3}", n.url),
            Some(&court),
            b"",
        );
        if s == 429 {
            refused += 1;
        }
    }
    assert!(refused >= 5, "{refused} refused");
}
