//! The direct API: payment intents created and confirmed by the merchant, paid in the sandbox
//! through every terminal type, on both databases; refusals, reconfirmation, cancellation,
//! double payment and duplicate notifications; the client-secret confirm.

use std::time::Duration;

use paybridge_tests::receiver::Receiver;
use paybridge_tests::{Db, TestApp, on_both_databases, shopper, spawn_on, wait};
use serde_json::{Value, json};

fn intent_request(amount: i64, methods: &[&str], app: &TestApp) -> Value {
    json!({
        "amount": amount,
        "currency": "cny",
        "description": "Direct API order",
        "merchant_reference": format!("order-{amount}"),
        "metadata": {"table": "7"},
        "payment_method_types": methods,
        // The sandbox's cashiers return only to this server's own origin.
        "return_url": app.url("/thanks").to_string(),
    })
}

async fn create(app: &TestApp, amount: i64, methods: &[&str]) -> Value {
    let (status, intent) = app
        .api_post(
            "/v1/payment_intents",
            &intent_request(amount, methods, app),
            None,
        )
        .await;
    assert_eq!(status, 200, "{intent}");
    assert_eq!(intent["object"], "payment_intent");
    assert_eq!(intent["status"], "requires_payment_method");
    assert!(intent["next_action"].is_null());
    intent
}

async fn confirm(app: &TestApp, id: &str, method: &str, options: Value) -> (u16, Value) {
    app.api_post(
        &format!("/v1/payment_intents/{id}/confirm"),
        &json!({
            "payment_method_data": {"type": method},
            "payment_method_options": {method: options},
        }),
        None,
    )
    .await
}

async fn confirmed(app: &TestApp, id: &str, method: &str, options: Value) -> Value {
    let (status, intent) = confirm(app, id, method, options).await;
    assert_eq!(status, 200, "{intent}");
    assert_eq!(intent["status"], "requires_action", "{intent}");
    intent
}

/// Waits until the intent `id` has `status`.
async fn until_status(app: &TestApp, id: &str, status: &str) -> Value {
    wait::until(
        &format!("payment intent {id} to be {status}"),
        Duration::from_secs(30),
        || async {
            let (_, intent) = app.api_get(&format!("/v1/payment_intents/{id}")).await;
            (intent["status"] == status).then_some(intent)
        },
    )
    .await
}

/// An openid of the configured mini program, as its backend gets one from `wx.login`'s code.
async fn mini_program_openid(app: &TestApp) -> String {
    let code = shopper::wx_login(app, "mei").await;
    let mp = app
        .state
        .services()
        .wechat()
        .unwrap()
        .miniprogram
        .clone()
        .unwrap();
    mp.jscode2session(&code).await.unwrap().openid
}

