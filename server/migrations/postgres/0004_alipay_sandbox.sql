-- Sandbox mode's simulated Alipay: trades and refunds. Only the sandbox reads or writes these
-- tables; they exist in live databases too but stay empty. Notifications share
-- sandbox_notifications. Keep sqlite/ and postgres/ in step.

CREATE TABLE sandbox_alipay_trades (
    app_id TEXT NOT NULL,
    out_trade_no TEXT NOT NULL,
    trade_no TEXT NOT NULL UNIQUE,
    -- Opens the cashier or the QR scan page.
    token TEXT NOT NULL UNIQUE,
    method TEXT NOT NULL,
    subject TEXT NOT NULL,
    total_amount BIGINT NOT NULL,
    notify_url TEXT,
    return_url TEXT,
    quit_url TEXT,
    status TEXT NOT NULL,
    -- A precreated trade exists at Alipay only once its QR code is scanned.
    visible BIGINT NOT NULL,
    refunded BIGINT NOT NULL,
    time_expire BIGINT,
    paid_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (app_id, out_trade_no)
);
CREATE INDEX sandbox_alipay_trades_by_created ON sandbox_alipay_trades (created_at DESC);

CREATE TABLE sandbox_alipay_refunds (
    app_id TEXT NOT NULL,
    out_trade_no TEXT NOT NULL,
    out_request_no TEXT NOT NULL,
    amount BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (app_id, out_trade_no, out_request_no)
);
