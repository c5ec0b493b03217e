-- Officers' own keys (portable SQL, as the initial migration): each officer's SM2 key, bound
-- by the notary to the officer ID, name, enforcement credential number and unit, with the
-- signed credential that bundles carry; a revoked key's signatures are refused at intake.

CREATE TABLE officers (
    key_id         TEXT PRIMARY KEY,
    officer_id     TEXT NOT NULL,
    public_key     TEXT NOT NULL,
    device_key_id  TEXT NOT NULL,
    certificate    TEXT NOT NULL,
    enrolled_at    BIGINT NOT NULL,
    revoked_at     BIGINT
);

CREATE INDEX officers_by_officer ON officers (officer_id);
