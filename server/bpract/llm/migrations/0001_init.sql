-- Model calls: the usage ledger, budgets with reservations and alerts, routing decisions.
CREATE TABLE llm_usage (
    id INTEGER PRIMARY KEY,
    at_ms INTEGER NOT NULL,
    day TEXT NOT NULL,  -- UTC YYYY-MM-DD
    site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    department TEXT NOT NULL,
    rule TEXT NOT NULL,
    conversation TEXT NOT NULL,
    task TEXT NOT NULL,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    streamed INTEGER NOT NULL,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    cache_read_tokens INTEGER NOT NULL,
    cache_write_tokens INTEGER NOT NULL,
    cost_nano INTEGER NOT NULL,       -- 1e-9 USD
    saved_nano INTEGER NOT NULL,      -- what prompt caching saved
    price_version TEXT NOT NULL,
    priced INTEGER NOT NULL           -- 0: the model was missing from the price table
);
CREATE INDEX llm_usage_site_day ON llm_usage (site_id, day);
CREATE INDEX llm_usage_conversation ON llm_usage (site_id, conversation);

-- Limits per site ('' department) or per department, per UTC day or month.
CREATE TABLE llm_budgets (
    site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    department TEXT NOT NULL,
    period TEXT NOT NULL CHECK (period IN ('day', 'month')),
    soft_nano INTEGER,
    hard_nano INTEGER,
    PRIMARY KEY (site_id, department, period)
) WITHOUT ROWID;

CREATE TABLE llm_alert_hooks (
    site_id INTEGER PRIMARY KEY REFERENCES sites(id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    thresholds TEXT NOT NULL  -- JSON list of fractions of the hard limit
);

-- Shared counters: what each scope has spent and holds reserved in its period.
CREATE TABLE llm_spend (
    site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    department TEXT NOT NULL,
    period_key TEXT NOT NULL,  -- YYYY-MM-DD or YYYY-MM
    spent_nano INTEGER NOT NULL DEFAULT 0,
    reserved_nano INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (site_id, department, period_key)
) WITHOUT ROWID;

CREATE TABLE llm_reservations (
    id INTEGER PRIMARY KEY,
    site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    department TEXT NOT NULL,
    day TEXT NOT NULL,
    month TEXT NOT NULL,
    amount_nano INTEGER NOT NULL,
    created_ms INTEGER NOT NULL
);

-- Each threshold alert is sent once per scope and period.
CREATE TABLE llm_alerts (
    site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    department TEXT NOT NULL,
    period_key TEXT NOT NULL,
    threshold TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    PRIMARY KEY (site_id, department, period_key, threshold)
) WITHOUT ROWID;

CREATE TABLE llm_decisions (
    id INTEGER PRIMARY KEY,
    at_ms INTEGER NOT NULL,
    site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    department TEXT NOT NULL,
    rule TEXT NOT NULL,
    conversation TEXT NOT NULL,
    task TEXT NOT NULL,
    tier TEXT NOT NULL,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    outcome TEXT NOT NULL,  -- ok | fallback | degraded | failed
    reason TEXT NOT NULL,
    attempts TEXT NOT NULL,  -- JSON list of {provider, model, error}
    usage_id INTEGER REFERENCES llm_usage(id) ON DELETE SET NULL
);
CREATE INDEX llm_decisions_conversation ON llm_decisions (site_id, conversation, id);
