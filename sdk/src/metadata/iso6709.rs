//! ISO 6709 position strings as phones write them: `+36.0611+103.8343+1520.000/`.

use super::RawGps;

/// Parses latitude, longitude and optional altitude (degrees in DD.DDD, DDMM.MMM or
/// DDMMSS.SSS form). Returns `None` for anything else.
pub(crate) fn parse(s: &str) -> Option<RawGps> {
    let s = s.trim().trim_end_matches('/');
    let s = s.split("CRS").next()?.trim_end_matches('/');
    let mut parts = Vec::new();
    let mut start = 0;
    for (i, c) in s.char_indices().skip(1) {
        if c == '+' || c == '-' {
            parts.push(s.get(start..i)?);
            start = i;
        }
    }
    parts.push(s.get(start..)?);
    let lat = angle(parts.first()?, 2)?;
    let lon = angle(parts.get(1)?, 3)?;
    let alt = match parts.get(2) {
        Some(a) => Some(a.parse::<f64>().ok().filter(|v| v.is_finite())?),
        None => None,
    };
    if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) || parts.len() > 3 {
        return None;
    }
    let places = parts
        .iter()
        .take(2)
        .map(|p| p.split_once('.').map_or(0, |(_, f)| f.len()))
        .max()
        .unwrap_or(0);
    Some(RawGps {
        latitude: lat,
        longitude: lon,
        altitude: alt,
        places: places.max(1),
    })
}

/// One signed angle whose integer part has `deg` digits of degrees, optionally followed by
/// two digits of minutes and two of seconds.
fn angle(p: &str, deg: usize) -> Option<f64> {
    let (sign, body) = match p.as_bytes().first()? {
        b'+' => (1.0, p.get(1..)?),
        b'-' => (-1.0, p.get(1..)?),
        _ => return None,
    };
    let int_len = body.find('.').unwrap_or(body.len());
    if !body.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    let v: f64 = body.parse().ok()?;
    let value = if int_len == deg {
        v
    } else if int_len == deg + 2 {
        let d = (v / 100.0).trunc();
        d + (v - d * 100.0) / 60.0
    } else if int_len == deg + 4 {
        let d = (v / 10_000.0).trunc();
        let m = ((v - d * 10_000.0) / 100.0).trunc();
        d + m / 60.0 + (v - d * 10_000.0 - m * 100.0) / 3600.0
    } else {
        return None;
    };
    Some(sign * value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let p = parse("+36.0611+103.8343+1520.000/").unwrap();
        assert_eq!(
            (p.latitude, p.longitude, p.altitude),
            (36.0611, 103.8343, Some(1520.0))
        );
        let p = parse("-33.8568+151.2153/").unwrap();
        assert_eq!(
            (p.latitude, p.longitude, p.altitude),
            (-33.8568, 151.2153, None)
        );
        let p = parse("+4030.00-00330.00/").unwrap();
        assert!((p.latitude - 40.5).abs() < 1e-9 && (p.longitude + 3.5).abs() < 1e-9);
        for bad in ["", "/", "+91.0+10.0/", "abc", "+1+2+3+4/", "+36.0611"] {
            assert!(parse(bad).is_none(), "{bad}");
        }
    }
}
