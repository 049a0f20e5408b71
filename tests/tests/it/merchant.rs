//! The merchant API on SQLite and on Postgres: sessions, validation, auth, idempotency.

use paybridge_tests::{Db, on_both_databases, session_request, spawn_on};
use serde_json::{Value, json};

async fn create_get_and_list_pages_through_every_session(db: Db) {
    let app = spawn_on(db).await;
    let mut ids = Vec::new();
    for amount in [1, 2, 3, 4, 5] {
        let s = app.create_session(amount).await;
        assert_eq!(s["status"], "open");
        assert_eq!(s["object"], "checkout.session");
        assert_eq!(s["currency"], "cny");
        let id = s["id"].as_str().unwrap().to_owned();
        assert!(
            s["url"].as_str().unwrap().ends_with(&format!("/pay/{id}")),
            "{s}"
        );
        ids.push(id);
    }
    let (status, got) = app
        .api_get(&format!("/v1/checkout_sessions/{}", ids[2]))
        .await;
    assert_eq!(status, 200);
    assert_eq!(got["amount"], 3);
    assert_eq!(got["metadata"]["cart"], "42");

    // Newest first, two per page, until has_more is false.
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let q = after
            .as_ref()
            .map_or_else(String::new, |a| format!("&starting_after={a}"));
        let (status, page) = app
            .api_get(&format!("/v1/checkout_sessions?limit=2{q}"))
            .await;
        assert_eq!(status, 200, "{page}");
        let data = page["data"].as_array().unwrap();
        seen.extend(data.iter().map(|s| s["id"].as_str().unwrap().to_owned()));
        if !page["has_more"].as_bool().unwrap() {
            break;
        }
        after = seen.last().cloned();
        assert!(seen.len() < 10, "pagination does not end");
    }
    let mut expected = ids.clone();
    expected.reverse();
    assert_eq!(seen, expected);

    // The page's view model shows the session.
    let view = app.page_view(&ids[0]).await;
    assert_eq!(view["amount"], 1);
    assert_eq!(view["status"], "open");
    assert!(
        view.get("merchant_reference").is_none(),
        "the page must not see merchant data: {view}"
    );
}

async fn validation_errors_name_the_field(db: Db) {
    let app = spawn_on(db).await;
    let cases: Vec<(Value, u16, &str, &str)> = vec![
        (
            json!({"currency": "cny", "description": "x", "success_url": "https://a.example/", "cancel_url": "https://a.example/"}),
            422,
            "amount",
            "parameter_missing",
        ),
        (
            {
                let mut b = session_request(1);
                b["amount"] = json!(0);
                b
            },
            422,
            "amount",
            "parameter_invalid",
        ),
        (
            {
                let mut b = session_request(1);
                b["amount"] = json!("12");
                b
            },
            422,
            "amount",
            "parameter_invalid",
        ),
        (
            {
                let mut b = session_request(1);
                b["amount"] = json!(1.5);
                b
            },
            422,
            "amount",
            "parameter_invalid",
        ),
        (
            {
                let mut b = session_request(1);
                b["currency"] = json!("usd");
                b
            },
            422,
            "currency",
            "parameter_invalid",
        ),
        (
            {
                let mut b = session_request(1);
                b["success_url"] = json!("http://evil.example/");
                b
            },
            422,
            "success_url",
            "parameter_invalid",
        ),
        (
            {
                let mut b = session_request(1);
                b["cancel_url"] = json!("javascript:alert(1)");
                b
            },
            422,
            "cancel_url",
            "parameter_invalid",
        ),
        (
            {
                let mut b = session_request(1);
                b["expires_in"] = json!(10);
                b
            },
            422,
            "expires_in",
            "parameter_invalid",
        ),
        (
            {
                let mut b = session_request(1);
                b["metadata"] = json!({"k": "x".repeat(501)});
                b
            },
            422,
            "metadata.k",
            "parameter_invalid",
        ),
        (
            {
                let mut b = session_request(1);
                b["payment_methods"] = json!(["wechat_pay", "cash"]);
                b
            },
            422,
            "payment_methods[1]",
            "parameter_invalid",
        ),
        (
            {
                let mut b = session_request(1);
                b["colour"] = json!("red");
                b
            },
            422,
            "colour",
            "parameter_unknown",
        ),
    ];
    for (body, status, param, code) in cases {
        let (got, err) = app.api_post("/v1/checkout_sessions", &body, None).await;
        assert_eq!(got, status, "{body} → {err}");
        assert_eq!(err["error"]["param"], param, "{body} → {err}");
        assert_eq!(err["error"]["code"], code, "{body} → {err}");
    }
    let res = app
        .client
        .post(app.url("/v1/checkout_sessions"))
        .bearer_auth(&app.api_key)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["error"]["code"], "invalid_json");
}

