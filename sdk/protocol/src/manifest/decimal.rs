//! [`Decimal`]: how numbers that are not integers (coordinates, accuracies) are written in
//! signed documents, as decimal strings, never as floats.

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A decimal number written as a string, e.g. `"30.274084"` or `"-4.00514085"`: the only way
/// non-integers appear in signed documents.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Decimal(String);

/// A string that is not a plain decimal number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not a decimal number like \"30.274084\" (optional minus, digits, optional fraction, no exponent)"
)]
pub struct DecimalError(pub String);

impl Decimal {
    /// Formats `value` with at most `places` fraction digits, trimming trailing zeros.
    /// Non-finite values are refused.
    pub fn from_f64(value: f64, places: usize) -> Result<Self, DecimalError> {
        if !value.is_finite() {
            return Err(DecimalError(value.to_string()));
        }
        let mut s = format!("{value:.places$}");
        if s.contains('.') {
            while s.ends_with('0') {
                s.pop();
            }
            if s.ends_with('.') {
                s.pop();
            }
        }
        if s == "-0" {
            s = "0".to_owned();
        }
        Self::parse(&s)
    }

    /// Parses `-?(0|[1-9][0-9]*)(\.[0-9]+)?`.
    pub fn parse(s: &str) -> Result<Self, DecimalError> {
        let body = s.strip_prefix('-').unwrap_or(s);
        let (int, frac) = match body.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (body, None),
        };
        let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
        let ok = digits(int)
            && (int == "0" || !int.starts_with('0'))
            && frac.is_none_or(digits)
            && s.len() <= 40;
        if !ok {
            return Err(DecimalError(s.to_owned()));
        }
        Ok(Self(s.to_owned()))
    }

    /// The value as a float, for arithmetic (never for signing).
    pub fn to_f64(&self) -> f64 {
        self.0.parse().unwrap_or(f64::NAN)
    }

    /// The string form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Decimal({})", self.0)
    }
}

impl FromStr for Decimal {
    type Err = DecimalError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Decimal {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Decimal {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Decimal {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Decimal".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A decimal number as a string (no floats in signed documents), e.g. \"30.274084\".",
            "type": "string",
            "pattern": "^-?(0|[1-9][0-9]*)(\\.[0-9]+)?$",
            "maxLength": 40
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals() {
        assert_eq!(
            Decimal::from_f64(43.467448333333, 7).unwrap().as_str(),
            "43.4674483"
        );
        assert_eq!(Decimal::from_f64(-4.0, 7).unwrap().as_str(), "-4");
        assert_eq!(Decimal::from_f64(-0.00000001, 7).unwrap().as_str(), "0");
        assert!(Decimal::from_f64(f64::NAN, 3).is_err());
        for bad in ["", "1e5", "01", "1.", ".5", "+1", "--1", "1,5"] {
            assert!(Decimal::parse(bad).is_err(), "{bad}");
        }
        for good in ["0", "-0.5", "121.47369", "1942.4216"] {
            assert_eq!(Decimal::parse(good).unwrap().as_str(), good);
        }
    }
}
