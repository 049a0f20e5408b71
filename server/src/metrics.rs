//! Prometheus metrics: request counts and latency histograms by route template and status.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry, TextEncoder,
};

use crate::state::AppState;

/// The server's metric families, in a registry of their own (no global state).
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    mismatches: prometheus::IntCounter,
    unmatched: prometheus::IntCounter,
    refused: IntCounterVec,
}

impl Metrics {
    /// Creates and registers the metric families.
    ///
    /// # Errors
    /// Only if two families collide, which is a programming error.
    pub fn new() -> prometheus::Result<Self> {
        let registry = Registry::new();
        let labels = ["method", "route", "status"];
        let requests = IntCounterVec::new(
            Opts::new("paybridge_http_requests_total", "HTTP requests answered"),
            &labels,
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "paybridge_http_request_duration_seconds",
                "Time to answer an HTTP request",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ]),
            &labels,
        )?;
        let mismatches = prometheus::IntCounter::new(
            "paybridge_provider_mismatches_total",
            "Authentic provider transactions that disagreed with our payment attempt (alert on any)",
        )?;
        let unmatched = prometheus::IntCounter::new(
            "paybridge_unmatched_payments_total",
            "Authentic provider reports of trades no payment attempt has, recorded as unmatched payments (alert on any)",
        )?;
        let refused = IntCounterVec::new(
            Opts::new(
                "paybridge_refused_total",
                "Connections, streams and requests refused by a limit, by limit",
            ),
            &["limit"],
        )?;
        registry.register(Box::new(refused.clone()))?;
        registry.register(Box::new(mismatches.clone()))?;
        registry.register(Box::new(unmatched.clone()))?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        Ok(Self {
            registry,
            requests,
            latency,
            mismatches,
            unmatched,
            refused,
        })
    }

    /// Counts one refusal by the named limit (always one of a fixed set of names).
    pub fn refused(&self, limit: &'static str) {
        self.refused.with_label_values(&[limit]).inc();
    }

    /// Counts a provider transaction that disagreed with our records.
    pub fn provider_mismatch(&self) {
        self.mismatches.inc();
    }

    /// Counts a newly recorded unmatched payment.
    pub fn unmatched_payment(&self) {
        self.unmatched.inc();
    }

    /// The registry, for other modules' families.
    #[must_use]
    pub const fn registry(&self) -> &Registry {
        &self.registry
    }

    fn render(&self) -> Result<String, prometheus::Error> {
        let mut out = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut out)?;
        String::from_utf8(out).map_err(|e| prometheus::Error::Msg(e.to_string()))
    }
}

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
    let labels = [method.as_str(), route.as_str(), status.as_str()];
    let m = state.metrics();
    m.requests.with_label_values(&labels).inc();
    m.latency
        .with_label_values(&labels)
        .observe(start.elapsed().as_secs_f64());
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
