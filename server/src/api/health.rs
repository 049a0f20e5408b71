//! `GET /healthz` (the process answers) and `GET /readyz` (it can serve: database and page).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::json;

use crate::state::AppState;

/// Liveness: the process is up and answering.
pub async fn healthz() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

/// Readiness: the database answers within the pool's timeout and the page is built.
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<serde_json::Value>) {
    let (status, body) = readiness(&state).await;
    (status, Json(body))
}

/// Readiness with its detail, on the operations listener: also the WeChat Pay keys.
pub async fn readyz_detail(State(state): State<AppState>) -> (StatusCode, Json<serde_json::Value>) {
    let (status, mut body) = readiness(&state).await;
    body["keys"] = keys(&state);
    (status, Json(body))
}

async fn readiness(state: &AppState) -> (StatusCode, serde_json::Value) {
    let database = match state.store().ping().await {
        Ok(()) => "ok",
        Err(e) => {
            tracing::warn!(error = %e, "readiness: database ping failed");
            "unavailable"
        }
    };
    let page = if state.page().is_built() {
        "ok"
    } else {
        "missing"
    };
    let status = if database == "ok" {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        json!({"status": if status.is_success() { "ok" } else { "unavailable" }, "database": database, "page": page}),
    )
}

/// Which WeChat Pay keys verify answers and notifications, and how long each has left.
fn keys(state: &AppState) -> serde_json::Value {
    let now = crate::domain::now_millis() / 1000;
    crate::service::keys::health(state.services())
        .into_iter()
        .map(|k| {
            let left = k.not_after.map(|end| end - now);
            json!({
                "kind": k.kind, "source": k.source, "serial": k.serial, "not_after": k.not_after,
                "status": match left {
                    Some(s) if s <= 0 => "expired",
                    Some(s) if s <= crate::service::keys::WARN_BEFORE_SECS => "expiring",
                    _ => "ok",
                },
            })
        })
        .collect()
}
