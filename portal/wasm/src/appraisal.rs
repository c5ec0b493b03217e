//! The appraisal workspace's signing, in the browser (司法鉴定全程在线): a party's SM2 key is
//! made here and never leaves the page (the page keeps it encrypted under a passphrase), and
//! every step of the procedure, credential and revocation is built and signed with the
//! protocol crate's own types (`tiezheng_protocol::appraisal`), so the notary only ever receives
//! public keys and signed documents.
//!
//! Every function takes and returns JSON strings; bad input is a `JsError` naming the field,
//! never a panic.

use serde_json::Value;
use tiezheng_protocol::Timestamp;
use tiezheng_protocol::appraisal::{
    Act, AppraiserCredential, AppraiserRevocation, OpinionPackage, Role, SignedAppraiserCredential,
    SignedAppraiserRevocation, SignedStep, credential::REVOCATION_TYPE, next_step,
};
use tiezheng_protocol::bundle::Party;
use tiezheng_protocol::sm2::{Sm2PublicKey, Sm2SigningKey};
use tiezheng_protocol::verify::appraisal::check_draft;
use wasm_bindgen::prelude::*;

fn err(field: &str, e: impl std::fmt::Display) -> String {
    format!("{field}: {e}")
}

/// What JavaScript receives for an error: the message as a `JsError`.
fn js(r: Result<String, String>) -> Result<String, JsError> {
    r.map_err(|e| JsError::new(&e))
}

fn secret_key(secret: &str) -> Result<Sm2SigningKey, String> {
    let bytes = (secret.len() == 64)
        .then(|| {
            (0..32)
                .map(|i| u8::from_str_radix(secret.get(2 * i..2 * i + 2)?, 16).ok())
                .collect::<Option<Vec<u8>>>()
        })
        .flatten()
        .ok_or_else(|| err("secret", "an SM2 private key is 64 hexadecimal digits"))?;
    Sm2SigningKey::from_bytes(&bytes).map_err(|e| err("secret", e))
}

