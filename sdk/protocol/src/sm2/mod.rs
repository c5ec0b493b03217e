//! SM2 digital signatures with SM3 (GB/T 32918.2, GB/T 32918.5 recommended curve, GM/T 0009).
//!
//! The profile Tiezheng signs and verifies with:
//!
//! * curve `sm2p256v1`; public keys are the 65-byte uncompressed point `04‖X‖Y`
//!   ([`Sm2PublicKey`]); compressed and hybrid encodings are refused;
//! * signatures are DER `SEQUENCE { r INTEGER, s INTEGER }` ([`Sm2Signature`]), parsed
//!   strictly: long-form or wrong lengths, non-minimal or negative integers, trailing bytes and
//!   `r`/`s` outside `[1, n-1]` are typed errors;
//! * the distinguishing ID is always explicit. Documents use [`DEFAULT_SM2_ID`]
//!   (`"1234567812345678"`, GM/T 0009 default) and carry it in their `sm2_id` field;
//! * `Z = SM3(ENTL‖ID‖a‖b‖xG‖yG‖xA‖yA)` and `e = SM3(Z‖M)` are computed here
//!   ([`identity_hash`], [`message_digest`]) so that an appraiser can be shown both values when a
//!   third-party tool disagrees (the usual cause is a different ID).

use std::fmt;

use sm3::Digest as _;

use crate::hash::Hash32;

mod error;
mod fast_verify;

pub use error::{DerError, Sm2Error};

/// The GM/T 0009 default distinguishing ID; the only ID Tiezheng documents are signed with.
pub const DEFAULT_SM2_ID: &str = "1234567812345678";

/// The RFC 8998 TLS 1.3 ID. Named only so that tests can prove documents never use it.
pub const TLS13_SM2_ID: &str = "TLSv1.3+GM+Cipher+Suite";

/// Curve parameters of sm2p256v1 (GB/T 32918.5), big-endian: a, b, xG, yG, n.
const CURVE_A: [u8; 32] = hex32("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC");
const CURVE_B: [u8; 32] = hex32("28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93");
const CURVE_GX: [u8; 32] =
    hex32("32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7");
const CURVE_GY: [u8; 32] =
    hex32("BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0");
const CURVE_N: [u8; 32] = hex32("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123");

/// DER prefix of an SM2 SubjectPublicKeyInfo: SEQUENCE { SEQUENCE { id-ecPublicKey
/// (1.2.840.10045.2.1), sm2p256v1 (1.2.156.10197.1.301) }, BIT STRING { 0 unused bits, 04‖X‖Y } }.
const SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x81, 0x1c, 0xcf, 0x55, 0x01, 0x82, 0x2d, 0x03, 0x42, 0x00,
];

/// Decodes a 64-digit hex constant at compile time (a bad constant fails the build, not a run).
#[allow(clippy::panic, clippy::indexing_slicing)]
const fn hex32(s: &str) -> [u8; 32] {
    const fn nibble(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => panic!("bad hex constant"),
        }
    }
    let b = s.as_bytes();
    assert!(b.len() == 64, "bad hex constant length");
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = (nibble(b[2 * i]) << 4) | nibble(b[2 * i + 1]);
        i += 1;
    }
    out
}

/// An SM2 public key on sm2p256v1, known to be a valid curve point.
#[derive(Clone, PartialEq, Eq)]
pub struct Sm2PublicKey {
    sec1: [u8; 65],
    key: sm2::PublicKey,
}

impl fmt::Debug for Sm2PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sm2PublicKey({})", self.to_hex())
    }
}

