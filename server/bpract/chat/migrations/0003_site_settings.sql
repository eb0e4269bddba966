-- A site's chat settings, set through the admin API or `bpract chat settings`; no row: defaults.

CREATE TABLE chat_settings (
    site_id             INTEGER PRIMARY KEY REFERENCES sites(id) ON DELETE CASCADE,
    handoff_on_failure  INTEGER NOT NULL DEFAULT 0,  -- hand off on repeated failure (docs/chat.md)
    updated_ms          INTEGER NOT NULL
);
