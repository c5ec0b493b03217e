//! The content-addressed media store: `media/<sm3[0..2]>/<sm3>`, written once after both
//! digests are verified, read-only afterwards. Uploads in progress live in `media/partial/`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tiezheng_protocol::hash_reader;

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
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl MediaStore {
    /// Opens (creating) the store at `root`.
    pub fn open(root: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(root.join("partial"))?;
        Ok(Self {
            root: root.to_owned(),
            locks: Mutex::new(HashMap::new()),
        })
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

    /// Where a stored file lives.
    pub fn path(&self, sm3: &str) -> PathBuf {
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
            let mut f = std::fs::OpenOptions::new()
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
    pub async fn verify_stored(&self, sm3: &str, sha256: &str) -> std::io::Result<bool> {
        let path = self.path(sm3);
        if !path.exists() {
            return Ok(false);
        }
        let (want_sm3, want_sha) = (sm3.to_owned(), sha256.to_owned());
        tokio::task::spawn_blocking(move || {
            let d = hash_reader(std::fs::File::open(&path)?, |_| {})?;
            Ok(d.sm3.to_hex() == want_sm3 && d.sha256.to_hex() == want_sha)
        })
        .await
        .map_err(std::io::Error::other)?
    }

    /// Whether an uploader's partial file exists.
    pub fn has_part(&self, sm3: &str, uploader: &str) -> bool {
        self.part(sm3, uploader).exists()
    }

    /// Hashes the complete partial file; stores it (read-only) when SM3 and SHA-256 both match,
    /// deletes it otherwise. Returns whether it was stored.
    pub async fn finish(&self, sm3: &str, uploader: &str, sha256: &str) -> std::io::Result<bool> {
        let part = self.part(sm3, uploader);
        let dest = self.path(sm3);
        let (want_sm3, want_sha) = (sm3.to_owned(), sha256.to_owned());
        tokio::task::spawn_blocking(move || {
            let d = hash_reader(std::fs::File::open(&part)?, |_| {})?;
            if d.sm3.to_hex() != want_sm3 || d.sha256.to_hex() != want_sha {
                std::fs::remove_file(&part)?;
                return Ok(false);
            }
            if let Some(dir) = dest.parent() {
                std::fs::create_dir_all(dir)?;
            }
            if dest.exists() {
                std::fs::remove_file(&part)?;
            } else {
                let mut perms = std::fs::metadata(&part)?.permissions();
                perms.set_readonly(true);
                std::fs::set_permissions(&part, perms)?;
                std::fs::rename(&part, &dest)?;
                if let Some(dir) = dest.parent() {
                    std::fs::File::open(dir)?.sync_all()?;
                }
            }
            Ok(true)
        })
        .await
        .map_err(std::io::Error::other)?
    }
}
