-- Who decided each fire, with which model, at what cost (nano-dollars; 0 without a model call).
ALTER TABLE fires ADD COLUMN decided_by TEXT;
ALTER TABLE fires ADD COLUMN provider TEXT;
ALTER TABLE fires ADD COLUMN model TEXT;
ALTER TABLE fires ADD COLUMN cost_nano INTEGER NOT NULL DEFAULT 0;
