//! Every refusal on the JSON APIs is the documented envelope `{"error":{"type","code","message",
//! "param"?}}` with the right status — malformed JSON, a wrong or missing `Content-Type`, bad
//! query parameters, unknown enum values, oversized bodies, unknown routes and methods — on
//! `/v1` and on the shopper API alike, never the framework's plain text.

use paybridge_tests::{TestApp, spawn_app};
use reqwest::Method;
use serde_json::{Value, json};

/// Sends `method path` (with the API key on `/v1`) and `body` as `content_type`; returns the
/// status, the `Allow` header and the JSON error object (failing if the answer is not JSON).
async fn refusal(
    app: &TestApp,
    method: Method,
    path: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> (u16, Option<String>, Value) {
    let mut req = app.client.request(method, app.url(path)).body(body);
    if path.starts_with("/v1") {
        req = req.bearer_auth(&app.api_key);
    }
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let allow = res
        .headers()
        .get("allow")
        .map(|v| v.to_str().unwrap().to_owned());
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let text = res.text().await.unwrap();
    assert!(
        ct.starts_with("application/json"),
        "{status} {path}: {ct} {text:?}"
    );
    let body: Value = serde_json::from_str(&text).unwrap();
    let error = body["error"].clone();
    for field in ["type", "code", "message"] {
        assert!(error[field].is_string(), "{path}: no {field} in {body}");
    }
    (status, allow, error)
}

fn json_body(v: &Value) -> Vec<u8> {
    v.to_string().into_bytes()
}

#[tokio::test]
async fn merchant_api_refusals_are_the_json_envelope() {
    let app = spawn_app().await;
    let sessions = "/v1/checkout_sessions";
    let json = Some("application/json");
    let (s, _, e) = refusal(&app, Method::POST, sessions, json, b"{\"amount\":".to_vec()).await;
    assert_eq!((s, e["code"].as_str()), (400, Some("invalid_json")), "{e}");
    let body = json_body(&paybridge_tests::session_request(100));
    let (s, _, e) = refusal(
        &app,
        Method::POST,
        sessions,
        Some("text/plain"),
        body.clone(),
    )
    .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (415, Some("content_type_unsupported")),
        "{e}"
    );
    let (s, _, _) = refusal(&app, Method::POST, sessions, None, body).await;
    assert_eq!(s, 415);
    let (s, _, e) = refusal(
        &app,
        Method::GET,
        "/v1/checkout_sessions?limit=abc",
        None,
        vec![],
    )
    .await;
    assert_eq!((s, e["param"].as_str()), (422, Some("limit")), "{e}");
    let (s, _, e) = refusal(&app, Method::GET, "/v1/events?bogus=1", None, vec![]).await;
    assert_eq!(
        (s, e["param"].as_str(), e["code"].as_str()),
        (422, Some("bogus"), Some("parameter_unknown")),
        "{e}"
    );
    let mut bad_enum = paybridge_tests::session_request(100);
    bad_enum["payment_methods"] = json!(["paypal"]);
    let (s, _, e) = refusal(&app, Method::POST, sessions, json, json_body(&bad_enum)).await;
    assert_eq!(s, 422, "{e}");
    let huge = vec![b' '; paybridge_server::api::json::BODY_LIMIT_BYTES + 1];
    let (s, _, e) = refusal(&app, Method::POST, sessions, json, huge).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (413, Some("body_too_large")),
        "{e}"
    );
    let (s, _, e) = refusal(&app, Method::GET, "/v1/nothing_here", None, vec![]).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (404, Some("route_not_found")),
        "{e}"
    );
    let (s, allow, e) = refusal(&app, Method::DELETE, sessions, None, vec![]).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (405, Some("method_not_allowed")),
        "{e}"
    );
    assert!(allow.unwrap_or_default().contains("POST"));
}

#[tokio::test]
async fn shopper_api_refusals_are_the_json_envelope() {
    let app = spawn_app().await;
    let id = app.create_session(100).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let pay = format!("/api/checkout/{id}/pay");
    let json = Some("application/json");
    let (s, _, e) = refusal(&app, Method::POST, &pay, json, b"{".to_vec()).await;
    assert_eq!((s, e["code"].as_str()), (400, Some("invalid_json")), "{e}");
    let good = json_body(&json!({"method": "wechat_pay", "environment": "desktop"}));
    let (s, _, _) = refusal(&app, Method::POST, &pay, Some("text/plain"), good).await;
    assert_eq!(s, 415);
    let unknown = json_body(&json!({"method": "paypal", "environment": "desktop"}));
    let (s, _, e) = refusal(&app, Method::POST, &pay, json, unknown).await;
    assert_eq!((s, e["param"].as_str()), (422, Some("method")), "{e}");
    let huge = vec![b' '; paybridge_server::api::json::BODY_LIMIT_BYTES + 1];
    let (s, _, e) = refusal(&app, Method::POST, &pay, json, huge).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (413, Some("body_too_large")),
        "{e}"
    );
    let (s, _, e) = refusal(&app, Method::DELETE, &pay, None, vec![]).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (405, Some("method_not_allowed")),
        "{e}"
    );
    let (s, _, e) = refusal(&app, Method::GET, "/api/nothing_here", None, vec![]).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (404, Some("route_not_found")),
        "{e}"
    );
}
