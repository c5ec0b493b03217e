//! Layers `receipt`, `leaf`, `batch`, `anchor` and `checkpoint`: from the notary's receipt of
//! the proof, through the salted leaf of a signed batch and the ledger's anchor record, to the
//! checkpoint the consortium's members cosigned.

use crate::HashAlgorithm;
use crate::hash::Hash32;
use crate::ledger::{BATCH_HEADER_TYPE, CHECKPOINT_TYPE, Registry, is_quorum};
use crate::merkle::{MerkleHasher as _, Sm3Hasher};
use crate::notary::RECEIPT_TYPE;
use crate::sm2::Sm2PublicKey;
use crate::wire::InclusionProof;

use super::Layers;
use super::proof::Checked;
use super::report::Report;
use super::{CLOCK_TOLERANCE_MS, Facts, same};

/// The key of an active notary of the registry with key ID `id`.
fn notary(registry: Option<&Registry>, id: &Hash32) -> Result<Sm2PublicKey, String> {
    let registry = registry.ok_or("the registry at the checkpoint is unknown")?;
    match registry.notaries.get(id) {
        Some((k, true)) => Ok(k.clone()),
        Some((_, false)) => Err(format!(
            "notary {id} was removed from the registry before the checkpoint"
        )),
        None => Err(format!(
            "notary {id} is not in the registry: it is not a notary your policy trusts"
        )),
    }
}

fn inclusion(
    p: &InclusionProof,
    leaf: &Hash32,
    size: u64,
    root: &Hash32,
    of: &str,
) -> Result<String, String> {
    if p.algorithm != HashAlgorithm::Sm3 {
        return Err(format!(
            "the inclusion proof uses {}, not SM3",
            p.algorithm.name()
        ));
    }
    if p.tree_size != size {
        return Err(format!(
            "the inclusion proof is for a tree of {} leaves, {of} has {size}",
            p.tree_size
        ));
    }
    p.verify(leaf, root)
        .map(|()| format!("leaf {} of {size} leads to root {root}", p.leaf_index))
        .map_err(|e| format!("the path does not lead to {of}'s root {root}: {e}"))
}

/// What the receipt and the leaf must name: a proof that was read (a bundle), the proof SM3 a
/// public digest states, or nothing (a bundle whose proof could not be read).
#[derive(Clone, Copy)]
pub(super) enum Subject<'a, 'b> {
    /// The bundle's proof.
    Proof(&'b Checked<'a>),
    /// A public digest's `proof_sm3`.
    Digest(&'b Hash32),
    /// A bundle whose proof could not be read.
    Unread,
}

impl Subject<'_, '_> {
    fn why_no_proof(&self) -> &'static str {
        match self {
            Self::Digest(_) => "a public digest carries no proof",
            _ => "the proof could not be read",
        }
    }
}

