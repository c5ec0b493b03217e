//! Forensic profiles through the command line: `tiezheng profiles` lists what the verifier
//! ships; `capture --profile` (or the device's default from `device init --profile`) refuses a
//! capture whose `must` does not hold, naming the `profile.` rule, and queues nothing; a
//! `should` that does not hold needs `--reason`, recorded in the signed manifest; and the proof
//! the notary receives names the profile, with every outcome.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{corpus_path, tiezheng};
use serde_json::Value;
use tiezheng_protocol::{Proof, canonical, profile};

const PIN: &str = "135790";
const ADMIN: &str = "cn.admin-penalty.onsite.2021";
const CRIMINAL: &str = "cn.mps.criminal-electronic-data.2019";

fn cmd(dir: &Path, args: &[&str]) -> Command {
    let mut c = tiezheng();
    c.args(args)
        .arg("--dir")
        .arg(dir)
        .env("TIEZHENG_PIN", PIN)
        // Each officer's own PIN, unlocking the officer's key at capture.
        .env("TIEZHENG_OFFICER_PIN_310101", "pin-310101")
        .env("TIEZHENG_OFFICER_PIN_310102", "pin-310102");
    c
}

/// Registers officer `id`'s own key on the device.
fn add_officer(dir: &Path, id: &str) {
    let out = cmd(
        dir,
        &[
            "officer",
            "add",
            "--id",
            id,
            "--name",
            "王强",
            "--badge",
            "沪执0001",
            "--unit",
            "浦东新区城管执法局",
            "--danger-kdf-iterations",
            "100",
        ],
    )
    .env("TIEZHENG_OFFICER_PIN", format!("pin-{id}"))
    .output()
    .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}

/// A device of `officers`, each with a key of their own.
fn init(dir: &Path, officers: &[&str], extra: &[&str]) -> Output {
    let mut args = vec!["device", "init", "--danger-kdf-iterations", "1000"];
    for o in officers {
        args.extend(["--officer", o]);
    }
    args.extend(extra);
    let out = cmd(dir, &args).output().unwrap();
    if out.status.success() {
        for o in officers {
            add_officer(dir, o);
        }
    }
    out
}

fn capture(dir: &Path, extra: &[&str]) -> Output {
    let path = corpus_path("photos/DSCN0010.jpg");
    let mut args = vec![
        "capture",
        path.to_str().unwrap(),
        "--case",
        "沪浦-2026-0007",
        "--cause",
        "占道经营",
    ];
    args.extend(extra);
    cmd(dir, &args).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn queued(dir: &Path) -> usize {
    std::fs::read_dir(dir.join("queue/pending")).map_or(0, |d| d.count())
}

fn proof_of(o: &Output) -> Proof {
    assert!(o.status.success(), "{}", stderr(o));
    Proof::verify_bytes(&o.stdout).unwrap().proof
}

#[test]
fn profiles_lists_every_shipped_profile_with_its_sm3() {
    let out = tiezheng().arg("profiles").output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ids: Vec<&str> = lines.iter().map(|l| l["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["basic", CRIMINAL, ADMIN, "cn.online-litigation.2021"]);
    for l in &lines {
        let keys: Vec<&str> = l.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["id", "sm3", "title_en", "title_zh", "version"]);
        let file = common::repo_root().join(format!(
            "schemas/profiles/{}.json",
            l["id"].as_str().unwrap()
        ));
        let value: Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
        let sm3 = tiezheng_protocol::Hash32::sm3(&canonical::canonicalize(&value).unwrap());
        assert_eq!(l["sm3"], sm3.to_hex(), "the SM3 of the canonical profile");
    }
    let one = tiezheng().args(["profiles", ADMIN]).output().unwrap();
    let whole: Value = serde_json::from_slice(&one.stdout).unwrap();
    assert_eq!(whole["requirements"][0]["rule"], "profile.collectors");
    let unknown = tiezheng()
        .args(["profiles", "cn.nowhere"])
        .output()
        .unwrap();
    assert!(!unknown.status.success());
    assert!(stderr(&unknown).contains("unknown forensic profile \"cn.nowhere\""));
}

#[test]
fn one_officer_under_a_two_officer_profile_is_refused_and_nothing_is_queued() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = init(d, &["310101"], &["--profile", ADMIN]);
    assert!(out.status.success(), "{}", stderr(&out));
    let show: Value =
        serde_json::from_slice(&cmd(d, &["device", "show"]).output().unwrap().stdout).unwrap();
    assert_eq!(show["profile"], ADMIN);
    let refused = capture(d, &[]);
    assert_eq!(refused.status.code(), Some(1));
    let e = stderr(&refused);
    assert!(e.contains("profile.collectors"), "{e}");
    assert!(e.contains("at least 2 distinct collectors"), "{e}");
    assert_eq!(queued(d), 0, "nothing queued");
    assert_eq!(
        std::fs::read_dir(d.join("media")).map_or(0, |m| m.count()),
        0,
        "nothing stored"
    );
    // A second collector named for this capture, without a key of their own on the device:
    // one device key does not stand in for two officers.
    let unsigned = capture(d, &["--collector", "310101", "--collector", "310102"]);
    assert!(!unsigned.status.success());
    let e = stderr(&unsigned);
    assert!(e.contains("profile.signatures"), "{e}");
    assert!(e.contains("310102 did not sign"), "{e}");
    assert_eq!(queued(d), 0, "nothing queued");
    // The second officer registers a key and signs; the shoulds of the profile then ask for
    // reasons.
    add_officer(d, "310102");
    let no_reason = capture(d, &["--collector", "310101", "--collector", "310102"]);
    assert!(!no_reason.status.success());
    assert!(
        stderr(&no_reason).contains("profile.holder"),
        "{}",
        stderr(&no_reason)
    );
    let p = proof_of(&capture(
        d,
        &[
            "--collector",
            "310101",
            "--collector",
            "310102",
            "--holder",
            "张某",
            "--witness-note",
            "no bystander would act as witness",
            "--reason",
            "profile.location=indoor market hall, no satellite fix",
            "--reason",
            "profile.clock=no network for a time synchronisation",
        ],
    ));
    let proc = p.manifest.procedure.unwrap();
    let admin = profile::find(ADMIN).unwrap();
    assert_eq!(proc.profile, admin.reference());
    let outcomes: Vec<(&str, bool)> = proc
        .outcomes
        .iter()
        .map(|o| (o.rule.as_str(), o.met))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("profile.collectors", true),
            ("profile.signatures", true),
            ("profile.fields", true),
            ("profile.origin", true),
            ("profile.holder", true),
            ("profile.witness", true),
            ("profile.location", false),
            ("profile.clock", false),
        ]
    );
    let signers: Vec<&str> = p
        .officer_signatures
        .iter()
        .map(|s| s.officer_id.as_str())
        .collect();
    assert_eq!(signers, ["310101", "310102"], "both officers signed");
    assert_eq!(
        proc.outcomes[6].reason.as_deref(),
        Some("indoor market hall, no satellite fix")
    );
    assert_eq!(queued(d), 1);
}

