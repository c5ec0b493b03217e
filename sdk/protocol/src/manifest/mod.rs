//! The evidence manifest and the device proof: what a phone signs at the moment of capture.
//!
//! A [`Proof`] is `{"manifest": Manifest, "signature": SignatureBlock}`; the signature covers the
//! RFC 8785 bytes of the manifest. Manifests carry what Chinese electronic-data collection
//! records require (case, collectors, holder, witness, method, per-item hashes, times, place,
//! device) and link into a per-device hash chain (`device_seq`, `previous_manifest_sm3`) so that
//! a deleted or reordered capture is detectable. An enforcement session closes with a summary
//! manifest listing every item captured in it.
//!
//! Numbers that are not integers (coordinates, accuracies) are decimal strings ([`Decimal`]).
//!
//! This module holds the manifest's types; [`Decimal`] (`decimal.rs`), the signed proof
//! (`proof.rs`), the schema's [`limits`] and the checks against them (`schema.rs`) each have
//! their own file.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::canonical::{self, CanonicalError};
use crate::hash::Hash32;
use crate::time::Timestamp;
use crate::wire::ContentHash;

mod decimal;
pub mod limits;
mod procedure;
mod proof;
mod record;
mod schema;

pub use decimal::{Decimal, DecimalError};
pub use procedure::{Outcome, Procedure, ProfileRef};
pub use proof::{Proof, ProofError, VerifiedProof};
pub use record::{
    CollectionRecord, Confirmation, InventoryEntry, OriginalMedium, ProcessRecording,
};
pub use schema::{SchemaViolation, is_plain_file_name, pointer_of};

/// The `type` of an evidence manifest.
pub const MANIFEST_TYPE: &str = "tiezheng.manifest.v1";

/// The signed evidence manifest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "Manifest",
    description = "Evidence manifest signed by the capturing device (SM2-with-SM3 over its RFC 8785 bytes)."
)]
pub struct Manifest {
    /// Always `"tiezheng.manifest.v1"`.
    #[serde(rename = "type")]
    #[schemars(extend("const" = "tiezheng.manifest.v1"))]
    pub kind: String,
    /// Random identifier of this manifest (32 lowercase hex digits).
    #[schemars(regex(pattern = limits::HEX32_PATTERN))]
    pub manifest_id: String,
    /// Position in the device's chain of manifests, starting at 1, increasing by one.
    #[schemars(range(min = 1, max = limits::MAX_SAFE_INTEGER))]
    pub device_seq: u64,
    /// SM3 of the RFC 8785 bytes of the device's previous manifest; `null` for the first.
    pub previous_manifest_sm3: Option<Hash32>,
    /// When the manifest was made, by the device clock.
    pub created_at: Timestamp,
    /// The case and the collection record.
    pub case: CaseRecord,
    /// The evidence items (empty for a session summary).
    pub items: Vec<EvidenceItem>,
    /// The closing summary of an enforcement session, on summary manifests only.
    pub session_summary: Option<SessionSummary>,
    /// The capturing device.
    pub device: DeviceInfo,
    /// The forensic profile followed and each capture-time requirement's outcome; absent in
    /// manifests that make no procedural claim (made before profiles existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub procedure: Option<Procedure>,
}

/// The collection record of the case (who, what, why, how).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseRecord {
    /// Case or enforcement-session reference.
    #[schemars(length(min = 1, max = limits::CASE_REFERENCE_MAX_CHARS))]
    pub reference: String,
    /// Cause of the case (案由), if known at capture.
    pub cause: Option<String>,
    /// The object of collection (what is recorded).
    pub object: Option<String>,
    /// Description of the content.
    pub description: Option<String>,
    /// Collection method (e.g. "on-site photograph with Tiezheng SDK").
    pub method: String,
    /// Officer IDs of the collectors; the rules require two or more.
    #[schemars(length(min = limits::COLLECTORS_MIN))]
    pub collectors: Vec<String>,
    /// The holder or party, or why none signed.
    pub holder: Option<PartyRecord>,
    /// The witness, or why there was none.
    pub witness: Option<PartyRecord>,
}

/// A person taking part in the collection, or the reason they are absent or refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PartyRecord {
    /// Name, if given.
    pub name: Option<String>,
    /// Note: refusal to sign, or the reason there is no such person.
    pub note: Option<String>,
}

/// How the item came to the device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Origin {
    /// Hashed from the camera/encoder bytes at the moment of capture.
    Captured,
    /// An existing file imported later: never presented as captured.
    Imported,
}

