//! Production-like load (`make bench`, issue 22): the release `paybridge` binary in live mode,
//! its WeChat Pay, OAuth and Alipay base URLs pointing at a second `paybridge` process in sandbox
//! mode that plays WeChat Pay, both sharing one set of throwaway keys. Every phase runs 32
//! connections for a warm-up and then a timed window, and reports throughput, p50/p99 and the
//! CPU time per request of the live process(es) alone, read from `/proc/<pid>/stat`.
//!
//! Phases: create a checkout session; pay from a desktop (Native, a QR code); pay in WeChat
//! (JSAPI + paySign, the shopper signed in through the sandbox's OAuth); WeChat's notifications
//! for every attempt of the two pay phases, 20 % of them duplicates — after which every notified
//! payment must have succeeded exactly once (asserted in the database).
//!
//! Runs on SQLite, then (with `PAYBRIDGE_TEST_POSTGRES_URL`, as `.ci/with-postgres.sh` sets) on
//! Postgres with one instance and with two instances on one database. Knobs:
//! `PAYBRIDGE_LIVE_BENCH_SECS` (timed seconds per phase, 15), `PAYBRIDGE_LIVE_BENCH_RUNS`
//! (`sqlite,postgres,postgres2`), `PAYBRIDGE_LIVE_BENCH_PERF` (a directory: `perf record` the
//! live process during every timed phase into it), `PAYBRIDGE_LIVE_BENCH_STAND_IN` (the
//! `paybridge` binary the stand-in WeChat runs, by default the one under test: comparing two
//! builds of the live process against one stand-in keeps the stand-in's own change out of the
//! live figures).

// A benchmark should stop loudly on a broken set-up step, and its summary is its output.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use paybridge_server::sandbox::SandboxKeys;
use paybridge_server::sandbox::alipay::AlipayKeys;
use paybridge_tests::binary::paybridge_bin;
use paybridge_tests::live::alipay_flags;
use paybridge_tests::notify::{signed_transaction, unix_now};
use paybridge_tests::{Db, fresh_database, session_request, workspace_root};
use serde_json::{Value, json};
use sqlx::Row;

/// Connections (and requests in flight) in every phase.
const CONNECTIONS: usize = 32;
/// Load before each timed window, not counted.
const WARM_UP: Duration = Duration::from_secs(2);
/// 4003: the sandbox never notifies about these orders itself, so every notification is ours.
const AMOUNT: i64 = 4003;
/// Pay phases take sessions from a stock made beforehand; enough for this many pays per second.
const PAY_STOCK_RATE: u64 = 3_000;

/// One phase's goals from issue 22 (SQLite, 2 cores, 32 connections).
struct Goal {
    cpu_ms: f64,
    rate: f64,
}

const CREATE_GOAL: Goal = Goal {
    cpu_ms: 0.06,
    rate: 11_000.0,
};
const NATIVE_GOAL: Goal = Goal {
    cpu_ms: 0.40,
    rate: 1_900.0,
};
const JSAPI_GOAL: Goal = Goal {
    cpu_ms: 0.60,
    rate: 1_900.0,
};
const NOTIFY_GOAL: Goal = Goal {
    cpu_ms: 0.08,
    rate: 11_000.0,
};
/// Postgres, one instance: at least this share of each SQLite figure.
const POSTGRES_SHARE: f64 = 0.60;

#[allow(clippy::cast_precision_loss, reason = "counts far below 2^52")]
const fn f(n: usize) -> f64 {
    n as f64
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1_000.0
}

// ---------------------------------------------------------------------------------------------
// Processes

/// Log files of every process started, printed when the bench fails.
static LOGS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// A `paybridge` process whose stdout and stderr go to files; killed when dropped.
struct Proc {
    name: String,
    child: Child,
    /// `http://127.0.0.1:<port>`.
    base: String,
}

