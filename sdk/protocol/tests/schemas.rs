//! The committed JSON Schemas in `schemas/` match the Rust types, the committed examples match
//! what the code produces, and every example validates against its schema with an independent
//! JSON Schema (2020-12) validator.
//!
//! After changing a wire type, regenerate and commit:
//! `TIEZHENG_BLESS=1 cargo test -p tiezheng-protocol --test schemas`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, missing_docs)]

mod common;

use std::path::Path;

use common::{repo_root, sm2_sm3_vectors, unhex};
use serde_json::{Value, json};
use tiezheng_protocol::manifest::{
    CaptureTimes, CaseRecord, Decimal, DeviceInfo, EvidenceItem, Finding, Fingerprint, GpsPoint,
    ItemKind, Location, LocationFix, LocationProvider, MediaMetadata, Origin, PartyRecord,
    TimeSync,
};
use tiezheng_protocol::merkle::{MerkleHasher as _, MerkleTree, Sm3Hasher};
use tiezheng_protocol::notary::{
    ApiError, DeviceCertificate, EnrolmentRequest, EnrolmentRequestBody, EnrolmentResponse,
    Receipt, SignedDeviceCertificate, SignedReceipt, SubmitResponse, SubmitResult,
};
use tiezheng_protocol::{
    ConsistencyProof, ContentDigests, ContentHash, DualHasher, Hash32, HashAlgorithm, HashRecord,
    InclusionProof, Manifest, Proof, SignatureBlock, Sm2SigningKey, Timestamp, schema,
};

fn bless() -> bool {
    std::env::var_os("TIEZHENG_BLESS").is_some_and(|v| v == "1")
}

fn check_file(path: &Path, want: &str) {
    if bless() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, want).unwrap();
        return;
    }
    let have = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        have == want,
        "{} is out of date with the Rust types. Regenerate with \
         `TIEZHENG_BLESS=1 cargo test -p tiezheng-protocol --test schemas`, review and commit it.",
        path.display()
    );
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap() + "\n"
}

fn abc() -> ContentDigests {
    let mut h = DualHasher::new();
    h.update(b"abc");
    h.finalize()
}

