//! Content hashing: SM3 and SHA-256 together, in one streaming pass with constant memory.
//!
//! [`DualHasher`] is the single place where evidence bytes are hashed. It implements
//! [`std::io::Write`] so that a capture pipeline can `io::copy` into it, and [`hash_reader`]
//! drives it from any reader with a fixed-size buffer: a 10 GB video costs the same memory as
//! a 10 kB photo.

use std::fmt;
use std::io::{self, Read, Write};
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sm3::Digest as _;

use crate::algorithm::HashAlgorithm;

/// Size of the read buffer used by [`hash_reader`].
pub const READ_BUFFER_BYTES: usize = 256 * 1024;

/// A 32-byte digest (SM3 or SHA-256), written on the wire as 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Hash32(pub [u8; 32]);

impl Hash32 {
    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lowercase hexadecimal, the wire form.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses exactly 64 lowercase hex digits: the wire has one spelling of every digest.
    pub fn from_hex(s: &str) -> Result<Self, HexError> {
        if s.len() != 64 {
            return Err(HexError::Length {
                expected: 64,
                found: s.len(),
            });
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(HexError::Digit);
        }
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).map_err(|_| HexError::Digit)?;
        Ok(Self(out))
    }

    /// SM3 of `data` in one call.
    pub fn sm3(data: &[u8]) -> Self {
        Self(sm3::Sm3::digest(data).into())
    }

    /// SHA-256 of `data` in one call.
    pub fn sha256(data: &[u8]) -> Self {
        let d = ring::digest::digest(&ring::digest::SHA256, data);
        let mut out = [0u8; 32];
        out.copy_from_slice(d.as_ref());
        Self(out)
    }
}

impl fmt::Debug for Hash32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash32({})", self.to_hex())
    }
}

impl fmt::Display for Hash32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl FromStr for Hash32 {
    type Err = HexError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_hex(s)
    }
}

impl Serialize for Hash32 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Hash32 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::from_hex(&s).map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Hash32 {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Hash32".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A 32-byte digest as 64 lowercase hexadecimal digits.",
            "type": "string",
            "pattern": "^[0-9a-f]{64}$"
        })
    }
}

/// A malformed hexadecimal digest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HexError {
    /// Wrong number of hex digits.
    #[error("expected {expected} hex digits, found {found}")]
    Length {
        /// Digits required.
        expected: usize,
        /// Digits given.
        found: usize,
    },
    /// A character that is not a lowercase hex digit.
    #[error("not a lowercase hexadecimal digit string")]
    Digit,
}

/// The pair of content digests every evidence item carries, with the byte count hashed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ContentDigests {
    /// Number of bytes hashed.
    pub bytes: u64,
    /// SM3 digest (GB/T 32905).
    pub sm3: Hash32,
    /// SHA-256 digest.
    pub sha256: Hash32,
}

impl ContentDigests {
    /// The digest for one algorithm.
    pub fn get(&self, algorithm: HashAlgorithm) -> Hash32 {
        match algorithm {
            HashAlgorithm::Sm3 => self.sm3,
            HashAlgorithm::Sha256 => self.sha256,
        }
    }
}

/// SM3 and SHA-256 over the same bytes, fed incrementally.
#[derive(Clone)]
pub struct DualHasher {
    sm3: sm3::Sm3,
    sha256: ring::digest::Context,
    bytes: u64,
}

impl fmt::Debug for DualHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DualHasher")
            .field("bytes", &self.bytes)
            .finish_non_exhaustive()
    }
}

impl Default for DualHasher {
    fn default() -> Self {
        Self::new()
    }
}

impl DualHasher {
    /// A hasher that has seen no bytes.
    pub fn new() -> Self {
        Self {
            sm3: sm3::Sm3::new(),
            sha256: ring::digest::Context::new(&ring::digest::SHA256),
            bytes: 0,
        }
    }

    /// Feeds more bytes.
    pub fn update(&mut self, data: &[u8]) {
        self.sm3.update(data);
        self.sha256.update(data);
        self.bytes = self.bytes.saturating_add(data.len() as u64);
    }

    /// Bytes fed so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Finishes both digests.
    pub fn finalize(self) -> ContentDigests {
        let mut sha256 = [0u8; 32];
        sha256.copy_from_slice(self.sha256.finish().as_ref());
        ContentDigests {
            bytes: self.bytes,
            sm3: Hash32(self.sm3.finalize().into()),
            sha256: Hash32(sha256),
        }
    }
}

impl Write for DualHasher {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Hashes everything `reader` yields with a fixed [`READ_BUFFER_BYTES`] buffer.
///
/// `progress` is called after every block with the running byte count (pass `|_| {}` if
/// unwanted). Interrupted reads are retried; any other I/O error is returned as is.
pub fn hash_reader<R: Read>(
    mut reader: R,
    mut progress: impl FnMut(u64),
) -> io::Result<ContentDigests> {
    let mut hasher = DualHasher::new();
    let mut buf = vec![0u8; READ_BUFFER_BYTES];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(buf.get(..n).unwrap_or_default());
        progress(hasher.bytes());
    }
    Ok(hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sm3_standard_examples_under_every_split() {
        // GB/T 32905-2016 example 2: "abcd" x 16.
        let msg = b"abcd".repeat(16);
        let want = "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732";
        for split in 0..=msg.len() {
            let mut h = DualHasher::new();
            h.update(&msg[..split]);
            h.update(&msg[split..]);
            assert_eq!(h.finalize().sm3.to_hex(), want, "split at {split}");
        }
    }

    #[test]
    fn empty_input() {
        let d = hash_reader(&b""[..], |_| {}).unwrap();
        assert_eq!(d.bytes, 0);
        assert_eq!(
            d.sm3.to_hex(),
            "1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b"
        );
        assert_eq!(
            d.sha256.to_hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn reader_spanning_many_buffers_matches_one_shot() {
        let data: Vec<u8> = (0..(READ_BUFFER_BYTES * 3 + 17))
            .map(|i| u8::try_from(i * 31 % 251).unwrap())
            .collect();
        let mut calls = 0;
        let d = hash_reader(&data[..], |_| calls += 1).unwrap();
        assert_eq!(d.bytes, data.len() as u64);
        assert_eq!(d.sm3, Hash32::sm3(&data));
        assert_eq!(d.sha256, Hash32::sha256(&data));
        assert!(calls >= 4);
    }

    #[test]
    fn hex_parsing_is_strict() {
        let h = Hash32::sm3(b"abc");
        assert_eq!(Hash32::from_hex(&h.to_hex()).unwrap(), h);
        assert_eq!(
            Hash32::from_hex(&h.to_hex().to_uppercase()),
            Err(HexError::Digit)
        );
        assert!(matches!(
            Hash32::from_hex("00"),
            Err(HexError::Length { .. })
        ));
        assert_eq!(Hash32::from_hex(&"zz".repeat(32)), Err(HexError::Digit));
        assert!(serde_json::from_str::<Hash32>("\"abc\"").is_err());
    }
}
