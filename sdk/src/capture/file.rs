//! Captures that arrive whole: a photo from the bytes the camera delivered, and an existing
//! file imported (copied into the media store while hashed, never presented as captured).

use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use tiezheng_protocol::manifest::Origin;
use tiezheng_protocol::{ContentDigests, DualHasher};

use super::{CaptureContext, CaptureError, CaptureOutcome, check_file_name};
use crate::device::{UnlockedDevice, io_err};
use crate::inspect::{inspect_bytes, inspect_file_with_digests};
use crate::store::{random_suffix, sync_dir, write_atomic};

impl UnlockedDevice {
    /// Captures a photo from the bytes the camera delivered.
    pub fn capture_photo(
        &self,
        file_name: &str,
        bytes: &[u8],
        ctx: &CaptureContext,
    ) -> Result<CaptureOutcome, CaptureError> {
        check_file_name(file_name)?;
        let procedure = self.assess(ctx, Some(Origin::Captured), None)?;
        // Hash first: the digests describe exactly what the camera delivered.
        let mut h = DualHasher::new();
        h.update(bytes);
        let digests = h.finalize();
        let media_path = self.media_dir()?.join(digests.sm3.to_hex());
        if !media_path.exists() {
            write_atomic(&media_path, bytes).map_err(io_err(&media_path))?;
        }
        let inspection = inspect_bytes(bytes, digests);
        let item = self.item(file_name, Origin::Captured, &inspection, ctx, None);
        self.seal(vec![item], None, ctx, Some(media_path), Some(procedure))
    }

    /// Imports an existing file: copied into the media store while hashed, marked `imported`.
    pub fn import_file(
        &self,
        path: &Path,
        ctx: &CaptureContext,
    ) -> Result<CaptureOutcome, CaptureError> {
        let file_name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("imported")
            .to_owned();
        check_file_name(&file_name)?;
        let procedure = self.assess(ctx, Some(Origin::Imported), None)?;
        let media_dir = self.media_dir()?;
        let (digests, tmp) = copy_hashing(path, &media_dir)?;
        let media_path = media_dir.join(digests.sm3.to_hex());
        fs::rename(&tmp, &media_path).map_err(io_err(&tmp))?;
        sync_dir(&media_dir).map_err(io_err(&media_dir))?;
        let inspection = inspect_file_with_digests(&media_path, digests)?;
        let item = self.item(&file_name, Origin::Imported, &inspection, ctx, None);
        self.seal(vec![item], None, ctx, Some(media_path), Some(procedure))
    }
}

/// Copies `src` into a temporary file in `dir` while hashing it, in one pass.
fn copy_hashing(src: &Path, dir: &Path) -> Result<(ContentDigests, PathBuf), CaptureError> {
    let mut input = File::open(src).map_err(|source| crate::files::FileError::Open {
        path: src.to_owned(),
        source,
    })?;
    let tmp = dir.join(format!(".tmp-import-{}", random_suffix()));
    let mut out = crate::store::private_file()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)
        .map_err(io_err(&tmp))?;
    let mut h = DualHasher::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(source) => {
                return Err(crate::files::FileError::Read {
                    path: src.to_owned(),
                    read: h.bytes(),
                    source,
                }
                .into());
            }
        };
        let chunk = buf.get(..n).unwrap_or_default();
        h.update(chunk);
        out.write_all(chunk).map_err(io_err(&tmp))?;
    }
    out.sync_all().map_err(io_err(&tmp))?;
    Ok((h.finalize(), tmp))
}
