//! The one router factory, used by `main` and by the tests.

use std::time::Duration;

use axum::Router;
use axum::http::{HeaderName, StatusCode};
use axum::middleware;
use axum::routing::get;
use tower::ServiceBuilder;
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::api::metrics;
use crate::api::{health, merchant, notify, shopper};
use crate::state::AppState;
use crate::telemetry;
use crate::web::{assets, page, security};

/// Time allowed to produce response headers.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The page's API and the OAuth return, rate-limited per client IP.
fn shopper_router(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/api/checkout/{id}", get(shopper::checkout_view))
        .route(
            "/api/checkout/{id}/pay",
            axum::routing::post(shopper::pay::pay),
        )
        .route("/api/checkout/{id}/status", get(shopper::status::status))
        .route("/api/checkout/{id}/events", get(shopper::events::events))
        .route(
            "/api/miniprogram/login",
            axum::routing::post(shopper::miniprogram::login),
        )
        .route(
            "/api/payment_intents/{id}/confirm",
            axum::routing::post(shopper::intents::confirm),
        )
        .route("/oauth/wechat/callback", get(shopper::oauth::callback))
        .route("/pay/{id}/recover", get(shopper::recover::recover))
        .route("/l/{id}", get(shopper::links::visit))
        .route("/l/{id}/qr.svg", get(shopper::links::qr_svg))
        .route("/l/{id}/qr.png", get(shopper::links::qr_png))
        .route("/api/{*rest}", axum::routing::any(shopper::unknown))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            crate::api::rate_limit::limit,
        ))
}

/// Builds the whole HTTP surface.
///
/// # Errors
/// When the security headers cannot be built from the configuration.
pub fn app(state: AppState) -> Result<Router, axum::http::header::InvalidHeaderValue> {
    let csp = security::content_security_policy(state.config(), state.page().script_hashes());
    let x_request_id = HeaderName::from_static("x-request-id");

    let mut router = Router::new();
    // `/` is the demo store in sandbox mode (crate::demo), the page's start screen in live mode.
    if !crate::demo::owns_root(&state) {
        router = router.route("/", get(page::serve));
    }
    let mut router = router
        .route("/pay/{id}", get(page::serve))
        .route("/notify/wechat", axum::routing::post(notify::wechat))
        .route("/notify/alipay", axum::routing::post(notify::alipay))
        .route("/openapi.json", get(crate::api::openapi::document))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .merge(shopper_router(&state))
        .merge(merchant::router(&state))
        // Sandbox mode only: the simulated WeChat Pay / OAuth and shopper screens under /sandbox.
        .merge(crate::sandbox::router(state.sandbox()))
        // Sandbox mode only: the demo store at `/` and its merchant under /demo.
        .merge(crate::demo::router(&state))
        .merge(crate::dashboard::router())
        .merge(assets::router(&state.config().dist_dir))
        .merge(crate::web::brand::router(state.config().logo_file.clone()))
        .merge(crate::web::verify::router(
            state.config().verify_dir.clone(),
        ))
        .fallback(|| async { (StatusCode::NOT_FOUND, "Not found") })
        // Innermost: a client going away (or the timeout below) must not stop a handler half
        // way through its writes.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::api::detached::run_to_completion,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ));
    for layer in security::layers(state.config(), &csp)? {
        router = router.layer(layer);
    }
    Ok(router
        .layer(
            // Outermost first: request id → trace span → JSON errors → body limit → timeout →
            // compression.
            ServiceBuilder::new()
                .layer(SetSensitiveRequestHeadersLayer::new([
                    axum::http::header::AUTHORIZATION,
                    axum::http::header::COOKIE,
                ]))
                .layer(middleware::from_fn(telemetry::bounded_request_id))
                .layer(SetRequestIdLayer::new(
                    x_request_id.clone(),
                    MakeRequestUuid,
                ))
                .layer(PropagateRequestIdLayer::new(x_request_id))
                .layer(TraceLayer::new_for_http().make_span_with(telemetry::make_span))
                // Outside the limit and the timeout, whose refusals are plain text.
                .layer(middleware::from_fn(crate::api::rejections::as_json))
                .layer(RequestBodyLimitLayer::new(
                    crate::api::json::BODY_LIMIT_BYTES,
                ))
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::REQUEST_TIMEOUT,
                    REQUEST_TIMEOUT,
                ))
                .layer(
                    CompressionLayer::new()
                        .br(true)
                        .gzip(true)
                        .quality(CompressionLevel::Precise(5)),
                ),
        )
        .with_state(state))
}

/// The operations listener's surface (`PAYBRIDGE_ADMIN_LISTEN`, loopback by default):
/// Prometheus metrics and the readiness detail (WeChat Pay keys and their ends), kept off the
/// public listener.
pub fn admin(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(metrics::endpoint))
        .route("/readyz", get(health::readyz_detail))
        .route("/healthz", get(health::healthz))
        .with_state(state)
}
