//! Layer `appraisal`: a genuine opinion package (a registered court commissions a registered
//! institution on the example bundle's photo; two appraisers and a reviewer, each with the
//! institution's credential) passes every rule; each forgery, re-signed with the real keys so
//! that only the rule under test can catch it, is refused by exactly that rule.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod common;

use std::collections::BTreeSet;

use common::evidence::{Keys, Step, custody_with, genuine, keys, pinned, reseal};
use serde_json::Value;
use tiezheng_protocol::appraisal::credential::REVOCATION_TYPE;
use tiezheng_protocol::appraisal::{
    Act, AppraiserCredential, AppraiserRevocation, Chain, MaterialItem, OPINION_TYPE,
    OpinionPackage, Role, SignedAppraiserCredential, SignedAppraiserRevocation, SignedStep,
    custody_detail,
};
use tiezheng_protocol::bundle::{Bundle, Party, PartyRole, Policy};
use tiezheng_protocol::sm2::Sm2SigningKey;
use tiezheng_protocol::verify::appraisal::{RULES, verify_opinion_bytes};
use tiezheng_protocol::verify::{Report, Status};
use tiezheng_protocol::{Hash32, HashAlgorithm, Timestamp, canonical};

const COURT: &str = "shanghai-pudong-court";
const INSTITUTE: &str = "east-china-forensic-institute";

fn key(seed: &str) -> Sm2SigningKey {
    Sm2SigningKey::from_bytes(Hash32::sm3(seed.as_bytes()).as_bytes()).unwrap()
}

