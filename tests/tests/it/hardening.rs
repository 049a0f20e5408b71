//! Findings of the outside security review, each with the test that failed before its fix:
//! refund amounts cannot overflow, metric labels and request ids are bounded, the API key's
//! scheme is case-insensitive, `/v1` answers are never cached, a WeChat sign-in belongs to the
//! browser that started it, live webhooks reach only public addresses, and old guards are pruned.

use paybridge_tests::shopper::{pay_qr, scan};
use paybridge_tests::{spawn_app, wait};
use serde_json::json;

#[tokio::test]
async fn a_refund_amount_near_i64_max_is_refused_not_wrapped() {
    let app = spawn_app().await;
    let s = app.create_session(1000).await;
    let id = s["id"].as_str().unwrap();
    let qr = pay_qr(&app, id).await;
    scan(&app, qr["code_url"].as_str().unwrap(), "pay").await;
    app.until_complete(id).await;
    let payment = qr["payment"].as_str().unwrap();
    let (status, full) = app
        .api_post("/v1/refunds", &json!({"payment": payment}), None)
        .await;
    assert_eq!(status, 200, "{full}");
    // 1000 refunded already: 1000 + this wraps to a negative total without checked arithmetic.
    let (status, err) = app
        .api_post(
            "/v1/refunds",
            &json!({"payment": payment, "amount": 9_223_372_036_854_774_807_i64}),
            None,
        )
        .await;
    assert_eq!(
        (status, &err["error"]["param"]),
        (422, &json!("amount")),
        "{err}"
    );
    let (_, list) = app.api_get(&format!("/v1/refunds?payment={payment}")).await;
    assert_eq!(
        list["data"].as_array().unwrap().len(),
        1,
        "nothing else was sent: {list}"
    );
}

#[tokio::test]
async fn invented_http_methods_do_not_grow_the_metrics() {
    let app = spawn_app().await;
    for i in 0..5 {
        let method = reqwest::Method::from_bytes(format!("INVENTED{i}").as_bytes()).unwrap();
        let _ = app
            .client
            .request(method, app.url("/healthz"))
            .send()
            .await
            .unwrap();
    }
    let text = wait::until(
        "the requests to be counted",
        std::time::Duration::from_secs(5),
        || async {
            let text = app.admin_get("/metrics").await.text().await.unwrap();
            text.contains("method=\"OTHER\"").then_some(text)
        },
    )
    .await;
    assert!(!text.contains("INVENTED"), "{text}");
}

#[tokio::test]
async fn a_callers_request_id_is_kept_only_when_short_and_plain() {
    let app = spawn_app().await;
    let id_of = |sent: String| {
        let app = &app;
        async move {
            let res = app
                .client
                .get(app.url("/healthz"))
                .header("x-request-id", sent)
                .send()
                .await
                .unwrap();
            res.headers()["x-request-id"].to_str().unwrap().to_owned()
        }
    };
    assert_eq!(
        id_of("order-1001.retry_2".into()).await,
        "order-1001.retry_2"
    );
    let huge = "x".repeat(150_000);
    let replaced = id_of(huge).await;
    assert_eq!(replaced.len(), 36, "a generated UUID: {replaced}");
    let odd = id_of("a b<script>".into()).await;
    assert_ne!(odd, "a b<script>");
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive_and_v1_answers_are_not_cached() {
    let app = spawn_app().await;
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let res = app
            .client
            .get(app.url("/v1/checkout_sessions"))
            .header("authorization", format!("{scheme} {}", app.api_key))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{scheme}");
        assert_eq!(res.headers()["cache-control"], "no-store");
    }
    let refused = app.get("/v1/checkout_sessions").await;
    assert_eq!(refused.status(), 401);
    assert_eq!(refused.headers()["cache-control"], "no-store");
}

#[tokio::test]
async fn a_description_with_a_bidi_override_or_a_zero_width_character_is_refused() {
    let app = spawn_app().await;
    for text in ["Coffee \u{202e}00.1 ¥", "Cof\u{200b}fee", "\u{feff}Coffee"] {
        let mut body = paybridge_tests::session_request(100);
        body["description"] = json!(text);
        let (status, err) = app.api_post("/v1/checkout_sessions", &body, None).await;
        assert_eq!(
            (status, &err["error"]["param"]),
            (422, &json!("description")),
            "{text:?}"
        );
    }
}

