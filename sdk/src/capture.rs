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

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use sm3::Digest as _;
use tiezheng_protocol::manifest::{
    CaptureTimes, CaseRecord, EvidenceItem, Location, LocationFix, MANIFEST_TYPE, Manifest, Origin,
    Recording, Segment, SessionSummary, SummaryEntry, TimeSync,
};
use tiezheng_protocol::{ContentDigests, ContentHash, DualHasher, Hash32, Proof, Timestamp};

use crate::device::{DeviceError, UnlockedDevice, io_err};
use crate::findings::cross_check;
use crate::inspect::{Inspection, inspect_bytes, inspect_file_with_digests};
use crate::queue::Queue;
use crate::store::{random_bytes, random_suffix, sync_dir, write_atomic};

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

impl UnlockedDevice {
    fn media_dir(&self) -> Result<PathBuf, DeviceError> {
        let d = self.device.dir().join("media");
        fs::create_dir_all(&d).map_err(io_err(&d))?;
        Ok(d)
    }

    /// Captures a photo from the bytes the camera delivered.
    pub fn capture_photo(
        &self,
        file_name: &str,
        bytes: &[u8],
        ctx: &CaptureContext,
    ) -> Result<CaptureOutcome, CaptureError> {
        check_file_name(file_name)?;
        // Hash first: the digests describe exactly what the camera delivered.
        let mut h = DualHasher::new();
        h.update(bytes);
        let digests = h.finalize();
        let media_path = self.media_dir()?.join(digests.sm3.to_hex());
        if !media_path.exists() {
            write_atomic(&media_path, bytes).map_err(io_err(&media_path))?;
        }
        let inspection = inspect_bytes(bytes, digests);
        let item = self.item(file_name, Origin::Captured, &inspection, ctx, None);
        self.seal(vec![item], None, ctx, Some(media_path))
    }

    /// Imports an existing file: copied into the media store while hashed, marked `imported`.
    pub fn import_file(
        &self,
        path: &Path,
        ctx: &CaptureContext,
    ) -> Result<CaptureOutcome, CaptureError> {
        let file_name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("imported")
            .to_owned();
        check_file_name(&file_name)?;
        let media_dir = self.media_dir()?;
        let (digests, tmp) = copy_hashing(path, &media_dir)?;
        let media_path = media_dir.join(digests.sm3.to_hex());
        fs::rename(&tmp, &media_path).map_err(io_err(&tmp))?;
        sync_dir(&media_dir).map_err(io_err(&media_dir))?;
        let inspection = inspect_file_with_digests(&media_path, digests)?;
        let item = self.item(&file_name, Origin::Imported, &inspection, ctx, None);
        self.seal(vec![item], None, ctx, Some(media_path))
    }

