//! `Idempotency-Key` on POST: the same key with the same body executes once and later requests
//! get the stored response; the same key with a different body is a 409. Concurrent requests
//! with one key wait for the first to finish and then receive its response.

use std::time::{Duration, Instant};

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::api::json::BODY_LIMIT_BYTES;
use crate::domain::now_millis;
use crate::error::AppError;
use crate::state::AppState;
use crate::store::api_keys::ApiKey;
use crate::store::idempotency::Claim;

/// How long a request waits for a concurrent one holding its key.
const WAIT_FOR_OWNER: Duration = Duration::from_secs(15);
/// A key claimed this long ago and never completed belongs to a request that died.
const ABANDONED_AFTER_MS: i64 = 60_000;

/// Middleware for the `/v1` routes (after authentication).
pub async fn idempotent(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match run(&state, req, next).await {
        Ok(res) | Err(res) => res,
    }
}

async fn run(state: &AppState, req: Request, next: Next) -> Result<Response, Response> {
    if req.method() != Method::POST {
        return Ok(next.run(req).await);
    }
    let Some(raw_key) = req.headers().get("idempotency-key") else {
        return Ok(next.run(req).await);
    };
    let key = raw_key
        .to_str()
        .ok()
        .filter(|k| !k.is_empty() && k.len() <= 255 && k.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
        .ok_or_else(|| {
            AppError::bad_request(
                paybridge_shared::codes::IDEMPOTENCY_KEY_INVALID,
                "Idempotency-Key must be 1 to 255 visible ASCII characters.",
            )
            .into_response()
        })?;
    let api_key_id = req
        .extensions()
        .get::<ApiKey>()
        .map(|k| k.id.clone())
        .unwrap_or_default();
    let (parts, body) = req.into_parts();
    let bytes = to_bytes(body, BODY_LIMIT_BYTES).await.map_err(|e| {
        // A body over the limit comes back as a length-limit error somewhere in its sources.
        let too_large =
            std::iter::successors(Some(&e as &(dyn std::error::Error + 'static)), |e| {
                e.source()
            })
            .any(<dyn std::error::Error>::is::<http_body_util::LengthLimitError>);
        crate::api::json::unreadable(if too_large {
            axum::http::StatusCode::PAYLOAD_TOO_LARGE
        } else {
            axum::http::StatusCode::BAD_REQUEST
        })
        .into_response()
    })?;
    let mut hasher = Sha256::new();
    hasher.update(parts.uri.path().as_bytes());
    hasher.update([0]);
    hasher.update(&bytes);
    let request_hash = hex::encode(hasher.finalize());

    let deadline = Instant::now() + WAIT_FOR_OWNER;
    let mut pause = Duration::from_millis(10);
    loop {
        let claim = state
            .store()
            .claim_idempotency(
                &api_key_id,
                &key,
                &request_hash,
                now_millis(),
                ABANDONED_AFTER_MS,
            )
            .await
            .map_err(|e| AppError::from(e).into_response())?;
        match claim {
            Claim::Owner => {
                let res = next
                    .run(Request::from_parts(parts, Body::from(bytes)))
                    .await;
                return Ok(remember(state, &api_key_id, &key, res).await);
            }
            Claim::Existing {
                request_hash: other,
                ..
            } if other != request_hash => {
                return Err(AppError::conflict(
                    paybridge_shared::codes::IDEMPOTENCY_KEY_REUSED,
                    "This Idempotency-Key was used with a different request; use a new key for a new request.",
                )
                .into_response());
            }
            Claim::Existing {
                response: Some((status, body)),
                ..
            } => return Ok(replay(status, body)),
            Claim::Existing { response: None, .. } => {
                if Instant::now() >= deadline {
                    return Err(AppError::conflict(paybridge_shared::codes::IDEMPOTENCY_REQUEST_IN_PROGRESS, "A request with this Idempotency-Key is still being processed; retry shortly.").into_response());
                }
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(200));
            }
        }
    }
}

/// Stores a finished response (anything but a server error, which a retry should re-run).
async fn remember(state: &AppState, api_key_id: &str, key: &str, res: Response) -> Response {
    let (parts, body) = res.into_parts();
    let Ok(bytes) = to_bytes(body, 4 * 1024 * 1024).await else {
        let _ = state.store().release_idempotency(api_key_id, key).await;
        return AppError::internal("response body could not be buffered").into_response();
    };
    let stored = if parts.status.is_server_error() {
        state.store().release_idempotency(api_key_id, key).await
    } else {
        let text = String::from_utf8_lossy(&bytes);
        state
            .store()
            .complete_idempotency(api_key_id, key, parts.status.as_u16(), &text, now_millis())
            .await
    };
    if let Err(e) = stored {
        tracing::error!(error = %e, "cannot record idempotency outcome");
    }
    Response::from_parts(parts, Body::from(bytes))
}

fn replay(status: u16, body: String) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let mut res = (status, body).into_response();
    let headers = res.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    res
}
