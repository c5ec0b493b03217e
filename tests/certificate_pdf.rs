//! Evidence certificates (存证证书) end to end, as a court uses them: a real `tiezheng serve` (SQLite, or
//! PostgreSQL when `TIEZHENG_TEST_DATABASE_URL` is set), a device capturing a photo made here,
//! the certificate fetched over HTTP as JSON and as PDF, and independent tools reading the PDF:
//! `pdftotext`, `pdftoppm` + `zbarimg` for the QR code, `pdfdetach` for the attachment, `qpdf`
//! to re-save and to swap the attachment, veraPDF (from Maven Central) for PDF/A-3.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(clippy::cast_possible_truncation, missing_docs)]

mod common;

use std::io::{Read as _, Write as _};
use std::path::Path;
use std::process::Command;

use common::pdf::{require, run_ok, verapdf};
use common::{Notary, cli, device, tiezheng};
use serde_json::{Value, json};
use tiezheng_protocol::{Hash32, canonical};

/// PostgreSQL when `TIEZHENG_TEST_DATABASE_URL` names a server (a fresh database each), as in
/// `tests/notary_http.rs`.
fn db_env() -> Vec<(&'static str, String)> {
    match std::env::var("TIEZHENG_TEST_DATABASE_URL") {
        Ok(base) if !base.is_empty() => {
            let name = format!(
                "tz_{}",
                &Hash32::sm3(format!("cert{:?}", std::time::SystemTime::now()).as_bytes()).to_hex()
                    [..16]
            );
            run_ok(Command::new("psql").arg(&base).args([
                "-q",
                "-c",
                &format!("CREATE DATABASE {name}"),
            ]));
            let (server, _) = base.rsplit_once('/').unwrap();
            vec![("TIEZHENG_NOTARY_DATABASE_URL", format!("{server}/{name}"))]
        }
        _ => Vec::new(),
    }
}

/// A 1280×960 JPEG photo made here (no test data from outside the repository).
fn photo(seed: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(1280, 960, |x, y| {
        let r = ((x * 255 / 1280) ^ seed) as u8;
        let g = (y * 255 / 960) as u8;
        let b = if (x / 160 + y / 160 + seed).is_multiple_of(2) {
            210
        } else {
            30
        };
        image::Rgb([r, g, b])
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85)
        .encode_image(&img)
        .unwrap();
    out
}

fn capture(dev: &Path, file: &Path) -> Vec<u8> {
    let out = cli(
        dev,
        &[
            "capture",
            file.to_str().unwrap(),
            "--case",
            "沪浦-2026-0001",
            "--lat",
            "31.230390",
            "--lon",
            "121.473700",
            "--accuracy",
            "5",
            "--witness-note",
            "无旁观者 no bystander",
        ],
    );
    out.stdout.trim_ascii_end().to_vec()
}

/// `(status, headers, body)` of a GET.
fn get(n: &Notary, path: &str, token: &str) -> (u16, String, Vec<u8>) {
    let host = n.url.strip_prefix("http://").unwrap();
    let mut s = std::net::TcpStream::connect(host).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nAuthorization: Bearer {token}\r\n\r\n"
    )
    .unwrap();
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).unwrap();
    let split = resp.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&resp[..split]).to_ascii_lowercase();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let mut body = resp[split + 4..].to_vec();
    if head.contains("transfer-encoding: chunked") {
        let mut out = Vec::new();
        let mut b = body.as_slice();
        while let Some(eol) = b.windows(2).position(|w| w == b"\r\n") {
            let size =
                usize::from_str_radix(String::from_utf8_lossy(&b[..eol]).trim(), 16).unwrap();
            if size == 0 {
                break;
            }
            out.extend_from_slice(&b[eol + 2..eol + 2 + size]);
            b = &b[eol + 2 + size + 2..];
        }
        body = out;
    }
    (status, head, body)
}

fn verify(file: &Path, media: &Path, policy: &Path) -> (bool, Value) {
    let out = tiezheng()
        .arg("verify")
        .arg("--json")
        .arg(file)
        .arg("--media")
        .arg(media)
        .arg("--policy")
        .arg(policy)
        .output()
        .unwrap();
    let line: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    (out.status.success(), line)
}

