//! Layer `custody`: the proof's custody events a bundle carries, each in the custody log's
//! SM3 tree at its place, the tree committed by a notary-signed batch header that the ledger
//! anchored at or before the bundle's checkpoint; and the proof's own chain of events, so that
//! none between the first and the last shown is missing (`VERIFYING.md` §4.12).

use crate::HashAlgorithm;
use crate::bundle::BundleCustody;
use crate::custody::{CustodyKind, leaf_hash};
use crate::hash::Hash32;
use crate::ledger::{BATCH_HEADER_TYPE, CosignedCheckpoint, Registry};
use crate::merkle::{MerkleHasher as _, Sm3Hasher};
use crate::sm2::Sm2PublicKey;

use super::report::{RULES, Report};

/// The rules of the layer, for skipping them together.
fn rules() -> impl Iterator<Item = &'static str> {
    RULES
        .iter()
        .filter(|r| r.layer() == "custody")
        .map(|r| r.id)
}

/// Skips every custody rule, saying why.
pub(super) fn skip(r: &mut Report, why: &str) {
    for rule in rules() {
        r.skip(rule, why);
    }
}

/// Checks the custody layer `c` of the bundle of `proof_sm3`, receipted by `notary_id`, at the
/// checkpoint `cp` whose registry is `registry` (when known).
pub(super) fn check(
    c: Option<&BundleCustody>,
    proof_sm3: &Hash32,
    notary_id: &Hash32,
    registry: Option<&Registry>,
    cp: &CosignedCheckpoint,
    r: &mut Report,
) {
    let Some(c) = c else {
        skip(r, "the bundle carries no custody events");
        return;
    };
    r.record("custody.events", events(c, proof_sm3));
    r.record("custody.chain", chain(c));
    let commitment = c.anchor.header.header.custody;
    r.record(
        "custody.inclusion",
        match commitment {
            None => Err("the custody anchor's header commits no custody log".into()),
            Some(cm) => inclusions(c, &cm.root, cm.size),
        },
    );
    match registry.map(|reg| (reg, reg.notaries.get(notary_id))) {
        None => r.skip(
            "custody.anchor",
            "the registry at the checkpoint is unknown",
        ),
        Some((_, None | Some((_, false)))) => {
            r.skip("custody.anchor", "the receipt's notary is not trusted");
        }
        Some((_, Some((key, true)))) => r.record("custody.anchor", anchor(c, notary_id, key, cp)),
    }
}

fn events(c: &BundleCustody, proof_sm3: &Hash32) -> Result<String, String> {
    let first = c
        .events
        .first()
        .ok_or("the custody layer lists no event: leave it out instead")?;
    let proof = proof_sm3.to_hex();
    for e in &c.events {
        if e.compute_hash() != e.hash {
            return Err(format!(
                "event {} was changed after it was logged: its hash does not recompute",
                e.seq
            ));
        }
        if e.proof_sm3 != proof {
            return Err(format!(
                "event {} is of proof {}, not of this bundle's proof {proof}",
                e.seq, e.proof_sm3
            ));
        }
        if e.kind().is_none() {
            return Err(format!(
                "event {} is of an unknown kind {:?}",
                e.seq, e.event
            ));
        }
    }
    if first.kind() != Some(CustodyKind::Received) {
        return Err(format!(
            "the first event is {:?}: every proof's custody starts with its receipt (received)",
            first.event
        ));
    }
    Ok(format!(
        "{} event(s) of this proof, hashes recompute",
        c.events.len()
    ))
}

fn chain(c: &BundleCustody) -> Result<String, String> {
    let zeros = "0".repeat(64);
    let mut before: Option<&crate::custody::CustodyEvent> = None;
    for e in &c.events {
        let Some(item_prev) = &e.item_prev else {
            return Err(format!(
                "event {} names no previous event of its proof (item_prev)",
                e.seq
            ));
        };
        match before {
            None if *item_prev != zeros => {
                return Err(format!(
                    "event {} is the first shown but names a previous event of the proof: an earlier event is missing",
                    e.seq
                ));
            }
            Some(b) if e.seq <= b.seq => {
                return Err(format!(
                    "event {} comes after event {}: sequence numbers must increase",
                    e.seq, b.seq
                ));
            }
            Some(b) if *item_prev != b.hash => {
                return Err(format!(
                    "event {} does not follow event {} of the proof: an event between them is missing or out of order",
                    e.seq, b.seq
                ));
            }
            _ => {}
        }
        before = Some(e);
    }
    Ok("each event follows the one before it; none missing".into())
}

