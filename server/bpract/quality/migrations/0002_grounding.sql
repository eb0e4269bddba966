-- The grounding score of each chat answer, written by the scorer once the answer is stored.
-- Release 0.1.0 created these columns in chat's first migration.
ALTER TABLE chat_messages ADD COLUMN grounding REAL;
ALTER TABLE chat_messages ADD COLUMN grounding_method TEXT;
