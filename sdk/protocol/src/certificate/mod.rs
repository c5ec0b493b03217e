//! The evidence certificate (存证证书): a document the notary signs with SM2 that states, in
//! terms a court reads, the facts of one anchored proof, and that embeds the offline bundle
//! those facts come from.
//!
//! On the wire it is `{"certificate": Certificate, "signature": SignatureBlock}` (type
//! `tiezheng.certificate.v1`); the signature covers the RFC 8785 bytes of `certificate`.
//! Every fact it states is derived from the embedded [`Bundle`] by [`derive_facts`], so a
//! verifier recomputes them and refuses a certificate that states anything else; only the
//! issuer's name and verification address, the issue time and the custody summary are the
//! notary's own statements (signed, but not checkable offline). The number is stable: the
//! same proof anchored by the same anchor record always gets the same number
//! ([`certificate_number`]).
//!
//! This module holds the certificate's types, how the notary issues it, and how it is read
//! (from JSON or from a PDF). Its verification is the verifier's `certificate` layer
//! ([`crate::verify::Document`]), each rule documented in `VERIFYING.md`:
//! `certificate.format`, `certificate.signature`, `certificate.issuer`, `certificate.number`,
//! `certificate.facts.*`, `certificate.statement`, `certificate.issued_at`,
//! `certificate.custody`, then the bundle's own layers.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::algorithm::HashAlgorithm;
use crate::bundle::{Bundle, BundleError, Policy, PolicyMember};
use crate::canonical;
use crate::hash::Hash32;
use crate::manifest::{
    CaseRecord, DeviceInfo, Fingerprint, GpsPoint, ItemKind, LocationFix, Origin, SessionSummary,
    TimeSync,
};
use crate::signed::SignatureBlock;
use crate::sm2::{Sm2PublicKey, Sm2SigningKey};
use crate::time::Timestamp;
use crate::wire::ContentHash;

mod facts;
mod issuer;
mod procedure;

pub(crate) use facts::fact_mismatches;
pub use facts::{DerivedFacts, derive_facts, explain_finding, statement};
pub use issuer::{Issuer, IssuerStanding, OperatorType, check_credit_code};
pub use procedure::{OutcomeFacts, ProcedureFacts, procedure_facts};

/// `type` of a certificate.
pub const CERTIFICATE_TYPE: &str = "tiezheng.certificate.v1";

/// Prefix of every certificate number.
pub const NUMBER_PREFIX: &str = "TZ";

/// A text in Chinese with its English beside it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Bilingual {
    /// Simplified Chinese.
    pub zh: String,
    /// English.
    pub en: String,
}

fn bi(zh: &str, en: &str) -> Bilingual {
    Bilingual {
        zh: zh.to_owned(),
        en: en.to_owned(),
    }
}

/// The capture times of an item from every source, and the delays to proven times.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemTimes {
    /// The device clock at capture (claimed by the device).
    pub device_time: Timestamp,
    /// GNSS time of the location fix, if any (claimed by the device).
    pub gnss_time: Option<Timestamp>,
    /// The capture time written in the file's own metadata, as written.
    pub file_time: Option<String>,
    /// The device's last trusted time synchronisation, if any.
    pub last_time_sync: Option<TimeSync>,
    /// Receipt time (notary clock) minus device time, in milliseconds.
    pub capture_to_receipt_ms: i64,
    /// Anchoring block time minus device time, in milliseconds.
    pub capture_to_anchor_ms: i64,
}

/// A finding recorded at capture, with a plain explanation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CertifiedFinding {
    /// The finding's stable code.
    pub code: String,
    /// The device's details.
    pub detail: String,
    /// What the code means, for a reader of the certificate.
    pub explanation: Bilingual,
}

/// How a streamed recording was proven.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordingFacts {
    /// Closed segments, each hashed.
    pub segments: u64,
    /// Whether the recording was interrupted.
    pub interrupted: bool,
    /// Whether only a prefix of what was recorded is proven.
    pub truncated: bool,
}

