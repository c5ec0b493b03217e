//! [`TiezhengError`], the error every call of the bindings returns, and how the SDK's own errors
//! (device, capture, notary client) and a foreign callback's unexpected failure map onto it.

use tiezheng_protocol::profile::ProfileError;
use tiezheng_sdk::capture::CaptureError;
use tiezheng_sdk::client::ClientError;
use tiezheng_sdk::device::DeviceError;

/// What went wrong, in terms an app can act on.
///
/// Exhaustive on purpose: apps switch over it in Kotlin and Swift, and any new variant changes
/// the generated bindings anyway.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum TiezhengError {
    /// Too many wrong unlocks: the device key is locked; the device must be set up and enrolled
    /// again.
    #[error(
        "the device key is locked after too many wrong unlocks; set up and enrol the device again"
    )]
    KeyLocked,
    /// The officer's unlock (PIN, biometric) was proven wrong; `attempts_left` more in a row
    /// lock the key for good. Vaults throw it only for a wrong credential, never for a
    /// cancelled or timed-out prompt (`UnlockCancelled`).
    #[error("wrong unlock: {attempts_left} attempts left before the key locks")]
    WrongUnlock {
        /// Attempts left.
        attempts_left: u32,
    },
    /// The officer cancelled the authentication prompt, or it timed out: nothing was counted;
    /// ask again. Vaults throw it for the platform's cancel, user-cancel, timeout and lockout
    /// codes.
    #[error("unlock cancelled or timed out; nothing was counted, ask again")]
    UnlockCancelled,
    /// The notary's administrator revoked this device (or its token): set it up and enrol it
    /// again; its queue stays and can be sent after enrolment with the new key's device only
    /// if the notary accepts it.
    #[error("the notary revoked this device: {reason}")]
    DeviceRevoked {
        /// The notary's words.
        reason: String,
    },
    /// The device's token expired: enrol the device again.
    #[error("the device's token expired: {reason}")]
    TokenExpired {
        /// The notary's words.
        reason: String,
    },
    /// The notary asks the device to wait `retry_after_seconds` before trying again; the queue
    /// is kept (schedule the next sync rather than retry at once).
    #[error("rate limited by the notary: retry in {retry_after_seconds} s")]
    RateLimited {
        /// Seconds to wait.
        retry_after_seconds: u64,
    },
    /// The device has not been enrolled with a notary.
    #[error("the device is not enrolled with a notary; enrol it first")]
    NotEnrolled,
    /// The notary could not be reached; the work stays queued.
    #[error("network: {reason}")]
    Network {
        /// Why.
        reason: String,
    },
    /// The notary refused a request: `code` is stable, `field` names the field at fault.
    #[error("the notary refused: {reason} [{code}]")]
    Rejected {
        /// Stable error code (e.g. `invalid_code`, `replayed_sequence`).
        code: String,
        /// For people (named `reason`: Kotlin exceptions already have a `message`).
        reason: String,
        /// The field at fault, if any.
        field: Option<String>,
    },
    /// The notary signs with another key than the one pinned at enrolment: nothing was
    /// enrolled and the one-time code was not spent. Compare the fingerprint with the one the
    /// notary's operator published.
    #[error("the notary signs with key {actual}, not the pinned {expected}; not enrolled")]
    NotaryKeyMismatch {
        /// The pinned key ID.
        expected: String,
        /// The key ID the notary answered with.
        actual: String,
    },
    /// The forensic profile refuses the capture before anything is stored or signed: a `must`
    /// does not hold (`code` `profile_requirement_not_met`: meet it), or a `should` does not
    /// and no reason was given (`profile_reason_required`: give a `ProfileReason` for `rule`,
    /// or meet it).
    #[error("capture refused by {rule}: {reason} [{code}]")]
    ProfileRefused {
        /// The requirement's rule, e.g. `profile.collectors`.
        rule: String,
        /// `profile_requirement_not_met` or `profile_reason_required`.
        code: String,
        /// What is missing and what to do.
        reason: String,
    },
    /// No forensic profile of that id ships with this SDK (`profiles()` lists those that do).
    #[error("unknown forensic profile {id:?}; profiles() lists those this SDK ships")]
    UnknownProfile {
        /// The id asked for.
        id: String,
    },
    /// An argument the SDK cannot use.
    #[error("invalid input: {reason}")]
    InvalidInput {
        /// What is wrong.
        reason: String,
    },
    /// A platform hook (vault, clock, location, network) failed or threw.
    #[error("platform hook failed: {reason}")]
    Platform {
        /// What failed.
        reason: String,
    },
    /// Anything else (storage, a notary answer that does not verify).
    #[error("{reason}")]
    Other {
        /// What happened.
        reason: String,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for TiezhengError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        Self::Platform { reason: e.reason }
    }
}

