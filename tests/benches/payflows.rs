//! Payment-flow load (`make bench`): Native and JSAPI pay throughput against the sandbox,
//! notification ingestion with 20% duplicates checked for exactly-once, and the RSA sign rate of
//! the same machine in the same run. The real server runs in process on SQLite, every request
//! goes over HTTP on 127.0.0.1, and every phase is bounded in count and time.

// A benchmark should stop loudly on a broken set-up step, and its summary is its output.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use paybridge_server::providers::wechat::crypto::{PrivateKey, RsaBackend};
use paybridge_tests::ledger::{pay_at_sandbox, snapshot};
use paybridge_tests::notify::{transaction_success, unix_now};
use paybridge_tests::{Db, Options, TestApp, fresh_database, session_request, spawn};
use serde_json::{Value, json};
use sqlx::Row;
use url::Url;

/// Requests in flight during every timed phase.
const CONCURRENCY: usize = 64;
/// Timed Native pay requests; their attempts are then the notification phase's targets.
const NATIVE_PAYS: usize = 6_000;
/// Timed JSAPI pay requests.
const JSAPI_PAYS: usize = 4_000;
/// Each phase stops here even when its count is not reached.
const PHASE_LIMIT: Duration = Duration::from_secs(40);
/// How long the sign-rate loop runs.
const SIGN_TIME: Duration = Duration::from_secs(2);
/// 4003: the sandbox never notifies about these orders itself, so every notification is ours.
const AMOUNT: i64 = 4003;

const NATIVE_GOAL: f64 = 1_500.0;
const JSAPI_GOAL: f64 = 1_000.0;
const NOTIFY_GOAL: f64 = 5_000.0;
/// Payment intents confirmed with a known openid (JSAPI, the direct API).
const INTENT_CONFIRMS: usize = 4_000;
const INTENT_CONFIRM_GOAL: f64 = 1_500.0;
/// Payment intents created and confirmed in one call for a QR code.
const INTENT_CREATES: usize = 4_000;

/// What one timed phase measured.
struct Stats {
    name: &'static str,
    sent: usize,
    ok: usize,
    errors: Vec<String>,
    elapsed: Duration,
    latencies: Vec<Duration>,
    /// Requests dropped in flight when the phase was cut.
    cut: usize,
}

impl Stats {
    fn rate(&self) -> f64 {
        count_f64(self.ok) / self.elapsed.as_secs_f64()
    }

    fn percentile(&self, p: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let last = self.latencies.len() - 1;
        // Nearest rank on the sorted latencies.
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "an index into a short vector"
        )]
        let i = ((count_f64(last) * p).round() as usize).min(last);
        self.latencies[i]
    }

    fn print(&self) {
        eprintln!(
            "    {}: {} sent, {} ok, {} errors, {} dropped in flight in {:.2} s → {:.0}/s, p50 {:.1} ms, p99 {:.1} ms",
            self.name,
            self.sent,
            self.ok,
            self.errors.len(),
            self.cut,
            self.elapsed.as_secs_f64(),
            self.rate(),
            ms(self.percentile(0.50)),
            ms(self.percentile(0.99)),
        );
        for e in self.errors.iter().take(3) {
            eprintln!("      e.g. {e}");
        }
    }
}

#[allow(clippy::cast_precision_loss, reason = "counts far below 2^52")]
const fn count_f64(n: usize) -> f64 {
    n as f64
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1_000.0
}

/// How a timed phase ends.
#[derive(Debug, Clone, Copy)]
enum End {
    /// When every item is done (or `PHASE_LIMIT` passes): nothing is left in flight.
    Drain,
    /// Once this many requests are answered: the ones still in flight are dropped by the
    /// client, as when a load balancer cuts connections or shoppers close their pages.
    Cut(usize),
}

/// What the workers of one phase collected: latencies, results, errors.
type Collected<R> = std::sync::Mutex<(Vec<Duration>, Vec<R>, Vec<String>)>;