impl Sm2PublicKey {
    /// Parses the 65-byte uncompressed encoding `04‖X‖Y`, checking the point is on the curve.
    pub fn from_sec1(bytes: &[u8]) -> Result<Self, Sm2Error> {
        let sec1: [u8; 65] = bytes
            .try_into()
            .map_err(|_| Sm2Error::PublicKeyLength(bytes.len()))?;
        if sec1[0] != 0x04 {
            return Err(Sm2Error::PublicKeyNotUncompressed(sec1[0]));
        }
        let key =
            sm2::PublicKey::from_sec1_bytes(&sec1).map_err(|_| Sm2Error::PublicKeyNotOnCurve)?;
        Ok(Self { sec1, key })
    }

    /// Parses 130 lowercase hex digits of `04‖X‖Y`.
    pub fn from_hex(s: &str) -> Result<Self, Sm2Error> {
        let bytes = decode_lower_hex(s).ok_or(Sm2Error::Encoding {
            what: "public key",
            encoding: "lowercase hex",
        })?;
        Self::from_sec1(&bytes)
    }

    /// The 65-byte uncompressed encoding.
    pub fn to_sec1(&self) -> [u8; 65] {
        self.sec1
    }

    /// Lowercase hex of `04‖X‖Y`, the wire form.
    pub fn to_hex(&self) -> String {
        hex::encode(self.sec1)
    }

    /// DER SubjectPublicKeyInfo (id-ecPublicKey with the SM2 curve OID), as OpenSSL and
    /// X.509 tools expect it.
    pub fn to_spki_der(&self) -> Vec<u8> {
        let mut out = SPKI_PREFIX.to_vec();
        out.extend_from_slice(&self.sec1);
        out
    }

    /// PEM `PUBLIC KEY` of [`Self::to_spki_der`], for `openssl pkeyutl -pubin -inkey`.
    pub fn to_pem(&self) -> String {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD.encode(self.to_spki_der());
        let mut pem = String::from("-----BEGIN PUBLIC KEY-----\n");
        for line in b64.as_bytes().chunks(64) {
            pem.push_str(std::str::from_utf8(line).unwrap_or_default());
            pem.push('\n');
        }
        pem.push_str("-----END PUBLIC KEY-----\n");
        pem
    }

    /// Parses a DER SubjectPublicKeyInfo holding an uncompressed SM2 point (the exact encoding
    /// OpenSSL writes; anything else is refused).
    pub fn from_spki_der(der: &[u8]) -> Result<Self, Sm2Error> {
        let point = der
            .strip_prefix(&SPKI_PREFIX[..])
            .ok_or(Sm2Error::Encoding {
                what: "public key",
                encoding: "SM2 SubjectPublicKeyInfo (id-ecPublicKey, curve 1.2.156.10197.1.301)",
            })?;
        Self::from_sec1(point)
    }

    /// Parses a PEM `PUBLIC KEY` block (see [`Self::from_spki_der`]).
    pub fn from_pem(pem: &str) -> Result<Self, Sm2Error> {
        use base64::Engine as _;
        let bad = Sm2Error::Encoding {
            what: "public key",
            encoding: "PEM \"PUBLIC KEY\"",
        };
        let body = pem
            .trim()
            .strip_prefix("-----BEGIN PUBLIC KEY-----")
            .and_then(|rest| rest.strip_suffix("-----END PUBLIC KEY-----"))
            .ok_or(bad.clone())?;
        let b64: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|_| bad)?;
        Self::from_spki_der(&der)
    }

    /// The key identifier used throughout Tiezheng: SM3 of the 65-byte encoding.
    pub fn key_id(&self) -> Hash32 {
        Hash32::sm3(&self.sec1)
    }

    /// Verifies `signature` over `message` with distinguishing ID `id`.
    pub fn verify(
        &self,
        id: &str,
        message: &[u8],
        signature: &Sm2Signature,
    ) -> Result<(), Sm2Error> {
        verify_many(&[(self, id, message, signature)])
            .pop()
            .unwrap_or(Err(Sm2Error::BadSignature))
    }

    /// The library's own constant-time verification, which [`Self::verify`] must agree with.
    #[cfg(test)]
    fn verify_with_library(
        &self,
        id: &str,
        message: &[u8],
        signature: &Sm2Signature,
    ) -> Result<(), Sm2Error> {
        use sm2::dsa::signature::hazmat::PrehashVerifier as _;
        let e = message_digest(id, self, message)?;
        let verifier =
            sm2::dsa::VerifyingKey::new(id, self.key).map_err(|_| Sm2Error::PublicKeyNotOnCurve)?;
        let sig = sm2::dsa::Signature::from_scalars(signature.r, signature.s)
            .map_err(|_| Sm2Error::ScalarOutOfRange("r or s"))?;
        verifier
            .verify_prehash(e.as_bytes(), &sig)
            .map_err(|_| Sm2Error::BadSignature)
    }
}

