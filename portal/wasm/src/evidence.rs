//! What the user dropped in: an offline bundle, a certificate JSON, or a certificate PDF (whose
//! attached certificate is extracted with the protocol crate's PDF reader). Certificates are
//! verified by the protocol's certificate verifier, then their embedded bundle by the bundle
//! verifier, exactly as `tiezheng verify` does.

use serde_json::Value;
use tiezheng_protocol::bundle::Bundle;
use tiezheng_protocol::canonical;
use tiezheng_protocol::certificate::{CERTIFICATE_TYPE, certificate_from_pdf};

/// The evidence document, recognised.
#[derive(Debug)]
pub struct Evidence {
    /// The bundle's bytes (for a certificate: its embedded bundle, RFC 8785).
    pub bundle_bytes: Vec<u8>,
    /// The bundle, if it parses (for the facts the page shows and the segment ranges).
    pub bundle: Option<Bundle>,
    /// The certificate JSON bytes, for a certificate.
    pub certificate: Option<Vec<u8>>,
    /// Whether the certificate came from a PDF.
    pub from_pdf: bool,
}

/// Why a document cannot be verified at all (the verdict is then "unusable"), or why a
/// certificate PDF carries no usable certificate (then "invalid").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unusable {
    /// The layer the report names (`bundle` or `certificate`).
    pub layer: &'static str,
    /// The rule identifier.
    pub rule: &'static str,
    /// What is wrong and what to do.
    pub message: String,
}

/// Recognises `bytes`: a certificate PDF, a certificate JSON or a bundle.
pub fn recognise(bytes: &[u8]) -> Result<Evidence, Unusable> {
    let is_pdf = bytes
        .get(..1024)
        .unwrap_or(bytes)
        .windows(5)
        .any(|w| w == b"%PDF-");
    let certificate = if is_pdf {
        Some(certificate_from_pdf(bytes).map_err(|e| Unusable {
            layer: "certificate",
            rule: e.rule(),
            message: e.reason(),
        })?)
    } else {
        None
    };
    let doc = certificate.as_deref().unwrap_or(bytes);
    let value: Value = serde_json::from_slice(doc).map_err(|e| Unusable {
        layer: "bundle",
        rule: "bundle.json",
        message: format!("this file is not a Tiezheng bundle or certificate (JSON or PDF): {e}"),
    })?;
    let is_certificate =
        value.pointer("/certificate/type").and_then(Value::as_str) == Some(CERTIFICATE_TYPE);
    let bundle_value = if is_certificate {
        value
            .pointer("/certificate/bundle")
            .cloned()
            .unwrap_or(Value::Null)
    } else {
        value
    };
    Ok(Evidence {
        bundle_bytes: canonical::canonicalize(&bundle_value).unwrap_or_else(|_| doc.to_vec()),
        bundle: serde_json::from_value(bundle_value).ok(),
        certificate: if is_certificate {
            Some(doc.to_vec())
        } else {
            None
        },
        from_pdf: is_pdf,
    })
}
