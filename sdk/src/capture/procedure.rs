//! The forensic profile at capture: which profile a capture follows (the context's choice, else
//! the device's default, else `basic`) and the outcome of each of its requirements, decided
//! before anything is stored or signed: a `must` that does not hold refuses the capture, a
//! `should` that does not hold needs a reason from the app, recorded in the manifest.

use tiezheng_protocol::manifest::{CollectionRecord, EvidenceItem, Origin};
use tiezheng_protocol::profile::{self, BASIC_PROFILE, Facts, ItemFacts, LoadedProfile, Procedure};

use super::{CaptureContext, CaptureError};
use crate::device::UnlockedDevice;

impl UnlockedDevice {
    /// The profile a capture with `ctx` follows: `ctx.profile`, else the device's default, else
    /// `basic`.
    pub fn profile_for(&self, ctx: &CaptureContext) -> Result<LoadedProfile, CaptureError> {
        let id = ctx
            .profile
            .as_deref()
            .or(self.device.state().profile.as_deref())
            .unwrap_or(BASIC_PROFILE);
        Ok(profile::find(id)?)
    }

    /// Decides every capture-time requirement of the profile for a capture of one item of
    /// `origin` (or, with `None`, a session summary, with its collection `record` if any) with
    /// `ctx`.
    pub(super) fn assess(
        &self,
        ctx: &CaptureContext,
        origin: Option<Origin>,
        record: Option<&CollectionRecord>,
    ) -> Result<Procedure, CaptureError> {
        let loaded = self.profile_for(ctx)?;
        let cosigners = self.cosigners(&ctx.case.collectors);
        let facts = Facts {
            signers: cosigners.iter().map(|(id, _)| id.as_str()).collect(),
            record,
            case: &ctx.case,
            items: origin
                .map(|origin| ItemFacts {
                    origin,
                    os_fix: ctx.os_fix.as_ref(),
                    device_time: &ctx.device_time,
                    gnss_time: ctx.gnss_time.as_ref(),
                    last_time_sync: ctx.last_time_sync.as_ref(),
                })
                .into_iter()
                .collect(),
        };
        Ok(profile::assess(&loaded, &facts, |rule| {
            ctx.reasons.get(rule).map(String::as_str)
        })?)
    }

    /// Whether every requirement `procedure` records as met still holds for `item` sealed now
    /// (with the officers unlocked now): what recovery checks before it keeps the claim.
    pub(super) fn still_holds(
        &self,
        procedure: &Procedure,
        ctx: &CaptureContext,
        item: &EvidenceItem,
    ) -> bool {
        let Some(loaded) = profile::find_version(&procedure.profile.id, procedure.profile.version)
        else {
            return false;
        };
        let cosigners = self.cosigners(&ctx.case.collectors);
        let facts = Facts {
            case: &ctx.case,
            items: vec![ItemFacts {
                origin: item.origin,
                os_fix: item.location.as_ref().and_then(|l| l.os_fix.as_ref()),
                device_time: &item.times.device_time,
                gnss_time: item.times.gnss_time.as_ref(),
                last_time_sync: item.times.last_time_sync.as_ref(),
            }],
            signers: cosigners.iter().map(|(id, _)| id.as_str()).collect(),
            record: None,
        };
        procedure.outcomes.iter().filter(|o| o.met).all(|o| {
            loaded
                .profile
                .requirements
                .iter()
                .find(|r| r.rule == o.rule)
                .is_some_and(|r| profile::evaluate(r, &facts).is_ok())
        })
    }
}
