//! Layer `appraisal`: an appraisal opinion package (`tiezheng.appraisal-opinion.v1`) checked
//! offline against the court's pinned policy (`VERIFYING.md` §6). The chain and its
//! signatures, the parties (a registered court, a registered institution, credentialed
//! appraisers), then the procedure (`procedure`): its order and times, the assignment, the
//! material each appraiser received, the opinion's signatures and the review, and finally the
//! evidence bundles the commission names, each verified as a bundle is.

mod procedure;

use serde_json::Value;

use crate::appraisal::{Act, OPINION_TYPE, OpinionPackage, Role, STEP_TYPE, SignedStep};
use crate::bundle::{Party, PartyRole, Policy};
use crate::canonical;
use crate::hash::Hash32;
use crate::sm2::Sm2PublicKey;

use super::report::Report;
use super::{PolicyError, first_difference, verify_bundle_bytes};

/// The rules of the layer, in catalogue order.
pub const RULES: [&str; 16] = [
    "appraisal.schema",
    "appraisal.signatures",
    "appraisal.chain",
    "appraisal.court",
    "appraisal.institution",
    "appraisal.credential",
    "appraisal.revocation",
    "appraisal.appraiser",
    "appraisal.order",
    "appraisal.time",
    "appraisal.assignment",
    "appraisal.material",
    "appraisal.opinion",
    "appraisal.review",
    "appraisal.evidence",
    "appraisal.anchor",
];

/// What the checks share: the package, its steps' signing keys as their blocks name them, and
/// the parties as the commission names them.
struct Ctx<'a> {
    pkg: &'a OpinionPackage,
    /// Per step, the keys its signature blocks carry (whether each verifies is
    /// `appraisal.signatures`'s question).
    signers: Vec<Vec<Sm2PublicKey>>,
    /// The judicial parties the verifier trusts.
    parties: &'a [Party],
    /// The commission's institution.
    institution: &'a str,
    /// The commission's items and questions.
    items: &'a [crate::appraisal::MaterialItem],
    questions: &'a [String],
    deadline: &'a crate::time::Timestamp,
    /// A whole package (`true`), or a procedure in progress (`false`: the rules about how it
    /// ends, and the evidence, are not checked yet).
    complete: bool,
    /// The last step is an opinion still collecting its co-signatures (a draft): it may lack
    /// signers, but carries no one else's.
    draft: bool,
}

impl Ctx<'_> {
    /// The key of the pinned party `id` with `role`.
    fn member(&self, id: &str, role: PartyRole) -> Option<Sm2PublicKey> {
        self.parties
            .iter()
            .find(|m| m.id == id && m.role == role)
            .and_then(|m| Sm2PublicKey::from_hex(&m.public_key).ok())
    }

    /// The key the institution's credential binds to appraiser `id`, if exactly one credential
    /// names them.
    fn appraiser_key(&self, id: &str) -> Option<Sm2PublicKey> {
        let mut found = self
            .pkg
            .credentials
            .iter()
            .filter(|c| c.credential.appraiser_id == id);
        let one = found.next()?;
        if found.next().is_some() {
            return None;
        }
        Sm2PublicKey::from_hex(&one.credential.public_key).ok()
    }
}

/// Verifies an opinion package given as bytes against the court's `pinned` policy.
pub fn verify_opinion_bytes(bytes: &[u8], pinned: &Policy) -> Result<Report, PolicyError> {
    pinned.validate()?;
    let mut r = Report::default();
    let value = match canonical::parse_strict(bytes) {
        Ok(v) => v,
        Err(e) => {
            r.record("appraisal.schema", Err(format!("not strict JSON: {e}")));
            return Ok(skipped(r));
        }
    };
    match parse(&value) {
        Ok(pkg) => Ok(run(&pkg, &pinned.parties, Some(pinned), false, r)),
        Err(e) => {
            r.record("appraisal.schema", Err(e));
            Ok(skipped(r))
        }
    }
}

