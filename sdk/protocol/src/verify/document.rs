//! The one verification entry for every document kind the project issues: an offline bundle,
//! a certificate (JSON), a certificate PDF (its attached certificate), a certificate's
//! public digest, or an appraisal opinion with its signed procedure. It recognises the document, decides once which keys are trusted (the court's
//! pinned policy, or the keys a bundle carries when it carries no registry changes), verifies
//! the certificate's (or the digest's) rules and the bundle's rules exactly once each, and
//! returns one report in the rule catalogue. The command line, the bindings, the browser (WebAssembly) and the notary only render it.
//!
//! ```text
//! let doc = Document::recognise(bytes)?;            // kind, embedded bundle
//! let media = hash(file, &doc.segment_ranges());    // the front end hashes the file
//! let v = doc.verify(media.as_ref(), pinned)?;      // every rule, one report
//! ```

use serde_json::Value;

use crate::bundle::{Bundle, Policy};
use crate::canonical;
use crate::certificate::{CertificateError, certificate_from_pdf};

use super::certificate::{self, CertificateFacts};
use super::report::{self, Report};
use super::{Check, Facts, MediaEvidence, Status, segment_ranges, verify_bundle_bytes};

/// What was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    /// An offline bundle (`tiezheng.bundle.v1`).
    Bundle,
    /// A signed certificate (`tiezheng.certificate.v1`), as JSON.
    Certificate,
    /// A certificate PDF, with the signed certificate attached.
    CertificatePdf,
    /// A certificate's public digest (`tiezheng.public-digest.v1`), as the public check
    /// page fetches it.
    PublicDigest,
    /// A judicial appraisal opinion with its signed procedure and evidence bundles
    /// (`tiezheng.appraisal-opinion.v1`), as JSON or attached to its PDF.
    AppraisalOpinion,
}

/// Where the keys the verification trusted came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicySource {
    /// The policy the verifier pinned (a court's copy of the consortium's genesis policy).
    Pinned,
    /// The copy inside the bundle: shows the bundle is consistent, not who signed it.
    Bundle,
}

/// Input that cannot be verified at all (neither valid nor invalid): what is wrong and what
/// to do, under the layer and rule a report names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Unusable {
    /// `bundle` or `policy`.
    pub layer: &'static str,
    /// The rule the report names.
    pub rule: &'static str,
    /// What is wrong and what to do.
    pub message: String,
}

/// A document, recognised: its kind and the bundle it is or embeds.
#[derive(Debug, Clone)]
pub struct Document {
    kind: DocumentKind,
    /// A certificate PDF without a usable attached certificate: why.
    attachment: Option<CertificateError>,
    /// The certificate's bytes (certificate and certificate PDF).
    certificate: Option<Vec<u8>>,
    /// The bytes the bundle's layers verify: the bundle as given, or the certificate's
    /// embedded bundle (RFC 8785).
    bundle_bytes: Vec<u8>,
    /// The bundle (or embedded bundle) as JSON.
    bundle_value: Value,
    /// The bundle, if it has the bundle's shape.
    bundle: Option<Bundle>,
    /// A public digest, as given (signed digest JSON).
    digest: Option<Value>,
    /// An appraisal opinion package, as given.
    opinion: Option<Vec<u8>>,
}

/// The outcome of verifying one document: every check of every rule that applies, and what
/// the document establishes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DocumentVerification {
    /// What was verified.
    pub kind: DocumentKind,
    /// Whether every rule held.
    pub valid: bool,
    /// Every check: the certificate's rules first (for a certificate), then the bundle's, in
    /// catalogue order.
    pub checks: Vec<Check>,
    /// What the bundle establishes (as far as the checks got).
    pub facts: Facts,
    /// The certificate's number, SM3, issuer and date (for a certificate that could be read).
    pub certificate: Option<CertificateFacts>,
    /// The keys trusted, and where they came from (none when no certificate could be taken
    /// out of a PDF).
    pub policy: Option<Policy>,
    /// Where [`Self::policy`] came from.
    pub policy_source: Option<PolicySource>,
}

impl DocumentVerification {
    /// The first failed check, in layer order.
    pub fn first_failure(&self) -> Option<&Check> {
        report::first_failure(&self.checks)
    }

    /// The outcome of `rule`, if checked.
    pub fn status(&self, rule: &str) -> Option<Status> {
        report::status(&self.checks, rule)
    }
}

/// Whether `bytes` look like a PDF (the header may follow up to 1 KiB of junk, as readers allow).
fn is_pdf(bytes: &[u8]) -> bool {
    bytes
        .get(..1024)
        .unwrap_or(bytes)
        .windows(5)
        .any(|w| w == b"%PDF-")
}

