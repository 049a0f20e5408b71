//! The checkout embedded in a merchant's page: a shop on another origin (a tiny server here)
//! frames `/pay/{id}`, allowed by `--frame-ancestors`. The framed page tells its parent how the
//! checkout ended with `postMessage`, and flows that cannot run in a frame move the top window.

use std::collections::HashMap;

use axum::Router;
use axum::extract::Query;
use axum::response::Html;
use axum::routing::get;
use fantoccini::Locator;
use paybridge_tests::browser::Browser;
use paybridge_tests::browser::ua::{DESKTOP, WECHAT};
use paybridge_tests::{TestApp, spawn_app_with, wait};
use serde_json::{Value, json};
use url::Url;

use crate::browser_flows::{
    STEP, click, code_url_of_scan_link, lands_on, lands_on_success, scan_and_pay, session, shows,
};

/// A merchant's page on its own origin that frames `?frame=<url>` and records every message it
/// receives in `window.__messages` as `{origin, data}`.
struct Shop {
    origin: String,
}

impl Shop {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let origin = format!("http://{}", listener.local_addr().unwrap());
        let router = Router::new().route(
            "/shop",
            get(|Query(q): Query<HashMap<String, String>>| async move {
                let frame = q.get("frame").cloned().unwrap_or_default();
                Html(format!(
                    "<!doctype html><html><head><title>A shop</title></head><body>\
                     <h1>A shop</h1>\
                     <script>window.__messages = [];\
                     addEventListener('message', function (e) {{\
                       window.__messages.push({{ origin: e.origin, data: e.data }}); }});</script>\
                     <iframe id=\"checkout\" src=\"{frame}\" width=\"400\" height=\"700\"></iframe>\
                     </body></html>"
                ))
            }),
        );
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Self { origin }
    }

    fn url(&self, app: &TestApp, id: &str) -> String {
        let mut url = Url::parse(&self.origin).unwrap().join("/shop").unwrap();
        url.query_pairs_mut()
            .append_pair("frame", app.url(&format!("/pay/{id}")).as_str());
        url.into()
    }
}

/// A sandbox server that lets `shop` frame the page.
async fn app_framed_by(shop: &Shop) -> TestApp {
    spawn_app_with(&["--frame-ancestors", &shop.origin]).await
}

/// Opens the shop page and enters the checkout's frame.
async fn open_framed(browser: &Browser, shop: &Shop, app: &TestApp, id: &str) {
    browser.client.goto(&shop.url(app, id)).await.unwrap();
    let frame = browser
        .client
        .wait()
        .at_most(STEP)
        .for_element(Locator::Css("iframe#checkout"))
        .await
        .unwrap();
    frame.enter_frame().await.unwrap();
}

/// Leaves any frame: commands go to the top window again.
async fn to_top(browser: &Browser) {
    let window = browser.client.window().await.unwrap();
    browser.client.switch_to_window(window).await.unwrap();
}

/// Waits for the shop page's first message.
async fn first_message(browser: &Browser) -> Value {
    wait::until("a message from the checkout", STEP, || async {
        let messages = browser
            .client
            .execute("return window.__messages;", vec![])
            .await
            .ok()?;
        messages.as_array()?.first().cloned()
    })
    .await
}

fn origin_of(app: &TestApp) -> String {
    app.base.origin().ascii_serialization()
}

#[tokio::test]
async fn browser_an_embedded_checkout_tells_its_parent_when_it_is_paid() {
    let shop = Shop::start().await;
    let app = app_framed_by(&shop).await;
    let (id, _) = session(&app, 1999).await;
    let browser = Browser::start(Some(DESKTOP)).await;
    open_framed(&browser, &shop, &app, &id).await;
    let code_url = code_url_of_scan_link(&browser).await;
    scan_and_pay(&app, &code_url).await;
    // The frame shows the result and offers to continue, but leaves navigating to the shop.
    assert_eq!(
        shows(&browser, "[data-state=succeeded] h2").await,
        "Payment successful"
    );
    shows(&browser, "[data-state=succeeded] a#continue").await;
    let countdown = browser.client.find(Locator::Css("#countdown")).await;
    assert!(countdown.is_err(), "no redirect countdown in a frame");

    to_top(&browser).await;
    let message = first_message(&browser).await;
    assert_eq!(
        message,
        json!({
            "origin": origin_of(&app),
            "data": {"type": "paybridge.checkout", "checkout_id": id, "status": "complete"},
        })
    );
    let url = browser.client.current_url().await.unwrap();
    assert_eq!(url.path(), "/shop", "the shop page stays");
    browser.close().await;
}

