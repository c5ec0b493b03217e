//! Media on S3-compatible object storage (issue #15), against a real `s3s-fs` server and the
//! real `tiezheng serve`: resumable uploads land byte-identical in the bucket, written once and
//! never overwritten, read back through the API, and an outage of the object store is answered
//! 503 (nothing acknowledged is lost) and succeeds on retry. Skipped when `s3s-fs` is not
//! installed, unless `TIEZHENG_REQUIRE_S3=1`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(clippy::print_stderr, missing_docs)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Notary, capture, device, media_of, notary, put_media};
use object_store::{ObjectStore as _, PutMode, PutOptions};
use serde_json::Value;
use tiezheng_protocol::Proof;
use tiezheng_sdk::client::NotaryBinding;

const ACCESS_KEY: &str = "tiezheng-test";
const SECRET_KEY: &str = "tiezheng-test-secret-0123456789";
const BUCKET: &str = "evidence";
const PREFIX: &str = "tz";

/// The `s3s-fs` binary: `~/.cache/tiezheng/s3s-fs/bin/s3s-fs`, else on `PATH`.
fn s3s_fs() -> Option<PathBuf> {
    let cached = std::env::var_os("HOME")
        .map(|h| PathBuf::from(h).join(".cache/tiezheng/s3s-fs/bin/s3s-fs"))
        .filter(|p| p.is_file());
    cached.or_else(|| {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join("s3s-fs"))
                .find(|p| p.is_file())
        })
    })
}

fn require_s3s_fs(test: &str) -> Option<PathBuf> {
    let found = s3s_fs();
    if found.is_none() {
        assert!(
            std::env::var("TIEZHENG_REQUIRE_S3").as_deref() != Ok("1"),
            "s3s-fs not found and TIEZHENG_REQUIRE_S3=1: install it with `cargo install s3s-fs --version 0.14.1 --features binary --root ~/.cache/tiezheng/s3s-fs`"
        );
        eprintln!(
            "SKIPPED {test}: s3s-fs not found (~/.cache/tiezheng/s3s-fs/bin or PATH); `.ci/run` installs it"
        );
    }
    found
}

/// A running `s3s-fs`, killed on drop.
struct S3 {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    child: Option<Child>,
}

impl S3 {
    fn start(bin: PathBuf, dir: &Path) -> Self {
        std::fs::create_dir_all(dir.join(BUCKET)).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut s = Self {
            bin,
            dir: dir.to_owned(),
            port,
            child: None,
        };
        s.up();
        s
    }

