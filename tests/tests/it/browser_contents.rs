//! The page shows what a session carries beyond an amount, in headless Chromium: its line items
//! (folded on a phone, unfolded on a wide screen, on the QR screen too), the merchant's brand
//! (logo, accent colour on the pay button, support contacts) and, once expired, the way to a new
//! session with the same contents.

use std::time::Duration;

use paybridge_tests::browser::Browser;
use paybridge_tests::browser::ua::{DESKTOP, PHONE};
use paybridge_tests::{TestApp, session_request, spawn_app, spawn_app_with, wait};
use serde_json::{Value, json};

use crate::browser_flows::{STEP, click, goto, lands_on, shows};

/// The accent colour the branded session asks for, and as Chromium computes it.
const ACCENT: &str = "#0b57d0";
const ACCENT_RGB: &str = "rgb(11, 87, 208)";

/// A session for two flat whites and a croissant (¥50.50), branded as Lantern Café, offering
/// `methods`; with `recovery`, an expired session can be started again.
pub(crate) fn itemised_branded(methods: &[&str], recovery: bool) -> Value {
    let mut request = session_request(0);
    request.as_object_mut().unwrap().remove("amount");
    request["payment_methods"] = json!(methods);
    request["description"] = json!("Order #1024 · table 7");
    request["line_items"] = json!([
        {"name": "Flat white", "quantity": 2, "unit_amount": 1800},
        {"name": "Almond croissant", "quantity": 1, "unit_amount": 1450},
    ]);
    request["branding"] = json!({
        "display_name": "Lantern Café",
        "accent_color": ACCENT,
        "support_phone": "400-820-8820",
        "support_url": "https://lantern.example.com/help",
    });
    if recovery {
        request["after_expiration"] = json!({"recovery": {"enabled": true}});
    }
    request
}

/// A logo file the server serves at `/brand/logo`, kept alive as long as the app.
pub(crate) fn logo_file() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let svg = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 40"><rect width="40" height="40" rx="8" fill="#0b57d0"/><path d="M13 10v20h14" fill="none" stroke="#fff" stroke-width="4"/></svg>"##;
    std::fs::write(dir.path().join("logo.svg"), svg).unwrap();
    dir
}

pub(crate) async fn branded_app(logo: &tempfile::TempDir) -> TestApp {
    let path = logo.path().join("logo.svg");
    spawn_app_with(&["--brand-logo", path.to_str().unwrap()]).await
}