/// Runs `call` once per item with `CONCURRENCY` requests in flight until the phase ends as
/// `end` says (and at the latest after `PHASE_LIMIT`); each call returns what it produced or why
/// it failed.
async fn load<T, R, F, Fut>(name: &'static str, items: Vec<T>, end: End, call: F) -> (Stats, Vec<R>)
where
    T: Clone + Send + Sync + 'static,
    R: Send + 'static,
    F: Fn(T) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<R, String>> + Send,
{
    let items = Arc::new(items);
    let next = Arc::new(AtomicUsize::new(0));
    let collected: Arc<Collected<R>> = Arc::default();
    let answered = Arc::new(tokio::sync::Notify::new());
    let cut_at = match end {
        End::Drain => usize::MAX,
        End::Cut(n) => n,
    };
    let start = Instant::now();
    let deadline = start + PHASE_LIMIT;
    let mut workers: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let (items, next, call) = (items.clone(), next.clone(), call.clone());
            let (collected, answered) = (collected.clone(), answered.clone());
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= items.len() || Instant::now() >= deadline {
                        return;
                    }
                    let t = Instant::now();
                    let result = call(items[i].clone()).await;
                    let mut c = collected.lock().unwrap();
                    c.0.push(t.elapsed());
                    match result {
                        Ok(r) => c.1.push(r),
                        Err(e) => c.2.push(e),
                    }
                    if c.0.len() >= cut_at {
                        answered.notify_one();
                    }
                }
            })
        })
        .collect();
    let mut cut = 0;
    tokio::select! {
        _ = futures_util::future::join_all(workers.iter_mut()) => {}
        () = answered.notified() => {
            // Drop the requests in flight: their clients are gone.
            let started = next.load(Ordering::Relaxed).min(items.len());
            for w in &workers {
                w.abort();
            }
            let _ = futures_util::future::join_all(workers).await;
            cut = started - collected.lock().unwrap().0.len();
        }
    }
    let elapsed = start.elapsed();
    let (mut latencies, results, errors) = std::mem::take(&mut *collected.lock().unwrap());
    latencies.sort_unstable();
    let stats = Stats {
        name,
        sent: latencies.len() + cut,
        ok: results.len(),
        errors,
        elapsed,
        latencies,
        cut,
    };
    (stats, results)
}

/// `POST /api/checkout/{id}/pay` in `environment`, expecting an action of `kind`; returns the
/// payment attempt's id.
async fn pay(
    client: reqwest::Client,
    base: Url,
    session: String,
    environment: &'static str,
    kind: &'static str,
    cookie: Option<String>,
) -> Result<String, String> {
    let mut req = client
        .post(base.join(&format!("/api/checkout/{session}/pay")).unwrap())
        .json(&json!({"method": "wechat_pay", "environment": environment}));
    if let Some(cookie) = cookie {
        req = req.header("cookie", cookie);
    }
    let res = req.send().await.map_err(|e| e.to_string())?;
    let status = res.status();
    let body: Value = res.json().await.map_err(|e| e.to_string())?;
    if status != 200 || body["type"] != kind {
        return Err(format!("{status}: {body}"));
    }
    body["payment"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("no payment in {body}"))
}

/// `POST path` of the merchant API with `body`, expecting an intent whose next action is of
/// `kind`; returns its payment attempt's id.
async fn intent_call(
    client: reqwest::Client,
    base: Url,
    key: String,
    path: String,
    body: Value,
    kind: &'static str,
) -> Result<String, String> {
    let res = client
        .post(base.join(&path).unwrap())
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = res.status();
    let intent: Value = res.json().await.map_err(|e| e.to_string())?;
    if status != 200 || intent["next_action"]["type"] != kind {
        return Err(format!("{status}: {intent}"));
    }
    intent["payment"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("no payment in {intent}"))
}

fn intent_request() -> Value {
    json!({"amount": AMOUNT, "currency": "cny", "description": "bench intent"})
}

/// Creates `n` payment intents through the merchant API (set-up, not reported).
async fn intents(app: &TestApp, n: usize) -> Vec<String> {
    create_all(
        app,
        n,
        "create intents",
        "/v1/payment_intents",
        intent_request(),
    )
    .await
}

