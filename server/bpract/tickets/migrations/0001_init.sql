-- Offline tickets: a site's webhook and business hours, the tickets visitors leave, and the
-- outbox their deliveries are made from (one row per ticket, claimed with a lapsing claim).

CREATE TABLE ticket_settings (
    site_id     INTEGER PRIMARY KEY REFERENCES sites(id) ON DELETE CASCADE,
    webhook_url TEXT NOT NULL DEFAULT '',   -- '' : no webhook, tickets are only listed
    secret      TEXT NOT NULL DEFAULT '',   -- whsec_…: signs every delivery
    hours       TEXT,                       -- JSON {days, start, end, tz}; NULL: always open
    updated_ms  INTEGER NOT NULL
);

CREATE TABLE tickets (
    id         TEXT PRIMARY KEY,            -- t_…, public; also the delivery's id
    site_id    INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    visitor    TEXT NOT NULL,
    stream     TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    email      TEXT NOT NULL,
    question   TEXT NOT NULL,
    lang       TEXT NOT NULL DEFAULT '',
    created_ms INTEGER NOT NULL,
    UNIQUE (site_id, visitor, stream, seq)  -- the same frame twice is one ticket
);
CREATE INDEX tickets_site ON tickets (site_id, created_ms);
CREATE INDEX tickets_visitor ON tickets (site_id, visitor, created_ms);

CREATE TABLE ticket_outbox (
    ticket_id        TEXT PRIMARY KEY REFERENCES tickets(id) ON DELETE CASCADE,
    state            TEXT NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    due_ms           INTEGER NOT NULL,      -- not tried before this time
    claimed_until_ms INTEGER NOT NULL DEFAULT 0,  -- a delivery in progress until then
    delivered_ms     INTEGER,
    last_error       TEXT NOT NULL DEFAULT ''     -- status or kind of failure, no body
);
CREATE INDEX ticket_outbox_due ON ticket_outbox (state, due_ms);
