//! Per-IP rate limit on the shopper surface (`/api`, `/oauth`): the checkout id is a bearer
//! capability, so guessing and hammering are throttled by client address.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::client_ip::ClientIp;
use crate::error::AppError;
use crate::guard::rate::limit_key;
use crate::state::AppState;

/// Middleware: 429 with the standard error body once a client exceeds its rate.
pub async fn limit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    req: Request,
    next: Next,
) -> Response {
    if !state.shopper_limiter().allows(limit_key(ip)) {
        return AppError::Public {
            status: StatusCode::TOO_MANY_REQUESTS,
            kind: paybridge_shared::ErrorType::RateLimited,
            code: paybridge_shared::codes::RATE_LIMITED,
            message: "Too many requests; please wait a moment.".into(),
            param: None,
        }
        .into_response();
    }
    next.run(req).await
}