/// An independent reader: Python's standard library writes the RFC 8785 bytes of the attached
/// certificate's `certificate` member (sorted members, no whitespace, integers and strings
/// only) and OpenSSL checks the notary's SM2 signature over them with the recorded ID, and
/// the SM3 of the attachment against the one printed on the page.
fn independent_check(dir: &Path, attached: &Path, printed_sm3: &str) {
    require("python3", "apt-get install python3");
    require("openssl", "apt-get install openssl");
    let script = r#"
import base64, json, sys
doc = json.load(open(sys.argv[1], encoding="utf-8"))
msg = json.dumps(doc["certificate"], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
open(sys.argv[2] + "/msg.bin", "wb").write(msg.encode("utf-8"))
open(sys.argv[2] + "/sig.der", "wb").write(base64.b64decode(doc["signature"]["value"]))
spki = bytes.fromhex("3059301306072a8648ce3d020106082a811ccf5501822d034200" + doc["signature"]["public_key"])
pem = base64.encodebytes(spki).decode().replace("\n", "")
open(sys.argv[2] + "/pub.pem", "w").write("-----BEGIN PUBLIC KEY-----\n%s\n-----END PUBLIC KEY-----\n" % pem)
assert doc["signature"]["sm2_id"] == "1234567812345678"
"#;
    let work = dir.join("independent");
    std::fs::create_dir_all(&work).unwrap();
    run_ok(
        Command::new("python3")
            .args(["-c", script])
            .arg(attached)
            .arg(&work),
    );
    let out = run_ok(
        Command::new("openssl")
            .args([
                "pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-in", "msg.bin",
            ])
            .args(["-rawin", "-digest", "sm3", "-sigfile", "sig.der"])
            .args(["-pkeyopt", "distid:1234567812345678"])
            .current_dir(&work),
    );
    assert!(String::from_utf8_lossy(&out).contains("Signature Verified Successfully"));
    let out = run_ok(
        Command::new("openssl")
            .args(["dgst", "-sm3", "-r"])
            .arg(attached),
    );
    assert!(String::from_utf8_lossy(&out).starts_with(printed_sm3));
}

#[test]
fn a_court_fetches_a_certificate_pdf_that_verifies_on_its_own() {
    for (tool, install) in [
        ("pdftotext", "apt-get install poppler-utils"),
        ("pdftoppm", "apt-get install poppler-utils"),
        ("pdfdetach", "apt-get install poppler-utils"),
        ("zbarimg", "apt-get install zbar-tools"),
        ("qpdf", "apt-get install qpdf"),
    ] {
        require(tool, install);
    }
    let root = tempfile::tempdir().unwrap();
    let dir = root.path();
    let db = db_env();
    let mut env: Vec<(&str, &str)> = db.iter().map(|(k, v)| (*k, v.as_str())).collect();
    // A batch closes only with two proofs, so the first one waits, unanchored, until the
    // second arrives.
    env.extend([
        ("TIEZHENG_NOTARY_BATCH_MAX_LEAVES", "2"),
        ("TIEZHENG_NOTARY_BATCH_MAX_MS", "600000"),
        ("TIEZHENG_NOTARY_PUBLIC_URL", "https://notary.example.cn"),
        (
            "TIEZHENG_NOTARY_CERTIFICATE_ISSUER",
            "浦东公证处 Pudong Notary Office",
        ),
        ("TIEZHENG_NOTARY_OPERATOR_TYPE", "notary_office"),
        ("TIEZHENG_NOTARY_ISSUER_LEGAL_NAME", "上海市浦东公证处"),
        ("TIEZHENG_NOTARY_ISSUER_CREDIT_CODE", "12310115MB00000003"),
        (
            "TIEZHENG_NOTARY_ISSUER_CONTACT",
            "上海市浦东新区 021-00000000",
        ),
    ]);
    let n = Notary::start(&dir.join("notary"), &env);
    let dev = device(dir, "dev", &n);
    let photo_path = dir.join("IMG_0001.jpg");
    std::fs::write(&photo_path, photo(1)).unwrap();
    let proof = capture(&dev, &photo_path);
    let sm3 = Hash32::sm3(&proof).to_hex();
    cli(&dev, &["sync"]);
    let (court, _) = n.token("court", &[]);

    // Not anchored yet: 409 with Retry-After, nothing issued.
    let (s, head, body) = get(&n, &format!("/v1/proofs/{sm3}/certificate.pdf"), &court);
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        (s, v["code"].as_str()),
        (409, Some("not_yet_anchored")),
        "{v}"
    );
    assert!(head.contains("retry-after: 2"), "{head}");

    // A second capture closes the batch; the first proof is anchored shortly after.
    let second = dir.join("IMG_0002.jpg");
    std::fs::write(&second, photo(2)).unwrap();
    capture(&dev, &second);
    cli(&dev, &["sync"]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let json_bytes = loop {
        let (s, _, body) = get(&n, &format!("/v1/proofs/{sm3}/certificate"), &court);
        if s == 200 {
            break body;
        }
        assert_eq!(s, 409, "{}", String::from_utf8_lossy(&body));
        assert!(std::time::Instant::now() < deadline, "not anchored in time");
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    let cert: Value = serde_json::from_slice(&json_bytes).unwrap();
    assert_eq!(
        canonical::canonicalize(&cert).unwrap(),
        json_bytes,
        "served as RFC 8785 bytes"
    );
    let number = cert["certificate"]["number"].as_str().unwrap().to_owned();
    let cert_sm3 = Hash32::sm3(&json_bytes).to_hex();
    assert_eq!(
        cert["certificate"]["issuer"]["name"],
        "浦东公证处 Pudong Notary Office"
    );
    assert_eq!(
        cert["certificate"]["issuer"]["verify_url"],
        "https://notary.example.cn/verify"
    );

    // Same certificate, by number and again; the PDF the same bytes every time.
    let (s, _, again) = get(&n, &format!("/v1/certificates/{number}"), &court);
    assert_eq!((s, &again), (200, &json_bytes));
    let (s, head, pdf) = get(&n, &format!("/v1/certificates/{number}.pdf"), &court);
    assert_eq!(s, 200);
    assert!(head.contains("content-type: application/pdf"), "{head}");
    let (_, _, pdf2) = get(&n, &format!("/v1/proofs/{sm3}/certificate.pdf"), &court);
    assert_eq!(pdf, pdf2, "same certificate, same PDF bytes");
    assert!(pdf.len() < 150 * 1024, "{} bytes", pdf.len());

    // Who may fetch: court and admin, appraisers only for their granted cases.
    let (other, _) = n.token("appraiser", &["CASE-OTHER"]);
    let (granted, _) = n.token("appraiser", &["沪浦-2026-0001"]);
    assert_eq!(
        get(&n, &format!("/v1/certificates/{number}"), &other).0,
        403
    );
    assert_eq!(
        get(&n, &format!("/v1/certificates/{number}"), &granted).0,
        200
    );
    assert_eq!(
        get(&n, &format!("/v1/certificates/{number}.pdf"), &n.admin).0,
        200
    );
    let dev_token = tiezheng_sdk::client::NotaryBinding::load(&dev)
        .unwrap()
        .api_token;
    assert_eq!(
        get(&n, &format!("/v1/certificates/{number}"), &dev_token).0,
        403
    );
    assert_eq!(
        get(&n, "/v1/certificates/TZ-20260101-0000000000000000", &court).0,
        404
    );
    // Every fetch is a custody event; issuing is one too.
    let (_, v) = n.call("GET", &format!("/v1/proofs/{sm3}"), Some(&court), b"");
    let events: Vec<&str> = v["custody"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        events.iter().filter(|e| **e == "certified").count(),
        1,
        "{events:?}"
    );
    // Two by proof, two by number, the granted appraiser's, the admin's: refused and
    // premature requests are not exports. The same export again by the same token within a
    // minute is counted (chained once the minute is over) rather than logged again.
    let exported = events.iter().filter(|e| **e == "exported").count();
    let counted = v["custody_page"]["repeats_pending"].as_u64().unwrap();
    assert_eq!(
        exported as u64 + counted,
        6,
        "{events:?}, {counted} counted"
    );
    let (_, _, metrics) = get(&n, "/metrics", &n.admin);
    assert!(
        String::from_utf8_lossy(&metrics).contains("tiezheng_certificates_issued_total 1"),
        "{}",
        String::from_utf8_lossy(&metrics)
    );

    // The CLI fetches the same documents.
    let fetched = dir.join("fetched.pdf");
    run_ok(
        tiezheng()
            .args([
                "certificate",
                "fetch",
                "--notary",
                &n.url,
                "--number",
                &number,
                "--pdf",
                "--out",
            ])
            .arg(&fetched)
            .env("TIEZHENG_TOKEN", &court),
    );
    assert_eq!(std::fs::read(&fetched).unwrap(), pdf);

    let pdf_path = dir.join("certificate.pdf");
    std::fs::write(&pdf_path, &pdf).unwrap();
    let (_, policy) = n.call("GET", "/v1/ledger/policy", None, b"");
    let policy_path = dir.join("policy.json");
    std::fs::write(&policy_path, policy.to_string()).unwrap();

    // What a reader sees: the number, the attachment's SM3, the Chinese field names.
    let text =
        String::from_utf8(run_ok(Command::new("pdftotext").arg(&pdf_path).arg("-"))).unwrap();
    for want in [
        number.as_str(),
        cert_sm3.as_str(),
        "存证证书",
        "证书编号",
        "签发时间",
        "SM3 摘要",
        "本证书证明",
        "沪浦-2026-0001",
        "IMG_0001.jpg",
        "北京时间 (UTC+8)",
        // A notary office's certificate, and its standing on page 1.
        "公证存证证书",
        "公证机构",
        "统一社会信用代码",
        "12310115MB00000003",
        "上海市浦东公证处",
    ] {
        assert!(text.contains(want), "pdftotext lacks {want:?}:\n{text}");
    }
    assert_eq!(
        cert["certificate"]["issuer"]["operator_type"],
        "notary_office"
    );
    assert_eq!(
        cert["certificate"]["issuer"]["credit_code"],
        "12310115MB00000003"
    );
    // Times as a Chinese court reads them: Beijing time, never the signed UTC form.
    let issued: tiezheng_protocol::Timestamp =
        serde_json::from_value(cert["certificate"]["issued_at"].clone()).unwrap();
    let (y, mo, d, h, mi, s, ms) =
        tiezheng_protocol::Timestamp::from_unix_ms(issued.unix_ms(), 480).local_fields();
    let beijing = format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}.{ms:03} 北京时间");
    assert!(
        text.contains(&beijing),
        "pdftotext lacks {beijing:?}:\n{text}"
    );
    assert!(
        !text.contains(&issued.to_string()),
        "a UTC time shown to people"
    );

    // The QR code, read back from the rendered page, opens the verification page with the
    // hashes in the fragment only.
    run_ok(
        Command::new("pdftoppm")
            .args(["-r", "150", "-f", "1", "-l", "1", "-png"])
            .arg(&pdf_path)
            .arg(dir.join("page")),
    );
    let png = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "png"))
        .unwrap();
    let qr = String::from_utf8(run_ok(
        Command::new("zbarimg").args(["-q", "--raw"]).arg(&png),
    ))
    .unwrap();
    let url = qr.trim();
    let (page, fragment) = url.split_once('#').unwrap();
    assert_eq!(page, "https://notary.example.cn/verify");
    let media_sm3 = cert["certificate"]["items"][0]["hashes"][0]["value"]
        .as_str()
        .unwrap();
    assert_eq!(
        fragment,
        format!("n={number}&c={cert_sm3}&p={sm3}&f={media_sm3}")
    );
    for h in [cert_sm3.as_str(), sm3.as_str(), media_sm3] {
        assert!(!page.contains(h), "a hash in what the browser sends");
    }
    // Following it: the notary serves the page (the browser sends only the path).
    let path = page.strip_prefix("https://notary.example.cn").unwrap();
    let (s, head, html) = get(&n, path, "");
    assert_eq!(s, 200);
    assert!(head.contains("content-type: text/html"), "{head}");
    let html = String::from_utf8(html).unwrap();
    assert!(html.contains("存证证书核验"), "{html}");
    // The page reads the values from the fragment, in the browser.
    let (s, _, js) = get(&n, "/portal/verify.js", "");
    assert_eq!(s, 200);
    assert!(String::from_utf8(js).unwrap().contains("location.hash"));

    // The attachment, extracted by an independent tool, is the signed certificate, and
    // verifies with the file; so does the PDF itself, also after another tool re-saved it.
    let detached = dir.join("detached");
    std::fs::create_dir_all(&detached).unwrap();
    run_ok(
        Command::new("pdfdetach")
            .arg("-saveall")
            .arg("-o")
            .arg(&detached)
            .arg(&pdf_path),
    );
    let attached = detached.join(format!("certificate-{number}.json"));
    assert_eq!(std::fs::read(&attached).unwrap(), json_bytes);
    let (ok, line) = verify(&attached, &photo_path, &policy_path);
    assert!(ok, "{line}");
    assert_eq!(line["certificate_sm3"], cert_sm3.as_str());
    independent_check(dir, &attached, &cert_sm3);
    let (ok, line) = verify(&pdf_path, &photo_path, &policy_path);
    assert!(ok, "{line}");
    assert_eq!(
        (line["from_pdf"].as_bool(), line["media_checked"].as_bool()),
        (Some(true), Some(true))
    );
    let resaved = dir.join("resaved.pdf");
    run_ok(
        Command::new("qpdf")
            .args(["--object-streams=generate", "--compress-streams=y"])
            .arg(&pdf_path)
            .arg(&resaved),
    );
    let (ok, line) = verify(&resaved, &photo_path, &policy_path);
    assert!(ok, "re-saved by qpdf: {line}");

    // Refusals: another file; the attachment altered (inside the PDF, too); one visible fact
    // changed in the certificate JSON.
    let (ok, line) = verify(&pdf_path, &second, &policy_path);
    assert!(!ok);
    assert_eq!(line["layer"], "media", "{line}");
    let mut altered: Value = cert.clone();
    altered["certificate"]["case"]["cause"] = json!("盗窃");
    let altered_path = detached.join(format!("certificate-{number}.json"));
    std::fs::write(&altered_path, canonical::canonicalize(&altered).unwrap()).unwrap();
    let (ok, line) = verify(&altered_path, &photo_path, &policy_path);
    assert!(!ok);
    assert_eq!(
        (line["layer"].as_str(), line["rule"].as_str()),
        (Some("certificate"), Some("certificate.signature")),
        "{line}"
    );
    let swapped = dir.join("swapped.pdf");
    run_ok(
        Command::new("qpdf")
            .arg(&pdf_path)
            .arg("--add-attachment")
            .arg(&altered_path)
            .arg("--replace")
            .arg("--")
            .arg(&swapped),
    );
    let (ok, line) = verify(&swapped, &photo_path, &policy_path);
    // qpdf replaces the name-tree entry, but the catalog's /AF still names the original: the
    // PDF now carries two different certificates, and is refused for that.
    assert!(!ok, "a PDF with an altered attachment must be refused");
    assert_eq!(line["rule"], "certificate.pdf.attachment", "{line}");
    let mut visible = cert.clone();
    visible["certificate"]["items"][0]["file_name"] = json!("IMG_0009.jpg");
    std::fs::write(&altered_path, canonical::canonicalize(&visible).unwrap()).unwrap();
    let (ok, line) = verify(&altered_path, &photo_path, &policy_path);
    assert!(!ok);
    assert_eq!(line["layer"], "certificate", "{line}");

    // veraPDF: PDF/A-3 compliant.
    let (ok, report) = verapdf(&[&pdf_path]);
    assert!(ok, "veraPDF: {report}");
    assert!(report.contains("compliant PDF/A-3u"), "{report}");
}

