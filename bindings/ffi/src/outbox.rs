//! The [`Outbox`]: a device's queue, synced without its key. Syncing signs nothing (the proofs
//! were signed at capture), so a background worker in a fresh process, or a phone whose officer
//! has not unlocked the evidence key, can send the queue, read its receipts and the notary key
//! pinned at enrolment, and verify them. [`crate::Device`]'s queue and sync are the same code.
//!
//! The device's API token stays in the device directory (0600, inside the app's private
//! storage); it is a bearer token for intake only and is not protected by the officer's
//! authentication, so that this works while the phone is locked.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tiezheng_sdk::client::{NotaryBinding, NotaryClient};
use tiezheng_sdk::queue::{EntryState, Queue};

use crate::errors::TiezhengError;
use crate::hooks::{NetworkStatus, SyncEvent, SyncListener};
use crate::records::{QueueItem, RefusedProof, SyncReport};

/// A device's queue of signed proofs and their receipts, opened without unlocking its key.
#[derive(uniffi::Object)]
pub struct Outbox {
    dir: PathBuf,
    network: Option<Arc<dyn NetworkStatus>>,
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl Outbox {
    /// Opens the queue of the device set up in `dir` (no vault, no unlock).
    #[uniffi::constructor]
    pub fn open(
        dir: String,
        network: Option<Arc<dyn NetworkStatus>>,
    ) -> Result<Arc<Self>, TiezhengError> {
        let dir = PathBuf::from(dir);
        if !dir.join("device.json").exists() {
            return Err(TiezhengError::InvalidInput {
                reason: format!(
                    "{} holds no device; set one up with Device.setup first",
                    dir.display()
                ),
            });
        }
        Ok(Arc::new(Self { dir, network }))
    }

    /// Every queued proof, pending or acknowledged, in chain order.
    pub fn queue(&self) -> Result<Vec<QueueItem>, TiezhengError> {
        queue_items(&self.dir)
    }

    /// Sends the pending proofs and their media; a proof the notary refuses stays queued, is
    /// reported (`SyncEvent.Refused`, `SyncReport.refused`) and the others go on.
    pub async fn sync(
        &self,
        listener: Option<Arc<dyn SyncListener>>,
    ) -> Result<SyncReport, TiezhengError> {
        sync_dir(&self.dir, self.network.as_ref(), listener).await
    }

    /// The notary's signed receipt of `device_seq` (canonical JSON), once acknowledged: check
    /// it with `verify_receipt` and [`Self::notary_public_key`].
    pub fn receipt(&self, device_seq: u64) -> Result<Option<String>, TiezhengError> {
        let bytes = Queue::open(&self.dir)?.receipt(device_seq)?;
        bytes
            .map(|b| {
                String::from_utf8(b).map_err(|_| TiezhengError::Other {
                    reason: format!("the stored receipt of proof {device_seq} is not text"),
                })
            })
            .transpose()
    }

    /// The signed proof of `device_seq` exactly as queued (canonical JSON), pending or
    /// acknowledged; `None` if the device made no such proof.
    pub fn proof(&self, device_seq: u64) -> Result<Option<String>, TiezhengError> {
        let q = Queue::open(&self.dir)?;
        let Some(entry) = q
            .entries()?
            .into_iter()
            .find(|e| e.device_seq == device_seq)
        else {
            return Ok(None);
        };
        std::fs::read_to_string(&entry.path)
            .map(Some)
            .map_err(|e| TiezhengError::Other {
                reason: format!("reading {}: {e}", entry.path.display()),
            })
    }

    /// The notary's SM2 public key (hex) pinned at enrolment; `None` before enrolment.
    pub fn notary_public_key(&self) -> Result<Option<String>, TiezhengError> {
        if !self.dir.join("notary.json").exists() {
            return Ok(None);
        }
        Ok(Some(NotaryBinding::load(&self.dir)?.notary_public_key))
    }
}

/// The queue of the device in `dir`.
pub(crate) fn queue_items(dir: &Path) -> Result<Vec<QueueItem>, TiezhengError> {
    let q = Queue::open(dir)?;
    let mut out = Vec::new();
    for e in q.entries()? {
        let p = q.read(&e)?;
        out.push(QueueItem {
            device_seq: e.device_seq,
            acknowledged: e.state == EntryState::Acknowledged,
            proof_sm3: p.sm3().map(|h| h.to_hex()).unwrap_or_default(),
            case_reference: p.manifest.case.reference.clone(),
            files: p
                .manifest
                .items
                .iter()
                .map(|i| i.file_name.clone())
                .collect(),
        });
    }
    Ok(out)
}

/// Syncs the queue of the device in `dir` with the notary it enrolled with.
pub(crate) async fn sync_dir(
    dir: &Path,
    network: Option<&Arc<dyn NetworkStatus>>,
    listener: Option<Arc<dyn SyncListener>>,
) -> Result<SyncReport, TiezhengError> {
    if let Some(n) = network
        && !n.is_online()?
    {
        return Err(TiezhengError::Network {
            reason: "the device is offline; the proofs stay queued".into(),
        });
    }
    let binding = NotaryBinding::load(dir)?;
    let client = NotaryClient::new(&binding.url)?;
    let report = client
        .sync(dir, |e| {
            let Some(l) = &listener else { return };
            let event = match e {
                tiezheng_sdk::client::SyncEvent::Receipted {
                    device_seq,
                    chain_gap,
                } => SyncEvent::Receipted {
                    device_seq,
                    chain_gap,
                },
                tiezheng_sdk::client::SyncEvent::Uploading {
                    sm3,
                    received,
                    total,
                } => SyncEvent::Uploading {
                    sm3: sm3.to_hex(),
                    received,
                    total,
                },
                tiezheng_sdk::client::SyncEvent::Retrying { attempt, reason } => {
                    SyncEvent::Retrying { attempt, reason }
                }
                tiezheng_sdk::client::SyncEvent::Refused {
                    device_seq,
                    code,
                    message,
                } => SyncEvent::Refused {
                    device_seq,
                    code,
                    reason: message,
                },
                _ => return,
            };
            let _ = l.on_event(event);
        })
        .await?;
    Ok(SyncReport {
        acknowledged: report.acknowledged as u64,
        media_bytes: report.media_bytes,
        pending: report.pending as u64,
        refused: report
            .refused
            .into_iter()
            .map(|(device_seq, code, reason)| RefusedProof {
                device_seq,
                code,
                reason,
            })
            .collect(),
    })
}

/// Whether `dir` already holds a device (set up, enrolled or not): an app calls
/// `Device.unlock` then, and `Device.setup` otherwise.
#[uniffi::export]
pub fn device_exists(dir: String) -> bool {
    Path::new(&dir).join("device.json").is_file()
}
