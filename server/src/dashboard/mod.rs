//! The merchant dashboard at `/dashboard`: server-rendered HTML behind an operator sign-in,
//! served by the same binary in both modes. No script: every page is a document, every action a
//! form with a CSRF token, and charts are SVG drawn on the server. The checkout page's weight is
//! untouched (nothing here is in the wasm).

mod actions;
pub mod auth;
mod charts;
mod detail;
mod filters;
pub mod layout;
mod lists;
mod login;
mod overview;
mod timeline;
// Operations pages: webhooks, event replay, API keys, the audit log, reconciliation.
mod audit_log;
mod keys;
mod reconciliation;
mod replay;
mod webhooks;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};

use crate::state::AppState;

const STYLESHEET: &str = include_str!("../../../static/dashboard/dashboard.css");

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/css; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        STYLESHEET,
    )
}

/// The dashboard's routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/dashboard", get(overview::show))
        .route("/dashboard/login", get(login::show).post(login::submit))
        .route("/dashboard/login/link", get(login::link))
        .route("/dashboard/logout", post(login::logout))
        .route("/dashboard/lang/{lang}", get(login::language))
        .route(layout::STYLESHEET_PATH, get(stylesheet))
        .route("/dashboard/sessions", get(lists::sessions))
        .route("/dashboard/sessions/{id}", get(detail::session))
        .route("/dashboard/sessions/{id}/expire", post(actions::expire))
        .route("/dashboard/intents", get(lists::intents))
        .route("/dashboard/intents/{id}", get(detail::intent))
        .route("/dashboard/payments", get(lists::payments))
        .route("/dashboard/payments/{id}", get(detail::payment))
        .route("/dashboard/payments/{id}/refund", post(actions::refund))
        .route("/dashboard/refunds", get(lists::refunds))
        .route("/dashboard/events/{id}", get(detail::event))
        // Operations pages.
        .route(
            "/dashboard/webhooks",
            get(webhooks::show).post(webhooks::create),
        )
        .route("/dashboard/webhooks/{id}/roll", post(webhooks::roll))
        .route(
            "/dashboard/webhooks/{id}/disable",
            get(webhooks::confirm_disable).post(webhooks::disable),
        )
        .route("/dashboard/events/{id}/replay", post(replay::replay))
        .route("/dashboard/keys", get(keys::show).post(keys::create))
        .route(
            "/dashboard/keys/{id}/revoke",
            get(keys::confirm_revoke).post(keys::revoke),
        )
        .route("/dashboard/audit", get(audit_log::show))
        .route(
            "/dashboard/reconciliation",
            get(reconciliation::show).post(reconciliation::run),
        )
}
