-- What an identity provider pushed over SCIM (RFC 7643 Users and Groups),
-- as the JSON resource it last set, so that a GET returns what was sent.
-- Kept beside the log, not in it: the log holds what Warden's rules need
-- (joining, moving, leaving, roles), recorded as events when a resource
-- changes; the resource itself is the provider's mirror.
CREATE TABLE provisioned (
    council  TEXT NOT NULL REFERENCES councils (id),
    resource TEXT NOT NULL,
    id       TEXT NOT NULL,
    body     TEXT NOT NULL,
    PRIMARY KEY (council, resource, id)
);
