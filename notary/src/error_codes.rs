//! The catalogue of every error code the notary answers with: its HTTP status, what it means
//! and what an app or client should do. One source: a test (`notary/tests/error_codes.rs`)
//! checks that every code the notary's sources can answer is here and nothing here is stale,
//! and writes `bindings/REJECTED-CODES.md`, published with the bindings (an SDK's `Rejected`
//! carries these codes; `DeviceRevoked`, `TokenExpired` and `RateLimited` are mapped from
//! `device_revoked`/`token_revoked`, `token_expired` and `rate_limited`).

/// One error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorCode {
    /// The stable code (`code` of the error body).
    pub code: &'static str,
    /// The HTTP status it comes with.
    pub status: u16,
    /// What it means.
    pub meaning: &'static str,
    /// What the client should do.
    pub action: &'static str,
}

const fn c(
    code: &'static str,
    status: u16,
    meaning: &'static str,
    action: &'static str,
) -> ErrorCode {
    ErrorCode {
        code,
        status,
        meaning,
        action,
    }
}

const FIX: &str = "fix the request (the `field` names the member); retrying as is will fail again";
const RETRY: &str = "retry later (after `Retry-After` seconds when given); nothing was stored";
const QUEUE: &str =
    "keep the proof queued and report it to the officer; retrying as is will fail again";
const ADMIN: &str = "ask the notary's administrator";

