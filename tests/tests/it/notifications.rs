//! Completion is exactly once and only from what WeChat really said: duplicate, forged, stale,
//! tampered and disagreeing notifications; double payment; a crash before the notification;
//! the page's event stream.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use paybridge_tests::notify::{transaction_success, unix_now};
use paybridge_tests::shopper::{pay_h5, pay_qr, scan};
use paybridge_tests::{Db, Options, TestApp, on_both_databases, spawn, spawn_app, spawn_on, wait};
use serde_json::{Value, json};

/// The attempt's out_trade_no and appid, through the merchant API.
async fn attempt(app: &TestApp, payment: &str) -> Value {
    let (status, p) = app.api_get(&format!("/v1/payments/{payment}")).await;
    assert_eq!(status, 200, "{p}");
    p
}

async fn fifty_concurrent_duplicate_notifications_make_one_transition_and_one_event(db: Db) {
    let app = Arc::new(spawn_on(db).await);
    // 4003: the sandbox itself never notifies, so every notification here is ours.
    let session = app.create_session(4003).await;
    let id = session["id"].as_str().unwrap().to_owned();
    let action = pay_qr(&app, &id).await;
    let payment = action["payment"].as_str().unwrap().to_owned();
    let p = attempt(&app, &payment).await;
    let out_trade_no = p["out_trade_no"].as_str().unwrap();
    let appid = app.state.sandbox().unwrap().keys().appid.clone();
    let (headers, body) = transaction_success(&app, out_trade_no, &appid, 4003, unix_now());
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let (app, headers, body) = (app.clone(), headers.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            app.post_wechat_notification(&headers, body).await
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 204);
    }
    let (_, s) = app.api_get(&format!("/v1/checkout_sessions/{id}")).await;
    assert_eq!(s["status"], "complete");
    assert_eq!(app.events_about("payment.succeeded", &payment).await, 1);
    assert_eq!(app.events_about("checkout.session.completed", &id).await, 1);
}

on_both_databases!(fifty_concurrent_duplicate_notifications_make_one_transition_and_one_event);