pub(crate) async fn create(app: &TestApp, request: &Value) -> String {
    let (status, body) = app.api_post("/v1/checkout_sessions", request, None).await;
    assert_eq!(status, 200, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

/// Runs `script` (a function body) in the page and returns what it returns.
async fn js(browser: &Browser, script: &str) -> Value {
    browser
        .client
        .execute(script, vec![])
        .await
        .unwrap_or_else(|e| panic!("{script}: {e}"))
}

/// Waits until `script` returns `true`.
async fn until_true(browser: &Browser, what: &str, script: &str) {
    wait::until(what, STEP, || async {
        js(browser, script).await.as_bool().filter(|b| *b)
    })
    .await;
}

/// Whether the first line item can be seen (a folded `<details>` hides its content).
const ITEM_SHOWN: &str = "return document.querySelector('#items li').checkVisibility();";

async fn the_summary_wears_the_brand(browser: &Browser) {
    assert_eq!(shows(browser, "#merchant").await, "Lantern Café");
    assert_eq!(shows(browser, "#amount").await, "¥50.50");
    assert_eq!(
        shows(browser, "#items summary").await,
        "3 items · ¥50.50",
        "three things bought, two lines"
    );
    let lines = js(
        browser,
        "return Array.from(document.querySelectorAll('#items li'), function (li) {\
           return [li.querySelector('.item-name').textContent, li.querySelector('.item-each').textContent,\
                   li.querySelector('.item-amount').textContent]; });",
    )
    .await;
    assert_eq!(
        lines,
        json!([
            ["Flat white", "2 × ¥18.00", "¥36.00"],
            ["Almond croissant", "1 × ¥14.50", "¥14.50"],
        ])
    );
    // The logo is the merchant's file, decorative beside the name.
    let logo = js(
        browser,
        "var i = document.querySelector('.merchant img.logo');\
         return [new URL(i.src).pathname, i.getAttribute('alt')];",
    )
    .await;
    assert_eq!(logo, json!(["/brand/logo", ""]));
    until_true(
        browser,
        "the logo to load",
        "var i = document.querySelector('img.logo'); return i.complete && i.naturalWidth > 0;",
    )
    .await;
    let support = js(
        browser,
        "return [document.getElementById('support-phone').getAttribute('href'),\
                 document.getElementById('support-site').getAttribute('href'),\
                 document.getElementById('support').textContent];",
    )
    .await;
    assert_eq!(
        support,
        json!([
            "tel:4008208820",
            "https://lantern.example.com/help",
            "Need help?400-820-8820Help centre"
        ])
    );
}

/// The pay button in the merchant's accent colour with white text, and WeChat Pay's mark.
async fn the_pay_button_wears_the_accent(browser: &Browser) {
    shows(browser, "[data-state=summary]").await;
    let style = js(
        browser,
        "var s = getComputedStyle(document.getElementById('pay'));\
         return [s.backgroundColor, s.color];",
    )
    .await;
    assert_eq!(style, json!([ACCENT_RGB, "rgb(255, 255, 255)"]));
    let mark = js(
        browser,
        "var m = document.querySelector('#pay svg.mark');\
         return m && [m.getAttribute('aria-hidden'), document.getElementById('pay').textContent];",
    )
    .await;
    assert_eq!(mark, json!(["true", "Pay with WeChat Pay"]));
}

#[tokio::test]
async fn browser_an_itemised_branded_checkout_folds_its_items_on_a_phone_and_wears_the_accent() {
    let logo = logo_file();
    let app = branded_app(&logo).await;
    let id = create(&app, &itemised_branded(&["wechat_pay"], false)).await;
    let browser = Browser::start(Some(PHONE)).await;
    browser.viewport(375, 812, true).await;
    goto(&browser, &app, &id).await;
    the_pay_button_wears_the_accent(&browser).await;
    the_summary_wears_the_brand(&browser).await;

    // Folded on a phone: the summary line shows, the lines do not until it is opened.
    assert_eq!(
        js(&browser, "return document.getElementById('items').open;").await,
        false
    );
    assert_eq!(js(&browser, ITEM_SHOWN).await, false);
    click(&browser, "#items summary").await;
    until_true(&browser, "the items to unfold", ITEM_SHOWN).await;

    // In Chinese, the same order; unfolding survives the switch.
    click(&browser, "#lang").await;
    assert_eq!(
        shows(&browser, "html[lang=zh-CN] #items[open] summary").await,
        "3 件商品 · ¥50.50"
    );
    assert_eq!(shows(&browser, "#support-site").await, "在线客服");
    browser.close().await;
}

#[tokio::test]
async fn browser_an_itemised_branded_checkout_unfolds_its_items_on_a_wide_screen_and_the_qr_screen()
{
    let logo = logo_file();
    let app = branded_app(&logo).await;
    let browser = Browser::start(Some(PHONE)).await;
    browser.viewport(1280, 800, false).await;

    // A wide window with the pay button (a phone's User-Agent): the items start unfolded.
    let id = create(&app, &itemised_branded(&["wechat_pay", "alipay"], false)).await;
    goto(&browser, &app, &id).await;
    the_pay_button_wears_the_accent(&browser).await;
    the_summary_wears_the_brand(&browser).await;
    assert_eq!(js(&browser, ITEM_SHOWN).await, true);
    // The other method's button wears Alipay's mark, in the accent colour as a link.
    let other = js(
        &browser,
        "var b = document.getElementById('other-method');\
         return [b.textContent, !!b.querySelector('svg.mark'), getComputedStyle(b).color];",
    )
    .await;
    assert_eq!(other, json!(["Pay with Alipay instead", true, ACCENT_RGB]));

    // A desktop goes straight to the QR code, with the items beside it.
    let id = create(&app, &itemised_branded(&["wechat_pay"], false)).await;
    browser.user_agent(DESKTOP).await;
    goto(&browser, &app, &id).await;
    shows(&browser, "[data-state=qr] svg.qr-code path").await;
    the_summary_wears_the_brand(&browser).await;
    assert_eq!(js(&browser, ITEM_SHOWN).await, true);
    browser.close().await;
}

#[tokio::test]
async fn browser_an_expired_recoverable_checkout_leads_to_a_new_open_session() {
    let app = spawn_app().await;
    let browser = Browser::start(Some(DESKTOP)).await;

    // Expired before the shopper arrives: the link comes with the page's view.
    let id = create(&app, &itemised_branded(&["wechat_pay"], true)).await;
    app.expire_session(&id).await;
    let recovery_url = app.page_view(&id).await["recovery_url"]
        .as_str()
        .expect("recovery_url")
        .to_owned();
    goto(&browser, &app, &id).await;
    assert_eq!(
        shows(&browser, "[data-state=expired] #recover").await,
        "Start a new checkout"
    );
    let href = js(&browser, "return document.getElementById('recover').href;").await;
    assert_eq!(href, json!(recovery_url));
    click(&browser, "#recover").await;
    let new_page = lands_on(&browser, "a new checkout", |u| {
        u.path().starts_with("/pay/") && u.path() != format!("/pay/{id}")
    })
    .await;
    shows(&browser, "[data-state=qr] svg.qr-code path").await;
    assert_eq!(shows(&browser, "#amount").await, "¥50.50");
    let new_id = new_page.path().trim_start_matches("/pay/").to_owned();
    assert_eq!(app.page_view(&new_id).await["status"], "open");

    // Expiring while the page is open: the link comes with the status event, in Chinese too.
    let id = create(&app, &itemised_branded(&["wechat_pay"], true)).await;
    goto(&browser, &app, &id).await;
    shows(&browser, "[data-state=qr] svg.qr-code path").await;
    app.expire_session(&id).await;
    shows(&browser, "[data-state=expired] #recover").await;
    click(&browser, "#lang").await;
    assert_eq!(
        shows(&browser, "html[lang=zh-CN] [data-state=expired] #recover").await,
        "重新下单"
    );
    click(&browser, "#recover").await;
    lands_on(&browser, "another new checkout", |u| {
        u.path().starts_with("/pay/") && u.path() != format!("/pay/{id}")
    })
    .await;
    shows(&browser, "[data-state=qr]").await;
    browser.close().await;
}

#[tokio::test]
async fn browser_confirming_for_long_offers_i_have_paid_and_pay_again() {
    let app = spawn_app().await;
    let id = create(&app, &itemised_branded(&["wechat_pay"], false)).await;
    let browser = Browser::start(Some(PHONE)).await;
    // Back from the H5 cashier without paying: confirming, then after 15 s the two choices.
    browser
        .client
        .goto(app.url(&format!("/pay/{id}?return=h5")).as_str())
        .await
        .unwrap();
    shows(&browser, "[data-state=confirming]").await;
    let paid = browser
        .text_of("[data-state=confirming] #paid", Duration::from_secs(40))
        .await;
    assert_eq!(paid, "I have paid");
    assert_eq!(shows(&browser, "#pay-again").await, "Pay again");
    click(&browser, "#pay-again").await;
    // Paying again from a phone starts the H5 flow: the sandbox's cashier.
    lands_on(&browser, "the H5 cashier", |u| {
        u.path().starts_with("/sandbox/wechat/")
    })
    .await;
    browser.close().await;
}
