//! Canonical JSON (RFC 8785, JCS) for every signed document, and a strict parser for input.
//!
//! Tiezheng signs the exact bytes that RFC 8785 produces for a document, so an independent
//! verifier in any language reproduces them. Two restrictions make that easy and safe:
//!
//! * **no floating-point numbers**: coordinates, accuracies and durations travel as decimal
//!   strings or scaled integers. JCS would require ECMAScript number formatting; refusing floats
//!   removes the commonest cross-language mismatch;
//! * **integers within ±(2^53 − 1)** (I-JSON), so every JSON library reads them exactly.
//!
//! Output rules: object members sorted by the UTF-16 code units of their names, no
//! whitespace, strings escaped as ECMAScript `JSON.stringify` does (only `"`, `\`, and control
//! characters below U+0020; `\b \t \n \f \r` in short form, the rest as lowercase `\u00xx`).
//!
//! [`parse_strict`] reads untrusted JSON and refuses what cannot be canonical: duplicate member
//! names, floats, out-of-range integers, invalid UTF-8, nesting deeper than 128.

use std::fmt;

use serde::Serialize;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// The largest integer magnitude allowed in a signed document: 2^53 − 1.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// Why a value or input cannot be (or is not) canonical.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CanonicalError {
    /// The input is not JSON; `line` and `column` are 1-based.
    #[error("not valid JSON at line {line}, column {column}: {message}")]
    Syntax {
        /// Line of the error.
        line: usize,
        /// Column of the error.
        column: usize,
        /// What the parser saw.
        message: String,
    },
    /// An object names the same member twice.
    #[error("member {key:?} appears twice in one object; remove the duplicate")]
    DuplicateKey {
        /// The repeated name.
        key: String,
    },
    /// A floating-point number (including `1.0` or `1e3`).
    #[error(
        "{path}: floating-point numbers are not allowed in signed documents; write decimals as strings (for example \"30.123456\") or scaled integers"
    )]
    Float {
        /// JSON pointer of the value, where known.
        path: String,
    },
    /// An integer outside ±(2^53 − 1).
    #[error(
        "{path}: integer is outside ±9007199254740991 (2^53 - 1) and would not survive every JSON library"
    )]
    IntegerOutOfRange {
        /// JSON pointer of the value, where known.
        path: String,
    },
    /// The input parses but its bytes are not the canonical form.
    #[error(
        "document is valid JSON but not in RFC 8785 canonical form (sorted members, no whitespace, minimal escapes)"
    )]
    NotCanonical,
    /// A Rust value could not be turned into JSON.
    #[error("value cannot be serialised as JSON: {0}")]
    Serialize(String),
}

/// The canonical bytes of any serialisable value.
pub fn to_canonical_bytes<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, CanonicalError> {
    let v = serde_json::to_value(value).map_err(|e| CanonicalError::Serialize(e.to_string()))?;
    canonicalize(&v)
}

/// The canonical bytes of a JSON value.
pub fn canonicalize(value: &Value) -> Result<Vec<u8>, CanonicalError> {
    let mut out = Vec::with_capacity(256);
    write_value(&mut out, value).map_err(Unwritable::into_error)?;
    Ok(out)
}

/// Parses untrusted JSON strictly (see the module docs for what is refused).
pub fn parse_strict(input: &[u8]) -> Result<Value, CanonicalError> {
    let mut de = serde_json::Deserializer::from_slice(input);
    let value = StrictSeed {
        path: String::new(),
    }
    .deserialize(&mut de)
    .map_err(|e| map_json_error(&e))?;
    de.end().map_err(|e| map_json_error(&e))?;
    Ok(value)
}

/// Parses `input` strictly and checks that its bytes are exactly the canonical form.
pub fn parse_canonical(input: &[u8]) -> Result<Value, CanonicalError> {
    let value = parse_strict(input)?;
    if canonicalize(&value)? != input {
        return Err(CanonicalError::NotCanonical);
    }
    Ok(value)
}

fn map_json_error(e: &serde_json::Error) -> CanonicalError {
    // Our own visitor errors carry a marker so that they keep their type through serde_json.
    let msg = e.to_string();
    if let Some(rest) = msg.strip_prefix(DUP_MARK) {
        let key = rest.split(DUP_END).next().unwrap_or_default().to_owned();
        return CanonicalError::DuplicateKey { key };
    }
    if let Some(rest) = msg.strip_prefix(FLOAT_MARK) {
        return CanonicalError::Float {
            path: rest.split(DUP_END).next().unwrap_or_default().to_owned(),
        };
    }
    if let Some(rest) = msg.strip_prefix(RANGE_MARK) {
        return CanonicalError::IntegerOutOfRange {
            path: rest.split(DUP_END).next().unwrap_or_default().to_owned(),
        };
    }
    CanonicalError::Syntax {
        line: e.line(),
        column: e.column(),
        message: msg,
    }
}

const DUP_MARK: &str = "\u{1}duplicate:";
const FLOAT_MARK: &str = "\u{1}float:";
const RANGE_MARK: &str = "\u{1}range:";
const DUP_END: char = '\u{2}';

