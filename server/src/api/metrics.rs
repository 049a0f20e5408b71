//! Request metrics as middleware, and `GET /metrics`.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

/// Middleware recording every request under its route template (never the raw path, which
/// would let anyone create unbounded label values).
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = method_label(req.method()).to_owned();
    let route = req.extensions().get::<MatchedPath>().map_or_else(
        || fallback_route(req.uri().path()),
        |p| p.as_str().to_owned(),
    );
    let res = next.run(req).await;
    let status = res.status().as_u16().to_string();
    state
        .metrics()
        .observe(&method, &route, &status, start.elapsed().as_secs_f64());
    res
}

/// The standard methods by name, anything else as `OTHER`: a label value per invented method
/// would let anyone grow `/metrics` without bound.
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        Method::TRACE => "TRACE",
        Method::CONNECT => "CONNECT",
        _ => "OTHER",
    }
}

fn fallback_route(path: &str) -> String {
    if path.starts_with("/assets/") {
        "/assets/{file}"
    } else {
        "unmatched"
    }
    .to_owned()
}

/// `GET /metrics`
pub async fn endpoint(State(state): State<AppState>) -> Response {
    crate::service::keys::publish_expiry(state.services());
    match state.metrics().render() {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(e) => crate::error::AppError::internal(e).into_response(),
    }
}
