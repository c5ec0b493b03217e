//! The intake sequencer: the one writer that decides, for proofs already verified, what their
//! device's stored chain says (new, resubmitted, replayed, linked or after a gap), signs their
//! receipts and stores them in groups, one transaction per group. No receipt leaves before its
//! group has committed.
//!
//! Everything that needs no database state (canonical form, schema, the device's SM2
//! signature) runs before, in parallel, outside any lock. The writer takes whatever has queued
//! while it committed the previous group, so groups grow with load and the database sees a few
//! multi-row statements and one commit per group instead of one transaction per proof.
//!
//! Per-device order is enforced by the database, not by this process's memory: each group's
//! transaction starts by taking the custody head row (see `Store::begin_intake`), so groups of
//! every notary instance on one PostgreSQL are serialised and each reads what the previous
//! committed; `UNIQUE (device_key_id, device_seq)` is the backstop.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use tiezheng_protocol::notary::{RECEIPT_TYPE, Receipt, SignedReceipt};
use tiezheng_protocol::{Hash32, Sm2SigningKey, Timestamp, canonical};
use tokio::sync::{mpsc, oneshot};

use crate::store::{ChainRow, NewMedia, NewProof, Store, StoreError};

/// Most proofs one group commits: bounds a group's latency under any load.
const MAX_GROUP: usize = 4096;

/// A proof whose signature has verified, waiting for its place in its device's chain.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The device's key ID (SM3 of its public key).
    pub device: Hash32,
    /// The key ID of the device whose token submitted it (a device submits only its own).
    pub submitter: String,
    /// `manifest.device_seq`.
    pub seq: u64,
    /// SM3 of the proof's RFC 8785 bytes.
    pub proof_sm3: Hash32,
    /// SM3 of the manifest's RFC 8785 bytes.
    pub manifest_sm3: Hash32,
    /// `manifest.previous_manifest_sm3`.
    pub previous: Option<Hash32>,
    /// `manifest.case.reference`.
    pub case_reference: String,
    /// The proof's RFC 8785 bytes.
    pub proof_json: String,
    /// The media the manifest names.
    pub media: Vec<NewMedia>,
    /// Each officer who signed: (key ID of the officer's key, officer ID).
    pub officers: Vec<(String, String)>,
}

/// What became of one candidate.
#[derive(Debug)]
pub enum Outcome {
    /// Stored; its new receipt.
    Accepted(SignedReceipt),
    /// The same proof was stored before; its receipt then.
    Resubmitted(SignedReceipt),
    /// Refused; nothing stored.
    Refused(Refusal),
}

/// Why the sequencer refused a proof: what its device's stored chain or enrolment says (the
/// HTTP layer answers each with its status and code). Nothing of a refused proof is stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// The signing key is not enrolled.
    #[error("the signing key is not enrolled with this notary; enrol the device first")]
    UnknownDevice,
    /// The signing device was revoked.
    #[error("the signing device has been revoked; its proofs are refused")]
    RevokedDevice,
    /// A device's token submitted another device's proof.
    #[error("a device may only submit proofs signed with its own key")]
    DeviceMismatch,
    /// An officer signed with a key the notary never bound to that officer.
    #[error(
        "officer {0:?} signed with a key not enrolled for that officer; enrol the officer's key first"
    )]
    UnknownOfficer(String),
    /// An officer signed with a revoked key.
    #[error("officer {0:?} signed with a revoked key; its signatures are refused")]
    RevokedOfficer(String),
    /// `device_seq` does not fit the database's integers.
    #[error("device_seq out of range")]
    SequenceOutOfRange,
    /// Another proof already took this `device_seq`.
    #[error("device_seq {0} of this device was already used by another proof")]
    ReplayedSequence(i64),
    /// The manifest's link disagrees with its stored neighbours.
    #[error("{message}")]
    ChainMismatch {
        /// What disagrees.
        message: String,
        /// The member at fault (JSON pointer).
        pointer: &'static str,
    },
    /// The receipt of an accepted proof could not be produced (a bug, never an input).
    #[error("{0}")]
    Internal(String),
}

