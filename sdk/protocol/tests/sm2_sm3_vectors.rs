//! Known-answer tests from the standards (`schemas/vectors/sm2-sm3.json`): SM3 examples of
//! GB/T 32905, SM2 vector B of GB/T 32918.5 / GM/T 0003.5 Annex A on sm2p256v1, its must-fail
//! cases, and the strict-encoding rules of GB/T 35276.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, missing_docs)]

mod common;

use common::{sm2_sm3_vectors, unhex};
use tiezheng_protocol::algorithm::{OID_SHA256, OID_SM2, OID_SM2_SIGN, OID_SM2_WITH_SM3, OID_SM3};
use tiezheng_protocol::sm2::{
    self, DerError, Sm2Error, Sm2PublicKey, Sm2Signature, Sm2SigningKey, TLS13_SM2_ID,
};
use tiezheng_protocol::{DualHasher, Hash32};

const N: &str = "fffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123";

fn vector_b() -> (
    serde_json::Value,
    Sm2PublicKey,
    Sm2Signature,
    String,
    Vec<u8>,
) {
    let v = sm2_sm3_vectors()["sm2_sign"].clone();
    let key = Sm2PublicKey::from_hex(v["public_key_uncompressed"].as_str().unwrap()).unwrap();
    let sig = Sm2Signature::from_der(&unhex(v["signature_der"].as_str().unwrap())).unwrap();
    let id = v["distinguishing_id_ascii"].as_str().unwrap().to_owned();
    let msg = v["message_ascii"].as_str().unwrap().as_bytes().to_vec();
    (v, key, sig, id, msg)
}

#[test]
fn sm3_standard_examples() {
    let vectors = sm2_sm3_vectors();
    let cases = vectors["sm3"].as_array().unwrap();
    assert_eq!(cases.len(), 2);
    for case in cases {
        let msg = case["message_ascii"].as_str().unwrap().as_bytes();
        let want = case["digest"].as_str().unwrap();
        assert_eq!(Hash32::sm3(msg).to_hex(), want);
        // Streaming in uneven pieces gives the same digest.
        let mut h = DualHasher::new();
        for chunk in msg.chunks(7) {
            h.update(chunk);
        }
        assert_eq!(h.finalize().sm3.to_hex(), want);
    }
}

#[test]
fn oids_match_the_standard_list() {
    let oids = &sm2_sm3_vectors()["oids"];
    assert_eq!(oids["sm2"], OID_SM2);
    assert_eq!(oids["sm2_sign"], OID_SM2_SIGN);
    assert_eq!(oids["sm3"], OID_SM3);
    assert_eq!(oids["sm2_with_sm3"], OID_SM2_WITH_SM3);
    assert_eq!(oids["sha256"], OID_SHA256);
}

#[test]
fn sm2_vector_b_z_e_and_signature() {
    let (v, key, sig, id, msg) = vector_b();
    assert_eq!(id, "1234567812345678");
    assert_eq!(
        sm2::identity_hash(&id, &key).unwrap().to_hex(),
        v["z_a"].as_str().unwrap()
    );
    assert_eq!(
        sm2::message_digest(&id, &key, &msg).unwrap().to_hex(),
        v["e"].as_str().unwrap()
    );
    assert_eq!(hex::encode(sig.r()), v["r"].as_str().unwrap());
    assert_eq!(hex::encode(sig.s()), v["s"].as_str().unwrap());
    key.verify(&id, &msg, &sig).unwrap();
    // Our DER encoder reproduces the standard's 72 bytes exactly.
    assert_eq!(
        hex::encode(sig.to_der()),
        v["signature_der"].as_str().unwrap()
    );
    // The published private key yields the published public key, and signs verifiably.
    let sk = Sm2SigningKey::from_bytes(&unhex(v["private_key"].as_str().unwrap())).unwrap();
    assert_eq!(sk.public_key(), &key);
    let mine = sk.sign(&id, &msg).unwrap();
    key.verify(&id, &msg, &mine).unwrap();
}

