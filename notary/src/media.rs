//! The content-addressed media store: `media/<sm3[0..2]>/<sm3>`, written once after both
//! digests are verified, read-only afterwards. Uploads in progress live in `media/partial/`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tiezheng_protocol::hash_reader;

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

    /// Serialises uploads of one file.
    pub async fn lock(&self, sm3: &str) -> tokio::sync::OwnedMutexGuard<()> {
        let m = self
            .locks
            .lock()
            .map(|mut l| l.entry(sm3.to_owned()).or_default().clone())
            .unwrap_or_default();
        m.lock_owned().await
    }

    /// Where a stored file lives.
    pub fn path(&self, sm3: &str) -> PathBuf {
        self.root.join(sm3.get(..2).unwrap_or("xx")).join(sm3)
    }

    fn part(&self, sm3: &str) -> PathBuf {
        self.root.join("partial").join(format!("{sm3}.part"))
    }

    /// Opens the partial file for appending at `offset` (bytes beyond a crash are dropped).
    pub async fn open_part(&self, sm3: &str, offset: i64) -> std::io::Result<tokio::fs::File> {
        let path = self.part(sm3);
        let f = tokio::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .await?;
        f.set_len(u64::try_from(offset).unwrap_or(0)).await?;
        let mut f = f;
        use tokio::io::AsyncSeekExt as _;
        f.seek(std::io::SeekFrom::Start(u64::try_from(offset).unwrap_or(0)))
            .await?;
        Ok(f)
    }

    /// Cuts the partial file back to `len` (a failed chunk is discarded).
    pub async fn truncate_part(&self, sm3: &str, len: i64) -> std::io::Result<()> {
        let f = tokio::fs::OpenOptions::new()
            .write(true)
            .open(self.part(sm3))
            .await?;
        f.set_len(u64::try_from(len).unwrap_or(0)).await?;
        f.sync_all().await
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

    /// Whether a partial upload file exists.
    pub fn has_part(&self, sm3: &str) -> bool {
        self.part(sm3).exists()
    }

    /// Hashes the complete partial file; stores it (read-only) when SM3 and SHA-256 both match,
    /// deletes it otherwise. Returns whether it was stored.
    pub async fn finish(&self, sm3: &str, sha256: &str) -> std::io::Result<bool> {
        let part = self.part(sm3);
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
