//! The streaming recorder: video and audio received chunk by chunk (constant memory), hashed
//! whole on a worker thread, with a segment closed every N bytes or M milliseconds and its SM3
//! and running chain journalled to disk as it closes.

use std::fs::{self, File};
use std::io::Write;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use sm3::Digest as _;
use tiezheng_protocol::manifest::{Origin, Recording, Segment};
use tiezheng_protocol::{ContentDigests, DualHasher, Hash32};

use super::{CaptureContext, CaptureError, CaptureOutcome, Clock, SegmentPolicy, check_file_name};
use crate::device::{UnlockedDevice, io_err};
use crate::inspect::inspect_file_with_digests;
use crate::store::{random_bytes, sync_dir};

impl UnlockedDevice {
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
}

fn start<'d>(
    device: DeviceRef<'d>,
    file_name: &str,
    policy: SegmentPolicy,
    ctx: &CaptureContext,
    clock: Box<dyn Clock>,
) -> Result<Recorder<'d>, CaptureError> {
    check_file_name(file_name)?;
    let procedure = device.assess(ctx, Some(Origin::Captured), None)?;
    // Policy values are written into the signed manifest: keep them JSON-safe integers.
    let cap = tiezheng_protocol::canonical::MAX_SAFE_INTEGER;
    let policy = SegmentPolicy {
        max_bytes: policy.max_bytes.clamp(1, cap),
        max_ms: policy.max_ms.min(cap),
    };
    let dir = device.device.dir().join("recordings");
    crate::store::private_dir_all(&dir).map_err(io_err(&dir))?;
    let id = hex::encode(random_bytes::<16>());
    let part_path = dir.join(format!("{id}.part"));
    let journal_path = dir.join(format!("{id}.journal"));
    // The journal comes first and stays locked while this recorder lives: recovery skips
    // journals whose lock is held (a recording in progress) and never meets a part file
    // without its journal.
    let mut journal = crate::store::private_file()
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
        procedure: Some(procedure.clone()),
    };
    let mut line = serde_json::to_vec(&header).unwrap_or_default();
    line.push(b'\n');
    journal
        .write_all(&line)
        .and_then(|()| journal.sync_all())
        .map_err(io_err(&journal_path))?;
    let part = crate::store::private_file()
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
        procedure,
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

/// The first line of a recording's journal: what recovery needs to prove it.
#[derive(Serialize, Deserialize)]
pub(super) struct JournalHeader {
    pub(super) recording_id: String,
    pub(super) file_name: String,
    pub(super) policy: SegmentPolicy,
    pub(super) context: CaptureContext,
    /// The procedure decided when the recording started (absent in journals written before
    /// profiles existed): recovery seals it unchanged and never refuses.
    #[serde(default)]
    pub(super) procedure: Option<tiezheng_protocol::profile::Procedure>,
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
    procedure: tiezheng_protocol::profile::Procedure,
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
        let outcome = self.device.seal(
            vec![item],
            None,
            &self.ctx,
            Some(media_path.clone()),
            Some(self.procedure.clone()),
        )?;
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
