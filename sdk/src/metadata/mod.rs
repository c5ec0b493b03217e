//! Reading and cross-checking metadata: EXIF (JPEG, HEIF, PNG), XMP (JPEG), and MP4/MOV/M4A
//! container tags. Readers never panic on hostile input; anything they cannot read becomes a
//! `metadata_unreadable` finding with the reason, and the capture goes on.

mod exif_tags;
pub(crate) mod iso6709;
pub(crate) mod isobmff;
mod xmp;

use std::io::{Read, Seek, SeekFrom};

use tiezheng_protocol::manifest::{Decimal, Finding, GpsPoint, MediaMetadata};

use crate::media::MediaType;

/// A position as read, before it becomes decimal strings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RawGps {
    /// Latitude, degrees north.
    pub latitude: f64,
    /// Longitude, degrees east.
    pub longitude: f64,
    /// Altitude in metres.
    pub altitude: Option<f64>,
    /// Fraction digits that are meaningful for this source.
    pub places: usize,
}

impl RawGps {
    /// As the manifest's decimal-string point; `None` for non-finite or out-of-range values.
    pub fn to_point(&self) -> Option<GpsPoint> {
        if !(-90.0..=90.0).contains(&self.latitude) || !(-180.0..=180.0).contains(&self.longitude) {
            return None;
        }
        Some(GpsPoint {
            latitude: Decimal::from_f64(self.latitude, self.places).ok()?,
            longitude: Decimal::from_f64(self.longitude, self.places).ok()?,
            altitude: self
                .altitude
                .and_then(|a| Decimal::from_f64(a, self.places.min(6)).ok()),
        })
    }
}

/// Metadata plus the findings made while reading it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetadataReport {
    /// What was read.
    pub metadata: MediaMetadata,
    /// Problems: unreadable or missing metadata.
    pub findings: Vec<Finding>,
}

impl MetadataReport {
    fn unreadable(&mut self, what: &str, reason: impl std::fmt::Display) {
        self.findings.push(Finding {
            code: "metadata_unreadable".into(),
            detail: format!("metadata unreadable: {what}: {reason}"),
        });
    }

    fn source(&mut self, s: &str) {
        if !self.metadata.sources.iter().any(|x| x == s) {
            self.metadata.sources.push(s.to_owned());
        }
    }
}

/// Reads the metadata of a file of type `media` from `r`.
pub fn read_metadata<R: Read + Seek>(media: MediaType, r: &mut R) -> MetadataReport {
    let mut report = MetadataReport::default();
    match media {
        MediaType::Jpeg | MediaType::Png | MediaType::Heif => {
            exif_tags::read(r, &mut report);
            if media == MediaType::Jpeg && r.seek(SeekFrom::Start(0)).is_ok() {
                xmp::read_jpeg(r, &mut report);
            }
        }
        MediaType::Mp4 | MediaType::QuickTime | MediaType::M4a => read_container(r, &mut report),
        MediaType::Unknown => {}
    }
    if media != MediaType::Unknown {
        let m = &report.metadata;
        let mut missing = Vec::new();
        if m.captured_at.is_none() {
            missing.push("capture time");
        }
        if m.gps.is_none() {
            missing.push("GPS position");
        }
        if matches!(media, MediaType::Jpeg | MediaType::Heif)
            && m.make.is_none()
            && m.model.is_none()
        {
            missing.push("camera make/model");
        }
        if !missing.is_empty() {
            report.findings.push(Finding {
                code: "metadata_missing".into(),
                detail: format!("file carries no {}", missing.join(", no ")),
            });
        }
    }
    report
}

fn read_container<R: Read + Seek>(r: &mut R, report: &mut MetadataReport) {
    match isobmff::read(r) {
        Ok(found) => {
            if let Some(text) = found.apple_creation {
                report.metadata.captured_at = normalize_iso(&text);
                report.source("quicktime-mdta");
            } else if let Some(unix) = found.creation_unix {
                report.metadata.captured_at = Some(format_unix_utc(unix));
                report.source("mp4-mvhd");
            }
            if let Some((gps, source)) = found.gps
                && let Some(point) = gps.to_point()
            {
                report.metadata.gps = Some(point);
                report.source(source);
            }
            report.metadata.make = found.make;
            report.metadata.model = found.model;
        }
        Err(e) => report.unreadable("MP4/QuickTime container", e),
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ` for Unix seconds.
fn format_unix_utc(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let sod = unix.rem_euclid(86_400);
    let (y, m, d) = tiezheng_protocol::time::civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

/// Normalises `YYYY:MM:DD HH:MM:SS` (EXIF) or `YYYY-MM-DDTHH:MM:SS` (XMP, ISO 8601) plus an
/// optional fraction and `Z`/offset to `YYYY-MM-DDTHH:MM:SS[.f][Z|±HH:MM]`. `None` when the
/// text is not a date and time (e.g. EXIF's all-blank "    :  :     :  :  ").
pub(crate) fn normalize_iso(s: &str) -> Option<String> {
    let s = s.trim().trim_end_matches('\0');
    let b = s.as_bytes();
    if b.len() < 19 {
        return None;
    }
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|p| p.iter().all(u8::is_ascii_digit));
    let date_sep = |i: usize| matches!(b.get(i), Some(b':' | b'-'));
    if !(digits(0..4)
        && date_sep(4)
        && digits(5..7)
        && date_sep(7)
        && digits(8..10)
        && matches!(b.get(10), Some(b' ' | b'T'))
        && digits(11..13)
        && b.get(13) == Some(&b':')
        && digits(14..16)
        && b.get(16) == Some(&b':')
        && digits(17..19))
    {
        return None;
    }
    let (date, time, rest) = (s.get(0..10)?, s.get(11..19)?, s.get(19..)?);
    if date.starts_with("0000") {
        return None;
    }
    let rest_ok = rest
        .bytes()
        .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'Z' | b'+' | b'-' | b':'));
    Some(format!(
        "{}T{time}{}",
        date.replace(':', "-"),
        if rest_ok { rest } else { "" }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalising_times() {
        assert_eq!(
            normalize_iso("2008:10:22 16:28:39").as_deref(),
            Some("2008-10-22T16:28:39")
        );
        assert_eq!(
            normalize_iso("2013-07-05T03:18:27Z").as_deref(),
            Some("2013-07-05T03:18:27Z")
        );
        assert_eq!(
            normalize_iso("2010-04-13T09:37:22+02:00").as_deref(),
            Some("2010-04-13T09:37:22+02:00")
        );
        assert_eq!(normalize_iso("    :  :     :  :  "), None);
        assert_eq!(normalize_iso("0000:00:00 00:00:00"), None);
        assert_eq!(format_unix_utc(0), "1970-01-01T00:00:00Z");
    }
}
