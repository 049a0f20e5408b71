//! Who is signed in, and forms they really sent: the session cookie (`HttpOnly`,
//! `SameSite=Strict`, `Secure` in live mode or behind https), the CSRF token every form carries,
//! compared in constant time, and the redirect to the sign-in page for anyone without a session.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::de::DeserializeOwned;

use super::layout::{self, Ctx, Lang};
use crate::config::Mode;
use crate::service::{Services, audit, operators};
use crate::state::AppState;

/// The session cookie.
pub const SESSION_COOKIE: &str = "pb_dash";
/// Largest form accepted.
const FORM_LIMIT: usize = 16 * 1024;

/// `; Secure` when the cookie must only travel over https.
fn secure(state: &AppState) -> &'static str {
    if state.config().mode == Mode::Live || state.public_url().scheme() == "https" {
        "; Secure"
    } else {
        ""
    }
}

/// A dashboard cookie: `HttpOnly`, `SameSite=Strict`, scoped to `path`.
#[must_use]
pub fn cookie(state: &AppState, name: &str, value: &str, path: &str, max_age: i64) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Strict{}",
        secure(state)
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("pb_dash_invalid=; Max-Age=0"))
}

/// `Set-Cookie` for a new session.
#[must_use]
pub fn session_cookie(state: &AppState, token: &str) -> HeaderValue {
    cookie(
        state,
        SESSION_COOKIE,
        token,
        "/dashboard",
        operators::SESSION_MS / 1000,
    )
}

/// `Set-Cookie` that removes the session cookie.
#[must_use]
pub fn clear_session_cookie(state: &AppState) -> HeaderValue {
    cookie(state, SESSION_COOKIE, "", "/dashboard", 0)
}

fn token(headers: &HeaderMap) -> Option<&str> {
    crate::api::browser::cookie(headers, SESSION_COOKIE).filter(|t| !t.is_empty() && t.len() <= 64)
}

/// Sends an operator without a session to the sign-in page, coming back here afterwards.
fn to_sign_in(parts: &Parts) -> Response {
    let here = parts
        .uri
        .path_and_query()
        .map_or("/dashboard", axum::http::uri::PathAndQuery::as_str);
    Redirect::to(&format!(
        "/dashboard/login?next={}",
        layout::url_encode(here)
    ))
    .into_response()
}

/// The page shown when something failed on our side; the cause goes to the log.
#[must_use]
pub fn unavailable(lang: Lang, e: &dyn std::fmt::Display) -> Response {
    tracing::error!(error = %e, "dashboard request failed");
    layout::bare(
        lang,
        StatusCode::INTERNAL_SERVER_ERROR,
        lang.t("Something went wrong", "出错了"),
        html! { p { (lang.t("The dashboard could not do this. The details are in the server's log.", "控制台无法完成此操作，详情见服务器日志。")) } },
    )
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let lang = Lang::of(&parts.headers);
        let Some(token) = token(&parts.headers) else {
            return Err(to_sign_in(parts));
        };
        match operators::session(state.services(), token).await {
            Ok(Some(signed_in)) => Ok(Self {
                signed_in,
                lang,
                livemode: state.config().mode == Mode::Live,
                here: parts
                    .uri
                    .path_and_query()
                    .map_or_else(|| "/dashboard".to_owned(), |p| p.as_str().to_owned()),
            }),
            Ok(None) => Err(to_sign_in(parts)),
            Err(e) => Err(unavailable(lang, &e)),
        }
    }
}

impl Ctx {
    /// Writes `action` on `target` to the audit log as this operator. `Err` is the page to
    /// answer with when it cannot be written: an action the log does not hold is not reported
    /// as done.
    pub async fn audit(
        &self,
        svc: &Services,
        action: &str,
        target: &str,
        detail: &serde_json::Value,
    ) -> Result<(), Response> {
        audit::record(svc, &self.signed_in.operator, action, target, detail)
            .await
            .map_err(|e| unavailable(self.lang, &e))
    }
}

/// A form with nothing but its CSRF token (a button that signs out, expires, revokes…).
#[derive(serde::Deserialize)]
pub struct NoFields {}

/// A form posted by a signed-in operator, its CSRF token checked: the handler only ever sees a
/// form that came from one of this session's own pages.
pub struct Posted<T> {
    pub ctx: Ctx,
    pub form: T,
}

/// The refusal of a form without this session's CSRF token.
#[must_use]
pub fn forged(lang: Lang) -> Response {
    layout::bare(
        lang,
        StatusCode::FORBIDDEN,
        lang.t("This form has expired", "表单已失效"),
        html! {
            p { (lang.t("It did not come from your current session. Go back, reload the page and try again.", "它不是来自你当前的登录会话。请返回、刷新页面后重试。")) }
            p { a href="/dashboard" { (lang.t("Back to the dashboard", "返回控制台")) } }
        },
    )
}

/// The CSRF token of a urlencoded form, if it has exactly one.
#[must_use]
pub fn csrf_of(body: &[u8]) -> Option<String> {
    let mut found = form_urlencoded_pairs(body)
        .filter(|(k, _)| k == "csrf")
        .map(|(_, v)| v);
    let first = found.next();
    if found.next().is_some() {
        return None;
    }
    first
}

fn form_urlencoded_pairs(body: &[u8]) -> impl Iterator<Item = (String, String)> + '_ {
    url::form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned()))
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for Posted<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let ctx = Ctx::from_request_parts(&mut parts, state).await?;
        let is_form = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        let Ok(bytes) = axum::body::to_bytes(body, FORM_LIMIT).await else {
            return Err(layout::bare(
                ctx.lang,
                StatusCode::PAYLOAD_TOO_LARGE,
                ctx.t("This form is too large", "表单过大"),
                html! {},
            ));
        };
        let token_ok = csrf_of(&bytes).is_some_and(|t| operators::csrf_matches(&ctx.signed_in, &t));
        if !is_form || !token_ok {
            tracing::warn!(operator = %ctx.signed_in.operator.username, path = %parts.uri.path(), "dashboard form refused: missing or wrong CSRF token");
            return Err(forged(ctx.lang));
        }
        match serde_urlencoded::from_bytes::<T>(&bytes) {
            Ok(form) => Ok(Self { ctx, form }),
            Err(e) => Err(layout::bare(
                ctx.lang,
                StatusCode::UNPROCESSABLE_ENTITY,
                ctx.t("This form is not valid", "表单无效"),
                html! { p { (e.to_string()) } },
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_has_one_csrf_token_or_none() {
        assert_eq!(csrf_of(b"a=1&csrf=abc").as_deref(), Some("abc"));
        assert_eq!(csrf_of(b"a=1"), None);
        assert_eq!(csrf_of(b"csrf=abc&csrf=abd"), None);
    }
}
