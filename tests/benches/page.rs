//! The checkout page's weight and time to interactive (`make bench`).
//!
//! Weight: every file of `dist/` (HTML, JS, CSS, wasm) as paybridge serves it — fetched from the
//! real server with `Accept-Encoding: gzip` and `br` — and, for comparison, compressed here with
//! brotli at quality 11 as a precompressing CDN would. Goal: ≤ 70 kB brotli in total.
//!
//! Time to interactive: headless Chromium with a phone's User-Agent and viewport opens a fresh
//! checkout (HTTP cache disabled, so every run downloads everything) until the summary's pay
//! button is in the page and a frame has been produced since — the page is interactive then,
//! since its one click handler is in place before any button is drawn. Measured from
//! navigation start (`performance.now()` at that frame), median of several runs, under CDP
//! network conditions and `Emulation.setCPUThrottlingRate` 4. Goal: ≤ 1.0 s on Lighthouse's
//! "slow 4G" profile.

// A benchmark should stop loudly on a broken set-up step, and its summary is its output.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::io::Write;
use std::time::Duration;

use paybridge_tests::browser::{Browser, ua};
use paybridge_tests::{TestApp, spawn_app_with, wait, workspace_root};
use serde_json::{Value, json};

const WEIGHT_GOAL_BYTES: usize = 70_000;
const TTI_GOAL_MS: f64 = 1_000.0;
const RUNS: usize = 7;

/// Network conditions for `Network.emulateNetworkConditions`.
struct Profile {
    name: &'static str,
    /// Added to every request (ms).
    latency_ms: f64,
    /// Bits per second; `None`: no network throttling.
    down_bps: Option<f64>,
    up_bps: f64,
    cpu_slowdown: f64,
}

const PROFILES: [Profile; 5] = [
    Profile {
        name: "no throttling",
        latency_ms: 0.0,
        down_bps: None,
        up_bps: 0.0,
        cpu_slowdown: 1.0,
    },
    // The CPU's share of the slow profiles.
    Profile {
        name: "4x CPU only",
        latency_ms: 0.0,
        down_bps: None,
        up_bps: 0.0,
        cpu_slowdown: 4.0,
    },
    // Lighthouse's mobile "slow 4G": 150 ms RTT, 1.6 Mbps down, 750 kbps up, 4× CPU.
    Profile {
        name: "slow 4G (1.6 Mbps, 150 ms RTT), 4x CPU",
        latency_ms: 150.0,
        down_bps: Some(1.6 * 1024.0 * 1024.0),
        up_bps: 750.0 * 1024.0,
        cpu_slowdown: 4.0,
    },
    // The same link as Chrome DevTools' "Slow 4G" preset (and Lighthouse's devtools mode) apply
    // it per request: 150 ms RTT × 3.75 and 90% of the throughput, for reference.
    Profile {
        name: "DevTools slow 4G (1.44 Mbps, 562 ms), 4x CPU",
        latency_ms: 562.5,
        down_bps: Some(1.6 * 1024.0 * 1024.0 * 0.9),
        up_bps: 750.0 * 1024.0 * 0.9,
        cpu_slowdown: 4.0,
    },
    // A harsher, 3G-like link, for reference.
    Profile {
        name: "3G-like (400 kbps, 400 ms RTT), 4x CPU",
        latency_ms: 400.0,
        down_bps: Some(400.0 * 1024.0),
        up_bps: 400.0 * 1024.0,
        cpu_slowdown: 4.0,
    },
];

/// Records when the pay button is first in the page, at the next frame, as `window.__tti`.
const PROBE: &str = "if (location.pathname.indexOf('/pay/') === 0) {\
    new MutationObserver(function (_, observer) {\
      if (document.getElementById('pay')) {\
        observer.disconnect();\
        requestAnimationFrame(function () { window.__tti = performance.now(); });\
      }\
    }).observe(document, { childList: true, subtree: true });\
  }";

#[tokio::main]
async fn main() {
    // Many page loads from one address: lift the shopper API's per-IP rate limit.
    let app = spawn_app_with(&["--shopper-rate-limit", "1000000"]).await;
    let mut out = Vec::new();
    weight(&app, &mut out).await;
    tti(&app, &mut out).await;
    let mut stdout = std::io::stdout().lock();
    for line in out {
        writeln!(stdout, "{line}").unwrap();
    }
}

async fn fetch_len(app: &TestApp, path: &str, encoding: &str) -> usize {
    let res = app
        .client
        .get(app.url(path))
        .header("accept-encoding", encoding)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{path}");
    let sent = res
        .headers()
        .get("content-encoding")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("identity")
        .to_owned();
    let len = res.bytes().await.unwrap().len();
    // A file the server leaves uncompressed (too small) counts at its size.
    assert!(
        sent == encoding || sent == "identity",
        "{path}: asked for {encoding}, got {sent}"
    );
    len
}

fn brotli_11(bytes: &[u8]) -> usize {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 22,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params).unwrap();
    out.len()
}

/// Kilobytes of 1,000 bytes, as page-weight budgets are usually given.
fn kb(bytes: usize) -> String {
    let k = bytes as f64 / 1000.0;
    format!("{k:.1} kB")
}

