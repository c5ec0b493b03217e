//! What the user dropped in: an offline bundle, a certificate JSON, or a certificate PDF.
//!
//! Bundles are verified today. Certificates (`tiezheng.certificate.v1`, issue 12) and the
//! PDF/A-3 that carries one as an attached file are recognised here and handed to
//! [`certificate_hook`], the one place to connect the protocol crate's certificate verifier
//! (and its PDF attachment extraction) when it lands.

use tiezheng_protocol::bundle::{BUNDLE_TYPE, Bundle, parse_bundle};

/// `type` of a certificate document (issue 12).
pub const CERTIFICATE_TYPE: &str = "tiezheng.certificate.v1";

/// The evidence document, recognised.
#[derive(Debug)]
pub enum Evidence {
    /// An offline proof bundle.
    Bundle(Box<Bundle>),
}

/// Why a document cannot be verified at all (the verdict is then "unusable").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unusable {
    /// The layer the report names (`bundle` or `certificate`).
    pub layer: &'static str,
    /// The rule identifier.
    pub rule: &'static str,
    /// What is wrong and what to do.
    pub message: String,
}

/// Recognises `bytes` and parses them.
pub fn recognise(bytes: &[u8]) -> Result<Evidence, Unusable> {
    if bytes.starts_with(b"%PDF-") {
        return certificate_hook(Kind::Pdf, bytes);
    }
    let kind = serde_json::from_slice::<serde_json::Value>(bytes)
        .ok()
        .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_owned));
    match kind.as_deref() {
        Some(CERTIFICATE_TYPE) => certificate_hook(Kind::Json, bytes),
        Some(BUNDLE_TYPE) | None => parse_bundle(bytes)
            .map(|b| Evidence::Bundle(Box::new(b)))
            .map_err(|e| Unusable {
                layer: "bundle",
                rule: "bundle.parse",
                message: format!(
                    "this file is not a Tiezheng bundle or certificate (JSON or PDF): {}",
                    e.reason
                ),
            }),
        Some(other) => Err(Unusable {
            layer: "bundle",
            rule: "bundle.type",
            message: format!(
                "a document of type {other:?}: choose a certificate ({CERTIFICATE_TYPE}, JSON or PDF) or a bundle ({BUNDLE_TYPE})"
            ),
        }),
    }
}

/// Which certificate form was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The signed certificate JSON.
    Json,
    /// The PDF/A-3 with the certificate JSON attached.
    Pdf,
}

/// HOOK (issue 12, certificates): verify a certificate JSON, or extract the attached
/// certificate from a PDF and verify it, with the protocol crate's certificate verifier, then
/// return its embedded bundle. Until that verifier lands a certificate is reported as not yet
/// supported, so a court is never told that a certificate was checked when it was not.
pub fn certificate_hook(kind: Kind, _bytes: &[u8]) -> Result<Evidence, Unusable> {
    Err(Unusable {
        layer: "certificate",
        rule: "certificate.supported",
        message: match kind {
            Kind::Json => "certificates (tiezheng.certificate.v1) are not verified by this version of the page yet: verify the certificate's bundle (GET /v1/proofs/{sm3}/bundle) instead".into(),
            Kind::Pdf => "certificate PDFs are not verified by this version of the page yet: verify the certificate's bundle (GET /v1/proofs/{sm3}/bundle) instead".into(),
        },
    })
}
