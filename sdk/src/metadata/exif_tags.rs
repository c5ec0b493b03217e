//! EXIF through `kamadak-exif`, keeping whatever a damaged file still yields.

use std::io::{BufReader, Read, Seek, SeekFrom};

use exif::{In, Tag, Value};

use super::{MetadataReport, RawGps, normalize_iso};

pub(super) fn read<R: Read + Seek>(r: &mut R, report: &mut MetadataReport) {
    if r.seek(SeekFrom::Start(0)).is_err() {
        return;
    }
    let mut reader = exif::Reader::new();
    reader.continue_on_error(true);
    let exif = match reader.read_from_container(&mut BufReader::new(r)) {
        Ok(exif) => exif,
        Err(exif::Error::PartialResult(partial)) => {
            let (exif, errors) = partial.into_inner();
            if let Some(first) = errors.first() {
                report.unreadable("EXIF (partly)", first);
            }
            exif
        }
        Err(exif::Error::NotFound(_)) => return,
        Err(e) => {
            report.unreadable("EXIF", e);
            return;
        }
    };

    let text = |tag| {
        exif.get_field(tag, In::PRIMARY)
            .and_then(|f| ascii(&f.value))
    };
    let mut used = false;
    let time = text(Tag::DateTimeOriginal)
        .or_else(|| text(Tag::DateTimeDigitized))
        .and_then(|t| normalize_iso(&t));
    if let Some(mut t) = time {
        if let Some(offset) = text(Tag::OffsetTimeOriginal).filter(|o| is_offset(o)) {
            t.push_str(&offset);
        }
        report.metadata.captured_at = Some(t);
        used = true;
    }
    if let Some(make) = text(Tag::Make).filter(|s| !s.is_empty()) {
        report.metadata.make = Some(make);
        used = true;
    }
    if let Some(model) = text(Tag::Model).filter(|s| !s.is_empty()) {
        report.metadata.model = Some(model);
        used = true;
    }
    if let Some(o) = exif
        .get_field(Tag::Orientation, In::PRIMARY)
        .and_then(|f| f.value.get_uint(0))
    {
        report.metadata.orientation = u16::try_from(o).ok().filter(|o| (1..=8).contains(o));
    }
    if let Some(gps) = gps(&exif) {
        match gps.to_point() {
            Some(p) => {
                report.metadata.gps = Some(p);
                used = true;
            }
            None => report.unreadable("EXIF GPS", "coordinates out of range"),
        }
    }
    if used {
        report.source("exif");
    }
}

fn gps(exif: &exif::Exif) -> Option<RawGps> {
    // Degrees, minutes, seconds as RATIONAL, or as SRATIONAL as some phones (HMD/Nokia) write
    // them against the EXIF specification.
    let dms = |tag| -> Option<f64> {
        let parts = rationals(&exif.get_field(tag, In::PRIMARY)?.value)?;
        let part = |i: usize| parts.get(i).copied().unwrap_or(Some(0.0));
        Some(part(0)?.abs() + part(1)?.abs() / 60.0 + part(2)?.abs() / 3600.0)
    };
    let reference = |tag| {
        exif.get_field(tag, In::PRIMARY)
            .and_then(|f| ascii(&f.value))
    };
    let mut lat = dms(Tag::GPSLatitude)?;
    let mut lon = dms(Tag::GPSLongitude)?;
    if reference(Tag::GPSLatitudeRef).as_deref() == Some("S") {
        lat = -lat;
    }
    if reference(Tag::GPSLongitudeRef).as_deref() == Some("W") {
        lon = -lon;
    }
    let altitude = exif
        .get_field(Tag::GPSAltitude, In::PRIMARY)
        .and_then(|f| rationals(&f.value)?.first().copied().flatten());
    let below = exif
        .get_field(Tag::GPSAltitudeRef, In::PRIMARY)
        .and_then(|f| f.value.get_uint(0))
        == Some(1);
    let altitude = altitude.map(|a| if below { -a } else { a });
    (lat.is_finite() && lon.is_finite()).then_some(RawGps {
        latitude: lat,
        longitude: lon,
        altitude,
        places: 9,
    })
}

/// The values of a RATIONAL or SRATIONAL field; `None` entries have a zero denominator.
fn rationals(v: &Value) -> Option<Vec<Option<f64>>> {
    let out: Vec<Option<f64>> = match v {
        Value::Rational(v) => v
            .iter()
            .map(|r| (r.denom != 0).then(|| r.to_f64()))
            .collect(),
        Value::SRational(v) => v
            .iter()
            .map(|r| (r.denom != 0).then(|| r.to_f64()))
            .collect(),
        _ => return None,
    };
    (!out.is_empty()).then_some(out)
}

fn ascii(v: &Value) -> Option<String> {
    match v {
        Value::Ascii(parts) => {
            let first = parts.first()?;
            let s = String::from_utf8_lossy(first)
                .trim()
                .trim_end_matches('\0')
                .to_owned();
            Some(s)
        }
        _ => None,
    }
}

fn is_offset(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 6 && matches!(b.first(), Some(b'+' | b'-')) && b.get(3) == Some(&b':')
}
