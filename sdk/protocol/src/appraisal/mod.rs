//! Judicial appraisal as a chain of signed documents (司法鉴定程序通则, 2016): a court's
//! commission, the institution's acceptance and assignment, each appraiser's no-conflict
//! declaration (回避) and receipt of the material (检材) by the SM3 their own tools computed, the
//! process record as it happens, the opinion (鉴定意见书) signed by every assigned appraiser and
//! the institution, its review (复核) by a reviewer who is not one of them, and delivery.
//!
//! Every step is a canonical JSON document ([`Step`], `tiezheng.appraisal-step.v1`) signed
//! by who acts ([`SignedStep`]) and chained to the one before by its SM3, so that the opinion a
//! court holds ([`OpinionPackage`], `tiezheng.appraisal-opinion.v1`) carries the whole procedure
//! and the evidence bundles it was performed on, and verifies offline (`verify::appraisal`,
//! rules `appraisal.*`). Courts and institutions are parties of the court's pinned policy with a
//! role ([`crate::bundle::Party`]); appraisers hold credentials the institution signs
//! ([`credential`]).

pub mod credential;
mod opinion;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::hash::Hash32;
use crate::signed::{SignatureBlock, SignedError};
use crate::sm2::Sm2SigningKey;
use crate::time::Timestamp;
use crate::{canonical, canonical::CanonicalError};

pub use credential::{
    AppraiserCredential, AppraiserRevocation, SignedAppraiserCredential, SignedAppraiserRevocation,
};
pub use opinion::{OPINION_TYPE, OpinionPackage, opinion_from_pdf};

/// `type` of a procedure step.
pub const STEP_TYPE: &str = "tiezheng.appraisal-step.v1";

/// Who acts in a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The commissioning court (a policy member with role `court`).
    Court,
    /// The appraisal institution (a policy member with role `appraisal_institution`).
    Institution,
    /// An appraiser or the reviewer, by the credential the institution signed.
    Appraiser,
}

/// One step of the procedure, as its signer signs it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Always `"tiezheng.appraisal-step.v1"`.
    #[serde(rename = "type")]
    #[schemars(extend("const" = "tiezheng.appraisal-step.v1"))]
    pub kind: String,
    /// Position in the chain: 0 for the commission, then one more per step.
    pub seq: u64,
    /// SM3 of the signed commission (RFC 8785 bytes of its [`SignedStep`]); `null` for the
    /// commission itself.
    pub commission: Option<Hash32>,
    /// SM3 of the signed step before this one; `null` for the commission.
    pub prev: Option<Hash32>,
    /// When the signer acted.
    pub at: Timestamp,
    /// Who acts: the member id (court, institution) or the appraiser id.
    pub by: String,
    /// In which capacity.
    pub role: Role,
    /// What they do.
    pub act: Act,
}

/// What a step does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Act {
    /// The court commissions the institution (委托).
    Commission {
        /// The court's case number.
        case_reference: String,
        /// The commissioned institution's member id.
        institution: String,
        /// The material: every evidence file, by its proof and SM3.
        items: Vec<MaterialItem>,
        /// The questions to answer (鉴定事项), in order.
        questions: Vec<String>,
        /// The deadline for the opinion.
        deadline: Timestamp,
    },
    /// The institution accepts (受理) or refuses, with its reason.
    Acceptance {
        /// Accepted or not.
        accepted: bool,
        /// Why it refuses (`null` when accepting).
        reason: Option<String>,
    },
    /// The institution assigns at least two appraisers and a reviewer.
    Assignment {
        /// The appraisers' ids.
        appraisers: Vec<String>,
        /// The reviewer's id (not one of the appraisers).
        reviewer: String,
    },
    /// An assigned appraiser or the reviewer declares no conflict of interest (回避).
    Declaration {
        /// The statement, in the declarant's words.
        statement: String,
    },
    /// An appraiser receives the material: each file's SM3 as their own tools computed it.
    MaterialReceipt {
        /// Every commissioned file, in the commission's order.
        items: Vec<MaterialItem>,
    },
    /// An entry of the process record, made as the work happens.
    RecordEntry {
        /// The tool used.
        tool: String,
        /// Its version.
        tool_version: String,
        /// What was done.
        action: String,
        /// What it gave.
        result: String,
        /// SM3 of attached outputs (reports, screenshots, the verifier's report).
        attachments: Vec<Hash32>,
    },
    /// The opinion (鉴定意见书): a finding per question.
    Opinion {
        /// One finding per question, in the commission's order.
        findings: Vec<String>,
    },
    /// The reviewer approves the opinion, or returns it.
    Review {
        /// Approved or returned.
        approved: bool,
        /// The reviewer's remarks.
        remarks: String,
    },
    /// The institution delivers the opinion to the court.
    Delivery {
        /// The court's member id.
        court: String,
    },
}

