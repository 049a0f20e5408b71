//! Provider notifications: `POST /notify/wechat` and `POST /notify/alipay`. Verified before
//! anything is trusted; acknowledged only once the outcome is durable. A client sending
//! unauthentic ones is logged once a minute, and past its share refused unchecked.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::client_ip::ClientIp;
use crate::domain::PaymentMethod;
use crate::guard::failures::Counted;
use crate::service::complete;
use crate::state::AppState;

fn fail(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({"code": "FAIL", "message": message}))).into_response()
}

/// `POST /notify/wechat`: verified and decrypted before anything is trusted; answers 204 once
/// the outcome is durable, 4xx for what must not be retried as is, 5xx to be retried.
pub async fn wechat(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match notify(&state, ip, PaymentMethod::WechatPay, &headers, &body).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(Refused::Unconfigured) => fail(StatusCode::SERVICE_UNAVAILABLE, "not configured"),
        Err(Refused::Unauthentic) => fail(StatusCode::UNAUTHORIZED, "signature or payload invalid"),
        Err(Refused::TooMany) => fail(
            StatusCode::TOO_MANY_REQUESTS,
            "too many refused notifications",
        ),
        Err(Refused::NotRecorded) => fail(
            StatusCode::INTERNAL_SERVER_ERROR,
            "temporarily unable to record",
        ),
    }
}

/// `POST /notify/alipay`: the form is verified with Alipay's key before anything is trusted;
/// the answer is the literal `success` only once the outcome is durable (anything else makes
/// Alipay retry).
pub async fn alipay(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let status = match notify(&state, ip, PaymentMethod::Alipay, &headers, &body).await {
        Ok(()) => {
            return (
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                crate::providers::alipay::notification::ACK,
            )
                .into_response();
        }
        Err(Refused::Unconfigured) => StatusCode::SERVICE_UNAVAILABLE,
        Err(Refused::Unauthentic) => StatusCode::BAD_REQUEST,
        Err(Refused::TooMany) => StatusCode::TOO_MANY_REQUESTS,
        Err(Refused::NotRecorded) => StatusCode::INTERNAL_SERVER_ERROR,
    };
    (status, "fail").into_response()
}

/// Why a notification was not acknowledged.
enum Refused {
    Unconfigured,
    Unauthentic,
    /// This client sent too many unauthentic ones this minute: not even checked.
    TooMany,
    NotRecorded,
}

async fn notify(
    state: &AppState,
    ip: std::net::IpAddr,
    method: PaymentMethod,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), Refused> {
    let provider = state.provider(method).ok_or(Refused::Unconfigured)?;
    let gate = state.notify_refusals();
    if gate.is_shut(ip) {
        state.metrics().refused("notify_refusals");
        return Err(Refused::TooMany);
    }
    let notice = provider.notification(headers, body).await.map_err(|e| {
        match gate.failed(ip) {
            Counted::First => tracing::warn!(error = %e, %ip, method = method.as_str(), "refused a provider notification (further refusals from this address are not logged for a minute)"),
            Counted::Exhausted => tracing::warn!(%ip, method = method.as_str(), "too many refused notifications: this address is refused unchecked for a minute"),
            Counted::Again => {}
        }
        Refused::Unauthentic
    })?;
    complete::receive(state.services(), provider, &notice)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "could not record a notification; the provider will retry");
            Refused::NotRecorded
        })
}
