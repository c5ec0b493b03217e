-- Judicial appraisals (portable SQL, as the initial migration): each procedure's signed steps
-- in chain order (commission first, addressed by the SM3 of the signed commission), and the
-- appraisers' credentials and revocations the institution handed in with them.

CREATE TABLE appraisal_steps (
    commission_sm3  TEXT NOT NULL,
    seq             BIGINT NOT NULL,
    step_sm3        TEXT NOT NULL,
    document        TEXT NOT NULL,
    received_at     BIGINT NOT NULL,
    PRIMARY KEY (commission_sm3, seq)
);

CREATE TABLE appraisal_documents (
    commission_sm3  TEXT NOT NULL,
    sm3             TEXT NOT NULL,
    kind            TEXT NOT NULL,
    document        TEXT NOT NULL,
    received_at     BIGINT NOT NULL,
    PRIMARY KEY (commission_sm3, sm3)
);
