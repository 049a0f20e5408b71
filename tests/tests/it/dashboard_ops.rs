//! The dashboard's operations pages over real HTTP against the sandbox: webhook endpoints
//! (secret shown once, rolled, disabled), replaying an event, API keys (shown once, revoked keys
//! refused by the API), the audit log, CSRF refusals, reconciliation from the page and on a
//! daily schedule that runs once across instances.

use std::time::Duration;

use hmac::{Hmac, Mac};
use paybridge_server::providers::wechat::orders::{NativeOrder, OrderAmount, OrderCommon};
use paybridge_server::service::reconciliations;
use paybridge_tests::receiver::{Received, Receiver};
use paybridge_tests::{
    Db, Options, TestApp, fresh_database, on_both_databases, spawn, spawn_app, wait,
};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::dashboard_client::{Dashboard, token_after};

fn signed_with(secret: &str, r: &Received) -> bool {
    let header = r.headers["paybridge-signature"].to_str().unwrap();
    let t = header
        .split(',')
        .find_map(|p| p.strip_prefix("t="))
        .unwrap();
    header
        .split(',')
        .filter_map(|p| p.strip_prefix("v1="))
        .any(|v1| {
            let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap();
            mac.update(format!("{t}.").as_bytes());
            mac.update(&r.body);
            mac.verify_slice(&hex::decode(v1).unwrap()).is_ok()
        })
}

async fn expire_a_session(app: &TestApp) -> String {
    let s = app.create_session(300).await;
    let id = s["id"].as_str().unwrap().to_owned();
    app.expire_session(&id).await;
    id
}

async fn add_endpoint(dash: &Dashboard, url: &str) -> (String, String) {
    let added = dash
        .post("/dashboard/webhooks", &[("url", url), ("event", "*")])
        .await;
    assert_eq!(added.status, 200, "{}", added.body);
    let secret = token_after(&added.body, "whsec_").expect("the secret on the answer page");
    assert!(added.body.contains("Copy it now"), "{}", added.body);
    let list = dash.get("/dashboard/webhooks").await;
    assert_eq!(list.status, 200);
    assert!(list.body.contains(url), "{}", list.body);
    assert!(
        !list.body.contains("whsec_"),
        "a secret is shown again: {}",
        list.body
    );
    let id = token_after(&list.body, "we_").expect("the endpoint's id");
    (id, secret)
}

async fn audit_page(dash: &Dashboard) -> String {
    let page = dash.get("/dashboard/audit").await;
    assert_eq!(page.status, 200, "{}", page.body);
    page.body
}

#[tokio::test]
async fn an_endpoint_is_added_rolled_and_disabled_from_the_dashboard_with_each_secret_shown_once() {
    let app = spawn_app().await;
    let dash = Dashboard::sign_in(&app, "ops").await;
    let receiver = Receiver::start(&[]).await;
    let (id, secret) = add_endpoint(&dash, &receiver.url).await;

    expire_a_session(&app).await;
    let got = receiver.wait_for(1, Duration::from_secs(20)).await;
    assert!(
        signed_with(&secret, &got[0]),
        "signed with the secret shown"
    );

    let rolled = dash
        .post(
            &format!("/dashboard/webhooks/{id}/roll"),
            &[("expires_in", "0")],
        )
        .await;
    assert_eq!(rolled.status, 200, "{}", rolled.body);
    let new_secret = token_after(&rolled.body, "whsec_").unwrap();
    assert_ne!(new_secret, secret);
    let list = dash.get("/dashboard/webhooks").await;
    assert!(!list.body.contains("whsec_"), "{}", list.body);
    expire_a_session(&app).await;
    let got = receiver.wait_for(2, Duration::from_secs(20)).await;
    assert!(signed_with(&new_secret, &got[1]));
    assert!(
        !signed_with(&secret, &got[1]),
        "the old secret retired at once"
    );

    let confirm = dash.get(&format!("/dashboard/webhooks/{id}/disable")).await;
    assert_eq!(confirm.status, 200);
    assert!(
        confirm.body.contains("Disable endpoint"),
        "{}",
        confirm.body
    );
    let disabled = dash
        .post(&format!("/dashboard/webhooks/{id}/disable"), &[])
        .await;
    assert_eq!(disabled.status, 303, "{}", disabled.body);
    assert_eq!(
        disabled.location.as_deref(),
        Some("/dashboard/webhooks?notice=disabled")
    );
    let (_, endpoints) = app.api_get("/v1/webhook_endpoints").await;
    assert_eq!(endpoints["data"], json!([]));
    let again = dash
        .post(&format!("/dashboard/webhooks/{id}/disable"), &[])
        .await;
    assert_eq!(again.status, 404);

    let audit = audit_page(&dash).await;
    for action in [
        "webhook_endpoint.create",
        "webhook_endpoint.roll_secret",
        "webhook_endpoint.disable",
    ] {
        assert!(audit.contains(action), "{action} missing: {audit}");
    }
    assert!(audit.contains(&id));
    assert!(
        !audit.contains("whsec_"),
        "a secret in the audit log: {audit}"
    );
}