impl From<ProfileError> for TiezhengError {
    fn from(e: ProfileError) -> Self {
        match e {
            ProfileError::Unknown(id) => Self::UnknownProfile { id },
            other => Self::InvalidInput {
                reason: other.to_string(),
            },
        }
    }
}

impl From<DeviceError> for TiezhengError {
    fn from(e: DeviceError) -> Self {
        match e {
            DeviceError::WrongUnlock { remaining } => Self::WrongUnlock {
                attempts_left: remaining,
            },
            DeviceError::Locked => Self::KeyLocked,
            DeviceError::UnlockCancelled => Self::UnlockCancelled,
            DeviceError::NotInitialised(_)
            | DeviceError::NoOfficer
            | DeviceError::AlreadyInitialised(_)
            | DeviceError::InvalidOfficer(_)
            | DeviceError::OfficerExists(_)
            | DeviceError::UnknownOfficer(_) => Self::InvalidInput {
                reason: e.to_string(),
            },
            DeviceError::Vault(v) => Self::Platform {
                reason: v.to_string(),
            },
            DeviceError::Profile(p) => p.into(),
            other => Self::Other {
                reason: other.to_string(),
            },
        }
    }
}

impl From<CaptureError> for TiezhengError {
    fn from(e: CaptureError) -> Self {
        match e {
            CaptureError::Device(d) => d.into(),
            CaptureError::BadFileName(_) | CaptureError::File(_) | CaptureError::Record(_) => {
                Self::InvalidInput {
                    reason: e.to_string(),
                }
            }
            CaptureError::Profile(p) => p.into(),
            CaptureError::Procedure(v) => Self::ProfileRefused {
                rule: v.rule.to_owned(),
                code: v.code.to_owned(),
                reason: v.message,
            },
            other => Self::Other {
                reason: other.to_string(),
            },
        }
    }
}

impl From<ClientError> for TiezhengError {
    fn from(e: ClientError) -> Self {
        match e {
            ClientError::Device(d) => d.into(),
            ClientError::Network { reason, .. } => Self::Network { reason },
            ClientError::Rejected { status: 401, error }
                if error.code == "device_revoked" || error.code == "token_revoked" =>
            {
                Self::DeviceRevoked {
                    reason: error.message,
                }
            }
            ClientError::Rejected { status: 401, error } if error.code == "token_expired" => {
                Self::TokenExpired {
                    reason: error.message,
                }
            }
            ClientError::RateLimited {
                retry_after_seconds,
                ..
            } => Self::RateLimited {
                retry_after_seconds,
            },
            ClientError::Rejected { error, .. } => Self::Rejected {
                code: error.code,
                reason: error.message,
                field: error.field,
            },
            ClientError::NotEnrolled => Self::NotEnrolled,
            ClientError::NotaryKeyMismatch {
                expected, actual, ..
            } => Self::NotaryKeyMismatch { expected, actual },
            other => Self::Other {
                reason: other.to_string(),
            },
        }
    }
}

pub(crate) fn invalid(reason: impl Into<String>) -> TiezhengError {
    TiezhengError::InvalidInput {
        reason: reason.into(),
    }
}

/// The message for people of `error`, as the SDK words it. The generated bindings use it for
/// Kotlin's `message`, Swift's `localizedDescription` and Python's `str()`, so that no error
/// crosses the boundary without one.
#[uniffi::export]
pub fn error_message(error: TiezhengError) -> String {
    error.to_string()
}