async fn weight(app: &TestApp, out: &mut Vec<String>) {
    eprintln!("==> page weight: dist/ as served");
    let dist = workspace_root().join("dist");
    let mut files: Vec<_> = std::fs::read_dir(&dist)
        .expect("dist/ (make page builds it)")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| {
            [".html", ".js", ".css", ".wasm"]
                .iter()
                .any(|x| n.ends_with(x))
        })
        .collect();
    files.sort();
    out.push(String::new());
    out.push(
        "page weight (dist/; gzip and brotli as paybridge serves them; br-11: brotli quality 11)"
            .into(),
    );
    out.push(format!(
        "  {:<46} {:>9} {:>9} {:>9} {:>9}",
        "file", "raw", "gzip", "brotli", "br-11"
    ));
    let mut total = [0_usize; 4];
    for name in &files {
        let bytes = std::fs::read(dist.join(name)).unwrap();
        // index.html is served at /pay/{id}; everything else under /assets/.
        let path = if name == "index.html" {
            "/pay/cs_bench".to_owned()
        } else {
            format!("/assets/{name}")
        };
        let sizes = [
            bytes.len(),
            fetch_len(app, &path, "gzip").await,
            fetch_len(app, &path, "br").await,
            brotli_11(&bytes),
        ];
        for (t, s) in total.iter_mut().zip(sizes) {
            *t += s;
        }
        out.push(format!(
            "  {:<46} {:>9} {:>9} {:>9} {:>9}",
            name, sizes[0], sizes[1], sizes[2], sizes[3]
        ));
    }
    out.push(format!(
        "  {:<46} {:>9} {:>9} {:>9} {:>9}",
        "total (bytes)", total[0], total[1], total[2], total[3]
    ));
    let verdict = |b: usize| {
        if b <= WEIGHT_GOAL_BYTES {
            "meets"
        } else {
            "misses"
        }
    };
    out.push(format!(
        "  brotli total: {} as served ({} the goal of ≤ {}), {} at quality 11 ({})",
        kb(total[2]),
        verdict(total[2]),
        kb(WEIGHT_GOAL_BYTES),
        kb(total[3]),
        verdict(total[3]),
    ));
}

async fn tti(app: &TestApp, out: &mut Vec<String>) {
    eprintln!("==> time to interactive summary: {RUNS} runs per profile");
    let browser = Browser::start(Some(ua::PHONE)).await;
    browser.viewport(375, 812, true).await;
    browser.on_new_document(PROBE).await;
    browser.cdp("Network.enable", json!({})).await;
    browser
        .cdp("Network.setCacheDisabled", json!({"cacheDisabled": true}))
        .await;
    out.push(String::new());
    out.push(format!(
        "time to interactive summary (phone, 375 px, cold cache; median of {RUNS}; goal ≤ {TTI_GOAL_MS:.0} ms on slow 4G)"
    ));
    out.push(format!(
        "  {:<46} {:>8} {:>8} {:>8} {:>10}",
        "profile", "median", "min", "max", "received"
    ));
    for profile in &PROFILES {
        set_conditions(&browser, profile).await;
        let mut times = Vec::with_capacity(RUNS);
        let mut received = 0.0;
        for _ in 0..RUNS {
            let (ms, bytes) = one_load(app, &browser).await;
            times.push(ms);
            received = bytes;
        }
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        let verdict = if profile.down_bps.is_some() && profile.latency_ms == 150.0 {
            if median <= TTI_GOAL_MS {
                "  meets the goal"
            } else {
                "  misses the goal"
            }
        } else {
            ""
        };
        out.push(format!(
            "  {:<46} {:>5.0} ms {:>5.0} ms {:>5.0} ms {:>10}{verdict}",
            profile.name,
            median,
            times[0],
            times[times.len() - 1],
            kb(received as usize),
        ));
    }
    browser.close().await;
}

async fn set_conditions(browser: &Browser, p: &Profile) {
    // CDP wants bytes per second; -1 disables throttling.
    let (down, up) = p
        .down_bps
        .map_or((-1.0, -1.0), |down| (down / 8.0, p.up_bps / 8.0));
    browser
        .cdp(
            "Network.emulateNetworkConditions",
            json!({
                "offline": false,
                "latency": p.latency_ms,
                "downloadThroughput": down,
                "uploadThroughput": up,
            }),
        )
        .await;
    browser
        .cdp(
            "Emulation.setCPUThrottlingRate",
            json!({"rate": p.cpu_slowdown}),
        )
        .await;
}

/// Opens a fresh checkout and returns (ms until the pay button's frame, bytes received).
async fn one_load(app: &TestApp, browser: &Browser) -> (f64, f64) {
    let session = app.create_session(2500).await;
    let id = session["id"].as_str().unwrap();
    browser
        .client
        .goto(app.url(&format!("/pay/{id}")).as_str())
        .await
        .unwrap();
    let ms = wait::until("the pay button", Duration::from_secs(60), || async {
        browser
            .client
            .execute("return window.__tti || null;", vec![])
            .await
            .ok()?
            .as_f64()
    })
    .await;
    // Everything this document received over the network (headers and bodies, compressed).
    let bytes: Value = browser
        .client
        .execute(
            "return performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))\
               .reduce(function (n, e) { return n + e.transferSize; }, 0);",
            vec![],
        )
        .await
        .unwrap();
    (ms, bytes.as_f64().unwrap_or(0.0))
}
