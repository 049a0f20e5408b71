//! Simulated WeChat OAuth (official account) and mini program login: a consent page that
//! redirects back with a single-use code, the code → openid exchanges, and `wx.login`'s code.
//! Openids are stable per simulated user and app. Errors are HTTP 200 with `errcode`/`errmsg`.

use std::time::Duration;

use axum::Form;
use axum::Json;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;
use sqlx::Row as _;

use super::Sandbox;
use super::html::{self, esc, page};
use super::util::{self, now_ms};

/// A code works for five minutes (at time scale 1).
const CODE_LIFETIME: Duration = Duration::from_secs(300);

/// The stable openid of simulated `user` for `appid`, recorded so orders can check it.
pub async fn openid_for(sandbox: &Sandbox, appid: &str, user: &str) -> Result<String, sqlx::Error> {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(sandbox.keys().token_key.expose().as_bytes())
            .map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
    mac.update(format!("openid\n{appid}\n{user}").as_bytes());
    let digest = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    let openid = format!("o{}", &digest[..27]);
    sqlx::query(
        "INSERT INTO sandbox_openids (openid, appid, username, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (openid) DO NOTHING",
    )
    .bind(&openid)
    .bind(appid)
    .bind(user)
    .bind(now_ms())
    .execute(sandbox.store().pool())
    .await?;
    Ok(openid)
}

fn errcode(code: i64, msg: &str) -> Response {
    Json(serde_json::json!({
        "errcode": code,
        "errmsg": format!("{msg}, rid: {}", util::hex_chars(8)),
    }))
    .into_response()
}

/// Query of the authorize URL.
#[derive(Debug, Deserialize)]
pub struct AuthorizeQuery {
    #[serde(default)]
    appid: String,
    #[serde(default)]
    redirect_uri: String,
    #[serde(default)]
    response_type: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    state: String,
}

/// Why an authorize request is refused, as WeChat shows it.
fn check_authorize(sandbox: &Sandbox, q: &AuthorizeQuery) -> Result<url::Url, &'static str> {
    if q.appid != sandbox.keys().appid {
        return Err("appid 参数错误 (10002)");
    }
    if q.response_type != "code" {
        return Err("response_type 参数错误 (10004)");
    }
    if !matches!(q.scope.as_str(), "snsapi_base" | "snsapi_userinfo") {
        return Err("scope 参数错误或没有 scope 权限 (10005)");
    }
    if q.state.len() > 128 {
        return Err("state 参数过长 (10011)");
    }
    // The registered "网页授权域名" is this server's origin.
    let redirect = url::Url::parse(&q.redirect_uri).map_err(|_| "redirect_uri 参数错误 (10003)")?;
    if !sandbox.is_own_origin(&redirect) {
        return Err("redirect_uri 域名与后台配置不一致 (10003)");
    }
    Ok(redirect)
}

/// The simulated WeChat user a silent (`snsapi_base`) sign-in is for, as the consent page's
/// default user: the same shopper, the same openid, every time.
const SILENT_USER: &str = "shopper";

/// `GET /sandbox/wechat/connect/oauth2/authorize`: as WeChat, silent for `snsapi_base` (straight
/// back with a code, 302) and a consent page only for `snsapi_userinfo`.
pub async fn authorize_page(
    State(sandbox): State<Sandbox>,
    Query(q): Query<AuthorizeQuery>,
) -> Response {
    let mut redirect = match check_authorize(&sandbox, &q) {
        Ok(url) => url,
        Err(why) => return html::message(&sandbox, "授权失败", why),
    };
    if q.scope != "snsapi_base" {
        return consent(&sandbox, &q.appid, &q.redirect_uri, &q.scope, &q.state);
    }
    match issue_code(&sandbox, "oauth", &q.appid, SILENT_USER, &q.scope).await {
        Ok(code) => {
            redirect
                .query_pairs_mut()
                .append_pair("code", &code)
                .append_pair("state", &q.state);
            (
                axum::http::StatusCode::FOUND,
                [(axum::http::header::LOCATION, redirect.to_string())],
            )
                .into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "sandbox cannot issue an OAuth code");
            html::message(&sandbox, "授权失败", "系统繁忙")
        }
    }
}

/// The consent form.
#[derive(Debug, Deserialize)]
pub struct Approve {
    appid: String,
    redirect_uri: String,
    scope: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    user: String,
    decision: String,
}

