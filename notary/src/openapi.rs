//! The OpenAPI 3.1 description of the HTTP API, generated from the same schemas as `schemas/`
//! and committed as `notary/openapi.json` (a test fails when they drift). Every path
//! parameter, query parameter, request body and answered status is described, and every
//! `$ref` resolves inside the document: the protocol schemas' `$defs` become components.

use serde_json::{Map, Value, json};

/// The committed document, served at `/openapi.json`.
pub const OPENAPI_JSON: &str = include_str!("../openapi.json");

fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn json_content(schema: Value) -> Value {
    let mut media = Map::new();
    media.insert("schema".into(), schema);
    let mut content = Map::new();
    content.insert("application/json".into(), Value::Object(media));
    Value::Object(content)
}

/// The judicial appraisal paths (`api/appraisals.rs`).
fn appraisal_paths() -> Value {
    json!({
        "/v1/judicial-parties": {"get": Op::new("The courts and appraisal institutions whose steps this notary accepts (JUDICIAL_PARTIES_FILE): ids, roles and public keys", "appraiser, court, admin")
            .ok("200", "the parties", Some(json!({"type": "object", "required": ["parties"], "properties": {"parties": {"type": "array", "items": schema_ref("Party")}}}))).errors(&["409"]).build()},
        "/v1/appraisals/{commission_sm3}/revocations": {"post": Op::new("The institution's signed revocation of an appraiser's key (tiezheng.appraiser-revocation.v1), on its own: checked with the procedure's rules (the institution's key; no stored step signed with that key at or after revoked_at); from then on no step signed with that key is accepted. 201 when new, 200 when already held", "appraiser, court, admin")
            .param(path_param("commission_sm3", "SM3 of the signed commission", hex64()))
            .json_body(json!({"type": "object", "additionalProperties": false, "required": ["revocation"], "properties": {"revocation": schema_ref("SignedAppraiserRevocation")}}))
            .ok("200", "already held", Some(schema_ref("appraisal-revocation-stored")))
            .ok("201", "stored", Some(schema_ref("appraisal-revocation-stored"))).errors(&["400", "404", "409", "422"]).build()},
        "/v1/appraisals/{commission_sm3}/draft": {
            "get": Op::new("The opinion being co-signed and who has still to sign it (the institution and every assigned appraiser sign the one opinion)", "appraiser, court, admin")
                .param(path_param("commission_sm3", "SM3 of the signed commission", hex64()))
                .ok("200", "the draft", Some(schema_ref("appraisal-draft"))).errors(&["400", "404", "409"]).build(),
            "put": Op::new("Draft or co-sign the opinion: the same opinion as the draft kept adds its signatures, another replaces it; checked against the procedure (appraisal.* rules, signatures only by its signers, 422 otherwise). Once everyone has signed it is appended as the next step (201); until then it is kept (200) with who is missing", "appraiser, court, admin")
                .param(path_param("commission_sm3", "SM3 of the signed commission", hex64()))
                .json_body(json!({"type": "object", "additionalProperties": false, "required": ["step"], "properties": {"step": schema_ref("SignedStep")}}))
                .ok("200", "kept, with who is missing", Some(schema_ref("appraisal-draft")))
                .ok("201", "signed by everyone and appended", Some(schema_ref("appraisal-step-stored"))).errors(&["400", "404", "409", "422"]).build(),
        },
        "/v1/appraisals": {"get": Op::new("The procedures filed here, newest first (at most 200): case, court, institution, questions, deadline, and the last step", "appraiser, court, admin")
            .ok("200", "the procedures", Some(json!({"type": "object", "required": ["appraisals"], "properties": {"appraisals": {"type": "array", "items": {"type": "object", "required": ["commission_sm3", "case_reference", "court", "institution", "questions", "items", "deadline", "steps", "last_act", "last_by", "last_at"], "properties": {
                "commission_sm3": hex64(), "case_reference": {"type": "string"}, "court": {"type": "string"}, "institution": {"type": "string"},
                "questions": {"type": "array", "items": {"type": "string"}}, "items": {"type": "integer", "minimum": 1}, "deadline": schema_ref("Timestamp"),
                "steps": {"type": "integer", "minimum": 1}, "last_act": {"type": "string"}, "last_by": {"type": "string"}, "last_at": schema_ref("Timestamp"),
            }}}}}))).build(),
            "post": Op::new("File a court's signed commission (委托) of evidence held here: checked against the judicial parties (JUDICIAL_PARTIES_FILE) and the appraisal.* rules of a procedure under way; answered with the commission's SM3, which addresses the procedure", "court, admin")
            .json_body(schema_ref("appraisal-step-request"))
            .ok("201", "filed", Some(schema_ref("appraisal-step-stored"))).errors(&["409", "422"]).build()},
        "/v1/appraisals/{commission_sm3}": {"get": Op::new("The procedure so far (signed steps, credentials, revocations; no bundles), to chain the next step to its last", "appraiser, court, admin")
            .param(path_param("commission_sm3", "SM3 of the signed commission", hex64()))
            .ok("200", "the procedure", Some(schema_ref("appraisal-opinion"))).errors(&["400", "404"]).build()},
        "/v1/appraisals/{commission_sm3}/steps": {"post": Op::new("Add the next signed step (acceptance, assignment, declaration, material receipt, record entry, opinion, review, delivery) with the credentials and revocations it relies on; refused with its appraisal.* rule (422) or as a conflict when another step took its position (409), nothing stored", "appraiser, court, admin")
            .param(path_param("commission_sm3", "SM3 of the signed commission", hex64()))
            .json_body(schema_ref("appraisal-step-request"))
            .ok("201", "stored", Some(schema_ref("appraisal-step-stored"))).errors(&["400", "404", "409", "422"]).build()},
        "/v1/appraisals/{commission_sm3}/opinion": {"get": Op::new("The delivered opinion (鉴定意见书) with the bundle of every proof it names, verified against the ledger's policy and the judicial parties before it is served (409 until delivered and anchored)", "court, admin")
            .param(path_param("commission_sm3", "SM3 of the signed commission", hex64()))
            .ok("200", "the opinion package", Some(schema_ref("appraisal-opinion"))).errors(&["400", "404", "409"]).build()},
        "/v1/appraisals/{commission_sm3}/opinion.pdf": {"get": Op::new("The delivered opinion as PDF/A-3u (司法鉴定意见书, bilingual, QR code to the verify page), the signed opinion package with its evidence bundles attached (409 until delivered and anchored)", "court, admin")
            .param(path_param("commission_sm3", "SM3 of the signed commission", hex64()))
            .ok("200", "the PDF", Some(json!({"x-pdf": true}))).errors(&["400", "404", "409", "500"]).build()},
    })
}

