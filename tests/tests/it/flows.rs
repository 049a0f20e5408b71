//! Payment flows end to end over HTTP against the sandbox: session → pay → (OAuth / redirect /
//! QR) → the sandbox pays → notification → session complete → merchant webhook.

use std::time::Duration;

use paybridge_tests::receiver::Receiver;
use paybridge_tests::{Db, TestApp, on_both_databases, shopper, spawn_app, spawn_on, wait};
use serde_json::{Value, json};
use url::Url;

async fn wait_complete(app: &TestApp, session: &str) -> Value {
    wait::until(
        "the session to complete",
        Duration::from_secs(20),
        || async {
            let (_, s) = app
                .api_get(&format!("/v1/checkout_sessions/{session}"))
                .await;
            (s["status"] == "complete").then_some(s)
        },
    )
    .await
}

async fn scan_and_pay(app: &TestApp, code_url: &str) {
    shopper::scan(app, code_url, "pay").await;
}

#[tokio::test]
async fn desktop_pays_by_qr_and_the_merchant_gets_verified_webhooks() {
    let app = spawn_app().await;
    let receiver = Receiver::registered(&app).await;
    let session = app.create_session(1999).await;
    let id = session["id"].as_str().unwrap();

    let action = shopper::pay(
        &app,
        id,
        &json!({"method": "wechat_pay", "environment": "desktop"}),
    )
    .await;
    assert_eq!(action["type"], "qr", "{action}");
    let code_url = action["code_url"].as_str().unwrap();
    assert!(
        code_url.starts_with("weixin://wxpay/bizpayurl?pr="),
        "{code_url}"
    );
    // Asking again reuses the same attempt rather than creating orders.
    let again = shopper::pay(
        &app,
        id,
        &json!({"method": "wechat_pay", "environment": "desktop"}),
    )
    .await;
    assert_eq!(again["code_url"], action["code_url"]);

    scan_and_pay(&app, code_url).await;
    let done = wait_complete(&app, id).await;
    assert!(done["completed_at"].is_i64());
    let payment_id = action["payment"].as_str().unwrap();
    let (_, payment) = app.api_get(&format!("/v1/payments/{payment_id}")).await;
    assert_eq!(payment["status"], "succeeded");
    assert_eq!(payment["channel"], "native");
    assert!(payment["provider_transaction_id"].is_string(), "{payment}");
    receiver.event("payment.succeeded", payment_id).await;
    receiver.event("checkout.session.completed", id).await;

    // The page learns it over the status API, with where to go next.
    let status = app.page_status(id).await;
    assert_eq!(status["status"], "complete");
    assert_eq!(status["success_url"], "https://shop.example.com/thanks");
    // Paying a paid session says so instead of charging again.
    let after = shopper::pay(
        &app,
        id,
        &json!({"method": "wechat_pay", "environment": "desktop"}),
    )
    .await;
    assert_eq!(after["type"], "already_paid");
}

#[tokio::test]
async fn a_phone_browser_pays_in_the_h5_cashier_and_returns_to_the_page() {
    let app = spawn_app().await;
    let session = app.create_session(2500).await;
    let id = session["id"].as_str().unwrap();
    let action = shopper::pay(
        &app,
        id,
        &json!({"method": "wechat_pay", "environment": "mobile"}),
    )
    .await;
    assert_eq!(action["type"], "redirect", "{action}");
    let cashier = Url::parse(action["url"].as_str().unwrap()).unwrap();
    let redirect_url = cashier
        .query_pairs()
        .find(|(k, _)| k == "redirect_url")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    assert_eq!(
        redirect_url,
        app.url(&format!("/pay/{id}?return=h5")).as_str()
    );
    let prepay_id = cashier
        .query_pairs()
        .find(|(k, _)| k == "prepay_id")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    // The shopper's browser opens the cashier from our page (WeChat checks the Referer) and pays.
    let page = app
        .client
        .get(cashier.clone())
        .header("referer", app.url(&format!("/pay/{id}")).as_str())
        .send()
        .await
        .unwrap();
    assert!(page.status().is_success());
    let res = app
        .client
        .post(app.url("/sandbox/wechat/h5/pay"))
        .form(&[
            ("prepay_id", prepay_id.as_str()),
            ("redirect_url", redirect_url.as_str()),
            ("action", "pay"),
        ])
        .send()
        .await
        .unwrap();
    let back = res
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        back.starts_with(&redirect_url),
        "returns to the page: {back}"
    );
    wait_complete(&app, id).await;
}

