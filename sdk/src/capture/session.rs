//! Closing an enforcement session: a summary manifest listing every manifest queued for the
//! case since the session opened, and, when the collectors give one, the collection record
//! with its inventory (电子数据现场提取笔录 and 固定清单) built from those manifests.

use tiezheng_protocol::manifest::{
    CollectionRecord, Confirmation, InventoryEntry, ItemKind, Manifest, OriginalMedium,
    ProcessRecording, SessionSummary, SummaryEntry,
};
use tiezheng_protocol::{HashAlgorithm, Timestamp};

use super::{CaptureContext, CaptureError, CaptureOutcome};
use crate::device::UnlockedDevice;
use crate::media::MediaType;
use crate::queue::Queue;

/// A party's confirmation of the record as the app collected it.
#[derive(Debug, Clone)]
pub enum PartyConfirmation {
    /// The signature they wrote on screen: a PNG or JPEG image (its SM3 is recorded).
    Signature(Vec<u8>),
    /// Why there is no signature: refused, absent, unable.
    Refused(String),
}

/// What the collectors state when they close a session with a record.
#[derive(Debug, Clone)]
pub struct RecordInput {
    /// Where the data was collected.
    pub place: String,
    /// How it was collected.
    pub process: String,
    /// The original medium of the session's files, and what became of it.
    pub original: OriginalMedium,
    /// The holder's confirmation or refusal.
    pub holder: PartyConfirmation,
    /// The witness's confirmation, or why there is none.
    pub witness: PartyConfirmation,
    /// The file name of the session's video that records the whole collection (全程录像), if
    /// one does: what a profile asking for a witness accepts when no witness signs.
    pub process_recording: Option<String>,
}

fn confirmation(who: &str, c: &PartyConfirmation) -> Result<Confirmation, CaptureError> {
    match c {
        PartyConfirmation::Signature(image) => {
            let media = MediaType::sniff(image.get(..16).unwrap_or(image));
            if !matches!(media, MediaType::Png | MediaType::Jpeg) {
                return Err(CaptureError::Record(format!(
                    "the {who}'s signature must be a PNG or JPEG image; these {} bytes are not one",
                    image.len()
                )));
            }
            Ok(Confirmation {
                signature_image_sm3: Some(tiezheng_protocol::Hash32::sm3(image)),
                refusal: None,
            })
        }
        PartyConfirmation::Refused(reason) if !reason.trim().is_empty() => Ok(Confirmation {
            signature_image_sm3: None,
            refusal: Some(reason.trim().to_owned()),
        }),
        PartyConfirmation::Refused(_) => Err(CaptureError::Record(format!(
            "the {who}'s refusal needs its reason"
        ))),
    }
}

/// The session's video named `name` (the last one of that name, if a name repeats).
fn process_recording(
    entries: &[InventoryEntry],
    name: &str,
) -> Result<ProcessRecording, CaptureError> {
    let entry = entries
        .iter()
        .rev()
        .find(|e| e.file_name == name)
        .ok_or_else(|| {
            CaptureError::Record(format!(
                "the process recording {name:?} is not a file of this session: capture the video of the collection before closing"
            ))
        })?;
    if entry.kind != ItemKind::Video {
        return Err(CaptureError::Record(format!(
            "the process recording {name:?} is not a video: name the video that records the whole collection"
        )));
    }
    Ok(ProcessRecording {
        device_seq: entry.device_seq,
        file_name: entry.file_name.clone(),
    })
}

