//! Structured logs with `tracing`: pretty on a terminal, JSON otherwise.

use std::io::IsTerminal;

use axum::http::Request;
use tracing::Span;

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global subscriber. `RUST_LOG` overrides the default `info` filter.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let pretty = match format {
        LogFormat::Pretty => true,
        LogFormat::Json => false,
        LogFormat::Auto => std::io::stdout().is_terminal(),
    };
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    // A second init (tests start several servers in one process) is harmless: keep the first.
    let _ = if pretty {
        builder.compact().try_init()
    } else {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init()
    };
}

/// Span for a request: method, path (no query: it may carry codes or tokens) and request id.
pub fn make_span<B>(req: &Request<B>) -> Span {
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %request_id)
}

/// Middleware: drops a caller's `X-Request-Id` unless it is at most 64 characters of
/// `[A-Za-z0-9._-]`, so the id layer generates one instead; a caller's id goes into every log
/// line of its request, and an unbounded one made each line as large as the caller liked.
pub async fn bounded_request_id(
    mut req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let name = axum::http::HeaderName::from_static("x-request-id");
    let acceptable = req.headers().get(&name).is_none_or(|v| {
        let b = v.as_bytes();
        !b.is_empty()
            && b.len() <= 64
            && b.iter()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
    });
    if !acceptable {
        req.headers_mut().remove(&name);
    }
    next.run(req).await
}
