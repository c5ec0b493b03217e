//! The durable offline queue: proofs wait here until the notary has acknowledged them.
//!
//! Each proof is one file, `queue/pending/<device_seq>.proof.json`, holding the proof's RFC 8785
//! bytes, written atomically and never rewritten. Acknowledgement stores the notary's receipt
//! (`queue/acked/<seq>.receipt.json`) and then moves the proof to `queue/acked/`. A process
//! killed at any instant leaves every proof either pending or acknowledged, never torn or lost;
//! the device's chain head (last `device_seq`, last manifest SM3) is derived from these files.

use std::fs;
use std::path::{Path, PathBuf};

use tiezheng_protocol::{Hash32, Proof, canonical};

use crate::device::{DeviceError, io_err};
use crate::store::{sweep_temporaries, sync_dir, write_atomic};

/// Where an entry stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryState {
    /// Waiting for the notary.
    Pending,
    /// Receipted by the notary.
    Acknowledged,
}

/// One queued proof.
#[derive(Debug, Clone)]
pub struct QueueEntry {
    /// The manifest's `device_seq`.
    pub device_seq: u64,
    /// Pending or acknowledged.
    pub state: EntryState,
    /// The proof file.
    pub path: PathBuf,
}

/// The queue of a device directory.
#[derive(Debug, Clone)]
pub struct Queue {
    pending: PathBuf,
    acked: PathBuf,
}

/// The end of the device's manifest chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainHead {
    /// The last `device_seq` used (0 when none).
    pub device_seq: u64,
    /// SM3 of the last manifest.
    pub manifest_sm3: Option<Hash32>,
}

impl Queue {
    /// Opens (creating if needed) the queue under `device_dir` and removes torn temporaries.
    pub fn open(device_dir: &Path) -> Result<Self, DeviceError> {
        let pending = device_dir.join("queue").join("pending");
        let acked = device_dir.join("queue").join("acked");
        for d in [&pending, &acked] {
            crate::store::private_dir_all(d).map_err(io_err(d))?;
            sweep_temporaries(d).map_err(io_err(d))?;
        }
        Ok(Self { pending, acked })
    }

    /// Adds a proof. Refuses a `device_seq` that is already queued.
    pub fn enqueue(&self, proof: &Proof) -> Result<PathBuf, DeviceError> {
        let seq = proof.manifest.device_seq;
        let name = file_name(seq);
        let path = self.pending.join(&name);
        if path.exists() || self.acked.join(&name).exists() {
            return Err(DeviceError::Corrupt {
                path,
                reason: format!("device_seq {seq} is already queued"),
            });
        }
        let bytes = canonical::to_canonical_bytes(proof).map_err(|e| DeviceError::Corrupt {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        write_atomic(&path, &bytes).map_err(io_err(&path))?;
        Ok(path)
    }

    /// Every entry, ordered by `device_seq`.
    pub fn entries(&self) -> Result<Vec<QueueEntry>, DeviceError> {
        let mut out = Vec::new();
        for (dir, state) in [
            (&self.pending, EntryState::Pending),
            (&self.acked, EntryState::Acknowledged),
        ] {
            for entry in fs::read_dir(dir).map_err(io_err(dir))? {
                let path = entry.map_err(io_err(dir))?.path();
                if let Some(seq) = parse_name(&path) {
                    out.push(QueueEntry {
                        device_seq: seq,
                        state,
                        path,
                    });
                }
            }
        }
        out.sort_by_key(|e| (e.device_seq, e.state == EntryState::Pending));
        out.dedup_by_key(|e| e.device_seq);
        Ok(out)
    }

    /// Pending entries in order: what sync must send.
    pub fn pending(&self) -> Result<Vec<QueueEntry>, DeviceError> {
        Ok(self
            .entries()?
            .into_iter()
            .filter(|e| e.state == EntryState::Pending)
            .collect())
    }

    /// Reads and parses a queued proof.
    pub fn read(&self, entry: &QueueEntry) -> Result<Proof, DeviceError> {
        let bytes = fs::read(&entry.path).map_err(io_err(&entry.path))?;
        serde_json::from_slice(&bytes).map_err(|e| DeviceError::Corrupt {
            path: entry.path.clone(),
            reason: e.to_string(),
        })
    }

    /// The chain head: the highest queued `device_seq` and its manifest's SM3.
    pub fn head(&self) -> Result<ChainHead, DeviceError> {
        let entries = self.entries()?;
        let Some(last) = entries.last() else {
            return Ok(ChainHead {
                device_seq: 0,
                manifest_sm3: None,
            });
        };
        let proof = self.read(last)?;
        let sm3 = proof.manifest.sm3().map_err(|e| DeviceError::Corrupt {
            path: last.path.clone(),
            reason: e.to_string(),
        })?;
        Ok(ChainHead {
            device_seq: last.device_seq,
            manifest_sm3: Some(sm3),
        })
    }

    /// The notary's signed receipt for `device_seq` (canonical JSON), once acknowledged.
    pub fn receipt(&self, device_seq: u64) -> Result<Option<Vec<u8>>, DeviceError> {
        let path = self.acked.join(format!("{device_seq:020}.receipt.json"));
        match fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err(&path)(e)),
        }
    }

    /// Records the notary's receipt for `device_seq` and marks the proof acknowledged.
    pub fn acknowledge(&self, device_seq: u64, receipt: &[u8]) -> Result<(), DeviceError> {
        let name = file_name(device_seq);
        let receipt_path = self.acked.join(format!("{device_seq:020}.receipt.json"));
        write_atomic(&receipt_path, receipt).map_err(io_err(&receipt_path))?;
        let from = self.pending.join(&name);
        if from.exists() {
            let to = self.acked.join(&name);
            fs::rename(&from, &to).map_err(io_err(&from))?;
            sync_dir(&self.acked).map_err(io_err(&self.acked))?;
            sync_dir(&self.pending).map_err(io_err(&self.pending))?;
        }
        Ok(())
    }
}

fn file_name(seq: u64) -> String {
    format!("{seq:020}.proof.json")
}

fn parse_name(path: &Path) -> Option<u64> {
    path.file_name()?
        .to_str()?
        .strip_suffix(".proof.json")?
        .parse()
        .ok()
}
