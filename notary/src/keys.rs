//! The notary's SM2 signing key, kept in a file readable only by the service account.

use std::path::Path;

use serde::{Deserialize, Serialize};
use tiezheng_protocol::Sm2SigningKey;

/// Why the key could not be loaded or created.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// Reading or writing the key file failed.
    #[error("notary key file {}: {source}", path.display())]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The key file is damaged.
    #[error("notary key file {}: {reason}", path.display())]
    Corrupt {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong.
        reason: String,
    },
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    algorithm: String,
    private_key: String,
    public_key: String,
}

/// Loads the key at `path`, or creates one there (mode 0600) if none exists.
pub fn load_or_create(path: &Path) -> Result<Sm2SigningKey, KeyError> {
    let io = |source| KeyError::Io {
        path: path.to_owned(),
        source,
    };
    match std::fs::read(path) {
        Ok(bytes) => {
            let corrupt = |reason: String| KeyError::Corrupt {
                path: path.to_owned(),
                reason,
            };
            let f: KeyFile = serde_json::from_slice(&bytes).map_err(|e| corrupt(e.to_string()))?;
            let secret = hex::decode(&f.private_key).map_err(|e| corrupt(e.to_string()))?;
            let key = Sm2SigningKey::from_bytes(&secret).map_err(|e| corrupt(e.to_string()))?;
            if key.public_key().to_hex() != f.public_key {
                return Err(corrupt("public key does not match the private key".into()));
            }
            Ok(key)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(dir) = path.parent() {
                crate::private::create_dir_all(dir).map_err(io)?;
            }
            let key = Sm2SigningKey::generate();
            let f = KeyFile {
                algorithm: "SM2".into(),
                private_key: hex::encode(key.to_bytes()),
                public_key: key.public_key().to_hex(),
            };
            let text = serde_json::to_vec_pretty(&f).unwrap_or_default();
            write_private(path, &text).map_err(io)?;
            Ok(key)
        }
        Err(e) => Err(io(e)),
    }
}

/// Writes a file only the owner can read.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}
