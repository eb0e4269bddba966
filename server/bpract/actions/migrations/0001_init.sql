-- Declared actions: a site's versioned action set, and the audit of every proposed call.

CREATE TABLE action_sets (
    site_id    INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    version    INTEGER NOT NULL,
    body       TEXT NOT NULL,      -- validated JSON, every field with its default
    source     TEXT NOT NULL,      -- YAML or JSON as given
    author     TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (site_id, version)
);

CREATE TABLE action_audit (
    id           INTEGER PRIMARY KEY,
    site_id      INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    conversation TEXT NOT NULL,
    visitor      TEXT NOT NULL,
    action       TEXT NOT NULL,
    event        TEXT NOT NULL CHECK (event IN (
        'proposed', 'confirmed', 'declined', 'expired', 'refused', 'succeeded', 'failed'
    )),
    reason       TEXT NOT NULL DEFAULT '',
    at           TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX action_audit_conversation ON action_audit (site_id, conversation, id);
CREATE INDEX action_audit_visitor ON action_audit (site_id, visitor, id);
