//! Recovering recordings whose process died: each becomes a proof of the bytes up to its last
//! closed, journalled and re-verified segment, flagged interrupted and truncated; a recording
//! already queued only has its cleanup finished.

use std::fs::{self, File};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use sm3::Digest as _;
use tiezheng_protocol::manifest::{Origin, Recording, Segment};
use tiezheng_protocol::{DualHasher, Hash32};

use super::recorder::{JournalHeader, chain_link};
use super::{CaptureError, CaptureOutcome};
use crate::device::{UnlockedDevice, io_err};
use crate::inspect::inspect_file_with_digests;
use crate::queue::Queue;
use crate::store::{random_suffix, sync_dir};

impl UnlockedDevice {
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
        // The procedure decided when the recording started still stands only if the officers
        // who must sign are unlocked now; if not, the evidence is kept without the claim.
        let procedure = match header.procedure.clone() {
            Some(p) if self.still_holds(&p, &header.context, &item) => Some(p),
            Some(p) => {
                item.findings.push(tiezheng_protocol::manifest::Finding {
                    code: "procedure_not_attested".into(),
                    detail: format!(
                        "recovered after a crash without every collector's signature: the recording started under profile {} v{}, but no procedure is claimed for it",
                        p.profile.id, p.profile.version
                    ),
                });
                None
            }
            None => None,
        };
        let outcome = self.seal(
            vec![item],
            None,
            &header.context,
            Some(media_path),
            procedure,
        )?;
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
}

fn copy_prefix(src: &Path, dst: &Path, len: u64) -> std::io::Result<()> {
    let mut input = File::open(src)?.take(len);
    let mut out = crate::store::private_file()
        .write(true)
        .create(true)
        .truncate(true)
        .open(dst)?;
    std::io::copy(&mut input, &mut out)?;
    out.sync_all()
}
