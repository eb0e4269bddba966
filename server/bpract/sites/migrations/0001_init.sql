-- Sites that embed the widget, and the admin API's tokens.
CREATE TABLE sites (
    id INTEGER PRIMARY KEY,
    public_key TEXT UNIQUE NOT NULL,
    name TEXT NOT NULL,
    allowed_origins TEXT NOT NULL,  -- JSON list of "scheme://host[:port]"
    identity_secret TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE admin_tokens (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    token_hash TEXT UNIQUE NOT NULL,  -- sha256 hex; the token itself is never stored
    created_at TEXT NOT NULL,
    last_used_at TEXT
);
