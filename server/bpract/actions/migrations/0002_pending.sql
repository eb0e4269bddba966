-- Pending actions: a proposed call waiting for the visitor's click, run at most once.

CREATE TABLE action_secrets (
    site_id INTEGER PRIMARY KEY REFERENCES sites(id) ON DELETE CASCADE,
    secret  TEXT NOT NULL               -- signs the cards' tokens; made on first use
);

CREATE TABLE pending_actions (
    id           TEXT PRIMARY KEY,      -- public, random; also the call's idempotency key
    site_id      INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    conversation TEXT NOT NULL,
    visitor      TEXT NOT NULL,
    user_id      TEXT NOT NULL DEFAULT '',   -- the verified identity ('' for none)
    action       TEXT NOT NULL,
    version      INTEGER NOT NULL,      -- the action set's version that declared it
    arguments    TEXT NOT NULL,         -- JSON: fixed when proposed, identity bound
    fields       TEXT NOT NULL,         -- JSON list: what the visitor chooses on the card
    digest       TEXT NOT NULL,         -- SHA-256 of the canonical arguments
    card         TEXT NOT NULL,         -- the action frame sent, JSON
    source       TEXT NOT NULL,         -- model | matcher
    state        TEXT NOT NULL CHECK (state IN (
        'pending', 'running', 'succeeded', 'failed', 'declined', 'expired', 'refused'
    )),
    called       TEXT,                  -- JSON: the arguments of the call, once confirmed
    result       TEXT,                  -- JSON: the API's answer, once settled
    text         TEXT NOT NULL DEFAULT '',  -- what the visitor was told when it settled
    created_ms   INTEGER NOT NULL,
    expires_ms   INTEGER NOT NULL,
    settled_ms   INTEGER
);
CREATE INDEX pending_actions_open ON pending_actions (state, expires_ms);
CREATE INDEX pending_actions_visitor ON pending_actions (site_id, visitor, state);
CREATE INDEX pending_actions_runs ON pending_actions (site_id, action, user_id, created_ms);

ALTER TABLE action_audit ADD COLUMN pending TEXT NOT NULL DEFAULT '';