/// The documented examples, produced by the code from fixed inputs.
fn examples() -> Vec<(&'static str, Value)> {
    let leaves: Vec<Vec<u8>> = [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
    .iter()
    .map(|h| unhex(h))
    .collect();
    let tree = MerkleTree::<Sm3Hasher>::from_leaves(leaves.iter().map(Vec::as_slice));

    // The GB/T 32918.5 Annex A test key: public, so the example can be checked by anyone.
    let vectors = sm2_sm3_vectors();
    let key =
        Sm2SigningKey::from_bytes(&unhex(vectors["sm2_sign"]["private_key"].as_str().unwrap()))
            .unwrap();
    let document = json!({
        "type": "tiezheng.example.v1",
        "description": "现场照片 scene photo",
        "captured_at": "2026-11-21T09:30:00+08:00",
        "latitude": "30.274084",
        "item": {"bytes": 3, "hashes": ContentHash::pair(&abc())}
    });
    let block = SignatureBlock::sign(&key, &document).unwrap();
    // Each collector signs with a key of their own (example keys: SM3 of a public phrase).
    let officer_key = |id: &str| {
        Sm2SigningKey::from_bytes(
            Hash32::sm3(format!("tiezheng example officer {id}").as_bytes()).as_bytes(),
        )
        .unwrap()
    };
    let mut proof = Proof::sign(example_manifest(&key), &key).unwrap();
    for id in ["310101", "310102"] {
        proof.cosign(id, &officer_key(id)).unwrap();
    }
    let t = |s: &str| Timestamp::parse(s).unwrap();
    let receipt = SignedReceipt::sign(
        Receipt {
            kind: "tiezheng.receipt.v1".into(),
            proof_sm3: proof.sm3().unwrap(),
            manifest_sm3: proof.manifest.sm3().unwrap(),
            device_key_id: key.public_key().key_id(),
            device_seq: proof.manifest.device_seq,
            received_at: t("2026-11-21T09:31:00.417+08:00"),
            notary_key_id: key.public_key().key_id(),
            chain_gap: false,
        },
        &key,
    )
    .unwrap();
    let batch = tiezheng_protocol::ledger::SignedBatchHeader::sign(
        tiezheng_protocol::ledger::BatchHeader {
            kind: "tiezheng.batch-header.v1".into(),
            notary_key_id: key.public_key().key_id(),
            batch_seq: 7,
            previous_header_sm3: Some(Hash32::sm3(b"batch 6")),
            leaf_count: 8,
            root: tree.root(),
            window_start: t("2026-11-21T09:31:00.000+08:00"),
            window_end: t("2026-11-21T09:31:01.000+08:00"),
            custody: None,
        },
        &key,
    )
    .unwrap();
    let anchor = tiezheng_protocol::ledger::AnchorRecord {
        batch_header_sm3: batch.header.sm3().unwrap(),
        notary_key_id: key.public_key().key_id(),
        batch_seq: 7,
        root: tree.root(),
        leaf_count: 8,
        height: 1042,
        time: t("2026-11-21T01:31:02.000Z"),
    };
    let checkpoint = tiezheng_protocol::ledger::Checkpoint {
        kind: "tiezheng.checkpoint.v1".into(),
        chain_id: "tiezheng-consortium-1".into(),
        height: 1042,
        anchor_log_size: 1,
        anchor_log_root: Sm3Hasher::leaf(&anchor.leaf_bytes().unwrap()),
        // The registry of the example policy below: the court as the one member, this key as
        // the one notary.
        registry_root: tiezheng_protocol::ledger::Registry::genesis(
            "tiezheng-consortium-1",
            vec![("court".into(), key.public_key().clone(), 1)],
            [key.public_key().clone()],
        )
        .root(),
        time: t("2026-11-21T01:31:02.000Z"),
    };
    let cosigned = tiezheng_protocol::ledger::CosignedCheckpoint {
        cosignatures: vec![checkpoint.cosign("court", &key).unwrap()],
        checkpoint,
    };
    // A complete bundle for the example proof: a one-leaf batch, a one-record anchor log.
    let leaf = tiezheng_protocol::bundle::BatchLeaf {
        proof_sm3: proof.sm3().unwrap(),
        salt: "0f1e2d3c4b5a69788796a5b4c3d2e1f0".into(),
    };
    let batch_tree = MerkleTree::<Sm3Hasher>::from_leaves([leaf.data().as_slice()]);
    let one_batch = tiezheng_protocol::ledger::SignedBatchHeader::sign(
        tiezheng_protocol::ledger::BatchHeader {
            leaf_count: 1,
            root: batch_tree.root(),
            batch_seq: 1,
            previous_header_sm3: None,
            ..batch.header.clone()
        },
        &key,
    )
    .unwrap();
    let one_record = tiezheng_protocol::ledger::AnchorRecord {
        batch_header_sm3: one_batch.header.sm3().unwrap(),
        batch_seq: 1,
        root: batch_tree.root(),
        leaf_count: 1,
        ..anchor.clone()
    };
    let log = MerkleTree::<Sm3Hasher>::from_leaves([one_record.leaf_bytes().unwrap().as_slice()]);
    let one_checkpoint = tiezheng_protocol::ledger::Checkpoint {
        anchor_log_size: 1,
        anchor_log_root: log.root(),
        ..cosigned.checkpoint.clone()
    };
    let policy = tiezheng_protocol::bundle::Policy {
        chain_id: one_checkpoint.chain_id.clone(),
        notary_keys: vec![key.public_key().to_hex()],
        members: vec![tiezheng_protocol::bundle::PolicyMember {
            id: "court".into(),
            public_key: key.public_key().to_hex(),
            power: 1,
        }],
        validators: Vec::new(),
        parties: Vec::new(),
    };
    let identity = |id: &str, name: &str| tiezheng_protocol::officer::OfficerIdentity {
        officer_id: id.into(),
        name: name.into(),
        badge_number: format!("沪执0{id}"),
        unit: "上海市浦东新区城市管理行政执法局".into(),
    };
    let officer = identity("310102", "李明");
    let credential = |id: &str, name: &str| {
        let k = officer_key(id);
        tiezheng_protocol::officer::SignedOfficerCertificate::sign(
            tiezheng_protocol::officer::OfficerCertificate {
                kind: "tiezheng.officer-certificate.v1".into(),
                officer: identity(id, name),
                public_key: k.public_key().to_hex(),
                key_id: k.public_key().key_id(),
                device_key_id: key.public_key().key_id(),
                issued_at: t("2026-11-20T16:05:01.000+08:00"),
                notary_key_id: key.public_key().key_id(),
            },
            &key,
        )
        .unwrap()
    };
    let officer_credentials = vec![credential("310101", "王强"), credential("310102", "李明")];
    let example_bundle = tiezheng_protocol::bundle::Bundle {
        kind: "tiezheng.bundle.v1".into(),
        mode: "embedded".into(),
        proof: proof.clone(),
        receipt: receipt.clone(),
        batch: tiezheng_protocol::bundle::BundleBatch {
            inclusion: InclusionProof::from_tree(&batch_tree, 0, 1).unwrap(),
            leaf,
            header: one_batch,
        },
        anchor: tiezheng_protocol::bundle::BundleAnchor {
            inclusion: InclusionProof::from_tree(&log, 0, 1).unwrap(),
            record: one_record,
        },
        checkpoint: tiezheng_protocol::ledger::CosignedCheckpoint {
            cosignatures: vec![one_checkpoint.cosign("court", &key).unwrap()],
            checkpoint: one_checkpoint,
        },
        policy: policy.clone(),
        cometbft: None,
        governance: Vec::new(),
        custody: None,
        officers: officer_credentials.clone(),
    };
    common::verify_bundle(&example_bundle, None, &policy).unwrap();
    let notarised = tiezheng_protocol::certificate::issue(
        example_bundle.clone(),
        &policy,
        tiezheng_protocol::certificate::IssueParams {
            issuer: tiezheng_protocol::certificate::IssuerStanding {
                operator_type: tiezheng_protocol::certificate::OperatorType::EvidencePlatform,
                name: "铁证示例存证平台 Tiezheng Example Evidence Platform".into(),
                legal_name: "铁证示例科技有限公司（示例数据） Tiezheng Example Technology Co., Ltd. (example data)"
                    .into(),
                credit_code: "91110108MA01TE000B".into(),
                filing_number: Some("京网信备11010800000000000001号".into()),
                contact: "北京市海淀区示例路1号 010-00000000".into(),
            },
            verify_url: "https://notary.example.cn/verify".into(),
            issued_at: t("2026-11-21T09:40:00.000+08:00"),
            custody: tiezheng_protocol::certificate::CustodySummary {
                events: 3,
                last_event_hash: Hash32::sm3(b"custody event 3"),
            },
        },
        &key,
    )
    .unwrap();
    let enrolment_body = EnrolmentRequestBody {
        kind: "tiezheng.enrolment-request.v1".into(),
        code: "K7Q2-M9XW-4TPR".into(),
        device_id: "9f86d081884c7d659a2feaa0c55ad015".into(),
        model: "Xiaomi 23127PN0CC".into(),
        os: "Android 15".into(),
        requested_at: t("2026-11-20T16:00:00.000+08:00"),
    };
    let enrolment = EnrolmentRequest {
        signature: SignatureBlock::sign(&key, &enrolment_body).unwrap(),
        request: enrolment_body,
    };
    let certificate = SignedDeviceCertificate::sign(
        DeviceCertificate {
            kind: "tiezheng.device-certificate.v1".into(),
            enrolment_id: "enr-0001".into(),
            officer_id: "310101".into(),
            device_id: "9f86d081884c7d659a2feaa0c55ad015".into(),
            public_key: key.public_key().to_hex(),
            device_key_id: key.public_key().key_id(),
            issued_at: t("2026-11-20T16:00:01.000+08:00"),
            notary_key_id: key.public_key().key_id(),
        },
        &key,
    )
    .unwrap();
    let officer_enrolment = tiezheng_protocol::officer::OfficerEnrolmentRequest::sign(
        tiezheng_protocol::officer::OfficerEnrolmentBody {
            kind: "tiezheng.officer-enrolment.v1".into(),
            code: "P3W8-ZK2Q-7NVD".into(),
            officer: officer.clone(),
            requested_at: t("2026-11-20T16:05:00.000+08:00"),
        },
        &officer_key("310102"),
    )
    .unwrap();
    let officer_certificate = officer_credentials[1].clone();

    let proposal = tiezheng_protocol::ledger::GovernanceProposal {
        kind: "tiezheng.governance.v1".into(),
        chain_id: "tiezheng-consortium-1".into(),
        governance_seq: 3,
        change: tiezheng_protocol::ledger::GovernanceAction::SetMember {
            member: "appraisal-centre".into(),
            public_key: key.public_key().to_hex(),
            power: 1,
        },
        reason: "consortium resolution 2026-07: the judicial appraisal centre joins".into(),
    };
    let governance = tiezheng_protocol::ledger::GovernanceTx {
        approvals: vec![
            proposal.approve("court", &key).unwrap(),
            proposal.approve("police", &key).unwrap(),
            proposal.approve("procuratorate", &key).unwrap(),
        ],
        proposal,
    };
    vec![
        (
            "consistency-proof",
            serde_json::to_value(ConsistencyProof::from_tree(&tree, 6, 8).unwrap()).unwrap(),
        ),
        (
            "content-hash",
            serde_json::to_value(ContentHash::new(HashAlgorithm::Sm3, abc().sm3)).unwrap(),
        ),
        (
            "hash-record",
            serde_json::to_value(HashRecord::new("evidence/abc.txt", &abc())).unwrap(),
        ),
        (
            "inclusion-proof",
            serde_json::to_value(InclusionProof::from_tree(&tree, 5, 8).unwrap()).unwrap(),
        ),
        ("anchor-record", serde_json::to_value(&anchor).unwrap()),
        ("batch-header", serde_json::to_value(&batch).unwrap()),
        ("bundle", serde_json::to_value(&example_bundle).unwrap()),
        ("certificate", serde_json::to_value(&notarised).unwrap()),
        ("checkpoint", serde_json::to_value(&cosigned).unwrap()),
        (
            "api-error",
            serde_json::to_value(ApiError {
                code: "replayed_sequence".into(),
                message: "device_seq 7 of this device was already used by another proof".into(),
                field: Some("/manifest/device_seq".into()),
            })
            .unwrap(),
        ),
        (
            "device-certificate",
            serde_json::to_value(&certificate).unwrap(),
        ),
        (
            "enrolment-request",
            serde_json::to_value(&enrolment).unwrap(),
        ),
        (
            "enrolment-response",
            serde_json::to_value(EnrolmentResponse {
                certificate: certificate.clone(),
                notary_public_key: key.public_key().to_hex(),
                api_token: "tzd_4f1c2e9a7b3d8e6f0a1b2c3d4e5f6a7b".into(),
            })
            .unwrap(),
        ),
        ("governance", serde_json::to_value(&governance).unwrap()),
        ("manifest", serde_json::to_value(&proof.manifest).unwrap()),
        ("policy", serde_json::to_value(&policy).unwrap()),
        (
            "officer-certificate",
            serde_json::to_value(&officer_certificate).unwrap(),
        ),
        (
            "officer-enrolment",
            serde_json::to_value(&officer_enrolment).unwrap(),
        ),
        (
            "profile",
            serde_json::to_value(
                tiezheng_protocol::profile::find("cn.admin-penalty.onsite.2021")
                    .unwrap()
                    .profile,
            )
            .unwrap(),
        ),
        ("proof", serde_json::to_value(&proof).unwrap()),
        (
            "public-digest",
            serde_json::to_value(
                tiezheng_protocol::digest::SignedPublicDigest::sign(
                    tiezheng_protocol::digest::PublicDigest::of(&notarised).unwrap(),
                    &key,
                )
                .unwrap(),
            )
            .unwrap(),
        ),
        ("receipt", serde_json::to_value(&receipt).unwrap()),
        ("signature", serde_json::to_value(&block).unwrap()),
        (
            "submit-response",
            serde_json::to_value(SubmitResponse {
                results: vec![SubmitResult {
                    index: 0,
                    receipt: Some(receipt.clone()),
                    error: None,
                }],
            })
            .unwrap(),
        ),
        (
            "signed-document",
            json!({"document": document, "signature": block}),
        ),
    ]
}

/// A photo captured on scene, as the SDK would describe it (fixed values), under the
/// administrative enforcement profile, every requirement met.
fn example_manifest(key: &Sm2SigningKey) -> Manifest {
    let mut m = example_manifest_without_procedure(key);
    let admin = tiezheng_protocol::profile::find("cn.admin-penalty.onsite.2021").unwrap();
    let mut facts = tiezheng_protocol::profile::Facts::of(&m);
    facts.signers = vec!["310101", "310102"];
    m.procedure = Some(tiezheng_protocol::profile::assess(&admin, &facts, |_| None).unwrap());
    m
}

fn example_manifest_without_procedure(key: &Sm2SigningKey) -> Manifest {
    let t = |s: &str| Timestamp::parse(s).unwrap();
    let d = |s: &str| Decimal::parse(s).unwrap();
    let digests = abc();
    Manifest {
        kind: "tiezheng.manifest.v1".into(),
        manifest_id: "00112233445566778899aabbccddeeff".into(),
        device_seq: 2,
        previous_manifest_sm3: Some(Hash32::sm3(b"previous manifest")),
        created_at: t("2026-11-21T09:30:00.250+08:00"),
        case: CaseRecord {
            reference: "沪公(浦)行罚决字〔2026〕1234号".into(),
            cause: Some("占道经营".into()),
            object: Some("stall on the pavement".into()),
            description: Some("overview photo of the stall".into()),
            method: "on-site capture with the Tiezheng SDK".into(),
            collectors: vec!["310101".into(), "310102".into()],
            holder: Some(PartyRecord {
                name: Some("张三".into()),
                note: Some("refused to sign".into()),
            }),
            witness: Some(PartyRecord {
                name: None,
                note: Some("no bystander willing to act as witness".into()),
            }),
        },
        items: vec![EvidenceItem {
            kind: ItemKind::Photo,
            origin: Origin::Captured,
            file_name: "IMG_20261121_093000.jpg".into(),
            mime: "image/jpeg".into(),
            bytes: digests.bytes,
            hashes: ContentHash::pair(&digests),
            times: CaptureTimes {
                device_time: t("2026-11-21T09:30:00.123+08:00"),
                monotonic_ms: Some(86_400_123),
                gnss_time: Some(t("2026-11-21T01:29:59.000Z")),
                last_time_sync: Some(TimeSync {
                    at: t("2026-11-21T08:00:00.000+08:00"),
                    source: "ntp:ntp.ntsc.ac.cn".into(),
                    offset_ms: -120,
                }),
            },
            location: Some(Location {
                coordinate_system: "WGS-84".into(),
                os_fix: Some(LocationFix {
                    latitude: d("31.230390"),
                    longitude: d("121.473700"),
                    altitude: Some(d("12.5")),
                    horizontal_accuracy: Some(d("4.8")),
                    vertical_accuracy: Some(d("6")),
                    provider: LocationProvider::Fused,
                    fix_time: Some(t("2026-11-21T09:29:59.500+08:00")),
                    satellites: Some(17),
                    mock: false,
                }),
            }),
            metadata: MediaMetadata {
                gps: Some(GpsPoint {
                    latitude: d("31.2303911"),
                    longitude: d("121.4737012"),
                    altitude: Some(d("12.4")),
                }),
                captured_at: Some("2026-11-21T09:30:00+08:00".into()),
                make: Some("Xiaomi".into()),
                model: Some("23127PN0CC".into()),
                orientation: Some(1),
                sources: vec!["exif".into()],
            },
            fingerprint: Some(Fingerprint {
                algorithm: "dHash-64".into(),
                value: "d658d8989957c373".into(),
            }),
            recording: None,
            findings: vec![Finding {
                code: "gps_distance".into(),
                detail: "file GPS is 0 m from the OS fix (accuracy 5 m)".into(),
            }],
        }],
        session_summary: None,
        procedure: None,
        device: DeviceInfo {
            enrolment_id: Some("enr-0001".into()),
            device_id: "9f86d081884c7d659a2feaa0c55ad015".into(),
            model: "Xiaomi 23127PN0CC".into(),
            os: "Android 15".into(),
            sdk_version: "0.1.0".into(),
            key_id: key.public_key().key_id(),
        },
    }
}

#[test]
fn proof_example_verifies_through_the_wire_shape() {
    let bytes = std::fs::read(repo_root().join("schemas/examples/proof.json")).unwrap();
    let verified = Proof::verify_bytes(&bytes).unwrap();
    assert_eq!(verified.proof.manifest.device_seq, 2);
}

#[test]
fn committed_schemas_match_the_types() {
    let dir = repo_root().join("schemas");
    let all = schema::all();
    for (stem, s) in &all {
        check_file(&dir.join(format!("{stem}.schema.json")), &schema::render(s));
    }
    // No schema file for a type that no longer exists.
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if let Some(stem) = name.strip_suffix(".schema.json") {
            assert!(
                all.iter().any(|(s, _)| *s == stem),
                "schemas/{name} has no Rust type; delete it"
            );
        }
    }
}

