//! Requests cancelled by their clients lose nothing (a closed page, a proxy timing out): a few
//! hundred concurrent pay requests and notifications, about half of them aborted by the client
//! at a random moment — before, during or after the provider call — and then every order the
//! sandbox holds has exactly one attempt in a state consistent with it, every acknowledged
//! notification is reflected, and nothing is written twice. On both databases.
//!
//! The reconciler is held off (hour-long job poll) while the invariants are checked, so it
//! cannot repair what a request lost; a restarted instance then lets it run and the final
//! states must match the sandbox's.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use paybridge_tests::ledger::{Attempt, pay_at_sandbox, snapshot};
use paybridge_tests::notify::{transaction_success, unix_now};
use paybridge_tests::{Db, Options, TestApp, fresh_database, spawn};
use serde_json::{Value, json};
use sqlx::Row;

/// 4003: the sandbox never notifies about these itself, so every notification is the test's.
const AMOUNT: i64 = 4003;
/// Pay requests (one session each).
const PAYS: usize = 300;
/// Requests in flight at once.
const IN_FLIGHT: usize = 48;
/// How long in-flight work may take to settle after the last client went away.
const SETTLE: Duration = Duration::from_secs(20);

/// A small xorshift generator, seeded per run (printed, and `PAYBRIDGE_TEST_SEED` repeats one).
struct Rng(AtomicU64);

impl Rng {
    fn new() -> Self {
        let seed = std::env::var("PAYBRIDGE_TEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(1, |d| u64::try_from(d.as_nanos() % (1 << 63)).unwrap_or(1))
                    | 1
            });
        eprintln!("cancellation test seed: PAYBRIDGE_TEST_SEED={seed}");
        Self(AtomicU64::new(seed))
    }

    fn next(&self) -> u64 {
        let mut x = self.0.load(Ordering::Relaxed);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0.store(x, Ordering::Relaxed);
        x
    }

    /// Half the time `None` (let it finish); else a client timeout uniform in `[0, 2·typical]`,
    /// so aborts land before, during and after the provider call.
    fn abort_after(&self, typical: Duration) -> Option<Duration> {
        let r = self.next();
        if r.is_multiple_of(2) {
            return None;
        }
        let max = u64::try_from(typical.as_micros() * 2)
            .unwrap_or(u64::MAX)
            .max(1);
        Some(Duration::from_micros((r >> 1) % max))
    }
}

/// What one request came to, from the client's side.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    /// The client saw a 2xx answer (with the body's `payment`, for a pay).
    Answered(Option<String>),
    /// The client saw an error status.
    Refused(u16),
    /// The client went away first.
    Aborted,
}

async fn send(req: reqwest::RequestBuilder, abort: Option<Duration>) -> Outcome {
    let req = match abort {
        Some(after) => req.timeout(after),
        None => req,
    };
    let Ok(res) = req.send().await else {
        return Outcome::Aborted;
    };
    let status = res.status();
    let Ok(body) = res.bytes().await else {
        return Outcome::Aborted;
    };
    if !status.is_success() {
        return Outcome::Refused(status.as_u16());
    }
    let payment = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v["payment"].as_str().map(str::to_owned));
    Outcome::Answered(payment)
}

/// Runs `requests` with `IN_FLIGHT` at a time; outcomes in the same order.
async fn fire(requests: Vec<(reqwest::RequestBuilder, Option<Duration>)>) -> Vec<Outcome> {
    let gate = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|(req, abort)| {
            let gate = gate.clone();
            tokio::spawn(async move {
                let _slot = gate.acquire_owned().await.unwrap();
                send(req, abort).await
            })
        })
        .collect();
    let mut out = Vec::with_capacity(tasks.len());
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

/// The median of `n` uncancelled runs of `request`: the scale of the random abort times.
async fn typical<F: Fn(usize) -> reqwest::RequestBuilder>(n: usize, request: F) -> Duration {
    let mut times = Vec::new();
    for i in 0..n {
        let start = Instant::now();
        let outcome = send(request(i), None).await;
        assert!(matches!(outcome, Outcome::Answered(_)), "{outcome:?}");
        times.push(start.elapsed());
    }
    times.sort();
    times[n / 2]
}

