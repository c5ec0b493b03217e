//! Judicial appraisal online against a real notary (SQLite, or PostgreSQL when
//! `TIEZHENG_TEST_DATABASE_URL` is set): a court commissions evidence the notary holds, the
//! institution accepts and assigns two appraisers and a reviewer, each declares, receives the
//! material, records the work; the opinion is co-signed and reviewed and delivered. Every step
//! goes through `POST /v1/appraisals/…/steps` and is checked before it is stored; out-of-order,
//! repeated, late, wrongly keyed and unknown-evidence steps are refused with nothing stored, and
//! the court fetches an opinion package that `tiezheng verify` accepts offline with its policy.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod common;

use common::{Notary, capture, cli, device, notary, wait_for_bundle};
use serde_json::{Value, json};
use tiezheng_protocol::appraisal::{
    Act, AppraiserCredential, MaterialItem, Role, STEP_TYPE, SignedAppraiserCredential, SignedStep,
    Step,
};
use tiezheng_protocol::bundle::{Party, PartyRole, Policy};
use tiezheng_protocol::{Hash32, HashAlgorithm, Proof, Sm2SigningKey, Timestamp};

const COURT: &str = "shanghai-pudong-court";
const INSTITUTE: &str = "east-china-forensic-institute";

fn key(seed: &str) -> Sm2SigningKey {
    Sm2SigningKey::from_bytes(Hash32::sm3(seed.as_bytes()).as_bytes()).unwrap()
}

fn credential(id: &str) -> SignedAppraiserCredential {
    let c = AppraiserCredential::new(
        INSTITUTE,
        id,
        &format!("鉴定人 {id}"),
        &format!("沪司鉴{id}"),
        key(id).public_key(),
        Timestamp::from_unix_ms(0, 8 * 60),
    );
    SignedAppraiserCredential::sign(c, &key(INSTITUTE)).unwrap()
}

/// A party to the procedure as a client of the notary: reads the procedure, chains its step to
/// the last one and posts it.
struct Procedure<'a> {
    n: &'a Notary,
    token: String,
    commission: String,
}

impl Procedure<'_> {
    fn so_far(&self) -> Value {
        let (s, v) = self.n.call(
            "GET",
            &format!("/v1/appraisals/{}", self.commission),
            Some(&self.token),
            b"",
        );
        assert_eq!(s, 200, "{v}");
        v
    }

    /// The next step by `by` (`signers` sign it), `at_ms` after the previous one.
    fn step(&self, by: &str, role: Role, act: Act, signers: &[&str], after_ms: i64) -> SignedStep {
        let v = self.so_far();
        let steps: Vec<SignedStep> = serde_json::from_value(v["steps"].clone()).unwrap();
        let last = steps.last().unwrap();
        let keys: Vec<Sm2SigningKey> = signers.iter().map(|s| key(s)).collect();
        let refs: Vec<&Sm2SigningKey> = keys.iter().collect();
        SignedStep::sign(
            Step {
                kind: STEP_TYPE.into(),
                seq: steps.len() as u64,
                commission: Some(steps[0].sm3().unwrap()),
                prev: Some(last.sm3().unwrap()),
                at: Timestamp::from_unix_ms(last.step.at.unix_ms() + after_ms, 8 * 60),
                by: by.into(),
                role,
                act,
            },
            &refs,
        )
        .unwrap()
    }

    fn post(&self, step: &SignedStep, credentials: &[SignedAppraiserCredential]) -> (u16, Value) {
        self.n.call(
            "POST",
            &format!("/v1/appraisals/{}/steps", self.commission),
            Some(&self.token),
            json!({"step": step, "credentials": credentials})
                .to_string()
                .as_bytes(),
        )
    }

    fn add(
        &self,
        by: &str,
        role: Role,
        act: Act,
        signers: &[&str],
        credentials: &[SignedAppraiserCredential],
    ) {
        let step = self.step(by, role, act, signers, 60_000);
        let (s, v) = self.post(&step, credentials);
        assert_eq!(s, 201, "{v}");
    }

    fn refused(&self, what: &str, step: &SignedStep, status: u16, code: &str, rule: &str) {
        let before = self.so_far()["steps"].as_array().unwrap().len();
        let (s, v) = self.post(step, &[]);
        assert_eq!((s, v["code"].as_str()), (status, Some(code)), "{what}: {v}");
        assert!(v["message"].as_str().unwrap().contains(rule), "{what}: {v}");
        assert_eq!(
            self.so_far()["steps"].as_array().unwrap().len(),
            before,
            "{what}: nothing stored"
        );
    }
}

