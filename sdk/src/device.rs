//! The officer's device: its identity, its sealed SM2 key and the unlock counter.
//!
//! Files in the device directory:
//!
//! * `device.json`: identity, officers, public key, enrolment ID, unlock counter;
//! * `device-key.sealed`: the SM2 private key under AES-256-GCM with a random KEK, the KEK
//!   sealed by the platform [`KeyVault`], and the unlock counter again: the counter travels
//!   with the key, so restoring or copying `device.json` does not reset it (the higher count
//!   of the two files holds);
//!
//! The directory is created 0700 and every file in it 0600. A copy of the sealed key can still
//! be attacked offline, where no counter applies: the vault's key derivation (or the phone's
//! hardware keystore) is what makes that slow.
//! * `queue/`, `media/`, `recordings/`: see [`crate::queue`] and [`crate::capture`].

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tiezheng_protocol::manifest::DeviceInfo;
use tiezheng_protocol::sm2::Sm2SigningKey;
use tiezheng_protocol::{Hash32, Sm2PublicKey, Timestamp};

use crate::store::{private_dir_all, random_bytes, write_atomic};
use crate::vault::{self, KeyVault, VaultError};

/// Wrong unlocks allowed before the key locks.
pub const DEFAULT_MAX_UNLOCK_ATTEMPTS: u32 = 5;

/// Why a device operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeviceError {
    /// `device init` on a directory that already holds a device.
    #[error("{} already holds a device; use another --dir or remove it", .0.display())]
    AlreadyInitialised(PathBuf),
    /// No device in the directory.
    #[error("no device in {}: run `tiezheng device init --dir {}` first", .0.display(), .0.display())]
    NotInitialised(PathBuf),
    /// The default profile is not one this SDK knows.
    #[error(transparent)]
    Profile(#[from] tiezheng_protocol::profile::ProfileError),
    /// An officer's identity breaks a rule (the message names the field).
    #[error("officer: {0}")]
    InvalidOfficer(String),
    /// The officer is already registered on this device.
    #[error("officer {0:?} is already registered on this device")]
    OfficerExists(String),
    /// No officer of that ID is registered on this device.
    #[error("officer {0:?} is not registered on this device: run `tiezheng officer add` first")]
    UnknownOfficer(String),
    /// Fewer than one officer given.
    #[error("at least one officer ID is needed (the rules require two collectors)")]
    NoOfficer,
    /// The unlock was wrong; `remaining` attempts before the key locks.
    #[error("wrong PIN: {remaining} attempts left before the device key locks")]
    WrongUnlock {
        /// Attempts left.
        remaining: u32,
    },
    /// The officer cancelled the unlock, or it timed out: nothing was counted.
    #[error("unlock cancelled or timed out; nothing was counted, try again")]
    UnlockCancelled,
    /// Too many wrong unlocks: the key is locked and the device must be re-enrolled.
    #[error(
        "device key is locked after too many wrong PINs; re-initialise and re-enrol the device"
    )]
    Locked,
    /// The platform vault failed.
    #[error("key vault: {0}")]
    Vault(VaultError),
    /// A device file is damaged.
    #[error("{}: {reason}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Reading or writing the device directory failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
}

pub(crate) fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> DeviceError + '_ {
    move |source| DeviceError::Io {
        path: path.to_owned(),
        source,
    }
}

/// What `device.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceState {
    /// Format version (1).
    pub version: u32,
    /// Random local identifier.
    pub device_id: String,
    /// Officer IDs registered on the device (the default collectors).
    pub officers: Vec<String>,
    /// Hardware model.
    pub model: String,
    /// Operating system.
    pub os: String,
    /// When the device was set up.
    pub created_at: Timestamp,
    /// Public key, hex `04‖X‖Y`.
    pub public_key: String,
    /// SM3 of the public key.
    pub key_id: Hash32,
    /// Enrolment ID from the notary, once enrolled.
    pub enrolment_id: Option<String>,
    /// Consecutive wrong unlocks.
    pub failed_unlocks: u32,
    /// Wrong unlocks allowed.
    pub max_unlock_attempts: u32,
    /// Set when the key locked.
    pub locked: bool,
    /// The forensic profile captures follow unless they choose another (absent: `basic`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SealedKey {
    kek_blob: String,
    nonce: String,
    ciphertext: String,
    /// Wrong unlocks so far (absent in files written before the counter moved here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    failed_unlocks: Option<u32>,
    /// Set when the key locked.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    locked: bool,
}

/// Parameters of a new device.
#[derive(Debug, Clone)]
pub struct DeviceSetup {
    /// Officer IDs.
    pub officers: Vec<String>,
    /// Hardware model.
    pub model: String,
    /// Operating system and version.
    pub os: String,
    /// The default forensic profile of captures (`None`: `basic`).
    pub profile: Option<String>,
}