/// Why the next step of a procedure in progress is refused: the rule it breaks and what is
/// wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{rule}: {message}")]
pub struct StepRefused {
    /// The `appraisal.*` rule.
    pub rule: &'static str,
    /// What is wrong and what to do.
    pub message: String,
}

/// Checks a procedure in progress (`pkg`'s steps so far, the last one just added, with the
/// credentials and revocations known) against the judicial `parties` trusted: every rule that
/// can hold of an unfinished procedure (how it ends, and the evidence, are checked on the
/// whole package). The notary and the command line run it before they accept a step.
pub fn check_in_progress(pkg: &OpinionPackage, parties: &[Party]) -> Result<(), StepRefused> {
    let refused = |rule, message| StepRefused { rule, message };
    let value =
        serde_json::to_value(pkg).map_err(|e| refused("appraisal.schema", e.to_string()))?;
    parse(&value).map_err(|e| refused("appraisal.schema", e))?;
    let r = run(pkg, parties, None, false, Report::default());
    match r.first_failure() {
        Some(c) => Err(refused(c.rule, c.detail.clone())),
        None => Ok(()),
    }
}

/// Checks an opinion being co-signed (`draft`, not yet a step of `pkg`): it is the next step
/// of the procedure in progress and breaks no rule except that some of the institution and the
/// assigned appraisers have not signed it yet; every signature it carries verifies and is by
/// one of them, once. Returns who has still to sign (member or appraiser ids); once no one
/// is missing, the draft is a step like any other. The notary keeps drafts with this check, and
/// the workspace shows who is missing.
pub fn check_draft(
    pkg: &OpinionPackage,
    draft: &SignedStep,
    parties: &[Party],
) -> Result<Vec<String>, StepRefused> {
    let refused = |rule, message| StepRefused { rule, message };
    if !matches!(draft.step.act, Act::Opinion { .. }) {
        return Err(refused(
            "appraisal.order",
            format!(
                "only an opinion is co-signed as a draft; this is a {}",
                draft.step.act.name()
            ),
        ));
    }
    let mut with = pkg.clone();
    with.steps.push(draft.clone());
    let value =
        serde_json::to_value(&with).map_err(|e| refused("appraisal.schema", e.to_string()))?;
    parse(&value).map_err(|e| refused("appraisal.schema", e))?;
    let r = run(&with, parties, None, true, Report::default());
    if let Some(c) = r.first_failure() {
        return Err(refused(c.rule, c.detail.clone()));
    }
    let ctx = context(&with, parties, false, true)
        .ok_or_else(|| refused("appraisal.schema", "no commission".into()))?;
    let signed = ctx.signers.last().cloned().unwrap_or_default();
    Ok(procedure::opinion_signers(&ctx)
        .into_iter()
        .filter(|(_, key)| !key.as_ref().is_some_and(|k| signed.contains(k)))
        .map(|(who, _)| who)
        .collect())
}

/// The context of the rules over `pkg`, if it starts with a commission.
fn context<'a>(
    pkg: &'a OpinionPackage,
    parties: &'a [Party],
    complete: bool,
    draft: bool,
) -> Option<Ctx<'a>> {
    let Some(Act::Commission {
        institution,
        items,
        questions,
        deadline,
        ..
    }) = pkg.steps.first().map(|s| &s.step.act)
    else {
        return None;
    };
    let signers = pkg
        .steps
        .iter()
        .map(|s| {
            s.signatures
                .iter()
                .filter_map(|b| Sm2PublicKey::from_hex(&b.public_key).ok())
                .collect()
        })
        .collect();
    Some(Ctx {
        pkg,
        signers,
        parties,
        institution,
        items,
        questions,
        deadline,
        complete,
        draft,
    })
}