/// Every code, by endpoint family.
pub const CATALOGUE: &[ErrorCode] = &[
    // Authentication and access.
    c(
        "unauthorized",
        401,
        "no bearer token, or one the notary does not know",
        "send `Authorization: Bearer <token>`; a device enrols again",
    ),
    c(
        "token_revoked",
        401,
        "the token was revoked by the administrator",
        ADMIN,
    ),
    c(
        "device_revoked",
        401,
        "the device (and its token) was revoked by the administrator",
        "set the device up again and enrol it; its queue stays on the phone",
    ),
    c(
        "token_expired",
        401,
        "the token's lifetime is over",
        "a device enrols again; other roles ask the administrator for a new token",
    ),
    c(
        "forbidden",
        403,
        "the token's role may not use this endpoint",
        "use a token of the role the message names",
    ),
    c(
        "not_granted",
        403,
        "an appraiser token not granted the proof's case",
        ADMIN,
    ),
    c(
        "rate_limited",
        429,
        "over a rate limit (requests, proofs, enrolment attempts or the daily evidence reads)",
        "wait `Retry-After` seconds; a background worker reschedules itself",
    ),
    // Reading requests.
    c("malformed_json", 400, "the body is not JSON", FIX),
    c("duplicate_key", 400, "a JSON object repeats a member", FIX),
    c("bad_body", 400, "the body could not be read", FIX),
    c(
        "bad_request",
        400,
        "the HTTP layer could not read the request",
        FIX,
    ),
    c(
        "bad_query",
        400,
        "a query parameter is not what the endpoint takes",
        FIX,
    ),
    c(
        "bad_item",
        400,
        "an item is addressed by its index in the manifest (0, 1, ...)",
        FIX,
    ),
    c(
        "bad_media_id",
        400,
        "media are addressed by their SM3, 64 lowercase hex digits",
        FIX,
    ),
    c(
        "bad_offset",
        400,
        "the upload offset is not a whole number",
        FIX,
    ),
    c(
        "bad_proof_id",
        400,
        "proofs are addressed by their SM3, 64 lowercase hex digits",
        FIX,
    ),
    c(
        "body_too_large",
        413,
        "the body is larger than the endpoint accepts",
        "send less at once (MAX_BODY_BYTES)",
    ),
    c(
        "batch_too_large",
        413,
        "more proofs in one submission than MAX_BATCH",
        "send the proofs in smaller groups",
    ),
    c(
        "chunk_too_large",
        413,
        "a media chunk larger than MAX_MEDIA_CHUNK_BYTES",
        "upload in smaller chunks",
    ),
    c(
        "body_timeout",
        408,
        "the body stopped arriving (BODY_TIMEOUT_MS)",
        "send it again",
    ),
    c(
        "request_timeout",
        408,
        "the request did not arrive in time",
        "send it again",
    ),
    c(
        "method_not_allowed",
        405,
        "the endpoint does not answer that method (see `Allow`)",
        FIX,
    ),
    c("not_found", 404, "no such endpoint", "see /openapi.json"),
    c(
        "invalid_json",
        422,
        "JSON that does not have the endpoint's shape",
        FIX,
    ),
    c(
        "invalid_request",
        422,
        "a request member is missing or has the wrong type",
        FIX,
    ),
    c(
        "invalid_query",
        422,
        "the query is not one the endpoint takes",
        FIX,
    ),
    c(
        "not_canonical",
        422,
        "a signed document is not in its RFC 8785 canonical form",
        QUEUE,
    ),
    c(
        "float_not_allowed",
        422,
        "a number with a fraction in a signed document (decimals travel as strings)",
        QUEUE,
    ),
    c(
        "integer_out_of_range",
        422,
        "an integer beyond ±2^53 - 1",
        QUEUE,
    ),
    // Enrolment.
    c(
        "invalid_code",
        403,
        "the enrolment code is unknown, used or expired",
        "ask the administrator for a new code",
    ),
    c(
        "invalid_officer",
        422,
        "an officer ID is empty or too long, or an officer's identity (name, 执法证号, unit) breaks its limits",
        FIX,
    ),
    c(
        "already_enrolled",
        409,
        "this device key is already enrolled",
        "keep the existing enrolment; a new device key enrols with a new code",
    ),
    c(
        "unknown_device",
        404,
        "no enrolled device has that key",
        "enrol the device",
    ),
    // Intake.
    c(
        "unknown_type",
        422,
        "the document's `type` is not a proof",
        QUEUE,
    ),
    c(
        "invalid_proof",
        422,
        "the proof breaks a schema or protocol rule (the message says which)",
        QUEUE,
    ),
    c(
        "invalid_value",
        422,
        "a value of the manifest is outside the limits of schemas/manifest.schema.json (`field` names it)",
        QUEUE,
    ),
    c(
        "bad_file_name",
        422,
        "an item's file name has directories or control characters, or is too long",
        QUEUE,
    ),
    c(
        "invalid_hashes",
        422,
        "an item does not carry exactly one SM3 and one SHA-256 digest with their OIDs",
        QUEUE,
    ),
    c(
        "unknown_profile",
        422,
        "the manifest names a forensic profile (id and version) this notary does not know",
        "update the app or the notary so both ship the profile; keep the proof queued",
    ),
    c(
        "profile_mismatch",
        422,
        "the manifest's profile SM3 is not the SM3 of the profile it names",
        QUEUE,
    ),
    c(
        "profile_outcomes",
        422,
        "the recorded outcomes do not list the profile's capture-time requirements in order, record a must as not met, or lack a reason for a should not met",
        QUEUE,
    ),
    c(
        "profile_requirement_not_met",
        422,
        "a requirement recorded as met does not hold on the manifest (the message names the profile.* rule)",
        QUEUE,
    ),
    c(
        "profile_reason_required",
        422,
        "a should of the forensic profile is not met and no reason was given (refused by the SDK at capture, before signing)",
        "give the reason the requirement cannot be met, or meet it, and capture again",
    ),
    c(
        "bad_signature",
        422,
        "the SM2 signature does not verify over the manifest's canonical bytes",
        QUEUE,
    ),
    c(
        "invalid_signature",
        422,
        "the signature block cannot be read (public key, DER)",
        QUEUE,
    ),
    c(
        "wrong_sm2_id",
        422,
        "the SM2 signer ID is not 1234567812345678",
        QUEUE,
    ),
    c(
        "wrong_oid",
        422,
        "the signature's algorithm OID is not SM2-with-SM3",
        QUEUE,
    ),
    c(
        "key_mismatch",
        422,
        "the manifest's key ID is not the signing key's",
        QUEUE,
    ),
    c(
        "device_mismatch",
        422,
        "the proof is signed by another device than the token's",
        "sync each device with its own token",
    ),
    c(
        "unknown_officer",
        404,
        "an officer signed with a key the notary never bound to that officer (403 at intake), or no enrolled, unrevoked officer key has that key ID (404 on revocation)",
        "enrol the officer's key with `tiezheng officer enrol` (a code issued for that officer), then sync again",
    ),
    c(
        "revoked_officer",
        403,
        "an officer signed with a key the administrator revoked",
        "the officer enrols a new key; the proof stays refused as signed",
    ),
    c(
        "bad_officer_signature",
        422,
        "an officer's signature does not verify over the manifest, names someone who is not a collector, or repeats an officer or a key (`field` names the entry)",
        QUEUE,
    ),
    c(
        "revoked_device",
        422,
        "the proof's signing device is revoked",
        "set the device up again and enrol it",
    ),
    c(
        "replayed_sequence",
        409,
        "another proof already holds this device_seq",
        QUEUE,
    ),
    c(
        "chain_mismatch",
        422,
        "the proof's link to the previous manifest contradicts the stored chain",
        QUEUE,
    ),
    // Media.
    c(
        "unknown_media",
        404,
        "no proof declares a file with that SM3",
        "submit the proof first, then its media",
    ),
    c(
        "wrong_offset",
        409,
        "the upload offset is beyond the bytes acknowledged",
        "ask `GET /v1/media/{sm3}/status` and resume there",
    ),
    c(
        "overlap_mismatch",
        409,
        "bytes sent again differ from the bytes already acknowledged",
        "resend the file's own bytes from the acknowledged offset",
    ),
    c(
        "media_too_large",
        422,
        "more bytes than the proof declares for the file",
        "send exactly the declared file",
    ),
    c(
        "media_hash_mismatch",
        422,
        "the complete file's SM3 or SHA-256 differs from the proof's",
        "the file on the phone is not the one signed; report it",
    ),
    c(
        "media_not_uploaded",
        404,
        "the device has not uploaded that file yet",
        "retry after the device has synced",
    ),
    c(
        "media_missing",
        410,
        "recorded as stored but missing from the media store",
        "the operator runs `tiezheng audit`",
    ),
    // Reading evidence.
    c(
        "unknown_proof",
        404,
        "no proof with that SM3 is stored here",
        "check the SM3",
    ),
    c(
        "unknown_item",
        404,
        "the proof has no item with that index",
        "check the index",
    ),
    c(
        "unknown_case",
        404,
        "no evidence of that case is stored here",
        "check the case reference",
    ),
    c(
        "unknown_certificate",
        404,
        "no certificate with that number was issued here",
        "check the number",
    ),
    c(
        "not_deposited",
        404,
        "public check: no certificate with that number was issued here (未存证)",
        "check the number against the certificate",
    ),
    c(
        "invalid_certificate_number",
        400,
        "public check: not a certificate number (TZ-, 8 digits, -, 16 upper-case hex digits)",
        "type the number as printed on the certificate",
    ),
    c(
        "no_thumbnail",
        404,
        "no thumbnail of that file (not a photo the notary decodes, or above 50 megapixels)",
        "open the original",
    ),
    c(
        "not_yet_anchored",
        409,
        "the proof is receipted and waits for its batch to be anchored",
        RETRY,
    ),
    c(
        "certificate_refused",
        500,
        "the proof's bundle failed verification, so no certificate was issued",
        "the operator has been alerted; report the proof",
    ),
    // Administration.
    c(
        "invalid_role",
        422,
        "the role is not appraiser, court, admin or metrics",
        FIX,
    ),
    c(
        "invalid_subject",
        422,
        "the subject is empty or longer than 256 characters",
        FIX,
    ),
    c(
        "invalid_ttl",
        422,
        "the lifetime is not between 1 second and 10 years",
        FIX,
    ),
    c(
        "invalid_case",
        422,
        "a case reference is empty or too long",
        FIX,
    ),
    c(
        "unknown_token",
        404,
        "no active token has that ID",
        "list the tokens (`tiezheng admin tokens`)",
    ),
    // The service.
    c(
        "database_unavailable",
        503,
        "the notary's database is unavailable",
        RETRY,
    ),
    c(
        "notary_unavailable",
        503,
        "the notary could not store the request just now",
        RETRY,
    ),
    c(
        "media_store_unavailable",
        503,
        "the media storage is unavailable; acknowledged bytes are kept",
        RETRY,
    ),
    c(
        "media_store_conflict",
        500,
        "the media storage holds a different object under this SM3",
        "the operator has been alerted; report the file",
    ),
    c(
        "ledger_unavailable",
        503,
        "the ledger cannot be read yet",
        RETRY,
    ),
    c(
        "not_ready",
        503,
        "the notary's database does not answer",
        RETRY,
    ),
    // Judicial appraisal.
    c(
        "appraisals_not_configured",
        409,
        "the notary lists no judicial parties (JUDICIAL_PARTIES_FILE), so it accepts no appraisal",
        ADMIN,
    ),
    c(
        "bad_appraisal_id",
        400,
        "the appraisal is not addressed by the SM3 of its commission (64 lowercase hex digits)",
        FIX,
    ),
    c(
        "unknown_appraisal",
        404,
        "no appraisal with that commission is filed here",
        "check the commission's SM3",
    ),
    c(
        "appraisal_exists",
        409,
        "this commission is already filed",
        "use the procedure already filed (its SM3 is the commission's)",
    ),
    c(
        "commissioned_proof_unknown",
        422,
        "the commission names a proof this notary does not hold",
        "commission evidence deposited with this notary, by its proof's SM3",
    ),
    c(
        "commissioned_file_unknown",
        422,
        "the commission names a file its proof does not list with that SM3",
        FIX,
    ),
    c(
        "appraisal_step_refused",
        422,
        "the step breaks an appraisal.* rule of a procedure under way (the message names it); nothing was stored",
        "correct the step as the rule says, sign it again and resend it",
    ),
    c(
        "appraisal_step_conflict",
        409,
        "another step took this position first, or the step is not the next one",
        "fetch the procedure, chain the step to its last step, sign it again and resend it",
    ),
    c(
        "appraisal_revocation_refused",
        422,
        "the revocation is not the commissioned institution's, does not verify, or reaches back past steps its key already signed (the message names the rule); nothing was stored",
        "sign the revocation with the institution's key, with a `revoked_at` after the key's last step",
    ),
    c(
        "no_draft",
        404,
        "no opinion is being co-signed in this procedure",
        "draft the opinion and sign it (PUT …/draft)",
    ),
    c(
        "not_delivered",
        409,
        "the institution has not delivered the opinion yet",
        "retry after the delivery",
    ),
    c(
        "internal",
        500,
        "the notary failed; nothing was stored",
        RETRY,
    ),
];

/// The catalogue as Markdown (`bindings/REJECTED-CODES.md`).
pub fn markdown() -> String {
    let mut out = String::from(
        "# Error codes of the Tiezheng notary\n\n\
         Generated from `notary/src/error_codes.rs` by `notary/tests/error_codes.rs`; do not edit.\n\
         Every error answer is `{\"code\", \"message\", \"field\"}`; the bindings' `Rejected` carries\n\
         `code`, `reason` (the message) and `field`. `device_revoked` and `token_revoked` arrive as\n\
         `DeviceRevoked`, `token_expired` as `TokenExpired`, `rate_limited` as `RateLimited` (with the\n\
         seconds to wait); a proof refused during a sync is reported in `SyncReport.refused` and\n\
         stays queued.\n\n\
         | code | HTTP | meaning | what to do |\n|---|---|---|---|\n",
    );
    for e in CATALOGUE {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            e.code, e.status, e.meaning, e.action
        ));
    }
    out
}