/// An SM2 signature `(r, s)` with both components in `[1, n-1]`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Sm2Signature {
    r: [u8; 32],
    s: [u8; 32],
}

impl fmt::Debug for Sm2Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Sm2Signature(r={}, s={})",
            hex::encode(self.r),
            hex::encode(self.s)
        )
    }
}

impl Sm2Signature {
    /// Builds a signature from big-endian `r` and `s`, checking both are in `[1, n-1]`.
    pub fn from_scalars(r: [u8; 32], s: [u8; 32]) -> Result<Self, Sm2Error> {
        check_scalar(&r, "r")?;
        check_scalar(&s, "s")?;
        Ok(Self { r, s })
    }

    /// Parses strict DER `SEQUENCE { r INTEGER, s INTEGER }` (GB/T 35276).
    pub fn from_der(der: &[u8]) -> Result<Self, Sm2Error> {
        let (&tag, rest) = der.split_first().ok_or(DerError::Truncated)?;
        if tag != 0x30 {
            return Err(DerError::NotSequence.into());
        }
        let (content, trailing) = take_length_prefixed(rest)?;
        if !trailing.is_empty() {
            return Err(DerError::TrailingBytes.into());
        }
        let (r, content) = take_integer(content)?;
        let (s, content) = take_integer(content)?;
        if !content.is_empty() {
            return Err(DerError::TrailingBytes.into());
        }
        Self::from_scalars(r, s)
    }

    /// Parses standard base64 (with padding) of the DER encoding, the wire form.
    pub fn from_base64(s: &str) -> Result<Self, Sm2Error> {
        use base64::Engine as _;
        let der = base64::engine::general_purpose::STANDARD
            .decode(s)
            .map_err(|_| Sm2Error::Encoding {
                what: "signature value",
                encoding: "base64 (standard alphabet, padded)",
            })?;
        Self::from_der(&der)
    }

    /// The DER encoding (70 to 72 bytes for typical values).
    pub fn to_der(&self) -> Vec<u8> {
        let r = der_integer(&self.r);
        let s = der_integer(&self.s);
        let mut out = Vec::with_capacity(2 + r.len() + s.len());
        out.push(0x30);
        // Content is at most 2 * (2 + 33) = 70 bytes: the short length form always applies.
        out.push(u8::try_from(r.len() + s.len()).unwrap_or(u8::MAX));
        out.extend_from_slice(&r);
        out.extend_from_slice(&s);
        out
    }

    /// Base64 of [`Self::to_der`], the wire form.
    pub fn to_base64(&self) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(self.to_der())
    }

    /// The big-endian `r` component.
    pub fn r(&self) -> [u8; 32] {
        self.r
    }

    /// The big-endian `s` component.
    pub fn s(&self) -> [u8; 32] {
        self.s
    }
}

/// An SM2 private key held in memory (the library zeroises it on drop).
#[derive(Clone)]
pub struct Sm2SigningKey {
    inner: sm2::dsa::SigningKey,
    public: Sm2PublicKey,
    /// `(1 + d)⁻¹ mod n`, which every signature needs: computed once per key (it is as secret
    /// as `d`, and zeroised with it).
    d_plus_1_inv: sm2::Scalar,
}

