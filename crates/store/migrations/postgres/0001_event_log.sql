-- The councils this database serves, each with the pack its log is checked against.
CREATE TABLE councils (
    id   TEXT PRIMARY KEY,
    pack TEXT NOT NULL
);

-- The log: per council, a gapless sequence from 1. `event` is the canonical
-- JSON of the event (docs/storage.md); `hash` is hex SHA-256 over the previous
-- event's hash (32 zero bytes for the first) followed by `event`. The primary
-- key is what makes two writers unable to fork a council's chain.
CREATE TABLE events (
    council TEXT   NOT NULL REFERENCES councils (id),
    seq     BIGINT NOT NULL CHECK (seq >= 1),
    event   TEXT   NOT NULL,
    hash    TEXT   NOT NULL,
    PRIMARY KEY (council, seq)
);
