//! The OpenAPI document is generated from the handlers and pinned by a snapshot.

use paybridge_tests::spawn_app;
use serde_json::Value;

#[tokio::test]
async fn the_openapi_document_describes_every_merchant_endpoint() {
    let app = spawn_app().await;
    let res = app.get("/openapi.json").await;
    assert_eq!(res.status(), 200);
    let doc: Value = res.json().await.unwrap();
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/v1/checkout_sessions", "post"),
        ("/v1/checkout_sessions", "get"),
        ("/v1/checkout_sessions/{id}", "get"),
        ("/v1/checkout_sessions/{id}/expire", "post"),
        ("/v1/webhook_endpoints", "post"),
        ("/v1/webhook_endpoints", "get"),
        ("/v1/webhook_endpoints/{id}", "delete"),
        ("/v1/webhook_endpoints/{id}/roll_secret", "post"),
        ("/v1/payments", "get"),
        ("/v1/payments/{id}", "get"),
        ("/v1/refunds", "get"),
        ("/v1/refunds", "post"),
        ("/v1/refunds/{id}", "get"),
        ("/v1/events", "get"),
        ("/v1/events/{id}", "get"),
        ("/v1/unmatched_payments", "get"),
        ("/v1/unmatched_payments/{id}", "get"),
        ("/v1/payment_intents", "post"),
        ("/v1/payment_intents", "get"),
        ("/v1/payment_intents/{id}", "get"),
        ("/v1/payment_intents/{id}/confirm", "post"),
        ("/v1/payment_intents/{id}/cancel", "post"),
        ("/v1/payment_links", "post"),
        ("/v1/payment_links", "get"),
        ("/v1/payment_links/{id}", "get"),
        ("/v1/payment_links/{id}", "post"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} missing"
        );
    }
    // A session takes exactly one of `amount` and `line_items`.
    let create = &doc["components"]["schemas"]["CreateSession"];
    assert!(
        create["allOf"][0]["required"]
            .as_array()
            .unwrap()
            .contains(&Value::from("description")),
        "{create}"
    );
    let required: Vec<&Value> = create["allOf"][1]["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|branch| &branch["required"][0])
        .collect();
    assert_eq!(
        required,
        [&Value::from("amount"), &Value::from("line_items")],
        "{create}"
    );
    // The event-type filter's pattern lists exactly the event types webhooks can subscribe to.
    let params = doc["paths"]["/v1/events"]["get"]["parameters"]
        .as_array()
        .unwrap();
    let kind = params.iter().find(|p| p["name"] == "type").unwrap();
    let pattern = kind["schema"]["pattern"].as_str().unwrap();
    let listed: Vec<String> = pattern
        .trim_start_matches("^(")
        .trim_end_matches(")$")
        .split('|')
        .map(|t| t.replace('\\', ""))
        .collect();
    let known: Vec<String> = paybridge_server::store::events::EventType::ALL
        .iter()
        .map(|t| t.as_str().to_owned())
        .collect();
    assert_eq!(listed, known);
    insta::assert_json_snapshot!("openapi", doc);
}
