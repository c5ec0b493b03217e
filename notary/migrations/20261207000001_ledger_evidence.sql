-- What the consortium ledger contributes to every bundle of a batch (anchor record and its
-- inclusion, the first cosigned checkpoint that covers it, the CometBFT header, commit and
-- validators of the next height, the governance changes up to it), kept as canonical JSON
-- once it exists: bundles are then served from the database, without asking the ledger, and
-- while the ledger is unreachable. NULL until then, and always on the embedded ledger (which
-- is in the notary's process).
ALTER TABLE batches ADD COLUMN ledger_evidence TEXT;
