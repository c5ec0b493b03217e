//! The procedure rules of layer `appraisal`: who may act (credentials, revocations, the
//! assigned appraisers and reviewer), in which order and when, the material each appraiser
//! received, and the opinion's signatures and review (`VERIFYING.md` §6).

use crate::appraisal::{Act, Role, SignedStep};
use crate::bundle::PartyRole;
use crate::sm2::Sm2PublicKey;

use super::super::report::Report;
use super::Ctx;

/// The assignment (the first one): the appraisers and the reviewer.
fn assignment<'a>(ctx: &Ctx<'a>) -> Option<(&'a [String], &'a str)> {
    ctx.pkg.steps.iter().find_map(|s| match &s.step.act {
        Act::Assignment {
            appraisers,
            reviewer,
        } => Some((appraisers.as_slice(), reviewer.as_str())),
        _ => None,
    })
}

/// The institution's key: the pinned one, or (when the policy does not list the institution,
/// which is `appraisal.institution`'s failure) the key that signed its acceptance.
fn institution_key(ctx: &Ctx<'_>) -> Option<Sm2PublicKey> {
    ctx.member(ctx.institution, PartyRole::AppraisalInstitution)
        .or_else(|| ctx.signers.get(1).and_then(|k| k.first().cloned()))
}

/// The last step whose act `pick` accepts: its index and what `pick` took from it.
fn last<'a, T>(ctx: &Ctx<'a>, pick: impl Fn(&'a Act) -> Option<T>) -> Option<(usize, T)> {
    ctx.pkg
        .steps
        .iter()
        .enumerate()
        .rev()
        .find_map(|(i, s)| pick(&s.step.act).map(|t| (i, t)))
}

fn name(s: &SignedStep) -> &'static str {
    s.step.act.name()
}

/// Runs every procedure rule.
pub(super) fn check(ctx: &Ctx<'_>, r: &mut Report) {
    let unassigned = !ctx.complete && assignment(ctx).is_none();
    let mut rule = |id: &'static str, f: fn(&Ctx<'_>) -> Result<String, String>| {
        if unassigned && id != "appraisal.order" && id != "appraisal.time" {
            r.skip(id, "no assignment yet");
        } else {
            r.record(id, f(ctx));
        }
    };
    rule("appraisal.credential", credential);
    rule("appraisal.revocation", revocation);
    rule("appraisal.appraiser", appraiser);
    rule("appraisal.order", order);
    rule("appraisal.time", time);
    rule("appraisal.assignment", assigned);
    rule("appraisal.material", material);
    rule("appraisal.opinion", opinion);
    rule("appraisal.review", review);
}

/// Every assigned appraiser and the reviewer has exactly one credential; every credential is
/// the commissioned institution's, signed with its key, its `key_id` the SM3 of its key, and
/// issued no later than the first step its holder signs.
fn credential(ctx: &Ctx<'_>) -> Result<String, String> {
    let (appraisers, reviewer) = assignment(ctx).ok_or("no assignment")?;
    let key = institution_key(ctx).ok_or("no key of the institution to check against")?;
    for id in appraisers.iter().map(String::as_str).chain([reviewer]) {
        let acted = ctx.pkg.steps.iter().any(|s| s.step.by == id);
        if !ctx.complete && !acted {
            continue;
        }
        let n = ctx
            .pkg
            .credentials
            .iter()
            .filter(|c| c.credential.appraiser_id == id)
            .count();
        if n != 1 {
            return Err(format!(
                "{id:?} has {n} credential(s) in the package: exactly one is needed"
            ));
        }
    }
    for (i, c) in ctx.pkg.credentials.iter().enumerate() {
        let cr = &c.credential;
        if cr.institution != ctx.institution {
            return Err(format!(
                "credentials[{i}] ({}) is issued by {:?}, not the commissioned institution",
                cr.appraiser_id, cr.institution
            ));
        }
        let holder = Sm2PublicKey::from_hex(&cr.public_key)
            .map_err(|e| format!("credentials[{i}].public_key: {e}"))?;
        if cr.key_id != holder.key_id() {
            return Err(format!(
                "credentials[{i}].key_id is not the SM3 of its public key"
            ));
        }
        if Sm2PublicKey::from_hex(&c.signature.public_key)
            .ok()
            .as_ref()
            != Some(&key)
        {
            return Err(format!(
                "credentials[{i}] ({}) is not signed with the institution's key",
                cr.appraiser_id
            ));
        }
        let first = ctx
            .pkg
            .steps
            .iter()
            .zip(&ctx.signers)
            .find(|(_, k)| k.contains(&holder));
        if let Some((s, _)) = first
            && cr.issued_at.unix_ms() > s.step.at.unix_ms()
        {
            return Err(format!(
                "credentials[{i}] ({}) was issued after its holder signed step {} ({})",
                cr.appraiser_id,
                s.step.seq,
                name(s)
            ));
        }
    }
    Ok(format!(
        "{} credential(s) of the institution",
        ctx.pkg.credentials.len()
    ))
}