    fn up(&mut self) {
        let child = Command::new(&self.bin)
            .args(["--host", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "s3s-fs did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn down(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Where s3s-fs keeps the object of a stored file.
    fn object(&self, sm3: &str) -> PathBuf {
        self.dir.join(BUCKET).join(PREFIX).join(&sm3[..2]).join(sm3)
    }

    /// An independent client of the same bucket, as another writer would be.
    fn client(&self) -> object_store::aws::AmazonS3 {
        let _ = tiezheng_sdk::client::NotaryClient::new("http://localhost"); // rustls: ring
        object_store::aws::AmazonS3Builder::new()
            .with_bucket_name(BUCKET)
            .with_region("us-east-1")
            .with_endpoint(self.endpoint())
            .with_allow_http(true)
            .with_access_key_id(ACCESS_KEY)
            .with_secret_access_key(SECRET_KEY)
            .build()
            .unwrap()
    }

    /// Puts `bytes` at the key of `sm3` with `If-None-Match: *`: `Ok` if written, `Err` if not.
    fn put_create(&self, sm3: &str, bytes: &[u8]) -> Result<(), object_store::Error> {
        let client = self.client();
        let key = object_store::path::Path::from(format!("{PREFIX}/{}/{sm3}", &sm3[..2]));
        let body = bytes.to_vec();
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async move {
                let opts = PutOptions {
                    mode: PutMode::Create,
                    ..Default::default()
                };
                client.put_opts(&key, body.into(), opts).await.map(|_| ())
            })
    }
}

impl Drop for S3 {
    fn drop(&mut self) {
        self.down();
    }
}

fn s3_notary(root: &Path, s3: &S3) -> Notary {
    let endpoint = s3.endpoint();
    let url = format!("s3://{BUCKET}/{PREFIX}");
    notary(
        root,
        &[
            ("TIEZHENG_NOTARY_MEDIA_URL", url.as_str()),
            ("TIEZHENG_NOTARY_S3_ENDPOINT", endpoint.as_str()),
            ("TIEZHENG_NOTARY_S3_REGION", "us-east-1"),
            ("TIEZHENG_NOTARY_S3_ACCESS_KEY_ID", ACCESS_KEY),
            ("TIEZHENG_NOTARY_S3_SECRET_ACCESS_KEY", SECRET_KEY),
            ("TIEZHENG_NOTARY_S3_ALLOW_HTTP", "true"),
        ],
    )
}

fn token(dir: &Path) -> String {
    NotaryBinding::load(dir).unwrap().api_token
}

fn proof_sm3(proof: &[u8]) -> String {
    Proof::verify_bytes(proof).unwrap().proof_sm3.to_hex()
}

fn photo(name: &str) -> Vec<u8> {
    std::fs::read(common::corpus_dir().join("photos").join(name)).unwrap()
}

/// A proof of `name` from `dev`, receipted by `n`: `(proof, media SM3, file bytes)`.
fn submit(n: &Notary, dev: &Path, name: &str) -> (Vec<u8>, String, Vec<u8>) {
    let proof = capture(dev, &format!("photos/{name}"));
    let (s, v) = n.call("POST", "/v1/proofs", Some(&token(dev)), &proof);
    assert_eq!(s, 200, "{v}");
    let sm3 = media_of(&proof);
    (proof, sm3, photo(name))
}

fn download(n: &Notary, reader: &str, proof: &[u8]) -> (u16, Vec<u8>) {
    common::http(
        "GET",
        &format!("{}/v1/proofs/{}/media/0", n.url, proof_sm3(proof)),
        Some(reader),
        b"",
    )
}

/// Resumable upload into the bucket, byte-identical; write-once against a second upload and
/// against any other writer; read back through the API; the local folder holds no copy.
#[test]
fn media_on_s3_resumable_write_once_and_read_back() {
    let Some(bin) = require_s3s_fs("media_on_s3_resumable_write_once_and_read_back") else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let s3 = S3::start(bin, &root.path().join("s3"));
    let n = s3_notary(root.path(), &s3);
    let dev = device(root.path(), "dev", &n);
    let tok = token(&dev);
    let (court, _) = n.token("court", &[]);

    // Resumable: a chunk, then the rest.
    let (proof, sm3, file) = submit(&n, &dev, "DSCN0021.jpg");
    let half = file.len() / 2;
    let (s, v) = put_media(&n, &tok, &sm3, 0, &file[..half]);
    assert_eq!((s, v["received"].as_u64()), (202, Some(half as u64)), "{v}");
    assert!(
        !s3.object(&sm3).exists(),
        "nothing in the bucket before the last byte"
    );
    let (s, v) = put_media(&n, &tok, &sm3, half, &file[half..]);
    assert_eq!((s, v["complete"].as_bool()), (201, Some(true)), "{v}");
    assert_eq!(
        std::fs::read(s3.object(&sm3)).unwrap(),
        file,
        "byte-identical"
    );
    assert!(
        !n.data_dir.join("media").join(&sm3[..2]).join(&sm3).exists(),
        "the finished file lives in the bucket only"
    );
    let partial: Vec<_> = std::fs::read_dir(n.data_dir.join("media/partial"))
        .unwrap()
        .collect();
    assert!(partial.is_empty(), "no partial file is left: {partial:?}");

    // Read back through the API, streamed from the bucket.
    let (s, body) = download(&n, &court, &proof);
    assert_eq!(s, 200);
    assert_eq!(body, file);
    let (s, v) = n.call(
        "GET",
        &format!("/v1/proofs/{}/thumbnail/0", proof_sm3(&proof)),
        Some(&court),
        b"",
    );
    assert_eq!(s, 200, "a thumbnail from the bucket: {v}");

    // Write-once: another device's upload of the same file changes nothing...
    let other = device(root.path(), "other", &n);
    let (_, same, _) = submit(&n, &other, "DSCN0021.jpg");
    assert_eq!(same, sm3);
    let before = std::fs::metadata(s3.object(&sm3))
        .unwrap()
        .modified()
        .unwrap();
    let (s, v) = put_media(&n, &token(&other), &sm3, 0, &file);
    assert_eq!((s, v["complete"].as_bool()), (200, Some(true)), "{v}");
    // ...and no writer can replace the object the notary relies on.
    let refused = s3.put_create(&sm3, b"forged");
    assert!(
        matches!(refused, Err(object_store::Error::AlreadyExists { .. })),
        "{refused:?}"
    );
    assert_eq!(std::fs::read(s3.object(&sm3)).unwrap(), file);
    assert_eq!(
        std::fs::metadata(s3.object(&sm3))
            .unwrap()
            .modified()
            .unwrap(),
        before
    );

    // An object already in the bucket under an SM3 (a crash after the put, before the
    // database): it is verified by hashing it back and recorded, not written again.
    let (proof2, sm3_2, file2) = submit(&n, &dev, "DSCN0010.jpg");
    s3.put_create(&sm3_2, &file2).unwrap();
    let (s, v) = put_media(&n, &tok, &sm3_2, 0, &file2[..10]);
    assert_eq!((s, v["complete"].as_bool()), (200, Some(true)), "{v}");
    assert_eq!(download(&n, &court, &proof2).1, file2);

    // A different object under an SM3 is never overwritten, nor accepted as the file.
    let (_, sm3_3, file3) = submit(&n, &dev, "DSCN0025.jpg");
    s3.put_create(&sm3_3, b"not the photo").unwrap();
    let conflict = |(s, v): (u16, Value)| {
        assert_eq!(
            (s, v["code"].as_str().unwrap_or("")),
            (500, "media_store_conflict"),
            "{v}"
        );
    };
    conflict(put_media(&n, &tok, &sm3_3, 0, &file3));
    assert_eq!(std::fs::read(s3.object(&sm3_3)).unwrap(), b"not the photo");
    conflict(n.call("GET", &format!("/v1/media/{sm3_3}/status"), Some(&tok), b""));
    let (s, v) = n.call(
        "GET",
        &format!("/v1/media/{sm3_3}/status"),
        Some(&n.admin),
        b"",
    );
    assert_eq!((s, v["complete"].as_bool()), (200, Some(false)), "{v}");
}

/// The object store goes away mid-upload: chunks are still acknowledged (kept on local disk),
/// finishing and reading are answered 503 with a clear message, and the retry after the
/// store is back stores the file byte-identical.
#[test]
fn media_on_s3_outage_is_503_then_retry_succeeds() {
    let Some(bin) = require_s3s_fs("media_on_s3_outage_is_503_then_retry_succeeds") else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let mut s3 = S3::start(bin, &root.path().join("s3"));
    let n = s3_notary(root.path(), &s3);
    let dev = device(root.path(), "dev", &n);
    let tok = token(&dev);
    let (court, _) = n.token("court", &[]);

    let (stored, _, stored_file) = submit(&n, &dev, "DSCN0012.jpg");
    let (s, v) = put_media(&n, &tok, &media_of(&stored), 0, &stored_file);
    assert_eq!(s, 201, "{v}");
    common::wait_for_bundle(&n, &court, &proof_sm3(&stored));

    let (proof, sm3, file) = submit(&n, &dev, "DSCN0027.jpg");
    let half = file.len() / 2;
    let (s, v) = put_media(&n, &tok, &sm3, 0, &file[..half]);
    assert_eq!(s, 202, "{v}");

    s3.down();
    // A chunk that does not finish the file is still acknowledged.
    let third = half + (file.len() - half) / 2;
    let (s, v) = put_media(&n, &tok, &sm3, half, &file[half..third]);
    assert_eq!(
        (s, v["received"].as_u64()),
        (202, Some(third as u64)),
        "{v}"
    );
    // The last chunk needs the store: 503, clearly.
    let started = Instant::now();
    let (s, v) = put_media(&n, &tok, &sm3, third, &file[third..]);
    assert_eq!(
        (s, v["code"].as_str().unwrap_or("")),
        (503, "media_store_unavailable"),
        "{v}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "answered promptly"
    );
    // Reading needs it too.
    let (s, body) = download(&n, &court, &stored);
    assert_eq!(s, 503, "{}", String::from_utf8_lossy(&body));
    // So does a certificate PDF, which shows the photo: never issued without it.
    let pdf = format!("{}/v1/proofs/{}/certificate.pdf", n.url, proof_sm3(&stored));
    let (s, body) = common::http("GET", &pdf, Some(&court), b"");
    assert_eq!(s, 503, "{}", String::from_utf8_lossy(&body));
    // Nothing acknowledged was lost.
    let (s, v) = n.call("GET", &format!("/v1/media/{sm3}/status"), Some(&tok), b"");
    assert_eq!(s, 503, "finishing still needs the store: {v}");

    s3.up();
    // The device retries its last chunk: the file is verified and stored.
    let (s, v) = put_media(&n, &tok, &sm3, third, &file[third..]);
    assert_eq!((s, v["complete"].as_bool()), (200, Some(true)), "{v}");
    assert_eq!(std::fs::read(s3.object(&sm3)).unwrap(), file);
    assert_eq!(download(&n, &court, &proof).1, file);
    assert_eq!(download(&n, &court, &stored).1, stored_file);
    let (s, body) = common::http("GET", &pdf, Some(&court), b"");
    assert_eq!(s, 200);
    assert!(body.starts_with(b"%PDF"));
}

/// A device's ordinary `sync` uploads into the bucket, and `tiezheng audit` over the same
/// configuration hashes the objects back: intact, then an object altered in the bucket is named.
#[test]
fn media_on_s3_sync_and_audit() {
    let Some(bin) = require_s3s_fs("media_on_s3_sync_and_audit") else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let s3 = S3::start(bin, &root.path().join("s3"));
    let mut n = s3_notary(root.path(), &s3);
    let dev = device(root.path(), "dev", &n);
    let proof = capture(&dev, "photos/Canon_40D.jpg");
    common::cli(&dev, &["sync"]);
    let (court, _) = n.token("court", &[]);
    common::wait_for_bundle(&n, &court, &proof_sm3(&proof));
    let sm3 = media_of(&proof);
    assert_eq!(
        std::fs::read(s3.object(&sm3)).unwrap(),
        photo("Canon_40D.jpg")
    );
    let (data_dir, env) = (n.data_dir.clone(), n.env.clone());
    n.kill();

    let audit = || -> (bool, Value) {
        let out = common::tiezheng()
            .args(["audit", "--data-dir"])
            .arg(&data_dir)
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        (out.status.success(), Value::Array(lines))
    };
    let (ok, lines) = audit();
    assert!(ok, "{lines}");
    let summary = lines.as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (summary["audit"].as_str(), summary["media_files"].as_u64()),
        (Some("intact"), Some(1)),
        "{summary}"
    );

    let object = s3.object(&sm3);
    let mut bytes = std::fs::read(&object).unwrap();
    bytes[1000] ^= 0x01;
    std::fs::write(&object, &bytes).unwrap();
    let (ok, lines) = audit();
    assert!(!ok, "{lines}");
    assert!(
        lines
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l.to_string().contains(&sm3) && l.to_string().contains("changed")),
        "the altered object is named: {lines}"
    );
}
