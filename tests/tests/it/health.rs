use paybridge_tests::spawn_app;

#[tokio::test]
async fn healthz_answers_ok() {
    let app = spawn_app().await;
    let res = app.get("/healthz").await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn readyz_reports_the_database_and_the_page() {
    let app = spawn_app().await;
    let res = app.get("/readyz").await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["database"], "ok");
    assert_eq!(
        body["page"], "ok",
        "dist/ must be built before the tests (make test does)"
    );
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_keeps_the_callers() {
    let app = spawn_app().await;
    let res = app.get("/healthz").await;
    let id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(id.len(), 36, "a uuid: {id}");
    let res = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "merchant-trace-42")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "merchant-trace-42");
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_and_status() {
    let app = spawn_app().await;
    for _ in 0..3 {
        assert_eq!(app.get("/healthz").await.status(), 200);
    }
    assert_eq!(app.get("/api/checkout/cs_abc").await.status(), 404);
    assert_eq!(app.get("/api/checkout/cs_def").await.status(), 404);
    let res = app.admin_get("/metrics").await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = res.text().await.unwrap();
    assert!(
        text.contains(
            r#"paybridge_http_requests_total{method="GET",route="/healthz",status="200"} 3"#
        ),
        "{text}"
    );
    // Ids never become label values: both lookups count under the template.
    assert!(
        text.contains(r#"paybridge_http_requests_total{method="GET",route="/api/checkout/{id}",status="404"} 2"#),
        "{text}"
    );
    assert!(!text.contains("cs_abc"), "raw path leaked into labels");
    assert!(
        text.contains("paybridge_http_request_duration_seconds_bucket"),
        "{text}"
    );
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let app = spawn_app().await;
    let body = vec![b'x'; paybridge_server::api::json::BODY_LIMIT_BYTES + 1];
    let res = app
        .client
        .post(app.url("/api/checkout/cs_x"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
}

#[tokio::test]
async fn the_shopper_api_is_rate_limited_per_client_ip() {
    let app = paybridge_tests::spawn_app_with(&["--shopper-rate-limit", "5"]).await;
    let mut limited = 0;
    for _ in 0..40 {
        let res = app
            .get("/api/checkout/cs_00000000000000000000000000000000")
            .await;
        if res.status() == 429 {
            let body: serde_json::Value = res.json().await.unwrap();
            assert_eq!(body["error"]["code"], "rate_limited");
            limited += 1;
        } else {
            assert_eq!(res.status(), 404);
        }
    }
    assert!(
        limited >= 20,
        "only {limited} of 40 rapid requests were limited"
    );
    // Other surfaces are not limited by the shopper limit.
    assert_eq!(app.get("/healthz").await.status(), 200);
}

#[tokio::test]
async fn metrics_and_the_readiness_detail_are_on_the_operations_listener_only() {
    let app = spawn_app().await;
    assert_eq!(app.get("/metrics").await.status(), 404);
    let public: serde_json::Value = app.get("/readyz").await.json().await.unwrap();
    assert_eq!(public["status"], "ok");
    assert!(public.get("keys").is_none(), "{public}");
    let detail: serde_json::Value = app.admin_get("/readyz").await.json().await.unwrap();
    assert_eq!(detail["status"], "ok");
    assert_eq!(detail["keys"][0]["kind"], "public_key", "{detail}");
    assert_eq!(app.admin_get("/metrics").await.status(), 200);
    assert_eq!(app.admin.host_str(), Some("127.0.0.1"));
}