/// What is wrong with the attempts against the sandbox's orders: each order must have exactly
/// one attempt, in the state `expected` gives for the order's trade state (`None`: any).
fn violations(
    attempts: &HashMap<String, Vec<Attempt>>,
    orders: &HashMap<String, String>,
    expected: impl Fn(&str, &str) -> Option<&'static [&'static str]>,
) -> Vec<String> {
    let mut wrong = Vec::new();
    for (trade, state) in orders {
        match attempts.get(trade).map(Vec::as_slice) {
            None | Some([]) => wrong.push(format!("order {trade} ({state}) has no attempt")),
            Some([a]) => {
                if let Some(allowed) = expected(trade, state)
                    && !allowed.contains(&a.status.as_str())
                {
                    wrong.push(format!(
                        "order {trade} is {state} at the sandbox but attempt {} is {}",
                        a.id, a.status
                    ));
                }
            }
            Some(many) => wrong.push(format!("order {trade} has {} attempts", many.len())),
        }
    }
    for (trade, list) in attempts {
        for a in list {
            if !orders.contains_key(trade) && a.status != "failed" {
                wrong.push(format!(
                    "attempt {} ({trade}) is {} without an order at the sandbox",
                    a.id, a.status
                ));
            }
        }
    }
    wrong
}

/// Polls until `check` finds nothing wrong, or fails the test with what is still wrong.
async fn settled<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Vec<String>>,
{
    let start = Instant::now();
    loop {
        let wrong = check().await;
        if wrong.is_empty() {
            return;
        }
        if start.elapsed() > SETTLE {
            let shown: Vec<_> = wrong.iter().take(8).collect();
            panic!(
                "{what}: {} violations after {SETTLE:?}, e.g. {shown:#?}",
                wrong.len()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn options(database_url: Option<String>, poll_ms: &str) -> Options {
    Options {
        args: vec![
            "--job-poll-ms".into(),
            poll_ms.into(),
            "--shopper-rate-limit".into(),
            "1000000".into(),
        ],
        database_url,
        ..Options::default()
    }
}

/// `POST /api/checkout/{session}/pay` from `environment`.
fn pay_request(
    app: &TestApp,
    client: &reqwest::Client,
    session: &str,
    environment: &str,
    openid: Option<&str>,
) -> reqwest::RequestBuilder {
    let request = client
        .post(app.url(&format!("/api/checkout/{session}/pay")))
        .json(&json!({"method": "wechat_pay", "environment": environment}));
    match openid {
        Some(openid) if environment == "wechat" => request.header(
            "cookie",
            paybridge_tests::shopper::signed_in_cookie(app, session, openid),
        ),
        _ => request,
    }
}

async fn cancelled_requests_lose_nothing(db: Db) {
    let rng = Rng::new();
    let database_url = fresh_database(db).await;
    // The reconciler waits an hour: what the requests themselves wrote is what is checked.
    let app = spawn(options(database_url.clone(), "3600000")).await;
    let client = reqwest::Client::new();
    let openid = paybridge_tests::shopper::signed_in_openid(&app, AMOUNT).await;

    // Phase 1: pay requests from three environments, about half aborted at random moments.
    let mut sessions = Vec::with_capacity(PAYS);
    for _ in 0..PAYS {
        sessions.push(
            app.create_session(AMOUNT).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let environments = ["desktop", "mobile", "wechat"];
    let scale = typical(6, |i| {
        pay_request(
            &app,
            &client,
            &sessions[i],
            environments[i % 3],
            Some(&openid),
        )
    })
    .await;
    let requests = sessions
        .iter()
        .enumerate()
        .skip(6)
        .map(|(i, id)| {
            (
                pay_request(&app, &client, id, environments[i % 3], Some(&openid)),
                rng.abort_after(scale),
            )
        })
        .collect();
    let outcomes = fire(requests).await;
    let aborted = outcomes.iter().filter(|o| **o == Outcome::Aborted).count();
    let refused: Vec<_> = outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::Refused(_)))
        .collect();
    eprintln!(
        "pays: {} sent, {aborted} aborted by the client (scale {scale:?}), refused {refused:?}",
        outcomes.len()
    );
    assert!(
        aborted > PAYS / 5,
        "too few aborts ({aborted}) to test anything"
    );
    assert!(
        refused.is_empty(),
        "uncancelled pays were refused: {refused:?}"
    );
    let answered: HashSet<String> = outcomes
        .iter()
        .filter_map(|o| match o {
            Outcome::Answered(p) => p.clone(),
            _ => None,
        })
        .collect();
    // Every order the sandbox holds has one attempt, pending (the provider has it, unpaid); an
    // attempt the shopper was shown is among them.
    settled("after the pays", || async {
        let (attempts, orders) = snapshot(&app).await;
        let mut wrong = violations(&attempts, &orders, |_, _| Some(&["pending"]));
        let stored: HashSet<&str> = attempts.values().flatten().map(|a| a.id.as_str()).collect();
        wrong.extend(
            answered
                .iter()
                .filter(|p| !stored.contains(p.as_str()))
                .map(|p| format!("the shopper was shown {p}, which is not stored")),
        );
        wrong
    })
    .await;

    // Phase 2: half the orders are paid at the sandbox (as its pay sheets would: state, WeChat's
    // transaction id, the payer); WeChat's notifications about them
    // (a quarter sent twice) arrive concurrently, about half aborted by the client.
    let (_, orders) = snapshot(&app).await;
    let mut paid: Vec<String> = orders.keys().step_by(2).cloned().collect();
    paid.sort();
    pay_at_sandbox(&app, &paid).await;
    let appid = app.state.sandbox().unwrap().keys().appid.clone();
    let now = unix_now();
    let mut notified: Vec<String> = paid.clone();
    notified.extend(paid.iter().step_by(4).cloned());
    let notifications: Vec<_> = notified
        .iter()
        .map(|t| transaction_success(&app, t, &appid, AMOUNT, now))
        .collect();
    let scale = typical(1, |_| {
        app.wechat_notification_request(&client, &notifications[0].0, notifications[0].1.clone())
    })
    .await;
    let requests = notifications
        .iter()
        .map(|n| {
            (
                app.wechat_notification_request(&client, &n.0, n.1.clone()),
                rng.abort_after(scale),
            )
        })
        .collect();
    let outcomes = fire(requests).await;
    let acknowledged: HashSet<&String> = notified
        .iter()
        .zip(&outcomes)
        .skip(1)
        .filter(|(_, o)| matches!(o, Outcome::Answered(_)))
        .map(|(t, _)| t)
        .chain(std::iter::once(&notified[0]))
        .collect();
    let refused: Vec<_> = outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::Refused(_)))
        .collect();
    eprintln!(
        "notifications: {} sent, {} acknowledged, {} aborted (scale {scale:?})",
        outcomes.len(),
        acknowledged.len(),
        outcomes.iter().filter(|o| **o == Outcome::Aborted).count()
    );
    assert!(
        refused.is_empty(),
        "notifications were refused: {refused:?}"
    );
    let paid_set: HashSet<&String> = paid.iter().collect();
    settled("after the notifications", || async {
        let (now_attempts, now_orders) = snapshot(&app).await;
        violations(&now_attempts, &now_orders, |trade, _| {
            if acknowledged.contains(&trade.to_owned()) {
                Some(&["succeeded"])
            } else if paid_set.contains(&trade.to_owned()) {
                // Aborted: recorded or not, WeChat would send it again.
                Some(&["pending", "succeeded"])
            } else {
                Some(&["pending"])
            }
        })
    })
    .await;

    // Nothing written twice: one payment.succeeded per succeeded attempt, one completion per
    // session, and none for anything else.
    let (after, _) = snapshot(&app).await;
    let succeeded: Vec<&Attempt> = after
        .values()
        .flatten()
        .filter(|a| a.status == "succeeded")
        .collect();
    let payment_events = app.events_per_object("payment.succeeded").await;
    let session_events = app.events_per_object("checkout.session.completed").await;
    assert_eq!(
        payment_events.len(),
        succeeded.len(),
        "payment.succeeded objects"
    );
    assert_eq!(
        session_events.len(),
        succeeded.len(),
        "checkout.session.completed objects"
    );
    for a in &succeeded {
        assert_eq!(
            payment_events.get(&a.id),
            Some(&1),
            "payment.succeeded for {}",
            a.id
        );
        assert_eq!(
            session_events.get(&a.session),
            Some(&1),
            "completion of {}",
            a.session
        );
    }

    // Phase 3: a restart with the reconciler running: every attempt ends as its order did.
    let data_dir = app.data_dir.clone();
    app.stop().await;
    let app = spawn(Options {
        data_dir: Some(data_dir),
        ..options(database_url, "50")
    })
    .await;
    settled("after reconciliation", || async {
        let (now_attempts, now_orders) = snapshot(&app).await;
        violations(&now_attempts, &now_orders, |_, state| match state {
            "SUCCESS" => Some(&["succeeded"]),
            "NOTPAY" => Some(&["pending"]),
            _ => None,
        })
    })
    .await;
}

/// The mechanism underneath, on the store alone: a `BEGIN` dropped at a random moment (as a
/// cancelled request drops it) must never leave a pooled connection inside a transaction, where
/// the next single statement would join it and be lost with it.
async fn a_cancelled_begin_leaves_no_pooled_connection_in_a_transaction(db: Db) {
    const ROUNDS: usize = 300;
    let rng = Rng::new();
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(db)
        .await
        .unwrap_or_else(|| format!("sqlite://{}/begin.db", dir.path().display()));
    let store = paybridge_server::store::Store::connect(&url).await.unwrap();
    // How long a BEGIN takes here, to drop it before, while and after it reaches the database.
    let mut times = Vec::new();
    for _ in 0..21 {
        let start = Instant::now();
        let tx = store.begin().await.unwrap();
        times.push(start.elapsed());
        tx.rollback().await.unwrap();
    }
    times.sort();
    let scale = times[10];
    let mut dropped = 0;
    // At least ROUNDS rounds, and more (up to ten times as many) until enough BEGINs were
    // dropped to mean something: a loaded machine stretches the timings the drops aim at.
    let mut i = 0;
    while (i < ROUNDS || dropped <= ROUNDS / 10) && i < ROUNDS * 10 {
        i += 1;
        let after = rng.abort_after(scale).unwrap_or(scale * 2);
        if within(after, store.begin()).await.is_none() {
            dropped += 1;
        }
        // A single statement on a pooled connection, committed when it returns.
        assert!(
            store
                .use_token_once(&format!("round-{i}"), 0)
                .await
                .unwrap()
        );
    }
    eprintln!("{dropped} of {i} BEGINs dropped (scale {scale:?})");
    assert!(
        dropped > ROUNDS / 10,
        "too few dropped BEGINs ({dropped}) to test anything"
    );
    // Every statement is visible from a connection of its own: none joined a stale transaction.
    let other = paybridge_server::store::Store::connect(&url).await.unwrap();
    let committed: i64 = sqlx::query("SELECT COUNT(*) AS n FROM used_tokens")
        .fetch_one(other.pool())
        .await
        .unwrap()
        .get("n");
    assert_eq!(committed, i64::try_from(i).unwrap(), "statements committed");
}

/// `fut`'s output if it is ready within `limit`, else `None` (and `fut` is dropped). Polls
/// between yields rather than with a timer, whose millisecond ticks are coarser than a `BEGIN`.
async fn within<F: std::future::Future>(limit: Duration, fut: F) -> Option<F::Output> {
    let deadline = Instant::now() + limit;
    let mut fut = std::pin::pin!(fut);
    loop {
        let polled = std::future::poll_fn(|cx| std::task::Poll::Ready(fut.as_mut().poll(cx))).await;
        if let std::task::Poll::Ready(out) = polled {
            return Some(out);
        }
        if Instant::now() >= deadline {
            return None;
        }
        tokio::task::yield_now().await;
    }
}

macro_rules! on_both {
    ($($name:ident),*) => {
        mod sqlite {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(paybridge_tests::Db::Sqlite).await; } )*
        }
        mod postgres {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(paybridge_tests::Db::Postgres).await; } )*
        }
    };
}

on_both!(
    cancelled_requests_lose_nothing,
    a_cancelled_begin_leaves_no_pooled_connection_in_a_transaction
);
