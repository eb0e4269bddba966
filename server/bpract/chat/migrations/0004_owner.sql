-- A person who has the conversation (the inbox's agent, by id and shown name), the agent it was
-- routed to, and a resolved conversation's end.  Status: bot | human (waiting for a person or
-- with one: owner_agent says which) | resolved (closed: the next message starts a new one).

ALTER TABLE conversations ADD COLUMN owner_agent INTEGER;      -- NULL: no one has it
ALTER TABLE conversations ADD COLUMN owner_name TEXT;          -- as the visitor sees them
ALTER TABLE conversations ADD COLUMN owned_at_ms INTEGER;
ALTER TABLE conversations ADD COLUMN routed_agent INTEGER;     -- offered first to this agent
ALTER TABLE conversations ADD COLUMN resolved_at_ms INTEGER;
CREATE INDEX conversations_owner ON conversations (owner_agent, status);

ALTER TABLE chat_messages ADD COLUMN author TEXT;              -- an agent turn's shown name
ALTER TABLE chat_messages ADD COLUMN agent_id INTEGER;         -- and who wrote it
