//! The genuine evidence of the protocol's tests, built from scratch with the real keys of every
//! party (device, notary, members, validators, officers): the bundle, its custody log and the
//! forger's means of re-deriving and re-signing everything below a change (`reseal`). Shared
//! by the forgery suite (`forgeries.rs`) and the appraisal opinions (`appraisal.rs`), whose
//! bundles carry the appraisal steps' custody events.
#![allow(unused_imports, clippy::indexing_slicing)]

use std::collections::BTreeSet;

use super::consortium::{self as cbft, Vote};

use serde_json::{Value, json};
use tiezheng_protocol::bundle::{
    BatchLeaf, Bundle, BundleAnchor, BundleBatch, BundleCustody, CustodyAnchor, Policy,
    PolicyMember,
};
use tiezheng_protocol::custody::{self, CustodyCommitment, CustodyEvent};
use tiezheng_protocol::ledger::{
    AnchorRecord, BatchHeader, Checkpoint, CosignedCheckpoint, GovernanceAction,
    GovernanceProposal, GovernanceTx, Registry, SignedBatchHeader,
};
use tiezheng_protocol::manifest::{
    CaptureTimes, CaseRecord, DeviceInfo, EvidenceItem, Finding, ItemKind, Location, Manifest,
    MediaMetadata, Origin, PartyRecord, Proof, Recording, Segment, TimeSync, segment_chain_link,
};
use tiezheng_protocol::notary::{Receipt, SignedReceipt};
use tiezheng_protocol::officer::{
    OfficerCertificate, OfficerIdentity, OfficerSignature, SignedOfficerCertificate,
};
use tiezheng_protocol::profile::{self, Procedure};
use tiezheng_protocol::verify::{self, MediaEvidence, RULES, Status, hash_media, segment_ranges};
use tiezheng_protocol::{
    ContentHash, DualHasher, Hash32, InclusionProof, MerkleTree, Sm2SigningKey, Sm3Hasher,
    Timestamp, canonical,
};

pub fn key(seed: &str) -> Sm2SigningKey {
    Sm2SigningKey::from_bytes(Hash32::sm3(seed.as_bytes()).as_bytes()).unwrap()
}

pub fn t(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

/// The keys of the forger: all real.
pub struct Keys {
    pub device: Sm2SigningKey,
    pub notary: Sm2SigningKey,
    pub members: Vec<(String, Sm2SigningKey)>,
    /// The consortium's CometBFT validators, in set order.
    pub validators: Vec<cbft::Validator>,
    /// The collectors' own keys: (officer ID, key).
    pub officers: Vec<(String, Sm2SigningKey)>,
}

pub fn keys() -> Keys {
    Keys {
        device: key("device"),
        notary: key("notary"),
        members: [
            "court",
            "police",
            "procuratorate",
            "notary-office",
            "appraisal-centre",
        ]
        .iter()
        .map(|m| ((*m).to_owned(), key(m)))
        .collect(),
        validators: cbft::validators(),
        officers: ["310101", "310102"]
            .iter()
            .map(|o| ((*o).to_owned(), key(&format!("officer {o}"))))
            .collect(),
    }
}

pub fn officer_key<'a>(k: &'a Keys, officer: &str) -> &'a Sm2SigningKey {
    &k.officers.iter().find(|(o, _)| o == officer).unwrap().1
}

/// The notary's credential for `officer`'s key, issued the day before the capture.
pub fn credential(k: &Keys, officer: &str) -> SignedOfficerCertificate {
    let key = officer_key(k, officer);
    SignedOfficerCertificate::sign(
        OfficerCertificate {
            kind: "tiezheng.officer-certificate.v1".into(),
            officer: OfficerIdentity {
                officer_id: officer.into(),
                name: if officer == "310101" {
                    "王强"
                } else {
                    "李明"
                }
                .into(),
                badge_number: format!("沪执0{officer}"),
                unit: "上海市浦东新区城市管理行政执法局".into(),
            },
            public_key: key.public_key().to_hex(),
            key_id: key.public_key().key_id(),
            device_key_id: k.device.public_key().key_id(),
            issued_at: t("2026-11-20T08:00:00.000+08:00"),
            notary_key_id: k.notary.public_key().key_id(),
        },
        &k.notary,
    )
    .unwrap()
}