/// A device directory (locked: no key in memory).
#[derive(Debug, Clone)]
pub struct Device {
    dir: PathBuf,
    state: DeviceState,
}

/// A device whose key has been unlocked for this session.
#[derive(Debug)]
pub struct UnlockedDevice {
    pub(crate) device: Device,
    pub(crate) key: Sm2SigningKey,
    /// The enrolment ID, which enrolment sets while the device is in use.
    enrolment: std::sync::Mutex<Option<String>>,
    /// Officers unlocked for this session: (officer ID, key). They sign what the device seals.
    pub(crate) officer_keys: std::sync::Mutex<Vec<(String, Sm2SigningKey)>>,
}

impl Device {
    /// Sets up a new device in `dir`: generates the SM2 key on the device and seals it.
    pub fn init(dir: &Path, setup: DeviceSetup, vault: &dyn KeyVault) -> Result<Self, DeviceError> {
        if setup.officers.iter().all(|o| o.trim().is_empty()) {
            return Err(DeviceError::NoOfficer);
        }
        if let Some(id) = &setup.profile {
            tiezheng_protocol::profile::find(id)?;
        }
        private_dir_all(dir).map_err(io_err(dir))?;
        let state_path = dir.join("device.json");
        if state_path.exists() {
            return Err(DeviceError::AlreadyInitialised(dir.to_owned()));
        }
        let key = Sm2SigningKey::generate();
        let kek = random_bytes::<32>();
        let kek_blob = vault.seal_kek(&kek).map_err(DeviceError::Vault)?;
        let aad = key_aad(&key.public_key().key_id());
        let (nonce, ciphertext) =
            vault::seal(&kek, &aad, &key.to_bytes()).map_err(DeviceError::Vault)?;
        let sealed = SealedKey {
            kek_blob: hex::encode(kek_blob),
            nonce: hex::encode(nonce),
            ciphertext: hex::encode(ciphertext),
            failed_unlocks: Some(0),
            locked: false,
        };
        let state = DeviceState {
            version: 1,
            device_id: hex::encode(random_bytes::<16>()),
            officers: setup
                .officers
                .into_iter()
                .filter(|o| !o.trim().is_empty())
                .collect(),
            model: setup.model,
            os: setup.os,
            created_at: Timestamp::now_utc(),
            public_key: key.public_key().to_hex(),
            key_id: key.public_key().key_id(),
            enrolment_id: None,
            failed_unlocks: 0,
            max_unlock_attempts: DEFAULT_MAX_UNLOCK_ATTEMPTS,
            locked: false,
            profile: setup.profile,
        };
        let sealed_path = dir.join("device-key.sealed");
        write_atomic(&sealed_path, &json_bytes(&sealed)).map_err(io_err(&sealed_path))?;
        let device = Self {
            dir: dir.to_owned(),
            state,
        };
        device.save()?;
        Ok(device)
    }