impl Drop for Sm2SigningKey {
    fn drop(&mut self) {
        // The library zeroises `inner` itself.
        self.d_plus_1_inv = sm2::Scalar::ZERO;
        std::hint::black_box(&self.d_plus_1_inv);
    }
}

impl fmt::Debug for Sm2SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sm2SigningKey")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl Sm2SigningKey {
    /// A fresh key from the operating system's random number generator.
    pub fn generate() -> Self {
        use sm2::elliptic_curve::Generate as _;
        loop {
            let secret = sm2::SecretKey::generate();
            // GB/T 32918 requires d in [1, n-2]; the library refuses d = n-1 (1+d not invertible).
            if let Ok(key) = Self::from_secret(&secret) {
                return key;
            }
        }
    }

    /// Loads a key from its 32-byte big-endian scalar.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Sm2Error> {
        if bytes.len() != 32 {
            return Err(Sm2Error::PrivateKeyLength(bytes.len()));
        }
        let secret = sm2::SecretKey::from_slice(bytes).map_err(|_| Sm2Error::InvalidPrivateKey)?;
        Self::from_secret(&secret)
    }

    fn from_secret(secret: &sm2::SecretKey) -> Result<Self, Sm2Error> {
        let inner = sm2::dsa::SigningKey::new(DEFAULT_SM2_ID, secret)
            .map_err(|_| Sm2Error::InvalidPrivateKey)?;
        let sec1 = inner.verifying_key().to_sec1_bytes();
        let public = Sm2PublicKey::from_sec1(&sec1)?;
        let d: &sm2::Scalar = inner.as_nonzero_scalar();
        let d_plus_1_inv = Option::<sm2::Scalar>::from((*d + sm2::Scalar::ONE).invert())
            .ok_or(Sm2Error::InvalidPrivateKey)?;
        Ok(Self {
            inner,
            public,
            d_plus_1_inv,
        })
    }

    /// The 32-byte big-endian private scalar. Handle with care: this is the secret.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.inner.to_bytes().into()
    }

    /// The matching public key.
    pub fn public_key(&self) -> &Sm2PublicKey {
        &self.public
    }

    /// Signs `message` with distinguishing ID `id` (nonce derived per RFC 6979 with SM3).
    ///
    /// GB/T 32918.2 §6.1 with the library's constant-time scalar and point arithmetic and its
    /// RFC 6979 nonce, exactly as `sm2::dsa::SigningKey::sign_prehash` computes it (a test
    /// checks the two agree byte for byte), except that `(1 + d)⁻¹` is computed once per key.
    pub fn sign(&self, id: &str, message: &[u8]) -> Result<Sm2Signature, Sm2Error> {
        self.sign_many(id, &[message])
            .pop()
            .unwrap_or(Err(Sm2Error::SigningFailed))
    }

    /// Signs each of `messages` as [`Self::sign`] would, byte for byte, for less work per
    /// signature: the points `[k]G` are brought to affine form together, with one
    /// constant-time field inversion for the lot.
    pub fn sign_many(&self, id: &str, messages: &[&[u8]]) -> Vec<Result<Sm2Signature, Sm2Error>> {
        use sm2::elliptic_curve::group::Curve as _;
        use sm2::elliptic_curve::ops::Reduce as _;
        use sm2::elliptic_curve::point::AffineCoordinates as _;
        use sm2::elliptic_curve::subtle::ConstantTimeEq as _;
        use sm2::elliptic_curve::{Curve as _, Group as _, PrimeField as _};

        let d: &sm2::Scalar = self.inner.as_nonzero_scalar();
        // A1–A3 for each message: e = Hv(Z‖M) as a scalar, k by RFC 6979 (HMAC-SM3) as the
        // library derives it.
        let nonces: Vec<Result<(sm2::Scalar, sm2::Scalar), Sm2Error>> = messages
            .iter()
            .map(|message| {
                let digest = message_digest(id, &self.public, message)?;
                let e = <sm2::Scalar as sm2::elliptic_curve::ops::Reduce<sm2::U256>>::reduce(
                    &sm2::U256::from_be_slice(digest.as_bytes()),
                );
                let mut kgen = rfc6979::KGenerator::<sm3::Sm3, sm2::U256>::new(
                    &d.to_repr(),
                    &e.to_bytes(),
                    &[],
                    &sm2::Sm2::ORDER,
                );
                let mut k_bytes = sm2::FieldBytes::default();
                kgen.fill_next_k(&mut k_bytes);
                let k = Option::<sm2::Scalar>::from(sm2::Scalar::from_repr(k_bytes))
                    .ok_or(Sm2Error::SigningFailed)?;
                Ok((e, k))
            })
            .collect();
        // A4: (x1, y1) = [k]G, in constant time, normalised together.
        let points: Vec<sm2::ProjectivePoint> = nonces
            .iter()
            .filter_map(|n| n.as_ref().ok())
            .map(|(_, k)| sm2::ProjectivePoint::mul_by_generator(k))
            .collect();
        let mut affine = vec![sm2::AffinePoint::IDENTITY; points.len()];
        sm2::ProjectivePoint::batch_normalize(&points, &mut affine);
        let mut affine = affine.into_iter();
        nonces
            .into_iter()
            .map(|n| {
                let (e, k) = n?;
                let point = affine.next().ok_or(Sm2Error::SigningFailed)?;
                // A5: r = (e + x1) mod n, neither r = 0 nor r + k = n.
                let r = e + sm2::Scalar::reduce(&point.x());
                if bool::from(r.is_zero() | (r + k).ct_eq(&sm2::Scalar::ZERO)) {
                    return Err(Sm2Error::SigningFailed);
                }
                // A6: s = (1 + d)⁻¹ · (k − r·d) mod n.
                let s = self.d_plus_1_inv * (k - (r * d));
                if bool::from(s.is_zero()) {
                    return Err(Sm2Error::SigningFailed);
                }
                Sm2Signature::from_scalars(r.to_bytes().into(), s.to_bytes().into())
            })
            .collect()
    }

    /// The library's own signature (`sm2::dsa::SigningKey::sign_prehash`), which
    /// [`Self::sign`] must equal byte for byte.
    #[cfg(test)]
    fn sign_with_library(&self, id: &str, message: &[u8]) -> Result<Sm2Signature, Sm2Error> {
        use sm2::dsa::signature::hazmat::PrehashSigner as _;
        let e = message_digest(id, &self.public, message)?;
        let sig: sm2::dsa::Signature = self
            .inner
            .sign_prehash(e.as_bytes())
            .map_err(|_| Sm2Error::SigningFailed)?;
        Sm2Signature::from_scalars(sig.r_bytes().into(), sig.s_bytes().into())
    }
}

