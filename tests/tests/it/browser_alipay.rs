//! Each Alipay route driven in headless Chromium from `/pay/{id}`: the website cashier on a
//! desktop, a QR code on a desktop, the phone cashier in a phone browser and in the Alipay app,
//! and the "open in the browser" guide inside WeChat. The sandbox stands in for Alipay.

use fantoccini::Locator;
use paybridge_tests::{TestApp, shopper, spawn_app};
use url::Url;

use paybridge_tests::browser::ua::{ALIPAY_APP, DESKTOP, PHONE, WECHAT};

use crate::browser_flows::{click, lands_on, lands_on_success, open, session_with, shows};

fn at_cashier(u: &Url) -> bool {
    u.path() == "/sandbox/alipay/gateway.do"
}

/// Pays in the sandbox cashier and follows Alipay's return to the page and on to the shop.
async fn pay_in_cashier(browser: &paybridge_tests::browser::Browser, success: &Url) {
    lands_on(browser, "Alipay's cashier", at_cashier).await;
    click(browser, "#pay").await;
    lands_on_success(browser, success).await;
}

#[tokio::test]
async fn browser_desktop_switches_to_alipay_and_pays_on_its_website() {
    let app = spawn_app().await;
    let (id, success) = session_with(&app, 1999, &["wechat_pay", "alipay"]).await;
    let browser = open(&app, DESKTOP, &id).await;
    // WeChat Pay's QR code first, Alipay one click away.
    shows(&browser, "[data-state=qr]").await;
    click(&browser, "#other-method").await;
    pay_in_cashier(&browser, &success).await;
    browser.close().await;
}

#[tokio::test]
async fn browser_desktop_pays_an_alipay_qr_code_scanned_on_the_phone() {
    let app = spawn_app().await;
    let (id, success) = session_with(&app, 1200, &["alipay"]).await;
    let browser = open(&app, DESKTOP, &id).await;
    let label = shows(&browser, "#pay").await;
    assert!(
        label.contains("Alipay") || label.contains("支付宝"),
        "{label}"
    );
    click(&browser, "#qr-instead").await;
    shows(&browser, "[data-state=qr]").await;
    let link = browser
        .client
        .wait()
        .for_element(Locator::Css("#simulate-scan"))
        .await
        .unwrap();
    let code_url = link.prop("href").await.unwrap().unwrap();
    assert!(code_url.contains("/sandbox/alipay/qr/"), "{code_url}");
    shopper::alipay_cashier(&app, &code_url, "pay").await;
    lands_on_success(&browser, &success).await;
    browser.close().await;
}

async fn phone_pays(app: &TestApp, user_agent: &str) {
    let (id, success) = session_with(app, 880, &["alipay"]).await;
    let browser = open(app, user_agent, &id).await;
    click(&browser, "#pay").await;
    let cashier = lands_on(&browser, "Alipay's cashier", at_cashier).await;
    assert!(
        cashier
            .query_pairs()
            .any(|(k, v)| k == "method" && v == "alipay.trade.wap.pay"),
        "{cashier}"
    );
    click(&browser, "#pay").await;
    lands_on_success(&browser, &success).await;
    browser.close().await;
}

#[tokio::test]
async fn browser_a_phone_and_the_alipay_app_pay_in_the_phone_cashier() {
    let app = spawn_app().await;
    phone_pays(&app, PHONE).await;
    phone_pays(&app, ALIPAY_APP).await;
}

#[tokio::test]
async fn browser_inside_wechat_alipay_shows_how_to_open_the_browser() {
    let app = spawn_app().await;
    let (id, _) = session_with(&app, 500, &["wechat_pay", "alipay"]).await;
    let browser = open(&app, WECHAT, &id).await;
    click(&browser, "#other-method").await;
    shows(&browser, "[data-state=open-in-browser]").await;
    let link = browser
        .client
        .find(Locator::Css("#page-link"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(link, app.url(&format!("/pay/{id}")).as_str());
    // WeChat Pay stays one tap away.
    let back = shows(&browser, "#other-method").await;
    assert!(back.contains("WeChat") || back.contains("微信"), "{back}");
    browser.close().await;
}
