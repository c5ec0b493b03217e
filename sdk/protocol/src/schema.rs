//! JSON Schemas (draft 2020-12) of the wire documents, generated from the Rust types.
//!
//! `schemas/` holds the committed output; a test regenerates it and fails on any drift.

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema};

use crate::appraisal::OpinionPackage;
use crate::bundle::{Bundle, Policy};
use crate::certificate::SignedCertificate;
use crate::digest::SignedPublicDigest;
use crate::ledger::{AnchorRecord, CosignedCheckpoint, GovernanceTx, SignedBatchHeader};
use crate::manifest::{Manifest, Proof};
use crate::notary::{
    ApiError, EnrolmentRequest, EnrolmentResponse, SignedDeviceCertificate, SignedReceipt,
    SubmitResponse,
};
use crate::officer::{OfficerEnrolmentRequest, SignedOfficerCertificate};
use crate::profile::Profile;
use crate::signed::SignatureBlock;
use crate::wire::{ConsistencyProof, ContentHash, HashRecord, InclusionProof};

/// Every wire document: (file stem, schema). Written as `schemas/<stem>.schema.json`.
pub fn all() -> Vec<(&'static str, Schema)> {
    vec![
        (
            "consistency-proof",
            generate::<ConsistencyProof>("consistency-proof"),
        ),
        ("content-hash", generate::<ContentHash>("content-hash")),
        ("hash-record", generate::<HashRecord>("hash-record")),
        (
            "inclusion-proof",
            generate::<InclusionProof>("inclusion-proof"),
        ),
        ("anchor-record", generate::<AnchorRecord>("anchor-record")),
        (
            "appraisal-opinion",
            generate::<OpinionPackage>("appraisal-opinion"),
        ),
        ("api-error", generate::<ApiError>("api-error")),
        (
            "batch-header",
            generate::<SignedBatchHeader>("batch-header"),
        ),
        ("bundle", generate::<Bundle>("bundle")),
        ("certificate", generate::<SignedCertificate>("certificate")),
        ("checkpoint", generate::<CosignedCheckpoint>("checkpoint")),
        (
            "device-certificate",
            generate::<SignedDeviceCertificate>("device-certificate"),
        ),
        (
            "enrolment-request",
            generate::<EnrolmentRequest>("enrolment-request"),
        ),
        (
            "enrolment-response",
            generate::<EnrolmentResponse>("enrolment-response"),
        ),
        ("governance", generate::<GovernanceTx>("governance")),
        ("manifest", generate::<Manifest>("manifest")),
        (
            "officer-certificate",
            generate::<SignedOfficerCertificate>("officer-certificate"),
        ),
        (
            "officer-enrolment",
            generate::<OfficerEnrolmentRequest>("officer-enrolment"),
        ),
        ("policy", generate::<Policy>("policy")),
        ("profile", generate::<Profile>("profile")),
        ("proof", generate::<Proof>("proof")),
        (
            "public-digest",
            generate::<SignedPublicDigest>("public-digest"),
        ),
        ("receipt", generate::<SignedReceipt>("receipt")),
        ("signature", generate::<SignatureBlock>("signature")),
        (
            "submit-response",
            generate::<SubmitResponse>("submit-response"),
        ),
    ]
}

/// The schema of `T` with a stable `$id`.
pub fn generate<T: JsonSchema>(stem: &str) -> Schema {
    let mut schema = SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<T>();
    schema.insert(
        "$id".to_owned(),
        format!("urn:tiezheng:schema:{stem}:v1").into(),
    );
    schema
}

/// The exact text committed for a schema: pretty JSON with a trailing newline.
pub fn render(schema: &Schema) -> String {
    let mut s = serde_json::to_string_pretty(schema).unwrap_or_default();
    s.push('\n');
    s
}