/// Every rule on a parsed package (a whole one when `policy` is given; in progress otherwise,
/// its last step a draft opinion when `draft`).
fn run(
    pkg: &OpinionPackage,
    parties: &[Party],
    policy: Option<&Policy>,
    draft: bool,
    mut r: Report,
) -> Report {
    let Some(ctx) = context(pkg, parties, policy.is_some(), draft) else {
        r.record(
            "appraisal.schema",
            Err("the first step is not a commission".into()),
        );
        return skipped(r);
    };
    r.record(
        "appraisal.schema",
        Ok(format!("an opinion package of {} step(s)", pkg.steps.len())),
    );
    r.record("appraisal.signatures", signatures(pkg));
    r.record("appraisal.chain", chain(pkg));
    r.record("appraisal.court", court(&ctx));
    r.record("appraisal.institution", institution_rule(&ctx));
    procedure::check(&ctx, &mut r);
    if let Some(policy) = policy {
        r.record("appraisal.evidence", evidence(&ctx, policy));
        r.record("appraisal.anchor", anchored(&ctx));
    }
    r
}

/// Every rule but `appraisal.schema` skipped.
fn skipped(mut r: Report) -> Report {
    for rule in RULES.iter().skip(1) {
        r.skip(rule, "not checked: appraisal.schema fails");
    }
    r
}

/// The package in `value`, if it has exactly the package's shape.
fn parse(value: &Value) -> Result<OpinionPackage, String> {
    let pkg: OpinionPackage = serde_json::from_value(value.clone())
        .map_err(|e| format!("does not match schemas/appraisal-opinion.schema.json: {e}"))?;
    let back = serde_json::to_value(&pkg).map_err(|e| e.to_string())?;
    if let Some(at) = first_difference(value, &back) {
        return Err(format!(
            "member {at} is not written as schemas/appraisal-opinion.schema.json requires"
        ));
    }
    if pkg.kind != OPINION_TYPE {
        return Err(format!("type is {:?}, not {OPINION_TYPE:?}", pkg.kind));
    }
    if let Some(s) = pkg.steps.iter().find(|s| s.step.kind != STEP_TYPE) {
        return Err(format!(
            "step {} has type {:?}, not {STEP_TYPE:?}",
            s.step.seq, s.step.kind
        ));
    }
    Ok(pkg)
}

/// Every signature of every step, credential and revocation verifies over its document.
fn signatures(pkg: &OpinionPackage) -> Result<String, String> {
    let mut n = 0;
    for (i, s) in pkg.steps.iter().enumerate() {
        let doc = serde_json::to_value(&s.step).map_err(|e| e.to_string())?;
        if s.signatures.is_empty() {
            return Err(format!("steps[{i}] ({}) is not signed", s.step.act.name()));
        }
        for (j, b) in s.signatures.iter().enumerate() {
            b.verify_value(&doc)
                .map_err(|e| format!("steps[{i}].signatures[{j}]: {e}"))?;
            n += 1;
        }
    }
    for (i, c) in pkg.credentials.iter().enumerate() {
        let doc = serde_json::to_value(&c.credential).map_err(|e| e.to_string())?;
        c.signature
            .verify_value(&doc)
            .map_err(|e| format!("credentials[{i}]: {e}"))?;
        n += 1;
    }
    for (i, v) in pkg.revocations.iter().enumerate() {
        let doc = serde_json::to_value(&v.revocation).map_err(|e| e.to_string())?;
        v.signature
            .verify_value(&doc)
            .map_err(|e| format!("revocations[{i}]: {e}"))?;
        n += 1;
    }
    Ok(format!("{n} signature(s) verify"))
}