    /// Opens the device in `dir`.
    pub fn open(dir: &Path) -> Result<Self, DeviceError> {
        let path = dir.join("device.json");
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(DeviceError::NotInitialised(dir.to_owned()));
            }
            Err(e) => return Err(DeviceError::Io { path, source: e }),
        };
        let state: DeviceState =
            serde_json::from_slice(&bytes).map_err(|e| DeviceError::Corrupt {
                path: path.clone(),
                reason: e.to_string(),
            })?;
        Ok(Self {
            dir: dir.to_owned(),
            state,
        })
    }

    /// The device directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The stored state.
    pub fn state(&self) -> &DeviceState {
        &self.state
    }

    /// The device's public key.
    pub fn public_key(&self) -> Result<Sm2PublicKey, DeviceError> {
        Sm2PublicKey::from_hex(&self.state.public_key).map_err(|e| DeviceError::Corrupt {
            path: self.dir.join("device.json"),
            reason: e.to_string(),
        })
    }

    /// Records the notary's enrolment ID.
    pub fn set_enrolment(&mut self, enrolment_id: String) -> Result<(), DeviceError> {
        self.state.enrolment_id = Some(enrolment_id);
        self.save()
    }

    /// The manifest's device block.
    pub fn info(&self) -> DeviceInfo {
        DeviceInfo {
            enrolment_id: self.state.enrolment_id.clone(),
            device_id: self.state.device_id.clone(),
            model: self.state.model.clone(),
            os: self.state.os.clone(),
            sdk_version: env!("CARGO_PKG_VERSION").to_owned(),
            key_id: self.state.key_id,
        }
    }

    /// Unlocks the key with the officer's unlock through `vault`. Wrong unlocks are counted
    /// durably; after `max_unlock_attempts` the key locks for good.
    pub fn unlock(mut self, vault: &dyn KeyVault) -> Result<UnlockedDevice, DeviceError> {
        if self.state.locked {
            return Err(DeviceError::Locked);
        }
        let path = self.dir.join("device-key.sealed");
        let bytes = fs::read(&path).map_err(io_err(&path))?;
        let corrupt = |reason: String| DeviceError::Corrupt {
            path: path.clone(),
            reason,
        };
        let mut sealed: SealedKey =
            serde_json::from_slice(&bytes).map_err(|e| corrupt(e.to_string()))?;
        // The counter is the higher of the two files' (a restored device.json resets nothing).
        let failed = sealed
            .failed_unlocks
            .unwrap_or(0)
            .max(self.state.failed_unlocks);
        if sealed.locked || failed >= self.state.max_unlock_attempts {
            self.state.failed_unlocks = failed;
            self.state.locked = true;
            self.save()?;
            return Err(DeviceError::Locked);
        }
        self.state.failed_unlocks = failed;
        let kek_blob = hex::decode(&sealed.kek_blob).map_err(|e| corrupt(e.to_string()))?;
        let opened = vault.open_kek(&kek_blob).and_then(|kek| {
            let nonce =
                hex::decode(&sealed.nonce).map_err(|e| VaultError::Corrupt(e.to_string()))?;
            let ct =
                hex::decode(&sealed.ciphertext).map_err(|e| VaultError::Corrupt(e.to_string()))?;
            vault::open(&kek, &key_aad(&self.state.key_id), &nonce, ct)
                .map_err(|()| VaultError::WrongUnlock)
        });
        match opened {
            Ok(secret) => {
                let key = Sm2SigningKey::from_bytes(&secret).map_err(|e| corrupt(e.to_string()))?;
                if key.public_key().key_id() != self.state.key_id {
                    return Err(corrupt("sealed key does not match device.json".into()));
                }
                if self.state.failed_unlocks != 0 || sealed.failed_unlocks != Some(0) {
                    self.state.failed_unlocks = 0;
                    sealed.failed_unlocks = Some(0);
                    write_atomic(&path, &json_bytes(&sealed)).map_err(io_err(&path))?;
                    self.save()?;
                }
                let enrolment = std::sync::Mutex::new(self.state.enrolment_id.clone());
                Ok(UnlockedDevice {
                    device: self,
                    key,
                    enrolment,
                    officer_keys: std::sync::Mutex::new(Vec::new()),
                })
            }
            Err(VaultError::WrongUnlock) => {
                self.state.failed_unlocks += 1;
                let locks = self.state.failed_unlocks >= self.state.max_unlock_attempts;
                // The sealed key's counter first: it is the one a copy cannot reset.
                sealed.failed_unlocks = Some(self.state.failed_unlocks);
                sealed.locked = locks;
                write_atomic(&path, &json_bytes(&sealed)).map_err(io_err(&path))?;
                if locks {
                    self.state.locked = true;
                    self.save()?;
                    return Err(DeviceError::Locked);
                }
                self.save()?;
                Err(DeviceError::WrongUnlock {
                    remaining: self.state.max_unlock_attempts - self.state.failed_unlocks,
                })
            }
            Err(VaultError::Cancelled) => Err(DeviceError::UnlockCancelled),
            Err(e) => Err(DeviceError::Vault(e)),
        }
    }

    fn save(&self) -> Result<(), DeviceError> {
        let path = self.dir.join("device.json");
        write_atomic(&path, &json_bytes(&self.state)).map_err(io_err(&path))
    }
}

impl UnlockedDevice {
    /// The device.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The manifest's device block, with the current enrolment ID.
    pub fn info(&self) -> DeviceInfo {
        let mut info = self.device.info();
        if let Ok(e) = self.enrolment.lock() {
            info.enrolment_id.clone_from(&e);
        }
        info
    }

    /// Records the notary's enrolment ID (on disk and for the manifests that follow).
    pub fn set_enrolment(&self, enrolment_id: String) -> Result<(), DeviceError> {
        Device::open(self.device.dir())?.set_enrolment(enrolment_id.clone())?;
        if let Ok(mut e) = self.enrolment.lock() {
            *e = Some(enrolment_id);
        }
        Ok(())
    }

    /// The public key of the unlocked signing key.
    pub fn public_key(&self) -> &Sm2PublicKey {
        self.key.public_key()
    }

    /// Signs any document with the device key (RFC 8785 bytes, SM2-with-SM3, default ID).
    pub fn sign_document<T: Serialize + ?Sized>(
        &self,
        document: &T,
    ) -> Result<tiezheng_protocol::SignatureBlock, tiezheng_protocol::SignedError> {
        tiezheng_protocol::SignatureBlock::sign(&self.key, document)
    }

