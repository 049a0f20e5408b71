//! Reconciliation against WeChat's trade bill (the sandbox's).

use std::time::Duration;

use paybridge_server::providers::wechat::orders::{NativeOrder, OrderAmount, OrderCommon};
use paybridge_server::service::bills::{Mismatch, reconcile};
use paybridge_tests::{spawn_app, wait};
use serde_json::{Value, json};

fn today_in_beijing() -> String {
    let now = time::OffsetDateTime::now_utc().to_offset(time::macros::offset!(+8));
    format!(
        "{:04}-{:02}-{:02}",
        now.year(),
        u8::from(now.month()),
        now.day()
    )
}

#[tokio::test]
async fn the_bill_matches_paid_sessions_and_reports_orders_paybridge_does_not_know() {
    let app = spawn_app().await;
    let session = app.create_session(2600).await;
    let id = session["id"].as_str().unwrap();
    let res = app
        .client
        .post(app.url(&format!("/api/checkout/{id}/pay")))
        .json(&json!({"method": "wechat_pay", "environment": "desktop"}))
        .send()
        .await
        .unwrap();
    let qr: Value = res.json().await.unwrap();
    let scan = app
        .client
        .post(app.url("/sandbox/wechat/scan/pay"))
        .form(&[
            ("code_url", qr["code_url"].as_str().unwrap()),
            ("user", "gina"),
            ("action", "pay"),
        ])
        .send()
        .await
        .unwrap();
    assert!(scan.status().is_success());
    wait::until("completion", Duration::from_secs(20), || async {
        let (_, s) = app.api_get(&format!("/v1/checkout_sessions/{id}")).await;
        (s["status"] == "complete").then_some(())
    })
    .await;

    let wechat = app.state.wechat().unwrap();
    let report = reconcile(app.state.store(), wechat, &today_in_beijing())
        .await
        .unwrap();
    assert_eq!(report.matched, 1, "{report:?}");
    assert!(report.mismatches.is_empty(), "{report:?}");

    // An order paid at WeChat that paybridge never made (someone used the merchant's keys).
    let stray = NativeOrder {
        common: OrderCommon {
            appid: wechat.appid.clone(),
            mchid: wechat.pay.mchid().to_owned(),
            description: "stray".into(),
            out_trade_no: "stray0000000000000001".into(),
            time_expire: None,
            attach: None,
            notify_url: app.url("/notify/wechat").to_string(),
            amount: OrderAmount {
                total: 77,
                currency: Some("CNY".into()),
            },
            detail: None,
        },
    };
    let prepay = wechat.pay.create_native_order(&stray).await.unwrap();
    let scan = app
        .client
        .post(app.url("/sandbox/wechat/scan/pay"))
        .form(&[
            ("code_url", prepay.code_url.as_str()),
            ("user", "gina"),
            ("action", "pay"),
        ])
        .send()
        .await
        .unwrap();
    assert!(scan.status().is_success());
    let report = reconcile(app.state.store(), wechat, &today_in_beijing())
        .await
        .unwrap();
    assert_eq!(
        report.mismatches,
        vec![Mismatch::UnknownOrder {
            out_trade_no: "stray0000000000000001".into()
        }]
    );
}
