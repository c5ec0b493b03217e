-- Custody anchored (issue #24): every event names the previous event of its own proof
-- (`item_prev`; NULL on events logged before), and batch headers commit the custody log to
-- the ledger as the root of its RFC 6962 SM3 tree. `custody_commitments` keeps each
-- commitment with the right edge of the tree (JSON `[[level, hash], ...]`) from which the next
-- one continues; `custody_tiles` keeps every complete subtree of 1,024 events, from which an
-- event's inclusion proof is assembled without reading the whole log.
ALTER TABLE custody_events ADD COLUMN item_prev TEXT;
CREATE TABLE custody_commitments (
    size       BIGINT PRIMARY KEY,
    root       TEXT NOT NULL,
    edge       TEXT NOT NULL,
    batch_seq  BIGINT NOT NULL
);
CREATE TABLE custody_tiles (
    tile  BIGINT PRIMARY KEY,
    root  TEXT NOT NULL
);