/// Each step names its place, the commission and the step before it.
fn chain(pkg: &OpinionPackage) -> Result<String, String> {
    let sm3 = |s: &SignedStep| s.sm3().map_err(|e| e.to_string());
    let commission = pkg.steps.first().map(sm3).transpose()?;
    for (i, s) in pkg.steps.iter().enumerate() {
        let st = &s.step;
        let (want_commission, want_prev) = match i.checked_sub(1) {
            None => (None, None),
            Some(p) => (commission, pkg.steps.get(p).map(sm3).transpose()?),
        };
        if st.seq != i as u64 {
            return Err(format!("steps[{i}] has seq {}", st.seq));
        }
        if st.commission != want_commission {
            return Err(format!(
                "steps[{i}] ({}) does not name the commission's SM3",
                st.act.name()
            ));
        }
        if st.prev != want_prev {
            return Err(format!(
                "steps[{i}] ({}) does not name the SM3 of the step before it: a step is missing, added or altered",
                st.act.name()
            ));
        }
        if i > 0 && matches!(st.act, Act::Commission { .. }) {
            return Err(format!("steps[{i}] is a second commission"));
        }
    }
    Ok(format!("{} step(s) chained", pkg.steps.len()))
}

/// The commission is by a court of the pinned policy, signed by that court's key alone; the
/// delivery goes to it.
fn court(ctx: &Ctx<'_>) -> Result<String, String> {
    let first = ctx.pkg.steps.first().ok_or("no commission")?;
    let by = &first.step.by;
    if first.step.role != Role::Court {
        return Err("the commission is not made in the role of a court".into());
    }
    let key = ctx.member(by, PartyRole::Court).ok_or_else(|| {
        format!("{by:?} is not a court of the pinned policy's parties: only a registered court commissions")
    })?;
    if ctx.signers.first().map(Vec::as_slice) != Some(std::slice::from_ref(&key)) {
        return Err(format!(
            "the commission is not signed by the key of the court {by:?} alone"
        ));
    }
    for s in &ctx.pkg.steps {
        if let Act::Delivery { court } = &s.step.act
            && court != by
        {
            return Err(format!(
                "the opinion is delivered to {court:?}, not to the commissioning court {by:?}"
            ));
        }
    }
    Ok(format!("commissioned by the court {by}"))
}

/// The commissioned institution is an appraisal institution of the pinned policy; every step
/// in the institution's role is by it and signed with its key.
fn institution_rule(ctx: &Ctx<'_>) -> Result<String, String> {
    let inst = ctx.institution;
    let key = ctx
        .member(inst, PartyRole::AppraisalInstitution)
        .ok_or_else(|| {
            format!("{inst:?} is not an appraisal institution of the pinned policy's parties")
        })?;
    for (i, s) in ctx.pkg.steps.iter().enumerate() {
        if s.step.role != Role::Institution {
            continue;
        }
        if s.step.by != inst {
            return Err(format!(
                "steps[{i}] ({}) is by {:?}, not the commissioned institution",
                s.step.act.name(),
                s.step.by
            ));
        }
        let collecting = ctx.draft && i + 1 == ctx.pkg.steps.len();
        if !collecting && !ctx.signers.get(i).is_some_and(|k| k.contains(&key)) {
            return Err(format!(
                "steps[{i}] ({}) is not signed with the institution's key",
                s.step.act.name()
            ));
        }
    }
    Ok(format!("performed by the appraisal institution {inst}"))
}