/// Every revocation is the institution's, signed with its key; no step is signed with a key
/// at or after the moment it was revoked.
fn revocation(ctx: &Ctx<'_>) -> Result<String, String> {
    let key = institution_key(ctx).ok_or("no key of the institution to check against")?;
    for (i, v) in ctx.pkg.revocations.iter().enumerate() {
        let rv = &v.revocation;
        if rv.institution != ctx.institution
            || Sm2PublicKey::from_hex(&v.signature.public_key)
                .ok()
                .as_ref()
                != Some(&key)
        {
            return Err(format!(
                "revocations[{i}] is not the commissioned institution's, signed with its key"
            ));
        }
        for (s, keys) in ctx.pkg.steps.iter().zip(&ctx.signers) {
            let revoked = keys.iter().any(|k| k.key_id() == rv.key_id);
            if revoked && s.step.at.unix_ms() >= rv.revoked_at.unix_ms() {
                return Err(format!(
                    "step {} ({}) is signed with the key of {} revoked at {}",
                    s.step.seq,
                    name(s),
                    rv.appraiser_id,
                    rv.revoked_at
                ));
            }
        }
    }
    Ok(format!(
        "{} revocation(s); no revoked key signs after its revocation",
        ctx.pkg.revocations.len()
    ))
}

/// Each step in an appraiser's role is by an assigned appraiser (declaration, material receipt,
/// record entry) or the reviewer (declaration, review), signed by their credential's key alone.
fn appraiser(ctx: &Ctx<'_>) -> Result<String, String> {
    let (appraisers, reviewer) = assignment(ctx).ok_or("no assignment")?;
    for (s, keys) in ctx.pkg.steps.iter().zip(&ctx.signers) {
        if s.step.role != Role::Appraiser {
            continue;
        }
        let by = s.step.by.as_str();
        let is_appraiser = appraisers.iter().any(|a| a == by);
        let allowed = match s.step.act {
            Act::Declaration { .. } => is_appraiser || by == reviewer,
            Act::MaterialReceipt { .. } | Act::RecordEntry { .. } => is_appraiser,
            Act::Review { .. } => by == reviewer,
            _ => true,
        };
        if !allowed {
            return Err(format!(
                "step {} ({}) is by {by:?}, who is not assigned to do it",
                s.step.seq,
                name(s)
            ));
        }
        let key = ctx
            .appraiser_key(by)
            .ok_or_else(|| format!("{by:?} has no single credential"))?;
        if keys.as_slice() != std::slice::from_ref(&key) {
            return Err(format!(
                "step {} ({}) is not signed by {by}'s credential key alone",
                s.step.seq,
                name(s)
            ));
        }
    }
    Ok("every appraiser's step by the assigned person, with their credential's key".into())
}