impl Act {
    /// The act's name, as `kind` spells it.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Commission { .. } => "commission",
            Self::Acceptance { .. } => "acceptance",
            Self::Assignment { .. } => "assignment",
            Self::Declaration { .. } => "declaration",
            Self::MaterialReceipt { .. } => "material_receipt",
            Self::RecordEntry { .. } => "record_entry",
            Self::Opinion { .. } => "opinion",
            Self::Review { .. } => "review",
            Self::Delivery { .. } => "delivery",
        }
    }
}

/// One evidence file of the material.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MaterialItem {
    /// SM3 of the proof that covers it.
    pub proof_sm3: Hash32,
    /// The file's name in that proof.
    pub file_name: String,
    /// SM3 of the file.
    pub sm3: Hash32,
}

/// A step with its signatures: one by who acts; the opinion also by every assigned appraiser.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SignedStep {
    /// The step.
    pub step: Step,
    /// SM2-with-SM3 signatures over the RFC 8785 bytes of `step`.
    pub signatures: Vec<SignatureBlock>,
}

impl SignedStep {
    /// `step` signed by each of `keys`, in order.
    pub fn sign(step: Step, keys: &[&Sm2SigningKey]) -> Result<Self, SignedError> {
        let signatures = keys
            .iter()
            .map(|k| SignatureBlock::sign(k, &step))
            .collect::<Result<_, _>>()?;
        Ok(Self { step, signatures })
    }

    /// Adds `key`'s signature (a co-signer of an opinion). Signing twice with one key adds
    /// nothing.
    pub fn cosign(&mut self, key: &Sm2SigningKey) -> Result<(), SignedError> {
        let mine = key.public_key().to_hex();
        if !self.signatures.iter().any(|b| b.public_key == mine) {
            self.signatures.push(SignatureBlock::sign(key, &self.step)?);
        }
        Ok(())
    }

    /// SM3 of the signed step's RFC 8785 bytes: what the next step's `prev` names.
    pub fn sm3(&self) -> Result<Hash32, CanonicalError> {
        Ok(Hash32::sm3(&canonical::to_canonical_bytes(self)?))
    }
}

/// The detail of the custody event (`appraisal_step`) by which the notary records a filed step
/// on each proof the commission names: `"<commission SM3> <seq> <act> <step SM3>"` (the
/// commission's own SM3 for the commission), so that the step is anchored with the custody
/// log and an opinion's bundles prove when each step was filed (`appraisal.anchor`).
pub fn custody_detail(commission: &Hash32, step: &SignedStep) -> Result<String, CanonicalError> {
    Ok(format!(
        "{commission} {} {} {}",
        step.step.seq,
        step.step.act.name(),
        step.sm3()?
    ))
}

/// Builds a chain of steps: each new step gets the next `seq`, the commission's SM3 and the
/// previous step's SM3, and is signed by the given keys.
#[derive(Clone, Debug, Default)]
pub struct Chain {
    /// The signed steps so far.
    pub steps: Vec<SignedStep>,
}

impl Chain {
    /// Appends `act` by `by` in `role` at `at`, signed by `keys`.
    pub fn push(
        &mut self,
        at: Timestamp,
        by: &str,
        role: Role,
        act: Act,
        keys: &[&Sm2SigningKey],
    ) -> Result<(), SignedError> {
        let step = next_step(&self.steps, at, by, role, act)?;
        self.steps.push(SignedStep::sign(step, keys)?);
        Ok(())
    }
}

/// The step that follows `steps` (the procedure so far, commission first; empty for a
/// commission): the next `seq`, the commission's SM3 and the SM3 of the last step, to be signed.
pub fn next_step(
    steps: &[SignedStep],
    at: Timestamp,
    by: &str,
    role: Role,
    act: Act,
) -> Result<Step, CanonicalError> {
    Ok(Step {
        kind: STEP_TYPE.into(),
        seq: steps.len() as u64,
        commission: steps.first().map(SignedStep::sm3).transpose()?,
        prev: steps.last().map(SignedStep::sm3).transpose()?,
        at,
        by: by.into(),
        role,
        act,
    })
}