#[tokio::test]
async fn browser_an_embedded_checkout_tells_its_parent_when_it_expires() {
    let shop = Shop::start().await;
    let app = app_framed_by(&shop).await;
    let (id, _) = session(&app, 1500).await;
    let browser = Browser::start(Some(DESKTOP)).await;
    open_framed(&browser, &shop, &app, &id).await;
    shows(&browser, "[data-state=qr]").await;
    app.expire_session(&id).await;
    shows(&browser, "[data-state=expired]").await;
    to_top(&browser).await;
    let message = first_message(&browser).await;
    assert_eq!(
        message["data"],
        json!({"type": "paybridge.checkout", "checkout_id": id, "status": "expired"})
    );
    browser.close().await;
}

#[tokio::test]
async fn browser_an_embedded_checkout_in_wechat_moves_the_top_window_for_oauth_and_jsapi() {
    let shop = Shop::start().await;
    let app = app_framed_by(&shop).await;
    let (id, success) = session(&app, 888).await;
    let browser = Browser::start(Some(WECHAT)).await;
    let pay_page = app.url(&format!("/pay/{id}"));

    // OAuth cannot run in a frame: tapping Pay moves the whole window to WeChat's (silent)
    // sign-in, which returns to the checkout, top-level, straight to the pay sheet.
    open_framed(&browser, &shop, &app, &id).await;
    click(&browser, "#pay").await;
    to_top(&browser).await;
    lands_on(&browser, "the checkout, top-level", |u| {
        u.path() == pay_page.path()
    })
    .await;
    shows(&browser, "#wxpay-sandbox-amount").await;
    // (A redirect keeps the fragment of the URL it came from: `#wechat_redirect` may stay.)
    let top = browser.client.current_url().await.unwrap();
    assert_eq!((top.path(), top.query()), (pay_page.path(), None));
    click(&browser, "#wxpay-sandbox-cancel").await;
    shows(&browser, "[data-state=cancelled]").await;

    // Signed in now, the framed checkout gets JSAPI params at once; getBrandWCPayRequest only
    // works top-level, so the page reloads itself there and goes on to the pay sheet.
    open_framed(&browser, &shop, &app, &id).await;
    click(&browser, "#pay").await;
    to_top(&browser).await;
    let top = lands_on(&browser, "the checkout, top-level", |u| {
        u.path() == pay_page.path()
    })
    .await;
    assert_eq!(top.query(), Some("go=1"));
    click(&browser, "#wxpay-sandbox-pay").await;
    lands_on_success(&browser, &success).await;
    browser.close().await;
}

#[tokio::test]
async fn browser_an_embedded_checkout_that_failed_hands_back_to_its_parent() {
    let shop = Shop::start().await;
    let app = app_framed_by(&shop).await;
    // 4002: the bank refuses the payment.
    let (id, _) = session(&app, 4002).await;
    let browser = Browser::start(Some(DESKTOP)).await;
    open_framed(&browser, &shop, &app, &id).await;
    let code_url = code_url_of_scan_link(&browser).await;
    scan_and_pay(&app, &code_url).await;
    shows(&browser, "[data-state=failed]").await;
    click(&browser, "#back-to-merchant").await;
    to_top(&browser).await;
    let message = first_message(&browser).await;
    assert_eq!(
        message["data"],
        json!({"type": "paybridge.checkout", "checkout_id": id, "status": "canceled"})
    );
    let url = browser.client.current_url().await.unwrap();
    assert_eq!(url.path(), "/shop", "the shop page stays");
    browser.close().await;
}