/// The acts follow the procedure: commission, acceptance (accepted), assignment; each assigned
/// person declares once before anything else they do; each appraiser receives the material once,
/// then records; every appraiser's receipt and a record entry come before the first opinion;
/// every review follows an opinion made since the previous review; the delivery is last.
fn order(ctx: &Ctx<'_>) -> Result<String, String> {
    let steps = &ctx.pkg.steps;
    let act = |i: usize| steps.get(i).map(|s| &s.step.act);
    match act(1) {
        None if !ctx.complete => return Ok("commissioned; awaiting acceptance".into()),
        Some(Act::Acceptance { accepted: true, .. }) => {}
        Some(Act::Acceptance {
            accepted: false,
            reason,
        }) if !ctx.complete && steps.len() == 2 => {
            return Ok(format!(
                "refused by the institution: {}",
                reason.as_deref().unwrap_or("no reason")
            ));
        }
        Some(Act::Acceptance { reason, .. }) => {
            return Err(format!(
                "the institution refused the commission ({}): no opinion follows a refusal",
                reason.as_deref().unwrap_or("no reason")
            ));
        }
        _ => return Err("the step after the commission is not its acceptance".into()),
    }
    if !ctx.complete && steps.len() == 2 {
        return Ok("accepted; awaiting the assignment".into());
    }
    if !matches!(act(2), Some(Act::Assignment { .. })) {
        return Err("the step after the acceptance is not the assignment".into());
    }
    if steps
        .iter()
        .skip(1)
        .take(2)
        .any(|s| s.step.role != Role::Institution)
    {
        return Err(
            "the acceptance or the assignment is not made in the institution's role".into(),
        );
    }
    let (appraisers, reviewer) = assignment(ctx).ok_or("no assignment")?;
    let mut opinion_since_review = false;
    let mut opinions = 0;
    let mut records = 0;
    let mut declared: Vec<&str> = Vec::new();
    let mut received: Vec<&str> = Vec::new();
    for (i, s) in steps.iter().enumerate().skip(3) {
        let by = s.step.by.as_str();
        let want = match s.step.act {
            Act::Commission { .. } | Act::Acceptance { .. } | Act::Assignment { .. } => {
                return Err(format!("step {i} is a second {}", name(s)));
            }
            Act::Opinion { .. } | Act::Delivery { .. } => Role::Institution,
            _ => Role::Appraiser,
        };
        if s.step.role != want {
            return Err(format!("step {i} ({}) is not made in its role", name(s)));
        }
        let person = appraisers.iter().any(|a| a == by) || by == reviewer;
        if person && want == Role::Appraiser {
            let is_declaration = matches!(s.step.act, Act::Declaration { .. });
            if declared.contains(&by) == is_declaration {
                return Err(format!(
                    "step {i} ({}) by {by}: each assigned person declares no conflict once, before anything else",
                    name(s)
                ));
            }
            if is_declaration {
                declared.push(by);
            }
        }
        match &s.step.act {
            Act::MaterialReceipt { .. } if person => {
                if received.contains(&by) || opinions > 0 {
                    return Err(format!(
                        "step {i}: {by} receives the material a second time, or after the opinion"
                    ));
                }
                received.push(by);
            }
            Act::RecordEntry { .. } if person => {
                if !received.contains(&by) {
                    return Err(format!(
                        "step {i}: {by} records work before receiving the material"
                    ));
                }
                records += 1;
            }
            Act::Opinion { .. } => {
                if let Some(a) = appraisers.iter().find(|a| !received.contains(&a.as_str())) {
                    return Err(format!(
                        "step {i}: the opinion comes before {a} received the material"
                    ));
                }
                if records == 0 {
                    return Err(format!(
                        "step {i}: the opinion comes before any entry of the process record"
                    ));
                }
                opinions += 1;
                opinion_since_review = true;
            }
            Act::Review { .. } => {
                if !opinion_since_review {
                    return Err(format!(
                        "step {i}: a review with no opinion since the last review"
                    ));
                }
                opinion_since_review = false;
            }
            Act::Delivery { .. } if i + 1 != steps.len() => {
                return Err(format!("step {i}: the delivery is not the last step"));
            }
            _ => {}
        }
    }
    let delivered = matches!(
        steps.last().map(|s| &s.step.act),
        Some(Act::Delivery { .. })
    );
    if ctx.complete && !delivered {
        return Err("the procedure does not end with the delivery to the court".into());
    }
    if opinion_since_review && (ctx.complete || delivered) {
        return Err("the last opinion was never reviewed".into());
    }
    Ok(format!(
        "commission, acceptance, assignment, {} declaration(s), {} receipt(s), {records} record entr(ies), {opinions} opinion(s), delivery",
        declared.len(),
        received.len()
    ))
}

/// Each step is later than the one before it; the acceptance and every opinion are no later
/// than the commission's deadline.
fn time(ctx: &Ctx<'_>) -> Result<String, String> {
    for w in ctx.pkg.steps.windows(2) {
        if let [a, b] = w
            && b.step.at.unix_ms() <= a.step.at.unix_ms()
        {
            return Err(format!(
                "step {} ({}, {}) is not later than step {} ({}, {})",
                b.step.seq,
                name(b),
                b.step.at,
                a.step.seq,
                name(a),
                a.step.at
            ));
        }
    }
    for s in &ctx.pkg.steps {
        if matches!(s.step.act, Act::Acceptance { .. } | Act::Opinion { .. })
            && s.step.at.unix_ms() > ctx.deadline.unix_ms()
        {
            return Err(format!(
                "step {} ({}) at {} is after the deadline {}",
                s.step.seq,
                name(s),
                s.step.at,
                ctx.deadline
            ));
        }
    }
    Ok(format!(
        "in time order, within the deadline {}",
        ctx.deadline
    ))
}

/// At least two distinct appraisers, none blank; a reviewer who is not one of them.
fn assigned(ctx: &Ctx<'_>) -> Result<String, String> {
    let (appraisers, reviewer) = assignment(ctx).ok_or("no assignment")?;
    let mut distinct: Vec<&str> = appraisers.iter().map(|a| a.trim()).collect();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() != appraisers.len() || distinct.iter().any(|a| a.is_empty()) {
        return Err("an appraiser is named twice or blank".into());
    }
    if distinct.len() < 2 {
        return Err(format!(
            "{} appraiser(s) assigned: at least two are required",
            distinct.len()
        ));
    }
    if reviewer.trim().is_empty() || distinct.contains(&reviewer.trim()) {
        return Err(format!(
            "the reviewer {reviewer:?} is blank or one of the appraisers: the review is by another person"
        ));
    }
    Ok(format!(
        "appraisers {}, reviewer {reviewer}",
        appraisers.join(", ")
    ))
}

