-- Weekly review samples of chat answers and the verdicts people give them.
CREATE TABLE reviews (
    message_id  TEXT PRIMARY KEY,             -- a chat_messages id (role bot, kind answer)
    site_id     INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    week        TEXT NOT NULL,                -- ISO week of the answer, e.g. 2026-W48
    weight      REAL NOT NULL,                -- the risk weight it was sampled with
    inclusion   REAL NOT NULL,                -- its estimated probability of being sampled (for the weighted rate)
    reasons     TEXT NOT NULL DEFAULT '[]',   -- JSON list: low_grounding, ungraded, money, actions, thumbs_down
    sampled_ms  INTEGER NOT NULL,
    verdict     TEXT CHECK (verdict IN ('grounded', 'hallucination', 'partial')),
    reviewer    TEXT,
    note        TEXT,
    verdict_ms  INTEGER
);
CREATE INDEX reviews_site_week ON reviews (site_id, week);
