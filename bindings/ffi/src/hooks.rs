//! The platform's side, as foreign traits the app implements: [`KeyVault`] (Android Keystore,
//! iOS Keychain / Secure Enclave), [`Clock`], [`LocationProvider`], [`NetworkStatus`] and
//! [`SyncListener`], the records they exchange, and the adapters that hand them to the SDK.

use std::sync::Arc;

use tiezheng_sdk::vault::VaultError;

use crate::errors::TiezhengError;

/// The platform's key vault: seals and opens the 32-byte key-encryption key that protects the
/// device's SM2 key. Android: an AES key in the Android Keystore requiring user
/// authentication; iOS: the Keychain or the Secure Enclave.
///
/// Throw `WrongUnlock` only when a credential was presented and proven wrong: five in a row
/// (`DEFAULT_MAX_UNLOCK_ATTEMPTS`) lock the device key for good, after which the device is set up
/// again and re-enrolled, and the administrator revokes the old key. Throw `UnlockCancelled` when
/// the officer cancels the prompt or it times out (BiometricPrompt's cancel, negative-button,
/// timeout and lockout codes; `errSecUserCanceled` and `LAError.userCancel`, `.systemCancel`,
/// `.appCancel` on iOS): it never counts.
#[uniffi::export(with_foreign)]
pub trait KeyVault: Send + Sync {
    /// Seals `kek`; the SDK stores the returned blob.
    fn seal_kek(&self, kek: Vec<u8>) -> Result<Vec<u8>, TiezhengError>;
    /// Opens a blob made by `seal_kek`, after the officer's authentication.
    fn open_kek(&self, blob: Vec<u8>) -> Result<Vec<u8>, TiezhengError>;
}

/// The platform's clocks.
#[uniffi::export(with_foreign)]
pub trait Clock: Send + Sync {
    /// Wall-clock milliseconds since 1970 (UTC).
    fn now_unix_ms(&self) -> Result<i64, TiezhengError>;
    /// The device's current UTC offset in minutes (e.g. 480 for China Standard Time).
    fn utc_offset_minutes(&self) -> Result<i32, TiezhengError>;
    /// A monotonic clock in milliseconds (e.g. since boot).
    fn monotonic_ms(&self) -> Result<u64, TiezhengError>;
}

/// The operating system's location fix at capture time.
#[uniffi::export(with_foreign)]
pub trait LocationProvider: Send + Sync {
    /// The latest fix, or `None` when there is none.
    fn current_fix(&self) -> Result<Option<LocationFix>, TiezhengError>;
}

/// Whether the network is available (sync refuses to start offline).
#[uniffi::export(with_foreign)]
pub trait NetworkStatus: Send + Sync {
    /// True when a connection is available.
    fn is_online(&self) -> Result<bool, TiezhengError>;
}

/// Receives sync progress.
#[uniffi::export(with_foreign)]
pub trait SyncListener: Send + Sync {
    /// Called for every event; errors thrown here are ignored.
    fn on_event(&self, event: SyncEvent) -> Result<(), TiezhengError>;
}

/// Where a location fix came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum LocationSource {
    /// Satellites.
    Gps,
    /// Cell / Wi-Fi.
    Network,
    /// The platform's fused provider.
    Fused,
    /// Entered by hand.
    Manual,
}

/// A location fix as the platform reports it (WGS-84, never converted).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct LocationFix {
    /// Latitude in degrees.
    pub latitude: f64,
    /// Longitude in degrees.
    pub longitude: f64,
    /// Altitude in metres.
    pub altitude: Option<f64>,
    /// Horizontal accuracy in metres.
    pub horizontal_accuracy: Option<f64>,
    /// Vertical accuracy in metres.
    pub vertical_accuracy: Option<f64>,
    /// Provider.
    pub source: LocationSource,
    /// Time of the fix (Unix ms).
    pub fix_time_unix_ms: Option<i64>,
    /// Satellites used.
    pub satellites: Option<u32>,
    /// Flagged as mock by the OS.
    pub mock: bool,
    /// The satellites' time (UTC, Unix ms) when the platform gives it (Android
    /// `GnssClock`/`Location.time` of a GPS fix, iOS `CLLocation.timestamp` of a GNSS fix):
    /// recorded as the item's GNSS time, which a forensic profile's `profile.clock` accepts as
    /// trusted time.
    #[uniffi(default = None)]
    pub gnss_time_unix_ms: Option<i64>,
}

/// Sync progress.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum SyncEvent {
    /// A proof was receipted and acknowledged.
    Receipted {
        /// Its `device_seq`.
        device_seq: u64,
        /// The notary flagged a gap before it.
        chain_gap: bool,
    },
    /// Media upload progress.
    Uploading {
        /// SM3 of the file.
        sm3: String,
        /// Bytes the notary has.
        received: u64,
        /// Total.
        total: u64,
    },
    /// The notary refused one proof; it stays queued and the sync goes on with the next.
    Refused {
        /// Its `device_seq`.
        device_seq: u64,
        /// The notary's error code.
        code: String,
        /// For people.
        reason: String,
    },
    /// A request failed and is retried.
    Retrying {
        /// Attempt number.
        attempt: u32,
        /// Why.
        reason: String,
    },
}

/// The SDK's vault interface over the platform's.
pub(crate) struct VaultAdapter(pub(crate) Arc<dyn KeyVault>);

impl tiezheng_sdk::vault::KeyVault for VaultAdapter {
    fn seal_kek(&self, kek: &tiezheng_sdk::vault::Kek) -> Result<Vec<u8>, VaultError> {
        self.0.seal_kek(kek.to_vec()).map_err(vault_error)
    }

    fn open_kek(&self, blob: &[u8]) -> Result<tiezheng_sdk::vault::Kek, VaultError> {
        let kek = self.0.open_kek(blob.to_vec()).map_err(vault_error)?;
        kek.try_into().map_err(|_| {
            VaultError::Corrupt("the platform vault returned a key that is not 32 bytes".into())
        })
    }
}

fn vault_error(e: TiezhengError) -> VaultError {
    match e {
        TiezhengError::WrongUnlock { .. } => VaultError::WrongUnlock,
        TiezhengError::UnlockCancelled => VaultError::Cancelled,
        other => VaultError::Unavailable {
            reason: other.to_string(),
        },
    }
}

/// The SDK's segment clock over the platform's monotonic clock.
pub(crate) struct ClockAdapter(pub(crate) Arc<dyn Clock>);

impl tiezheng_sdk::capture::Clock for ClockAdapter {
    fn now_ms(&self) -> u64 {
        self.0.monotonic_ms().unwrap_or(0)
    }
}
