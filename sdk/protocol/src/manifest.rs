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

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::canonical::{self, CanonicalError};
use crate::hash::Hash32;
use crate::signed::{SignatureBlock, SignedError};
use crate::sm2::{Sm2Error, Sm2PublicKey, Sm2Signature, Sm2SigningKey};
use crate::time::Timestamp;
use crate::wire::ContentHash;

/// The `type` of an evidence manifest.
pub const MANIFEST_TYPE: &str = "tiezheng.manifest.v1";

/// A decimal number written as a string, e.g. `"30.274084"` or `"-4.00514085"`: the only way
/// non-integers appear in signed documents.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Decimal(String);

/// A string that is not a plain decimal number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not a decimal number like \"30.274084\" (optional minus, digits, optional fraction, no exponent)"
)]
pub struct DecimalError(pub String);

impl Decimal {
    /// Formats `value` with at most `places` fraction digits, trimming trailing zeros.
    /// Non-finite values are refused.
    pub fn from_f64(value: f64, places: usize) -> Result<Self, DecimalError> {
        if !value.is_finite() {
            return Err(DecimalError(value.to_string()));
        }
        let mut s = format!("{value:.places$}");
        if s.contains('.') {
            while s.ends_with('0') {
                s.pop();
            }
            if s.ends_with('.') {
                s.pop();
            }
        }
        if s == "-0" {
            s = "0".to_owned();
        }
        Self::parse(&s)
    }

    /// Parses `-?(0|[1-9][0-9]*)(\.[0-9]+)?`.
    pub fn parse(s: &str) -> Result<Self, DecimalError> {
        let body = s.strip_prefix('-').unwrap_or(s);
        let (int, frac) = match body.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (body, None),
        };
        let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
        let ok = digits(int)
            && (int == "0" || !int.starts_with('0'))
            && frac.is_none_or(digits)
            && s.len() <= 40;
        if !ok {
            return Err(DecimalError(s.to_owned()));
        }
        Ok(Self(s.to_owned()))
    }

    /// The value as a float, for arithmetic (never for signing).
    pub fn to_f64(&self) -> f64 {
        self.0.parse().unwrap_or(f64::NAN)
    }

    /// The string form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Decimal({})", self.0)
    }
}

impl FromStr for Decimal {
    type Err = DecimalError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Decimal {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Decimal {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Decimal {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Decimal".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A decimal number as a string (no floats in signed documents), e.g. \"30.274084\".",
            "type": "string",
            "pattern": "^-?(0|[1-9][0-9]*)(\\.[0-9]+)?$",
            "maxLength": 40
        })
    }
}

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

/// A signed manifest: the device proof.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "Proof",
    description = "Device proof: an evidence manifest and the device's SM2 signature over its RFC 8785 bytes."
)]
pub struct Proof {
    /// The manifest.
    pub manifest: Manifest,
    /// The device's signature over the manifest.
    pub signature: SignatureBlock,
}

