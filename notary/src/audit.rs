//! The audit (`tiezheng audit`): re-checks everything the notary stores against everything
//! else and against the ledger, and names exactly what was altered. Each stored proof against
//! its own signature, SM3 and columns, and its device; each receipt against the notary's key
//! and its proof; each media declaration against its manifest; each stored media file against
//! its SM3, SHA-256 and size; the custody log event by event; each batch against its signed
//! header, its leaves and the previous header; each anchored proof as an offline bundle checked
//! by the protocol's verifier against the ledger.
//!
//! Run it on a stopped notary or on a copy of its data directory and database: it opens the
//! embedded ledger as the notary does.

use std::collections::HashSet;

use serde::Serialize;
use serde_json::Value;
use tiezheng_protocol::ledger::SignedBatchHeader;
use tiezheng_protocol::merkle::{MerkleTree, Sm3Hasher};
use tiezheng_protocol::notary::SignedReceipt;
use tiezheng_protocol::{Hash32, HashAlgorithm, Proof, canonical};

use crate::NotaryConfig;
use crate::anchoring::Anchoring;
use crate::media::MediaStore;
use crate::store::{AuditProof, LeafRow, Store, StoredBatch};

/// One thing that does not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// What was checked: `proof`, `receipt`, `declaration`, `media`, `custody`, `batch` or
    /// `anchor`.
    pub layer: &'static str,
    /// Which one: the proof's or media file's SM3, the custody event's or batch's sequence.
    pub item: String,
    /// What does not hold, for people.
    pub problem: String,
}

/// What the audit looked at and what it found.
#[derive(Debug, Default, Clone, Serialize)]
pub struct AuditReport {
    /// Proofs (and their receipts and declarations) checked.
    pub proofs: usize,
    /// Stored media files re-hashed.
    pub media_files: usize,
    /// Custody events checked.
    pub custody_events: usize,
    /// Batches checked.
    pub batches: usize,
    /// Anchored proofs whose offline bundle verified against the ledger.
    pub bundles_verified: usize,
    /// Everything that does not hold; empty when nothing was altered.
    pub findings: Vec<Finding>,
}

/// Why the audit could not run at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// No notary key where the configuration says.
    #[error(
        "no notary key at {0}: point --data-dir (or TIEZHENG_NOTARY_KEY_FILE) at the notary's data"
    )]
    NoKey(String),
    /// The key file failed.
    #[error(transparent)]
    Key(#[from] crate::keys::KeyError),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// The media store or the ledger could not be opened.
    #[error("{0}")]
    Open(String),
}

impl AuditReport {
    fn found(&mut self, layer: &'static str, item: impl Into<String>, problem: impl Into<String>) {
        self.findings.push(Finding {
            layer,
            item: item.into(),
            problem: problem.into(),
        });
    }
}

/// Audits the notary that `config` describes.
pub async fn audit(config: &NotaryConfig) -> Result<AuditReport, AuditError> {
    let key_file = config.key_file();
    if !key_file.is_file() {
        return Err(AuditError::NoKey(key_file.display().to_string()));
    }
    let key = crate::keys::load_or_create(&key_file)?;
    let store = Store::connect(&config.database_url()).await?;
    let media = config
        .open_media()
        .map_err(|e| AuditError::Open(format!("media store: {e}")))?;
    let mut report = AuditReport::default();

    let proofs = store.audit_proofs().await?;
    for p in &proofs {
        check_proof(&store, &key, p, &mut report).await?;
    }
    report.proofs = proofs.len();
    check_custody(&store, &proofs, &mut report).await?;
    check_media(&store, &media, &mut report).await?;
    check_batches(&store, &key, &mut report).await?;
    check_anchors(config, &store, &key, &proofs, &mut report).await?;
    Ok(report)
}

