//! Every shipped forensic profile enforced at capture, requirement by requirement: from a
//! capture that meets all of a profile's requirements, each capture-time requirement is broken
//! alone. A `must` refuses the capture naming its rule, with nothing stored or queued; a
//! `should` is refused until a reason is given, then recorded with that reason, and the proof
//! passes the notary's intake check. Recordings are held to the profile when they start, and
//! recovering one after a crash never refuses it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::path::{Path, PathBuf};

use tiezheng_protocol::manifest::{
    CaseRecord, Decimal, LocationFix, LocationProvider, PartyRecord, TimeSync,
};
use tiezheng_protocol::officer::OfficerIdentity;
use tiezheng_protocol::profile::{self, CaseField, RuleKind, Severity};
use tiezheng_protocol::{Proof, Timestamp};
use tiezheng_sdk::capture::{CaptureContext, CaptureError, MonotonicClock, SegmentPolicy};
use tiezheng_sdk::device::{Device, DeviceSetup, UnlockedDevice};
use tiezheng_sdk::queue::Queue;
use tiezheng_sdk::vault::PassphraseVault;

fn corpus(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/corpus")
        .join(name)
}

fn device(dir: &Path, profile: Option<&str>) -> UnlockedDevice {
    let vault = PassphraseVault::new("1234").danger_with_iterations(10);
    let setup = DeviceSetup {
        profile: profile.map(str::to_owned),
        officers: vec!["010001".into(), "010002".into()],
        model: "test".into(),
        os: "linux".into(),
    };
    let device = Device::init(dir, setup, &vault).unwrap();
    // Each collector's own key, under the officer's own PIN, unlocked for the session.
    for (id, name) in [("010001", "王强"), ("010002", "李明")] {
        device
            .add_officer(
                OfficerIdentity {
                    officer_id: id.into(),
                    name: name.into(),
                    badge_number: format!("执{id}"),
                    unit: "unit".into(),
                },
                &PassphraseVault::new(format!("pin {id}")).danger_with_iterations(10),
            )
            .unwrap();
    }
    let unlocked = device.unlock(&vault).unwrap();
    for id in ["010001", "010002"] {
        unlocked
            .unlock_officer(
                id,
                &PassphraseVault::new(format!("pin {id}")).danger_with_iterations(10),
            )
            .unwrap();
    }
    unlocked
}

/// A capture that meets every requirement of every shipped profile.
fn complete(profile: &str) -> CaptureContext {
    let device_time = Timestamp::parse("2026-11-21T09:30:00.000+08:00").unwrap();
    CaptureContext {
        profile: Some(profile.to_owned()),
        reasons: Default::default(),
        case: CaseRecord {
            reference: "P-1".into(),
            cause: Some("占道经营".into()),
            object: Some("摊位".into()),
            description: Some("stall on the pavement".into()),
            method: "on-site capture".into(),
            collectors: vec!["010001".into(), "010002".into()],
            holder: Some(PartyRecord {
                name: Some("张某".into()),
                note: None,
            }),
            witness: Some(PartyRecord {
                name: Some("李某".into()),
                note: None,
            }),
        },
        device_time,
        monotonic_ms: Some(1),
        gnss_time: None,
        last_time_sync: Some(TimeSync {
            at: Timestamp::parse("2026-11-21T09:00:00.000+08:00").unwrap(),
            source: "ntp:ntp.ntsc.ac.cn".into(),
            offset_ms: 12,
        }),
        os_fix: Some(LocationFix {
            latitude: Decimal::parse("31.2304").unwrap(),
            longitude: Decimal::parse("121.4737").unwrap(),
            altitude: None,
            horizontal_accuracy: Some(Decimal::parse("3").unwrap()),
            vertical_accuracy: None,
            provider: LocationProvider::Gps,
            fix_time: None,
            satellites: Some(11),
            mock: false,
        }),
    }
}

