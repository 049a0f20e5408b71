//! `make screenshots`: the page's main states, 375 and 1280 CSS pixels wide, written to
//! `docs/screenshots/<state>-<width>.png` (the README shows them). Driven like the browser
//! tests: the real server in sandbox mode, headless Chromium, the sandbox standing in for WeChat.

use std::path::{Path, PathBuf};

use paybridge_tests::browser::Browser;
use paybridge_tests::browser::ua::{DESKTOP, PHONE, WECHAT};
use paybridge_tests::{TestApp, spawn_app, workspace_root};

use crate::browser_contents::{branded_app, create, itemised_branded, logo_file};
use crate::browser_flows::{
    click, code_url_of_scan_link, scan_and_pay, session, shows, sign_in_to_the_pay_sheet,
};

/// (width, height, phone) of each capture.
const SIZES: [(u32, u32, bool); 2] = [(375, 720, true), (1280, 760, false)];

struct Shots {
    dir: PathBuf,
    width: u32,
}

impl Shots {
    /// Saves what the browser shows as `<state>-<width>.png`.
    async fn take(&self, browser: &Browser, state: &str) {
        let png = browser.client.screenshot().await.expect("screenshot");
        let path = self.dir.join(format!("{state}-{}.png", self.width));
        std::fs::write(&path, png).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        eprintln!("wrote {}", path.display());
    }
}

async fn visit(browser: &Browser, app: &TestApp, user_agent: &str, path: &str) {
    browser.user_agent(user_agent).await;
    browser.client.goto(app.url(path).as_str()).await.unwrap();
}

#[tokio::test]
#[ignore = "writes docs/screenshots/*.png; run by `make screenshots`"]
async fn screenshots_of_the_main_states() {
    let app = spawn_app().await;
    // A merchant with a logo file, for the branded, itemised checkout.
    let logo = logo_file();
    let branded = branded_app(&logo).await;
    let dir = workspace_root().join("docs").join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let browser = Browser::start(None).await;
    let paid = dashboard_data(&app, &browser).await;
    for (width, height, phone) in SIZES {
        browser.viewport(width, height, phone).await;
        let shots = Shots {
            dir: dir.clone(),
            width,
        };
        capture(&app, &browser, &shots).await;
        capture_branded(&branded, &browser, &shots).await;
        capture_dashboard(&app, &browser, &shots, &paid).await;
    }
    browser.close().await;
    assert_pngs(&dir);
}

async fn capture(app: &TestApp, browser: &Browser, shots: &Shots) {
    // A phone: the order summary and the pay button.
    let (id, _) = session(app, 2500).await;
    visit(browser, app, PHONE, &format!("/pay/{id}")).await;
    shows(browser, "[data-state=summary]").await;
    shots.take(browser, "summary").await;
    click(browser, "#lang").await;
    shows(browser, "html[lang=zh-CN] [data-state=summary]").await;
    shots.take(browser, "summary-zh").await;
    click(browser, "#lang").await;
    shows(browser, "html[lang=en] [data-state=summary]").await;
    // Back from WeChat's H5 cashier: confirming.
    visit(browser, app, PHONE, &format!("/pay/{id}?return=h5")).await;
    shows(browser, "[data-state=confirming]").await;
    shots.take(browser, "confirming").await;

    // A desktop: the QR code at once, then paid.
    let (id, _) = session(app, 1999).await;
    visit(browser, app, DESKTOP, &format!("/pay/{id}")).await;
    shows(browser, "[data-state=qr] svg.qr-code path").await;
    shots.take(browser, "qr").await;
    let code_url = code_url_of_scan_link(browser).await;
    scan_and_pay(app, &code_url).await;
    shows(browser, "[data-state=succeeded] #countdown").await;
    shots.take(browser, "succeeded").await;

    // WeChat's pay sheet (the sandbox's stand-in), then cancelled.
    let (id, _) = session(app, 888).await;
    visit(browser, app, WECHAT, &format!("/pay/{id}")).await;
    sign_in_to_the_pay_sheet(browser).await;
    shots.take(browser, "wechat-sheet").await;
    click(browser, "#wxpay-sandbox-cancel").await;
    shows(browser, "[data-state=cancelled]").await;
    shots.take(browser, "cancelled").await;

    // The sandbox's devices page for a checkout.
    let (id, _) = session(app, 990).await;
    visit(
        browser,
        app,
        DESKTOP,
        &format!("/sandbox/devices?checkout={id}"),
    )
    .await;
    shows(browser, "#devices").await;
    shots.take(browser, "sandbox-devices").await;

    // Expired, and a link that leads nowhere.
    let (id, _) = session(app, 1500).await;
    app.expire_session(&id).await;
    visit(browser, app, DESKTOP, &format!("/pay/{id}")).await;
    shows(browser, "[data-state=expired]").await;
    shots.take(browser, "expired").await;
    visit(browser, app, DESKTOP, "/pay/cs_missing").await;
    shows(browser, "[data-state=not-found]").await;
    shots.take(browser, "not-found").await;
}