/// Verifies many signatures at once, one result per `(key, id, message, signature)`, each as
/// [`Sm2PublicKey::verify`] would answer it, for less work per signature (see
/// `fast_verify`: the final points share one field inversion).
pub fn verify_many(
    items: &[(&Sm2PublicKey, &str, &[u8], &Sm2Signature)],
) -> Vec<Result<(), Sm2Error>> {
    let digests: Vec<Result<Hash32, Sm2Error>> = items
        .iter()
        .map(|(key, id, message, _)| message_digest(id, key, message))
        .collect();
    let prepared: Vec<fast_verify::Prehashed<'_>> = items
        .iter()
        .zip(&digests)
        .filter_map(|((key, _, _, sig), e)| {
            e.as_ref().ok().map(|e| fast_verify::Prehashed {
                sec1: &key.sec1,
                key: &key.key,
                e: *e.as_bytes(),
                r: sig.r,
                s: sig.s,
            })
        })
        .collect();
    let mut verdicts = fast_verify::verify_prehash_many(&prepared).into_iter();
    digests
        .into_iter()
        .map(|e| match e {
            Ok(_) => verdicts.next().unwrap_or(Err(Sm2Error::BadSignature)),
            Err(err) => Err(err),
        })
        .collect()
}

/// `Z = SM3(ENTL‖ID‖a‖b‖xG‖yG‖xA‖yA)` (GB/T 32918.2 §5.5).
pub fn identity_hash(id: &str, public_key: &Sm2PublicKey) -> Result<Hash32, Sm2Error> {
    let entl = id
        .len()
        .checked_mul(8)
        .and_then(|bits| u16::try_from(bits).ok())
        .ok_or(Sm2Error::IdTooLong(id.len()))?;
    let mut h = sm3::Sm3::new();
    h.update(entl.to_be_bytes());
    h.update(id.as_bytes());
    h.update(CURVE_A);
    h.update(CURVE_B);
    h.update(CURVE_GX);
    h.update(CURVE_GY);
    h.update(public_key.sec1.get(1..).unwrap_or_default());
    Ok(Hash32(h.finalize().into()))
}

