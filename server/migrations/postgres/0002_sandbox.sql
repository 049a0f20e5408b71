-- Sandbox mode's simulated WeChat Pay and OAuth state. Only the sandbox reads or writes these
-- tables; they exist in live databases too but stay empty. Keep in step with sqlite/.

CREATE TABLE sandbox_orders (
    out_trade_no TEXT NOT NULL,
    mchid TEXT NOT NULL,
    appid TEXT NOT NULL,
    trade_type TEXT NOT NULL,
    description TEXT NOT NULL,
    attach TEXT,
    notify_url TEXT NOT NULL,
    amount BIGINT NOT NULL,
    currency TEXT NOT NULL,
    payer_openid TEXT,
    payer_client_ip TEXT,
    request_hash TEXT NOT NULL,
    prepay_id TEXT NOT NULL UNIQUE,
    code_token TEXT NOT NULL UNIQUE,
    transaction_id TEXT UNIQUE,
    trade_state TEXT NOT NULL,
    trade_state_desc TEXT NOT NULL,
    time_expire BIGINT,
    success_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (mchid, out_trade_no)
);
CREATE INDEX sandbox_orders_by_created ON sandbox_orders (created_at DESC);

CREATE TABLE sandbox_refunds (
    out_refund_no TEXT NOT NULL,
    mchid TEXT NOT NULL,
    refund_id TEXT NOT NULL UNIQUE,
    out_trade_no TEXT NOT NULL,
    transaction_id TEXT NOT NULL,
    amount BIGINT NOT NULL,
    total BIGINT NOT NULL,
    currency TEXT NOT NULL,
    reason TEXT,
    notify_url TEXT,
    request_hash TEXT NOT NULL,
    status TEXT NOT NULL,
    settle_at BIGINT NOT NULL,
    success_at BIGINT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (mchid, out_refund_no)
);
CREATE INDEX sandbox_refunds_by_order ON sandbox_refunds (mchid, out_trade_no);
CREATE INDEX sandbox_refunds_processing ON sandbox_refunds (settle_at) WHERE status = 'PROCESSING';

-- One row per delivery stream; a notification sent several times on purpose has several rows
-- sharing `notification_id`.
CREATE TABLE sandbox_notifications (
    id TEXT PRIMARY KEY,
    notification_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    summary TEXT NOT NULL,
    original_type TEXT NOT NULL,
    resource TEXT NOT NULL,
    notify_url TEXT NOT NULL,
    out_trade_no TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_at BIGINT,
    last_status TEXT,
    delivered_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX sandbox_notifications_due ON sandbox_notifications (next_at) WHERE next_at IS NOT NULL;
CREATE INDEX sandbox_notifications_by_created ON sandbox_notifications (created_at DESC);

CREATE TABLE sandbox_oauth_codes (
    code TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    appid TEXT NOT NULL,
    openid TEXT NOT NULL,
    scope TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    created_at BIGINT NOT NULL
);

CREATE TABLE sandbox_openids (
    openid TEXT PRIMARY KEY,
    appid TEXT NOT NULL,
    username TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Bill files as announced (the download must match the announced hash byte for byte).
CREATE TABLE sandbox_bills (
    token TEXT PRIMARY KEY,
    content TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Faults injected once per key (scenario "500 on the first try").
CREATE TABLE sandbox_faults (
    fault_key TEXT PRIMARY KEY,
    created_at BIGINT NOT NULL
);
