//! Interoperability with the OpenSSL 3 command line (an independent SM2/SM3 implementation):
//! Tiezheng's signatures verify with `openssl pkeyutl -pkeyopt distid:1234567812345678`, and
//! OpenSSL's verify in Tiezheng. Requires `openssl` on PATH (`.ci/run` installs it).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, missing_docs)]

use std::path::Path;
use std::process::Command;

use tiezheng_protocol::sm2::{DEFAULT_SM2_ID, Sm2PublicKey, Sm2Signature, Sm2SigningKey};
use tiezheng_protocol::{SignatureBlock, canonical};

fn openssl(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the `openssl` command is required for the interoperability tests (apt-get install openssl)")
}

fn openssl_verify(dir: &Path, distid: Option<&str>) -> bool {
    let mut args = vec![
        "pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-in", "msg.bin", "-rawin", "-digest",
        "sm3", "-sigfile", "sig.der",
    ];
    let opt;
    if let Some(id) = distid {
        opt = format!("distid:{id}");
        args.extend(["-pkeyopt", &opt]);
    }
    let out = openssl(dir, &args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    out.status.success() && stdout.contains("Signature Verified Successfully")
}

#[test]
fn tiezheng_signature_verifies_in_openssl() {
    let dir = tempfile::tempdir().unwrap();
    let key = Sm2SigningKey::generate();
    // The real thing: the canonical bytes of a signed document.
    let doc = serde_json::json!({"type": "interop", "sm3": "00".repeat(32), "note": "现场照片"});
    let block = SignatureBlock::sign(&key, &doc).unwrap();
    let msg = canonical::canonicalize(&doc).unwrap();
    let sig = Sm2Signature::from_base64(&block.value).unwrap();

    std::fs::write(dir.path().join("msg.bin"), &msg).unwrap();
    std::fs::write(dir.path().join("sig.der"), sig.to_der()).unwrap();
    std::fs::write(dir.path().join("pub.pem"), key.public_key().to_pem()).unwrap();

    assert!(
        openssl_verify(dir.path(), Some(DEFAULT_SM2_ID)),
        "OpenSSL must accept our SM2 signature with distid 1234567812345678"
    );
    // OpenSSL 3.0/3.x uses an empty ID unless told otherwise: appraisers must pass distid.
    assert!(
        !openssl_verify(dir.path(), None),
        "without distid OpenSSL 3 uses another ID and must refuse"
    );
    // And a changed message is refused by OpenSSL too.
    std::fs::write(dir.path().join("msg.bin"), [&msg[..], b" "].concat()).unwrap();
    assert!(!openssl_verify(dir.path(), Some(DEFAULT_SM2_ID)));
}

#[test]
fn openssl_signature_verifies_in_tiezheng() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert!(
        openssl(d, &["genpkey", "-algorithm", "SM2", "-out", "key.pem"])
            .status
            .success()
    );
    assert!(
        openssl(d, &["pkey", "-in", "key.pem", "-pubout", "-out", "pub.pem"])
            .status
            .success()
    );
    let msg = br#"{"case":"2026-A-17","sm3":"66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"}"#;
    std::fs::write(d.join("msg.bin"), msg).unwrap();
    let out = openssl(
        d,
        &[
            "pkeyutl",
            "-sign",
            "-inkey",
            "key.pem",
            "-in",
            "msg.bin",
            "-rawin",
            "-digest",
            "sm3",
            "-pkeyopt",
            "distid:1234567812345678",
            "-out",
            "sig.der",
        ],
    );
    assert!(
        out.status.success(),
        "openssl sign failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let key = Sm2PublicKey::from_pem(&std::fs::read_to_string(d.join("pub.pem")).unwrap()).unwrap();
    let sig = Sm2Signature::from_der(&std::fs::read(d.join("sig.der")).unwrap()).unwrap();
    key.verify(DEFAULT_SM2_ID, msg, &sig).unwrap();
    assert!(key.verify("", msg, &sig).is_err());
    assert!(key.verify(DEFAULT_SM2_ID, b"other", &sig).is_err());
    // Our PEM export of OpenSSL's key is byte-identical to OpenSSL's own.
    assert_eq!(
        key.to_pem(),
        std::fs::read_to_string(d.join("pub.pem")).unwrap()
    );
}