/// Signs the manifest with the device key, then with the key of each officer in `officers`
/// who is still a collector; keeps the credentials of those who signed.
pub fn sign_proof(b: &mut Bundle, k: &Keys, officers: &[String]) {
    b.proof = Proof::sign(b.proof.manifest.clone(), &k.device).unwrap();
    for o in officers {
        if b.proof.manifest.case.collectors.contains(o) {
            b.proof.cosign(o, officer_key(k, o)).unwrap();
        }
    }
    let signed: Vec<String> = b
        .proof
        .officer_signatures
        .iter()
        .map(|s| s.officer_id.clone())
        .collect();
    b.officers
        .retain(|c| signed.contains(&c.certificate.officer.officer_id));
}

/// The photo and the recording the genuine manifest proves.
pub fn photo() -> Vec<u8> {
    (0..5000u32).map(|i| (i * 7 % 251) as u8).collect()
}

pub fn video() -> Vec<u8> {
    (0..20_000u32).map(|i| (i * 13 % 253) as u8).collect()
}

pub fn digests(data: &[u8]) -> tiezheng_protocol::ContentDigests {
    let mut h = DualHasher::new();
    h.update(data);
    h.finalize()
}

pub fn item(kind: ItemKind, name: &str, data: &[u8]) -> EvidenceItem {
    let d = digests(data);
    EvidenceItem {
        kind,
        origin: Origin::Captured,
        file_name: name.into(),
        mime: if kind == ItemKind::Photo {
            "image/jpeg"
        } else {
            "video/mp4"
        }
        .into(),
        bytes: d.bytes,
        hashes: ContentHash::pair(&d),
        times: CaptureTimes {
            device_time: t("2026-11-21T09:30:00.123+08:00"),
            monotonic_ms: Some(86_400_123),
            gnss_time: None,
            last_time_sync: None,
        },
        location: Some(Location {
            coordinate_system: "WGS-84".into(),
            os_fix: None,
        }),
        metadata: MediaMetadata::default(),
        fingerprint: None,
        recording: None,
        findings: Vec::new(),
    }
}

/// Segments of `data` at the given cut points, with their chain.
pub fn segments(data: &[u8], cuts: &[usize]) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut chain = Hash32([0; 32]);
    let mut start = 0;
    for (i, end) in cuts.iter().copied().chain([data.len()]).enumerate() {
        let bytes = (end - start) as u64;
        let sm3 = Hash32::sm3(&data[start..end]);
        chain = segment_chain_link(&chain, i as u64, start as u64, bytes, &sm3);
        out.push(Segment {
            index: i as u64,
            offset: start as u64,
            bytes,
            sm3,
            chain,
        });
        start = end;
    }
    out
}

pub fn relink_segments(s: &mut [Segment]) {
    let mut chain = Hash32([0; 32]);
    for seg in s {
        chain = segment_chain_link(&chain, seg.index, seg.offset, seg.bytes, &seg.sm3);
        seg.chain = chain;
    }
}

/// The reasons the genuine capture gives for the `should`s it could not meet.
pub fn genuine_reason(rule: &str) -> Option<&'static str> {
    match rule {
        "profile.witness" => {
            Some("no bystander agreed to act as witness; the inspection is on video")
        }
        "profile.location" => Some("indoor market hall, no satellite fix"),
        "profile.clock" => Some("no network for a time synchronisation"),
        "profile.fields" => Some("the content is described in the session record"),
        _ => None,
    }
}

/// The procedure the SDK records for `m` under profile `id`.
pub fn procedure_of(m: &Manifest, id: &str) -> Procedure {
    // The genuine capture's collectors each sign with their own key.
    let mut facts = profile::Facts::of(m);
    facts.signers = m.case.collectors.iter().map(String::as_str).collect();
    profile::assess(&profile::find(id).unwrap(), &facts, genuine_reason).unwrap()
}

pub fn manifest(k: &Keys) -> Manifest {
    let mut m = manifest_without_procedure(k);
    m.procedure = Some(procedure_of(&m, ADMIN));
    m
}

