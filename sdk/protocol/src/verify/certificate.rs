//! Layer `certificate`: the notary's signed certificate (存证证书) around a bundle — its
//! format, signature and issuer, every fact it states against what its embedded bundle
//! gives, its date and its custody summary. Every rule is checked and recorded, as for the
//! bundle's layers; the embedded bundle itself is verified once, by the bundle layers.

use serde_json::Value;

use crate::canonical;
use crate::certificate::{
    CertificateError, SignedCertificate, check_issuer, derive_facts, fact_mismatches,
    parse_certificate,
};
use crate::hash::Hash32;

use super::report::{RULES, Report};

/// What a certificate states about itself, once its format holds.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CertificateFacts {
    /// The certificate number.
    pub number: String,
    /// SM3 of the certificate's RFC 8785 bytes (as printed on the PDF and in its QR code).
    pub sm3: Hash32,
    /// The issuer's name.
    pub issuer: String,
    /// When it was issued.
    pub issued_at: crate::time::Timestamp,
}

/// The certificate rules other than `certificate.pdf.attachment` and `certificate.format`,
/// in catalogue order.
fn content_rules() -> impl Iterator<Item = &'static str> {
    RULES
        .iter()
        .filter(|r| r.layer() == "certificate")
        .map(|r| r.id)
        .filter(|id| *id != "certificate.pdf.attachment" && *id != "certificate.format")
}

fn record(r: &mut Report, e: &CertificateError) {
    r.record(e.rule(), Err(e.reason()));
}

/// Checks every certificate rule of the certificate in `bytes`, recording each in `r`; the
/// certificate (and its facts) if its format holds.
pub(super) fn check(bytes: &[u8], r: &mut Report) -> Option<(SignedCertificate, CertificateFacts)> {
    let (signed, value) = match parse_certificate(bytes) {
        Ok(c) => c,
        Err(e) => {
            record(r, &e);
            for rule in content_rules() {
                r.skip(rule, "the certificate could not be read");
            }
            return None;
        }
    };
    r.record(
        "certificate.format",
        Ok("strict JSON, exactly schemas/certificate.schema.json".into()),
    );
    let cert = &signed.certificate;
    let document = value.get("certificate").unwrap_or(&Value::Null);
    match signed.signature.verify_value(document) {
        Ok(key) => {
            r.record(
                "certificate.signature",
                Ok(format!("signed by notary key {}", key.key_id())),
            );
            match check_issuer(cert, &key) {
                Ok(()) => r.record(
                    "certificate.issuer",
                    Ok("the signing key is the issuer's and the receipting notary's".into()),
                ),
                Err(e) => record(r, &e),
            }
        }
        Err(e) => {
            r.record("certificate.signature", Err(e.to_string()));
            r.skip(
                "certificate.issuer",
                "no verified signing key to compare the issuer with",
            );
        }
    }
    r.record(
        "certificate.issuer_standing",
        cert.issuer.standing().check().map(|()| {
            format!(
                "{} {} ({}), credit code {}",
                cert.issuer.operator_type.issuer_label().1,
                cert.issuer.legal_name,
                cert.issuer.name,
                cert.issuer.credit_code
            )
        }),
    );
    let fact_rules = || {
        content_rules().filter(|id| {
            id.starts_with("certificate.facts.")
                || *id == "certificate.number"
                || *id == "certificate.statement"
        })
    };
    match derive_facts(&cert.bundle) {
        Ok(facts) => {
            for e in fact_mismatches(cert, &facts) {
                record(r, &e);
            }
            for rule in fact_rules() {
                // Recorded only where nothing failed (a failure recorded above wins).
                r.record(rule, Ok("as the embedded bundle gives".into()));
            }
        }
        Err(e) => {
            record(r, &e);
            for rule in fact_rules() {
                r.skip(
                    rule,
                    "the facts could not be derived from the embedded bundle",
                );
            }
        }
    }
    let received = cert.receipt.received_at;
    let anchored = cert.bundle.checkpoint.checkpoint.time;
    r.record(
        "certificate.issued_at",
        if cert.issued_at.unix_ms() < received.unix_ms()
            || cert.issued_at.unix_ms() < anchored.unix_ms()
        {
            Err(format!(
                "issued at {} before the proof was received ({received}) or anchored ({anchored})",
                cert.issued_at
            ))
        } else {
            Ok(format!("issued at {}", cert.issued_at))
        },
    );
    r.record("certificate.custody", custody_summary(cert));
    let sm3 = canonical::canonicalize(&value)
        .map(|b| Hash32::sm3(&b))
        .unwrap_or_else(|_| Hash32::sm3(bytes));
    let facts = CertificateFacts {
        number: cert.number.clone(),
        sm3,
        issuer: cert.issuer.name.clone(),
        issued_at: cert.issued_at,
    };
    Some((signed, facts))
}

/// Rule `certificate.custody`: the summary counts the receipt at least, and the embedded
/// bundle's anchored custody events are the start of what it counts.
fn custody_summary(cert: &crate::certificate::Certificate) -> Result<String, String> {
    let stated = cert.custody.events;
    if stated == 0 {
        return Err(
            "the custody summary counts no event, yet every proof has at least its receipt".into(),
        );
    }
    let Some(anchored) = &cert.bundle.custody else {
        return Ok(format!("{stated} custody event(s)"));
    };
    let shown = anchored.events.len() as u64;
    if shown > stated {
        return Err(format!(
            "the summary counts {stated} custody event(s), the embedded bundle shows {shown} anchored"
        ));
    }
    let last = anchored.events.last().map(|e| e.hash.as_str());
    if shown == stated && last != Some(cert.custody.last_event_hash.to_hex().as_str()) {
        return Err(format!(
            "the summary's last event hash {} is not the last anchored event's {}",
            cert.custody.last_event_hash,
            last.unwrap_or("(none)")
        ));
    }
    Ok(format!(
        "{stated} custody event(s), the first {shown} anchored"
    ))
}