fn public(key: &Sm2SigningKey, secret: Option<String>) -> Value {
    let mut v = serde_json::Map::new();
    if let Some(s) = secret {
        v.insert("secret".into(), Value::String(s));
    }
    v.insert("public_key".into(), key.public_key().to_hex().into());
    v.insert("key_id".into(), key.public_key().key_id().to_hex().into());
    Value::Object(v)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A fresh SM2 key from the browser's random source: `{"secret", "public_key", "key_id"}`
/// (`secret` is 64 hex digits; the page encrypts it before keeping it).
#[wasm_bindgen]
pub fn generate_key() -> String {
    let key = Sm2SigningKey::generate();
    public(&key, Some(hex(&key.to_bytes()))).to_string()
}

/// `{"public_key", "key_id"}` of a private key (to check an unlocked or imported key).
#[wasm_bindgen]
pub fn key_public(secret: &str) -> Result<String, JsError> {
    js(secret_key(secret).map(|k| public(&k, None).to_string()))
}

/// A timestamp of Unix milliseconds in the signer's UTC offset (minutes east of UTC).
fn timestamp(at_unix_ms: f64, offset_minutes: i16) -> Result<Timestamp, String> {
    if !(0.0..=9.0e15).contains(&at_unix_ms) {
        return Err(err("at", "not a time in Unix milliseconds"));
    }
    if !(-18 * 60..=18 * 60).contains(&offset_minutes) {
        return Err(err("offset_minutes", "a UTC offset is within ±18 hours"));
    }
    // Checked above: finite, non-negative and below 2^53.
    #[allow(clippy::cast_possible_truncation)]
    Ok(Timestamp::from_unix_ms(at_unix_ms as i64, offset_minutes))
}

/// The next step of a procedure, unsigned (`{"step", "signatures": []}`): `procedure` is the
/// notary's `GET /v1/appraisals/{sm3}` answer (or `null` for a commission), `role` is
/// `court`, `institution` or `appraiser`, `act` the act's JSON (`{"kind": "acceptance", …}`).
#[wasm_bindgen]
pub fn appraisal_step(
    procedure: &str,
    by: &str,
    role: &str,
    act: &str,
    at_unix_ms: f64,
    offset_minutes: i16,
) -> Result<String, JsError> {
    js(step_json(
        procedure,
        by,
        role,
        act,
        at_unix_ms,
        offset_minutes,
    ))
}

fn step_json(
    procedure: &str,
    by: &str,
    role: &str,
    act: &str,
    at_unix_ms: f64,
    offset_minutes: i16,
) -> Result<String, String> {
    let steps: Vec<SignedStep> = match serde_json::from_str::<Option<OpinionPackage>>(procedure)
        .map_err(|e| err("procedure", e))?
    {
        Some(p) => p.steps,
        None => Vec::new(),
    };
    let role: Role =
        serde_json::from_value(Value::String(role.into())).map_err(|e| err("role", e))?;
    let act: Act = serde_json::from_str(act).map_err(|e| err("act", e))?;
    if by.trim().is_empty() {
        return Err(err("by", "name who acts"));
    }
    let step = next_step(
        &steps,
        timestamp(at_unix_ms, offset_minutes)?,
        by,
        role,
        act,
    )
    .map_err(|e| err("step", e))?;
    serde_json::to_string(&SignedStep {
        step,
        signatures: Vec::new(),
    })
    .map_err(|e| err("step", e))
}

/// `signed_step` with the signature of `secret` added (once per key): signing a step, or
/// co-signing an opinion.
#[wasm_bindgen]
pub fn sign_step(secret: &str, signed_step: &str) -> Result<String, JsError> {
    js(sign_step_json(secret, signed_step))
}

fn sign_step_json(secret: &str, signed_step: &str) -> Result<String, String> {
    let key = secret_key(secret)?;
    let mut s: SignedStep = serde_json::from_str(signed_step).map_err(|e| err("step", e))?;
    s.cosign(&key).map_err(|e| err("step", e))?;
    serde_json::to_string(&s).map_err(|e| err("step", e))
}

/// Who has still to sign a draft opinion (a JSON array of ids), or why the draft is refused
/// (`rule: message`), against the procedure so far and the judicial parties.
#[wasm_bindgen]
pub fn draft_missing(procedure: &str, draft: &str, parties: &str) -> Result<String, JsError> {
    js(draft_missing_json(procedure, draft, parties))
}

fn draft_missing_json(procedure: &str, draft: &str, parties: &str) -> Result<String, String> {
    let pkg: OpinionPackage = serde_json::from_str(procedure).map_err(|e| err("procedure", e))?;
    let draft: SignedStep = serde_json::from_str(draft).map_err(|e| err("draft", e))?;
    let parties: Vec<Party> = serde_json::from_str(parties).map_err(|e| err("parties", e))?;
    let missing = check_draft(&pkg, &draft, &parties).map_err(|e| e.to_string())?;
    serde_json::to_string(&missing).map_err(|e| err("draft", e))
}

/// The institution's credential for an appraiser's key (`public_key`, `04‖X‖Y` hex, as the
/// appraiser's page showed it), signed with the institution's `secret`.
#[allow(clippy::too_many_arguments)]
#[wasm_bindgen]
pub fn sign_credential(
    secret: &str,
    institution: &str,
    appraiser_id: &str,
    name: &str,
    licence_number: &str,
    public_key: &str,
    at_unix_ms: f64,
    offset_minutes: i16,
) -> Result<String, JsError> {
    js(credential_json(
        secret,
        [institution, appraiser_id, name, licence_number],
        public_key,
        at_unix_ms,
        offset_minutes,
    ))
}

fn credential_json(
    secret: &str,
    [institution, appraiser_id, name, licence_number]: [&str; 4],
    public_key: &str,
    at_unix_ms: f64,
    offset_minutes: i16,
) -> Result<String, String> {
    let key = secret_key(secret)?;
    for (field, value) in [
        ("institution", institution),
        ("appraiser_id", appraiser_id),
        ("name", name),
        ("licence_number", licence_number),
    ] {
        if value.trim().is_empty() {
            return Err(err(field, "must not be empty"));
        }
    }
    let appraiser = Sm2PublicKey::from_hex(public_key.trim()).map_err(|e| err("public_key", e))?;
    let c = AppraiserCredential::new(
        institution,
        appraiser_id,
        name,
        licence_number,
        &appraiser,
        timestamp(at_unix_ms, offset_minutes)?,
    );
    let signed = SignedAppraiserCredential::sign(c, &key).map_err(|e| err("credential", e))?;
    serde_json::to_string(&signed).map_err(|e| err("credential", e))
}

/// The institution's revocation of the key `key_id` of `appraiser_id` from `at`, with the
/// reason, signed with the institution's `secret`.
#[allow(clippy::too_many_arguments)]
#[wasm_bindgen]
pub fn sign_revocation(
    secret: &str,
    institution: &str,
    appraiser_id: &str,
    key_id: &str,
    reason: &str,
    at_unix_ms: f64,
    offset_minutes: i16,
) -> Result<String, JsError> {
    js(revocation_json(
        secret,
        [institution, appraiser_id, key_id, reason],
        at_unix_ms,
        offset_minutes,
    ))
}

fn revocation_json(
    secret: &str,
    [institution, appraiser_id, key_id, reason]: [&str; 4],
    at_unix_ms: f64,
    offset_minutes: i16,
) -> Result<String, String> {
    let key = secret_key(secret)?;
    if reason.trim().is_empty() {
        return Err(err("reason", "state why the key is revoked"));
    }
    let r = AppraiserRevocation {
        kind: REVOCATION_TYPE.into(),
        institution: institution.into(),
        appraiser_id: appraiser_id.into(),
        key_id: tiezheng_protocol::Hash32::from_hex(key_id).map_err(|e| err("key_id", e))?,
        revoked_at: timestamp(at_unix_ms, offset_minutes)?,
        reason: reason.into(),
    };
    let signed = SignedAppraiserRevocation::sign(r, &key).map_err(|e| err("revocation", e))?;
    serde_json::to_string(&signed).map_err(|e| err("revocation", e))
}

/// The version of this verifier and signer (the protocol crate's), for process records.
#[wasm_bindgen]
pub fn version() -> String {
    format!("tiezheng-wasm {}", env!("CARGO_PKG_VERSION"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use tiezheng_protocol::appraisal::{OPINION_TYPE, SignedAppraiserCredential};
    use tiezheng_protocol::bundle::PartyRole;
    use tiezheng_protocol::verify::appraisal::check_in_progress;

    fn key() -> (String, String) {
        let k: Value = serde_json::from_str(&generate_key()).unwrap();
        (
            k["secret"].as_str().unwrap().to_owned(),
            k["public_key"].as_str().unwrap().to_owned(),
        )
    }

    #[test]
    fn steps_made_here_are_the_protocols_and_bad_input_is_named() {
        let (court, court_pub) = key();
        let (inst, inst_pub) = key();
        let (_, appraiser_pub) = key();
        let act = serde_json::json!({"kind": "commission", "case_reference": "(2026)沪0115行初0002号",
            "institution": "inst", "items": [{"proof_sm3": "00".repeat(32), "file_name": "a.png", "sm3": "11".repeat(32)}],
            "questions": ["q"], "deadline": "2027-12-31T23:59:59.000+08:00"});
        let t = 1.8e12;
        let unsigned = step_json("null", "court", "court", &act.to_string(), t, 480).unwrap();
        let commission: SignedStep =
            serde_json::from_str(&sign_step_json(&court, &unsigned).unwrap()).unwrap();
        let mut pkg = OpinionPackage {
            kind: OPINION_TYPE.into(),
            steps: vec![commission],
            credentials: vec![],
            revocations: vec![],
            bundles: vec![],
        };
        let parties = vec![
            Party {
                id: "court".into(),
                role: PartyRole::Court,
                public_key: court_pub,
            },
            Party {
                id: "inst".into(),
                role: PartyRole::AppraisalInstitution,
                public_key: inst_pub,
            },
        ];
        check_in_progress(&pkg, &parties).unwrap();
        let so_far = serde_json::to_string(&pkg).unwrap();
        let accept = step_json(
            &so_far,
            "inst",
            "institution",
            r#"{"kind":"acceptance","accepted":true,"reason":null}"#,
            t + 1000.0,
            480,
        )
        .unwrap();
        let signed: SignedStep =
            serde_json::from_str(&sign_step_json(&inst, &accept).unwrap()).unwrap();
        assert_eq!((signed.step.seq, signed.signatures.len()), (1, 1));
        pkg.steps.push(signed);
        check_in_progress(&pkg, &parties).unwrap();
        // Signing twice with one key adds nothing.
        let again = sign_step_json(&inst, &serde_json::to_string(&pkg.steps[1]).unwrap()).unwrap();
        assert_eq!(
            serde_json::from_str::<SignedStep>(&again).unwrap(),
            pkg.steps[1]
        );
        // A credential the protocol accepts.
        let c: SignedAppraiserCredential = serde_json::from_str(
            &credential_json(
                &inst,
                ["inst", "A-1", "张三", "沪司鉴 1"],
                &appraiser_pub,
                t,
                480,
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(c.credential.public_key, appraiser_pub);
        let doc = serde_json::to_value(&c.credential).unwrap();
        c.signature.verify_value(&doc).unwrap();
        // Bad input: named, never a panic.
        for (e, field) in [
            (
                step_json("null", "court", "judge", &act.to_string(), t, 480),
                "role",
            ),
            (step_json("null", "court", "court", "{}", t, 480), "act"),
            (
                step_json("[", "court", "court", &act.to_string(), t, 480),
                "procedure",
            ),
            (
                step_json("null", " ", "court", &act.to_string(), t, 480),
                "by",
            ),
            (
                step_json("null", "court", "court", &act.to_string(), f64::NAN, 480),
                "at",
            ),
            (
                step_json("null", "court", "court", &act.to_string(), t, 5000),
                "offset_minutes",
            ),
            (sign_step_json("xyz", &unsigned), "secret"),
            (sign_step_json(&court, "{}"), "step"),
            (
                credential_json(&inst, ["inst", "", "n", "l"], &appraiser_pub, t, 480),
                "appraiser_id",
            ),
            (
                credential_json(&inst, ["inst", "A", "n", "l"], "04ab", t, 480),
                "public_key",
            ),
            (
                revocation_json(&inst, ["inst", "A", "zz", "why"], t, 480),
                "key_id",
            ),
            (
                revocation_json(&inst, ["inst", "A", &"00".repeat(32), " "], t, 480),
                "reason",
            ),
            (draft_missing_json("{}", "{}", "[]"), "procedure"),
        ] {
            let e = e.unwrap_err();
            assert!(e.starts_with(field), "{field}: {e}");
        }
    }
}