/// `e = SM3(Z‖M)`, the value the signature equation works on.
pub fn message_digest(
    id: &str,
    public_key: &Sm2PublicKey,
    message: &[u8],
) -> Result<Hash32, Sm2Error> {
    let z = identity_hash(id, public_key)?;
    let mut h = sm3::Sm3::new();
    h.update(z.as_bytes());
    h.update(message);
    Ok(Hash32(h.finalize().into()))
}

fn check_scalar(v: &[u8; 32], which: &'static str) -> Result<(), Sm2Error> {
    if v.iter().all(|&b| b == 0) || v >= &CURVE_N {
        return Err(Sm2Error::ScalarOutOfRange(which));
    }
    Ok(())
}

/// Splits `input` into (content, rest) after a minimal short-form DER length.
fn take_length_prefixed(input: &[u8]) -> Result<(&[u8], &[u8]), DerError> {
    let (&len, rest) = input.split_first().ok_or(DerError::Truncated)?;
    // Every valid SM2 signature fits the short form (content <= 70 bytes), so a long-form
    // length is either non-minimal or far too long: both are refused.
    if len & 0x80 != 0 {
        return Err(DerError::NonMinimalLength);
    }
    let len = usize::from(len);
    if rest.len() < len {
        return Err(DerError::Truncated);
    }
    Ok(rest.split_at(len))
}

/// Reads one positive INTEGER of at most 256 bits, minimally encoded.
fn take_integer(input: &[u8]) -> Result<([u8; 32], &[u8]), DerError> {
    let (&tag, rest) = input.split_first().ok_or(DerError::Truncated)?;
    if tag != 0x02 {
        return Err(DerError::NotInteger);
    }
    let (value, rest) = take_length_prefixed(rest)?;
    let (&first, tail) = value.split_first().ok_or(DerError::EmptyInteger)?;
    if first & 0x80 != 0 {
        return Err(DerError::NegativeInteger);
    }
    let magnitude = if first == 0 {
        match tail.first() {
            Some(&next) if next & 0x80 == 0 => return Err(DerError::NonMinimalInteger),
            _ => tail,
        }
    } else {
        value
    };
    if magnitude.len() > 32 {
        return Err(DerError::IntegerTooLarge);
    }
    let mut out = [0u8; 32];
    out.get_mut(32 - magnitude.len()..)
        .ok_or(DerError::IntegerTooLarge)?
        .copy_from_slice(magnitude);
    Ok((out, rest))
}

/// Minimal DER INTEGER (tag, length, value) for a positive 256-bit big-endian number.
fn der_integer(v: &[u8; 32]) -> Vec<u8> {
    let start = v.iter().position(|&b| b != 0).unwrap_or(31);
    let digits = v.get(start..).unwrap_or_default();
    let pad = digits.first().is_some_and(|&b| b & 0x80 != 0);
    let mut out = Vec::with_capacity(2 + 33);
    out.push(0x02);
    out.push(u8::try_from(digits.len() + usize::from(pad)).unwrap_or(33));
    if pad {
        out.push(0);
    }
    out.extend_from_slice(digits);
    out
}

