//! The dashboard's overview from real sandbox payments: KPIs, charts and the funnel per
//! environment, on both databases.

use std::time::Duration;

use paybridge_tests::browser::ua::{IPHONE_WECHAT, PHONE};
use paybridge_tests::dashboard::{self, Operator};
use paybridge_tests::{Db, TestApp, on_both_databases, shopper, spawn_on, wait};
use serde_json::json;

/// The text of the element with `id` (up to its first tag).
pub(crate) fn text_of_id(html: &str, id: &str) -> String {
    let at = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id} in the page"));
    let rest = &html[at..];
    let start = rest.find('>').map_or(0, |i| i + 1);
    rest[start..]
        .split('<')
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// The funnel's counts (opened, attempted, paid) of `environment`.
pub(crate) fn funnel_of(html: &str, environment: &str) -> (i64, i64, i64) {
    let at = html
        .find(&format!("data-env=\"{environment}\""))
        .unwrap_or_else(|| panic!("no funnel row for {environment}"));
    let row = &html[at..];
    let row = &row[..row.find("</tr>").unwrap_or(row.len())];
    let step = |name: &str| -> i64 {
        let at = row
            .find(&format!("data-step=\"{name}\">"))
            .unwrap_or_else(|| panic!("no {name} in the {environment} row"));
        let rest = &row[at..];
        let rest = &rest[rest.find('>').unwrap() + 1..];
        rest.split(|c: char| !c.is_ascii_digit())
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    (step("opened"), step("attempted"), step("paid"))
}

/// A checkout page's view as the page asks for it, from a browser with `user_agent`, saying
/// `env` when given.
async fn open_page(app: &TestApp, id: &str, env: Option<&str>, user_agent: &str) {
    let path = match env {
        Some(env) => format!("/api/checkout/{id}?env={env}"),
        None => format!("/api/checkout/{id}"),
    };
    let res = app
        .client
        .get(app.url(&path))
        .header("user-agent", user_agent)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

/// The dashboard's page at `path`.
async fn page(op: &Operator, path: &str) -> String {
    let (status, html) = op.get(path).await;
    assert_eq!(status, 200, "{path}: {html}");
    html
}

/// The overview once `ready` holds for it.
async fn overview_when(op: &Operator, what: &str, ready: impl Fn(&str) -> bool) -> String {
    wait::until(what, Duration::from_secs(20), || async {
        let html = page(op, "/dashboard").await;
        ready(&html).then_some(html)
    })
    .await
}

async fn the_overview_counts_real_payments_and_the_funnel_per_environment(db: Db) {
    let app = spawn_on(db).await;
    let op = dashboard::sign_in(&app, "owner").await;

    // Nothing yet: zeros, and a success rate that says it has nothing to divide.
    let empty = page(&op, "/dashboard").await;
    assert_eq!(text_of_id(&empty, "kpi-volume"), "¥0.00");
    assert_eq!(text_of_id(&empty, "kpi-rate"), "–");
    assert_eq!(funnel_of(&empty, "desktop"), (0, 0, 0));
    assert!(
        !empty.contains("<rect class=\"bar\""),
        "no bars without payments"
    );

    // A desktop shopper opens the page (twice: one session, counted once) and pays by QR.
    let paid = app.create_session(1999).await;
    let paid = paid["id"].as_str().unwrap();
    open_page(&app, paid, Some("desktop"), PHONE).await;
    open_page(&app, paid, Some("desktop"), PHONE).await;
    let action = shopper::pay_qr(&app, paid).await;
    shopper::scan(&app, action["code_url"].as_str().unwrap(), "pay").await;
    app.until_complete(paid).await;

    // A phone shopper (the page's class unknown to the server: the User-Agent decides) asks
    // for WeChat Pay's H5 cashier and leaves without paying.
    let left = app.create_session(500).await;
    let left = left["id"].as_str().unwrap();
    open_page(&app, left, Some("spaceship"), PHONE).await;
    let h5 = shopper::pay(
        &app,
        left,
        &json!({"method": "wechat_pay", "environment": "mobile"}),
    )
    .await;
    assert_eq!(h5["type"], "redirect", "{h5}");

    // A WeChat shopper opens the page (no class said) and does nothing.
    let looked = app.create_session(300).await;
    let looked = looked["id"].as_str().unwrap();
    open_page(&app, looked, None, IPHONE_WECHAT).await;

    // Part of the paid session is refunded.
    let (status, refund) = app
        .api_post(
            "/v1/refunds",
            &json!({"checkout_session": paid, "amount": 600}),
            None,
        )
        .await;
    assert_eq!(status, 200, "{refund}");
    let rid = refund["id"].as_str().unwrap();
    wait::until("the refund to succeed", Duration::from_secs(20), || async {
        let (_, r) = app.api_get(&format!("/v1/refunds/{rid}")).await;
        (r["status"] == "succeeded").then_some(())
    })
    .await;

    // Page views are counted off the view's path: wait for the funnel to have all three.
    let html = overview_when(&op, "the funnel to count three opened pages", |html| {
        funnel_of(html, "desktop").0 == 1
            && funnel_of(html, "mobile").0 == 1
            && funnel_of(html, "wechat").0 == 1
    })
    .await;
    assert_eq!(funnel_of(&html, "desktop"), (1, 1, 1));
    assert_eq!(funnel_of(&html, "mobile"), (1, 1, 0));
    assert_eq!(funnel_of(&html, "wechat"), (1, 0, 0));
    for quiet in ["wechat_mini_program", "wechat_desktop", "wecom", "alipay"] {
        assert_eq!(funnel_of(&html, quiet), (0, 0, 0), "{quiet}");
    }
    // The two environments that lost a shopper tie; one is named.
    let lost = text_of_id(&html, "funnel-lost");
    assert!(lost.contains("Most shoppers lost"), "{lost}");

    assert_eq!(text_of_id(&html, "kpi-volume"), "¥19.99");
    assert_eq!(text_of_id(&html, "kpi-count"), "1");
    // Two sessions had an attempt (the WeChat one never asked to pay); one was paid.
    assert_eq!(text_of_id(&html, "kpi-rate"), "50.0%");
    assert_eq!(text_of_id(&html, "kpi-rate-detail"), "1 / 2 sessions");
    assert_eq!(text_of_id(&html, "kpi-refunds"), "¥6.00");
    assert_eq!(text_of_id(&html, "kpi-refund-count"), "1 refund");
    assert!(
        html.contains("id=\"definitions\""),
        "the success rate is defined"
    );

    // Charts: titled images with today's bar, and their numbers as tables.
    for chart in ["chart-volume", "chart-count", "chart-rate"] {
        assert!(
            html.contains(&format!(
                "id=\"{chart}\" viewBox=\"0 0 320 170\" width=\"100%\""
            )),
            "{chart} scales to its container"
        );
        assert!(html.contains(&format!("role=\"img\" aria-labelledby=\"{chart}-title\"")));
        assert!(html.contains(&format!("<title id=\"{chart}-title\">")));
    }
    assert_eq!(
        html.matches("<rect class=\"bar\"").count(),
        2,
        "one bar each for today"
    );
    assert!(html.contains("¥19.99</title></rect>"));
    assert!(html.contains("<path class=\"line\""));
    assert!(html.contains("50.0% (1/2)"), "the rate's table and tooltip");
    assert_eq!(html.matches("<details>").count(), 3, "a table per chart");

    // Other ranges; an unoffered one is the default fourteen days.
    let week = page(&op, "/dashboard?days=7").await;
    assert!(week.contains("href=\"/dashboard?days=7\" aria-current=\"page\""));
    assert_eq!(text_of_id(&week, "kpi-volume"), "¥19.99");
    assert_eq!(week.matches("<tr><th scope=\"row\">").count(), 3 * 7);
    let odd = page(&op, "/dashboard?days=5").await;
    assert!(odd.contains("href=\"/dashboard?days=14\" aria-current=\"page\""));

    // In Chinese too.
    let res = op
        .client
        .get(app.url("/dashboard"))
        .header("accept-language", "zh-CN")
        .send()
        .await
        .unwrap();
    let zh = res.text().await.unwrap();
    assert!(
        zh.contains("各环境的支付漏斗"),
        "the funnel's heading in Chinese"
    );
    assert!(zh.contains("电脑浏览器"));
}

on_both_databases!(the_overview_counts_real_payments_and_the_funnel_per_environment);

#[tokio::test]
async fn the_overview_needs_a_signed_in_operator() {
    let app = paybridge_tests::spawn_app().await;
    let res = app.get("/dashboard?days=7").await;
    assert_eq!(res.status().as_u16(), 303);
    let to = res.headers()["location"].to_str().unwrap();
    assert!(to.starts_with("/dashboard/login?next="), "{to}");
}