#[test]
fn sm2_vector_b_must_fail_cases() {
    let (v, key, sig, id, msg) = vector_b();
    let cases = v["must_fail"].as_array().unwrap();
    assert_eq!(cases.len(), 3);
    for case in cases {
        let why = case["why"].as_str().unwrap();
        let m = case
            .get("message_ascii")
            .and_then(|m| m.as_str())
            .map_or(msg.clone(), |m| m.as_bytes().to_vec());
        let i = case
            .get("distinguishing_id_ascii")
            .and_then(|i| i.as_str())
            .unwrap_or(&id);
        assert_eq!(
            key.verify(i, &m, &sig),
            Err(Sm2Error::BadSignature),
            "must fail: {why}"
        );
    }
    // Documents never verify under the TLS 1.3 ID (RFC 8998).
    assert_eq!(
        key.verify(TLS13_SM2_ID, &msg, &sig),
        Err(Sm2Error::BadSignature)
    );
}

#[test]
fn sm2_single_bit_flips_fail() {
    let (_, key, sig, id, msg) = vector_b();
    for bit in 0..256 {
        let (byte, mask) = (bit / 8, 1u8 << (bit % 8));
        let mut r = sig.r();
        r[byte] ^= mask;
        if let Ok(bad) = Sm2Signature::from_scalars(r, sig.s()) {
            assert!(key.verify(&id, &msg, &bad).is_err(), "r bit {bit}");
        }
        let mut s = sig.s();
        s[byte] ^= mask;
        if let Ok(bad) = Sm2Signature::from_scalars(sig.r(), s) {
            assert!(key.verify(&id, &msg, &bad).is_err(), "s bit {bit}");
        }
        // A flipped coordinate is (almost always) off the curve; either way it must not verify.
        for coord in [1usize, 33] {
            let mut pk = key.to_sec1();
            pk[coord + byte] ^= mask;
            if let Ok(other) = Sm2PublicKey::from_sec1(&pk) {
                assert!(
                    other.verify(&id, &msg, &sig).is_err(),
                    "key bit {bit} at {coord}"
                );
            }
        }
    }
}

#[test]
fn r_or_s_of_zero_or_n_are_refused() {
    let (_, _, sig, _, _) = vector_b();
    let n: [u8; 32] = unhex(N).try_into().unwrap();
    let zero = [0u8; 32];
    let mut n_plus = n;
    n_plus[31] += 1;
    for bad in [zero, n, n_plus, [0xff; 32]] {
        assert_eq!(
            Sm2Signature::from_scalars(bad, sig.s()),
            Err(Sm2Error::ScalarOutOfRange("r"))
        );
        assert_eq!(
            Sm2Signature::from_scalars(sig.r(), bad),
            Err(Sm2Error::ScalarOutOfRange("s"))
        );
    }
    // The same values arriving as DER are refused too.
    let mut der = vec![0x30, 0x26, 0x02, 0x21, 0x00];
    der.extend_from_slice(&n);
    der.extend_from_slice(&[0x02, 0x01, 0x01]);
    assert_eq!(
        Sm2Signature::from_der(&der),
        Err(Sm2Error::ScalarOutOfRange("r"))
    );
    let mut n_minus_1 = n;
    n_minus_1[31] -= 1;
    assert!(Sm2Signature::from_scalars(n_minus_1, n_minus_1).is_ok());
}

