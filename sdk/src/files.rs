//! Hashing files that are already on disk, with errors that name the file.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use tiezheng_protocol::ContentDigests;
use tiezheng_protocol::verify::{MediaEvidence, hash_media};

/// A file that could not be hashed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FileError {
    /// The file could not be opened.
    #[error("cannot open {}: {source}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        source: io::Error,
    },
    /// The path names a directory or another non-regular file.
    #[error("{} is not a regular file", path.display())]
    NotAFile {
        /// The path.
        path: PathBuf,
    },
    /// Reading failed part-way.
    #[error("cannot read {} after {read} bytes: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Bytes read before the failure.
        read: u64,
        /// The operating system's reason.
        source: io::Error,
    },
}

impl FileError {
    /// A hint for people: what to do about it.
    pub fn hint(&self) -> &'static str {
        match self {
            Self::Open { source, .. } if source.kind() == io::ErrorKind::NotFound => {
                "check the path; nothing exists there"
            }
            Self::Open { source, .. } if source.kind() == io::ErrorKind::PermissionDenied => {
                "check the file's permissions or run as a user who may read it"
            }
            Self::Open { .. } => "check that the file exists and is readable",
            Self::NotAFile { .. } => "name a file, not a directory",
            Self::Read { .. } => {
                "the file may be on failing storage or changing; copy it and retry"
            }
        }
    }
}

/// Hashes the file at `path` in one streaming pass. `progress(bytes_so_far, total_len)` is
/// called after every block; `total_len` comes from the file's metadata at open time.
pub fn hash_file(path: &Path, progress: impl FnMut(u64, u64)) -> Result<ContentDigests, FileError> {
    Ok(hash_media_file(path, &[], progress)?.digests)
}

/// As [`hash_file`], and also the SM3 of each `(offset, bytes)` range (a recording's
/// segments, for the verifier), in the same pass.
pub fn hash_media_file(
    path: &Path,
    ranges: &[(u64, u64)],
    mut progress: impl FnMut(u64, u64),
) -> Result<MediaEvidence, FileError> {
    let file = File::open(path).map_err(|source| FileError::Open {
        path: path.to_owned(),
        source,
    })?;
    let meta = file.metadata().map_err(|source| FileError::Open {
        path: path.to_owned(),
        source,
    })?;
    if !meta.is_file() {
        return Err(FileError::NotAFile {
            path: path.to_owned(),
        });
    }
    let total = meta.len();
    let mut seen = 0;
    hash_media(file, ranges, |n| {
        seen = n;
        progress(n, total);
    })
    .map_err(|source| FileError::Read {
        path: path.to_owned(),
        read: seen,
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.jpg");
        let err = hash_file(&missing, |_, _| {}).unwrap_err();
        assert!(err.to_string().contains("missing.jpg"), "{err}");
        assert!(matches!(err, FileError::Open { .. }));
        let err = hash_file(dir.path(), |_, _| {}).unwrap_err();
        assert!(matches!(err, FileError::NotAFile { .. }), "{err}");
    }

    #[test]
    fn hashes_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("abc.txt");
        std::fs::write(&p, b"abc").unwrap();
        let d = hash_file(&p, |_, _| {}).unwrap();
        assert_eq!(d.bytes, 3);
        assert_eq!(
            d.sm3.to_hex(),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
    }
}
