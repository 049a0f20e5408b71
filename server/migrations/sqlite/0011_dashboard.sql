-- The merchant dashboard: operator accounts and their signed-in sessions, one-time login links,
-- the audit log of what operators did, the checkout funnel (page views per session and
-- environment, and the environment each payment attempt was made in), and the results of
-- reconciliation runs. No personal data: environments are classes, not user agents.
-- Keep in step with the other dialect.

CREATE TABLE operators (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    -- argon2id, PHC string format.
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    disabled_at BIGINT
);

CREATE TABLE operator_sessions (
    -- SHA-256 of the cookie's token; the token itself is never stored.
    token_hash TEXT PRIMARY KEY,
    operator_id TEXT NOT NULL REFERENCES operators (id),
    -- The CSRF token every form of this session carries.
    csrf TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX operator_sessions_by_operator ON operator_sessions (operator_id);

CREATE TABLE login_links (
    token_hash TEXT PRIMARY KEY,
    operator_id TEXT NOT NULL REFERENCES operators (id),
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);

CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    operator_id TEXT NOT NULL,
    username TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    -- What the action was given and what came of it (JSON), never a secret.
    detail TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX audit_log_by_target ON audit_log (target);

CREATE TABLE page_views (
    session_id TEXT NOT NULL,
    -- The page's environment class: wechat, wechat_mini_program, wechat_desktop, wecom,
    -- alipay, mobile, desktop.
    environment TEXT NOT NULL,
    first_at BIGINT NOT NULL,
    views BIGINT NOT NULL,
    PRIMARY KEY (session_id, environment)
);
CREATE INDEX page_views_by_time ON page_views (first_at);

ALTER TABLE payments ADD COLUMN environment TEXT;

CREATE TABLE reconciliations (
    id TEXT PRIMARY KEY,
    -- The bill's day (Beijing time), YYYY-MM-DD.
    bill_date TEXT NOT NULL,
    ran_at BIGINT NOT NULL,
    -- ok (no differences), differences, or failed.
    outcome TEXT NOT NULL,
    -- The counts compared and, when it failed, why (JSON).
    summary TEXT NOT NULL,
    -- Every difference found (JSON array).
    differences TEXT NOT NULL
);
CREATE INDEX reconciliations_by_time ON reconciliations (ran_at DESC);