impl Document {
    /// Recognises `bytes`: a certificate PDF, a certificate (JSON) or a bundle. Anything
    /// else is unusable.
    pub fn recognise(bytes: &[u8]) -> Result<Self, Unusable> {
        let pdf = is_pdf(bytes);
        let certificate = if pdf {
            match certificate_from_pdf(bytes) {
                Ok(c) => Some(c),
                // Not a certificate PDF: an appraisal opinion's PDF, if its one attachment is.
                Err(_) if let Ok(opinion) = crate::appraisal::opinion_from_pdf(bytes) => {
                    return Ok(Self::opinion(opinion));
                }
                Err(e) => {
                    return Ok(Self {
                        kind: DocumentKind::CertificatePdf,
                        attachment: Some(e),
                        certificate: None,
                        bundle_bytes: Vec::new(),
                        bundle_value: Value::Null,
                        bundle: None,
                        digest: None,
                        opinion: None,
                    });
                }
            }
        } else {
            None
        };
        let json = certificate.as_deref().unwrap_or(bytes);
        let value: Value = serde_json::from_slice(json).map_err(|e| Unusable {
            layer: "bundle",
            rule: "bundle.json",
            message: format!(
                "neither a PDF nor JSON ({e}): give the bundle, the certificate or the certificate PDF the notary issued"
            ),
        })?;
        if value.get("type").and_then(Value::as_str) == Some(crate::appraisal::OPINION_TYPE) {
            return Ok(Self::opinion(json.to_vec()));
        }
        // A certificate is the document with a top-level `certificate` member (a bundle has
        // none); whether it is a well-formed one is its rule `certificate.format`.
        let is_certificate = value.get("certificate").is_some();
        // A public digest is the document with a top-level `digest` member.
        if !is_certificate && value.get("digest").is_some() {
            return Ok(Self {
                kind: DocumentKind::PublicDigest,
                attachment: None,
                certificate: None,
                bundle_bytes: Vec::new(),
                bundle_value: value.get("digest").cloned().unwrap_or(Value::Null),
                bundle: None,
                digest: Some(value),
                opinion: None,
            });
        }
        let (kind, bundle_value, bundle_bytes) = if is_certificate {
            let embedded = value
                .pointer("/certificate/bundle")
                .cloned()
                .unwrap_or(Value::Null);
            let bytes = canonical::canonicalize(&embedded).unwrap_or_default();
            let kind = if pdf {
                DocumentKind::CertificatePdf
            } else {
                DocumentKind::Certificate
            };
            (kind, embedded, bytes)
        } else {
            (DocumentKind::Bundle, value, bytes.to_vec())
        };
        Ok(Self {
            kind,
            attachment: None,
            certificate: is_certificate.then(|| json.to_vec()),
            bundle: serde_json::from_value(bundle_value.clone()).ok(),
            bundle_bytes,
            bundle_value,
            digest: None,
            opinion: None,
        })
    }

    /// An appraisal opinion package, as given (or as attached to its PDF).
    fn opinion(bytes: Vec<u8>) -> Self {
        Self {
            kind: DocumentKind::AppraisalOpinion,
            attachment: None,
            certificate: None,
            bundle_bytes: Vec::new(),
            bundle_value: Value::Null,
            bundle: None,
            digest: None,
            opinion: Some(bytes),
        }
    }

    /// What was given.
    pub fn kind(&self) -> DocumentKind {
        self.kind
    }

    /// The bundle (or a certificate's embedded bundle), if it has the bundle's shape.
    pub fn bundle(&self) -> Option<&Bundle> {
        self.bundle.as_ref()
    }

    /// The byte ranges of a recording's segments, as its manifest gives them, for the front
    /// end to hash with the file ([`super::hash_media`]); empty for a photo.
    pub fn segment_ranges(&self) -> Vec<(u64, u64)> {
        self.bundle_value
            .pointer("/proof/manifest")
            .and_then(|m| serde_json::from_value(m.clone()).ok())
            .map(|m| segment_ranges(&m))
            .unwrap_or_default()
    }

    /// The keys to trust: `pinned` when given (a court's policy); otherwise the copy inside
    /// the bundle, unless the bundle carries registry changes, which only a pinned genesis
    /// policy can follow (unusable then, as it is when the bundle has no usable copy).
    pub fn trusted_policy(
        &self,
        pinned: Option<&Policy>,
    ) -> Result<(Policy, PolicySource), Unusable> {
        if let Some(p) = pinned {
            return Ok((p.clone(), PolicySource::Pinned));
        }
        let changes = self
            .bundle_value
            .get("governance")
            .and_then(Value::as_array)
            .is_some_and(|g| !g.is_empty());
        if changes {
            return Err(Unusable {
                layer: "policy",
                rule: "policy.copy",
                message: "the bundle carries registry changes: pin the consortium's genesis policy, from which they are followed (the keys inside the bundle cannot vouch for their own changes)".into(),
            });
        }
        self.bundle_value
            .get("policy")
            .and_then(|p| serde_json::from_value(p.clone()).ok())
            .map(|p| (p, PolicySource::Bundle))
            .ok_or_else(|| Unusable {
                layer: "bundle",
                rule: "bundle.schema",
                message: "no usable policy inside the bundle: pin the consortium's genesis policy"
                    .into(),
            })
    }

