//! Each payment flow driven in headless Chromium from `/pay/{id}` to the merchant's success page,
//! with the User-Agent of a real browser of that environment and the sandbox standing in for
//! WeChat (its pay sheet, H5 cashier, OAuth consent and scan pages).

use std::time::Duration;

use fantoccini::Locator;
use paybridge_tests::browser::Browser;
use paybridge_tests::browser::ua::{DESKTOP, IPHONE_WECHAT, PHONE, WECHAT};
use paybridge_tests::{TestApp, session_request, spawn_app, wait};
use serde_json::{Value, json};
use url::Url;

pub(crate) const STEP: Duration = Duration::from_secs(30);

/// A session of `amount` fen whose success URL is a page of the test server; → (id, success URL).
pub(crate) async fn session(app: &TestApp, amount: i64) -> (String, Url) {
    session_with(app, amount, &["wechat_pay"]).await
}

/// [`session`] offering `methods`.
pub(crate) async fn session_with(app: &TestApp, amount: i64, methods: &[&str]) -> (String, Url) {
    let success = app.url("/healthz?paid=1");
    let mut body = session_request(amount);
    body["success_url"] = json!(success.as_str());
    body["payment_methods"] = json!(methods);
    let (status, s) = app.api_post("/v1/checkout_sessions", &body, None).await;
    assert_eq!(status, 200, "{s}");
    (s["id"].as_str().unwrap().to_owned(), success)
}

/// A browser with `user_agent` on the checkout page of `id`.
pub(crate) async fn open(app: &TestApp, user_agent: &str, id: &str) -> Browser {
    let browser = Browser::start(Some(user_agent)).await;
    goto(&browser, app, id).await;
    browser
}

pub(crate) async fn goto(browser: &Browser, app: &TestApp, id: &str) {
    browser
        .client
        .goto(app.url(&format!("/pay/{id}")).as_str())
        .await
        .unwrap();
}

/// Waits for the page's `data-state` (or any element matching `css`) and returns its text.
pub(crate) async fn shows(browser: &Browser, css: &str) -> String {
    browser.text_of(css, STEP).await
}

pub(crate) async fn click(browser: &Browser, css: &str) {
    let el = browser
        .client
        .wait()
        .at_most(STEP)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"));
    // A click that navigates can make chromedriver report "aborted by navigation" although the
    // click happened; the caller then waits for where it leads, so that is not a failure.
    if let Err(e) = el.click().await
        && !e.to_string().contains("aborted by navigation")
    {
        panic!("click {css}: {e}");
    }
}

/// Waits until the browser is at a URL for which `pred` holds, and returns it.
pub(crate) async fn lands_on(browser: &Browser, what: &str, pred: impl Fn(&Url) -> bool) -> Url {
    wait::until(what, STEP, || async {
        let url = browser.client.current_url().await.ok()?;
        pred(&url).then_some(url)
    })
    .await
}

pub(crate) async fn lands_on_success(browser: &Browser, success: &Url) {
    lands_on(browser, "the merchant's success page", |u| u == success).await;
}

/// The `code_url` behind the page's "simulate scanning (sandbox)" link.
pub(crate) async fn code_url_of_scan_link(browser: &Browser) -> String {
    let link = browser
        .client
        .wait()
        .at_most(STEP)
        .for_element(Locator::Css("#simulate-scan"))
        .await
        .unwrap();
    let href = link.prop("href").await.unwrap().unwrap();
    let href = Url::parse(&href).unwrap();
    assert_eq!(href.path(), "/sandbox/wechat/scan");
    href.query_pairs()
        .find(|(k, _)| k == "code_url")
        .map(|(_, v)| v.into_owned())
        .unwrap()
}

/// The shopper's phone scans the QR code and pays on the sandbox's scan page.
pub(crate) async fn scan_and_pay(app: &TestApp, code_url: &str) {
    paybridge_tests::shopper::scan(app, code_url, "pay").await;
}

/// WeChat browser: tap Pay, sign in (silently), and wait for the sandbox's pay sheet.
pub(crate) async fn sign_in_to_the_pay_sheet(browser: &Browser) {
    click(browser, "#pay").await;
    // snsapi_base sign-in is silent, as in WeChat: no consent page.
    shows(browser, "#wxpay-sandbox-amount").await;
}

#[tokio::test]
async fn browser_desktop_shows_a_qr_code_and_goes_to_the_success_page_once_scanned() {
    let app = spawn_app().await;
    let (id, success) = session(&app, 1999).await;
    let browser = open(&app, DESKTOP, &id).await;
    // A desktop shows the QR code at once, with the amount and a countdown.
    shows(&browser, "[data-state=qr] svg.qr-code path").await;
    assert_eq!(shows(&browser, "#amount").await, "¥19.99");
    let countdown = shows(&browser, "#qr-countdown").await;
    assert!(countdown.starts_with("Expires in "), "{countdown}");
    let code_url = code_url_of_scan_link(&browser).await;
    assert!(
        code_url.starts_with("weixin://wxpay/bizpayurl?pr="),
        "{code_url}"
    );

    scan_and_pay(&app, &code_url).await;
    let paid = shows(&browser, "[data-state=succeeded] h2").await;
    assert_eq!(paid, "Payment successful");
    shows(&browser, "#countdown").await;
    lands_on_success(&browser, &success).await;
    // The page followed the status over the event stream.
    let metrics = app.admin_get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains(r#"route="/api/checkout/{id}/events",status="200"}"#),
        "{metrics}"
    );
    browser.close().await;
}