/// The profile the genuine capture follows.
pub const ADMIN: &str = "cn.admin-penalty.onsite.2021";

pub fn manifest_without_procedure(k: &Keys) -> Manifest {
    let mut v = item(ItemKind::Video, "VID_0001.mp4", &video());
    v.recording = Some(Recording {
        recording_id: "0123456789abcdef0123456789abcdef".into(),
        segment_max_bytes: 8192,
        segment_max_ms: 2000,
        segments: segments(&video(), &[8192, 16384]),
        interrupted: false,
        truncated: false,
    });
    Manifest {
        kind: "tiezheng.manifest.v1".into(),
        manifest_id: "00112233445566778899aabbccddeeff".into(),
        device_seq: 5,
        previous_manifest_sm3: Some(Hash32::sm3(b"manifest 4")),
        created_at: t("2026-11-21T09:30:01.000+08:00"),
        case: CaseRecord {
            reference: "沪浦-2026-0001".into(),
            cause: Some("占道经营".into()),
            object: None,
            description: None,
            method: "on-site capture".into(),
            collectors: vec!["310101".into(), "310102".into()],
            holder: Some(PartyRecord {
                name: Some("张某".into()),
                note: None,
            }),
            witness: None,
        },
        items: vec![item(ItemKind::Photo, "IMG_0001.jpg", &photo()), v],
        session_summary: None,
        procedure: None,
        device: DeviceInfo {
            enrolment_id: Some("enr-0001".into()),
            device_id: "9f86d081884c7d659a2feaa0c55ad015".into(),
            model: "Xiaomi 23127PN0CC".into(),
            os: "Android 15".into(),
            sdk_version: "0.1.0".into(),
            key_id: k.device.public_key().key_id(),
        },
    }
}

/// The genesis policy the court pins: four members, one notary.
pub fn pinned(k: &Keys) -> Policy {
    Policy {
        chain_id: "tiezheng-forge-1".into(),
        // A second notary the consortium admitted; the genuine bundle is the first's.
        notary_keys: vec![
            k.notary.public_key().to_hex(),
            key("second notary").public_key().to_hex(),
        ],
        members: k.members[..4]
            .iter()
            .map(|(id, key)| PolicyMember {
                id: id.clone(),
                public_key: key.public_key().to_hex(),
                power: 1,
            })
            .collect(),
        validators: Vec::new(),
        parties: Vec::new(),
    }
}

pub fn member_key<'a>(k: &'a Keys, id: &str) -> &'a Sm2SigningKey {
    &k.members.iter().find(|(m, _)| m == id).unwrap().1
}

pub fn registry_of(p: &Policy) -> Registry {
    Registry::genesis(
        &p.chain_id,
        p.members
            .iter()
            .map(|m| {
                (
                    m.id.clone(),
                    tiezheng_protocol::Sm2PublicKey::from_hex(&m.public_key).unwrap(),
                    m.power,
                )
            })
            .collect(),
        p.notary_keys
            .iter()
            .map(|k| tiezheng_protocol::Sm2PublicKey::from_hex(k).unwrap()),
    )
}