impl Refusal {
    /// The stable error code (as `notary/openapi.json` and the SDK know it).
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownDevice => "unknown_device",
            Self::RevokedDevice => "revoked_device",
            Self::DeviceMismatch => "device_mismatch",
            Self::UnknownOfficer(_) => "unknown_officer",
            Self::RevokedOfficer(_) => "revoked_officer",
            Self::SequenceOutOfRange => "invalid_proof",
            Self::ReplayedSequence(_) => "replayed_sequence",
            Self::ChainMismatch { .. } => "chain_mismatch",
            Self::Internal(_) => "internal",
        }
    }

    /// The member of the proof at fault (JSON pointer), if one is.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Self::UnknownDevice | Self::RevokedDevice | Self::DeviceMismatch => {
                Some("/signature/public_key")
            }
            Self::UnknownOfficer(_) | Self::RevokedOfficer(_) => Some("/officer_signatures"),
            Self::SequenceOutOfRange | Self::ReplayedSequence(_) => Some("/manifest/device_seq"),
            Self::ChainMismatch { pointer, .. } => Some(pointer),
            Self::Internal(_) => None,
        }
    }
}

/// Why a whole group could not be placed (nothing of it is stored).
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum SequencerError {
    /// The group's transaction failed.
    #[error(transparent)]
    Store(#[from] Arc<StoreError>),
    /// The writer task is gone (the service is stopping).
    #[error("the intake writer has stopped")]
    Stopped,
}

struct Job {
    candidates: Vec<Candidate>,
    reply: oneshot::Sender<Result<Vec<Outcome>, SequencerError>>,
}

/// The handle the HTTP workers submit candidates through.
#[derive(Debug, Clone)]
pub struct Sequencer {
    jobs: mpsc::Sender<Job>,
}

impl Sequencer {
    /// Starts the writer on the current runtime.
    pub fn start(store: Store, key: Sm2SigningKey) -> Self {
        let (jobs, rx) = mpsc::channel(1024);
        actix_web::rt::spawn(writer(rx, store, Arc::new(key)));
        Self { jobs }
    }

    /// Places `candidates` (in order) in their devices' chains; one outcome per candidate, or
    /// an error when the group could not be committed (nothing of it is stored).
    pub async fn submit(&self, candidates: Vec<Candidate>) -> Result<Vec<Outcome>, SequencerError> {
        self.enqueue(candidates).await?.outcomes().await
    }

    /// Queues `candidates` behind everything queued before them and returns at once; the
    /// caller may queue more (their order is kept) before awaiting [`Pending::outcomes`].
    pub async fn enqueue(&self, candidates: Vec<Candidate>) -> Result<Pending, SequencerError> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job { candidates, reply })
            .await
            .map_err(|_| SequencerError::Stopped)?;
        Ok(Pending { answer })
    }
}

/// Candidates queued with [`Sequencer::enqueue`], their outcomes to come.
#[derive(Debug)]
pub struct Pending {
    answer: oneshot::Receiver<Result<Vec<Outcome>, SequencerError>>,
}

impl Pending {
    /// One outcome per candidate once their group has committed, or the group's error.
    pub async fn outcomes(self) -> Result<Vec<Outcome>, SequencerError> {
        self.answer.await.map_err(|_| SequencerError::Stopped)?
    }
}

async fn writer(mut rx: mpsc::Receiver<Job>, store: Store, key: Arc<Sm2SigningKey>) {
    while let Some(first) = rx.recv().await {
        let mut jobs = vec![first];
        let mut n = jobs.iter().map(|j| j.candidates.len()).sum::<usize>();
        while n < MAX_GROUP {
            match rx.try_recv() {
                Ok(j) => {
                    n += j.candidates.len();
                    jobs.push(j);
                }
                Err(_) => break,
            }
        }
        let candidates: Vec<&Candidate> = jobs.iter().flat_map(|j| &j.candidates).collect();
        match group(&store, &key, &candidates).await {
            Ok(mut outcomes) => {
                let mut rest = outcomes.drain(..);
                for j in jobs {
                    let mine: Vec<Outcome> = rest.by_ref().take(j.candidates.len()).collect();
                    j.reply.send(Ok(mine)).ok();
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, proofs = n, "an intake group could not be stored");
                let err = SequencerError::Store(Arc::new(e));
                for j in jobs {
                    j.reply.send(Err(err.clone())).ok();
                }
            }
        }
    }
}