/// Why each error status is answered.
fn error_meaning(status: &str) -> &'static str {
    match status {
        "400" => "malformed request: not JSON, a bad path or query parameter",
        "401" => "no, unknown, expired or revoked bearer token",
        "403" => "the token's role may not do this, or the credential is refused",
        "404" => "no such resource",
        "408" => "the request body stopped arriving (BODY_TIMEOUT_MS)",
        "409" => "conflicts with what is stored",
        "410" => "recorded as stored but missing from the media store (see `tiezheng audit`)",
        "413" => "the body (or the batch) is too large",
        "422" => "well-formed but refused; `field` names the value at fault",
        "429" => "over a rate limit; retry after `Retry-After` seconds",
        "503" => {
            "the database, the media storage or the ledger is unavailable; retry later (nothing was stored beyond what was acknowledged)"
        }
        _ => "error",
    }
}

/// An operation: who may call it, its parameters, body and answers.
struct Op {
    summary: &'static str,
    roles: &'static str,
    params: Vec<Value>,
    body: Option<Value>,
    ok: Vec<(&'static str, &'static str, Option<Value>)>,
    errors: Vec<&'static str>,
}

impl Op {
    fn new(summary: &'static str, roles: &'static str) -> Self {
        Self {
            summary,
            roles,
            params: Vec::new(),
            body: None,
            ok: Vec::new(),
            errors: Vec::new(),
        }
    }

    fn authenticated(&self) -> bool {
        self.roles != "anyone" && self.roles != "holders of a one-time enrolment code"
    }

    fn param(mut self, p: Value) -> Self {
        self.params.push(p);
        self
    }

    fn json_body(mut self, schema: Value) -> Self {
        self.body = Some(json!({"required": true, "content": json_content(schema)}));
        self
    }

    fn ok(mut self, status: &'static str, what: &'static str, schema: Option<Value>) -> Self {
        self.ok.push((status, what, schema));
        self
    }

