-- Unmatched payments: authentic provider reports of trades no payment attempt of ours has (a
-- shared merchant account, a database restored from an older backup). Recorded before the
-- provider is answered and raised as `payment.unmatched`; never refunded automatically.
-- Keep in step with postgres/.

CREATE TABLE unmatched_payments (
    id TEXT PRIMARY KEY,
    method TEXT NOT NULL,
    out_trade_no TEXT NOT NULL,
    provider_transaction_id TEXT,
    amount BIGINT NOT NULL,
    currency TEXT,
    app_id TEXT NOT NULL,
    merchant_id TEXT,
    status TEXT NOT NULL,
    provider_detail TEXT NOT NULL,
    reports BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (method, out_trade_no)
);
CREATE INDEX unmatched_payments_by_created ON unmatched_payments (created_at DESC, id DESC);