/// What one candidate's place in its chain turned out to be.
enum Decision {
    Refused(Refusal),
    /// Already stored (or earlier in this group): the receipt of that proof.
    Same(SameAs),
    New {
        gap: bool,
    },
}

enum SameAs {
    Stored(String),
    InGroup(usize),
}

/// The chain as this group sees it: stored rows plus the group's accepted proofs.
#[derive(Clone)]
struct Link {
    proof_sm3: String,
    manifest_sm3: String,
    previous: Option<String>,
    /// Stored receipt, or the index of the candidate in this group.
    source: Source,
}

#[derive(Clone)]
enum Source {
    Stored(String),
    InGroup(usize),
}

async fn group(
    store: &Store,
    key: &Arc<Sm2SigningKey>,
    candidates: &[&Candidate],
) -> Result<Vec<Outcome>, StoreError> {
    let mut tx = store.begin_intake().await?;

    let device_ids: BTreeSet<String> = candidates.iter().map(|c| c.device.to_hex()).collect();
    let ids: Vec<&str> = device_ids.iter().map(String::as_str).collect();
    let devices = tx.devices(&ids).await?;
    let officer_keys: BTreeSet<&str> = candidates
        .iter()
        .flat_map(|c| c.officers.iter().map(|(k, _)| k.as_str()))
        .collect();
    let officer_keys: Vec<&str> = officer_keys.into_iter().collect();
    let officers = if officer_keys.is_empty() {
        HashMap::new()
    } else {
        tx.officers(&officer_keys).await?
    };

    // The stored rows each candidate's checks need: its own sequence number and both
    // neighbours.
    let mut wanted: HashMap<&str, BTreeSet<i64>> = HashMap::new();
    for c in candidates {
        let Ok(seq) = i64::try_from(c.seq) else {
            continue;
        };
        let hex = device_ids
            .get(&c.device.to_hex())
            .map_or("", String::as_str);
        let set = wanted.entry(hex).or_default();
        set.extend([seq - 1, seq, seq.saturating_add(1)]);
    }
    let mut chain: HashMap<(String, i64), Link> = HashMap::new();
    for (device, seqs) in &wanted {
        let seqs: Vec<i64> = seqs.iter().copied().filter(|s| *s >= 1).collect();
        for row in tx.chain_rows(device, &seqs).await? {
            let ChainRow {
                device_seq: seq,
                proof_sm3,
                manifest_sm3,
                previous_manifest_sm3,
                receipt_json,
            } = row;
            chain.insert(
                ((*device).to_owned(), seq),
                Link {
                    proof_sm3,
                    manifest_sm3,
                    previous: previous_manifest_sm3,
                    source: Source::Stored(receipt_json),
                },
            );
        }
    }

    let decisions: Vec<Decision> = candidates
        .iter()
        .enumerate()
        .map(|(i, c)| match officer_refusal(c, &officers) {
            Some(r) => Decision::Refused(r),
            None => decide(i, c, &devices, &mut chain),
        })
        .collect();

    // Receipts of the new proofs, signed in parallel on both halves of the group.
    let now = Timestamp::now_utc();
    let notary = key.public_key().key_id();
    let receipts: Vec<(usize, Receipt)> = decisions
        .iter()
        .enumerate()
        .filter_map(|(i, d)| match d {
            Decision::New { gap } => candidates.get(i).map(|c| {
                (
                    i,
                    Receipt {
                        kind: RECEIPT_TYPE.to_owned(),
                        proof_sm3: c.proof_sm3,
                        manifest_sm3: c.manifest_sm3,
                        device_key_id: c.device,
                        device_seq: c.seq,
                        received_at: now,
                        notary_key_id: notary,
                        chain_gap: *gap,
                    },
                )
            }),
            _ => None,
        })
        .collect();
    let signed = sign_all(key, receipts).await?;

    let mut salts = vec![0u8; 16 * signed.len()];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut salts)
        .map_err(|_| StoreError::Randomness)?;
    let mut new_proofs = Vec::with_capacity(signed.len());
    let mut receipt_of: HashMap<usize, SignedReceipt> = HashMap::new();
    for ((i, receipt, json), salt) in signed.into_iter().zip(salts.chunks(16)) {
        let Some(c) = candidates.get(i) else { continue };
        new_proofs.push(NewProof {
            proof_sm3: c.proof_sm3.to_hex(),
            device_key_id: c.device.to_hex(),
            device_seq: i64::try_from(c.seq).unwrap_or(i64::MAX),
            manifest_sm3: c.manifest_sm3.to_hex(),
            previous_manifest_sm3: c.previous.map(|h| h.to_hex()),
            case_reference: c.case_reference.clone(),
            proof_json: c.proof_json.clone(),
            receipt_json: json,
            received_at: now.unix_ms(),
            chain_gap: receipt.receipt.chain_gap,
            media: c.media.clone(),
            salt: hex::encode(salt),
        });
        receipt_of.insert(i, receipt);
    }
    if !new_proofs.is_empty() {
        tx.insert_proofs(&new_proofs).await?;
    }
    tx.commit().await?;

    for p in &new_proofs {
        tracing::debug!(
            proof_sm3 = p.proof_sm3,
            device_seq = p.device_seq,
            device = p.device_key_id,
            chain_gap = p.chain_gap,
            "proof accepted"
        );
    }
    let mut outcomes = Vec::with_capacity(decisions.len());
    for (i, d) in decisions.into_iter().enumerate() {
        outcomes.push(match d {
            Decision::Refused(e) => Outcome::Refused(e),
            Decision::New { .. } => match receipt_of.get(&i) {
                Some(r) => Outcome::Accepted(r.clone()),
                None => Outcome::Refused(Refusal::Internal("receipt missing".into())),
            },
            Decision::Same(SameAs::InGroup(j)) => match receipt_of.get(&j) {
                Some(r) => Outcome::Resubmitted(r.clone()),
                None => Outcome::Refused(Refusal::Internal("receipt missing".into())),
            },
            Decision::Same(SameAs::Stored(json)) => match serde_json::from_str(&json) {
                Ok(r) => Outcome::Resubmitted(r),
                Err(e) => Outcome::Refused(Refusal::Internal(format!("stored receipt: {e}"))),
            },
        });
    }
    Ok(outcomes)
}