/// A JSON-pointer segment (RFC 6901 escaping).
fn push_segment(path: &mut String, segment: &str) {
    path.push('/');
    for c in segment.chars() {
        match c {
            '~' => path.push_str("~0"),
            '/' => path.push_str("~1"),
            c => path.push(c),
        }
    }
}

fn check_integer(n: &Number, path: &str) -> Result<(), CanonicalError> {
    if let Some(u) = n.as_u64() {
        if u > MAX_SAFE_INTEGER {
            return Err(CanonicalError::IntegerOutOfRange {
                path: display_path(path),
            });
        }
        return Ok(());
    }
    if let Some(i) = n.as_i64() {
        if i.unsigned_abs() > MAX_SAFE_INTEGER {
            return Err(CanonicalError::IntegerOutOfRange {
                path: display_path(path),
            });
        }
        return Ok(());
    }
    Err(CanonicalError::Float {
        path: display_path(path),
    })
}

fn display_path(path: &str) -> String {
    if path.is_empty() {
        "/".to_owned()
    } else {
        path.to_owned()
    }
}

/// A number that has no canonical form, and where it is: the pointer's segments, innermost
/// first (collected only on the way out of an error, so writing costs nothing for paths).
struct Unwritable {
    float: bool,
    segments: Vec<String>,
}

impl Unwritable {
    fn at(mut self, segment: String) -> Self {
        self.segments.push(segment);
        self
    }

    fn into_error(self) -> CanonicalError {
        let mut path = String::new();
        for segment in self.segments.iter().rev() {
            push_segment(&mut path, segment);
        }
        if self.float {
            CanonicalError::Float {
                path: display_path(&path),
            }
        } else {
            CanonicalError::IntegerOutOfRange {
                path: display_path(&path),
            }
        }
    }
}

/// Member names in RFC 8785 order: by UTF-16 code units (for ASCII names, by bytes).
fn utf16_order(a: &str, b: &str) -> std::cmp::Ordering {
    if a.is_ascii() && b.is_ascii() {
        a.as_bytes().cmp(b.as_bytes())
    } else {
        a.encode_utf16().cmp(b.encode_utf16())
    }
}

fn write_value(out: &mut Vec<u8>, value: &Value) -> Result<(), Unwritable> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => {
            check_integer(n, "").map_err(|e| Unwritable {
                float: matches!(e, CanonicalError::Float { .. }),
                segments: Vec::new(),
            })?;
            out.extend_from_slice(n.to_string().as_bytes());
        }
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item).map_err(|e| e.at(i.to_string()))?;
            }
            out.push(b']');
        }
        Value::Object(map) => {
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_by(|a, b| utf16_order(a.0, b.0));
            out.push(b'{');
            for (i, (k, v)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(out, k);
                out.push(b':');
                write_value(out, v).map_err(|e| e.at(k.clone()))?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

fn write_string(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    let bytes = s.as_bytes();
    // Runs of bytes that need no escape are copied whole (every byte of a multi-byte UTF-8
    // character is >= 0x80, so characters are never split).
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            b'\t' => b"\\t",
            b'\n' => b"\\n",
            0x0c => b"\\f",
            b'\r' => b"\\r",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(bytes.get(start..i).unwrap_or_default());
        if escape.is_empty() {
            // Other controls as \u00XX, lowercase hex.
            out.extend_from_slice(b"\\u00");
            out.push(HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'0'));
            out.push(HEX.get(usize::from(b & 0xf)).copied().unwrap_or(b'0'));
        } else {
            out.extend_from_slice(escape);
        }
        start = i + 1;
    }
    out.extend_from_slice(bytes.get(start..).unwrap_or_default());
    out.push(b'"');
}

/// Builds a `serde_json::Value` while refusing duplicates, floats and unsafe integers.
struct StrictSeed {
    path: String,
}

impl<'de> DeserializeSeed<'de> for StrictSeed {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(StrictVisitor { path: self.path })
    }
}

struct StrictVisitor {
    path: String,
}