/// Creates `n` sessions of `AMOUNT` fen through the merchant API (set-up, not reported).
async fn sessions(app: &TestApp, n: usize) -> Vec<String> {
    create_all(
        app,
        n,
        "create sessions",
        "/v1/checkout_sessions",
        session_request(AMOUNT),
    )
    .await
}

/// `n` POSTs of `body` to `path` of the merchant API; the ids of what they created.
async fn create_all(
    app: &TestApp,
    n: usize,
    what: &'static str,
    path: &'static str,
    body: Value,
) -> Vec<String> {
    let (client, base, key) = (app.client.clone(), app.base.clone(), app.api_key.clone());
    let (stats, ids) = load(what, vec![(); n], End::Drain, move |()| {
        let (client, base, key, body) = (client.clone(), base.clone(), key.clone(), body.clone());
        async move {
            let res = client
                .post(base.join(path).unwrap())
                .bearer_auth(key)
                .json(&body)
                .send()
                .await
                .map_err(|e| e.to_string())?;
            let body: Value = res.json().await.map_err(|e| e.to_string())?;
            body["id"]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| body.to_string())
        }
    })
    .await;
    assert!(
        stats.errors.is_empty(),
        "{what} failed: {:?}",
        stats.errors.first()
    );
    assert_eq!(ids.len(), n, "{what} ran out of time");
    ids
}

/// A TRANSACTION.SUCCESS notification for `out_trade_no`, signed and encrypted with the
/// sandbox's keys as WeChat would send it.
type Notification = Arc<(Vec<(String, String)>, Vec<u8>)>;

fn notification(app: &TestApp, out_trade_no: &str, timestamp: i64) -> Notification {
    let appid = app.state.sandbox().unwrap().keys().appid.clone();
    Arc::new(transaction_success(
        app,
        out_trade_no,
        &appid,
        AMOUNT,
        timestamp,
    ))
}

/// Fisher–Yates with a fixed xorshift seed: the same order every run, no extra dependency.
fn shuffle<T>(items: &mut [T]) {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in (1..items.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let j = usize::try_from(x % (u64::try_from(i).unwrap() + 1)).unwrap();
        items.swap(i, j);
    }
}

/// SHA256withRSA signatures per second through `backend` with a fresh merchant-sized key, on one
/// thread.
fn sign_rate(backend: RsaBackend) -> f64 {
    let key = PrivateKey::generate(backend).unwrap();
    let message = b"POST\n/v3/pay/transactions/native\n1700000000\n593BEC0C930BF1AFEB40B4A08C8FB242\n{\"appid\":\"wx0000000000000000\",\"amount\":{\"total\":4003}}\n";
    let start = Instant::now();
    let mut n = 0usize;
    while start.elapsed() < SIGN_TIME {
        std::hint::black_box(key.sign(std::hint::black_box(message)).unwrap());
        n += 1;
    }
    count_f64(n) / start.elapsed().as_secs_f64()
}

struct Verdict {
    notified: usize,
    complete: usize,
    payment_events_ok: bool,
    session_events_ok: bool,
    /// Orders the sandbox (WeChat) holds.
    orders: usize,
    /// Of those, matched by exactly one attempt in the order's state.
    orders_matched: usize,
    left_created: usize,
    /// Authentic reports of trades no attempt has.
    unmatched: usize,
    detail: Vec<String>,
}

impl Verdict {
    fn ok(&self) -> bool {
        self.complete == self.notified
            && self.payment_events_ok
            && self.session_events_ok
            && self.orders_matched == self.orders
            && self.left_created == 0
            && self.unmatched == 0
            && self.detail.is_empty()
    }
}

/// How long handlers whose clients were cut may take to finish.
const SETTLE: Duration = Duration::from_secs(30);