/// Why `c`'s officer signatures are refused: a key not bound to the officer who signed, or a
/// revoked one.
fn officer_refusal(
    c: &Candidate,
    officers: &HashMap<String, crate::store::OfficerStanding>,
) -> Option<Refusal> {
    c.officers
        .iter()
        .find_map(|(key, officer)| match officers.get(key) {
            Some((bound, None)) if bound == officer => None,
            Some((bound, Some(_))) if bound == officer => {
                Some(Refusal::RevokedOfficer(officer.clone()))
            }
            _ => Some(Refusal::UnknownOfficer(officer.clone())),
        })
}

/// Candidate `i`'s place in its device's chain, given the stored rows and the group's earlier
/// candidates; an accepted one joins `chain`.
fn decide(
    i: usize,
    c: &Candidate,
    devices: &HashMap<String, Option<i64>>,
    chain: &mut HashMap<(String, i64), Link>,
) -> Decision {
    let device = c.device.to_hex();
    match devices.get(&device) {
        None => {
            return Decision::Refused(Refusal::UnknownDevice);
        }
        Some(Some(_)) => {
            return Decision::Refused(Refusal::RevokedDevice);
        }
        Some(None) => {}
    }
    if c.submitter != device {
        return Decision::Refused(Refusal::DeviceMismatch);
    }
    let Ok(seq) = i64::try_from(c.seq) else {
        return Decision::Refused(Refusal::SequenceOutOfRange);
    };
    let proof_sm3 = c.proof_sm3.to_hex();
    let manifest_sm3 = c.manifest_sm3.to_hex();
    if let Some(existing) = chain.get(&(device.clone(), seq)) {
        if existing.proof_sm3 == proof_sm3 {
            return Decision::Same(match &existing.source {
                Source::Stored(json) => SameAs::Stored(json.clone()),
                Source::InGroup(j) => SameAs::InGroup(*j),
            });
        }
        return Decision::Refused(Refusal::ReplayedSequence(seq));
    }
    let claimed = c.previous.map(|h| h.to_hex());
    let mut gap = false;
    if seq == 1 {
        if claimed.is_some() {
            return Decision::Refused(Refusal::ChainMismatch {
                message: "the first manifest of a device must have previous_manifest_sm3 null"
                    .into(),
                pointer: "/manifest/previous_manifest_sm3",
            });
        }
    } else {
        match chain.get(&(device.clone(), seq - 1)) {
            Some(prev) if Some(&prev.manifest_sm3) != claimed.as_ref() => {
                return Decision::Refused(Refusal::ChainMismatch {
                    message: format!(
                        "previous_manifest_sm3 does not match the stored manifest {} of device_seq {}",
                        prev.manifest_sm3,
                        seq - 1
                    ),
                    pointer: "/manifest/previous_manifest_sm3",
                });
            }
            Some(_) => {}
            None => gap = true,
        }
    }
    if let Some(next) = chain.get(&(device.clone(), seq.saturating_add(1)))
        && next.previous.as_deref() != Some(manifest_sm3.as_str())
    {
        return Decision::Refused(Refusal::ChainMismatch {
            message: format!(
                "the stored manifest of device_seq {} links to a different predecessor",
                seq + 1
            ),
            pointer: "/manifest",
        });
    }
    chain.insert(
        (device, seq),
        Link {
            proof_sm3,
            manifest_sm3,
            previous: claimed,
            source: Source::InGroup(i),
        },
    );
    Decision::New { gap }
}

