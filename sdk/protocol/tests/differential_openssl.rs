//! Differential tests of the cryptography against OpenSSL's command line (an independent SM2
//! and SM3 implementation): on random messages and keys, SM3 digests are equal; signatures the
//! protocol makes verify in OpenSSL and OpenSSL's verify here, both with the distinguishing ID
//! `1234567812345678`; and signatures damaged one bit or cut short are refused by both.
//!
//! The number of cases is `TIEZHENG_DIFFERENTIAL_CASES` (default 48, a short run for CI; the
//! long run is documented in `benches/RESULTS.md`); the seed is `TIEZHENG_DIFFERENTIAL_SEED`
//! (default fixed, so a failure is reproduced by its case number). Needs `openssl` (3.x);
//! without it the test says so and passes, unless `TIEZHENG_REQUIRE_OPENSSL=1`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stderr,
    missing_docs
)]

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use base64::Engine as _;
use tiezheng_protocol::Hash32;
use tiezheng_protocol::sm2::{Sm2PublicKey, Sm2Signature, Sm2SigningKey};

const ID: &str = "1234567812345678";
/// The DER prefix of an SM2 SubjectPublicKeyInfo before the 65-byte uncompressed point.
const SPKI_PREFIX: &str = "3059301306072a8648ce3d020106082a811ccf5501822d034200";

/// splitmix64: reproducible randomness without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next().to_le_bytes()[0]).collect()
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap()
    }
}

fn openssl(args: &[&str], stdin: &[u8], dir: &Path) -> (bool, Vec<u8>) {
    let mut child = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    (out.status.success(), out.stdout)
}

fn pem(der: &[u8], label: &str) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

fn spki(key: &Sm2PublicKey) -> Vec<u8> {
    let mut der = hex::decode(SPKI_PREFIX).unwrap();
    der.extend_from_slice(&key.to_sec1());
    der
}

/// OpenSSL's verdict on `sig` (DER) over `msg` by the public key in `pub.pem`.
fn openssl_verifies(dir: &Path, msg: &[u8], sig: &[u8]) -> bool {
    std::fs::write(dir.join("msg.bin"), msg).unwrap();
    std::fs::write(dir.join("sig.der"), sig).unwrap();
    let (ok, out) = openssl(
        &[
            "pkeyutl",
            "-verify",
            "-pubin",
            "-inkey",
            "pub.pem",
            "-rawin",
            "-digest",
            "sm3",
            "-pkeyopt",
            "distid:1234567812345678",
            "-in",
            "msg.bin",
            "-sigfile",
            "sig.der",
        ],
        b"",
        dir,
    );
    ok && String::from_utf8_lossy(&out).contains("Signature Verified Successfully")
}

/// The protocol's verdict on `sig` (DER) over `msg` by `key`.
fn ours_verifies(key: &Sm2PublicKey, msg: &[u8], sig: &[u8]) -> bool {
    Sm2Signature::from_der(sig).is_ok_and(|s| key.verify(ID, msg, &s).is_ok())
}

/// One bit flipped, or the signature cut short: `variant` picks which.
fn damaged(sig: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut bad = sig.to_vec();
    if rng.below(4) == 0 {
        bad.truncate(rng.below(sig.len()));
    } else {
        let i = rng.below(bad.len());
        bad[i] ^= 1 << rng.below(8);
    }
    bad
}

fn message(rng: &mut Rng, case: usize) -> Vec<u8> {
    // Lengths around SM3's 64-byte blocks and its 56-byte padding limit, then random ones.
    const EDGES: [usize; 10] = [0, 1, 55, 56, 57, 63, 64, 65, 119, 128];
    let len = EDGES.get(case).copied().unwrap_or_else(|| rng.below(2048));
    rng.bytes(len)
}

