//! The WebAssembly build and the native build give the same report (issue #27): the committed
//! module in `portal/www/pkg`, run under Node.js exactly as the browser loads it, against
//! `verify_json` compiled natively, on every published example document and on hundreds of
//! deterministic variants of them (each string or number changed, members dropped, garbage
//! input), with and without a file and a pinned policy. Any difference, in a verdict, a rule's
//! outcome or its wording, fails with the case named.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    missing_docs
)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};
use tiezheng_protocol::DualHasher;
use tiezheng_wasm::verify_json;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn example(name: &str) -> Vec<u8> {
    std::fs::read(root().join("schemas/examples").join(name)).unwrap()
}

fn digests(bytes: &[u8]) -> String {
    let mut h = DualHasher::new();
    h.update(bytes);
    let d = h.finalize();
    json!({"bytes": d.bytes, "sm3": d.sm3.to_hex(), "sha256": d.sha256.to_hex(), "segments": []})
        .to_string()
}

/// Every variant of `v` that changes one leaf (a hex digit, a number, a boolean) or drops one
/// member, at most `limit` of them, in document order.
fn variants(v: &Value, limit: usize) -> Vec<Value> {
    fn walk(v: &Value, path: &mut Vec<Value>, out: &mut Vec<Vec<Value>>) {
        match v {
            Value::Object(o) => {
                for (k, x) in o {
                    path.push(json!(k));
                    out.push(path.clone());
                    walk(x, path, out);
                    path.pop();
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    path.push(json!(i));
                    walk(x, path, out);
                    path.pop();
                }
            }
            _ => {}
        }
    }
    let mut paths = Vec::new();
    walk(v, &mut Vec::new(), &mut paths);
    let step = (paths.len() / limit.max(1)).max(1);
    let mut out = Vec::new();
    for (n, p) in paths.iter().enumerate().step_by(step) {
        let mut changed = v.clone();
        let mut at = &mut changed;
        for k in &p[..p.len() - 1] {
            at = match k {
                Value::String(s) => &mut at[s.as_str()],
                _ => &mut at[k.as_u64().unwrap() as usize],
            };
        }
        let last = p.last().unwrap().as_str().unwrap();
        let obj = at.as_object_mut().unwrap();
        if n % 3 == 0 {
            obj.remove(last);
        } else {
            let x = obj.get_mut(last).unwrap();
            *x = match x.take() {
                Value::String(s) => {
                    let mut c: Vec<char> = s.chars().collect();
                    let at = n % c.len().max(1);
                    if let Some(ch) = c.get_mut(at) {
                        *ch = if *ch == '0' { '1' } else { '0' };
                    }
                    Value::String(c.into_iter().collect())
                }
                Value::Number(x) => json!(x.as_i64().unwrap_or(0).wrapping_add(1)),
                Value::Bool(b) => json!(!b),
                Value::Null => json!("0"),
                other => json!([other]),
            };
        }
        out.push(changed);
    }
    out
}

#[test]
fn the_webassembly_build_reports_exactly_what_the_native_build_does() {
    let node = Command::new("node").arg("--version").output();
    assert!(
        node.is_ok_and(|o| o.status.success()),
        "node is not installed: this test runs the portal's WebAssembly under Node.js (apt-get install nodejs)"
    );
    let dir = std::env::temp_dir().join(format!("tiezheng-wasm-native-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    let policy = write("policy.json", &example("policy.json"));
    let consortium = write("policy-consortium.json", &example("policy-consortium.json"));
    let (abc, abd) = (digests(b"abc"), digests(b"abd"));
    // (evidence bytes, media digests, policy file)
    let mut cases: Vec<(Vec<u8>, Option<String>, Option<PathBuf>)> = Vec::new();
    for (doc, pol) in [
        ("bundle.json", &policy),
        ("certificate.json", &policy),
        ("public-digest.json", &policy),
        ("bundle-consortium.json", &consortium),
        ("bundle-consortium-governance.json", &consortium),
    ] {
        let bytes = example(doc);
        for media in [None, Some(abc.clone()), Some(abd.clone())] {
            cases.push((bytes.clone(), media.clone(), Some(pol.clone())));
            cases.push((bytes.clone(), media, None));
        }
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        for changed in variants(&v, 80) {
            cases.push((
                serde_json::to_vec(&changed).unwrap(),
                Some(abc.clone()),
                Some(pol.clone()),
            ));
        }
    }
    for junk in [
        &b""[..],
        b"{}",
        b"[]",
        b"null",
        b"%PDF-1.7\n%junk",
        b"\xff\xfe{",
        b"{\"digest\":{}}",
        b"{\"certificate\":1}",
    ] {
        cases.push((junk.to_vec(), None, None));
        cases.push((
            junk.to_vec(),
            Some("{\"bytes\":1}".into()),
            Some(policy.clone()),
        ));
    }
    cases.push((example("bundle.json"), Some("not json".into()), None));
    cases.push((
        example("bundle.json"),
        None,
        Some(write("bad-policy.json", b"{}")),
    ));

    let list: Vec<Value> = cases
        .iter()
        .enumerate()
        .map(|(i, (evidence, media, pol))| {
            json!({
                "evidence": write(&format!("case-{i}.bin"), evidence),
                "media": media,
                "policy": pol,
            })
        })
        .collect();
    let list_file = write("cases.json", &serde_json::to_vec(&list).unwrap());
    let out = Command::new("node")
        .arg(root().join("portal/tests/wasm-reports.mjs"))
        .arg(&list_file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the WebAssembly module did not run: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let wasm: Vec<String> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(wasm.len(), cases.len());
    let mut differ = Vec::new();
    let mut verdicts = std::collections::BTreeMap::<String, usize>::new();
    for (i, ((evidence, media, pol), from_wasm)) in cases.iter().zip(&wasm).enumerate() {
        let policy_bytes = pol.as_ref().map(|p| std::fs::read(p).unwrap());
        let native = verify_json(evidence, media.as_deref(), policy_bytes.as_deref());
        let (a, b): (Value, Value) = (
            serde_json::from_str(&native).unwrap(),
            serde_json::from_str(from_wasm).unwrap(),
        );
        *verdicts
            .entry(a["verdict"].as_str().unwrap_or("?").to_owned())
            .or_default() += 1;
        if a != b {
            differ.push(format!("case {i}:\n native {a}\n wasm   {b}"));
        }
    }
    eprintln!("{} cases, verdicts {verdicts:?}", cases.len());
    assert!(
        verdicts.get("valid").copied().unwrap_or(0) >= 10,
        "{verdicts:?}"
    );
    assert!(
        verdicts.get("invalid").copied().unwrap_or(0) >= 100,
        "{verdicts:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        differ.is_empty(),
        "{} of {} differ:\n{}",
        differ.len(),
        cases.len(),
        differ.join("\n")
    );
}
