//! The sandbox demo store at `/`: its products, buying through the demo merchant (which calls the
//! real `/v1` API over HTTP), the webhooks it receives, and its absence in live mode.

use std::time::Duration;

use paybridge_server::demo::PRODUCTS;
use paybridge_tests::{TestApp, spawn_app, wait};
use serde_json::{Value, json};

const DEADLINE: Duration = Duration::from_secs(15);

fn origin(app: &TestApp) -> String {
    app.base.origin().ascii_serialization()
}

async fn store_page(app: &TestApp) -> String {
    let res = app.get("/").await;
    assert_eq!(res.status(), 200);
    res.text().await.unwrap()
}

/// Posts the buy form as the store page does (same origin) and returns the response.
async fn buy(app: &TestApp, form: &[(&str, &str)]) -> reqwest::Response {
    app.client
        .post(app.url("/demo/buy"))
        .header("origin", origin(app))
        .form(form)
        .send()
        .await
        .unwrap()
}

/// Buys `product` and returns the session id from the 303's `Location`.
async fn buy_session(app: &TestApp, product: &str) -> String {
    let res = buy(app, &[("product", product)]).await;
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let prefix = app.url("/pay/cs_").to_string();
    assert!(location.starts_with(&prefix), "{location}");
    location.rsplit('/').next().unwrap().to_owned()
}

#[tokio::test]
async fn the_demo_store_lists_its_products_with_prices_in_yuan() {
    let app = spawn_app().await;
    let res = app.get("/").await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let csp = res.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        !csp.contains("script-src") && csp.contains("default-src 'none'"),
        "{csp}"
    );
    let html = res.text().await.unwrap();
    assert!(html.contains("demo store") && html.contains("演示商店"));
    assert!(PRODUCTS.len() >= 3);
    for p in &PRODUCTS {
        assert!(html.contains(p.name_en), "{}", p.name_en);
        let price = format!("¥{}.{:02}", p.amount / 100, p.amount % 100);
        assert!(html.contains(&price), "{price}");
        assert!(html.contains(&format!("name=\"product\" value=\"{}\"", p.id)));
    }
    assert!(html.contains("action=\"/demo/buy\""));
    assert!(!html.contains("<script") && !html.contains("style="));
    let css = app.get("/demo/assets/demo.css").await;
    assert_eq!(css.status(), 200);
    assert!(
        css.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    assert!(css.text().await.unwrap().contains(".product"));
}

