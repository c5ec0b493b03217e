//! Officers' own keys on the device: each collector's SM2 key, generated here and sealed under
//! that officer's own PIN (or biometric, through a [`KeyVault`]), never the device's.
//!
//! `officers/<sm3 of the officer ID>.json` holds the officer's identity (officer ID, name,
//! 执法证号, unit), the public key, the sealed private key, a wrong-unlock counter (five wrong
//! unlocks lock the key for good, as the device key), and, once the notary bound it, the
//! officer's credential. An officer unlocked on an [`UnlockedDevice`] signs every manifest the
//! device seals that names them as a collector, beside the device's signature.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tiezheng_protocol::officer::{OfficerIdentity, SignedOfficerCertificate};
use tiezheng_protocol::sm2::Sm2SigningKey;
use tiezheng_protocol::{Hash32, Sm2PublicKey};

use crate::device::{DEFAULT_MAX_UNLOCK_ATTEMPTS, Device, DeviceError, UnlockedDevice, io_err};
use crate::store::{private_dir_all, random_bytes, write_atomic};
use crate::vault::{self, KeyVault, VaultError};

/// What the device keeps of one officer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct OfficerFile {
    version: u32,
    officer: OfficerIdentity,
    public_key: String,
    key_id: Hash32,
    kek_blob: String,
    nonce: String,
    ciphertext: String,
    failed_unlocks: u32,
    locked: bool,
    credential: Option<SignedOfficerCertificate>,
}

/// An officer registered on the device (no secret in it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficerRecord {
    /// Who the officer is.
    pub officer: OfficerIdentity,
    /// The officer's public key, `04‖X‖Y` hex.
    pub public_key: String,
    /// SM3 of the public key.
    pub key_id: Hash32,
    /// The notary's credential, once the officer enrolled.
    pub credential: Option<SignedOfficerCertificate>,
    /// Set after too many wrong unlocks.
    pub locked: bool,
}

fn aad(key_id: &Hash32) -> Vec<u8> {
    let mut aad = b"tiezheng-officer-key-v1:".to_vec();
    aad.extend_from_slice(key_id.to_hex().as_bytes());
    aad
}

fn officers_dir(device_dir: &Path) -> PathBuf {
    device_dir.join("officers")
}

fn officer_path(device_dir: &Path, officer_id: &str) -> PathBuf {
    officers_dir(device_dir).join(format!(
        "{}.json",
        Hash32::sm3(officer_id.as_bytes()).to_hex()
    ))
}

fn read(path: &Path) -> Result<OfficerFile, DeviceError> {
    let bytes = fs::read(path).map_err(io_err(path))?;
    serde_json::from_slice(&bytes).map_err(|e| DeviceError::Corrupt {
        path: path.to_owned(),
        reason: e.to_string(),
    })
}

fn write(path: &Path, f: &OfficerFile) -> Result<(), DeviceError> {
    write_atomic(path, &crate::device::json_bytes(f)).map_err(io_err(path))
}

impl From<&OfficerFile> for OfficerRecord {
    fn from(f: &OfficerFile) -> Self {
        Self {
            officer: f.officer.clone(),
            public_key: f.public_key.clone(),
            key_id: f.key_id,
            credential: f.credential.clone(),
            locked: f.locked,
        }
    }
}

impl Device {
    /// Registers an officer on the device: generates the officer's SM2 key here and seals it
    /// through `vault` (the officer's own PIN or biometric).
    pub fn add_officer(
        &self,
        officer: OfficerIdentity,
        vault: &dyn KeyVault,
    ) -> Result<OfficerRecord, DeviceError> {
        officer.check().map_err(DeviceError::InvalidOfficer)?;
        let dir = officers_dir(self.dir());
        private_dir_all(&dir).map_err(io_err(&dir))?;
        let path = officer_path(self.dir(), &officer.officer_id);
        if path.exists() {
            return Err(DeviceError::OfficerExists(officer.officer_id));
        }
        let key = Sm2SigningKey::generate();
        let key_id = key.public_key().key_id();
        let kek = random_bytes::<32>();
        let kek_blob = vault.seal_kek(&kek).map_err(DeviceError::Vault)?;
        let (nonce, ciphertext) =
            vault::seal(&kek, &aad(&key_id), &key.to_bytes()).map_err(DeviceError::Vault)?;
        let file = OfficerFile {
            version: 1,
            officer,
            public_key: key.public_key().to_hex(),
            key_id,
            kek_blob: hex::encode(kek_blob),
            nonce: hex::encode(nonce),
            ciphertext: hex::encode(ciphertext),
            failed_unlocks: 0,
            locked: false,
            credential: None,
        };
        write(&path, &file)?;
        Ok((&file).into())
    }