async fn every_terminal_type_pays_through_to_succeeded(db: Db) {
    let app = spawn_on(db).await;
    let receiver = Receiver::registered(&app).await;
    let mut paid = Vec::new();

    // WeChat WEB: a QR code, as data and as a PNG.
    let intent = create(&app, 1101, &["wechat_pay"]).await;
    let id = intent["id"].as_str().unwrap();
    assert!(id.starts_with("pi_"));
    assert!(
        intent["client_secret"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{id}_secret_"))
    );
    let done = confirmed(&app, id, "wechat_pay", json!({"terminal_type": "WEB"})).await;
    let action = &done["next_action"];
    assert_eq!(action["type"], "wechat_pay_display_qr_code", "{done}");
    let qr = &action["wechat_pay_display_qr_code"];
    assert!(
        qr["data"].as_str().unwrap().starts_with("weixin://"),
        "{qr}"
    );
    assert!(
        qr["image_data_url"]
            .as_str()
            .unwrap()
            .starts_with("data:image/png;base64,")
    );
    assert!(qr["expires_at"].as_i64().unwrap() > 0);
    shopper::scan(&app, qr["data"].as_str().unwrap(), "pay").await;
    paid.push(id.to_owned());

    // WeChat WAP: H5, back to the merchant's return_url; the shopper's IP is required.
    let intent = create(&app, 1102, &["wechat_pay"]).await;
    let id = intent["id"].as_str().unwrap();
    let (status, refused) = confirm(&app, id, "wechat_pay", json!({"terminal_type": "WAP"})).await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(
        refused["error"]["param"],
        "payment_method_options.wechat_pay.client_ip"
    );
    let done = confirmed(
        &app,
        id,
        "wechat_pay",
        json!({"terminal_type": "WAP", "client_ip": "203.0.113.9"}),
    )
    .await;
    assert_eq!(done["next_action"]["type"], "wechat_pay_redirect_to_web");
    let url = done["next_action"]["wechat_pay_redirect_to_web"]["url"]
        .as_str()
        .unwrap();
    assert!(
        url.contains("redirect_url=") && url.contains("thanks"),
        "{url}"
    );
    shopper::pay_h5(&app, url).await;
    paid.push(id.to_owned());

    // Official account: JSAPI with the shopper's openid, given by the merchant.
    let openid = shopper::signed_in_openid(&app, 900).await;
    let intent = create(&app, 1103, &["wechat_pay"]).await;
    let id = intent["id"].as_str().unwrap();
    let done = confirmed(
        &app,
        id,
        "wechat_pay",
        json!({"terminal_type": "official_account", "openid": openid}),
    )
    .await;
    assert_eq!(
        done["next_action"]["type"],
        "wechat_pay_official_account_params"
    );
    let params = &done["next_action"]["wechat_pay_official_account_params"];
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
    shopper::pay_sheet(&app, params).await;
    paid.push(id.to_owned());

    // Mini program: JSAPI for the mini program's appid with its openid.
    let openid = mini_program_openid(&app).await;
    let intent = create(&app, 1104, &["wechat_pay"]).await;
    let id = intent["id"].as_str().unwrap();
    let done = confirmed(
        &app,
        id,
        "wechat_pay",
        json!({"terminal_type": "mini_program", "openid": openid}),
    )
    .await;
    let params = &done["next_action"]["wechat_pay_mini_program_params"];
    assert_eq!(
        params["appId"].as_str(),
        Some(
            app.state
                .sandbox()
                .unwrap()
                .keys()
                .miniprogram_appid
                .as_str()
        )
    );
    shopper::pay_sheet(&app, params).await;
    paid.push(id.to_owned());

    // Alipay: the desktop cashier, the phone cashier, and a QR code the merchant draws.
    for (amount, terminal, options) in [
        (1105, "WEB", json!({"terminal_type": "WEB"})),
        (
            1106,
            "WAP",
            json!({"terminal_type": "WAP", "client_ip": "203.0.113.10"}),
        ),
        (1107, "QR", json!({"terminal_type": "QR"})),
    ] {
        let intent = create(&app, amount, &["alipay", "wechat_pay"]).await;
        let id = intent["id"].as_str().unwrap();
        let done = confirmed(&app, id, "alipay", options).await;
        let action = &done["next_action"];
        let url = if terminal == "QR" {
            assert_eq!(action["type"], "alipay_display_qr_code", "{done}");
            assert!(
                action["alipay_display_qr_code"]["image_data_url"]
                    .as_str()
                    .unwrap()
                    .starts_with("data:image/png;base64,")
            );
            action["alipay_display_qr_code"]["data"].as_str().unwrap()
        } else {
            assert_eq!(action["type"], "alipay_handle_redirect", "{done}");
            assert_eq!(action["alipay_handle_redirect"]["type"], "redirect_to_url");
            action["alipay_handle_redirect"]["url"].as_str().unwrap()
        };
        let answer = shopper::alipay_cashier(&app, url, "pay").await;
        assert!(
            answer.status().is_success() || answer.status().is_redirection(),
            "{terminal}: {}",
            answer.status()
        );
        if terminal != "QR" {
            let back = answer.headers()["location"].to_str().unwrap();
            assert!(
                back.contains("/thanks"),
                "{terminal} returns to return_url: {back}"
            );
        }
        paid.push(id.to_owned());
    }

    // Alipay APP: an order string for the Alipay SDK in the merchant's app, which the sandbox's
    // Alipay opens as the app would.
    let intent = create(&app, 1108, &["alipay"]).await;
    let id = intent["id"].as_str().unwrap();
    let done = confirmed(&app, id, "alipay", json!({"terminal_type": "APP"})).await;
    assert_eq!(done["next_action"]["type"], "alipay_app_pay", "{done}");
    let order_string = done["next_action"]["alipay_app_pay"]["order_string"]
        .as_str()
        .unwrap();
    let fields: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(order_string.as_bytes())
            .into_owned()
            .collect();
    assert_eq!(fields["method"], "alipay.trade.app.pay");
    assert!(fields["biz_content"].contains("QUICK_MSECURITY_PAY"));
    assert!(fields.contains_key("sign"));
    let opened = app.url(&format!("/sandbox/alipay/gateway.do?{order_string}"));
    let answer = shopper::alipay_cashier(&app, opened.as_str(), "pay").await;
    assert!(answer.status().is_success(), "{}", answer.status());
    paid.push(id.to_owned());

    for id in &paid {
        let intent = until_status(&app, id, "succeeded").await;
        assert!(intent["payment"].as_str().unwrap().starts_with("pay_"));
        assert!(intent["next_action"].is_null());
        assert!(intent["checkout_session"].is_null());
        receiver.event("payment_intent.succeeded", id).await;
        assert_eq!(receiver.count("payment_intent.succeeded", id), 1);
        // A succeeded intent cannot be confirmed again.
        let (status, body) = confirm(&app, id, "wechat_pay", json!({"terminal_type": "WEB"})).await;
        assert_eq!(status, 409, "{body}");
        assert_eq!(body["error"]["code"], "payment_intent_unexpected_state");
    }
    // Refunds name the intent.
    let (status, refund) = app
        .api_post(
            "/v1/refunds",
            &json!({"payment_intent": paid[0], "amount": 100}),
            None,
        )
        .await;
    assert_eq!(status, 200, "{refund}");
    let refunded = wait::until("the refund to show", Duration::from_secs(30), || async {
        let (_, intent) = app
            .api_get(&format!("/v1/payment_intents/{}", paid[0]))
            .await;
        (intent["amount_refunded"] == 100).then_some(intent)
    })
    .await;
    assert_eq!(refunded["status"], "succeeded");
    app.stop().await;
}

async fn a_refusal_is_the_last_payment_error_and_a_reconfirm_replaces_the_attempt(db: Db) {
    let app = spawn_on(db).await;
    let receiver = Receiver::registered(&app).await;
    // 4007: WeChat refuses the order (APPID_MCHID_NOT_MATCH).
    let intent = create(&app, 4007, &["wechat_pay"]).await;
    let id = intent["id"].as_str().unwrap();
    let (status, refused) = confirm(&app, id, "wechat_pay", json!({"terminal_type": "WEB"})).await;
    assert_eq!(status, 200, "{refused}");
    assert_eq!(refused["status"], "requires_payment_method");
    let error = &refused["last_payment_error"];
    assert_eq!(error["code"], "appid_mchid_mismatch", "{refused}");
    assert_eq!(error["decline_code"], "APPID_MCHID_NOT_MATCH");
    assert!(error["payment"].as_str().unwrap().starts_with("pay_"));
    receiver.event("payment_intent.payment_failed", id).await;

    // Confirmed as a QR code, then again for a phone browser: the QR's attempt is closed at
    // WeChat, so only the latest can be paid.
    let intent = create(&app, 1201, &["wechat_pay"]).await;
    let id = intent["id"].as_str().unwrap();
    let qr = confirmed(&app, id, "wechat_pay", json!({"terminal_type": "WEB"})).await;
    receiver.event("payment_intent.requires_action", id).await;
    let first = qr["payment"].as_str().unwrap().to_owned();
    let h5 = confirmed(
        &app,
        id,
        "wechat_pay",
        json!({"terminal_type": "WAP", "client_ip": "198.51.100.7"}),
    )
    .await;
    assert_ne!(h5["payment"].as_str().unwrap(), first);
    let (_, old) = app.api_get(&format!("/v1/payments/{first}")).await;
    assert_eq!(old["status"], "canceled", "{old}");
    let code_url = qr["next_action"]["wechat_pay_display_qr_code"]["data"]
        .as_str()
        .unwrap();
    let scanned = shopper::scan(&app, code_url, "pay").await;
    assert!(
        !scanned.contains("支付成功"),
        "a closed order cannot be paid: {scanned}"
    );
    // Confirming the same way again reuses the live attempt.
    let again = confirmed(
        &app,
        id,
        "wechat_pay",
        json!({"terminal_type": "WAP", "client_ip": "198.51.100.7"}),
    )
    .await;
    assert_eq!(again["payment"], h5["payment"]);
    shopper::pay_h5(
        &app,
        h5["next_action"]["wechat_pay_redirect_to_web"]["url"]
            .as_str()
            .unwrap(),
    )
    .await;
    let done = until_status(&app, id, "succeeded").await;
    assert_eq!(done["payment"], h5["payment"]);
    app.stop().await;
}

async fn cancel_closes_the_attempt_at_the_provider(db: Db) {
    let app = spawn_on(db).await;
    let receiver = Receiver::registered(&app).await;
    let intent = create(&app, 1301, &["wechat_pay"]).await;
    let id = intent["id"].as_str().unwrap();
    let qr = confirmed(&app, id, "wechat_pay", json!({"terminal_type": "WEB"})).await;
    let (status, canceled) = app
        .api_post(
            &format!("/v1/payment_intents/{id}/cancel"),
            &json!({"cancellation_reason": "abandoned"}),
            None,
        )
        .await;
    assert_eq!(status, 200, "{canceled}");
    assert_eq!(canceled["status"], "canceled");
    assert_eq!(canceled["cancellation_reason"], "abandoned");
    let payment = qr["payment"].as_str().unwrap();
    let (_, attempt) = app.api_get(&format!("/v1/payments/{payment}")).await;
    assert_eq!(attempt["status"], "canceled", "{attempt}");
    let scanned = shopper::scan(
        &app,
        qr["next_action"]["wechat_pay_display_qr_code"]["data"]
            .as_str()
            .unwrap(),
        "pay",
    )
    .await;
    assert!(!scanned.contains("支付成功"), "{scanned}");
    receiver.event("payment_intent.canceled", id).await;
    let (status, body) = confirm(&app, id, "wechat_pay", json!({"terminal_type": "WEB"})).await;
    assert_eq!(status, 409, "{body}");
    app.stop().await;
}

async fn a_double_payment_across_two_confirms_is_refunded(db: Db) {
    let app = spawn_on(db).await;
    // 4003: no notifications, so both attempts are paid before paybridge hears of either.
    let intent = create(&app, 4003, &["wechat_pay"]).await;
    let id = intent["id"].as_str().unwrap();
    let qr = confirmed(&app, id, "wechat_pay", json!({"terminal_type": "WEB"})).await;
    shopper::scan(
        &app,
        qr["next_action"]["wechat_pay_display_qr_code"]["data"]
            .as_str()
            .unwrap(),
        "pay",
    )
    .await;
    // The paid QR order refuses to close; the new attempt is made all the same.
    let h5 = confirmed(
        &app,
        id,
        "wechat_pay",
        json!({"terminal_type": "WAP", "client_ip": "198.51.100.8"}),
    )
    .await;
    shopper::pay_h5(
        &app,
        h5["next_action"]["wechat_pay_redirect_to_web"]["url"]
            .as_str()
            .unwrap(),
    )
    .await;
    let refunded = wait::until(
        "the second payment to be refunded",
        Duration::from_secs(40),
        || async {
            let (_, list) = app.api_get("/v1/events?type=refund.succeeded").await;
            list["data"].as_array()?.first().cloned()
        },
    )
    .await;
    assert_eq!(refunded["data"]["object"]["reason"], "duplicate_payment");
    let done = until_status(&app, id, "succeeded").await;
    assert_eq!(
        done["amount_refunded"], 0,
        "the refund is of the other payment"
    );
    assert_eq!(app.events_about("payment_intent.succeeded", id).await, 1);
    app.stop().await;
}

on_both_databases!(
    every_terminal_type_pays_through_to_succeeded,
    a_refusal_is_the_last_payment_error_and_a_reconfirm_replaces_the_attempt,
    cancel_closes_the_attempt_at_the_provider,
    a_double_payment_across_two_confirms_is_refunded,
);

#[tokio::test]
async fn duplicate_notifications_complete_an_intent_once() {
    let app = paybridge_tests::spawn_app().await;
    let intent = create(&app, 1401, &["wechat_pay"]).await;
    let id = intent["id"].as_str().unwrap();
    let qr = confirmed(&app, id, "wechat_pay", json!({"terminal_type": "WEB"})).await;
    let payment = qr["payment"].as_str().unwrap();
    let (_, attempt) = app.api_get(&format!("/v1/payments/{payment}")).await;
    let out_trade_no = attempt["out_trade_no"].as_str().unwrap();
    let appid = app.state.sandbox().unwrap().keys().appid.clone();
    let (headers, body) = paybridge_tests::notify::transaction_success(
        &app,
        out_trade_no,
        &appid,
        1401,
        paybridge_tests::notify::unix_now(),
    );
    let sends = (0..4).map(|_| app.post_wechat_notification(&headers, body.clone()));
    for status in futures_util::future::join_all(sends).await {
        assert!((200..300).contains(&status), "{status}");
    }
    until_status(&app, id, "succeeded").await;
    assert_eq!(app.events_about("payment_intent.succeeded", id).await, 1);
    assert_eq!(app.events_about("payment.succeeded", payment).await, 1);
}

#[tokio::test]
async fn a_front_end_confirms_with_the_client_secret_only() {
    let app = paybridge_tests::spawn_app().await;
    let intent = create(&app, 1501, &["wechat_pay"]).await;
    let id = intent["id"].as_str().unwrap();
    let secret = intent["client_secret"].as_str().unwrap();
    let post = |secret: String| {
        let app = &app;
        async move {
            let res = app
                .client
                .post(app.url(&format!("/api/payment_intents/{id}/confirm")))
                .json(&json!({
                    "client_secret": secret,
                    "payment_method_data": {"type": "wechat_pay"},
                    "payment_method_options": {"wechat_pay": {"terminal_type": "WEB"}},
                }))
                .send()
                .await
                .unwrap();
            (res.status().as_u16(), res.json::<Value>().await.unwrap())
        }
    };
    // Another intent's secret, a forged one, and none of this intent's.
    let other = create(&app, 1502, &["wechat_pay"]).await;
    for wrong in [
        other["client_secret"].as_str().unwrap().to_owned(),
        format!("{id}_secret_00000000000000000000000000000000"),
    ] {
        let (status, body) = post(wrong).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["error"]["code"], "client_secret_invalid");
    }
    let (status, body) = post(secret.to_owned()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["next_action"]["type"], "wechat_pay_display_qr_code");
    assert_eq!(body["amount"], 1501);
    assert!(body["metadata"].as_object().unwrap().is_empty(), "{body}");
    assert!(body["merchant_reference"].is_null());
    assert!(body["client_secret"].is_null());
}

