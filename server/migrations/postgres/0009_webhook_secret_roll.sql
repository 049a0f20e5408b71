-- Rolling a webhook endpoint's secret keeps the previous one valid for a grace period:
-- deliveries are signed with both until `previous_secret_expires_at`. Keep in step with the
-- other dialect.
ALTER TABLE webhook_endpoints ADD COLUMN previous_secret TEXT;
ALTER TABLE webhook_endpoints ADD COLUMN previous_secret_expires_at BIGINT;
