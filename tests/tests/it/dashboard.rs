//! The dashboard over HTTP: signing in (and being refused), finding a paid checkout by the
//! merchant's reference or the provider's transaction id, refunding half of it once however
//! often the form is sent, expiring a session, and the forms that must be refused.

use std::time::Duration;

use paybridge_tests::dashboard::{self, input_value};
use paybridge_tests::{Db, TestApp, on_both_databases, shopper, spawn_app, spawn_on, wait};
use serde_json::{Value, json};

/// A session for `reference`, paid by QR from a desktop: (session, payment, transaction id).
pub(crate) async fn paid(app: &TestApp, amount: i64, reference: &str) -> (String, String, String) {
    let mut req = paybridge_tests::session_request(amount);
    req["merchant_reference"] = json!(reference);
    let (status, s) = app.api_post("/v1/checkout_sessions", &req, None).await;
    assert_eq!(status, 200, "{s}");
    let id = s["id"].as_str().unwrap().to_owned();
    let action = shopper::pay(
        app,
        &id,
        &json!({"method": "wechat_pay", "environment": "desktop"}),
    )
    .await;
    shopper::scan(app, action["code_url"].as_str().unwrap(), "pay").await;
    let payment = action["payment"].as_str().unwrap().to_owned();
    let p: Value = wait::until(
        "the payment to succeed",
        Duration::from_secs(20),
        || async {
            let (_, p) = app.api_get(&format!("/v1/payments/{payment}")).await;
            (p["status"] == "succeeded").then_some(p)
        },
    )
    .await;
    let txn = p["provider_transaction_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    (id, payment, txn)
}

#[tokio::test]
async fn without_a_session_every_page_leads_to_the_sign_in_page() {
    let app = spawn_app().await;
    let client = dashboard::client();
    for path in [
        "/dashboard",
        "/dashboard/payments?status=succeeded",
        "/dashboard/sessions/cs_x",
    ] {
        let res = client.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 303, "{path}");
        let to = res.headers()["location"].to_str().unwrap().to_owned();
        assert!(
            to.starts_with("/dashboard/login?next=%2Fdashboard"),
            "{path} → {to}"
        );
    }
    // A form without a session changes nothing and leads there too.
    let res = client
        .post(app.url("/dashboard/payments/pay_x/refund"))
        .form(&[("amount", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    // A forged cookie is no session.
    let res = client
        .get(app.url("/dashboard"))
        .header("cookie", "pb_dash=forged")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
}

#[tokio::test]
async fn a_wrong_password_is_refused_and_repeated_failures_are_slowed_down() {
    let app = spawn_app().await;
    dashboard::create_operator(&app, "alice").await;
    let (_, res) = dashboard::post_sign_in(&app, "alice", "not the password").await;
    assert_eq!(res.status(), 401);
    let page = res.text().await.unwrap();
    assert!(page.contains("id=\"login-problem\""), "{page}");
    assert!(
        !page.contains("not the password"),
        "the password is never echoed"
    );
    // An unknown name gets the same answer.
    let (_, res) = dashboard::post_sign_in(&app, "mallory", "whatever it is").await;
    assert_eq!(res.status(), 401);
    for _ in 0..10 {
        dashboard::post_sign_in(&app, "alice", "still wrong").await;
    }
    // Now even the right password waits for the minute to pass.
    let (_, res) = dashboard::post_sign_in(&app, "alice", dashboard::PASSWORD).await;
    assert_eq!(res.status(), 429);
}

#[tokio::test]
async fn signing_in_sets_a_strict_http_only_cookie_and_signing_out_ends_the_session() {
    let app = spawn_app().await;
    dashboard::create_operator(&app, "alice").await;
    // The sign-in form itself needs its CSRF cookie and field.
    let client = dashboard::client();
    let res = client
        .post(app.url("/dashboard/login"))
        .form(&[("username", "alice"), ("password", dashboard::PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403, "no CSRF token");
    let (_, res) = dashboard::post_sign_in(&app, "alice", dashboard::PASSWORD).await;
    assert_eq!(res.status(), 303);
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("pb_dash="))
        .unwrap();
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/dashboard"] {
        assert!(cookie.contains(attr), "{cookie}");
    }
    let op = dashboard::sign_in(&app, "bob").await;
    let (status, html) = op.get("/dashboard").await;
    assert_eq!(status, 200);
    assert!(html.contains("bob"));
    let (status, to, _) = op.post("/dashboard/logout", &[]).await;
    assert_eq!((status, to.as_str()), (303, "/dashboard/login"));
    let (status, _) = op.get("/dashboard").await;
    assert_eq!(status, 303, "the session is over");
    // The sign-in is in the audit log.
    let entries = app.state.store().list_audit(None, None, 10).await.unwrap();
    assert!(
        entries
            .iter()
            .any(|e| e.username == "bob" && e.action == "operator.sign_in")
    );
}

#[tokio::test]
async fn a_one_time_link_signs_in_once() {
    let app = spawn_app().await;
    dashboard::create_operator(&app, "carol").await;
    let (op, _) = app
        .state
        .store()
        .operator_by_name("carol")
        .await
        .unwrap()
        .unwrap();
    let token = paybridge_server::service::operators::login_link(app.state.store(), &op)
        .await
        .unwrap();
    let path = format!("/dashboard/login/link?token={}", token.expose());
    let client = dashboard::client();
    let res = client.get(app.url(&path)).send().await.unwrap();
    assert_eq!(res.status(), 303);
    let res = client.get(app.url("/dashboard")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let again = dashboard::client()
        .get(app.url(&path))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 410, "used");
}

async fn a_paid_checkout_is_found_refunded_by_half_once_and_its_timeline_shows_it(db: Db) {
    let app = spawn_on(db).await;
    let (session, payment, txn) = paid(&app, 2000, "order-7731").await;
    paid(&app, 500, "order-other").await;
    let op = dashboard::sign_in(&app, "alice").await;

    // Found by the merchant's reference, by the provider's transaction id, by id.
    for q in [
        "order-7731",
        txn.as_str(),
        payment.as_str(),
        session.as_str(),
    ] {
        let (status, html) = op.get(&format!("/dashboard/payments?q={q}")).await;
        assert_eq!(status, 200);
        assert!(html.contains(&payment), "{q} finds the payment");
        assert!(!html.contains("order-other"), "{q} finds only it");
    }
    let (_, html) = op
        .get("/dashboard/sessions?q=order-7731&status=complete")
        .await;
    assert!(html.contains(&session));
    let (_, html) = op.get("/dashboard/sessions?q=order-7731&status=open").await;
    assert!(html.contains("no-results"), "filtered out by status");
    let (_, html) = op
        .get("/dashboard/payments?channel=native&method=wechat_pay&environment=desktop")
        .await;
    assert!(
        html.contains(&payment),
        "filters by channel, method and environment"
    );
    let (_, html) = op.get("/dashboard/payments?channel=jsapi").await;
    assert!(!html.contains(&payment));
    let (_, html) = op.get("/dashboard/payments?environment=wechat").await;
    assert!(!html.contains(&payment));
    let (status, _) = op.get("/dashboard/payments?from=yesterday").await;
    assert_eq!(status, 422, "a malformed date is refused");

    // Half, with one form's idempotency key, sent twice.
    let (_, page) = op.get(&format!("/dashboard/payments/{payment}")).await;
    let key = input_value(&page, "idempotency_key").unwrap();
    let form = [
        ("amount", "10.00"),
        ("reason", "one coffee returned"),
        ("idempotency_key", key.as_str()),
    ];
    let (status, to, _) = op
        .post(&format!("/dashboard/payments/{payment}/refund"), &form)
        .await;
    assert_eq!(status, 303);
    assert!(to.contains("done=refunded"), "{to}");
    let (status, to, _) = op
        .post(&format!("/dashboard/payments/{payment}/refund"), &form)
        .await;
    assert_eq!(status, 303);
    assert!(
        to.contains("done=refund_earlier"),
        "the same form refunds once: {to}"
    );
    let (_, refunds) = app.api_get(&format!("/v1/refunds?payment={payment}")).await;
    assert_eq!(refunds["data"].as_array().unwrap().len(), 1, "{refunds}");
    assert_eq!(refunds["data"][0]["amount"], 1000);

    // The timeline: attempt, provider report, refund, events and the operator's action.
    let (_, page) = op.get(&format!("/dashboard/payments/{payment}")).await;
    for needle in [
        "Payment attempt",
        "Provider reported",
        &txn,
        "¥10.00",
        "payment.succeeded",
        "refund.create",
        "alice",
    ] {
        assert!(page.contains(needle), "the timeline shows {needle}");
    }
    assert!(page.contains("id=\"refundable\">¥10.00"), "half is left");

    // More than is left is refused, and nothing is refunded.
    let (_, page) = op.get(&format!("/dashboard/payments/{payment}")).await;
    let key = input_value(&page, "idempotency_key").unwrap();
    let (status, _, body) = op
        .post(
            &format!("/dashboard/payments/{payment}/refund"),
            &[("amount", "10.01"), ("idempotency_key", key.as_str())],
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("refund-problem"));
    let (_, refunds) = app.api_get(&format!("/v1/refunds?payment={payment}")).await;
    assert_eq!(refunds["data"].as_array().unwrap().len(), 1);
    let (_, html) = op.get(&format!("/dashboard/refunds?q={payment}")).await;
    assert!(html.contains(refunds["data"][0]["id"].as_str().unwrap()));
}

async fn a_form_without_the_sessions_csrf_token_is_refused_and_changes_nothing(db: Db) {
    let app = spawn_on(db).await;
    let (session, payment, _) = paid(&app, 800, "order-1").await;
    let op = dashboard::sign_in(&app, "alice").await;
    let (_, page) = op.get(&format!("/dashboard/payments/{payment}")).await;
    let key = input_value(&page, "idempotency_key").unwrap();
    let path = format!("/dashboard/payments/{payment}/refund");
    let (status, _, _) = op
        .post_raw(&path, &[("amount", "1"), ("idempotency_key", key.as_str())])
        .await;
    assert_eq!(status, 403, "no token");
    let (status, _, _) = op
        .post_raw(
            &path,
            &[
                ("csrf", "A".repeat(43).as_str()),
                ("amount", "1"),
                ("idempotency_key", key.as_str()),
            ],
        )
        .await;
    assert_eq!(status, 403, "another token");
    // Another operator's token is not this session's.
    let other = dashboard::sign_in(&app, "bob").await;
    let (status, _, _) = op
        .post_raw(
            &path,
            &[
                ("csrf", other.csrf.as_str()),
                ("amount", "1"),
                ("idempotency_key", key.as_str()),
            ],
        )
        .await;
    assert_eq!(status, 403);
    let (_, refunds) = app.api_get(&format!("/v1/refunds?payment={payment}")).await;
    assert!(refunds["data"].as_array().unwrap().is_empty(), "{refunds}");
    let (status, _, _) = op
        .post_raw(&format!("/dashboard/sessions/{session}/expire"), &[])
        .await;
    assert_eq!(status, 403);
}

on_both_databases!(
    a_paid_checkout_is_found_refunded_by_half_once_and_its_timeline_shows_it,
    a_form_without_the_sessions_csrf_token_is_refused_and_changes_nothing
);

#[tokio::test]
async fn an_operator_expires_an_open_session_but_not_a_paid_one() {
    let app = spawn_app().await;
    let open = app.create_session(300).await;
    let open = open["id"].as_str().unwrap();
    let (paid_session, _, _) = paid(&app, 300, "order-2").await;
    let op = dashboard::sign_in(&app, "alice").await;
    let (_, page) = op.get(&format!("/dashboard/sessions/{open}")).await;
    assert!(page.contains("expire-submit"));
    let (status, to, _) = op
        .post(&format!("/dashboard/sessions/{open}/expire"), &[])
        .await;
    assert_eq!(
        (status, to.as_str()),
        (
            303,
            format!("/dashboard/sessions/{open}?done=expired").as_str()
        )
    );
    let (_, s) = app.api_get(&format!("/v1/checkout_sessions/{open}")).await;
    assert_eq!(s["status"], "expired");
    let (_, page) = op.get(&format!("/dashboard/sessions/{open}")).await;
    assert!(page.contains("checkout.session.expired") && page.contains("session.expire"));
    let (status, _, _) = op
        .post(&format!("/dashboard/sessions/{paid_session}/expire"), &[])
        .await;
    assert_eq!(status, 409);
}

#[tokio::test]
async fn dashboard_pages_forbid_scripts_and_framing_and_are_never_cached() {
    let app = spawn_app().await;
    let op = dashboard::sign_in(&app, "alice").await;
    let res = op
        .client
        .get(app.url("/dashboard/payments"))
        .send()
        .await
        .unwrap();
    let h = res.headers();
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert!(!csp.contains("script-src"), "no script at all: {csp}");
    assert_eq!(h["cache-control"], "no-store");
    // Both languages.
    let res = op
        .client
        .get(app.url("/dashboard/payments"))
        .header("accept-language", "zh-CN,zh;q=0.9")
        .send()
        .await
        .unwrap();
    let html = res.text().await.unwrap();
    assert!(
        html.contains("lang=\"zh-CN\"") && html.contains("支付"),
        "{html}"
    );
}

#[tokio::test]
async fn operators_are_managed_on_the_command_line_and_a_disabled_one_is_signed_out() {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    let app = spawn_app().await;
    let run = |args: &[&str], stdin: Option<&str>| {
        let mut child = Command::new(paybridge_tests::binary::paybridge_bin())
            .env_clear()
            .env("PAYBRIDGE_DATA_DIR", app.data_dir.path())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(text) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
        }
        let out = child.wait_with_output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, out, err) = run(
        &["users", "create", "dana", "--password-stdin"],
        Some(&format!("{}\n", dashboard::PASSWORD)),
    );
    assert!(ok, "{out}{err}");
    assert!(
        !out.contains(dashboard::PASSWORD),
        "a given password is not printed"
    );
    let (ok, _, err) = run(
        &["users", "create", "dana", "--password-stdin"],
        Some("another long password\n"),
    );
    assert!(!ok && err.contains("exists already"), "{err}");
    let (ok, _, err) = run(
        &["users", "create", "erin", "--password-stdin"],
        Some("short\n"),
    );
    assert!(!ok && err.contains("at least 12"), "{err}");
    // Without --password-stdin a strong password is generated and shown once.
    let (ok, out, _) = run(&["users", "create", "erin"], None);
    assert!(ok);
    let generated = out
        .lines()
        .find_map(|l| l.strip_prefix("password: "))
        .unwrap()
        .to_owned();
    let (_, res) = dashboard::post_sign_in(&app, "erin", &generated).await;
    assert_eq!(res.status(), 303, "the generated password signs in");
    let (ok, out, _) = run(&["users", "list"], None);
    assert!(
        ok && out.contains("dana") && out.contains("erin") && out.contains("active"),
        "{out}"
    );
    let (ok, out, _) = run(&["users", "link", "erin"], None);
    assert!(
        ok && out.starts_with("/dashboard/login/link?token="),
        "{out}"
    );

    // dana signs in, then is disabled from the command line: her session ends at once.
    let (client, res) = dashboard::post_sign_in(&app, "dana", dashboard::PASSWORD).await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        client
            .get(app.url("/dashboard"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let (ok, out, _) = run(&["users", "disable", "dana"], None);
    assert!(ok, "{out}");
    assert_eq!(
        client
            .get(app.url("/dashboard"))
            .send()
            .await
            .unwrap()
            .status(),
        303
    );
    let (_, res) = dashboard::post_sign_in(&app, "dana", dashboard::PASSWORD).await;
    assert_eq!(res.status(), 401, "a disabled operator cannot sign in");
    let (ok, out, _) = run(&["users", "list"], None);
    assert!(ok && out.contains("disabled"), "{out}");
}
