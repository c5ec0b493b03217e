/*!
The Tiezheng SDK for Kotlin (Android), Swift (iOS) and Python, through UniFFI proc-macros.

This crate is thin: it converts between UniFFI types and `tiezheng-sdk`, and classifies every
failure into [`TiezhengError`], the small error enum apps act on (locked key, wrong unlock, not
enrolled, network, rejected by the notary, invalid input, platform hook failure). The platform
itself plugs in through foreign traits: [`KeyVault`] (Android Keystore, iOS Keychain / Secure
Enclave), [`Clock`], [`LocationProvider`], [`NetworkStatus`], and [`SyncListener`] for progress.

The capture flow: [`Device::setup`] or [`Device::unlock`], then [`Device::capture_photo`] with
the camera's bytes (zero-copy), [`Device::start_recording`] for video and audio
([`Recording::write`] chunk by chunk, then [`Recording::finish`]), [`Device::close_session`]
(or [`Device::close_session_with_record`], the 笔录 and 清单),
and `async` [`Device::enrol`] / [`Device::sync`] with the notary.

Byte arguments are borrowed `&[u8]`: the foreign side lends its buffer for the call. In Kotlin
that is exactly the bytes between a `ByteBuffer`'s position and limit — a direct buffer is read
in place, a heap buffer copied once — and the buffer's position is left unchanged; the
generated converter that does this is the workspace `uniffi-bindgen`'s
(`bindings/uniffi-bindgen/src/byte_buffers.rs`), and `bindings/kotlin/` adds `ByteArray`
overloads with offset and length. Swift passes `Data`; Python any bytes-like object.

Generate the bindings with the workspace's `uniffi-bindgen` binary (see `bindings/README.md`).
*/
// UniFFI's generated scaffolding is `extern "C"` code; this is the one crate allowed it.
#![allow(unsafe_code)]
// UniFFI lifts foreign arguments into owned Rust values; taking them by value is the interface.
#![allow(clippy::needless_pass_by_value)]

mod device;
mod errors;
mod hooks;
mod media;
mod officers;
mod outbox;
mod profiles;
mod recording;
mod records;
mod session;
mod verify;

pub use device::Device;
pub use errors::{TiezhengError, error_message};
pub use hooks::{
    Clock, KeyVault, LocationFix, LocationProvider, LocationSource, NetworkStatus, SyncEvent,
    SyncListener,
};
pub use media::{ContentDigests, MediaInfo, hash_bytes, inspect_file};
pub use officers::OfficerInfo;
pub use outbox::{Outbox, device_exists};
pub use profiles::{ProfileInfo, ProfileReason, RequirementInfo, profile, profiles};
pub use recording::Recording;
pub use records::{
    CaptureResult, CaseInfo, DeviceSummary, Finding, QueueItem, RefusedProof, SyncReport,
};
pub use session::{PartyConfirmation, SessionRecord};
pub use verify::{
    DocumentCheck, ProofCheck, RuleCheck, verify_document, verify_proof, verify_receipt,
};

uniffi::setup_scaffolding!();

/// The SDK version string (the Rust crate version).
#[uniffi::export]
pub fn sdk_version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}
