//! Checking a manifest against the rules of the proof schema that deserialisation does not
//! enforce (lengths, patterns, ranges, constants, consistent digests), and naming the value at
//! fault by its JSON pointer ([`SchemaViolation`]).

use super::{EvidenceItem, MANIFEST_TYPE, Manifest, limits};

/// A value of a proof that breaks a rule of the proof schema.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{pointer}: {message}")]
pub struct SchemaViolation {
    /// A stable code for the rule (`invalid_value`, `bad_file_name`, `invalid_hashes`...).
    pub code: &'static str,
    /// JSON pointer (RFC 6901) of the value at fault, from the proof's root.
    pub pointer: String,
    /// What the rule is, for people.
    pub message: String,
}

impl SchemaViolation {
    pub(super) fn new(code: &'static str, pointer: String, message: impl Into<String>) -> Self {
        Self {
            code,
            pointer,
            message: message.into(),
        }
    }
}

fn lower_hex_of_len(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Whether `name` is a plain file name: the schema's pattern, and neither `.` nor `..` nor
/// any control character (what a file system or a terminal could misread).
pub fn is_plain_file_name(name: &str) -> bool {
    let chars = name.chars().count();
    (1..=limits::FILE_NAME_MAX_CHARS).contains(&chars)
        && !name.contains(['/', '\\', '\0'])
        && name != "."
        && name != ".."
        && !name.chars().any(char::is_control)
}

impl Manifest {
    /// Checks every rule of the manifest schema that deserialisation does not (lengths,
    /// patterns, ranges, constants), and that each item carries consistent SM3 and SHA-256
    /// hashes. The first rule broken is returned with the JSON pointer of the value, from the
    /// proof's root (`/manifest/...`).
    pub fn check_schema(&self) -> Result<(), SchemaViolation> {
        if self.kind != MANIFEST_TYPE {
            return Err(SchemaViolation::new(
                "unknown_type",
                "/manifest/type".into(),
                format!("manifest.type {:?} is not {MANIFEST_TYPE:?}", self.kind),
            ));
        }
        self.check_limits()?;
        for (i, item) in self.items.iter().enumerate() {
            item.check_hashes().map_err(|mut v| {
                v.pointer = format!("/manifest/items/{i}{}", v.pointer);
                v
            })?;
        }
        Ok(())
    }

    /// The schema's limits on values (lengths, patterns, ranges, constants), without the
    /// manifest type and the items' digests (which verifiers report as rules of their own).
    pub fn check_limits(&self) -> Result<(), SchemaViolation> {
        let at = |path: &str| format!("/manifest{path}");
        let invalid = |path: &str, message: String| {
            Err(SchemaViolation::new("invalid_value", at(path), message))
        };
        if !lower_hex_of_len(&self.manifest_id, 32) {
            return invalid(
                "/manifest_id",
                "manifest_id must be 32 lowercase hex digits".into(),
            );
        }
        if !(1..=limits::MAX_SAFE_INTEGER).contains(&self.device_seq) {
            return invalid(
                "/device_seq",
                "device_seq must be 1 or more (the first manifest of a device is 1)".into(),
            );
        }
        let reference = self.case.reference.chars().count();
        if !(1..=limits::CASE_REFERENCE_MAX_CHARS).contains(&(reference as u64)) {
            return invalid(
                "/case/reference",
                format!(
                    "the case reference must be 1 to {} characters; it has {reference}",
                    limits::CASE_REFERENCE_MAX_CHARS
                ),
            );
        }
        if (self.case.collectors.len() as u64) < limits::COLLECTORS_MIN {
            return invalid(
                "/case/collectors",
                "the collection record must name at least one collector".into(),
            );
        }
        for (i, item) in self.items.iter().enumerate() {
            item.check_limits().map_err(|mut v| {
                v.pointer = at(&format!("/items/{i}{}", v.pointer));
                v
            })?;
        }
        if let Some(p) = &self.procedure {
            let id = &p.profile.id;
            let words_ok = id.split(['.', '-']).all(|w| {
                !w.is_empty()
                    && w.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            });
            if !(1..=100).contains(&id.chars().count()) || !words_ok {
                return invalid(
                    "/procedure/profile/id",
                    format!(
                        "a profile id is lowercase words of letters and digits joined by '.' or '-', 1 to 100 characters; {id:?} is not"
                    ),
                );
            }
            if !(1..=1_000_000).contains(&p.profile.version) {
                return invalid(
                    "/procedure/profile/version",
                    "a profile version is 1 to 1000000".into(),
                );
            }
            for (i, o) in p.outcomes.iter().enumerate() {
                let n = o.reason.as_ref().map_or(1, |r| r.chars().count());
                if !(1..=limits::REASON_MAX_CHARS).contains(&n) {
                    return invalid(
                        &format!("/procedure/outcomes/{i}/reason"),
                        format!(
                            "a reason must be 1 to {} characters; it has {n}",
                            limits::REASON_MAX_CHARS
                        ),
                    );
                }
            }
        }
        if let Some(r) = self
            .session_summary
            .as_ref()
            .and_then(|s| s.record.as_ref())
        {
            let mut texts = vec![
                ("/session_summary/record/place".to_owned(), &r.place, 500),
                (
                    "/session_summary/record/process".to_owned(),
                    &r.process,
                    4000,
                ),
            ];
            for (i, e) in r.inventory.iter().enumerate() {
                texts.push((
                    format!("/session_summary/record/inventory/{i}/original/description"),
                    &e.original.description,
                    300,
                ));
            }
            for (path, text, max) in texts {
                let n = text.chars().count();
                if !(1..=max).contains(&n) {
                    return invalid(&path, format!("must be 1 to {max} characters; it has {n}"));
                }
            }
        }
        Ok(())
    }
}

impl EvidenceItem {
    /// The item's limits; pointers relative to the item.
    fn check_limits(&self) -> Result<(), SchemaViolation> {
        let invalid = |path: &str, message: &str| {
            Err(SchemaViolation::new(
                "invalid_value",
                path.to_owned(),
                message,
            ))
        };
        if !is_plain_file_name(&self.file_name) {
            return Err(SchemaViolation::new(
                "bad_file_name",
                "/file_name".into(),
                format!(
                    "file name {:?} must be a plain name of 1 to {} characters without directories or control characters",
                    self.file_name,
                    limits::FILE_NAME_MAX_CHARS
                ),
            ));
        }
        if self.bytes > limits::MAX_SAFE_INTEGER {
            return invalid("/bytes", "bytes must be at most 2^53 - 1");
        }
        if let Some(loc) = &self.location
            && loc.coordinate_system != limits::COORDINATE_SYSTEM
        {
            return invalid(
                "/location/coordinate_system",
                "locations are recorded in WGS-84 as the device reports them (coordinate_system \"WGS-84\"), never converted",
            );
        }
        if let Some(f) = &self.fingerprint
            && !lower_hex_of_len(&f.value, 16)
        {
            return invalid(
                "/fingerprint/value",
                "the fingerprint is 16 lowercase hex digits",
            );
        }
        if let Some(r) = &self.recording
            && !lower_hex_of_len(&r.recording_id, 32)
        {
            return invalid(
                "/recording/recording_id",
                "recording_id must be 32 lowercase hex digits",
            );
        }
        Ok(())
    }
}

impl EvidenceItem {
    /// SM3 and SHA-256 entries whose OIDs match their algorithms; pointer relative to the item.
    fn check_hashes(&self) -> Result<(), SchemaViolation> {
        let has = |alg| {
            self.hashes
                .iter()
                .any(|h| h.algorithm == alg && h.is_consistent())
        };
        if (self.hashes.len() as u64) < limits::HASHES_MIN
            || !has(crate::HashAlgorithm::Sm3)
            || !has(crate::HashAlgorithm::Sha256)
            || self.hashes.iter().any(|h| !h.is_consistent())
        {
            return Err(SchemaViolation::new(
                "invalid_hashes",
                "/hashes".into(),
                "each item needs SM3 and SHA-256 entries whose OIDs match their algorithms",
            ));
        }
        Ok(())
    }
}

/// The JSON pointer of the value a serde error is about (`manifest.items[0].bytes` →
/// `/manifest/items/0/bytes`); for a missing member, the member's own pointer.
pub fn pointer_of(path: &serde_path_to_error::Path, message: &str) -> String {
    use serde_path_to_error::Segment as S;
    let mut out = String::new();
    for seg in path.iter() {
        out.push('/');
        match seg {
            S::Seq { index } => out.push_str(&index.to_string()),
            S::Map { key } | S::Enum { variant: key } => {
                out.push_str(&key.replace('~', "~0").replace('/', "~1"))
            }
            S::Unknown => out.push('?'),
        }
    }
    if let Some(name) = message
        .strip_prefix("missing field `")
        .and_then(|m| m.split('`').next())
    {
        out.push('/');
        out.push_str(&name.replace('~', "~0").replace('/', "~1"));
    }
    out
}