impl Proc {
    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Starts `bin args…` with its output in `dir/<name>.{out,err}`.
    fn start(bin: &Path, name: &str, dir: &Path, port: u16, args: &[String]) -> Self {
        let out = dir.join(format!("{name}.out"));
        let err = dir.join(format!("{name}.err"));
        LOGS.lock().unwrap().extend([out.clone(), err.clone()]);
        let child = Command::new(bin)
            .args(args)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::fs::File::create(&err).unwrap())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        Self {
            name: name.to_owned(),
            child,
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    /// Waits until `/readyz` answers 200 (30 s at most), or the process exits.
    async fn ready(&mut self, client: &reqwest::Client) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut pause = Duration::from_millis(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("{} exited during start-up: {status}", self.name);
            }
            let ok = client
                .get(format!("{}/readyz", self.base))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ok {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{} not ready after 30 s",
                self.name
            );
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(200));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// utime + stime (fields 14 and 15) of a `/proc/…/stat` file, in clock ticks.
fn cpu_ticks(stat: &str) -> u64 {
    let text = std::fs::read_to_string(stat).unwrap();
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    let rest = &text[text.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

/// Context switches (voluntary and not) of every thread of process `pid` so far: the profile
/// of the live process shows the scheduler among its top items.
fn context_switches(pid: u32) -> u64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0;
    };
    tasks
        .filter_map(Result::ok)
        .filter_map(|t| std::fs::read_to_string(t.path().join("status")).ok())
        .flat_map(|status| {
            status
                .lines()
                .filter(|l| l.contains("ctxt_switches:"))
                .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
                .collect::<Vec<_>>()
        })
        .sum()
}

/// Clock ticks per second (`getconf CLK_TCK`).
fn clk_tck() -> f64 {
    let out = Command::new("getconf").arg("CLK_TCK").output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

/// A port free right now on 127.0.0.1 (the processes need theirs before they start: the live
/// one's public URL names it).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// The two kinds of process

/// The simulated WeChat Pay: a sandbox-mode paybridge on SQLite in `dir`, whose keys were made
/// beforehand so that the live process can be configured with them. Its public URL is the
/// merchant's (`merchant`): the simulated WeChat takes its public origin for the merchant's
/// registered OAuth domain (网页授权域名), and in production that is the live server's.
fn start_sandbox(dir: &Path, logs: &Path, merchant: &str) -> Proc {
    let port = free_port();
    let args: Vec<String> = [
        "--mode",
        "sandbox",
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--admin-listen",
        &format!("127.0.0.1:{}", free_port()),
        "--public-url",
        merchant,
        "--data-dir",
        &dir.display().to_string(),
        "--dist-dir",
        &workspace_root().join("dist").display().to_string(),
        "--log-format",
        "json",
        "--shopper-rate-limit",
        "1000000",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let stand_in =
        std::env::var_os("PAYBRIDGE_LIVE_BENCH_STAND_IN").map_or_else(paybridge_bin, PathBuf::from);
    Proc::start(&stand_in, "sandbox", logs, port, &args)
}

/// What every live instance of one run shares.
struct LiveSetup {
    keys: SandboxKeys,
    alipay: AlipayKeys,
    /// The sandbox's base URL.
    wechat: String,
    secret: String,
    database_url: Option<String>,
}

/// The live flags of instance `name`, listening on `port`, its data in `data_dir`.
fn live_args(setup: &LiveSetup, data_dir: &Path, port: u16) -> Vec<String> {
    let wechat = setup.keys.wechat_config();
    let public = wechat.pay_public_key.clone().expect("public-key mode");
    let sandbox_wechat = format!(
        "{}{}",
        setup.wechat,
        paybridge_server::sandbox::WECHAT_PREFIX
    );
    let gateway = format!(
        "{}{}",
        setup.wechat,
        paybridge_server::sandbox::alipay::GATEWAY_PATH
    );
    let mut args: Vec<String> = [
        "--mode",
        "live",
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--admin-listen",
        &format!("127.0.0.1:{}", free_port()),
        // Loopback http is allowed in live mode: the shopper's browser (the bench) comes back
        // here from the OAuth consent page.
        "--public-url",
        &format!("http://127.0.0.1:{port}/"),
        "--data-dir",
        &data_dir.display().to_string(),
        "--dist-dir",
        &workspace_root().join("dist").display().to_string(),
        "--log-format",
        "json",
        "--secret-key",
        &setup.secret,
        // All shoppers come from one address here; in production they are many.
        "--shopper-rate-limit",
        "1000000",
        "--wechat-mchid",
        &wechat.mchid,
        "--wechat-appid",
        &wechat.appid,
        "--wechat-app-secret",
        wechat.app_secret.expose(),
        "--wechat-mch-serial-no",
        &wechat.mch_serial_no,
        "--wechat-mch-private-key-path",
        &wechat.mch_private_key_path.display().to_string(),
        "--wechat-apiv3-key",
        wechat.apiv3_key.expose(),
        "--wechat-pay-public-key-path",
        &public.path.display().to_string(),
        "--wechat-pay-public-key-id",
        &public.id,
        "--wechat-pay-api-base",
        &sandbox_wechat,
        "--wechat-oauth-base",
        &sandbox_wechat,
        "--wechat-api-base",
        &sandbox_wechat,
        "--alipay-gateway",
        &gateway,
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    for (flag, value) in alipay_flags(&setup.alipay.config()) {
        args.extend([flag.to_owned(), value]);
    }
    if let Some(url) = &setup.database_url {
        args.extend(["--database-url".to_owned(), url.clone()]);
    }
    args
}

/// `paybridge keys create` in live mode on the run's database: the merchant's `sk_live_…`.
fn live_api_key(setup: &LiveSetup, data_dir: &Path) -> String {
    let mut cmd = Command::new(paybridge_bin());
    cmd.args(["keys", "create", "--mode", "live", "--data-dir"])
        .arg(data_dir);
    if let Some(url) = &setup.database_url {
        cmd.args(["--database-url", url]);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "paybridge keys create: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    stdout
        .trim()
        .split('\t')
        .nth(1)
        .unwrap_or_else(|| panic!("no key in {stdout:?}"))
        .to_owned()
}

// ---------------------------------------------------------------------------------------------
// Load

/// What one stretch of load measured.
struct Measured<R> {
    answered: usize,
    latencies: Vec<Duration>,
    results: Vec<R>,
    errors: usize,
    first_errors: Vec<String>,
    elapsed: Duration,
    /// The items ran out before the time did.
    exhausted: bool,
}

impl<R> Measured<R> {
    fn rate(&self) -> f64 {
        f(self.answered) / self.elapsed.as_secs_f64()
    }

    fn percentile(&self, p: f64) -> Duration {
        let Some(last) = self.latencies.len().checked_sub(1) else {
            return Duration::ZERO;
        };
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "an index into a vector"
        )]
        let i = ((f(last) * p).round() as usize).min(last);
        self.latencies[i]
    }
}

/// One worker's share.
struct Share<R> {
    latencies: Vec<Duration>,
    results: Vec<R>,
    errors: usize,
    first_errors: Vec<String>,
}

/// `CONNECTIONS` workers call `call(worker, item)` for items `next..limit` (one counter shared
/// by every stretch of a phase) until `time` has passed or the items run out.
async fn drive<R, F, Fut>(
    next: &Arc<AtomicUsize>,
    limit: usize,
    time: Duration,
    call: &F,
) -> Measured<R>
where
    R: Send + 'static,
    F: Fn(usize, usize) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<R, String>> + Send,
{
    let start = Instant::now();
    let deadline = start + time;
    let workers: Vec<_> = (0..CONNECTIONS)
        .map(|w| {
            let (next, call) = (next.clone(), call.clone());
            tokio::spawn(async move {
                let mut share = Share {
                    latencies: Vec::new(),
                    results: Vec::new(),
                    errors: 0,
                    first_errors: Vec::new(),
                };
                let mut exhausted = false;
                while Instant::now() < deadline {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= limit {
                        exhausted = true;
                        break;
                    }
                    let t = Instant::now();
                    let result = call(w, i).await;
                    share.latencies.push(t.elapsed());
                    match result {
                        Ok(r) => share.results.push(r),
                        Err(e) => {
                            share.errors += 1;
                            if share.first_errors.len() < 2 {
                                share.first_errors.push(e);
                            }
                        }
                    }
                }
                (share, exhausted)
            })
        })
        .collect();
    let mut m = Measured {
        answered: 0,
        latencies: Vec::new(),
        results: Vec::new(),
        errors: 0,
        first_errors: Vec::new(),
        elapsed: Duration::ZERO,
        exhausted: false,
    };
    for w in workers {
        let (share, exhausted) = w.await.unwrap();
        m.latencies.extend(share.latencies);
        m.results.extend(share.results);
        m.errors += share.errors;
        m.first_errors.extend(share.first_errors);
        m.exhausted |= exhausted;
    }
    m.elapsed = start.elapsed();
    m.answered = m.latencies.len();
    m.latencies.sort_unstable();
    m
}

/// CPU ticks of a set of processes (the live instances, the sandbox, the bench itself).
struct Cpu {
    live: Vec<u32>,
    sandbox: u32,
}

impl Cpu {
    fn switches(&self) -> u64 {
        self.live.iter().map(|pid| context_switches(*pid)).sum()
    }

    fn sample(&self) -> (u64, u64, u64) {
        let live = self
            .live
            .iter()
            .map(|pid| cpu_ticks(&format!("/proc/{pid}/stat")))
            .sum();
        (
            live,
            cpu_ticks(&format!("/proc/{}/stat", self.sandbox)),
            cpu_ticks("/proc/self/stat"),
        )
    }
}

/// One timed phase's row.
struct PhaseRow {
    phase: &'static str,
    requests: usize,
    errors: usize,
    first_errors: Vec<String>,
    seconds: f64,
    rate: f64,
    p50: f64,
    p99: f64,
    /// CPU ms per request: live instance(s), sandbox, bench client.
    cpu_live: f64,
    cpu_sandbox: f64,
    cpu_client: f64,
    /// Context switches of the live process(es) per request.
    switches: f64,
    exhausted: bool,
    load: String,
}

/// A warm-up of `warm_up`, then the timed window (with `perf` recording the live processes when
/// asked), of one phase over items `0..limit`.
async fn phase<R, F, Fut>(
    ctx: &Ctx,
    name: &'static str,
    warm_up: Duration,
    limit: usize,
    call: F,
) -> (PhaseRow, Vec<R>)
where
    R: Send + 'static,
    F: Fn(usize, usize) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<R, String>> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let warm = drive(&next, limit, warm_up, &call).await;
    eprintln!(
        "    {name}: warm-up {} requests ({:.0}/s, {} errors)",
        warm.answered,
        warm.rate(),
        warm.errors
    );
    let perf = ctx.perf_start(name);
    let (before, switches_before) = (ctx.cpu.sample(), ctx.cpu.switches());
    let m = drive(&next, limit, ctx.window, &call).await;
    let (after, switches_after) = (ctx.cpu.sample(), ctx.cpu.switches());
    ctx.perf_stop(perf);
    let per_request = |a: u64, b: u64| {
        #[allow(clippy::cast_precision_loss, reason = "ticks far below 2^52")]
        let ticks = (b - a) as f64;
        ticks / ctx.clk_tck * 1_000.0 / f(m.answered.max(1))
    };
    let row = PhaseRow {
        phase: name,
        requests: m.answered,
        errors: m.errors,
        first_errors: m.first_errors.clone(),
        seconds: m.elapsed.as_secs_f64(),
        rate: m.rate(),
        p50: ms(m.percentile(0.50)),
        p99: ms(m.percentile(0.99)),
        cpu_live: per_request(before.0, after.0),
        cpu_sandbox: per_request(before.1, after.1),
        cpu_client: per_request(before.2, after.2),
        #[allow(clippy::cast_precision_loss, reason = "counts far below 2^52")]
        switches: switches_after.saturating_sub(switches_before) as f64 / f(m.answered.max(1)),
        exhausted: m.exhausted,
        load: load_average(),
    };
    eprintln!(
        "    {name}: {} requests in {:.1} s → {:.0}/s, p50 {:.2} ms, p99 {:.2} ms, live CPU {:.3} ms/request, {} errors{}  (load {})",
        row.requests,
        row.seconds,
        row.rate,
        row.p50,
        row.p99,
        row.cpu_live,
        row.errors,
        if row.exhausted {
            ", ran out of items"
        } else {
            ""
        },
        row.load
    );
    for e in &row.first_errors {
        eprintln!("      e.g. {e}");
    }
    let mut results = warm.results;
    results.extend(m.results);
    (row, results)
}

// ---------------------------------------------------------------------------------------------
// One run: a sandbox process, live instance(s), the four phases, the exactly-once check

/// What the phases of one run share.
struct Ctx {
    client: reqwest::Client,
    /// The live instances' base URLs; worker `w` uses instance `w % len`.
    bases: Vec<String>,
    api_key: String,
    cpu: Cpu,
    clk_tck: f64,
    window: Duration,
    perf_dir: Option<PathBuf>,
    label: String,
}

impl Ctx {
    fn base(&self, worker: usize) -> &str {
        &self.bases[worker % self.bases.len()]
    }

    fn perf_start(&self, phase: &str) -> Option<Child> {
        let dir = self.perf_dir.as_ref()?;
        let file = dir.join(format!(
            "{}-{}.data",
            self.label.replace([' ', ','], "_"),
            phase.replace(' ', "_")
        ));
        let pids: Vec<String> = self.cpu.live.iter().map(u32::to_string).collect();
        Command::new("perf")
            // Call graphs from the unwind tables (release builds keep no frame pointers).
            .args(["record", "-F", "997", "--call-graph", "dwarf,8192", "-o"])
            .arg(&file)
            .args(["-p", &pids.join(",")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()
    }

    fn perf_stop(&self, perf: Option<Child>) {
        if let Some(mut child) = perf {
            // SIGINT: perf writes its file and exits.
            let _ = Command::new("kill")
                .args(["-INT", &child.id().to_string()])
                .status();
            let _ = child.wait();
        }
    }
}

/// How a run is laid out.
#[derive(Clone, Copy)]
struct Layout {
    label: &'static str,
    db: Db,
    instances: usize,
}

struct RunResult {
    label: &'static str,
    rows: Vec<PhaseRow>,
    exactly_once: String,
}

async fn run(layout: Layout, window: Duration, clk_tck: f64) -> RunResult {
    eprintln!(
        "==> {}: live paybridge ×{} against a sandbox paybridge as WeChat Pay (load {})",
        layout.label,
        layout.instances,
        load_average()
    );
    // Kept when the run fails (the processes' output is there); removed at its end otherwise.
    let dir = tempfile::Builder::new()
        .prefix("paybridge-live-bench.")
        .tempdir()
        .unwrap()
        .keep();
    let logs = dir.join("logs");
    let sandbox_dir = dir.join("sandbox");
    std::fs::create_dir_all(&logs).unwrap();
    // Keys made the way the sandbox makes its own, in its data dir: the sandbox loads them and
    // the live instances are configured with them.
    let keys_dir = sandbox_dir.clone();
    let (keys, alipay) = tokio::task::spawn_blocking(move || {
        (
            SandboxKeys::load_or_create(&keys_dir).unwrap(),
            AlipayKeys::load_or_create(&keys_dir).unwrap(),
        )
    })
    .await
    .unwrap();
    let probe = reqwest::Client::new();
    let ports: Vec<u16> = (0..layout.instances).map(|_| free_port()).collect();
    let mut sandbox = start_sandbox(
        &sandbox_dir,
        &logs,
        &format!("http://127.0.0.1:{}/", ports[0]),
    );
    sandbox.ready(&probe).await;
    let setup = LiveSetup {
        keys,
        alipay,
        wechat: sandbox.base.clone(),
        secret: format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        ),
        database_url: fresh_database(layout.db).await,
    };
    let mut live = Vec::new();
    for (i, port) in ports.into_iter().enumerate() {
        let data = dir.join(format!("live{i}"));
        std::fs::create_dir_all(&data).unwrap();
        let mut p = Proc::start(
            &paybridge_bin(),
            &format!("live{i}"),
            &logs,
            port,
            &live_args(&setup, &data, port),
        );
        // One at a time: the first applies the migrations.
        p.ready(&probe).await;
        live.push(p);
    }
    let api_key = live_api_key(&setup, &dir.join("live0"));
    let live_db = setup
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", dir.join("live0/paybridge.db").display()));
    let sandbox_db = format!("sqlite://{}", sandbox_dir.join("paybridge.db").display());

    let ctx = Arc::new(Ctx {
        client: reqwest::Client::builder()
            .pool_max_idle_per_host(CONNECTIONS)
            .tcp_nodelay(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        bases: live.iter().map(|p| p.base.clone()).collect(),
        api_key,
        cpu: Cpu {
            live: live.iter().map(Proc::pid).collect(),
            sandbox: sandbox.pid(),
        },
        clk_tck,
        window,
        perf_dir: std::env::var_os("PAYBRIDGE_LIVE_BENCH_PERF").map(PathBuf::from),
        label: layout.label.to_owned(),
    });
    let mut rows = Vec::new();

    // Create: the sessions it makes are the pay phases' stock.
    let c = ctx.clone();
    let (row, mut stock) = phase(&ctx, "create session", WARM_UP, usize::MAX, move |w, _| {
        create_session(c.clone(), w)
    })
    .await;
    rows.push(row);
    let need = usize::try_from(PAY_STOCK_RATE * (WARM_UP + window).as_secs()).unwrap();

    // Native.
    top_up(&ctx, &mut stock, need).await;
    let ids = Arc::new(stock.split_off(stock.len() - need));
    let (c, i) = (ctx.clone(), ids.clone());
    let (row, native) = phase(&ctx, "pay Native", WARM_UP, ids.len(), move |w, n| {
        pay(c.clone(), w, i[n].clone(), "desktop", "qr", None)
    })
    .await;
    rows.push(row);

    // JSAPI: one real sign-in through the sandbox's OAuth gives the shopper's openid; each
    // session's cookie is then sealed with the server's secret, as its callback would seal it.
    let openid = sign_in(&ctx).await;
    top_up(&ctx, &mut stock, need).await;
    let ids = Arc::new(stock.split_off(stock.len() - need));
    let (c, i, secret) = (ctx.clone(), ids.clone(), Arc::new(setup.secret.clone()));
    let (row, jsapi) = phase(&ctx, "pay JSAPI", WARM_UP, ids.len(), move |w, n| {
        let id = i[n].clone();
        let sealed = paybridge_server::service::oauth_state::seal_openid(
            &secret,
            &id,
            &openid,
            paybridge_server::domain::now_millis() + 3_600_000,
        );
        let cookie = format!("pb_openid_{id}={sealed}");
        pay(c.clone(), w, id, "wechat", "jsapi", Some(cookie))
    })
    .await;
    rows.push(row);

    // Notifications for every attempt the pay phases made, once WeChat's orders say paid.
    sqlx::any::install_default_drivers();
    let live_pool = sqlx::AnyPool::connect(&live_db).await.unwrap();
    let sandbox_pool = sqlx::AnyPool::connect(&sandbox_db).await.unwrap();
    let attempts: HashSet<String> = native.into_iter().chain(jsapi).collect();
    let targets = trade_numbers(&live_pool, &attempts).await;
    pay_at_wechat(&sandbox_pool, &targets).await;
    let unique = notifications(&setup.keys, &targets).await;
    let mut requests: Vec<Arc<Notification>> = unique.clone();
    // One in five requests is a duplicate: a quarter of the unique ones again.
    requests.extend(unique.iter().step_by(4).cloned());
    shuffle(&mut requests);
    eprintln!(
        "    notifications: {} for {} attempts ({} duplicates)",
        requests.len(),
        unique.len(),
        requests.len() - unique.len()
    );
    let requests = Arc::new(requests);
    let (c, r) = (ctx.clone(), requests.clone());
    // A short warm-up: each attempt can be notified only once, and the pay phases made only
    // so many.
    let warm_up = Duration::from_millis(500);
    let (row, acknowledged) = phase(
        &ctx,
        "notification",
        warm_up,
        requests.len(),
        move |w, n| notify(c.clone(), w, r[n].clone()),
    )
    .await;
    rows.push(row);
    // WeChat sends again what was not acknowledged (an error, or never sent before the end).
    let acknowledged: HashSet<String> = acknowledged.into_iter().collect();
    let again: Vec<Arc<Notification>> = unique
        .iter()
        .filter(|n| !acknowledged.contains(&n.out_trade_no))
        .cloned()
        .collect();
    if !again.is_empty() {
        eprintln!("    WeChat retries {} notifications", again.len());
        let again = Arc::new(again);
        let (c, r) = (ctx.clone(), again.clone());
        let next = Arc::new(AtomicUsize::new(0));
        let m = drive(
            &next,
            again.len(),
            Duration::from_secs(120),
            &move |w, n| notify(c.clone(), w, r[n].clone()),
        )
        .await;
        assert_eq!(m.errors, 0, "retries refused: {:?}", m.first_errors);
    }
    let exactly_once = verify_exactly_once(&live_pool, &sandbox_pool, &targets).await;

    drop(live);
    drop(sandbox);
    live_pool.close().await;
    sandbox_pool.close().await;
    // The output was only needed had something failed.
    LOGS.lock().unwrap().clear();
    let _ = std::fs::remove_dir_all(&dir);
    RunResult {
        label: layout.label,
        rows,
        exactly_once,
    }
}

async fn create_session(ctx: Arc<Ctx>, worker: usize) -> Result<String, String> {
    let res = ctx
        .client
        .post(format!("{}/v1/checkout_sessions", ctx.base(worker)))
        .bearer_auth(&ctx.api_key)
        .json(&session_request(AMOUNT))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = res.status();
    let body: Value = res.json().await.map_err(|e| e.to_string())?;
    match body["id"].as_str() {
        Some(id) if status == 200 => Ok(id.to_owned()),
        _ => Err(format!("{status}: {body}")),
    }
}

/// Creates sessions (untimed) until `stock` holds `need`.
async fn top_up(ctx: &Arc<Ctx>, stock: &mut Vec<String>, need: usize) {
    if stock.len() >= need {
        return;
    }
    let missing = need - stock.len();
    eprintln!("    creating {missing} more sessions (untimed)");
    let c = ctx.clone();
    let next = Arc::new(AtomicUsize::new(0));
    let m = drive(&next, missing, Duration::from_secs(600), &move |w, _| {
        create_session(c.clone(), w)
    })
    .await;
    assert_eq!(m.errors, 0, "creating sessions: {:?}", m.first_errors);
    stock.extend(m.results);
}

/// `POST /api/checkout/{id}/pay` in `environment`, expecting an action of `kind`; the payment
/// attempt's id.
async fn pay(
    ctx: Arc<Ctx>,
    worker: usize,
    session: String,
    environment: &'static str,
    kind: &'static str,
    cookie: Option<String>,
) -> Result<String, String> {
    let mut req = ctx
        .client
        .post(format!("{}/api/checkout/{session}/pay", ctx.base(worker)))
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

/// A shopper in WeChat signs in once through the sandbox's OAuth, as the live server sends them
/// there: pay → `oauth` action → consent → the live callback, which seals the openid into a
/// cookie. Returns the openid.
async fn sign_in(ctx: &Ctx) -> String {
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_provider(jar.clone())
        .build()
        .unwrap();
    let base = &ctx.bases[0];
    let res = browser
        .post(format!("{base}/v1/checkout_sessions"))
        .bearer_auth(&ctx.api_key)
        .json(&session_request(AMOUNT))
        .send()
        .await
        .unwrap();
    let id = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let action: Value = browser
        .post(format!("{base}/api/checkout/{id}/pay"))
        .json(&json!({"method": "wechat_pay", "environment": "wechat"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(action["type"], "oauth", "{action}");
    let authorize = url::Url::parse(action["url"].as_str().unwrap()).unwrap();
    let q: HashMap<_, _> = authorize.query_pairs().into_owned().collect();
    let approve = authorize
        .join(&format!(
            "{}/connect/oauth2/approve",
            paybridge_server::sandbox::WECHAT_PREFIX
        ))
        .unwrap();
    let consent = browser
        .post(approve)
        .form(&[
            ("appid", q["appid"].as_str()),
            ("redirect_uri", q["redirect_uri"].as_str()),
            ("scope", "snsapi_base"),
            ("state", q["state"].as_str()),
            ("user", "bench-shopper"),
            ("decision", "allow"),
        ])
        .send()
        .await
        .unwrap();
    let callback = consent.headers()["location"].to_str().unwrap().to_owned();
    let back = browser.get(&callback).send().await.unwrap();
    assert!(
        back.status().is_redirection(),
        "OAuth callback: {}",
        back.status()
    );
    let cookies = reqwest::cookie::CookieStore::cookies(
        &*jar,
        &url::Url::parse(&format!("{base}/api/checkout/{id}/pay")).unwrap(),
    )
    .expect("the callback sets the openid cookie");
    let name = format!("pb_openid_{id}=");
    let sealed = cookies
        .to_str()
        .unwrap()
        .split("; ")
        .find_map(|c| c.strip_prefix(&name))
        .expect("the openid cookie")
        .to_owned();
    // `<expires>.<openid>.<mac>`: the openid is readable, only sealing needs the secret.
    let (payload, _) = sealed.rsplit_once('.').unwrap();
    payload.split_once('.').unwrap().1.to_owned()
}

/// A WeChat notification (headers and body) about one attempt.
struct Notification {
    out_trade_no: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// `out_trade_no` of each of `attempts`.
async fn trade_numbers(pool: &sqlx::AnyPool, attempts: &HashSet<String>) -> Vec<String> {
    let rows = sqlx::query("SELECT id, out_trade_no FROM payments")
        .fetch_all(pool)
        .await
        .unwrap();
    let found: Vec<String> = rows
        .iter()
        .filter(|r| attempts.contains(&r.get::<String, _>("id")))
        .map(|r| r.get("out_trade_no"))
        .collect();
    assert_eq!(found.len(), attempts.len(), "every attempt is stored");
    found
}

/// The shoppers pay: WeChat's (the sandbox's) orders become SUCCESS, as its pay sheet would make
/// them, without it notifying anyone — the bench sends WeChat's notifications itself.
async fn pay_at_wechat(pool: &sqlx::AnyPool, trade_nos: &[String]) {
    let now = unix_now() * 1000;
    for chunk in trade_nos.chunks(500) {
        let list: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            "UPDATE sandbox_orders SET trade_state = 'SUCCESS', trade_state_desc = '支付成功', \
             transaction_id = '4200' || out_trade_no, success_at = $1, updated_at = $1, \
             payer_openid = COALESCE(payer_openid, 'o_sandbox_shopper') WHERE out_trade_no IN ({})",
            list.join(", ")
        );
        let mut q = sqlx::query(&sql).bind(now);
        for t in chunk {
            q = q.bind(t.as_str());
        }
        q.execute(pool).await.unwrap();
    }
}

/// One TRANSACTION.SUCCESS per trade, signed with WeChat's (the sandbox's) platform key and
/// encrypted with the APIv3 key; made on every core before the phase.
async fn notifications(keys: &SandboxKeys, trade_nos: &[String]) -> Vec<Arc<Notification>> {
    let timestamp = unix_now();
    let trade_nos = Arc::new(trade_nos.to_vec());
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    let parts: Vec<_> = (0..cores)
        .map(|part| {
            let (keys, trade_nos) = (keys.clone(), trade_nos.clone());
            tokio::task::spawn_blocking(move || {
                trade_nos
                    .iter()
                    .skip(part)
                    .step_by(cores)
                    .map(|t| {
                        let (headers, body) = signed_transaction(
                            &keys.platform,
                            keys.apiv3_key.expose(),
                            &keys.mchid,
                            (&keys.appid, t, &format!("4200{t}")),
                            AMOUNT,
                            timestamp,
                        );
                        Arc::new(Notification {
                            out_trade_no: t.clone(),
                            headers,
                            body,
                        })
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut all = Vec::new();
    for p in parts {
        all.extend(p.await.unwrap());
    }
    all
}

/// `POST /notify/wechat`; the trade number once acknowledged.
async fn notify(ctx: Arc<Ctx>, worker: usize, n: Arc<Notification>) -> Result<String, String> {
    let mut req = ctx
        .client
        .post(format!("{}/notify/wechat", ctx.base(worker)))
        .header("content-type", "application/json")
        .body(n.body.clone());
    for (k, v) in &n.headers {
        req = req.header(k.as_str(), v.as_str());
    }
    let status = req.send().await.map_err(|e| e.to_string())?.status();
    if status.is_success() {
        Ok(n.out_trade_no.clone())
    } else {
        Err(status.to_string())
    }
}

/// Fisher–Yates with a fixed xorshift seed: the same order every run.
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

/// Asserts that every notified attempt succeeded exactly once: status `succeeded`, one
/// `payment.succeeded` event each and none for anything else, its session complete with one
/// `checkout.session.completed`, WeChat's order SUCCESS, and no unmatched report. Returns the
/// summary line.
async fn verify_exactly_once(
    live: &sqlx::AnyPool,
    sandbox: &sqlx::AnyPool,
    trade_nos: &[String],
) -> String {
    let wanted: HashSet<&str> = trade_nos.iter().map(String::as_str).collect();
    let mut payments = HashMap::new();
    let mut sessions = HashSet::new();
    let mut problems = Vec::new();
    for r in sqlx::query("SELECT id, session_id, status, out_trade_no FROM payments")
        .fetch_all(live)
        .await
        .unwrap()
    {
        let trade: String = r.get("out_trade_no");
        if !wanted.contains(trade.as_str()) {
            continue;
        }
        let status: String = r.get("status");
        if status != "succeeded" {
            problems.push(format!("attempt for {trade} is {status}"));
        }
        payments.insert(r.get::<String, _>("id"), 0_i64);
        sessions.insert(r.get::<String, _>("session_id"));
    }
    let counts = |kind: &'static str| async move {
        sqlx::query(
            "SELECT object_id, CAST(COUNT(*) AS BIGINT) AS n FROM events WHERE type = $1 GROUP BY object_id",
        )
        .bind(kind)
        .fetch_all(live)
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get::<String, _>("object_id"), r.get::<i64, _>("n")))
        .collect::<HashMap<String, i64>>()
    };
    let succeeded = counts("payment.succeeded").await;
    for (object, n) in &succeeded {
        match payments.get_mut(object) {
            Some(seen) => *seen = *n,
            None => problems.push(format!("payment.succeeded for un-notified {object}")),
        }
    }
    problems.extend(
        payments
            .iter()
            .filter(|(_, n)| **n != 1)
            .map(|(p, n)| format!("{p}: {n} payment.succeeded events")),
    );
    let completed = counts("checkout.session.completed").await;
    problems.extend(
        sessions
            .iter()
            .filter(|s| completed.get(*s).copied().unwrap_or(0) != 1)
            .map(|s| {
                format!(
                    "{s}: {:?} checkout.session.completed events",
                    completed.get(s)
                )
            }),
    );
    let complete: i64 = sqlx::query(
        "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM checkout_sessions WHERE status = 'complete'",
    )
    .fetch_one(live)
    .await
    .unwrap()
    .get("n");
    let unmatched: i64 =
        sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM unmatched_payments")
            .fetch_one(live)
            .await
            .unwrap()
            .get("n");
    if unmatched != 0 {
        problems.push(format!("{unmatched} unmatched provider reports"));
    }
    let paid_orders: i64 = sqlx::query(
        "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM sandbox_orders WHERE trade_state = 'SUCCESS'",
    )
    .fetch_one(sandbox)
    .await
    .unwrap()
    .get("n");
    let summary = format!(
        "{} attempts notified: {} succeeded with one payment.succeeded each, {} sessions complete (of {} notified), WeChat holds {} paid orders",
        trade_nos.len(),
        payments.len() - problems.len().min(payments.len()),
        complete,
        sessions.len(),
        paid_orders
    );
    assert!(
        problems.is_empty()
            && payments.len() == trade_nos.len()
            && usize::try_from(complete).unwrap() == sessions.len()
            && usize::try_from(paid_orders).unwrap() == trade_nos.len(),
        "exactly-once violated: {summary}; e.g. {:?}",
        &problems[..problems.len().min(5)]
    );
    summary
}

// ---------------------------------------------------------------------------------------------
// Report

fn goal_of(phase: &str) -> &'static Goal {
    match phase {
        "create session" => &CREATE_GOAL,
        "pay Native" => &NATIVE_GOAL,
        "pay JSAPI" => &JSAPI_GOAL,
        _ => &NOTIFY_GOAL,
    }
}

fn met(ok: bool) -> &'static str {
    if ok { "met" } else { "NOT met" }
}

/// The table of one run; `reference` is the run its throughput is compared with (SQLite for
/// Postgres with one instance, one instance for two), with the share it must reach.
fn table(run: &RunResult, reference: Option<(&RunResult, f64)>) -> Vec<String> {
    let mut out = vec![
        String::new(),
        format!(
            "live mode — {} — {CONNECTIONS} connections, {:.0} s per phase after {:.0} s warm-up",
            run.label,
            run.rows.first().map_or(0.0, |r| r.seconds),
            WARM_UP.as_secs_f64()
        ),
        format!(
            "  {:<15} {:>8} {:>8} {:>8} {:>8} {:>8} {:>17} {:>19} {:>8} {:>8} {:>8}{}  {}",
            "phase",
            "requests",
            "req/s",
            "p50 ms",
            "p99 ms",
            "CPU ms",
            "goal CPU ms",
            "goal req/s",
            "sandbox",
            "client",
            "cs/req",
            if reference.is_some() {
                format!(" {:>17}", "vs reference")
            } else {
                String::new()
            },
            "load (1/5/15 min)"
        ),
    ];
    for row in &run.rows {
        let goal = goal_of(row.phase);
        let share = reference.and_then(|(r, need)| {
            r.rows
                .iter()
                .find(|x| x.phase == row.phase)
                .map(|x| (row.rate / x.rate, need))
        });
        out.push(format!(
            "  {:<15} {:>8} {:>8.0} {:>8.2} {:>8.2} {:>8.3} {:>17} {:>19} {:>8.3} {:>8.3} {:>8.1}{}  {}{}",
            row.phase,
            row.requests,
            row.rate,
            row.p50,
            row.p99,
            row.cpu_live,
            format!("≤ {:.2} {}", goal.cpu_ms, met(row.cpu_live <= goal.cpu_ms)),
            format!("≥ {:.0} {}", goal.rate, met(row.rate >= goal.rate)),
            row.cpu_sandbox,
            row.cpu_client,
            row.switches,
            share.map_or(String::new(), |(s, need)| format!(
                " {:>17}",
                format!("{:.2}× {}", s, met(s >= need))
            )),
            row.load,
            match (row.errors, row.exhausted) {
                (0, false) => String::new(),
                (e, x) => format!(
                    "  ({e} errors{})",
                    if x { ", ran out of items" } else { "" }
                ),
            }
        ));
    }
    out.push(format!("  exactly once: {}  PASS", run.exactly_once));
    out
}

#[tokio::main]
async fn main() {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        default_hook(info);
        if let Ok(logs) = LOGS.lock() {
            for l in logs.iter() {
                eprintln!("  process output: {}", l.display());
            }
        }
    }));
    let window = Duration::from_secs(
        std::env::var("PAYBRIDGE_LIVE_BENCH_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(15),
    );
    let wanted = std::env::var("PAYBRIDGE_LIVE_BENCH_RUNS")
        .unwrap_or_else(|_| "sqlite,postgres,postgres2".into());
    let postgres = std::env::var_os("PAYBRIDGE_TEST_POSTGRES_URL").is_some();
    if !postgres {
        eprintln!(
            "==> Postgres skipped: PAYBRIDGE_TEST_POSTGRES_URL is not set (run through `make bench`)"
        );
    }
    let layouts = [
        (
            "sqlite",
            Layout {
                label: "SQLite",
                db: Db::Sqlite,
                instances: 1,
            },
        ),
        (
            "postgres",
            Layout {
                label: "Postgres, 1 instance",
                db: Db::Postgres,
                instances: 1,
            },
        ),
        (
            "postgres2",
            Layout {
                label: "Postgres, 2 instances",
                db: Db::Postgres,
                instances: 2,
            },
        ),
    ];
    let clk_tck = clk_tck();
    let mut runs: Vec<RunResult> = Vec::new();
    for (key, layout) in layouts {
        if !wanted.split(',').any(|w| w.trim() == key) || (layout.db == Db::Postgres && !postgres) {
            continue;
        }
        runs.push(run(layout, window, clk_tck).await);
    }
    let mut out = Vec::new();
    for (i, run) in runs.iter().enumerate() {
        let reference = match run.label {
            "Postgres, 1 instance" => runs
                .iter()
                .find(|r| r.label == "SQLite")
                .map(|r| (r, POSTGRES_SHARE)),
            "Postgres, 2 instances" => runs[..i]
                .iter()
                .find(|r| r.label == "Postgres, 1 instance")
                .map(|r| (r, 1.0)),
            _ => None,
        };
        out.extend(table(run, reference));
    }
    out.push(
        "  CPU ms = CPU time of the live paybridge process(es) per request (utime+stime from /proc); sandbox and client: the same for WeChat's stand-in and this bench;\n  cs/req = context switches of the live process(es) per request"
            .into(),
    );
    println!("{}", out.join("\n"));
}