fn t(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

/// The example bundle and the court's pinned policy: the example's, with the court and the
/// institution as judicial parties.
/// The genuine evidence (built with the real keys of every party) and the court's policy with
/// the judicial parties.
fn evidence() -> (Bundle, Policy, Keys) {
    let k = keys();
    let bundle = genuine(&k);
    let mut policy = pinned(&k);
    for (id, role) in [
        (COURT, PartyRole::Court),
        (INSTITUTE, PartyRole::AppraisalInstitution),
    ] {
        policy.parties.push(Party {
            id: id.into(),
            role,
            public_key: key(id).public_key().to_hex(),
        });
    }
    (bundle, policy, k)
}

/// The parameters a forgery may change before the chain is built and signed.
struct Plan {
    court: &'static str,
    institution: &'static str,
    appraisers: Vec<&'static str>,
    reviewer: &'static str,
    /// Who signs the opinion besides the institution.
    opinion_signers: Vec<&'static str>,
    /// (appraiser, item index, replacement SM3) in a receipt.
    receipt_sm3: Option<(&'static str, usize, Hash32)>,
    /// A record entry by this person (not assigned) after the others.
    extra_recorder: Option<&'static str>,
    /// The opinion's time.
    opinion_at: &'static str,
    /// Drop step `n` after building (without re-linking).
    drop_step: Option<usize>,
    /// Revoke this appraiser's key at this time.
    revoke: Option<(&'static str, &'static str)>,
    /// After the steps were filed (and anchored), rewrite the first record entry's result and
    /// sign every step from there again with the right keys, re-chained.
    rewrite_record: bool,
}

impl Default for Plan {
    fn default() -> Self {
        Self {
            court: COURT,
            institution: INSTITUTE,
            appraisers: vec!["A-101", "A-102"],
            reviewer: "R-201",
            opinion_signers: vec!["A-101", "A-102"],
            receipt_sm3: None,
            extra_recorder: None,
            opinion_at: "2026-12-03T16:00:00.000+08:00",
            drop_step: None,
            revoke: None,
            rewrite_record: false,
        }
    }
}

fn credential(inst: &str, id: &str) -> SignedAppraiserCredential {
    let c = AppraiserCredential::new(
        inst,
        id,
        &format!("鉴定人 {id}"),
        &format!("沪司鉴{id}"),
        key(id).public_key(),
        t("2026-01-05T09:00:00.000+08:00"),
    );
    SignedAppraiserCredential::sign(c, &key(inst)).unwrap()
}

/// The package `p` describes, signed with the real keys.
fn package(p: &Plan) -> (Vec<u8>, Policy) {
    let (mut b, policy, k) = evidence();
    let proof_sm3 = Hash32::sm3(&canonical::to_canonical_bytes(&b.proof).unwrap());
    let items: Vec<MaterialItem> = b
        .proof
        .manifest
        .items
        .iter()
        .map(|i| MaterialItem {
            proof_sm3,
            file_name: i.file_name.clone(),
            sm3: i
                .hashes
                .iter()
                .find(|h| h.algorithm == HashAlgorithm::Sm3)
                .unwrap()
                .value,
        })
        .collect();
    let (court, inst) = (key(p.court), key(p.institution));
    let mut c = Chain::default();
    let mut at = {
        let mut minute = 0;
        move || {
            minute += 7;
            t(&format!(
                "2026-12-0{}T{:02}:{:02}:00.000+08:00",
                1 + minute / 600,
                9 + (minute % 600) / 60,
                minute % 60
            ))
        }
    };
    let who = |id: &str| key(id);
    c.push(
        at(),
        p.court,
        Role::Court,
        Act::Commission {
            case_reference: "(2026)沪0115民初12345号".into(),
            institution: p.institution.into(),
            items: items.clone(),
            questions: vec![
                "检材照片自采集后是否被修改？".into(),
                "检材的采集时间与地点是否与存证记录一致？".into(),
            ],
            deadline: t("2026-12-31T17:00:00.000+08:00"),
        },
        &[&court],
    )
    .unwrap();
    c.push(
        at(),
        p.institution,
        Role::Institution,
        Act::Acceptance {
            accepted: true,
            reason: None,
        },
        &[&inst],
    )
    .unwrap();
    c.push(
        at(),
        p.institution,
        Role::Institution,
        Act::Assignment {
            appraisers: p.appraisers.iter().map(|a| (*a).to_owned()).collect(),
            reviewer: p.reviewer.into(),
        },
        &[&inst],
    )
    .unwrap();
    let mut people: Vec<&str> = p.appraisers.clone();
    if !people.contains(&p.reviewer) {
        people.push(p.reviewer);
    }
    for person in &people {
        c.push(
            at(),
            person,
            Role::Appraiser,
            Act::Declaration {
                statement: "本人与本案当事人无利害关系，无需回避".into(),
            },
            &[&who(person)],
        )
        .unwrap();
    }
    for a in &p.appraisers {
        let mut got = items.clone();
        if let Some((who_, k, sm3)) = p.receipt_sm3
            && who_ == *a
        {
            got[k].sm3 = sm3;
        }
        c.push(
            at(),
            a,
            Role::Appraiser,
            Act::MaterialReceipt { items: got },
            &[&who(a)],
        )
        .unwrap();
    }
    for (n, a) in p.appraisers.iter().enumerate() {
        c.push(
            at(),
            a,
            Role::Appraiser,
            Act::RecordEntry {
                tool: "tiezheng verify".into(),
                tool_version: "0.1.0".into(),
                action: format!(
                    "step {n}: verified the evidence bundle offline against the pinned policy"
                ),
                result: "valid: every rule passed".into(),
                attachments: vec![Hash32::sm3(format!("report {n}").as_bytes())],
            },
            &[&who(a)],
        )
        .unwrap();
    }
    if let Some(x) = p.extra_recorder {
        c.push(
            at(),
            x,
            Role::Appraiser,
            Act::RecordEntry {
                tool: "exiftool".into(),
                tool_version: "12.76".into(),
                action: "read the metadata".into(),
                result: "consistent".into(),
                attachments: vec![],
            },
            &[&who(x)],
        )
        .unwrap();
    }
    let signers: Vec<Sm2SigningKey> = p
        .opinion_signers
        .iter()
        .map(|a| who(a))
        .chain([key(p.institution)])
        .collect();
    let refs: Vec<&Sm2SigningKey> = signers.iter().collect();
    c.push(
        t(p.opinion_at),
        p.institution,
        Role::Institution,
        Act::Opinion {
            findings: vec![
                "未发现修改痕迹：文件SM3与存证时一致。".into(),
                "采集时间与地点与存证记录一致。".into(),
            ],
        },
        &refs,
    )
    .unwrap();
    c.push(
        t("2026-12-04T10:00:00.000+08:00"),
        p.reviewer,
        Role::Appraiser,
        Act::Review {
            approved: true,
            remarks: "复核同意".into(),
        },
        &[&who(p.reviewer)],
    )
    .unwrap();
    c.push(
        t("2026-12-04T15:00:00.000+08:00"),
        p.institution,
        Role::Institution,
        Act::Delivery {
            court: p.court.into(),
        },
        &[&inst],
    )
    .unwrap();
    let mut steps = c.steps;
    if let Some(n) = p.drop_step {
        steps.remove(n);
    }
    // The notary records each step filed in the evidence's custody log, anchored with it.
    let commission = steps[0].sm3().unwrap();
    let filed: Vec<String> = steps
        .iter()
        .map(|s| custody_detail(&commission, s).unwrap())
        .collect();
    b.custody = Some(custody_with(&b, &k, &filed));
    reseal(&mut b, &k, Step::AnchorLog);
    if p.rewrite_record {
        let at = steps
            .iter()
            .position(|s| matches!(s.step.act, Act::RecordEntry { .. }))
            .unwrap();
        if let Act::RecordEntry { result, .. } = &mut steps[at].step.act {
            *result = "valid; nothing else was examined".into();
        }
        for i in at..steps.len() {
            let prev = steps[i - 1].sm3().unwrap();
            let s = &mut steps[i];
            s.step.prev = Some(prev);
            let signers: Vec<Sm2SigningKey> = match &s.step.act {
                Act::Opinion { .. } => p
                    .opinion_signers
                    .iter()
                    .map(|a| key(a))
                    .chain([key(p.institution)])
                    .collect(),
                _ => vec![key(&s.step.by)],
            };
            let refs: Vec<&Sm2SigningKey> = signers.iter().collect();
            *s = SignedStep::sign(s.step.clone(), &refs).unwrap();
        }
    }
    let mut credentials: Vec<SignedAppraiserCredential> = people
        .iter()
        .map(|id| credential(p.institution, id))
        .collect();
    if let Some(x) = p.extra_recorder {
        credentials.push(credential(p.institution, x));
    }
    let revocations = p
        .revoke
        .map(|(id, when)| {
            SignedAppraiserRevocation::sign(
                AppraiserRevocation {
                    kind: REVOCATION_TYPE.into(),
                    institution: p.institution.into(),
                    appraiser_id: id.into(),
                    key_id: key(id).public_key().key_id(),
                    revoked_at: t(when),
                    reason: "licence suspended".into(),
                },
                &key(p.institution),
            )
            .unwrap()
        })
        .into_iter()
        .collect();
    let pkg = OpinionPackage {
        kind: OPINION_TYPE.into(),
        steps,
        credentials,
        revocations,
        bundles: vec![serde_json::to_value(&b).unwrap()],
    };
    (canonical::to_canonical_bytes(&pkg).unwrap(), policy)
}

fn failing(r: &Report) -> BTreeSet<&'static str> {
    r.failures().map(|c| c.rule).collect()
}

/// The committed example (`schemas/examples/appraisal-opinion.json`, and the court's policy
/// with its judicial parties, `policy-judicial.json`) is this package; `TIEZHENG_BLESS=1`
/// rewrites them.
fn check_example(name: &str, value: &Value) {
    let path = common::repo_root().join("schemas/examples").join(name);
    let want = serde_json::to_string_pretty(value).unwrap() + "\n";
    if std::env::var_os("TIEZHENG_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, want).unwrap();
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "{} is out of date: regenerate with `TIEZHENG_BLESS=1 cargo test -p tiezheng-protocol --test appraisal`",
        path.display()
    );
}

#[test]
fn a_genuine_opinion_passes_every_rule() {
    let (bytes, policy) = package(&Plan::default());
    let r = verify_opinion_bytes(&bytes, &policy).unwrap();
    assert!(r.is_valid(), "{:?}", r.failures().collect::<Vec<_>>());
    for rule in RULES {
        assert_eq!(r.status(rule), Some(Status::Pass), "{rule}");
    }
    check_example(
        "appraisal-opinion.json",
        &serde_json::from_slice(&bytes).unwrap(),
    );
    check_example(
        "policy-judicial.json",
        &serde_json::to_value(&policy).unwrap(),
    );
    // The same package refused by a court that does not pin the institution.
    let mut other = policy.clone();
    other
        .parties
        .retain(|p| p.role != PartyRole::AppraisalInstitution);
    let r = verify_opinion_bytes(&bytes, &other).unwrap();
    assert_eq!(failing(&r), BTreeSet::from(["appraisal.institution"]));
}

#[test]
fn bad_input_is_refused_under_appraisal_schema_and_nothing_else_runs() {
    let (bytes, policy) = package(&Plan::default());
    let mut v: Value = serde_json::from_slice(&bytes).unwrap();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("not JSON", b"{not json".to_vec()),
        ("an unknown member", {
            let mut w = v.clone();
            w["smuggled"] = Value::Bool(true);
            serde_json::to_vec(&w).unwrap()
        }),
        ("another type", {
            let mut w = v.clone();
            w["type"] = "tiezheng.bundle.v1".into();
            serde_json::to_vec(&w).unwrap()
        }),
        ("no steps", {
            let mut w = v.clone();
            w["steps"] = Value::Array(vec![]);
            serde_json::to_vec(&w).unwrap()
        }),
    ];
    for (what, input) in cases {
        let r = verify_opinion_bytes(&input, &policy).unwrap();
        assert_eq!(failing(&r), BTreeSet::from(["appraisal.schema"]), "{what}");
        assert!(
            r.checks
                .iter()
                .filter(|c| c.rule != "appraisal.schema")
                .all(|c| c.status == Status::Skip),
            "{what}"
        );
    }
    // A re-dated step whose signature was not re-made: only the signature rule sees it.
    v["steps"][1]["step"]["at"] = "2026-12-01T09:15:00.000+08:00".into();
    let r = verify_opinion_bytes(&serde_json::to_vec(&v).unwrap(), &policy).unwrap();
    assert!(
        failing(&r).contains("appraisal.signatures"),
        "{:?}",
        failing(&r)
    );
}