    /// The officers registered on the device, by officer ID.
    pub fn officers(&self) -> Result<Vec<OfficerRecord>, DeviceError> {
        let dir = officers_dir(self.dir());
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_err(&dir)(e)),
        };
        let mut out = Vec::new();
        for e in entries {
            let path = e.map_err(io_err(&dir))?.path();
            if path.extension().is_some_and(|x| x == "json") {
                out.push(OfficerRecord::from(&read(&path)?));
            }
        }
        out.sort_by(|a, b| a.officer.officer_id.cmp(&b.officer.officer_id));
        Ok(out)
    }

    /// Stores the notary's credential for an officer's key.
    pub fn set_officer_credential(
        &self,
        credential: SignedOfficerCertificate,
    ) -> Result<(), DeviceError> {
        let id = credential.certificate.officer.officer_id.clone();
        let path = officer_path(self.dir(), &id);
        if !path.exists() {
            return Err(DeviceError::UnknownOfficer(id));
        }
        let mut f = read(&path)?;
        if f.key_id != credential.certificate.key_id {
            return Err(DeviceError::Corrupt {
                path,
                reason: "the credential binds another key than the officer's".into(),
            });
        }
        f.credential = Some(credential);
        write(&path, &f)
    }
}

impl UnlockedDevice {
    /// Unlocks officer `officer_id`'s key through `vault`: from now on the officer signs every
    /// manifest this device seals that names them as a collector. Wrong unlocks are counted;
    /// five lock the officer's key for good.
    pub fn unlock_officer(
        &self,
        officer_id: &str,
        vault: &dyn KeyVault,
    ) -> Result<OfficerRecord, DeviceError> {
        let path = officer_path(self.device().dir(), officer_id);
        if !path.exists() {
            return Err(DeviceError::UnknownOfficer(officer_id.to_owned()));
        }
        let mut f = read(&path)?;
        if f.locked || f.failed_unlocks >= DEFAULT_MAX_UNLOCK_ATTEMPTS {
            return Err(DeviceError::Locked);
        }
        let corrupt = |reason: String| DeviceError::Corrupt {
            path: path.clone(),
            reason,
        };
        let blob = hex::decode(&f.kek_blob).map_err(|e| corrupt(e.to_string()))?;
        let opened = vault.open_kek(&blob).and_then(|kek| {
            let nonce = hex::decode(&f.nonce).map_err(|e| VaultError::Corrupt(e.to_string()))?;
            let ct = hex::decode(&f.ciphertext).map_err(|e| VaultError::Corrupt(e.to_string()))?;
            vault::open(&kek, &aad(&f.key_id), &nonce, ct).map_err(|()| VaultError::WrongUnlock)
        });
        match opened {
            Ok(secret) => {
                let key = Sm2SigningKey::from_bytes(&secret).map_err(|e| corrupt(e.to_string()))?;
                if key.public_key().key_id() != f.key_id {
                    return Err(corrupt("the sealed key is not the officer's".into()));
                }
                if f.failed_unlocks != 0 {
                    f.failed_unlocks = 0;
                    write(&path, &f)?;
                }
                let mut keys = self
                    .officer_keys
                    .lock()
                    .map_err(|_| corrupt("officer keys poisoned".into()))?;
                keys.retain(|(id, _)| id != officer_id);
                keys.push((officer_id.to_owned(), key));
                Ok((&f).into())
            }
            Err(VaultError::WrongUnlock) => {
                f.failed_unlocks += 1;
                f.locked = f.failed_unlocks >= DEFAULT_MAX_UNLOCK_ATTEMPTS;
                write(&path, &f)?;
                if f.locked {
                    Err(DeviceError::Locked)
                } else {
                    Err(DeviceError::WrongUnlock {
                        remaining: DEFAULT_MAX_UNLOCK_ATTEMPTS - f.failed_unlocks,
                    })
                }
            }
            Err(VaultError::Cancelled) => Err(DeviceError::UnlockCancelled),
            Err(e) => Err(DeviceError::Vault(e)),
        }
    }

    /// The unlocked officers among `collectors`, in the collectors' order: who signs.
    pub(crate) fn cosigners(&self, collectors: &[String]) -> Vec<(String, Sm2SigningKey)> {
        let Ok(keys) = self.officer_keys.lock() else {
            return Vec::new();
        };
        let mut out: Vec<(String, Sm2SigningKey)> = Vec::new();
        for c in collectors {
            if out.iter().any(|(id, _)| id == c) {
                continue;
            }
            if let Some((id, key)) = keys.iter().find(|(id, _)| id == c) {
                out.push((id.clone(), key.clone()));
            }
        }
        out
    }

    /// The unlocked key of officer `officer_id`, if unlocked (for enrolment).
    pub fn officer_public_key(&self, officer_id: &str) -> Option<Sm2PublicKey> {
        let keys = self.officer_keys.lock().ok()?;
        keys.iter()
            .find(|(id, _)| id == officer_id)
            .map(|(_, k)| k.public_key().clone())
    }

    /// Signs `document` (its RFC 8785 bytes) with officer `officer_id`'s unlocked key.
    pub fn sign_as_officer<T: Serialize>(
        &self,
        officer_id: &str,
        document: &T,
    ) -> Result<tiezheng_protocol::SignatureBlock, DeviceError> {
        let keys = self
            .officer_keys
            .lock()
            .map_err(|_| DeviceError::UnknownOfficer(officer_id.to_owned()))?;
        let (_, key) = keys
            .iter()
            .find(|(id, _)| id == officer_id)
            .ok_or_else(|| DeviceError::UnknownOfficer(officer_id.to_owned()))?;
        tiezheng_protocol::SignatureBlock::sign(key, document).map_err(|e| DeviceError::Corrupt {
            path: officer_path(self.device().dir(), officer_id),
            reason: e.to_string(),
        })
    }
}
