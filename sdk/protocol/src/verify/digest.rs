//! Layer `digest`: a certificate's public digest (`tiezheng.public-digest.v1`), the document
//! the public `/check` page verifies. Its format, the notary's signature, the issuer and the
//! certificate number are its own rules; its ledger layers are checked by the bundle's rules
//! (with the digest's `proof_sm3` in place of a proof), and a file is matched against its
//! items by the `media` rules. The proof layer does not apply: a digest carries no manifest.

use serde_json::Value;

use crate::bundle::Policy;
use crate::certificate::number_of;
use crate::digest::{PUBLIC_DIGEST_TYPE, SignedPublicDigest};

use super::certificate::CertificateFacts;
use super::ledger::Subject;
use super::media::{Listed, match_file};
use super::report::{RULES, Report};
use super::{Facts, Layers, MediaEvidence, check_layers, first_difference};

/// Checks every rule that applies to the signed digest `value`, recording each in `r`.
pub(super) fn check(
    value: &Value,
    media: Option<&MediaEvidence>,
    pinned: &Policy,
    r: &mut Report,
) -> (Facts, Option<CertificateFacts>) {
    let mut facts = Facts::default();
    let own = ["digest.signature", "digest.issuer", "digest.number"];
    let parsed = serde_json::from_value::<SignedPublicDigest>(value.clone())
        .map_err(|e| format!("does not match schemas/public-digest.schema.json: {e}"))
        .and_then(|d| {
            let back = serde_json::to_value(&d).map_err(|e| e.to_string())?;
            match first_difference(value, &back) {
                Some(at) => Err(format!(
                    "member {at} is not written as schemas/public-digest.schema.json requires"
                )),
                None if d.digest.kind != PUBLIC_DIGEST_TYPE => Err(format!(
                    "digest.type is {:?}, not {PUBLIC_DIGEST_TYPE:?}",
                    d.digest.kind
                )),
                None => Ok(d),
            }
        });
    let signed = match parsed {
        Ok(d) => d,
        Err(e) => {
            r.record("digest.format", Err(e));
            for rule in own {
                r.skip(rule, "the digest could not be read");
            }
            return (facts, None);
        }
    };
    r.record(
        "digest.format",
        Ok("strict JSON, exactly schemas/public-digest.schema.json".into()),
    );
    for rule in ["bundle.schema", "bundle.type"] {
        r.skip(rule, "a public digest: its form is rule digest.format");
    }
    for rule in RULES.iter().filter(|x| x.layer() == "proof") {
        r.skip(rule.id, "a public digest carries no proof");
    }
    super::custody::skip(r, "a public digest carries no custody events");
    let d = &signed.digest;
    let layers = Layers {
        mode: &d.mode,
        receipt: &d.receipt,
        batch: &d.batch,
        anchor: &d.anchor,
        checkpoint: &d.checkpoint,
        policy: &d.policy,
        cometbft: d.cometbft.as_ref(),
        governance: &d.governance,
    };
    let registry = check_layers(
        &layers,
        Subject::Digest(&d.proof_sm3),
        pinned,
        r,
        &mut facts,
    );
    facts.proof_sm3 = Some(d.proof_sm3);

    let notary_id = d.receipt.receipt.notary_key_id;
    let notary = registry
        .as_ref()
        .map(|reg| match reg.notaries.get(&notary_id) {
            Some((k, true)) => Ok(k.clone()),
            Some((_, false)) => Err(format!(
                "notary {notary_id} was removed from the registry before the checkpoint"
            )),
            None => Err(format!(
                "notary {notary_id} is not in the registry: it is not a notary your policy trusts"
            )),
        });
    match &notary {
        None => {
            for rule in ["digest.signature", "digest.issuer"] {
                r.skip(rule, "the registry at the checkpoint is unknown");
            }
        }
        Some(Err(e)) => {
            r.record(
                "digest.signature",
                Err(format!("the receipt's notary: {e}")),
            );
            r.skip("digest.issuer", "the digest's notary is not trusted");
        }
        Some(Ok(key)) => {
            r.record(
                "digest.signature",
                signed
                    .verify(key)
                    .map(|()| {
                        format!(
                            "signed by notary {}, which receipted the proof",
                            key.key_id()
                        )
                    })
                    .map_err(|e| {
                        format!("the signature of the notary that receipted the proof: {e}")
                    }),
            );
            r.record(
                "digest.issuer",
                if d.issuer.public_key != key.to_hex() || d.issuer.key_id != key.key_id() {
                    Err("the issuer's key is not the key of the notary that receipted the proof and signed the digest".into())
                } else {
                    d.issuer
                        .standing()
                        .check()
                        .map(|()| format!("{} ({})", d.issuer.legal_name, d.issuer.credit_code))
                },
            );
        }
    }
    r.record(
        "digest.number",
        match number_of(
            &d.checkpoint.checkpoint.chain_id,
            &d.proof_sm3,
            &d.anchor.record,
        ) {
            Ok(n) if n == d.number => Ok(format!(
                "{n}, from the chain, the proof and the anchor record"
            )),
            Ok(n) => Err(format!(
                "the number is {}, but the chain, the proof and the anchor record give {n}",
                d.number
            )),
            Err(e) => Err(e.to_string()),
        },
    );
    facts.media_item = check_media(&signed, media, r);
    let certificate = CertificateFacts {
        number: d.number.clone(),
        sm3: d.certificate_sm3,
        issuer: d.issuer.name.clone(),
        issued_at: d.issued_at,
    };
    (facts, Some(certificate))
}

/// Rules `media.item`, `media.sha256` and `media.bytes` against the digest's items; the
/// digest names whole files only, so `media.segments` does not apply.
fn check_media(
    d: &SignedPublicDigest,
    media: Option<&MediaEvidence>,
    r: &mut Report,
) -> Option<usize> {
    r.skip(
        "media.segments",
        "a public digest names whole files only (the SM3 and SHA-256 of each)",
    );
    let Some(media) = media else {
        for rule in ["media.item", "media.sha256", "media.bytes"] {
            r.skip(rule, "no media file given");
        }
        return None;
    };
    let listed: Vec<Listed<'_>> = d
        .digest
        .items
        .iter()
        .map(|i| Listed {
            index: usize::try_from(i.index).unwrap_or(usize::MAX),
            label: format!("{:?}", i.kind).to_lowercase(),
            bytes: i.bytes,
            hashes: &i.hashes,
        })
        .collect();
    let position = match_file(&listed, media, "this certificate", r)?;
    listed.get(position).map(|l| l.index)
}
