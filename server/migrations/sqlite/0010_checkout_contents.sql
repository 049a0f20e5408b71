-- What a session carries beyond amount and description (line items, branding, whether recovery
-- is enabled), as one JSON value; the payment link that opened it; payment links themselves; and
-- the one session each expired session's recovery URL opens. Keep in step with the other dialect.
ALTER TABLE checkout_sessions ADD COLUMN extras TEXT;
ALTER TABLE checkout_sessions ADD COLUMN payment_link TEXT;
CREATE INDEX checkout_sessions_payment_link ON checkout_sessions (payment_link, status);

CREATE TABLE payment_links (
    id TEXT PRIMARY KEY,
    -- The sessions it opens: amount, currency, description, line items, branding, methods,
    -- URLs, locale, metadata (JSON).
    template TEXT NOT NULL,
    active BIGINT NOT NULL,
    -- Completed payments after which the link stops opening sessions (NULL: unlimited).
    max_uses BIGINT,
    created_at BIGINT NOT NULL
);

CREATE TABLE recoveries (
    expired_session TEXT PRIMARY KEY,
    new_session TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- The simulators keep the goods details an order was created with, as sent (JSON).
ALTER TABLE sandbox_orders ADD COLUMN goods TEXT;
ALTER TABLE sandbox_alipay_trades ADD COLUMN goods TEXT;