#[tokio::test]
async fn an_endpoint_is_refused_like_the_api_refuses_it() {
    let app = spawn_app().await;
    let dash = Dashboard::sign_in(&app, "ops").await;
    let refused = dash
        .post(
            "/dashboard/webhooks",
            &[("url", "http://shop.example.com/hook"), ("event", "*")],
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.body.contains("url: "), "{}", refused.body);
    let none = dash
        .post(
            "/dashboard/webhooks",
            &[("url", "https://shop.example.com/hook")],
        )
        .await;
    assert_eq!(none.status, 422, "{}", none.body);
    let (_, endpoints) = app.api_get("/v1/webhook_endpoints").await;
    assert_eq!(endpoints["data"], json!([]));
}

#[tokio::test]
async fn replaying_an_event_from_the_dashboard_delivers_it_again() {
    let app = spawn_app().await;
    let dash = Dashboard::sign_in(&app, "ops").await;
    let receiver = Receiver::start(&[]).await;
    add_endpoint(&dash, &receiver.url).await;
    expire_a_session(&app).await;
    let got = receiver.wait_for(1, Duration::from_secs(20)).await;
    let event: Value = serde_json::from_slice(&got[0].body).unwrap();
    let event_id = event["id"].as_str().unwrap().to_owned();

    let page = dash.get("/dashboard/webhooks").await;
    assert!(
        page.body
            .contains(&format!("href=\"/dashboard/events/{event_id}\"")),
        "{}",
        page.body
    );
    let replayed = dash
        .post(
            &format!("/dashboard/events/{event_id}/replay"),
            &[("back", "/dashboard/webhooks")],
        )
        .await;
    assert_eq!(replayed.status, 303, "{}", replayed.body);
    assert_eq!(
        replayed.location.as_deref(),
        Some("/dashboard/webhooks?notice=replayed")
    );
    let got = receiver.wait_for(2, Duration::from_secs(20)).await;
    assert_eq!(
        got[1].headers["paybridge-event-id"].to_str().unwrap(),
        event_id
    );
    // The delivery's row shows the second attempt.
    wait::until(
        "the page to show two attempts",
        Duration::from_secs(10),
        || async {
            let page = dash.get("/dashboard/webhooks").await;
            page.body.contains("<td class=\"num\">2</td>").then_some(())
        },
    )
    .await;
    let notice = dash.get("/dashboard/webhooks?notice=replayed").await;
    assert!(notice.body.contains("queued again"), "{}", notice.body);
    assert!(audit_page(&dash).await.contains("event.replay"));

    let unknown = dash
        .post(
            "/dashboard/events/evt_00000000000000000000000000000000/replay",
            &[],
        )
        .await;
    assert_eq!(unknown.status, 404);
}