    /// Starts a streamed recording.
    pub fn start_recording(
        &self,
        file_name: &str,
        policy: SegmentPolicy,
        ctx: &CaptureContext,
        clock: Box<dyn Clock>,
    ) -> Result<Recorder<'_>, CaptureError> {
        start(DeviceRef::Borrowed(self), file_name, policy, ctx, clock)
    }

    /// Starts a streamed recording that owns a handle on the device (for recorders that outlive
    /// any borrow, as in the foreign-language bindings).
    pub fn start_recording_shared(
        self: &std::sync::Arc<Self>,
        file_name: &str,
        policy: SegmentPolicy,
        ctx: &CaptureContext,
        clock: Box<dyn Clock>,
    ) -> Result<Recorder<'static>, CaptureError> {
        start(
            DeviceRef::Shared(self.clone()),
            file_name,
            policy,
            ctx,
            clock,
        )
    }

    /// Finalises every recording left unfinished by a killed process: each becomes a proof of
    /// the bytes up to its last closed (journalled and verified) segment, flagged interrupted
    /// and truncated. Returns the recovered captures.
    pub fn recover_recordings(&self) -> Result<Vec<CaptureOutcome>, CaptureError> {
        let dir = self.device.dir().join("recordings");
        let Ok(entries) = fs::read_dir(&dir) else {
            return Ok(Vec::new());
        };
        let mut journals: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "journal"))
            .collect();
        journals.sort();
        let mut out = Vec::new();
        for journal in journals {
            if let Some(outcome) = self.recover_one(&journal)? {
                out.push(outcome);
            }
        }
        Ok(out)
    }

    fn recover_one(&self, journal_path: &Path) -> Result<Option<CaptureOutcome>, CaptureError> {
        let part_path = journal_path.with_extension("part");
        let file = File::open(journal_path).map_err(io_err(journal_path))?;
        if file.try_lock().is_err() {
            // Its recorder is alive (this or another process): not interrupted.
            return Ok(None);
        }
        let mut lines = BufReader::new(&file).lines();
        let header: Option<JournalHeader> = lines
            .next()
            .and_then(Result::ok)
            .and_then(|l| serde_json::from_str(&l).ok());
        let Some(header) = header else {
            // The process died before the journal header reached the disk: nothing was proven.
            let _ = fs::remove_file(journal_path);
            let _ = fs::remove_file(&part_path);
            return Ok(None);
        };
        // Killed after the proof was queued but before cleaning up: finish the cleanup only.
        if let Some(sm3) = self.queued_recording(&header.recording_id)? {
            let media_path = self.media_dir()?.join(sm3.to_hex());
            if part_path.exists() && !media_path.exists() {
                fs::rename(&part_path, &media_path).map_err(io_err(&part_path))?;
            }
            let _ = fs::remove_file(&part_path);
            let _ = fs::remove_file(journal_path);
            return Ok(None);
        }
        if !part_path.exists() {
            let _ = fs::remove_file(journal_path);
            return Ok(None);
        }
        // A torn last line (killed mid-append) simply ends the list.
        let journalled: Vec<Segment> = lines
            .map_while(Result::ok)
            .map_while(|l| serde_json::from_str(&l).ok())
            .collect();
        let mut part = File::open(&part_path).map_err(io_err(&part_path))?;
        let recorded_len = part.metadata().map_err(io_err(&part_path))?.len();
        // Re-hash the proven prefix, checking every segment against its journal entry.
        let mut whole = DualHasher::new();
        let mut chain = Hash32([0; 32]);
        let mut good = Vec::new();
        let mut buf = vec![0u8; 256 * 1024];
        for seg in journalled {
            if seg.offset != whole.bytes() || seg.index != good.len() as u64 {
                break;
            }
            let mut h = sm3::Sm3::new();
            let mut candidate = whole.clone();
            let mut left = seg.bytes;
            let mut ok = true;
            while left > 0 {
                let n = usize::try_from(left.min(buf.len() as u64)).unwrap_or(buf.len());
                let Some(chunk) = buf.get_mut(..n) else { break };
                if part.read_exact(chunk).is_err() {
                    ok = false;
                    break;
                }
                h.update(&*chunk);
                candidate.update(chunk);
                left -= n as u64;
            }
            let sm3 = Hash32(h.finalize().into());
            let expected_chain = chain_link(&chain, seg.index, seg.offset, seg.bytes, &sm3);
            if !ok || sm3 != seg.sm3 || expected_chain != seg.chain {
                break;
            }
            chain = expected_chain;
            whole = candidate;
            good.push(seg);
        }
        let digests = whole.finalize();
        let proven = digests.bytes;
        // Store the proven prefix as the evidence file, content-addressed.
        let media_dir = self.media_dir()?;
        let media_path = media_dir.join(digests.sm3.to_hex());
        if !media_path.exists() {
            let tmp = media_dir.join(format!(".tmp-recovered-{}", random_suffix()));
            copy_prefix(&part_path, &tmp, proven).map_err(io_err(&tmp))?;
            fs::rename(&tmp, &media_path).map_err(io_err(&tmp))?;
            sync_dir(&media_dir).map_err(io_err(&media_dir))?;
        }
        let inspection = inspect_file_with_digests(&media_path, digests)?;
        let truncated = proven < recorded_len;
        let recording = Recording {
            recording_id: header.recording_id.clone(),
            segment_max_bytes: header.policy.max_bytes,
            segment_max_ms: header.policy.max_ms,
            segments: good,
            interrupted: true,
            truncated,
        };
        let mut item = self.item(
            &header.file_name,
            Origin::Captured,
            &inspection,
            &header.context,
            Some(recording),
        );
        item.findings.push(tiezheng_protocol::manifest::Finding {
            code: if truncated { "recording_truncated" } else { "recording_interrupted" }.into(),
            detail: format!(
                "recording was interrupted; {proven} bytes up to the last closed segment are proven, {} later bytes are not",
                recorded_len.saturating_sub(proven)
            ),
        });
        let outcome = self.seal(vec![item], None, &header.context, Some(media_path))?;
        let _ = fs::remove_file(&part_path);
        let _ = fs::remove_file(journal_path);
        Ok(Some(outcome))
    }

    /// The SM3 of the file of an already-queued proof of recording `recording_id`, if any.
    fn queued_recording(&self, recording_id: &str) -> Result<Option<Hash32>, CaptureError> {
        let queue = Queue::open(self.device.dir())?;
        for entry in queue.entries()?.iter().rev() {
            let proof = queue.read(entry)?;
            for item in &proof.manifest.items {
                if item
                    .recording
                    .as_ref()
                    .is_some_and(|r| r.recording_id == recording_id)
                {
                    return Ok(item.hashes.first().map(|h| h.value));
                }
            }
        }
        Ok(None)
    }

    /// Closes an enforcement session: a summary manifest listing every manifest queued for
    /// `ctx.case.reference` since the session opened.
    pub fn close_session(
        &self,
        opened_at: Timestamp,
        ctx: &CaptureContext,
    ) -> Result<CaptureOutcome, CaptureError> {
        let queue = Queue::open(self.device.dir())?;
        let mut listed = Vec::new();
        for entry in queue.entries()? {
            let proof = queue.read(&entry)?;
            let m = &proof.manifest;
            if m.case.reference == ctx.case.reference
                && m.session_summary.is_none()
                && m.created_at.unix_ms() >= opened_at.unix_ms()
            {
                let sm3 = m.sm3().map_err(|e| CaptureError::Sign(e.to_string()))?;
                listed.push(SummaryEntry {
                    device_seq: m.device_seq,
                    manifest_sm3: sm3,
                    files: m.items.iter().map(|i| i.file_name.clone()).collect(),
                });
            }
        }
        let summary = SessionSummary {
            opened_at,
            closed_at: ctx.device_time,
            manifests: listed,
        };
        self.seal(Vec::new(), Some(summary), ctx, None)
    }

    fn item(
        &self,
        file_name: &str,
        origin: Origin,
        i: &Inspection,
        ctx: &CaptureContext,
        recording: Option<Recording>,
    ) -> EvidenceItem {
        let mut findings = i.findings.clone();
        findings.extend(cross_check(
            &i.metadata,
            &ctx.device_time,
            ctx.os_fix.as_ref(),
            ctx.last_time_sync.as_ref(),
            &ctx.case,
        ));
        EvidenceItem {
            kind: i.media.kind(),
            origin,
            file_name: file_name.to_owned(),
            mime: i.media.mime().to_owned(),
            bytes: i.digests.bytes,
            hashes: ContentHash::pair(&i.digests),
            times: CaptureTimes {
                device_time: ctx.device_time,
                monotonic_ms: ctx.monotonic_ms,
                gnss_time: ctx.gnss_time,
                last_time_sync: ctx.last_time_sync.clone(),
            },
            location: ctx.os_fix.clone().map(|fix| Location {
                coordinate_system: "WGS-84".into(),
                os_fix: Some(fix),
            }),
            metadata: i.metadata.clone(),
            fingerprint: i.fingerprint.clone(),
            recording,
            findings,
        }
    }

    /// Takes the next place in the device chain, signs and queues (under the directory lock).
    fn seal(
        &self,
        items: Vec<EvidenceItem>,
        summary: Option<SessionSummary>,
        ctx: &CaptureContext,
        media_path: Option<PathBuf>,
    ) -> Result<CaptureOutcome, CaptureError> {
        let dir = self.device.dir();
        let lock_path = dir.join(".lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io_err(&lock_path))?;
        lock.lock().map_err(io_err(&lock_path))?;
        let queue = Queue::open(dir)?;
        let head = queue.head()?;
        let manifest = Manifest {
            kind: MANIFEST_TYPE.to_owned(),
            manifest_id: hex::encode(random_bytes::<16>()),
            device_seq: head.device_seq + 1,
            previous_manifest_sm3: head.manifest_sm3,
            created_at: ctx.device_time,
            case: ctx.case.clone(),
            items,
            session_summary: summary,
            device: self.info(),
        };
        let proof =
            Proof::sign(manifest, &self.key).map_err(|e| CaptureError::Sign(e.to_string()))?;
        let proof_sm3 = proof.sm3().map_err(|e| CaptureError::Sign(e.to_string()))?;
        let queue_path = queue.enqueue(&proof)?;
        drop(lock);
        Ok(CaptureOutcome {
            proof,
            proof_sm3,
            media_path,
            queue_path,
        })
    }
}