/// Signs receipts on two blocking threads at once; returns (candidate index, signed receipt,
/// its RFC 8785 text) in the order given.
async fn sign_all(
    key: &Arc<Sm2SigningKey>,
    receipts: Vec<(usize, Receipt)>,
) -> Result<Vec<(usize, SignedReceipt, String)>, StoreError> {
    fn sign_some(
        key: &Sm2SigningKey,
        receipts: Vec<(usize, Receipt)>,
    ) -> Result<Vec<(usize, SignedReceipt, String)>, String> {
        let (indices, receipts): (Vec<usize>, Vec<Receipt>) = receipts.into_iter().unzip();
        let signed = SignedReceipt::sign_many(receipts, key).map_err(|e| e.to_string())?;
        indices
            .into_iter()
            .zip(signed)
            .map(|(i, signed)| {
                let json = canonical::to_canonical_bytes(&signed)
                    .map_err(|e| e.to_string())
                    .and_then(|b| String::from_utf8(b).map_err(|e| e.to_string()))?;
                Ok((i, signed, json))
            })
            .collect()
    }
    let fail = StoreError::Signing;
    if receipts.len() < 8 {
        return sign_some(key, receipts).map_err(fail);
    }
    let mut first = receipts;
    let second = first.split_off(first.len() / 2);
    let (k1, k2) = (key.clone(), key.clone());
    let a = tokio::task::spawn_blocking(move || sign_some(&k1, first));
    let b = tokio::task::spawn_blocking(move || sign_some(&k2, second));
    let (a, b) = (a.await, b.await);
    let mut out = a.map_err(|e| fail(e.to_string()))?.map_err(fail)?;
    out.extend(b.map_err(|e| fail(e.to_string()))?.map_err(fail)?);
    Ok(out)
}
