//! Focus follows the checkout's state: when the page changes to a new state, that state's
//! heading (`tabindex=-1`) takes the focus so screen readers announce it; switching language
//! leaves the focus where it is.

use fantoccini::Locator;
use paybridge_tests::browser::Browser;
use paybridge_tests::browser::ua::{PHONE, WECHAT};
use paybridge_tests::wait;
use serde_json::json;

use crate::browser_flows::{
    STEP, click, open, scan_and_pay, session, shows, sign_in_to_the_pay_sheet,
};

/// Waits until `document.activeElement` matches `css`.
async fn focus_is_on(browser: &Browser, css: &str) {
    let what = format!("the focus on {css}");
    let found = wait::until(&what, STEP, || async {
        let matches = browser
            .client
            .execute(
                "var a = document.activeElement; return !!a && a.matches(arguments[0]);",
                vec![json!(css)],
            )
            .await
            .ok()?;
        matches.as_bool().filter(|m| *m)
    })
    .await;
    assert!(found);
}

async fn focused_outer_html(browser: &Browser) -> String {
    browser
        .client
        .execute("return document.activeElement.outerHTML;", vec![])
        .await
        .unwrap()
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn browser_a_cancelled_payment_moves_the_focus_to_its_heading_and_keeps_it_on_a_language_switch()
 {
    let app = paybridge_tests::spawn_app().await;
    let (id, _) = session(&app, 1200).await;
    let browser = open(&app, WECHAT, &id).await;
    sign_in_to_the_pay_sheet(&browser).await;
    click(&browser, "#wxpay-sandbox-cancel").await;
    focus_is_on(&browser, "[data-state=cancelled] h2[tabindex='-1']").await;
    assert_eq!(
        shows(&browser, "[data-state=cancelled] h2").await,
        "Payment cancelled"
    );

    // The shopper switches language: the same state, redrawn, does not take the focus back.
    click(&browser, "#lang").await;
    shows(&browser, "html[lang=zh-CN] [data-state=cancelled]").await;
    assert_eq!(
        shows(&browser, "[data-state=cancelled] h2").await,
        "已取消支付"
    );
    let focused = focused_outer_html(&browser).await;
    assert!(focused.contains("id=\"lang\""), "{focused}");

    // Trying again and failing once more is a new state again.
    click(&browser, "#retry").await;
    click(&browser, "#wxpay-sandbox-cancel").await;
    shows(&browser, "[data-state=cancelled]").await;
    focus_is_on(&browser, "[data-state=cancelled] h2").await;
    browser.close().await;
}

#[tokio::test]
async fn browser_confirming_and_then_success_each_take_the_focus() {
    let app = paybridge_tests::spawn_app().await;
    let (id, _) = session(&app, 2500).await;
    let browser = Browser::start(Some(PHONE)).await;
    // Back from the H5 cashier (not paid yet): confirming.
    browser
        .client
        .goto(app.url(&format!("/pay/{id}?return=h5")).as_str())
        .await
        .unwrap();
    focus_is_on(&browser, "[data-state=confirming] h2[tabindex='-1']").await;
    // The shopper pays on another device meanwhile: paid.
    let action = paybridge_tests::shopper::pay_qr(&app, &id).await;
    scan_and_pay(&app, action["code_url"].as_str().unwrap()).await;
    focus_is_on(&browser, "[data-state=succeeded] h2[tabindex='-1']").await;
    browser.close().await;
}

#[tokio::test]
async fn browser_an_unknown_checkout_focuses_its_not_found_heading() {
    let app = paybridge_tests::spawn_app().await;
    let browser = Browser::start(Some(PHONE)).await;
    browser
        .client
        .goto(app.url("/pay/cs_missing").as_str())
        .await
        .unwrap();
    focus_is_on(&browser, "h1[data-state=not-found]").await;
    // The summary's pay button never appears for it.
    assert!(browser.client.find(Locator::Css("#pay")).await.is_err());
    browser.close().await;
}