pub(super) fn check(
    b: &Layers<'_>,
    subject: Subject<'_, '_>,
    registry: Option<&Registry>,
    r: &mut Report,
    facts: &mut Facts,
) {
    let receipt = &b.receipt.receipt;
    let header = &b.batch.header.header;
    let record = &b.anchor.record;
    let cp = &b.checkpoint.checkpoint;

    // receipt
    r.record(
        "receipt.type",
        if receipt.kind == RECEIPT_TYPE {
            Ok(format!("receipt type {RECEIPT_TYPE}"))
        } else {
            Err(format!(
                "receipt.type is {:?}, not {RECEIPT_TYPE:?}",
                receipt.kind
            ))
        },
    );
    let receipt_notary = notary(registry, &receipt.notary_key_id);
    if registry.is_none() {
        for rule in ["receipt.notary", "receipt.signature"] {
            r.skip(rule, "the registry at the checkpoint is unknown");
        }
    } else {
        r.record(
            "receipt.notary",
            receipt_notary
                .as_ref()
                .map(|_| format!("notary {}", receipt.notary_key_id))
                .map_err(|e| format!("receipt.notary_key_id: {e}")),
        );
        match &receipt_notary {
            Ok(k) => r.record(
                "receipt.signature",
                b.receipt
                    .verify(k)
                    .map(|()| format!("signed by notary {}", k.key_id()))
                    .map_err(|e| format!("the notary's signature over the receipt: {e}")),
            ),
            Err(_) => r.skip("receipt.signature", "the receipt's notary is not trusted"),
        }
    }
    let proof = match subject {
        Subject::Proof(p) => Some(p),
        _ => None,
    };
    match proof {
        Some(p) => {
            same(
                r,
                "receipt.proof_sm3",
                "receipt.proof_sm3",
                &receipt.proof_sm3,
                &p.proof_sm3,
                "the proof's SM3",
            );
            same(
                r,
                "receipt.manifest_sm3",
                "receipt.manifest_sm3",
                &receipt.manifest_sm3,
                &p.manifest_sm3,
                "the manifest's SM3",
            );
            match &p.key {
                Some(k) => same(
                    r,
                    "receipt.device_key_id",
                    "receipt.device_key_id",
                    &receipt.device_key_id,
                    &k.key_id(),
                    "the signing device key's SM3",
                ),
                None => r.skip("receipt.device_key_id", "the device key does not parse"),
            }
            same(
                r,
                "receipt.device_seq",
                "receipt.device_seq",
                &receipt.device_seq,
                &p.proof.manifest.device_seq,
                "the manifest's device_seq",
            );
        }
        None => {
            if let Subject::Digest(proof_sm3) = subject {
                same(
                    r,
                    "receipt.proof_sm3",
                    "receipt.proof_sm3",
                    &receipt.proof_sm3,
                    proof_sm3,
                    "the digest's proof_sm3",
                );
            } else {
                r.skip("receipt.proof_sm3", subject.why_no_proof());
            }
            for rule in [
                "receipt.manifest_sm3",
                "receipt.device_key_id",
                "receipt.device_seq",
            ] {
                r.skip(rule, subject.why_no_proof());
            }
        }
    }
    r.record(
        "receipt.chain_gap",
        if receipt.device_seq == 1 && receipt.chain_gap {
            Err("the receipt for device_seq 1 reports a chain gap: nothing can precede the first manifest".into())
        } else {
            Ok(format!("chain_gap {}", receipt.chain_gap))
        },
    );
    let t = receipt.received_at.unix_ms();
    if header.window_start.unix_ms() > header.window_end.unix_ms() {
        r.skip(
            "receipt.time",
            "the batch window is malformed (batch.window)",
        );
    } else {
        r.record(
            "receipt.time",
            if header.window_start.unix_ms() <= t && t <= header.window_end.unix_ms() {
                Ok(format!(
                    "received {} within the batch window",
                    receipt.received_at
                ))
            } else {
                Err(format!(
                    "received_at {} is outside the batch window {} – {}",
                    receipt.received_at, header.window_start, header.window_end
                ))
            },
        );
    }

    // leaf
    let salt = &b.batch.leaf.salt;
    r.record(
        "leaf.salt",
        if salt.len() == 32
            && salt
                .bytes()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
        {
            Ok("32 lowercase hex digits".into())
        } else {
            Err(format!("leaf.salt {salt:?} is not 32 lowercase hex digits"))
        },
    );
    match proof {
        Some(p) => same(
            r,
            "leaf.proof_sm3",
            "leaf.proof_sm3",
            &b.batch.leaf.proof_sm3,
            &p.proof_sm3,
            "the proof's SM3",
        ),
        None => match subject {
            Subject::Digest(proof_sm3) => same(
                r,
                "leaf.proof_sm3",
                "leaf.proof_sm3",
                &b.batch.leaf.proof_sm3,
                proof_sm3,
                "the digest's proof_sm3",
            ),
            _ => r.skip("leaf.proof_sm3", subject.why_no_proof()),
        },
    }
    let leaf_hash = Sm3Hasher::leaf(&b.batch.leaf.data());
    r.record(
        "leaf.inclusion",
        inclusion(
            &b.batch.inclusion,
            &leaf_hash,
            header.leaf_count,
            &header.root,
            "the batch",
        ),
    );

    // batch
    r.record(
        "batch.type",
        if header.kind == BATCH_HEADER_TYPE {
            Ok(format!("header type {BATCH_HEADER_TYPE}"))
        } else {
            Err(format!(
                "header.type is {:?}, not {BATCH_HEADER_TYPE:?}",
                header.kind
            ))
        },
    );
    let batch_notary = notary(registry, &header.notary_key_id);
    if registry.is_none() {
        for rule in ["batch.notary", "batch.signature"] {
            r.skip(rule, "the registry at the checkpoint is unknown");
        }
    } else {
        r.record(
            "batch.notary",
            match &batch_notary {
                Err(e) => Err(format!("header.notary_key_id: {e}")),
                Ok(_) if receipt_notary.is_ok() && receipt.notary_key_id != header.notary_key_id => Err(format!(
                    "the batch is by notary {}, the receipt by notary {}: the notary that receipts a proof batches it",
                    header.notary_key_id, receipt.notary_key_id
                )),
                Ok(k) => Ok(format!("notary {}", k.key_id())),
            },
        );
        match &batch_notary {
            Ok(k) => r.record(
                "batch.signature",
                b.batch
                    .header
                    .verify(k)
                    .map(|()| format!("signed by notary {}", k.key_id()))
                    .map_err(|e| format!("the notary's signature over the batch header: {e}")),
            ),
            Err(_) => r.skip("batch.signature", "the batch's notary is not trusted"),
        }
    }
    r.record(
        "batch.sequence",
        match (header.batch_seq, &header.previous_header_sm3) {
            (0, _) => Err("batch_seq 0: batches are numbered from 1".into()),
            (1, None) => Ok("the notary's first batch".into()),
            (1, Some(_)) => {
                Err("batch_seq 1 (the notary's first batch) links to a previous header".into())
            }
            (n, None) => Err(format!(
                "batch_seq {n} has no previous_header_sm3: only the first batch may have none"
            )),
            (n, Some(h)) => Ok(format!("batch {n} follows header {h}")),
        },
    );
    r.record(
        "batch.window",
        if header.window_start.unix_ms() <= header.window_end.unix_ms() {
            Ok(format!(
                "window {} – {}",
                header.window_start, header.window_end
            ))
        } else {
            Err(format!(
                "the window ends ({}) before it starts ({})",
                header.window_end, header.window_start
            ))
        },
    );

    // anchor
    match header.sm3() {
        Ok(h) => same(
            r,
            "anchor.batch_header_sm3",
            "record.batch_header_sm3",
            &record.batch_header_sm3,
            &h,
            "the SM3 of the unsigned batch header",
        ),
        Err(e) => r.record("anchor.batch_header_sm3", Err(e.to_string())),
    }
    same(
        r,
        "anchor.notary_key_id",
        "record.notary_key_id",
        &record.notary_key_id,
        &header.notary_key_id,
        "the batch header's",
    );
    same(
        r,
        "anchor.batch_seq",
        "record.batch_seq",
        &record.batch_seq,
        &header.batch_seq,
        "the batch header's",
    );
    same(
        r,
        "anchor.root",
        "record.root",
        &record.root,
        &header.root,
        "the batch header's root",
    );
    same(
        r,
        "anchor.leaf_count",
        "record.leaf_count",
        &record.leaf_count,
        &header.leaf_count,
        "the batch header's",
    );
    match record.leaf_bytes() {
        Ok(bytes) => r.record(
            "anchor.inclusion",
            inclusion(
                &b.anchor.inclusion,
                &Sm3Hasher::leaf(&bytes),
                cp.anchor_log_size,
                &cp.anchor_log_root,
                "the checkpoint's anchor log",
            ),
        ),
        Err(e) => r.record("anchor.inclusion", Err(e.to_string())),
    }
    r.record(
        "anchor.height",
        if record.height <= cp.height {
            Ok(format!(
                "anchored at height {}, checkpoint at {}",
                record.height, cp.height
            ))
        } else {
            Err(format!(
                "the record is at height {}, after the checkpoint's height {}",
                record.height, cp.height
            ))
        },
    );
    let anchored = record.time.unix_ms();
    r.record(
        "anchor.time",
        if header.window_end.unix_ms() > anchored.saturating_add(CLOCK_TOLERANCE_MS) {
            Err(format!(
                "the batch window ends at {}, more than 60 s after it was anchored ({})",
                header.window_end, record.time
            ))
        } else if anchored > cp.time.unix_ms() {
            Err(format!(
                "the record's time {} is after the checkpoint's time {}",
                record.time, cp.time
            ))
        } else {
            Ok(format!("anchored at {}", record.time))
        },
    );

    // checkpoint
    r.record(
        "checkpoint.type",
        if cp.kind == CHECKPOINT_TYPE {
            Ok(format!("checkpoint type {CHECKPOINT_TYPE}"))
        } else {
            Err(format!(
                "checkpoint.type is {:?}, not {CHECKPOINT_TYPE:?}",
                cp.kind
            ))
        },
    );
    match registry {
        Some(reg) => {
            same(
                r,
                "checkpoint.chain_id",
                "the checkpoint's chain_id",
                &cp.chain_id,
                &reg.chain_id,
                "your policy's",
            );
            cosignatures(b, reg, r, facts);
        }
        None => {
            for rule in [
                "checkpoint.chain_id",
                "checkpoint.cosigners",
                "checkpoint.cosignatures",
                "checkpoint.quorum",
            ] {
                r.skip(rule, "the registry at the checkpoint is unknown");
            }
        }
    }
    facts.batch_seq = Some(header.batch_seq);
    facts.anchor_height = Some(record.height);
    facts.checkpoint_height = Some(cp.height);
}