#[test]
fn sm3_and_sm2_agree_with_openssl() {
    if Command::new("openssl").arg("version").output().is_err() {
        assert!(
            std::env::var_os("TIEZHENG_REQUIRE_OPENSSL").is_none(),
            "TIEZHENG_REQUIRE_OPENSSL is set but there is no openssl"
        );
        eprintln!("SKIPPED: no openssl");
        return;
    }
    let cases: usize = std::env::var("TIEZHENG_DIFFERENTIAL_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(48);
    let seed: u64 = std::env::var("TIEZHENG_DIFFERENTIAL_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x7469_657a_6865_6e67);
    let mut rng = Rng(seed);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut damaged_checked = 0usize;
    for case in 0..cases {
        let msg = message(&mut rng, case);
        let at = |what: &str| format!("case {case} (seed {seed}, {} bytes): {what}", msg.len());

        // SM3.
        let (ok, digest) = openssl(&["dgst", "-sm3", "-binary"], &msg, d);
        assert!(ok, "{}", at("openssl dgst failed"));
        assert_eq!(
            Hash32::sm3(&msg).as_bytes().as_slice(),
            digest.as_slice(),
            "{}",
            at("SM3 differs")
        );

        // Our key and signature, verified by OpenSSL.
        let Ok(ours) = Sm2SigningKey::from_bytes(&rng.bytes(32)) else {
            continue; // out of range (negligibly likely): nothing to compare
        };
        std::fs::write(
            d.join("pub.pem"),
            pem(&spki(ours.public_key()), "PUBLIC KEY"),
        )
        .unwrap();
        let sig = ours.sign(ID, &msg).unwrap().to_der();
        assert!(
            openssl_verifies(d, &msg, &sig),
            "{}",
            at("OpenSSL refuses our signature")
        );
        let bad = damaged(&sig, &mut rng);
        if bad != sig {
            assert_eq!(
                openssl_verifies(d, &msg, &bad),
                ours_verifies(ours.public_key(), &msg, &bad),
                "{}",
                at(&format!(
                    "verdicts differ on damaged signature {}",
                    hex::encode(&bad)
                ))
            );
            assert!(
                !ours_verifies(ours.public_key(), &msg, &bad),
                "{}",
                at("a damaged signature verifies")
            );
            damaged_checked += 1;
        }

        // OpenSSL's key and signature, verified here.
        let (ok, key_pem) = openssl(&["genpkey", "-algorithm", "SM2"], b"", d);
        assert!(ok, "{}", at("openssl genpkey"));
        std::fs::write(d.join("key.pem"), &key_pem).unwrap();
        let (ok, pub_der) = openssl(
            &["pkey", "-in", "key.pem", "-pubout", "-outform", "DER"],
            b"",
            d,
        );
        assert!(ok, "{}", at("openssl pkey -pubout"));
        let prefix = hex::decode(SPKI_PREFIX).unwrap();
        assert!(pub_der.starts_with(&prefix), "{}", at("not an SM2 SPKI"));
        let theirs = Sm2PublicKey::from_sec1(&pub_der[prefix.len()..]).unwrap();
        std::fs::write(d.join("pub.pem"), pem(&pub_der, "PUBLIC KEY")).unwrap();
        std::fs::write(d.join("msg.bin"), &msg).unwrap();
        let (ok, their_sig) = openssl(
            &[
                "pkeyutl",
                "-sign",
                "-inkey",
                "key.pem",
                "-rawin",
                "-digest",
                "sm3",
                "-pkeyopt",
                "distid:1234567812345678",
                "-in",
                "msg.bin",
            ],
            b"",
            d,
        );
        assert!(ok, "{}", at("openssl pkeyutl -sign"));
        assert!(
            ours_verifies(&theirs, &msg, &their_sig),
            "{}",
            at(&format!(
                "OpenSSL's signature {} is refused here",
                hex::encode(&their_sig)
            ))
        );
        let bad = damaged(&their_sig, &mut rng);
        if bad != their_sig {
            assert_eq!(
                openssl_verifies(d, &msg, &bad),
                ours_verifies(&theirs, &msg, &bad),
                "{}",
                at(&format!(
                    "verdicts differ on damaged signature {}",
                    hex::encode(&bad)
                ))
            );
            damaged_checked += 1;
        }
    }
    eprintln!(
        "{cases} cases: SM3 equal, signatures verified both ways, {damaged_checked} damaged signatures refused by both"
    );
}
