-- A fire's place on its stream, so a resent frame finds the fire it already made (NULL for
-- the server-side engine's fires, which have no frame), and the claim of whoever decides it:
-- a pending fire is decided by the one process that set `claim`, until `claim_expires_ms`.
ALTER TABLE fires ADD COLUMN stream TEXT;
ALTER TABLE fires ADD COLUMN seq INTEGER;
ALTER TABLE fires ADD COLUMN claim TEXT;
ALTER TABLE fires ADD COLUMN claim_expires_ms INTEGER;
CREATE UNIQUE INDEX fires_frame ON fires (site_id, visitor, stream, seq);
-- the sweep: fires still undecided, oldest first
CREATE INDEX fires_undecided ON fires (received_ms) WHERE status = 'pending';
