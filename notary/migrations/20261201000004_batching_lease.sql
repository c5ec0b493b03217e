-- Exactly one notary instance at a time closes and anchors batches: the holder of this lease.
-- It is taken when free or expired and renewed on every batching tick; every batch is stored
-- only while its closer still holds the lease (checked in the same transaction), so an
-- instance that stalled past its lease cannot close a batch beside the new holder.
CREATE TABLE leases (
    name        TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    expires_at  BIGINT NOT NULL
);

INSERT INTO leases (name, holder, expires_at) VALUES ('batching', '', 0);