/// One evidence file of the proof.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CertifiedItem {
    /// Position in the manifest.
    pub index: u64,
    /// File name.
    pub file_name: String,
    /// Photo, video, audio or other.
    pub kind: ItemKind,
    /// Captured or imported.
    pub origin: Origin,
    /// MIME type.
    pub mime: String,
    /// Size in bytes.
    pub bytes: u64,
    /// SM3 and SHA-256 with their OIDs.
    pub hashes: Vec<ContentHash>,
    /// Capture times and delays.
    pub times: ItemTimes,
    /// The operating system's location fix (WGS-84) with accuracy and provider.
    pub location: Option<LocationFix>,
    /// The position written in the file's own metadata.
    pub file_gps: Option<GpsPoint>,
    /// Perceptual fingerprint of a photo.
    pub fingerprint: Option<Fingerprint>,
    /// Segments of a streamed recording.
    pub recording: Option<RecordingFacts>,
    /// Findings, each explained.
    pub findings: Vec<CertifiedFinding>,
}

/// The notary's receipt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiptFacts {
    /// When the notary stored the proof (notary clock): the earliest proven time.
    pub received_at: Timestamp,
    /// The manifest's place in the device's chain.
    pub device_seq: u64,
    /// Whether earlier manifests of the device were missing at receipt.
    pub chain_gap: bool,
    /// SM3 of the manifest.
    pub manifest_sm3: Hash32,
    /// SM3 of the notary key that signed the receipt.
    pub notary_key_id: Hash32,
}

/// Where and when the proof was anchored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AnchorFacts {
    /// `"embedded"` or `"consortium"`.
    pub mode: String,
    /// The ledger's chain ID.
    pub chain_id: String,
    /// Height of the block that anchored the batch.
    pub height: u64,
    /// That block's time.
    pub block_time: Timestamp,
    /// SM3 of the anchor record's RFC 8785 bytes (its leaf in the anchor log).
    pub anchor_record_sm3: Hash32,
    /// The notary's batch sequence number.
    pub batch_seq: u64,
    /// SM3 of the signed batch header.
    pub batch_header_sm3: Hash32,
    /// Root of the batch tree.
    pub batch_root: Hash32,
    /// Leaves in the batch.
    pub batch_size: u64,
    /// The proof's leaf index in the batch.
    pub leaf_index: u64,
    /// Height of the cosigned checkpoint.
    pub checkpoint_height: u64,
    /// Time of the checkpoint's block.
    pub checkpoint_time: Timestamp,
    /// The ledger's app hash at the checkpoint.
    pub app_hash: Hash32,
    /// Consortium mode: height of the CometBFT block whose header carries that app hash.
    pub commit_height: Option<u64>,
    /// Consortium mode: that block's hash, as CometBFT writes it.
    pub commit_block_hash: Option<String>,
}

/// The consortium members and who cosigned the checkpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsortiumFacts {
    /// Members as the bundle's policy lists them.
    pub members: Vec<PolicyMember>,
    /// Members whose SM2 cosignatures the checkpoint carries.
    pub cosigners: Vec<String>,
    /// Their voting power.
    pub signed_power: u64,
    /// All members' voting power (a quorum is more than two thirds).
    pub total_power: u64,
}

/// The custody log as the notary held it when issuing (the notary's own statement).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CustodySummary {
    /// Events recorded for the proof.
    #[schemars(range(min = 1))]
    pub events: u64,
    /// Hash of the last of them (the custody log is hash-chained).
    pub last_event_hash: Hash32,
}

/// What the certificate proves and what it does not.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    /// What it proves.
    pub proves: Vec<Bilingual>,
    /// What it does not prove.
    pub does_not_prove: Vec<Bilingual>,
}

