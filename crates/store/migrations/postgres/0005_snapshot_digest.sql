-- A snapshot carries the SHA-256 of its own state bound to the event it
-- follows (sequence number and chain hash): a state edited in place no
-- longer matches and is discarded with a warning. Snapshots from before
-- this have none, and are discarded the same way until rewritten.
ALTER TABLE snapshots ADD COLUMN digest TEXT NOT NULL DEFAULT '';