async fn check_proof(
    store: &Store,
    key: &tiezheng_protocol::Sm2SigningKey,
    p: &AuditProof,
    report: &mut AuditReport,
) -> Result<(), AuditError> {
    let sm3 = p.row.proof_sm3.clone();
    let value: Value = match serde_json::from_str(&p.row.proof_json) {
        Ok(v) => v,
        Err(e) => {
            report.found("proof", &sm3, format!("the stored proof is not JSON: {e}"));
            return Ok(());
        }
    };
    match canonical::canonicalize(&value).map(|b| Hash32::sm3(&b).to_hex()) {
        Ok(h) if h == sm3 => {}
        Ok(h) => report.found(
            "proof",
            &sm3,
            format!("the stored proof's bytes hash to {h}, not to its proof_sm3: the proof row was altered"),
        ),
        Err(e) => report.found("proof", &sm3, format!("the stored proof is not canonical: {e}")),
    }
    match Proof::verify_value(&value) {
        Err(e) => report.found(
            "proof",
            &sm3,
            format!("the device's signature over the stored manifest no longer holds: {e}"),
        ),
        Ok(v) => {
            let m = &v.proof.manifest;
            let mut column = |name: &str, stored: &str, manifest: &str| {
                if stored != manifest {
                    report.found(
                        "proof",
                        &sm3,
                        format!("column {name} is {stored:?} but the signed manifest says {manifest:?}: the proof row was altered"),
                    );
                }
            };
            column("device_key_id", &p.device_key_id, &v.key.key_id().to_hex());
            column(
                "device_seq",
                &p.device_seq.to_string(),
                &m.device_seq.to_string(),
            );
            column(
                "manifest_sm3",
                &p.row.manifest_sm3,
                &v.manifest_sm3.to_hex(),
            );
            column(
                "previous_manifest_sm3",
                p.row.previous_manifest_sm3.as_deref().unwrap_or("null"),
                &m.previous_manifest_sm3
                    .map_or_else(|| "null".to_owned(), |h| h.to_hex()),
            );
            column("case_reference", &p.row.case_reference, &m.case.reference);
            match store.device(&p.device_key_id).await? {
                None => report.found(
                    "proof",
                    &sm3,
                    "signed by a device that is not enrolled here: the devices table was altered",
                ),
                Some(d) if d.public_key != v.key.to_hex() => report.found(
                    "proof",
                    &sm3,
                    "the enrolled device's public key is not the key that signed: the devices table was altered",
                ),
                Some(_) => {}
            }
            check_declarations(store, &sm3, m, report).await?;
        }
    }
    match serde_json::from_str::<SignedReceipt>(&p.row.receipt_json) {
        Err(e) => report.found(
            "receipt",
            &sm3,
            format!("the stored receipt is unreadable: {e}"),
        ),
        Ok(r) => {
            if let Err(e) = r.verify(key.public_key()) {
                report.found(
                    "receipt",
                    &sm3,
                    format!("the notary's signature on the stored receipt does not verify ({e}): the receipt was altered"),
                );
            }
            let rc = &r.receipt;
            if rc.proof_sm3.to_hex() != sm3
                || rc.manifest_sm3.to_hex() != p.row.manifest_sm3
                || rc.device_key_id.to_hex() != p.device_key_id
                || i64::try_from(rc.device_seq).ok() != Some(p.device_seq)
            {
                report.found(
                    "receipt",
                    &sm3,
                    "the receipt names another proof, manifest, device or sequence than the row it is stored with",
                );
            }
        }
    }
    Ok(())
}

async fn check_declarations(
    store: &Store,
    sm3: &str,
    m: &tiezheng_protocol::Manifest,
    report: &mut AuditReport,
) -> Result<(), AuditError> {
    let declared = store.proof_media(sm3).await?;
    if declared.len() != m.items.len() {
        report.found(
            "declaration",
            sm3,
            format!(
                "{} media declarations are stored for a manifest of {} items",
                declared.len(),
                m.items.len()
            ),
        );
    }
    for (i, (d, item)) in declared.iter().zip(&m.items).enumerate() {
        let hash = |alg| {
            item.hashes
                .iter()
                .find(|h| h.algorithm == alg)
                .map(|h| h.value.to_hex())
        };
        let same = Some(&d.sm3) == hash(HashAlgorithm::Sm3).as_ref()
            && d.sha256
                .as_ref()
                .is_none_or(|s| Some(s) == hash(HashAlgorithm::Sha256).as_ref())
            && d.bytes
                .is_none_or(|b| u64::try_from(b).ok() == Some(item.bytes))
            && d.file_name == item.file_name;
        if !same {
            report.found(
                "declaration",
                sm3,
                format!("the stored declaration of item {i} differs from the signed manifest's"),
            );
        }
    }
    Ok(())
}

async fn check_custody(
    store: &Store,
    proofs: &[AuditProof],
    report: &mut AuditReport,
) -> Result<(), AuditError> {
    let log = store.custody_log().await?;
    let mut prev_hash = "0".repeat(64);
    let mut expected_seq = 1;
    for e in &log {
        let seq = e.seq.to_string();
        if e.seq != expected_seq {
            report.found(
                "custody",
                &seq,
                format!("event {} is missing before this one", expected_seq),
            );
        }
        if e.hash != e.compute_hash() {
            report.found(
                "custody",
                &seq,
                "the event's content does not match its hash: the event was changed",
            );
        }
        if e.prev_hash != prev_hash {
            report.found(
                "custody",
                &seq,
                "the event does not link to the previous event's hash: the chain was broken here",
            );
        }
        prev_hash.clone_from(&e.hash);
        expected_seq = e.seq + 1;
    }
    report.custody_events = log.len();
    check_item_chains(&log, report);
    check_commitments(store, &log, report).await?;
    let received: HashSet<&str> = log
        .iter()
        .filter(|e| e.kind() == Some(tiezheng_protocol::custody::CustodyKind::Received))
        .map(|e| e.proof_sm3.as_str())
        .collect();
    for p in proofs {
        if !received.contains(p.row.proof_sm3.as_str()) {
            report.found(
                "custody",
                &p.row.proof_sm3,
                "the proof has no `received` custody event",
            );
        }
    }
    Ok(())
}

