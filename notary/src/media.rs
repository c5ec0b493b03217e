//! The content-addressed media store: `media/<sm3[0..2]>/<sm3>`, written once after both
//! digests are verified, read-only afterwards. Uploads in progress live in `media/partial/`.
//!
//! Finished files live either in that local folder (the embedded default) or, when configured,
//! in an S3-compatible bucket under `<prefix>/<sm3[0..2]>/<sm3>`, put with `If-None-Match: *`
//! so an existing object is never overwritten. Partial uploads stay on local disk either way.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt as _;
use futures_util::stream::BoxStream;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore as _, ObjectStoreExt as _, PutMode, PutOptions, PutPayload};
use tiezheng_protocol::{DualHasher, hash_reader};

/// A stored file's bytes, streamed.
pub type MediaStream = BoxStream<'static, Result<Bytes, MediaError>>;

/// Why the media store failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MediaError {
    /// A local file operation failed.
    #[error("media store: {0}")]
    Io(#[from] std::io::Error),
    /// The object store could not be reached or answered with a server error: retry later.
    #[error("object store unavailable: {0}")]
    Unavailable(object_store::Error),
    /// The object store refused the request (credentials, bucket, ...): an operator's problem.
    #[error("object store: {0}")]
    ObjectStore(object_store::Error),
    /// The object stored under an SM3 does not hash to it (altered in the bucket).
    #[error("the stored object {0} does not match its SM3 and SHA-256")]
    Corrupt(String),
    /// The object store configuration cannot be used.
    #[error("object store configuration: {0}")]
    Config(String),
}

impl MediaError {
    fn from_store(e: object_store::Error) -> Self {
        match &e {
            object_store::Error::Generic { .. } => Self::Unavailable(e),
            _ => Self::ObjectStore(e),
        }
    }

    /// Whether retrying later may succeed (the object store is down or unreachable).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }
}

/// How to reach an S3-compatible bucket.
#[derive(Clone, Default)]
pub struct S3Settings {
    /// `s3://bucket` or `s3://bucket/prefix`.
    pub url: String,
    /// Endpoint (`http://127.0.0.1:9000`); default AWS.
    pub endpoint: Option<String>,
    /// Region; default `us-east-1`.
    pub region: Option<String>,
    /// Access key id.
    pub access_key_id: Option<String>,
    /// Secret access key.
    pub secret_access_key: Option<String>,
    /// Allow plain HTTP to the endpoint.
    pub allow_http: bool,
}

impl std::fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Settings")
            .field("url", &self.url)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field(
                "secret_access_key",
                &self.secret_access_key.as_ref().map(|_| "<redacted>"),
            )
            .field("allow_http", &self.allow_http)
            .finish()
    }
}

/// Where finished files live.
#[derive(Debug)]
enum Backend {
    /// `<root>/<sm3[0..2]>/<sm3>`.
    Local,
    /// `<prefix>/<sm3[0..2]>/<sm3>` in a bucket.
    S3 {
        /// Streams objects back.
        reader: Arc<AmazonS3>,
        /// Puts finished files.
        writer: Arc<AmazonS3>,
        prefix: String,
    },
}

/// What became of a chunk offered to [`MediaStore::append`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Append {
    /// Stored; the uploader now has this many acknowledged bytes.
    Appended(u64),
    /// It overlaps acknowledged bytes with different content: refused, nothing changed.
    Conflict,
    /// It starts beyond the acknowledged bytes: refused, nothing changed.
    Gap,
}

