//! Content hashing: SM3 and SHA-256 together, in one streaming pass with constant memory.
//!
//! [`DualHasher`] is the single place where evidence bytes are hashed. It implements
//! [`std::io::Write`] so that a capture pipeline can `io::copy` into it, and [`hash_reader`]
//! drives it from any reader with a fixed-size buffer: a 10 GB video costs the same memory as
//! a 10 kB photo. [`ContentHasher`] is one of its two halves on its own, for a caller that
//! runs the two algorithms on separate cores (the browser's workers).
//!
//! SM3 is RustCrypto's `sm3`, SHA-256 RustCrypto's `sha2` (hardware SHA instructions where the
//! CPU has them): pure Rust, so that the same code builds for the phone, the server and
//! WebAssembly.

use std::fmt;
use std::io::{self, Read, Write};
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::Digest as _;

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
        Self(sha2::Sha256::digest(data).into())
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

/// One content digest of a chosen algorithm, fed incrementally.
#[derive(Clone)]
pub struct ContentHasher {
    state: HasherState,
    bytes: u64,
}

#[derive(Clone)]
enum HasherState {
    Sm3(sm3::Sm3),
    Sha256(sha2::Sha256),
}

impl fmt::Debug for ContentHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContentHasher")
            .field("algorithm", &self.algorithm())
            .field("bytes", &self.bytes)
            .finish_non_exhaustive()
    }
}

impl ContentHasher {
    /// A hasher for `algorithm` that has seen no bytes.
    pub fn new(algorithm: HashAlgorithm) -> Self {
        let state = match algorithm {
            HashAlgorithm::Sm3 => HasherState::Sm3(sm3::Sm3::new()),
            HashAlgorithm::Sha256 => HasherState::Sha256(sha2::Sha256::new()),
        };
        Self { state, bytes: 0 }
    }

    /// The algorithm this hasher computes.
    pub fn algorithm(&self) -> HashAlgorithm {
        match self.state {
            HasherState::Sm3(_) => HashAlgorithm::Sm3,
            HasherState::Sha256(_) => HashAlgorithm::Sha256,
        }
    }

    /// Feeds more bytes.
    pub fn update(&mut self, data: &[u8]) {
        match &mut self.state {
            HasherState::Sm3(h) => h.update(data),
            HasherState::Sha256(h) => h.update(data),
        }
        self.bytes = self.bytes.saturating_add(data.len() as u64);
    }

    /// Bytes fed so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Finishes the digest.
    pub fn finalize(self) -> Hash32 {
        match self.state {
            HasherState::Sm3(h) => Hash32(h.finalize().into()),
            HasherState::Sha256(h) => Hash32(h.finalize().into()),
        }
    }
}

/// SM3 and SHA-256 over the same bytes, fed incrementally.
#[derive(Clone)]
pub struct DualHasher {
    sm3: ContentHasher,
    sha256: ContentHasher,
}

impl fmt::Debug for DualHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DualHasher")
            .field("bytes", &self.bytes())
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
            sm3: ContentHasher::new(HashAlgorithm::Sm3),
            sha256: ContentHasher::new(HashAlgorithm::Sha256),
        }
    }

    /// Feeds more bytes.
    pub fn update(&mut self, data: &[u8]) {
        self.sm3.update(data);
        self.sha256.update(data);
    }

    /// Bytes fed so far.
    pub fn bytes(&self) -> u64 {
        self.sm3.bytes()
    }

    /// Finishes both digests.
    pub fn finalize(self) -> ContentDigests {
        ContentDigests {
            bytes: self.sm3.bytes(),
            sm3: self.sm3.finalize(),
            sha256: self.sha256.finalize(),
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
    fn single_hashers_match_the_dual_hasher() {
        // FIPS 180-4 example "abc" and GB/T 32905-2016 example 1 "abc".
        for (alg, want) in [
            (
                HashAlgorithm::Sha256,
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            ),
            (
                HashAlgorithm::Sm3,
                "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0",
            ),
        ] {
            let mut h = ContentHasher::new(alg);
            h.update(b"a");
            h.update(b"bc");
            assert_eq!(h.bytes(), 3);
            assert_eq!(h.finalize().to_hex(), want);
        }
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