async fn requests_without_a_valid_key_are_refused(db: Db) {
    let app = spawn_on(db).await;
    let url = app.url("/v1/checkout_sessions");
    let res = app.client.get(url.clone()).send().await.unwrap();
    assert_eq!(res.status(), 401);
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["error"]["code"], "api_key_missing");
    let res = app
        .client
        .get(url.clone())
        .bearer_auth("sk_test_0000")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let res = app
        .client
        .get(url.clone())
        .header("authorization", "Basic abc")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    // A live key is valid but not for a sandbox server.
    let (_, live) = app.state.store().create_api_key("live").await.unwrap();
    let res = app
        .client
        .get(url.clone())
        .bearer_auth(live.expose())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    // A revoked key stops working.
    let (key, secret) = app.state.store().create_api_key("test").await.unwrap();
    assert_eq!(
        app.client
            .get(url.clone())
            .bearer_auth(secret.expose())
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert!(app.state.store().revoke_api_key(&key.id).await.unwrap());
    assert_eq!(
        app.client
            .get(url)
            .bearer_auth(secret.expose())
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
}

async fn idempotency_keys_replay_conflict_and_execute_once(db: Db) {
    let app = spawn_on(db).await;
    let body = session_request(700);
    let (s1, first) = app
        .api_post("/v1/checkout_sessions", &body, Some("order-700"))
        .await;
    let (s2, again) = app
        .api_post("/v1/checkout_sessions", &body, Some("order-700"))
        .await;
    assert_eq!((s1, s2), (200, 200));
    assert_eq!(
        first["id"], again["id"],
        "a replay returns the stored response"
    );

    let (status, err) = app
        .api_post(
            "/v1/checkout_sessions",
            &session_request(701),
            Some("order-700"),
        )
        .await;
    assert_eq!(status, 409);
    assert_eq!(err["error"]["code"], "idempotency_key_reused");

    // Twenty concurrent requests with one key: one execution, twenty identical answers.
    let body = session_request(800);
    let app = std::sync::Arc::new(app);
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (app, body) = (app.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            app.api_post("/v1/checkout_sessions", &body, Some("burst-800"))
                .await
        }));
    }
    let mut ids = std::collections::BTreeSet::new();
    for t in tasks {
        let (status, s) = t.await.unwrap();
        assert_eq!(status, 200, "{s}");
        ids.insert(s["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(ids.len(), 1, "{ids:?}");
    let (_, page) = app.api_get("/v1/checkout_sessions?limit=100").await;
    let with_800 = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["amount"] == 800)
        .count();
    assert_eq!(with_800, 1, "exactly one session was created");
}

async fn expiring_a_session_emits_one_event_and_is_idempotent(db: Db) {
    let app = spawn_on(db).await;
    let s = app.create_session(100).await;
    let id = s["id"].as_str().unwrap();
    let (st1, e1) = app
        .api_post(
            &format!("/v1/checkout_sessions/{id}/expire"),
            &json!({}),
            None,
        )
        .await;
    let (st2, e2) = app
        .api_post(
            &format!("/v1/checkout_sessions/{id}/expire"),
            &json!({}),
            None,
        )
        .await;
    assert_eq!((st1, st2), (200, 200));
    assert_eq!(e1["status"], "expired");
    assert_eq!(e2["status"], "expired");
    let (_, events) = app
        .api_get("/v1/events?type=checkout.session.expired")
        .await;
    let about: Vec<_> = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["data"]["object"]["id"] == id)
        .collect();
    assert_eq!(about.len(), 1, "{events}");
    let view = app.page_view(id).await;
    assert_eq!(view["status"], "expired");
    let (status, _) = app
        .api_get("/v1/checkout_sessions/cs_00000000000000000000000000000000")
        .await;
    assert_eq!(status, 404);
}

/// The merchant gives up on a checkout whose shopper has a QR code on screen: the order is
/// closed at WeChat, so scanning it later cannot take the money.
async fn expiring_a_session_closes_its_open_attempts_at_the_provider(db: Db) {
    let app = spawn_on(db).await;
    let s = app.create_session(100).await;
    let id = s["id"].as_str().unwrap();
    let qr = paybridge_tests::shopper::pay_qr(&app, id).await;
    let payment = qr["payment"].as_str().unwrap();
    app.expire_session(id).await;
    let (_, p) = app.api_get(&format!("/v1/payments/{payment}")).await;
    assert_eq!(p["status"], "canceled", "{p}");
    assert_eq!(p["failure_reason"], "the checkout session expired");
    let state: String =
        sqlx::query_scalar("SELECT trade_state FROM sandbox_orders WHERE out_trade_no = $1")
            .bind(p["out_trade_no"].as_str().unwrap())
            .fetch_one(app.state.store().pool())
            .await
            .unwrap();
    assert_eq!(state, "CLOSED");
    // The shopper scans anyway: WeChat refuses to take the money.
    let page = paybridge_tests::shopper::scan(&app, qr["code_url"].as_str().unwrap(), "pay").await;
    assert!(page.contains("已关闭"), "{page}");
    let (_, p) = app.api_get(&format!("/v1/payments/{payment}")).await;
    assert_eq!(p["status"], "canceled");
}

on_both_databases!(
    expiring_a_session_closes_its_open_attempts_at_the_provider,
    create_get_and_list_pages_through_every_session,
    validation_errors_name_the_field,
    requests_without_a_valid_key_are_refused,
    idempotency_keys_replay_conflict_and_execute_once,
    expiring_a_session_emits_one_event_and_is_idempotent,
);
