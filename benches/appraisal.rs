//! Judicial appraisal online (issue #23): how long from the last signature (the institution's
//! delivery) to an opinion the court holds and has verified offline, against a real
//! `tiezheng serve` (SQLite); how long the notary's check of each step takes as the procedure
//! grows; and how long verifying the opinion package takes. References measured in the same
//! run: fetching and verifying the evidence bundle alone (what the opinion adds to it), and
//! verifying the example bundle alone.
//!
//! `cargo bench --bench appraisal` (`TIEZHENG_BENCH_RUNS`, default 20 procedures)

#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::cast_precision_loss,
    missing_docs
)]

/// How long the custody log's uncommitted events wait for a batch before a batch of no proof
/// commits them (the notary's default is 5,000 ms): the bound on anchoring the last step.
const CUSTODY_ANCHOR_MS: &str = "200";

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use serde_json::json;
use tiezheng_protocol::appraisal::{
    Act, AppraiserCredential, Chain, MaterialItem, OpinionPackage, Role, SignedAppraiserCredential,
};
use tiezheng_protocol::bundle::{Party, PartyRole, Policy};
use tiezheng_protocol::verify::appraisal::check_in_progress;
use tiezheng_protocol::verify::verify_document;
use tiezheng_protocol::{Hash32, HashAlgorithm, Proof, Sm2SigningKey, Timestamp};