    fn errors(mut self, errors: &[&'static str]) -> Self {
        self.errors.extend_from_slice(errors);
        self
    }

    fn build(mut self) -> Value {
        let authenticated = self.authenticated();
        if authenticated {
            self.errors.extend_from_slice(&["401", "403", "429", "503"]);
        }
        if self.body.is_some() {
            self.errors.extend_from_slice(&["400", "408", "413", "422"]);
        }
        let mut responses = Map::new();
        for (status, what, schema) in self.ok {
            let mut r = json!({"description": what});
            if let (Some(s), Some(o)) = (schema, r.as_object_mut()) {
                let content = if s.get("format").and_then(Value::as_str) == Some("binary") {
                    json!({"application/octet-stream": {"schema": s}})
                } else if s.get("x-text").is_some() {
                    json!({"text/plain": {"schema": {"type": "string"}}})
                } else if s.get("x-pdf").is_some() {
                    json!({"application/pdf": {"schema": {"type": "string", "format": "binary"}}})
                } else if s.get("x-html").is_some() {
                    json!({"text/html": {"schema": {"type": "string"}}})
                } else {
                    json_content(s)
                };
                o.insert("content".into(), content);
            }
            responses.insert(status.to_owned(), r);
        }
        self.errors.sort_unstable();
        self.errors.dedup();
        for status in self.errors {
            let mut r = json!({
                "description": error_meaning(status),
                "content": json_content(schema_ref("api-error")),
            });
            if (status == "429" || status == "503")
                && let Some(o) = r.as_object_mut()
            {
                o.insert(
                    "headers".into(),
                    json!({"Retry-After": {"description": "seconds to wait", "schema": {"type": "string", "pattern": "^[0-9]+$"}}}),
                );
            }
            responses.insert(status.to_owned(), r);
        }
        let mut o = Map::new();
        o.insert("summary".into(), self.summary.into());
        o.insert(
            "description".into(),
            format!(
                "Allowed: {}. Errors are `{{code, message, field}}` (api-error) with a stable `code`.",
                self.roles
            )
            .into(),
        );
        if authenticated {
            o.insert("security".into(), json!([{"bearer": []}]));
        }
        if !self.params.is_empty() {
            o.insert("parameters".into(), Value::Array(self.params));
        }
        if let Some(b) = self.body {
            o.insert("requestBody".into(), b);
        }
        o.insert("responses".into(), Value::Object(responses));
        Value::Object(o)
    }
}

fn path_param(name: &str, description: &str, schema: Value) -> Value {
    let mut p = json!({"name": name, "in": "path", "required": true, "description": description});
    if let Some(o) = p.as_object_mut() {
        o.insert("schema".into(), schema);
    }
    p
}

fn hex64() -> Value {
    json!({"type": "string", "pattern": "^[0-9a-f]{64}$"})
}

/// Moves every `$defs` entry of `schema` into `defs` and points its `$ref`s there; drops
/// `$id` and `$schema`, which would change how references inside resolve.
fn hoist(schema: &mut Value, defs: &mut Map<String, Value>) {
    match schema {
        Value::Object(o) => {
            o.remove("$id");
            o.remove("$schema");
            if let Some(Value::Object(d)) = o.remove("$defs") {
                for (name, mut def) in d {
                    hoist(&mut def, defs);
                    defs.entry(name).or_insert(def);
                }
            }
            if let Some(Value::String(r)) = o.get_mut("$ref")
                && let Some(name) = r.strip_prefix("#/$defs/")
            {
                *r = format!("#/components/schemas/{name}");
            }
            for v in o.values_mut() {
                hoist(v, defs);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|v| hoist(v, defs)),
        _ => {}
    }
}

/// Schemas of the answers and requests that are not protocol documents.
fn service_schemas() -> Vec<(&'static str, Value)> {
    let string = json!({"type": "string"});
    vec![
        (
            "status",
            json!({"type": "object", "required": ["status"], "properties": {"status": string}}),
        ),
        (
            "notary-key",
            json!({"type": "object", "required": ["public_key", "key_id", "sm2_id"], "properties": {
                "public_key": {"type": "string", "pattern": "^04[0-9a-f]{128}$"},
                "key_id": hex64(),
                "sm2_id": string,
            }}),
        ),
        (
            "appraisal-step-request",
            json!({"type": "object", "additionalProperties": false, "required": ["step"], "properties": {
                "step": schema_ref("SignedStep"),
                "credentials": {"type": "array", "items": schema_ref("SignedAppraiserCredential")},
                "revocations": {"type": "array", "items": schema_ref("SignedAppraiserRevocation")},
            }}),
        ),
        (
            "appraisal-revocation-stored",
            json!({"type": "object", "required": ["commission_sm3", "revocation_sm3", "appraiser_id", "key_id", "revoked_at"], "properties": {
                "commission_sm3": hex64(), "revocation_sm3": hex64(), "appraiser_id": string, "key_id": hex64(), "revoked_at": schema_ref("Timestamp"),
            }}),
        ),
        (
            "appraisal-draft",
            json!({"type": "object", "required": ["draft", "missing"], "properties": {
                "draft": schema_ref("SignedStep"), "missing": {"type": "array", "items": string},
                "commission_sm3": hex64(), "seq": {"type": "integer", "minimum": 0}, "replaced": {"type": "boolean"},
            }}),
        ),
        (
            "appraisal-step-stored",
            json!({"type": "object", "required": ["commission_sm3", "seq", "step_sm3", "act"], "properties": {
                "commission_sm3": hex64(), "seq": {"type": "integer", "minimum": 0}, "step_sm3": hex64(), "act": string,
            }}),
        ),
        (
            "enrolment-code-request",
            json!({"type": "object", "additionalProperties": false, "required": ["officer_id"], "properties": {
                "officer_id": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": "\\S"},
            }}),
        ),
        (
            "enrolment-code",
            json!({"type": "object", "required": ["code", "officer_id", "expires_at"], "properties": {
                "code": string, "officer_id": string, "expires_at": schema_ref("Timestamp"),
            }}),
        ),
        (
            "token-request",
            json!({"type": "object", "additionalProperties": false, "required": ["role", "subject"], "properties": {
                "role": {"enum": ["appraiser", "court", "admin", "metrics"]},
                "subject": {"type": "string", "minLength": 1, "maxLength": 256},
                "ttl_seconds": {"type": ["integer", "null"], "minimum": 1, "maximum": 315_360_000},
                "cases": {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 128}},
            }}),
        ),
        (
            "token",
            json!({"type": "object", "required": ["token", "token_id", "role", "expires_at"], "properties": {
                "token": string, "token_id": string, "role": string, "expires_at": schema_ref("Timestamp"),
            }}),
        ),
        (
            "token-list",
            json!({"type": "object", "required": ["tokens"], "properties": {"tokens": {"type": "array", "items": {
            "type": "object", "required": ["token_id", "role", "subject", "created_at", "expires_at", "revoked_at", "cases"], "properties": {
                "token_id": string, "role": string, "subject": string,
                "created_at": schema_ref("Timestamp"),
                "expires_at": {"oneOf": [schema_ref("Timestamp"), {"type": "null"}]},
                "revoked_at": {"oneOf": [schema_ref("Timestamp"), {"type": "null"}]},
                "cases": {"type": "array", "items": string},
            }}}}}),
        ),
        (
            "revoked",
            json!({"type": "object", "required": ["revoked"], "properties": {"revoked": string}}),
        ),
        (
            "proof-batch",
            json!({"type": "object", "additionalProperties": false, "required": ["proofs"], "properties": {
                "proofs": {"type": "array", "items": schema_ref("proof")},
            }}),
        ),
        (
            "custody-event",
            json!({"type": "object", "required": ["seq", "proof_sm3", "event", "actor", "at", "detail", "prev_hash", "hash"], "properties": {
                "seq": {"type": "integer"}, "proof_sm3": hex64(), "event": string, "actor": string,
                "at": {"type": "integer"}, "detail": string, "prev_hash": hex64(), "hash": hex64(),
            }}),
        ),
        (
            "proof-record",
            json!({"type": "object", "required": ["proof", "receipt", "media", "custody", "custody_page"], "properties": {
                "proof": schema_ref("proof"),
                "receipt": schema_ref("receipt"),
                "media": {"type": "array", "items": {"type": "object", "required": ["item", "sm3", "file_name", "stored"], "properties": {
                    "item": {"type": "integer", "minimum": 0}, "sm3": hex64(), "file_name": string, "stored": {"type": "boolean"},
                }}},
                "custody": {"type": "array", "items": schema_ref("custody-event")},
                "custody_page": {"type": "object", "required": ["events", "head", "repeats_pending", "older"], "properties": {
                    "events": {"type": "integer", "minimum": 0},
                    "head": {"oneOf": [{"type": "null"}, {"type": "object", "required": ["seq", "hash"], "properties": {"seq": {"type": "integer"}, "hash": hex64()}}]},
                    "repeats_pending": {"type": "integer", "minimum": 0},
                    "older": {"type": ["string", "null"]},
                }},
            }}),
        ),
        (
            "media-status",
            json!({"type": "object", "required": ["sm3", "bytes", "received", "complete"], "properties": {
                "sm3": hex64(), "bytes": {"type": "integer", "minimum": 0},
                "received": {"type": "integer", "minimum": 0}, "complete": {"type": "boolean"},
            }}),
        ),
    ]
}

/// Builds the document.
pub fn document() -> Value {
    let mut schemas = Map::new();
    let mut defs = Map::new();
    for (stem, s) in tiezheng_protocol::schema::all() {
        let mut v = serde_json::to_value(s).unwrap_or(Value::Null);
        hoist(&mut v, &mut defs);
        schemas.insert(stem.to_owned(), v);
    }
    for (name, def) in defs {
        schemas.entry(name).or_insert(def);
    }
    for (name, s) in service_schemas() {
        schemas.insert(name.to_owned(), s);
    }
    let proof_sm3 = path_param("proof_sm3", "SM3 of the proof", hex64());
    let media_sm3 = path_param("sm3", "SM3 of the media file", hex64());
    let binary = json!({"type": "string", "format": "binary"});
    let text = json!({"x-text": true});
    let mut paths = json!({
        "/healthz": {"get": Op::new("Liveness", "anyone").ok("200", "the process answers", Some(schema_ref("status"))).build()},
        "/readyz": {"get": Op::new("Readiness: the database answers (503 if not); `status` is `degraded`, with `anchoring.cause`, while proofs wait longer than ANCHORING_STALL_MS for a complete bundle (receipts go on)", "anyone").ok("200", "ready or degraded", Some(schema_ref("status"))).errors(&["503"]).build()},
        "/metrics": {"get": Op::new("Prometheus metrics (also without a token on METRICS_LISTEN, when set)", "metrics, admin").ok("200", "Prometheus text format", Some(text)).build()},
        "/openapi.json": {"get": Op::new("This document", "anyone").ok("200", "OpenAPI 3.1", Some(json!({"type": "object"}))).build()},
        "/v1/notary": {"get": Op::new("The notary's SM2 public key and key ID", "anyone").ok("200", "the key", Some(schema_ref("notary-key"))).build()},
        "/v1/enrolment-codes": {"post": Op::new("Create a one-time enrolment code for an officer", "admin")
            .json_body(schema_ref("enrolment-code-request"))
            .ok("201", "the code (shown once)", Some(schema_ref("enrolment-code"))).build()},
        "/v1/enrol": {"post": Op::new("Enrol a device with a code and proof of possession of its SM2 key", "holders of a one-time enrolment code")
            .json_body(schema_ref("enrolment-request"))
            .ok("201", "the device certificate and token", Some(schema_ref("enrolment-response")))
            .errors(&["403", "409", "429", "503"]).build()},
        "/v1/devices/{key_id}/revoke": {"post": Op::new("Revoke a device and its tokens", "admin")
            .param(path_param("key_id", "SM3 of the device's public key", json!({"type": "string"})))
            .ok("200", "revoked", Some(schema_ref("revoked"))).errors(&["404"]).build()},
        "/v1/officers": {"post": Op::new("Bind an officer's own SM2 key to the officer a one-time code was issued for (proof of possession), through an enrolled device", "device")
            .json_body(schema_ref("officer-enrolment"))
            .ok("201", "the officer's credential, signed by the notary", Some(schema_ref("officer-certificate")))
            .errors(&["403", "409"]).build()},
        "/v1/officers/{key_id}/revoke": {"post": Op::new("Revoke an officer's key: proofs it signs are refused", "admin")
            .param(path_param("key_id", "SM3 of the officer's public key", json!({"type": "string"})))
            .ok("200", "revoked", Some(schema_ref("revoked"))).errors(&["404"]).build()},
        "/v1/tokens": {"post": Op::new("Create an appraiser, court, admin or metrics token; appraisers are granted `cases`", "admin")
            .json_body(schema_ref("token-request"))
            .ok("201", "the token (shown once)", Some(schema_ref("token"))).build(),
            "get": Op::new("List the active tokens (`all=true`: revoked and expired ones too), newest first; never their secrets", "admin")
            .param(json!({"name": "all", "in": "query", "required": false, "description": "revoked and expired tokens too", "schema": {"type": "boolean"}}))
            .ok("200", "the tokens", Some(schema_ref("token-list"))).errors(&["422"]).build()},
        "/v1/tokens/{token_id}": {"delete": Op::new("Revoke a token", "admin")
            .param(path_param("token_id", "the token's public ID", json!({"type": "string"})))
            .ok("200", "revoked", Some(schema_ref("revoked"))).errors(&["404"]).build()},
        "/v1/proofs": {"post": Op::new("Submit one proof, or {\"proofs\": [...]}, as RFC 8785 canonical JSON; each is stored before its signed receipt is returned (a batch answers each proof's receipt or error in `results`)", "device")
            .json_body(json!({"oneOf": [schema_ref("proof"), schema_ref("proof-batch")]}))
            .ok("200", "receipts (and per-proof errors of a batch)", Some(schema_ref("submit-response")))
            .errors(&["409", "503"]).build()},
        "/v1/proofs/{proof_sm3}": {"get": Op::new("Read a proof with its receipt, media and custody log (logged as a custody event)", "appraiser granted the case, court, admin")
            .param(proof_sm3.clone())
            .param(json!({"name": "custody_before", "in": "query", "required": false, "description": "custody events before this sequence number (the newest page when absent)", "schema": {"type": "integer", "minimum": 0, "maximum": 9_007_199_254_740_991u64}}))
            .param(json!({"name": "custody_limit", "in": "query", "required": false, "description": "custody events per page (default 100)", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}}))
            .ok("200", "the proof record", Some(schema_ref("proof-record"))).errors(&["400", "404"]).build()},
        "/v1/proofs/{proof_sm3}/media/{item}": {"get": Op::new("Download an original file (logged as a custody event)", "appraiser granted the case, court, admin")
            .param(proof_sm3.clone())
            .param(path_param("item", "index of the item in the manifest", json!({"type": "integer", "minimum": 0})))
            .ok("200", "the original bytes", Some(binary.clone())).errors(&["400", "404", "410"]).build()},
        "/v1/proofs/{proof_sm3}/bundle": {"get": Op::new("The offline proof bundle once the proof's batch is anchored (409 until then; logged as a custody event)", "appraiser granted the case, court, admin")
            .param(proof_sm3.clone())
            .ok("200", "the bundle", Some(schema_ref("bundle"))).errors(&["400", "404", "409"]).build()},
        "/v1/proofs/{proof_sm3}/certificate": {"get": Op::new("The notarised certificate (存证证书) of an anchored proof, issued once after the complete verifier passed on its bundle (409 with Retry-After until anchored; 500 certificate_refused if the bundle fails verification; logged as a custody event)", "appraiser granted the case, court, admin")
            .param(proof_sm3.clone())
            .ok("200", "the signed certificate", Some(schema_ref("certificate"))).errors(&["400", "404", "409", "500"]).build()},
        "/v1/proofs/{proof_sm3}/certificate.pdf": {"get": Op::new("The certificate as PDF/A-3u with the signed certificate attached (as for the JSON)", "appraiser granted the case, court, admin")
            .param(proof_sm3.clone())
            .ok("200", "the PDF", Some(json!({"x-pdf": true}))).errors(&["400", "404", "409", "500"]).build()},
        "/v1/certificates/{number}": {"get": Op::new("A certificate by its number, e.g. TZ-20261121-3F9AC2B177D0E41A, as JSON; with the suffix .pdf (…/{number}.pdf) as PDF/A-3u (logged as a custody event)", "appraiser granted the case, court, admin")
            .param(path_param("number", "the certificate number, optionally followed by .pdf", json!({"type": "string", "maxLength": 80})))
            .ok("200", "the signed certificate (JSON), or the PDF for a number ending in .pdf", Some(schema_ref("certificate"))).errors(&["400", "404", "409", "500"]).build()},
        "/v1/cases": {"get": Op::new("The cases this token may read: an appraiser's granted cases, every case for court and admin (the portal's workspace)", "appraiser, court, admin")
            .ok("200", "the cases", Some(json!({"type": "object"}))).build()},
        "/v1/cases/items": {"get": Op::new("The evidence items of the case ?reference=… as their signed manifests list them (an appraiser not granted the case gets 403 not_granted)", "appraiser granted the case, court, admin")
            .param(json!({"name": "reference", "in": "query", "required": true, "description": "the case reference", "schema": {"type": "string", "minLength": 1, "maxLength": 128}}))
            .ok("200", "the items", Some(json!({"type": "object"}))).errors(&["400", "404"]).build()},
        "/v1/proofs/{proof_sm3}/thumbnail/{item}": {"get": Op::new("A PNG thumbnail (at most 320 pixels a side) of a stored photo (logged as a custody event)", "appraiser granted the case, court, admin")
            .param(proof_sm3.clone())
            .param(path_param("item", "index of the item in the manifest", json!({"type": "integer", "minimum": 0})))
            .ok("200", "the PNG", Some(json!({"type": "string", "format": "binary"}))).errors(&["400", "404", "410", "422"]).build()},
        "/v1/ledger/policy": {"get": Op::new("The ledger's genesis policy: every bundle of this ledger verifies with it, before and after registry changes (courts pin their own copy)", "anyone").ok("200", "the genesis policy", Some(schema_ref("policy"))).errors(&["503"]).build()},
        "/v1/public/certificates/{number}": {"get": Op::new("The public digest of the certificate `number` (its number, SM3, issuer and issue time, the files' sizes and digests, the ledger layers; no personal data), signed by this notary: what the public check page /check verifies. Limited per client address (PUBLIC_CHECKS_PER_MINUTE); every answer, found or not, leaves no earlier than 150 ms after the request", "anyone")
            .param(path_param("number", "the certificate number as printed on it (anything else is answered 400 invalid_certificate_number)", json!({"type": "string", "pattern": "^TZ-[0-9]{8}-[0-9A-F]{16}$"})))
            .ok("200", "the signed public digest", Some(schema_ref("public-digest"))).errors(&["400", "404", "429"]).build()},
        "/v1/media/{sm3}": {"put": {
            // Built by hand: the body is the file's bytes, not JSON.
            "summary": "Send a chunk of a media file starting at ?offset=N (resumable); bytes overlapping acknowledged ones must be identical; verified against this device's proof (SM3 and SHA-256) when complete",
            "description": "Allowed: device. Errors are `{code, message, field}` (api-error) with a stable `code`.",
            "security": [{"bearer": []}],
            "parameters": [
                media_sm3.clone(),
                {"name": "offset", "in": "query", "required": true, "description": "where the chunk starts: at most the bytes already acknowledged", "schema": {"type": "integer", "minimum": 0, "maximum": 9_007_199_254_740_991u64}},
            ],
            "requestBody": {"required": true, "content": {"application/octet-stream": {"schema": binary}}},
            "responses": media_put_responses(),
        }},
        "/v1/media/{sm3}/status": {"get": Op::new("Upload progress of a media file (a device sees its own upload)", "device, admin")
            .param(media_sm3)
            .ok("200", "progress", Some(schema_ref("media-status"))).errors(&["400", "404"]).build()},
    });
    if let (Some(all), Value::Object(more)) = (paths.as_object_mut(), appraisal_paths()) {
        all.extend(more);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Tiezheng notary",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Enrols devices, receives SM2-signed evidence proofs and media, answers with SM2-signed receipts, keeps a hash-chained custody log. Request bodies of /v1/proofs must be RFC 8785 canonical JSON. A wrong method on a path is answered 405 with `Allow`."
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": schemas,
        },
        "paths": paths,
    })
}

fn media_put_responses() -> Value {
    let status = json_content(schema_ref("media-status"));
    let mut r = Map::new();
    r.insert(
        "200".into(),
        json!({"description": "already stored", "content": status}),
    );
    r.insert(
        "201".into(),
        json!({"description": "complete, verified and stored", "content": status}),
    );
    r.insert(
        "202".into(),
        json!({"description": "chunk acknowledged", "content": status}),
    );
    for s in [
        "400", "401", "403", "404", "408", "409", "413", "422", "429", "503",
    ] {
        r.insert(
            s.into(),
            json!({"description": error_meaning(s), "content": json_content(schema_ref("api-error"))}),
        );
    }
    Value::Object(r)
}

/// The exact committed text.
pub fn render() -> String {
    let mut s = serde_json::to_string_pretty(&document()).unwrap_or_default();
    s.push('\n');
    s
}
