//! What a session carries beyond an amount: line items (the amount computed from them, and the
//! goods details both providers' simulators receive in their own shapes), branding, a success
//! URL naming the session, and recovery after expiry.

use paybridge_tests::app::session_request;
use paybridge_tests::{TestApp, shopper, spawn_app, spawn_app_with};
use serde_json::{Value, json};
use sqlx::Row as _;

fn itemised(methods: &[&str]) -> Value {
    let mut request = session_request(0);
    request.as_object_mut().unwrap().remove("amount");
    request["payment_methods"] = json!(methods);
    request["line_items"] = json!([
        {"name": "Flat white", "quantity": 2, "unit_amount": 1800, "sku": "FW-12",
         "image_url": "https://cdn.example.com/flat-white.png"},
        {"name": "Almond croissant", "quantity": 1, "unit_amount": 1450},
    ]);
    request
}

async fn create(app: &TestApp, request: &Value) -> Value {
    let (status, body) = app.api_post("/v1/checkout_sessions", request, None).await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn goods_at_the_simulator(app: &TestApp, table: &str, out_trade_no: &str) -> Value {
    let row = sqlx::query(&format!(
        "SELECT goods FROM {table} WHERE out_trade_no = $1"
    ))
    .bind(out_trade_no)
    .fetch_one(app.state.store().pool())
    .await
    .unwrap();
    serde_json::from_str(&row.try_get::<String, _>("goods").unwrap()).unwrap()
}

async fn out_trade_no(app: &TestApp, payment: &str) -> String {
    let (_, p) = app.api_get(&format!("/v1/payments/{payment}")).await;
    p["out_trade_no"].as_str().expect("out_trade_no").to_owned()
}

#[tokio::test]
async fn line_items_set_the_amount_and_reach_both_providers_in_their_shapes() {
    let app = spawn_app().await;
    let session = create(&app, &itemised(&["wechat_pay", "alipay"])).await;
    assert_eq!(session["amount"], 2 * 1800 + 1450);
    assert_eq!(session["line_items"][0]["amount"], 3600);
    assert_eq!(session["line_items"][0]["sku"], "FW-12");
    let id = session["id"].as_str().unwrap();
    let view = app.page_view(id).await;
    assert_eq!(view["line_items"][1]["name"], "Almond croissant");
    assert_eq!(
        view["line_items"][0]["image_url"],
        "https://cdn.example.com/flat-white.png"
    );

    // WeChat Pay: detail.goods_detail with the SKU (or the line's position) as the goods id.
    let qr = shopper::pay_qr(&app, id).await;
    let no = out_trade_no(&app, qr["payment"].as_str().unwrap()).await;
    assert_eq!(
        goods_at_the_simulator(&app, "sandbox_orders", &no).await,
        json!([
            {"merchant_goods_id": "FW-12", "goods_name": "Flat white", "quantity": 2, "unit_price": 1800},
            {"merchant_goods_id": "2", "goods_name": "Almond croissant", "quantity": 1, "unit_price": 1450},
        ])
    );

    // Alipay: goods_detail with prices in yuan, as the cashier receives it.
    let action = shopper::pay(
        &app,
        id,
        &json!({"method": "alipay", "environment": "desktop"}),
    )
    .await;
    let url = action["url"].as_str().unwrap();
    // Opening the cashier creates the trade.
    let opened = app.client.get(url).send().await.unwrap();
    assert_eq!(opened.status(), 200);
    let no = out_trade_no(&app, action["payment"].as_str().unwrap()).await;
    assert_eq!(
        goods_at_the_simulator(&app, "sandbox_alipay_trades", &no).await,
        json!([
            {"goods_id": "FW-12", "goods_name": "Flat white", "quantity": 2, "price": "18.00"},
            {"goods_id": "2", "goods_name": "Almond croissant", "quantity": 1, "price": "14.50"},
        ])
    );
}

#[tokio::test]
async fn an_amount_must_agree_with_the_line_items_and_one_of_them_is_required() {
    let app = spawn_app().await;
    let mut request = itemised(&["wechat_pay"]);
    request["amount"] = json!(5051);
    let (status, body) = app.api_post("/v1/checkout_sessions", &request, None).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["param"], "line_items");
    request["amount"] = json!(5050);
    assert_eq!(create(&app, &request).await["amount"], 5050);

    let mut neither = session_request(1);
    neither.as_object_mut().unwrap().remove("amount");
    let (status, body) = app.api_post("/v1/checkout_sessions", &neither, None).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["param"], "amount");

    for (lines, param) in [
        (json!([]), "line_items"),
        (
            json!([{"name": "x", "quantity": 0, "unit_amount": 1}]),
            "line_items[0][quantity]",
        ),
        (
            json!([{"name": "x", "quantity": 1, "unit_amount": 1, "image_url": "http://cdn.example.com/x.png"}]),
            "line_items[0][image_url]",
        ),
    ] {
        let mut request = itemised(&["wechat_pay"]);
        request["line_items"] = lines;
        let (status, body) = app.api_post("/v1/checkout_sessions", &request, None).await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["error"]["param"], param, "{body}");
    }
}

