-- A media file belongs to the proofs that declare it: each declaration keeps its own SHA-256
-- and size, and each device uploads into its own partial file with its own progress, so a
-- false declaration of someone else's SM3 can neither block nor alter a genuine upload.
ALTER TABLE proof_media ADD COLUMN sha256 TEXT;
ALTER TABLE proof_media ADD COLUMN bytes BIGINT;

CREATE TABLE media_uploads (
    sm3       TEXT NOT NULL,
    uploader  TEXT NOT NULL,
    received  BIGINT NOT NULL,
    PRIMARY KEY (sm3, uploader)
);