/// Each material receipt lists exactly the commission's files, in order, with their SM3.
fn material(ctx: &Ctx<'_>) -> Result<String, String> {
    let mut n = 0;
    for s in &ctx.pkg.steps {
        if let Act::MaterialReceipt { items } = &s.step.act {
            if items.as_slice() != ctx.items {
                let at = items
                    .iter()
                    .zip(ctx.items)
                    .position(|(a, b)| a != b)
                    .map(|k| format!("item {k}"))
                    .unwrap_or_else(|| "the number of items".into());
                return Err(format!(
                    "{}'s receipt differs from the commission at {at}: the material received is not the material commissioned",
                    s.step.by
                ));
            }
            n += 1;
        }
    }
    Ok(format!(
        "{n} receipt(s) of the {} commissioned file(s)",
        ctx.items.len()
    ))
}

/// The last opinion answers every question (one finding each, not blank) and is signed by the
/// institution and every assigned appraiser, each once, and by no one else.
fn opinion(ctx: &Ctx<'_>) -> Result<String, String> {
    let (appraisers, _) = assignment(ctx).ok_or("no assignment")?;
    let Some((i, findings)) = last(ctx, |a| match a {
        Act::Opinion { findings } => Some(findings),
        _ => None,
    }) else {
        return if ctx.complete {
            Err("the package holds no opinion".into())
        } else {
            Ok("no opinion yet".into())
        };
    };
    if findings.len() != ctx.questions.len() || findings.iter().any(|f| f.trim().is_empty()) {
        return Err(format!(
            "{} finding(s) for {} question(s): one finding per question, none blank",
            findings.len(),
            ctx.questions.len()
        ));
    }
    let signers = ctx.signers.get(i).ok_or("no signers")?;
    let wanted = opinion_signers(ctx);
    let collecting = ctx.draft && i + 1 == ctx.pkg.steps.len();
    let mut counted = 0;
    for (who, key) in &wanted {
        let n = key
            .as_ref()
            .map_or(0, |k| signers.iter().filter(|s| *s == k).count());
        if n > 1 || (n == 0 && !collecting) {
            return Err(format!(
                "the opinion carries {n} signature(s) by {who}: every assigned appraiser and the institution sign it once"
            ));
        }
        counted += n;
    }
    if signers.len() != counted {
        return Err(format!(
            "the opinion carries {} signature(s) for {} signers: no one else signs it",
            signers.len(),
            wanted.len()
        ));
    }
    Ok(format!(
        "{} finding(s), signed by {} appraiser(s) and the institution",
        findings.len(),
        appraisers.len()
    ))
}

/// Who signs an opinion: every assigned appraiser (by their credential's key) and the
/// institution, in that order.
pub(super) fn opinion_signers(ctx: &Ctx<'_>) -> Vec<(String, Option<Sm2PublicKey>)> {
    let mut wanted: Vec<(String, Option<Sm2PublicKey>)> = assignment(ctx)
        .map(|(appraisers, _)| appraisers)
        .unwrap_or_default()
        .iter()
        .map(|a| (a.clone(), ctx.appraiser_key(a)))
        .collect();
    wanted.push((ctx.institution.to_owned(), institution_key(ctx)));
    wanted
}

/// The last review approves the last opinion (it follows it); in progress, only once the
/// opinion is delivered.
fn review(ctx: &Ctx<'_>) -> Result<String, String> {
    let delivered = matches!(
        ctx.pkg.steps.last().map(|s| &s.step.act),
        Some(Act::Delivery { .. })
    );
    if !ctx.complete && !delivered {
        return Ok("not delivered yet".into());
    }
    let last_opinion = ctx
        .pkg
        .steps
        .iter()
        .rposition(|s| matches!(s.step.act, Act::Opinion { .. }));
    let last_review = last(ctx, |a| match a {
        Act::Review { approved, remarks } => Some((*approved, remarks)),
        _ => None,
    });
    let by = |i: usize| ctx.pkg.steps.get(i).map_or("", |s| s.step.by.as_str());
    match (last_opinion, last_review) {
        (Some(o), Some((i, (true, _)))) if i > o => {
            Ok(format!("reviewed (复核) and approved by {}", by(i)))
        }
        (_, Some((i, (false, remarks)))) => Err(format!(
            "the last review by {} returned the opinion ({remarks})",
            by(i)
        )),
        _ => Err("the last opinion is not followed by an approving review".into()),
    }
}
