-- Notarised certificates (portable SQL, as the initial migration): the first certificate
-- issued for a proof is kept and served again, so its number, bytes and PDF never change.

CREATE TABLE certificates (
    number            TEXT PRIMARY KEY,
    proof_sm3         TEXT NOT NULL UNIQUE,
    certificate_json  TEXT NOT NULL,
    issued_at         BIGINT NOT NULL
);
