-- Tiezheng notary schema. Portable SQL: the same migration runs on SQLite and PostgreSQL
-- (BIGINT and TEXT only; booleans as 0/1; times as Unix milliseconds).

CREATE TABLE enrolment_codes (
    code_sm3    TEXT PRIMARY KEY,
    officer_id  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);

CREATE TABLE devices (
    key_id        TEXT PRIMARY KEY,
    public_key    TEXT NOT NULL,
    enrolment_id  TEXT NOT NULL UNIQUE,
    officer_id    TEXT NOT NULL,
    device_id     TEXT NOT NULL,
    model         TEXT NOT NULL,
    os            TEXT NOT NULL,
    certificate   TEXT NOT NULL,
    enrolled_at   BIGINT NOT NULL,
    revoked_at    BIGINT
);

CREATE TABLE tokens (
    token_sm3   TEXT PRIMARY KEY,
    token_id    TEXT NOT NULL UNIQUE,
    role        TEXT NOT NULL,
    subject     TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);

CREATE TABLE grants (
    token_id        TEXT NOT NULL,
    case_reference  TEXT NOT NULL,
    PRIMARY KEY (token_id, case_reference)
);

CREATE TABLE proofs (
    proof_sm3              TEXT PRIMARY KEY,
    device_key_id          TEXT NOT NULL,
    device_seq             BIGINT NOT NULL,
    manifest_sm3           TEXT NOT NULL,
    previous_manifest_sm3  TEXT,
    case_reference         TEXT NOT NULL,
    proof_json             TEXT NOT NULL,
    receipt_json           TEXT NOT NULL,
    received_at            BIGINT NOT NULL,
    chain_gap              BIGINT NOT NULL,
    UNIQUE (device_key_id, device_seq)
);

CREATE TABLE media (
    sm3         TEXT PRIMARY KEY,
    sha256      TEXT NOT NULL,
    bytes       BIGINT NOT NULL,
    received    BIGINT NOT NULL,
    complete    BIGINT NOT NULL,
    stored_at   BIGINT
);

CREATE TABLE proof_media (
    proof_sm3  TEXT NOT NULL,
    item       BIGINT NOT NULL,
    media_sm3  TEXT NOT NULL,
    file_name  TEXT NOT NULL,
    PRIMARY KEY (proof_sm3, item)
);

CREATE TABLE custody_events (
    seq         BIGINT PRIMARY KEY,
    proof_sm3   TEXT NOT NULL,
    event       TEXT NOT NULL,
    actor       TEXT NOT NULL,
    at          BIGINT NOT NULL,
    detail      TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);

CREATE INDEX custody_events_proof ON custody_events (proof_sm3);
