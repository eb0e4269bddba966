-- The server secret each site's visitor keys are derived from (docs/protocol.md, "Visitor key").
CREATE TABLE visitor_key_secrets (
    site_id INTEGER PRIMARY KEY REFERENCES sites(id) ON DELETE CASCADE,
    secret TEXT NOT NULL
);
