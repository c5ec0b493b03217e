//! Why an SM2 key, signature or verification is refused: typed errors shared by the key
//! types and the fast batch verifier of this module.

/// Why an SM2 key, signature or verification was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Sm2Error {
    /// The distinguishing ID is longer than ENTL's 16 bits can describe (8191 bytes).
    #[error("SM2 distinguishing ID is {0} bytes; at most 8191 are allowed")]
    IdTooLong(usize),
    /// A private key that is zero or not below the group order.
    #[error("SM2 private key must be an integer in [1, n-2]")]
    InvalidPrivateKey,
    /// A private key not given as exactly 32 bytes (64 hex digits).
    #[error("SM2 private key must be 32 bytes, found {0}")]
    PrivateKeyLength(usize),
    /// A public key that is not 65 bytes.
    #[error("SM2 public key must be 65 bytes (04‖X‖Y), found {0}")]
    PublicKeyLength(usize),
    /// A public key whose first byte is not 0x04 (compressed or hybrid encodings).
    #[error("SM2 public key must be uncompressed (first byte 0x04), found 0x{0:02x}")]
    PublicKeyNotUncompressed(u8),
    /// Coordinates that are not a point of sm2p256v1, or the point at infinity.
    #[error("SM2 public key is not a point on curve sm2p256v1")]
    PublicKeyNotOnCurve,
    /// A public key or signature in hex/base64 that does not decode.
    #[error("{what} is not valid {encoding}")]
    Encoding {
        /// Which value.
        what: &'static str,
        /// The expected text encoding.
        encoding: &'static str,
    },
    /// The signature is not strict DER `SEQUENCE { r INTEGER, s INTEGER }`.
    #[error("SM2 signature is not strict DER: {0}")]
    Der(DerError),
    /// `r` or `s` is 0 or not below the group order n.
    #[error("SM2 signature component {0} is outside [1, n-1]")]
    ScalarOutOfRange(&'static str),
    /// The signature does not verify for this key, ID and message.
    #[error("SM2 signature does not verify for this public key, distinguishing ID and message")]
    BadSignature,
    /// Signing failed inside the library (a degenerate nonce; retrying is safe).
    #[error("SM2 signing failed")]
    SigningFailed,
}

/// How a DER signature breaks the strict encoding rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DerError {
    /// The outer tag is not SEQUENCE (0x30).
    #[error("outer tag is not SEQUENCE")]
    NotSequence,
    /// An element tag is not INTEGER (0x02).
    #[error("element is not an INTEGER")]
    NotInteger,
    /// A long-form length where the short form fits (non-minimal DER).
    #[error("length is not minimally encoded")]
    NonMinimalLength,
    /// The input ends before the encoded length.
    #[error("input is truncated")]
    Truncated,
    /// Bytes after the SEQUENCE or after the second INTEGER.
    #[error("trailing bytes")]
    TrailingBytes,
    /// An INTEGER with a redundant leading zero byte.
    #[error("INTEGER is not minimally encoded")]
    NonMinimalInteger,
    /// An INTEGER whose sign bit is set.
    #[error("INTEGER is negative")]
    NegativeInteger,
    /// An empty INTEGER.
    #[error("INTEGER is empty")]
    EmptyInteger,
    /// An INTEGER longer than 32 significant bytes.
    #[error("INTEGER is longer than 256 bits")]
    IntegerTooLarge,
}

impl From<DerError> for Sm2Error {
    fn from(e: DerError) -> Self {
        Self::Der(e)
    }
}