#[tokio::test]
async fn a_sessions_brand_overrides_the_servers_and_a_light_accent_is_refused() {
    let app = spawn_app_with(&[
        "--brand-color",
        "#1a7f37",
        "--brand-support-phone",
        "400-820-8820",
    ])
    .await;
    let plain = create(&app, &session_request(100)).await;
    let view = app.page_view(plain["id"].as_str().unwrap()).await;
    assert_eq!(view["branding"]["accent_color"], "#1a7f37");
    assert_eq!(view["branding"]["support_phone"], "400-820-8820");

    let mut request = session_request(100);
    request["branding"] = json!({
        "display_name": "Lantern Café",
        "accent_color": "#0B57D0",
        "logo_url": "https://cdn.example.com/lantern.svg",
    });
    let branded = create(&app, &request).await;
    assert_eq!(branded["branding"]["accent_color"], "#0b57d0");
    let view = app.page_view(branded["id"].as_str().unwrap()).await;
    assert_eq!(view["merchant_name"], "Lantern Café");
    assert_eq!(view["branding"]["accent_color"], "#0b57d0");
    assert_eq!(view["branding"]["support_phone"], "400-820-8820");
    assert_eq!(
        view["branding"]["logo_url"],
        "https://cdn.example.com/lantern.svg"
    );

    // WeChat's own green under white text is 2.4:1, short of WCAG AA.
    request["branding"] = json!({"accent_color": "#07c160"});
    let (status, body) = app.api_post("/v1/checkout_sessions", &request, None).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["param"], "branding[accent_color]");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("4.5"),
        "{body}"
    );
}

#[tokio::test]
async fn a_light_configured_accent_or_a_bad_logo_stops_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let logo = dir.path().join("logo.gif");
    std::fs::write(&logo, b"GIF89a").unwrap();
    let cli = <paybridge_server::config::Cli as clap::Parser>::try_parse_from([
        "paybridge",
        "--brand-color",
        "#7ee787",
        "--brand-logo",
        logo.to_str().unwrap(),
    ])
    .unwrap();
    let problems = cli.settings.validate().unwrap_err().to_string();
    assert!(problems.contains("PAYBRIDGE_BRAND_COLOR"), "{problems}");
    assert!(problems.contains("PAYBRIDGE_BRAND_LOGO"), "{problems}");
}

#[tokio::test]
async fn a_logo_file_is_served_and_an_svg_one_cannot_run_script() {
    let dir = tempfile::tempdir().unwrap();
    let logo = dir.path().join("logo.svg");
    let svg = r#"<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8"/></svg>"#;
    std::fs::write(&logo, svg).unwrap();
    let app = spawn_app_with(&["--brand-logo", logo.to_str().unwrap()]).await;
    let session = create(&app, &session_request(100)).await;
    let view = app.page_view(session["id"].as_str().unwrap()).await;
    assert_eq!(view["branding"]["logo_url"], "/brand/logo");
    let res = app.get("/brand/logo").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/svg+xml");
    assert!(
        res.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("sandbox")
    );
    assert_eq!(res.text().await.unwrap(), svg);
}

#[tokio::test]
async fn the_success_url_gets_the_session_id() {
    let app = spawn_app().await;
    let mut request = session_request(300);
    request["success_url"] = json!("https://shop.example.com/thanks?session={CHECKOUT_SESSION_ID}");
    let session = create(&app, &request).await;
    let id = session["id"].as_str().unwrap();
    let qr = shopper::pay_qr(&app, id).await;
    shopper::scan(&app, qr["code_url"].as_str().unwrap(), "pay").await;
    app.until_complete(id).await;
    assert_eq!(
        app.page_status(id).await["success_url"],
        format!("https://shop.example.com/thanks?session={id}")
    );
    let again = shopper::pay_qr(&app, id).await;
    assert_eq!(again["type"], "already_paid");
    assert_eq!(
        again["success_url"],
        format!("https://shop.example.com/thanks?session={id}")
    );
}