/// The certificate document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Certificate {
    /// Always `"tiezheng.certificate.v1"`.
    #[serde(rename = "type")]
    #[schemars(extend("const" = "tiezheng.certificate.v1"))]
    pub kind: String,
    /// Certificate number, e.g. `TZ-20261121-3F9AC2B177D0E41A` (see [`certificate_number`]).
    #[schemars(regex(pattern = r"^TZ-[0-9]{8}-[0-9A-F]{16}$"))]
    pub number: String,
    /// When the notary issued it (notary clock).
    pub issued_at: Timestamp,
    /// The issuing notary.
    pub issuer: Issuer,
    /// SM3 of the device proof.
    pub proof_sm3: Hash32,
    /// The evidence files (none for a session summary).
    pub items: Vec<CertifiedItem>,
    /// The closing summary, for a session-summary proof.
    pub session: Option<SessionSummary>,
    /// The capturing device.
    pub device: DeviceInfo,
    /// The case: reference, cause, collectors, holder, witness.
    pub case: CaseRecord,
    /// The forensic procedure followed (取证依据), when the manifest names a profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub procedure: Option<ProcedureFacts>,
    /// The receipt.
    pub receipt: ReceiptFacts,
    /// The anchor.
    pub anchor: AnchorFacts,
    /// The consortium quorum.
    pub consortium: ConsortiumFacts,
    /// The custody log at issue.
    pub custody: CustodySummary,
    /// What is proven and what is not.
    pub statement: Statement,
    /// The complete offline bundle the facts come from.
    pub bundle: Bundle,
}

/// A certificate with the notary's signature: what the notary serves and the PDF attaches.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "SignedCertificate",
    description = "Evidence certificate (存证证书) signed by the notary (SM2-with-SM3 over the RFC 8785 bytes of `certificate`); it embeds the offline bundle its facts come from."
)]
pub struct SignedCertificate {
    /// The certificate.
    pub certificate: Certificate,
    /// The notary's signature over it.
    pub signature: SignatureBlock,
}

/// A failed certificate check: the layer and the rule (see `VERIFYING.md`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CertificateError {
    /// A rule of the certificate itself.
    #[error("certificate: {rule}: {reason}")]
    Certificate {
        /// Stable rule ID, e.g. `certificate.signature`.
        rule: &'static str,
        /// What does not hold.
        reason: String,
    },
    /// The embedded bundle failed the bundle verifier.
    #[error("{0}")]
    Bundle(#[from] BundleError),
}

impl CertificateError {
    /// The layer: `certificate`, or the bundle layer that failed.
    pub fn layer(&self) -> &'static str {
        match self {
            Self::Certificate { .. } => "certificate",
            Self::Bundle(e) => e.layer,
        }
    }

    /// The rule ID (for bundle failures, the bundle layer until the bundle verifier names
    /// its rules).
    pub fn rule(&self) -> &'static str {
        match self {
            Self::Certificate { rule, .. } => rule,
            Self::Bundle(e) => e.rule,
        }
    }

    /// What does not hold.
    pub fn reason(&self) -> String {
        match self {
            Self::Certificate { reason, .. } => reason.clone(),
            Self::Bundle(e) => e.reason.clone(),
        }
    }
}

fn fail(rule: &'static str, reason: impl Into<String>) -> CertificateError {
    CertificateError::Certificate {
        rule,
        reason: reason.into(),
    }
}

/// The certificate number of `bundle`'s proof under its anchor:
/// `TZ-<date>-<16 hex>`, where `<date>` is the anchoring block's date in China Standard Time
/// (UTC+08:00) and the hex digits are the first 8 bytes, upper case, of
/// `SM3("tiezheng.certificate.v1|" ‖ chain_id ‖ "|" ‖ proof_sm3 ‖ "|" ‖ anchor_record_sm3)`
/// (hashes as 64 lowercase hex digits).
pub fn certificate_number(bundle: &Bundle) -> Result<String, CertificateError> {
    number_of(
        &bundle.checkpoint.checkpoint.chain_id,
        &bundle.batch.leaf.proof_sm3,
        &bundle.anchor.record,
    )
    .map_err(|e| fail("certificate.facts.anchor", e.to_string()))
}