/// Each forgery the issue names: its rule, what it is, and the plan that makes it.
fn forgeries() -> Vec<(&'static str, &'static str, Plan)> {
    vec![
        (
            "appraisal.anchor",
            "the process record rewritten after it was filed and anchored, every later step signed again by the right keys",
            Plan {
                rewrite_record: true,
                ..Plan::default()
            },
        ),
        (
            "appraisal.opinion",
            "an opinion missing an assigned appraiser's signature",
            Plan {
                opinion_signers: vec!["A-101"],
                ..Plan::default()
            },
        ),
        (
            "appraisal.appraiser",
            "a record entry by an appraiser who was not assigned",
            Plan {
                extra_recorder: Some("A-109"),
                ..Plan::default()
            },
        ),
        (
            "appraisal.revocation",
            "an appraiser whose key was revoked before they signed the opinion",
            Plan {
                revoke: Some(("A-102", "2026-12-03T12:00:00.000+08:00")),
                ..Plan::default()
            },
        ),
        (
            "appraisal.assignment",
            "the reviewer is one of the appraisers",
            Plan {
                reviewer: "A-101",
                ..Plan::default()
            },
        ),
        (
            "appraisal.material",
            "a material receipt whose SM3 differs from the proof's",
            Plan {
                receipt_sm3: Some(("A-102", 0, Hash32::sm3(b"another photo"))),
                ..Plan::default()
            },
        ),
        (
            "appraisal.time",
            "an opinion dated before the material receipt",
            Plan {
                opinion_at: "2026-12-01T09:10:00.000+08:00",
                ..Plan::default()
            },
        ),
        (
            "appraisal.court",
            "a commission not signed by a registered court",
            Plan {
                court: "a-rogue-court",
                ..Plan::default()
            },
        ),
        (
            "appraisal.institution",
            "an institution not in the registry",
            Plan {
                institution: "a-rogue-institute",
                ..Plan::default()
            },
        ),
        (
            "appraisal.chain",
            "a chain link skipped (a record entry removed)",
            Plan {
                drop_step: Some(9),
                ..Plan::default()
            },
        ),
    ]
}

