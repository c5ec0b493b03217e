//! Protecting the device's SM2 key at rest.
//!
//! The SM2 private key never leaves the device in clear: it is sealed with AES-256-GCM under a
//! random key-encryption key (KEK), and the KEK itself is sealed by a platform [`KeyVault`]:
//! Android Keystore or the iOS Keychain / Secure Enclave on phones (implemented by the app
//! through the bindings, with user authentication required), or [`PassphraseVault`] on the
//! command line, which derives a wrapping key from the officer's PIN with PBKDF2-HMAC-SHA256.
//!
//! A wrong unlock surfaces as [`VaultError::WrongUnlock`]; the device counts those and locks the
//! key after [`crate::device::DEFAULT_MAX_UNLOCK_ATTEMPTS`] in a row (see [`crate::device`]). A
//! cancelled or timed-out authentication is [`VaultError::Cancelled`] and never counts: only a
//! credential proven wrong does. A locked device cannot be unlocked again; it is set up anew and
//! enrolled again, and the administrator revokes the old device key
//! (`tiezheng admin revoke-device`). Its queued proofs can still be synced (nothing is signed
//! then).

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use serde::{Deserialize, Serialize};

use crate::store::random_bytes;

/// A 256-bit key-encryption key.
pub type Kek = [u8; 32];

/// Why a vault could not seal or open the KEK.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VaultError {
    /// The officer's unlock (PIN, biometric) was proven wrong: counted towards the lock.
    #[error("wrong unlock (PIN or biometric)")]
    WrongUnlock,
    /// The officer cancelled the authentication, or it timed out: not counted.
    #[error("unlock cancelled or timed out; nothing was counted")]
    Cancelled,
    /// The platform vault refused or is unavailable; `reason` says why.
    #[error("key vault unavailable: {reason}")]
    Unavailable {
        /// The platform's reason.
        reason: String,
    },
    /// The stored blob is damaged.
    #[error("sealed key-encryption key is damaged: {0}")]
    Corrupt(String),
}

/// A platform key vault that seals and opens the device's key-encryption key.
pub trait KeyVault {
    /// Seals `kek`; the returned blob is stored by the SDK and handed back to [`Self::open_kek`].
    fn seal_kek(&self, kek: &Kek) -> Result<Vec<u8>, VaultError>;
    /// Opens a blob made by [`Self::seal_kek`], after the officer's unlock. Return
    /// [`VaultError::WrongUnlock`] only for a credential proven wrong (it counts towards the
    /// permanent lock) and [`VaultError::Cancelled`] for a cancelled or timed-out prompt.
    fn open_kek(&self, blob: &[u8]) -> Result<Kek, VaultError>;
}

/// The command line's vault: a wrapping key derived from a PIN or passphrase.
///
/// The counter of wrong unlocks protects against guessing on the device; a copied key file can
/// still be attacked offline, which is why phones use hardware-backed vaults instead.
#[derive(Clone)]
pub struct PassphraseVault {
    passphrase: String,
    iterations: u32,
}

impl std::fmt::Debug for PassphraseVault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PassphraseVault")
            .field("iterations", &self.iterations)
            .finish_non_exhaustive()
    }
}

/// PBKDF2-HMAC-SHA256 iterations for new seals (OWASP 2023 guidance).
pub const DEFAULT_PBKDF2_ITERATIONS: u32 = 600_000;

#[derive(Serialize, Deserialize)]
struct PassphraseBlob {
    kdf: String,
    iterations: u32,
    salt: String,
    aead: String,
    nonce: String,
    ciphertext: String,
}

impl PassphraseVault {
    /// A vault unlocked with `passphrase`.
    pub fn new(passphrase: impl Into<String>) -> Self {
        Self {
            passphrase: passphrase.into(),
            iterations: DEFAULT_PBKDF2_ITERATIONS,
        }
    }

    /// Lower iteration counts, for tests only.
    pub fn danger_with_iterations(mut self, iterations: u32) -> Self {
        self.iterations = iterations.max(1);
        self
    }

    fn derive(&self, salt: &[u8], iterations: u32) -> Kek {
        pbkdf2_sha256(&self.passphrase, salt, iterations)
    }
}

