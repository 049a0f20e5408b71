//! `POST /api/checkout/{id}/pay`: the page asks to pay where the shopper is. A browser without
//! an id gets one (a cookie): a WeChat sign-in it starts must come back to it, and the openid it
//! gives is kept in it.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use paybridge_shared::{Hints, PayRequest, detect};

use super::session_id;
use crate::api::browser;
use crate::api::client_ip::ClientIp;
use crate::api::json::Body;
use crate::error::AppError;
use crate::service::pay::{self, Shopper};
use crate::service::sign_in;
use crate::state::AppState;

/// `POST /api/checkout/{id}/pay`
pub async fn pay(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Body(req): Body<PayRequest>,
) -> Result<Response, AppError> {
    let id = session_id(&id)?;
    let method = crate::domain::session::payment_method("method", &req.method)?;
    let environment = req.environment.unwrap_or_else(|| {
        let ua = headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        detect(ua, &Hints::default())
    });
    let known = browser::browser_id(&headers);
    let openid = browser::sealed_openid(&headers, &id)
        .and_then(|sealed| sign_in::openid(state.services(), &id, sealed));
    let shopper = Shopper {
        method,
        environment,
        prefer_qr: req.prefer.as_deref() == Some("qr"),
        ip,
        browser: known.clone().unwrap_or_else(browser::new_browser_id),
        openid,
    };
    let action = pay::pay(state.services(), &id, &shopper).await?;
    let mut res = Json(action).into_response();
    if known.is_none()
        && let Some(cookie) = browser::set_browser_id(&state, &shopper.browser)
    {
        res.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(res)
}
