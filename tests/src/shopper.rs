//! What a shopper's side does in the tests: ask the page API to pay, and pay or decline on the
//! sandbox's simulated screens.

use serde_json::{Value, json};

use crate::TestApp;

/// `POST /api/checkout/{session}/pay` with `body`; asserts 200 and returns the next action.
pub async fn pay(app: &TestApp, session: &str, body: &Value) -> Value {
    let res = app
        .client
        .post(app.url(&format!("/api/checkout/{session}/pay")))
        .json(body)
        .send()
        .await
        .expect("server answers");
    let status = res.status();
    let action: Value = res.json().await.unwrap_or(Value::Null);
    assert_eq!(status, 200, "{action}");
    action
}

/// Pays from a desktop: the next action is a QR code.
pub async fn pay_qr(app: &TestApp, session: &str) -> Value {
    pay(
        app,
        session,
        &json!({"method": "wechat_pay", "environment": "desktop"}),
    )
    .await
}

/// The shopper's phone scans `code_url` on the sandbox's scan page and pays (`"pay"`) or
/// declines; returns the result page's text.
pub async fn scan(app: &TestApp, code_url: &str, action: &str) -> String {
    let res = app
        .client
        .post(app.url("/sandbox/wechat/scan/pay"))
        .form(&[
            ("code_url", code_url),
            ("user", "alice"),
            ("action", action),
        ])
        .send()
        .await
        .expect("server answers");
    assert!(res.status().is_success(), "{}", res.status());
    res.text().await.unwrap_or_default()
}

/// Pays in the sandbox's WeChat H5 cashier, as the shopper's phone browser would: `url` is the
/// `redirect` next action's URL.
pub async fn pay_h5(app: &TestApp, url: &str) {
    let prepay_id = url::Url::parse(url)
        .expect("an H5 URL")
        .query_pairs()
        .find(|(k, _)| k == "prepay_id")
        .expect("the H5 URL carries a prepay_id")
        .1
        .into_owned();
    let res = app
        .client
        .post(app.url("/sandbox/wechat/h5/pay"))
        .form(&[
            ("prepay_id", prepay_id.as_str()),
            ("redirect_url", ""),
            ("action", "pay"),
        ])
        .send()
        .await
        .expect("server answers");
    assert!(
        res.status().is_success() || res.status().is_redirection(),
        "{}",
        res.status()
    );
}

/// Opens an Alipay cashier (`url` from a redirect action, or a scanned Alipay QR code) and pays
/// (`"pay"`) or cancels there; returns the cashier's answer (a redirect back to the shop after
/// a payment by cashier, otherwise a result page).
pub async fn alipay_cashier(app: &TestApp, url: &str, action: &str) -> reqwest::Response {
    let page = app.client.get(url).send().await.expect("server answers");
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap_or_default();
    let token = html
        .split("name=\"token\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no cashier form in {html}"))
        .to_owned();
    app.client
        .post(app.url("/sandbox/alipay/cashier/pay"))
        .form(&[("token", token.as_str()), ("action", action)])
        .send()
        .await
        .expect("server answers")
}

/// The shopper allows sign-in on the sandbox's OAuth consent page for `authorize` (the `url` of
/// an `oauth` next action); returns where WeChat sends the browser back: our callback with a
/// code and the state.
///
/// # Panics
/// When the consent page does not redirect.
pub async fn allow_oauth(app: &TestApp, authorize: &str) -> String {
    let authorize = url::Url::parse(authorize).expect("an OAuth URL");
    let q: std::collections::HashMap<_, _> = authorize.query_pairs().into_owned().collect();
    let res = app
        .client
        .post(app.url("/sandbox/wechat/connect/oauth2/approve"))
        .form(&[
            ("appid", q["appid"].as_str()),
            ("redirect_uri", q["redirect_uri"].as_str()),
            ("scope", "snsapi_base"),
            ("state", q["state"].as_str()),
            ("user", "bob"),
            ("decision", "allow"),
        ])
        .send()
        .await
        .expect("server answers");
    res.headers()["location"]
        .to_str()
        .expect("a redirect")
        .to_owned()
}