/// Why a proof is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError {
    /// Not strict JSON (duplicates, floats...).
    #[error("proof is not acceptable JSON: {0}")]
    Json(#[from] CanonicalError),
    /// JSON, but not the proof shape (missing or unknown fields, wrong types).
    #[error("proof does not match the proof schema: {0}")]
    Shape(String),
    /// The signature block or signature is wrong.
    #[error("proof signature: {0}")]
    Signature(#[from] SignedError),
    /// `manifest.device.key_id` does not name the key that signed.
    #[error("manifest.device.key_id {claimed} does not match the signing key {actual}")]
    KeyMismatch {
        /// What the manifest says.
        claimed: Hash32,
        /// SM3 of the signature block's public key.
        actual: Hash32,
    },
    /// `manifest.type` is not a manifest type this version knows.
    #[error("manifest.type {0:?} is not \"tiezheng.manifest.v1\"")]
    UnknownType(String),
    /// A value breaks a rule of the proof schema; the violation names it.
    #[error("proof does not match the proof schema: {0}")]
    Schema(SchemaViolation),
}

impl Proof {
    /// Signs `manifest` with the device key.
    pub fn sign(manifest: Manifest, key: &Sm2SigningKey) -> Result<Self, SignedError> {
        let signature = SignatureBlock::sign(key, &manifest)?;
        Ok(Self {
            manifest,
            signature,
        })
    }

    /// SM3 of the proof's RFC 8785 bytes: the proof's identity for receipts and batches.
    pub fn sm3(&self) -> Result<Hash32, CanonicalError> {
        Ok(Hash32::sm3(&canonical::to_canonical_bytes(self)?))
    }

    /// Parses and verifies a proof received as bytes: strict JSON, exact shape, signature over
    /// the manifest exactly as received, and the manifest's `key_id` naming the signer.
    pub fn verify_bytes(bytes: &[u8]) -> Result<VerifiedProof, ProofError> {
        let value = canonical::parse_strict(bytes)?;
        Self::verify_value(&value)
    }

    /// As [`Self::verify_bytes`], from a parsed value.
    pub fn verify_value(value: &Value) -> Result<VerifiedProof, ProofError> {
        let proof: Proof =
            serde_json::from_value(value.clone()).map_err(|e| ProofError::Shape(e.to_string()))?;
        let u = Self::unverified(proof, value)?;
        u.key
            .verify(crate::sm2::DEFAULT_SM2_ID, &u.manifest_bytes, &u.signature)
            .map_err(SignedError::Sm2)?;
        u.finish(value)
    }

    /// As [`Self::verify_value`], and first every rule of the proof schema
    /// ([`Self::from_value_checked`]): what the notary's intake runs, so that a refused proof
    /// names the value at fault.
    pub fn verify_value_checked(value: &Value) -> Result<VerifiedProof, ProofError> {
        Self::verify_values_checked(&[value])
            .pop()
            .unwrap_or_else(|| Err(ProofError::Shape("no proof".into())))
    }

    /// [`Self::verify_value_checked`] for each of `values`, one result per value, with the
    /// signatures verified together (see [`crate::sm2::verify_many`]).
    pub fn verify_values_checked(values: &[&Value]) -> Vec<Result<VerifiedProof, ProofError>> {
        let parsed: Vec<Result<Unverified, ProofError>> = values
            .iter()
            .map(|value| {
                let proof = Self::from_value_checked(value).map_err(ProofError::Schema)?;
                Self::unverified(proof, value)
            })
            .collect();
        let items: Vec<(&Sm2PublicKey, &str, &[u8], &Sm2Signature)> = parsed
            .iter()
            .filter_map(|u| u.as_ref().ok())
            .map(|u| {
                (
                    &u.key,
                    crate::sm2::DEFAULT_SM2_ID,
                    u.manifest_bytes.as_slice(),
                    &u.signature,
                )
            })
            .collect();
        let mut verdicts = crate::sm2::verify_many(&items).into_iter();
        parsed
            .into_iter()
            .zip(values)
            .map(|(u, value)| {
                let u = u?;
                verdicts
                    .next()
                    .unwrap_or(Err(Sm2Error::BadSignature))
                    .map_err(SignedError::Sm2)?;
                u.finish(value)
            })
            .collect()
    }

    /// Everything but the signature equation: type, the manifest's canonical bytes, and the
    /// signature block's own fields (OID, ID, key and value encodings).
    fn unverified(proof: Proof, value: &Value) -> Result<Unverified, ProofError> {
        if proof.manifest.kind != MANIFEST_TYPE {
            return Err(ProofError::UnknownType(proof.manifest.kind.clone()));
        }
        let manifest_value = value
            .get("manifest")
            .ok_or_else(|| ProofError::Shape("missing field `manifest`".into()))?;
        // Each document is canonicalised once: the manifest's bytes are both signed and
        // hashed, the proof's bytes hashed and kept (the notary stores exactly these).
        let manifest_bytes = canonical::canonicalize(manifest_value)?;
        let (key, signature) = proof.signature.parts()?;
        Ok(Unverified {
            proof,
            key,
            signature,
            manifest_bytes,
        })
    }
}

/// A proof whose signature equation is still to be checked.
struct Unverified {
    proof: Proof,
    key: Sm2PublicKey,
    signature: Sm2Signature,
    manifest_bytes: Vec<u8>,
}

impl Unverified {
    /// After the signature has verified: the signer must be the device the manifest names.
    fn finish(self, value: &Value) -> Result<VerifiedProof, ProofError> {
        let Self {
            proof,
            key,
            manifest_bytes,
            ..
        } = self;
        if key.key_id() != proof.manifest.device.key_id {
            return Err(ProofError::KeyMismatch {
                claimed: proof.manifest.device.key_id,
                actual: key.key_id(),
            });
        }
        let canonical = canonical::canonicalize(value)?;
        Ok(VerifiedProof {
            proof,
            key,
            proof_sm3: Hash32::sm3(&canonical),
            manifest_sm3: Hash32::sm3(&manifest_bytes),
            canonical,
        })
    }
}

/// The rules of the proof schema that the Rust types alone do not enforce. The schemars
/// attributes of [`Manifest`] and its parts are written with these constants, so the
/// published schema (`schemas/proof.schema.json`) and [`Proof::from_value_checked`], which the
/// notary, the SDK and every verifier call, say the same thing.
pub mod limits {
    /// The largest integer a signed document may carry (2^53 − 1, as RFC 8785 / I-JSON).
    pub const MAX_SAFE_INTEGER: u64 = 9_007_199_254_740_991;
    /// Longest case reference, in characters (JSON Schema counts code points).
    pub const CASE_REFERENCE_MAX_CHARS: u64 = 128;
    /// Fewest collectors a collection record names.
    pub const COLLECTORS_MIN: u64 = 1;
    /// Fewest content hashes per item (SM3 and SHA-256).
    pub const HASHES_MIN: u64 = 2;
    /// Longest file name, in characters.
    pub const FILE_NAME_MAX_CHARS: usize = 255;
    /// A file name: 1 to 255 characters, none of them `/`, `\` or NUL.
    pub const FILE_NAME_PATTERN: &str = r"^[^/\\\x00]{1,255}$";
    /// 32 lowercase hex digits (`manifest_id`, `recording_id`).
    pub const HEX32_PATTERN: &str = r"^[0-9a-f]{32}$";
    /// 16 lowercase hex digits (a dHash fingerprint).
    pub const HEX16_PATTERN: &str = r"^[0-9a-f]{16}$";
    /// The only coordinate system locations are recorded in.
    pub const COORDINATE_SYSTEM: &str = "WGS-84";
}

/// A value of a proof that breaks a rule of the proof schema.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{pointer}: {message}")]
pub struct SchemaViolation {
    /// A stable code for the rule (`invalid_value`, `bad_file_name`, `invalid_hashes`...).
    pub code: &'static str,
    /// JSON pointer (RFC 6901) of the value at fault, from the proof's root.
    pub pointer: String,
    /// What the rule is, for people.
    pub message: String,
}

impl SchemaViolation {
    fn new(code: &'static str, pointer: String, message: impl Into<String>) -> Self {
        Self {
            code,
            pointer,
            message: message.into(),
        }
    }
}

fn lower_hex_of_len(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Whether `name` is a plain file name: the schema's pattern, and neither `.` nor `..` nor
/// any control character (what a file system or a terminal could misread).
pub fn is_plain_file_name(name: &str) -> bool {
    let chars = name.chars().count();
    (1..=limits::FILE_NAME_MAX_CHARS).contains(&chars)
        && !name.contains(['/', '\\', '\0'])
        && name != "."
        && name != ".."
        && !name.chars().any(char::is_control)
}

impl Manifest {
    /// Checks every rule of the manifest schema that deserialisation does not (lengths,
    /// patterns, ranges, constants), and that each item carries consistent SM3 and SHA-256
    /// hashes. The first rule broken is returned with the JSON pointer of the value, from the
    /// proof's root (`/manifest/...`).
    pub fn check_schema(&self) -> Result<(), SchemaViolation> {
        if self.kind != MANIFEST_TYPE {
            return Err(SchemaViolation::new(
                "unknown_type",
                "/manifest/type".into(),
                format!("manifest.type {:?} is not {MANIFEST_TYPE:?}", self.kind),
            ));
        }
        self.check_limits()?;
        for (i, item) in self.items.iter().enumerate() {
            item.check_hashes().map_err(|mut v| {
                v.pointer = format!("/manifest/items/{i}{}", v.pointer);
                v
            })?;
        }
        Ok(())
    }

    /// The schema's limits on values (lengths, patterns, ranges, constants), without the
    /// manifest type and the items' digests (which verifiers report as rules of their own).
    pub fn check_limits(&self) -> Result<(), SchemaViolation> {
        let at = |path: &str| format!("/manifest{path}");
        let invalid = |path: &str, message: String| {
            Err(SchemaViolation::new("invalid_value", at(path), message))
        };
        if !lower_hex_of_len(&self.manifest_id, 32) {
            return invalid(
                "/manifest_id",
                "manifest_id must be 32 lowercase hex digits".into(),
            );
        }
        if !(1..=limits::MAX_SAFE_INTEGER).contains(&self.device_seq) {
            return invalid(
                "/device_seq",
                "device_seq must be 1 or more (the first manifest of a device is 1)".into(),
            );
        }
        let reference = self.case.reference.chars().count();
        if !(1..=limits::CASE_REFERENCE_MAX_CHARS).contains(&(reference as u64)) {
            return invalid(
                "/case/reference",
                format!(
                    "the case reference must be 1 to {} characters; it has {reference}",
                    limits::CASE_REFERENCE_MAX_CHARS
                ),
            );
        }
        if (self.case.collectors.len() as u64) < limits::COLLECTORS_MIN {
            return invalid(
                "/case/collectors",
                "the collection record must name at least one collector".into(),
            );
        }
        for (i, item) in self.items.iter().enumerate() {
            item.check_limits().map_err(|mut v| {
                v.pointer = at(&format!("/items/{i}{}", v.pointer));
                v
            })?;
        }
        Ok(())
    }
}

impl EvidenceItem {
    /// The item's limits; pointers relative to the item.
    fn check_limits(&self) -> Result<(), SchemaViolation> {
        let invalid = |path: &str, message: &str| {
            Err(SchemaViolation::new(
                "invalid_value",
                path.to_owned(),
                message,
            ))
        };
        if !is_plain_file_name(&self.file_name) {
            return Err(SchemaViolation::new(
                "bad_file_name",
                "/file_name".into(),
                format!(
                    "file name {:?} must be a plain name of 1 to {} characters without directories or control characters",
                    self.file_name,
                    limits::FILE_NAME_MAX_CHARS
                ),
            ));
        }
        if self.bytes > limits::MAX_SAFE_INTEGER {
            return invalid("/bytes", "bytes must be at most 2^53 - 1");
        }
        if let Some(loc) = &self.location
            && loc.coordinate_system != limits::COORDINATE_SYSTEM
        {
            return invalid(
                "/location/coordinate_system",
                "locations are recorded in WGS-84 as the device reports them (coordinate_system \"WGS-84\"), never converted",
            );
        }
        if let Some(f) = &self.fingerprint
            && !lower_hex_of_len(&f.value, 16)
        {
            return invalid(
                "/fingerprint/value",
                "the fingerprint is 16 lowercase hex digits",
            );
        }
        if let Some(r) = &self.recording
            && !lower_hex_of_len(&r.recording_id, 32)
        {
            return invalid(
                "/recording/recording_id",
                "recording_id must be 32 lowercase hex digits",
            );
        }
        Ok(())
    }
}

impl EvidenceItem {
    /// SM3 and SHA-256 entries whose OIDs match their algorithms; pointer relative to the item.
    fn check_hashes(&self) -> Result<(), SchemaViolation> {
        let has = |alg| {
            self.hashes
                .iter()
                .any(|h| h.algorithm == alg && h.is_consistent())
        };
        if (self.hashes.len() as u64) < limits::HASHES_MIN
            || !has(crate::HashAlgorithm::Sm3)
            || !has(crate::HashAlgorithm::Sha256)
            || self.hashes.iter().any(|h| !h.is_consistent())
        {
            return Err(SchemaViolation::new(
                "invalid_hashes",
                "/hashes".into(),
                "each item needs SM3 and SHA-256 entries whose OIDs match their algorithms",
            ));
        }
        Ok(())
    }
}

impl Proof {
    /// Parses a proof from a JSON value as the schema says, naming the member at fault (as a
    /// JSON pointer) when a member is unknown, missing or of the wrong type, then checks the
    /// rules of [`Manifest::check_schema`]. Does not check the signature.
    pub fn from_value_checked(value: &Value) -> Result<Self, SchemaViolation> {
        let proof: Proof = serde_path_to_error::deserialize(value).map_err(|e| {
            let message = e.inner().to_string();
            SchemaViolation::new("invalid_proof", pointer_of(e.path(), &message), message)
        })?;
        proof.manifest.check_schema()?;
        Ok(proof)
    }
}

/// The JSON pointer of the value a serde error is about (`manifest.items[0].bytes` →
/// `/manifest/items/0/bytes`); for a missing member, the member's own pointer.
pub fn pointer_of(path: &serde_path_to_error::Path, message: &str) -> String {
    use serde_path_to_error::Segment as S;
    let mut out = String::new();
    for seg in path.iter() {
        out.push('/');
        match seg {
            S::Seq { index } => out.push_str(&index.to_string()),
            S::Map { key } | S::Enum { variant: key } => {
                out.push_str(&key.replace('~', "~0").replace('/', "~1"))
            }
            S::Unknown => out.push('?'),
        }
    }
    if let Some(name) = message
        .strip_prefix("missing field `")
        .and_then(|m| m.split('`').next())
    {
        out.push('/');
        out.push_str(&name.replace('~', "~0").replace('/', "~1"));
    }
    out
}

/// A proof whose signature has been checked.
#[derive(Debug, Clone)]
pub struct VerifiedProof {
    /// The proof.
    pub proof: Proof,
    /// The key that signed it.
    pub key: Sm2PublicKey,
    /// SM3 of the proof's canonical bytes.
    pub proof_sm3: Hash32,
    /// SM3 of the manifest's canonical bytes.
    pub manifest_sm3: Hash32,
    /// The proof's RFC 8785 bytes (what `proof_sm3` hashes).
    pub canonical: Vec<u8>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals() {
        assert_eq!(
            Decimal::from_f64(43.467448333333, 7).unwrap().as_str(),
            "43.4674483"
        );
        assert_eq!(Decimal::from_f64(-4.0, 7).unwrap().as_str(), "-4");
        assert_eq!(Decimal::from_f64(-0.00000001, 7).unwrap().as_str(), "0");
        assert!(Decimal::from_f64(f64::NAN, 3).is_err());
        for bad in ["", "1e5", "01", "1.", ".5", "+1", "--1", "1,5"] {
            assert!(Decimal::parse(bad).is_err(), "{bad}");
        }
        for good in ["0", "-0.5", "121.47369", "1942.4216"] {
            assert_eq!(Decimal::parse(good).unwrap().as_str(), good);
        }
    }
}