#[tokio::test]
async fn a_key_is_shown_once_and_once_revoked_no_longer_authenticates() {
    let app = spawn_app().await;
    let dash = Dashboard::sign_in(&app, "ops").await;
    let created = dash.post("/dashboard/keys", &[]).await;
    assert_eq!(created.status, 200, "{}", created.body);
    assert!(created.body.contains("Copy it now"), "{}", created.body);
    let key = token_after(&created.body, "sk_test_").expect("the key on the answer page");
    assert_eq!(key.len(), "sk_test_".len() + 48, "{key}");

    let api = |key: String| {
        let app = &app;
        async move {
            app.client
                .get(app.url("/v1/checkout_sessions?limit=1"))
                .bearer_auth(key)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(api(key.clone()).await, 200);

    let list = dash.get("/dashboard/keys").await;
    assert!(!list.body.contains(&key), "the key is shown again");
    let key_id = paybridge_server::service::api_keys::list(app.state.services())
        .await
        .unwrap()
        .into_iter()
        .find(|k| key.starts_with(k.display.split('…').next().unwrap()) && k.revoked_at.is_none())
        .map(|k| k.id)
        .unwrap();
    assert!(list.body.contains(&key_id));
    let confirm = dash.get(&format!("/dashboard/keys/{key_id}/revoke")).await;
    assert_eq!(confirm.status, 200);
    assert!(confirm.body.contains("Revoke key"), "{}", confirm.body);
    let revoked = dash
        .post(&format!("/dashboard/keys/{key_id}/revoke"), &[])
        .await;
    assert_eq!(revoked.status, 303, "{}", revoked.body);
    assert_eq!(api(key.clone()).await, 401, "a revoked key is refused");
    assert_eq!(api(app.api_key.clone()).await, 200, "other keys still work");
    let list = dash.get("/dashboard/keys?notice=revoked").await;
    assert!(list.body.contains("revoked"), "{}", list.body);

    let audit = audit_page(&dash).await;
    assert!(audit.contains("api_key.create") && audit.contains("api_key.revoke"));
    assert!(!audit.contains(&key), "a key in the audit log");
}

#[tokio::test]
async fn a_form_without_this_sessions_csrf_token_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let dash = Dashboard::sign_in(&app, "ops").await;
    let keys_before = paybridge_server::service::api_keys::list(app.state.services())
        .await
        .unwrap()
        .len();
    let missing = dash.send_form("/dashboard/keys", &[]).await;
    assert_eq!(missing.status, 403, "{}", missing.body);
    let wrong = dash
        .send_form("/dashboard/keys", &[("csrf", "not-the-token")])
        .await;
    assert_eq!(wrong.status, 403);
    let hook = dash
        .send_form(
            "/dashboard/webhooks",
            &[("url", "https://shop.example.com/hook"), ("event", "*")],
        )
        .await;
    assert_eq!(hook.status, 403);
    let run = dash
        .send_form("/dashboard/reconciliation", &[("date", "2026-01-01")])
        .await;
    assert_eq!(run.status, 403);
    let keys_after = paybridge_server::service::api_keys::list(app.state.services())
        .await
        .unwrap()
        .len();
    assert_eq!(keys_before, keys_after);
    let (_, endpoints) = app.api_get("/v1/webhook_endpoints").await;
    assert_eq!(endpoints["data"], json!([]));
    assert!(
        reconciliations::list(app.state.services(), None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let audit = audit_page(&dash).await;
    assert!(!audit.contains("api_key.create"), "{audit}");
}

fn today_in_beijing() -> String {
    reconciliations::date_text(reconciliations::today())
}

/// Pays a session of `amount` fen with the simulated WeChat Pay.
async fn pay(app: &TestApp, amount: i64) {
    let session = app.create_session(amount).await;
    let id = session["id"].as_str().unwrap();
    let qr: Value = app
        .client
        .post(app.url(&format!("/api/checkout/{id}/pay")))
        .json(&json!({"method": "wechat_pay", "environment": "desktop"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    scan(app, qr["code_url"].as_str().unwrap()).await;
    app.until_complete(id).await;
}

async fn scan(app: &TestApp, code_url: &str) {
    let scan = app
        .client
        .post(app.url("/sandbox/wechat/scan/pay"))
        .form(&[("code_url", code_url), ("user", "gina"), ("action", "pay")])
        .send()
        .await
        .unwrap();
    assert!(scan.status().is_success());
}

/// An order paid at WeChat that paybridge never made.
async fn stray_order(app: &TestApp) {
    let wechat = app.state.wechat().unwrap();
    let stray = NativeOrder {
        common: OrderCommon {
            appid: wechat.appid.clone(),
            mchid: wechat.pay.mchid().to_owned(),
            description: "stray".into(),
            out_trade_no: "stray0000000000000002".into(),
            time_expire: None,
            attach: None,
            notify_url: app.url("/notify/wechat").to_string(),
            amount: OrderAmount {
                total: 77,
                currency: Some("CNY".into()),
            },
            detail: None,
        },
    };
    let prepay = wechat.pay.create_native_order(&stray).await.unwrap();
    scan(app, &prepay.code_url).await;
}

#[tokio::test]
async fn a_day_reconciled_from_the_page_is_stored_and_shown_with_its_differences() {
    let app = spawn_app().await;
    let dash = Dashboard::sign_in(&app, "ops").await;
    let today = today_in_beijing();

    pay(&app, 2600).await;
    let clean = dash
        .post("/dashboard/reconciliation", &[("date", &today)])
        .await;
    assert_eq!(clean.status, 303, "{}", clean.body);
    let page = dash.get("/dashboard/reconciliation").await;
    assert!(page.body.contains(&today), "{}", page.body);
    assert!(page.body.contains("badge good\">ok<"), "{}", page.body);

    // Two differences: an order paybridge does not know, and a payment whose amount differs.
    stray_order(&app).await;
    sqlx::query("UPDATE payments SET amount = amount + 1 WHERE status = 'succeeded'")
        .execute(app.state.store().pool())
        .await
        .unwrap();
    let run = dash
        .post("/dashboard/reconciliation", &[("date", &today)])
        .await;
    assert_eq!(run.status, 303, "{}", run.body);
    assert_eq!(
        run.location.as_deref(),
        Some("/dashboard/reconciliation?notice=reconciled")
    );
    let page = dash.get("/dashboard/reconciliation").await;
    assert!(
        page.body.contains("badge bad\">differences<"),
        "{}",
        page.body
    );
    assert!(page.body.contains("stray0000000000000002"), "{}", page.body);
    assert!(
        page.body.contains("href=\"/dashboard/payments/pay_"),
        "the payment is linked: {}",
        page.body
    );
    assert!(page.body.contains("Earlier runs"), "{}", page.body);
    let runs = reconciliations::list(app.state.services(), None, 10)
        .await
        .unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0].outcome, "differences");
    assert_eq!(runs[1].outcome, "ok");
    let audit = audit_page(&dash).await;
    assert!(audit.contains("reconciliation.run"), "{audit}");
    assert!(audit.contains(&runs[0].id), "{audit}");

    let tomorrow = reconciliations::date_text(reconciliations::today().next_day().unwrap());
    let future = dash
        .post("/dashboard/reconciliation", &[("date", &tomorrow)])
        .await;
    assert_eq!(future.status, 422, "{}", future.body);
    assert_eq!(
        reconciliations::list(app.state.services(), None, 10)
            .await
            .unwrap()
            .len(),
        2
    );
}

/// Two instances on one database, both reconciling daily at 00:00 (always passed, so both try
/// at start): yesterday is reconciled once.
async fn the_daily_reconciliation_runs_once_across_two_instances(db: Db) {
    let url = fresh_database(db).await;
    let args = vec!["--reconcile-at".to_owned(), "00:00".to_owned()];
    let a = spawn(Options {
        database_url: url.clone(),
        args: args.clone(),
        ..Options::default()
    })
    .await;
    let b = spawn(Options {
        database_url: url,
        // SQLite: the same file; Postgres: the same database.
        data_dir: (db == Db::Sqlite).then(|| a.data_dir.clone()),
        args,
    })
    .await;
    let yesterday = reconciliations::date_text(reconciliations::today().previous_day().unwrap());
    let run = wait::until(
        "the scheduled run of yesterday to finish",
        Duration::from_secs(30),
        || async {
            let runs = reconciliations::list(a.state.services(), None, 10)
                .await
                .ok()?;
            runs.into_iter()
                .find(|r| r.bill_date == yesterday && r.outcome != "running")
        },
    )
    .await;
    assert_eq!(run.outcome, "ok", "{run:?}");
    assert!(run.summary.contains("\"schedule\""), "{run:?}");
    // Whichever instance got there second finds the day taken, now and later.
    for app in [&a, &b] {
        assert!(
            reconciliations::run_scheduled(app.state.services(), &yesterday)
                .await
                .unwrap()
                .is_none()
        );
    }
    // Both asking for another day at the same moment: one runs it.
    let earlier = reconciliations::date_text(
        reconciliations::today()
            .previous_day()
            .unwrap()
            .previous_day()
            .unwrap(),
    );
    let (x, y) = tokio::join!(
        reconciliations::run_scheduled(a.state.services(), &earlier),
        reconciliations::run_scheduled(b.state.services(), &earlier),
    );
    assert_eq!(
        usize::from(x.unwrap().is_some()) + usize::from(y.unwrap().is_some()),
        1
    );
    let runs = reconciliations::list(b.state.services(), None, 10)
        .await
        .unwrap();
    assert_eq!(
        runs.iter().filter(|r| r.bill_date == yesterday).count(),
        1,
        "{runs:?}"
    );
    assert_eq!(
        runs.iter().filter(|r| r.bill_date == earlier).count(),
        1,
        "{runs:?}"
    );

    // The page shows the scheduled run and the schedule.
    let dash = Dashboard::sign_in(&b, "ops").await;
    let page = dash.get("/dashboard/reconciliation").await;
    assert!(page.body.contains("daily schedule"), "{}", page.body);
    assert!(page.body.contains("00:00"), "{}", page.body);
}

on_both_databases!(the_daily_reconciliation_runs_once_across_two_instances);
