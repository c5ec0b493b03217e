-- Opinions being co-signed (portable SQL, as the initial migration): per procedure at most one
-- draft opinion, chained to the procedure's last step (`seq` is the position it will take), with
-- the signatures gathered so far. `version` makes concurrent co-signers merge, never overwrite.

CREATE TABLE appraisal_drafts (
    commission_sm3  TEXT PRIMARY KEY,
    seq             BIGINT NOT NULL,
    document        TEXT NOT NULL,
    version         BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