    /// Verifies the document: every certificate rule (for a certificate), then every bundle
    /// rule, once, with the media file's digests if given, trusting `pinned` if given.
    pub fn verify(
        &self,
        media: Option<&MediaEvidence>,
        pinned: Option<&Policy>,
    ) -> Result<DocumentVerification, Unusable> {
        let mut report = Report::default();
        if let Some(e) = &self.attachment {
            report.record(e.rule(), Err(e.reason()));
            return Ok(DocumentVerification {
                kind: self.kind,
                valid: false,
                checks: report.checks,
                facts: Facts::default(),
                certificate: None,
                policy: None,
                policy_source: None,
            });
        }
        if let Some(opinion) = &self.opinion {
            return verify_opinion(opinion, media, pinned);
        }
        let (policy, source) = self.trusted_policy(pinned)?;
        if let Some(digest) = &self.digest {
            policy.validate().map_err(|e| Unusable {
                layer: "policy",
                rule: "policy.copy",
                message: e.to_string(),
            })?;
            report.record("bundle.json", Ok("strict JSON".into()));
            let (mut facts, certificate) =
                super::digest::check(digest, media, &policy, &mut report);
            report.sort();
            let valid = report.is_valid();
            if !valid {
                facts.media_item = None;
            }
            return Ok(DocumentVerification {
                kind: self.kind,
                valid,
                checks: report.checks,
                facts,
                certificate,
                policy: Some(policy),
                policy_source: Some(source),
            });
        }
        if self.kind == DocumentKind::CertificatePdf {
            report.record(
                "certificate.pdf.attachment",
                Ok("one attached certificate".into()),
            );
        }
        let certificate = self
            .certificate
            .as_deref()
            .and_then(|c| certificate::check(c, &mut report))
            .map(|(_, facts)| facts);
        let bundle =
            verify_bundle_bytes(&self.bundle_bytes, media, &policy).map_err(|e| Unusable {
                layer: "policy",
                rule: "policy.copy",
                message: e.to_string(),
            })?;
        report.checks.extend(bundle.checks);
        report.sort();
        let valid = report.is_valid();
        let mut facts = bundle.facts;
        if !valid {
            // A file is "checked" only as part of a document that holds.
            facts.media_item = None;
        }
        Ok(DocumentVerification {
            kind: self.kind,
            valid,
            checks: report.checks,
            facts,
            certificate,
            policy: Some(policy),
            policy_source: Some(source),
        })
    }
}

/// An appraisal opinion, against the court's pinned policy (which names the judicial parties
/// it trusts): no policy inside the package can vouch for the court or the institution.
fn verify_opinion(
    bytes: &[u8],
    media: Option<&MediaEvidence>,
    pinned: Option<&Policy>,
) -> Result<DocumentVerification, Unusable> {
    let unusable = |message: String| Unusable {
        layer: "policy",
        rule: "policy.copy",
        message,
    };
    let Some(policy) = pinned else {
        return Err(unusable(
            "an appraisal opinion is checked against the court's pinned policy, which names the courts and appraisal institutions it trusts (`parties`): give --policy".into(),
        ));
    };
    if media.is_some() {
        return Err(unusable(
            "an appraisal opinion names its material by SM3: check a file with the bundle or certificate of its proof".into(),
        ));
    }
    let mut report = super::appraisal::verify_opinion_bytes(bytes, policy)
        .map_err(|e| unusable(e.to_string()))?;
    report.sort();
    Ok(DocumentVerification {
        kind: DocumentKind::AppraisalOpinion,
        valid: report.is_valid(),
        checks: report.checks,
        facts: Facts::default(),
        certificate: None,
        policy: Some(policy.clone()),
        policy_source: Some(PolicySource::Pinned),
    })
}

/// Recognises and verifies `bytes` in one step (when the media digests do not depend on the
/// document's segment ranges, or no file is checked).
pub fn verify_document(
    bytes: &[u8],
    media: Option<&MediaEvidence>,
    pinned: Option<&Policy>,
) -> Result<DocumentVerification, Unusable> {
    Document::recognise(bytes)?.verify(media, pinned)
}
