//! The sandbox's scenario amounts, through the real payment flows.

use std::time::Duration;

use paybridge_tests::shopper::{pay_qr, scan};
use paybridge_tests::{spawn_app, wait};

#[tokio::test]
async fn a_declined_payment_leaves_the_session_open_for_another_try() {
    let app = spawn_app().await;
    let s = app.create_session(4001).await;
    let id = s["id"].as_str().unwrap();
    let qr = pay_qr(&app, id).await;
    scan(&app, qr["code_url"].as_str().unwrap(), "pay").await;
    // Nothing was paid: polling (which queries WeChat when stale) keeps it open and pending.
    for _ in 0..3 {
        let st = app.page_status(id).await;
        assert_eq!(st["status"], "open", "{st}");
        assert_eq!(st["payment_status"], "pending", "{st}");
    }
}

#[tokio::test]
async fn a_payment_error_fails_the_attempt_and_tells_the_merchant() {
    let app = spawn_app().await;
    let s = app.create_session(4002).await;
    let id = s["id"].as_str().unwrap();
    let qr = pay_qr(&app, id).await;
    let payment = qr["payment"].as_str().unwrap();
    scan(&app, qr["code_url"].as_str().unwrap(), "pay").await;
    wait::until(
        "the attempt to be found failed",
        Duration::from_secs(30),
        || async {
            let (_, p) = app.api_get(&format!("/v1/payments/{payment}")).await;
            (p["status"] == "failed").then_some(())
        },
    )
    .await;
    let (_, events) = app.api_get("/v1/events?type=payment.failed").await;
    assert_eq!(events["data"][0]["data"]["object"]["id"], payment);
    assert_eq!(
        app.page_status(id).await["status"],
        "open",
        "the shopper may try again"
    );
    let again = pay_qr(&app, id).await;
    assert_ne!(
        again["payment"], qr["payment"],
        "a new attempt, not the failed one"
    );
}

#[tokio::test]
async fn a_slow_provider_and_a_first_try_500_still_give_a_qr_code() {
    let app = spawn_app().await;
    for amount in [4005, 4006] {
        let s = app.create_session(amount).await;
        let qr = pay_qr(&app, s["id"].as_str().unwrap()).await;
        assert_eq!(qr["type"], "qr", "{amount}: {qr}");
    }
}

#[tokio::test]
async fn triplicated_out_of_order_notifications_complete_once() {
    let app = spawn_app().await;
    let s = app.create_session(4004).await;
    let id = s["id"].as_str().unwrap();
    let qr = pay_qr(&app, id).await;
    scan(&app, qr["code_url"].as_str().unwrap(), "pay").await;
    wait::until("completion", Duration::from_secs(30), || async {
        (app.page_status(id).await["status"] == "complete").then_some(())
    })
    .await;
    let (_, events) = app
        .api_get("/v1/events?type=checkout.session.completed")
        .await;
    let n = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["data"]["object"]["id"] == id)
        .count();
    assert_eq!(n, 1);
}

#[tokio::test]
async fn a_refused_order_fails_the_attempt_and_payment_failed_carries_the_providers_code() {
    let app = spawn_app().await;
    let s = app.create_session(4007).await;
    let id = s["id"].as_str().unwrap();
    let res = app
        .client
        .post(app.url(&format!("/api/checkout/{id}/pay")))
        .json(&serde_json::json!({"method": "wechat_pay", "environment": "desktop"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 502);
    let (_, events) = app.api_get("/v1/events?type=payment.failed").await;
    let failed = &events["data"][0]["data"]["object"];
    assert_eq!(failed["checkout_session"], id, "{events}");
    assert_eq!(failed["status"], "failed");
    let reason = failed["failure_reason"].as_str().unwrap();
    assert!(reason.contains("APPID_MCHID_NOT_MATCH"), "{reason}");
    let payment = failed["id"].as_str().unwrap();
    assert_eq!(app.events_about("payment.failed", payment).await, 1);
    // The session stays open: the merchant fixes the binding, the shopper tries again.
    let (_, session) = app.api_get(&format!("/v1/checkout_sessions/{id}")).await;
    assert_eq!(session["status"], "open");
}
