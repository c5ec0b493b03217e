//! Layers `proof` and `media`: the device's signed manifest, its internal structure
//! (identifiers, digests, device chain link, recording segments, session summary), and the
//! evidence file matched to one of its items.

use crate::algorithm::HashAlgorithm;
use crate::bundle::Bundle;
use crate::canonical;
use crate::hash::Hash32;
use crate::manifest::{ItemKind, MANIFEST_TYPE, Manifest, Proof, segment_chain_link};
use crate::sm2::Sm2PublicKey;

use super::media::{Listed, MediaEvidence, match_file};
use super::report::Report;

/// The proof with what its checks computed.
pub(super) struct Checked<'a> {
    /// The proof.
    pub proof: &'a Proof,
    /// SM3 of the proof's RFC 8785 bytes.
    pub proof_sm3: Hash32,
    /// SM3 of the manifest's RFC 8785 bytes.
    pub manifest_sm3: Hash32,
    /// The key in the signature block, if it parses.
    pub key: Option<Sm2PublicKey>,
}

pub(super) fn check<'a>(b: &'a Bundle, r: &mut Report) -> Option<Checked<'a>> {
    let proof = &b.proof;
    let m = &proof.manifest;
    r.record(
        "proof.type",
        if m.kind == MANIFEST_TYPE {
            Ok(format!("manifest type {MANIFEST_TYPE}"))
        } else {
            Err(format!(
                "manifest.type is {:?}, not {MANIFEST_TYPE:?}",
                m.kind
            ))
        },
    );
    r.record("proof.schema", schema(m));
    let (manifest_value, proof_value) = match (serde_json::to_value(m), serde_json::to_value(proof))
    {
        (Ok(a), Ok(b)) => (a, b),
        _ => {
            r.record(
                "proof.signature",
                Err("the manifest cannot be encoded".into()),
            );
            return None;
        }
    };
    let key = match proof.signature.verify_value(&manifest_value) {
        Ok(k) => {
            r.record(
                "proof.signature",
                Ok(format!("device signature by key {}", k.key_id())),
            );
            Some(k)
        }
        Err(e) => {
            r.record(
                "proof.signature",
                Err(format!("the device's signature over the manifest: {e}")),
            );
            Sm2PublicKey::from_hex(&proof.signature.public_key).ok()
        }
    };
    match &key {
        Some(k) => r.record(
            "proof.key_id",
            if k.key_id() == m.device.key_id {
                Ok(format!("device key {}", m.device.key_id))
            } else {
                Err(format!(
                    "manifest.device.key_id is {}, but the signing key's SM3 is {}",
                    m.device.key_id,
                    k.key_id()
                ))
            },
        ),
        None => r.skip("proof.key_id", "the signing key does not parse"),
    }
    r.record(
        "proof.chain_link",
        match (m.device_seq, &m.previous_manifest_sm3) {
            (1, None) => Ok("first manifest of the device".into()),
            (1, Some(_)) => Err(
                "device_seq 1 (the device's first manifest) links to a previous manifest".into(),
            ),
            (n, None) => Err(format!(
                "device_seq {n} has no previous_manifest_sm3: only the first manifest may have none"
            )),
            (n, Some(h)) => Ok(format!("device_seq {n} follows manifest {h}")),
        },
    );
    r.record(
        "proof.content",
        match (m.items.is_empty(), &m.session_summary) {
            (false, None) => Ok(format!("{} item(s)", m.items.len())),
            (true, Some(_)) => Ok("session summary".into()),
            (false, Some(_)) => Err("the manifest has both items and a session summary".into()),
            (true, None) => Err("the manifest has neither items nor a session summary".into()),
        },
    );
    r.record("proof.item_hashes", item_hashes(m));
    recording_rules(m, r);
    r.record("proof.session_summary", session_summary(m));
    match m.session_summary.as_ref().and_then(|s| s.record.as_ref()) {
        Some(_) => r.record("proof.session_record", session_record(m)),
        None => r.skip(
            "proof.session_record",
            "no collection record (the session was closed without one)",
        ),
    }
    let proof_sm3 = canonical::canonicalize(&proof_value)
        .ok()
        .map(|v| Hash32::sm3(&v));
    let manifest_sm3 = canonical::canonicalize(&manifest_value)
        .ok()
        .map(|v| Hash32::sm3(&v));
    Some(Checked {
        proof,
        proof_sm3: proof_sm3?,
        manifest_sm3: manifest_sm3?,
        key,
    })
}

/// The limits of schemas/manifest.schema.json that its types do not enforce by themselves:
/// the same check intake runs ([`Manifest::check_limits`]).
fn schema(m: &Manifest) -> Result<String, String> {
    m.check_limits()
        .map(|()| "within the manifest schema's limits".to_owned())
        .map_err(|v| format!("/proof{}: {}", v.pointer, v.message))
}

