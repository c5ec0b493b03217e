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