#[test]
fn committed_examples_match_the_code() {
    let dir = repo_root().join("schemas/examples");
    for (stem, value) in examples() {
        check_file(&dir.join(format!("{stem}.json")), &pretty(&value));
    }
}

#[test]
fn schemas_are_valid_2020_12_and_examples_validate() {
    let dir = repo_root().join("schemas");
    for (stem, s) in schema::all() {
        let schema_value = serde_json::to_value(&s).unwrap();
        assert_eq!(
            schema_value["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
        jsonschema::meta::validate(&schema_value)
            .unwrap_or_else(|e| panic!("{stem}: not a valid schema: {e}"));
        let validator = jsonschema::draft202012::new(&schema_value).unwrap();
        let example_path = dir.join(format!("examples/{stem}.json"));
        let example: Value =
            serde_json::from_str(&std::fs::read_to_string(&example_path).unwrap()).unwrap();
        if let Err(e) = validator.validate(&example) {
            panic!("{} does not validate: {e}", example_path.display());
        }
    }
}

/// A real consortium bundle, from the four-validator CometBFT testnet (`tests/consortium.rs`
/// writes it under `TIEZHENG_BLESS=1`), with the court's policy pinning that network: it
/// validates against the schemas and verifies offline, BFT layer included.
#[test]
fn consortium_example_validates_and_verifies() {
    let dir = repo_root().join("schemas");
    let read = |name: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(dir.join("examples").join(name)).unwrap())
            .unwrap()
    };
    let bundle_value = read("bundle-consortium.json");
    let policy_value = read("policy-consortium.json");
    let governed_value = read("bundle-consortium-governance.json");
    for (stem, v) in [
        ("bundle", &bundle_value),
        ("policy", &policy_value),
        ("bundle", &governed_value),
    ] {
        let s = schema::all()
            .into_iter()
            .find(|(n, _)| *n == stem)
            .unwrap()
            .1;
        let validator = jsonschema::draft202012::new(&serde_json::to_value(&s).unwrap()).unwrap();
        if let Err(e) = validator.validate(v) {
            panic!("{stem}-consortium.json does not validate: {e}");
        }
    }
    let bundle: tiezheng_protocol::bundle::Bundle = serde_json::from_value(bundle_value).unwrap();
    let policy: tiezheng_protocol::bundle::Policy = serde_json::from_value(policy_value).unwrap();
    let report = common::verify_bundle(&bundle, None, &policy).unwrap();
    let chain = report.chain.unwrap();
    assert_eq!(chain.height, report.checkpoint_height + 1);
    assert_eq!(chain.validators, 4);
    // After the members admitted a second notary: the genesis policy, followed through the
    // SM2-approved change the bundle carries, accepts the new notary's bundle.
    let governed: tiezheng_protocol::bundle::Bundle =
        serde_json::from_value(governed_value).unwrap();
    assert_eq!(governed.governance.len(), 1);
    common::verify_bundle(&governed, None, &policy).unwrap();
}