fn start<'d>(
    device: DeviceRef<'d>,
    file_name: &str,
    policy: SegmentPolicy,
    ctx: &CaptureContext,
    clock: Box<dyn Clock>,
) -> Result<Recorder<'d>, CaptureError> {
    check_file_name(file_name)?;
    // Policy values are written into the signed manifest: keep them JSON-safe integers.
    let cap = tiezheng_protocol::canonical::MAX_SAFE_INTEGER;
    let policy = SegmentPolicy {
        max_bytes: policy.max_bytes.clamp(1, cap),
        max_ms: policy.max_ms.min(cap),
    };
    let dir = device.device.dir().join("recordings");
    fs::create_dir_all(&dir).map_err(io_err(&dir))?;
    let id = hex::encode(random_bytes::<16>());
    let part_path = dir.join(format!("{id}.part"));
    let journal_path = dir.join(format!("{id}.journal"));
    // The journal comes first and stays locked while this recorder lives: recovery skips
    // journals whose lock is held (a recording in progress) and never meets a part file
    // without its journal.
    let mut journal = OpenOptions::new()
        .append(true)
        .create_new(true)
        .open(&journal_path)
        .map_err(io_err(&journal_path))?;
    journal.lock().map_err(io_err(&journal_path))?;
    let header = JournalHeader {
        recording_id: id.clone(),
        file_name: file_name.to_owned(),
        policy,
        context: ctx.clone(),
    };
    let mut line = serde_json::to_vec(&header).unwrap_or_default();
    line.push(b'\n');
    journal
        .write_all(&line)
        .and_then(|()| journal.sync_all())
        .map_err(io_err(&journal_path))?;
    let part = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&part_path)
        .map_err(io_err(&part_path))?;
    sync_dir(&dir).map_err(io_err(&dir))?;
    let started = clock.now_ms();
    Ok(Recorder {
        device,
        recording_id: id,
        file_name: file_name.to_owned(),
        ctx: ctx.clone(),
        policy,
        clock,
        part_path,
        journal_path,
        part,
        journal,
        whole: WholeHasher::spawn(),
        segment: sm3::Sm3::new(),
        segment_offset: 0,
        segment_bytes: 0,
        segment_started: started,
        segments: Vec::new(),
        chain: Hash32([0; 32]),
    })
}

