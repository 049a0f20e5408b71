//! An authentic provider report of a trade no attempt of ours has is recorded as an unmatched
//! payment and raised (`payment.unmatched`, a metric) before the provider is answered — never
//! just acknowledged; and attempts left `created` are resolved by the reconciler.

use std::time::Duration;

use paybridge_tests::notify::{alipay_trade, transaction_success, unix_now};
use paybridge_tests::shopper::pay_qr;
use paybridge_tests::{Db, TestApp, on_both_databases, spawn_on, wait};
use serde_json::Value;

async fn unmatched(app: &TestApp) -> Vec<Value> {
    let (status, list) = app.api_get("/v1/unmatched_payments?limit=100").await;
    assert_eq!(status, 200, "{list}");
    list["data"].as_array().unwrap().clone()
}

async fn metric(app: &TestApp, name: &str) -> String {
    let text = app.admin_get("/metrics").await.text().await.unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")).map(str::to_owned))
        .unwrap_or_default()
}

async fn an_authentic_report_of_an_unknown_trade_is_recorded_and_raised(db: Db) {
    let app = spawn_on(db).await;
    let appid = app.state.sandbox().unwrap().keys().appid.clone();
    let stranger = "0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f";
    let (headers, body) = transaction_success(&app, stranger, &appid, 2500, unix_now());

    // A tampered copy is refused and records nothing.
    let mut tampered = body.clone();
    let last = tampered.len() - 3;
    tampered[last] ^= 1;
    assert_eq!(app.post_wechat_notification(&headers, tampered).await, 401);
    assert!(unmatched(&app).await.is_empty());

    // The authentic one is answered only once it is recorded, and raised once.
    assert_eq!(
        app.post_wechat_notification(&headers, body.clone()).await,
        204
    );
    let list = unmatched(&app).await;
    assert_eq!(list.len(), 1, "{list:?}");
    let u = &list[0];
    assert!(u["id"].as_str().unwrap().starts_with("upay_"), "{u}");
    assert_eq!(u["object"], "unmatched_payment");
    assert_eq!(u["method"], "wechat_pay");
    assert_eq!(u["out_trade_no"], stranger);
    assert_eq!(u["provider_transaction_id"], format!("4200{stranger}"));
    assert_eq!(u["amount"], 2500);
    assert_eq!(u["currency"], "cny");
    assert_eq!(u["app_id"], appid.as_str());
    assert_eq!(u["status"], "paid");
    assert_eq!(u["provider_detail"], "支付成功");
    assert_eq!(u["reports"], 1);
    let id = u["id"].as_str().unwrap().to_owned();
    assert_eq!(app.events_about("payment.unmatched", &id).await, 1);
    assert_eq!(
        metric(&app, "paybridge_unmatched_payments_total").await,
        "1"
    );

    // WeChat repeats it: counted on the same record, not raised again.
    assert_eq!(app.post_wechat_notification(&headers, body).await, 204);
    let (status, again) = app.api_get(&format!("/v1/unmatched_payments/{id}")).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["reports"], 2);
    assert_eq!(app.events_about("payment.unmatched", &id).await, 1);
    assert_eq!(
        metric(&app, "paybridge_unmatched_payments_total").await,
        "1"
    );
    let (status, missing) = app
        .api_get("/v1/unmatched_payments/upay_00000000000000000000000000000000")
        .await;
    assert_eq!(
        (status, &missing["error"]["code"]),
        (404, &Value::from("resource_missing"))
    );

    // Alipay's report of a trade we never made: recorded too, then acknowledged.
    let keys = app.state.sandbox().unwrap().alipay_keys();
    let form = alipay_trade(
        &keys.alipay,
        &keys.app_id,
        "a1a1a1a1a1a1",
        "12.34",
        "TRADE_SUCCESS",
    );
    assert_eq!(
        app.post_alipay_notification(form).await,
        (200, "success".to_owned())
    );
    let list = unmatched(&app).await;
    let alipay = list
        .iter()
        .find(|u| u["method"] == "alipay")
        .expect("recorded");
    assert_eq!(alipay["amount"], 1234);
    assert_eq!(alipay["provider_detail"], "TRADE_SUCCESS");
    assert_eq!(
        metric(&app, "paybridge_unmatched_payments_total").await,
        "2"
    );

    // When it cannot be recorded, WeChat hears a failure and will send it again.
    sqlx::query("DROP TABLE unmatched_payments")
        .execute(app.state.store().pool())
        .await
        .unwrap();
    let (headers, body) = transaction_success(&app, "1e1e1e1e1e1e1e1e", &appid, 990, unix_now());
    assert_eq!(app.post_wechat_notification(&headers, body).await, 500);
}

/// A crash between WeChat's answer and our pending mark leaves an attempt `created` whose order
/// WeChat holds; nobody saw its QR code. Past the grace period the reconciler closes the order
/// and cancels the attempt, so it can never be paid unnoticed.
async fn an_attempt_left_created_is_closed_at_the_provider_after_the_grace_period(db: Db) {
    let app = spawn_on(db).await;
    let session = app.create_session(1500).await;
    let id = session["id"].as_str().unwrap().to_owned();
    let action = pay_qr(&app, &id).await;
    let payment = action["payment"].as_str().unwrap().to_owned();
    let out_trade_no = payment.trim_start_matches("pay_").to_owned();
    // As if the pending mark was never written, two minutes ago.
    sqlx::query(
        "UPDATE payments SET status = 'created', next_action = NULL, \
         created_at = created_at - 120000, checked_at = 0 WHERE id = $1",
    )
    .bind(&payment)
    .execute(app.state.store().pool())
    .await
    .unwrap();
    wait::until(
        "the reconciler to close the abandoned attempt",
        Duration::from_secs(20),
        || async {
            let (_, p) = app.api_get(&format!("/v1/payments/{payment}")).await;
            (p["status"] == "canceled").then_some(p)
        },
    )
    .await;
    let (_, p) = app.api_get(&format!("/v1/payments/{payment}")).await;
    assert_eq!(
        p["failure_reason"],
        "never shown to the shopper; closed at the provider"
    );
    let state: String =
        sqlx::query_scalar("SELECT trade_state FROM sandbox_orders WHERE out_trade_no = $1")
            .bind(&out_trade_no)
            .fetch_one(app.state.store().pool())
            .await
            .unwrap();
    assert_eq!(state, "CLOSED");
    // The session is still open: the shopper can start again.
    let (_, s) = app.api_get(&format!("/v1/checkout_sessions/{id}")).await;
    assert_eq!(s["status"], "open");
}

on_both_databases!(
    an_authentic_report_of_an_unknown_trade_is_recorded_and_raised,
    an_attempt_left_created_is_closed_at_the_provider_after_the_grace_period,
);
