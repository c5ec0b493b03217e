//! The OpenAPI 3.1 description of the HTTP API, generated from the same schemas as `schemas/`
//! and committed as `notary/openapi.json` (a test fails when they drift).

use serde_json::{Map, Value, json};

/// The committed document, served at `/openapi.json`.
pub const OPENAPI_JSON: &str = include_str!("../openapi.json");

// serde_json::Value indexing on objects inserts or yields Null: it never panics here.
#[allow(clippy::indexing_slicing)]
fn op(
    summary: &str,
    roles: &str,
    request: Option<&str>,
    ok: (&str, Option<&str>),
    errors: &[&str],
) -> Value {
    let mut o = json!({
        "summary": summary,
        "description": format!("Allowed: {roles}. Errors use the ApiError shape with a stable `code`."),
        "responses": {},
    });
    if roles != "anyone" && roles != "holders of a one-time enrolment code" {
        o["security"] = json!([{"bearer": []}]);
    }
    if let Some(schema) = request {
        o["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}});
    }
    let mut responses = Map::new();
    let ok_body = match ok.1 {
        Some(s) => {
            json!({"description": "success", "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{s}")}}}})
        }
        None => json!({"description": "success"}),
    };
    responses.insert(ok.0.to_owned(), ok_body);
    for code in errors {
        responses.insert((*code).to_owned(), json!({"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/api-error"}}}}));
    }
    o["responses"] = Value::Object(responses);
    o
}

/// Builds the document.
pub fn document() -> Value {
    let mut schemas = Map::new();
    for (stem, s) in tiezheng_protocol::schema::all() {
        schemas.insert(
            stem.to_owned(),
            serde_json::to_value(s).unwrap_or(Value::Null),
        );
    }
    let auth = ["401", "403"];
    let with = |extra: &[&'static str]| -> Vec<&'static str> {
        auth.iter().copied().chain(extra.iter().copied()).collect()
    };
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Tiezheng notary",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Enrols devices, receives SM2-signed evidence proofs and media, answers with SM2-signed receipts, keeps a hash-chained custody log. Request bodies of /v1/proofs must be RFC 8785 canonical JSON."
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": schemas,
        },
        "paths": {
            "/healthz": {"get": op("Liveness", "anyone", None, ("200", None), &[])},
            "/readyz": {"get": op("Readiness (database reachable)", "anyone", None, ("200", None), &["503"])},
            "/metrics": {"get": op("Prometheus metrics", "anyone", None, ("200", None), &[])},
            "/openapi.json": {"get": op("This document", "anyone", None, ("200", None), &[])},
            "/v1/notary": {"get": op("The notary's SM2 public key and key ID", "anyone", None, ("200", None), &[])},
            "/v1/enrolment-codes": {"post": op("Create a one-time enrolment code for an officer ({\"officer_id\"})", "admin", None, ("201", None), &with(&["400", "422"]))},
            "/v1/enrol": {"post": op("Enrol a device with a code and proof of possession of its SM2 key", "holders of a one-time enrolment code", Some("enrolment-request"), ("201", Some("enrolment-response")), &["400", "403", "409", "422"])},
            "/v1/devices/{key_id}/revoke": {"post": op("Revoke a device and its tokens", "admin", None, ("200", None), &with(&["404"]))},
            "/v1/tokens": {"post": op("Create an appraiser, court or admin token ({\"role\",\"subject\",\"ttl_seconds\",\"cases\"})", "admin", None, ("201", None), &with(&["400", "422"]))},
            "/v1/tokens/{token_id}": {"delete": op("Revoke a token", "admin", None, ("200", None), &with(&["404"]))},
            "/v1/proofs": {"post": op("Submit one proof, or {\"proofs\": [...]}; each is stored before its signed receipt is returned", "device", Some("proof"), ("200", Some("submit-response")), &with(&["400", "409", "413", "422"]))},
            "/v1/proofs/{proof_sm3}": {"get": op("Read a proof with its receipt, media and custody log (logged as a custody event)", "appraiser granted the case, court, admin", None, ("200", None), &with(&["400", "404"]))},
            "/v1/proofs/{proof_sm3}/media/{item}": {"get": op("Download an original file (logged as a custody event)", "appraiser granted the case, court, admin", None, ("200", None), &with(&["404"]))},
            "/v1/proofs/{proof_sm3}/bundle": {"get": op("The offline proof bundle once the proof's batch is anchored (409 until then; logged as a custody event)", "appraiser granted the case, court, admin", None, ("200", Some("bundle")), &with(&["404", "409"]))},
            "/v1/cases": {"get": op("The cases this token may read: an appraiser's granted cases, every case for court and admin (the portal's workspace)", "appraiser, court, admin", None, ("200", None), &with(&[]))},
            "/v1/cases/items": {"get": op("The evidence items of the case ?reference=… as their signed manifests list them (an appraiser not granted the case gets 403 not_granted)", "appraiser granted the case, court, admin", None, ("200", None), &with(&["404"]))},
            "/v1/proofs/{proof_sm3}/thumbnail/{item}": {"get": op("A PNG thumbnail (at most 320 pixels a side) of a stored photo (logged as a custody event)", "appraiser granted the case, court, admin", None, ("200", None), &with(&["404"]))},
            "/v1/ledger/policy": {"get": op("The keys of this notary's ledger (courts pin their own copy)", "anyone", None, ("200", Some("policy")), &[])},
            "/v1/media/{sm3}": {"put": op("Append a chunk of a media file at ?offset=N (resumable); verified against the proof's SM3 and SHA-256 when complete", "device", None, ("201", None), &with(&["400", "404", "409", "413", "422"]))},
            "/v1/media/{sm3}/status": {"get": op("Upload progress of a media file", "device, admin", None, ("200", None), &with(&["404"]))},
        }
    })
}

/// The exact committed text.
pub fn render() -> String {
    let mut s = serde_json::to_string_pretty(&document()).unwrap_or_default();
    s.push('\n');
    s
}