#[tokio::test]
async fn browser_a_phone_pays_in_the_h5_cashier_and_returns_to_confirm() {
    let app = spawn_app().await;
    let (id, success) = session(&app, 2500).await;
    let browser = open(&app, PHONE, &id).await;
    shows(&browser, "[data-state=summary]").await;
    click(&browser, "#pay").await;
    lands_on(&browser, "the H5 cashier", |u| {
        u.path().starts_with("/sandbox/wechat/")
    })
    .await;
    // The cashier accepted our Referer and shows the order.
    assert_eq!(shows(&browser, "#amount").await, "¥25.00");
    click(&browser, "button#pay").await;
    lands_on_success(&browser, &success).await;
    browser.close().await;
}

#[tokio::test]
async fn browser_the_wechat_browser_signs_in_then_pays_on_the_pay_sheet() {
    let app = spawn_app().await;
    let (id, success) = session(&app, 888).await;
    let browser = open(&app, WECHAT, &id).await;
    sign_in_to_the_pay_sheet(&browser).await;
    // Back on a fully loaded /pay/{id} (iOS checks the pay directory against it).
    let url = browser.client.current_url().await.unwrap();
    assert_eq!(url.path(), format!("/pay/{id}"));
    assert_eq!(shows(&browser, "#wxpay-sandbox-amount").await, "¥8.88");
    click(&browser, "#wxpay-sandbox-pay").await;
    lands_on_success(&browser, &success).await;
    browser.close().await;
}

#[tokio::test]
async fn browser_cancelling_the_pay_sheet_offers_a_retry_that_pays() {
    let app = spawn_app().await;
    let (id, success) = session(&app, 1200).await;
    let browser = open(&app, WECHAT, &id).await;
    sign_in_to_the_pay_sheet(&browser).await;
    click(&browser, "#wxpay-sandbox-cancel").await;
    assert_eq!(
        shows(&browser, "[data-state=cancelled] h2").await,
        "Payment cancelled"
    );
    click(&browser, "#retry").await;
    click(&browser, "#wxpay-sandbox-pay").await;
    lands_on_success(&browser, &success).await;
    browser.close().await;
}

#[tokio::test]
async fn browser_a_declined_payment_is_not_charged_and_a_qr_code_is_offered() {
    let app = spawn_app().await;
    // 4001: the payer declines.
    let (id, _) = session(&app, 4001).await;
    let browser = open(&app, WECHAT, &id).await;
    sign_in_to_the_pay_sheet(&browser).await;
    click(&browser, "#wxpay-sandbox-pay").await;
    let body = shows(&browser, "[data-state=cancelled]").await;
    assert!(body.contains("not been charged"), "{body}");
    let (_, s) = app.api_get(&format!("/v1/checkout_sessions/{id}")).await;
    assert_eq!(s["status"], "open");
    // The shopper can still pay another way; the QR code of this scenario is declined too.
    click(&browser, "#qr-instead").await;
    shows(&browser, "[data-state=qr] svg.qr-code").await;
    browser.close().await;
}

#[tokio::test]
async fn browser_a_failed_payment_shows_wechats_reason_and_a_retry() {
    let app = spawn_app().await;
    // 4002: the bank refuses (get_brand_wcpay_request:fail with a description).
    let (id, _) = session(&app, 4002).await;
    let browser = open(&app, WECHAT, &id).await;
    sign_in_to_the_pay_sheet(&browser).await;
    click(&browser, "#wxpay-sandbox-pay").await;
    let reason = shows(&browser, "[data-state=failed] #reason").await;
    assert!(reason.contains("not been charged"), "{reason}");
    assert!(
        reason.contains("余额不足"),
        "WeChat's description: {reason}"
    );
    shows(&browser, "#retry").await;
    browser.close().await;
}

#[tokio::test]
async fn browser_a_checkout_that_expires_while_open_says_so() {
    let app = spawn_app().await;
    let (id, _) = session(&app, 1500).await;
    let browser = open(&app, DESKTOP, &id).await;
    shows(&browser, "[data-state=qr]").await;
    let (status, _) = app
        .api_post(
            &format!("/v1/checkout_sessions/{id}/expire"),
            &json!({}),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        shows(&browser, "[data-state=expired] h2").await,
        "This checkout has expired"
    );
    // Opening it again shows the same, with nothing to pay.
    goto(&browser, &app, &id).await;
    shows(&browser, "[data-state=expired]").await;
    let pay = browser.client.find(Locator::Css("#pay")).await;
    assert!(pay.is_err(), "no pay button on an expired checkout");
    browser.close().await;
}

