//! Framework rejections as the API's JSON envelope. Handlers and the API's extractors
//! (`api::json`) already answer `{"error":{"type","code","message","param"?}}`; what is left is
//! what answers before them — the router (a method a route does not serve), the body-size
//! limit and the request timeout — with plain text or nothing. On the JSON APIs (`/v1/…` and
//! `/api/…`) those become the envelope too; pages and provider callbacks keep their own forms.

use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use paybridge_shared::ErrorType;

use crate::error::AppError;

/// Middleware: rewrites a JSON API's error answer that is not JSON into the envelope.
pub async fn as_json(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let json_api = path == "/v1" || path.starts_with("/v1/") || path.starts_with("/api/");
    let res = next.run(req).await;
    let status = res.status();
    let refused = status.is_client_error() || status == StatusCode::REQUEST_TIMEOUT;
    if !json_api || !refused || super::json::is_json(res.headers()) {
        return res;
    }
    let error = match status {
        StatusCode::NOT_FOUND => super::json::route_not_found(),
        StatusCode::PAYLOAD_TOO_LARGE => super::json::unreadable(status),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => super::json::not_json(),
        StatusCode::METHOD_NOT_ALLOWED => public(
            status,
            ErrorType::InvalidRequest,
            paybridge_shared::codes::METHOD_NOT_ALLOWED,
            "This endpoint does not accept this HTTP method (see the Allow header).",
        ),
        StatusCode::REQUEST_TIMEOUT => public(
            status,
            ErrorType::Api,
            paybridge_shared::codes::REQUEST_TIMEOUT,
            "The request took too long to answer; it may still complete. Retry with the same Idempotency-Key.",
        ),
        _ => public(
            status,
            ErrorType::InvalidRequest,
            paybridge_shared::codes::INVALID_REQUEST,
            "The request could not be read.",
        ),
    };
    let mut out = error.into_response();
    for name in [header::ALLOW, header::RETRY_AFTER] {
        if let Some(value) = res.headers().get(&name) {
            out.headers_mut().insert(name, value.clone());
        }
    }
    out
}

fn public(status: StatusCode, kind: ErrorType, code: &'static str, message: &str) -> AppError {
    AppError::Public {
        status,
        kind,
        code,
        message: message.to_owned(),
        param: None,
    }
}
