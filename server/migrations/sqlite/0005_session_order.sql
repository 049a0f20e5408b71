-- Sessions created in the same millisecond list in the order they were created: `seq` counts
-- the sessions that already had that `created_at` when the row was inserted. Keep sqlite/ and
-- postgres/ in step.

ALTER TABLE checkout_sessions ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
DROP INDEX checkout_sessions_by_created;
CREATE INDEX checkout_sessions_by_created ON checkout_sessions (created_at DESC, seq DESC, id DESC);