#[tokio::test]
async fn the_wechat_browser_signs_in_with_oauth_then_pays_with_jsapi() {
    let app = spawn_app().await;
    let session = app.create_session(888).await;
    let id = session["id"].as_str().unwrap();
    let action = shopper::pay(
        &app,
        id,
        &json!({"method": "wechat_pay", "environment": "wechat"}),
    )
    .await;
    assert_eq!(action["type"], "oauth", "{action}");
    let authorize = Url::parse(action["url"].as_str().unwrap()).unwrap();
    assert!(
        authorize.as_str().ends_with("#wechat_redirect"),
        "{authorize}"
    );
    let q: std::collections::HashMap<_, _> = authorize.query_pairs().into_owned().collect();
    assert_eq!(q["scope"], "snsapi_base");

    // The consent page: the shopper allows; WeChat returns to our callback with a code.
    let callback = shopper::allow_oauth(&app, authorize.as_str()).await;
    let res = app.client.get(&callback).send().await.unwrap();
    assert_eq!(
        res.headers()["location"].to_str().unwrap(),
        format!("/pay/{id}")
    );
    // The state is single use.
    let replay = app.client.get(&callback).send().await.unwrap();
    assert_eq!(
        replay.headers()["location"].to_str().unwrap(),
        format!("/pay/{id}?oauth=used")
    );

    let action = shopper::pay(
        &app,
        id,
        &json!({"method": "wechat_pay", "environment": "wechat"}),
    )
    .await;
    assert_eq!(action["type"], "jsapi", "{action}");
    let params = &action["params"];
    for name in [
        "appId",
        "timeStamp",
        "nonceStr",
        "package",
        "signType",
        "paySign",
    ] {
        assert!(params[name].is_string(), "{name} in {params}");
    }
    assert_eq!(params["signType"], "RSA");
    // The sandbox's WeixinJSBridge pay sheet checks paySign and pays.
    shopper::pay_sheet(&app, params).await;
    wait_complete(&app, id).await;
}

#[tokio::test]
async fn a_lost_notification_is_recovered_by_querying_wechat() {
    let app = spawn_app().await;
    // 4003: the sandbox never notifies; only a query reveals the payment.
    let session = app.create_session(4003).await;
    let id = session["id"].as_str().unwrap();
    let action = shopper::pay(
        &app,
        id,
        &json!({"method": "wechat_pay", "environment": "desktop"}),
    )
    .await;
    scan_and_pay(&app, action["code_url"].as_str().unwrap()).await;
    app.until_complete(id).await;
}

#[tokio::test]
async fn a_forged_notification_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let session = app.create_session(1234).await;
    let id = session["id"].as_str().unwrap();
    shopper::pay(
        &app,
        id,
        &json!({"method": "wechat_pay", "environment": "desktop"}),
    )
    .await;
    let forged = json!({"id": "x", "event_type": "TRANSACTION.SUCCESS", "resource": {"algorithm": "AEAD_AES_256_GCM", "ciphertext": "AAAA", "nonce": "0123456789ab", "associated_data": "transaction"}});
    let res = app
        .client
        .post(app.url("/notify/wechat"))
        .header("wechatpay-serial", "PUB_KEY_ID_0000")
        .header("wechatpay-timestamp", "1700000000")
        .header("wechatpay-nonce", "n")
        .header("wechatpay-signature", "c2lnbmF0dXJl")
        .json(&forged)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "FAIL");
    let (_, s) = app.api_get(&format!("/v1/checkout_sessions/{id}")).await;
    assert_eq!(s["status"], "open");
}

