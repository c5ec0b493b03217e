//! Crash-safe files: every durable write goes to a temporary file in the same directory, is
//! flushed to disk, renamed over the target and the directory is flushed too. A process
//! killed at any instant leaves either the old file or the new one, never a torn mix (plus,
//! at worst, a stray `.tmp-*` file that [`sweep_temporaries`] removes). Everything in a device
//! directory is the officer's only: directories 0700, files 0600 (`private_dir_all`,
//! `private_file`).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

/// Options for a new file only its owner can read and write (0600 where modes exist).
pub(crate) fn private_file() -> OpenOptions {
    #[allow(unused_mut)]
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options
}

/// Creates `dir` and its missing parents, each only its owner can enter (0700).
pub(crate) fn private_dir_all(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Writes `bytes` to `path` atomically and durably.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no directory"))?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(
        ".tmp-{name}-{}-{}",
        std::process::id(),
        random_suffix()
    ));
    let result = (|| {
        let mut f = private_file().write(true).create_new(true).open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        sync_dir(dir)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Creates `path` with `bytes` only if it does not exist (write-once), atomically.
/// Returns `Ok(false)` when it already exists.
pub fn write_once(path: &Path, bytes: &[u8]) -> io::Result<bool> {
    if path.exists() {
        return Ok(false);
    }
    write_atomic(path, bytes)?;
    Ok(true)
}

/// Flushes a directory's entries (renames, creations) to disk.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Removes temporary files left by writers that were killed.
pub fn sweep_temporaries(dir: &Path) -> io::Result<usize> {
    let mut n = 0;
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with(".tmp-") {
            fs::remove_file(entry.path())?;
            n += 1;
        }
    }
    Ok(n)
}

/// 16 random lowercase hex digits.
pub fn random_suffix() -> String {
    hex::encode(random_bytes::<8>())
}

/// Random bytes from the operating system.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    use ring::rand::SecureRandom as _;
    let mut out = [0u8; N];
    // The system RNG failing is unrecoverable and does not happen on supported platforms;
    // an all-zero value would only weaken uniqueness of names, never keys (keys come from the
    // SM2 crate's own generator).
    let _ = ring::rand::SystemRandom::new().fill(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_and_once() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.json");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert!(!write_once(&p, b"three").unwrap());
        assert_eq!(fs::read(&p).unwrap(), b"two");
        fs::write(dir.path().join(".tmp-x"), b"").unwrap();
        assert_eq!(sweep_temporaries(dir.path()).unwrap(), 1);
    }
}