#[derive(Serialize, Deserialize)]
struct JournalHeader {
    recording_id: String,
    file_name: String,
    policy: SegmentPolicy,
    context: CaptureContext,
}

/// `SM3(previous ‖ index ‖ offset ‖ bytes ‖ sm3)`, integers as 8-byte big-endian.
pub fn chain_link(previous: &Hash32, index: u64, offset: u64, bytes: u64, sm3: &Hash32) -> Hash32 {
    tiezheng_protocol::manifest::segment_chain_link(previous, index, offset, bytes, sm3)
}

/// A recording in progress. Dropping it without [`Recorder::finish`] or [`Recorder::abort`]
/// leaves it for [`UnlockedDevice::recover_recordings`], exactly as a killed process would.
pub struct Recorder<'d> {
    device: DeviceRef<'d>,
    recording_id: String,
    file_name: String,
    ctx: CaptureContext,
    policy: SegmentPolicy,
    clock: Box<dyn Clock>,
    part_path: PathBuf,
    journal_path: PathBuf,
    part: File,
    journal: File,
    whole: WholeHasher,
    segment: sm3::Sm3,
    segment_offset: u64,
    segment_bytes: u64,
    segment_started: u64,
    segments: Vec<Segment>,
    chain: Hash32,
}

impl std::fmt::Debug for Recorder<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("file_name", &self.file_name)
            .field("bytes", &self.whole.bytes())
            .field("segments", &self.segments.len())
            .finish_non_exhaustive()
    }
}

