//! `notary/openapi.json` is the document the service serves; it must equal what the code
//! generates from the protocol's schemas. Regenerate with
//! `TIEZHENG_BLESS=1 cargo test -p tiezheng-notary --test openapi`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

#[test]
fn committed_openapi_matches_the_code() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi.json");
    let want = tiezheng_notary::openapi::render();
    if std::env::var_os("TIEZHENG_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &want).unwrap();
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap();
    assert!(
        have == want,
        "notary/openapi.json is out of date: run `TIEZHENG_BLESS=1 cargo test -p tiezheng-notary --test openapi` and commit it"
    );
    let doc: serde_json::Value = serde_json::from_str(&have).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["components"]["schemas"]["proof"].is_object());
}

/// Every `$ref` in the document resolves inside it, and every `{parameter}` of every path is
/// declared by each of its operations (as tools such as schemathesis need).
#[test]
fn every_reference_and_path_parameter_resolves() {
    let doc = tiezheng_notary::openapi::document();
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    assert!(refs.len() > 50);
    for r in &refs {
        let pointer = r
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("{r} is not local"));
        assert!(doc.pointer(pointer).is_some(), "{r} does not resolve");
    }
    for (path, ops) in doc["paths"].as_object().unwrap() {
        let wanted: Vec<&str> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .collect();
        for (method, op) in ops.as_object().unwrap() {
            let declared: Vec<&str> = op["parameters"]
                .as_array()
                .map(|ps| {
                    ps.iter()
                        .filter(|p| p["in"] == "path")
                        .filter_map(|p| p["name"].as_str())
                        .collect()
                })
                .unwrap_or_default();
            assert_eq!(declared, wanted, "{method} {path}");
            assert!(op["responses"].as_object().is_some_and(|r| !r.is_empty()));
            if op.get("security").is_some() {
                for s in ["401", "403", "429"] {
                    assert!(op["responses"].get(s).is_some(), "{method} {path} {s}");
                }
            }
            if matches!(method.as_str(), "post" | "put") && !path.ends_with("/revoke") {
                assert!(
                    op.get("requestBody").is_some(),
                    "{method} {path} has a body"
                );
            }
        }
    }
}

fn collect_refs(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(o) => {
            if let Some(serde_json::Value::String(r)) = o.get("$ref") {
                out.push(r.clone());
            }
            o.values().for_each(|v| collect_refs(v, out));
        }
        serde_json::Value::Array(a) => a.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}
