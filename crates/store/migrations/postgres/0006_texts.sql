-- Policy texts, content-addressed: a `policy_approved` event names its
-- version's text by SHA-256 (hex), and the text itself is kept here, beside
-- the log rather than in it (it is long, and the log's chain needs only the
-- digest to bind the event to the exact words). Backups carry these rows.
CREATE TABLE texts (
    council TEXT NOT NULL REFERENCES councils (id),
    sha256  TEXT NOT NULL,
    text    TEXT NOT NULL,
    PRIMARY KEY (council, sha256)
);
