//! The merchant REST API under `/v1` (DESIGN §3): bearer API keys, `Idempotency-Key` on POST.

pub mod auth;
pub mod events;
pub mod idempotency;
pub mod intents;
pub mod payment_links;
pub mod payments;
pub mod sessions;
pub mod unmatched;
pub mod webhooks;

use axum::Router;
use axum::middleware::from_fn_with_state;
use axum::routing::{delete, get, post};

use crate::error::AppError;
use crate::state::AppState;

/// The `/v1` routes with authentication and idempotency applied.
pub fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .route(
            "/v1/checkout_sessions",
            post(sessions::create).get(sessions::list),
        )
        .route("/v1/checkout_sessions/{id}", get(sessions::get))
        .route("/v1/checkout_sessions/{id}/expire", post(sessions::expire))
        .route(
            "/v1/payment_intents",
            post(intents::create).get(intents::list),
        )
        .route("/v1/payment_intents/{id}", get(intents::get))
        .route("/v1/payment_intents/{id}/confirm", post(intents::confirm))
        .route("/v1/payment_intents/{id}/cancel", post(intents::cancel))
        .route(
            "/v1/webhook_endpoints",
            post(webhooks::create).get(webhooks::list),
        )
        .route("/v1/webhook_endpoints/{id}", delete(webhooks::delete))
        .route(
            "/v1/webhook_endpoints/{id}/roll_secret",
            post(webhooks::roll_secret),
        )
        .route(
            "/v1/payment_links",
            post(payment_links::create).get(payment_links::list),
        )
        .route(
            "/v1/payment_links/{id}",
            get(payment_links::get).post(payment_links::update),
        )
        .route("/v1/payments", get(payments::list))
        .route("/v1/payments/{id}", get(payments::get))
        .route(
            "/v1/refunds",
            post(payments::create_refund).get(payments::list_refunds),
        )
        .route("/v1/refunds/{id}", get(payments::get_refund))
        .route("/v1/unmatched_payments", get(unmatched::list))
        .route("/v1/unmatched_payments/{id}", get(unmatched::get))
        .route("/v1/events", get(events::list))
        .route("/v1/events/{id}", get(events::get))
        .route("/v1/{*rest}", axum::routing::any(unknown))
        // Layers run bottom-up on the way in: authenticate first, then idempotency.
        .layer(from_fn_with_state(state.clone(), idempotency::idempotent))
        .layer(from_fn_with_state(state.clone(), auth::require_key))
        // Outermost, so refusals get it too. Answers carry secrets and personal data: no cache may keep them.
        .layer(tower_http::set_header::SetResponseHeaderLayer::overriding(
            axum::http::header::CACHE_CONTROL,
            axum::http::HeaderValue::from_static("no-store"),
        ))
}

async fn unknown() -> AppError {
    crate::api::json::route_not_found()
}
