-- Trigger rules: versioned rulesets, fires with their policy outcome, outreach sent, outcomes reported.

CREATE TABLE rulesets (
    site_id    INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    version    INTEGER NOT NULL,
    body       TEXT NOT NULL,      -- compiled JSON, what the engine receives
    source     TEXT NOT NULL,      -- YAML or JSON as given
    author     TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (site_id, version)
);

CREATE TABLE fires (
    id           INTEGER PRIMARY KEY,
    site_id      INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    visitor      TEXT NOT NULL,
    session      TEXT,
    rule_id      TEXT NOT NULL,
    rule_version INTEGER NOT NULL,
    at_ms        INTEGER NOT NULL,  -- the browser's clock, as sent
    received_ms  INTEGER NOT NULL,  -- the server's clock: every policy window is measured on it
    status       TEXT NOT NULL,     -- pending, sent, declined, held_out, capped, cooldown, budget, off_schedule
    reason       TEXT NOT NULL DEFAULT '',
    context      TEXT NOT NULL DEFAULT '{}',
    outreach_id  TEXT
);
-- cap and cooldown: one rule, one visitor
CREATE INDEX fires_rule_visitor ON fires (site_id, rule_id, visitor, status, received_ms);
-- interruption budget: one visitor, all rules
CREATE INDEX fires_visitor ON fires (site_id, visitor, status, received_ms);
-- report: one site over a period
CREATE INDEX fires_site_time ON fires (site_id, received_ms);

CREATE TABLE outreach (
    id         TEXT PRIMARY KEY,    -- o_ + 22 url-safe chars
    site_id    INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    visitor    TEXT NOT NULL,
    rule_id    TEXT NOT NULL,
    fire_id    INTEGER NOT NULL REFERENCES fires(id) ON DELETE CASCADE,
    message    TEXT NOT NULL,
    cta        TEXT,                -- JSON {label, url} or NULL
    decided_by TEXT NOT NULL,
    reason     TEXT NOT NULL DEFAULT '',
    sent_ms    INTEGER NOT NULL
);
CREATE INDEX outreach_site_rule ON outreach (site_id, rule_id, sent_ms);

CREATE TABLE outcomes (
    id          INTEGER PRIMARY KEY,
    site_id     INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    outreach_id TEXT NOT NULL REFERENCES outreach(id) ON DELETE CASCADE,
    visitor     TEXT NOT NULL,
    kind        TEXT NOT NULL,
    at_ms       INTEGER NOT NULL,
    UNIQUE (outreach_id, kind)
);
