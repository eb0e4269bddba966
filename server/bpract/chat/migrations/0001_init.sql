-- Chat: conversations with the bot, their messages (visitor turns and streamed answers), ratings.
-- The quality feature adds its grounding columns to chat_messages in its own migrations.

CREATE TABLE conversations (
    id                  TEXT PRIMARY KEY,          -- c_ + 22 url-safe chars
    site_id             INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    visitor             TEXT NOT NULL,
    started_ms          INTEGER NOT NULL,
    last_ms             INTEGER NOT NULL,
    outreach_id         TEXT,                      -- the proactive message this conversation replies to
    summary             TEXT,                      -- older turns, summarised
    summarized_upto_ms  INTEGER,                   -- turns at or before this time are in the summary
    lang                TEXT,                      -- the visitor's language, as last detected
    status              TEXT NOT NULL DEFAULT 'bot'  -- bot | human
);
CREATE INDEX conversations_visitor ON conversations (site_id, visitor, last_ms);
CREATE INDEX conversations_outreach ON conversations (site_id, outreach_id);

CREATE TABLE chat_messages (
    id                    TEXT PRIMARY KEY,        -- m_… visitor turns, r_… replies, o_… outreach
    site_id               INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    conversation_id       TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    role                  TEXT NOT NULL,           -- visitor | bot | agent | outreach
    text                  TEXT NOT NULL,
    at_ms                 INTEGER NOT NULL,
    seq                   INTEGER,                 -- the visitor frame's seq
    citations             TEXT,                    -- JSON [{n, title, url, section}]
    kind                  TEXT,                    -- answer | unknown | handoff
    offline               INTEGER NOT NULL DEFAULT 0,
    provider              TEXT,
    model                 TEXT,
    cost_nano             INTEGER,
    passages              TEXT,                    -- JSON [{chunk_id, title, url, section, text, score}]
    retrieval_confidence  REAL,
    actions               INTEGER NOT NULL DEFAULT 0  -- money or actions involved
);
CREATE INDEX chat_messages_conversation ON chat_messages (site_id, conversation_id, at_ms);
CREATE INDEX chat_messages_site_time ON chat_messages (site_id, at_ms);

CREATE TABLE chat_ratings (
    message_id  TEXT PRIMARY KEY REFERENCES chat_messages(id) ON DELETE CASCADE,
    site_id     INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    visitor     TEXT NOT NULL,
    rating      TEXT NOT NULL,                     -- up | down
    comment     TEXT,
    at_ms       INTEGER NOT NULL
);