#[tokio::test]
async fn hosted_sessions_carry_their_intent_and_the_two_stay_apart() {
    let app = paybridge_tests::spawn_app().await;
    let session = app.create_session(1601).await;
    let cs = session["id"].as_str().unwrap();
    let pi = session["payment_intent"].as_str().unwrap();
    assert_eq!(pi, format!("pi_{}", &cs[3..]));
    let (status, intent) = app.api_get(&format!("/v1/payment_intents/{pi}")).await;
    assert_eq!(status, 200, "{intent}");
    assert_eq!(intent["checkout_session"], cs);
    assert_eq!(intent["status"], "requires_payment_method");
    // Paid on its page, it is read as a succeeded intent.
    let qr = shopper::pay_qr(&app, cs).await;
    let (_, intent) = app.api_get(&format!("/v1/payment_intents/{pi}")).await;
    assert_eq!(intent["status"], "requires_action");
    assert_eq!(intent["next_action"]["type"], "wechat_pay_display_qr_code");
    shopper::scan(&app, qr["code_url"].as_str().unwrap(), "pay").await;
    app.until_complete(cs).await;
    let (_, intent) = app.api_get(&format!("/v1/payment_intents/{pi}")).await;
    assert_eq!(intent["status"], "succeeded");
    assert_eq!(intent["payment"], qr["payment"]);
    // It is the page's to pay, not the direct API's.
    let other = app.create_session(1602).await;
    let other_pi = other["payment_intent"].as_str().unwrap();
    let (status, body) = confirm(
        &app,
        other_pi,
        "wechat_pay",
        json!({"terminal_type": "WEB"}),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "payment_intent_managed_by_checkout");

    // A direct intent has no hosted page and is no checkout session.
    let direct = create(&app, 1603, &["wechat_pay"]).await;
    let cs_of_direct = format!("cs_{}", &direct["id"].as_str().unwrap()[3..]);
    let (status, _) = app
        .api_get(&format!("/v1/checkout_sessions/{cs_of_direct}"))
        .await;
    assert_eq!(status, 404);
    assert_eq!(
        app.get(&format!("/api/checkout/{cs_of_direct}"))
            .await
            .status(),
        404
    );
    let (_, sessions) = app.api_get("/v1/checkout_sessions?limit=100").await;
    assert!(
        sessions["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["id"] != cs_of_direct.as_str())
    );
    let (_, intents) = app.api_get("/v1/payment_intents?limit=2").await;
    assert_eq!(intents["data"][0]["id"], direct["id"]);
    assert_eq!(intents["has_more"], true);
}

#[tokio::test]
async fn confirms_are_checked_before_anything_is_made() {
    let app = paybridge_tests::spawn_app().await;
    let intent = create(&app, 1701, &["wechat_pay"]).await;
    let id = intent["id"].as_str().unwrap();
    let cases = [
        (
            json!({"terminal_type": "official_account"}),
            "payment_method_options.wechat_pay.openid",
        ),
        (
            json!({"terminal_type": "official_account", "openid": "o x"}),
            "payment_method_options.wechat_pay.openid",
        ),
        (
            json!({"terminal_type": "POS"}),
            "payment_method_options.wechat_pay.terminal_type",
        ),
        (
            json!({"terminal_type": "WEB", "client_ip": "not-an-ip"}),
            "payment_method_options.wechat_pay.client_ip",
        ),
        (
            json!({"terminal_type": "WEB", "openid": "o123"}),
            "payment_method_options.wechat_pay.openid",
        ),
    ];
    for (options, param) in cases {
        let (status, body) = confirm(&app, id, "wechat_pay", options.clone()).await;
        assert_eq!(status, 422, "{options}: {body}");
        assert_eq!(body["error"]["param"], param, "{options}");
    }
    let (status, body) = confirm(&app, id, "alipay", json!({"terminal_type": "WEB"})).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "payment_method_not_accepted");
    let (status, _) = confirm(
        &app,
        "pi_0123",
        "wechat_pay",
        json!({"terminal_type": "WEB"}),
    )
    .await;
    assert_eq!(status, 404);
    let (_, payments) = app.api_get("/v1/payments?limit=100").await;
    assert!(
        payments["data"].as_array().unwrap().is_empty(),
        "{payments}"
    );
    // Create with confirm: one call, and an impossible confirm creates nothing.
    let mut req = intent_request(1702, &["wechat_pay"], &app);
    req["confirm"] = json!(true);
    let (status, body) = app.api_post("/v1/payment_intents", &req, None).await;
    assert_eq!(status, 422, "{body}");
    // Confirmed at creation, the intent takes the confirmed method.
    req.as_object_mut().unwrap().remove("payment_method_types");
    req["payment_method_data"] = json!({"type": "wechat_pay"});
    req["payment_method_options"] = json!({"wechat_pay": {"terminal_type": "mini_program"}});
    let (status, _) = app.api_post("/v1/payment_intents", &req, None).await;
    assert_eq!(status, 422);
    req["payment_method_options"] = json!({"wechat_pay": {"terminal_type": "WEB"}});
    let (status, done) = app
        .api_post("/v1/payment_intents", &req, Some("order-1702"))
        .await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["status"], "requires_action");
    let (_, replay) = app
        .api_post("/v1/payment_intents", &req, Some("order-1702"))
        .await;
    assert_eq!(
        replay["id"], done["id"],
        "the Idempotency-Key replays the answer"
    );
    let (_, intents) = app.api_get("/v1/payment_intents?limit=100").await;
    assert_eq!(intents["data"].as_array().unwrap().len(), 2);
}

