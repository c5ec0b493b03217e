//! Closing an enforcement session: a summary manifest listing every manifest queued for the
//! case since the session opened.

use tiezheng_protocol::Timestamp;
use tiezheng_protocol::manifest::{SessionSummary, SummaryEntry};

use super::{CaptureContext, CaptureError, CaptureOutcome};
use crate::device::UnlockedDevice;
use crate::queue::Queue;

impl UnlockedDevice {
    /// Closes an enforcement session: a summary manifest listing every manifest queued for
    /// `ctx.case.reference` since the session opened.
    pub fn close_session(
        &self,
        opened_at: Timestamp,
        ctx: &CaptureContext,
    ) -> Result<CaptureOutcome, CaptureError> {
        let procedure = self.assess(ctx, None)?;
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
        self.seal(Vec::new(), Some(summary), ctx, None, Some(procedure))
    }
}
