//! Webhook delivery throughput (`make bench`): 10,000 events recorded as fast as the store takes
//! them (100 per transaction), delivered by the real worker to a fast local receiver that
//! answers 204 and counts; on SQLite and on Postgres. Reports deliveries per second, how long
//! after the last event was recorded the last delivery arrived, and that each event arrived
//! exactly once.

// A benchmark should stop loudly on a broken set-up step, and its summary is its output.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use paybridge_server::service::Changed;
use paybridge_server::store::events::{self, EventType};
use paybridge_tests::{Db, Options, fresh_database, spawn};
use serde_json::json;

const EVENTS: usize = 10_000;
const PER_WRITE: usize = 100;
const DEADLINE: Duration = Duration::from_secs(120);
const RATE_GOAL: f64 = 2_000.0;
const AFTER_LAST_GOAL: Duration = Duration::from_secs(10);

/// A receiver that answers 204 at once and counts each event id.
async fn receiver() -> (String, Arc<Mutex<HashMap<String, usize>>>) {
    let seen: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let counted = Arc::clone(&seen);
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap| {
            let counted = Arc::clone(&counted);
            async move {
                if let Some(id) = headers
                    .get("paybridge-event-id")
                    .and_then(|v| v.to_str().ok())
                {
                    *counted.lock().unwrap().entry(id.to_owned()).or_default() += 1;
                }
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

struct Run {
    db: &'static str,
    recorded_in: Duration,
    delivered_in: Duration,
    after_last: Duration,
    delivered: usize,
    duplicates: usize,
}

async fn run(db: Db, name: &'static str) -> Run {
    let url = fresh_database(db).await;
    let app = spawn(Options {
        database_url: url,
        ..Options::default()
    })
    .await;
    let (hook, seen) = receiver().await;
    let (status, body) = app
        .api_post("/v1/webhook_endpoints", &json!({"url": hook}), None)
        .await;
    assert_eq!(status, 200, "{body}");
    eprintln!("==> {name}: recording {EVENTS} events, {PER_WRITE} per write");
    let svc = app.state.services().clone();
    let started = Instant::now();
    for batch in 0..EVENTS / PER_WRITE {
        let ids: Vec<String> = (0..PER_WRITE)
            .map(|i| format!("cs_bench{batch:05}{i:03}"))
            .collect();
        let list: Vec<(EventType, &str, serde_json::Value)> = ids
            .iter()
            .map(|id| {
                (
                    EventType::SessionExpired,
                    id.as_str(),
                    json!({"id": id, "object": "checkout.session", "status": "expired"}),
                )
            })
            .collect();
        let mut write = svc.write().await.unwrap();
        events::emit_all(write.tx(), &list).await.unwrap();
        write
            .commit(Changed {
                events: true,
                session: None,
            })
            .await
            .unwrap();
    }
    let recorded_in = started.elapsed();
    let deadline = started + DEADLINE;
    loop {
        let count = seen.lock().unwrap().len();
        if count >= EVENTS || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let delivered_in = started.elapsed();
    let (delivered, duplicates) = {
        let seen = seen.lock().unwrap();
        (seen.len(), seen.values().filter(|n| **n > 1).count())
    };
    let run = Run {
        db: name,
        recorded_in,
        delivered_in,
        after_last: delivered_in.saturating_sub(recorded_in),
        delivered,
        duplicates,
    };
    app.stop().await;
    run
}

fn report(r: &Run) -> bool {
    #[allow(clippy::cast_precision_loss)]
    let rate = r.delivered as f64 / r.delivered_in.as_secs_f64();
    let rate_ok = rate >= RATE_GOAL;
    let after_ok = r.after_last <= AFTER_LAST_GOAL && r.delivered == EVENTS;
    println!(
        "webhooks {:<8} {} events recorded in {:.2} s; {} delivered in {:.2} s = {rate:.0}/s (goal ≥ {RATE_GOAL:.0}/s: {}); last delivery {:.2} s after the last event (goal ≤ {} s: {}); duplicates {}",
        r.db,
        EVENTS,
        r.recorded_in.as_secs_f64(),
        r.delivered,
        r.delivered_in.as_secs_f64(),
        if rate_ok { "met" } else { "MISSED" },
        r.after_last.as_secs_f64(),
        AFTER_LAST_GOAL.as_secs(),
        if after_ok { "met" } else { "MISSED" },
        r.duplicates,
    );
    r.duplicates == 0 && r.delivered == EVENTS
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let mut runs = vec![run(Db::Sqlite, "sqlite").await];
    if std::env::var_os("PAYBRIDGE_TEST_POSTGRES_URL").is_some() {
        runs.push(run(Db::Postgres, "postgres").await);
    }
    let mut exact = true;
    for r in &runs {
        exact &= report(r);
    }
    assert!(exact, "every event must be delivered exactly once");
}
