//! Payment successes written in groups (one transaction, four statements for the whole group)
//! must end as if they had been written one by one: each attempt succeeds once, each session
//! completes once, through its first paid attempt, and a second paid attempt of a completed
//! session is refunded. On both databases.

use std::sync::Arc;
use std::time::Duration;

use paybridge_server::domain::PaymentMethod;
use paybridge_server::domain::ids::PaymentId;
use paybridge_server::service::success::{self, Success};
use paybridge_tests::notify::{transaction_success_of, unix_now};
use paybridge_tests::shopper::{pay, pay_h5, pay_qr, scan};
use paybridge_tests::{Db, TestApp, on_both_databases, spawn_on, wait};
use serde_json::{Value, json};

/// 4003: the sandbox never notifies about these itself, so every success here is ours.
const AMOUNT: i64 = 4003;

/// A new session with a QR attempt and an H5 attempt: (session id, QR action, H5 action).
async fn session_with_two_attempts(app: &TestApp) -> (String, Value, Value) {
    let session = app.create_session(AMOUNT).await;
    let id = session["id"].as_str().unwrap().to_owned();
    let qr = pay_qr(app, &id).await;
    let h5 = pay(
        app,
        &id,
        &json!({"method": "wechat_pay", "environment": "mobile"}),
    )
    .await;
    (id, qr, h5)
}

fn payment_of(action: &Value) -> String {
    action["payment"].as_str().unwrap().to_owned()
}

fn success(payment: &str) -> Success {
    Success {
        payment: PaymentId::parse(payment).unwrap(),
        transaction_id: Some(format!("4200{payment}")),
    }
}

async fn one_group_ends_as_if_written_one_by_one(db: Db) {
    let app = Arc::new(spawn_on(db).await);
    let (first_session, qr, h5) = session_with_two_attempts(&app).await;
    let (a, b) = (payment_of(&qr), payment_of(&h5));
    let second = app.create_session(AMOUNT).await;
    let second_session = second["id"].as_str().unwrap().to_owned();
    let c = pay_qr(&app, &second_session).await["payment"]
        .as_str()
        .unwrap()
        .to_owned();
    // A group: both attempts of the first session, a duplicate, and the second session's.
    let group = [success(&a), success(&b), success(&a), success(&c)];
    let write = success::writer(app.state.services().urls().clone(), false);
    let mut tx = app.state.store().begin().await.unwrap();
    let written = write(&mut tx, &group).await.unwrap();
    tx.commit().await.unwrap();

    assert_eq!(written.len(), group.len());
    let (paid_a, completed_a) = written[0].clone().expect("a succeeds");
    assert_eq!(paid_a.id.as_str(), a);
    assert_eq!(
        paid_a.provider_transaction_id.as_deref(),
        Some(format!("4200{a}").as_str())
    );
    let (session, open) = completed_a.expect("a completes the first session");
    assert_eq!(session.id.as_str(), first_session);
    assert_eq!(
        open, 0,
        "b was paid in the same group, so nothing is left open"
    );
    let (paid_b, completed_b) = written[1].clone().expect("b succeeds too");
    assert_eq!(paid_b.id.as_str(), b);
    assert!(
        completed_b.is_none(),
        "the session was completed by a already"
    );
    assert!(written[2].is_none(), "a duplicate changes nothing");
    let (_, completed_c) = written[3].clone().expect("c succeeds");
    assert_eq!(completed_c.unwrap().0.id.as_str(), second_session);

    // Written again, the whole group is a duplicate.
    let mut tx = app.state.store().begin().await.unwrap();
    let again = write(&mut tx, &group).await.unwrap();
    tx.commit().await.unwrap();
    assert!(again.iter().all(Option::is_none), "{again:?}");

    for p in [&a, &b, &c] {
        assert_eq!(app.events_about("payment.succeeded", p).await, 1, "{p}");
    }
    for s in [&first_session, &second_session] {
        assert_eq!(
            app.events_about("checkout.session.completed", s).await,
            1,
            "{s}"
        );
    }
}