/// The genuine bundle: a two-item proof (photo and segmented video) in a three-leaf batch,
/// in a two-record anchor log, cosigned by all four members.
pub fn genuine(k: &Keys) -> Bundle {
    let m = manifest(k);
    let mut proof = Proof::sign(m, &k.device).unwrap();
    for (o, key) in &k.officers {
        proof.cosign(o, key).unwrap();
    }
    let header = BatchHeader {
        kind: "tiezheng.batch-header.v1".into(),
        notary_key_id: k.notary.public_key().key_id(),
        batch_seq: 9,
        previous_header_sm3: Some(Hash32::sm3(b"batch 8")),
        leaf_count: 3,
        root: Hash32([0; 32]),
        window_start: t("2026-11-21T01:31:00.000Z"),
        window_end: t("2026-11-21T01:31:01.000Z"),
        custody: None,
    };
    let policy = pinned(k);
    let reg = registry_of(&policy);
    let mut b = Bundle {
        kind: "tiezheng.bundle.v1".into(),
        mode: "embedded".into(),
        receipt: SignedReceipt::sign(
            Receipt {
                kind: "tiezheng.receipt.v1".into(),
                proof_sm3: Hash32([0; 32]),
                manifest_sm3: Hash32([0; 32]),
                device_key_id: k.device.public_key().key_id(),
                device_seq: 5,
                received_at: t("2026-11-21T01:31:00.500Z"),
                notary_key_id: k.notary.public_key().key_id(),
                chain_gap: false,
            },
            &k.notary,
        )
        .unwrap(),
        proof,
        batch: BundleBatch {
            leaf: BatchLeaf {
                proof_sm3: Hash32([0; 32]),
                salt: "0f1e2d3c4b5a69788796a5b4c3d2e1f0".into(),
            },
            inclusion: InclusionProof {
                algorithm: tiezheng_protocol::HashAlgorithm::Sm3,
                leaf_index: 1,
                tree_size: 3,
                path: Vec::new(),
            },
            header: SignedBatchHeader::sign(header, &k.notary).unwrap(),
        },
        anchor: BundleAnchor {
            record: AnchorRecord {
                batch_header_sm3: Hash32([0; 32]),
                notary_key_id: k.notary.public_key().key_id(),
                batch_seq: 9,
                root: Hash32([0; 32]),
                leaf_count: 3,
                height: 40,
                time: t("2026-11-21T01:31:02.000Z"),
            },
            inclusion: InclusionProof {
                algorithm: tiezheng_protocol::HashAlgorithm::Sm3,
                leaf_index: 1,
                tree_size: 3,
                path: Vec::new(),
            },
        },
        checkpoint: CosignedCheckpoint {
            checkpoint: Checkpoint {
                kind: "tiezheng.checkpoint.v1".into(),
                chain_id: policy.chain_id.clone(),
                height: 41,
                anchor_log_size: 3,
                anchor_log_root: Hash32([0; 32]),
                registry_root: reg.root(),
                time: t("2026-11-21T01:31:03.000Z"),
            },
            cosignatures: Vec::new(),
        },
        policy,
        cometbft: None,
        governance: Vec::new(),
        custody: None,
        officers: vec![credential(k, "310101"), credential(k, "310102")],
    };
    b.custody = Some(custody_of(&b, k));
    reseal(&mut b, k, Step::Proof);
    b
}

/// The custody log the genuine bundle's events are in: seven events over three proofs, the
/// bundle's proof's four (received, media stored, anchored, viewed) among them; committed by a
/// batch of no proof (the batch after the bundle's), whose record the anchor log holds last.
pub fn custody_of(b: &Bundle, k: &Keys) -> BundleCustody {
    custody_with(b, k, &[])
}

