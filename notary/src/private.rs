//! Private data: the notary's data directory, and a media folder outside it, belong to the
//! account that runs the notary. Directories are created 0700 and files 0600 (finished media
//! read-only, 0400); a directory found open to other local users (an installation from before
//! this rule, or a careless copy) is tightened at start, everything in it included, and the
//! notary says so. Where it cannot be tightened (another owner), the notary refuses to start
//! with a message that names the directory.

use std::io;
use std::path::Path;

/// Mode of directories the notary creates.
pub const DIR_MODE: u32 = 0o700;
/// Mode of files the notary writes.
pub const FILE_MODE: u32 = 0o600;
/// Mode of finished (write-once) media files.
pub const MEDIA_FILE_MODE: u32 = 0o400;

/// Creates `dir` and its missing parents, each 0700.
pub fn create_dir_all(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(DIR_MODE);
    }
    builder.create(dir)
}

/// Sets `path`'s permission bits (nothing on systems without them).
pub fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
    }
    #[cfg(not(unix))]
    {
        let _ = (path, mode);
        Ok(())
    }
}

/// What [`prepare`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prepared {
    /// Created now, or already private.
    Private,
    /// Was open to other users; this many directories and files were tightened.
    Tightened(u64),
}

/// Creates `dir` private, or makes an existing one private: when it is open to group or
/// others, it and everything under it are tightened (directories 0700, files 0600, files
/// already read-only 0400).
pub fn prepare(dir: &Path) -> io::Result<Prepared> {
    if !dir.exists() {
        create_dir_all(dir)?;
        return Ok(Prepared::Private);
    }
    if !is_open(dir)? {
        return Ok(Prepared::Private);
    }
    let mut count = 0;
    tighten(dir, &mut count)?;
    Ok(Prepared::Tightened(count))
}

#[cfg(unix)]
fn is_open(path: &Path) -> io::Result<bool> {
    use std::os::unix::fs::PermissionsExt as _;
    Ok(std::fs::symlink_metadata(path)?.permissions().mode() & 0o077 != 0)
}

#[cfg(not(unix))]
fn is_open(_: &Path) -> io::Result<bool> {
    Ok(false)
}

/// Tightens `path` and (for a directory) everything under it; symbolic links are left alone
/// (their modes mean nothing, and their targets are not ours to change).
fn tighten(path: &Path, count: &mut u64) -> io::Result<()> {
    let meta = std::fs::symlink_metadata(path)?;
    if meta.file_type().is_symlink() {
        return Ok(());
    }
    if meta.is_dir() {
        set_mode(path, DIR_MODE)?;
        *count += 1;
        for entry in std::fs::read_dir(path)? {
            tighten(&entry?.path(), count)?;
        }
    } else {
        let mode = if meta.permissions().readonly() {
            MEDIA_FILE_MODE
        } else {
            FILE_MODE
        };
        set_mode(path, mode)?;
        *count += 1;
    }
    Ok(())
}

#[cfg(all(test, unix))]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn creates_private_and_tightens_an_open_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let fresh = tmp.path().join("a/b");
        assert_eq!(prepare(&fresh).unwrap(), Prepared::Private);
        assert_eq!((mode(&fresh), mode(&tmp.path().join("a"))), (0o700, 0o700));

        let old = tmp.path().join("old");
        std::fs::create_dir_all(old.join("media/ab")).unwrap();
        std::fs::write(old.join("notary.db"), b"x").unwrap();
        std::fs::write(old.join("media/ab/cd"), b"y").unwrap();
        for (p, m) in [
            (old.clone(), 0o755),
            (old.join("media"), 0o755),
            (old.join("notary.db"), 0o644),
            (old.join("media/ab/cd"), 0o444),
        ] {
            set_mode(&p, m).unwrap();
        }
        assert_eq!(prepare(&old).unwrap(), Prepared::Tightened(5));
        assert_eq!(mode(&old), 0o700);
        assert_eq!(mode(&old.join("media/ab")), 0o700);
        assert_eq!(mode(&old.join("notary.db")), 0o600);
        assert_eq!(mode(&old.join("media/ab/cd")), 0o400);
        assert_eq!(prepare(&old).unwrap(), Prepared::Private);
    }
}