async fn concurrent_notifications_for_two_attempts_of_one_session_complete_it_once(db: Db) {
    let app = Arc::new(spawn_on(db).await);
    let (id, qr, h5) = session_with_two_attempts(&app).await;
    let (a, b) = (payment_of(&qr), payment_of(&h5));
    // The shopper pays both at WeChat (the sandbox): the QR with one phone, the H5 cashier in
    // a browser.
    scan(&app, qr["code_url"].as_str().unwrap(), "pay").await;
    pay_h5(&app, h5["url"].as_str().unwrap()).await;
    let appid = app.state.sandbox().unwrap().keys().appid.clone();
    let mut notifications = Vec::new();
    for p in [&a, &b] {
        let (_, attempt) = app.api_get(&format!("/v1/payments/{p}")).await;
        let out_trade_no = attempt["out_trade_no"].as_str().unwrap();
        // What WeChat (the sandbox) recorded, so the refund names its transaction.
        let trade = app
            .state
            .provider(PaymentMethod::WechatPay)
            .unwrap()
            .query(out_trade_no)
            .await
            .unwrap();
        notifications.push(transaction_success_of(
            &app,
            out_trade_no,
            trade.transaction_id.as_deref().unwrap(),
            &appid,
            AMOUNT,
            unix_now(),
        ));
    }
    // Ten copies of each, all in flight at once: on SQLite they meet in the same groups (the
    // reconciler, querying the sandbox, may come first; the outcome must be the same).
    let mut tasks = Vec::new();
    for _ in 0..10 {
        for (headers, body) in notifications.clone() {
            let app = app.clone();
            tasks.push(tokio::spawn(async move {
                let mut req = app
                    .client
                    .post(app.url("/notify/wechat"))
                    .header("content-type", "application/json")
                    .body(body);
                for (k, v) in &headers {
                    req = req.header(k.as_str(), v.as_str());
                }
                req.send().await.unwrap().status().as_u16()
            }));
        }
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 204);
    }
    let (_, s) = app.api_get(&format!("/v1/checkout_sessions/{id}")).await;
    assert_eq!(s["status"], "complete");
    assert_eq!(app.events_about("checkout.session.completed", &id).await, 1);
    for p in [&a, &b] {
        assert_eq!(app.events_about("payment.succeeded", p).await, 1, "{p}");
    }
    // Exactly one of the two is refunded, as a duplicate payment.
    let refunds = wait::until(
        "the second payment to be refunded",
        Duration::from_secs(30),
        || async {
            let (_, list) = app.api_get("/v1/events?type=refund.succeeded").await;
            let data = list["data"].as_array()?.clone();
            (!data.is_empty()).then_some(data)
        },
    )
    .await;
    assert_eq!(refunds.len(), 1, "{refunds:?}");
    let refund = &refunds[0]["data"]["object"];
    assert_eq!(refund["reason"], "duplicate_payment", "{refund}");
    assert!(
        refund["payment"] == a.as_str() || refund["payment"] == b.as_str(),
        "{refund}"
    );
}

/// A new session as the merchant API would make it.
fn new_session() -> paybridge_server::domain::NewSession {
    let new: paybridge_server::service::sessions::CreateSession =
        serde_json::from_value(paybridge_tests::session_request(1)).unwrap();
    new.validate(i64::MAX, &["https://shop.example.com".to_owned()])
        .unwrap()
}

/// New sessions are written in groups of multi-row INSERTs. Sessions created in the same
/// millisecond — one stored before, then 150 at once, grouped in chunks of several sizes —
/// each get their own place in that millisecond (`seq`), so the list pages through every one
/// of them exactly once.
async fn sessions_created_in_one_millisecond_list_once_each(db: Db) {
    let app = Arc::new(spawn_on(db).await);
    let store = app.state.store().clone();
    let new = new_session();
    let now = 1_700_000_000_123;
    let first = store.insert_session(&new, now).await.unwrap().id;
    let tasks: Vec<_> = (0..150)
        .map(|_| {
            let (store, new) = (store.clone(), new.clone());
            tokio::spawn(async move { store.insert_session(&new, now).await.unwrap().id })
        })
        .collect();
    let mut ids = vec![first.to_string()];
    for task in tasks {
        ids.push(task.await.unwrap().to_string());
    }
    let seqs: Vec<i64> =
        sqlx::query_scalar("SELECT seq FROM checkout_sessions WHERE created_at = $1 ORDER BY seq")
            .bind(now)
            .fetch_all(store.pool())
            .await
            .unwrap();
    assert_eq!(seqs, (0..151).collect::<Vec<i64>>(), "one place each");
    let first_seq: i64 = sqlx::query_scalar("SELECT seq FROM checkout_sessions WHERE id = $1")
        .bind(first.as_str())
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(
        first_seq, 0,
        "the session stored first keeps the first place"
    );

    let mut listed = Vec::new();
    let mut after = None;
    loop {
        let page = store.list_sessions(None, after.as_ref(), 40).await.unwrap();
        let Some(last) = page.last() else { break };
        after = Some(last.id.clone());
        listed.extend(page.iter().map(|s| s.id.to_string()));
        assert!(listed.len() <= ids.len(), "pagination does not end");
    }
    assert_eq!(listed.last(), Some(&ids[0]), "oldest place last");
    listed.sort();
    ids.sort();
    assert_eq!(listed, ids, "every session listed exactly once");
}