#[test]
fn every_forgery_is_refused_by_exactly_its_rule() {
    let forgeries = forgeries();
    // Written to target/forgeries/appraisal/ (or $TIEZHENG_FORGERIES_DIR/appraisal) with an
    // index.json, for the reference verifier in another language.
    let dir = std::env::var_os("TIEZHENG_FORGERIES_DIR")
        .map_or_else(
            || common::repo_root().join("target/forgeries"),
            std::path::PathBuf::from,
        )
        .join("appraisal");
    std::fs::create_dir_all(&dir).unwrap();
    let (genuine, policy) = package(&Plan::default());
    std::fs::write(dir.join("genuine.json"), &genuine).unwrap();
    std::fs::write(
        dir.join("policy.json"),
        serde_json::to_vec_pretty(&policy).unwrap(),
    )
    .unwrap();
    let mut problems = Vec::new();
    let mut index = Vec::new();
    for (i, (rule, name, plan)) in forgeries.iter().enumerate() {
        let (bytes, policy) = package(plan);
        let r = verify_opinion_bytes(&bytes, &policy).unwrap();
        let failed = failing(&r);
        if failed != BTreeSet::from([*rule]) {
            problems.push(format!("{rule} ({name}): failed {failed:?}"));
        }
        let file = format!("forgery-{i:03}.json");
        std::fs::write(dir.join(&file), &bytes).unwrap();
        index.push(
            serde_json::json!({"file": file, "rule": rule, "name": name, "policy": "policy.json"}),
        );
    }
    std::fs::write(
        dir.join("index.json"),
        serde_json::to_vec_pretty(&index).unwrap(),
    )
    .unwrap();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The genuine package's steps up to `n`, with its credentials, no bundles.
fn prefix(pkg: &OpinionPackage, n: usize) -> OpinionPackage {
    OpinionPackage {
        steps: pkg.steps.iter().take(n).cloned().collect(),
        bundles: Vec::new(),
        ..pkg.clone()
    }
}

/// `pkg` with `act` appended by `by` in `role`, `minutes` after its last step, signed by `signer`.
fn then(
    pkg: &OpinionPackage,
    by: &str,
    role: Role,
    act: Act,
    signer: &str,
    minutes: i64,
) -> OpinionPackage {
    let last = pkg.steps.last().unwrap().step.at;
    let mut c = Chain {
        steps: pkg.steps.clone(),
    };
    c.push(
        Timestamp::from_unix_ms(last.unix_ms() + minutes * 60_000, 8 * 60),
        by,
        role,
        act,
        &[&key(signer)],
    )
    .unwrap();
    OpinionPackage {
        steps: c.steps,
        ..pkg.clone()
    }
}

#[test]
fn every_step_is_checked_as_it_comes_and_bad_steps_are_refused_by_rule() {
    use tiezheng_protocol::verify::appraisal::check_in_progress;
    let (bytes, policy) = package(&Plan::default());
    let pkg: OpinionPackage = serde_json::from_slice(&bytes).unwrap();
    for n in 1..=pkg.steps.len() {
        check_in_progress(&prefix(&pkg, n), &policy.parties)
            .unwrap_or_else(|e| panic!("the genuine procedure's first {n} step(s): {e}"));
    }
    let accepted = prefix(&pkg, 2);
    let declared = prefix(&pkg, 6);
    let refusals: Vec<(&str, &str, OpinionPackage)> = vec![
        (
            "appraisal.order",
            "a second acceptance",
            then(
                &accepted,
                INSTITUTE,
                Role::Institution,
                Act::Acceptance {
                    accepted: true,
                    reason: None,
                },
                INSTITUTE,
                5,
            ),
        ),
        (
            "appraisal.order",
            "an opinion before any material was received",
            then(
                &declared,
                INSTITUTE,
                Role::Institution,
                Act::Opinion {
                    findings: vec!["x".into(), "y".into()],
                },
                INSTITUTE,
                5,
            ),
        ),
        (
            "appraisal.time",
            "an acceptance after the deadline",
            then(
                &prefix(&pkg, 1),
                INSTITUTE,
                Role::Institution,
                Act::Acceptance {
                    accepted: true,
                    reason: None,
                },
                INSTITUTE,
                60 * 24 * 60,
            ),
        ),
        (
            "appraisal.institution",
            "the assignment signed with another key",
            then(
                &accepted,
                INSTITUTE,
                Role::Institution,
                Act::Assignment {
                    appraisers: vec!["A-101".into(), "A-102".into()],
                    reviewer: "R-201".into(),
                },
                "A-101",
                5,
            ),
        ),
        (
            "appraisal.appraiser",
            "a declaration by someone not assigned",
            then(
                &prefix(&pkg, 3),
                "A-109",
                Role::Appraiser,
                Act::Declaration {
                    statement: "无利害关系".into(),
                },
                "A-109",
                5,
            ),
        ),
    ];
    for (rule, what, candidate) in refusals {
        let e = check_in_progress(&candidate, &policy.parties).expect_err(what);
        assert_eq!(e.rule, rule, "{what}: {e}");
        assert!(!e.message.is_empty());
    }
    // Nothing follows a refusal.
    let refused = then(
        &prefix(&pkg, 1),
        INSTITUTE,
        Role::Institution,
        Act::Acceptance {
            accepted: false,
            reason: Some("超出本机构业务范围".into()),
        },
        INSTITUTE,
        5,
    );
    check_in_progress(&refused, &policy.parties).unwrap();
    let after = then(
        &refused,
        INSTITUTE,
        Role::Institution,
        Act::Assignment {
            appraisers: vec!["A-101".into(), "A-102".into()],
            reviewer: "R-201".into(),
        },
        INSTITUTE,
        5,
    );
    assert_eq!(
        check_in_progress(&after, &policy.parties).unwrap_err().rule,
        "appraisal.order"
    );
}

/// The reference verifier in Python (`tools/reference-verifier/`, written from `VERIFYING.md`
/// §6 alone) on a package: `(valid, failed rules)`.
fn reference_verdict(package: &std::path::Path, policy: &std::path::Path) -> (bool, Vec<String>) {
    let out = std::process::Command::new("python3")
        .arg(common::repo_root().join("tools/reference-verifier/verify.py"))
        .arg(package)
        .arg("--policy")
        .arg(policy)
        .arg("--json")
        .output()
        .expect("python3 runs the reference verifier");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "no report from the reference verifier: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let failed = v["failed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_owned())
        .collect();
    (v["valid"] == Value::Bool(true), failed)
}