#[test]
fn an_appraisal_runs_online_step_by_step_and_the_court_verifies_the_opinion() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path();
    let parties = vec![
        Party {
            id: COURT.into(),
            role: PartyRole::Court,
            public_key: key(COURT).public_key().to_hex(),
        },
        Party {
            id: INSTITUTE.into(),
            role: PartyRole::AppraisalInstitution,
            public_key: key(INSTITUTE).public_key().to_hex(),
        },
    ];
    let parties_file = dir.join("parties.json");
    std::fs::write(&parties_file, serde_json::to_vec(&parties).unwrap()).unwrap();
    let n = notary(
        dir,
        &[
            (
                "TIEZHENG_NOTARY_JUDICIAL_PARTIES_FILE",
                parties_file.to_str().unwrap(),
            ),
            ("TIEZHENG_NOTARY_CUSTODY_ANCHOR_MS", "200"),
        ],
    );
    let dev = device(dir, "dev", &n);
    let proof_bytes = capture(&dev, "photos/DSCN0010.jpg");
    let proof: Proof = serde_json::from_slice(&proof_bytes).unwrap();
    let proof_sm3 = Hash32::sm3(&proof_bytes);
    cli(&dev, &["sync"]);
    let (court_token, _) = n.token("court", &[]);
    let case = proof.manifest.case.reference.clone();
    let (appraiser_token, _) = n.token("appraiser", &[&case]);
    let (stranger_token, _) = n.token("appraiser", &["another case"]);
    wait_for_bundle(&n, &court_token, &proof_sm3.to_hex());
    let file = &proof.manifest.items[0];
    let items = vec![MaterialItem {
        proof_sm3,
        file_name: file.file_name.clone(),
        sm3: file
            .hashes
            .iter()
            .find(|h| h.algorithm == HashAlgorithm::Sm3)
            .unwrap()
            .value,
    }];
    let now = Timestamp::now_utc().unix_ms();
    let commission = |items: Vec<MaterialItem>, by: &str| {
        SignedStep::sign(
            Step {
                kind: STEP_TYPE.into(),
                seq: 0,
                commission: None,
                prev: None,
                at: Timestamp::from_unix_ms(now, 8 * 60),
                by: by.into(),
                role: Role::Court,
                act: Act::Commission {
                    case_reference: "(2026)沪0115民初12345号".into(),
                    institution: INSTITUTE.into(),
                    items,
                    questions: vec!["检材照片自采集后是否被修改？".into()],
                    deadline: Timestamp::from_unix_ms(now + 30 * 86_400_000, 8 * 60),
                },
            },
            &[&key(by)],
        )
        .unwrap()
    };
    let file_commission = |step: &SignedStep| {
        n.call(
            "POST",
            "/v1/appraisals",
            Some(&court_token),
            json!({"step": step}).to_string().as_bytes(),
        )
    };
    // Refused commissions: evidence not held here; a court the notary does not know.
    let mut unknown = items.clone();
    unknown[0].proof_sm3 = Hash32::sm3(b"no such proof");
    let (s, v) = file_commission(&commission(unknown, COURT));
    assert_eq!(
        (s, v["code"].as_str()),
        (422, Some("commissioned_proof_unknown")),
        "{v}"
    );
    let (s, v) = file_commission(&commission(items.clone(), "a-rogue-court"));
    assert_eq!(
        (s, v["code"].as_str()),
        (422, Some("appraisal_step_refused")),
        "{v}"
    );
    assert!(
        v["message"].as_str().unwrap().contains("appraisal.court"),
        "{v}"
    );
    let (s, v) = n.call(
        "POST",
        "/v1/appraisals",
        Some(&appraiser_token),
        json!({"step": commission(items.clone(), COURT)})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(s, 403, "only a court files a commission: {v}");

    let (s, v) = file_commission(&commission(items.clone(), COURT));
    assert_eq!(s, 201, "{v}");
    let p = Procedure {
        n: &n,
        token: appraiser_token.clone(),
        commission: v["commission_sm3"].as_str().unwrap().to_owned(),
    };
    let (s, v) = file_commission(&commission(items.clone(), COURT));
    assert_eq!(
        (s, v["code"].as_str()),
        (409, Some("appraisal_exists")),
        "{v}"
    );

    // An acceptance after the deadline is refused; then the institution accepts in time.
    let late = p.step(
        INSTITUTE,
        Role::Institution,
        Act::Acceptance {
            accepted: true,
            reason: None,
        },
        &[INSTITUTE],
        31 * 86_400_000,
    );
    p.refused(
        "an acceptance after the deadline",
        &late,
        422,
        "appraisal_step_refused",
        "appraisal.time",
    );
    p.add(
        INSTITUTE,
        Role::Institution,
        Act::Acceptance {
            accepted: true,
            reason: None,
        },
        &[INSTITUTE],
        &[],
    );
    let again = p.step(
        INSTITUTE,
        Role::Institution,
        Act::Acceptance {
            accepted: true,
            reason: None,
        },
        &[INSTITUTE],
        60_000,
    );
    p.refused(
        "a second acceptance",
        &again,
        422,
        "appraisal_step_refused",
        "appraisal.order",
    );
    let wrong_key = p.step(
        INSTITUTE,
        Role::Institution,
        Act::Assignment {
            appraisers: vec!["A-101".into(), "A-102".into()],
            reviewer: "R-201".into(),
        },
        &["A-101"],
        60_000,
    );
    p.refused(
        "an assignment signed with another key",
        &wrong_key,
        422,
        "appraisal_step_refused",
        "appraisal.institution",
    );
    p.add(
        INSTITUTE,
        Role::Institution,
        Act::Assignment {
            appraisers: vec!["A-101".into(), "A-102".into()],
            reviewer: "R-201".into(),
        },
        &[INSTITUTE],
        &[],
    );
    // A malformed document: refused before anything is read from the store, nothing stored.
    let before = p.so_far()["steps"].as_array().unwrap().len();
    for body in [
        br#"{"step": {"junk": 1}}"#.as_slice(),
        b"{not json",
        br#"{"step": null, "smuggled": true}"#.as_slice(),
    ] {
        let (s, v) = n.call(
            "POST",
            &format!("/v1/appraisals/{}/steps", p.commission),
            Some(&appraiser_token),
            body,
        );
        assert!(s == 400 || s == 422, "{s}: {v}");
        assert!(!v["message"].as_str().unwrap().is_empty(), "{v}");
    }
    assert_eq!(p.so_far()["steps"].as_array().unwrap().len(), before);
    // A step that is not chained to the last one (a stale copy): a conflict, nothing stored.
    let mut stale = p.step(
        "A-101",
        Role::Appraiser,
        Act::Declaration {
            statement: "无利害关系".into(),
        },
        &["A-101"],
        60_000,
    );
    stale.step.seq -= 1;
    p.refused(
        "a stale step",
        &stale,
        409,
        "appraisal_step_conflict",
        "seq",
    );
    let early = p.step(
        "A-101",
        Role::Appraiser,
        Act::MaterialReceipt {
            items: items.clone(),
        },
        &["A-101"],
        60_000,
    );
    let (s, v) = p.post(&early, &[credential("A-101")]);
    assert_eq!(
        (s, v["code"].as_str()),
        (422, Some("appraisal_step_refused")),
        "{v}"
    );
    assert!(
        v["message"].as_str().unwrap().contains("appraisal.order"),
        "receipt before the declaration: {v}"
    );
    for a in ["A-101", "A-102", "R-201"] {
        p.add(
            a,
            Role::Appraiser,
            Act::Declaration {
                statement: "本人与本案无利害关系".into(),
            },
            &[a],
            &[credential(a)],
        );
    }
    let mut altered = items.clone();
    altered[0].sm3 = Hash32::sm3(b"what another tool computed");
    let wrong = p.step(
        "A-102",
        Role::Appraiser,
        Act::MaterialReceipt { items: altered },
        &["A-102"],
        60_000,
    );
    p.refused(
        "a receipt of other material",
        &wrong,
        422,
        "appraisal_step_refused",
        "appraisal.material",
    );
    for a in ["A-101", "A-102"] {
        p.add(
            a,
            Role::Appraiser,
            Act::MaterialReceipt {
                items: items.clone(),
            },
            &[a],
            &[],
        );
        p.add(
            a,
            Role::Appraiser,
            Act::RecordEntry {
                tool: "tiezheng verify".into(),
                tool_version: "0.1.0".into(),
                action: "verified the bundle offline".into(),
                result: "valid".into(),
                attachments: vec![],
            },
            &[a],
            &[],
        );
    }
    // The opinion is co-signed through the notary's draft: each signer adds their signature.
    let opinion = p.step(
        INSTITUTE,
        Role::Institution,
        Act::Opinion {
            findings: vec!["未发现修改痕迹。".into()],
        },
        &[],
        60_000,
    );
    let put = |signers: &[&str]| {
        let mut d = opinion.clone();
        for s in signers {
            d.cosign(&key(s)).unwrap();
        }
        n.call(
            "PUT",
            &format!("/v1/appraisals/{}/draft", p.commission),
            Some(&p.token),
            json!({ "step": d }).to_string().as_bytes(),
        )
    };
    let draft_path = format!("/v1/appraisals/{}/draft", p.commission);
    let (s, v) = n.call("GET", &draft_path, Some(&p.token), b"");
    assert_eq!((s, v["code"].as_str()), (404, Some("no_draft")), "{v}");
    let (s, v) = put(&["A-101"]);
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["missing"], json!(["A-102", INSTITUTE]));
    // The reviewer does not sign the opinion; a draft chained elsewhere is a conflict; sending
    // no signature adds nothing. None of them changes the draft.
    let (s, v) = put(&["R-201"]);
    assert_eq!(
        (s, v["code"].as_str()),
        (422, Some("appraisal_step_refused")),
        "{v}"
    );
    assert!(
        v["message"].as_str().unwrap().contains("appraisal.opinion"),
        "{v}"
    );
    let (s, v) = put(&[]);
    assert_eq!(
        (s, v["missing"].clone()),
        (200, json!(["A-102", INSTITUTE])),
        "{v}"
    );
    let mut elsewhere = opinion.clone();
    elsewhere.step.seq += 1;
    elsewhere.cosign(&key("A-102")).unwrap();
    let (s, v) = n.call(
        "PUT",
        &draft_path,
        Some(&p.token),
        json!({ "step": elsewhere }).to_string().as_bytes(),
    );
    assert_eq!(
        (s, v["code"].as_str()),
        (409, Some("appraisal_step_conflict")),
        "{v}"
    );
    let (s, v) = n.call("GET", &draft_path, Some(&p.token), b"");
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["missing"], json!(["A-102", INSTITUTE]));
    // A-102 sends only their own signature: it joins A-101's.
    let (s, v) = put(&["A-102"]);
    assert_eq!((s, v["missing"].clone()), (200, json!([INSTITUTE])), "{v}");
    assert_eq!(v["draft"]["signatures"].as_array().unwrap().len(), 2);
    // The institution signs last: the opinion becomes the next step and the draft is gone.
    let (s, v) = put(&[INSTITUTE]);
    assert_eq!((s, v["act"].as_str()), (201, Some("opinion")), "{v}");
    let (s, v) = n.call("GET", &draft_path, Some(&p.token), b"");
    assert_eq!((s, v["code"].as_str()), (404, Some("no_draft")), "{v}");
    let stored = p.so_far();
    let last = stored["steps"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["signatures"].as_array().unwrap().len(), 3);
    // The list shows the procedure where it stands; the parties are the configured ones.
    let (s, v) = n.call("GET", "/v1/appraisals", Some(&p.token), b"");
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["appraisals"][0]["commission_sm3"], p.commission.as_str());
    assert_eq!(v["appraisals"][0]["last_act"], "opinion");
    assert_eq!(v["appraisals"][0]["court"], COURT);
    // A token not granted the material's case sees nothing of the procedure and cannot act.
    let (s, v) = n.call("GET", "/v1/appraisals", Some(&stranger_token), b"");
    assert_eq!((s, v["appraisals"].clone()), (200, json!([])), "{v}");
    for (method, path, body) in [
        (
            "GET",
            format!("/v1/appraisals/{}", p.commission),
            String::new(),
        ),
        ("GET", draft_path.clone(), String::new()),
        (
            "PUT",
            draft_path.clone(),
            json!({"step": opinion}).to_string(),
        ),
        (
            "POST",
            format!("/v1/appraisals/{}/steps", p.commission),
            json!({"step": opinion}).to_string(),
        ),
    ] {
        let (s, v) = n.call(method, &path, Some(&stranger_token), body.as_bytes());
        assert_eq!(
            (s, v["code"].as_str()),
            (404, Some("unknown_appraisal")),
            "{method} {path}: {v}"
        );
    }
    let (s, v) = n.call("GET", "/v1/judicial-parties", Some(&p.token), b"");
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["parties"].as_array().unwrap().len(), 2);
    let (s, v) = n.call(
        "GET",
        &format!("/v1/appraisals/{}/opinion", p.commission),
        Some(&court_token),
        b"",
    );
    assert_eq!((s, v["code"].as_str()), (409, Some("not_delivered")), "{v}");
    p.add(
        "R-201",
        Role::Appraiser,
        Act::Review {
            approved: true,
            remarks: "复核同意".into(),
        },
        &["R-201"],
        &[],
    );
    p.add(
        INSTITUTE,
        Role::Institution,
        Act::Delivery {
            court: COURT.into(),
        },
        &[INSTITUTE],
        &[],
    );

    // The institution revokes A-101's key on its own, from now: its past signatures stand.
    // Reaching back before what the key already signed, or signing with another key than the
    // institution's, is refused and stores nothing.
    let revocation = |at_ms: i64, signer: &str| {
        let r = tiezheng_protocol::appraisal::AppraiserRevocation {
            kind: tiezheng_protocol::appraisal::credential::REVOCATION_TYPE.into(),
            institution: INSTITUTE.into(),
            appraiser_id: "A-101".into(),
            key_id: key("A-101").public_key().key_id(),
            revoked_at: Timestamp::from_unix_ms(at_ms, 8 * 60),
            reason: "执业证暂停 / licence suspended".into(),
        };
        json!({"revocation": tiezheng_protocol::appraisal::SignedAppraiserRevocation::sign(r, &key(signer)).unwrap()})
    };
    let revocations = format!("/v1/appraisals/{}/revocations", p.commission);
    let later = Timestamp::now_utc().unix_ms() + 10 * 86_400_000;
    for (what, body) in [
        ("backdated", revocation(now - 60_000, INSTITUTE)),
        ("signed by the court", revocation(later, COURT)),
    ] {
        let (s, v) = n.call(
            "POST",
            &revocations,
            Some(&p.token),
            body.to_string().as_bytes(),
        );
        assert_eq!(
            (s, v["code"].as_str()),
            (422, Some("appraisal_revocation_refused")),
            "{what}: {v}"
        );
        assert!(
            v["message"]
                .as_str()
                .unwrap()
                .contains("appraisal.revocation"),
            "{what}: {v}"
        );
    }
    assert!(p.so_far()["revocations"].as_array().unwrap().is_empty());
    let (s, v) = n.call(
        "POST",
        &revocations,
        Some(&p.token),
        revocation(later, INSTITUTE).to_string().as_bytes(),
    );
    assert_eq!(s, 201, "{v}");
    let (s, _) = n.call(
        "POST",
        &revocations,
        Some(&p.token),
        revocation(later, INSTITUTE).to_string().as_bytes(),
    );
    assert_eq!(s, 200, "the same revocation again is held once");
    assert_eq!(p.so_far()["revocations"].as_array().unwrap().len(), 1);

    // The court fetches the opinion with the evidence bundle and verifies it offline.
    let (s, body) = common::get_when_anchored(
        &n,
        &court_token,
        &format!("/v1/appraisals/{}/opinion", p.commission),
    );
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&body));
    let opinion = dir.join("opinion.json");
    std::fs::write(&opinion, &body).unwrap();
    let (s, v) = n.call("GET", "/v1/ledger/policy", None, b"");
    assert_eq!(s, 200, "{v}");
    let mut policy: Policy = serde_json::from_value(v).unwrap();
    policy.parties = parties;
    let policy_file = dir.join("court-policy.json");
    std::fs::write(&policy_file, serde_json::to_vec(&policy).unwrap()).unwrap();
    let out = common::run(&[
        "verify",
        opinion.to_str().unwrap(),
        "--policy",
        policy_file.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("appraisal.evidence"));
    // The same opinion as PDF/A-3 (鉴定意见书), the package attached, verifies the same way.
    let (s, pdf) = common::get_when_anchored(
        &n,
        &court_token,
        &format!("/v1/appraisals/{}/opinion.pdf", p.commission),
    );
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&pdf));
    let pdf_file = dir.join("opinion.pdf");
    std::fs::write(&pdf_file, &pdf).unwrap();
    let out = common::run(&[
        "verify",
        pdf_file.to_str().unwrap(),
        "--policy",
        policy_file.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // The institution and its appraisers rewrite the process record after the fact and sign
    // the whole procedure again from there, every step by the right key, re-chained: every
    // signature, link and procedural rule holds, and only the anchored custody log tells.
    let mut pkg: tiezheng_protocol::appraisal::OpinionPackage =
        serde_json::from_slice(&body).unwrap();
    let record = pkg
        .steps
        .iter()
        .position(|s| matches!(s.step.act, Act::RecordEntry { .. }))
        .unwrap();
    if let Act::RecordEntry { result, .. } = &mut pkg.steps[record].step.act {
        *result = "valid; nothing else was examined".into();
    }
    for i in record..pkg.steps.len() {
        let prev = pkg.steps[i - 1].sm3().unwrap();
        let s = &mut pkg.steps[i];
        s.step.prev = Some(prev);
        let signers: Vec<String> = match &s.step.act {
            Act::Opinion { .. } => vec!["A-101".into(), "A-102".into(), INSTITUTE.into()],
            _ => vec![s.step.by.clone()],
        };
        let keys: Vec<Sm2SigningKey> = signers.iter().map(|k| key(k)).collect();
        let refs: Vec<&Sm2SigningKey> = keys.iter().collect();
        *s = SignedStep::sign(s.step.clone(), &refs).unwrap();
    }
    let rewritten = dir.join("rewritten-opinion.json");
    std::fs::write(&rewritten, serde_json::to_vec(&pkg).unwrap()).unwrap();
    let out = common::run(&[
        "verify",
        "--json",
        rewritten.to_str().unwrap(),
        "--policy",
        policy_file.to_str().unwrap(),
    ]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let failed: Vec<&str> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "fail")
        .map(|c| c["rule"].as_str().unwrap())
        .collect();
    assert_eq!(failed, ["appraisal.anchor"], "{v}");
    // The reference verifier in Python, from VERIFYING.md alone, refuses it by the same rule
    // and accepts the genuine opinion.
    for (file, want) in [
        (&opinion, json!([])),
        (&rewritten, json!(["appraisal.anchor"])),
    ] {
        let out = std::process::Command::new("python3")
            .arg(common::repo_root().join("tools/reference-verifier/verify.py"))
            .arg(file)
            .arg("--policy")
            .arg(&policy_file)
            .arg("--json")
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        assert_eq!(v["failed"], want, "{}: {v}", file.display());
    }
}
