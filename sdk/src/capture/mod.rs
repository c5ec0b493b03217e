//! Capture: from camera or encoder bytes to a signed proof in the queue.
//!
//! * Photos: [`UnlockedDevice::capture_photo`] takes the bytes the camera delivered, hashes
//!   them (SM3 + SHA-256) before anything is written, stores them unmodified and
//!   content-addressed under `media/<sm3>`, then signs and queues the proof.
//! * Video and audio: [`UnlockedDevice::start_recording`] returns a [`Recorder`] that receives
//!   encoder output chunk by chunk (constant memory), hashes the whole, and closes a segment
//!   every N bytes or M milliseconds: each segment's SM3 and a running chain are journalled to
//!   disk as it closes. [`UnlockedDevice::recover_recordings`] turns a recording whose process
//!   died into a proof covering everything up to its last closed segment.
//! * Existing files: [`UnlockedDevice::import_file`] marks them `imported`, never `captured`.
//!
//! Every manifest takes the next `device_seq` and the SM3 of the previous manifest, under a
//! lock on the device directory, so that two processes can never reuse a sequence number.
//!
//! This module holds what every capture shares (the context, the segment policy, the clock, the
//! error and the outcome); photos and imports (`file.rs`), the streaming recorder
//! (`recorder.rs`), crash recovery (`recovery.rs`), session summaries (`session.rs`), the
//! forensic profile's requirements (`procedure.rs`) and the sealing of a manifest into the
//! device chain (`seal.rs`) each have their own file.
//!
//! [`UnlockedDevice::capture_photo`]: crate::device::UnlockedDevice::capture_photo
//! [`UnlockedDevice::start_recording`]: crate::device::UnlockedDevice::start_recording
//! [`UnlockedDevice::recover_recordings`]: crate::device::UnlockedDevice::recover_recordings
//! [`UnlockedDevice::import_file`]: crate::device::UnlockedDevice::import_file

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use tiezheng_protocol::manifest::{CaseRecord, LocationFix, TimeSync};
use tiezheng_protocol::{Hash32, Proof, Timestamp};

use crate::device::DeviceError;

mod file;
mod procedure;
mod recorder;
mod recovery;
mod seal;
mod session;

pub use recorder::{Recorder, chain_link};
pub use session::{PartyConfirmation, RecordInput};

/// What the app knows at the moment of capture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaptureContext {
    /// The case and collection record.
    pub case: CaseRecord,
    /// Device wall clock at capture.
    pub device_time: Timestamp,
    /// Monotonic clock reading (ms since boot).
    pub monotonic_ms: Option<u64>,
    /// GNSS time, if the fix carried one.
    pub gnss_time: Option<Timestamp>,
    /// The last trusted time synchronisation.
    pub last_time_sync: Option<TimeSync>,
    /// The OS location fix.
    pub os_fix: Option<LocationFix>,
    /// The forensic profile the capture follows (`tiezheng profiles` lists them); `None`: the
    /// device's default, else `basic`.
    #[serde(default)]
    pub profile: Option<String>,
    /// Why a `should` requirement of the profile cannot be met, by rule id (for example
    /// `profile.location` → "indoors, no satellite fix"); recorded in the manifest.
    #[serde(default)]
    pub reasons: BTreeMap<String, String>,
}

/// When a recording closes a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentPolicy {
    /// Close after this many bytes...
    pub max_bytes: u64,
    /// ...or this many milliseconds, whichever comes first.
    pub max_ms: u64,
}

impl Default for SegmentPolicy {
    /// 4 MiB or 2 seconds.
    fn default() -> Self {
        Self {
            max_bytes: 4 * 1024 * 1024,
            max_ms: 2000,
        }
    }
}

/// A platform clock for segment timing (monotonic milliseconds).
pub trait Clock: Send {
    /// Milliseconds on a monotonic clock.
    fn now_ms(&self) -> u64;
}

/// The process's monotonic clock.
#[derive(Debug, Clone, Copy)]
pub struct MonotonicClock(Instant);

impl Default for MonotonicClock {
    fn default() -> Self {
        Self(Instant::now())
    }
}

impl Clock for MonotonicClock {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.0.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

/// Why a capture failed. Nothing is queued when it does.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaptureError {
    /// The device directory failed.
    #[error(transparent)]
    Device(#[from] DeviceError),
    /// A file name with directories or control characters.
    #[error("file name {0:?} must be a plain name (no '/', '\\', NUL; 1 to 255 bytes)")]
    BadFileName(String),
    /// Signing failed.
    #[error("signing the manifest failed: {0}")]
    Sign(String),
    /// A file to import could not be read.
    #[error(transparent)]
    File(#[from] crate::files::FileError),
    /// The collection record cannot be made as given (a signature that is not an image, a
    /// refusal without its reason, a place or process missing, an original medium stated
    /// inconsistently). Nothing was signed.
    #[error("collection record: {0}")]
    Record(String),
    /// The forensic profile chosen is unknown.
    #[error(transparent)]
    Profile(#[from] tiezheng_protocol::profile::ProfileError),
    /// The forensic profile refuses the capture: a `must` does not hold
    /// (`profile_requirement_not_met`), or a `should` does not and no reason was given
    /// (`profile_reason_required`). Nothing was stored.
    #[error(transparent)]
    Procedure(#[from] tiezheng_protocol::profile::ProcedureViolation),
}

/// A capture that made it into the queue.
#[derive(Debug, Clone)]
pub struct CaptureOutcome {
    /// The signed proof.
    pub proof: Proof,
    /// SM3 of the proof's canonical bytes.
    pub proof_sm3: Hash32,
    /// The stored original.
    pub media_path: Option<PathBuf>,
    /// The queue file.
    pub queue_path: PathBuf,
}

fn check_file_name(name: &str) -> Result<(), CaptureError> {
    let ok = !name.is_empty()
        && name.len() <= 255
        && !name.contains(['/', '\\', '\0'])
        && name != "."
        && name != "..";
    if ok {
        Ok(())
    } else {
        Err(CaptureError::BadFileName(name.to_owned()))
    }
}
