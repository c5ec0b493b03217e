//! Layer `profile`: the forensic profile a manifest names (one this verifier ships, with its
//! SM3), the outcomes it records (every capture-time requirement, in order; every `must` met;
//! every `should` not met with a reason), each outcome recorded as met re-checked on the
//! manifest, and the delay from capture to the notary's receipt.

use crate::manifest::Proof;
use crate::profile::{RuleKind, Severity, receipt_delay, review};
use crate::time::Timestamp;

use super::report::Report;

/// Records the `profile.*` rules for proof `p`, receipted at `received_at`.
pub(super) fn check(p: &Proof, received_at: &Timestamp, r: &mut Report) {
    let m = &p.manifest;
    let (loaded, reviewed) = review(p);
    if m.procedure.is_none() {
        r.skip(
            "profile.named",
            "the manifest names no forensic profile (it makes no procedural claim)",
        );
        return;
    }
    for c in reviewed {
        r.record(c.rule, c.outcome);
    }
    let Some(loaded) = loaded else { return };
    let Some(req) = loaded
        .profile
        .requirements
        .iter()
        .find(|q| q.rule == RuleKind::ReceiptDelay.id())
    else {
        return;
    };
    let outcome = match receipt_delay(req, &m.created_at, received_at) {
        Ok(d) => Ok(d),
        Err(why) if req.severity == Severity::Should => Ok(format!(
            "not met (should, recorded here rather than refused): {why}"
        )),
        Err(why) => Err(why),
    };
    r.record(RuleKind::ReceiptDelay.id(), outcome);
}