#[tokio::test]
async fn stale_tampered_and_disagreeing_notifications_change_nothing() {
    let app = spawn_app().await;
    let session = app.create_session(4003).await;
    let id = session["id"].as_str().unwrap();
    let action = pay_qr(&app, id).await;
    let p = attempt(&app, action["payment"].as_str().unwrap()).await;
    let out_trade_no = p["out_trade_no"].as_str().unwrap();
    let appid = app.state.sandbox().unwrap().keys().appid.clone();

    // Replayed: a real notification, but signed six minutes ago.
    let (h, b) = transaction_success(&app, out_trade_no, &appid, 4003, unix_now() - 360);
    assert_eq!(app.post_wechat_notification(&h, b).await, 401);
    // Tampered: one byte of the signed body changed.
    let (h, mut b) = transaction_success(&app, out_trade_no, &appid, 4003, unix_now());
    let last = b.len() - 2;
    b[last] ^= 1;
    assert_eq!(app.post_wechat_notification(&h, b).await, 401);
    // Authentic but disagreeing: another amount, another appid. Accepted (WeChat must stop
    // retrying), recorded as an alert, and nothing completes.
    let (h, b) = transaction_success(&app, out_trade_no, &appid, 1, unix_now());
    assert_eq!(app.post_wechat_notification(&h, b).await, 204);
    let (h, b) = transaction_success(&app, out_trade_no, "wx00000000000000ff", 4003, unix_now());
    assert_eq!(app.post_wechat_notification(&h, b).await, 204);

    let (_, s) = app.api_get(&format!("/v1/checkout_sessions/{id}")).await;
    assert_eq!(s["status"], "open");
    let (_, pay) = app
        .api_get(&format!(
            "/v1/payments/{}",
            action["payment"].as_str().unwrap()
        ))
        .await;
    assert_eq!(pay["status"], "pending");
    let metrics = app.admin_get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("paybridge_provider_mismatches_total 2"),
        "{metrics}"
    );
    // Each is an alert event in the log, with what WeChat reported.
    let (_, events) = app
        .api_get("/v1/events?type=payment.provider_mismatch")
        .await;
    let reported: Vec<(i64, String)> = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let report = &e["data"]["object"]["provider_report"];
            (
                report["amount"].as_i64().unwrap(),
                report["app_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(reported.len(), 2, "{events}");
    assert!(reported.contains(&(1, appid.clone())));
    assert!(reported.contains(&(4003, "wx00000000000000ff".to_owned())));
}

#[tokio::test]
async fn a_second_payment_for_one_session_is_refunded_automatically() {
    let app = spawn_app().await;
    // 4003 (no notifications) lets both attempts be paid before paybridge hears of either.
    let session = app.create_session(4003).await;
    let id = session["id"].as_str().unwrap();
    let qr = pay_qr(&app, id).await;
    let res = app
        .client
        .post(app.url(&format!("/api/checkout/{id}/pay")))
        .json(&json!({"method": "wechat_pay", "environment": "mobile"}))
        .send()
        .await
        .unwrap();
    let h5: Value = res.json().await.unwrap();
    assert_eq!(h5["type"], "redirect");
    // The shopper pays both: the QR with one phone, the H5 cashier in a browser.
    let scanned = scan(&app, qr["code_url"].as_str().unwrap(), "pay").await;
    assert!(!scanned.is_empty());
    pay_h5(&app, h5["url"].as_str().unwrap()).await;
    // paybridge finds both by querying: one completes the session, the other is refunded.
    let refunded = wait::until(
        "one of the two payments to be refunded",
        Duration::from_secs(30),
        || async {
            let (_, list) = app.api_get("/v1/events?type=refund.succeeded").await;
            list["data"].as_array()?.first().cloned()
        },
    )
    .await;
    assert_eq!(
        refunded["data"]["object"]["reason"], "duplicate_payment",
        "{refunded}"
    );
    assert_eq!(refunded["data"]["object"]["amount"], 4003);
    let (_, s) = app.api_get(&format!("/v1/checkout_sessions/{id}")).await;
    assert_eq!(s["status"], "complete");
    assert_eq!(app.events_about("checkout.session.completed", id).await, 1);
}

#[tokio::test]
async fn a_payment_made_while_the_server_was_down_completes_after_restart() {
    let first = spawn(Options::default()).await;
    let session = first.create_session(1500).await;
    let id = session["id"].as_str().unwrap().to_owned();
    let action = pay_qr(&first, &id).await;
    // The shopper pays while paybridge is down; WeChat's notification goes nowhere.
    let second = restarted(first).await;
    let scan = second
        .client
        .post(second.url("/sandbox/wechat/scan/pay"))
        .form(&[
            ("code_url", action["code_url"].as_str().unwrap()),
            ("user", "dave"),
            ("action", "pay"),
        ])
        .send()
        .await
        .unwrap();
    assert!(scan.status().is_success());
    // Nobody polls: the reconciler alone finds the payment.
    wait::until(
        "the reconciler to complete the session",
        Duration::from_secs(30),
        || async {
            let (_, s) = second.api_get(&format!("/v1/checkout_sessions/{id}")).await;
            (s["status"] == "complete").then_some(())
        },
    )
    .await;
}

/// The same server on the same data, started again (it remembers nothing of its attempts).
async fn restarted(app: TestApp) -> TestApp {
    let data_dir = Arc::clone(&app.data_dir);
    app.kill();
    spawn(Options {
        data_dir: Some(data_dir),
        ..Options::default()
    })
    .await
}

/// A server that did not make the attempt (here: restarted, so it remembers nothing of it)
/// reads its terms and holds WeChat's reports to them just the same, before and after it has
/// read them once, and takes a report of what is already stored as the duplicate it is.
#[tokio::test]
async fn a_restarted_server_checks_notifications_against_the_stored_attempt() {
    let app = spawn(Options::default()).await;
    let session = app.create_session(4003).await;
    let id = session["id"].as_str().unwrap().to_owned();
    let action = pay_qr(&app, &id).await;
    let payment = action["payment"].as_str().unwrap().to_owned();
    let p = attempt(&app, &payment).await;
    let out_trade_no = p["out_trade_no"].as_str().unwrap().to_owned();
    let appid = app.state.sandbox().unwrap().keys().appid.clone();
    let app = restarted(app).await;
    // Disagreeing, first as the first report this server sees, then once it has read them.
    for (amount, app_id) in [(1, appid.as_str()), (4003, "wx00000000000000ff")] {
        let (h, b) = transaction_success(&app, &out_trade_no, app_id, amount, unix_now());
        assert_eq!(app.post_wechat_notification(&h, b).await, 204);
    }
    assert_eq!(attempt(&app, &payment).await["status"], "pending");
    let metrics = app.admin_get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("paybridge_provider_mismatches_total 2"),
        "{metrics}"
    );
    // The real one, twenty times at once, as the first reports of another fresh start: one
    // transition, one event each.
    let app = restarted(app).await;
    let (headers, body) = transaction_success(&app, &out_trade_no, &appid, 4003, unix_now());
    let answers = futures_util::future::join_all(
        (0..20).map(|_| app.post_wechat_notification(&headers, body.clone())),
    )
    .await;
    assert!(answers.iter().all(|a| *a == 204), "{answers:?}");
    assert_eq!(attempt(&app, &payment).await["status"], "succeeded");
    // Once more after another start: read as succeeded, a duplicate.
    let app = restarted(app).await;
    let (headers, body) = transaction_success(&app, &out_trade_no, &appid, 4003, unix_now());
    assert_eq!(app.post_wechat_notification(&headers, body).await, 204);
    let (_, s) = app.api_get(&format!("/v1/checkout_sessions/{id}")).await;
    assert_eq!(s["status"], "complete");
    assert_eq!(app.events_about("payment.succeeded", &payment).await, 1);
    assert_eq!(app.events_about("checkout.session.completed", &id).await, 1);
    assert_eq!(
        app.events_about("payment.provider_mismatch", &payment)
            .await,
        2
    );
}

