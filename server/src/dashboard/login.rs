//! Signing in and out: the password form (its own CSRF token in a cookie and a hidden field,
//! since there is no session yet), failures counted per client, one-time login links, and the
//! language switch.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;

use super::auth::{self, NoFields, Posted};
use super::layout::{self, LANG_COOKIE, Lang};
use crate::api::client_ip::ClientIp;
use crate::guard::failures::Counted;
use crate::service::{audit, operators};
use crate::state::AppState;

/// The sign-in form's CSRF cookie.
const LOGIN_COOKIE: &str = "pb_dash_login";

/// Where to go after signing in: a dashboard path, never another site.
fn next_path(next: Option<&str>) -> String {
    next.filter(|n| {
        (n == &"/dashboard" || n.starts_with("/dashboard/") || n.starts_with("/dashboard?"))
            && !n.contains("//")
            && !n.contains('\\')
            && !n.starts_with("/dashboard/login")
    })
    .unwrap_or("/dashboard")
    .to_owned()
}

#[derive(Deserialize)]
pub struct Next {
    next: Option<String>,
}

fn form(lang: Lang, token: &str, next: &str, problem: Option<&str>) -> maud::Markup {
    html! {
        @if let Some(p) = problem {
            p.problem role="alert" #login-problem { (p) }
        }
        form.login method="post" action="/dashboard/login" {
            input type="hidden" name="csrf" value=(token);
            input type="hidden" name="next" value=(next);
            label for="username" { (lang.t("Username", "用户名")) }
            input #username name="username" autocomplete="username" required autofocus;
            label for="password" { (lang.t("Password", "密码")) }
            input #password type="password" name="password" autocomplete="current-password" required;
            button type="submit" { (lang.t("Sign in", "登录")) }
        }
        p.hint { (lang.t("Operators are created with `paybridge users create`.", "操作员账号用 `paybridge users create` 创建。")) }
    }
}

fn sign_in_page(
    state: &AppState,
    lang: Lang,
    status: StatusCode,
    next: &str,
    problem: Option<&str>,
) -> Response {
    let token = operators::new_token();
    let mut response = layout::bare(
        lang,
        status,
        lang.t("Sign in to the dashboard", "登录控制台"),
        form(lang, &token, next, problem),
    );
    response.headers_mut().append(
        header::SET_COOKIE,
        auth::cookie(state, LOGIN_COOKIE, &token, "/dashboard/login", 3600),
    );
    response
}

/// `GET /dashboard/login`
pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<Next>,
) -> Response {
    sign_in_page(
        &state,
        Lang::of(&headers),
        StatusCode::OK,
        &next_path(q.next.as_deref()),
        None,
    )
}

#[derive(Deserialize)]
pub struct Credentials {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

/// `POST /dashboard/login`
pub async fn submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(c): Form<Credentials>,
) -> Response {
    let lang = Lang::of(&headers);
    let next = next_path(c.next.as_deref());
    let expected = crate::api::browser::cookie(&headers, LOGIN_COOKIE).unwrap_or("");
    if expected.is_empty() || !operators::tokens_match(expected, &c.csrf) {
        return auth::forged(lang);
    }
    if state.login_failures().is_shut(ip) {
        return sign_in_page(
            &state,
            lang,
            StatusCode::TOO_MANY_REQUESTS,
            &next,
            Some(lang.t(
                "Too many failed sign-ins from here. Wait a minute and try again.",
                "此处登录失败次数过多，请一分钟后再试。",
            )),
        );
    }
    match operators::check_password(state.store(), &c.username, &c.password).await {
        Ok(Some(op)) => start(&state, op, &next, "operator.sign_in").await,
        Ok(None) => {
            if state.login_failures().failed(ip) == Counted::First {
                tracing::warn!(client = %ip, "dashboard sign-in failed");
            }
            sign_in_page(
                &state,
                lang,
                StatusCode::UNAUTHORIZED,
                &next,
                Some(lang.t("Wrong username or password.", "用户名或密码错误。")),
            )
        }
        Err(e) => auth::unavailable(lang, &e),
    }
}

