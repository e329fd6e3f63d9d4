-- Each council's head (the sequence number and hash of its last event),
-- kept beside the log and written in the same transaction as each append,
-- so that events deleted from the end of a log (or all of them) are found:
-- the chain alone cannot tell a log cut short from one that ended there.
-- A database made before this migration takes its heads from its log as it
-- stands.
ALTER TABLE councils ADD COLUMN head_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE councils ADD COLUMN head_hash TEXT NOT NULL
    DEFAULT '0000000000000000000000000000000000000000000000000000000000000000';
UPDATE councils SET
    head_seq = COALESCE((SELECT max(seq) FROM events WHERE events.council = councils.id), 0),
    head_hash = COALESCE(
        (SELECT hash FROM events WHERE events.council = councils.id ORDER BY seq DESC LIMIT 1),
        '0000000000000000000000000000000000000000000000000000000000000000');