/// The default operator is an evidence-deposit platform: its certificate says 存证证书 and
/// never speaks of notarisation, and shows its credit code on page 1.
#[test]
fn the_default_certificate_is_an_evidence_deposit_certificate_not_a_notarial_one() {
    require("pdftotext", "apt-get install poppler-utils");
    let path = common::repo_root().join("schemas/examples/certificate.json");
    let cert: tiezheng_protocol::certificate::SignedCertificate =
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    assert_eq!(
        cert.certificate.issuer.operator_type,
        tiezheng_protocol::certificate::OperatorType::EvidencePlatform
    );
    let rendered = tiezheng_certificate::render(&cert, None).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("certificate.pdf");
    std::fs::write(&pdf, &rendered.pdf).unwrap();
    let text = String::from_utf8(run_ok(Command::new("pdftotext").arg(&pdf).arg("-"))).unwrap();
    let page1 = text.split('\u{c}').next().unwrap_or_default();
    for want in [
        "存证证书",
        "Evidence Deposit Certificate",
        // 取证依据: the forensic profile the capture followed (#22).
        "取证依据",
        "行政执法现场检查取证",
        "cn.admin-penalty.onsite.2021 v1",
        // Who signed with their own keys, as the notary bound them.
        "王强 (310101 · 执法证号 沪执0310101)",
        "(310102 · 执法证号 沪执0310102)",
        "存证平台",
        "统一社会信用代码",
        cert.certificate.issuer.credit_code.as_str(),
    ] {
        assert!(page1.contains(want), "page 1 lacks {want:?}:\n{page1}");
    }
    for never in ["Notarised", "Notarized", "公证处", "公证存证", "公证机构"] {
        assert!(!text.contains(never), "the PDF says {never:?}:\n{text}");
    }
}