/// `POST /sandbox/wechat/connect/oauth2/approve`: redirects back with a code (or without, on deny).
pub async fn approve(State(sandbox): State<Sandbox>, Form(form): Form<Approve>) -> Response {
    let query = AuthorizeQuery {
        appid: form.appid.clone(),
        redirect_uri: form.redirect_uri.clone(),
        response_type: "code".into(),
        scope: form.scope.clone(),
        state: form.state.clone(),
    };
    let mut redirect = match check_authorize(&sandbox, &query) {
        Ok(url) => url,
        Err(why) => return html::message(&sandbox, "授权失败", why),
    };
    if form.decision == "allow" {
        let user = if form.user.trim().is_empty() {
            "shopper"
        } else {
            form.user.trim()
        };
        match issue_code(&sandbox, "oauth", &form.appid, user, &form.scope).await {
            Ok(code) => {
                redirect.query_pairs_mut().append_pair("code", &code);
            }
            Err(e) => {
                tracing::error!(error = %e, "sandbox cannot issue an OAuth code");
                return html::message(&sandbox, "授权失败", "系统繁忙");
            }
        }
    }
    redirect.query_pairs_mut().append_pair("state", &form.state);
    Redirect::to(redirect.as_str()).into_response()
}

async fn issue_code(
    sandbox: &Sandbox,
    kind: &str,
    appid: &str,
    user: &str,
    scope: &str,
) -> Result<String, sqlx::Error> {
    let openid = openid_for(sandbox, appid, user).await?;
    let code = util::alnum(32);
    let now = now_ms();
    let lifetime = i64::try_from(sandbox.scaled(CODE_LIFETIME).as_millis()).unwrap_or(i64::MAX);
    sqlx::query(
        "INSERT INTO sandbox_oauth_codes (code, kind, appid, openid, scope, expires_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&code)
    .bind(kind)
    .bind(appid)
    .bind(&openid)
    .bind(scope)
    .bind(now.saturating_add(lifetime))
    .bind(now)
    .execute(sandbox.store().pool())
    .await?;
    Ok(code)
}

/// Takes a code once: its openid and scope, or the errcode WeChat answers.
async fn redeem(
    sandbox: &Sandbox,
    kind: &str,
    appid: &str,
    code: &str,
) -> Result<(String, String), (i64, &'static str)> {
    let internal = |e: sqlx::Error| {
        tracing::error!(error = %e, "sandbox code lookup failed");
        (-1, "system error")
    };
    let row = sqlx::query(
        "SELECT openid, scope, expires_at, used_at FROM sandbox_oauth_codes \
         WHERE code = $1 AND kind = $2 AND appid = $3",
    )
    .bind(code)
    .bind(kind)
    .bind(appid)
    .fetch_optional(sandbox.store().pool())
    .await
    .map_err(internal)?
    .ok_or((40029, "invalid code"))?;
    let get = |name: &str| row.try_get::<i64, _>(name);
    let used: Option<i64> = row.try_get("used_at").map_err(internal)?;
    if used.is_some() {
        return Err((40163, "code been used"));
    }
    let now = now_ms();
    if get("expires_at").map_err(internal)? <= now {
        return Err((40029, "invalid code"));
    }
    let taken = sqlx::query(
        "UPDATE sandbox_oauth_codes SET used_at = $1 WHERE code = $2 AND used_at IS NULL",
    )
    .bind(now)
    .bind(code)
    .execute(sandbox.store().pool())
    .await
    .map_err(internal)?
    .rows_affected();
    if taken != 1 {
        return Err((40163, "code been used"));
    }
    Ok((
        row.try_get("openid").map_err(internal)?,
        row.try_get("scope").map_err(internal)?,
    ))
}

/// Query of the exchanges.
#[derive(Debug, Deserialize)]
pub struct ExchangeQuery {
    #[serde(default)]
    appid: String,
    #[serde(default)]
    secret: String,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    js_code: Option<String>,
    #[serde(default)]
    grant_type: String,
}

fn secret_matches(expected: &str, given: &str) -> bool {
    subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), given.as_bytes()).into()
}