/// Orders the sandbox holds, those matched by exactly one attempt in the order's state
/// (`SUCCESS` ↔ succeeded, `NOTPAY` ↔ pending), attempts left `created`, and examples of what
/// does not match — once handlers still finishing for cut clients are done, or `SETTLE` passes.
async fn orders_against_attempts(app: &TestApp) -> (usize, usize, usize, Vec<String>) {
    let start = Instant::now();
    loop {
        let (attempts, orders) = snapshot(app).await;
        let mut wrong = Vec::new();
        for (trade, state) in &orders {
            let want = if state == "SUCCESS" {
                "succeeded"
            } else {
                "pending"
            };
            match attempts.get(trade).map(Vec::as_slice) {
                Some([a]) if a.status == want => {}
                other => wrong.push(format!("order {trade} ({state}): attempts {other:?}")),
            }
        }
        let created = attempts
            .values()
            .flatten()
            .filter(|a| a.status == "created")
            .count();
        if (wrong.is_empty() && created == 0) || start.elapsed() > SETTLE {
            wrong.truncate(5);
            return (
                orders.len(),
                orders.len() - wrong.len().min(orders.len()),
                created,
                wrong,
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every notified session is complete, with exactly one `payment.succeeded` per attempt and one
/// `checkout.session.completed` per session; every order the sandbox holds is matched by one
/// attempt in its state; no authentic report went unmatched.
async fn verify_exactly_once(app: &TestApp, targets: &[(String, String)]) -> Verdict {
    let (orders, orders_matched, left_created, mut detail) = orders_against_attempts(app).await;
    let unmatched: i64 = sqlx::query("SELECT COUNT(*) AS n FROM unmatched_payments")
        .fetch_one(app.state.store().pool())
        .await
        .unwrap()
        .get("n");
    let (client, base, key) = (app.client.clone(), app.base.clone(), app.api_key.clone());
    let ids: Vec<String> = targets.iter().map(|(s, _)| s.clone()).collect();
    let (stats, statuses) = load("read sessions", ids, End::Drain, move |id: String| {
        let (client, base, key) = (client.clone(), base.clone(), key.clone());
        async move {
            let body: Value = client
                .get(base.join(&format!("/v1/checkout_sessions/{id}")).unwrap())
                .bearer_auth(key)
                .send()
                .await
                .map_err(|e| e.to_string())?
                .json()
                .await
                .map_err(|e| e.to_string())?;
            Ok(body["status"] == "complete")
        }
    })
    .await;
    detail.extend(stats.errors.iter().take(3).cloned());
    let complete = statuses.iter().filter(|c| **c).count();
    let payments = app.events_per_object("payment.succeeded").await;
    let sessions = app.events_per_object("checkout.session.completed").await;
    let mut payment_events_ok = payments.len() == targets.len();
    let mut session_events_ok = sessions.len() == targets.len();
    for (session, payment) in targets {
        let p = payments.get(payment).copied().unwrap_or(0);
        let s = sessions.get(session).copied().unwrap_or(0);
        if p != 1 {
            payment_events_ok = false;
            if detail.len() < 5 {
                detail.push(format!("{payment}: {p} payment.succeeded events"));
            }
        }
        if s != 1 {
            session_events_ok = false;
            if detail.len() < 5 {
                detail.push(format!("{session}: {s} checkout.session.completed events"));
            }
        }
    }
    Verdict {
        notified: targets.len(),
        complete,
        payment_events_ok,
        session_events_ok,
        orders,
        orders_matched,
        left_created,
        unmatched: usize::try_from(unmatched).unwrap_or(usize::MAX),
        detail,
    }
}

fn line(what: &str, value: &str, goal: Option<f64>, rate: f64) -> String {
    let mark = match goal {
        Some(g) if rate >= g => format!("goal ≥ {g:.0}/s  PASS"),
        Some(g) => format!("goal ≥ {g:.0}/s  MISS"),
        None => String::new(),
    };
    format!("  {what:<28} {value:<44} {mark}")
}

fn phase_line(stats: &Stats, goal: f64) -> String {
    let value = format!(
        "{:>6.0}/s  p50 {:>6.1} ms  p99 {:>6.1} ms  ({} ok, {} err)",
        stats.rate(),
        ms(stats.percentile(0.50)),
        ms(stats.percentile(0.99)),
        stats.ok,
        stats.errors.len()
    );
    line(stats.name, &value, Some(goal), stats.rate())
}

/// What the timed phases on one database measured.
struct Run {
    db: &'static str,
    native: Stats,
    jsapi: Stats,
    intent_confirm: Stats,
    intent_create: Stats,
    notify: Stats,
    unique: usize,
    duplicates: usize,
    verdict: Verdict,
}

/// Where a phase stops: SQLite's drain (the numbers compare with earlier runs); Postgres's are
/// cut with requests in flight once 90% of their requests are answered.
fn end_of(db: Db, items: usize) -> End {
    match db {
        Db::Sqlite => End::Drain,
        Db::Postgres => End::Cut(items * 9 / 10),
    }
}

/// The timed phases on a fresh server on `db`, then the exactly-once check.
async fn phases(db: Db) -> Run {
    let name = match db {
        Db::Sqlite => "SQLite",
        Db::Postgres => "Postgres",
    };
    eprintln!("==> {name}");
    let app = spawn(Options {
        // Production job timing: the tests' 50 ms poll would have the reconciler query every
        // unpaid attempt at WeChat (the sandbox) twice a second during the load.
        args: vec![
            "--shopper-rate-limit".into(),
            "1000000".into(),
            "--job-poll-ms".into(),
            "1000".into(),
        ],
        database_url: fresh_database(db).await,
        ..Options::default()
    })
    .await;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CONCURRENCY)
        .build()
        .unwrap();

    eprintln!("==> Native pay: {NATIVE_PAYS} sessions (set-up), then timed pays");
    let ids = sessions(&app, NATIVE_PAYS).await;
    let (c, b) = (client.clone(), app.base.clone());
    let (native, native_payments) = load(
        "Native pay",
        ids.clone(),
        end_of(db, NATIVE_PAYS),
        move |id: String| {
            let (c, b) = (c.clone(), b.clone());
            async move {
                let payment = pay(c, b, id.clone(), "desktop", "qr", None).await?;
                Ok((id, payment))
            }
        },
    )
    .await;
    native.print();

    eprintln!(
        "==> JSAPI pay: one OAuth round trip, {JSAPI_PAYS} sessions with its openid (set-up), then timed pays"
    );
    let openid = paybridge_tests::shopper::signed_in_openid(&app, AMOUNT).await;
    let ids: Vec<(String, String)> = sessions(&app, JSAPI_PAYS)
        .await
        .into_iter()
        .map(|id| {
            let cookie = paybridge_tests::shopper::signed_in_cookie(&app, &id, &openid);
            (id, cookie)
        })
        .collect();
    let (c, b) = (client.clone(), app.base.clone());
    let (jsapi, _) = load(
        "JSAPI pay",
        ids,
        end_of(db, JSAPI_PAYS),
        move |(id, cookie): (String, String)| {
            pay(c.clone(), b.clone(), id, "wechat", "jsapi", Some(cookie))
        },
    )
    .await;
    jsapi.print();

    eprintln!(
        "==> payment intents: {INTENT_CONFIRMS} created (set-up), then timed confirms with the openid (official_account)"
    );
    let ids = intents(&app, INTENT_CONFIRMS).await;
    let (c, b, k) = (client.clone(), app.base.clone(), app.api_key.clone());
    let options = json!({
        "payment_method_data": {"type": "wechat_pay"},
        "payment_method_options": {"wechat_pay": {"terminal_type": "official_account", "openid": openid}},
    });
    let (intent_confirm, _) = load(
        "intent confirm (openid)",
        ids,
        end_of(db, INTENT_CONFIRMS),
        move |id: String| {
            intent_call(
                c.clone(),
                b.clone(),
                k.clone(),
                format!("/v1/payment_intents/{id}/confirm"),
                options.clone(),
                "wechat_pay_official_account_params",
            )
        },
    )
    .await;
    intent_confirm.print();

    eprintln!(
        "==> payment intents: {INTENT_CREATES} timed create + confirm for a QR code, one call each"
    );
    let (c, b, k) = (client.clone(), app.base.clone(), app.api_key.clone());
    let mut create_confirm = intent_request();
    create_confirm["confirm"] = json!(true);
    create_confirm["payment_method_data"] = json!({"type": "wechat_pay"});
    create_confirm["payment_method_options"] = json!({"wechat_pay": {"terminal_type": "WEB"}});
    let (intent_create, _) = load(
        "intent create+confirm (QR)",
        vec![(); INTENT_CREATES],
        end_of(db, INTENT_CREATES),
        move |()| {
            intent_call(
                c.clone(),
                b.clone(),
                k.clone(),
                "/v1/payment_intents".into(),
                create_confirm.clone(),
                "wechat_pay_display_qr_code",
            )
        },
    )
    .await;
    intent_create.print();

    eprintln!(
        "==> notifications: {} attempts from the Native phase, +25% exact duplicates, shuffled",
        native_payments.len()
    );
    let (c, b, k) = (client.clone(), app.base.clone(), app.api_key.clone());
    let (_, trade_nos) = load(
        "read attempts",
        native_payments.iter().map(|(_, p)| p.clone()).collect(),
        End::Drain,
        move |p: String| {
            let (c, b, k) = (c.clone(), b.clone(), k.clone());
            async move {
                let body: Value = c
                    .get(b.join(&format!("/v1/payments/{p}")).unwrap())
                    .bearer_auth(k)
                    .send()
                    .await
                    .map_err(|e| e.to_string())?
                    .json()
                    .await
                    .map_err(|e| e.to_string())?;
                body["out_trade_no"]
                    .as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| body.to_string())
            }
        },
    )
    .await;
    assert_eq!(
        trade_nos.len(),
        native_payments.len(),
        "reading attempts failed"
    );
    // The shoppers pay at WeChat (the sandbox's 4003 orders notify nobody): its orders say so,
    // and the notifications below are WeChat's.
    pay_at_sandbox(&app, &trade_nos).await;
    let timestamp = unix_now();
    let app = Arc::new(app);
    let trade_nos = Arc::new(trade_nos);
    // Signing thousands of notifications is CPU work: spread it over the cores.
    let halves: Vec<_> = (0..2)
        .map(|half| {
            let (app, trade_nos) = (app.clone(), trade_nos.clone());
            tokio::task::spawn_blocking(move || {
                trade_nos
                    .iter()
                    .skip(half)
                    .step_by(2)
                    .map(|t| notification(&app, t, timestamp))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut unique = Vec::new();
    for h in halves {
        unique.extend(h.await.unwrap());
    }
    let mut requests = unique.clone();
    requests.extend(unique.iter().step_by(4).cloned());
    shuffle(&mut requests);
    let duplicates = requests.len() - unique.len();
    let (c, a) = (client.clone(), app.clone());
    let (notify, acknowledged) = load(
        "notifications",
        requests.clone(),
        end_of(db, requests.len()),
        move |n: Notification| post_notification(a.clone(), c.clone(), n),
    )
    .await;
    notify.print();
    if notify.cut > 0 {
        // WeChat sends again what was not acknowledged; untimed.
        let acknowledged: std::collections::HashSet<*const u8> =
            acknowledged.iter().map(|n| n.1.as_ptr()).collect();
        let again: Vec<Notification> = unique
            .iter()
            .filter(|n| !acknowledged.contains(&n.1.as_ptr()))
            .cloned()
            .collect();
        eprintln!(
            "==> WeChat retries {} notifications not acknowledged",
            again.len()
        );
        let (c, a) = (client.clone(), app.clone());
        let (retried, _) = load("retries", again, End::Drain, move |n: Notification| {
            post_notification(a.clone(), c.clone(), n)
        })
        .await;
        assert!(
            retried.errors.is_empty(),
            "retries failed: {:?}",
            retried.errors.first()
        );
    }

    eprintln!("==> exactly-once check");
    let verdict = verify_exactly_once(&app, &native_payments).await;
    Run {
        db: name,
        native,
        jsapi,
        intent_confirm,
        intent_create,
        notify,
        unique: unique.len(),
        duplicates,
        verdict,
    }
}

/// `POST /notify/wechat` with `n`; returns it when acknowledged.
async fn post_notification(
    app: Arc<TestApp>,
    c: reqwest::Client,
    n: Notification,
) -> Result<Notification, String> {
    let req = app.wechat_notification_request(&c, &n.0, n.1.clone());
    let status = req.send().await.map_err(|e| e.to_string())?.status();
    if status.is_success() {
        Ok(n)
    } else {
        Err(format!("{status}"))
    }
}

fn report(run: &Run) -> Vec<String> {
    let v = &run.verdict;
    let mut out = vec![
        format!(
            "  {} — 64 requests in flight{}",
            run.db,
            if run.notify.cut > 0 {
                "; every phase cut with requests in flight at 90% answered"
            } else {
                ""
            }
        ),
        phase_line(&run.native, NATIVE_GOAL),
        phase_line(&run.jsapi, JSAPI_GOAL),
        phase_line(&run.intent_confirm, INTENT_CONFIRM_GOAL),
        phase_line(&run.intent_create, NATIVE_GOAL),
        phase_line(&run.notify, NOTIFY_GOAL),
        format!(
            "  {:<28} {} unique + {} duplicates ({:.0}% of requests), {} dropped in flight",
            "",
            run.unique,
            run.duplicates,
            100.0 * count_f64(run.duplicates) / count_f64(run.notify.sent.max(1)),
            run.notify.cut,
        ),
        format!(
            "  {:<28} {}/{} sessions complete, one payment.succeeded each: {}, one checkout.session.completed each: {}",
            "exactly-once", v.complete, v.notified, v.payment_events_ok, v.session_events_ok,
        ),
        format!(
            "  {:<28} {} provider orders, {} matched by exactly one attempt in the provider's state, {} attempts left created, {} unmatched (\"never created\") reports  {}",
            "orders",
            v.orders,
            v.orders_matched,
            v.left_created,
            v.unmatched,
            if v.ok() { "PASS" } else { "FAIL" }
        ),
    ];
    out.extend(
        v.detail
            .iter()
            .map(|d| format!("  exactly-once violation: {d}")),
    );
    out
}

#[tokio::main]
async fn main() {
    let started = Instant::now();
    // The server signs with the default backend; ring is measured beside it for comparison.
    let mut sign_lines = Vec::new();
    for backend in [RsaBackend::default(), RsaBackend::Ring] {
        let name = backend.as_str();
        eprintln!("==> RSA sign rate ({name}, 2048-bit, one thread, {SIGN_TIME:?})");
        let signs = tokio::task::spawn_blocking(move || sign_rate(backend))
            .await
            .unwrap();
        eprintln!("    {signs:.0} signatures/s");
        let role = if backend == RsaBackend::default() {
            ", the server's"
        } else {
            ""
        };
        sign_lines.push(line(
            &format!("RSA sign ({name}{role})"),
            &format!("{signs:>6.0}/s  one thread"),
            None,
            0.0,
        ));
    }
    let mut runs = vec![phases(Db::Sqlite).await];
    // Postgres when a cluster is at hand (`make bench` starts a throw-away one).
    if std::env::var_os("PAYBRIDGE_TEST_POSTGRES_URL").is_some() {
        runs.push(phases(Db::Postgres).await);
    } else {
        eprintln!(
            "==> Postgres skipped: PAYBRIDGE_TEST_POSTGRES_URL is not set (run through `make bench`)"
        );
    }

    let mut out = vec![
        String::new(),
        "payflows — in-process server, sandbox, 127.0.0.1".into(),
    ];
    out.append(&mut sign_lines);
    for run in &runs {
        out.extend(report(run));
    }
    out.push(format!(
        "  total bench time {:.0} s",
        started.elapsed().as_secs_f64()
    ));
    println!("{}", out.join("\n"));
    let failed = runs.iter().any(|r| {
        !r.verdict.ok()
            || !r.notify.errors.is_empty()
            || (r.notify.cut == 0 && r.notify.sent != r.unique + r.duplicates)
    });
    if failed {
        eprintln!("payflows: exactly-once violated or notifications rejected");
        std::process::exit(1);
    }
}