/// [`custody_of`] with more events of the bundle's proof after those seven: one
/// `appraisal_step` event per detail, filed by an appraiser's token.
pub fn custody_with(b: &Bundle, k: &Keys, appraisal_steps: &[String]) -> BundleCustody {
    let ours = b.batch.leaf.proof_sm3.to_hex();
    let other = |i: u32| Hash32::sm3(format!("other proof {i}").as_bytes()).to_hex();
    let mut plan: Vec<(String, &str, Option<&String>)> = [
        (other(1), "received"),
        (ours.clone(), "received"),
        (ours.clone(), "media_stored"),
        (other(2), "received"),
        (ours.clone(), "anchored"),
        (ours.clone(), "viewed"),
        (other(1), "viewed"),
    ]
    .into_iter()
    .map(|(p, k)| (p, k, None))
    .collect();
    plan.extend(
        appraisal_steps
            .iter()
            .map(|d| (ours.clone(), "appraisal_step", Some(d))),
    );
    let zeros = "0".repeat(64);
    let mut prev = zeros.clone();
    let mut heads = std::collections::HashMap::<String, String>::new();
    let base = b.receipt.receipt.received_at.unix_ms();
    let log: Vec<CustodyEvent> = plan
        .iter()
        .zip(1i64..)
        .map(|((proof, kind, detail), seq)| {
            let mut e = CustodyEvent {
                seq,
                proof_sm3: proof.clone(),
                event: (*kind).into(),
                actor: match *kind {
                    "viewed" => "court:tok-1".into(),
                    "appraisal_step" => "appraiser:tok-2".into(),
                    _ => "ledger".into(),
                },
                at: base + seq * 100,
                detail: detail.map_or_else(|| format!("{kind} (event {seq})"), |d| d.clone()),
                prev_hash: prev.clone(),
                item_prev: Some(heads.get(proof).cloned().unwrap_or_else(|| zeros.clone())),
                hash: String::new(),
            };
            e.hash = e.compute_hash();
            prev.clone_from(&e.hash);
            heads.insert(proof.clone(), e.hash.clone());
            e
        })
        .collect();
    let tree = MerkleTree::<Sm3Hasher>::from_leaf_hashes(
        log.iter()
            .map(|e| custody::leaf_hash(&Hash32::from_hex(&e.hash).unwrap())),
    );
    let commitment = CustodyCommitment {
        size: tree.len(),
        root: tree.root(),
    };
    let ours_at: Vec<usize> = log
        .iter()
        .enumerate()
        .filter(|(_, e)| e.proof_sm3 == ours)
        .map(|(i, _)| i)
        .collect();
    let h = &b.batch.header.header;
    let header = BatchHeader {
        kind: "tiezheng.batch-header.v1".into(),
        notary_key_id: b.receipt.receipt.notary_key_id,
        batch_seq: h.batch_seq + 1,
        previous_header_sm3: Some(h.sm3().unwrap()),
        leaf_count: 1,
        root: <Sm3Hasher as tiezheng_protocol::merkle::MerkleHasher>::leaf(&commitment.leaf_data()),
        window_start: h.window_end,
        window_end: h.window_end,
        custody: Some(commitment),
    };
    let record = AnchorRecord {
        batch_header_sm3: header.sm3().unwrap(),
        notary_key_id: header.notary_key_id,
        batch_seq: header.batch_seq,
        root: header.root,
        leaf_count: 1,
        height: b.checkpoint.checkpoint.height,
        time: b.anchor.record.time,
    };
    BundleCustody {
        events: ours_at.iter().map(|i| log[*i].clone()).collect(),
        inclusions: ours_at
            .iter()
            .map(|i| InclusionProof::from_tree(&tree, *i as u64, tree.len()).unwrap())
            .collect(),
        anchor: CustodyAnchor {
            header: SignedBatchHeader::sign(header, &k.notary).unwrap(),
            record,
            inclusion: InclusionProof {
                algorithm: tiezheng_protocol::HashAlgorithm::Sm3,
                leaf_index: 0,
                tree_size: 1,
                path: Vec::new(),
            },
        },
    }
}

/// Where a forger starts re-deriving and re-signing.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub enum Step {
    /// Re-sign the manifest, then everything below.
    Proof,
    /// Link the receipt to the proof, re-sign it, then everything below.
    ReceiptLinks,
    /// Re-sign the receipt (without re-linking), then everything below.
    ReceiptSignature,
    /// Link the leaf to the proof, then everything below.
    Leaf,
    /// Rebuild the batch tree and the header's root, then everything below.
    BatchTree,
    /// Re-sign the header, then everything below.
    HeaderSignature,
    /// Link the anchor record to the header, then everything below.
    RecordLinks,
    /// Rebuild the custody log and the batch that commits it, then everything below.
    Custody,
    /// Rebuild the anchor log, then everything below.
    AnchorLog,
    /// Re-cosign the checkpoint with every cosigner it lists (all four if none).
    Cosign,
}

pub fn reseal(b: &mut Bundle, k: &Keys, from: Step) {
    reseal_skipping(b, k, from, &[]);
}