fn cosignatures(b: &Layers<'_>, reg: &Registry, r: &mut Report, facts: &mut Facts) {
    let cp = &b.checkpoint;
    let value = match serde_json::to_value(&cp.checkpoint) {
        Ok(v) => v,
        Err(e) => {
            r.record("checkpoint.cosignatures", Err(e.to_string()));
            return;
        }
    };
    let mut seen: Vec<&str> = Vec::new();
    let mut power = 0u64;
    r.record(
        "checkpoint.cosigners",
        Ok(format!(
            "{} cosigner(s), each a member, once",
            cp.cosignatures.len()
        )),
    );
    r.record(
        "checkpoint.cosignatures",
        Ok("every cosignature verifies".into()),
    );
    for (i, c) in cp.cosignatures.iter().enumerate() {
        let Some((_, key, p)) = reg.members.iter().find(|(m, _, _)| *m == c.member) else {
            r.record(
                "checkpoint.cosigners",
                Err(format!(
                    "cosignature {i} is by {:?}, who is not a member of the registry",
                    c.member
                )),
            );
            continue;
        };
        if seen.contains(&c.member.as_str()) {
            r.record(
                "checkpoint.cosigners",
                Err(format!(
                    "cosignature {i}: member {:?} cosigns twice",
                    c.member
                )),
            );
            continue;
        }
        seen.push(&c.member);
        match c.signature.verify_value_by(&value, key) {
            Ok(()) => {
                power = power.saturating_add(*p);
                facts.cosigners.push(c.member.clone());
            }
            Err(e) => r.record(
                "checkpoint.cosignatures",
                Err(format!(
                    "cosignature {i} by {:?} does not verify: {e}",
                    c.member
                )),
            ),
        }
    }
    let total = reg.total_power();
    r.record(
        "checkpoint.quorum",
        if is_quorum(power, total) {
            Ok(format!("members with power {power} of {total} cosigned"))
        } else {
            Err(format!(
                "the valid cosignatures hold power {power} of {total}: more than two thirds is required"
            ))
        },
    );
}
