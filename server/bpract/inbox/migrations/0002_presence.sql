-- Presence and routing: a row per live connection of an agent (a tab, a socket of any server
-- process) with its state and last heartbeat; each agent's own limit of open conversations
-- (NULL: BPRACT_INBOX_MAX_OPEN) and when a conversation was last routed to them (round robin).
CREATE TABLE inbox_presence (
    conn_id   TEXT PRIMARY KEY,                 -- made by the socket that beats
    agent_id  INTEGER NOT NULL REFERENCES inbox_agents(id) ON DELETE CASCADE,
    state     TEXT NOT NULL CHECK (state IN ('online', 'away')),
    seen_ms   INTEGER NOT NULL                  -- the last heartbeat
);
CREATE INDEX inbox_presence_agent ON inbox_presence (agent_id, seen_ms);

ALTER TABLE inbox_agents ADD COLUMN max_open INTEGER CHECK (max_open IS NULL OR max_open >= 0);
ALTER TABLE inbox_agents ADD COLUMN last_routed_ms INTEGER;   -- NULL: never routed to
