-- Sign-in credentials of the people who use Warden's web service: one row a
-- person, kept apart from the event log on purpose. Secrets (password hashes,
-- TOTP keys, token hashes) must never enter a log that is exported, shared
-- with auditors and kept for ever; and a password change is not a policy event.
-- `account` is JSON owned by the web crate; the store keeps it opaque.
CREATE TABLE accounts (
    council TEXT NOT NULL REFERENCES councils (id),
    person  TEXT NOT NULL,
    account TEXT NOT NULL,
    PRIMARY KEY (council, person)
);