/// What kind of medium.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ItemKind {
    /// A still photograph.
    Photo,
    /// A video recording.
    Video,
    /// An audio recording.
    Audio,
    /// Any other file.
    Other,
}

/// One evidence file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EvidenceItem {
    /// Photo, video, audio or other.
    pub kind: ItemKind,
    /// Captured or imported.
    pub origin: Origin,
    /// File name (no directories).
    #[schemars(regex(pattern = limits::FILE_NAME_PATTERN))]
    pub file_name: String,
    /// MIME type sniffed from the bytes.
    pub mime: String,
    /// Size in bytes.
    #[schemars(range(max = limits::MAX_SAFE_INTEGER))]
    pub bytes: u64,
    /// SM3 and SHA-256 of the whole file.
    #[schemars(length(min = limits::HASHES_MIN))]
    pub hashes: Vec<ContentHash>,
    /// Device, monotonic and GNSS times.
    pub times: CaptureTimes,
    /// Where: the OS fix and the file's own GPS tags.
    pub location: Option<Location>,
    /// Metadata read from the file.
    pub metadata: MediaMetadata,
    /// Perceptual fingerprint of photos (recognises re-encoded copies; not evidence itself).
    pub fingerprint: Option<Fingerprint>,
    /// Segment hashes of a streamed recording.
    pub recording: Option<Recording>,
    /// Consistency findings (never silently dropped).
    pub findings: Vec<Finding>,
}

/// Times recorded at capture.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CaptureTimes {
    /// Device wall clock with its UTC offset.
    pub device_time: Timestamp,
    /// Monotonic clock reading in milliseconds (since boot), if the platform gives one.
    pub monotonic_ms: Option<u64>,
    /// GNSS time of the location fix, if any.
    pub gnss_time: Option<Timestamp>,
    /// The last trusted time synchronisation.
    pub last_time_sync: Option<TimeSync>,
}

/// A trusted time synchronisation (NTP, NTSC, network).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeSync {
    /// When it happened (device clock).
    pub at: Timestamp,
    /// The source, e.g. "ntp:ntp.ntsc.ac.cn".
    pub source: String,
    /// Device clock minus trusted time, in milliseconds.
    pub offset_ms: i64,
}

/// Location evidence, in WGS-84 as reported (never converted for storage).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Location {
    /// Always `"WGS-84"`.
    #[schemars(extend("const" = limits::COORDINATE_SYSTEM))]
    pub coordinate_system: String,
    /// The operating system's fix handed in by the app.
    pub os_fix: Option<LocationFix>,
}

/// A location fix from the operating system.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LocationFix {
    /// Latitude in decimal degrees.
    pub latitude: Decimal,
    /// Longitude in decimal degrees.
    pub longitude: Decimal,
    /// Altitude in metres above the WGS-84 ellipsoid.
    pub altitude: Option<Decimal>,
    /// Horizontal accuracy (metres, 68 %).
    pub horizontal_accuracy: Option<Decimal>,
    /// Vertical accuracy (metres).
    pub vertical_accuracy: Option<Decimal>,
    /// Provider: gps, network, fused...
    pub provider: LocationProvider,
    /// Time of the fix.
    pub fix_time: Option<Timestamp>,
    /// Satellites used, if known.
    pub satellites: Option<u32>,
    /// Whether the OS flagged the fix as coming from a mock provider.
    pub mock: bool,
}

/// Where a location fix came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum LocationProvider {
    /// Satellite positioning.
    Gps,
    /// Cell/Wi-Fi positioning.
    Network,
    /// The platform's fused provider.
    Fused,
    /// Entered or supplied otherwise.
    Manual,
}

/// Metadata read from the file itself.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MediaMetadata {
    /// GPS position from EXIF / MP4 / MOV tags.
    pub gps: Option<GpsPoint>,
    /// Capture time written by the camera (`DateTimeOriginal`, `creation_time`...), as written:
    /// `YYYY-MM-DDTHH:MM:SS` plus `Z`/offset when the file states one.
    pub captured_at: Option<String>,
    /// Camera maker.
    pub make: Option<String>,
    /// Camera model.
    pub model: Option<String>,
    /// EXIF orientation (1–8).
    pub orientation: Option<u16>,
    /// Where each value came from ("exif", "xmp", "mp4-mvhd", "mp4-loci", "quicktime-xyz"...).
    pub sources: Vec<String>,
}

