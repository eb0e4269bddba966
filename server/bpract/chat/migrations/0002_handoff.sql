-- A hand-off to a person: when, why and for which team (the inbox's queue reads them).

ALTER TABLE conversations ADD COLUMN handoff_at_ms INTEGER;       -- the first hand-off of this wait
ALTER TABLE conversations ADD COLUMN handoff_reason TEXT;         -- for the person who takes over
ALTER TABLE conversations ADD COLUMN handoff_department TEXT;     -- the team it is routed to

-- A conversation already waiting for a person waits since its first hand-off reply.
UPDATE conversations SET handoff_at_ms = COALESCE(
    (SELECT MIN(h.at_ms) FROM chat_messages h
     WHERE h.site_id = conversations.site_id AND h.conversation_id = conversations.id
       AND h.role = 'bot' AND h.kind = 'handoff'),
    last_ms)
WHERE status = 'human';