/// Both verifiers accept the genuine opinion and refuse every forgery by exactly its rule.
#[test]
fn the_reference_verifier_in_python_agrees_on_opinions() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    let (genuine, policy) = package(&Plan::default());
    let policy_file = write("policy.json", &serde_json::to_vec(&policy).unwrap());
    assert_eq!(
        reference_verdict(&write("genuine.json", &genuine), &policy_file),
        (true, Vec::new())
    );
    let mut disagree = Vec::new();
    for (i, (rule, _, plan)) in forgeries().iter().enumerate() {
        let (bytes, _) = package(plan);
        let (valid, failed) =
            reference_verdict(&write(&format!("forgery-{i}.json"), &bytes), &policy_file);
        if valid || failed != [*rule] {
            disagree.push(format!(
                "{rule}: python says valid={valid}, failed {failed:?}"
            ));
        }
    }
    assert!(disagree.is_empty(), "{}", disagree.join("\n"));
}

/// The reference verifier's own forgeries (built from the examples, `forgeries.py`) are each
/// refused under the rules it expects.
#[test]
fn the_reference_verifiers_own_forgeries_are_refused() {
    let out = std::process::Command::new("python3")
        .arg(common::repo_root().join("tools/reference-verifier/forgeries.py"))
        .output()
        .expect("python3 runs the reference verifier's forgeries");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn an_opinion_is_co_signed_as_a_draft_and_only_by_its_signers() {
    use tiezheng_protocol::appraisal::SignedStep;
    use tiezheng_protocol::verify::appraisal::{check_draft, check_in_progress};
    let (bytes, policy) = package(&Plan::default());
    let pkg: OpinionPackage = serde_json::from_slice(&bytes).unwrap();
    let at = pkg
        .steps
        .iter()
        .position(|s| matches!(s.step.act, Act::Opinion { .. }))
        .unwrap();
    let before = prefix(&pkg, at);
    let genuine = pkg.steps[at].clone();
    let mut draft = SignedStep {
        step: genuine.step.clone(),
        signatures: Vec::new(),
    };
    let parties = &policy.parties;
    assert_eq!(
        check_draft(&before, &draft, parties).unwrap_err().rule,
        "appraisal.signatures",
        "a draft nobody signed"
    );
    draft.cosign(&key("A-101")).unwrap();
    draft.cosign(&key("A-101")).unwrap();
    assert_eq!(draft.signatures.len(), 1, "signing twice adds nothing");
    assert_eq!(
        check_draft(&before, &draft, parties).unwrap(),
        vec!["A-102".to_owned(), INSTITUTE.to_owned()]
    );
    // Someone who does not sign opinions: refused, whoever else signed.
    let mut stranger = draft.clone();
    stranger.cosign(&key("R-201")).unwrap();
    assert_eq!(
        check_draft(&before, &stranger, parties).unwrap_err().rule,
        "appraisal.opinion"
    );
    // A draft that does not chain to the procedure, and a draft that is not an opinion.
    let mut unchained = draft.clone();
    unchained.step.prev = Some(Hash32::sm3(b"another step"));
    unchained.signatures = vec![
        tiezheng_protocol::signed::SignatureBlock::sign(&key("A-101"), &unchained.step).unwrap(),
    ];
    assert_eq!(
        check_draft(&before, &unchained, parties).unwrap_err().rule,
        "appraisal.chain"
    );
    let review = pkg.steps[at + 1].clone();
    assert_eq!(
        check_draft(&prefix(&pkg, at + 1), &review, parties)
            .unwrap_err()
            .rule,
        "appraisal.order"
    );
    draft.cosign(&key("A-102")).unwrap();
    assert_eq!(
        check_draft(&before, &draft, parties).unwrap(),
        vec![INSTITUTE.to_owned()]
    );
    // Incomplete, it is not a step.
    let mut early = before.clone();
    early.steps.push(draft.clone());
    assert_eq!(
        check_in_progress(&early, parties).unwrap_err().rule,
        "appraisal.institution"
    );
    draft.cosign(&key(INSTITUTE)).unwrap();
    assert!(check_draft(&before, &draft, parties).unwrap().is_empty());
    let mut done = before;
    done.steps.push(draft);
    check_in_progress(&done, parties).unwrap();
}