fn decode_lower_hex(s: &str) -> Option<Vec<u8>> {
    if !s
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return None;
    }
    hex::decode(s).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The signer with the cached `(1 + d)⁻¹` equals the library's byte for byte, for many keys
    /// and messages (deterministic RFC 6979 nonces make them comparable), and verifies.
    #[test]
    fn cached_inverse_signing_equals_the_library() {
        for i in 0..64u32 {
            let key = Sm2SigningKey::from_bytes(Hash32::sm3(&i.to_be_bytes()).as_bytes()).unwrap();
            let message: Vec<u8> = (0..i * 37).map(|b| (b % 251) as u8).collect();
            for id in [DEFAULT_SM2_ID, "ALICE123@YAHOO.COM"] {
                let ours = key.sign(id, &message).unwrap();
                assert_eq!(ours, key.sign_with_library(id, &message).unwrap());
                key.public_key().verify(id, &message, &ours).unwrap();
            }
        }
    }

    /// The variable-time verifier with per-key tables says what the library's constant-time
    /// verifier says: for genuine signatures (first sighting of a key, then from its table),
    /// for every kind of alteration, for foreign keys, IDs and messages, for `t = 0`, and for
    /// arbitrary `(r, s)`.
    #[test]
    fn table_verification_agrees_with_the_library() {
        let n = CURVE_N;
        let mut seed = Hash32::sm3(b"differential");
        let mut next = || {
            seed = Hash32::sm3(seed.as_bytes());
            *seed.as_bytes()
        };
        let keys: Vec<Sm2SigningKey> = (0..24)
            .map(|_| {
                loop {
                    if let Ok(k) = Sm2SigningKey::from_bytes(&next()) {
                        break k;
                    }
                }
            })
            .collect();
        let mut agreed = 0;
        for (i, key) in keys.iter().enumerate() {
            let other = &keys[(i + 1) % keys.len()];
            let message = next();
            let sig = key.sign(DEFAULT_SM2_ID, &message).unwrap();
            // (key, ID, message, r, s)
            type Case<'a> = (&'a Sm2PublicKey, &'a str, Vec<u8>, [u8; 32], [u8; 32]);
            let mut cases: Vec<Case<'_>> = Vec::new();
            // Three times: wNAF on first sighting, then building and using the table.
            for _ in 0..3 {
                cases.push((
                    key.public_key(),
                    DEFAULT_SM2_ID,
                    message.to_vec(),
                    sig.r,
                    sig.s,
                ));
            }
            for byte in [0usize, 13, 31] {
                let mut r = sig.r;
                r[byte] ^= 0x01;
                cases.push((key.public_key(), DEFAULT_SM2_ID, message.to_vec(), r, sig.s));
                let mut s = sig.s;
                s[byte] ^= 0x80;
                cases.push((key.public_key(), DEFAULT_SM2_ID, message.to_vec(), sig.r, s));
            }
            cases.push((
                key.public_key(),
                DEFAULT_SM2_ID,
                message.to_vec(),
                sig.s,
                sig.r,
            ));
            cases.push((
                other.public_key(),
                DEFAULT_SM2_ID,
                message.to_vec(),
                sig.r,
                sig.s,
            ));
            cases.push((
                key.public_key(),
                TLS13_SM2_ID,
                message.to_vec(),
                sig.r,
                sig.s,
            ));
            cases.push((
                key.public_key(),
                DEFAULT_SM2_ID,
                message[1..].to_vec(),
                sig.r,
                sig.s,
            ));
            cases.push((
                key.public_key(),
                DEFAULT_SM2_ID,
                message.to_vec(),
                next(),
                next(),
            ));
            // t = r + s = n: s = n - r.
            let r_int = sm2::U256::from_be_slice(&sig.r);
            let minus_r = sm2::U256::from_be_slice(&n).wrapping_sub(&r_int);
            cases.push((
                key.public_key(),
                DEFAULT_SM2_ID,
                message.to_vec(),
                sig.r,
                minus_r.to_be_bytes().into(),
            ));
            let mut batch = Vec::new();
            for (pk, id, msg, r, s) in cases {
                let Ok(candidate) = Sm2Signature::from_scalars(r, s) else {
                    continue;
                };
                let ours = pk.verify(id, &msg, &candidate);
                let library = pk.verify_with_library(id, &msg, &candidate);
                assert_eq!(ours, library, "key {i}, r {r:02x?}, s {s:02x?}");
                batch.push((pk, id, msg, candidate, library));
                agreed += 1;
            }
            // The same cases verified together, with one shared inversion.
            let items: Vec<(&Sm2PublicKey, &str, &[u8], &Sm2Signature)> = batch
                .iter()
                .map(|(pk, id, msg, sig, _)| (*pk, *id, msg.as_slice(), sig))
                .collect();
            let together = verify_many(&items);
            let expected: Vec<Result<(), Sm2Error>> =
                batch.iter().map(|(.., library)| library.clone()).collect();
            assert_eq!(together, expected, "key {i}: verified together");
        }
        assert!(agreed > 24 * 14, "only {agreed} cases compared");
    }

    /// Signing many messages at once gives each the signature signing it alone gives.
    #[test]
    fn signing_together_equals_signing_alone() {
        let key = Sm2SigningKey::from_bytes(Hash32::sm3(b"together").as_bytes()).unwrap();
        let messages: Vec<Vec<u8>> = (0..40u32)
            .map(|i| i.to_be_bytes().repeat(i as usize))
            .collect();
        let refs: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
        let together = key.sign_many(DEFAULT_SM2_ID, &refs);
        assert_eq!(together.len(), messages.len());
        for (m, sig) in messages.iter().zip(together) {
            let sig = sig.unwrap();
            assert_eq!(sig, key.sign_with_library(DEFAULT_SM2_ID, m).unwrap());
            key.public_key().verify(DEFAULT_SM2_ID, m, &sig).unwrap();
        }
        assert!(key.sign_many(DEFAULT_SM2_ID, &[]).is_empty());
    }

    #[test]
    fn der_round_trip_and_padding() {
        let mut r = [0u8; 32];
        r[31] = 1;
        let s = [0x7f; 32];
        let sig = Sm2Signature::from_scalars(r, s).unwrap();
        let der = sig.to_der();
        assert_eq!(&der[..5], &[0x30, 3 + 34, 0x02, 0x01, 0x01]);
        assert_eq!(Sm2Signature::from_der(&der).unwrap(), sig);
        let high = Sm2Signature::from_scalars([0x80; 32], [0x80; 32]).unwrap();
        assert_eq!(high.to_der().len(), 72);
        assert_eq!(Sm2Signature::from_der(&high.to_der()).unwrap(), high);
    }

    #[test]
    fn sign_verify_round_trip() {
        let key = Sm2SigningKey::generate();
        let sig = key.sign(DEFAULT_SM2_ID, b"evidence").unwrap();
        key.public_key()
            .verify(DEFAULT_SM2_ID, b"evidence", &sig)
            .unwrap();
        assert_eq!(
            key.public_key().verify(DEFAULT_SM2_ID, b"evidencE", &sig),
            Err(Sm2Error::BadSignature)
        );
        assert_eq!(
            key.public_key().verify(TLS13_SM2_ID, b"evidence", &sig),
            Err(Sm2Error::BadSignature)
        );
        let again = Sm2SigningKey::from_bytes(&key.to_bytes()).unwrap();
        assert_eq!(again.public_key(), key.public_key());
    }
}
