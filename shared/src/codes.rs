//! Every error `code` the API answers with, in one catalogue: merchants and the page match on
//! these, so they never change meaning.

pub const CHECKOUT_NOT_FOUND: &str = "checkout_not_found";
pub const PAYMENT_NOT_FOUND: &str = "payment_not_found";
pub const RESOURCE_MISSING: &str = "resource_missing";
pub const ROUTE_NOT_FOUND: &str = "route_not_found";
pub const RATE_LIMITED: &str = "rate_limited";
pub const API_KEY_MISSING: &str = "api_key_missing";
pub const API_KEY_INVALID: &str = "api_key_invalid";
pub const API_KEY_WRONG_MODE: &str = "api_key_wrong_mode";
pub const PAYMENT_NOT_SUCCEEDED: &str = "payment_not_succeeded";
pub const SESSION_COMPLETE: &str = "session_complete";
pub const CONTENT_TYPE_UNSUPPORTED: &str = "content_type_unsupported";
pub const BODY_TOO_LARGE: &str = "body_too_large";
pub const BODY_UNREADABLE: &str = "body_unreadable";
pub const INVALID_JSON: &str = "invalid_json";
pub const METHOD_NOT_ALLOWED: &str = "method_not_allowed";
pub const REQUEST_TIMEOUT: &str = "request_timeout";
pub const INVALID_REQUEST: &str = "invalid_request";
pub const IDEMPOTENCY_KEY_INVALID: &str = "idempotency_key_invalid";
pub const IDEMPOTENCY_KEY_REUSED: &str = "idempotency_key_reused";
pub const IDEMPOTENCY_REQUEST_IN_PROGRESS: &str = "idempotency_request_in_progress";
pub const INTERNAL_ERROR: &str = "internal_error";
pub const PARAMETER_INVALID: &str = "parameter_invalid";
pub const PARAMETER_UNKNOWN: &str = "parameter_unknown";
pub const PARAMETER_MISSING: &str = "parameter_missing";
pub const PROVIDER_UNAVAILABLE: &str = "provider_unavailable";
pub const PROVIDER_ERROR: &str = "provider_error";
pub const MINIPROGRAM_NOT_CONFIGURED: &str = "miniprogram_not_configured";
pub const MINIPROGRAM_LOGIN_FAILED: &str = "miniprogram_login_failed";
pub const PAYMENT_INTENT_NOT_FOUND: &str = "payment_intent_not_found";
pub const PAYMENT_INTENT_UNEXPECTED_STATE: &str = "payment_intent_unexpected_state";
pub const PAYMENT_INTENT_MANAGED_BY_CHECKOUT: &str = "payment_intent_managed_by_checkout";
pub const CLIENT_SECRET_INVALID: &str = "client_secret_invalid";
pub const PAYMENT_METHOD_NOT_ACCEPTED: &str = "payment_method_not_accepted";
