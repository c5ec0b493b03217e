//! Tiezheng in the browser: the protocol crate (`tiezheng-protocol`), compiled to
//! WebAssembly for the verification portal, so that the page runs the same hashing and the
//! same verifier as `tiezheng verify`, not a re-implementation.
//!
//! * [`Hasher`]: one content digest (SM3 or SHA-256), streaming; the page runs one per Web
//!   Worker over `File.slice` chunks, so a file of several GB is hashed on two cores with
//!   constant memory and never leaves the browser.
//! * [`verify`]: the protocol's one verification entry over a bundle, a certificate or a
//!   certificate PDF, with the media file's digests and an optional court policy; returns the
//!   report as JSON ([`report`]).
//! * [`check_custody`]: the integrity of a custody log ([`tiezheng_protocol::custody`]).
//! * [`fingerprint_policy`]: the SM3 fingerprint shown beside a trusted policy.
//! * [`appraisal`]: the appraisal workspace's keys and signing (steps, co-signed opinions,
//!   credentials, revocations), so that a party's key never leaves the browser.
//!
//! Every function takes and returns plain bytes and JSON strings; nothing panics on input.

pub mod appraisal;
pub mod report;

use tiezheng_protocol::custody::{CustodyEvent, check_chain};
use tiezheng_protocol::{ContentDigests, ContentHasher, Hash32, HashAlgorithm};
use wasm_bindgen::prelude::*;

/// One streaming content digest: `new Hasher("SM3")` or `new Hasher("SHA-256")`.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Hasher {
    inner: ContentHasher,
}

#[wasm_bindgen]
impl Hasher {
    /// A hasher for `algorithm` (`"SM3"` or `"SHA-256"`).
    #[wasm_bindgen(constructor)]
    pub fn new(algorithm: &str) -> Result<Hasher, JsError> {
        let alg = match algorithm {
            "SM3" => HashAlgorithm::Sm3,
            "SHA-256" => HashAlgorithm::Sha256,
            other => {
                return Err(JsError::new(&format!(
                    "unknown hash algorithm {other:?}: use \"SM3\" or \"SHA-256\""
                )));
            }
        };
        Ok(Self {
            inner: ContentHasher::new(alg),
        })
    }

    /// Feeds the next chunk of the file.
    pub fn update(&mut self, chunk: &[u8]) {
        self.inner.update(chunk);
    }

    /// Bytes hashed so far.
    pub fn bytes(&self) -> f64 {
        // Exact for files below 2^53 bytes (8 PiB).
        self.inner.bytes() as f64
    }

    /// The digest as 64 lowercase hex digits.
    pub fn finalize(self) -> String {
        self.inner.finalize().to_hex()
    }
}

/// The media digests the page computed, as `{"bytes", "sm3", "sha256", "segments"}`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct MediaDigests {
    bytes: u64,
    sm3: String,
    sha256: String,
    /// SM3 of each byte range [`segment_ranges`] gave, in order (recordings).
    #[serde(default)]
    segments: Vec<String>,
}

fn parse_media(json: &str) -> Result<report::MediaFile, String> {
    let m: MediaDigests = serde_json::from_str(json).map_err(|e| {
        format!("media digests must be {{\"bytes\", \"sm3\", \"sha256\", \"segments\"}}: {e}")
    })?;
    Ok(report::MediaFile {
        digests: ContentDigests {
            bytes: m.bytes,
            sm3: Hash32::from_hex(&m.sm3).map_err(|e| format!("media sm3: {e}"))?,
            sha256: Hash32::from_hex(&m.sha256).map_err(|e| format!("media sha256: {e}"))?,
        },
        segment_sm3: m
            .segments
            .iter()
            .map(|s| Hash32::from_hex(s).map_err(|e| format!("media segment sm3: {e}")))
            .collect::<Result<_, _>>()?,
    })
}

/// The byte ranges `[[offset, bytes], ...]` of the segments of the recording in `evidence`
/// (every recording item of its manifest, in order), whose SM3s the page computes while it
/// hashes the file; `[]` for a photo or a document that cannot be read.
#[wasm_bindgen]
pub fn segment_ranges(evidence: &[u8]) -> String {
    let ranges: Vec<[u64; 2]> = tiezheng_protocol::verify::Document::recognise(evidence)
        .map(|d| {
            d.segment_ranges()
                .into_iter()
                .map(|(o, n)| [o, n])
                .collect()
        })
        .unwrap_or_default();
    serde_json::to_string(&ranges).unwrap_or_else(|_| "[]".into())
}

/// Verifies `evidence` (the bytes of a bundle or certificate) against the media digests
/// (`{"bytes", "sm3", "sha256"}` JSON, if a file was given) and the court's policy file (if
/// loaded; otherwise the keys inside the bundle). Returns the report as JSON.
// wasm-bindgen hands optional JavaScript values over by value.
#[allow(clippy::needless_pass_by_value)]
#[wasm_bindgen]
pub fn verify(evidence: &[u8], media: Option<String>, policy: Option<Vec<u8>>) -> String {
    verify_json(evidence, media.as_deref(), policy.as_deref())
}

/// [`verify`] without the JavaScript types (also used by native tests).
pub fn verify_json(evidence: &[u8], media: Option<&str>, policy: Option<&[u8]>) -> String {
    let bad_input = |layer: &'static str, rule: &'static str, message: String| report::Report {
        verdict: "unusable",
        media_checked: false,
        checks: vec![report::Check {
            layer,
            rule: rule.to_owned(),
            status: "fail",
            message,
            en: "",
            zh: "",
        }],
        policy: None,
        facts: None,
        certificate: None,
    };
    let r = match (
        media.map(parse_media).transpose(),
        policy.map(report::parse_policy).transpose(),
    ) {
        (Err(e), _) => bad_input("media", "media.digests", e),
        (_, Err(e)) => bad_input("policy", "policy.parse", e),
        (Ok(m), Ok(p)) => report::verify_evidence(evidence, m.as_ref(), p.as_ref()),
    };
    serde_json::to_string(&r)
        .unwrap_or_else(|e| format!("{{\"verdict\":\"unusable\",\"error\":\"{e}\"}}"))
}

/// Checks a custody log given as a JSON array of events; returns the report as JSON.
#[wasm_bindgen]
pub fn check_custody(events: &str) -> String {
    match serde_json::from_str::<Vec<CustodyEvent>>(events) {
        Ok(ev) => serde_json::to_string(&check_chain(&ev)).unwrap_or_default(),
        Err(e) => serde_json::json!({
            "intact": false,
            "events": [],
            "error": format!("not a custody log: {e}"),
        })
        .to_string(),
    }
}

/// The SM3 fingerprint of a policy file (of its RFC 8785 form), or an error message.
#[wasm_bindgen]
pub fn fingerprint_policy(policy: &[u8]) -> Result<String, JsError> {
    report::parse_policy(policy)
        .map(|p| report::policy_fingerprint(&p))
        .map_err(|e| JsError::new(&e))
}