/// A 256-bit key from `passphrase` with PBKDF2-HMAC-SHA256 (`iterations`, at least 1).
pub(crate) fn pbkdf2_sha256(passphrase: &str, salt: &[u8], iterations: u32) -> Kek {
    let mut out = [0u8; 32];
    let iters = std::num::NonZeroU32::new(iterations).unwrap_or(std::num::NonZeroU32::MIN);
    ring::pbkdf2::derive(
        ring::pbkdf2::PBKDF2_HMAC_SHA256,
        iters,
        salt,
        passphrase.as_bytes(),
        &mut out,
    );
    out
}

impl KeyVault for PassphraseVault {
    fn seal_kek(&self, kek: &Kek) -> Result<Vec<u8>, VaultError> {
        let salt = random_bytes::<16>();
        let wrapping = self.derive(&salt, self.iterations);
        let (nonce, ciphertext) = seal(&wrapping, b"tiezheng-kek-v1", kek)?;
        let blob = PassphraseBlob {
            kdf: "PBKDF2-HMAC-SHA256".into(),
            iterations: self.iterations,
            salt: hex::encode(salt),
            aead: "AES-256-GCM".into(),
            nonce: hex::encode(nonce),
            ciphertext: hex::encode(ciphertext),
        };
        serde_json::to_vec(&blob).map_err(|e| VaultError::Corrupt(e.to_string()))
    }

    fn open_kek(&self, blob: &[u8]) -> Result<Kek, VaultError> {
        let b: PassphraseBlob =
            serde_json::from_slice(blob).map_err(|e| VaultError::Corrupt(e.to_string()))?;
        if b.kdf != "PBKDF2-HMAC-SHA256" || b.aead != "AES-256-GCM" {
            return Err(VaultError::Corrupt(format!(
                "unsupported {} / {}",
                b.kdf, b.aead
            )));
        }
        let salt = hex::decode(&b.salt).map_err(|e| VaultError::Corrupt(e.to_string()))?;
        let nonce = hex::decode(&b.nonce).map_err(|e| VaultError::Corrupt(e.to_string()))?;
        let ct = hex::decode(&b.ciphertext).map_err(|e| VaultError::Corrupt(e.to_string()))?;
        let wrapping = self.derive(&salt, b.iterations);
        let plain =
            open(&wrapping, b"tiezheng-kek-v1", &nonce, ct).map_err(|_| VaultError::WrongUnlock)?;
        plain
            .try_into()
            .map_err(|_| VaultError::Corrupt("KEK is not 32 bytes".into()))
    }
}

/// AES-256-GCM with a random 96-bit nonce: (nonce, ciphertext‖tag).
pub(crate) fn seal(
    key: &Kek,
    aad: &[u8],
    plaintext: &[u8],
) -> Result<([u8; 12], Vec<u8>), VaultError> {
    let k = LessSafeKey::new(
        UnboundKey::new(&AES_256_GCM, key).map_err(|_| VaultError::Corrupt("bad key".into()))?,
    );
    let nonce = random_bytes::<12>();
    let mut buf = plaintext.to_vec();
    k.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce),
        Aad::from(aad),
        &mut buf,
    )
    .map_err(|_| VaultError::Corrupt("encryption failed".into()))?;
    Ok((nonce, buf))
}

/// Opens what [`seal`] made; any tampering or a wrong key is an error.
pub(crate) fn open(
    key: &Kek,
    aad: &[u8],
    nonce: &[u8],
    mut ciphertext: Vec<u8>,
) -> Result<Vec<u8>, ()> {
    let k = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).map_err(|_| ())?);
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| ())?;
    let plain = k
        .open_in_place(nonce, Aad::from(aad), &mut ciphertext)
        .map_err(|_| ())?;
    Ok(plain.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passphrase_vault_round_trip_and_wrong_pin() {
        let v = PassphraseVault::new("246810").danger_with_iterations(1000);
        let kek = random_bytes::<32>();
        let blob = v.seal_kek(&kek).unwrap();
        assert_eq!(v.open_kek(&blob).unwrap(), kek);
        let wrong = PassphraseVault::new("000000").danger_with_iterations(1000);
        assert_eq!(wrong.open_kek(&blob), Err(VaultError::WrongUnlock));
        assert!(matches!(v.open_kek(b"{}"), Err(VaultError::Corrupt(_))));
        assert!(
            !format!("{v:?}").contains("246810"),
            "the PIN never appears in debug output"
        );
    }
}