/// One real WeChat sign-in through the sandbox for a new session of `amount` fen (pay from the
/// WeChat browser → OAuth → the callback); returns the openid the callback gave the browser.
pub async fn signed_in_openid(app: &TestApp, amount: i64) -> String {
    let id = app.create_session(amount).await["id"]
        .as_str()
        .expect("a session id")
        .to_owned();
    let action = pay(
        app,
        &id,
        &json!({"method": "wechat_pay", "environment": "wechat"}),
    )
    .await;
    assert_eq!(action["type"], "oauth", "{action}");
    let callback = allow_oauth(app, action["url"].as_str().expect("an OAuth URL")).await;
    let res = app
        .client
        .get(&callback)
        .send()
        .await
        .expect("server answers");
    assert!(
        res.status().is_redirection(),
        "OAuth callback: {}",
        res.status()
    );
    let sealed = cookie(
        app,
        &format!("/api/checkout/{id}/pay"),
        &format!("pb_openid_{id}"),
    )
    .expect("the callback gives the browser its openid");
    paybridge_server::service::oauth_state::open_openid(
        &secret_key(app),
        &id,
        &sealed,
        paybridge_server::domain::now_millis(),
    )
    .expect("a sealed openid for this session")
}

/// The value of cookie `name` the test client holds for `path`.
#[must_use]
pub fn cookie(app: &TestApp, path: &str, name: &str) -> Option<String> {
    let all = reqwest::cookie::CookieStore::cookies(&*app.cookies, &app.url(path))?;
    all.to_str()
        .ok()?
        .split("; ")
        .find_map(|c| c.strip_prefix(&format!("{name}=")))
        .map(str::to_owned)
}

fn secret_key(app: &TestApp) -> String {
    app.state
        .config()
        .secret_key
        .as_ref()
        .map(|s| s.expose().clone())
        .expect("a secret key")
}

/// The `Cookie` a browser holds once its WeChat sign-in for `session` gave `openid`, as the
/// OAuth callback seals it: for tests that pay many sessions as one signed-in shopper.
#[must_use]
pub fn signed_in_cookie(app: &TestApp, session: &str, openid: &str) -> String {
    let sealed = paybridge_server::service::oauth_state::seal_openid(
        &secret_key(app),
        session,
        openid,
        paybridge_server::domain::now_millis() + 24 * 60 * 60 * 1000,
    );
    format!("pb_openid_{session}={sealed}")
}

/// `wx.login` in the sandbox's simulated mini program for `user`: a one-time code for the
/// configured mini program.
///
/// # Panics
/// When the server is not in sandbox mode or does not answer.
pub async fn wx_login(app: &TestApp, user: &str) -> String {
    let appid = app
        .state
        .sandbox()
        .expect("sandbox mode")
        .keys()
        .miniprogram_appid
        .clone();
    let login: Value = app
        .client
        .post(app.url("/sandbox/wechat/miniprogram/login"))
        .json(&json!({"appid": appid, "user": user}))
        .send()
        .await
        .expect("server answers")
        .json()
        .await
        .expect("JSON");
    login["code"].as_str().expect("a code").to_owned()
}

/// The shopper pays JSAPI / mini program parameters (`params`, as `WeixinJSBridge` or
/// `wx.requestPayment` take them) on the sandbox's pay sheet, which checks `paySign`.
///
/// # Panics
/// Unless the pay sheet answers `ok`.
pub async fn pay_sheet(app: &TestApp, params: &Value) {
    let result: Value = app
        .client
        .post(app.url("/sandbox/wechat/jsapi/pay"))
        .json(&json!({"params": params, "action": "pay"}))
        .send()
        .await
        .expect("server answers")
        .json()
        .await
        .expect("JSON");
    assert_eq!(result["result"], "ok", "{result}");
}