fn inclusions(c: &BundleCustody, root: &Hash32, size: u64) -> Result<String, String> {
    if c.inclusions.len() != c.events.len() {
        return Err(format!(
            "{} inclusion proof(s) for {} event(s): one per event",
            c.inclusions.len(),
            c.events.len()
        ));
    }
    for (e, p) in c.events.iter().zip(&c.inclusions) {
        if p.algorithm != HashAlgorithm::Sm3 {
            return Err(format!(
                "event {}: the inclusion proof uses {}, not SM3",
                e.seq,
                p.algorithm.name()
            ));
        }
        let index = u64::try_from(e.seq).ok().and_then(|s| s.checked_sub(1));
        if index != Some(p.leaf_index) || p.tree_size != size {
            return Err(format!(
                "event {}: the proof is for leaf {} of {}, not leaf {} of the {size} committed",
                e.seq,
                p.leaf_index,
                p.tree_size,
                e.seq.saturating_sub(1)
            ));
        }
        let hash =
            Hash32::from_hex(&e.hash).map_err(|err| format!("event {}: hash: {err}", e.seq))?;
        p.verify(&leaf_hash(&hash), root).map_err(|err| {
            format!(
                "event {} is not in the committed custody log (root {root}): {err}",
                e.seq
            )
        })?;
    }
    Ok(format!(
        "{} event(s) in the custody log of {size} committed",
        c.events.len()
    ))
}

fn anchor(
    c: &BundleCustody,
    notary_id: &Hash32,
    key: &Sm2PublicKey,
    cp: &CosignedCheckpoint,
) -> Result<String, String> {
    let a = &c.anchor;
    let h = &a.header.header;
    if h.kind != BATCH_HEADER_TYPE {
        return Err(format!(
            "header.type is {:?}, not {BATCH_HEADER_TYPE:?}",
            h.kind
        ));
    }
    let Some(commitment) = h.custody else {
        return Err("the header commits no custody log".into());
    };
    if h.notary_key_id != *notary_id {
        return Err(format!(
            "the custody log is committed by notary {}, the proof was receipted by notary {notary_id}",
            h.notary_key_id
        ));
    }
    a.header
        .verify(key)
        .map_err(|e| format!("the notary's signature over the custody header: {e}"))?;
    let rec = &a.record;
    let header_sm3 = h.sm3().map_err(|e| e.to_string())?;
    if rec.batch_header_sm3 != header_sm3
        || rec.notary_key_id != h.notary_key_id
        || rec.batch_seq != h.batch_seq
        || rec.root != h.root
        || rec.leaf_count != h.leaf_count
    {
        return Err(format!(
            "the anchor record is not the record of batch {} (header SM3 {header_sm3})",
            h.batch_seq
        ));
    }
    let p = &a.inclusion;
    let log = &cp.checkpoint;
    if p.algorithm != HashAlgorithm::Sm3 || p.tree_size != log.anchor_log_size {
        return Err(format!(
            "the record's inclusion proof is not an SM3 proof for the anchor log of {} at the checkpoint",
            log.anchor_log_size
        ));
    }
    let bytes = rec.leaf_bytes().map_err(|e| e.to_string())?;
    p.verify(&Sm3Hasher::leaf(&bytes), &log.anchor_log_root)
        .map_err(|e| {
            format!(
                "the custody commitment of batch {} is not anchored at the checkpoint: {e}",
                h.batch_seq
            )
        })?;
    if rec.height > log.height {
        return Err(format!(
            "the record's height {} is above the checkpoint's {}",
            rec.height, log.height
        ));
    }
    Ok(format!(
        "custody log of {} event(s) committed by batch {}, anchored at height {}",
        commitment.size, h.batch_seq, rec.height
    ))
}
