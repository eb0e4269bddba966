-- What a person may do in the console, beside answering visitors (their inbox role):
-- owner (everything, identity secrets and people included), marketer (rules, their
-- backtests and results, usage; never secrets or people), agent (reads only).
ALTER TABLE inbox_agents ADD COLUMN access TEXT NOT NULL DEFAULT 'agent'
    CHECK (access IN ('owner', 'marketer', 'agent'));