/// Each event that names the previous event of its proof names the right one.
fn check_item_chains(log: &[crate::store::CustodyEvent], report: &mut AuditReport) {
    let zeros = "0".repeat(64);
    let mut heads: std::collections::HashMap<&str, &str> = std::collections::HashMap::new();
    for e in log {
        let expected = heads.get(e.proof_sm3.as_str()).copied().unwrap_or(&zeros);
        if let Some(item_prev) = &e.item_prev
            && item_prev != expected
        {
            report.found(
                "custody",
                e.seq.to_string(),
                "the event does not name the previous event of its proof: an event of this proof was removed, reordered or inserted",
            );
        }
        heads.insert(&e.proof_sm3, &e.hash);
    }
}

/// The custody log against every commitment a batch header made of it: the log's first
/// `size` events must still give the committed root (an anchored header is on the ledger;
/// a row changed since no longer matches it).
async fn check_commitments(
    store: &Store,
    log: &[crate::store::CustodyEvent],
    report: &mut AuditReport,
) -> Result<(), AuditError> {
    let mut committed: std::collections::BTreeMap<u64, Vec<(i64, Hash32)>> =
        std::collections::BTreeMap::new();
    for b in store.audit_batches().await? {
        if let Ok(h) = serde_json::from_str::<SignedBatchHeader>(&b.header_json)
            && let Some(c) = h.header.custody
        {
            committed
                .entry(c.size)
                .or_default()
                .push((b.batch_seq, c.root));
        }
    }
    let mut frontier = tiezheng_protocol::frontier::Frontier::<Sm3Hasher>::default();
    for e in log {
        let leaf = Hash32::from_hex(&e.hash).unwrap_or(Hash32([0; 32]));
        frontier.push(tiezheng_protocol::custody::leaf_hash(&leaf));
        for (batch, root) in committed.remove(&frontier.size()).unwrap_or_default() {
            if frontier.root() != root {
                report.found(
                    "custody",
                    format!("1-{}", frontier.size()),
                    format!(
                        "the first {} custody events no longer give the root batch {batch} committed: an event up to {} was changed, removed or inserted after it was committed",
                        frontier.size(),
                        e.seq
                    ),
                );
            }
        }
    }
    for (size, batches) in committed {
        for (batch, _) in batches {
            report.found(
                "custody",
                format!("1-{size}"),
                format!(
                    "batch {batch} committed {size} custody events, the log holds {}: committed events were removed",
                    log.len()
                ),
            );
        }
    }
    Ok(())
}

async fn check_media(
    store: &Store,
    media: &MediaStore,
    report: &mut AuditReport,
) -> Result<(), AuditError> {
    for m in store
        .audit_media()
        .await?
        .into_iter()
        .filter(|m| m.complete)
    {
        report.media_files += 1;
        match media.digests(&m.sm3).await {
            Ok(None) => report.found("media", &m.sm3, "the stored file is missing"),
            Err(e) => report.found(
                "media",
                &m.sm3,
                format!("the stored file cannot be read: {e}"),
            ),
            Ok(Some(d)) => {
                if d.sm3.to_hex() != m.sm3 {
                    report.found(
                        "media",
                        &m.sm3,
                        format!(
                            "the stored file's bytes changed: their SM3 is now {}",
                            d.sm3.to_hex()
                        ),
                    );
                } else if d.sha256.to_hex() != m.sha256
                    || i64::try_from(d.bytes).ok() != Some(m.bytes)
                {
                    report.found(
                        "media",
                        &m.sm3,
                        "the media row's SHA-256 or size differs from the stored file's: the row was altered",
                    );
                }
            }
        }
    }
    Ok(())
}