#[tokio::test]
async fn buying_redirects_to_the_hosted_page_with_the_server_side_price() {
    let app = spawn_app().await;
    let latte = PRODUCTS.iter().find(|p| p.id == "latte").unwrap();
    // A price in the form is ignored: the catalogue decides.
    let res = buy(
        &app,
        &[
            ("product", "latte"),
            ("amount", "1"),
            ("order", "demo_abcdefgh1234"),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let id = location.rsplit('/').next().unwrap().to_owned();
    assert_eq!(location, app.url(&format!("/pay/{id}")).to_string());
    assert!(id.starts_with("cs_"));

    let (status, session) = app.api_get(&format!("/v1/checkout_sessions/{id}")).await;
    assert_eq!(status, 200, "{session}");
    assert_eq!(session["amount"], latte.amount);
    // Bought as a line item, recoverable once expired.
    assert_eq!(session["line_items"][0]["sku"], latte.id);
    assert_eq!(session["line_items"][0]["unit_amount"], latte.amount);
    assert_eq!(session["after_expiration"]["recovery"]["enabled"], true);
    assert_eq!(session["currency"], "cny");
    assert_eq!(session["status"], "open");
    assert_eq!(session["merchant_reference"], "demo_abcdefgh1234");
    assert_eq!(
        session["success_url"],
        app.url("/demo/thanks?order=demo_abcdefgh1234").to_string()
    );
    assert_eq!(session["cancel_url"], app.base.to_string());

    // A double submit of the same order is one session (Idempotency-Key).
    let again = buy(
        &app,
        &[("product", "latte"), ("order", "demo_abcdefgh1234")],
    )
    .await;
    assert_eq!(again.headers()["location"].to_str().unwrap(), location);

    let thanks = app.get("/demo/thanks?order=demo_abcdefgh1234").await;
    assert_eq!(thanks.status(), 200);
    let html = thanks.text().await.unwrap();
    assert!(
        html.contains(&id) && html.contains("data-status=\"open\""),
        "{html}"
    );
    assert!(html.contains("¥28.00"));

    let unknown = app.get("/demo/thanks?order=%3Cscript%3Ex").await;
    assert_eq!(unknown.status(), 404);
    let html = unknown.text().await.unwrap();
    assert!(!html.contains("<script>") && html.contains("&lt;script&gt;"));

    let nothing = buy(&app, &[("product", "yacht")]).await;
    assert_eq!(nothing.status(), 400);
}

#[tokio::test]
async fn a_cross_site_post_to_buy_is_refused() {
    let app = spawn_app().await;
    let forged = app
        .client
        .post(app.url("/demo/buy"))
        .header("origin", "https://evil.example")
        .header("referer", app.url("/").to_string())
        .form(&[("product", "latte")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    let anonymous = app
        .client
        .post(app.url("/demo/buy"))
        .form(&[("product", "latte")])
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 403, "neither Origin nor Referer");
    let by_referer = app
        .client
        .post(app.url("/demo/buy"))
        .header("referer", app.url("/").to_string())
        .form(&[("product", "latte")])
        .send()
        .await
        .unwrap();
    assert_eq!(by_referer.status(), 303, "a same-origin Referer is enough");
    let (_, list) = app.api_get("/v1/checkout_sessions").await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1, "{list}");
}

#[tokio::test]
async fn the_store_shows_the_expired_webhook_as_verified() {
    let app = spawn_app().await;
    let html = store_page(&app).await;
    assert!(html.contains("No webhooks yet"));
    let id = buy_session(&app, "oolong").await;
    app.expire_session(&id).await;

    let row = wait::until(
        "the expired webhook on the store page",
        DEADLINE,
        || async {
            let html = store_page(&app).await;
            html.split("<li class=\"event\">")
                .skip(1)
                .find(|li| li.contains("checkout.session.expired") && li.contains(&id))
                .map(str::to_owned)
        },
    )
    .await;
    assert!(row.contains("signature verified"), "{row}");

    // One endpoint for the demo merchant, however many pages were served.
    let (_, endpoints) = app.api_get("/v1/webhook_endpoints").await;
    let demo_url = app.url("/demo/webhooks").to_string();
    let mine: Vec<&Value> = endpoints["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["url"] == demo_url.as_str())
        .collect();
    assert_eq!(mine.len(), 1, "{endpoints}");
}

#[tokio::test]
async fn an_endpoint_left_by_an_earlier_run_is_replaced_not_duplicated() {
    let app = spawn_app().await;
    let demo_url = app.url("/demo/webhooks").to_string();
    let (status, old) = app
        .api_post("/v1/webhook_endpoints", &json!({"url": demo_url}), None)
        .await;
    assert_eq!(status, 200, "{old}");
    store_page(&app).await;
    store_page(&app).await;
    let (_, endpoints) = app.api_get("/v1/webhook_endpoints").await;
    let mine: Vec<&Value> = endpoints["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["url"] == demo_url.as_str())
        .collect();
    assert_eq!(mine.len(), 1, "{endpoints}");
    assert_ne!(mine[0]["id"], old["id"]);
}

#[tokio::test]
async fn a_webhook_with_a_bad_signature_is_refused() {
    let app = spawn_app().await;
    store_page(&app).await; // registers the endpoint, so a secret exists
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let body = json!({
        "id": "evt_forged",
        "object": "event",
        "type": "checkout.session.completed",
        "created": now,
        "data": {"object": {"id": "cs_forged"}},
    })
    .to_string();
    let send = |signature: Option<String>| {
        let mut req = app
            .client
            .post(app.url("/demo/webhooks"))
            .header("content-type", "application/json")
            .body(body.clone());
        if let Some(s) = signature {
            req = req.header("paybridge-signature", s);
        }
        req.send()
    };
    let wrong_secret = paybridge_server::jobs::signature::header(
        "whsec_guess",
        i64::try_from(now).unwrap(),
        body.as_bytes(),
    );
    assert_eq!(send(Some(wrong_secret)).await.unwrap().status(), 400);
    assert_eq!(
        send(Some(format!("t={now},v1={}", "0".repeat(64))))
            .await
            .unwrap()
            .status(),
        400
    );
    assert_eq!(
        send(Some("garbage".to_owned())).await.unwrap().status(),
        400
    );
    assert_eq!(send(None).await.unwrap().status(), 400);
    assert!(!store_page(&app).await.contains("cs_forged"));
}

#[tokio::test]
async fn live_mode_has_no_demo_store_and_serves_the_page_at_root() {
    let app = paybridge_tests::live::spawn_live().await;

    let root = app.get("/").await;
    let root_status = root.status();
    let root_body = root.text().await.unwrap();
    let page = app.get("/pay/cs_00000000000000000000000000000000").await;
    assert_eq!(root_status, page.status());
    assert_eq!(
        root_body,
        page.text().await.unwrap(),
        "`/` is the checkout page's document"
    );
    assert!(!root_body.contains("demo/buy"));

    for path in [
        "/demo/thanks?order=demo_abcdefgh1234",
        "/demo/assets/demo.css",
    ] {
        assert_eq!(app.get(path).await.status(), 404, "{path}");
    }
    for path in ["/demo/buy", "/demo/webhooks"] {
        let res = app
            .client
            .post(format!("{}{path}", app.base))
            .header("origin", "https://pay.example.com")
            .form(&[("product", "latte")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "{path}");
    }
    app.stop().await;
}
