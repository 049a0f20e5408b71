-- Payment flows: the shopper's openid on the session, what each attempt was created with and
-- the action the page replays, and single-use tokens (OAuth state). Keep in step with sqlite/.

ALTER TABLE checkout_sessions ADD COLUMN openid TEXT;

ALTER TABLE payments ADD COLUMN appid TEXT NOT NULL DEFAULT '';
ALTER TABLE payments ADD COLUMN openid TEXT;
ALTER TABLE payments ADD COLUMN next_action TEXT;
ALTER TABLE payments ADD COLUMN expires_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE payments ADD COLUMN checked_at BIGINT NOT NULL DEFAULT 0;
CREATE INDEX payments_pending ON payments (checked_at) WHERE status IN ('created', 'pending');

CREATE TABLE used_tokens (
    token_hash TEXT PRIMARY KEY,
    used_at BIGINT NOT NULL
);
