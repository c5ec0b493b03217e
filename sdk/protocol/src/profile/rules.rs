//! The `profile.*` rules: what each requirement means on a manifest's facts, the outcomes the
//! SDK records at capture ([`assess`]), and the review of a recorded procedure that the notary's
//! intake ([`check_procedure`]) and the verifier run (`review`).

use crate::manifest::{
    CaseRecord, CollectionRecord, LocationFix, Manifest, Origin, PartyRecord, Proof, TimeSync,
};
use crate::time::Timestamp;

use super::{
    CaseField, LoadedProfile, Outcome, Procedure, Profile, REASON_MAX_CHARS, Requirement, Severity,
    find_version,
};

/// The rules a requirement can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleKind {
    /// At least `min_collectors` distinct collectors are named.
    Collectors,
    /// Every collector signed the manifest with a key of their own (the proof's
    /// `officer_signatures`; their validity is rule `officer.signature`'s).
    Signatures,
    /// The holder is named, or a note records why they did not sign.
    Holder,
    /// The witness is named, or a note records why there is none.
    Witness,
    /// The case fields listed in `fields` are filled in.
    Fields,
    /// Every item has an OS fix, not mock, with a horizontal accuracy of at most
    /// `max_accuracy_m`.
    Location,
    /// Every item's device clock is within `max_skew_s` of trusted time (the last time sync's
    /// offset, or the GNSS time).
    Clock,
    /// Every item was captured, not imported.
    Origin,
    /// The notary receipted the proof within `max_delay_s` of the manifest's creation (checked
    /// by verifiers, not at capture).
    ReceiptDelay,
}

impl RuleKind {
    /// Every rule, in catalogue order.
    pub const ALL: [RuleKind; 9] = [
        Self::Collectors,
        Self::Signatures,
        Self::Holder,
        Self::Witness,
        Self::Fields,
        Self::Location,
        Self::Clock,
        Self::Origin,
        Self::ReceiptDelay,
    ];

    /// The rule's identifier in the verifier's catalogue.
    pub fn id(self) -> &'static str {
        match self {
            Self::Collectors => "profile.collectors",
            Self::Signatures => "profile.signatures",
            Self::Holder => "profile.holder",
            Self::Witness => "profile.witness",
            Self::Fields => "profile.fields",
            Self::Location => "profile.location",
            Self::Clock => "profile.clock",
            Self::Origin => "profile.origin",
            Self::ReceiptDelay => "profile.receipt_delay",
        }
    }

    /// The rule named `id`.
    pub fn from_id(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.id() == id)
    }

    /// Whether the rule is decided at capture (and its outcome recorded in the manifest).
    pub fn at_capture(self) -> bool {
        self != Self::ReceiptDelay
    }

    /// Exactly the rule's parameters are present, each in range.
    pub(super) fn check_params(self, r: &Requirement) -> Result<(), String> {
        let given = [
            ("min_collectors", r.min_collectors.is_some()),
            ("fields", r.fields.is_some()),
            ("max_accuracy_m", r.max_accuracy_m.is_some()),
            ("max_skew_s", r.max_skew_s.is_some()),
            ("max_delay_s", r.max_delay_s.is_some()),
        ];
        let wanted: &[&str] = match self {
            Self::Collectors => &["min_collectors"],
            Self::Fields => &["fields"],
            Self::Location => &["max_accuracy_m"],
            Self::Clock => &["max_skew_s"],
            Self::ReceiptDelay => &["max_delay_s"],
            Self::Signatures | Self::Holder | Self::Witness | Self::Origin => &[],
        };
        for (name, present) in given {
            if present != wanted.contains(&name) {
                return Err(if present {
                    format!("takes no parameter {name}")
                } else {
                    format!("needs the parameter {name}")
                });
            }
        }
        let positive = [
            r.min_collectors,
            r.max_accuracy_m,
            r.max_skew_s,
            r.max_delay_s,
        ];
        if positive.iter().flatten().any(|v| *v == 0) {
            return Err("its parameter must be 1 or more".into());
        }
        if r.min_collectors.is_some_and(|n| n > 20) {
            return Err("min_collectors must be at most 20".into());
        }
        if let Some(f) = &r.fields {
            if f.is_empty() {
                return Err("fields must list at least one field".into());
            }
            if f.iter()
                .enumerate()
                .any(|(i, a)| f.iter().take(i).any(|b| b == a))
            {
                return Err("fields lists a field twice".into());
            }
        }
        Ok(())
    }
}