/// On SQLite the group writers never checkpoint the WAL themselves (it held every write up);
/// a task of the store's does. After a burst of writes and nothing else, what they wrote
/// reaches the database file.
#[tokio::test]
async fn sqlite_wal_is_checkpointed_after_a_burst() {
    let app = Arc::new(spawn_on(Db::Sqlite).await);
    let file = app.data_dir.path().join("paybridge.db");
    let size = |file: &std::path::Path| std::fs::metadata(file).unwrap().len();
    let before = size(&file);
    let (store, new) = (app.state.store().clone(), new_session());
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let (store, new) = (store.clone(), new.clone());
            tokio::spawn(async move {
                for _ in 0..100 {
                    store.insert_session(&new, unix_now() * 1000).await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    paybridge_tests::wait::until(
        "the burst checkpointed into the database file",
        Duration::from_secs(20),
        || async { (size(&file) > before + 256 * 1024).then_some(()) },
    )
    .await;
}

/// A payment acknowledged must survive a power cut, not only a crash of the process: on
/// SQLite every connection, the group writers' included, syncs the WAL at each commit
/// (`synchronous = FULL`; SQLite's WAL default, `NORMAL`, syncs only at checkpoints).
#[tokio::test]
async fn sqlite_commits_are_synced_before_they_are_acknowledged() {
    let app = spawn_on(Db::Sqlite).await;
    let store = app.state.store();
    let synchronous = || sqlx::query_scalar::<_, i64>("PRAGMA synchronous");
    // 2 is FULL.
    assert_eq!(synchronous().fetch_one(store.pool()).await.unwrap(), 2);
    let writers = store
        .write(move |tx| Box::pin(async move { synchronous().fetch_one(&mut **tx).await }))
        .await
        .unwrap();
    assert_eq!(writers, 2, "the group writers' connection");
}

/// A write whose statement fails is rolled back whole (its first statement with it), and the
/// group writers' connection is left outside any transaction: the next writes commit, as
/// another connection sees.
async fn a_failed_write_is_rolled_back_and_the_next_one_commits(db: Db) {
    let app = spawn_on(db).await;
    let store = app.state.store().clone();
    // Used now: the retention job, which may run meanwhile, prunes old ones.
    let now = unix_now() * 1000;
    let insert = move |token: &'static str| {
        sqlx::query("INSERT INTO used_tokens (token_hash, used_at) VALUES ($1, $2)")
            .bind(token)
            .bind(now)
    };
    let failed = store
        .write(move |tx| {
            Box::pin(async move {
                insert("kept-a").execute(&mut **tx).await?;
                // The primary key again: the database refuses it.
                insert("kept-a").execute(&mut **tx).await.map(drop)
            })
        })
        .await;
    assert!(failed.is_err(), "{failed:?}");
    for token in ["kept-b", "kept-c"] {
        store
            .write(move |tx| {
                Box::pin(async move { insert(token).execute(&mut **tx).await.map(drop) })
            })
            .await
            .unwrap();
    }
    let tokens: Vec<String> = sqlx::query_scalar(
        "SELECT token_hash FROM used_tokens WHERE token_hash LIKE 'kept-%' ORDER BY token_hash",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert_eq!(tokens, ["kept-b", "kept-c"]);
}

on_both_databases!(
    a_failed_write_is_rolled_back_and_the_next_one_commits,
    sessions_created_in_one_millisecond_list_once_each,
    one_group_ends_as_if_written_one_by_one,
    concurrent_notifications_for_two_attempts_of_one_session_complete_it_once
);