/// The certificate number of the proof `proof_sm3` anchored by `record` on the chain
/// `chain_id` (see [`certificate_number`]).
pub fn number_of(
    chain_id: &str,
    proof_sm3: &Hash32,
    record: &crate::ledger::AnchorRecord,
) -> Result<String, canonical::CanonicalError> {
    let record_sm3 = Hash32::sm3(&record.leaf_bytes()?);
    let input = format!("{CERTIFICATE_TYPE}|{chain_id}|{proof_sm3}|{record_sm3}");
    let h = Hash32::sm3(input.as_bytes());
    let (y, m, d, ..) = Timestamp::from_unix_ms(record.time.unix_ms(), 8 * 60).local_fields();
    let digits = hex::encode_upper(h.as_bytes().get(..8).unwrap_or_default());
    Ok(format!("{NUMBER_PREFIX}-{y:04}{m:02}{d:02}-{digits}"))
}

fn anchor_record_sm3(bundle: &Bundle) -> Result<Hash32, CertificateError> {
    let bytes = bundle
        .anchor
        .record
        .leaf_bytes()
        .map_err(|e| fail("certificate.facts.anchor", e.to_string()))?;
    Ok(Hash32::sm3(&bytes))
}

/// What the notary states itself when issuing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssueParams {
    /// Who the issuer is (its standing, as configured).
    pub issuer: IssuerStanding,
    /// The notary's online verification page (`https://…/verify`).
    pub verify_url: String,
    /// When.
    pub issued_at: Timestamp,
    /// The custody log at issue.
    pub custody: CustodySummary,
}

/// Issues the certificate of `bundle`: runs the complete bundle verifier against `policy`
/// first and refuses (with its error) if any rule fails, then signs the facts with `key`.
pub fn issue(
    bundle: Bundle,
    policy: &Policy,
    params: IssueParams,
    key: &Sm2SigningKey,
) -> Result<SignedCertificate, CertificateError> {
    // The notary's pre-issue check: the bundle verifies with the court's policy, by the
    // same verifier every front end runs.
    crate::verify::verify_bundle(&bundle, None, policy)
        .map_err(|e| {
            CertificateError::Bundle(BundleError {
                layer: "policy",
                rule: "policy.copy",
                reason: e.to_string(),
            })
        })?
        .summary()?;
    params
        .issuer
        .check()
        .map_err(|e| fail("certificate.issuer_standing", e))?;
    let issuer_key = key.public_key();
    if issuer_key.key_id() != bundle.receipt.receipt.notary_key_id {
        return Err(fail(
            "certificate.issuer",
            "only the notary that receipted the proof issues its certificate",
        ));
    }
    let f = derive_facts(&bundle)?;
    // Never before what it certifies, whatever the skew between the notary's clock and the
    // ledger's block times (rule `certificate.issued_at`).
    let issued_at = [
        params.issued_at,
        bundle.receipt.receipt.received_at,
        bundle.checkpoint.checkpoint.time,
    ]
    .into_iter()
    .max_by_key(Timestamp::unix_ms)
    .unwrap_or(params.issued_at);
    let certificate = Certificate {
        kind: CERTIFICATE_TYPE.to_owned(),
        number: f.number,
        issued_at,
        issuer: Issuer::new(params.issuer, issuer_key, params.verify_url),
        proof_sm3: f.proof_sm3,
        items: f.items,
        session: f.session,
        device: f.device,
        case: f.case,
        procedure: f.procedure,
        receipt: f.receipt,
        anchor: f.anchor,
        consortium: f.consortium,
        custody: params.custody,
        statement: f.statement,
        bundle,
    };
    let signature = SignatureBlock::sign(key, &certificate)
        .map_err(|e| fail("certificate.signature", e.to_string()))?;
    Ok(SignedCertificate {
        certificate,
        signature,
    })
}