#[test]
fn each_must_refuses_and_each_should_is_recorded_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert!(init(d, &["310101", "310102"], &[]).status.success());
    // The device's default is basic: no requirement, and the manifest says so.
    let basic = proof_of(&capture(d, &[]));
    assert_eq!(basic.manifest.procedure.unwrap().profile.id, "basic");
    let criminal = ["--profile", CRIMINAL];
    let full = [
        "--object",
        "摊位",
        "--holder",
        "张某",
        "--witness",
        "李某",
        "--reason",
        "profile.location=basement",
        "--reason",
        "profile.clock=offline",
    ];
    // Each must of the criminal profile, broken alone.
    let cases: [(&[&str], &str); 3] = [
        (&["--holder", "张某", "--witness", "李某"], "profile.fields"),
        (&["--object", "摊位", "--witness", "李某"], "profile.holder"),
        (&["--object", "摊位", "--holder", "张某"], "profile.witness"),
    ];
    for (args, rule) in cases {
        let mut a = criminal.to_vec();
        a.extend(args);
        a.extend([
            "--reason",
            "profile.location=basement",
            "--reason",
            "profile.clock=offline",
        ]);
        let out = capture(d, &a);
        assert!(!out.status.success(), "{rule}");
        assert!(stderr(&out).contains(rule), "{rule}: {}", stderr(&out));
    }
    let one = {
        let mut a = criminal.to_vec();
        a.extend(full);
        a.extend(["--collector", "310101"]);
        capture(d, &a)
    };
    assert!(
        stderr(&one).contains("profile.collectors"),
        "{}",
        stderr(&one)
    );
    // Imports are refused under the administrative profile (captured on site, a must).
    let photo = corpus_path("photos/DSCN0010.jpg");
    let import = cmd(
        d,
        &[
            "capture",
            photo.to_str().unwrap(),
            "--import",
            "--case",
            "c",
            "--cause",
            "x",
            "--profile",
            ADMIN,
        ],
    )
    .output()
    .unwrap();
    assert!(
        stderr(&import).contains("profile.origin"),
        "{}",
        stderr(&import)
    );
    // Every should: refused without its reason, recorded with it.
    let mut a = criminal.to_vec();
    a.extend(&full[..6]);
    let out = capture(d, &a);
    assert!(
        stderr(&out).contains("profile.location"),
        "{}",
        stderr(&out)
    );
    a.extend(["--reason", "profile.location=basement"]);
    let out = capture(d, &a);
    assert!(stderr(&out).contains("profile.clock"), "{}", stderr(&out));
    let mut a = criminal.to_vec();
    a.extend(full);
    let p = proof_of(&capture(d, &a));
    let reasons: Vec<Option<&str>> = p
        .manifest
        .procedure
        .as_ref()
        .unwrap()
        .outcomes
        .iter()
        .map(|o| o.reason.as_deref())
        .collect();
    assert_eq!(
        reasons,
        [
            None,
            None,
            None,
            None,
            None,
            Some("basement"),
            Some("offline")
        ]
    );
    // A good fix and a synchronised clock meet both shoulds: no reason needed or recorded.
    let mut a = criminal.to_vec();
    a.extend(&full[..6]);
    a.extend([
        "--lat",
        "31.2304",
        "--lon",
        "121.4737",
        "--accuracy",
        "8",
        "--time-sync-source",
        "ntp:ntp.ntsc.ac.cn",
        "--time-sync-at",
        "2026-11-21T09:00:00+08:00",
        "--time-sync-offset-ms",
        "-40",
    ]);
    let p = proof_of(&capture(d, &a));
    assert!(
        p.manifest.procedure.unwrap().outcomes.iter().all(|o| o.met),
        "every requirement met"
    );
}

