//! Renditions: what the notary derives from stored evidence to show it — a certificate's PDF,
//! a photo's thumbnail. Both are deterministic, so each is rendered once and kept under
//! `<data_dir>/renditions` (private, like the rest of the data directory); a request for one
//! already rendered reads a file. Rendering is bounded: one render per rendition at a time
//! (concurrent requests for it wait and then read it), and decoding takes a share of a fixed
//! pixel budget ([`DECODE_BUDGET_MEGAPIXELS`]) for as long as it runs, so that the memory
//! decoders use together stays bounded however many requests arrive.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedMutexGuard, OwnedSemaphorePermit, Semaphore};

/// Megapixels that may be decoded at once, over all requests (at four bytes a pixel, about
/// 256 MiB of decoded images).
pub const DECODE_BUDGET_MEGAPIXELS: u32 = 64;

/// What a rendition is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A certificate's PDF, by certificate number.
    CertificatePdf,
    /// A photo's PNG thumbnail for the portal, by the photo's SM3.
    Thumbnail,
}

impl Kind {
    fn folder(self) -> &'static str {
        match self {
            Self::CertificatePdf => "certificate-pdf",
            Self::Thumbnail => "thumbnail",
        }
    }

    fn extension(self) -> &'static str {
        match self {
            Self::CertificatePdf => "pdf",
            Self::Thumbnail => "png",
        }
    }
}

/// The renditions kept by one notary.
#[derive(Debug)]
pub struct Renditions {
    dir: PathBuf,
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    budget: Arc<Semaphore>,
}

/// Held while one rendition is rendered: others asking for it wait.
#[derive(Debug)]
pub struct RenderTurn {
    _guard: OwnedMutexGuard<()>,
}

impl Renditions {
    /// Renditions kept under `dir` (created private).
    pub fn open(dir: PathBuf) -> std::io::Result<Self> {
        crate::private::create_dir_all(&dir)?;
        Ok(Self {
            dir,
            locks: Mutex::new(HashMap::new()),
            budget: Arc::new(Semaphore::new(DECODE_BUDGET_MEGAPIXELS as usize)),
        })
    }

    fn path(&self, kind: Kind, key: &str) -> Option<PathBuf> {
        // Keys are certificate numbers and hex digests; anything else is never a file name.
        let safe = !key.is_empty()
            && key.len() <= 128
            && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        safe.then(|| {
            self.dir
                .join(kind.folder())
                .join(format!("{key}.{}", kind.extension()))
        })
    }

    /// The rendition, if it was rendered before.
    pub async fn cached(&self, kind: Kind, key: &str) -> std::io::Result<Option<Vec<u8>>> {
        let Some(path) = self.path(kind, key) else {
            return Ok(None);
        };
        match tokio::fs::read(&path).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The turn to render `key`: wait for it, then look in [`Self::cached`] again before
    /// rendering (whoever held the turn may have rendered it).
    pub async fn turn(&self, kind: Kind, key: &str) -> RenderTurn {
        let lock = {
            let mut locks = self.locks.lock().unwrap_or_else(|e| e.into_inner());
            // Forget turns nobody holds or waits for.
            locks.retain(|_, l| Arc::strong_count(l) > 1);
            locks
                .entry(format!("{}/{key}", kind.folder()))
                .or_default()
                .clone()
        };
        RenderTurn {
            _guard: lock.lock_owned().await,
        }
    }

    /// The rendition if it is kept, else the turn to render it (taken, then looked for again:
    /// whoever held the turn before may have rendered it).
    pub async fn cached_or_turn(
        &self,
        kind: Kind,
        key: &str,
    ) -> std::io::Result<Result<Vec<u8>, RenderTurn>> {
        if let Some(bytes) = self.cached(kind, key).await? {
            return Ok(Ok(bytes));
        }
        let turn = self.turn(kind, key).await;
        Ok(match self.cached(kind, key).await? {
            Some(bytes) => Ok(bytes),
            None => Err(turn),
        })
    }

    /// A share of the decode budget for a picture of `pixels`, held while it is decoded.
    pub async fn decode_budget(&self, pixels: u64) -> OwnedSemaphorePermit {
        let megapixels = pixels
            .div_ceil(1_000_000)
            .clamp(1, u64::from(DECODE_BUDGET_MEGAPIXELS));
        let n = u32::try_from(megapixels).unwrap_or(DECODE_BUDGET_MEGAPIXELS);
        loop {
            // The semaphore is never closed; should it be, wait for the next share.
            if let Ok(p) = self.budget.clone().acquire_many_owned(n).await {
                return p;
            }
        }
    }

    /// Keeps a rendition (written to a temporary file, then renamed: a reader sees all of it
    /// or nothing).
    pub async fn keep(&self, kind: Kind, key: &str, bytes: &[u8]) -> std::io::Result<()> {
        let Some(path) = self.path(kind, key) else {
            return Ok(());
        };
        let bytes = bytes.to_vec();
        tokio::task::spawn_blocking(move || {
            let dir = path
                .parent()
                .ok_or_else(|| std::io::Error::other("no folder"))?;
            crate::private::create_dir_all(dir)?;
            let tmp = path.with_extension("tmp");
            let _ = std::fs::remove_file(&tmp);
            crate::keys::write_private(&tmp, &bytes)?;
            std::fs::rename(&tmp, &path)
        })
        .await
        .map_err(std::io::Error::other)?
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn kept_once_read_after_and_bounded() {
        let tmp = tempfile::tempdir().unwrap();
        let r = Renditions::open(tmp.path().join("renditions")).unwrap();
        assert_eq!(r.cached(Kind::CertificatePdf, "TZ-1").await.unwrap(), None);
        let turn = r.turn(Kind::CertificatePdf, "TZ-1").await;
        r.keep(Kind::CertificatePdf, "TZ-1", b"%PDF").await.unwrap();
        drop(turn);
        assert_eq!(
            r.cached(Kind::CertificatePdf, "TZ-1").await.unwrap(),
            Some(b"%PDF".to_vec())
        );
        // Nothing outside the folder is ever named.
        assert_eq!(r.cached(Kind::Thumbnail, "../x").await.unwrap(), None);
        // A 169-megapixel decode takes the whole budget; nothing else decodes meanwhile.
        let big = r.decode_budget(169_000_000).await;
        assert_eq!(r.budget.available_permits(), 0);
        drop(big);
        let _a = r.decode_budget(12_000_000).await;
        assert_eq!(r.budget.available_permits(), 52);
    }
}
