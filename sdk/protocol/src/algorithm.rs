//! Algorithm names and object identifiers (GM/T 0006 / GB/T 33560, NIST).
//!
//! Every signed document names its algorithms twice, by name and by OID, so that a verifier
//! in any language can refuse what it does not implement instead of guessing.

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// OID of SM2 (the curve and public-key algorithm), GM/T 0006.
pub const OID_SM2: &str = "1.2.156.10197.1.301";
/// OID of the SM2-1 digital signature scheme, GM/T 0006.
pub const OID_SM2_SIGN: &str = "1.2.156.10197.1.301.1";
/// OID of SM3, GM/T 0006.
pub const OID_SM3: &str = "1.2.156.10197.1.401";
/// OID of SM2-with-SM3 signatures, GM/T 0006.
pub const OID_SM2_WITH_SM3: &str = "1.2.156.10197.1.501";
/// OID of SHA-256 (NIST).
pub const OID_SHA256: &str = "2.16.840.1.101.3.4.2.1";

/// The content hash algorithms Tiezheng computes: every item is hashed with both.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[non_exhaustive]
pub enum HashAlgorithm {
    /// SHA-256 (FIPS 180-4), for courts and labs that expect it.
    #[serde(rename = "SHA-256")]
    Sha256,
    /// SM3 (GB/T 32905-2016), the primary evidence hash.
    #[serde(rename = "SM3")]
    Sm3,
}

impl HashAlgorithm {
    /// The name used on the wire: `"SM3"` or `"SHA-256"`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha256 => "SHA-256",
            Self::Sm3 => "SM3",
        }
    }

    /// The dotted object identifier.
    pub fn oid(self) -> &'static str {
        match self {
            Self::Sha256 => OID_SHA256,
            Self::Sm3 => OID_SM3,
        }
    }

    /// Looks an algorithm up by OID; `None` for an OID Tiezheng does not implement.
    pub fn from_oid(oid: &str) -> Option<Self> {
        match oid {
            OID_SHA256 => Some(Self::Sha256),
            OID_SM3 => Some(Self::Sm3),
            _ => None,
        }
    }
}

impl fmt::Display for HashAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for HashAlgorithm {
    type Err = UnknownAlgorithm;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "SHA-256" => Ok(Self::Sha256),
            "SM3" => Ok(Self::Sm3),
            other => Err(UnknownAlgorithm(other.to_owned())),
        }
    }
}

/// The signature algorithms Tiezheng accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub enum SignatureAlgorithm {
    /// SM2 digital signature over SM3 (GB/T 32918.2, GM/T 0009), OID 1.2.156.10197.1.501.
    #[serde(rename = "SM2-with-SM3")]
    Sm2WithSm3,
}

impl SignatureAlgorithm {
    /// The name used on the wire.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sm2WithSm3 => "SM2-with-SM3",
        }
    }

    /// The dotted object identifier.
    pub fn oid(self) -> &'static str {
        match self {
            Self::Sm2WithSm3 => OID_SM2_WITH_SM3,
        }
    }
}

impl fmt::Display for SignatureAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for SignatureAlgorithm {
    type Err = UnknownAlgorithm;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "SM2-with-SM3" => Ok(Self::Sm2WithSm3),
            other => Err(UnknownAlgorithm(other.to_owned())),
        }
    }
}

/// An algorithm name that Tiezheng does not implement.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown algorithm {0:?}: Tiezheng implements SM3, SHA-256 and SM2-with-SM3")]
pub struct UnknownAlgorithm(pub String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_oids_round_trip() {
        for alg in [HashAlgorithm::Sm3, HashAlgorithm::Sha256] {
            assert_eq!(alg.name().parse::<HashAlgorithm>().unwrap(), alg);
            assert_eq!(HashAlgorithm::from_oid(alg.oid()), Some(alg));
            assert_eq!(
                serde_json::to_string(&alg).unwrap(),
                format!("\"{}\"", alg.name())
            );
        }
        assert_eq!(HashAlgorithm::from_oid("1.2.840.113549.2.5"), None);
        assert!("MD5".parse::<HashAlgorithm>().is_err());
        let sig = SignatureAlgorithm::Sm2WithSm3;
        assert_eq!(sig.name().parse::<SignatureAlgorithm>().unwrap(), sig);
        assert_eq!(sig.oid(), "1.2.156.10197.1.501");
    }
}
