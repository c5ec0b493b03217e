//! Layer `officer`: the collectors' own signatures over the manifest, and the credential the
//! notary bound to each signing key (carried in the bundle), so that a court verifies offline
//! which officers signed, not only which device.

use crate::bundle::Bundle;
use crate::canonical;
use crate::hash::Hash32;
use crate::officer::OFFICER_CERTIFICATE_TYPE;

use super::report::Report;

/// Records `officer.signature` and `officer.credential` for `b`.
pub(super) fn check(b: &Bundle, r: &mut Report) {
    let proof = &b.proof;
    if proof.officer_signatures.is_empty() && b.officers.is_empty() {
        r.skip(
            "officer.signature",
            "no officer signed the manifest (only the device did)",
        );
        return;
    }
    let manifest_bytes = match canonical::to_canonical_bytes(&proof.manifest) {
        Ok(bytes) => bytes,
        Err(e) => {
            r.record(
                "officer.signature",
                Err(format!("the manifest cannot be encoded: {e}")),
            );
            return;
        }
    };
    let mut signers: Vec<(Hash32, &str)> = Vec::new();
    for (i, s) in proof.officer_signatures.iter().enumerate() {
        let at = format!("officer_signatures[{i}] ({})", s.officer_id);
        let outcome = (|| {
            if !proof.manifest.case.collectors.contains(&s.officer_id) {
                return Err(format!(
                    "{at}: the officer is not one of the manifest's case.collectors"
                ));
            }
            if signers.iter().any(|(_, o)| *o == s.officer_id) {
                return Err(format!("{at}: the officer signed twice"));
            }
            let (key, signature) = s.signature.parts().map_err(|e| format!("{at}: {e}"))?;
            let key_id = key.key_id();
            if key_id == proof.manifest.device.key_id || signers.iter().any(|(k, _)| *k == key_id) {
                return Err(format!(
                    "{at}: the key signed twice or is the device's key; each officer signs with a key of their own"
                ));
            }
            key.verify(crate::sm2::DEFAULT_SM2_ID, &manifest_bytes, &signature)
                .map_err(|e| format!("{at}: the signature over the manifest: {e}"))?;
            signers.push((key_id, &s.officer_id));
            Ok(format!("signed by officer {} (key {key_id})", s.officer_id))
        })();
        r.record("officer.signature", outcome);
    }
    if proof.officer_signatures.is_empty() {
        r.skip("officer.signature", "no officer signed the manifest");
    }
    let receipt = &b.receipt.receipt;
    for (key_id, officer) in &signers {
        let matching: Vec<_> = b
            .officers
            .iter()
            .filter(|c| c.certificate.key_id == *key_id)
            .collect();
        let outcome = match matching.as_slice() {
            [] => Err(format!(
                "officer {officer}: the bundle carries no credential for key {key_id}"
            )),
            [c] => {
                let cert = &c.certificate;
                if cert.kind != OFFICER_CERTIFICATE_TYPE {
                    Err(format!(
                        "officer {officer}: the credential's type is {:?}",
                        cert.kind
                    ))
                } else if cert.officer.officer_id != *officer {
                    Err(format!(
                        "the key of officer {officer} is bound to officer {}",
                        cert.officer.officer_id
                    ))
                } else if crate::sm2::Sm2PublicKey::from_hex(&cert.public_key)
                    .map(|k| k.key_id())
                    .ok()
                    != Some(*key_id)
                {
                    Err(format!(
                        "officer {officer}: the credential's public_key is not the signing key"
                    ))
                } else if cert.notary_key_id != receipt.notary_key_id {
                    Err(format!(
                        "officer {officer}: the credential was issued by notary {}, not by {}, the notary that receipted the proof",
                        cert.notary_key_id, receipt.notary_key_id
                    ))
                } else if cert.issued_at.unix_ms() > receipt.received_at.unix_ms() {
                    Err(format!(
                        "officer {officer}: the credential was issued after the proof was receipted"
                    ))
                } else {
                    match c.verify() {
                        Ok(k) if k.key_id() == receipt.notary_key_id => Ok(format!(
                            "officer {officer}: {} ({}), 执法证号 {}, bound by notary {}",
                            cert.officer.name,
                            cert.officer.unit,
                            cert.officer.badge_number,
                            receipt.notary_key_id
                        )),
                        Ok(k) => Err(format!(
                            "officer {officer}: the credential is signed by key {}, not by the notary that receipted the proof",
                            k.key_id()
                        )),
                        Err(e) => Err(format!(
                            "officer {officer}: the notary's signature on the credential: {e}"
                        )),
                    }
                }
            }
            _ => Err(format!(
                "officer {officer}: the bundle carries more than one credential for key {key_id}"
            )),
        };
        r.record("officer.credential", outcome);
    }
    // A credential is used when a signature entry carries its key, verified or not (a bad
    // signature is officer.signature's to report).
    let signing_keys: Vec<Hash32> = proof
        .officer_signatures
        .iter()
        .filter_map(|s| s.signature.parts().ok())
        .map(|(k, _)| k.key_id())
        .collect();
    let unused: Vec<&str> = b
        .officers
        .iter()
        .filter(|c| !signing_keys.contains(&c.certificate.key_id))
        .map(|c| c.certificate.officer.officer_id.as_str())
        .collect();
    if !unused.is_empty() {
        r.record(
            "officer.credential",
            Err(format!(
                "the bundle carries credentials of keys that signed nothing: {}",
                unused.join(", ")
            )),
        );
    } else if signers.is_empty() {
        r.skip("officer.credential", "no officer signature verified");
    }
}