/// The one call into the bundle verifier (kept in one place so that the verifier's shape can
/// change without touching the certificate rules).
impl SignedCertificate {
    /// The RFC 8785 bytes: what the notary serves and the PDF attaches.
    pub fn to_bytes(&self) -> Result<Vec<u8>, CertificateError> {
        canonical::to_canonical_bytes(self).map_err(|e| fail("certificate.format", e.to_string()))
    }

    /// SM3 of [`Self::to_bytes`]: the hash printed on the PDF and put in its QR code.
    pub fn sm3(&self) -> Result<Hash32, CertificateError> {
        Ok(Hash32::sm3(&self.to_bytes()?))
    }

    /// The online verification address with the hashes in the fragment (never sent to a
    /// server): `<verify_url>#n=<number>&c=<certificate SM3>&p=<proof SM3>[&f=<file SM3>]`.
    pub fn verification_url(&self) -> Result<String, CertificateError> {
        let c = &self.certificate;
        let mut url = format!(
            "{}#n={}&c={}&p={}",
            c.issuer.verify_url,
            c.number,
            self.sm3()?,
            c.proof_sm3
        );
        if let Some(h) = c
            .items
            .first()
            .and_then(|i| i.hashes.iter().find(|h| h.algorithm == HashAlgorithm::Sm3))
        {
            url.push_str("&f=");
            url.push_str(&h.value.to_hex());
        }
        Ok(url)
    }
}

/// Parses a signed certificate strictly (rule `certificate.format`).
pub fn parse_certificate(bytes: &[u8]) -> Result<(SignedCertificate, Value), CertificateError> {
    let value =
        canonical::parse_strict(bytes).map_err(|e| fail("certificate.format", e.to_string()))?;
    let kind = value.pointer("/certificate/type").and_then(Value::as_str);
    if kind != Some(CERTIFICATE_TYPE) {
        return Err(fail(
            "certificate.format",
            format!("certificate.type is {kind:?}, not {CERTIFICATE_TYPE:?}"),
        ));
    }
    let signed: SignedCertificate = serde_json::from_value(value.clone()).map_err(|e| {
        fail(
            "certificate.format",
            format!("does not match schemas/certificate.schema.json: {e}"),
        )
    })?;
    Ok((signed, value))
}

/// The certificate attached to a certificate PDF (rule `certificate.pdf.attachment`): the
/// one attached file that is a `tiezheng.certificate.v1` document. It still has to be
/// verified ([`crate::verify::Document`]).
pub fn certificate_from_pdf(pdf: &[u8]) -> Result<Vec<u8>, CertificateError> {
    let rule = "certificate.pdf.attachment";
    let files = crate::pdf::attached_files(pdf).map_err(|e| fail(rule, e.to_string()))?;
    let mut found: Vec<Vec<u8>> = files
        .into_iter()
        .filter(|f| {
            canonical::parse_strict(f).is_ok_and(|v| {
                v.pointer("/certificate/type").and_then(Value::as_str) == Some(CERTIFICATE_TYPE)
            })
        })
        .collect();
    found.dedup();
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(fail(
            rule,
            "the PDF has no attached tiezheng.certificate.v1 document: ask the notary for the certificate PDF, or verify the certificate JSON",
        )),
        n => Err(fail(
            rule,
            format!(
                "the PDF has {n} different attached certificates; a certificate PDF carries exactly one"
            ),
        )),
    }
}

pub(crate) fn check_issuer(cert: &Certificate, key: &Sm2PublicKey) -> Result<(), CertificateError> {
    if key.to_hex() != cert.issuer.public_key {
        return Err(fail(
            "certificate.issuer",
            "issuer.public_key is not the key that signed the certificate",
        ));
    }
    if key.key_id() != cert.issuer.key_id {
        return Err(fail(
            "certificate.issuer",
            format!(
                "issuer.key_id is not SM3 of the signing key ({})",
                key.key_id()
            ),
        ));
    }
    if key.key_id() != cert.bundle.receipt.receipt.notary_key_id {
        return Err(fail(
            "certificate.issuer",
            "the certificate is not signed by the notary that receipted the proof",
        ));
    }
    Ok(())
}
