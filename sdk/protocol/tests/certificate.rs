//! The certificate verifier refuses every inconsistency, each under its rule: the committed
//! example certificate (`schemas/examples/certificate.json`) is changed one fact at a time
//! and signed again with the real key, the GB/T 32918.5 Annex A test key that signed it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use std::path::PathBuf;

use serde_json::{Value, json};
use tiezheng_protocol::bundle::Policy;
use tiezheng_protocol::certificate::parse_certificate;
use tiezheng_protocol::verify::{DocumentVerification, Status, verify_document};
use tiezheng_protocol::{SignatureBlock, Sm2SigningKey, canonical, pdf};

/// GB/T 32918.5-2017 Annex A (GM/T 0003.5-2012) private key: public, so anyone can re-make
/// the example's signatures.
const TEST_KEY: &str = "3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b8";

fn key() -> Sm2SigningKey {
    Sm2SigningKey::from_bytes(&hex::decode(TEST_KEY).unwrap()).unwrap()
}

fn example() -> Value {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../schemas/examples/certificate.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn policy(v: &Value) -> Policy {
    serde_json::from_value(v["certificate"]["bundle"]["policy"].clone()).unwrap()
}

fn resign(mut v: Value, key: &Sm2SigningKey) -> Value {
    let sig = SignatureBlock::sign(key, &v["certificate"]).unwrap();
    v["signature"] = serde_json::to_value(sig).unwrap();
    v
}

/// The one verification entry's report on certificate bytes, with the example's policy.
fn report(bytes: &[u8], p: &Policy) -> DocumentVerification {
    verify_document(bytes, None, Some(p)).unwrap()
}

/// The layer and rule of the first failure, checking that no other certificate rule failed:
/// each change breaks exactly the rule under test.
fn rule_of(v: &Value) -> (&'static str, &'static str) {
    let r = report(&serde_json::to_vec(v).unwrap(), &policy(&example()));
    let failed: Vec<&str> = r
        .checks
        .iter()
        .filter(|c| c.status == Status::Fail && c.layer == "certificate")
        .map(|c| c.rule)
        .collect();
    assert!(
        failed.len() <= 1,
        "more than one certificate rule failed: {failed:?}"
    );
    match r.first_failure() {
        None => ("", "accepted"),
        Some(c) => (c.layer, c.rule),
    }
}

#[test]
fn the_example_verifies_and_its_sm3_is_of_its_canonical_bytes() {
    let v = example();
    let bytes = serde_json::to_vec(&v).unwrap();
    let r = report(&bytes, &policy(&v));
    assert!(r.valid, "{:?}", r.first_failure());
    let facts = r.certificate.unwrap();
    assert_eq!(
        facts.sm3,
        tiezheng_protocol::Hash32::sm3(&canonical::canonicalize(&v).unwrap())
    );
    let (certificate, _) = parse_certificate(&bytes).unwrap();
    assert_eq!(facts.sm3, certificate.sm3().unwrap());
    let number = v["certificate"]["number"].as_str().unwrap();
    assert!(number.starts_with("TZ-20261121-"), "{number}");
    assert_eq!(facts.number, number);
    let url = certificate.verification_url().unwrap();
    let (page, fragment) = url.split_once('#').unwrap();
    assert_eq!(page, "https://notary.example.cn/verify");
    assert!(fragment.contains(&format!("c={}", facts.sm3)));
    assert!(fragment.contains(&format!("n={number}")));
}

/// A change to a certificate.
type Change = Box<dyn Fn(&mut Value)>;

#[test]
fn every_stated_fact_is_checked_against_the_bundle() {
    let key = key();
    let cases: Vec<(&str, Change)> = vec![
        (
            "certificate.number",
            Box::new(|c| c["number"] = json!("TZ-20261121-0000000000000000")),
        ),
        (
            "certificate.facts.evidence",
            Box::new(|c| c["proof_sm3"] = json!("00".repeat(32))),
        ),
        (
            "certificate.facts.evidence",
            Box::new(|c| c["items"][0]["file_name"] = json!("other.jpg")),
        ),
        (
            "certificate.facts.evidence",
            Box::new(|c| c["items"][0]["bytes"] = json!(4)),
        ),
        (
            "certificate.facts.evidence",
            Box::new(|c| c["items"][0]["hashes"][0]["value"] = json!("11".repeat(32))),
        ),
        (
            "certificate.facts.evidence",
            Box::new(|c| c["items"][0]["mime"] = json!("image/png")),
        ),
        (
            "certificate.facts.evidence",
            Box::new(|c| c["items"] = json!([])),
        ),
        (
            "certificate.facts.capture_time",
            Box::new(|c| {
                c["items"][0]["times"]["device_time"] = json!("2026-11-21T09:00:00.123+08:00")
            }),
        ),
        (
            "certificate.facts.capture_time",
            Box::new(|c| c["items"][0]["times"]["capture_to_receipt_ms"] = json!(1)),
        ),
        (
            "certificate.facts.capture_time",
            Box::new(|c| c["items"][0]["times"]["gnss_time"] = Value::Null),
        ),
        (
            "certificate.facts.location",
            Box::new(|c| c["items"][0]["location"]["latitude"] = json!("31.3")),
        ),
        (
            "certificate.facts.location",
            Box::new(|c| c["items"][0]["location"]["horizontal_accuracy"] = json!("1")),
        ),
        (
            "certificate.facts.location",
            Box::new(|c| c["items"][0]["file_gps"] = Value::Null),
        ),
        (
            "certificate.facts.findings",
            Box::new(|c| {
                c["items"][0]["findings"][0]["explanation"]["en"] = json!("nothing to see")
            }),
        ),
        (
            "certificate.facts.findings",
            Box::new(|c| c["items"][0]["findings"] = json!([])),
        ),
        (
            "certificate.facts.device",
            Box::new(|c| c["device"]["model"] = json!("another phone")),
        ),
        (
            "certificate.facts.case",
            Box::new(|c| c["case"]["cause"] = json!("盗窃")),
        ),
        (
            "certificate.facts.case",
            Box::new(|c| c["case"]["collectors"] = json!(["310101"])),
        ),
        (
            "certificate.facts.case",
            Box::new(|c| c["case"]["witness"]["name"] = json!("李四")),
        ),
        // 取证依据: another profile's title, an outcome stated as not met with a reason, the
        // legal basis dropped, no procedure stated for a manifest that names one.
        (
            "certificate.facts.procedure",
            Box::new(|c| c["procedure"]["title_zh"] = json!("刑事案件电子数据现场提取")),
        ),
        (
            "certificate.facts.procedure",
            Box::new(|c| {
                c["procedure"]["outcomes"][0]["met"] = json!(false);
                c["procedure"]["outcomes"][0]["reason"] = json!("one officer on duty");
            }),
        ),
        (
            "certificate.facts.procedure",
            Box::new(|c| c["procedure"]["legal_basis"] = json!([])),
        ),
        (
            "certificate.facts.procedure",
            Box::new(|c| {
                c.as_object_mut().unwrap().remove("procedure");
            }),
        ),
        (
            "certificate.facts.receipt",
            Box::new(|c| c["receipt"]["received_at"] = json!("2026-11-21T09:31:00.000+08:00")),
        ),
        (
            "certificate.facts.receipt",
            Box::new(|c| c["receipt"]["chain_gap"] = json!(true)),
        ),
        (
            "certificate.facts.anchor",
            Box::new(|c| c["anchor"]["height"] = json!(7)),
        ),
        (
            "certificate.facts.anchor",
            Box::new(|c| c["anchor"]["mode"] = json!("consortium")),
        ),
        (
            "certificate.facts.anchor",
            Box::new(|c| c["anchor"]["commit_block_hash"] = json!("AB")),
        ),
        (
            "certificate.facts.consortium",
            Box::new(|c| c["consortium"]["signed_power"] = json!(2)),
        ),
        (
            "certificate.facts.consortium",
            Box::new(|c| c["consortium"]["cosigners"] = json!(["court", "police"])),
        ),
        (
            "certificate.statement",
            Box::new(|c| c["statement"]["does_not_prove"] = json!([])),
        ),
        (
            "certificate.statement",
            Box::new(|c| c["statement"]["proves"][0]["zh"] = json!("证明一切")),
        ),
        (
            "certificate.issued_at",
            Box::new(|c| c["issued_at"] = json!("2026-11-21T09:00:00.000+08:00")),
        ),
        (
            "certificate.custody",
            Box::new(|c| c["custody"]["events"] = json!(0)),
        ),
        (
            "certificate.format",
            Box::new(|c| c["type"] = json!("tiezheng.certificate.v2")),
        ),
        (
            "certificate.format",
            Box::new(|c| c["remark"] = json!("unsigned extra")),
        ),
        (
            "certificate.issuer",
            Box::new(|c| c["issuer"]["key_id"] = json!("22".repeat(32))),
        ),
        // The issuer's standing: a credit code with a wrong check character (GB 32100-2015),
        // two of its characters swapped, a blank legal name, a blank filing number.
        (
            "certificate.issuer_standing",
            Box::new(|c| c["issuer"]["credit_code"] = json!("91110108MA01TE000C")),
        ),
        (
            "certificate.issuer_standing",
            Box::new(|c| c["issuer"]["credit_code"] = json!("91110108MA01TE00B0")),
        ),
        (
            "certificate.issuer_standing",
            Box::new(|c| c["issuer"]["legal_name"] = json!("  ")),
        ),
        (
            "certificate.issuer_standing",
            Box::new(|c| c["issuer"]["filing_number"] = json!(" ")),
        ),
    ];
    for (want, change) in &cases {
        let mut v = example();
        change(&mut v["certificate"]);
        let v = resign(v, &key);
        assert_eq!(rule_of(&v), ("certificate", *want), "{}", v["certificate"]);
    }
}

#[test]
fn signature_issuer_and_bundle_are_checked() {
    // Not signed again: the signature fails.
    let mut v = example();
    v["certificate"]["issuer"]["name"] = json!("another office");
    assert_eq!(rule_of(&v), ("certificate", "certificate.signature"));
    // Signed by a key that is not the receipting notary's (and says so).
    let other = Sm2SigningKey::generate();
    let mut v = example();
    v["certificate"]["issuer"]["public_key"] = json!(other.public_key().to_hex());
    v["certificate"]["issuer"]["key_id"] = json!(other.public_key().key_id());
    assert_eq!(
        rule_of(&resign(v, &other)),
        ("certificate", "certificate.issuer")
    );
    // A fact changed consistently in the certificate and in its bundle: the bundle's own
    // signatures refuse it.
    let mut v = example();
    v["certificate"]["bundle"]["proof"]["manifest"]["case"]["cause"] = json!("盗窃");
    v["certificate"]["case"]["cause"] = json!("盗窃");
    assert_eq!(rule_of(&resign(v, &key())), ("proof", "proof.signature"));
    let mut v = example();
    v["certificate"]["bundle"]["receipt"]["receipt"]["chain_gap"] = json!(true);
    v["certificate"]["receipt"]["chain_gap"] = json!(true);
    assert_eq!(
        rule_of(&resign(v, &key())),
        ("receipt", "receipt.signature")
    );
    // Not JSON, duplicate keys.
    let bad = report(
        b"{\"certificate\":1,\"certificate\":2}",
        &policy(&example()),
    );
    assert_eq!(bad.first_failure().unwrap().rule, "certificate.format");
}

#[test]
fn a_pdf_carrying_the_certificate_yields_it_back() {
    let bytes = canonical::canonicalize(&example()).unwrap();
    let z = miniz_oxide::deflate::compress_to_vec_zlib(&bytes, 9);
    let mut doc = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n7 0 obj\n<</Type /EmbeddedFile /Subtype /application#2Fjson /Filter /FlateDecode /Length ".to_vec();
    doc.extend_from_slice(format!("{}>>\nstream\n", z.len()).as_bytes());
    doc.extend_from_slice(&z);
    doc.extend_from_slice(b"\nendstream\nendobj\n%%EOF\n");
    let files = pdf::attached_files(&doc).unwrap();
    assert_eq!(files, vec![bytes.clone()]);
    assert!(report(&files[0], &policy(&example())).valid);
    // The PDF itself, through the same entry: its attachment is a rule of its own.
    let r = report(&doc, &policy(&example()));
    assert!(r.valid, "{:?}", r.first_failure());
    assert_eq!(r.status("certificate.pdf.attachment"), Some(Status::Pass));
}

#[test]
fn the_notary_refuses_to_issue_for_a_bundle_that_fails_verification() {
    use tiezheng_protocol::bundle::Bundle;
    use tiezheng_protocol::certificate::{IssueParams, issue};
    let v = example();
    let c = &v["certificate"];
    let bundle: Bundle = serde_json::from_value(c["bundle"].clone()).unwrap();
    let params = IssueParams {
        issuer: serde_json::from_value::<tiezheng_protocol::certificate::Issuer>(
            c["issuer"].clone(),
        )
        .unwrap()
        .standing(),
        verify_url: c["issuer"]["verify_url"].as_str().unwrap().to_owned(),
        issued_at: serde_json::from_value(c["issued_at"].clone()).unwrap(),
        custody: serde_json::from_value(c["custody"].clone()).unwrap(),
    };
    // The good bundle gives exactly the committed certificate (signatures are randomised, so
    // compare the signed document).
    let issued = issue(bundle.clone(), &policy(&v), params.clone(), &key()).unwrap();
    assert_eq!(serde_json::to_value(&issued.certificate).unwrap(), *c);
    // A notary clock behind the ledger's never dates a certificate before what it certifies.
    let mut early = params.clone();
    early.issued_at = tiezheng_protocol::Timestamp::parse("2026-11-21T01:00:00.000Z").unwrap();
    let issued = issue(bundle.clone(), &policy(&v), early, &key()).unwrap();
    let proven = bundle
        .receipt
        .receipt
        .received_at
        .unix_ms()
        .max(bundle.checkpoint.checkpoint.time.unix_ms());
    assert_eq!(issued.certificate.issued_at.unix_ms(), proven);
    assert!(report(&issued.to_bytes().unwrap(), &policy(&v)).valid);
    // A bundle whose receipt was altered is refused, naming the failed layer.
    let mut bad = bundle.clone();
    bad.receipt.receipt.chain_gap = true;
    let e = issue(bad, &policy(&v), params.clone(), &key()).unwrap_err();
    assert_eq!(e.layer(), "receipt");
    // Only the notary that receipted the proof issues its certificate.
    let e = issue(bundle, &policy(&v), params, &Sm2SigningKey::generate()).unwrap_err();
    assert_eq!(e.rule(), "certificate.issuer");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]
    /// Hostile or damaged PDFs (random bytes, and a real certificate PDF's structure with bytes
    /// flipped or cut) never panic the attachment reader.
    #[test]
    fn the_pdf_reader_never_panics(
        noise in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2048),
        flips in proptest::collection::vec((0usize..4096, proptest::prelude::any::<u8>()), 0..16),
        cut in 0usize..4096,
    ) {
        let mut doc = b"%PDF-1.7\n".to_vec();
        doc.extend_from_slice(&noise);
        let _ = pdf::attached_files(&doc);
        let bytes = canonical::canonicalize(&example()).unwrap();
        let z = miniz_oxide::deflate::compress_to_vec_zlib(&bytes[..1024], 6);
        let mut real = format!(
            "%PDF-1.7\n3 0 obj\n<</Type/EmbeddedFile/Filter[/FlateDecode]/Length 4 0 R/Params<</Size {}>>>>\nstream\n",
            z.len()
        )
        .into_bytes();
        real.extend_from_slice(&z);
        real.extend_from_slice(format!("\nendstream\nendobj\n4 0 obj\n{}\nendobj\n", z.len()).as_bytes());
        let _ = tiezheng_protocol::certificate::certificate_from_pdf(&real);
        for (at, b) in &flips {
            let n = real.len();
            if let Some(x) = real.get_mut(at % n) {
                *x = *b;
            }
        }
        real.truncate(cut.max(9));
        let _ = pdf::attached_files(&real);
    }
}

/// A real consortium bundle (four-validator CometBFT testnet): the anchor facts name the
/// CometBFT block whose header carries the checkpoint's app hash, and its hash.
#[test]
fn consortium_facts_name_the_committing_block() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../schemas/examples/bundle-consortium.json");
    let bundle: tiezheng_protocol::bundle::Bundle =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let f = tiezheng_protocol::certificate::derive_facts(&bundle).unwrap();
    assert_eq!(f.anchor.mode, "consortium");
    assert_eq!(
        f.anchor.commit_height,
        Some(bundle.checkpoint.checkpoint.height + 1)
    );
    let hash = f.anchor.commit_block_hash.unwrap();
    assert_eq!(hash.len(), 64, "{hash}");
    assert_eq!(
        Some(hash.as_str()),
        bundle.cometbft.as_ref().unwrap().signed_header["commit"]["block_id"]["hash"].as_str()
    );
    assert_eq!(f.consortium.total_power, 4);
    assert!(f.consortium.signed_power * 3 > f.consortium.total_power * 2);
    assert!(f.number.starts_with("TZ-"));
}
