//! `GET /oauth/wechat/callback?code&state`: WeChat's OAuth return (see `service::sign_in`).
//! Every outcome but a forged state lands on the checkout page, which explains it and offers to
//! try again: a shopper never sees a raw error.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::api::browser;
use crate::error::AppError;
use crate::service::sign_in::{self, SignIn};
use crate::state::AppState;
use axum::extract::Query;

/// Query of the OAuth return.
#[derive(Debug, Deserialize)]
pub struct OAuthReturn {
    code: Option<String>,
    state: String,
}

/// `GET /oauth/wechat/callback?code&state`
pub async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<OAuthReturn>,
) -> Result<Response, AppError> {
    let browser = browser::browser_id(&headers);
    let outcome = sign_in::finish(
        state.services(),
        &q.state,
        browser.as_deref(),
        q.code.as_deref(),
    )
    .await?;
    Ok(match outcome {
        SignIn::Forged => invalid_sign_in_link(),
        SignIn::Back { session, outcome } => {
            Redirect::to(&format!("/pay/{session}?oauth={outcome}")).into_response()
        }
        SignIn::SignedIn {
            session,
            sealed,
            max_age_secs,
        } => {
            // A full page load of /pay/{id} (iOS checks the pay directory against the first URL).
            let mut res = Redirect::to(&format!("/pay/{session}")).into_response();
            if let Some(cookie) =
                browser::set_sealed_openid(&state, &session, &sealed, max_age_secs)
            {
                res.headers_mut().append(header::SET_COOKIE, cookie);
            }
            res
        }
    })
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
