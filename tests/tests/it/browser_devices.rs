//! The sandbox's devices page: one checkout as each environment would show it, clickable on a
//! laptop — the page plays the device it is told to, through OAuth and the H5 cashier.

use fantoccini::Locator;
use paybridge_tests::browser::Browser;
use paybridge_tests::browser::ua::DESKTOP;
use paybridge_tests::spawn_app;
use url::Url;

use crate::browser_flows::{STEP, click, lands_on, lands_on_success, session, shows};

/// Opens the devices page of `id` and returns the link of `device`.
async fn device_link(browser: &Browser, base: &Url, id: &str, device: &str) -> Url {
    let page = base
        .join(&format!("/sandbox/devices?checkout={id}"))
        .unwrap();
    browser.client.goto(page.as_str()).await.unwrap();
    let link = browser
        .client
        .wait()
        .at_most(STEP)
        .for_element(Locator::Css(&format!("#device-{device}")))
        .await
        .unwrap();
    Url::parse(&link.prop("href").await.unwrap().unwrap()).unwrap()
}

#[tokio::test]
async fn browser_the_devices_page_lists_every_device_for_a_checkout() {
    let app = spawn_app().await;
    let (id, _) = session(&app, 888).await;
    let browser = Browser::start(Some(DESKTOP)).await;
    let link = device_link(&browser, &app.base, &id, "wechat").await;
    assert_eq!(link.path(), format!("/pay/{id}"));
    assert_eq!(link.query(), Some("device=wechat"));
    assert_eq!(shows(&browser, "#amount").await, "¥8.88");
    assert_eq!(shows(&browser, "#status").await, "open");
    let links = browser
        .client
        .find_all(Locator::Css("#devices a[id^=device-]"))
        .await
        .unwrap();
    assert_eq!(links.len(), 8);
    // Without a checkout it asks for one; an unknown one is said to be unknown.
    browser
        .client
        .goto(app.url("/sandbox/devices").as_str())
        .await
        .unwrap();
    shows(&browser, "input#checkout").await;
    let res = app.get("/sandbox/devices?checkout=cs_missing").await;
    assert!(res.text().await.unwrap().contains("No such checkout"));
    browser.close().await;
}

#[tokio::test]
async fn browser_a_laptop_plays_the_wechat_browser_through_oauth_to_the_pay_sheet() {
    let app = spawn_app().await;
    let (id, success) = session(&app, 888).await;
    let browser = Browser::start(Some(DESKTOP)).await;
    let link = device_link(&browser, &app.base, &id, "wechat").await;
    browser.client.goto(link.as_str()).await.unwrap();
    // A desktop would show the QR code at once; as WeChat the page offers to pay and signs in.
    shows(&browser, "[data-state=summary]").await;
    click(&browser, "#pay").await;
    // The sign-in is silent (snsapi_base), as in WeChat.
    // Back on /pay/{id} without the hint, the tab still plays WeChat: the pay sheet.
    shows(&browser, "#wxpay-sandbox-amount").await;
    let url = browser.client.current_url().await.unwrap();
    assert_eq!((url.path(), url.query()), (link.path(), None));
    click(&browser, "#wxpay-sandbox-pay").await;
    lands_on_success(&browser, &success).await;
    browser.close().await;
}

#[tokio::test]
async fn browser_a_laptop_plays_a_phone_into_the_h5_cashier() {
    let app = spawn_app().await;
    let (id, success) = session(&app, 2500).await;
    let browser = Browser::start(Some(DESKTOP)).await;
    let link = device_link(&browser, &app.base, &id, "mobile").await;
    browser.client.goto(link.as_str()).await.unwrap();
    shows(&browser, "[data-state=summary]").await;
    click(&browser, "#pay").await;
    lands_on(&browser, "the H5 cashier", |u| {
        u.path().starts_with("/sandbox/wechat/")
    })
    .await;
    click(&browser, "button#pay").await;
    lands_on_success(&browser, &success).await;
    browser.close().await;
}

#[tokio::test]
async fn browser_the_mini_program_hand_over_is_paid_from_the_devices_page() {
    let app = spawn_app().await;
    let (id, success) = session(&app, 990).await;
    let browser = Browser::start(Some(DESKTOP)).await;
    // WeChat's JS-SDK is on the internet, which the tests do not have: a stand-in.
    browser
        .on_new_document(
            "window.wx = { miniProgram: { navigateTo: function (o) { window.__navigatedTo = o.url; } } };",
        )
        .await;
    let link = device_link(&browser, &app.base, &id, "wechat_mini_program").await;
    shows(&browser, "#mini-program-pay").await;
    browser.client.goto(link.as_str()).await.unwrap();
    click(&browser, "#pay").await;
    shows(&browser, "[data-state=mini-program]").await;
    // The devices page's button, as the merchant presses it in another tab.
    let res = app
        .client
        .post(app.url("/sandbox/devices"))
        .header("origin", app.base.origin().ascii_serialization())
        .form(&[("checkout", id.as_str())])
        .send()
        .await
        .unwrap();
    let body = res.text().await.unwrap();
    assert!(body.contains("data-result=\"ok\""), "{body}");
    lands_on_success(&browser, &success).await;
    browser.close().await;
}