/// `ctx` with requirement `rule` (of the profile) broken; `true` when the break is an import.
fn break_rule(ctx: &mut CaptureContext, r: &profile::Requirement) -> bool {
    match RuleKind::from_id(&r.rule).unwrap() {
        RuleKind::Collectors => {
            let min = r.min_collectors.unwrap() as usize;
            ctx.case.collectors = vec!["010001".into(); min - 1];
            ctx.case.collectors.push(" ".into());
        }
        // A collector with no key of their own on the device cannot sign.
        RuleKind::Signatures => ctx.case.collectors = vec!["010001".into(), "090001".into()],
        RuleKind::Holder => ctx.case.holder = None,
        RuleKind::Witness => ctx.case.witness = None,
        RuleKind::Fields => {
            for f in r.fields.as_deref().unwrap() {
                match f {
                    CaseField::Cause => ctx.case.cause = None,
                    CaseField::Object => ctx.case.object = None,
                    CaseField::Description => ctx.case.description = Some("  ".into()),
                }
            }
        }
        RuleKind::Location => ctx.os_fix.as_mut().unwrap().mock = true,
        RuleKind::Clock => ctx.last_time_sync.as_mut().unwrap().offset_ms = 3_600_000,
        RuleKind::Origin => return true,
        RuleKind::ReceiptDelay => unreachable!("not decided at capture"),
    }
    false
}

fn capture(d: &UnlockedDevice, ctx: &CaptureContext, import: bool) -> Result<Proof, CaptureError> {
    let photo = corpus("photos/DSCN0010.jpg");
    let outcome = if import {
        d.import_file(&photo, ctx)?
    } else {
        d.capture_photo("DSCN0010.jpg", &std::fs::read(&photo).unwrap(), ctx)?
    };
    Ok(outcome.proof)
}

/// Starts a recording, writes 20 000 bytes, and drops it as a killed process would.
fn cut_off_recording(d: &UnlockedDevice, name: &str, ctx: &CaptureContext) {
    let policy = SegmentPolicy {
        max_bytes: 4096,
        max_ms: 60_000,
    };
    let mut rec = d
        .start_recording(name, policy, ctx, Box::new(MonotonicClock::default()))
        .unwrap();
    rec.write(&std::fs::read(corpus("video/street_8s_720p.mp4")).unwrap()[..20_000])
        .unwrap();
    drop(rec);
}

fn stored(dir: &Path) -> (usize, usize) {
    let count = |p: &str| std::fs::read_dir(dir.join(p)).map_or(0, |d| d.count());
    (count("queue/pending"), count("media"))
}

