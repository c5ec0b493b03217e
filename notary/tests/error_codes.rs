//! The catalogue of error codes (`notary/src/error_codes.rs`) is complete and current: every
//! code the notary's sources answer with is in it, with its status, and nothing in it is stale;
//! `bindings/REJECTED-CODES.md` is generated from it. Regenerate with
//! `TIEZHENG_BLESS=1 cargo test -p tiezheng-notary --test error_codes`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::collections::BTreeSet;
use std::path::Path;

use tiezheng_notary::error_codes::{CATALOGUE, markdown};

/// A snake_case string literal at the start of `s`.
fn literal(s: &str) -> Option<String> {
    let body = s.strip_prefix('"')?;
    let end = body.find('"')?;
    let lit = &body[..end];
    (!lit.is_empty()
        && lit
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'))
    .then(|| lit.to_owned())
}

/// The HTTP status a `StatusCode::` constant names.
fn status_of(name: &str) -> Option<u16> {
    Some(match name {
        "BAD_REQUEST" => 400,
        "UNAUTHORIZED" => 401,
        "FORBIDDEN" => 403,
        "NOT_FOUND" => 404,
        "REQUEST_TIMEOUT" => 408,
        "CONFLICT" => 409,
        "GONE" => 410,
        "PAYLOAD_TOO_LARGE" => 413,
        "UNPROCESSABLE_ENTITY" => 422,
        "TOO_MANY_REQUESTS" => 429,
        "INTERNAL_SERVER_ERROR" => 500,
        "SERVICE_UNAVAILABLE" => 503,
        _ => return None,
    })
}

/// The error codes in one source file, with the status where the source states it next to
/// the code: the first literal given to an error constructor, and the literals of
/// `fn code(&self)` arms and of the HTTP layer's own answers.
fn codes_in(src: &str) -> BTreeSet<(String, Option<u16>)> {
    let s = src.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out = BTreeSet::new();
    for (prefix, fixed) in [
        ("HttpError::new(", None),
        ("Self::new(", None),
        ("HttpError::bad_request(", Some(400)),
        ("HttpError::unprocessable(", Some(422)),
        ("refused(", Some(401)),
    ] {
        for (i, _) in s.match_indices(prefix) {
            let mut rest = s[i + prefix.len()..].trim_start();
            let mut status = fixed;
            if let Some(named) = rest.strip_prefix("StatusCode::") {
                let (name, r) = named.split_once(", ").unwrap_or(("", ""));
                status = status_of(name);
                rest = r;
            }
            out.extend(literal(rest).map(|c| (c, status)));
        }
    }
    for (marker, arm) in [("fn code(&self)", "=> \""), ("fn json_errors", "=> ( \"")] {
        for (i, _) in s.match_indices(marker) {
            let body = &s[i + marker.len()..];
            let body = &body[..body.find(" fn ").unwrap_or(body.len())];
            for (j, _) in body.match_indices(arm) {
                out.extend(literal(&body[j + arm.len() - 1..]).map(|c| (c, None)));
            }
        }
    }
    out
}

fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn every_error_code_is_catalogued_and_published() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    sources(&root.join("src"), &mut files);
    let mut found = BTreeSet::new();
    for f in &files {
        if f.ends_with("error_codes.rs") || f.ends_with("openapi.rs") {
            continue;
        }
        found.extend(codes_in(&std::fs::read_to_string(f).unwrap()));
    }
    // The proof's schema and recorded procedure are checked by the protocol crate, whose codes
    // the intake answers with (422).
    let mut protocol = Vec::new();
    for dir in ["manifest", "profile"] {
        sources(&root.join("../sdk/protocol/src").join(dir), &mut protocol);
    }
    for f in &protocol {
        let s = std::fs::read_to_string(f).unwrap();
        let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
        for prefix in ["SchemaViolation::new(", "named(", "code: "] {
            for (i, _) in s.match_indices(prefix) {
                let rest = s[i + prefix.len()..].trim_start();
                found.extend(literal(rest).map(|c| (c, Some(422))));
            }
        }
    }
    // Where the source states a code's status, the catalogue states the same.
    for (code, status) in &found {
        if let (Some(status), Some(e)) = (status, CATALOGUE.iter().find(|e| e.code == code)) {
            assert_eq!(e.status, *status, "`{code}` is answered with {status}");
        }
    }
    let used: BTreeSet<String> = found.into_iter().map(|(c, _)| c).collect();
    let catalogued: BTreeSet<String> = CATALOGUE.iter().map(|e| e.code.to_owned()).collect();
    assert_eq!(
        catalogued.len(),
        CATALOGUE.len(),
        "a code is catalogued twice"
    );
    let missing: Vec<_> = used.difference(&catalogued).collect();
    assert!(
        missing.is_empty(),
        "codes answered by the notary but not in notary/src/error_codes.rs: {missing:?}"
    );
    let stale: Vec<_> = catalogued.difference(&used).collect();
    assert!(
        stale.is_empty(),
        "codes in notary/src/error_codes.rs that the notary no longer answers: {stale:?}"
    );
    assert!(used.len() > 60, "the scan found only {used:?}");

    let path = root.join("../bindings/REJECTED-CODES.md");
    let want = markdown();
    if std::env::var_os("TIEZHENG_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &want).unwrap();
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "bindings/REJECTED-CODES.md is out of date: run `TIEZHENG_BLESS=1 cargo test -p tiezheng-notary --test error_codes` and commit it"
    );
}