#[tokio::test]
async fn a_sign_in_finished_in_another_browser_changes_nothing_for_the_shopper() {
    let app = spawn_app().await;
    let id = app.create_session(100).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let wechat = json!({"method": "wechat_pay", "environment": "wechat"});
    // The shopper's browser starts a sign-in; WeChat would send it back with this URL.
    let action = paybridge_tests::shopper::pay(&app, &id, &wechat).await;
    let callback =
        paybridge_tests::shopper::allow_oauth(&app, action["url"].as_str().unwrap()).await;
    // Someone else holding the link (and a code of their own) opens it first, in their browser.
    let other = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = other.get(&callback).send().await.unwrap();
    assert_eq!(
        res.headers()["location"].to_str().unwrap(),
        format!("/pay/{id}?oauth=expired")
    );
    assert!(
        res.headers().get("set-cookie").is_none(),
        "no openid given to another browser"
    );
    // The shopper's own return still works: the state was not used up by the other browser.
    let res = app.client.get(&callback).send().await.unwrap();
    assert_eq!(
        res.headers()["location"].to_str().unwrap(),
        format!("/pay/{id}")
    );
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(
        cookie.contains(&format!("Path=/api/checkout/{id}")),
        "{cookie}"
    );
    // The other browser, paying the same session, is asked to sign in itself: the shopper's
    // openid is not the session's.
    let theirs = other
        .post(app.url(&format!("/api/checkout/{id}/pay")))
        .json(&wechat)
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(theirs["type"], "oauth", "{theirs}");
    let ours = paybridge_tests::shopper::pay(&app, &id, &wechat).await;
    assert_eq!(ours["type"], "jsapi", "{ours}");
    let session = paybridge_server::domain::ids::SessionId::parse(&id).unwrap();
    let attempts = app
        .state
        .store()
        .payments_of_session(&session)
        .await
        .unwrap();
    assert_eq!(attempts.len(), 1);
    assert!(
        attempts[0].openid.is_some(),
        "the attempt keeps its payer's openid"
    );
}

/// `POST base + path` with a live key.
async fn live_post(
    app: &paybridge_tests::live::LiveApp,
    key: &str,
    path: &str,
    body: &serde_json::Value,
) -> (u16, serde_json::Value) {
    let res = app
        .client
        .post(format!("{}{path}", app.base))
        .bearer_auth(key)
        .json(body)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.json().await.unwrap_or_default())
}

/// A live session, expired at once: one `checkout.session.expired` event to deliver.
async fn live_event(app: &paybridge_tests::live::LiveApp, key: &str) {
    let (status, s) = live_post(
        app,
        key,
        "/v1/checkout_sessions",
        &paybridge_tests::session_request(100),
    )
    .await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["livemode"], true, "{s}");
    let id = s["id"].as_str().unwrap();
    let (status, s) = live_post(
        app,
        key,
        &format!("/v1/checkout_sessions/{id}/expire"),
        &json!({}),
    )
    .await;
    assert_eq!(status, 200, "{s}");
}