/// Re-derives and re-signs from `from` down, skipping the steps in `skip` (the link a forgery
/// breaks on purpose).
pub fn reseal_skipping(b: &mut Bundle, k: &Keys, from: Step, skip: &[Step]) {
    let run = |s: Step| s >= from && !skip.contains(&s);
    if run(Step::Proof) {
        let officers: Vec<String> = b
            .proof
            .officer_signatures
            .iter()
            .map(|s| s.officer_id.clone())
            .collect();
        sign_proof(b, k, &officers);
    }
    let proof_sm3 = b.proof.sm3().unwrap();
    if run(Step::ReceiptLinks) {
        let r = &mut b.receipt.receipt;
        r.proof_sm3 = proof_sm3;
        r.manifest_sm3 = b.proof.manifest.sm3().unwrap();
        r.device_seq = b.proof.manifest.device_seq;
    }
    if run(Step::ReceiptLinks) || run(Step::ReceiptSignature) {
        b.receipt = SignedReceipt::sign(b.receipt.receipt.clone(), &k.notary).unwrap();
    }
    if run(Step::Leaf) {
        b.batch.leaf.proof_sm3 = proof_sm3;
    }
    if run(Step::BatchTree) {
        let n = b.batch.header.header.leaf_count;
        let idx = b.batch.inclusion.leaf_index;
        let others: Vec<Vec<u8>> = (0..n)
            .map(|i| {
                if i == idx {
                    b.batch.leaf.data()
                } else {
                    BatchLeaf {
                        proof_sm3: Hash32::sm3(format!("other proof {i}").as_bytes()),
                        salt: "00112233445566778899aabbccddeeff".into(),
                    }
                    .data()
                }
            })
            .collect();
        let tree = MerkleTree::<Sm3Hasher>::from_leaves(others.iter().map(Vec::as_slice));
        b.batch.inclusion.path = tree.inclusion_proof(idx, n).unwrap();
        b.batch.header.header.root = tree.root();
    }
    if run(Step::HeaderSignature) || run(Step::BatchTree) {
        b.batch.header = SignedBatchHeader::sign(b.batch.header.header.clone(), &k.notary).unwrap();
    }
    if run(Step::RecordLinks) {
        let h = &b.batch.header.header;
        let r = &mut b.anchor.record;
        r.batch_header_sm3 = h.sm3().unwrap();
        r.notary_key_id = h.notary_key_id;
        r.batch_seq = h.batch_seq;
        r.root = h.root;
        r.leaf_count = h.leaf_count;
    }
    if run(Step::Custody) && b.custody.is_some() {
        b.custody = Some(custody_of(b, k));
    }
    if run(Step::AnchorLog) {
        let n = b.checkpoint.checkpoint.anchor_log_size;
        let idx = b.anchor.inclusion.leaf_index;
        // The custody commitment's record is the log's last (when it is not the proof's).
        let custody_idx = b
            .custody
            .as_ref()
            .and(n.checked_sub(1))
            .filter(|c| *c != idx);
        let records: Vec<Vec<u8>> = (0..n)
            .map(|i| match &b.custody {
                _ if i == idx => b.anchor.record.leaf_bytes().unwrap(),
                Some(c) if Some(i) == custody_idx => c.anchor.record.leaf_bytes().unwrap(),
                _ => format!("{{\"other record\":{i}}}").into_bytes(),
            })
            .collect();
        let log = MerkleTree::<Sm3Hasher>::from_leaves(records.iter().map(Vec::as_slice));
        b.anchor.inclusion.path = log.inclusion_proof(idx, n).unwrap();
        if let (Some(c), Some(ci)) = (&mut b.custody, custody_idx) {
            c.anchor.inclusion = InclusionProof::from_tree(&log, ci, n).unwrap();
        }
        b.checkpoint.checkpoint.anchor_log_root = log.root();
    }
    if run(Step::Cosign) {
        let mut who: Vec<String> = b
            .checkpoint
            .cosignatures
            .iter()
            .map(|c| c.member.clone())
            .collect();
        if who.is_empty() {
            who = k.members[..4].iter().map(|(m, _)| m.clone()).collect();
        }
        b.checkpoint.cosignatures = who
            .iter()
            .map(|m| b.checkpoint.checkpoint.cosign(m, member_key(k, m)).unwrap())
            .collect();
    }
}

pub fn media(b: &Bundle, data: &[u8]) -> MediaEvidence {
    hash_media(data, &segment_ranges(&b.proof.manifest), |_| {}).unwrap()
}