/// What the capture-time rules look at: the case record and, per item, its origin, fix and
/// times. Built from a manifest ([`Facts::of`]) or, before capture, from what the app knows.
#[derive(Clone, Debug)]
pub struct Facts<'a> {
    /// The case and collection record.
    pub case: &'a CaseRecord,
    /// One entry per evidence item (none for a session summary).
    pub items: Vec<ItemFacts<'a>>,
    /// The officer IDs of the collectors' own signatures over the manifest.
    pub signers: Vec<&'a str>,
    /// The collection record (笔录), when a session is closed with one.
    pub record: Option<&'a CollectionRecord>,
}

/// One item's facts.
#[derive(Clone, Debug)]
pub struct ItemFacts<'a> {
    /// Captured or imported.
    pub origin: Origin,
    /// The OS location fix.
    pub os_fix: Option<&'a LocationFix>,
    /// The device clock at capture.
    pub device_time: &'a Timestamp,
    /// GNSS time, if the fix carried one.
    pub gnss_time: Option<&'a Timestamp>,
    /// The last trusted time synchronisation.
    pub last_time_sync: Option<&'a TimeSync>,
}

impl<'a> Facts<'a> {
    /// The facts a proof records: its manifest's, and who signed it.
    pub fn of_proof(p: &'a Proof) -> Self {
        let mut f = Self::of(&p.manifest);
        f.signers = p
            .officer_signatures
            .iter()
            .map(|s| s.officer_id.as_str())
            .collect();
        f
    }

    /// The facts a manifest records (no officer signatures).
    pub fn of(m: &'a Manifest) -> Self {
        Self {
            signers: Vec::new(),
            record: m.session_summary.as_ref().and_then(|s| s.record.as_ref()),
            case: &m.case,
            items: m
                .items
                .iter()
                .map(|i| ItemFacts {
                    origin: i.origin,
                    os_fix: i.location.as_ref().and_then(|l| l.os_fix.as_ref()),
                    device_time: &i.times.device_time,
                    gnss_time: i.times.gnss_time.as_ref(),
                    last_time_sync: i.times.last_time_sync.as_ref(),
                })
                .collect(),
        }
    }
}

fn filled(s: &Option<String>) -> bool {
    s.as_deref().is_some_and(|s| !s.trim().is_empty())
}

fn party(p: &Option<PartyRecord>, who: &str) -> Result<String, String> {
    match p {
        Some(p) if filled(&p.name) => Ok(format!("the {who} is named")),
        Some(p) if filled(&p.note) => Ok(format!("the {who}'s absence or refusal is recorded")),
        _ => Err(format!(
            "name the {who}, or record in the {who}'s note why they did not sign or why there is none"
        )),
    }
}

/// The witness is named (or why there is none is recorded) and, on a collection record, the
/// witness signed it or the record names the video of the whole collection (全程录像).
fn witness(facts: &Facts<'_>) -> Result<String, String> {
    let named = party(&facts.case.witness, "witness")?;
    let Some(record) = facts.record else {
        return Ok(named);
    };
    if record.witness.signature_image_sm3.is_some() {
        return Ok("the witness signed the collection record".into());
    }
    match record.process_video()? {
        Some(v) => Ok(format!(
            "no witness signed the record; the whole collection is recorded on video ({})",
            v.file_name
        )),
        None => Err(
            "no witness signed the collection record and it names no video of the whole collection: record the collection on video and name it as the process recording"
                .into(),
        ),
    }
}

