-- The dashboard's overview counts paid sessions by the day they completed, and forgets page
-- views after a while: both by time. Keep in step with the other dialect.
CREATE INDEX checkout_sessions_by_completed ON checkout_sessions (completed_at) WHERE completed_at IS NOT NULL;
CREATE INDEX payments_by_created ON payments (created_at);
