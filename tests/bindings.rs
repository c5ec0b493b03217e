//! The foreign-language bindings, tested the way app developers use them: the host library is
//! built, Kotlin and Python bindings are generated with the workspace's `uniffi-bindgen`, and
//! the generated code runs a capture → sync flow against a real notary — Python with the
//! standard library, Kotlin on the host JVM with Maven (JNA, coroutines, JUnit 5), together with
//! the Android sample's platform-free logic. Needs `python3`, a JDK 17 and `mvn`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// Generates the bindings once per test run; returns (output dir, host library path).
fn generated() -> &'static (PathBuf, PathBuf) {
    static GEN: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    GEN.get_or_init(|| {
        common::require_tool("python3", "python3", "the binding tests");
        let root = common::repo_root();
        let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bindings");
        let o = Command::new("bash")
            .arg(root.join("bindings/scripts/generate.sh"))
            .arg("debug")
            .arg(&out)
            .current_dir(&root)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "generating the bindings failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let lib = PathBuf::from(
            String::from_utf8(o.stdout)
                .unwrap()
                .lines()
                .last()
                .unwrap()
                .trim(),
        );
        assert!(lib.exists(), "{}", lib.display());
        (out, lib)
    })
}

/// Swift cannot be compiled on this Linux host; its generated sources must exist and expose the
/// API (they are compiled by bindings/scripts/build-xcframework.sh on macOS).
#[test]
fn swift_bindings_are_generated() {
    let (out, _) = generated();
    let swift = std::fs::read_to_string(out.join("swift/TiezhengFFI.swift")).unwrap();
    let squashed = swift.split_whitespace().collect::<Vec<_>>().join(" ");
    for api in [
        "open class Device",
        "func capturePhoto(",
        "func sync(",
        "public protocol KeyVault",
        "public enum TiezhengError",
        "func enrolPinned(",
        "public var errorDescription: String? { errorMessage(error: self) // tiezheng: error messages from the SDK",
    ] {
        assert!(squashed.contains(api), "generated Swift lacks `{api}`");
    }
    assert!(
        out.join("swift/TiezhengFFIC.h").exists() && out.join("swift/module.modulemap").exists()
    );
}

#[test]
fn python_bindings_capture_and_sync() {
    let (out, _) = generated();
    let root = common::repo_root();
    let o = Command::new("python3")
        .args(["-m", "unittest", "discover", "-v", "-s"])
        .arg(root.join("bindings/tests/python"))
        .env("PYTHONPATH", out.join("python"))
        .env("TIEZHENG_BIN", env!("CARGO_BIN_EXE_tiezheng"))
        .env("TIEZHENG_CORPUS", common::corpus_dir())
        .output()
        .expect("python3 is needed for the Python binding tests");
    let log = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "Python binding tests failed:\n{log}");
    assert!(log.contains("OK"), "{log}");
}

#[test]
fn kotlin_bindings_on_the_host_jvm() {
    let (out, lib) = generated();
    let needed_for = "the Kotlin binding tests";
    common::require_tool("javac", "openjdk-17-jdk-headless", needed_for);
    common::require_tool("mvn", "maven", needed_for);
    let root = common::repo_root();
    let o = Command::new("mvn")
        .args(["-B", "-q", "-f"])
        .arg(root.join("bindings/tests/kotlin-jvm/pom.xml"))
        .arg("test")
        .arg(format!("-Dgenerated.dir={}", out.join("kotlin").display()))
        .arg(format!("-Dnative.dir={}", lib.parent().unwrap().display()))
        .arg(format!("-Dtiezheng.bin={}", env!("CARGO_BIN_EXE_tiezheng")))
        .arg(format!(
            "-Dtiezheng.corpus={}",
            common::corpus_dir().display()
        ))
        .output()
        .expect("mvn (Maven) and a JDK 17 are needed for the Kotlin binding tests");
    let reports = root.join("bindings/tests/kotlin-jvm/target/surefire-reports");
    let summary: String = std::fs::read_dir(&reports)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter(|e| e.path().extension().is_some_and(|x| x == "txt"))
                .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
                .collect()
        })
        .unwrap_or_default();
    assert!(
        o.status.success(),
        "Kotlin binding tests failed:\n{}\n{}\n{summary}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(summary.contains("Failures: 0, Errors: 0"), "{summary}");
    eprintln!("{summary}");
}

/// What one front end made of one document: `valid`, `invalid` or `unusable`, and every
/// rule it checked with `pass`, `fail` or `skip`, in its order.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Verdict {
    verdict: String,
    checks: Vec<(String, String)>,
}

