//! Webhooks: signed with the documented scheme, retried until 2xx, delivered once across
//! instances, resumed after a crash; sessions expire without any traffic.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use paybridge_tests::receiver::{Received, Receiver};
use paybridge_tests::{
    Db, Options, TestApp, fresh_database, on_both_databases, spawn, spawn_on, wait,
};
use serde_json::{Value, json};
use sha2::Sha256;

/// Checks `Paybridge-Signature` exactly as the README documents it, with nothing from paybridge.
fn verify_documented_signature(secret: &str, r: &Received) -> Value {
    let header = r.headers["paybridge-signature"].to_str().unwrap();
    let mut t = "";
    let mut v1 = "";
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", v)) => t = v,
            Some(("v1", v)) => v1 = v,
            _ => {}
        }
    }
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.").as_bytes());
    mac.update(&r.body);
    mac.verify_slice(&hex::decode(v1).unwrap())
        .expect("signature verifies with the endpoint secret");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(
        now.abs_diff(t.parse::<u64>().unwrap()) < 300,
        "timestamp is current"
    );
    serde_json::from_slice(&r.body).unwrap()
}

async fn register(app: &TestApp, receiver: &Receiver) -> String {
    let (status, endpoint) = app
        .api_post("/v1/webhook_endpoints", &json!({"url": receiver.url}), None)
        .await;
    assert_eq!(status, 200, "{endpoint}");
    let secret = endpoint["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    let (_, list) = app.api_get("/v1/webhook_endpoints").await;
    assert!(
        list["data"][0].get("secret").is_none(),
        "the secret is shown only once: {list}"
    );
    secret
}

async fn expire(app: &TestApp, amount: i64) -> String {
    let s = app.create_session(amount).await;
    let id = s["id"].as_str().unwrap().to_owned();
    let (status, _) = app
        .api_post(
            &format!("/v1/checkout_sessions/{id}/expire"),
            &json!({}),
            None,
        )
        .await;
    assert_eq!(status, 200);
    id
}

/// Verifies a real delivery with Stripe's own Python library (`stripe.WebhookSignature`, pinned
/// and installed by `.ci/tools.sh test`): merchants can check `Paybridge-Signature` with code
/// they already have. Exit status 0 when the library accepts it.
fn stripe_library_accepts(secret: &str, r: &Received, tolerance: u64) -> bool {
    let python = std::env::var("PAYBRIDGE_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = "import sys, stripe\n\
        payload = sys.stdin.buffer.read().decode('utf-8')\n\
        try:\n    stripe.WebhookSignature.verify_header(payload, sys.argv[1], sys.argv[2], int(sys.argv[3]))\n\
        except stripe.SignatureVerificationError as e:\n    print(e); sys.exit(1)\n";
    let mut child = std::process::Command::new(&python)
        .args([
            "-c",
            script,
            r.headers["paybridge-signature"].to_str().unwrap(),
            secret,
            &tolerance.to_string(),
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{python}: {e} (run through `make test`, which installs it)"));
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), &r.body).unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("ModuleNotFoundError"),
        "Stripe's Python library is missing: run through `make test` ({stderr})"
    );
    out.status.success()
}

#[tokio::test]
async fn stripes_own_verifier_accepts_paybridge_signatures() {
    let app = paybridge_tests::spawn_app().await;
    let receiver = Receiver::start(&[]).await;
    let secret = register(&app, &receiver).await;
    expire(&app, 124).await;
    let got = receiver.wait_for(1, Duration::from_secs(20)).await;
    assert!(stripe_library_accepts(&secret, &got[0], 300));
    assert!(!stripe_library_accepts("whsec_someone_else", &got[0], 300));
    let mut tampered = got[0].clone();
    tampered.body = format!("{} ", String::from_utf8_lossy(&tampered.body)).into();
    assert!(!stripe_library_accepts(&secret, &tampered, 300));
}

async fn webhooks_carry_a_signature_the_receiver_can_verify(db: Db) {
    let app = spawn_on(db).await;
    let receiver = Receiver::start(&[]).await;
    let secret = register(&app, &receiver).await;
    let session = expire(&app, 123).await;
    let got = receiver.wait_for(1, Duration::from_secs(20)).await;
    let event = verify_documented_signature(&secret, &got[0]);
    assert_eq!(event["type"], "checkout.session.expired");
    assert_eq!(event["data"]["object"]["id"], session.as_str());
    assert_eq!(
        got[0].headers["paybridge-event-id"].to_str().unwrap(),
        event["id"].as_str().unwrap()
    );
    // The event log holds the same body.
    let (_, stored) = app
        .api_get(&format!("/v1/events/{}", event["id"].as_str().unwrap()))
        .await;
    assert_eq!(stored, event);
}

async fn a_failing_receiver_is_retried_until_it_answers_2xx(db: Db) {
    let app = spawn_on(db).await;
    let receiver = Receiver::start(&[500, 503]).await;
    register(&app, &receiver).await;
    expire(&app, 124).await;
    let got = receiver.wait_for(3, Duration::from_secs(30)).await;
    let ids: Vec<_> = got
        .iter()
        .map(|r| r.headers["paybridge-event-id"].to_str().unwrap().to_owned())
        .collect();
    assert!(
        ids.iter().all(|i| *i == ids[0]),
        "the same event is retried: {ids:?}"
    );
    let attempts = wait::until(
        "the third attempt to be recorded",
        Duration::from_secs(10),
        || {
            let (store, id) = (app.state.store().clone(), ids[0].clone());
            async move {
                store
                    .attempts_for_event(&id)
                    .await
                    .ok()
                    .filter(|a| a.len() == 3)
            }
        },
    )
    .await;
    let codes: Vec<_> = attempts.iter().map(|(_, c)| *c).collect();
    assert_eq!(codes, vec![Some(500), Some(503), Some(200)]);
}

async fn sessions_expire_on_their_own_without_traffic(db: Db) {
    let app = spawn_on(db).await;
    let receiver = Receiver::start(&[]).await;
    register(&app, &receiver).await;
    let s = app.create_session(125).await;
    let id = s["id"].as_str().unwrap();
    // Move the session's deadline into the past, as if its 30 minutes had gone by.
    sqlx::query("UPDATE checkout_sessions SET expires_at = expires_at - 3600000 WHERE id = $1")
        .bind(id)
        .execute(app.state.store().pool())
        .await
        .unwrap();
    let got = receiver.wait_for(1, Duration::from_secs(20)).await;
    let event: Value = serde_json::from_slice(&got[0].body).unwrap();
    assert_eq!(event["type"], "checkout.session.expired");
    assert_eq!(event["data"]["object"]["id"], id);
}

async fn a_replayed_event_is_delivered_again(db: Db) {
    let app = spawn_on(db).await;
    let receiver = Receiver::start(&[]).await;
    register(&app, &receiver).await;
    expire(&app, 126).await;
    let first = receiver.wait_for(1, Duration::from_secs(20)).await;
    let event_id = first[0].headers["paybridge-event-id"]
        .to_str()
        .unwrap()
        .to_owned();
    wait::until(
        "the first delivery to be recorded",
        Duration::from_secs(10),
        || {
            let (store, id) = (app.state.store().clone(), event_id.clone());
            async move {
                store
                    .attempts_for_event(&id)
                    .await
                    .ok()
                    .filter(|a| a.len() == 1)
            }
        },
    )
    .await;
    // A second endpoint registered later receives the replay too.
    let late = Receiver::start(&[]).await;
    register(&app, &late).await;
    assert_eq!(app.state.store().replay_event(&event_id).await.unwrap(), 2);
    let again = receiver.wait_for(2, Duration::from_secs(20)).await;
    assert_eq!(
        again[1].headers["paybridge-event-id"].to_str().unwrap(),
        event_id
    );
    let late_got = late.wait_for(1, Duration::from_secs(20)).await;
    assert_eq!(
        late_got[0].headers["paybridge-event-id"].to_str().unwrap(),
        event_id
    );
}

on_both_databases!(
    a_replayed_event_is_delivered_again,
    webhooks_carry_a_signature_the_receiver_can_verify,
    a_failing_receiver_is_retried_until_it_answers_2xx,
    sessions_expire_on_their_own_without_traffic,
);

#[tokio::test]
async fn two_instances_on_one_postgres_never_deliver_an_event_twice() {
    let url = fresh_database(Db::Postgres).await;
    let a = spawn(Options {
        database_url: url.clone(),
        ..Options::default()
    })
    .await;
    let b = spawn(Options {
        database_url: url,
        data_dir: None,
        ..Options::default()
    })
    .await;
    let receiver = Receiver::start(&[]).await;
    register(&a, &receiver).await;
    let n = 30;
    for i in 0..n {
        let app = if i % 2 == 0 { &a } else { &b };
        expire(app, 200 + i).await;
    }
    let got = receiver
        .wait_for(usize::try_from(n).unwrap(), Duration::from_secs(30))
        .await;
    let mut per_event = BTreeMap::new();
    for r in &got {
        *per_event
            .entry(r.headers["paybridge-event-id"].to_str().unwrap().to_owned())
            .or_insert(0) += 1;
    }
    assert_eq!(per_event.len(), usize::try_from(n).unwrap());
    assert!(
        per_event.values().all(|c| *c == 1),
        "duplicates: {per_event:?}"
    );
}

#[tokio::test]
async fn a_server_killed_mid_delivery_resumes_after_restart() {
    let receiver = Receiver::start(&[]).await;
    let first = spawn(Options {
        args: vec!["--job-lease-seconds".into(), "1".into()],
        ..Options::default()
    })
    .await;
    let data_dir = Arc::clone(&first.data_dir);
    register(&first, &receiver).await;
    receiver.hang(true);
    expire(&first, 300).await;
    receiver.wait_for(1, Duration::from_secs(20)).await;
    first.kill();
    receiver.hang(false);
    let second = spawn(Options {
        data_dir: Some(data_dir),
        args: vec!["--job-lease-seconds".into(), "1".into()],
        ..Options::default()
    })
    .await;
    let got = receiver.wait_for(2, Duration::from_secs(30)).await;
    assert_eq!(
        got[0].headers["paybridge-event-id"],
        got[1].headers["paybridge-event-id"]
    );
    let event_id = got[1].headers["paybridge-event-id"]
        .to_str()
        .unwrap()
        .to_owned();
    wait::until(
        "the delivery to be recorded as done",
        Duration::from_secs(10),
        || {
            let (store, id) = (second.state.store().clone(), event_id.clone());
            async move {
                store
                    .attempts_for_event(&id)
                    .await
                    .ok()
                    .filter(|a| a.iter().any(|(_, c)| *c == Some(200)))
            }
        },
    )
    .await;
}

#[tokio::test]
async fn a_hanging_receiver_does_not_hold_up_deliveries_to_the_others() {
    let app = paybridge_tests::spawn_app().await;
    let stuck = Receiver::start(&[]).await;
    stuck.hang(true);
    let fast = Receiver::start(&[]).await;
    register(&app, &stuck).await;
    register(&app, &fast).await;
    let n = 40;
    for i in 0..n {
        expire(&app, 300 + i).await;
    }
    // The stuck endpoint holds a few slots for the whole send timeout (10 s); every delivery
    // to the other arrives well before its first attempts even time out.
    let within = paybridge_server::jobs::webhooks::SEND_TIMEOUT - Duration::from_secs(2);
    let got = fast.wait_for(usize::try_from(n).unwrap(), within).await;
    assert_eq!(got.len(), usize::try_from(n).unwrap());
    stuck.hang(false);
}