async fn start(state: &AppState, op: operators::Operator, next: &str, how: &str) -> Response {
    let svc = state.services();
    let session = match operators::start_session(svc.store(), op).await {
        Ok(s) => s,
        Err(e) => return auth::unavailable(Lang::En, &e),
    };
    if let Err(e) = audit::record(
        svc,
        &session.signed_in.operator,
        how,
        "-",
        &serde_json::json!({}),
    )
    .await
    {
        return auth::unavailable(Lang::En, &e);
    }
    let mut response = Redirect::to(next).into_response();
    let headers = response.headers_mut();
    headers.append(
        header::SET_COOKIE,
        auth::session_cookie(state, session.token.expose()),
    );
    headers.append(
        header::SET_COOKIE,
        auth::cookie(state, LOGIN_COOKIE, "", "/dashboard/login", 0),
    );
    response
}

#[derive(Deserialize)]
pub struct LinkToken {
    #[serde(default)]
    token: String,
}

/// `GET /dashboard/login/link?token=…`: a one-time link (`make run` prints one in sandbox mode).
pub async fn link(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Query(q): Query<LinkToken>,
) -> Response {
    let lang = Lang::of(&headers);
    if state.login_failures().is_shut(ip) {
        return layout::bare(
            lang,
            StatusCode::TOO_MANY_REQUESTS,
            lang.t("Too many failed sign-ins", "登录失败次数过多"),
            html! {},
        );
    }
    match operators::use_login_link(state.services(), &q.token).await {
        Ok(Some(session)) => {
            let op = session.signed_in.operator.clone();
            drop(session);
            start(&state, op, "/dashboard", "operator.sign_in_link").await
        }
        Ok(None) => {
            state.login_failures().failed(ip);
            layout::bare(
                lang,
                StatusCode::GONE,
                lang.t(
                    "This sign-in link is used or expired",
                    "此登录链接已使用或已过期",
                ),
                html! { p { a href="/dashboard/login" { (lang.t("Sign in with a password", "用密码登录")) } } },
            )
        }
        Err(e) => auth::unavailable(lang, &e),
    }
}

/// `POST /dashboard/logout`
pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    posted: Posted<NoFields>,
) -> Response {
    if let Some(token) = crate::api::browser::cookie(&headers, auth::SESSION_COOKIE)
        && let Err(e) = operators::end_session(state.services(), token).await
    {
        return auth::unavailable(posted.ctx.lang, &e);
    }
    let mut response = Redirect::to("/dashboard/login").into_response();
    response
        .headers_mut()
        .append(header::SET_COOKIE, auth::clear_session_cookie(&state));
    response
}

#[derive(Deserialize)]
pub struct Back {
    back: Option<String>,
}

/// `GET /dashboard/lang/{en|zh}?back=…`: remembers the language, back to a dashboard page.
pub async fn language(
    State(state): State<AppState>,
    Path(lang): Path<String>,
    Query(q): Query<Back>,
) -> Response {
    if lang != "en" && lang != "zh" {
        return StatusCode::NOT_FOUND.into_response();
    }
    let back = next_path(q.back.as_deref());
    let mut response = Redirect::to(&back).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        auth::cookie(&state, LANG_COOKIE, &lang, "/dashboard", 365 * 24 * 3600),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::next_path;

    #[test]
    fn sign_in_only_returns_to_dashboard_paths() {
        assert_eq!(
            next_path(Some("/dashboard/payments?q=1")),
            "/dashboard/payments?q=1"
        );
        assert_eq!(next_path(Some("https://evil.example/")), "/dashboard");
        assert_eq!(next_path(Some("//evil.example/dashboard")), "/dashboard");
        assert_eq!(next_path(Some("/dashboard//evil.example")), "/dashboard");
        assert_eq!(next_path(Some("/dashboardx")), "/dashboard");
        assert_eq!(next_path(Some("/dashboard/login")), "/dashboard");
        assert_eq!(next_path(None), "/dashboard");
    }
}