#[tokio::test]
async fn browser_a_phone_can_pay_with_a_qr_code_instead() {
    let app = spawn_app().await;
    let (id, success) = session(&app, 3100).await;
    let browser = open(&app, PHONE, &id).await;
    click(&browser, "#qr-instead").await;
    shows(&browser, "[data-state=qr] svg.qr-code path").await;
    let code_url = code_url_of_scan_link(&browser).await;
    scan_and_pay(&app, &code_url).await;
    lands_on_success(&browser, &success).await;
    browser.close().await;
}

#[tokio::test]
async fn browser_a_mini_program_web_view_hands_over_to_the_native_pay_page() {
    let app = spawn_app().await;
    let (id, success) = session(&app, 990).await;
    let browser = Browser::start(Some(IPHONE_WECHAT)).await;
    // What WeChat provides in a web-view: the environment flag and the JS-SDK's wx.miniProgram.
    browser
        .on_new_document(
            "window.__wxjs_environment = 'miniprogram';\
             window.wx = { miniProgram: { navigateTo: function (o) { window.__navigatedTo = o.url; } } };",
        )
        .await;
    goto(&browser, &app, &id).await;
    click(&browser, "#pay").await;
    shows(&browser, "[data-state=mini-program]").await;
    let path = browser
        .client
        .execute("return window.__navigatedTo;", vec![])
        .await
        .unwrap();
    assert_eq!(path, json!(format!("/pages/pay/pay?checkout={id}")));

    // The merchant's native pay page: wx.login → our login endpoint → wx.requestPayment.
    let code = paybridge_tests::shopper::wx_login(&app, "mina").await;
    let action: Value = app
        .client
        .post(app.url("/api/miniprogram/login"))
        .json(&json!({"cs": id, "code": code}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(action["type"], "jsapi", "{action}");
    paybridge_tests::shopper::pay_sheet(&app, &action["params"]).await;
    // The web-view's page was polling all along.
    lands_on_success(&browser, &success).await;
    browser.close().await;
}

#[tokio::test]
async fn browser_a_reused_sign_in_link_lands_on_the_page_with_a_retry_that_pays() {
    let app = spawn_app().await;
    let (id, success) = session(&app, 1300).await;
    // One WeChat sign-in, as the shopper's WeChat would follow it.
    let action = paybridge_tests::shopper::pay(
        &app,
        &id,
        &json!({"method": "wechat_pay", "environment": "wechat"}),
    )
    .await;
    let authorize = action["url"].as_str().unwrap();
    assert!(authorize.contains("connect_redirect=1"), "{authorize}");
    let callback = paybridge_tests::shopper::allow_oauth(&app, authorize).await;
    // The sign-in was started by the test's client; the real browser finishing it plays the
    // same shopper's browser, so it holds the same browser id.
    let browser = Browser::start(Some(WECHAT)).await;
    browser
        .client
        .goto(app.url("/healthz").as_str())
        .await
        .unwrap();
    let id_cookie = paybridge_tests::shopper::cookie(&app, "/", "pb_browser").unwrap();
    browser
        .client
        .execute(
            "document.cookie = arguments[0]",
            vec![json!(format!("pb_browser={id_cookie}; path=/"))],
        )
        .await
        .unwrap();
    browser.client.goto(&callback).await.unwrap();
    lands_on(&browser, "the checkout page", |u| {
        u.path() == format!("/pay/{id}")
    })
    .await;
    // The same link again (a back button, a forwarded link): the page explains, never JSON.
    browser.client.goto(&callback).await.unwrap();
    let reason = shows(&browser, "[data-state=failed] #reason").await;
    assert!(reason.contains("did not complete"), "{reason}");
    let url = browser.client.current_url().await.unwrap();
    assert_eq!(url.query(), Some("oauth=used"));
    // Trying again pays: the first sign-in's openid is in the browser.
    click(&browser, "#retry").await;
    click(&browser, "#wxpay-sandbox-pay").await;
    lands_on_success(&browser, &success).await;
    browser.close().await;
}

#[tokio::test]
async fn browser_a_cancelled_payment_offers_the_way_back_to_the_merchants_cancel_url() {
    let app = spawn_app().await;
    let cancel = app.url("/healthz?cancelled=1");
    let mut body = session_request(1250);
    body["cancel_url"] = json!(cancel.as_str());
    let (status, s) = app.api_post("/v1/checkout_sessions", &body, None).await;
    assert_eq!(status, 200, "{s}");
    let id = s["id"].as_str().unwrap();
    let browser = open(&app, WECHAT, id).await;
    sign_in_to_the_pay_sheet(&browser).await;
    click(&browser, "#wxpay-sandbox-cancel").await;
    shows(&browser, "[data-state=cancelled]").await;
    let label = shows(&browser, "#back-to-merchant").await;
    assert!(label.starts_with("Back to "), "{label}");
    click(&browser, "#back-to-merchant").await;
    lands_on(&browser, "the merchant's cancel URL", |u| *u == cancel).await;
    browser.close().await;
}