#[tokio::test]
async fn the_event_stream_reports_completion_and_ends() {
    let app = spawn_app().await;
    let session = app.create_session(1200).await;
    let id = session["id"].as_str().unwrap();
    let action = pay_qr(&app, id).await;
    let res = app.get(&format!("/api/checkout/{id}/events")).await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut stream = res.bytes_stream();
    let mut text = String::new();
    let mut paid = false;
    let outcome = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(chunk) = stream.next().await {
            text.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
            if !paid && text.contains("\"status\":\"open\"") {
                paid = true;
                let scan = app
                    .client
                    .post(app.url("/sandbox/wechat/scan/pay"))
                    .form(&[
                        ("code_url", action["code_url"].as_str().unwrap()),
                        ("user", "erin"),
                        ("action", "pay"),
                    ])
                    .send()
                    .await
                    .unwrap();
                assert!(scan.status().is_success());
            }
        }
    })
    .await;
    assert!(
        outcome.is_ok(),
        "the stream did not end after completion: {text}"
    );
    assert!(text.contains("event: status"), "{text}");
    assert!(text.contains("\"status\":\"complete\""), "{text}");
    assert!(text.contains("https://shop.example.com/thanks"), "{text}");
}

#[tokio::test]
async fn a_payment_made_just_before_the_deadline_completes_instead_of_expiring() {
    // Background jobs slowed down, so only the expiry's last look can find the payment.
    let app = paybridge_tests::spawn_app_with(&["--job-poll-ms", "60000"]).await;
    // 4003: paid, but WeChat never notifies.
    let session = app.create_session(4003).await;
    let id = session["id"].as_str().unwrap();
    let action = pay_qr(&app, id).await;
    paybridge_tests::shopper::scan(&app, action["code_url"].as_str().unwrap(), "pay").await;
    // The deadline passes before any notification or reconciliation.
    sqlx::query("UPDATE checkout_sessions SET expires_at = expires_at - 3600000 WHERE id = $1")
        .bind(id)
        .execute(app.state.store().pool())
        .await
        .unwrap();
    let (_, s) = app.api_get(&format!("/v1/checkout_sessions/{id}")).await;
    assert_eq!(s["status"], "complete", "{s}");
    let (_, refunds) = app.api_get("/v1/events?type=refund.succeeded").await;
    assert_eq!(refunds["data"].as_array().unwrap().len(), 0, "{refunds}");
}