/// A position from file metadata.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GpsPoint {
    /// Latitude in decimal degrees (north positive).
    pub latitude: Decimal,
    /// Longitude in decimal degrees (east positive).
    pub longitude: Decimal,
    /// Altitude in metres (negative below sea level).
    pub altitude: Option<Decimal>,
}

/// A perceptual fingerprint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Fingerprint {
    /// `"dHash-64"`: difference hash of a 9×8 greyscale thumbnail.
    pub algorithm: String,
    /// 16 lowercase hex digits.
    #[schemars(regex(pattern = limits::HEX16_PATTERN))]
    pub value: String,
}

/// How a streamed recording was segmented and what survived.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Recording {
    /// Random identifier of the recording (32 lowercase hex digits), also kept in the device's
    /// recording journal so that recovery never proves the same recording twice.
    #[schemars(regex(pattern = limits::HEX32_PATTERN))]
    pub recording_id: String,
    /// Segment policy: a segment closes after this many bytes...
    pub segment_max_bytes: u64,
    /// ...or after this many milliseconds, whichever first.
    pub segment_max_ms: u64,
    /// The closed segments, in order.
    pub segments: Vec<Segment>,
    /// Whether the recording was interrupted (app killed, battery dead).
    pub interrupted: bool,
    /// Whether the proven content is a prefix of what was recorded (bytes after the last closed
    /// segment are not covered).
    pub truncated: bool,
}

/// One closed segment of a recording.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Segment {
    /// Zero-based index.
    pub index: u64,
    /// Byte offset of the segment in the file.
    pub offset: u64,
    /// Length in bytes.
    pub bytes: u64,
    /// SM3 of the segment's bytes.
    pub sm3: Hash32,
    /// Running chain: SM3(previous chain ‖ index (8 bytes BE) ‖ offset ‖ bytes ‖ sm3); the
    /// previous chain of segment 0 is 32 zero bytes.
    pub chain: Hash32,
}

/// A consistency finding recorded in the manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Finding {
    /// Stable code, e.g. `gps_mismatch`, `clock_skew`, `stale_fix`, `mock_location`,
    /// `metadata_missing`, `metadata_unreadable`, `single_collector`, `recording_truncated`.
    pub code: String,
    /// Details for people.
    pub detail: String,
}

/// Closing summary of an enforcement session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionSummary {
    /// When the session opened.
    pub opened_at: Timestamp,
    /// When it closed.
    pub closed_at: Timestamp,
    /// Every manifest of the session: its `device_seq` and SM3.
    pub manifests: Vec<SummaryEntry>,
    /// The collection record and its inventory (电子数据现场提取笔录 and 固定清单), when the
    /// collectors closed the session with one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<CollectionRecord>,
}

/// One manifest listed in a session summary.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SummaryEntry {
    /// The manifest's `device_seq`.
    pub device_seq: u64,
    /// SM3 of its RFC 8785 bytes.
    pub manifest_sm3: Hash32,
    /// File names of its items.
    pub files: Vec<String>,
}

/// The capturing device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceInfo {
    /// Enrolment ID issued by the notary (`null` before enrolment).
    pub enrolment_id: Option<String>,
    /// Local device identifier.
    pub device_id: String,
    /// Hardware model.
    pub model: String,
    /// Operating system and version.
    pub os: String,
    /// SDK version.
    pub sdk_version: String,
    /// SM3 of the device's SM2 public key (`04‖X‖Y`): must match the proof's signature.
    pub key_id: Hash32,
}

/// The running chain of a recording's segments: SM3(previous ‖ be64(index) ‖ be64(offset) ‖
/// be64(bytes) ‖ sm3), where the previous chain of segment 0 is 32 zero bytes.
pub fn segment_chain_link(
    previous: &Hash32,
    index: u64,
    offset: u64,
    bytes: u64,
    sm3: &Hash32,
) -> Hash32 {
    let mut pre = Vec::with_capacity(32 + 24 + 32);
    pre.extend_from_slice(previous.as_bytes());
    pre.extend_from_slice(&index.to_be_bytes());
    pre.extend_from_slice(&offset.to_be_bytes());
    pre.extend_from_slice(&bytes.to_be_bytes());
    pre.extend_from_slice(sm3.as_bytes());
    Hash32::sm3(&pre)
}

impl Manifest {
    /// SM3 of the manifest's RFC 8785 bytes (what the next manifest links to).
    pub fn sm3(&self) -> Result<Hash32, CanonicalError> {
        Ok(Hash32::sm3(&canonical::to_canonical_bytes(self)?))
    }
}