fn inventory(
    m: &Manifest,
    sm3: tiezheng_protocol::Hash32,
    original: &OriginalMedium,
) -> Vec<InventoryEntry> {
    m.items
        .iter()
        .map(|i| {
            let hash = |alg| {
                i.hashes
                    .iter()
                    .find(|h| h.algorithm == alg)
                    .map(|h| h.value)
                    .unwrap_or(tiezheng_protocol::Hash32([0; 32]))
            };
            InventoryEntry {
                device_seq: m.device_seq,
                manifest_sm3: sm3,
                file_name: i.file_name.clone(),
                kind: i.kind,
                bytes: i.bytes,
                sm3: hash(HashAlgorithm::Sm3),
                sha256: hash(HashAlgorithm::Sha256),
                captured_at: i.times.device_time,
                location: i
                    .location
                    .as_ref()
                    .and_then(|l| l.os_fix.as_ref())
                    .map(|f| {
                        format!(
                            "{}, {}{}",
                            f.latitude.as_str(),
                            f.longitude.as_str(),
                            f.horizontal_accuracy
                                .as_ref()
                                .map(|a| format!(" (±{} m)", a.as_str()))
                                .unwrap_or_default()
                        )
                    }),
                original: original.clone(),
            }
        })
        .collect()
}

impl UnlockedDevice {
    /// Closes an enforcement session: a summary manifest listing every manifest queued for
    /// `ctx.case.reference` since the session opened.
    pub fn close_session(
        &self,
        opened_at: Timestamp,
        ctx: &CaptureContext,
    ) -> Result<CaptureOutcome, CaptureError> {
        self.close(opened_at, ctx, None)
    }

    /// Closes a session as [`Self::close_session`] does, with the collection record and the
    /// inventory of every file of the session, signed by the device and every collector
    /// unlocked on it. A signature that is not an image, a refusal without its reason or an
    /// original medium stated inconsistently is refused before anything is signed.
    pub fn close_session_with_record(
        &self,
        opened_at: Timestamp,
        ctx: &CaptureContext,
        record: &RecordInput,
    ) -> Result<CaptureOutcome, CaptureError> {
        self.close(opened_at, ctx, Some(record))
    }

    fn close(
        &self,
        opened_at: Timestamp,
        ctx: &CaptureContext,
        input: Option<&RecordInput>,
    ) -> Result<CaptureOutcome, CaptureError> {
        let record = input
            .map(|r| {
                if r.place.trim().is_empty() || r.process.trim().is_empty() {
                    return Err(CaptureError::Record(
                        "state the place and the process of the collection".into(),
                    ));
                }
                r.original.check().map_err(CaptureError::Record)?;
                Ok(CollectionRecord {
                    place: r.place.trim().to_owned(),
                    process: r.process.trim().to_owned(),
                    inventory: Vec::new(),
                    holder: confirmation("holder", &r.holder)?,
                    witness: confirmation("witness", &r.witness)?,
                    process_recording: None,
                })
            })
            .transpose()?;
        let queue = Queue::open(self.device.dir())?;
        let mut listed = Vec::new();
        let mut entries = Vec::new();
        for entry in queue.entries()? {
            let proof = queue.read(&entry)?;
            let m = &proof.manifest;
            if m.case.reference == ctx.case.reference
                && m.session_summary.is_none()
                && m.created_at.unix_ms() >= opened_at.unix_ms()
            {
                let sm3 = m.sm3().map_err(|e| CaptureError::Sign(e.to_string()))?;
                if let Some(r) = input {
                    entries.extend(inventory(m, sm3, &r.original));
                }
                listed.push(SummaryEntry {
                    device_seq: m.device_seq,
                    manifest_sm3: sm3,
                    files: m.items.iter().map(|i| i.file_name.clone()).collect(),
                });
            }
        }
        let record = match (record, input) {
            (Some(mut record), Some(input)) => {
                record.process_recording = input
                    .process_recording
                    .as_deref()
                    .map(|name| process_recording(&entries, name))
                    .transpose()?;
                record.inventory = entries;
                Some(record)
            }
            _ => None,
        };
        let procedure = self.assess(ctx, None, record.as_ref())?;
        let summary = SessionSummary {
            opened_at,
            closed_at: ctx.device_time,
            manifests: listed,
            record,
        };
        self.seal(Vec::new(), Some(summary), ctx, None, Some(procedure))
    }
}