impl Recorder<'_> {
    /// Appends encoder output. Segments close exactly at `max_bytes` boundaries, or at the end
    /// of a chunk once `max_ms` has passed.
    pub fn write(&mut self, mut chunk: &[u8]) -> Result<(), CaptureError> {
        // The whole-file digests run on their own thread, beside the segment hash and the write.
        self.whole.update(chunk);
        while !chunk.is_empty() {
            let room = self
                .policy
                .max_bytes
                .saturating_sub(self.segment_bytes)
                .max(1);
            let n = usize::try_from(room).unwrap_or(usize::MAX).min(chunk.len());
            let (now, rest) = chunk.split_at(n);
            self.part.write_all(now).map_err(io_err(&self.part_path))?;
            self.segment.update(now);
            self.segment_bytes += n as u64;
            chunk = rest;
            if self.segment_bytes >= self.policy.max_bytes {
                self.close_segment()?;
            }
        }
        if self.segment_bytes > 0
            && self.clock.now_ms().saturating_sub(self.segment_started) >= self.policy.max_ms
        {
            self.close_segment()?;
        }
        Ok(())
    }

    /// Bytes received so far.
    pub fn bytes(&self) -> u64 {
        self.whole.bytes()
    }

    /// Segments closed so far.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    fn close_segment(&mut self) -> Result<(), CaptureError> {
        // The segment's bytes reach the disk before the journal says they exist.
        self.part.sync_data().map_err(io_err(&self.part_path))?;
        let sm3 = Hash32(std::mem::take(&mut self.segment).finalize().into());
        let index = self.segments.len() as u64;
        self.chain = chain_link(
            &self.chain,
            index,
            self.segment_offset,
            self.segment_bytes,
            &sm3,
        );
        let seg = Segment {
            index,
            offset: self.segment_offset,
            bytes: self.segment_bytes,
            sm3,
            chain: self.chain,
        };
        let mut line = serde_json::to_vec(&seg).unwrap_or_default();
        line.push(b'\n');
        self.journal
            .write_all(&line)
            .and_then(|()| self.journal.sync_data())
            .map_err(io_err(&self.journal_path))?;
        self.segment_offset += self.segment_bytes;
        self.segment_bytes = 0;
        self.segment_started = self.clock.now_ms();
        self.segments.push(seg);
        Ok(())
    }

    /// Ends the recording: closes the last segment, stores the file and queues its proof.
    pub fn finish(mut self) -> Result<CaptureOutcome, CaptureError> {
        if self.segment_bytes > 0 {
            self.close_segment()?;
        }
        self.part.sync_all().map_err(io_err(&self.part_path))?;
        let digests: ContentDigests = self
            .whole
            .finish()
            .map_err(|e| CaptureError::Sign(e.to_owned()))?;
        let media_dir = self.device.media_dir()?;
        let media_path = media_dir.join(digests.sm3.to_hex());
        let inspection = inspect_file_with_digests(&self.part_path, digests)?;
        let recording = Recording {
            recording_id: self.recording_id.clone(),
            segment_max_bytes: self.policy.max_bytes,
            segment_max_ms: self.policy.max_ms,
            segments: std::mem::take(&mut self.segments),
            interrupted: false,
            truncated: false,
        };
        let item = self.device.item(
            &self.file_name,
            Origin::Captured,
            &inspection,
            &self.ctx,
            Some(recording),
        );
        // Queue first, then move the file and drop the journal: a kill in between is finished
        // by recovery, which finds the queued proof by its recording ID.
        let outcome = self
            .device
            .seal(vec![item], None, &self.ctx, Some(media_path.clone()))?;
        if media_path.exists() {
            fs::remove_file(&self.part_path).map_err(io_err(&self.part_path))?;
        } else {
            fs::rename(&self.part_path, &media_path).map_err(io_err(&self.part_path))?;
        }
        sync_dir(&media_dir).map_err(io_err(&media_dir))?;
        let _ = fs::remove_file(&self.journal_path);
        Ok(outcome)
    }

    /// Discards the recording: nothing is stored or queued.
    pub fn abort(self) -> Result<(), CaptureError> {
        fs::remove_file(&self.part_path).map_err(io_err(&self.part_path))?;
        fs::remove_file(&self.journal_path).map_err(io_err(&self.journal_path))?;
        Ok(())
    }
}

