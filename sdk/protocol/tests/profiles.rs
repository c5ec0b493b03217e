//! The forensic profiles of `schemas/profiles/`: every file is a valid profile that the
//! catalogue ships and the schema accepts; malformed profiles are refused naming the member at
//! fault; each requirement decides exactly what VERIFYING.md §4.4.1 says, and `assess` refuses
//! a `must`, asks a reason for a `should`, and records what it decided.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use serde_json::{Value, json};
use tiezheng_protocol::manifest::{
    CaseRecord, Decimal, LocationFix, LocationProvider, Origin, PartyRecord, TimeSync,
};
use tiezheng_protocol::profile::{
    self, Facts, ItemFacts, Profile, ProfileError, Requirement, RuleKind, Severity, check_procedure,
};
use tiezheng_protocol::{Hash32, Timestamp, canonical};

fn repo_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn every_profile_file_is_shipped_valid_and_matches_the_schema() {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("schemas/profile.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    let dir = repo_root().join("schemas/profiles");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    on_disk.sort();
    let mut shipped: Vec<String> = profile::builtin_files()
        .iter()
        .map(|(n, _)| (*n).to_owned())
        .collect();
    shipped.sort();
    assert_eq!(
        on_disk, shipped,
        "every file in schemas/profiles is built in"
    );
    for (name, text) in profile::builtin_files() {
        let loaded = Profile::parse(text.as_bytes()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(format!("{}.json", loaded.profile.id), *name);
        let value: Value = serde_json::from_str(text).unwrap();
        validator
            .validate(&value)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            loaded.sm3,
            Hash32::sm3(&canonical::canonicalize(&value).unwrap()),
            "{name}: the SM3 is of the RFC 8785 bytes"
        );
    }
    let ids: Vec<String> = profile::builtin()
        .into_iter()
        .map(|p| p.profile.id)
        .collect();
    for id in [
        "basic",
        "cn.mps.criminal-electronic-data.2019",
        "cn.admin-penalty.onsite.2021",
        "cn.online-litigation.2021",
    ] {
        assert!(ids.iter().any(|i| i == id), "{id} is shipped");
    }
}

fn admin() -> Value {
    serde_json::from_str(
        profile::builtin_files()
            .iter()
            .find(|(n, _)| n.starts_with("cn.admin-penalty"))
            .unwrap()
            .1,
    )
    .unwrap()
}

fn refused(v: &Value) -> ProfileError {
    Profile::parse(&serde_json::to_vec(v).unwrap()).unwrap_err()
}

fn pointer(e: &ProfileError) -> &str {
    match e {
        ProfileError::Shape { pointer, .. } | ProfileError::Invalid { pointer, .. } => pointer,
        other => panic!("not a shape error: {other}"),
    }
}

#[test]
fn malformed_profiles_are_refused_naming_the_member() {
    type Edit = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Edit, &str)> = vec![
        (
            "unknown member",
            Box::new(|v| v["extra"] = json!(1)),
            "/extra",
        ),
        (
            "missing title",
            Box::new(|v| {
                v.as_object_mut().unwrap().remove("title_en");
            }),
            "/title_en",
        ),
        (
            "another type",
            Box::new(|v| v["type"] = json!("tiezheng.profile.v2")),
            "/type",
        ),
        (
            "upper-case id",
            Box::new(|v| v["id"] = json!("CN.Admin")),
            "/id",
        ),
        (
            "version 0",
            Box::new(|v| v["version"] = json!(0)),
            "/version",
        ),
        (
            "unknown rule",
            Box::new(|v| v["requirements"][0]["rule"] = json!("profile.telepathy")),
            "/requirements/0/rule",
        ),
        (
            "unknown severity",
            Box::new(|v| v["requirements"][0]["severity"] = json!("may")),
            "/requirements/0/severity",
        ),
        (
            "a rule twice",
            Box::new(|v| {
                let first = v["requirements"][0].clone();
                v["requirements"].as_array_mut().unwrap().push(first);
            }),
            "/requirements/9/rule",
        ),
        (
            "a missing parameter",
            Box::new(|v| {
                v["requirements"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("min_collectors");
            }),
            "/requirements/0",
        ),
        (
            "a parameter of another rule",
            Box::new(|v| v["requirements"][0]["max_skew_s"] = json!(5)),
            "/requirements/0",
        ),
        (
            "a zero threshold",
            Box::new(|v| v["requirements"][0]["min_collectors"] = json!(0)),
            "/requirements/0",
        ),
        (
            "a blank checklist line",
            Box::new(|v| v["requirements"][0]["title_zh"] = json!(" ")),
            "/requirements/0",
        ),
    ];
    for (name, edit, at) in cases {
        let mut v = admin();
        edit(&mut v);
        let e = refused(&v);
        assert_eq!(pointer(&e), at, "{name}: {e}");
    }
    assert!(matches!(
        Profile::parse(br#"{"type":"tiezheng.profile.v1","type":"x"}"#),
        Err(ProfileError::Json(_))
    ));
    assert!(matches!(
        profile::find("cn.nowhere"),
        Err(ProfileError::Unknown(_))
    ));
}

fn ts(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

fn case(collectors: &[&str]) -> CaseRecord {
    CaseRecord {
        reference: "case".into(),
        cause: Some("占道经营".into()),
        object: Some("摊位".into()),
        description: None,
        method: "on-site capture".into(),
        collectors: collectors.iter().map(|c| (*c).to_owned()).collect(),
        holder: Some(PartyRecord {
            name: None,
            note: Some("refused to sign".into()),
        }),
        witness: None,
    }
}

fn fix(accuracy: &str, mock: bool) -> LocationFix {
    LocationFix {
        latitude: Decimal::parse("31.2304").unwrap(),
        longitude: Decimal::parse("121.4737").unwrap(),
        altitude: None,
        horizontal_accuracy: Some(Decimal::parse(accuracy).unwrap()),
        vertical_accuracy: None,
        provider: LocationProvider::Gps,
        fix_time: None,
        satellites: None,
        mock,
    }
}

#[test]
fn each_requirement_decides_what_the_specification_says() {
    let device_time = ts("2026-11-21T09:30:00.000+08:00");
    let good_fix = fix("12.5", false);
    let sync = TimeSync {
        at: ts("2026-11-21T09:00:00.000+08:00"),
        source: "ntp:ntp.ntsc.ac.cn".into(),
        offset_ms: -300_000,
    };
    let gnss = ts("2026-11-21T01:30:04.000Z");
    let c2 = case(&["a", "b"]);
    let item = |origin, os_fix, gnss_time, last_time_sync| ItemFacts {
        origin,
        os_fix,
        device_time: &device_time,
        gnss_time,
        last_time_sync,
    };
    let facts = |case, items| Facts {
        case,
        items,
        signers: Vec::new(),
        record: None,
    };
    let req = |v: Value| -> Requirement {
        let mut base = json!({"severity": "must", "title_zh": "要求", "title_en": "requirement"});
        base.as_object_mut()
            .unwrap()
            .extend(v.as_object().unwrap().clone());
        serde_json::from_value(base).unwrap()
    };
    let holds = |r: &_, f: &Facts<'_>| profile::evaluate(r, f).is_ok();
    let collectors = req(json!({"rule": "profile.collectors", "min_collectors": 2}));
    assert!(holds(&collectors, &facts(&c2, vec![])));
    let same_twice = case(&["a", " a ", ""]);
    assert!(!holds(&collectors, &facts(&same_twice, vec![])));
    let holder = req(json!({"rule": "profile.holder"}));
    let witness = req(json!({"rule": "profile.witness"}));
    assert!(holds(&holder, &facts(&c2, vec![])), "a note is enough");
    assert!(!holds(&witness, &facts(&c2, vec![])));
    let fields = req(json!({"rule": "profile.fields", "fields": ["cause", "description"]}));
    assert!(!holds(&fields, &facts(&c2, vec![])), "no description");
    let location = req(json!({"rule": "profile.location", "max_accuracy_m": 50}));
    let wide = fix("50.1", false);
    let mock = fix("5", true);
    let one = |f| vec![item(Origin::Captured, f, None, None)];
    assert!(holds(&location, &facts(&c2, one(Some(&good_fix)))));
    assert!(!holds(&location, &facts(&c2, one(Some(&wide)))));
    assert!(!holds(&location, &facts(&c2, one(Some(&mock)))));
    assert!(!holds(&location, &facts(&c2, one(None))));
    assert!(holds(&location, &facts(&c2, vec![])), "session summary");
    let clock = req(json!({"rule": "profile.clock", "max_skew_s": 300}));
    let tight = req(json!({"rule": "profile.clock", "max_skew_s": 3}));
    let synced = vec![item(Origin::Captured, None, None, Some(&sync))];
    assert!(
        holds(&clock, &facts(&c2, synced.clone())),
        "|−300 s| ≤ 300 s"
    );
    assert!(!holds(&tight, &facts(&c2, synced)));
    let by_gnss = vec![item(Origin::Captured, None, Some(&gnss), None)];
    assert!(holds(&clock, &facts(&c2, by_gnss.clone())), "4 s off");
    assert!(!holds(&tight, &facts(&c2, by_gnss)));
    let origin = req(json!({"rule": "profile.origin"}));
    assert!(!holds(
        &origin,
        &facts(&c2, vec![item(Origin::Imported, None, None, None)])
    ));
    let delay = req(json!({"rule": "profile.receipt_delay", "max_delay_s": 60}));
    assert!(profile::receipt_delay(&delay, &device_time, &ts("2026-11-21T01:31:00.000Z")).is_ok());
    assert!(profile::receipt_delay(&delay, &device_time, &ts("2026-11-21T01:31:00.001Z")).is_err());
    assert!(!RuleKind::ReceiptDelay.at_capture());
}

#[test]
fn assess_refuses_a_must_asks_a_reason_for_a_should_and_records_both() {
    let criminal = profile::find("cn.mps.criminal-electronic-data.2019").unwrap();
    let device_time = ts("2026-11-21T09:30:00.000+08:00");
    let one_officer = case(&["310101"]);
    let item = ItemFacts {
        origin: Origin::Imported,
        os_fix: None,
        device_time: &device_time,
        gnss_time: None,
        last_time_sync: None,
    };
    let facts = Facts {
        case: &one_officer,
        items: vec![item.clone()],
        signers: vec!["310101"],
        record: None,
    };
    let e = profile::assess(&criminal, &facts, |_| None).unwrap_err();
    assert_eq!(
        (e.code, e.rule),
        ("profile_requirement_not_met", "profile.collectors")
    );
    let mut two = case(&["310101", "310102"]);
    two.witness = Some(PartyRecord {
        name: Some("李某".into()),
        note: None,
    });
    let unsigned = Facts {
        case: &two,
        items: vec![item.clone()],
        signers: vec!["310101"],
        record: None,
    };
    let e = profile::assess(&criminal, &unsigned, |_| None).unwrap_err();
    assert_eq!(
        (e.code, e.rule),
        ("profile_requirement_not_met", "profile.signatures")
    );
    assert!(e.message.contains("310102"), "{}", e.message);
    let facts = Facts {
        case: &two,
        items: vec![item],
        signers: vec!["310101", "310102"],
        record: None,
    };
    let e = profile::assess(&criminal, &facts, |_| None).unwrap_err();
    assert_eq!(
        (e.code, e.rule),
        ("profile_reason_required", "profile.location")
    );
    let blank = profile::assess(&criminal, &facts, |_| Some("   ")).unwrap_err();
    assert_eq!(blank.code, "profile_reason_required");
    let p = profile::assess(&criminal, &facts, |rule| match rule {
        "profile.location" => Some("basement, no fix"),
        "profile.clock" => Some(" offline "),
        _ => None,
    })
    .unwrap();
    assert_eq!(p.profile, criminal.reference());
    let rules: Vec<(&str, bool, Option<&str>)> = p
        .outcomes
        .iter()
        .map(|o| (o.rule.as_str(), o.met, o.reason.as_deref()))
        .collect();
    assert_eq!(
        rules,
        [
            ("profile.collectors", true, None),
            ("profile.signatures", true, None),
            ("profile.holder", true, None),
            ("profile.witness", true, None),
            ("profile.fields", true, None),
            ("profile.location", false, Some("basement, no fix")),
            ("profile.clock", false, Some("offline")),
        ]
    );
    let musts = criminal
        .profile
        .requirements
        .iter()
        .filter(|r| r.severity == Severity::Must)
        .count();
    assert_eq!(musts, 5);
}

#[test]
fn intake_refuses_a_recorded_procedure_that_does_not_hold() {
    let key = tiezheng_protocol::Sm2SigningKey::generate();
    let example: Value = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("schemas/examples/manifest.json")).unwrap(),
    )
    .unwrap();
    let mut m: tiezheng_protocol::Manifest = serde_json::from_value(example).unwrap();
    m.device.key_id = key.public_key().key_id();
    let proof_of =
        |m: &tiezheng_protocol::Manifest| tiezheng_protocol::Proof::sign(m.clone(), &key).unwrap();
    m.procedure = None;
    assert!(
        check_procedure(&proof_of(&m)).is_ok(),
        "no procedure: no claim"
    );
    let basic = profile::find("basic").unwrap();
    m.procedure = Some(profile::assess(&basic, &Facts::of(&m), |_| None).unwrap());
    assert!(check_procedure(&proof_of(&m)).is_ok());
    let mut forged = m.clone();
    forged.procedure.as_mut().unwrap().profile.sm3 = Hash32::sm3(b"x");
    assert_eq!(
        check_procedure(&proof_of(&forged)).unwrap_err().code,
        "profile_mismatch"
    );
    let mut forged = m.clone();
    forged.procedure.as_mut().unwrap().profile.id = "cn.nowhere".into();
    let e = check_procedure(&proof_of(&forged)).unwrap_err();
    assert_eq!(
        (e.code, e.pointer.as_str()),
        ("unknown_profile", "/manifest/procedure/profile/id")
    );
    // The example claims the administrative profile, every requirement met: without the two
    // officers' own signatures, profile.signatures does not hold.
    let mut admin = m.clone();
    admin.procedure = serde_json::from_value(
        serde_json::from_str::<Value>(
            &std::fs::read_to_string(repo_root().join("schemas/examples/manifest.json")).unwrap(),
        )
        .unwrap()["procedure"]
            .clone(),
    )
    .unwrap();
    let e = check_procedure(&proof_of(&admin)).unwrap_err();
    assert_eq!(
        (e.code, e.rule),
        ("profile_requirement_not_met", "profile.signatures")
    );
}
