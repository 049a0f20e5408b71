//! Payment links: a reusable URL each visit of which opens a new session from the link's
//! template; closed once deactivated or paid `max_uses` times, with a friendly page; its QR
//! code downloadable for printing.

use paybridge_tests::{TestApp, shopper, spawn_app};
use serde_json::{Value, json};

fn link_request() -> Value {
    json!({
        "currency": "cny",
        "description": "Table 7",
        "line_items": [{"name": "Pour-over", "quantity": 1, "unit_amount": 2800}],
        "branding": {"display_name": "Lantern Café", "accent_color": "#0b57d0"},
        "payment_methods": ["wechat_pay", "alipay"],
        "success_url": "https://cafe.example.com/thanks/{CHECKOUT_SESSION_ID}",
        "cancel_url": "https://cafe.example.com/menu",
        "metadata": {"table": "7"},
        "max_uses": 1,
    })
}

/// Visits the link; returns the status and the `Location` (or the page's text).
async fn visit(app: &TestApp, url: &str) -> (u16, String) {
    let res = app.client.get(url).send().await.unwrap();
    let status = res.status().as_u16();
    match res.headers().get("location") {
        Some(l) => (status, l.to_str().unwrap().to_owned()),
        None => (status, res.text().await.unwrap()),
    }
}

#[tokio::test]
async fn each_visit_opens_a_session_until_the_link_is_used_up_or_deactivated() {
    let app = spawn_app().await;
    let (status, link) = app
        .api_post("/v1/payment_links", &link_request(), None)
        .await;
    assert_eq!(status, 200, "{link}");
    let id = link["id"].as_str().unwrap();
    assert!(id.starts_with("plink_"));
    let url = link["url"].as_str().unwrap().to_owned();
    assert_eq!(url, app.url(&format!("/l/{id}")).to_string());
    assert_eq!(link["amount"], 2800);
    assert_eq!(link["active"], true);
    assert_eq!(link["completed_sessions"], 0);
    let (_, read) = app.api_get(&format!("/v1/payment_links/{id}")).await;
    assert_eq!(read["url"], url.as_str());
    let (_, listed) = app.api_get("/v1/payment_links").await;
    assert_eq!(listed["data"][0]["id"], id);

    // Two visits, two sessions, each with the link's contents.
    let (status, first) = visit(&app, &url).await;
    assert_eq!(status, 303);
    let (_, second) = visit(&app, &url).await;
    assert_ne!(first, second);
    let first = first.trim_start_matches("/pay/").to_owned();
    let (_, session) = app.api_get(&format!("/v1/checkout_sessions/{first}")).await;
    assert_eq!(session["payment_link"], id);
    assert_eq!(session["amount"], 2800);
    assert_eq!(session["line_items"][0]["name"], "Pour-over");
    assert_eq!(session["metadata"]["table"], "7");
    assert_eq!(app.page_view(&first).await["merchant_name"], "Lantern Café");

    // Paid once: with max_uses 1 the link now closes.
    let qr = shopper::pay_qr(&app, &first).await;
    shopper::scan(&app, qr["code_url"].as_str().unwrap(), "pay").await;
    app.until_complete(&first).await;
    assert_eq!(
        app.page_status(&first).await["success_url"],
        format!("https://cafe.example.com/thanks/{first}")
    );
    let (_, read) = app.api_get(&format!("/v1/payment_links/{id}")).await;
    assert_eq!(read["completed_sessions"], 1);
    let (_, listed) = app.api_get("/v1/payment_links").await;
    assert_eq!(listed["data"][0]["completed_sessions"], 1, "{listed}");
    let (status, page) = visit(&app, &url).await;
    assert_eq!(status, 410);
    assert!(page.contains("no longer active"), "{page}");

    // A higher limit reopens it; deactivating closes it again.
    let (status, raised) = app
        .api_post(
            &format!("/v1/payment_links/{id}"),
            &json!({"max_uses": 5}),
            None,
        )
        .await;
    assert_eq!(status, 200, "{raised}");
    assert_eq!(visit(&app, &url).await.0, 303);
    let (status, off) = app
        .api_post(
            &format!("/v1/payment_links/{id}"),
            &json!({"active": false}),
            None,
        )
        .await;
    assert_eq!(status, 200, "{off}");
    assert_eq!(off["active"], false);
    assert_eq!(off["max_uses"], 5);
    let (status, page) = visit(&app, &url).await;
    assert_eq!(status, 410);
    assert!(page.contains("此付款链接已停用"), "{page}");

    let (status, page) = visit(
        &app,
        app.url("/l/plink_00000000000000000000000000000000")
            .as_ref(),
    )
    .await;
    assert_eq!(status, 404);
    assert!(page.contains("no such payment link"), "{page}");
}

#[tokio::test]
async fn the_links_qr_code_downloads_as_svg_and_png() {
    let app = spawn_app().await;
    let (_, link) = app
        .api_post("/v1/payment_links", &link_request(), None)
        .await;
    let svg = app
        .client
        .get(link["qr_code"]["svg"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(svg.status(), 200);
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    assert!(
        svg.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains(".svg")
    );
    let text = svg.text().await.unwrap();
    assert!(
        text.starts_with("<svg") && text.contains("h1v1h-1z"),
        "{text}"
    );
    let png = app
        .client
        .get(link["qr_code"]["png"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(png.status(), 200);
    assert_eq!(png.headers()["content-type"], "image/png");
    let bytes = png.bytes().await.unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let missing = app
        .get("/l/plink_00000000000000000000000000000000/qr.svg")
        .await;
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn a_link_is_checked_like_the_sessions_it_opens() {
    let app = spawn_app().await;
    for (change, param) in [
        (json!({"max_uses": 0}), "max_uses"),
        (
            json!({"branding": {"accent_color": "#ffd33d"}}),
            "branding[accent_color]",
        ),
        (json!({"amount": 1}), "line_items"),
        (
            json!({"success_url": "http://cafe.example.com/"}),
            "success_url",
        ),
    ] {
        let mut request = link_request();
        for (k, v) in change.as_object().unwrap() {
            request[k] = v.clone();
        }
        let (status, body) = app.api_post("/v1/payment_links", &request, None).await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["error"]["param"], param, "{body}");
    }
}
