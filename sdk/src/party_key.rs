//! A judicial party's SM2 key at rest (a court, an appraisal institution, an appraiser or a
//! reviewer): `tiezheng.party-key.v1`, the one file format the browser workspace
//! (`portal/www/keystore.js`, WebCrypto) and the command line (`tiezheng appraisal key`) both
//! write and read, so a key made in either moves to the other as its encrypted backup.
//!
//! The private key (64 hex digits, as UTF-8) is sealed with AES-256-GCM under a key derived
//! from the holder's passphrase with PBKDF2-HMAC-SHA256; the public key (`04‖X‖Y` hex) is the
//! associated data, so a ciphertext moved to another record does not open. Salt, nonce and
//! ciphertext‖tag are standard base64.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use tiezheng_protocol::Sm2SigningKey;

use crate::store::random_bytes;
use crate::vault::{open, pbkdf2_sha256 as derive, seal};

/// `format` of a party key file.
pub const PARTY_KEY_FORMAT: &str = "tiezheng.party-key.v1";

/// Fewest PBKDF2 iterations a key file may name (new files use 600,000).
pub const MIN_ITERATIONS: u32 = 100_000;

/// Why a party key file cannot be made or opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PartyKeyError {
    /// The passphrase does not open the key.
    #[error("wrong passphrase")]
    WrongPassphrase,
    /// The passphrase is too short to protect a key.
    #[error("the passphrase has at least 8 characters")]
    WeakPassphrase,
    /// The file is not a party key file, or is damaged; says which field.
    #[error("not a {PARTY_KEY_FORMAT} key file: {0}")]
    Malformed(String),
}

/// How the wrapping key is derived.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kdf {
    /// `"PBKDF2"`.
    pub name: String,
    /// `"SHA-256"`.
    pub hash: String,
    /// PBKDF2 iterations.
    pub iterations: u32,
    /// Salt, base64.
    pub salt: String,
}

/// How the private key is sealed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cipher {
    /// `"AES-GCM"` (256-bit key).
    pub name: String,
    /// The 96-bit nonce, base64.
    pub iv: String,
}

/// A party's key file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartyKeyFile {
    /// Always [`PARTY_KEY_FORMAT`].
    pub format: String,
    /// Whose key: the member id (court, institution) or the appraiser id.
    pub owner: String,
    /// The public key, `04‖X‖Y` hex.
    pub public_key: String,
    /// SM3 of the public key.
    pub key_id: String,
    /// When the key was made (RFC 3339).
    pub created_at: String,
    /// The passphrase's key derivation.
    pub kdf: Kdf,
    /// The seal.
    pub cipher: Cipher,
    /// The sealed private key and its tag, base64.
    pub ciphertext: String,
}

impl PartyKeyFile {
    /// Seals `key` for `owner` under `passphrase` (at least 8 characters) with `iterations`
    /// of PBKDF2 (at least [`MIN_ITERATIONS`]).
    pub fn seal(
        owner: &str,
        key: &Sm2SigningKey,
        passphrase: &str,
        iterations: u32,
        created_at: &str,
    ) -> Result<Self, PartyKeyError> {
        if passphrase.chars().count() < 8 {
            return Err(PartyKeyError::WeakPassphrase);
        }
        let iterations = iterations.max(MIN_ITERATIONS);
        let salt = random_bytes::<16>();
        let public_key = key.public_key().to_hex();
        let secret = hex::encode(key.to_bytes());
        let (iv, ciphertext) = seal(
            &derive(passphrase, &salt, iterations),
            public_key.as_bytes(),
            secret.as_bytes(),
        )
        .map_err(|e| PartyKeyError::Malformed(e.to_string()))?;
        Ok(Self {
            format: PARTY_KEY_FORMAT.into(),
            owner: owner.into(),
            key_id: key.public_key().key_id().to_hex(),
            public_key,
            created_at: created_at.into(),
            kdf: Kdf {
                name: "PBKDF2".into(),
                hash: "SHA-256".into(),
                iterations,
                salt: STANDARD.encode(salt),
            },
            cipher: Cipher {
                name: "AES-GCM".into(),
                iv: STANDARD.encode(iv),
            },
            ciphertext: STANDARD.encode(ciphertext),
        })
    }

