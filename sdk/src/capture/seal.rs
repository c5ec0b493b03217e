//! Sealing captures into the device chain: the evidence item of an inspected file, and the
//! manifest that takes the next `device_seq` and the SM3 of the previous manifest under a lock
//! on the device directory, signed and queued.

use std::path::PathBuf;

use tiezheng_protocol::manifest::{
    CaptureTimes, EvidenceItem, Location, MANIFEST_TYPE, Manifest, Origin, Recording,
    SessionSummary,
};
use tiezheng_protocol::profile::Procedure;
use tiezheng_protocol::{ContentHash, Proof};

use super::{CaptureContext, CaptureError, CaptureOutcome};
use crate::device::{DeviceError, UnlockedDevice, io_err};
use crate::findings::cross_check;
use crate::inspect::Inspection;
use crate::queue::Queue;
use crate::store::random_bytes;

impl UnlockedDevice {
    pub(super) fn media_dir(&self) -> Result<PathBuf, DeviceError> {
        let d = self.device.dir().join("media");
        crate::store::private_dir_all(&d).map_err(io_err(&d))?;
        Ok(d)
    }

    /// The evidence item of an inspected file, with the findings of its cross-check.
    pub(super) fn item(
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

    /// Takes the next place in the device chain, signs and queues (under the directory lock),
    /// with the procedure decided before the capture began.
    pub(super) fn seal(
        &self,
        items: Vec<EvidenceItem>,
        summary: Option<SessionSummary>,
        ctx: &CaptureContext,
        media_path: Option<PathBuf>,
        procedure: Option<Procedure>,
    ) -> Result<CaptureOutcome, CaptureError> {
        let dir = self.device.dir();
        let lock_path = dir.join(".lock");
        let lock = crate::store::private_file()
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
            procedure,
        };
        let cosigners = self.cosigners(&manifest.case.collectors);
        let mut proof =
            Proof::sign(manifest, &self.key).map_err(|e| CaptureError::Sign(e.to_string()))?;
        // Every collector unlocked on the device signs too, with a key of their own.
        for (officer, key) in &cosigners {
            proof
                .cosign(officer, key)
                .map_err(|e| CaptureError::Sign(e.to_string()))?;
        }
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
