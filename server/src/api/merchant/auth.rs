//! `Authorization: Bearer sk_…` on every `/v1` request. Keys are looked up by their SHA-256
//! hash; the plaintext is never stored or logged.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::api::client_ip::ClientIp;
use crate::config::Mode;
use crate::error::AppError;
use crate::guard::failures::Counted;
use crate::state::AppState;
use crate::store::api_keys::ApiKey;

/// Authenticates the request and stores its [`ApiKey`] in the request extensions.
pub async fn require_key(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    mut req: Request,
    next: Next,
) -> Response {
    let gate = state.auth_failures();
    // Shut out after too many failures: only a key known valid gets through, nothing else
    // reaches the database.
    let shut = gate.is_shut(ip);
    let header = req
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    match authenticate(&state, header, shut).await {
        Ok(key) => {
            req.extensions_mut().insert(key);
            next.run(req).await
        }
        Err(_) if shut => {
            state.metrics().refused("auth_failures");
            AppError::Public {
                status: axum::http::StatusCode::TOO_MANY_REQUESTS,
                kind: paybridge_shared::ErrorType::RateLimited,
                code: paybridge_shared::codes::RATE_LIMITED,
                message: "Too many failed authentications from this address; wait a minute.".into(),
                param: None,
            }
            .into_response()
        }
        Err(e) => {
            match gate.failed(ip) {
                Counted::First => {
                    tracing::warn!(%ip, "failed API authentication (further ones from this address are not logged for a minute)");
                }
                Counted::Exhausted => {
                    tracing::warn!(%ip, "too many failed API authentications: this address is refused for a minute");
                }
                Counted::Again => {}
            }
            e.into_response()
        }
    }
}

async fn authenticate(
    state: &AppState,
    header: Option<String>,
    only_cached: bool,
) -> Result<ApiKey, AppError> {
    let header = header.ok_or_else(|| {
        AppError::unauthenticated(
            paybridge_shared::codes::API_KEY_MISSING,
            "Send your secret key as `Authorization: Bearer sk_…`.",
        )
    })?;
    // The scheme name is case-insensitive (RFC 9110 §11.1).
    let token = header
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|t| t.starts_with("sk_") && t.len() <= 128)
        .ok_or_else(|| {
            AppError::unauthenticated(
                paybridge_shared::codes::API_KEY_INVALID,
                "The Authorization header must be `Bearer sk_…`.",
            )
        })?;
    let found = if only_cached {
        state.store().cached_api_key(token)
    } else {
        state.store().find_api_key(token).await?
    };
    let key = found.ok_or_else(|| {
        AppError::unauthenticated(
            paybridge_shared::codes::API_KEY_INVALID,
            "This API key is not valid (unknown or revoked).",
        )
    })?;
    let expected = match state.config().mode {
        Mode::Sandbox => "test",
        Mode::Live => "live",
    };
    if key.mode != expected {
        return Err(AppError::forbidden(
            paybridge_shared::codes::API_KEY_WRONG_MODE,
            format!(
                "This server runs in {} mode and needs an sk_{expected}_ key.",
                state.config().mode.as_str()
            ),
        ));
    }
    Ok(key)
}
