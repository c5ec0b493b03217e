//! Cross-checks recorded in the manifest as findings: the file's GPS against the OS fix, the
//! file's clock against the device clock, stale or mock fixes, clock offsets, collectors.
//! Nothing is dropped silently; an appraiser sees each finding with its figures.

use tiezheng_protocol::Timestamp;
use tiezheng_protocol::manifest::{CaseRecord, Finding, LocationFix, MediaMetadata, TimeSync};

/// File GPS this far from the OS fix (or three times its accuracy, if larger) is a mismatch.
pub const GPS_MISMATCH_METRES: f64 = 200.0;
/// File clock this far from the device clock is a skew.
pub const CLOCK_SKEW_SECONDS: i64 = 300;
/// A fix older than this at capture is stale.
pub const STALE_FIX_SECONDS: i64 = 120;
/// A last time sync with a larger offset is reported.
pub const CLOCK_OFFSET_MS: i64 = 2000;

fn finding(code: &str, detail: String) -> Finding {
    Finding {
        code: code.to_owned(),
        detail,
    }
}

/// Great-circle distance in metres (haversine on a 6 371 008.8 m sphere).
pub fn distance_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = (lat2 - lat1).to_radians();
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 6_371_008.8 * a.sqrt().asin()
}

/// All cross-check findings for one item.
pub fn cross_check(
    metadata: &MediaMetadata,
    device_time: &Timestamp,
    os_fix: Option<&LocationFix>,
    last_sync: Option<&TimeSync>,
    case: &CaseRecord,
) -> Vec<Finding> {
    let mut out = Vec::new();
    match (os_fix, &metadata.gps) {
        (Some(fix), Some(gps)) => {
            let d = distance_m(
                fix.latitude.to_f64(),
                fix.longitude.to_f64(),
                gps.latitude.to_f64(),
                gps.longitude.to_f64(),
            );
            let acc = fix.horizontal_accuracy.as_ref().map_or(0.0, |a| a.to_f64());
            let limit = GPS_MISMATCH_METRES.max(3.0 * acc);
            out.push(finding(
                "gps_distance",
                format!("file GPS is {d:.0} m from the OS fix (accuracy {acc:.0} m)"),
            ));
            if d > limit {
                out.push(finding(
                    "gps_mismatch",
                    format!("file GPS is {d:.0} m from the OS fix, more than {limit:.0} m"),
                ));
            }
        }
        (None, None) => out.push(finding(
            "location_missing",
            "no OS location fix and no GPS in the file".into(),
        )),
        (None, Some(_)) => out.push(finding(
            "os_fix_missing",
            "no OS location fix; only the file's own GPS tags".into(),
        )),
        (Some(_), None) => {}
    }
    if let Some(fix) = os_fix {
        if fix.mock {
            out.push(finding(
                "mock_location",
                "the operating system flagged the fix as coming from a mock location provider"
                    .into(),
            ));
        }
        if let Some(t) = &fix.fix_time {
            let age = (device_time.unix_ms() - t.unix_ms()) / 1000;
            if age > STALE_FIX_SECONDS {
                out.push(finding(
                    "stale_fix",
                    format!("location fix is {age} s older than the capture"),
                ));
            }
        }
    }
    if let Some(file_time) = metadata.captured_at.as_deref()
        && let Some(skew) = clock_skew_seconds(file_time, device_time)
        && skew.abs() > CLOCK_SKEW_SECONDS
    {
        out.push(finding(
            "clock_skew",
            format!(
                "file time {file_time} differs from the device clock {device_time} by {skew} s"
            ),
        ));
    }
    if let Some(sync) = last_sync
        && sync.offset_ms.abs() > CLOCK_OFFSET_MS
    {
        out.push(finding(
            "clock_offset",
            format!(
                "device clock was {} ms off at the last time sync ({})",
                sync.offset_ms, sync.source
            ),
        ));
    }
    if case.collectors.len() < 2 {
        out.push(finding(
            "single_collector",
            "fewer than two collectors recorded; the rules require two or more".into(),
        ));
    }
    if case.witness.is_none() {
        out.push(finding(
            "witness_missing",
            "no witness and no reason for none recorded".into(),
        ));
    }
    out
}

/// File time minus device time in seconds. A file time without offset is read as local time at
/// the device's offset (cameras write local time).
fn clock_skew_seconds(file_time: &str, device_time: &Timestamp) -> Option<i64> {
    let base = file_time.get(..19)?;
    let suffix = file_time.get(19..).unwrap_or("");
    let suffix = suffix.trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
    let with_offset = if suffix.is_empty() {
        let off = device_time.offset_minutes();
        if off == 0 {
            format!("{base}Z")
        } else {
            let sign = if off < 0 { '-' } else { '+' };
            format!(
                "{base}{sign}{:02}:{:02}",
                off.unsigned_abs() / 60,
                off.unsigned_abs() % 60
            )
        }
    } else {
        format!("{base}{suffix}")
    };
    let t = Timestamp::parse(&with_offset).ok()?;
    Some((t.unix_ms() - device_time.unix_ms()) / 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_and_skews() {
        // Tiananmen to the Forbidden City's north gate: about 1.9 km.
        let d = distance_m(39.9087, 116.3975, 39.9255, 116.3970);
        assert!((1800.0..2000.0).contains(&d), "{d}");
        let dev = Timestamp::parse("2026-11-21T09:30:00.000+08:00").unwrap();
        assert_eq!(clock_skew_seconds("2026-11-21T09:31:00", &dev), Some(60));
        assert_eq!(clock_skew_seconds("2026-11-21T01:30:00Z", &dev), Some(0));
        assert_eq!(clock_skew_seconds("garbage", &dev), None);
    }
}