/// The device a recorder writes for: borrowed, or shared (for recorders that must own their
/// device, as the foreign-language bindings do).
enum DeviceRef<'d> {
    Borrowed(&'d UnlockedDevice),
    Shared(std::sync::Arc<UnlockedDevice>),
}

impl std::ops::Deref for DeviceRef<'_> {
    type Target = UnlockedDevice;

    fn deref(&self) -> &UnlockedDevice {
        match self {
            Self::Borrowed(d) => d,
            Self::Shared(d) => d,
        }
    }
}

/// The whole-recording SM3 + SHA-256, computed on a worker thread fed through a bounded
/// channel (at most four chunks in flight), so a recording uses two cores and constant memory.
struct WholeHasher {
    tx: Option<std::sync::mpsc::SyncSender<Vec<u8>>>,
    worker: Option<std::thread::JoinHandle<DualHasher>>,
    bytes: u64,
}

impl WholeHasher {
    fn spawn() -> Self {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(4);
        let worker = std::thread::Builder::new()
            .name("tiezheng-hash".into())
            .spawn(move || {
                let mut h = DualHasher::new();
                for chunk in rx {
                    h.update(&chunk);
                }
                h
            })
            .ok();
        Self {
            tx: worker.as_ref().map(|_| tx),
            worker,
            bytes: 0,
        }
    }

    fn update(&mut self, chunk: &[u8]) {
        self.bytes += chunk.len() as u64;
        if let Some(tx) = &self.tx
            && tx.send(chunk.to_vec()).is_err()
        {
            // The worker is gone; finish() reports it.
            self.tx = None;
        }
    }

    fn bytes(&self) -> u64 {
        self.bytes
    }

    fn finish(&mut self) -> Result<ContentDigests, &'static str> {
        drop(self.tx.take());
        let h = self
            .worker
            .take()
            .ok_or("hashing thread could not start")?
            .join()
            .map_err(|_| "hashing thread failed")?;
        if h.bytes() != self.bytes {
            return Err("hashing thread lost data");
        }
        Ok(h.finalize())
    }
}

/// Copies `src` into a temporary file in `dir` while hashing it, in one pass.
fn copy_hashing(src: &Path, dir: &Path) -> Result<(ContentDigests, PathBuf), CaptureError> {
    let mut input = File::open(src).map_err(|source| crate::files::FileError::Open {
        path: src.to_owned(),
        source,
    })?;
    let tmp = dir.join(format!(".tmp-import-{}", random_suffix()));
    let mut out = File::create(&tmp).map_err(io_err(&tmp))?;
    let mut h = DualHasher::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(source) => {
                return Err(crate::files::FileError::Read {
                    path: src.to_owned(),
                    read: h.bytes(),
                    source,
                }
                .into());
            }
        };
        let chunk = buf.get(..n).unwrap_or_default();
        h.update(chunk);
        out.write_all(chunk).map_err(io_err(&tmp))?;
    }
    out.sync_all().map_err(io_err(&tmp))?;
    Ok((h.finalize(), tmp))
}

fn copy_prefix(src: &Path, dst: &Path, len: u64) -> std::io::Result<()> {
    let mut input = File::open(src)?.take(len);
    let mut out = File::create(dst)?;
    std::io::copy(&mut input, &mut out)?;
    out.sync_all()
}
