-- Private notes on a conversation: written by agents for agents, never sent to the visitor
-- (they are not chat messages, so no read of the chat can reach them).
CREATE TABLE inbox_notes (
    id               INTEGER PRIMARY KEY,
    org_id           INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    site_id          INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    conversation_id  TEXT NOT NULL,
    agent_id         INTEGER REFERENCES inbox_agents(id) ON DELETE SET NULL,
    author           TEXT NOT NULL,               -- the agent's name when written
    text             TEXT NOT NULL,
    at_ms            INTEGER NOT NULL
);
CREATE INDEX inbox_notes_conversation ON inbox_notes (org_id, conversation_id, at_ms);
