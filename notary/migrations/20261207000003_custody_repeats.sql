-- Repeated reads (issue #25): the first read of a proof by a token in a minute is a custody
-- event; the same read again in that minute is counted here (durably, in the read's own
-- transaction) and chained as one summary event once the minute is over. A reader cannot
-- grow the log faster than one event per kind of read per minute, and every read stays
-- recorded.
CREATE TABLE custody_repeats (
    proof_sm3  TEXT NOT NULL,
    event      TEXT NOT NULL,
    actor      TEXT NOT NULL,
    detail     TEXT NOT NULL,
    minute     BIGINT NOT NULL,
    repeats    BIGINT NOT NULL,
    PRIMARY KEY (proof_sm3, event, actor, detail, minute)
);
CREATE INDEX custody_repeats_minute ON custody_repeats (minute);
-- A page of one proof's log, newest first.
CREATE INDEX custody_events_proof_seq ON custody_events (proof_sm3, seq);
