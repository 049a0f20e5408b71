//! Alipay end to end over HTTP against the sandbox: each route (page pay on a desktop, wap pay
//! on a phone and in the Alipay app, QR, the guide inside WeChat), the return from the
//! cashier, notifications (duplicated, forged, disagreeing), the query path, and refunds.

use std::time::Duration;

use paybridge_tests::notify::{alipay_trade, alipay_trade_with};
use paybridge_tests::receiver::Receiver;
use paybridge_tests::{TestApp, shopper, spawn_app, wait};
use serde_json::{Value, json};
use url::Url;

async fn session(app: &TestApp, amount: i64, methods: &[&str]) -> String {
    let mut request = paybridge_tests::app::session_request(amount);
    request["payment_methods"] = json!(methods);
    let (status, body) = app.api_post("/v1/checkout_sessions", &request, None).await;
    assert_eq!(status, 200, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

async fn pay_alipay(app: &TestApp, id: &str, environment: &str, prefer: Option<&str>) -> Value {
    let mut body = json!({"method": "alipay", "environment": environment});
    if let Some(p) = prefer {
        body["prefer"] = json!(p);
    }
    shopper::pay(app, id, &body).await
}

async fn wait_status(app: &TestApp, path: &str, field: &str, want: &str) -> Value {
    wait::until(
        &format!("{path} {field} = {want}"),
        Duration::from_secs(20),
        || async {
            let (_, v) = app.api_get(path).await;
            (v[field] == want).then_some(v)
        },
    )
    .await
}

/// Waits for session `id` to complete and checks the attempt of `action` paid through `channel`.
async fn completes_through(app: &TestApp, id: &str, action: &Value, channel: &str) {
    wait_status(
        app,
        &format!("/v1/checkout_sessions/{id}"),
        "status",
        "complete",
    )
    .await;
    let payment = action["payment"].as_str().unwrap();
    let (_, p) = app.api_get(&format!("/v1/payments/{payment}")).await;
    assert_eq!(p["method"], "alipay", "{p}");
    assert_eq!(p["channel"], channel, "{p}");
    assert_eq!(p["status"], "succeeded", "{p}");
}

fn query_of(url: &str) -> Vec<(String, String)> {
    Url::parse(url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn a_desktop_pays_in_alipays_cashier_returns_signed_and_is_refunded() {
    let app = spawn_app().await;
    let receiver = Receiver::registered(&app).await;
    let id = session(&app, 1999, &["wechat_pay", "alipay"]).await;
    let view = app.page_view(&id).await;
    assert_eq!(view["payment_methods"], json!(["wechat_pay", "alipay"]));

    let action = pay_alipay(&app, &id, "desktop", None).await;
    assert_eq!(action["type"], "redirect", "{action}");
    let url = action["url"].as_str().unwrap();
    let params = query_of(url);
    assert_eq!(param(&params, "method"), Some("alipay.trade.page.pay"));
    assert_eq!(param(&params, "sign_type"), Some("RSA2"));
    let biz: Value = serde_json::from_str(param(&params, "biz_content").unwrap()).unwrap();
    assert_eq!(biz["total_amount"], "19.99");
    assert_eq!(biz["product_code"], "FAST_INSTANT_TRADE_PAY");

    let back = shopper::alipay_cashier(&app, url, "pay").await;
    assert_eq!(back.status(), 303);
    let location = back.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with(&app.url(&format!("/pay/{id}?return=alipay")).to_string()),
        "{location}"
    );
    let returned = query_of(&location);
    assert_eq!(
        param(&returned, "method"),
        Some("alipay.trade.page.pay.return")
    );
    assert!(param(&returned, "sign").is_some());

    completes_through(&app, &id, &action, "alipay_page").await;
    let payment = action["payment"].as_str().unwrap();
    receiver.event("payment.succeeded", payment).await;
    receiver.event("checkout.session.completed", &id).await;

    // A partial refund, then the rest; a third finds nothing left.
    let (status, first) = app
        .api_post(
            "/v1/refunds",
            &json!({"payment": payment, "amount": 999}),
            None,
        )
        .await;
    assert_eq!(status, 200, "{first}");
    let (status, second) = app
        .api_post("/v1/refunds", &json!({"payment": payment}), None)
        .await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(second["amount"], 1000);
    for refund in [&first, &second] {
        let rid = refund["id"].as_str().unwrap();
        receiver.event("refund.succeeded", rid).await;
    }
    let (status, _) = app
        .api_post("/v1/refunds", &json!({"payment": payment}), None)
        .await;
    assert_eq!(status, 422, "nothing left to refund");
}

#[tokio::test]
async fn phones_and_the_alipay_app_pay_in_the_wap_cashier() {
    let app = spawn_app().await;
    for environment in ["mobile", "alipay"] {
        let id = session(&app, 880, &["alipay"]).await;
        let action = pay_alipay(&app, &id, environment, None).await;
        assert_eq!(action["type"], "redirect", "{action}");
        let url = action["url"].as_str().unwrap();
        let params = query_of(url);
        assert_eq!(param(&params, "method"), Some("alipay.trade.wap.pay"));
        let biz: Value = serde_json::from_str(param(&params, "biz_content").unwrap()).unwrap();
        assert_eq!(biz["product_code"], "QUICK_WAP_WAY");
        assert!(biz["quit_url"].as_str().is_some_and(|u| u.contains(&id)));
        let back = shopper::alipay_cashier(&app, url, "pay").await;
        assert_eq!(back.status(), 303, "{environment}");
        completes_through(&app, &id, &action, "alipay_wap").await;
    }
}

#[tokio::test]
async fn an_alipay_qr_exists_only_once_scanned_and_completes() {
    let app = spawn_app().await;
    let id = session(&app, 1200, &["alipay", "wechat_pay"]).await;
    let action = pay_alipay(&app, &id, "desktop", Some("qr")).await;
    assert_eq!(action["type"], "qr", "{action}");
    let code_url = action["code_url"].as_str().unwrap();
    assert!(code_url.contains("/sandbox/alipay/qr/"), "{code_url}");
    // Not scanned: Alipay does not know the trade, the page keeps waiting.
    let status = app.page_status(&id).await;
    assert_eq!(status["status"], "open");
    assert_eq!(status["payment_status"], "pending");

    let paid = shopper::alipay_cashier(&app, code_url, "pay").await;
    assert_eq!(paid.status(), 200);
    assert!(paid.text().await.unwrap().contains("支付成功"));
    completes_through(&app, &id, &action, "alipay_qr").await;
}

#[tokio::test]
async fn inside_wechat_alipay_asks_for_the_browser_and_unoffered_methods_are_refused() {
    let app = spawn_app().await;
    let id = session(&app, 500, &["wechat_pay", "alipay"]).await;
    let action = pay_alipay(&app, &id, "wechat", None).await;
    assert_eq!(action["type"], "open_in_browser", "{action}");
    assert_eq!(action["url"], app.url(&format!("/pay/{id}")).to_string());

    let only_wechat = session(&app, 500, &["wechat_pay"]).await;
    let res = app
        .client
        .post(app.url(&format!("/api/checkout/{only_wechat}/pay")))
        .json(&json!({"method": "alipay", "environment": "desktop"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["param"], "method", "{body}");
}

#[tokio::test]
async fn duplicated_alipay_notifications_complete_once_and_forgeries_change_nothing() {
    // Alipay's first retry (4 min), when the third copy arrives, compressed to 0.24 s.
    let app = paybridge_tests::spawn_app_with(&["--sandbox-time-scale", "0.001"]).await;
    let receiver = Receiver::registered(&app).await;
    let id = session(&app, 4004, &["alipay"]).await;
    let action = pay_alipay(&app, &id, "desktop", None).await;
    let payment = action["payment"].as_str().unwrap().to_owned();
    let (_, p) = app.api_get(&format!("/v1/payments/{payment}")).await;
    let out_trade_no = payment.trim_start_matches("pay_").to_owned();
    assert_eq!(p["status"], "pending");
    let sandbox = app.state.sandbox().unwrap();
    let keys = sandbox.alipay_keys();
    let notify = |body: String| app.post_alipay_notification(body);

    // Forged (another key), another app's, and a wrong amount: nothing completes.
    let stranger = paybridge_server::providers::wechat::PrivateKey::generate(
        paybridge_server::providers::wechat::RsaBackend::Ring,
    )
    .unwrap();
    let forged = alipay_trade(
        &stranger,
        &keys.app_id,
        &out_trade_no,
        "40.04",
        "TRADE_SUCCESS",
    );
    assert_eq!(notify(forged).await, (400, "fail".to_owned()));
    let other_app = alipay_trade(
        &keys.alipay,
        "9021000000000000",
        &out_trade_no,
        "40.04",
        "TRADE_SUCCESS",
    );
    assert_eq!(notify(other_app).await.0, 400);
    // Signed by Alipay for our app, but for another seller of that app.
    let other_seller = alipay_trade_with(
        &keys.alipay,
        &keys.app_id,
        &out_trade_no,
        "40.04",
        "TRADE_SUCCESS",
        &[("seller_id", "2088000000000001")],
    );
    assert_eq!(notify(other_seller).await, (400, "fail".to_owned()));
    let wrong_amount = alipay_trade(
        &keys.alipay,
        &keys.app_id,
        &out_trade_no,
        "0.01",
        "TRADE_SUCCESS",
    );
    assert_eq!(notify(wrong_amount).await, (200, "success".to_owned()));
    let (_, p) = app.api_get(&format!("/v1/payments/{payment}")).await;
    assert_eq!(p["status"], "pending", "{p}");

    // The shopper pays (the sandbox sends three copies of its notification) while 20
    // identical authentic notifications arrive at once: one transition, one webhook.
    shopper::alipay_cashier(&app, action["url"].as_str().unwrap(), "pay").await;
    let genuine = alipay_trade(
        &keys.alipay,
        &keys.app_id,
        &out_trade_no,
        "40.04",
        "TRADE_SUCCESS",
    );
    let answers = futures_util::future::join_all((0..20).map(|_| notify(genuine.clone()))).await;
    assert!(
        answers.iter().all(|a| *a == (200, "success".to_owned())),
        "{answers:?}"
    );
    wait_status(
        &app,
        &format!("/v1/checkout_sessions/{id}"),
        "status",
        "complete",
    )
    .await;
    receiver.event("payment.succeeded", &payment).await;
    // Every copy the sandbox sends is acknowledged; still one event.
    wait::until(
        "the sandbox's three notifications to be acknowledged",
        Duration::from_secs(20),
        || async {
            let page = app.get("/sandbox").await.text().await.unwrap_or_default();
            (page.matches("alipay.trade_status_sync").count() >= 3
                && page.matches("<td>delivered ").count() >= 3
                && !page.contains("next attempt"))
            .then_some(())
        },
    )
    .await;
    let (_, events) = app.api_get("/v1/events?limit=100").await;
    let succeeded = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "payment.succeeded" && e["data"]["object"]["id"] == payment)
        .count();
    assert_eq!(succeeded, 1);
    // A replay of the settled trade changes nothing either.
    assert_eq!(notify(genuine).await, (200, "success".to_owned()));
    assert_eq!(receiver.count("payment.succeeded", &payment), 1);
}

#[tokio::test]
async fn a_lost_alipay_notification_is_found_by_query_and_a_decline_leaves_it_open() {
    let app = spawn_app().await;
    // 4003: paid, but Alipay never notifies.
    let id = session(&app, 4003, &["alipay"]).await;
    let action = pay_alipay(&app, &id, "mobile", None).await;
    let back = shopper::alipay_cashier(&app, action["url"].as_str().unwrap(), "pay").await;
    assert_eq!(back.status(), 303);
    app.until_complete(&id).await;

    // 4001: the shopper cancels in the cashier; nothing is paid.
    let declined = session(&app, 4001, &["alipay"]).await;
    let action = pay_alipay(&app, &declined, "desktop", None).await;
    let page = shopper::alipay_cashier(&app, action["url"].as_str().unwrap(), "pay").await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("已取消"));
    let (_, s) = app
        .api_get(&format!("/v1/checkout_sessions/{declined}"))
        .await;
    assert_eq!(s["status"], "open");
}

#[tokio::test]
async fn the_simulated_gateway_refuses_a_bad_signature_like_alipay() {
    let app = spawn_app().await;
    let id = session(&app, 700, &["alipay"]).await;
    let action = pay_alipay(&app, &id, "desktop", None).await;
    let url = action["url"].as_str().unwrap();
    let tampered = url.replace("total_amount%22%3A%227.00", "total_amount%22%3A%220.01");
    assert_ne!(tampered, url, "the amount is in the URL");
    let page = app.client.get(&tampered).send().await.unwrap();
    assert!(page.text().await.unwrap().contains("isv.invalid-signature"));
    // Server-to-server: a form without a valid signature gets a 40002 error_response.
    let res = app
        .client
        .post(app.url("/sandbox/alipay/gateway.do"))
        .form(&[
            (
                "app_id",
                app.state.sandbox().unwrap().alipay_keys().app_id.as_str(),
            ),
            ("method", "alipay.trade.query"),
            ("charset", "utf-8"),
            ("sign_type", "RSA2"),
            ("version", "1.0"),
            (
                "timestamp",
                &paybridge_server::providers::alipay::client::beijing_time(
                    paybridge_tests::notify::unix_now(),
                ),
            ),
            ("biz_content", "{\"out_trade_no\":\"x\"}"),
            ("sign", "AAAA"),
        ])
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error_response"]["code"], "40002", "{body}");
    assert_eq!(body["error_response"]["sub_code"], "isv.invalid-signature");
}