#[test]
fn bad_profile_input_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = init(d, &["310101"], &["--profile", "cn.nowhere"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("unknown forensic profile \"cn.nowhere\""),
        "{}",
        stderr(&out)
    );
    assert!(!d.join("device.json").exists(), "no device made");
    assert!(init(d, &["310101"], &[]).status.success());
    let out = capture(d, &["--profile", "cn.nowhere"]);
    assert!(
        stderr(&out).contains("tiezheng profiles"),
        "{}",
        stderr(&out)
    );
    let out = capture(d, &["--reason", "no equals sign"]);
    assert!(stderr(&out).contains("RULE=TEXT"), "{}", stderr(&out));
    assert_eq!(queued(d), 0);
}

#[test]
fn closing_a_session_with_its_record_inventories_every_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert!(init(d, &["310101", "310102"], &[]).status.success());
    proof_of(&capture(d, &[]));
    let close = |extra: &[&str]| {
        let mut args = vec![
            "session",
            "close",
            "--case",
            "沪浦-2026-0007",
            "--place",
            "浦东新区某菜市场",
            "--process",
            "two officers photographed the stall",
            "--original-medium",
            "the capturing phone",
            "--not-seized-reason",
            "the phone stays in service",
            "--holder-refusal",
            "refused to sign",
        ];
        args.extend(extra);
        cmd(d, &args).output().unwrap()
    };
    // A signature that is not an image is refused before anything is signed.
    let not_image = d.join("signature.txt");
    std::fs::write(&not_image, "my signature").unwrap();
    let before = queued(d);
    let refused = close(&["--witness-signature", not_image.to_str().unwrap()]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("witness's signature must be a PNG or JPEG image"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(queued(d), before, "nothing queued");
    // The video of the whole collection must be a video of the session.
    let photo = close(&[
        "--witness-refusal",
        "no bystander",
        "--process-recording",
        "DSCN0010.jpg",
    ]);
    assert!(!photo.status.success());
    assert!(
        stderr(&photo).contains("\"DSCN0010.jpg\" is not a video"),
        "{}",
        stderr(&photo)
    );
    assert_eq!(queued(d), before, "nothing queued");
    let signature = corpus_path("photos/Canon_40D.jpg");
    let p = proof_of(&close(&[
        "--witness-signature",
        signature.to_str().unwrap(),
    ]));
    let summary = p.manifest.session_summary.unwrap();
    let record = summary.record.unwrap();
    assert_eq!(record.inventory.len(), 1);
    assert_eq!(record.inventory[0].file_name, "DSCN0010.jpg");
    assert_eq!(
        record.witness.signature_image_sm3,
        Some(tiezheng_protocol::Hash32::sm3(
            &std::fs::read(signature).unwrap()
        ))
    );
    assert_eq!(record.holder.refusal.as_deref(), Some("refused to sign"));
    let signers: Vec<&str> = p
        .officer_signatures
        .iter()
        .map(|s| s.officer_id.as_str())
        .collect();
    assert_eq!(
        signers,
        ["310101", "310102"],
        "both officers signed the record"
    );
}