/// The sandbox's devices page, posted as its own form would be.
async fn devices_form(app: &TestApp, fields: &[(&str, &str)]) -> String {
    let origin = app.url("/").to_string();
    let res = app
        .client
        .post(app.url("/sandbox/devices/intent"))
        .header("origin", origin.trim_end_matches('/'))
        .form(fields)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.text().await.unwrap()
}

fn unescape(html: &str) -> String {
    html.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[tokio::test]
async fn the_sandbox_devices_page_drives_an_intent_as_a_front_end() {
    let app = paybridge_tests::spawn_app().await;
    let intent = create(&app, 1801, &["wechat_pay", "alipay"]).await;
    let id = intent["id"].as_str().unwrap();
    let secret = intent["client_secret"].as_str().unwrap();
    let qr = devices_form(
        &app,
        &[
            ("intent", id),
            ("client_secret", secret),
            ("terminal", "wechat_pay:WEB"),
        ],
    )
    .await;
    assert!(
        qr.contains("id=\"next-action\">wechat_pay_display_qr_code"),
        "{qr}"
    );
    assert!(qr.contains("src=\"data:image/png;base64,"), "{qr}");
    // Another terminal type: the JSAPI parameters, paid on the sandbox's pay sheet.
    let jsapi = devices_form(
        &app,
        &[
            ("intent", id),
            ("client_secret", secret),
            ("terminal", "wechat_pay:official_account"),
        ],
    )
    .await;
    assert!(
        jsapi.contains("id=\"next-action\">wechat_pay_official_account_params"),
        "{jsapi}"
    );
    let params = unescape(
        jsapi
            .split("name=\"params\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap(),
    );
    let paid = devices_form(
        &app,
        &[
            ("intent", id),
            ("client_secret", secret),
            ("params", &params),
        ],
    )
    .await;
    assert!(paid.contains("data-result=\"ok\""), "{paid}");
    let done = until_status(&app, id, "succeeded").await;
    assert_eq!(
        done["payment_method_types"],
        json!(["wechat_pay", "alipay"])
    );
    // A wrong secret is refused by the server the page calls.
    let refused = devices_form(
        &app,
        &[
            ("intent", id),
            ("client_secret", "pi_x_secret_y"),
            ("terminal", "wechat_pay:WEB"),
        ],
    )
    .await;
    assert!(refused.contains("id=\"error\""), "{refused}");
}
