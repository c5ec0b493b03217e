//! `notary/openapi.json` is the document the service serves; it must equal what the code
//! generates from the protocol's schemas. Regenerate with
//! `TIEZHENG_BLESS=1 cargo test -p tiezheng-notary --test openapi`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

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