/// Every step was filed with the notary and anchored: each bundle's custody log holds one
/// `appraisal_step` event per step of the package, in order, naming its seq, act and SM3, and no
/// other for this commission (the bundles themselves are `appraisal.evidence`'s).
fn anchored(ctx: &Ctx<'_>) -> Result<String, String> {
    let first = ctx.pkg.steps.first().ok_or("no commission")?;
    let commission = first.sm3().map_err(|e| e.to_string())?;
    let want: Vec<String> = ctx
        .pkg
        .steps
        .iter()
        .map(|s| crate::appraisal::custody_detail(&commission, s).map_err(|e| e.to_string()))
        .collect::<Result<_, _>>()?;
    let prefix = format!("{commission} ");
    for (i, b) in ctx.pkg.bundles.iter().enumerate() {
        let events = b
            .pointer("/custody/events")
            .and_then(Value::as_array)
            .ok_or_else(|| {
                format!("bundles[{i}] carries no custody log: the steps' filing is not proven")
            })?;
        let found: Vec<&str> = events
            .iter()
            .filter(|e| e.get("event").and_then(Value::as_str) == Some("appraisal_step"))
            .filter_map(|e| e.get("detail").and_then(Value::as_str))
            .filter(|d| d.starts_with(&prefix))
            .collect();
        if let Some(j) = (0..want.len().max(found.len()))
            .find(|j| want.get(*j).map(String::as_str) != found.get(*j).copied())
        {
            return Err(match (want.get(j), found.get(j)) {
                (Some(w), None) => format!(
                    "bundles[{i}]: step {j} ({w}) is not in the anchored custody log: it was not filed with the notary, or not yet anchored"
                ),
                (None, Some(f)) => format!(
                    "bundles[{i}]: the custody log records a step the package does not hold ({f})"
                ),
                (w, f) => format!(
                    "bundles[{i}]: step {j} is {} in the package but {} in the anchored custody log: the step was changed after it was filed",
                    w.map_or("?", String::as_str),
                    f.copied().unwrap_or("?")
                ),
            });
        }
    }
    Ok(format!(
        "{} step(s) filed and anchored in the custody log of {} bundle(s)",
        want.len(),
        ctx.pkg.bundles.len()
    ))
}

/// One bundle per proof the commission names, each valid under the pinned policy, whose proof
/// lists each commissioned file with its SM3; no other bundle.
fn evidence(ctx: &Ctx<'_>, policy: &Policy) -> Result<String, String> {
    let mut proofs: Vec<Hash32> = ctx.items.iter().map(|i| i.proof_sm3).collect();
    proofs.sort_by_key(|h| h.0);
    proofs.dedup();
    if proofs.is_empty() {
        return Err("the commission names no evidence".into());
    }
    if ctx.pkg.bundles.len() != proofs.len() {
        return Err(format!(
            "{} bundle(s) for {} commissioned proof(s): one bundle per proof, no other",
            ctx.pkg.bundles.len(),
            proofs.len()
        ));
    }
    let mut seen = Vec::new();
    for (i, b) in ctx.pkg.bundles.iter().enumerate() {
        let bytes = canonical::canonicalize(b).map_err(|e| format!("bundles[{i}]: {e}"))?;
        let v =
            verify_bundle_bytes(&bytes, None, policy).map_err(|e| format!("bundles[{i}]: {e}"))?;
        if let Some(f) = v.first_failure() {
            return Err(format!(
                "bundles[{i}] does not verify: {} ({})",
                f.rule, f.detail
            ));
        }
        let proof_sm3 = v.facts.proof_sm3.ok_or("a bundle without a proof")?;
        if !proofs.contains(&proof_sm3) || seen.contains(&proof_sm3) {
            return Err(format!(
                "bundles[{i}] proves {proof_sm3}, which the commission does not name or another bundle already proves"
            ));
        }
        seen.push(proof_sm3);
        let proof: crate::manifest::Proof = serde_json::from_value(b["proof"].clone())
            .map_err(|e| format!("bundles[{i}].proof: {e}"))?;
        for item in ctx.items.iter().filter(|it| it.proof_sm3 == proof_sm3) {
            let listed = proof.manifest.items.iter().any(|f| {
                f.file_name == item.file_name
                    && f.hashes
                        .iter()
                        .any(|h| h.algorithm == crate::HashAlgorithm::Sm3 && h.value == item.sm3)
            });
            if !listed {
                return Err(format!(
                    "the commission's {} is not a file of proof {proof_sm3} with SM3 {}",
                    item.file_name, item.sm3
                ));
            }
        }
    }
    Ok(format!(
        "{} file(s) of {} proof(s), each bundle valid",
        ctx.items.len(),
        proofs.len()
    ))
}