async fn check_batches(
    store: &Store,
    key: &tiezheng_protocol::Sm2SigningKey,
    report: &mut AuditReport,
) -> Result<(), AuditError> {
    let mut previous: Option<String> = None;
    let batches = store.audit_batches().await?;
    report.batches = batches.len();
    for b in batches {
        let seq = b.batch_seq;
        let item = seq.to_string();
        let header: SignedBatchHeader = match serde_json::from_str(&b.header_json) {
            Ok(h) => h,
            Err(e) => {
                report.found(
                    "batch",
                    &item,
                    format!("the stored header is unreadable: {e}"),
                );
                continue;
            }
        };
        if let Err(e) = header.verify(key.public_key()) {
            report.found(
                "batch",
                &item,
                format!("the notary's signature on the batch header does not verify ({e})"),
            );
        }
        let h = &header.header;
        if header.header.sm3().map(|s| s.to_hex()).ok().as_deref() != Some(b.header_sm3.as_str())
            || h.root.to_hex() != b.root
            || i64::try_from(h.batch_seq).ok() != Some(seq)
            || i64::try_from(h.leaf_count).ok() != Some(b.leaf_count)
        {
            report.found(
                "batch",
                &item,
                "the batch row's columns differ from its signed header",
            );
        }
        if h.previous_header_sm3.map(|p| p.to_hex()) != previous {
            report.found(
                "batch",
                &item,
                "the header does not link to the previous batch's header",
            );
        }
        previous = Some(b.header_sm3.clone());
        if let Some(StoredBatch { leaves, .. }) = store.batch(seq).await? {
            let mut data: Vec<Vec<u8>> = leaves
                .iter()
                .filter_map(|leaf| {
                    Some(
                        tiezheng_protocol::bundle::BatchLeaf {
                            proof_sm3: Hash32::from_hex(&leaf.proof_sm3).ok()?,
                            salt: leaf.salt.clone(),
                        }
                        .data(),
                    )
                })
                .collect();
            let parsed = data.len() == leaves.len();
            // A batch of no proof has one leaf: its custody commitment.
            if leaves.is_empty()
                && let Some(c) = &h.custody
            {
                data.push(c.leaf_data());
            }
            let tree = MerkleTree::<Sm3Hasher>::from_leaves(data.iter().map(Vec::as_slice));
            if !parsed || tree.root() != h.root {
                report.found(
                    "batch",
                    &item,
                    "the stored leaves (proofs and salts) no longer make the signed root: a leaf was altered",
                );
            }
        }
    }
    Ok(())
}

async fn check_anchors(
    config: &NotaryConfig,
    store: &Store,
    key: &tiezheng_protocol::Sm2SigningKey,
    proofs: &[AuditProof],
    report: &mut AuditReport,
) -> Result<(), AuditError> {
    let anchored: Vec<(i64, i64)> = store
        .audit_batches()
        .await?
        .into_iter()
        .filter_map(|b| b.anchored_height.map(|h| (b.batch_seq, h)))
        .collect();
    if anchored.is_empty() {
        return Ok(());
    }
    let anchoring = match &config.ledger.cometbft_rpc {
        Some(rpc) => Anchoring::cometbft(rpc).map_err(|e| AuditError::Open(e.to_string()))?,
        None => {
            let member = crate::keys::load_or_create(&config.data_dir.join("member-key.json"))?;
            Anchoring::open(&config.data_dir.join("chain"), key, member)
                .map_err(|e| AuditError::Open(format!("embedded ledger: {e}")))?
        }
    };
    for (seq, height) in anchored {
        let Some(StoredBatch { leaves, .. }) = store.batch(seq).await? else {
            continue;
        };
        for LeafRow { proof_sm3, .. } in leaves {
            let Some(p) = proofs.iter().find(|p| p.row.proof_sm3 == proof_sm3) else {
                report.found(
                    "anchor",
                    &proof_sm3,
                    format!("batch {seq} has a leaf for a proof that is not stored"),
                );
                continue;
            };
            match anchoring
                .bundle(store, &proof_sm3, &p.row.proof_json, &p.row.receipt_json)
                .await
            {
                Err(e) => report.found("anchor", &proof_sm3, format!("no bundle: {e}")),
                Ok(None) => report.found(
                    "anchor",
                    &proof_sm3,
                    format!("batch {seq} is recorded as anchored at height {height}, but the ledger holds no anchor for its root"),
                ),
                Ok(Some(bundle)) => {
                    // The genesis policy, as a court pins it (read once the bundle was built:
                    // the node has answered by then).
                    let policy = match anchoring.genesis_policy().await {
                        Ok(p) => p,
                        Err(e) => {
                            report.found("anchor", &proof_sm3, format!("no genesis policy to verify with: {e}"));
                            continue;
                        }
                    };
                    let verdict = tiezheng_protocol::verify::verify_bundle(&bundle, None, &policy)
                        .map_err(tiezheng_protocol::bundle::BundleError::from)
                        .and_then(|v| v.summary());
                    match verdict {
                        Ok(r) if i64::try_from(r.anchor_height).ok() == Some(height) => {
                            report.bundles_verified += 1;
                        }
                        Ok(r) => report.found(
                            "anchor",
                            &proof_sm3,
                            format!("batch {seq} is recorded at height {height}, the ledger anchors it at {}", r.anchor_height),
                        ),
                        Err(e) => report.found(
                            "anchor",
                            &proof_sm3,
                            format!("its offline bundle fails at the {} layer: {}", e.layer, e.reason),
                        ),
                    }
                }
            }
        }
    }
    Ok(())
}
