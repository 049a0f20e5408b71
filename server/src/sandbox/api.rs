//! The simulated WeChat Pay APIv3 entry point: every `/sandbox/wechat/v3/…` request is verified
//! first, then routed by method and path, and every answer is signed.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;

use super::Sandbox;
use super::orders::TradeType;
use super::wire::{ApiError, Reply};
use super::{auth, bills, orders, refunds};

/// Handles one APIv3 call.
pub async fn handle(
    State(sandbox): State<Sandbox>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let reply = match route(&sandbox, &method, &uri, &headers, &body).await {
        Ok(reply) => reply,
        Err(e) => e.into_reply(),
    };
    sandbox.respond(reply)
}

fn decode(segment: &str) -> String {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8_lossy()
        .into_owned()
}

async fn route(
    sandbox: &Sandbox,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Reply, ApiError> {
    let verified = auth::verify(sandbox, method, uri, headers, body)?;
    let path = uri
        .path()
        .strip_prefix(super::WECHAT_PREFIX)
        .unwrap_or_default();
    let segments: Vec<String> = path
        .trim_start_matches('/')
        .split('/')
        .map(decode)
        .collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    match (method.as_str(), segments.as_slice()) {
        ("POST", ["v3", "pay", "transactions", kind]) => {
            let kind = TradeType::from_segment(kind).ok_or_else(not_found)?;
            orders::create(sandbox, &verified, kind, body).await
        }
        ("GET", ["v3", "pay", "transactions", "out-trade-no", n]) => {
            auth::check_query_mchid(uri, &verified)?;
            orders::query(sandbox, &verified, false, n).await
        }
        ("GET", ["v3", "pay", "transactions", "id", id]) => {
            auth::check_query_mchid(uri, &verified)?;
            orders::query(sandbox, &verified, true, id).await
        }
        ("POST", ["v3", "pay", "transactions", "out-trade-no", n, "close"]) => {
            orders::close(sandbox, &verified, n, body).await
        }
        ("POST", ["v3", "refund", "domestic", "refunds"]) => {
            refunds::create(sandbox, &verified, body).await
        }
        ("GET", ["v3", "refund", "domestic", "refunds", n]) => {
            refunds::query(sandbox, &verified, n).await
        }
        ("GET", ["v3", "bill", "tradebill"]) => bills::trade_bill(sandbox, &verified, uri).await,
        ("GET", ["v3", "billdownload", "file"]) => bills::download(sandbox, &verified, uri).await,
        ("GET", ["v3", "certificates"]) => certificates(sandbox),
        _ => Err(not_found()),
    }
}

fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "RESOURCE_NOT_EXISTS",
        "请求的资源不存在",
    )
}

/// `GET /v3/certificates`: in certificate mode the platform certificate, encrypted with the
/// APIv3 key as WeChat does; in public-key mode none exists to hand out.
fn certificates(sandbox: &Sandbox) -> Result<Reply, ApiError> {
    let keys = sandbox.keys();
    let Some(cert) = &keys.certificate else {
        return Reply::json(&serde_json::json!({"data": []}));
    };
    let apiv3 = crate::providers::wechat::ApiV3Key::new(keys.apiv3_key.expose().as_bytes())
        .map_err(|e| ApiError::system(&e))?;
    let time = |unix: i64| {
        time::OffsetDateTime::from_unix_timestamp(unix)
            .map(crate::providers::wechat::orders::format_time_expire)
            .unwrap_or_default()
    };
    let body = crate::providers::wechat::certificates::encrypt_certificates(
        &apiv3,
        &[(cert.serial.as_str(), cert.pem.as_str())],
        (&time(cert.not_before), &time(cert.not_after)),
    )
    .map_err(|e| ApiError::system(&e))?;
    let value: serde_json::Value =
        serde_json::from_slice(&body).map_err(|e| ApiError::system(&e))?;
    Reply::json(&value)
}