#[tokio::test]
async fn live_webhooks_reach_only_public_addresses_unless_a_network_is_allowed() {
    let receiver = paybridge_tests::receiver::Receiver::start(&[]).await;
    let port = url::Url::parse(&receiver.url).unwrap().port().unwrap();
    let by_name = format!("http://localhost:{port}/hook");

    let app = paybridge_tests::live::spawn_live().await;
    let (_, key) = app.state.store().create_api_key("live").await.unwrap();
    let key = key.expose().clone();
    for url in [&receiver.url, &by_name] {
        let (status, err) =
            live_post(&app, &key, "/v1/webhook_endpoints", &json!({"url": url})).await;
        assert_eq!(
            (status, &err["error"]["param"]),
            (422, &json!("url")),
            "{url}: {err}"
        );
    }
    // An endpoint whose name resolves to a private address (stored here directly, as if its DNS
    // changed after it was created) is never sent to.
    app.state
        .store()
        .create_endpoint(&by_name, &["*".to_owned()])
        .await
        .unwrap();
    live_event(&app, &key).await;
    let error = wait::until(
        "the delivery attempt",
        std::time::Duration::from_secs(20),
        || async {
            sqlx::query_scalar::<_, Option<String>>("SELECT last_error FROM webhook_deliveries")
                .fetch_one(app.state.store().pool())
                .await
                .ok()
                .flatten()
        },
    )
    .await;
    assert!(error.contains("private addresses"), "{error}");
    assert!(
        receiver.received().is_empty(),
        "nothing reached the internal receiver"
    );
    app.stop().await;

    // The operator allows the network: delivered.
    let app = paybridge_tests::live::spawn_live_with(&[
        "--webhook-allowed-networks",
        "127.0.0.0/8, ::1/128",
    ])
    .await;
    let (_, key) = app.state.store().create_api_key("live").await.unwrap();
    let key = key.expose().clone();
    let (status, e) = live_post(
        &app,
        &key,
        "/v1/webhook_endpoints",
        &json!({"url": by_name}),
    )
    .await;
    assert_eq!(status, 200, "{e}");
    live_event(&app, &key).await;
    receiver
        .wait_for(1, std::time::Duration::from_secs(20))
        .await;
    app.stop().await;
}

async fn count(app: &paybridge_tests::TestApp, sql: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(sql)
        .fetch_one(app.state.store().pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn old_idempotency_keys_used_tokens_and_webhook_attempts_are_pruned() {
    let app = spawn_app().await;
    let receiver = paybridge_tests::receiver::Receiver::registered(&app).await;
    for key in ["k-old", "k-new"] {
        let (status, s) = app
            .api_post(
                "/v1/checkout_sessions",
                &paybridge_tests::session_request(100),
                Some(key),
            )
            .await;
        assert_eq!(status, 200, "{s}");
        if key == "k-old" {
            let id = s["id"].as_str().unwrap();
            app.api_post(
                &format!("/v1/checkout_sessions/{id}/expire"),
                &json!({}),
                None,
            )
            .await;
        }
    }
    receiver
        .wait_for(1, std::time::Duration::from_secs(20))
        .await;
    // The worker records its attempt after the receiver has answered, so the
    // receiver's count alone does not say the row is there yet.
    wait::until(
        "the delivery attempt to be recorded",
        std::time::Duration::from_secs(10),
        || async {
            (count(&app, "SELECT COUNT(*) FROM webhook_attempts").await == 1).then_some(())
        },
    )
    .await;
    let now = paybridge_server::domain::now_millis();
    for sql in [
        "UPDATE idempotency_keys SET created_at = 0 WHERE idem_key = 'k-old'".to_owned(),
        format!("INSERT INTO used_tokens (token_hash, used_at) VALUES ('old', 0), ('new', {now})"),
        "UPDATE webhook_attempts SET attempted_at = 0".to_owned(),
    ] {
        sqlx::query(&sql)
            .execute(app.state.store().pool())
            .await
            .unwrap();
    }
    let data_dir = std::sync::Arc::clone(&app.data_dir);
    app.stop().await;

    // The pruning job runs at start.
    let app = paybridge_tests::spawn(paybridge_tests::Options {
        data_dir: Some(data_dir),
        ..paybridge_tests::Options::default()
    })
    .await;
    wait::until(
        "old records to be pruned",
        std::time::Duration::from_secs(10),
        || async {
            (count(&app, "SELECT COUNT(*) FROM webhook_attempts").await == 0
                && count(
                    &app,
                    "SELECT COUNT(*) FROM used_tokens WHERE token_hash = 'old'",
                )
                .await
                    == 0)
                .then_some(())
        },
    )
    .await;
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM used_tokens WHERE token_hash = 'new'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM idempotency_keys WHERE idem_key = 'k-old'"
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM idempotency_keys WHERE idem_key = 'k-new'"
        )
        .await,
        1
    );
    // The delivery itself stays with its event.
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM webhook_deliveries").await,
        1
    );
}