#[test]
fn signed_example_verifies() {
    let path = repo_root().join("schemas/examples/signed-document.json");
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let block: SignatureBlock = serde_json::from_value(v["signature"].clone()).unwrap();
    block.verify_value(&v["document"]).unwrap();
}

#[test]
fn schemas_refuse_malformed_documents() {
    let get = |stem: &str| {
        let s = schema::all()
            .into_iter()
            .find(|(n, _)| *n == stem)
            .unwrap()
            .1;
        jsonschema::draft202012::new(&serde_json::to_value(&s).unwrap()).unwrap()
    };
    let record = get("hash-record");
    let good = serde_json::to_value(HashRecord::new("a", &abc())).unwrap();
    assert!(record.is_valid(&good));
    let mut upper = good.clone();
    upper["sm3"] = json!(abc().sm3.to_hex().to_uppercase());
    assert!(!record.is_valid(&upper), "uppercase hex must be refused");
    let mut extra = good.clone();
    extra["note"] = json!("x");
    assert!(!record.is_valid(&extra), "unknown members must be refused");
    let mut float = good;
    float["bytes"] = json!(3.5);
    assert!(!record.is_valid(&float), "floats must be refused");

    let sig = get("signature");
    let mut bad_id =
        serde_json::to_value(SignatureBlock::sign(&Sm2SigningKey::generate(), &json!({})).unwrap())
            .unwrap();
    assert!(sig.is_valid(&bad_id));
    bad_id["sm2_id"] = json!("TLSv1.3+GM+Cipher+Suite");
    assert!(!sig.is_valid(&bad_id));
}
