-- Batching and anchoring (portable SQL, as the initial migration).

CREATE TABLE batch_leaves (
    proof_sm3   TEXT PRIMARY KEY,
    salt        TEXT NOT NULL,
    added_at    BIGINT NOT NULL,
    batch_seq   BIGINT,
    leaf_index  BIGINT
);

CREATE INDEX batch_leaves_pending ON batch_leaves (batch_seq, added_at);

CREATE TABLE batches (
    batch_seq        BIGINT PRIMARY KEY,
    header_json      TEXT NOT NULL,
    header_sm3       TEXT NOT NULL,
    root             TEXT NOT NULL,
    leaf_count       BIGINT NOT NULL,
    closed_at        BIGINT NOT NULL,
    anchored_height  BIGINT,
    anchored_at      BIGINT
);