/// A branded checkout listing what is bought: the summary on a phone (the items folded at
/// 375 px, unfolded at 1280), and the QR code on a desktop with the items beside it.
async fn capture_branded(app: &TestApp, browser: &Browser, shots: &Shots) {
    let id = create(app, &itemised_branded(&["wechat_pay", "alipay"], false)).await;
    visit(browser, app, PHONE, &format!("/pay/{id}")).await;
    shows(browser, "[data-state=summary]").await;
    wait_for_logo(browser).await;
    shots.take(browser, "branded").await;
    let id = create(app, &itemised_branded(&["wechat_pay"], false)).await;
    visit(browser, app, DESKTOP, &format!("/pay/{id}")).await;
    shows(browser, "[data-state=qr] svg.qr-code path").await;
    wait_for_logo(browser).await;
    shots.take(browser, "branded-qr").await;
}

/// Real sandbox payments for the dashboard to show (one of them half refunded), and the
/// browser signed in with a one-time link; returns the refunded payment.
async fn dashboard_data(app: &TestApp, browser: &Browser) -> String {
    use serde_json::json;
    let mut refunded = String::new();
    for (i, (amount, environment)) in [
        (2990, "desktop"),
        (1250, "desktop"),
        (8800, "desktop"),
        (450, "mobile"),
    ]
    .into_iter()
    .enumerate()
    {
        let mut req = paybridge_tests::session_request(amount);
        req["merchant_reference"] = json!(format!("order-{}", 2041 + i));
        let (_, s) = app.api_post("/v1/checkout_sessions", &req, None).await;
        let id = s["id"].as_str().unwrap().to_owned();
        let action = paybridge_tests::shopper::pay(
            app,
            &id,
            &json!({"method": "wechat_pay", "environment": environment}),
        )
        .await;
        if let Some(code_url) = action["code_url"].as_str() {
            scan_and_pay(app, code_url).await;
            app.until_complete(&id).await;
            if refunded.is_empty() {
                refunded = action["payment"].as_str().unwrap().to_owned();
            }
        }
    }
    let (status, _) = app
        .api_post(
            "/v1/refunds",
            &json!({"payment": refunded, "amount": 1495, "reason": "one item returned"}),
            None,
        )
        .await;
    assert_eq!(status, 200);
    paybridge_tests::dashboard::create_operator(app, "ops").await;
    let (op, _) = app
        .state
        .store()
        .operator_by_name("ops")
        .await
        .unwrap()
        .unwrap();
    let token = paybridge_server::service::operators::login_link(app.state.store(), &op)
        .await
        .unwrap();
    let link = format!("/dashboard/login/link?token={}", token.expose());
    browser.client.goto(app.url(&link).as_str()).await.unwrap();
    shows(browser, "nav.sections").await;
    refunded
}

/// The dashboard's overview, the payments list and one payment's timeline.
async fn capture_dashboard(app: &TestApp, browser: &Browser, shots: &Shots, payment: &str) {
    visit(browser, app, DESKTOP, "/dashboard").await;
    shows(browser, "main h1").await;
    shots.take(browser, "dashboard-overview").await;
    visit(browser, app, DESKTOP, "/dashboard/payments").await;
    shows(browser, "#results").await;
    shots.take(browser, "dashboard-payments").await;
    visit(
        browser,
        app,
        DESKTOP,
        &format!("/dashboard/payments/{payment}"),
    )
    .await;
    shows(browser, "#timeline").await;
    shots.take(browser, "dashboard-timeline").await;
}

async fn wait_for_logo(browser: &Browser) {
    paybridge_tests::wait::until("the logo", crate::browser_flows::STEP, || async {
        browser
            .client
            .execute(
                "var i = document.querySelector('img.logo'); return !!(i && i.complete && i.naturalWidth);",
                vec![],
            )
            .await
            .ok()?
            .as_bool()
            .filter(|b| *b)
    })
    .await;
}

/// Every file written is a PNG of the width it is named for.
fn assert_pngs(dir: &Path) {
    for (width, height, _) in SIZES {
        for state in [
            "summary",
            "summary-zh",
            "confirming",
            "qr",
            "succeeded",
            "wechat-sheet",
            "cancelled",
            "expired",
            "not-found",
            "sandbox-devices",
            "branded",
            "branded-qr",
            "dashboard-overview",
            "dashboard-payments",
            "dashboard-timeline",
        ] {
            let path = dir.join(format!("{state}-{width}.png"));
            let png = std::fs::read(&path).unwrap();
            assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{}", path.display());
            // IHDR: width and height, big-endian, at bytes 16..24.
            let w = u32::from_be_bytes(png[16..20].try_into().unwrap());
            let h = u32::from_be_bytes(png[20..24].try_into().unwrap());
            assert_eq!((w, h), (width, height), "{}", path.display());
        }
    }
}