#[tokio::test]
async fn recovery_opens_one_new_session_with_the_same_contents() {
    let app = spawn_app().await;
    let mut request = itemised(&["wechat_pay"]);
    request["after_expiration"] = json!({"recovery": {"enabled": true}});
    request["branding"] = json!({"accent_color": "#0b57d0"});
    let session = create(&app, &request).await;
    let id = session["id"].as_str().unwrap();
    assert_eq!(
        session["recovery_url"],
        Value::Null,
        "open: nothing to recover"
    );
    app.expire_session(id).await;
    let (_, expired) = app.api_get(&format!("/v1/checkout_sessions/{id}")).await;
    let recovery_url = expired["recovery_url"]
        .as_str()
        .expect("recovery_url")
        .to_owned();
    assert_eq!(
        recovery_url,
        app.url(&format!("/pay/{id}/recover")).to_string()
    );
    assert_eq!(
        app.page_view(id).await["recovery_url"],
        recovery_url.as_str()
    );
    assert_eq!(
        app.page_status(id).await["recovery_url"],
        recovery_url.as_str()
    );
    let (_, events) = app
        .api_get("/v1/events?type=checkout.session.expired")
        .await;
    assert_eq!(
        events["data"][0]["data"]["object"]["recovery_url"],
        recovery_url.as_str()
    );

    // However often it is opened, one new session.
    let mut opened = Vec::new();
    for _ in 0..3 {
        let res = app.client.get(&recovery_url).send().await.unwrap();
        assert_eq!(res.status(), 303);
        opened.push(res.headers()["location"].to_str().unwrap().to_owned());
    }
    assert!(opened.windows(2).all(|w| w[0] == w[1]), "{opened:?}");
    let new_id = opened[0].trim_start_matches("/pay/");
    assert_ne!(new_id, id);
    let (_, new) = app
        .api_get(&format!("/v1/checkout_sessions/{new_id}"))
        .await;
    assert_eq!(new["status"], "open");
    assert_eq!(new["amount"], session["amount"]);
    assert_eq!(new["line_items"], session["line_items"]);
    assert_eq!(new["branding"], session["branding"]);
    assert_eq!(new["success_url"], session["success_url"]);

    // Without recovery, the link leads to the session's own (expired) page.
    let plain = create(&app, &session_request(200)).await;
    let plain_id = plain["id"].as_str().unwrap();
    app.expire_session(plain_id).await;
    let (_, plain) = app
        .api_get(&format!("/v1/checkout_sessions/{plain_id}"))
        .await;
    assert_eq!(plain["recovery_url"], Value::Null);
    let res = app
        .client
        .get(app.url(&format!("/pay/{plain_id}/recover")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()["location"],
        format!("/pay/{plain_id}").as_str()
    );
}

#[tokio::test]
async fn an_intents_line_items_set_its_amount_and_reach_wechat_pay() {
    let app = spawn_app().await;
    let (status, intent) = app
        .api_post(
            "/v1/payment_intents",
            &json!({
                "currency": "cny",
                "description": "Beans",
                "line_items": [{"name": "Yirgacheffe 250 g", "quantity": 3, "unit_amount": 6800, "sku": "YRG-250"}],
            }),
            None,
        )
        .await;
    assert_eq!(status, 200, "{intent}");
    assert_eq!(intent["amount"], 20400);
    assert_eq!(intent["line_items"][0]["sku"], "YRG-250");
    let id = intent["id"].as_str().unwrap();
    let (status, confirmed) = app
        .api_post(
            &format!("/v1/payment_intents/{id}/confirm"),
            &json!({
                "payment_method_data": {"type": "wechat_pay"},
                "payment_method_options": {"wechat_pay": {"terminal_type": "QR"}},
            }),
            None,
        )
        .await;
    assert_eq!(status, 200, "{confirmed}");
    let no = out_trade_no(&app, confirmed["payment"].as_str().unwrap()).await;
    assert_eq!(
        goods_at_the_simulator(&app, "sandbox_orders", &no).await,
        json!([{"merchant_goods_id": "YRG-250", "goods_name": "Yirgacheffe 250 g", "quantity": 3, "unit_price": 6800}])
    );
}
