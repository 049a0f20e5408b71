//! The dashboard in headless Chromium, as an operator uses it: signing in (a wrong password
//! first), finding a paid checkout by the merchant's reference, refunding half of it and seeing
//! the refund on its timeline, a form whose CSRF token was removed being refused, and replaying
//! a failed webhook once the receiver is fixed.

use std::time::Duration;

use fantoccini::Locator;
use paybridge_tests::browser::Browser;
use paybridge_tests::receiver::Receiver;
use paybridge_tests::{TestApp, dashboard, spawn_app_with, wait};
use serde_json::{Value, json};

use crate::browser_flows::{STEP, click, shows};

/// A session for `reference`, paid by QR: (session, payment).
async fn paid(app: &TestApp, amount: i64, reference: &str) -> (String, String) {
    let (session, payment, _) = crate::dashboard::paid(app, amount, reference).await;
    (session, payment)
}

async fn fill(browser: &Browser, css: &str, text: &str) {
    let el = browser
        .client
        .wait()
        .at_most(STEP)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"));
    el.clear().await.unwrap();
    el.send_keys(text).await.unwrap();
}

async fn path(browser: &Browser) -> String {
    browser
        .client
        .current_url()
        .await
        .unwrap()
        .path()
        .to_owned()
}

/// Signs in through the form the redirect leads to, a wrong password first.
async fn sign_in(browser: &Browser, app: &TestApp, start: &str) {
    browser.client.goto(app.url(start).as_str()).await.unwrap();
    shows(browser, "form.login").await;
    assert_eq!(
        path(browser).await,
        "/dashboard/login",
        "no session: the sign-in page"
    );
    fill(browser, "#username", "alice").await;
    fill(browser, "#password", "wrong password!!").await;
    click(browser, "form.login button").await;
    let problem = shows(browser, "#login-problem").await;
    assert!(problem.contains("Wrong username or password"), "{problem}");
    fill(browser, "#username", "alice").await;
    fill(browser, "#password", dashboard::PASSWORD).await;
    click(browser, "form.login button").await;
    shows(browser, "nav.sections").await;
}

#[tokio::test]
async fn an_operator_finds_a_paid_checkout_by_its_reference_refunds_half_and_sees_it_on_the_timeline()
 {
    let app = spawn_app_with(&[]).await;
    let (_, payment) = paid(&app, 3000, "order-5150").await;
    paid(&app, 1200, "order-other").await;
    let (open, _) = (app.create_session(900).await, ());
    let open = open["id"].as_str().unwrap().to_owned();
    dashboard::create_operator(&app, "alice").await;
    let browser = Browser::start(None).await;

    sign_in(&browser, &app, "/dashboard/payments").await;
    assert_eq!(
        path(&browser).await,
        "/dashboard/payments",
        "back where the operator was going"
    );
    fill(&browser, "#f-q", "order-5150").await;
    click(&browser, "form.filters button").await;
    shows(
        &browser,
        &format!("#results a[href='/dashboard/payments/{payment}']"),
    )
    .await;
    let rows = browser
        .client
        .find_all(Locator::Css("#results tbody tr"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1, "only the payment for that reference");
    click(
        &browser,
        &format!("#results a[href='/dashboard/payments/{payment}']"),
    )
    .await;

    assert_eq!(shows(&browser, "#refundable").await, "¥30.00");
    fill(&browser, "#refund-amount", "15").await;
    fill(&browser, "#refund-reason", "half the order returned").await;
    click(&browser, "#refund-submit").await;
    let notice = shows(&browser, "#notice").await;
    assert!(notice.contains("Refund sent"), "{notice}");
    assert_eq!(shows(&browser, "#refundable").await, "¥15.00");
    let timeline = shows(&browser, "#timeline").await;
    assert!(timeline.contains("Refund ¥15.00"), "{timeline}");
    assert!(
        timeline.contains("refund.create"),
        "the operator's action is on it: {timeline}"
    );
    let (_, refunds) = app.api_get(&format!("/v1/refunds?payment={payment}")).await;
    assert_eq!(refunds["data"][0]["amount"], 1500, "{refunds}");

    // A form whose CSRF token is taken out is refused, and the session stays open.
    browser
        .client
        .goto(app.url(&format!("/dashboard/sessions/{open}")).as_str())
        .await
        .unwrap();
    shows(&browser, "#expire-submit").await;
    browser
        .client
        .execute(
            "document.querySelectorAll('input[name=csrf]').forEach(e => e.remove());",
            vec![],
        )
        .await
        .unwrap();
    click(&browser, "#expire-submit").await;
    // Only the refusal page has a bare main: waiting for it cannot read the old page's title.
    let refused = shows(&browser, "main.bare h1").await;
    assert!(refused.contains("This form has expired"), "{refused}");
    let (_, s) = app.api_get(&format!("/v1/checkout_sessions/{open}")).await;
    assert_eq!(s["status"], "open");
    browser.close().await;
}

#[tokio::test]
async fn a_failed_webhook_is_replayed_from_the_dashboard_once_the_receiver_is_fixed() {
    // Retries at production pace (10 s, then 20 s, …): the replay delivers before any retry.
    let app = spawn_app_with(&["--webhook-backoff-scale", "1"]).await;
    let receiver = Receiver::start(&[]).await;
    receiver.fail(true);
    let (status, body) = app
        .api_post(
            "/v1/webhook_endpoints",
            &json!({"url": receiver.url, "enabled_events": ["payment.succeeded"]}),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, payment) = paid(&app, 700, "order-hook").await;
    receiver.wait_for(1, Duration::from_secs(20)).await;
    let event: Value = wait::until(
        "the payment.succeeded event",
        Duration::from_secs(20),
        || async {
            let (_, list) = app.api_get("/v1/events?type=payment.succeeded").await;
            list["data"]
                .as_array()?
                .iter()
                .find(|e| e["data"]["object"]["id"] == payment.as_str())
                .cloned()
        },
    )
    .await;
    let event_id = event["id"].as_str().unwrap().to_owned();
    dashboard::create_operator(&app, "alice").await;
    let browser = Browser::start(None).await;
    sign_in(&browser, &app, &format!("/dashboard/events/{event_id}")).await;
    assert_eq!(
        path(&browser).await,
        format!("/dashboard/events/{event_id}")
    );
    let failed = wait::until("the failed try to show", STEP, || async {
        browser.client.refresh().await.ok()?;
        let text = browser
            .client
            .find(Locator::Css("#deliveries"))
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        text.contains("HTTP 500").then_some(text)
    })
    .await;
    assert!(!failed.contains("delivered"), "{failed}");

    let before = receiver.received().len();
    receiver.fail(false);
    click(&browser, "#replay-submit").await;
    wait::until("the replayed delivery to succeed", STEP, || async {
        let text = browser
            .client
            .find(Locator::Css("#deliveries"))
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        if text.contains("delivered") && text.contains("HTTP 200") {
            return Some(());
        }
        browser
            .client
            .goto(app.url(&format!("/dashboard/events/{event_id}")).as_str())
            .await
            .ok()?;
        None
    })
    .await;
    assert!(
        receiver.received().len() > before,
        "the replay reached the receiver"
    );
    browser.close().await;
}
