/*!
The Tiezheng SDK: what runs on an officer's phone at the moment of capture.

It turns camera, microphone and file bytes into evidence: SM3 and SHA-256 digests computed as
the bytes arrive ([`files::hash_file`] for files already on disk), and (as the capture work
lands) metadata, signed evidence manifests, the device key and the offline queue. All
cryptography and wire formats come from [`tiezheng_protocol`], re-exported here as
[`protocol`], so the phone, the notary and the court's verifier share one definition.

This crate is plain Rust with no FFI attributes; `tiezheng-ffi` wraps it for Kotlin and Swift.
*/
#![forbid(unsafe_code)]

pub use tiezheng_protocol as protocol;

pub mod capture;
pub mod client;
pub mod device;
pub mod files;
pub mod findings;
pub mod fingerprint;
pub mod inspect;
pub mod media;
pub mod metadata;
pub mod officers;
pub mod party_key;
pub mod queue;
pub mod store;
pub mod vault;