fn key(seed: &str) -> Sm2SigningKey {
    Sm2SigningKey::from_bytes(Hash32::sm3(seed.as_bytes()).as_bytes()).unwrap()
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// The `pct`-th percentile (nearest rank below).
fn percentile(v: &mut [f64], pct: usize) -> f64 {
    v.sort_by(f64::total_cmp);
    v[(v.len() - 1) * pct / 100]
}

/// A step to make: by whom, in which role, what, signed by whom, with which credentials.
type Planned = (
    &'static str,
    Role,
    Act,
    Vec<&'static str>,
    Vec<SignedAppraiserCredential>,
);

/// The whole procedure on `items` but the delivery, through the notary; returns the chain.
fn procedure(
    n: &common::Notary,
    token: &str,
    court_token: &str,
    items: &[MaterialItem],
    case: &str,
) -> (Chain, String) {
    let start = Timestamp::now_utc().unix_ms();
    let mut tick = 0;
    let mut at = || {
        tick += 1;
        Timestamp::from_unix_ms(start + tick, 8 * 60)
    };
    let mut c = Chain::default();
    c.push(
        at(),
        "court",
        Role::Court,
        Act::Commission {
            case_reference: case.into(),
            institution: "institute".into(),
            items: items.to_vec(),
            questions: vec!["是否被修改？".into()],
            deadline: Timestamp::from_unix_ms(start + 86_400_000, 8 * 60),
        },
        &[&key("court")],
    )
    .unwrap();
    let (s, v) = n.call(
        "POST",
        "/v1/appraisals",
        Some(court_token),
        json!({"step": c.steps[0]}).to_string().as_bytes(),
    );
    assert_eq!(s, 201, "{v}");
    let id = v["commission_sm3"].as_str().unwrap().to_owned();
    let credential = |p: &str| {
        SignedAppraiserCredential::sign(
            AppraiserCredential::new(
                "institute",
                p,
                p,
                p,
                key(p).public_key(),
                Timestamp::from_unix_ms(0, 0),
            ),
            &key("institute"),
        )
        .unwrap()
    };
    let mut plan: Vec<Planned> = vec![
        (
            "institute",
            Role::Institution,
            Act::Acceptance {
                accepted: true,
                reason: None,
            },
            vec!["institute"],
            vec![],
        ),
        (
            "institute",
            Role::Institution,
            Act::Assignment {
                appraisers: vec!["a1".into(), "a2".into()],
                reviewer: "r1".into(),
            },
            vec!["institute"],
            vec![],
        ),
    ];
    for p in ["a1", "a2", "r1"] {
        plan.push((
            p,
            Role::Appraiser,
            Act::Declaration {
                statement: "无利害关系".into(),
            },
            vec![p],
            vec![credential(p)],
        ));
    }
    for p in ["a1", "a2"] {
        plan.push((
            p,
            Role::Appraiser,
            Act::MaterialReceipt {
                items: items.to_vec(),
            },
            vec![p],
            vec![],
        ));
        plan.push((
            p,
            Role::Appraiser,
            Act::RecordEntry {
                tool: "tiezheng verify".into(),
                tool_version: "0".into(),
                action: "verified".into(),
                result: "valid".into(),
                attachments: vec![],
            },
            vec![p],
            vec![],
        ));
    }
    plan.push((
        "institute",
        Role::Institution,
        Act::Opinion {
            findings: vec!["否".into()],
        },
        vec!["a1", "a2", "institute"],
        vec![],
    ));
    plan.push((
        "r1",
        Role::Appraiser,
        Act::Review {
            approved: true,
            remarks: "同意".into(),
        },
        vec!["r1"],
        vec![],
    ));
    for (by, role, act, signers, credentials) in plan {
        let keys: Vec<Sm2SigningKey> = signers.iter().map(|s| key(s)).collect();
        c.push(at(), by, role, act, &keys.iter().collect::<Vec<_>>())
            .unwrap();
        let (s, v) = n.call(
            "POST",
            &format!("/v1/appraisals/{id}/steps"),
            Some(token),
            json!({"step": c.steps.last().unwrap(), "credentials": credentials})
                .to_string()
                .as_bytes(),
        );
        assert_eq!(s, 201, "{v}");
    }
    (c, id)
}

fn main() {
    let runs: usize = std::env::var("TIEZHENG_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let root = tempfile::tempdir().unwrap();
    let dir = root.path();
    let parties = vec![
        Party {
            id: "court".into(),
            role: PartyRole::Court,
            public_key: key("court").public_key().to_hex(),
        },
        Party {
            id: "institute".into(),
            role: PartyRole::AppraisalInstitution,
            public_key: key("institute").public_key().to_hex(),
        },
    ];
    let parties_file = dir.join("parties.json");
    std::fs::write(&parties_file, serde_json::to_vec(&parties).unwrap()).unwrap();
    let n = common::Notary::start(
        &dir.join("notary"),
        &[
            (
                "TIEZHENG_NOTARY_JUDICIAL_PARTIES_FILE",
                parties_file.to_str().unwrap(),
            ),
            ("TIEZHENG_NOTARY_CUSTODY_ANCHOR_MS", CUSTODY_ANCHOR_MS),
            ("TIEZHENG_LOG", "warn"),
        ],
    );
    let dev = common::device(dir, "dev", &n);
    let proof_bytes = common::capture(&dev, "photos/DSCN0010.jpg");
    let proof: Proof = serde_json::from_slice(&proof_bytes).unwrap();
    let proof_sm3 = Hash32::sm3(&proof_bytes);
    common::cli(&dev, &["sync"]);
    let (court, _) = n.token("court", &[]);
    let (appraiser, _) = n.token("appraiser", &[&proof.manifest.case.reference]);
    common::wait_for_bundle(&n, &court, &proof_sm3.to_hex());
    let (_, v) = n.call("GET", "/v1/ledger/policy", None, b"");
    let mut policy: Policy = serde_json::from_value(v).unwrap();
    policy.parties = parties;
    let item = &proof.manifest.items[0];
    let items = vec![MaterialItem {
        proof_sm3,
        file_name: item.file_name.clone(),
        sm3: item
            .hashes
            .iter()
            .find(|h| h.algorithm == HashAlgorithm::Sm3)
            .unwrap()
            .value,
    }];

    let (mut to_opinion, mut to_bundle) = (Vec::new(), Vec::new());
    let mut opinion_bytes = Vec::new();
    for run in 0..runs {
        let (mut c, id) = procedure(
            &n,
            &appraiser,
            &court,
            &items,
            &format!("(2026)沪0115民初{run:05}号"),
        );
        let last = c.steps.last().unwrap().step.at;
        c.push(
            Timestamp::from_unix_ms(last.unix_ms() + 1, 8 * 60),
            "institute",
            Role::Institution,
            Act::Delivery {
                court: "court".into(),
            },
            &[&key("institute")],
        )
        .unwrap();
        // The last signature is made: deliver, fetch, verify offline.
        let t = Instant::now();
        let (s, v) = n.call(
            "POST",
            &format!("/v1/appraisals/{id}/steps"),
            Some(&appraiser),
            json!({"step": c.steps.last().unwrap()})
                .to_string()
                .as_bytes(),
        );
        assert_eq!(s, 201, "{v}");
        let (s, body) =
            common::get_when_anchored(&n, &court, &format!("/v1/appraisals/{id}/opinion"));
        assert_eq!(s, 200);
        assert!(verify_document(&body, None, Some(&policy)).unwrap().valid);
        to_opinion.push(ms(t.elapsed()));
        opinion_bytes = body;
        // Reference: the evidence bundle alone, fetched and verified.
        let t = Instant::now();
        let (s, body) = common::http(
            "GET",
            &format!("{}/v1/proofs/{proof_sm3}/bundle", n.url),
            Some(&court),
            b"",
        );
        assert_eq!(s, 200);
        assert!(verify_document(&body, None, Some(&policy)).unwrap().valid);
        to_bundle.push(ms(t.elapsed()));
    }
    println!(
        "last signature → delivered opinion fetched and verified offline: median {:.1} ms, p90 {:.1} ms over {runs} procedures (reference, same run: the evidence bundle alone fetched and verified, median {:.1} ms)",
        percentile(&mut to_opinion, 50),
        percentile(&mut to_opinion, 90),
        percentile(&mut to_bundle, 50)
    );

    // The notary's check of each step, as the procedure grows (13 steps).
    let pkg: OpinionPackage = serde_json::from_slice(&opinion_bytes).unwrap();
    let t = Instant::now();
    let rounds = 50;
    for _ in 0..rounds {
        for k in 1..=pkg.steps.len() {
            let prefix = OpinionPackage {
                steps: pkg.steps[..k].to_vec(),
                bundles: Vec::new(),
                ..pkg.clone()
            };
            check_in_progress(&prefix, &policy.parties).unwrap();
        }
    }
    println!(
        "check_in_progress: {:.2} ms per step on average over a {}-step procedure",
        ms(t.elapsed()) / (rounds * pkg.steps.len()) as f64,
        pkg.steps.len()
    );

    // Verifying the opinion package, best of 50, beside the example bundle alone.
    let examples = common::repo_root().join("schemas/examples");
    let best = |bytes: &[u8], policy: &Policy| {
        (0..50)
            .map(|_| {
                let t = Instant::now();
                assert!(verify_document(bytes, None, Some(policy)).unwrap().valid);
                ms(t.elapsed())
            })
            .fold(f64::MAX, f64::min)
    };
    let example_opinion = std::fs::read(examples.join("appraisal-opinion.json")).unwrap();
    let judicial: Policy =
        serde_json::from_slice(&std::fs::read(examples.join("policy-judicial.json")).unwrap())
            .unwrap();
    let example_bundle = std::fs::read(examples.join("bundle.json")).unwrap();
    let example_policy: Policy =
        serde_json::from_slice(&std::fs::read(examples.join("policy.json")).unwrap()).unwrap();
    println!(
        "opinion verification: {:.2} ms for the example opinion ({} bytes, 13 steps, 18 signatures, one bundle); reference, same run: its bundle alone {:.2} ms",
        best(&example_opinion, &judicial),
        example_opinion.len(),
        best(&example_bundle, &example_policy)
    );
}
