-- The latest snapshot of each council's estate: the state after event `seq`,
-- whose hash it records so that a snapshot that no longer matches the log is
-- detected and discarded.
CREATE TABLE snapshots (
    council TEXT    PRIMARY KEY REFERENCES councils (id),
    seq     INTEGER NOT NULL,
    hash    TEXT    NOT NULL,
    state   TEXT    NOT NULL
);