#[test]
fn strict_der_rules() {
    let (v, _, _, _, _) = vector_b();
    let good = unhex(v["signature_der"].as_str().unwrap());
    let der = |e: DerError| Err(Sm2Error::Der(e));

    let mut trailing = good.clone();
    trailing.push(0);
    assert_eq!(
        Sm2Signature::from_der(&trailing),
        der(DerError::TrailingBytes)
    );
    assert_eq!(
        Sm2Signature::from_der(&good[..good.len() - 1]),
        der(DerError::Truncated)
    );
    assert_eq!(Sm2Signature::from_der(&[]), der(DerError::Truncated));

    let mut not_seq = good.clone();
    not_seq[0] = 0x31;
    assert_eq!(Sm2Signature::from_der(&not_seq), der(DerError::NotSequence));

    // Long-form length 0x81 0x46 where the short form fits.
    let mut long_form = vec![0x30, 0x81, good[1]];
    long_form.extend_from_slice(&good[2..]);
    assert_eq!(
        Sm2Signature::from_der(&long_form),
        der(DerError::NonMinimalLength)
    );

    // Redundant leading zero on s = 1: 02 02 00 01.
    let r = &good[2..2 + 2 + 33];
    let mut nonmin = vec![0x30, (r.len() + 4) as u8];
    nonmin.extend_from_slice(r);
    nonmin.extend_from_slice(&[0x02, 0x02, 0x00, 0x01]);
    assert_eq!(
        Sm2Signature::from_der(&nonmin),
        der(DerError::NonMinimalInteger)
    );

    // r without its 0x00 pad reads as negative.
    let mut neg = vec![0x30, 0x45, 0x02, 0x20];
    neg.extend_from_slice(&good[5..37]);
    neg.extend_from_slice(&good[37..]);
    assert_eq!(Sm2Signature::from_der(&neg), der(DerError::NegativeInteger));

    // A third INTEGER inside the SEQUENCE.
    let mut three = good.clone();
    three[1] += 3;
    three.extend_from_slice(&[0x02, 0x01, 0x01]);
    assert_eq!(Sm2Signature::from_der(&three), der(DerError::TrailingBytes));

    // 33 significant bytes.
    let mut big = vec![0x30, 0x26, 0x02, 0x21, 0x01];
    big.extend_from_slice(&[0u8; 32]);
    big.extend_from_slice(&[0x02, 0x01, 0x01]);
    assert_eq!(Sm2Signature::from_der(&big), der(DerError::IntegerTooLarge));

    // BOOLEAN instead of INTEGER.
    assert_eq!(
        Sm2Signature::from_der(&[0x30, 0x03, 0x01, 0x01, 0xff]),
        der(DerError::NotInteger)
    );
    assert_eq!(
        Sm2Signature::from_der(&[0x30, 0x04, 0x02, 0x00, 0x02, 0x00]),
        der(DerError::EmptyInteger)
    );
}

#[test]
fn strict_public_key_rules() {
    let (v, key, _, _, _) = vector_b();
    let sec1 = unhex(v["public_key_uncompressed"].as_str().unwrap());
    assert_eq!(
        Sm2PublicKey::from_sec1(&sec1[..64]),
        Err(Sm2Error::PublicKeyLength(64))
    );
    // Compressed form of the same point is refused: documents carry 04‖X‖Y only.
    let mut compressed = vec![0x02 | (sec1[64] & 1)];
    compressed.extend_from_slice(&sec1[1..33]);
    assert_eq!(
        Sm2PublicKey::from_sec1(&compressed),
        Err(Sm2Error::PublicKeyLength(33))
    );
    let mut hybrid = sec1.clone();
    hybrid[0] = 0x06 | (sec1[64] & 1);
    assert_eq!(
        Sm2PublicKey::from_sec1(&hybrid),
        Err(Sm2Error::PublicKeyNotUncompressed(hybrid[0]))
    );
    let mut off_curve = sec1.clone();
    off_curve[64] ^= 1;
    assert_eq!(
        Sm2PublicKey::from_sec1(&off_curve),
        Err(Sm2Error::PublicKeyNotOnCurve)
    );
    assert_eq!(
        Sm2PublicKey::from_sec1(&[0x04; 65]),
        Err(Sm2Error::PublicKeyNotOnCurve)
    );
    assert!(matches!(
        Sm2PublicKey::from_hex(&key.to_hex().to_uppercase()),
        Err(Sm2Error::Encoding { .. })
    ));
    assert_eq!(Sm2PublicKey::from_hex(&key.to_hex()).unwrap(), key);
    assert_eq!(key.key_id(), Hash32::sm3(&sec1));
}

#[test]
fn private_key_rules() {
    assert_eq!(
        Sm2SigningKey::from_bytes(&[0u8; 32]).unwrap_err(),
        Sm2Error::InvalidPrivateKey
    );
    assert_eq!(
        Sm2SigningKey::from_bytes(&unhex(N)).unwrap_err(),
        Sm2Error::InvalidPrivateKey
    );
    assert_eq!(
        Sm2SigningKey::from_bytes(&[1u8; 31]).unwrap_err(),
        Sm2Error::PrivateKeyLength(31)
    );
}
