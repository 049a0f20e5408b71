//! The page's payment endpoints: start paying, poll status, WeChat OAuth return, mini program
//! login, and WeChat Pay notifications.

use axum::Json;

use crate::api::json::Body;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use paybridge_shared::{CheckoutStatus, Hints, NextAction, PayRequest, StatusView, detect};
use serde::Deserialize;
use serde_json::json;

use super::browser;
use super::client_ip::ClientIp;
use super::failures::Counted;
use crate::domain::ids::SessionId;
use crate::domain::{Channel, PaymentMethod, PaymentStatus, SessionStatus, now_millis};
use crate::error::AppError;
use crate::payments::complete::{self, Applied};
use crate::payments::{self, Shopper, oauth_state};
use crate::providers::Notice;
use crate::state::AppState;

/// How old the last provider check of a pending attempt may be before a status poll asks again.
const STALE_MS: i64 = 3_000;

pub(crate) fn session_id(raw: &str) -> Result<SessionId, AppError> {
    SessionId::parse(raw)
        .ok_or_else(|| AppError::not_found("checkout_not_found", "No such checkout session."))
}

/// `POST /api/checkout/{id}/pay`. A browser without an id gets one (a cookie): a WeChat
/// sign-in it starts must come back to it, and the openid it gives is kept in it.
pub async fn pay(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Body(req): Body<PayRequest>,
) -> Result<Response, AppError> {
    let id = session_id(&id)?;
    let method = PaymentMethod::parse("method", &req.method)?;
    let environment = req.environment.unwrap_or_else(|| {
        let ua = headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        detect(ua, &Hints::default())
    });
    let known = browser::browser_id(&headers);
    let openid = browser::sealed_openid(&headers, &id).and_then(|sealed| {
        oauth_state::open_openid(&secret_key(&state), id.as_str(), sealed, now_millis())
    });
    let shopper = Shopper {
        method,
        environment,
        prefer_qr: req.prefer.as_deref() == Some("qr"),
        ip,
        browser: known.clone().unwrap_or_else(browser::new_browser_id),
        openid,
    };
    let action = payments::pay(&state, &id, &shopper).await?;
    let mut res = Json(action).into_response();
    if known.is_none()
        && let Some(cookie) = browser::set_browser_id(&state, &shopper.browser)
    {
        res.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(res)
}

fn secret_key(state: &AppState) -> String {
    state
        .config()
        .secret_key
        .as_ref()
        .map(|s| s.expose().clone())
        .unwrap_or_default()
}

/// `GET /api/checkout/{id}/status`: asks WeChat when a pending attempt's last check is stale,
/// so a lost notification never leaves a paid shopper waiting.
pub async fn status(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<StatusView>, AppError> {
    let id = session_id(&id)?;
    status_view(&state, &id).await.map(Json)
}

/// The status the page shows, after checking a stale pending attempt with WeChat.
///
/// # Errors
/// 404 for an unknown session, 500 on a database error.
pub async fn status_view(state: &AppState, id: &SessionId) -> Result<StatusView, AppError> {
    let not_found = || AppError::not_found("checkout_not_found", "No such checkout session.");
    let mut session = crate::checkout::get(state, id)
        .await?
        .ok_or_else(not_found)?;
    let mut latest = state
        .store()
        .payments_of_session(id)
        .await?
        .into_iter()
        .next();
    if session.status == SessionStatus::Open
        && let Some(p) = &latest
        && matches!(p.status, PaymentStatus::Pending)
        && now_millis() - p.checked_at > STALE_MS
        && complete::check(state, p).await? == Applied::Succeeded
    {
        session = crate::checkout::get(state, id)
            .await?
            .ok_or_else(not_found)?;
        latest = state
            .store()
            .payments_of_session(id)
            .await?
            .into_iter()
            .next();
    }
    let status = match session.status {
        SessionStatus::Open => CheckoutStatus::Open,
        SessionStatus::Complete => CheckoutStatus::Complete,
        SessionStatus::Expired => CheckoutStatus::Expired,
    };
    Ok(StatusView {
        status,
        payment_status: latest.map(|p| crate::domain::status::State::as_str(p.status).to_owned()),
        success_url: (session.status == SessionStatus::Complete).then_some(session.success_url),
    })
}

/// Query of the OAuth return.
#[derive(Debug, Deserialize)]
pub struct OAuthReturn {
    code: Option<String>,
    state: String,
}

/// `GET /oauth/wechat/callback?code&state`: the state must be ours, fresh, unused, bound to
/// the session and back in the browser that started the sign-in; the code becomes the
/// shopper's openid, kept in that browser (a cookie for this session's API only).
pub async fn oauth_callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<OAuthReturn>,
) -> Result<Response, AppError> {
    let secret = secret_key(&state);
    let now = now_millis();
    // Every outcome but a forged state lands on the checkout page, which explains it and
    // offers to try again: a shopper never sees a raw error.
    let back = |session: &SessionId, outcome: &str| {
        Ok(Redirect::to(&format!("/pay/{session}?oauth={outcome}")).into_response())
    };
    let browser = browser::browser_id(&headers);
    let session = match oauth_state::check(&secret, &q.state, browser.as_deref(), now) {
        oauth_state::Checked::Valid(s) => SessionId::parse(&s),
        oauth_state::Checked::Expired(s) | oauth_state::Checked::OtherBrowser(s) => {
            // Another browser (a forwarded sign-in link) is told the link expired: it may
            // start its own sign-in, never finish this one.
            if let Some(session) = SessionId::parse(&s) {
                return back(&session, "expired");
            }
            None
        }
        oauth_state::Checked::Forged => None,
    };
    let Some(session) = session else {
        return Ok(invalid_sign_in_link());
    };
    if !state
        .store()
        .use_token_once(&oauth_state::fingerprint(&q.state), now)
        .await?
    {
        return back(&session, "used");
    }
    let Some(code) = q.code.filter(|c| !c.is_empty() && c.len() <= 128) else {
        // The shopper refused; back to the page, which offers a QR code instead.
        return back(&session, "denied");
    };
    let wechat = state
        .wechat()
        .ok_or_else(|| AppError::internal("WeChat clients missing"))?;
    let token = match wechat.oauth.exchange_code(&code).await {
        Ok(token) => token,
        Err(e) => {
            tracing::warn!(error = %e, "OAuth code exchange failed");
            return back(&session, "failed");
        }
    };
    // As long as the session can be paid (at most a day), and no longer.
    let expires = state
        .store()
        .get_session(&session)
        .await?
        .map_or(now, |s| s.expires_at);
    let max_age = u64::try_from((expires - now) / 1000).unwrap_or(0);
    let sealed = oauth_state::seal_openid(&secret, session.as_str(), &token.openid, expires);
    // A full page load of /pay/{id} (iOS checks the pay directory against the first URL).
    let mut res = Redirect::to(&format!("/pay/{session}")).into_response();
    if let Some(cookie) = browser::set_sealed_openid(&state, &session, &sealed, max_age) {
        res.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(res)
}

/// A state we did not issue names no checkout to return to: a short page says what to do.
fn invalid_sign_in_link() -> Response {
    (
        StatusCode::BAD_REQUEST,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        "<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>登录链接无效 · Sign-in link not valid</title>\
         <p>此微信登录链接无效。请重新打开商家给你的支付链接。</p>\
         <p>This WeChat sign-in link is not valid. Please open the checkout link from the shop again.</p></html>",
    )
        .into_response()
}

/// Body of `POST /api/miniprogram/login`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MiniProgramLogin {
    cs: String,
    code: String,
}

/// `POST /api/miniprogram/login {cs, code}` → `wx.requestPayment` parameters.
pub async fn miniprogram_login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Body(req): Body<MiniProgramLogin>,
) -> Result<Json<NextAction>, AppError> {
    let id = session_id(&req.cs)?;
    let session = crate::checkout::get(&state, &id)
        .await?
        .ok_or_else(|| AppError::not_found("checkout_not_found", "No such checkout session."))?;
    match session.status {
        SessionStatus::Complete => {
            return Ok(Json(NextAction::AlreadyPaid {
                success_url: session.success_url,
            }));
        }
        SessionStatus::Expired => return Ok(Json(NextAction::Expired)),
        SessionStatus::Open => {}
    }
    let wechat = state
        .wechat()
        .ok_or_else(|| AppError::internal("WeChat clients missing"))?;
    let (Some(mp), Some(appid)) = (
        wechat.miniprogram.as_ref(),
        state.wechat_miniprogram_appid(),
    ) else {
        return Err(AppError::conflict(
            "miniprogram_not_configured",
            "No mini program is configured on this server.",
        ));
    };
    let login = mp.jscode2session(&req.code).await.map_err(|e| {
        tracing::warn!(error = %e, "jscode2session failed");
        AppError::bad_request(
            "miniprogram_login_failed",
            "The mini program login code was refused; call wx.login again.",
        )
    })?;
    payments::start(
        &state,
        &session,
        Channel::MiniProgram,
        appid,
        Some(login.openid),
        ip,
    )
    .await
    .map(Json)
}

fn fail(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({"code": "FAIL", "message": message}))).into_response()
}

/// `POST /notify/wechat`: verified and decrypted before anything is trusted; answers 204 once
/// the outcome is durable, 4xx for what must not be retried as is, 5xx to be retried.
pub async fn notify_wechat(
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
pub async fn notify_alipay(
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
    let result = match &notice {
        Notice::Trade(t) => complete::apply(state, provider, t).await.map(|applied| {
            tracing::info!(method = method.as_str(), out_trade_no = %t.out_trade_no, ?applied, "transaction notification");
        }),
        Notice::Refund(r) => crate::refunds::apply_notice(state, provider, r).await,
        Notice::Ignored(kind) => {
            tracing::info!(kind = %kind, "ignored a notification of an unknown type");
            Ok(())
        }
    };
    result.map_err(|e| {
        tracing::error!(error = %e, "could not record a notification; the provider will retry");
        Refused::NotRecorded
    })
}
