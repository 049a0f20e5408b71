-- Payment intents: a checkout session and its payment intent are one record (`cs_…` and `pi_…`
-- share the random part). `kind` says who drives it: the hosted page (`checkout`) or the
-- merchant's own front end through the direct API (`intent`). `cancellation_reason` is set
-- when the merchant cancels one (an expiry leaves it empty). Keep in step with the other dialect.
ALTER TABLE checkout_sessions ADD COLUMN kind TEXT NOT NULL DEFAULT 'checkout';
ALTER TABLE checkout_sessions ADD COLUMN cancellation_reason TEXT;