#[test]
fn every_requirement_of_every_profile_is_enforced_at_capture() {
    let mut checked = 0;
    for loaded in profile::builtin() {
        let id = loaded.profile.id.clone();
        let tmp = tempfile::tempdir().unwrap();
        let d = device(tmp.path(), None);
        // Everything met: every outcome recorded as met, and the notary's check agrees.
        let p = capture(&d, &complete(&id), false).unwrap();
        let proc = p.manifest.procedure.as_ref().unwrap();
        assert_eq!(proc.profile, loaded.reference(), "{id}");
        assert!(proc.outcomes.iter().all(|o| o.met), "{id}");
        let signers: Vec<&str> = p
            .officer_signatures
            .iter()
            .map(|s| s.officer_id.as_str())
            .collect();
        assert_eq!(
            signers,
            ["010001", "010002"],
            "{id}: both collectors signed"
        );
        profile::check_procedure(&p).unwrap();
        for r in loaded
            .profile
            .requirements
            .iter()
            .filter(|r| RuleKind::from_id(&r.rule).unwrap().at_capture())
        {
            let what = format!("{id} {}", r.rule);
            let mut ctx = complete(&id);
            let import = break_rule(&mut ctx, r);
            let before = stored(tmp.path());
            let e = capture(&d, &ctx, import).unwrap_err();
            let CaptureError::Procedure(v) = &e else {
                panic!("{what}: {e}")
            };
            assert_eq!(v.rule, r.rule, "{what}");
            assert_eq!(
                stored(tmp.path()),
                before,
                "{what}: nothing stored or queued"
            );
            match r.severity {
                Severity::Must => {
                    assert_eq!(v.code, "profile_requirement_not_met", "{what}");
                    // A reason does not excuse a must.
                    ctx.reasons.insert(r.rule.clone(), "no time".into());
                    assert!(capture(&d, &ctx, import).is_err(), "{what}");
                }
                Severity::Should => {
                    assert_eq!(v.code, "profile_reason_required", "{what}");
                    ctx.reasons.insert(
                        r.rule.clone(),
                        "  the reason, as the officer gave it ".into(),
                    );
                    let p = capture(&d, &ctx, import).unwrap();
                    let o = p
                        .manifest
                        .procedure
                        .as_ref()
                        .unwrap()
                        .outcomes
                        .iter()
                        .find(|o| o.rule == r.rule)
                        .unwrap();
                    assert!(!o.met, "{what}");
                    assert_eq!(
                        o.reason.as_deref(),
                        Some("the reason, as the officer gave it"),
                        "{what}"
                    );
                    profile::check_procedure(&p).unwrap();
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 15, "only {checked} requirements checked");
}

#[test]
fn the_device_default_applies_recordings_are_held_at_start_and_recovery_never_refuses() {
    let tmp = tempfile::tempdir().unwrap();
    let admin = "cn.admin-penalty.onsite.2021";
    let d = device(tmp.path(), Some(admin));
    let mut ctx = complete(admin);
    ctx.profile = None;
    let p = capture(&d, &ctx, false).unwrap();
    assert_eq!(p.manifest.procedure.unwrap().profile.id, admin);
    // A recording under a profile it does not meet never starts.
    let mut one = ctx.clone();
    one.case.collectors.truncate(1);
    let policy = SegmentPolicy::default();
    let e = d
        .start_recording("v.mp4", policy, &one, Box::new(MonotonicClock::default()))
        .err()
        .unwrap();
    assert!(matches!(e, CaptureError::Procedure(ref v) if v.rule == "profile.collectors"));
    assert!(
        std::fs::read_dir(tmp.path().join("recordings")).map_or(0, |r| r.count()) == 0,
        "no journal"
    );
    // A recording that started under the profile and was cut off is recovered with the
    // procedure decided when it started.
    cut_off_recording(&d, "v.mp4", &ctx);
    let recovered = d.recover_recordings().unwrap();
    assert_eq!(recovered.len(), 1);
    let proc = recovered[0].proof.manifest.procedure.as_ref().unwrap();
    assert_eq!(proc.profile.id, admin);
    profile::check_procedure(&recovered[0].proof).unwrap();
    assert_eq!(Queue::open(tmp.path()).unwrap().entries().unwrap().len(), 2);
    // Cut off again, and recovered by a process in which the officers have not unlocked their
    // keys: the evidence is kept, without the procedural claim, and the finding says why.
    cut_off_recording(&d, "w.mp4", &ctx);
    let vault = PassphraseVault::new("1234").danger_with_iterations(10);
    let later = Device::open(tmp.path()).unwrap().unlock(&vault).unwrap();
    let recovered = later.recover_recordings().unwrap();
    let m = &recovered[0].proof.manifest;
    assert!(m.procedure.is_none());
    assert!(
        m.items[0]
            .findings
            .iter()
            .any(|f| f.code == "procedure_not_attested")
    );
    profile::check_procedure(&recovered[0].proof).unwrap();
    // An unknown profile, chosen per capture or as the device's default, is refused clearly.
    let mut unknown = ctx.clone();
    unknown.profile = Some("cn.nowhere".into());
    let e = capture(&d, &unknown, false).unwrap_err();
    assert!(e.to_string().contains("unknown forensic profile"), "{e}");
    let vault = PassphraseVault::new("1234").danger_with_iterations(10);
    let other = tmp.path().join("other");
    let setup = DeviceSetup {
        profile: Some("cn.nowhere".into()),
        officers: vec!["1".into()],
        model: "m".into(),
        os: "o".into(),
    };
    assert!(Device::init(&other, setup, &vault).is_err());
    assert!(!other.join("device.json").exists());
}
