-- A hand-off to a person: when, why and for which team (the inbox's queue reads them).

ALTER TABLE conversations ADD COLUMN handoff_at_ms INTEGER;       -- the first hand-off of this wait
ALTER TABLE conversations ADD COLUMN handoff_reason TEXT;         -- for the person who takes over
ALTER TABLE conversations ADD COLUMN handoff_department TEXT;     -- the team it is routed to
