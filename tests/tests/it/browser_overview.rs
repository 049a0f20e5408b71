//! The dashboard's overview in headless Chromium: after real sandbox payments through the
//! checkout page, an operator signs in and sees the charts drawn (bars of real height), the
//! funnel per environment, and nothing wider than a 375 px phone.

use paybridge_tests::browser::Browser;
use paybridge_tests::browser::ua::{DESKTOP, PHONE};
use paybridge_tests::{TestApp, spawn_app, wait};
use serde_json::Value;

use crate::browser_flows::{STEP, code_url_of_scan_link, goto, scan_and_pay, session, shows};

/// A new operator's one-time sign-in URL, as `paybridge users link` prints one.
async fn login_link(app: &TestApp) -> url::Url {
    let store = app.state.store();
    let op = paybridge_server::service::operators::create(store, "owner", "a long test password")
        .await
        .expect("operator created");
    let token = paybridge_server::service::operators::login_link(store, &op)
        .await
        .expect("login link");
    let mut url = app.url("/dashboard/login/link");
    url.query_pairs_mut().append_pair("token", token.expose());
    url
}

/// Runs `script` (a function body returning a value) in the page.
async fn eval(browser: &Browser, script: &str) -> Value {
    browser
        .client
        .execute(script, vec![])
        .await
        .unwrap_or_else(|e| panic!("{script}: {e}"))
}

#[tokio::test]
async fn browser_the_dashboard_overview_charts_payments_made_on_the_checkout_page() {
    let app = spawn_app().await;
    let browser = Browser::start(Some(DESKTOP)).await;

    // A desktop shopper pays by scanning the page's QR code.
    let (paid, _) = session(&app, 1999).await;
    goto(&browser, &app, &paid).await;
    shows(&browser, "[data-state=qr] svg.qr-code path").await;
    let code_url = code_url_of_scan_link(&browser).await;
    scan_and_pay(&app, &code_url).await;
    shows(&browser, "[data-state=succeeded] h2").await;

    // A phone shopper opens a page and leaves before paying.
    browser.user_agent(PHONE).await;
    let (left, _) = session(&app, 500).await;
    goto(&browser, &app, &left).await;
    shows(&browser, "#pay").await;

    // The operator signs in with a one-time link and lands on the overview.
    browser
        .client
        .goto(login_link(&app).await.as_str())
        .await
        .unwrap();
    wait::until("the funnel to count both pages", STEP, || async {
        browser.client.refresh().await.ok()?;
        let text = |env: &'static str| {
            let css = format!("tr[data-env={env}] td[data-step=opened]");
            let client = browser.client.clone();
            async move {
                client
                    .find(fantoccini::Locator::Css(&css))
                    .await
                    .ok()?
                    .text()
                    .await
                    .ok()
            }
        };
        let (desktop, mobile) = (text("desktop").await?, text("mobile").await?);
        (desktop == "1" && mobile == "1").then_some(())
    })
    .await;
    assert_eq!(
        shows(&browser, "tr[data-env=desktop] td[data-step=conversion]").await,
        "100.0%"
    );
    assert_eq!(
        shows(&browser, "tr[data-env=mobile] td[data-step=conversion]").await,
        "0.0%"
    );
    assert_eq!(shows(&browser, "#kpi-volume").await, "¥19.99");

    // The bars are drawn with real heights, one per chart for today.
    let heights = eval(
        &browser,
        "return [...document.querySelectorAll('svg.chart rect.bar')]\
         .map(r => r.getBoundingClientRect().height);",
    )
    .await;
    let heights: Vec<f64> = heights
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_f64().unwrap())
        .collect();
    assert_eq!(heights.len(), 2, "{heights:?}");
    assert!(heights.iter().all(|h| *h > 10.0), "{heights:?}");
    // The meter of the desktop row shows all three steps.
    let meter = eval(
        &browser,
        "return document.querySelectorAll('tr[data-env=desktop] svg.meter rect').length;",
    )
    .await;
    assert_eq!(meter, 3);

    // On a 375 px phone nothing is wider than the screen: the charts shrink with the page.
    browser.viewport(375, 800, true).await;
    browser.client.refresh().await.unwrap();
    shows(&browser, "svg#chart-rate").await;
    let widths = eval(
        &browser,
        "return { page: document.documentElement.scrollWidth, \
         charts: [...document.querySelectorAll('svg.chart')].map(s => s.getBoundingClientRect().right) };",
    )
    .await;
    assert!(widths["page"].as_f64().unwrap() <= 375.0, "{widths}");
    for right in widths["charts"].as_array().unwrap() {
        assert!(right.as_f64().unwrap() <= 375.0, "{widths}");
    }
    browser.close().await;
}
