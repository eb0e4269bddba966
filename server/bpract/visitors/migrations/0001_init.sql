-- Visitors, their sessions, the frame inbox, signals and engine states: what the socket stores.
CREATE TABLE visitors (
    site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    first_seen_ms INTEGER NOT NULL,
    last_seen_ms INTEGER NOT NULL,
    user_id TEXT,
    traits TEXT,
    PRIMARY KEY (site_id, id)
);

CREATE TABLE sessions (
    site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    visitor TEXT NOT NULL,
    started_ms INTEGER NOT NULL,
    last_ms INTEGER NOT NULL,
    PRIMARY KEY (site_id, id)
);

-- The exactly-once inbox: every client frame that carries a seq, stored once.
CREATE TABLE frames (
    site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    visitor TEXT NOT NULL,
    stream TEXT NOT NULL,
    seq INTEGER NOT NULL,
    t TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    received_ms INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (site_id, visitor, stream, seq)
) WITHOUT ROWID;

CREATE TABLE signals (
    id INTEGER PRIMARY KEY,
    site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    visitor TEXT NOT NULL,
    session TEXT,
    name TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX signals_visitor ON signals (site_id, visitor, at_ms);
CREATE INDEX signals_name ON signals (site_id, name, at_ms);

CREATE TABLE engine_states (
    site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    visitor TEXT NOT NULL,
    state TEXT NOT NULL,
    updated_ms INTEGER NOT NULL,
    PRIMARY KEY (site_id, visitor)
);
