//! `tiezheng inspect` over the whole corpus, compared with what ExifTool read
//! (`tests/corpus/expected.json`, plus `../shared/corpus` where it is): GPS within 1e-6°,
//! capture times, make and model, MIME types; and for the damaged files, either metadata or a
//! recorded "metadata unreadable".

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, missing_docs)]

mod common;

use common::{corpus_path, expected, json_lines, run};
use serde_json::Value;

/// ExifTool's `2008:10:22 16:28:39[Z|+02:00]` as `2008-10-22T16:28:39[Z|+02:00]`.
fn normalize(exiftool: &str) -> String {
    let (date, rest) = exiftool.split_at(10);
    format!("{}T{}", date.replace(':', "-"), &rest[1..])
}

fn inspect_all() -> Vec<(String, Value, Value)> {
    let expected = expected();
    let paths: Vec<String> = expected
        .keys()
        .map(|k| corpus_path(k).to_string_lossy().into_owned())
        .collect();
    let mut args = vec!["inspect"];
    args.extend(paths.iter().map(String::as_str));
    let out = run(&args);
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&out.stdout);
    assert_eq!(lines.len(), expected.len());
    expected
        .into_iter()
        .zip(lines)
        .map(|((name, want), got)| (name, want, got))
        .collect()
}

#[test]
fn hashes_and_types_match() {
    for (name, want, got) in inspect_all() {
        assert_eq!(got["bytes"], want["bytes"], "{name}");
        assert_eq!(got["sm3"], want["sm3"], "{name}");
        assert_eq!(got["sha256"], want["sha256"], "{name}");
        assert_eq!(got["mime"], want["exiftool"]["MIMEType"], "{name}");
    }
}

#[test]
fn gps_matches_exiftool_within_a_microdegree() {
    let mut compared = 0;
    for (name, want, got) in inspect_all() {
        let e = &want["exiftool"];
        let gps = &got["metadata"]["gps"];
        match (e.get("GPSLatitude"), e.get("GPSLongitude")) {
            (Some(lat), Some(lon)) => {
                let dlat = (gps["latitude"].as_f64().unwrap() - lat.as_f64().unwrap()).abs();
                let dlon = (gps["longitude"].as_f64().unwrap() - lon.as_f64().unwrap()).abs();
                assert!(dlat < 1e-6 && dlon < 1e-6, "{name}: {gps} vs {lat},{lon}");
                if let Some(alt) = e.get("GPSAltitude") {
                    let d = (gps["altitude"].as_f64().unwrap() - alt.as_f64().unwrap()).abs();
                    assert!(d < 1e-3, "{name}: altitude {} vs {alt}", gps["altitude"]);
                }
                compared += 1;
            }
            _ => assert!(
                gps.is_null(),
                "{name}: we report GPS {gps} where ExifTool saw none"
            ),
        }
    }
    // tests/corpus alone has 11: JPEG (RATIONAL and the SRATIONAL some phones write), HEIF,
    // MOV and MP4 (a whole and a cut-off one).
    assert!(compared >= 11, "only {compared} files with GPS compared");
}

#[test]
fn capture_time_make_and_model_match_exiftool() {
    for (name, want, got) in inspect_all() {
        let e = &want["exiftool"];
        let m = &got["metadata"];
        let expected_time = e
            .get("DateTimeOriginal")
            .or_else(|| e.get("CreateDate"))
            .and_then(Value::as_str);
        match expected_time {
            Some(t) => {
                let want_t = normalize(t);
                let got_t = m["captured_at"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{name}: no capture time, ExifTool has {t}"));
                assert_eq!(&got_t[..19], &want_t[..19], "{name}");
                if want_t.len() > 19 {
                    assert_eq!(&got_t[19..], &want_t[19..], "{name}: offset");
                }
            }
            None => assert!(m["captured_at"].is_null(), "{name}"),
        }
        assert_eq!(
            m["make"],
            e.get("Make").cloned().unwrap_or(Value::Null),
            "{name}: make"
        );
        assert_eq!(
            m["model"],
            e.get("Model").cloned().unwrap_or(Value::Null),
            "{name}: model"
        );
    }
}

#[test]
fn damaged_files_yield_metadata_or_a_recorded_reason() {
    for (name, _, got) in inspect_all()
        .into_iter()
        .filter(|(n, _, _)| n.starts_with("malformed/"))
    {
        let m = &got["metadata"];
        let has_metadata = ["gps", "captured_at", "make", "model"]
            .iter()
            .any(|k| !m[*k].is_null());
        let codes: Vec<&str> = got["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["code"].as_str().unwrap())
            .collect();
        assert!(
            has_metadata || codes.contains(&"metadata_unreadable"),
            "{name}: neither metadata nor a reason: {got}"
        );
        for w in got["warnings"].as_array().unwrap() {
            assert!(!w["detail"].as_str().unwrap().is_empty());
        }
    }
}

#[test]
fn truncated_and_hostile_bytes_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for (i, name) in [
        "photos/DSCN0010.jpg",
        "photos/HMD_Nokia_8.3_5G.heif",
        "video/bodycam_5s.mov",
        "video/street_8s_720p.mp4",
    ]
    .iter()
    .enumerate()
    {
        let bytes = std::fs::read(corpus_path(name)).unwrap();
        for (j, cut) in [0usize, 3, 11, 64, 700, 4096, bytes.len() / 2]
            .iter()
            .enumerate()
        {
            let p = dir.path().join(format!("cut{i}_{j}"));
            std::fs::write(&p, &bytes[..(*cut).min(bytes.len())]).unwrap();
            paths.push(p);
        }
        let mut flipped = bytes.clone();
        for k in (0..flipped.len()).step_by(97) {
            flipped[k] ^= 0x5a;
        }
        let p = dir.path().join(format!("flip{i}"));
        std::fs::write(&p, &flipped).unwrap();
        paths.push(p);
    }
    let mut args = vec!["inspect".to_owned()];
    args.extend(paths.iter().map(|p| p.to_string_lossy().into_owned()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run(&args);
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(json_lines(&out.stdout).len(), paths.len());
}
