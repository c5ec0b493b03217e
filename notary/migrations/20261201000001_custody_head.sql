-- Custody appends are serialised through this one row: every transaction that appends a
-- custody event first updates it, which takes PostgreSQL's row lock (across every notary
-- instance) and SQLite's write lock before anything is read, so the next sequence number and
-- the previous hash are read by one writer at a time and the hash chain stays exact.
CREATE TABLE custody_head (
    name     TEXT PRIMARY KEY,
    appends  BIGINT NOT NULL
);

INSERT INTO custody_head (name, appends) VALUES ('custody', 0);