/// `GET /sandbox/wechat/sns/oauth2/access_token`.
pub async fn access_token(
    State(sandbox): State<Sandbox>,
    Query(q): Query<ExchangeQuery>,
) -> Response {
    let keys = sandbox.keys();
    if q.appid != keys.appid {
        return errcode(40013, "invalid appid");
    }
    if !secret_matches(keys.app_secret.expose(), &q.secret) {
        return errcode(40125, "invalid appsecret");
    }
    if q.grant_type != "authorization_code" {
        return errcode(40002, "invalid grant_type");
    }
    let Some(code) = q.code.as_deref().filter(|c| !c.is_empty()) else {
        return errcode(41008, "missing code");
    };
    match redeem(&sandbox, "oauth", &q.appid, code).await {
        Ok((openid, scope)) => Json(serde_json::json!({
            "access_token": util::alnum(88),
            "expires_in": 7200,
            "refresh_token": util::alnum(88),
            "openid": openid,
            "scope": scope,
            "is_snapshotuser": 0,
        }))
        .into_response(),
        Err((code, msg)) => errcode(code, msg),
    }
}

/// `GET /sandbox/wechat/sns/jscode2session`.
pub async fn jscode2session(
    State(sandbox): State<Sandbox>,
    Query(q): Query<ExchangeQuery>,
) -> Response {
    let keys = sandbox.keys();
    if q.appid != keys.miniprogram_appid {
        return errcode(40013, "invalid appid");
    }
    if !secret_matches(keys.miniprogram_secret.expose(), &q.secret) {
        return errcode(40125, "invalid appsecret");
    }
    if q.grant_type != "authorization_code" {
        return errcode(40002, "invalid grant_type");
    }
    let Some(code) = q.js_code.as_deref().filter(|c| !c.is_empty()) else {
        return errcode(41008, "missing code");
    };
    match redeem(&sandbox, "jscode", &q.appid, code).await {
        Ok((openid, _)) => Json(serde_json::json!({
            "openid": openid,
            "session_key": URL_SAFE_NO_PAD.encode(util::alnum(16)),
        }))
        .into_response(),
        Err((code, msg)) => errcode(code, msg),
    }
}

/// Body of the simulated `wx.login`.
#[derive(Debug, Deserialize)]
pub struct MiniProgramLogin {
    appid: String,
    #[serde(default)]
    user: String,
}

/// `POST /sandbox/wechat/miniprogram/login`: what `wx.login` gives a mini program, `{"code"}`.
pub async fn miniprogram_login(
    State(sandbox): State<Sandbox>,
    Json(body): Json<MiniProgramLogin>,
) -> Response {
    if body.appid != sandbox.keys().miniprogram_appid {
        return errcode(40013, "invalid appid");
    }
    let user = if body.user.trim().is_empty() {
        "shopper"
    } else {
        body.user.trim()
    };
    match issue_code(&sandbox, "jscode", &body.appid, user, "snsapi_base").await {
        Ok(code) => Json(serde_json::json!({"code": code, "errMsg": "login:ok"})).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "sandbox cannot issue a login code");
            errcode(-1, "system error")
        }
    }
}

/// The OAuth consent page.
pub fn consent(
    sandbox: &Sandbox,
    appid: &str,
    redirect_uri: &str,
    scope: &str,
    state: &str,
) -> Response {
    let hidden = format!(
        "<input type=\"hidden\" name=\"appid\" value=\"{}\">\
         <input type=\"hidden\" name=\"redirect_uri\" value=\"{}\">\
         <input type=\"hidden\" name=\"scope\" value=\"{}\">\
         <input type=\"hidden\" name=\"state\" value=\"{}\">",
        esc(appid),
        esc(redirect_uri),
        esc(scope),
        esc(state)
    );
    page(
        "微信授权",
        &format!(
            "<div class=\"card\"><h2>{}</h2><p>申请获取你的身份标识 (openid)</p>\
             <p class=\"muted\">scope: {}</p>\
             <form method=\"post\" action=\"/sandbox/wechat/connect/oauth2/approve\">{hidden}\
             <p class=\"muted\">模拟用户 simulated user:</p>\
             <input type=\"text\" name=\"user\" id=\"user\" value=\"shopper\">\
             <input type=\"hidden\" name=\"decision\" value=\"allow\">\
             <button class=\"pay\" type=\"submit\" id=\"allow\">允许 Allow</button></form>\
             <form method=\"post\" action=\"/sandbox/wechat/connect/oauth2/approve\">{hidden}\
             <input type=\"hidden\" name=\"decision\" value=\"deny\">\
             <button class=\"cancel\" type=\"submit\" id=\"deny\">拒绝 Deny</button></form></div>",
            esc(sandbox.merchant_name()),
            esc(scope)
        ),
        false,
    )
}
