-- Batches not anchored yet, and (consortium) anchored batches whose ledger evidence is not
-- kept yet: found through these partial indexes by the anchoring task and by the liveness
-- check, instead of a scan of every batch ever closed.
CREATE INDEX batches_unanchored ON batches (batch_seq) WHERE anchored_height IS NULL;
CREATE INDEX batches_unsealed ON batches (batch_seq) WHERE ledger_evidence IS NULL;