fn normalise(status: &str) -> String {
    match status {
        "ok" | "pass" => "pass",
        "skipped" | "skip" => "skip",
        other => other,
    }
    .to_owned()
}

/// The genuine and forged documents every front end is given: `(name, document, policy)`.
fn front_end_cases(dir: &std::path::Path) -> Vec<(String, PathBuf, Option<PathBuf>)> {
    use serde_json::{Value, json};
    use tiezheng_protocol::{SignatureBlock, Sm2SigningKey};
    let examples = common::repo_root().join("schemas/examples");
    let read = |name: &str| -> Value {
        serde_json::from_slice(&std::fs::read(examples.join(name)).unwrap()).unwrap()
    };
    let write = |name: &str, bytes: &[u8]| -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    let json_file = |name: &str, v: &Value| write(name, &serde_json::to_vec(v).unwrap());
    // The GB/T 32918.5 Annex A key: the example notary's, public, so anyone can re-sign.
    let key = Sm2SigningKey::from_bytes(
        &hex::decode("3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b8").unwrap(),
    )
    .unwrap();
    let pdf_of = |v: &Value| {
        let signed: tiezheng_protocol::certificate::SignedCertificate =
            serde_json::from_value(v.clone()).unwrap();
        tiezheng_certificate::render(&signed, None).unwrap().pdf
    };
    let bundle = read("bundle.json");
    let policy = examples.join("policy.json");
    let certificate = read("certificate.json");
    let mut forged_anchor = bundle.clone();
    forged_anchor["anchor"]["record"]["height"] = json!(99);
    let mut forged_certificate = certificate.clone();
    forged_certificate["certificate"]["items"][0]["file_name"] = json!("other.jpg");
    forged_certificate["signature"] = serde_json::to_value(
        SignatureBlock::sign(&key, &forged_certificate["certificate"]).unwrap(),
    )
    .unwrap();
    let governance = examples.join("bundle-consortium-governance.json");
    let consortium_policy = examples.join("policy-consortium.json");
    vec![
        (
            "bundle".into(),
            examples.join("bundle.json"),
            Some(policy.clone()),
        ),
        ("bundle-own-keys".into(), examples.join("bundle.json"), None),
        (
            "bundle-registry-changes".into(),
            governance.clone(),
            Some(consortium_policy),
        ),
        ("bundle-registry-changes-no-policy".into(), governance, None),
        (
            "certificate".into(),
            examples.join("certificate.json"),
            Some(policy.clone()),
        ),
        (
            "certificate-pdf".into(),
            write("certificate.pdf", &pdf_of(&certificate)),
            Some(policy.clone()),
        ),
        (
            "forged-anchor".into(),
            json_file("forged-anchor.json", &forged_anchor),
            Some(policy.clone()),
        ),
        (
            "forged-certificate".into(),
            json_file("forged-certificate.json", &forged_certificate),
            Some(policy.clone()),
        ),
        (
            "forged-certificate-pdf".into(),
            write("forged-certificate.pdf", &pdf_of(&forged_certificate)),
            Some(policy.clone()),
        ),
        (
            "pdf-without-certificate".into(),
            write("empty.pdf", b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n"),
            Some(policy.clone()),
        ),
        (
            "not-a-document".into(),
            write("notes.txt", b"not evidence"),
            Some(policy),
        ),
    ]
}

fn verdicts_from_json(v: &serde_json::Value) -> std::collections::BTreeMap<String, Verdict> {
    v.as_object()
        .unwrap()
        .iter()
        .map(|(name, r)| {
            let checks = r["checks"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| {
                    (
                        c[0].as_str().unwrap().to_owned(),
                        normalise(c[1].as_str().unwrap()),
                    )
                })
                .collect();
            (
                name.clone(),
                Verdict {
                    verdict: r["verdict"].as_str().unwrap().to_owned(),
                    checks,
                },
            )
        })
        .collect()
}

/// The command line, the Python and Kotlin bindings, the WebAssembly build the portal serves
/// (in Node.js) and the notary's pre-issue check give the same report, rule by rule, on the
/// same genuine and forged bundles, certificates and certificate PDFs — and refuse alike a
/// bundle with registry changes and no pinned policy.
#[test]
fn every_front_end_gives_the_same_report() {
    use std::collections::BTreeMap;
    let (out, lib) = generated();
    let root = common::repo_root();
    let dir = tempfile::tempdir().unwrap();
    let cases = front_end_cases(dir.path());

    // The command line.
    let mut cli: BTreeMap<String, Verdict> = BTreeMap::new();
    for (name, document, policy) in &cases {
        let mut c = Command::new(env!("CARGO_BIN_EXE_tiezheng"));
        c.args(["verify", "--json"]).arg(document);
        if let Some(p) = policy {
            c.arg("--policy").arg(p);
        }
        let o = c.output().unwrap();
        let v = if o.status.code() == Some(2) {
            Verdict {
                verdict: "unusable".into(),
                checks: Vec::new(),
            }
        } else {
            let line: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
            Verdict {
                verdict: if line["valid"] == true {
                    "valid"
                } else {
                    "invalid"
                }
                .into(),
                checks: line["checks"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| {
                        (
                            c["rule"].as_str().unwrap().to_owned(),
                            normalise(c["status"].as_str().unwrap()),
                        )
                    })
                    .collect(),
            }
        };
        cli.insert(name.clone(), v);
    }
    let expected = [
        ("bundle", "valid"),
        ("bundle-own-keys", "valid"),
        ("bundle-registry-changes", "valid"),
        ("bundle-registry-changes-no-policy", "unusable"),
        ("certificate", "valid"),
        ("certificate-pdf", "valid"),
        ("forged-anchor", "invalid"),
        ("forged-certificate", "invalid"),
        ("forged-certificate-pdf", "invalid"),
        ("pdf-without-certificate", "invalid"),
        ("not-a-document", "unusable"),
    ];
    for (name, verdict) in expected {
        assert_eq!(cli[name].verdict, verdict, "{name}: {:?}", cli[name]);
    }
    let failed = |v: &Verdict| -> Vec<String> {
        v.checks
            .iter()
            .filter(|(_, s)| s == "fail")
            .map(|(r, _)| r.clone())
            .collect()
    };
    assert_eq!(
        failed(&cli["forged-certificate"]),
        ["certificate.facts.evidence"]
    );
    assert_eq!(
        failed(&cli["forged-certificate-pdf"]),
        ["certificate.facts.evidence"]
    );
    assert_eq!(
        failed(&cli["pdf-without-certificate"]),
        ["certificate.pdf.attachment"]
    );
    assert!(
        failed(&cli["forged-anchor"])
            .iter()
            .all(|r| r.starts_with("anchor."))
    );

    // The list every other front end reads.
    let list: Vec<serde_json::Value> = cases
        .iter()
        .map(|(n, d, p)| serde_json::json!({"name": n, "document": d, "policy": p}))
        .collect();
    let list_file = dir.path().join("cases.json");
    std::fs::write(&list_file, serde_json::to_vec(&list).unwrap()).unwrap();

    // Python bindings.
    let script = r#"
import json, sys
import tiezheng_ffi as tz
out = {}
for c in json.load(open(sys.argv[1])):
    doc = open(c["document"], "rb").read()
    policy = open(c["policy"]).read() if c["policy"] else None
    try:
        r = tz.verify_document(doc, None, policy)
        out[c["name"]] = {"verdict": "valid" if r.valid else "invalid",
                          "checks": [[x.rule, x.status] for x in r.checks]}
    except tz.TiezhengError.InvalidInput:
        out[c["name"]] = {"verdict": "unusable", "checks": []}
print(json.dumps(out))
"#;
    let o = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&list_file)
        .env("PYTHONPATH", out.join("python"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let python = verdicts_from_json(&serde_json::from_slice(&o.stdout).unwrap());

    // The WebAssembly module the portal serves, in Node.js.
    common::require_tool("node", "nodejs", "the WebAssembly front end");
    let pkg = root.join("portal/www/pkg");
    let script = format!(
        r#"
import {{ readFileSync }} from 'node:fs';
import {{ initSync, verify }} from '{js}';
initSync({{ module: readFileSync('{wasm}') }});
const out = {{}};
for (const c of JSON.parse(readFileSync(process.argv[2]))) {{
  const policy = c.policy ? readFileSync(c.policy) : undefined;
  const r = JSON.parse(verify(readFileSync(c.document), undefined, policy));
  out[c.name] = {{ verdict: r.verdict,
                   checks: r.verdict === 'unusable' ? [] : r.checks.map((x) => [x.rule, x.status]) }};
}}
console.log(JSON.stringify(out));
"#,
        js = pkg.join("tiezheng_wasm.js").display(),
        wasm = pkg.join("tiezheng_wasm_bg.wasm").display()
    );
    let script_file = dir.path().join("front-ends.mjs");
    std::fs::write(&script_file, script).unwrap();
    let o = Command::new("node")
        .arg(&script_file)
        .arg(&list_file)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let wasm = verdicts_from_json(&serde_json::from_slice(&o.stdout).unwrap());

    // Kotlin bindings on the host JVM.
    let needed_for = "the Kotlin front end";
    common::require_tool("mvn", "maven", needed_for);
    let tsv: String = cases
        .iter()
        .map(|(n, d, p)| {
            format!(
                "{n}\t{}\t{}\n",
                d.display(),
                p.as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            )
        })
        .collect();
    let tsv_file = dir.path().join("cases.tsv");
    let kotlin_out = dir.path().join("kotlin.tsv");
    std::fs::write(&tsv_file, tsv).unwrap();
    let o = Command::new("mvn")
        .args(["-B", "-q", "-f"])
        .arg(root.join("bindings/tests/kotlin-jvm/pom.xml"))
        .args([
            "test",
            "-Dtest=FrontEndsTest",
            "-Dsurefire.failIfNoSpecifiedTests=false",
        ])
        .arg(format!("-Dgenerated.dir={}", out.join("kotlin").display()))
        .arg(format!("-Dnative.dir={}", lib.parent().unwrap().display()))
        .arg(format!("-Dfront.ends.cases={}", tsv_file.display()))
        .arg(format!("-Dfront.ends.out={}", kotlin_out.display()))
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let kotlin: BTreeMap<String, Verdict> = std::fs::read_to_string(&kotlin_out)
        .unwrap()
        .lines()
        .map(|l| {
            let mut f = l.splitn(3, '\t');
            let name = f.next().unwrap().to_owned();
            let verdict = f.next().unwrap().to_owned();
            let checks = f
                .next()
                .unwrap_or("")
                .split(',')
                .filter(|c| !c.is_empty())
                .map(|c| {
                    let (r, s) = c.split_once('=').unwrap();
                    (r.to_owned(), normalise(s))
                })
                .collect();
            (name, Verdict { verdict, checks })
        })
        .collect();

    for (name, _, _) in &cases {
        assert_eq!(
            python[name], cli[name],
            "{name}: Python bindings vs command line"
        );
        assert_eq!(
            kotlin[name], cli[name],
            "{name}: Kotlin bindings vs command line"
        );
        // The page shows the unusable input's reason as its one check; the verdict is what
        // counts there.
        if cli[name].verdict == "unusable" {
            assert_eq!(wasm[name].verdict, "unusable", "{name}: WebAssembly");
        } else {
            assert_eq!(wasm[name], cli[name], "{name}: WebAssembly vs command line");
        }
    }

    // The notary's pre-issue check (the function the notary calls before it signs a
    // certificate): the bundle it would certify verifies, or fails first at the same rule.
    use tiezheng_protocol::bundle::{Bundle, Policy};
    use tiezheng_protocol::certificate::{IssueParams, issue};
    let key = tiezheng_protocol::Sm2SigningKey::from_bytes(
        &hex::decode("3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b8").unwrap(),
    )
    .unwrap();
    for (name, document, policy) in &cases {
        let (Ok(bundle), Some(policy)) = (
            serde_json::from_slice::<Bundle>(&std::fs::read(document).unwrap()),
            policy,
        ) else {
            continue;
        };
        let policy: Policy = serde_json::from_slice(&std::fs::read(policy).unwrap()).unwrap();
        let params = IssueParams {
            issuer: tiezheng_protocol::certificate::IssuerStanding {
                operator_type: tiezheng_protocol::certificate::OperatorType::EvidencePlatform,
                name: "front-end test".into(),
                legal_name: "front-end test Co.".into(),
                credit_code: "91330100716105852F".into(),
                filing_number: None,
                contact: "test".into(),
            },
            verify_url: "https://notary.example.cn/verify".into(),
            issued_at: tiezheng_protocol::Timestamp::now_utc(),
            custody: tiezheng_protocol::certificate::CustodySummary {
                events: 1,
                last_event_hash: tiezheng_protocol::Hash32::sm3(b"receipt"),
            },
        };
        let first = cli[name]
            .checks
            .iter()
            .find(|(_, s)| s == "fail")
            .map(|(r, _)| r.clone());
        match issue(bundle, &policy, params, &key) {
            Ok(_) => assert_eq!(first, None, "{name}: the notary would certify it"),
            // Another notary's proof: the bundle verified, the issuer is not its notary.
            Err(e) if e.rule() == "certificate.issuer" => assert_eq!(first, None, "{name}"),
            Err(e) => assert_eq!(first.as_deref(), Some(e.rule()), "{name}: notary"),
        }
    }
}