    /// Writes the key file to `path`, which must not exist, readable by its owner only (0600
    /// where modes exist): even sealed, a key file is not left open to offline guessing.
    pub fn write_new(&self, path: &std::path::Path) -> std::io::Result<()> {
        use std::io::Write as _;
        let bytes = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        let mut f = crate::store::private_file()
            .write(true)
            .create_new(true)
            .open(path)?;
        f.write_all(&bytes)?;
        f.sync_all()
    }

    /// Parses a key file, checking its format and parameters (not the passphrase).
    pub fn parse(bytes: &[u8]) -> Result<Self, PartyKeyError> {
        let f: Self =
            serde_json::from_slice(bytes).map_err(|e| PartyKeyError::Malformed(e.to_string()))?;
        let bad = |what: &str| Err(PartyKeyError::Malformed(what.into()));
        if f.format != PARTY_KEY_FORMAT {
            return bad("\"format\" is not tiezheng.party-key.v1");
        }
        if f.kdf.name != "PBKDF2" || f.kdf.hash != "SHA-256" || f.cipher.name != "AES-GCM" {
            return bad("only PBKDF2 with SHA-256 and AES-GCM are used");
        }
        if f.kdf.iterations < MIN_ITERATIONS {
            return bad("\"kdf.iterations\" is below 100,000");
        }
        if tiezheng_protocol::Sm2PublicKey::from_hex(&f.public_key).is_err() {
            return bad("\"public_key\" is not an SM2 public key (04‖X‖Y, hex)");
        }
        Ok(f)
    }

    /// The private key, if `passphrase` opens it and it is the key the file names.
    pub fn open(&self, passphrase: &str) -> Result<Sm2SigningKey, PartyKeyError> {
        let b64 = |field: &str, v: &str| {
            STANDARD
                .decode(v)
                .map_err(|e| PartyKeyError::Malformed(format!("\"{field}\": {e}")))
        };
        let salt = b64("kdf.salt", &self.kdf.salt)?;
        let iv = b64("cipher.iv", &self.cipher.iv)?;
        let ct = b64("ciphertext", &self.ciphertext)?;
        let wrapping = derive(passphrase, &salt, self.kdf.iterations);
        let plain = open(&wrapping, self.public_key.as_bytes(), &iv, ct)
            .map_err(|()| PartyKeyError::WrongPassphrase)?;
        let bytes = std::str::from_utf8(&plain)
            .ok()
            .and_then(|s| hex::decode(s).ok())
            .ok_or_else(|| {
                PartyKeyError::Malformed("the sealed key is not 64 hex digits".into())
            })?;
        let key = Sm2SigningKey::from_bytes(&bytes)
            .map_err(|e| PartyKeyError::Malformed(format!("the sealed key: {e}")))?;
        if key.public_key().to_hex() != self.public_key {
            return Err(PartyKeyError::Malformed(
                "the sealed key does not match \"public_key\"".into(),
            ));
        }
        Ok(key)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn sealed_opens_with_its_passphrase_only() {
        let key = Sm2SigningKey::generate();
        let f = PartyKeyFile::seal(
            "A-101",
            &key,
            "passphrase 1",
            100_000,
            "2026-12-07T00:00:00Z",
        )
        .unwrap();
        let again = PartyKeyFile::parse(&serde_json::to_vec(&f).unwrap()).unwrap();
        assert_eq!(
            again.open("passphrase 1").unwrap().to_bytes(),
            key.to_bytes()
        );
        assert_eq!(
            again.open("passphrase 2").unwrap_err(),
            PartyKeyError::WrongPassphrase
        );
        assert_eq!(
            PartyKeyFile::seal("A", &key, "short", 100_000, "t").unwrap_err(),
            PartyKeyError::WeakPassphrase
        );
        // The ciphertext of one key under another public key does not open.
        let other = Sm2SigningKey::generate();
        let mut moved = f.clone();
        moved.public_key = other.public_key().to_hex();
        assert_eq!(
            moved.open("passphrase 1").unwrap_err(),
            PartyKeyError::WrongPassphrase
        );
        let mut weak = serde_json::to_value(&f).unwrap();
        weak["kdf"]["iterations"] = 1000.into();
        assert!(matches!(
            PartyKeyFile::parse(&serde_json::to_vec(&weak).unwrap()),
            Err(PartyKeyError::Malformed(_))
        ));
        assert!(matches!(
            PartyKeyFile::parse(b"{}"),
            Err(PartyKeyError::Malformed(_))
        ));
    }
}