    /// Signs a manifest with the device key as it is, without the checks capture applies
    /// (sequence, chain, file names). For tools and tests that must produce exact documents.
    pub fn sign(
        &self,
        manifest: tiezheng_protocol::Manifest,
    ) -> Result<tiezheng_protocol::Proof, tiezheng_protocol::SignedError> {
        tiezheng_protocol::Proof::sign(manifest, &self.key)
    }
}

fn key_aad(key_id: &Hash32) -> Vec<u8> {
    let mut aad = b"tiezheng-device-key-v1:".to_vec();
    aad.extend_from_slice(key_id.to_hex().as_bytes());
    aad
}

pub(crate) fn json_bytes<T: Serialize>(v: &T) -> Vec<u8> {
    let mut b = serde_json::to_vec_pretty(v).unwrap_or_default();
    b.push(b'\n');
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::PassphraseVault;

    fn setup() -> DeviceSetup {
        DeviceSetup {
            profile: None,
            officers: vec!["010001".into(), "010002".into()],
            model: "test".into(),
            os: "linux".into(),
        }
    }

    #[test]
    fn init_unlock_and_lockout() {
        let dir = tempfile::tempdir().unwrap();
        let pin = PassphraseVault::new("1234").danger_with_iterations(10);
        let wrong = PassphraseVault::new("9999").danger_with_iterations(10);
        let dev = Device::init(dir.path(), setup(), &pin).unwrap();
        let key_id = dev.state().key_id;
        assert!(matches!(
            Device::init(dir.path(), setup(), &pin),
            Err(DeviceError::AlreadyInitialised(_))
        ));
        // The private key is not in clear in any file.
        let unlocked = Device::open(dir.path()).unwrap().unlock(&pin).unwrap();
        let secret = hex::encode(unlocked.key.to_bytes());
        for entry in fs::read_dir(dir.path()).unwrap() {
            let text = fs::read_to_string(entry.unwrap().path()).unwrap_or_default();
            assert!(!text.contains(&secret));
        }
        assert_eq!(unlocked.public_key().key_id(), key_id);

        for remaining in (1..5).rev() {
            match Device::open(dir.path()).unwrap().unlock(&wrong) {
                Err(DeviceError::WrongUnlock { remaining: r }) => assert_eq!(r, remaining),
                other => panic!("{other:?}"),
            }
        }
        // A right unlock resets the counter...
        Device::open(dir.path()).unwrap().unlock(&pin).unwrap();
        assert_eq!(Device::open(dir.path()).unwrap().state().failed_unlocks, 0);
        // ...five wrong ones lock the key, after which even the right PIN is refused.
        for _ in 0..4 {
            assert!(matches!(
                Device::open(dir.path()).unwrap().unlock(&wrong),
                Err(DeviceError::WrongUnlock { .. })
            ));
        }
        assert!(matches!(
            Device::open(dir.path()).unwrap().unlock(&wrong),
            Err(DeviceError::Locked)
        ));
        assert!(matches!(
            Device::open(dir.path()).unwrap().unlock(&pin),
            Err(DeviceError::Locked)
        ));
    }

    #[cfg(unix)]
    #[test]
    fn private_files_and_a_counter_that_a_copy_does_not_reset() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("officer");
        let pin = PassphraseVault::new("1234").danger_with_iterations(10);
        let wrong = PassphraseVault::new("9999").danger_with_iterations(10);
        Device::init(&home, setup(), &pin).unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&home), 0o700);
        assert_eq!(mode(&home.join("device-key.sealed")), 0o600);
        assert_eq!(mode(&home.join("device.json")), 0o600);

        // A backup of device.json taken before three wrong PINs...
        let backup = fs::read(home.join("device.json")).unwrap();
        for _ in 0..3 {
            assert!(Device::open(&home).unwrap().unlock(&wrong).is_err());
        }
        // ...restored (or the sealed key copied beside a fresh device.json) counts on from
        // the sealed key's counter: one more wrong PIN leaves one attempt.
        fs::write(home.join("device.json"), &backup).unwrap();
        match Device::open(&home).unwrap().unlock(&wrong) {
            Err(DeviceError::WrongUnlock { remaining }) => assert_eq!(remaining, 1),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            Device::open(&home).unwrap().unlock(&wrong),
            Err(DeviceError::Locked)
        ));
        fs::write(home.join("device.json"), &backup).unwrap();
        assert!(matches!(
            Device::open(&home).unwrap().unlock(&pin),
            Err(DeviceError::Locked)
        ));
    }
}