/// The media store.
#[derive(Debug)]
pub struct MediaStore {
    root: PathBuf,
    backend: Backend,
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl MediaStore {
    /// Opens (creating) the store at `root`.
    pub fn open(root: &Path) -> std::io::Result<Self> {
        crate::private::create_dir_all(&root.join("partial"))?;
        Ok(Self {
            root: root.to_owned(),
            backend: Backend::Local,
            locks: Mutex::new(HashMap::new()),
        })
    }

    /// Opens the store in `root`, with finished files in the bucket `s3` names if given.
    pub fn open_with(root: &Path, s3: Option<&S3Settings>) -> Result<Self, MediaError> {
        match s3 {
            Some(s3) => Self::open_s3(root, s3),
            None => Ok(Self::open(root)?),
        }
    }

    /// Opens a store whose finished files live in an S3-compatible bucket; uploads in progress
    /// stay under `root/partial`. Nothing is contacted yet.
    pub fn open_s3(root: &Path, s3: &S3Settings) -> Result<Self, MediaError> {
        crate::private::create_dir_all(&root.join("partial"))?;
        // reqwest is built without a TLS provider (no aws-lc): ring, unless one is installed.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let rest = s3.url.strip_prefix("s3://").ok_or_else(|| {
            MediaError::Config(format!("media URL {} must start with s3://", s3.url))
        })?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(MediaError::Config("the media URL names no bucket".into()));
        }
        // Reads stream at the pace of the notary's client: no total timeout, but a stalled
        // object store is noticed within 30 s. A write's response comes after its whole body,
        // so writes have a total timeout instead, long enough for a large file.
        let reader = Self::s3_client(
            s3,
            bucket,
            object_store::ClientOptions::new()
                .with_timeout_disabled()
                .with_read_timeout(Duration::from_secs(30)),
        )?;
        let writer = Self::s3_client(
            s3,
            bucket,
            object_store::ClientOptions::new().with_timeout(Duration::from_secs(30 * 60)),
        )?;
        Ok(Self {
            root: root.to_owned(),
            backend: Backend::S3 {
                reader: Arc::new(reader),
                writer: Arc::new(writer),
                prefix: prefix.trim_matches('/').to_owned(),
            },
            locks: Mutex::new(HashMap::new()),
        })
    }

    fn s3_client(
        s3: &S3Settings,
        bucket: &str,
        options: object_store::ClientOptions,
    ) -> Result<AmazonS3, MediaError> {
        let mut b = AmazonS3Builder::new()
            .with_bucket_name(bucket)
            .with_region(s3.region.as_deref().unwrap_or("us-east-1"))
            .with_allow_http(s3.allow_http)
            .with_virtual_hosted_style_request(false)
            .with_client_options(
                options
                    .with_allow_http(s3.allow_http)
                    .with_connect_timeout(Duration::from_secs(5)),
            )
            // An outage is answered 503 within seconds: the device retries, not the request.
            .with_retry(object_store::RetryConfig {
                max_retries: 2,
                retry_timeout: Duration::from_secs(10),
                ..Default::default()
            });
        if let Some(e) = &s3.endpoint {
            b = b.with_endpoint(e);
        }
        if let Some(k) = &s3.access_key_id {
            b = b.with_access_key_id(k);
        }
        if let Some(k) = &s3.secret_access_key {
            b = b.with_secret_access_key(k);
        }
        b.build().map_err(|e| MediaError::Config(e.to_string()))
    }

    /// The object key of a stored file.
    fn key(prefix: &str, sm3: &str) -> ObjectPath {
        let shard = sm3.get(..2).unwrap_or("xx");
        if prefix.is_empty() {
            ObjectPath::from(format!("{shard}/{sm3}"))
        } else {
            ObjectPath::from(format!("{prefix}/{shard}/{sm3}"))
        }
    }

    /// The local file of a stored file, when files are kept locally.
    pub fn local_path(&self, sm3: &str) -> Option<PathBuf> {
        matches!(self.backend, Backend::Local).then(|| self.path(sm3))
    }

    /// Streams a stored file; `None` when it is not there.
    pub async fn read(&self, sm3: &str) -> Result<Option<MediaStream>, MediaError> {
        match &self.backend {
            Backend::Local => {
                let file = match tokio::fs::File::open(self.path(sm3)).await {
                    Ok(f) => f,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                    Err(e) => return Err(e.into()),
                };
                let stream = futures_util::stream::unfold(file, |mut f| async move {
                    use tokio::io::AsyncReadExt as _;
                    let mut buf = vec![0u8; 256 * 1024];
                    match f.read(&mut buf).await {
                        Ok(0) => None,
                        Ok(n) => {
                            buf.truncate(n);
                            Some((Ok(Bytes::from(buf)), f))
                        }
                        Err(e) => Some((Err(MediaError::Io(e)), f)),
                    }
                });
                Ok(Some(stream.boxed()))
            }
            Backend::S3 { reader, prefix, .. } => match reader.get(&Self::key(prefix, sm3)).await {
                Ok(r) => Ok(Some(
                    r.into_stream()
                        .map(|c| c.map_err(MediaError::from_store))
                        .boxed(),
                )),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(MediaError::from_store(e)),
            },
        }
    }

    /// A stored file's bytes, if it is there and at most `limit` bytes long.
    pub async fn read_all(&self, sm3: &str, limit: u64) -> Result<Option<Vec<u8>>, MediaError> {
        let Some(mut s) = self.read(sm3).await? else {
            return Ok(None);
        };
        let mut out = Vec::new();
        while let Some(chunk) = s.next().await {
            let chunk = chunk?;
            if (out.len() + chunk.len()) as u64 > limit {
                return Ok(None);
            }
            out.extend_from_slice(&chunk);
        }
        Ok(Some(out))
    }

    /// SM3, SHA-256 and size of a stored file, streamed; `None` when it is not there.
    pub async fn digests(
        &self,
        sm3: &str,
    ) -> Result<Option<tiezheng_protocol::ContentDigests>, MediaError> {
        if let Backend::Local = self.backend {
            let path = self.path(sm3);
            if !path.exists() {
                return Ok(None);
            }
            let d = tokio::task::spawn_blocking(move || {
                hash_reader(std::fs::File::open(&path)?, |_| {})
            })
            .await
            .map_err(std::io::Error::other)??;
            return Ok(Some(d));
        }
        let Some(mut s) = self.read(sm3).await? else {
            return Ok(None);
        };
        let mut h = DualHasher::new();
        while let Some(chunk) = s.next().await {
            h.update(&chunk?);
        }
        Ok(Some(h.finalize()))
    }

    /// Serialises the appends of one uploader to one file. Held only while a chunk that has
    /// already arrived in full is compared and appended (never while a body is read), so a
    /// stalled client holds nothing others wait for.
    pub async fn lock(&self, sm3: &str, uploader: &str) -> tokio::sync::OwnedMutexGuard<()> {
        let key = format!("{sm3}.{uploader}");
        let m = self
            .locks
            .lock()
            .map(|mut l| {
                // Forget locks nobody holds or waits for, so the map stays small.
                l.retain(|_, m| Arc::strong_count(m) > 1);
                l.entry(key).or_default().clone()
            })
            .unwrap_or_default();
        m.lock_owned().await
    }

    /// Where a stored file lives in the local folder.
    fn path(&self, sm3: &str) -> PathBuf {
        self.root.join(sm3.get(..2).unwrap_or("xx")).join(sm3)
    }

    /// The partial file of one uploader: each device uploads into its own, so no other
    /// device's bytes (or false declaration) can block or alter a genuine upload.
    fn part(&self, sm3: &str, uploader: &str) -> PathBuf {
        self.root
            .join("partial")
            .join(format!("{sm3}.{uploader}.part"))
    }

    /// A new spool file for one request's chunk, written without any lock held.
    pub async fn spool(&self) -> std::io::Result<(PathBuf, tokio::fs::File)> {
        let mut nonce = [0u8; 12];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut nonce)
            .map_err(|_| std::io::Error::other("no randomness for a spool file name"))?;
        let path = self
            .root
            .join("partial")
            .join(format!("spool-{}.chunk", hex::encode(nonce)));
        let f = tokio::fs::OpenOptions::new()
            .create_new(true)
            .write(true)
            .read(true)
            .mode(crate::private::FILE_MODE)
            .open(&path)
            .await?;
        Ok((path, f))
    }

    /// Adds a spooled chunk that starts at `offset` to the uploader's partial file, which holds
    /// `received` acknowledged bytes (anything beyond them, left by a crash, is dropped).
    /// Bytes of the chunk that overlap acknowledged bytes must equal them: acknowledged bytes
    /// never change. The caller holds [`Self::lock`] for `(sm3, uploader)`.
    pub async fn append(
        &self,
        sm3: &str,
        uploader: &str,
        received: u64,
        offset: u64,
        spool: &Path,
    ) -> std::io::Result<Append> {
        use std::io::{Read as _, Seek as _, Write as _};
        if offset > received {
            return Ok(Append::Gap);
        }
        let part = self.part(sm3, uploader);
        let spool = spool.to_owned();
        tokio::task::spawn_blocking(move || {
            let mut f = private_file()
                .create(true)
                .truncate(false)
                .read(true)
                .write(true)
                .open(&part)?;
            f.set_len(received)?;
            let mut chunk = std::fs::File::open(&spool)?;
            let len = chunk.metadata()?.len();
            // The overlap with acknowledged bytes: compared, never rewritten.
            let overlap = (received - offset).min(len);
            f.seek(std::io::SeekFrom::Start(offset))?;
            let (mut mine, mut theirs) = (vec![0u8; 64 * 1024], vec![0u8; 64 * 1024]);
            let mut left = overlap;
            while left > 0 {
                let n = usize::try_from(left.min(64 * 1024)).unwrap_or(64 * 1024);
                let (Some(a), Some(b)) = (mine.get_mut(..n), theirs.get_mut(..n)) else {
                    break;
                };
                f.read_exact(a)?;
                chunk.read_exact(b)?;
                if a != b {
                    return Ok(Append::Conflict);
                }
                left -= n as u64;
            }
            f.seek(std::io::SeekFrom::Start(received))?;
            let copied = std::io::copy(&mut chunk, &mut f)?;
            f.flush()?;
            f.sync_all()?;
            Ok(Append::Appended(received + copied))
        })
        .await
        .map_err(std::io::Error::other)?
    }

    /// Forgets an uploader's partial file (after a failed verification).
    pub async fn remove_part(&self, sm3: &str, uploader: &str) -> std::io::Result<()> {
        match tokio::fs::remove_file(self.part(sm3, uploader)).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Whether a stored file exists and still matches both digests (used to finish an upload
    /// whose completion a crash kept out of the database).
    pub async fn verify_stored(&self, sm3: &str, sha256: &str) -> Result<bool, MediaError> {
        Ok(self
            .digests(sm3)
            .await?
            .is_some_and(|d| d.sm3.to_hex() == sm3 && d.sha256.to_hex() == sha256))
    }

    /// Whether an uploader's partial file exists.
    pub fn has_part(&self, sm3: &str, uploader: &str) -> bool {
        self.part(sm3, uploader).exists()
    }

    /// Hashes the complete partial file; stores it (read-only) when SM3 and SHA-256 both match,
    /// deletes it otherwise. Returns whether it was stored.
    /// With an object store, the verified file is put write-once; when an object with this
    /// SM3 is already there it is hashed back and must match. The partial file is kept until
    /// the object is stored, so an outage loses no acknowledged byte.
    pub async fn finish(
        &self,
        sm3: &str,
        uploader: &str,
        sha256: &str,
    ) -> Result<bool, MediaError> {
        let part = self.part(sm3, uploader);
        if let Backend::S3 { writer, prefix, .. } = &self.backend {
            let (want_sm3, want_sha) = (sm3.to_owned(), sha256.to_owned());
            let p = part.clone();
            let body =
                tokio::task::spawn_blocking(move || -> std::io::Result<Option<PutPayload>> {
                    use std::io::Read as _;
                    let mut f = std::fs::File::open(&p)?;
                    let (mut h, mut chunks) = (DualHasher::new(), Vec::new());
                    loop {
                        let mut buf = vec![0u8; 4 * 1024 * 1024];
                        let n = f.read(&mut buf)?;
                        if n == 0 {
                            break;
                        }
                        buf.truncate(n);
                        h.update(&buf);
                        chunks.push(Bytes::from(buf));
                    }
                    let d = h.finalize();
                    Ok(
                        (d.sm3.to_hex() == want_sm3 && d.sha256.to_hex() == want_sha)
                            .then(|| chunks.into_iter().collect()),
                    )
                })
                .await
                .map_err(std::io::Error::other)??;
            let Some(body) = body else {
                tokio::fs::remove_file(&part).await?;
                return Ok(false);
            };
            let opts = PutOptions {
                mode: PutMode::Create,
                ..Default::default()
            };
            match writer.put_opts(&Self::key(prefix, sm3), body, opts).await {
                Ok(_) => {}
                Err(object_store::Error::AlreadyExists { .. }) => {
                    // Written once already: never overwritten, but it must be this file.
                    if !self.verify_stored(sm3, sha256).await? {
                        return Err(MediaError::Corrupt(sm3.to_owned()));
                    }
                }
                Err(e) => return Err(MediaError::from_store(e)),
            }
            tokio::fs::remove_file(&part).await?;
            return Ok(true);
        }
        let dest = self.path(sm3);
        let (want_sm3, want_sha) = (sm3.to_owned(), sha256.to_owned());
        tokio::task::spawn_blocking(move || {
            let d = hash_reader(std::fs::File::open(&part)?, |_| {})?;
            if d.sm3.to_hex() != want_sm3 || d.sha256.to_hex() != want_sha {
                std::fs::remove_file(&part)?;
                return Ok(false);
            }
            if let Some(dir) = dest.parent() {
                crate::private::create_dir_all(dir)?;
            }
            if dest.exists() {
                std::fs::remove_file(&part)?;
            } else {
                crate::private::set_mode(&part, crate::private::MEDIA_FILE_MODE)?;
                std::fs::rename(&part, &dest)?;
                if let Some(dir) = dest.parent() {
                    std::fs::File::open(dir)?.sync_all()?;
                }
            }
            Ok(true)
        })
        .await
        .map_err(std::io::Error::other)?
        .map_err(MediaError::Io)
    }
}

/// Options for a file only the notary's account can read and write (0600).
fn private_file() -> std::fs::OpenOptions {
    #[allow(unused_mut)]
    let mut o = std::fs::OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        o.mode(crate::private::FILE_MODE);
    }
    o
}
