//! The appraisal opinion as a court receives it (`tiezheng.appraisal-opinion.v1`): the whole
//! signed chain from commission to delivery, the appraisers' credentials and any revocation, and
//! the offline bundle of every proof the material names, so that it verifies offline against the
//! court's pinned policy alone.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{SignedAppraiserCredential, SignedAppraiserRevocation, SignedStep};

/// `type` of an opinion package.
pub const OPINION_TYPE: &str = "tiezheng.appraisal-opinion.v1";

/// Everything a court needs to check an appraisal opinion.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "OpinionPackage",
    description = "A judicial appraisal opinion with its whole signed procedure, the appraisers' credentials and the evidence bundles it names."
)]
pub struct OpinionPackage {
    /// Always `"tiezheng.appraisal-opinion.v1"`.
    #[serde(rename = "type")]
    #[schemars(extend("const" = "tiezheng.appraisal-opinion.v1"))]
    pub kind: String,
    /// The signed steps, commission first, in chain order.
    pub steps: Vec<SignedStep>,
    /// The credentials of every appraiser and the reviewer.
    pub credentials: Vec<SignedAppraiserCredential>,
    /// Revocations of appraisers' keys the institution issued.
    pub revocations: Vec<SignedAppraiserRevocation>,
    /// One offline bundle (`tiezheng.bundle.v1`) per proof the commission names.
    pub bundles: Vec<Value>,
}

/// The opinion package attached to an opinion PDF: the one attached file whose `type` is
/// `tiezheng.appraisal-opinion.v1` (nothing else about the PDF is trusted).
pub fn opinion_from_pdf(pdf: &[u8]) -> Result<Vec<u8>, String> {
    let files = crate::pdf::attached_files(pdf).map_err(|e| e.to_string())?;
    let mut found: Vec<Vec<u8>> = files
        .into_iter()
        .filter(|f| {
            crate::canonical::parse_strict(f)
                .is_ok_and(|v| v.get("type").and_then(Value::as_str) == Some(OPINION_TYPE))
        })
        .collect();
    found.dedup();
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err("the PDF has no attached tiezheng.appraisal-opinion.v1 package".into()),
        n => Err(format!(
            "the PDF has {n} different attached opinion packages; an opinion PDF carries exactly one"
        )),
    }
}