async fn refunds_go_to_wechat_never_exceed_the_payment_and_complete(db: Db) {
    let app = spawn_on(db).await;
    let receiver = Receiver::registered(&app).await;
    let session = app.create_session(1000).await;
    let id = session["id"].as_str().unwrap();
    let action = shopper::pay(
        &app,
        id,
        &json!({"method": "wechat_pay", "environment": "desktop"}),
    )
    .await;
    scan_and_pay(&app, action["code_url"].as_str().unwrap()).await;
    wait_complete(&app, id).await;
    let payment = action["payment"].as_str().unwrap();
    // The session leads to its payment, in the API and in the completion event.
    let (_, s) = app.api_get(&format!("/v1/checkout_sessions/{id}")).await;
    assert_eq!(
        (&s["payment"], &s["payment_status"], &s["amount_refunded"]),
        (&json!(payment), &json!("succeeded"), &json!(0)),
        "{s}"
    );
    let (_, completed) = app
        .api_get("/v1/events?type=checkout.session.completed")
        .await;
    let event = completed["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["data"]["object"]["id"] == id)
        .unwrap();
    assert_eq!(event["data"]["object"]["payment"], payment);
    assert_eq!(event["data"]["object"]["payment_status"], "succeeded");

    // A refund named by its checkout session refunds the session's payment.
    let (status, first) = app
        .api_post(
            "/v1/refunds",
            &json!({"checkout_session": id, "amount": 600}),
            Some("refund-1"),
        )
        .await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["payment"], payment);
    let (status, both) = app
        .api_post(
            "/v1/refunds",
            &json!({"checkout_session": id, "payment": payment}),
            None,
        )
        .await;
    assert_eq!(
        (status, &both["error"]["param"]),
        (422, &json!("checkout_session"))
    );
    let (status, err) = app
        .api_post(
            "/v1/refunds",
            &json!({"payment": payment, "amount": 401}),
            None,
        )
        .await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["error"]["param"], "amount");
    let (status, second) = app
        .api_post("/v1/refunds", &json!({"payment": payment}), None)
        .await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(second["amount"], 400, "the rest of the payment");
    for refund in [&first, &second] {
        let rid = refund["id"].as_str().unwrap();
        receiver.event("refund.succeeded", rid).await;
        let (_, r) = app.api_get(&format!("/v1/refunds/{rid}")).await;
        assert_eq!(r["status"], "succeeded");
    }
    let (_, s) = app.api_get(&format!("/v1/checkout_sessions/{id}")).await;
    assert_eq!(s["amount_refunded"], 1000, "{s}");

    // Lists: the session's attempts, and the payment's refunds a page at a time, newest first.
    let (status, attempts) = app
        .api_get(&format!("/v1/payments?checkout_session={id}"))
        .await;
    assert_eq!(status, 200, "{attempts}");
    assert_eq!(attempts["data"].as_array().unwrap().len(), 1, "{attempts}");
    assert_eq!(attempts["data"][0]["id"], payment);
    let (_, page) = app
        .api_get(&format!("/v1/refunds?payment={payment}&limit=1"))
        .await;
    assert_eq!(page["has_more"], true, "{page}");
    assert_eq!(page["data"][0]["id"], second["id"]);
    let (_, rest) = app
        .api_get(&format!(
            "/v1/refunds?payment={payment}&limit=1&starting_after={}",
            second["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(rest["has_more"], false, "{rest}");
    assert_eq!(rest["data"][0]["id"], first["id"]);
    let (status, bad) = app.api_get("/v1/payments?checkout_session=nope").await;
    assert_eq!(
        (status, &bad["error"]["param"]),
        (422, &json!("checkout_session"))
    );
    let (status, _) = app
        .api_post(
            "/v1/refunds",
            &json!({"payment": payment, "amount": 1}),
            None,
        )
        .await;
    assert_eq!(status, 422, "nothing left to refund");
}

#[tokio::test]
async fn a_mini_program_logs_in_and_pays_with_request_payment() {
    let app = spawn_app().await;
    let session = app.create_session(1600).await;
    let id = session["id"].as_str().unwrap();
    // In the web-view the page hands over to the mini program's own pay page.
    let action = shopper::pay(
        &app,
        id,
        &json!({"method": "wechat_pay", "environment": "wechat_mini_program"}),
    )
    .await;
    assert_eq!(action["type"], "mini_program", "{action}");
    assert!(action["path"].as_str().unwrap().contains(id));
    // That page calls wx.login (simulated by the sandbox) and sends the code to paybridge.
    let mp_appid = app
        .state
        .sandbox()
        .unwrap()
        .keys()
        .miniprogram_appid
        .clone();
    let code = shopper::wx_login(&app, "hana").await;
    let code = code.as_str();
    let res = app
        .client
        .post(app.url("/api/miniprogram/login"))
        .json(&json!({"cs": id, "code": code}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let action: Value = res.json().await.unwrap();
    assert_eq!(action["type"], "jsapi", "{action}");
    assert_eq!(
        action["params"]["appId"],
        mp_appid.as_str(),
        "signed for the mini program's appid"
    );
    // The code is single use.
    let again = app
        .client
        .post(app.url("/api/miniprogram/login"))
        .json(&json!({"cs": id, "code": code}))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 400);
    // wx.requestPayment (the sandbox's pay sheet checks paySign against the appid) pays.
    shopper::pay_sheet(&app, &action["params"]).await;
    wait_complete(&app, id).await;
    let (_, payment) = app
        .api_get(&format!(
            "/v1/payments/{}",
            action["payment"].as_str().unwrap()
        ))
        .await;
    assert_eq!(payment["channel"], "miniprogram");
}

async fn when_one_attempt_is_paid_the_sessions_other_attempts_are_closed(db: Db) {
    let app = spawn_on(db).await;
    let session = app.create_session(2100).await;
    let id = session["id"].as_str().unwrap();
    let qr = shopper::pay(
        &app,
        id,
        &json!({"method": "wechat_pay", "environment": "desktop"}),
    )
    .await;
    let h5 = shopper::pay(
        &app,
        id,
        &json!({"method": "wechat_pay", "environment": "mobile"}),
    )
    .await;
    assert_eq!(h5["type"], "redirect", "{h5}");
    shopper::scan(&app, qr["code_url"].as_str().unwrap(), "pay").await;
    let other = h5["payment"].as_str().unwrap();
    let closed = wait::until(
        "the other attempt to be closed",
        Duration::from_secs(20),
        || async {
            let (_, p) = app.api_get(&format!("/v1/payments/{other}")).await;
            (p["status"] == "canceled").then_some(p)
        },
    )
    .await;
    assert_eq!(
        closed["failure_reason"], "another attempt succeeded",
        "{closed}"
    );
    let (_, paid) = app
        .api_get(&format!("/v1/payments/{}", qr["payment"].as_str().unwrap()))
        .await;
    assert_eq!(paid["status"], "succeeded");
}

on_both_databases!(
    when_one_attempt_is_paid_the_sessions_other_attempts_are_closed,
    refunds_go_to_wechat_never_exceed_the_payment_and_complete
);

/// The OAuth state of a fresh WeChat sign-in for a new session: (session id, state).
async fn sign_in_state(app: &paybridge_tests::TestApp) -> (String, String) {
    let id = app.create_session(1400).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let action = shopper::pay(
        app,
        &id,
        &json!({"method": "wechat_pay", "environment": "wechat"}),
    )
    .await;
    let authorize = url::Url::parse(action["url"].as_str().unwrap()).unwrap();
    let state = authorize
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    (id, state)
}

#[tokio::test]
async fn every_sign_in_outcome_lands_on_the_checkout_page_never_on_raw_json() {
    let app = spawn_app().await;
    let callback = |query: String| {
        let app = &app;
        async move {
            let res = app.get(&format!("/oauth/wechat/callback?{query}")).await;
            let status = res.status().as_u16();
            let location = res
                .headers()
                .get("location")
                .map(|v| v.to_str().unwrap().to_owned());
            (status, location, res.text().await.unwrap())
        }
    };
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    // A code WeChat does not recognise: the exchange fails.
    let (id, state) = sign_in_state(&app).await;
    let (status, location, _) = callback(format!("code=made-up&state={}", enc(&state))).await;
    assert_eq!(
        (status, location),
        (303, Some(format!("/pay/{id}?oauth=failed")))
    );
    // The same state again: used.
    let (_, location, _) = callback(format!("code=made-up&state={}", enc(&state))).await;
    assert_eq!(location, Some(format!("/pay/{id}?oauth=used")));
    // Consent refused: no code.
    let (id, state) = sign_in_state(&app).await;
    let (_, location, _) = callback(format!("state={}", enc(&state))).await;
    assert_eq!(location, Some(format!("/pay/{id}?oauth=denied")));
    // A state we never issued names no checkout: a short page, not JSON.
    let (status, location, body) = callback("code=x&state=forged.123.abc.def".into()).await;
    assert_eq!((status, location), (400, None));
    assert!(
        body.contains("not valid") && body.starts_with("<!doctype html>"),
        "{body}"
    );
}