fn item_hashes(m: &Manifest) -> Result<String, String> {
    for (i, item) in m.items.iter().enumerate() {
        let count = |a: HashAlgorithm| item.hashes.iter().filter(|h| h.algorithm == a).count();
        if item.hashes.len() != 2
            || count(HashAlgorithm::Sm3) != 1
            || count(HashAlgorithm::Sha256) != 1
        {
            return Err(format!(
                "manifest.items[{i}].hashes must hold exactly one SM3 and one SHA-256 digest"
            ));
        }
        if let Some(h) = item.hashes.iter().find(|h| !h.is_consistent()) {
            return Err(format!(
                "manifest.items[{i}].hashes: the {} digest carries OID {}, which is not {}",
                h.algorithm.name(),
                h.oid,
                h.algorithm.oid()
            ));
        }
    }
    Ok("one SM3 and one SHA-256 digest per item, OIDs matching".into())
}

fn recording_rules(m: &Manifest, r: &mut Report) {
    let recordings: Vec<_> = m
        .items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| item.recording.as_ref().map(|rec| (i, item, rec)))
        .collect();
    if recordings.is_empty() {
        for rule in [
            "proof.recording_segments",
            "proof.recording_chain",
            "proof.recording_flags",
        ] {
            r.skip(rule, "no recording in the manifest");
        }
        return;
    }
    for (i, item, rec) in recordings {
        let mut next_offset = 0u64;
        let mut segments = Ok(format!(
            "{} segment(s) cover the item's bytes",
            rec.segments.len()
        ));
        for (k, s) in rec.segments.iter().enumerate() {
            let problem = if s.index != k as u64 {
                Some(format!("has index {}", s.index))
            } else if s.bytes == 0 {
                Some("is empty".into())
            } else if s.offset != next_offset {
                Some(format!(
                    "starts at offset {}, not at {next_offset} where the previous one ended",
                    s.offset
                ))
            } else {
                None
            };
            if let Some(p) = problem {
                segments = Err(format!("manifest.items[{i}].recording.segments[{k}] {p}"));
                break;
            }
            next_offset = next_offset.saturating_add(s.bytes);
        }
        if segments.is_ok() && next_offset != item.bytes {
            segments = Err(format!(
                "manifest.items[{i}]: the segments cover {next_offset} bytes, the item has {}",
                item.bytes
            ));
        }
        r.record("proof.recording_segments", segments);
        let mut chain = Hash32([0; 32]);
        let mut chained = Ok("the segment chain recomputes".to_owned());
        for (k, s) in rec.segments.iter().enumerate() {
            chain = segment_chain_link(&chain, s.index, s.offset, s.bytes, &s.sm3);
            if chain != s.chain {
                chained = Err(format!(
                    "manifest.items[{i}].recording.segments[{k}].chain is {}, but recomputes to {chain}",
                    s.chain
                ));
                break;
            }
        }
        r.record("proof.recording_chain", chained);
        let has = |code: &str| item.findings.iter().any(|f| f.code == code);
        let flags = if !matches!(item.kind, ItemKind::Video | ItemKind::Audio) {
            Err(format!(
                "manifest.items[{i}] is not a video or audio item but has a recording"
            ))
        } else if rec.truncated && !rec.interrupted {
            Err(format!(
                "manifest.items[{i}].recording is truncated but not interrupted"
            ))
        } else if has("recording_truncated") != rec.truncated {
            Err(format!(
                "manifest.items[{i}]: recording.truncated is {}, but the finding recording_truncated is {}",
                rec.truncated,
                if has("recording_truncated") {
                    "present"
                } else {
                    "absent"
                }
            ))
        } else if has("recording_interrupted") != (rec.interrupted && !rec.truncated) {
            Err(format!(
                "manifest.items[{i}]: recording.interrupted is {}, but the finding recording_interrupted is {}",
                rec.interrupted,
                if has("recording_interrupted") {
                    "present"
                } else {
                    "absent"
                }
            ))
        } else {
            Ok(format!(
                "interrupted {}, truncated {}, as the findings state",
                rec.interrupted, rec.truncated
            ))
        };
        r.record("proof.recording_flags", flags);
    }
}

