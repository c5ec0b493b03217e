//! Timestamps on the wire: RFC 3339 strings with an explicit UTC offset and millisecond
//! precision, e.g. `2026-11-21T09:30:00.123+08:00`. Conversions are done here (proleptic
//! Gregorian calendar, no leap seconds) so that no date library decides the signed bytes.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A point in time with the UTC offset the clock reported.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Timestamp {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    unix_ms: i64,
    /// The clock's offset from UTC in minutes (−14:00 to +14:00).
    offset_minutes: i16,
}

/// A timestamp string that is not RFC 3339 with offset.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an RFC 3339 timestamp like 2026-11-21T09:30:00.123+08:00")]
pub struct TimestampError(pub String);

impl Timestamp {
    /// From Unix milliseconds and a UTC offset in minutes (clamped to ±14:00).
    pub fn from_unix_ms(unix_ms: i64, offset_minutes: i16) -> Self {
        Self {
            unix_ms,
            offset_minutes: offset_minutes.clamp(-14 * 60, 14 * 60),
        }
    }

    /// The current system time, in UTC.
    pub fn now_utc() -> Self {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        Self::from_unix_ms(ms, 0)
    }

    /// Milliseconds since the Unix epoch.
    pub fn unix_ms(&self) -> i64 {
        self.unix_ms
    }

    /// The UTC offset in minutes.
    pub fn offset_minutes(&self) -> i16 {
        self.offset_minutes
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fff]` followed by `Z` or `±HH:MM`.
    pub fn parse(s: &str) -> Result<Self, TimestampError> {
        let err = || TimestampError(s.to_owned());
        let b = s.as_bytes();
        if b.len() < 20
            || b.get(4) != Some(&b'-')
            || b.get(7) != Some(&b'-')
            || b.get(10) != Some(&b'T')
            || b.get(13) != Some(&b':')
            || b.get(16) != Some(&b':')
        {
            return Err(err());
        }
        let num = |from: usize, to: usize| -> Result<i64, TimestampError> {
            let part = s.get(from..to).ok_or_else(err)?;
            if !part.bytes().all(|c| c.is_ascii_digit()) {
                return Err(err());
            }
            part.parse::<i64>().map_err(|_| err())
        };
        let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
        let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
        let mut rest = s.get(19..).ok_or_else(err)?;
        let mut millis = 0;
        if let Some(frac) = rest.strip_prefix('.') {
            let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 || digits > 9 {
                return Err(err());
            }
            let d = frac.get(..digits).ok_or_else(err)?;
            let padded = format!("{d:0<3}");
            millis = padded
                .get(..3)
                .ok_or_else(err)?
                .parse::<i64>()
                .map_err(|_| err())?;
            rest = frac.get(digits..).ok_or_else(err)?;
        }
        let offset_minutes: i64 = match rest {
            "Z" => 0,
            o if o.len() == 6
                && (o.starts_with('+') || o.starts_with('-'))
                && o.get(3..4) == Some(":") =>
            {
                let h: i64 = o.get(1..3).ok_or_else(err)?.parse().map_err(|_| err())?;
                let m: i64 = o.get(4..6).ok_or_else(err)?.parse().map_err(|_| err())?;
                if h > 14 || m > 59 {
                    return Err(err());
                }
                if o.starts_with('-') {
                    -(h * 60 + m)
                } else {
                    h * 60 + m
                }
            }
            _ => return Err(err()),
        };
        if !(1..=12).contains(&month)
            || day < 1
            || day > days_in_month(year, month)
            || hour > 23
            || minute > 59
            || second > 60
        {
            return Err(err());
        }
        let local_secs =
            days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second.min(59);
        let unix_ms = (local_secs - offset_minutes * 60) * 1000 + millis;
        Ok(Self {
            unix_ms,
            offset_minutes: i16::try_from(offset_minutes).map_err(|_| err())?,
        })
    }

    /// Local civil date and time at the recorded offset: (y, m, d, hh, mm, ss, ms).
    pub fn local_fields(&self) -> (i64, i64, i64, i64, i64, i64, i64) {
        let local_ms = self.unix_ms + i64::from(self.offset_minutes) * 60_000;
        let secs = local_ms.div_euclid(1000);
        let ms = local_ms.rem_euclid(1000);
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        (y, m, d, sod / 3600, sod % 3600 / 60, sod % 60, ms)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, mo, d, h, mi, s, ms) = self.local_fields();
        write!(f, "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}")?;
        if self.offset_minutes == 0 {
            return f.write_str("Z");
        }
        let sign = if self.offset_minutes < 0 { '-' } else { '+' };
        let abs = self.offset_minutes.unsigned_abs();
        write!(f, "{sign}{:02}:{:02}", abs / 60, abs % 60)
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({self})")
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        let t = Self::parse(&s).map_err(serde::de::Error::custom)?;
        // One spelling on the wire: what we would have written ourselves.
        if t.to_string() != s {
            return Err(serde::de::Error::custom(format_args!(
                "timestamp {s:?} must be written as {t} (milliseconds, Z or ±HH:MM)"
            )));
        }
        Ok(t)
    }
}

impl JsonSchema for Timestamp {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Timestamp".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "RFC 3339 time with milliseconds and the clock's UTC offset, e.g. 2026-11-21T09:30:00.123+08:00 (Z for UTC).",
            "type": "string",
            "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}(Z|[+-][0-9]{2}:[0-9]{2})$"
        })
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a civil date (H. Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Civil date of a day count since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for s in [
            "1970-01-01T00:00:00.000Z",
            "2026-11-21T09:30:00.123+08:00",
            "1999-12-31T23:59:59.999-05:30",
            "2024-02-29T12:00:00.000Z",
        ] {
            let t = Timestamp::parse(s).unwrap();
            assert_eq!(t.to_string(), s);
            let back: Timestamp = serde_json::from_str(&format!("\"{s}\"")).unwrap();
            assert_eq!(back, t);
        }
        assert_eq!(
            Timestamp::parse("2026-11-21T09:30:00+08:00")
                .unwrap()
                .unix_ms(),
            1_795_224_600_000
        );
        assert_eq!(
            Timestamp::parse("1970-01-01T08:00:00.000+08:00")
                .unwrap()
                .unix_ms(),
            0
        );
    }

    #[test]
    fn refusals() {
        for s in [
            "2026-02-30T00:00:00.000Z",
            "2026-11-21 09:30:00Z",
            "2026-11-21T09:30:00",
            "2026-11-21T25:00:00Z",
            "2026-11-21T09:30:00+15:00",
            "x",
        ] {
            assert!(Timestamp::parse(s).is_err(), "{s}");
        }
        // Parses, but is not our spelling: refused on the wire.
        assert!(serde_json::from_str::<Timestamp>("\"2026-11-21T09:30:00+00:00\"").is_err());
    }
}