impl StrictVisitor {
    fn err<E: de::Error>(&self, mark: &str) -> E {
        E::custom(format_args!("{mark}{}{DUP_END}", display_path(&self.path)))
    }
}

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        if v.unsigned_abs() > MAX_SAFE_INTEGER {
            return Err(self.err(RANGE_MARK));
        }
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        if v > MAX_SAFE_INTEGER {
            return Err(self.err(RANGE_MARK));
        }
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Value, E> {
        Err(self.err(FLOAT_MARK))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        loop {
            let mut path = self.path.clone();
            push_segment(&mut path, &items.len().to_string());
            match seq.next_element_seed(StrictSeed { path })? {
                Some(v) => items.push(v),
                None => break,
            }
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(de::Error::custom(format_args!("{DUP_MARK}{key}{DUP_END}")));
            }
            let mut path = self.path.clone();
            push_segment(&mut path, &key);
            let value = map.next_value_seed(StrictSeed { path })?;
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(s: &str) -> String {
        String::from_utf8(canonicalize(&parse_strict(s.as_bytes()).unwrap()).unwrap()).unwrap()
    }

    /// RFC 8785 §3.2.3: members sorted by UTF-16 code units (the emoji's surrogate 0xD83D sorts
    /// before U+FB33, although its code point U+1F600 is larger).
    #[test]
    fn rfc8785_property_sorting_example() {
        let input = r#"{
            "\u20ac": "Euro Sign",
            "\r": "Carriage Return",
            "\ufb33": "Hebrew Letter Dalet With Dagesh",
            "1": "One",
            "\ud83d\ude00": "Emoji: Grinning Face",
            "\u0080": "Control",
            "\u00f6": "Latin Small Letter O With Diaeresis"
        }"#;
        let want = "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{80}\":\"Control\",\
            \"\u{f6}\":\"Latin Small Letter O With Diaeresis\",\"\u{20ac}\":\"Euro Sign\",\
            \"\u{1f600}\":\"Emoji: Grinning Face\",\"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\"}";
        assert_eq!(canon(input), want);
    }

    /// RFC 8785 §3.2.2.2 string example: only mandatory escapes, lowercase hex.
    #[test]
    fn rfc8785_string_escaping_example() {
        let input = r#"{"string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/"}"#;
        assert_eq!(
            canon(input),
            "{\"string\":\"\u{20ac}$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}"
        );
    }

    #[test]
    fn literals_and_nesting() {
        assert_eq!(
            canon(r#"[ true , false,null, -7, {"b":[],"a":{}} ]"#),
            r#"[true,false,null,-7,{"a":{},"b":[]}]"#
        );
        assert_eq!(canon("\"\u{7f}\u{2028}\""), "\"\u{7f}\u{2028}\"");
    }

    #[test]
    fn strict_parser_refusals() {
        assert_eq!(
            parse_strict(br#"{"a":1,"a":2}"#),
            Err(CanonicalError::DuplicateKey { key: "a".into() })
        );
        assert_eq!(
            parse_strict(br#"{"gps":{"lat":30.5}}"#),
            Err(CanonicalError::Float {
                path: "/gps/lat".into()
            })
        );
        assert_eq!(
            parse_strict(b"[1.0]"),
            Err(CanonicalError::Float { path: "/0".into() })
        );
        assert_eq!(
            parse_strict(b"1e3"),
            Err(CanonicalError::Float { path: "/".into() })
        );
        assert_eq!(
            parse_strict(b"9007199254740992"),
            Err(CanonicalError::IntegerOutOfRange { path: "/".into() })
        );
        assert_eq!(
            parse_strict(b"-9007199254740992"),
            Err(CanonicalError::IntegerOutOfRange { path: "/".into() })
        );
        assert!(parse_strict(b"9007199254740991").is_ok());
        assert!(matches!(
            parse_strict(b"{\"a\":1} x"),
            Err(CanonicalError::Syntax { .. })
        ));
        assert!(matches!(
            parse_strict(b"\"\xff\""),
            Err(CanonicalError::Syntax { .. })
        ));
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert!(matches!(
            parse_strict(deep.as_bytes()),
            Err(CanonicalError::Syntax { .. })
        ));
    }

    /// A value built in code (not parsed) that has no canonical form is refused with the
    /// pointer to the offending number.
    #[test]
    fn canonicalize_names_the_number_it_cannot_write() {
        let v = serde_json::json!({"a": [1, {"b~/c": 1.5}], "z": 2});
        assert_eq!(
            canonicalize(&v),
            Err(CanonicalError::Float {
                path: "/a/1/b~0~1c".into()
            })
        );
        let v = serde_json::json!([0, 9_007_199_254_740_992_u64]);
        assert_eq!(
            canonicalize(&v),
            Err(CanonicalError::IntegerOutOfRange { path: "/1".into() })
        );
        assert_eq!(
            canonicalize(&serde_json::json!(0.5)),
            Err(CanonicalError::Float { path: "/".into() })
        );
        // Controls other than the named escapes, as \u00XX with lowercase hex.
        assert_eq!(
            canonicalize(&serde_json::json!("\u{1}\u{1f}é\"\\")).unwrap(),
            b"\"\\u0001\\u001f\xc3\xa9\\\"\\\\\""
        );
    }

    #[test]
    fn canonical_check() {
        assert!(parse_canonical(br#"{"a":1,"b":"x"}"#).is_ok());
        assert_eq!(
            parse_canonical(br#"{"b":"x","a":1}"#),
            Err(CanonicalError::NotCanonical)
        );
        assert_eq!(
            parse_canonical(br#"{"a": 1}"#),
            Err(CanonicalError::NotCanonical)
        );
        assert_eq!(
            parse_canonical(br#""\u0041""#),
            Err(CanonicalError::NotCanonical)
        );
    }

    #[test]
    fn floats_in_values_are_refused_on_output_too() {
        let v = serde_json::json!({"acc": 3.5});
        assert_eq!(
            canonicalize(&v),
            Err(CanonicalError::Float {
                path: "/acc".into()
            })
        );
    }
}