fn session_summary(m: &Manifest) -> Result<String, String> {
    let Some(s) = &m.session_summary else {
        return Ok("no session summary".into());
    };
    if s.opened_at.unix_ms() > s.closed_at.unix_ms() {
        return Err(format!(
            "session_summary closes ({}) before it opens ({})",
            s.closed_at, s.opened_at
        ));
    }
    let mut last = 0u64;
    for (k, e) in s.manifests.iter().enumerate() {
        if e.device_seq <= last || e.device_seq >= m.device_seq {
            return Err(format!(
                "session_summary.manifests[{k}] has device_seq {}: entries must increase strictly and come before the summary's own device_seq {}",
                e.device_seq, m.device_seq
            ));
        }
        last = e.device_seq;
    }
    Ok(format!("session of {} manifest(s)", s.manifests.len()))
}

/// The collection record: place and process stated, every file of every manifest the summary
/// lists inventoried exactly once and nothing else, each original medium and confirmation
/// well formed.
fn session_record(m: &Manifest) -> Result<String, String> {
    let Some(s) = &m.session_summary else {
        return Err("a collection record outside a session summary".into());
    };
    let Some(rec) = &s.record else {
        return Ok("no collection record".into());
    };
    if rec.place.trim().is_empty() || rec.process.trim().is_empty() {
        return Err("the record states no place or no process".into());
    }
    rec.holder.check("holder")?;
    rec.witness.check("witness")?;
    let mut listed: Vec<(u64, &str)> = s
        .manifests
        .iter()
        .flat_map(|e| e.files.iter().map(move |f| (e.device_seq, f.as_str())))
        .collect();
    for (k, entry) in rec.inventory.iter().enumerate() {
        let at = format!(
            "inventory[{k}] ({}, device_seq {})",
            entry.file_name, entry.device_seq
        );
        let manifest = s
            .manifests
            .iter()
            .find(|e| e.device_seq == entry.device_seq)
            .ok_or_else(|| format!("{at}: the session lists no manifest of that device_seq"))?;
        if manifest.manifest_sm3 != entry.manifest_sm3 {
            return Err(format!(
                "{at}: manifest_sm3 is not the SM3 the session lists for that manifest"
            ));
        }
        let Some(i) = listed
            .iter()
            .position(|(seq, f)| *seq == entry.device_seq && *f == entry.file_name)
        else {
            return Err(format!(
                "{at}: the session's manifests list no such file (or it is inventoried twice)"
            ));
        };
        listed.remove(i);
        entry.original.check().map_err(|e| format!("{at}: {e}"))?;
    }
    if let Some((seq, f)) = listed.first() {
        return Err(format!(
            "the inventory leaves out {f} of device_seq {seq} ({} file(s) in all)",
            listed.len()
        ));
    }
    let video = rec
        .process_video()?
        .map(|v| format!(", the whole collection recorded on {}", v.file_name))
        .unwrap_or_default();
    Ok(format!(
        "collection record at {}: {} file(s) inventoried{video}",
        rec.place,
        rec.inventory.len()
    ))
}

/// Layer `media`: the index of the item the file is, if a file was given.
pub(super) fn check_media(
    m: &Manifest,
    media: Option<&MediaEvidence>,
    r: &mut Report,
) -> Option<usize> {
    let Some(media) = media else {
        for rule in [
            "media.item",
            "media.sha256",
            "media.bytes",
            "media.segments",
        ] {
            r.skip(rule, "no media file given");
        }
        return None;
    };
    let listed: Vec<Listed<'_>> = m
        .items
        .iter()
        .enumerate()
        .map(|(index, i)| Listed {
            index,
            label: i.file_name.clone(),
            bytes: i.bytes,
            hashes: &i.hashes,
        })
        .collect();
    let Some(index) = match_file(&listed, media, "this proof", r) else {
        r.skip("media.segments", "the file matches no item");
        return None;
    };
    let item = m.items.get(index)?;
    match &item.recording {
        None => r.skip("media.segments", "the item is not a segmented recording"),
        Some(rec) => {
            let mut outcome = Ok(format!("{} segment(s) match the file", rec.segments.len()));
            for (k, s) in rec.segments.iter().enumerate() {
                match media.range_sm3(s.offset, s.bytes) {
                    Some(Some(h)) if h == s.sm3 => {}
                    Some(Some(h)) => {
                        outcome = Err(format!(
                            "segment {k} (bytes {}..{}): the file's SM3 is {h}, the manifest's {}",
                            s.offset,
                            s.offset.saturating_add(s.bytes),
                            s.sm3
                        ));
                        break;
                    }
                    Some(None) => {
                        outcome = Err(format!("segment {k}: the file ends before its bytes"));
                        break;
                    }
                    None => {
                        outcome = Err(format!(
                            "segment {k} was not hashed: hash the file with the manifest's segment ranges"
                        ));
                        break;
                    }
                }
            }
            r.record("media.segments", outcome);
        }
    }
    Some(index)
}