fn each_item(
    facts: &Facts<'_>,
    check: impl Fn(&ItemFacts<'_>) -> Result<(), String>,
    holds: &str,
) -> Result<String, String> {
    if facts.items.is_empty() {
        return Ok("no evidence items (session summary)".into());
    }
    for (i, item) in facts.items.iter().enumerate() {
        check(item).map_err(|e| format!("item {i}: {e}"))?;
    }
    Ok(holds.to_owned())
}

/// Whether the capture-time requirement `r` holds on `facts`: `Ok` says why, `Err` says what
/// is missing and what to do. `profile.receipt_delay` is not decided here (see
/// [`receipt_delay`]).
pub fn evaluate(r: &Requirement, facts: &Facts<'_>) -> Result<String, String> {
    let Some(kind) = RuleKind::from_id(&r.rule) else {
        return Err(format!("unknown rule {:?}", r.rule));
    };
    match kind {
        RuleKind::Collectors => {
            let min = r.min_collectors.unwrap_or(1) as usize;
            let mut distinct: Vec<&str> = facts
                .case
                .collectors
                .iter()
                .map(|c| c.trim())
                .filter(|c| !c.is_empty())
                .collect();
            distinct.sort_unstable();
            distinct.dedup();
            if distinct.len() >= min {
                Ok(format!("{} distinct collectors named", distinct.len()))
            } else {
                Err(format!(
                    "at least {min} distinct collectors are required, {} named ({}): add the other officers",
                    distinct.len(),
                    distinct.join(", ")
                ))
            }
        }
        RuleKind::Signatures => {
            let mut unsigned: Vec<&str> = facts
                .case
                .collectors
                .iter()
                .map(|c| c.trim())
                .filter(|c| !c.is_empty())
                .filter(|c| !facts.signers.iter().any(|s| s.trim() == *c))
                .collect();
            unsigned.dedup();
            if unsigned.is_empty() {
                Ok(format!(
                    "every collector signed with their own key ({})",
                    facts.signers.join(", ")
                ))
            } else {
                Err(format!(
                    "collector(s) {} did not sign with their own key: each officer registers a key on the device (`tiezheng officer add`) and unlocks it at capture",
                    unsigned.join(", ")
                ))
            }
        }
        RuleKind::Holder => party(&facts.case.holder, "holder"),
        RuleKind::Witness => witness(facts),
        RuleKind::Fields => {
            let case = facts.case;
            let missing: Vec<&str> = r
                .fields
                .iter()
                .flatten()
                .filter(|f| {
                    !filled(match f {
                        CaseField::Cause => &case.cause,
                        CaseField::Object => &case.object,
                        CaseField::Description => &case.description,
                    })
                })
                .map(|f| f.name())
                .collect();
            if missing.is_empty() {
                Ok("the required case fields are filled in".into())
            } else {
                Err(format!(
                    "fill in the case field(s) {}",
                    missing
                        .iter()
                        .map(|m| format!("case.{m}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            }
        }
        RuleKind::Location => {
            let max = f64::from(r.max_accuracy_m.unwrap_or(0));
            each_item(
                facts,
                |i| {
                    let fix = i
                        .os_fix
                        .ok_or("no OS location fix: wait for a fix before capturing")?;
                    if fix.mock {
                        return Err("the fix comes from a mock location provider".into());
                    }
                    let acc = fix
                        .horizontal_accuracy
                        .as_ref()
                        .ok_or("the fix states no horizontal accuracy")?
                        .to_f64();
                    if acc > max {
                        return Err(format!(
                            "the fix's accuracy is {acc} m, more than {max} m: wait for a better fix"
                        ));
                    }
                    Ok(())
                },
                &format!("every item has a fix within {max} m"),
            )
        }
        RuleKind::Clock => {
            let max_ms = i64::from(r.max_skew_s.unwrap_or(0)) * 1000;
            each_item(
                facts,
                |i| {
                    if let Some(s) = i.last_time_sync
                        && s.offset_ms.checked_abs().is_some_and(|o| o <= max_ms)
                    {
                        return Ok(());
                    }
                    if let Some(g) = i.gnss_time {
                        let d = i.device_time.unix_ms().abs_diff(g.unix_ms());
                        if i64::try_from(d).is_ok_and(|d| d <= max_ms) {
                            return Ok(());
                        }
                    }
                    Err(format!(
                        "neither a time sync nor GNSS time shows the device clock within {} s: synchronise the clock",
                        max_ms / 1000
                    ))
                },
                &format!(
                    "every item's clock is within {} s of trusted time",
                    max_ms / 1000
                ),
            )
        }
        RuleKind::Origin => each_item(
            facts,
            |i| {
                if i.origin == Origin::Captured {
                    Ok(())
                } else {
                    Err("the file was imported, not captured on site".into())
                }
            },
            "every item was captured on site",
        ),
        RuleKind::ReceiptDelay => Err("decided by the notary's receipt, not at capture".into()),
    }
}

/// `profile.receipt_delay`: the receipt came within the requirement's `max_delay_s` of the
/// manifest's creation.
pub fn receipt_delay(
    r: &Requirement,
    created_at: &Timestamp,
    received_at: &Timestamp,
) -> Result<String, String> {
    let max_s = i64::from(r.max_delay_s.unwrap_or(0));
    let delay_ms = received_at.unix_ms().saturating_sub(created_at.unix_ms());
    if delay_ms <= max_s.saturating_mul(1000) {
        Ok(format!("receipted {} s after capture", delay_ms / 1000))
    } else {
        Err(format!(
            "receipted {} s after capture, more than {max_s} s",
            delay_ms / 1000
        ))
    }
}

/// Why a procedure is refused, at capture or at the notary's intake.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("refused by rule {rule}: {message}")]
pub struct ProcedureViolation {
    /// A stable code: `unknown_profile`, `profile_mismatch`, `profile_outcomes`,
    /// `profile_requirement_not_met` or `profile_reason_required`.
    pub code: &'static str,
    /// The rule of the catalogue that refuses it.
    pub rule: &'static str,
    /// JSON pointer of the value at fault, from the proof's root.
    pub pointer: String,
    /// What is wrong and what to do.
    pub message: String,
}

fn capture_requirements(p: &Profile) -> impl Iterator<Item = (usize, &Requirement, RuleKind)> {
    p.requirements
        .iter()
        .enumerate()
        .filter_map(|(i, r)| RuleKind::from_id(&r.rule).map(|k| (i, r, k)))
        .filter(|(_, _, k)| k.at_capture())
}

fn usable_reason(reason: Option<&str>) -> Option<String> {
    let r = reason?.trim();
    (!r.is_empty() && r.chars().count() <= REASON_MAX_CHARS).then(|| r.to_owned())
}

/// At capture: the outcome of each capture-time requirement of `profile` on `facts`. A `must`
/// that does not hold refuses; a `should` that does not hold needs a reason in `reason_for`
/// (by rule id), recorded.
pub fn assess<'r>(
    profile: &LoadedProfile,
    facts: &Facts<'_>,
    reason_for: impl Fn(&str) -> Option<&'r str>,
) -> Result<Procedure, ProcedureViolation> {
    let mut outcomes = Vec::new();
    for (i, r, kind) in capture_requirements(&profile.profile) {
        let pointer = format!("/manifest/procedure/outcomes/{}", outcomes.len());
        let outcome = match evaluate(r, facts) {
            Ok(_) => Outcome {
                rule: r.rule.clone(),
                met: true,
                reason: None,
            },
            Err(why) if r.severity == Severity::Must => {
                return Err(ProcedureViolation {
                    code: "profile_requirement_not_met",
                    rule: kind.id(),
                    pointer: format!("/requirements/{i}"),
                    message: format!(
                        "{} requires: {} ({}); {why}",
                        profile.profile.id, r.title_en, r.title_zh
                    ),
                });
            }
            Err(why) => match usable_reason(reason_for(&r.rule)) {
                Some(reason) => Outcome {
                    rule: r.rule.clone(),
                    met: false,
                    reason: Some(reason),
                },
                None => {
                    return Err(ProcedureViolation {
                        code: "profile_reason_required",
                        rule: kind.id(),
                        pointer,
                        message: format!(
                            "{} asks: {} ({}); {why}. Give the reason it cannot be met (1 to {REASON_MAX_CHARS} characters)",
                            profile.profile.id, r.title_en, r.title_zh
                        ),
                    });
                }
            },
        };
        outcomes.push(outcome);
    }
    Ok(Procedure {
        profile: profile.reference(),
        outcomes,
    })
}

/// One finding of [`review`]: a catalogue rule, the code intake refuses with, where, and the
/// outcome.
#[derive(Debug, Clone)]
pub(crate) struct Reviewed {
    pub rule: &'static str,
    pub code: &'static str,
    pub pointer: String,
    pub outcome: Result<String, String>,
}

/// Every check of a recorded procedure against the built-in catalogue and the manifest:
/// `profile.named`, `profile.outcomes`, then each recorded outcome's rule. Empty when the
/// manifest names no profile. Stops after `profile.named` or `profile.outcomes` fails.
pub(crate) fn review(p: &Proof) -> (Option<LoadedProfile>, Vec<Reviewed>) {
    let m = &p.manifest;
    let mut out = Vec::new();
    let Some(proc) = &m.procedure else {
        return (None, out);
    };
    let named = |code, pointer: &str, outcome| Reviewed {
        rule: "profile.named",
        code,
        pointer: pointer.to_owned(),
        outcome,
    };
    let Some(loaded) = find_version(&proc.profile.id, proc.profile.version) else {
        out.push(named(
            "unknown_profile",
            "/manifest/procedure/profile/id",
            Err(format!(
                "profile {:?} version {} is not one this verifier knows",
                proc.profile.id, proc.profile.version
            )),
        ));
        return (None, out);
    };
    if loaded.sm3 != proc.profile.sm3 {
        out.push(named(
            "profile_mismatch",
            "/manifest/procedure/profile/sm3",
            Err(format!(
                "the manifest names profile {} v{} with SM3 {}, but that profile's SM3 is {}",
                proc.profile.id, proc.profile.version, proc.profile.sm3, loaded.sm3
            )),
        ));
        return (Some(loaded), out);
    }
    out.push(named(
        "profile_mismatch",
        "/manifest/procedure/profile",
        Ok(format!(
            "{} v{} ({})",
            loaded.profile.id, loaded.profile.version, loaded.profile.title_en
        )),
    ));
    let wanted: Vec<_> = capture_requirements(&loaded.profile).collect();
    let outcomes = |pointer: String, outcome| Reviewed {
        rule: "profile.outcomes",
        code: "profile_outcomes",
        pointer,
        outcome,
    };
    let listed: Vec<&str> = proc.outcomes.iter().map(|o| o.rule.as_str()).collect();
    let expected: Vec<&str> = wanted.iter().map(|(_, r, _)| r.rule.as_str()).collect();
    if listed != expected {
        out.push(outcomes(
            "/manifest/procedure/outcomes".into(),
            Err(format!(
                "the outcomes list [{}], but the profile's capture-time requirements are [{}]",
                listed.join(", "),
                expected.join(", ")
            )),
        ));
        return (Some(loaded), out);
    }
    for (i, (o, (_, r, _))) in proc.outcomes.iter().zip(&wanted).enumerate() {
        let at = format!("/manifest/procedure/outcomes/{i}");
        let bad = match (o.met, o.reason.as_deref(), r.severity) {
            (true, Some(_), _) => Some("a met requirement carries no reason"),
            (false, _, Severity::Must) => Some("a must cannot be recorded as not met"),
            (false, reason, Severity::Should)
                if reason.is_none() || usable_reason(reason).as_deref() != reason =>
            {
                Some("a should not met needs a reason of 1 to 500 characters, not blank")
            }
            _ => None,
        };
        if let Some(bad) = bad {
            out.push(outcomes(at, Err(format!("{}: {bad}", o.rule))));
            return (Some(loaded), out);
        }
    }
    out.push(outcomes(
        "/manifest/procedure/outcomes".into(),
        Ok(format!(
            "{} outcome(s), {} should(s) not met with a reason",
            proc.outcomes.len(),
            proc.outcomes.iter().filter(|o| !o.met).count()
        )),
    ));
    let facts = Facts::of_proof(p);
    for (i, (o, (_, r, kind))) in proc.outcomes.iter().zip(&wanted).enumerate() {
        let outcome = if o.met {
            evaluate(r, &facts).map_err(|why| format!("recorded as met, but {why}"))
        } else {
            Ok(format!(
                "not met ({:?}), accepted with the reason: {}",
                r.severity,
                o.reason.as_deref().unwrap_or_default()
            ))
        };
        out.push(Reviewed {
            rule: kind.id(),
            code: "profile_requirement_not_met",
            pointer: format!("/manifest/procedure/outcomes/{i}"),
            outcome,
        });
    }
    (Some(loaded), out)
}

/// The notary's intake: a proof whose manifest names a profile names one of the catalogue,
/// with its SM3, records every capture-time requirement's outcome in order, and every outcome
/// recorded as met holds. The first failure is returned.
pub fn check_procedure(p: &Proof) -> Result<(), ProcedureViolation> {
    let (_, reviewed) = review(p);
    match reviewed.into_iter().find(|r| r.outcome.is_err()) {
        Some(r) => Err(ProcedureViolation {
            code: r.code,
            rule: r.rule,
            pointer: r.pointer,
            message: r.outcome.err().unwrap_or_default(),
        }),
        None => Ok(()),
    }
}
